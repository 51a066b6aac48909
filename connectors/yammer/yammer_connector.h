#pragma once
// Viva Engage (Yammer) REST v1: incremental polling per community with persisted cursors,
// backfill, a refresh of recent messages (likes arrive after a message was first seen), users
// and groups sync, and posting.
#include <map>
#include <memory>

#include "config/config.h"
#include "connectors/common/http.h"
#include "connectors/common/oauth.h"
#include "connectors/connector.h"
#include "connectors/yammer/parse.h"
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
  std::optional<std::string> SelfUserId() const override;

  Result<Posted> Post(const PostRequest& r) override;
  Result<std::optional<Posted>> FindPosted(const PostRequest& r, Time since) override;
  // A like by the service account (POST messages/liked_by/current.json, §1.6).
  Status Acknowledge(const std::string& native_message_id) override;

  const http::Counters& counters() const { return requester_.counters(); }

 private:
  Result<http::Response> Get(const std::string& path, const std::string& bucket,
                             int* requests = nullptr);
  // The first backfill from the Data Export: one request for the whole network; the community
  // cursors then start at its newest message.
  Status ExportBackfill(EventSink& sink, PollStats& stats);
  Status PollCommunity(const std::string& gid, EventSink& sink, PollStats& stats, bool refresh_now);
  // Pages a community feed newest-first from `newer_than` (0: from the beginning), stopping
  // at messages older than `stop_before`. Returns the highest id seen.
  // `seen`, when given, collects the ids of the messages emitted.
  Result<int64_t> Walk(const std::string& gid, int64_t newer_than, std::optional<Time> stop_before,
                       EventSink& sink, PollStats& stats, std::vector<std::string>* seen = nullptr);
  void Emit(const MessagePage& page, EventSink& sink, std::optional<Time> stop_before);
  int64_t CursorInt(const std::string& key) const;

  config::NetworkConfig cfg_;
  Clock& clock_;
  std::unique_ptr<http::Client> client_;
  std::unique_ptr<http::TokenSource> tokens_;
  http::OAuthTokenSource* oauth_ = nullptr;  // tokens_, when it is OAuth
  http::Requester requester_;
  std::string base_;
  std::optional<std::string> self_native_;
  std::vector<std::string> discovered_groups_;
  std::map<std::string, Time> last_poll_;
  Cursors cursors_;
};

}  // namespace learnloop::connectors::yammer
