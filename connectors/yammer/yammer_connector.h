#pragma once
// Viva Engage (Yammer) REST v1: the company feed (every message the account can see, All
// Company's included) read incrementally with a persisted cursor, backfill, a re-read of recent
// messages (likes arrive after a message was first seen), users and groups sync, and posting.
#include <functional>
#include <map>
#include <memory>
#include <set>

#include "config/config.h"
#include "connectors/common/degraded.h"
#include "connectors/common/http.h"
#include "connectors/common/oauth.h"
#include "connectors/connector.h"
#include "connectors/yammer/parse.h"
#include "connectors/yammer/settings.h"
#include "core/clock.h"

namespace learnloop::connectors::yammer {

class YammerConnector final : public Connector, public Poster {
 public:
  YammerConnector(const config::NetworkConfig& cfg, Clock& clock,
                  std::unique_ptr<http::Client> client);

  const std::string& network() const override { return cfg_.name; }
  Status SyncDirectory(EventSink& sink) override;
  PollStats Poll(EventSink& sink, bool refresh_now = false) override;
  Cursors GetCursors() const override { return cursors_; }
  void RestoreCursors(const Cursors& c) override;
  std::string SaveRateBudgets() override { return requester_.SaveBudgets(); }
  void RestoreRateBudgets(const std::optional<std::string>& saved, Time now) override {
    requester_.Resume(saved, now);
  }
  // The newest refresh token (Entra rotates it) and a hash of the configured one: a configured
  // token that changed since wins over the kept one.
  Cursors GetSecrets() const override { return secrets_; }
  void RestoreSecrets(const Cursors& s) override;
  std::optional<std::string> SelfUserId() const override;
  std::vector<std::string> Degraded() const override { return degraded_.List(); }

  Result<Posted> Post(const PostRequest& r) override;
  Result<std::vector<Posted>> FindPosted(const PostRequest& r, Time since) override;
  // Private messages: POST messages.json with direct_to_user_ids (§1.5).
  bool PostsPrivately() const override { return true; }
  // A like by the service account (POST messages/liked_by/current.json, §1.6).
  Status Acknowledge(const std::string& native_message_id) override;

  const http::Counters& counters() const { return requester_.counters(); }

 private:
  Result<http::Response> Get(const std::string& path, const std::string& bucket,
                             int* requests = nullptr);
  // The first backfill from the Data Export: one request for the whole network; the company
  // feed then goes on from its newest message.
  Status ExportBackfill(EventSink& sink, PollStats& stats);
  Status PollFeed(EventSink& sink, PollStats& stats, bool refresh_now);
  // The private conversations (config `private_messages`): new messages since the last read.
  Status PollPrivate(EventSink& sink, PollStats& stats);
  // Reads a feed (`path`, newest first, §1.4) page by page from the newest down, newer than
  // `newer_than` when it is set, handing each page to `on_page` until it returns false, a page
  // is empty or no older one is available. A feed whose pages do not get older, or that goes on
  // for more than kMaxPagesPerWalk pages, is an error.
  Status Pages(const std::string& path, int64_t newer_than, PollStats& stats,
               const std::function<bool(MessagePage&)>& on_page);
  // Pages the company feed newest first, from the top or (newer_than > 0) down to that id.
  // With `stop_before`, stops after the page that reaches a message created before it whose
  // id is at most `known_through` (older ones were read before). Returns the highest id seen;
  // `seen`, when given, gets the ids of the messages created at or after `stop_before`, by
  // group.
  Result<int64_t> Walk(int64_t newer_than, std::optional<Time> stop_before, int64_t known_through,
                       EventSink& sink, PollStats& stats,
                       std::map<std::string, std::vector<std::string>>* seen = nullptr);
  void Emit(const MessagePage& page, EventSink& sink, PollStats& stats);
  // Messages of the network's communities are kept, or of the listed ones; All Company's always.
  bool Wanted(const std::string& group_id) const;
  // A group the directory did not list, met in the feed: described from the page and its
  // members read, so that it is kept like any community.
  void Discover(const std::string& native_id, const std::string& name, EventSink& sink);
  // Members of a community (users/in_group); nullopt when the ESN refused to say.
  std::optional<std::vector<std::string>> Members(const std::string& native_id);
  std::optional<std::string> ResolveLiker(const LikerRef& who) const;
  int64_t CursorInt(const std::string& key) const;

  config::NetworkConfig cfg_;
  Settings s_;  // the keys of a Viva Engage network
  Clock& clock_;
  std::unique_ptr<http::Client> client_;
  std::unique_ptr<http::TokenSource> tokens_;
  http::OAuthTokenSource* oauth_ = nullptr;  // tokens_, when it is OAuth
  http::Requester requester_;
  std::string base_;
  std::optional<std::string> self_native_;
  std::set<std::string> known_groups_;  // native ids of the communities described so far
  // The directory, for likers named without an id: permalink and full name → native id.
  std::map<std::string, std::string> by_permalink_, by_name_;
  std::set<std::string> ambiguous_names_;
  std::set<std::string> logged_likers_;
  Degradations degraded_{"connector.yammer"};
  std::optional<Time> last_poll_;  // of the company feed
  Cursors cursors_;
  Cursors secrets_;
};

// A YammerConnector as the registry makes it.
Built Make(const config::NetworkConfig& cfg, Clock& clock, std::unique_ptr<http::Client> client);

}  // namespace learnloop::connectors::yammer
