#pragma once
// Microsoft Teams: channels of the configured teams read through Graph with an app-only token
// (reference §2): `messages/delta` rounds with replies expanded, the links kept verbatim, an
// expired delta token restarted from a `lastModifiedDateTime` filter with overlap, and the
// replies of every open prompt thread read on each poll. Posts go through the Bot Framework
// (§3.2), since Graph does not let an application post.
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include "config/config.h"
#include "connectors/common/http.h"
#include "connectors/common/oauth.h"
#include "connectors/connector.h"
#include "connectors/teams/bot_auth.h"
#include "connectors/teams/graph_parse.h"
#include "core/clock.h"
#include "core/json.h"

namespace learnloop::connectors::teams {

class TeamsConnector final : public Connector, public Poster, public PushReceiver {
 public:
  TeamsConnector(const config::NetworkConfig& cfg, Clock& clock,
                 std::unique_ptr<http::Client> client);

  const std::string& network() const override { return cfg_.name; }
  Status SyncDirectory(EventSink& sink) override;
  PollStats Poll(EventSink& sink, bool refresh_now = false) override;
  Cursors GetCursors() const override { return cursors_; }
  void RestoreCursors(const Cursors& c) override;
  std::optional<std::string> SelfUserId() const override;
  void FollowThreads(const std::vector<std::string>& thread_ids) override;

  Result<Posted> Post(const PostRequest& r) override;
  Result<std::optional<Posted>> FindPosted(const PostRequest& r, Time since) override;

  // Change notifications (§2.12): one subscription per channel, renewed before it expires,
  // clientState checked; a notification or a `missed` event makes the channel's next delta
  // round due at once.
  Status MaintainSubscriptions(const std::string& public_url) override;
  std::vector<std::string> PushPaths() const override;
  net::Reply OnPush(const net::Request& r) override;
  bool PushPending() const override;
  std::string TakePushed() override;
  PollStats ReadPushed(const std::string& pushed, EventSink& sink) override;
  std::optional<Time> NextMaintenance() const override;

  const http::Counters& graph_counters() const { return graph_.counters(); }

 private:
  // A GET against Graph whose answer must be JSON (a cut body is read again).
  Result<http::Response> Get(const std::string& url, PollStats* stats = nullptr);
  // Get, and the answer must be a 200.
  Result<json::Value> GetJson(const std::string& url);
  Status DeltaRound(const std::string& channel, EventSink& sink, PollStats& stats);
  std::string RepliesUrl(const std::string& thread) const;  // thread: "<channel>/<root>"
  // The replies of the followed prompt threads in the channels `in_scope` accepts.
  void ReadFollowedThreads(const std::function<bool(const std::string&)>& in_scope, EventSink& sink,
                           PollStats& stats);
  Status ReadReplies(const std::string& channel, const std::string& url, EventSink& sink,
                     PollStats& stats);
  void Emit(const MessagePage& page, EventSink& sink, PollStats& stats);
  std::string ChannelUrl(const std::string& channel) const;
  // POST /api/messages: an activity from the Bot Connector (§3.3), token checked first.
  net::Reply OnActivity(const net::Request& r);

  config::NetworkConfig cfg_;
  Clock& clock_;
  std::unique_ptr<http::Client> client_;
  http::OAuthTokenSource graph_token_, bot_token_;
  http::Requester graph_, bot_;
  std::string base_, service_url_;
  std::map<std::string, std::string> team_of_;  // channel id → team id (written under push_mu_)
  std::set<std::string> follow_;                // native ids of open prompt threads
  Cursors cursors_;
  // Pushes: written on the listener's threads.
  mutable std::mutex push_mu_;
  std::set<std::string> pushed_;  // channels to read
  std::set<std::string> renew_;   // subscriptions to renew at once (reauthorizationRequired)
  std::map<std::string, std::string> subscription_of_;  // subscription id → channel
  std::string client_state_;
  std::vector<Message> inbound_messages_;    // from bot activities, for the next PollPushed
  std::vector<CardAction> inbound_actions_;  // card buttons pressed
  std::unique_ptr<BotTokenValidator> bot_auth_;
};

}  // namespace learnloop::connectors::teams
