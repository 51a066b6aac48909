#include "connectors/teams/teams_connector.h"

#include <algorithm>
#include <sstream>

#include "connectors/common/mentions.h"
#include "connectors/teams/keys.h"
#include "core/json.h"
#include "core/log.h"

namespace learnloop::connectors::teams {

namespace {

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

Built Make(const config::NetworkConfig& cfg, Clock& clock, std::unique_ptr<http::Client> client) {
  auto t = std::make_unique<TeamsConnector>(cfg, clock, std::move(client));
  Poster* p = t.get();
  PushReceiver* push = ReadSettings(cfg).push ? t.get() : nullptr;
  return Built{std::move(t), p, push};
}

}  // namespace learnloop::connectors::teams
