#include "connectors/teams/teams_connector.h"

#include "core/json.h"
#include "core/log.h"

namespace learnloop::connectors::teams {

namespace {

constexpr int kPageSize = 50;  // $top maximum for messages, replies and delta (§2.5, §2.6)
// On an expired delta token the new round starts this long before the last good one ended.
constexpr auto kResyncOverlap = std::chrono::hours{1};
const char* const kGraph = "graph";
const char* const kBot = "bot";

std::string DeltaKey(const std::string& channel) { return "delta:" + channel; }
std::string RoundKey(const std::string& channel) { return "round:" + channel; }

std::string WithSlash(std::string s) {
  if (s.empty() || s.back() != '/') s.push_back('/');
  return s;
}

http::OAuthSettings GraphAuth(const config::NetworkConfig& c) {
  return {c.auth.TokenUrl(), c.auth.client_id, c.auth.client_secret,
          c.auth.scope.empty() ? "https://graph.microsoft.com/.default" : c.auth.scope, Secret()};
}

http::OAuthSettings BotAuth(const config::NetworkConfig& c) {
  return {c.bot.token_url, c.bot.app_id, c.auth.client_secret,
          "https://api.botframework.com/.default", Secret()};
}

bool IsStaleDeltaToken(const http::Response& r) {
  if (r.status == 410) return true;
  if (r.status != 400) return false;
  return r.body.find("resyncRequired") != std::string::npos ||
         r.body.find("syncStateNotFound") != std::string::npos;
}

}  // namespace

TeamsConnector::TeamsConnector(const config::NetworkConfig& cfg, Clock& clock,
                               std::unique_ptr<http::Client> client)
    : cfg_(cfg),
      clock_(clock),
      client_(std::move(client)),
      graph_token_(*client_, clock, GraphAuth(cfg), "connector.teams"),
      bot_token_(*client_, clock, BotAuth(cfg), "connector.teams"),
      graph_(*client_, clock, cfg.rate_limit_requests, cfg.rate_limit_window, http::RetryPolicy{},
             std::hash<std::string>{}(cfg.name), "connector.teams"),
      bot_(*client_, clock, 1, std::chrono::seconds{1}, http::RetryPolicy{},
           std::hash<std::string>{}(cfg.name) + 1, "connector.teams"),
      base_(cfg.base_url),
      service_url_(WithSlash(cfg.bot.service_url)) {
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
  graph_.set_token_source(&graph_token_);
  bot_.set_token_source(&bot_token_);
  // At most 4 requests a second on a team or channel (§2.10): one budget for all Graph reads
  // keeps that and every per-app limit above it. Posting: well under a thread's 7 a second.
  graph_.SetBudget(kGraph, 4, std::chrono::seconds{1});
}

std::optional<std::string> TeamsConnector::SelfUserId() const {
  return MakeId(cfg_.name, cfg_.bot.app_id);
}

void TeamsConnector::FollowThreads(const std::vector<std::string>& thread_ids) {
  follow_.clear();
  for (const auto& id : thread_ids) follow_.insert(NativeId(id));
}

std::string TeamsConnector::ChannelUrl(const std::string& channel) const {
  auto it = team_of_.find(channel);
  std::string team = it == team_of_.end() ? "" : it->second;
  return base_ + "/teams/" + team + "/channels/" + channel;
}

Result<http::Response> TeamsConnector::Get(const std::string& url, PollStats* stats) {
  http::Request r;
  r.url = url;
  r.headers = {{"Accept", "application/json"}};
  std::string what = "GET " + url.substr(0, url.find('?'));
  for (int attempt = 1;; ++attempt) {
    auto before = graph_.counters().requests;
    auto res = graph_.Send(r, kGraph);
    if (stats) stats->requests += static_cast<int>(graph_.counters().requests - before);
    if (!res.ok()) return res;
    if (res->status != 200) return res;  // the caller decides (404, 410, …)
    if (json::Parse(res->body).ok()) return res;
    if (attempt == 3) return Result<http::Response>::Fail(what + ": the answer is not valid JSON");
    Logger("connector.teams")->debug("{}: truncated answer, reading again", what);
  }
}

Status TeamsConnector::SyncDirectory(EventSink& sink) {
  User self;
  self.id = *SelfUserId();
  self.network = cfg_.name;
  self.name = "learnloop";
  self.is_bot = true;
  sink.OnUser(self);
  std::set<std::string> wanted(cfg_.channels.begin(), cfg_.channels.end());
  for (const auto& team : cfg_.teams) {
    std::vector<std::string> members;
    for (std::string url = base_ + "/teams/" + team + "/members"; !url.empty();) {
      auto res = Get(url);
      if (!res.ok()) return res.status();
      if (res->status != 200)
        return Status::Fail("GET /teams/" + team + "/members: HTTP " + std::to_string(res->status));
      auto v = *json::Parse(res->body);
      if (const json::Value* value = json::Find(v, "value"); value && value->is_array())
        for (const auto& m : value->as_array()) {
          auto uid = json::GetString(m, "userId");
          if (!uid) continue;
          User u;
          u.id = MakeId(cfg_.name, *uid);
          u.network = cfg_.name;
          u.name = json::GetString(m, "displayName").value_or("");
          u.email = json::GetString(m, "email");
          sink.OnUser(u);
          members.push_back(u.id);
        }
      url = json::GetString(v, "@odata.nextLink").value_or("");
    }
    auto res = Get(base_ + "/teams/" + team + "/channels");
    if (!res.ok()) return res.status();
    if (res->status != 200)
      return Status::Fail("GET /teams/" + team + "/channels: HTTP " + std::to_string(res->status));
    auto v = *json::Parse(res->body);
    if (const json::Value* value = json::Find(v, "value"); value && value->is_array())
      for (const auto& c : value->as_array()) {
        auto id = json::GetString(c, "id");
        if (!id || (!wanted.empty() && !wanted.count(*id))) continue;
        team_of_[*id] = team;
        Group g;
        g.id = MakeId(cfg_.name, *id);
        g.network = cfg_.name;
        g.name = json::GetString(c, "displayName").value_or(*id);
        g.kind = "channel";
        g.members = members;  // a standard channel has the team's members
        sink.OnGroup(g);
      }
  }
  return Status::Ok();
}

void TeamsConnector::Emit(const MessagePage& page, EventSink& sink, PollStats& stats) {
  std::set<std::string> kinds = {"like", "heart", "laugh", "surprised", "sad", "angry"};
  for (const auto& p : page.messages) {
    sink.OnMessage(p.message);
    ++stats.messages;
    // Every kind is replaced: a reaction taken back must disappear.
    std::map<std::string, std::vector<Reaction>> by_kind;
    for (const auto& k : kinds) by_kind[k];
    for (const auto& r : p.reactions) by_kind[r.kind].push_back(r);
    for (const auto& [kind, list] : by_kind) sink.OnReactionSnapshot(p.message.id, kind, list);
  }
}

Status TeamsConnector::ReadReplies(const std::string& channel, const std::string& url,
                                   EventSink& sink, PollStats& stats) {
  for (std::string next = url; !next.empty();) {
    auto res = Get(next, &stats);
    if (!res.ok()) return res.status();
    if (res->status == 404) return Status::Ok();  // the thread is gone
    if (res->status != 200) return Status::Fail("GET replies: HTTP " + std::to_string(res->status));
    auto page = ParseMessagePage(res->body, cfg_.name, channel);
    if (!page.ok()) return page.status();
    Emit(*page, sink, stats);
    next = page->next_link.value_or("");
  }
  return Status::Ok();
}

Status TeamsConnector::DeltaRound(const std::string& channel, EventSink& sink, PollStats& stats) {
  Time round_start = clock_.Now();
  std::string first = ChannelUrl(channel) + "/messages/delta?$top=" + std::to_string(kPageSize) +
                      "&$expand=replies";
  auto fresh = [&](std::optional<Time> since) {
    return since ? first + "&$filter=" +
                       http::UrlEncode("lastModifiedDateTime gt " + FormatIsoMillis(*since))
                 : first;
  };
  std::string url;
  if (auto it = cursors_.find(DeltaKey(channel)); it != cursors_.end() && !it->second.empty())
    url = it->second;  // the stored link, verbatim
  else
    url = fresh(cfg_.backfill_since);
  bool restarted = false;
  while (!url.empty()) {
    auto res = Get(url, &stats);
    if (!res.ok()) return res.status();
    if (IsStaleDeltaToken(*res) && !restarted) {
      // The delta token expired: a new round from shortly before the last good one.
      std::optional<Time> since;
      if (auto it = cursors_.find(RoundKey(channel)); it != cursors_.end())
        if (auto t = ParseIso(it->second)) since = *t - kResyncOverlap;
      Logger("connector.teams")
          ->info("channel {}: delta token expired, reading changes since {}", channel,
                 since ? FormatIso(*since) : std::string("the start"));
      url = fresh(since ? since : cfg_.backfill_since);
      restarted = true;
      continue;
    }
    if (res->status != 200)
      return Status::Fail("GET " + url.substr(0, url.find('?')) + ": HTTP " +
                          std::to_string(res->status));
    auto page = ParseMessagePage(res->body, cfg_.name, channel);
    if (!page.ok()) return page.status();
    Emit(*page, sink, stats);
    if (!page->messages.empty()) stats.advanced = true;
    for (const auto& p : page->messages)
      if (p.replies_next) {
        auto s = ReadReplies(channel, *p.replies_next, sink, stats);
        if (!s.ok()) return s;
      }
    if (page->delta_link) {
      cursors_[DeltaKey(channel)] = *page->delta_link;
      cursors_[RoundKey(channel)] = FormatIsoMillis(round_start);
      return Status::Ok();
    }
    url = page->next_link.value_or("");
  }
  return Status::Fail("channel " + channel + ": a delta page with neither next nor delta link");
}

PollStats TeamsConnector::Poll(EventSink& sink, bool refresh_now) {
  (void)refresh_now;  // changes come through the delta rounds
  PollStats stats;
  for (const auto& [channel, team] : team_of_) {
    (void)team;
    auto s = DeltaRound(channel, sink, stats);
    if (!s.ok()) stats.errors.push_back(s.message());
  }
  // Replies of open prompts, whether or not their thread came back in the delta round
  // (the reference does not promise that it does, §2.6).
  for (const auto& thread : follow_) {
    auto slash = thread.rfind('/');
    if (slash == std::string::npos) continue;
    std::string channel = thread.substr(0, slash);
    if (!team_of_.count(channel)) continue;
    auto s = ReadReplies(channel,
                         ChannelUrl(channel) + "/messages/" + thread.substr(slash + 1) +
                             "/replies?$top=" + std::to_string(kPageSize),
                         sink, stats);
    if (!s.ok()) stats.errors.push_back(s.message());
  }
  return stats;
}

Result<Posted> TeamsConnector::Post(const PostRequest& r) {
  // Bot Framework (§3.2): a new thread through v3/conversations, a reply through activities.
  http::Request req;
  req.method = "POST";
  req.idempotent = false;
  req.headers = {{"Accept", "application/json"}};
  json::Writer w;
  std::string channel = r.group_id;
  std::string root;
  if (r.reply_to) {
    auto slash = r.reply_to->rfind('/');
    if (slash == std::string::npos)
      return Result<Posted>::Fail("not a Teams message id: " + *r.reply_to);
    channel = r.reply_to->substr(0, slash);
    root = r.reply_to->substr(slash + 1);
    std::string conversation = channel + ";messageid=" + root;
    req.url =
        service_url_ + "v3/conversations/" + http::UrlEncode(conversation) + "/activities/" + root;
    w.BeginObject().Key("type").String("message").Key("text").String(r.body);
    w.Key("replyToId").String(root).EndObject();
  } else {
    // The shape of the documented request (§3.2): the bot, the tenant, the channel.
    req.url = service_url_ + "v3/conversations";
    w.BeginObject().Key("isGroup").Bool(true);
    w.Key("bot").BeginObject().Key("id").String("28:" + cfg_.bot.app_id).EndObject();
    w.Key("tenantId").String(cfg_.auth.tenant).Key("channelData").BeginObject();
    w.Key("teamsChannelId").String(channel);
    w.Key("channel").BeginObject().Key("id").String(channel).EndObject();
    w.Key("tenant").BeginObject().Key("id").String(cfg_.auth.tenant).EndObject().EndObject();
    w.Key("activity").BeginObject().Key("type").String("message").Key("text").String(r.body);
    w.EndObject().EndObject();
  }
  req.body = w.Take();
  auto res = bot_.Send(req, kBot);
  if (!res.ok()) return Result<Posted>::Fail(res.error().message);
  if (res->status != 200 && res->status != 201)
    return Result<Posted>::Fail(
        "Bot Framework: HTTP " + std::to_string(res->status) + " " + res->body.substr(0, 200),
        res->status);
  auto v = json::Parse(res->body);
  if (!v.ok()) return Result<Posted>::Fail("Bot Framework: the answer is not JSON");
  std::string id = r.reply_to ? json::GetString(*v, "id").value_or("")
                              : json::GetString(*v, "activityId").value_or("");
  if (id.empty()) return Result<Posted>::Fail("Bot Framework: no activity id in the answer");
  return Posted{MessageNativeId(channel, id), clock_.Now()};
}

Result<std::optional<Posted>> TeamsConnector::FindPosted(const PostRequest& r, Time since) {
  // Our own messages, newest first, until they are older than `since` (§2.5).
  std::string channel = r.group_id, url;
  if (r.reply_to) {
    auto slash = r.reply_to->rfind('/');
    channel = r.reply_to->substr(0, slash);
    url = ChannelUrl(channel) + "/messages/" + r.reply_to->substr(slash + 1) +
          "/replies?$top=" + std::to_string(kPageSize);
  } else {
    url = ChannelUrl(channel) + "/messages?$top=" + std::to_string(kPageSize);
  }
  const std::string self = *SelfUserId();
  while (!url.empty()) {
    auto res = Get(url);
    if (!res.ok()) return Result<std::optional<Posted>>::Fail(res.error().message);
    if (res->status != 200)
      return Result<std::optional<Posted>>::Fail("GET messages: HTTP " +
                                                 std::to_string(res->status));
    auto page = ParseMessagePage(res->body, cfg_.name, channel);
    if (!page.ok()) return Result<std::optional<Posted>>::Fail(page.error().message);
    bool older = false;
    for (const auto& p : page->messages) {
      const Message& m = p.message;
      if (m.created_at < since) older = true;
      if (m.author_id == self && m.created_at >= since &&
          m.text.find(r.marker) != std::string::npos)
        return std::optional<Posted>(Posted{NativeId(m.id), m.created_at});
    }
    if (older) break;
    url = page->next_link.value_or("");
  }
  return std::optional<Posted>();
}

}  // namespace learnloop::connectors::teams
