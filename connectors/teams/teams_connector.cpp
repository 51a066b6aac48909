#include "connectors/teams/teams_connector.h"

#include <algorithm>
#include <sstream>

#include "connectors/common/mentions.h"
#include "core/json.h"
#include "core/log.h"

namespace learnloop::connectors::teams {

namespace {

constexpr int kPageSize = 50;  // $top maximum for messages, replies and delta (§2.5, §2.6)
// A feed that never ends (a service that always names a next page) is left after this many
// pages in one poll: a delta round goes on from there at the next poll, anything else fails.
constexpr int kMaxPagesPerPoll = 2000;
// A message dated further ahead than clocks drift keeps no thread followed beyond it.
constexpr auto kFutureMargin = std::chrono::hours{24};
// On an expired delta token the new round starts this long before the last good one ended.
constexpr auto kResyncOverlap = std::chrono::hours{1};
const char* const kGraph = "graph";
const char* const kBot = "bot";

std::string DeltaKey(const std::string& channel) { return "delta:" + channel; }
std::string SubscriptionKey(const std::string& channel) { return "subscription:" + channel; }
const char* const kClientStateKey = "push.client_state";
// Subscriptions live 55 minutes (chatMessage allows an hour, §2.12) and are renewed when fewer
// than 15 are left.
constexpr auto kSubscriptionLife = std::chrono::minutes{55};
constexpr auto kRenewBefore = std::chrono::minutes{15};
const char* const kNotifyPath = "/teams/notify";
const char* const kLifecyclePath = "/teams/lifecycle";
const char* const kActivityPath = "/api/messages";

// "teams('…')/channels('19:…')/messages('…')" (a notification) or "/teams/…/channels/19:…/
// messages" (a lifecycle event names the subscription's resource) → the channel id.
std::string ChannelOfResource(const std::string& resource) {
  for (const std::string open : {"channels('", "/channels/"}) {
    auto a = resource.find(open);
    if (a == std::string::npos) continue;
    a += open.size();
    auto b = resource.find(open.back() == '\'' ? "')" : "/", a);
    return b == std::string::npos ? resource.substr(a) : resource.substr(a, b - a);
  }
  return "";
}
std::string RoundKey(const std::string& channel) { return "round:" + channel; }
std::string ThreadsKey(const std::string& channel) { return "threads:" + channel; }
std::string ThreadsReadKey(const std::string& channel) { return "threads_read:" + channel; }

// The id inside "<what>('…')" of a notification's resource ("" when absent).
std::string PartOfResource(const std::string& resource, const std::string& what) {
  const std::string open = what + "('";
  auto a = resource.find(open);
  if (a == std::string::npos) return "";
  a += open.size();
  auto b = resource.find("')", a);
  return b == std::string::npos ? "" : resource.substr(a, b - a);
}

std::string WithSlash(std::string s) {
  if (s.empty() || s.back() != '/') s.push_back('/');
  return s;
}

http::OAuthSettings GraphAuth(const Settings& c) {
  return {c.auth.TokenUrl(),
          c.auth.client_id,
          c.auth.client_secret,
          c.auth.scope.empty() ? "https://graph.microsoft.com/.default" : c.auth.scope,
          Secret(),
          ""};
}

http::OAuthSettings BotAuth(const Settings& c) {
  // The bot may be an app of its own; by default it is the Graph reader's.
  return {c.bot.token_url,
          c.bot.client_id,
          c.bot.client_secret.empty() ? c.auth.client_secret : c.bot.client_secret,
          "https://api.botframework.com/.default",
          Secret(),
          ""};
}

bool IsStaleDeltaToken(const http::Response& r) {
  if (r.status == 410) return true;
  if (r.status != 400) return false;
  return r.body.find("resyncRequired") != std::string::npos ||
         r.body.find("syncStateNotFound") != std::string::npos;
}

// A question with buttons: an Adaptive Card under the text (nothing without choices), its
// first line as the card's plain text (a TextBlock is no HTML); a press comes back as a message
// activity with value {"choice": …} (§3.2).
void WriteCard(json::Writer& w, const PostRequest& r) {
  const auto& choices = r.choices;
  if (choices.empty()) return;
  std::string text = RenderMentions(r.body, [](const MentionRef& m) { return m.name; });
  w.Key("attachments").BeginArray().BeginObject();
  w.Key("contentType").String("application/vnd.microsoft.card.adaptive");
  w.Key("content").BeginObject().Key("type").String("AdaptiveCard");
  w.Key("version").String("1.4").Key("body").BeginArray().BeginObject();
  w.Key("type").String("TextBlock").Key("wrap").Bool(true);
  w.Key("text").String(text.substr(0, text.find('\n'))).EndObject().EndArray();
  w.Key("actions").BeginArray();
  for (const auto& [value, title] : choices) {
    w.BeginObject().Key("type").String("Action.Submit").Key("title").String(title);
    w.Key("data").BeginObject().Key("choice").String(value).EndObject().EndObject();
  }
  w.EndArray().EndObject().EndObject().EndArray();
}

}  // namespace

TeamsConnector::TeamsConnector(const config::NetworkConfig& cfg, Clock& clock,
                               std::unique_ptr<http::Client> client)
    : cfg_(cfg),
      s_(ReadSettings(cfg)),
      clock_(clock),
      client_(std::move(client)),
      graph_token_(*client_, clock, GraphAuth(s_), "connector.teams"),
      bot_token_(*client_, clock, BotAuth(s_), "connector.teams"),
      graph_(*client_, clock, cfg.rate_limit_requests, cfg.rate_limit_window, http::RetryPolicy{},
             std::hash<std::string>{}(cfg.name), "connector.teams"),
      bot_(*client_, clock, 1, std::chrono::seconds{1}, http::RetryPolicy{},
           std::hash<std::string>{}(cfg.name) + 1, "connector.teams"),
      base_(s_.base_url),
      service_url_(WithSlash(s_.bot.service_url)) {
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
  graph_.set_token_source(&graph_token_);
  bot_.set_token_source(&bot_token_);
  graph_.set_network(cfg.name);
  bot_.set_network(cfg.name);
  // At most 4 requests a second on a team or channel (§2.10): one budget for all Graph reads
  // keeps that and every per-app limit above it. Its window is a tenth longer than Graph's, as
  // requests sent a second apart may arrive closer together. Posting: well under a thread's 7
  // a second.
  graph_.SetBudget(kGraph, 4, std::chrono::milliseconds{1100});
  bot_auth_ =
      std::make_unique<BotTokenValidator>(*client_, clock, s_.bot.openid_url, s_.bot.client_id);
}

std::optional<std::string> TeamsConnector::SelfUserId() const {
  return MakeId(cfg_.name, s_.bot.client_id);
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

Result<json::Value> TeamsConnector::GetJson(const std::string& url) {
  auto res = Get(url);
  if (!res.ok()) return res.error();
  if (res->status != 200)
    return Result<json::Value>::Fail(
        "GET " + url.substr(0, url.find('?')) + ": HTTP " + std::to_string(res->status),
        res->status);
  return json::Parse(res->body);  // Get made sure it parses
}

Status TeamsConnector::SyncDirectory(EventSink& sink) {
  User self;
  self.id = *SelfUserId();
  self.network = cfg_.name;
  self.name = "learnloop";
  self.is_bot = true;
  sink.OnUser(self);
  std::set<std::string> wanted(s_.channels.begin(), s_.channels.end());
  std::map<std::string, std::string> found;  // channel → team
  for (const auto& team : s_.teams) {
    // Members: a refusal (a missing permission, say) leaves them unknown; the channels are
    // still read.
    std::optional<std::vector<std::string>> members = std::vector<std::string>{};
    int pages = 0;
    for (std::string url = base_ + "/teams/" + team + "/members"; !url.empty();) {
      if (++pages > kMaxPagesPerPoll) {
        // A list that never ends: what came is kept, the rest is said.
        degraded_.Note("members " + team, "the members of team " + team + " ran over " +
                                              std::to_string(kMaxPagesPerPoll) + " pages");
        break;
      }
      auto got = GetJson(url);
      if (!got.ok()) {
        if (got.error().code == 401) return got.status();
        degraded_.Note("members " + team,
                       "the members of team " + team + " could not be read (" +
                           got.error().message +
                           "): its channels' membership is unknown, their messages "
                           "are read");
        members.reset();
        break;
      }
      const json::Value& v = *got;
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
          members->push_back(u.id);
        }
      std::string next = json::GetString(v, "@odata.nextLink").value_or("");
      url = next == url ? "" : next;  // a page that names itself next ends the list
    }
    if (members && pages <= kMaxPagesPerPoll) degraded_.Clear("members " + team);
    auto got = GetJson(base_ + "/teams/" + team + "/channels");
    if (!got.ok()) {
      if (got.error().code == 401) return got.status();
      // The channels known before are still read.
      degraded_.Note("channels " + team, "the channels of team " + team + " could not be listed (" +
                                             got.error().message +
                                             "); those known before are read");
      for (const auto& [channel, t] : team_of_)
        if (t == team) found[channel] = team;
      continue;
    }
    degraded_.Clear("channels " + team);
    const json::Value& v = *got;
    if (const json::Value* value = json::Find(v, "value"); value && value->is_array())
      for (const auto& c : value->as_array()) {
        auto id = json::GetString(c, "id");
        if (!id || (!wanted.empty() && !wanted.count(*id))) continue;
        found[*id] = team;
        Group g;
        g.id = MakeId(cfg_.name, *id);
        g.network = cfg_.name;
        g.name = json::GetString(c, "displayName").value_or(*id);
        g.kind = "channel";
        g.members_known = members.has_value();
        if (members) g.members = *members;  // a standard channel has the team's members
        sink.OnGroup(g);
      }
  }
  std::lock_guard lock(push_mu_);  // OnPush reads it on the listener's threads
  team_of_ = std::move(found);
  return Status::Ok();
}

void TeamsConnector::Emit(const std::string& channel, const std::vector<ParsedMessage>& messages,
                          EventSink& sink, PollStats& stats) {
  auto& threads = threads_[channel];
  for (const auto& p : messages) {
    sink.OnMessage(p.message);
    ++stats.messages;
    // The complete set, every kind (emoji and custom ones too): one taken back disappears.
    sink.OnReactionSnapshot(p.message.id, "", p.reactions);
    // The thread is followed while it is recent (a reply stands for its root until that is seen).
    std::string root = GraphMessageId(NativeId(p.message.thread_id));
    Time at = std::min(p.message.created_at, clock_.Now() + kFutureMargin);
    auto [it, fresh] = threads.emplace(root, at);
    if (!fresh && !p.message.reply_to_id) it->second = at;
  }
}

Time TeamsConnector::ThreadsReadAt(const std::string& channel) const {
  if (auto it = cursors_.find(ThreadsReadKey(channel)); it != cursors_.end())
    if (auto ms = json::ParseInt64(it->second)) return std::min(clock_.Now(), FromUnixMillis(*ms));
  return clock_.Now();
}

void TeamsConnector::SaveThreads(const std::string& channel) {
  // Only the threads recent when their replies were last all read are kept (followed prompt
  // threads are read anyway): after days down, those of before the gap are still read once.
  Time from = ThreadsReadAt(channel) - s_.refresh_window;
  auto& threads = threads_[channel];
  std::string text;
  for (auto it = threads.begin(); it != threads.end();) {
    if (it->second < from) {
      replies_read_.erase(MessageNativeId(channel, it->first));
      it = threads.erase(it);
      continue;
    }
    text += (text.empty() ? "" : ",") + it->first + "@" + std::to_string(ToUnixMillis(it->second));
    ++it;
  }
  cursors_[ThreadsKey(channel)] = text;
}

Status TeamsConnector::ReadReplies(const std::string& channel, const std::string& url,
                                   EventSink& sink, PollStats& stats) {
  int pages = 0;
  for (std::string next = url; !next.empty();) {
    if (++pages > kMaxPagesPerPoll)
      return Status::Fail("replies of a thread in channel " + channel + ": more than " +
                          std::to_string(kMaxPagesPerPoll) + " pages");
    auto res = Get(next, &stats);
    if (!res.ok()) return res.status();
    if (res->status == 404) return Status::Ok();  // the thread is gone
    if (res->status != 200) return Status::Fail("GET replies: HTTP " + std::to_string(res->status));
    auto page = ParseMessagePage(res->body, cfg_.name, channel);
    if (!page.ok()) return page.status();
    Emit(channel, page->messages, sink, stats);
    if (page->next_link && *page->next_link == next)
      return Status::Fail("replies of a thread in channel " + channel +
                          ": a page names itself next");
    next = page->next_link.value_or("");
  }
  return Status::Ok();
}

Status TeamsConnector::ReadReply(const std::string& channel, const std::string& root,
                                 const std::string& reply, EventSink& sink, PollStats& stats) {
  std::string url = ChannelUrl(channel) + "/messages/" + root + "/replies/" + reply;
  auto res = Get(url, &stats);
  if (!res.ok()) return res.status();
  if (res->status == 404) return Status::Ok();  // gone again
  if (res->status != 200) return Status::Fail("GET reply: HTTP " + std::to_string(res->status));
  auto one = ParseOneMessage(res->body, cfg_.name, channel);
  if (one.ok()) Emit(channel, {*one}, sink, stats);  // else not a person's message: skipped
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
  int pages = 0;
  while (!url.empty()) {
    if (++pages > kMaxPagesPerPoll) {
      // Enough for one poll: the next goes on from this page (a next link continues a round
      // as a delta link does).
      Logger("connector.teams")
          ->warn("channel {}: {} delta pages in one poll; going on at the next", channel,
                 kMaxPagesPerPoll);
      cursors_[DeltaKey(channel)] = url;
      return Status::Ok();
    }
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
    Emit(channel, page->messages, sink, stats);
    if (!page->messages.empty()) stats.advanced = true;
    for (const auto& p : page->messages) {
      if (p.replies_next) {
        auto s = ReadReplies(channel, *p.replies_next, sink, stats);
        if (!s.ok()) return s;
      }
      // A root comes with its replies (expanded): the thread has just been read.
      if (!p.message.reply_to_id) replies_read_[NativeId(p.message.id)] = clock_.Now();
    }
    if (page->delta_link) {
      cursors_[DeltaKey(channel)] = *page->delta_link;
      cursors_[RoundKey(channel)] = FormatIsoMillis(round_start);
      SaveThreads(channel);  // the roots it brought, for the replies read later
      return Status::Ok();
    }
    if (page->next_link && *page->next_link == url)
      return Status::Fail("channel " + channel + ": a delta page names itself next");
    url = page->next_link.value_or("");
  }
  return Status::Fail("channel " + channel + ": a delta page with neither next nor delta link");
}

std::string TeamsConnector::RepliesUrl(const std::string& thread) const {
  auto slash = thread.rfind('/');
  return ChannelUrl(thread.substr(0, slash)) + "/messages/" + thread.substr(slash + 1) +
         "/replies?$top=" + std::to_string(kPageSize);
}

void TeamsConnector::ReadThreads(const std::string& channel, Time read_since, EventSink& sink,
                                 PollStats& stats) {
  // The threads recent when their replies were last all read, not only those recent now: a
  // reply made just before a long downtime, to a thread that left the window meanwhile, is
  // read all the same (its notification was lost with the daemon down).
  const Time started = clock_.Now(), last = ThreadsReadAt(channel);
  read_since = std::min(read_since, last);
  std::set<std::string> roots;
  for (const auto& [root, created] : threads_[channel])
    if (created >= last - s_.refresh_window) roots.insert(root);
  for (const auto& thread : follow_) {
    auto slash = thread.rfind('/');
    if (slash != std::string::npos && thread.substr(0, slash) == channel)
      roots.insert(thread.substr(slash + 1));
  }
  bool all_read = true;
  for (const auto& root : roots) {
    std::string thread = MessageNativeId(channel, root);
    if (auto it = replies_read_.find(thread); it != replies_read_.end() && it->second > read_since)
      continue;
    Time at = clock_.Now();
    auto s = ReadReplies(channel, RepliesUrl(thread), sink, stats);
    if (!s.ok()) {
      stats.errors.push_back(s.message());
      all_read = false;
      continue;
    }
    replies_read_[thread] = at;
  }
  if (all_read) cursors_[ThreadsReadKey(channel)] = std::to_string(ToUnixMillis(started));
  SaveThreads(channel);
}

PollStats TeamsConnector::Poll(EventSink& sink, bool refresh_now) {
  PollStats stats;
  int64_t done = 0, total = static_cast<int64_t>(team_of_.size());
  for (const auto& [channel, team] : team_of_) {
    (void)team;
    sink.OnProgress("channel", ++done, total);
    auto s = DeltaRound(channel, sink, stats);
    if (!s.ok()) stats.errors.push_back(s.message());
  }
  // Replies of every recent thread, whether or not it came back in the delta round (the
  // reference does not promise that a reply brings its root back, §2.6); each thread at most
  // once a poll interval (or, asked to refresh, unless read just now).
  Time since = clock_.Now() - (refresh_now ? Millis{1} : cfg_.poll_interval);
  for (const auto& [channel, team] : team_of_) {
    (void)team;
    ReadThreads(channel, since, sink, stats);
  }
  return stats;
}

Cursors TeamsConnector::GetSecrets() const {
  std::lock_guard lock(push_mu_);
  if (client_state_.empty()) return {};
  return {{kClientStateKey, client_state_}};
}

void TeamsConnector::RestoreSecrets(const Cursors& s) {
  std::lock_guard lock(push_mu_);
  if (auto it = s.find(kClientStateKey); it != s.end()) client_state_ = it->second;
}

void TeamsConnector::RestoreCursors(const Cursors& c) {
  cursors_ = c;
  threads_.clear();
  for (const auto& [k, v] : c) {
    if (k.rfind("threads:", 0) != 0) continue;
    auto& threads = threads_[k.substr(8)];
    std::stringstream ss(v);
    for (std::string item; std::getline(ss, item, ',');) {
      auto at = item.find('@');
      if (at == std::string::npos) continue;
      try {
        threads[item.substr(0, at)] = FromUnixMillis(std::stoll(item.substr(at + 1)));
      } catch (const std::exception&) {
      }
    }
  }
  std::lock_guard lock(push_mu_);
  subscription_of_.clear();
  for (const auto& [k, v] : c) {
    if (k.rfind("subscription:", 0) == 0 && !v.empty())
      subscription_of_[v.substr(0, v.find(' '))] = k.substr(13);
  }
}

// Each Teams network has paths of its own ("/teams/<name>/notify", "/api/messages/<name>"): its
// subscriptions name them, so that several networks of one listener each get their own. The
// shared paths stay for a bot whose messaging endpoint is "/api/messages" and for
// subscriptions made before; what comes there is routed by ClaimsPush.
std::string TeamsConnector::OwnPath(const std::string& what) const {
  return what == "messages" ? std::string(kActivityPath) + "/" + cfg_.name
                            : "/teams/" + cfg_.name + "/" + what;
}

std::vector<std::string> TeamsConnector::PushPaths() const {
  return {OwnPath("notify"), OwnPath("lifecycle"), OwnPath("messages"),
          kNotifyPath,       kLifecyclePath,       kActivityPath};
}

bool TeamsConnector::IsActivityPath(const std::string& path) const {
  return path == kActivityPath || path == OwnPath("messages");
}

bool TeamsConnector::ClaimsPush(const net::Request& r) const {
  if (r.path == OwnPath("notify") || r.path == OwnPath("lifecycle") ||
      r.path == OwnPath("messages"))
    return true;
  if (r.query.count("validationToken")) return true;  // answered by whichever takes it
  auto v = json::Parse(r.body);
  if (!v.ok() || !v->is_object()) return false;
  std::lock_guard lock(push_mu_);
  if (IsActivityPath(r.path)) {
    // Addressed to our bot, in a channel we read or a personal chat with it.
    const json::Value* to = json::Find(*v, "recipient");
    std::string recipient = to ? json::GetString(*to, "id").value_or("") : "";
    if (!recipient.empty() && recipient != "28:" + s_.bot.client_id) return false;
    const json::Value* conv = json::Find(*v, "conversation");
    std::string conversation = conv ? json::GetString(*conv, "id").value_or("") : "";
    std::string type = conv ? json::GetString(*conv, "conversationType").value_or("") : "";
    if (type == "personal" || conversation.rfind("a:", 0) == 0) return true;
    return team_of_.count(conversation.substr(0, conversation.find(";messageid="))) > 0;
  }
  const json::Value* items = json::Find(*v, "value");
  if (!items || !items->is_array()) return false;
  for (const auto& item : items->as_array()) {
    std::string sub = json::GetString(item, "subscriptionId").value_or("");
    if (subscription_of_.count(sub) ||
        team_of_.count(ChannelOfResource(json::GetString(item, "resource").value_or(""))))
      return true;
  }
  return false;
}

bool TeamsConnector::PushPending() const {
  std::lock_guard lock(push_mu_);
  return !pushed_.empty() || !catch_up_.empty() || !pushed_replies_.empty() ||
         !inbound_messages_.empty() || !inbound_actions_.empty();
}

void TeamsConnector::CatchUp(const std::string& channel, Time since) {
  // Two catch-ups not yet made are one: the later one re-reads what the earlier would.
  auto [it, fresh] = catch_up_.emplace(channel, since);
  if (!fresh) it->second = std::max(it->second, since);
}

bool TeamsConnector::MaintenanceDue() const {
  std::lock_guard lock(push_mu_);
  return !renew_.empty() || !recreate_.empty();
}

net::Reply TeamsConnector::OnActivity(const net::Request& r) {
  net::Reply rep;
  auto v = json::Parse(r.body);
  if (!v.ok() || !v->is_object()) {
    rep.status = 400;
    return rep;
  }
  std::string service_url = json::GetString(*v, "serviceUrl").value_or("");
  if (auto s = bot_auth_->Validate(r.Header("authorization"), service_url); !s.ok()) {
    Logger("connector.teams")->warn("bot activity refused: {}", s.message());
    rep.status = 403;
    rep.body = R"({"error":"forbidden"})";
    return rep;
  }
  // "<channel>;messageid=<root>" names the thread; the sender by Entra object id.
  std::string type = json::GetString(*v, "type").value_or("");
  const json::Value* conv = json::Find(*v, "conversation");
  std::string conversation = conv ? json::GetString(*conv, "id").value_or("") : "";
  auto mark = conversation.find(";messageid=");
  const json::Value* from = json::Find(*v, "from");
  std::string aad = from ? json::GetString(*from, "aadObjectId").value_or("") : "";
  auto at = ParseIso(json::GetString(*v, "timestamp").value_or(""));
  std::string id = json::GetString(*v, "id").value_or("");
  std::string conversation_type =
      conv ? json::GetString(*conv, "conversationType").value_or("") : "";
  // A personal chat with the bot (answers to private questions: the chat is their thread, and
  // a card pressed there names the card's message), or a channel thread.
  bool personal = conversation_type == "personal" || conversation.rfind("a:", 0) == 0;
  rep.status = 200;  // what is not an activity we read is acknowledged and ignored
  if (aad.empty() || !at || id.empty() || (!personal && mark == std::string::npos)) return rep;
  std::string scope = personal ? conversation : conversation.substr(0, mark);  // of message ids
  std::string root = personal ? "" : conversation.substr(mark + 11);
  const json::Value* value = json::Find(*v, "value");
  bool invoke = type == "invoke" && json::GetString(*v, "name") == "adaptiveCard/action";
  std::lock_guard lock(push_mu_);
  if (!personal && !team_of_.count(scope)) return rep;
  if ((type == "message" && value) || invoke) {
    // A card button (Action.Submit: message with value; Action.Execute: invoke).
    const json::Value* data = value;
    if (invoke)
      if (const json::Value* action = json::Find(*value, "action"))
        data = json::Find(*action, "data");
    CardAction a;
    a.id = MakeId(cfg_.name, id);
    a.network = cfg_.name;
    std::string card = json::GetString(*v, "replyToId").value_or(root);
    a.message_id = MakeId(cfg_.name, MessageNativeId(scope, card));
    a.user_id = MakeId(cfg_.name, aad);
    a.value = data ? json::Dump(*data) : "{}";
    a.at = *at;
    inbound_actions_.push_back(std::move(a));
    if (invoke) {
      rep.body = R"({"statusCode":200,"type":"application/vnd.microsoft.activity.message",)"
                 R"("value":"Thanks, your answer is in."})";
    }
    return rep;
  }
  if (type == "message") {
    Message m;
    m.network = cfg_.name;
    m.id = MakeId(cfg_.name, MessageNativeId(scope, id));
    m.thread_id = MakeId(cfg_.name, personal ? conversation : MessageNativeId(scope, root));
    bool starts_thread = !personal && id == root;
    if (!starts_thread) m.reply_to_id = m.thread_id;
    m.kind = starts_thread ? "post" : "reply";
    m.group_id = MakeId(cfg_.name, personal ? std::string(kPrivateGroup) : scope);
    m.author_id = MakeId(cfg_.name, aad);
    m.created_at = *at;
    m.text = json::GetString(*v, "text").value_or("");
    inbound_messages_.push_back(std::move(m));
  }
  return rep;
}

std::optional<Time> TeamsConnector::NextMaintenance() const {
  std::optional<Time> next;
  if (MaintenanceDue()) return clock_.Now();
  for (const auto& [channel, team] : team_of_) {
    (void)team;
    auto it = cursors_.find(SubscriptionKey(channel));
    std::optional<Time> expires;
    if (it != cursors_.end() && it->second.find(' ') != std::string::npos)
      expires = ParseIso(it->second.substr(it->second.find(' ') + 1));
    Time due = expires ? *expires - kRenewBefore : clock_.Now();
    if (!next || due < *next) next = due;
  }
  return next;
}

bool TeamsConnector::SubscriptionsLive() const {
  if (MaintenanceDue()) return false;
  std::lock_guard lock(push_mu_);
  if (team_of_.empty()) return false;
  for (const auto& [channel, team] : team_of_) {
    (void)team;
    auto it = cursors_.find(SubscriptionKey(channel));
    if (it == cursors_.end() || it->second.find(' ') == std::string::npos) return false;
    auto expires = ParseIso(it->second.substr(it->second.find(' ') + 1));
    if (!expires || *expires <= clock_.Now()) return false;
  }
  return true;
}

Status TeamsConnector::MaintainSubscriptions(const std::string& public_url) {
  Time now = clock_.Now();
  std::set<std::string> renew_now, recreate_now;
  {
    std::lock_guard lock(push_mu_);
    recreate_now.swap(recreate_);
    if (client_state_.empty()) {
      // A secret of ours that every notification must carry back (§2.12).
      std::random_device rd;
      char buf[33];
      std::snprintf(buf, sizeof buf, "%08x%08x%08x%08x", rd(), rd(), rd(), rd());
      client_state_ = buf;
    }
    renew_now.swap(renew_);
  }
  // A subscription Graph removed is forgotten: a new one is made now (no renewal of the removed
  // one is tried), or at the next maintenance if that fails.
  for (const auto& channel : recreate_now) cursors_.erase(SubscriptionKey(channel));
  Status result = Status::Ok();
  for (const auto& [channel, team] : team_of_) {
    std::string id;
    std::optional<Time> expires;
    if (auto it = cursors_.find(SubscriptionKey(channel)); it != cursors_.end()) {
      id = it->second.substr(0, it->second.find(' '));
      if (it->second.find(' ') != std::string::npos)
        expires = ParseIso(it->second.substr(it->second.find(' ') + 1));
    }
    if (!id.empty() && expires && *expires - kRenewBefore > now && !renew_now.count(id)) continue;
    Time until = now + kSubscriptionLife;
    json::Writer when;
    when.BeginObject().Key("expirationDateTime").String(FormatIsoMillis(until)).EndObject();
    if (!id.empty() && expires && *expires > now) {
      http::Request patch;
      patch.method = "PATCH";
      patch.url = base_ + "/subscriptions/" + id;
      patch.body = when.Take();
      auto res = graph_.Send(patch, kGraph);
      if (res.ok() && res->status == 200) {
        cursors_[SubscriptionKey(channel)] = id + " " + FormatIsoMillis(until);
        continue;
      }
      if (!res.ok() || res->status != 404) {
        result =
            Status::Fail("renewing the subscription of channel " + channel + ": " +
                         (res.ok() ? "HTTP " + std::to_string(res->status) : res.error().message));
        continue;
      }
    }
    // Gone or never made: a new subscription, and a catch-up for what came in between (a delta
    // round, and the replies of the threads not read since).
    json::Writer w;
    w.BeginObject().Key("changeType").String("created,updated,deleted");
    w.Key("notificationUrl").String(public_url + net::PathEncode(OwnPath("notify")));
    w.Key("lifecycleNotificationUrl").String(public_url + net::PathEncode(OwnPath("lifecycle")));
    w.Key("resource").String("/teams/" + team + "/channels/" + channel + "/messages");
    w.Key("includeResourceData").Bool(false);
    w.Key("expirationDateTime").String(FormatIsoMillis(until));
    w.Key("clientState").String(client_state_).EndObject();
    http::Request post;
    post.method = "POST";
    post.idempotent = false;  // a second one would double every notification
    post.url = base_ + "/subscriptions";
    post.body = w.Take();
    auto res = graph_.Send(post, kGraph);
    auto v = res.ok() ? json::Parse(res->body) : Result<json::Value>::Fail("");
    if (!res.ok() || res->status != 201 || !v.ok() || !json::GetString(*v, "id")) {
      result = Status::Fail(
          "subscribing to channel " + channel + ": " +
          (res.ok() ? "HTTP " + std::to_string(res->status) + " " + res->body.substr(0, 200)
                    : res.error().message));
      continue;
    }
    std::string new_id = *json::GetString(*v, "id");
    cursors_[SubscriptionKey(channel)] = new_id + " " + FormatIsoMillis(until);
    std::lock_guard lock(push_mu_);
    if (!id.empty()) subscription_of_.erase(id);
    subscription_of_[new_id] = channel;
    CatchUp(channel, now - Millis{1});
  }
  return result;
}

net::Reply TeamsConnector::OnPush(const net::Request& r) {
  if (IsActivityPath(r.path)) return OnActivity(r);
  net::Reply rep;
  // The validation handshake: the token comes back as plain text, at once (§2.12).
  if (auto it = r.query.find("validationToken"); it != r.query.end()) {
    rep.content_type = "text/plain";
    rep.body = it->second;
    return rep;
  }
  auto v = json::Parse(r.body);
  const json::Value* items = v.ok() ? json::Find(*v, "value") : nullptr;
  if (!items || !items->is_array()) {
    rep.status = 400;
    return rep;
  }
  bool lifecycle = r.path == kLifecyclePath || r.path == OwnPath("lifecycle");
  // A request says at most this much in the log, however many items it holds.
  int wrong_state = 0, events_logged = 0;
  std::lock_guard lock(push_mu_);
  for (const auto& item : items->as_array()) {
    // Of a channel of another network (a shared path): not ours to read.
    std::string sub = json::GetString(item, "subscriptionId").value_or("");
    auto known = subscription_of_.find(sub);
    std::string channel = known != subscription_of_.end()
                              ? known->second
                              : ChannelOfResource(json::GetString(item, "resource").value_or(""));
    if (!team_of_.count(channel)) continue;
    // Not from our subscription (no or another clientState): ignored.
    if (client_state_.empty() || json::GetString(item, "clientState") != client_state_) {
      ++wrong_state;
      continue;
    }
    if (!lifecycle) {
      // A reply is read exactly ("…/messages('root')/replies('id')"); a root through the
      // channel's delta round, which brings every root changed since the last one.
      std::string resource = json::GetString(item, "resource").value_or("");
      std::string root = PartOfResource(resource, "messages");
      std::string reply = PartOfResource(resource, "replies");
      if (!root.empty() && !reply.empty())
        pushed_replies_.insert({channel, root, reply});
      else
        pushed_.insert(channel);
      continue;
    }
    std::string event = json::GetString(item, "lifecycleEvent").value_or("");
    if (++events_logged <= 3)
      Logger("connector.teams")->info("channel {}: lifecycle event {}", channel, event);
    if (event == "reauthorizationRequired") {
      renew_.insert(sub);
    } else if (event == "subscriptionRemoved") {
      // Made again at the next tick, then caught up from its creation.
      recreate_.insert(channel);
      subscription_of_.erase(sub);
    } else {
      // missed (or an event this version does not know): what was not told is read again.
      CatchUp(channel, clock_.Now());
    }
  }
  if (wrong_state > 0)
    Logger("connector.teams")
        ->warn("{} notification(s) with a wrong clientState ignored", wrong_state);
  if (events_logged > 3)
    Logger("connector.teams")->info("{} more lifecycle events", events_logged - 3);
  rep.status = 202;
  return rep;
}

std::string TeamsConnector::TakePushed() {
  std::set<std::string> channels;
  std::map<std::string, Time> catch_up;
  std::set<std::array<std::string, 3>> replies;
  std::vector<Message> messages;
  std::vector<CardAction> actions;
  {
    std::lock_guard lock(push_mu_);
    channels.swap(pushed_);
    catch_up.swap(catch_up_);
    replies.swap(pushed_replies_);
    messages.swap(inbound_messages_);
    actions.swap(inbound_actions_);
  }
  json::Writer w;
  w.BeginObject().Key("channels").BeginArray();
  for (const auto& c : channels) w.String(c);
  w.EndArray().Key("catch_up").BeginArray();
  for (const auto& [c, since] : catch_up)
    w.BeginObject()
        .Key("channel")
        .String(c)
        .Key("since")
        .String(FormatIsoMillis(since))
        .EndObject();
  w.EndArray().Key("replies").BeginArray();
  for (const auto& [c, root, reply] : replies)
    w.BeginObject()
        .Key("channel")
        .String(c)
        .Key("root")
        .String(root)
        .Key("reply")
        .String(reply)
        .EndObject();
  w.EndArray().Key("messages").BeginArray();
  for (const auto& m : messages) {
    w.BeginObject().Key("id").String(m.id).Key("thread_id").String(m.thread_id);
    w.Key("reply_to_id").OptString(m.reply_to_id).Key("kind").String(m.kind);
    w.Key("group_id").OptString(m.group_id).Key("author_id").String(m.author_id);
    w.Key("created_at").String(FormatIso(m.created_at)).Key("text").String(m.text);
    w.EndObject();
  }
  w.EndArray().Key("actions").BeginArray();
  for (const auto& a : actions) {
    w.BeginObject().Key("id").String(a.id).Key("message_id").String(a.message_id);
    w.Key("user_id").String(a.user_id).Key("value").String(a.value);
    w.Key("at").String(FormatIso(a.at)).EndObject();
  }
  w.EndArray().EndObject();
  return w.Take();
}

PollStats TeamsConnector::ReadPushed(const std::string& pushed, EventSink& sink) {
  std::set<std::string> channels;
  std::map<std::string, Time> catch_up;
  std::set<std::array<std::string, 3>> replies;
  std::vector<Message> messages;
  std::vector<CardAction> actions;
  PollStats stats;
  auto in = json::Parse(pushed);
  if (!in.ok() || !in->is_object()) {
    stats.errors.push_back("pushed input is not valid: " +
                           (in.ok() ? std::string("not an object") : in.error().message));
    return stats;
  }
  for (const auto& c : json::GetStringArray(*in, "channels").value_or(std::vector<std::string>{}))
    channels.insert(c);
  if (const json::Value* cs = json::Find(*in, "catch_up"); cs && cs->is_array())
    for (const auto& o : cs->as_array()) {
      auto c = json::GetString(o, "channel");
      auto since = ParseIso(json::GetString(o, "since").value_or(""));
      if (c && since) catch_up.emplace(*c, *since);
    }
  if (const json::Value* rs = json::Find(*in, "replies"); rs && rs->is_array())
    for (const auto& o : rs->as_array()) {
      auto c = json::GetString(o, "channel"), root = json::GetString(o, "root"),
           reply = json::GetString(o, "reply");
      if (c && root && reply) replies.insert({*c, *root, *reply});
    }
  if (const json::Value* ms = json::Find(*in, "messages"); ms && ms->is_array()) {
    for (const auto& o : ms->as_array()) {
      Message m;
      m.network = cfg_.name;
      m.id = json::GetString(o, "id").value_or("");
      m.thread_id = json::GetString(o, "thread_id").value_or("");
      m.reply_to_id = json::GetString(o, "reply_to_id");
      m.kind = json::GetString(o, "kind").value_or("post");
      m.group_id = json::GetString(o, "group_id");
      m.author_id = json::GetString(o, "author_id").value_or("");
      m.created_at = ParseIso(json::GetString(o, "created_at").value_or("")).value_or(Time{});
      m.text = json::GetString(o, "text").value_or("");
      messages.push_back(std::move(m));
    }
  }
  if (const json::Value* as = json::Find(*in, "actions"); as && as->is_array()) {
    for (const auto& o : as->as_array()) {
      CardAction a;
      a.network = cfg_.name;
      a.id = json::GetString(o, "id").value_or("");
      a.message_id = json::GetString(o, "message_id").value_or("");
      a.user_id = json::GetString(o, "user_id").value_or("");
      a.value = json::GetString(o, "value").value_or("{}");
      a.at = ParseIso(json::GetString(o, "at").value_or("")).value_or(Time{});
      actions.push_back(std::move(a));
    }
  }
  // What the bot was told comes first; a delta round may bring the same messages again, in
  // full (reactions, edits), under the same ids.
  for (const auto& m : messages) {
    sink.OnMessage(m);
    ++stats.messages;
  }
  for (const auto& a : actions) sink.OnCardAction(a);
  for (const auto& [channel, since] : catch_up) channels.insert(channel);
  for (const auto& channel : channels) {
    if (!team_of_.count(channel)) continue;
    auto s = DeltaRound(channel, sink, stats);
    if (!s.ok()) {
      stats.errors.push_back(s.message());
      std::lock_guard lock(push_mu_);
      pushed_.insert(channel);  // tried again at the next tick
    }
  }
  // A catch-up also reads the replies of the recent threads not read since (a reply does not
  // reliably bring its root back into the delta round).
  for (const auto& [channel, since] : catch_up) {
    if (!team_of_.count(channel)) continue;
    int before = stats.requests;
    ReadThreads(channel, since, sink, stats);
    Logger("connector.teams")
        ->info("channel {}: caught up since {} ({} requests)", channel, FormatIsoMillis(since),
               stats.requests - before);
  }
  for (const auto& [channel, root, reply] : replies) {
    if (!team_of_.count(channel)) continue;
    auto s = ReadReply(channel, root, reply, sink, stats);
    if (!s.ok()) {
      stats.errors.push_back(s.message());
      std::lock_guard lock(push_mu_);
      pushed_replies_.insert({channel, root, reply});  // tried again at the next tick
    }
  }
  return stats;
}

std::string TeamsConnector::ConversationOf(const std::string& native_message_id) const {
  if (native_message_id.rfind("a:", 0) != 0) return native_message_id;
  return native_message_id.substr(0, native_message_id.rfind('/'));
}

Result<std::string> TeamsConnector::RosterId(const std::string& channel,
                                             const std::string& aad_id) {
  if (auto it = roster_ids_.find(aad_id); it != roster_ids_.end()) return it->second;
  // The roster of the channel's team (Bot Framework GET v3/conversations/{id}/members), read
  // again at most once an hour for someone it did not list.
  if (auto read = roster_read_.find(channel);
      read != roster_read_.end() && clock_.Now() - read->second < std::chrono::hours{1})
    return Result<std::string>::Fail(aad_id + " is not in the roster of channel " + channel, 404);
  http::Request req;
  req.url = service_url_ + "v3/conversations/" + http::UrlEncode(channel) + "/members";
  req.headers = {{"Accept", "application/json"}};
  auto res = bot_.Send(req, kBot);
  if (!res.ok()) return Result<std::string>::Fail(res.error().message);
  if (res->status != 200)
    return Result<std::string>::Fail("Bot Framework roster of " + channel + ": HTTP " +
                                         std::to_string(res->status) + " " +
                                         res->body.substr(0, 200),
                                     res->status == 404 ? 502 : res->status);
  auto v = json::Parse(res->body);
  if (!v.ok() || !v->is_array())
    return Result<std::string>::Fail("Bot Framework roster of " + channel + ": not a list");
  roster_read_[channel] = clock_.Now();
  for (const auto& m : v->as_array()) {
    auto id = json::GetString(m, "id"), aad = json::GetString(m, "aadObjectId");
    if (id && aad) roster_ids_[*aad] = *id;
  }
  if (auto it = roster_ids_.find(aad_id); it != roster_ids_.end()) return it->second;
  return Result<std::string>::Fail(aad_id + " is not in the roster of channel " + channel, 404);
}

Result<Posted> TeamsConnector::PostPrivately(const PostRequest& r, const std::string& text) {
  const std::string& aad = *r.to_user;
  std::string conversation;
  if (auto it = personal_chat_.find(aad); it != personal_chat_.end()) {
    conversation = it->second;
  } else {
    auto member = RosterId(r.group_id, aad);
    if (!member.ok()) return member.error();
    // The documented 1:1 creation: one member, not a group, the tenant (§3.2). Made again, it
    // gives the same chat; refused (403) when the app is not installed for the person.
    http::Request req;
    req.method = "POST";
    req.idempotent = true;
    req.headers = {{"Accept", "application/json"}};
    req.url = service_url_ + "v3/conversations";
    json::Writer w;
    w.BeginObject().Key("isGroup").Bool(false);
    w.Key("bot").BeginObject().Key("id").String("28:" + s_.bot.client_id).EndObject();
    w.Key("members").BeginArray().BeginObject().Key("id").String(*member).EndObject().EndArray();
    w.Key("tenantId").String(s_.auth.tenant);
    w.Key("channelData").BeginObject().Key("tenant").BeginObject().Key("id").String(s_.auth.tenant);
    w.EndObject().EndObject().EndObject();
    req.body = w.Take();
    auto res = bot_.Send(req, kBot);
    if (!res.ok()) return Result<Posted>::Fail(res.error().message);
    if (res->status != 200 && res->status != 201)
      return Result<Posted>::Fail("Bot Framework: a personal chat with " + aad + ": HTTP " +
                                      std::to_string(res->status) + " " + res->body.substr(0, 200),
                                  res->status);
    auto v = json::Parse(res->body);
    conversation = v.ok() ? json::GetString(*v, "id").value_or("") : "";
    if (conversation.empty())
      return Result<Posted>::Fail("Bot Framework: no conversation id in the answer");
    personal_chat_[aad] = conversation;
  }
  http::Request req;
  req.method = "POST";
  req.idempotent = false;
  req.headers = {{"Accept", "application/json"}};
  req.url = service_url_ + "v3/conversations/" + http::UrlEncode(conversation) + "/activities";
  json::Writer w;
  w.BeginObject().Key("type").String("message").Key("text").String(text);
  WriteCard(w, r);
  w.EndObject();
  req.body = w.Take();
  auto res = bot_.Send(req, kBot);
  if (!res.ok()) return Result<Posted>::Fail(res.error().message);
  if (res->status == 403 || res->status == 404) personal_chat_.erase(aad);  // made anew next time
  if (res->status != 200 && res->status != 201)
    return Result<Posted>::Fail("Bot Framework: a message to " + aad + ": HTTP " +
                                    std::to_string(res->status) + " " + res->body.substr(0, 200),
                                res->status);
  auto v = json::Parse(res->body);
  std::string id = v.ok() ? json::GetString(*v, "id").value_or("") : "";
  if (id.empty()) return Result<Posted>::Fail("Bot Framework: no activity id in the answer");
  return Posted{MessageNativeId(conversation, id), clock_.Now()};
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
  // Teams reads the text as HTML: everything escaped, names too; mentions as <at>Name</at> in
  // the text and a mention entity each with the same <at> text (Bot Framework schema).
  std::vector<MentionRef> mentioned;
  auto at = [](const MentionRef& m) { return "<at>" + EscapeHtml(m.name) + "</at>"; };
  std::string text;
  {
    // Mentions as markers (control characters escaping leaves alone), the rest escaped, then
    // the markers replaced by the mentions.
    std::string marked = EscapeHtml(RenderMentions(
        r.body, [](const MentionRef&) { return std::string("\x01"); }, &mentioned));
    size_t k = 0;
    for (char c : marked) {
      if (c == '\x01' && k < mentioned.size())
        text += at(mentioned[k++]);
      else
        text.push_back(c);
    }
  }
  if (r.to_user) return PostPrivately(r, text);
  auto entities = [&](json::Writer& out) {
    if (mentioned.empty()) return;
    out.Key("entities").BeginArray();
    for (const auto& m : mentioned) {
      out.BeginObject().Key("type").String("mention").Key("text").String(at(m));
      out.Key("mentioned").BeginObject().Key("id").String(m.native_id).Key("name").String(m.name);
      out.EndObject().EndObject();
    }
    out.EndArray();
  };
  if (r.reply_to) {
    auto slash = r.reply_to->rfind('/');
    if (slash == std::string::npos)
      return Result<Posted>::Fail("not a Teams message id: " + *r.reply_to);
    channel = r.reply_to->substr(0, slash);
    root = r.reply_to->substr(slash + 1);
    std::string conversation = channel + ";messageid=" + root;
    req.url =
        service_url_ + "v3/conversations/" + http::UrlEncode(conversation) + "/activities/" + root;
    w.BeginObject().Key("type").String("message").Key("text").String(text);
    entities(w);
    w.Key("replyToId").String(root).EndObject();
  } else {
    // The shape of the documented request (§3.2): the bot, the tenant, the channel.
    req.url = service_url_ + "v3/conversations";
    w.BeginObject().Key("isGroup").Bool(true);
    w.Key("bot").BeginObject().Key("id").String("28:" + s_.bot.client_id).EndObject();
    w.Key("tenantId").String(s_.auth.tenant).Key("channelData").BeginObject();
    w.Key("teamsChannelId").String(channel);
    w.Key("channel").BeginObject().Key("id").String(channel).EndObject();
    w.Key("tenant").BeginObject().Key("id").String(s_.auth.tenant).EndObject().EndObject();
    w.Key("activity").BeginObject().Key("type").String("message").Key("text").String(text);
    entities(w);
    WriteCard(w, r);
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

Result<std::vector<Posted>> TeamsConnector::FindPosted(const PostRequest& r, Time since) {
  if (r.to_user) return std::vector<Posted>{};
  // Our own messages, newest first, until they are older than `since` (§2.5), with the text we
  // send: mentions as <at>Name</at>, which Graph shows as the name.
  std::string channel = r.group_id, url;
  if (r.reply_to) {
    auto slash = r.reply_to->rfind('/');
    channel = r.reply_to->substr(0, slash);
    url = RepliesUrl(*r.reply_to);
  } else {
    url = ChannelUrl(channel) + "/messages?$top=" + std::to_string(kPageSize);
  }
  const std::string self = *SelfUserId();
  const std::string want = TextKey(
      RenderMentions(r.body, [](const MentionRef& m) { return "<at>" + m.name + "</at>"; }));
  std::vector<Posted> found;
  while (!url.empty()) {
    auto res = Get(url);
    if (!res.ok()) return res.error();
    if (res->status != 200)
      return Result<std::vector<Posted>>::Fail("GET messages: HTTP " + std::to_string(res->status),
                                               res->status);
    auto page = ParseMessagePage(res->body, cfg_.name, channel);
    if (!page.ok()) return page.error();
    bool older = false;
    for (const auto& p : page->messages) {
      const Message& m = p.message;
      if (m.created_at < since) {
        older = true;
        continue;
      }
      if (m.author_id == self && TextKey(m.text) == want)
        found.push_back(Posted{NativeId(m.id), m.created_at});
    }
    if (older) break;
    url = page->next_link.value_or("");
  }
  std::sort(found.begin(), found.end(),
            [](const Posted& a, const Posted& b) { return a.created_at < b.created_at; });
  return found;
}

Built Make(const config::NetworkConfig& cfg, Clock& clock, std::unique_ptr<http::Client> client) {
  auto t = std::make_unique<TeamsConnector>(cfg, clock, std::move(client));
  Poster* p = t.get();
  PushReceiver* push = ReadSettings(cfg).push ? t.get() : nullptr;
  return Built{std::move(t), p, push};
}

}  // namespace learnloop::connectors::teams
