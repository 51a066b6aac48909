#pragma once
// Slack's Web API and Events API over the simulated organisation (reference §4, §5.5): its
// communities (not Teams channels, not All Company) are the workspace's channels "C<id>", its
// people users "U<id>". Method errors are HTTP 200 with ok:false; reads page by opaque cursor
// (sometimes fewer items than `limit`); history is newest first and holds no replies, replies
// come parent first; Tier 3 reads are limited per minute with 429 and Retry-After. Events and
// button presses go to the app's URLs, signed with its signing secret at each attempt.
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "sim/http_server.h"
#include "sim/notifications.h"
#include "sim/world.h"

namespace learnloop::sim {

struct SlackOptions {
  int tier3_per_minute = 50;  // conversations.history and conversations.replies
  // The "non-Marketplace app" limits of 2025 (reference §4.4): one history or replies call a
  // minute, at most 15 items a page.
  bool restricted = false;
};

class SlackApi {
 public:
  SlackApi(World& world, SlackOptions o, std::function<bool(const std::string&)> valid_token)
      : world_(world), opt_(o), valid_token_(std::move(valid_token)) {}
  // Paths under /slack/api/ (the lock held).
  SimReply Handle(const SimRequest& r);
  // POST /_sim/slack {"events_url", "actions_url", "signing_secret"}: where the app's pushes go.
  SimReply Configure(const SimRequest& r);
  // From World: a message appeared or changed; a person pressed a button.
  void OnChange(size_t msg, bool created, Notifier& out);
  void OnClick(size_t click, Notifier& out);
  // The signing headers of a push sent now (at each attempt, as Slack signs its retries).
  std::vector<std::pair<std::string, std::string>> Sign(const std::string& body, int attempt) const;
  // A message's ts: its time with a per-message sequence ("1772441000.123456").
  static std::string Ts(const Msg& m);

 private:
  const Community* Channel(const std::string& id) const;
  std::optional<size_t> FindTs(const Community& c, const std::string& ts) const;
  void WriteMessage(json::Writer& w, const Msg& m) const;
  SimReply History(const SimRequest& r, const Community& c);
  SimReply Replies(const SimRequest& r, const Community& c);
  SimReply PostMessage(const SimRequest& r);
  SimReply React(const SimRequest& r);
  // Paging: the items of [offset, offset + limit) and the cursor of the rest.
  static std::pair<size_t, size_t> Page(const SimRequest& r, size_t total, size_t max_limit);
  static std::string Cursor(size_t offset);
  std::optional<SimReply> Limit(const std::string& method);
  std::string Param(const SimRequest& r, const std::string& key) const;

  World& world_;
  SlackOptions opt_;
  std::function<bool(const std::string&)> valid_token_;
  std::string events_url_, actions_url_, signing_secret_;
  int64_t next_event_ = 1;
  std::map<std::string, std::deque<Time>> calls_;  // per method, in the last minute
};

}  // namespace learnloop::sim
