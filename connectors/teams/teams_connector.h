#pragma once
// Microsoft Teams: channels of the configured teams read through Graph with an app-only token
// (reference §2): `messages/delta` rounds with replies expanded, the links kept verbatim, an
// expired delta token restarted from a `lastModifiedDateTime` filter with overlap, and the
// replies of every thread of the last `refresh_window` read at most once a `poll_interval`
// (a reply does not reliably bring its root back into delta, §2.6). Posts go through the Bot
// Framework (§3.2), since Graph does not let an application post. The methods live in files by
// job: graph_reader.cpp (directory, delta rounds, replies), subscriptions.cpp (change
// notifications and their lifecycle), bot_framework.cpp (posting, private messages, the bot's
// activities), teams_connector.cpp (construction, requests, cursors and secrets).
#include <array>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include "config/config.h"
#include "connectors/common/degraded.h"
#include "connectors/common/http.h"
#include "connectors/common/oauth.h"
#include "connectors/connector.h"
#include "connectors/teams/bot_auth.h"
#include "connectors/teams/graph_parse.h"
#include "connectors/teams/settings.h"
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
  // Graph's budgets, then the Bot Framework's, on two lines.
  std::string SaveRateBudgets() override {
    return graph_.SaveBudgets() + "\n" + bot_.SaveBudgets();
  }
  void RestoreRateBudgets(const std::optional<std::string>& saved, Time now) override {
    std::optional<std::string> graph = saved, bot = saved;
    if (saved) {
      auto nl = saved->find('\n');
      graph = saved->substr(0, nl);
      bot = nl == std::string::npos ? "" : saved->substr(nl + 1);
    }
    graph_.Resume(graph, now);
    bot_.Resume(bot, now);
  }
  // The clientState every notification must carry back.
  Cursors GetSecrets() const override;
  void RestoreSecrets(const Cursors& s) override;
  std::optional<std::string> SelfUserId() const override;
  void FollowThreads(const std::vector<std::string>& thread_ids) override;
  std::vector<std::string> Degraded() const override { return degraded_.List(); }

  Result<Posted> Post(const PostRequest& r) override;
  // A personal chat cannot be listed (Graph reads channels only here): nothing is found there.
  Result<std::vector<Posted>> FindPosted(const PostRequest& r, Time since) override;
  // A 1:1 proactive message through the Bot Framework, to people the app is installed for.
  bool PostsPrivately() const override { return true; }
  // A personal chat's messages arrive as one conversation ("a:…"), not as threads.
  std::string ConversationOf(const std::string& native_message_id) const override;

  // Change notifications (§2.12): one subscription per channel, renewed before it expires,
  // clientState checked. A notification of a root makes the channel's next delta round due at
  // once, one of a reply has exactly that reply read; `reauthorizationRequired` renews the
  // subscription and `subscriptionRemoved` makes it again at the next tick, and with `missed`
  // the channel is caught up (a delta round and its threads' replies).
  Status MaintainSubscriptions(const std::string& public_url) override;
  std::vector<std::string> PushPaths() const override;
  bool ClaimsPush(const net::Request& r) const override;
  // A subscription's validation (reference §2.12): the token in the query, echoed back.
  bool IsHandshake(const net::Request& r) const override {
    return r.query.count("validationToken") > 0;
  }
  net::Reply OnPush(const net::Request& r) override;
  bool PushPending() const override;
  std::string TakePushed() override;
  PollStats ReadPushed(const std::string& pushed, EventSink& sink) override;
  std::optional<Time> NextMaintenance() const override;
  bool MaintenanceDue() const override;
  bool SubscriptionsLive() const override;

  const http::Counters& graph_counters() const { return graph_.counters(); }

 private:
  // "/teams/<name>/<what>", or for "messages" "/api/messages/<name>": this network's own paths.
  std::string OwnPath(const std::string& what) const;
  bool IsActivityPath(const std::string& path) const;
  // A GET against Graph whose answer must be JSON (a cut body is read again).
  Result<http::Response> Get(const std::string& url, PollStats* stats = nullptr);
  // Get, and the answer must be a 200.
  Result<json::Value> GetJson(const std::string& url);
  Status DeltaRound(const std::string& channel, EventSink& sink, PollStats& stats);
  std::string RepliesUrl(const std::string& thread) const;  // thread: "<channel>/<root>"
  // The replies of the channel's threads of the last refresh_window and of the followed prompt
  // threads, each read unless it was read after `read_since`.
  void ReadThreads(const std::string& channel, Time read_since, EventSink& sink, PollStats& stats);
  Status ReadReplies(const std::string& channel, const std::string& url, EventSink& sink,
                     PollStats& stats);
  // One reply a notification named (§2.12: "…/messages('root')/replies('id')").
  Status ReadReply(const std::string& channel, const std::string& root, const std::string& reply,
                   EventSink& sink, PollStats& stats);
  // Hands messages and their complete sets of reactions to the sink, and notes the threads.
  void Emit(const std::string& channel, const std::vector<ParsedMessage>& messages, EventSink& sink,
            PollStats& stats);
  // The threads of a channel kept with the cursors, so a restart still reads their replies.
  void SaveThreads(const std::string& channel);
  // When the replies of the channel's recent threads were last all read (now if never).
  Time ThreadsReadAt(const std::string& channel) const;
  // A catch-up of the channel: a delta round and the replies of the threads not read since
  // `since` (call with push_mu_ held).
  void CatchUp(const std::string& channel, Time since);
  std::string ChannelUrl(const std::string& channel) const;
  // POST /api/messages: an activity from the Bot Connector (§3.3), token checked first.
  net::Reply OnActivity(const net::Request& r);
  // A private message: the person's personal chat with the bot (made once, Bot Framework
  // POST v3/conversations with their roster id), then the message in it.
  Result<Posted> PostPrivately(const PostRequest& r, const std::string& text);
  // The person's Bot Framework id (29:…) from the roster of the channel's team.
  Result<std::string> RosterId(const std::string& channel, const std::string& aad_id);

  config::NetworkConfig cfg_;
  Settings s_;  // the keys of a Teams network
  Clock& clock_;
  std::unique_ptr<http::Client> client_;
  http::OAuthTokenSource graph_token_, bot_token_;
  http::Requester graph_, bot_;
  std::string base_, service_url_;
  std::map<std::string, std::string> team_of_;  // channel id → team id (written under push_mu_)
  std::set<std::string> follow_;                // native ids of open prompt threads
  // Private messages: roster ids by Entra object id (with when each channel's roster was
  // read), and the personal chat of each person.
  std::map<std::string, std::string> roster_ids_;
  std::map<std::string, Time> roster_read_;
  std::map<std::string, std::string> personal_chat_;
  // Per channel, the roots of the last refresh_window (Graph id → created), and when each
  // thread's replies were last read ("<channel>/<root>").
  std::map<std::string, std::map<std::string, Time>> threads_;
  std::map<std::string, Time> replies_read_;
  Degradations degraded_{"connector.teams"};
  Cursors cursors_;
  // Pushes: written on the listener's threads.
  mutable std::mutex push_mu_;
  std::set<std::string> pushed_;  // channels to read
  // Channels to catch up: a delta round and the replies of threads not read since the time.
  std::map<std::string, Time> catch_up_;
  std::set<std::array<std::string, 3>> pushed_replies_;  // channel, root, reply
  std::set<std::string> renew_;     // subscriptions to renew at once (reauthorizationRequired)
  std::set<std::string> recreate_;  // channels whose subscription was removed
  std::map<std::string, std::string> subscription_of_;  // subscription id → channel
  std::string client_state_;
  std::vector<Message> inbound_messages_;    // from bot activities, for the next PollPushed
  std::vector<CardAction> inbound_actions_;  // card buttons pressed
  std::unique_ptr<BotTokenValidator> bot_auth_;
};

// A TeamsConnector as the registry makes it.
Built Make(const config::NetworkConfig& cfg, Clock& clock, std::unique_ptr<http::Client> client);

}  // namespace learnloop::connectors::teams
