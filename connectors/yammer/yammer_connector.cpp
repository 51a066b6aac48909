#include "connectors/yammer/yammer_connector.h"

#include <set>

#include "connectors/common/mentions.h"
#include "connectors/yammer/data_export.h"
#include "connectors/yammer/parse.h"
#include "core/json.h"
#include "core/log.h"
#include "core/time.h"

namespace learnloop::connectors::yammer {

namespace {
constexpr int kPageSize = 20;                               // feed page size (§1.4.1)
constexpr int kUsersPerPage = 50;                           // users.json page size (§1.7)
constexpr auto kMinFeedInterval = std::chrono::minutes{1};  // "no more than once per minute"
const char* const kMessages = "messages";
const char* const kOther = "other";
// The newest refresh token, kept with the cursors so that a restart uses it (Entra rotates it).
const char* const kRefreshCursor = "auth.refresh_token";
// The end of the Data Export's window, once the export backfill is done ("refused": it cannot be).
const char* const kExportCursor = "export.until";
const char* const kExport = "export";
}  // namespace

YammerConnector::YammerConnector(const config::NetworkConfig& cfg, Clock& clock,
                                 std::unique_ptr<http::Client> client)
    : cfg_(cfg),
      clock_(clock),
      client_(std::move(client)),
      requester_(*client_, clock, cfg.rate_limit_requests, cfg.rate_limit_window,
                 http::RetryPolicy{}, std::hash<std::string>{}(cfg.name), "connector.yammer"),
      base_(cfg.base_url) {
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
  if (cfg.auth.enabled) {
    // Delegated access of the service account (reference §1.2): a refresh token for the
    // Yammer scope at the Entra token endpoint.
    http::OAuthSettings s{
        cfg.auth.TokenUrl(), cfg.auth.client_id, cfg.auth.client_secret,
        cfg.auth.scope.empty() ? "https://www.yammer.com/.default offline_access" : cfg.auth.scope,
        cfg.auth.refresh_token};
    auto o =
        std::make_unique<http::OAuthTokenSource>(*client_, clock, std::move(s), "connector.yammer");
    o->OnRotate([this](const std::string& t) { cursors_[kRefreshCursor] = t; });
    oauth_ = o.get();
    tokens_ = std::move(o);
  } else {
    tokens_ = std::make_unique<http::StaticToken>(cfg.token);
  }
  requester_.set_token_source(tokens_.get());
}

void YammerConnector::RestoreCursors(const Cursors& c) {
  cursors_ = c;
  if (auto it = c.find(kRefreshCursor); oauth_ && it != c.end() && !it->second.empty())
    oauth_->UseRefreshToken(it->second);
}

std::optional<std::string> YammerConnector::SelfUserId() const {
  if (!self_native_) return std::nullopt;
  return MakeId(cfg_.name, *self_native_);
}

int64_t YammerConnector::CursorInt(const std::string& key) const {
  auto it = cursors_.find(key);
  if (it == cursors_.end()) return 0;
  try {
    return std::stoll(it->second);
  } catch (const std::exception&) {
    return 0;
  }
}

Result<http::Response> YammerConnector::Get(const std::string& path, const std::string& bucket,
                                            int* requests) {
  http::Request r;
  r.url = base_ + path;
  r.headers = {{"Accept", "application/json"}};
  for (int attempt = 1;; ++attempt) {
    auto before = requester_.counters().requests;
    auto res = requester_.Send(r, bucket);
    if (requests) *requests += static_cast<int>(requester_.counters().requests - before);
    if (!res.ok()) return res;
    if (res->status != 200) {
      std::string why =
          res->status == 401 ? "token rejected (401)" : "HTTP " + std::to_string(res->status);
      return Result<http::Response>::Fail("GET " + path.substr(0, path.find('?')) + ": " + why,
                                          res->status);
    }
    // A 200 whose body is cut short is read again (a GET can be repeated safely).
    if (json::Parse(res->body).ok()) return res;
    if (attempt == 3)
      return Result<http::Response>::Fail("GET " + path.substr(0, path.find('?')) +
                                          ": the answer is not valid JSON");
    Logger("connector.yammer")->debug("GET {}: truncated answer, reading again", path);
  }
}

Status YammerConnector::SyncDirectory(EventSink& sink) {
  auto me = Get("/users/current.json", kOther);
  if (!me.ok()) return me.status();
  auto self = ParseUserBody(me->body, cfg_.name);
  if (!self.ok()) return self.status();
  self_native_ = NativeId(self->id);
  self->is_bot = true;  // the daemon's own account never counts (METRICS.md §9)
  sink.OnUser(*self);

  for (int page = 1;; ++page) {
    auto r = Get("/users.json?page=" + std::to_string(page), kOther);
    if (!r.ok()) return r.status();
    auto users = ParseUserPage(r->body, cfg_.name);
    if (!users.ok()) return users.status();
    for (auto& u : users->users) {
      if (u.id == self->id) u.is_bot = true;
      sink.OnUser(u);
    }
    if (static_cast<int>(users->users.size()) < kUsersPerPage) break;
  }

  std::vector<GroupInfo> groups;
  if (!cfg_.communities.empty()) {
    for (const auto& gid : cfg_.communities) {
      auto r = Get("/groups/" + gid + ".json", kOther);
      if (!r.ok()) return r.status();
      auto g = ParseGroups(r->body);
      if (!g.ok()) return g.status();
      groups.insert(groups.end(), g->begin(), g->end());
    }
  } else {
    for (int page = 1;; ++page) {
      auto r = Get("/groups.json?page=" + std::to_string(page), kOther);
      if (!r.ok()) return r.status();
      auto g = ParseGroups(r->body);
      if (!g.ok()) return g.status();
      groups.insert(groups.end(), g->begin(), g->end());
      if (static_cast<int>(g->size()) < kUsersPerPage) break;
    }
  }
  // The community list changes only when the whole sync succeeded.
  std::vector<std::string> discovered;
  for (const auto& gi : groups) {
    Group g;
    g.network = cfg_.name;
    g.id = MakeId(cfg_.name, gi.native_id);
    g.name = gi.name;
    for (int page = 1;; ++page) {
      auto r =
          Get("/users/in_group/" + gi.native_id + ".json?page=" + std::to_string(page), kOther);
      if (!r.ok()) return r.status();
      auto users = ParseUserPage(r->body, cfg_.name);
      if (!users.ok()) return users.status();
      for (const auto& u : users->users) g.members.push_back(u.id);
      bool more =
          users->more_available.value_or(static_cast<int>(users->users.size()) >= kUsersPerPage);
      if (!more || users->users.empty()) break;
    }
    sink.OnGroup(g);
    discovered.push_back(gi.native_id);
  }
  discovered_groups_ = std::move(discovered);
  return Status::Ok();
}

void YammerConnector::Emit(const MessagePage& page, EventSink& sink,
                           std::optional<Time> stop_before) {
  for (const auto& m : page.messages) {
    if (stop_before && m.created_at < *stop_before) continue;
    sink.OnMessage(m);
  }
  for (const auto& l : page.likes) {
    bool keep = true;
    for (const auto& m : page.messages)
      if (m.id == l.message_id && stop_before && m.created_at < *stop_before) keep = false;
    if (keep) sink.OnReactionSnapshot(l.message_id, "like", l.reactions);
  }
}

Result<int64_t> YammerConnector::Walk(const std::string& gid, int64_t newer_than,
                                      std::optional<Time> stop_before, EventSink& sink,
                                      PollStats& stats, std::vector<std::string>* seen) {
  int64_t max_seen = newer_than;
  int64_t older_than = 0;
  for (;;) {
    std::string q = "/messages/in_group/" + gid + ".json";
    std::string sep = "?";
    if (newer_than > 0) {
      q += sep + "newer_than=" + std::to_string(newer_than);
      sep = "&";
    }
    if (older_than > 0) q += sep + "older_than=" + std::to_string(older_than);
    auto r = Get(q, kMessages, &stats.requests);
    if (!r.ok()) return r.error();
    auto page = ParseMessagePage(r->body, cfg_.name);
    if (!page.ok()) return Result<int64_t>::Fail("in_group/" + gid + ": " + page.error().message);
    if (page->native_ids.empty()) break;
    Emit(*page, sink, stop_before);
    stats.messages += static_cast<int>(page->messages.size());
    if (seen)
      for (const auto& m : page->messages)
        if (!stop_before || m.created_at >= *stop_before) seen->push_back(m.id);
    max_seen = std::max(max_seen, page->MaxId());
    older_than = page->MinId();
    bool reached_stop = false;
    if (stop_before)
      for (const auto& m : page->messages)
        if (m.created_at < *stop_before) reached_stop = true;
    bool more =
        page->older_available.value_or(static_cast<int>(page->native_ids.size()) >= kPageSize);
    if (!more || reached_stop) break;
  }
  return max_seen;
}

Status YammerConnector::PollCommunity(const std::string& gid, EventSink& sink, PollStats& stats,
                                      bool refresh_now) {
  const std::string newest_key = "newest:" + gid;
  const std::string refreshed_key = "refreshed:" + gid;
  Time now = clock_.Now();
  int64_t newest = CursorInt(newest_key);
  if (newest == 0) {
    // First sight of the community: backfill everything since the configured start.
    auto r = Walk(gid, 0, cfg_.backfill_since, sink, stats);
    if (!r.ok()) return r.status();
    if (*r > 0) cursors_[newest_key] = std::to_string(*r);
    stats.advanced |= *r > 0;
    cursors_[refreshed_key] = std::to_string(ToUnixMillis(now));
    return Status::Ok();
  }
  auto r = Walk(gid, newest, std::nullopt, sink, stats);
  if (!r.ok()) return r.status();
  cursors_[newest_key] = std::to_string(*r);
  stats.advanced |= *r > newest;
  Time refreshed = FromUnixMillis(CursorInt(refreshed_key));
  if (refresh_now || now - refreshed >= cfg_.refresh_interval) {
    // Likes (and edits) come after a message was first seen: re-read the recent window.
    // The whole window is read again, so what is no longer there has been deleted.
    std::vector<std::string> seen;
    auto f = Walk(gid, 0, now - cfg_.refresh_window, sink, stats, &seen);
    if (!f.ok()) return f.status();
    sink.OnPresent(MakeId(cfg_.name, gid), now - cfg_.refresh_window, now, seen);
    cursors_[refreshed_key] = std::to_string(ToUnixMillis(now));
  }
  return Status::Ok();
}

Status YammerConnector::ExportBackfill(EventSink& sink, PollStats& stats) {
  std::string url = cfg_.export_url;
  if (url.empty())
    url = base_ == "https://www.yammer.com/api/v1" ? "https://export.yammer.com/api/v1/export"
                                                   : base_ + "/export";
  Time until = clock_.Now();
  Time since = cfg_.backfill_since.value_or(Time{});
  http::Request r;
  r.url = url + "?since=" + http::UrlEncode(FormatIso(since)) +
          "&until=" + http::UrlEncode(FormatIso(until)) +
          "&model=Message&model=User&model=Group&include=csv";
  r.headers = {{"Accept", "application/zip"}};
  auto log = Logger("connector.yammer");
  for (int attempt = 1;; ++attempt) {
    auto before = requester_.counters().requests;
    auto res = requester_.Send(r, kExport);
    stats.requests += static_cast<int>(requester_.counters().requests - before);
    if (!res.ok()) return Status::Fail("Data Export: " + res.error().message);
    if (res->status == 401 || res->status == 403) {
      // Only a verified admin may export: go on with the feeds rather than fail every poll.
      log->error(
          "Data Export refused (HTTP {}): the service account must be a verified admin; "
          "backfilling from the community feeds instead",
          res->status);
      cursors_[kExportCursor] = "refused";
      return Status::Ok();
    }
    if (res->status != 200)
      return Status::Fail("Data Export: HTTP " + std::to_string(res->status), res->status);
    auto data = ParseExport(res->body, cfg_.name);
    if (!data.ok()) {
      // A cut or damaged archive is fetched again (the export is a read).
      if (attempt < 3) {
        log->warn("{}; fetching it again", data.error().message);
        continue;
      }
      return data.status();
    }
    std::vector<std::string> wanted =
        cfg_.communities.empty() ? discovered_groups_ : cfg_.communities;
    std::set<std::string> keep;
    for (const auto& g : wanted) keep.insert(MakeId(cfg_.name, g));
    for (auto& u : data->users) {
      if (self_native_ && u.id == MakeId(cfg_.name, *self_native_)) u.is_bot = true;
      sink.OnUser(u);
    }
    for (const auto& m : data->messages) {
      // Every community when none are listed; otherwise the listed ones.
      if (!cfg_.communities.empty() && !keep.count(*m.group_id)) continue;
      sink.OnMessage(m);
      ++stats.messages;
    }
    if (data->max_message_id > 0) {
      // Ids grow with time across the network: anything newer than the export's newest
      // message came after `until`, so each feed goes on from there.
      std::set<std::string> groups(wanted.begin(), wanted.end());
      if (cfg_.communities.empty()) groups.insert(data->group_ids.begin(), data->group_ids.end());
      for (const auto& g : groups)
        if (CursorInt("newest:" + g) < data->max_message_id)
          cursors_["newest:" + g] = std::to_string(data->max_message_id);
      stats.advanced = true;
    }
    cursors_[kExportCursor] = FormatIso(until);
    log->info("Data Export since {}: {} messages, {} users, {} rows left out", FormatIso(since),
              data->messages.size(), data->users.size(), data->skipped);
    return Status::Ok();
  }
}

PollStats YammerConnector::Poll(EventSink& sink, bool refresh_now) {
  PollStats stats;
  if (cfg_.export_backfill && !cursors_.count(kExportCursor)) {
    auto s = ExportBackfill(sink, stats);
    if (!s.ok()) {
      // The feeds wait: backfilling them now would make the export pointless.
      Logger("connector.yammer")->warn("{}", s.message());
      stats.errors.push_back(s.message());
      return stats;
    }
  }
  const auto& groups = cfg_.communities.empty() ? discovered_groups_ : cfg_.communities;
  for (const auto& gid : groups) {
    Time now = clock_.Now();
    auto last = last_poll_.find(gid);
    if (last != last_poll_.end() && now - last->second < kMinFeedInterval) {
      if (!refresh_now) continue;
      if (!clock_.SleepUntil(last->second + kMinFeedInterval)) break;  // never faster than that
      now = clock_.Now();
    }
    last_poll_[gid] = now;
    auto s = PollCommunity(gid, sink, stats, refresh_now);
    if (!s.ok()) {
      Logger("connector.yammer")->warn("community {}: {}", gid, s.message());
      stats.errors.push_back("community " + gid + ": " + s.message());
    }
  }
  return stats;
}

Result<Posted> YammerConnector::Post(const PostRequest& req) {
  json::Writer w;
  // A post names people as @Name (the API documents no mention field for posting).
  w.BeginObject().Key("body").String(
      RenderMentions(req.body, [](const MentionRef& m) { return "@" + m.name; }));
  if (req.reply_to)
    w.Key("replied_to_id").String(*req.reply_to);
  else
    w.Key("group_id").String(req.group_id);
  w.EndObject();
  http::Request r;
  r.method = "POST";
  r.url = base_ + "/messages.json";
  r.headers = {{"Accept", "application/json"}};
  r.body = w.Take();
  r.content_type = "application/json";
  r.idempotent = false;
  auto res = requester_.Send(r, kMessages);
  if (!res.ok()) return res.error();
  if (res->status != 200 && res->status != 201)
    return Result<Posted>::Fail(
        "POST /messages.json: HTTP " + std::to_string(res->status) + " " + res->body.substr(0, 200),
        res->status);
  auto page = ParseMessagePage(res->body, cfg_.name);
  if (!page.ok() || page->messages.empty())
    return Result<Posted>::Fail("POST /messages.json: answer without the new message", 502);
  return Posted{NativeId(page->messages[0].id), page->messages[0].created_at};
}

Status YammerConnector::Acknowledge(const std::string& native_message_id) {
  json::Writer w;
  w.BeginObject().Key("message_id").String(native_message_id).EndObject();
  http::Request r;
  r.method = "POST";
  r.url = base_ + "/messages/liked_by/current.json";
  r.headers = {{"Accept", "application/json"}};
  r.body = w.Take();
  r.content_type = "application/json";
  r.idempotent = true;  // a like is a set: liking twice leaves one like
  auto res = requester_.Send(r, kMessages);
  if (!res.ok()) return res.status();
  if (res->status < 200 || res->status >= 300)
    return Status::Fail("like " + native_message_id + ": HTTP " + std::to_string(res->status),
                        res->status);
  return Status::Ok();
}

Result<std::optional<Posted>> YammerConnector::FindPosted(const PostRequest& req, Time since) {
  if (!self_native_) {
    auto me = Get("/users/current.json", kOther);
    if (!me.ok()) return me.error();
    auto self = ParseUserBody(me->body, cfg_.name);
    if (!self.ok()) return self.error();
    self_native_ = NativeId(self->id);
  }
  std::string feed = req.reply_to ? "/messages/in_thread/" + *req.reply_to + ".json"
                                  : "/messages/in_group/" + req.group_id + ".json";
  int64_t older_than = 0;
  for (int pages = 0; pages < 50; ++pages) {
    auto r = Get(feed + (older_than ? "?older_than=" + std::to_string(older_than) : ""), kMessages);
    if (!r.ok()) return r.error();
    auto page = ParseMessagePage(r->body, cfg_.name);
    if (!page.ok()) return page.error();
    if (page->native_ids.empty()) break;
    bool older = false;
    for (size_t i = 0; i < page->messages.size(); ++i) {
      const auto& m = page->messages[i];
      if (m.created_at < since) older = true;
      if (page->native_senders[i] == *self_native_ && m.text.find(req.marker) != std::string::npos)
        return std::optional<Posted>(Posted{NativeId(m.id), m.created_at});
    }
    older_than = page->MinId();
    if (older || !page->older_available.value_or(page->native_ids.size() >= kPageSize)) break;
  }
  return std::optional<Posted>();
}

}  // namespace learnloop::connectors::yammer
