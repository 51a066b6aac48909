#pragma once
// Slack (reference §4): a workspace's channels read through the Web API (conversations.history
// for the timeline, conversations.replies for threads, reactions as they appear on messages,
// users.list for the directory), paged by cursor within Slack's tiered rate limits and its
// Retry-After; prompts posted with chat.postMessage, questions with Block Kit buttons; the
// Events API and button presses pushed to the listener, each request's signature checked.
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <vector>

#include "config/config.h"
#include "connectors/common/degraded.h"
#include "connectors/common/http.h"
#include "connectors/common/token_source.h"
#include "connectors/connector.h"
#include "connectors/slack/parse.h"
#include "connectors/slack/settings.h"
#include "core/clock.h"

namespace learnloop::connectors::slack {

class SlackConnector final : public Connector, public Poster, public PushReceiver {
 public:
  SlackConnector(const config::NetworkConfig& cfg, Clock& clock,
                 std::unique_ptr<http::Client> client);

  const std::string& network() const override { return cfg_.name; }
  Status SyncDirectory(EventSink& sink) override;
  PollStats Poll(EventSink& sink, bool refresh_now = false) override;
  Cursors GetCursors() const override { return cursors_; }
  void RestoreCursors(const Cursors& c) override { cursors_ = c; }
  std::string SaveRateBudgets() override { return requester_.SaveBudgets(); }
  void RestoreRateBudgets(const std::optional<std::string>& saved, Time now) override {
    requester_.Resume(saved, now);
  }
  std::optional<std::string> SelfUserId() const override;
  void FollowThreads(const std::vector<std::string>& thread_ids) override;
  std::vector<std::string> Degraded() const override { return degraded_.List(); }

  Result<Posted> Post(const PostRequest& r) override;
  Result<std::vector<Posted>> FindPosted(const PostRequest& r, Time since) override;
  // A reaction (✅) of the bot (reactions.add).
  Status Acknowledge(const std::string& native_message_id) override;

  // Push: nothing to subscribe to (the Slack app's settings name the listener's URLs).
  Status MaintainSubscriptions(const std::string& public_url) override;
  std::vector<std::string> PushPaths() const override;
  bool IsHandshake(const net::Request& r) const override;
  net::Reply OnPush(const net::Request& r) override;
  bool PushPending() const override;
  std::string TakePushed() override;
  PollStats ReadPushed(const std::string& pushed, EventSink& sink) override;
  std::optional<Time> NextMaintenance() const override { return std::nullopt; }

  const http::Counters& counters() const { return requester_.counters(); }

 private:
  // A Web API method: GET with query parameters, or (post) JSON. HTTP statuses other than 200
  // are errors with that code; the answer's own `ok` is checked by the parsers.
  using Params = std::vector<std::pair<std::string, std::string>>;
  Result<std::string> Call(const std::string& method, const Params& params,
                           int* requests = nullptr);
  // A method page after page (response_metadata.next_cursor): `page` takes each answer and
  // returns its next cursor ("" at the end), or an error that ends the read.
  Status EachPage(const std::string& method, Params params,
                  const std::function<Result<std::string>(const std::string&)>& page,
                  int* requests = nullptr);
  // Messages of a channel's timeline or thread, every page: emitted, `newest` moved to the
  // newest ts seen; the parents with replies into `threads` (ts, latest reply's ts).
  using ThreadList = std::vector<std::pair<std::string, std::string>>;
  Status ReadMessages(const std::string& method, Params params, const std::string& channel,
                      std::string& newest, EventSink& sink, PollStats& stats, ThreadList* threads);
  Result<json::Value> PostJson(const std::string& method, const std::string& body, bool idempotent);
  Status ListChannels();
  // conversations.history of a channel after `oldest` (exclusive), every page; parents with
  // replies newer than what was read of them are read too.
  Status ReadHistory(const std::string& channel, const std::string& oldest, bool all_threads,
                     EventSink& sink, PollStats& stats);
  // The replies of a thread after what was read of it (or all of them).
  Status ReadThread(const std::string& channel, const std::string& thread_ts, bool all,
                    EventSink& sink, PollStats& stats);
  void Emit(const MessagePage& page, EventSink& sink, PollStats& stats);
  bool Wanted(const std::string& channel) const;
  void SetChannels(std::vector<std::string> channels);
  // The text sent for a post: mentions as <@U…>, everything else escaped as Slack asks.
  static std::string TextOf(const PostRequest& r);
  bool Buttons() const { return !s_.signing_secret.empty(); }

  config::NetworkConfig cfg_;
  Settings s_;
  Clock& clock_;
  std::unique_ptr<http::Client> client_;
  http::StaticToken token_;
  http::Requester requester_;
  Cursors cursors_;
  std::optional<std::string> self_;                   // the bot's user id
  std::vector<std::string> channels_;                 // read and posted in
  std::map<std::string, std::string> channel_names_;  // as conversations.list gave them
  std::map<std::string, std::string> thread_of_;      // message native id → its thread's ts
  std::vector<std::string> follow_;                   // native ids of open prompt threads
  Degradations degraded_{"connector.slack"};

  // What the listener took, read at the next tick (push_mu_).
  mutable std::mutex push_mu_;
  struct Read {
    std::string channel, ts, thread_ts;
    bool whole = false;  // the thread read again whole (a reaction, an edit), not only its news
  };
  std::set<std::string> push_channels_;  // channels_, for the listener's threads
  std::vector<Read> pushed_reads_;
  std::vector<CardAction> pushed_actions_;
  std::deque<std::string> seen_events_;  // the last event ids, for Slack's retries
  std::set<std::string> seen_event_set_;
};

Built Make(const config::NetworkConfig& cfg, Clock& clock, std::unique_ptr<http::Client> client);

}  // namespace learnloop::connectors::slack
