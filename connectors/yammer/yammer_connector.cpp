#include "connectors/yammer/yammer_connector.h"

#include <algorithm>
#include <set>

#include "connectors/common/mentions.h"
#include "connectors/yammer/data_export.h"
#include "connectors/yammer/parse.h"
#include "core/crypto.h"
#include "core/json.h"
#include "core/log.h"
#include "core/time.h"

namespace learnloop::connectors::yammer {

namespace {
constexpr int kPageSize = 20;  // feed page size (§1.4.1)
// Pages of one feed in one read, at most (400,000 messages; a larger backfill is the Data
// Export's): a service that always says older messages are available cannot hang a poll.
constexpr int kMaxPagesPerWalk = 20000;
constexpr auto kFutureMargin = std::chrono::hours{24};
// Pages of a directory list, at most (500,000 people at 50 a page).
constexpr int kMaxDirectoryPages = 10000;
constexpr int kUsersPerPage = 50;                           // users.json page size (§1.7)
constexpr auto kMinFeedInterval = std::chrono::minutes{1};  // "no more than once per minute"
const char* const kMessages = "messages";
const char* const kOther = "other";
// The newest refresh token, kept (with the secrets) so that a restart uses it: Entra rotates it.
// Beside it, a hash of the configured one, to tell when the operator configured a new one.
const char* const kRefreshSecret = "auth.refresh_token";
const char* const kConfiguredHash = "auth.configured_sha256";
// The end of the Data Export's window, once the export backfill is done ("refused": it cannot be).
const char* const kExportCursor = "export.until";
// The company feed: the newest message id read, and when the recent window was last re-read.
const char* const kNewestCursor = "newest";
const char* const kRefreshedCursor = "refreshed";
const char* const kPrivateCursor = "private.newest";
const char* const kExport = "export";
}  // namespace

YammerConnector::YammerConnector(const config::NetworkConfig& cfg, Clock& clock,
                                 std::unique_ptr<http::Client> client)
    : cfg_(cfg),
      s_(ReadSettings(cfg)),
      clock_(clock),
      client_(std::move(client)),
      requester_(*client_, clock, cfg.rate_limit_requests, cfg.rate_limit_window,
                 http::RetryPolicy{}, std::hash<std::string>{}(cfg.name), "connector.yammer"),
      base_(s_.base_url) {
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
  requester_.set_network(cfg.name);
  if (s_.auth.enabled) {
    // Delegated access of the service account (reference §1.2): a refresh token for the
    // Yammer scope at the Entra token endpoint.
    http::OAuthSettings s{
        s_.auth.TokenUrl(),
        s_.auth.client_id,
        s_.auth.client_secret,
        s_.auth.scope.empty() ? "https://www.yammer.com/.default offline_access" : s_.auth.scope,
        s_.auth.refresh_token,
        ""};
    s.refused_hint = "network '" + cfg.name +
                     "': sign in as the service account again, get a new refresh token and put "
                     "it in this network's auth.refresh_token (or auth.refresh_token_file); a "
                     "configured token that differs from the one learnloop last saw is used "
                     "instead of the one it kept";
    auto o =
        std::make_unique<http::OAuthTokenSource>(*client_, clock, std::move(s), "connector.yammer");
    o->OnRotate([this](const std::string& t) { secrets_[kRefreshSecret] = t; });
    oauth_ = o.get();
    tokens_ = std::move(o);
  } else {
    tokens_ = std::make_unique<http::StaticToken>(s_.token);
  }
  requester_.set_token_source(tokens_.get());
}

void YammerConnector::RestoreCursors(const Cursors& c) { cursors_ = c; }

void YammerConnector::RestoreSecrets(const Cursors& s) {
  secrets_ = s;
  if (!oauth_) return;
  std::string configured = crypto::Sha256Hex(s_.auth.refresh_token.Reveal());
  auto kept = s.find(kRefreshSecret);
  auto seen = s.find(kConfiguredHash);
  // A store from before the hash was kept knows no configured token: the kept one is used.
  bool same = seen == s.end() || seen->second == configured;
  if (kept != s.end() && !kept->second.empty() && same) {
    oauth_->UseRefreshToken(kept->second);
  } else if (kept != s.end()) {
    Logger("connector.yammer")
        ->info(
            "the configured refresh token has changed since the last start: it is used "
            "instead of the one kept");
    secrets_.erase(kRefreshSecret);
  }
  secrets_[kConfiguredHash] = configured;
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

  // Everyone: All Company's members, and the directory likers named without an id are found in.
  Group all_company;
  all_company.network = cfg_.name;
  all_company.id = MakeId(cfg_.name, kAllCompany);
  all_company.name = "All Company";
  std::map<std::string, std::string> by_permalink, by_name;
  std::set<std::string> ambiguous;
  bool users_complete = true;
  std::set<std::string> listed;  // a page that names nobody new ends the list
  for (int page = 1;; ++page) {
    if (page > kMaxDirectoryPages) {
      degraded_.Note("users", "the list of people (users.json) goes on past " +
                                  std::to_string(kMaxDirectoryPages) + " pages: read no further");
      break;
    }
    auto r = Get("/users.json?page=" + std::to_string(page), kOther);
    auto users = r.ok() ? ParseUserPage(r->body, cfg_.name) : Result<UserPage>(r.error());
    if (!users.ok()) {
      if (users.error().code == 401) return users.status();
      degraded_.Note("users", "the list of people (users.json) could not be read: " +
                                  users.error().message + "; All Company's members are unknown");
      users_complete = false;
      break;
    }
    size_t before = listed.size();
    for (const auto& u : users->users) listed.insert(u.id);
    if (listed.size() == before && !users->users.empty()) break;  // the same page again
    for (size_t i = 0; i < users->users.size(); ++i) {
      User& u = users->users[i];
      if (u.id == self->id) u.is_bot = true;
      sink.OnUser(u);
      all_company.members.push_back(u.id);
      std::string native = NativeId(u.id);
      if (!users->permalinks[i].empty()) by_permalink[users->permalinks[i]] = native;
      if (!u.name.empty()) {
        auto [it, fresh] = by_name.emplace(u.name, native);
        if (!fresh && it->second != native) ambiguous.insert(u.name);
      }
    }
    if (static_cast<int>(users->users.size()) < kUsersPerPage) break;
  }
  if (users_complete) {
    by_permalink_ = std::move(by_permalink);
    by_name_ = std::move(by_name);
    ambiguous_names_ = std::move(ambiguous);
    degraded_.Clear("users");
  }
  all_company.members_known = users_complete;
  sink.OnGroup(all_company);

  std::vector<GroupInfo> groups;
  if (!s_.communities.empty()) {
    for (const auto& gid : s_.communities) {
      auto r = Get("/groups/" + gid + ".json", kOther);
      auto g = r.ok() ? ParseGroups(r->body) : Result<std::vector<GroupInfo>>(r.error());
      if (!g.ok()) {
        if (g.error().code == 401) return g.status();
        // Its messages are still read from the company feed; only its name is missing.
        degraded_.Note("group " + gid, "community " + gid + " could not be read (" +
                                           g.error().message + "); its messages are still read");
        known_groups_.insert(gid);  // as it was stored before
        continue;
      }
      degraded_.Clear("group " + gid);
      groups.insert(groups.end(), g->begin(), g->end());
    }
  } else {
    std::set<std::string> listed_groups;
    for (int page = 1; page <= kMaxDirectoryPages; ++page) {
      auto r = Get("/groups.json?page=" + std::to_string(page), kOther);
      auto g = r.ok() ? ParseGroups(r->body) : Result<std::vector<GroupInfo>>(r.error());
      if (!g.ok()) {
        if (g.error().code == 401) return g.status();
        // The communities known so far stay; new ones are found in the company feed.
        degraded_.Note("groups", "the list of communities (groups.json) could not be read: " +
                                     g.error().message);
        break;
      }
      if (page == 1) degraded_.Clear("groups");
      size_t before = groups.size();
      for (auto& one : *g)
        if (listed_groups.insert(one.native_id).second) groups.push_back(std::move(one));
      if (groups.size() == before) break;  // no community new: the same page again
      if (static_cast<int>(g->size()) < kUsersPerPage) break;
    }
  }
  for (const auto& gi : groups) {
    Group g;
    g.network = cfg_.name;
    g.id = MakeId(cfg_.name, gi.native_id);
    g.name = gi.name;
    auto members = Members(gi.native_id);
    g.members_known = members.has_value();
    if (members) g.members = std::move(*members);
    sink.OnGroup(g);
    known_groups_.insert(gi.native_id);
  }
  return Status::Ok();
}

std::optional<std::vector<std::string>> YammerConnector::Members(const std::string& native_id) {
  std::vector<std::string> members;
  std::set<std::string> listed;
  for (int page = 1; page <= kMaxDirectoryPages; ++page) {
    auto r = Get("/users/in_group/" + native_id + ".json?page=" + std::to_string(page), kOther);
    auto users = r.ok() ? ParseUserPage(r->body, cfg_.name) : Result<UserPage>(r.error());
    if (!users.ok()) {
      degraded_.Note("members " + native_id,
                     "the members of community " + native_id + " could not be read (" +
                         users.error().message +
                         "): its membership is unknown, its messages are read");
      return std::nullopt;
    }
    size_t before = listed.size();
    for (const auto& u : users->users)
      if (listed.insert(u.id).second) members.push_back(u.id);
    if (listed.size() == before) break;  // nobody new: the same page again, or the end
    bool more =
        users->more_available.value_or(static_cast<int>(users->users.size()) >= kUsersPerPage);
    if (!more || users->users.empty()) break;
  }
  degraded_.Clear("members " + native_id);
  return members;
}

bool YammerConnector::Wanted(const std::string& group_id) const {
  std::string native = NativeId(group_id);
  if (native == kPrivateGroup) return cfg_.private_messages;  // read only for private questions
  if (s_.communities.empty()) return true;
  return native == kAllCompany ||
         std::find(s_.communities.begin(), s_.communities.end(), native) != s_.communities.end();
}

void YammerConnector::Discover(const std::string& native_id, const std::string& name,
                               EventSink& sink) {
  Group g;
  g.network = cfg_.name;
  g.id = MakeId(cfg_.name, native_id);
  g.name = name;
  auto members = Members(native_id);
  g.members_known = members.has_value();
  if (members) g.members = std::move(*members);
  sink.OnGroup(g);
  known_groups_.insert(native_id);
  Logger("connector.yammer")
      ->info("community {} ({}) is not in the directory: its messages are kept all the same",
             native_id, name);
}

std::optional<std::string> YammerConnector::ResolveLiker(const LikerRef& who) const {
  // The permalink is unique; a full name only when one person in the directory has it (or, if
  // the directory knows nobody by it, one person of the page's references).
  if (auto it = by_permalink_.find(who.permalink);
      !who.permalink.empty() && it != by_permalink_.end())
    return it->second;
  if (auto it = by_name_.find(who.full_name); !who.full_name.empty() && it != by_name_.end())
    return ambiguous_names_.count(who.full_name) ? std::nullopt
                                                 : std::optional<std::string>(it->second);
  return who.by_name;
}

void YammerConnector::Emit(const MessagePage& page, EventSink& sink, PollStats& stats) {
  std::set<std::string> wanted_ids;
  for (const auto& m : page.messages) {
    if (!Wanted(*m.group_id)) continue;
    std::string group = NativeId(*m.group_id);
    // Listed communities are described by the directory sync; with none listed, any community
    // met in the feed is kept.
    if (s_.communities.empty() && group != kAllCompany && group != kPrivateGroup &&
        !known_groups_.count(group)) {
      std::string name = group;
      for (const auto& [id, n] : page.groups)
        if (id == group) name = n;
      Discover(group, name, sink);
    }
    sink.OnMessage(m);
    wanted_ids.insert(m.id);
    ++stats.messages;
  }
  for (const auto& l : page.likes) {
    if (!wanted_ids.count(l.message_id)) continue;
    std::vector<Reaction> reactions = l.reactions;
    for (const auto& who : l.unresolved) {
      if (auto id = ResolveLiker(who)) {
        reactions.push_back(Reaction{l.message_id, MakeId(cfg_.name, *id), "like", std::nullopt});
        continue;
      }
      // Nobody by that permalink or name: the like cannot be attributed, and is left out.
      ++stats.likes_unresolved;
      if (logged_likers_.insert(who.permalink + "|" + who.full_name).second)
        Logger("connector.yammer")
            ->debug("a like by '{}' ({}) names nobody in the directory: left out", who.full_name,
                    who.permalink);
    }
    sink.OnReactionSnapshot(l.message_id, "like", reactions);
  }
}

Status YammerConnector::Pages(const std::string& path, int64_t newer_than, PollStats& stats,
                              const std::function<bool(MessagePage&)>& on_page) {
  int64_t older_than = 0;
  for (int pages = 0;; ++pages) {
    if (pages == kMaxPagesPerWalk)
      return Status::Fail(path + ": more than " + std::to_string(kMaxPagesPerWalk) +
                          " pages in one read; the service keeps saying older messages are "
                          "available (tried again at the next poll)");
    std::string q = path;
    std::string sep = "?";
    if (newer_than > 0) {
      q += sep + "newer_than=" + std::to_string(newer_than);
      sep = "&";
    }
    if (older_than > 0) q += sep + "older_than=" + std::to_string(older_than);
    auto r = Get(q, kMessages, &stats.requests);
    if (!r.ok()) return r.status();
    auto page = ParseMessagePage(r->body, cfg_.name);
    if (!page.ok()) return Status::Fail(path + ": " + page.error().message);
    if (page->native_ids.empty()) break;
    // Each page is older than the one before, or the walk would never end.
    if (older_than > 0 && page->MinId() >= older_than)
      return Status::Fail(path +
                          ": a page no older than the one before it (the feed does not "
                          "advance)");
    older_than = page->MinId();
    bool more =
        page->older_available.value_or(static_cast<int>(page->native_ids.size()) >= kPageSize);
    if (!on_page(*page) || !more) break;
  }
  return Status::Ok();
}

Result<int64_t> YammerConnector::Walk(int64_t newer_than, std::optional<Time> stop_before,
                                      int64_t known_through, EventSink& sink, PollStats& stats,
                                      std::map<std::string, std::vector<std::string>>* seen) {
  int64_t max_seen = newer_than;
  // A message dated further ahead than clocks drift moves no cursor (a broken or hostile
  // service could otherwise push it past every real message to come).
  const Time horizon = clock_.Now() + kFutureMargin;
  auto st = Pages("/messages.json", newer_than, stats, [&](MessagePage& page) {
    for (const auto& m : page.messages) {
      auto id = json::ParseInt64(NativeId(m.id));
      if (id && m.created_at <= horizon &&
          std::find(page.native_ids.begin(), page.native_ids.end(), *id) != page.native_ids.end())
        max_seen = std::max(max_seen, *id);
    }
    bool reached_stop = false;
    if (stop_before && page.MinId() <= known_through)
      for (const auto& m : page.messages)
        if (m.created_at < *stop_before) reached_stop = true;
    if (stop_before) {
      // What is older than where the walk stops was read before (or is older than the
      // backfill): left out. (An id past the cursors' range counts as newer.)
      std::set<std::string> old;
      for (size_t i = page.messages.size(); i-- > 0;) {
        const Message& m = page.messages[i];
        auto native = json::ParseInt64(NativeId(m.id));
        if (m.created_at >= *stop_before || !native || *native > known_through) continue;
        old.insert(m.id);
        page.messages.erase(page.messages.begin() + static_cast<std::ptrdiff_t>(i));
        page.native_senders.erase(page.native_senders.begin() + static_cast<std::ptrdiff_t>(i));
      }
      std::erase_if(page.likes, [&](const Likes& l) { return old.count(l.message_id) > 0; });
    }
    Emit(page, sink, stats);
    if (seen)
      for (const auto& m : page.messages)
        if (!stop_before || m.created_at >= *stop_before) (*seen)[*m.group_id].push_back(m.id);
    return !reached_stop;
  });
  if (!st.ok()) return Result<int64_t>::Fail("company feed: " + st.message());
  return max_seen;
}

Status YammerConnector::PollFeed(EventSink& sink, PollStats& stats, bool refresh_now) {
  Time now = clock_.Now();
  int64_t newest = CursorInt(kNewestCursor);
  if (newest == 0) {
    // First sight of the network: backfill everything since the configured start.
    auto r = Walk(0, cfg_.backfill_since, INT64_MAX, sink, stats);
    if (!r.ok()) return r.status();
    if (*r > 0) cursors_[kNewestCursor] = std::to_string(*r);
    stats.advanced |= *r > 0;
    cursors_[kRefreshedCursor] = std::to_string(ToUnixMillis(now));
    return Status::Ok();
  }
  Time refreshed = FromUnixMillis(CursorInt(kRefreshedCursor));
  if (!refresh_now && now - refreshed < s_.refresh_interval) {
    auto r = Walk(newest, std::nullopt, 0, sink, stats);
    if (!r.ok()) return r.status();
    cursors_[kNewestCursor] = std::to_string(*r);
    stats.advanced |= *r > newest;
    return Status::Ok();
  }
  // Likes (and edits) come after a message was first seen: the recent window is read again,
  // in place of this poll's newer_than read (it brings the new messages too). The whole window
  // is read, so what is no longer there has been deleted.
  Time from = now - s_.refresh_window;
  std::map<std::string, std::vector<std::string>> seen;
  auto r = Walk(0, from, newest, sink, stats, &seen);
  if (!r.ok()) return r.status();
  std::set<std::string> groups;
  for (const auto& g : known_groups_) groups.insert(MakeId(cfg_.name, g));
  groups.insert(MakeId(cfg_.name, kAllCompany));
  for (const auto& [g, ids] : seen) groups.insert(g);
  for (const auto& g : groups)  // (private conversations are not what the company feed shows)
    if (Wanted(g) && NativeId(g) != kPrivateGroup) sink.OnPresent(g, from, now, seen[g]);
  cursors_[kNewestCursor] = std::to_string(std::max(*r, newest));
  stats.advanced |= *r > newest;
  cursors_[kRefreshedCursor] = std::to_string(ToUnixMillis(now));
  return Status::Ok();
}

Status YammerConnector::ExportBackfill(EventSink& sink, PollStats& stats) {
  std::string url = s_.export_url;
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
      // Only a verified admin may export: go on with the feed rather than fail every poll.
      log->error(
          "Data Export refused (HTTP {}): the service account must be a verified admin; "
          "backfilling from the company feed instead",
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
    for (auto& u : data->users) {
      if (self_native_ && u.id == MakeId(cfg_.name, *self_native_)) u.is_bot = true;
      sink.OnUser(u);
    }
    for (const auto& m : data->messages) {
      if (!Wanted(*m.group_id)) continue;
      sink.OnMessage(m);
      ++stats.messages;
    }
    if (data->max_message_id > 0) {
      // Ids grow with time across the network: anything newer than the export's newest
      // message came after `until`, so the company feed goes on from there.
      if (CursorInt(kNewestCursor) < data->max_message_id)
        cursors_[kNewestCursor] = std::to_string(data->max_message_id);
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
  if (s_.export_backfill && !cursors_.count(kExportCursor)) {
    auto s = ExportBackfill(sink, stats);
    if (!s.ok()) {
      // The feed waits: backfilling it now would make the export pointless.
      Logger("connector.yammer")->warn("{}", s.message());
      stats.errors.push_back(s.message());
      return stats;
    }
  }
  // One feed sees everything the account can see, All Company's messages included (§1.4);
  // never read more than once a minute.
  Time now = clock_.Now();
  if (last_poll_ && now - *last_poll_ < kMinFeedInterval) {
    if (!refresh_now) return stats;
    if (!clock_.SleepUntil(*last_poll_ + kMinFeedInterval)) return stats;
  }
  last_poll_ = clock_.Now();
  auto s = PollFeed(sink, stats, refresh_now);
  if (!s.ok()) {
    Logger("connector.yammer")->warn("company feed: {}", s.message());
    stats.errors.push_back("company feed: " + s.message());
  }
  if (cfg_.private_messages) {
    auto p = PollPrivate(sink, stats);
    if (!p.ok()) {
      Logger("connector.yammer")->warn("private messages: {}", p.message());
      stats.errors.push_back("private messages: " + p.message());
    }
  }
  return stats;
}

Status YammerConnector::PollPrivate(EventSink& sink, PollStats& stats) {
  // The service account's private conversations (§1.4: messages/private.json, newest first),
  // down to the newest read before; the first time, from the start of the backfill.
  int64_t newest = CursorInt(kPrivateCursor);
  int64_t max_seen = newest;
  auto st = Pages("/messages/private.json", newest, stats, [&](MessagePage& page) {
    max_seen = std::max(max_seen, page.MaxId());
    bool reached_start = false;
    for (auto& m : page.messages) {
      // Whatever the message says of itself, this feed holds private conversations only.
      m.group_id = MakeId(cfg_.name, kPrivateGroup);
      if (newest == 0 && cfg_.backfill_since && m.created_at < *cfg_.backfill_since)
        reached_start = true;
    }
    Emit(page, sink, stats);
    return !reached_start;
  });
  if (!st.ok()) return st;
  if (max_seen > newest) {
    cursors_[kPrivateCursor] = std::to_string(max_seen);
    stats.advanced = true;
  }
  return Status::Ok();
}

namespace {
// A post names people as @Name (the API documents no mention field for posting).
std::string BodyOf(const PostRequest& r) {
  return RenderMentions(r.body, [](const MentionRef& m) { return "@" + m.name; });
}
}  // namespace

Result<Posted> YammerConnector::Post(const PostRequest& req) {
  json::Writer w;
  w.BeginObject().Key("body").String(BodyOf(req));
  if (req.reply_to)
    w.Key("replied_to_id").String(*req.reply_to);
  else if (req.to_user)
    w.Key("direct_to_user_ids").String(*req.to_user);  // a private message (§1.5)
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

Result<std::vector<Posted>> YammerConnector::FindPosted(const PostRequest& req, Time since) {
  if (!self_native_) {
    auto me = Get("/users/current.json", kOther);
    if (!me.ok()) return me.error();
    auto self = ParseUserBody(me->body, cfg_.name);
    if (!self.ok()) return self.error();
    self_native_ = NativeId(self->id);
  }
  // The service account's messages of the place since then, with the same text (§1.4: feeds
  // newest first; body.plain is what was sent).
  std::string feed = req.reply_to  ? "/messages/in_thread/" + *req.reply_to + ".json"
                     : req.to_user ? std::string("/messages/private.json")
                                   : "/messages/in_group/" + req.group_id + ".json";
  const std::string want = TextKey(BodyOf(req));
  std::vector<Posted> found;
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
      if (m.created_at < since) {
        older = true;
        continue;
      }
      if (page->native_senders[i] == *self_native_ && TextKey(m.text) == want)
        found.push_back(Posted{NativeId(m.id), m.created_at});
    }
    older_than = page->MinId();
    if (older || !page->older_available.value_or(page->native_ids.size() >= kPageSize)) break;
  }
  std::reverse(found.begin(), found.end());  // oldest first
  return found;
}

Built Make(const config::NetworkConfig& cfg, Clock& clock, std::unique_ptr<http::Client> client) {
  auto y = std::make_unique<YammerConnector>(cfg, clock, std::move(client));
  Poster* p = y.get();
  return Built{std::move(y), p};
}

}  // namespace learnloop::connectors::yammer
