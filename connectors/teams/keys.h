#pragma once
// The cursor keys, limits and small helpers the Teams connector's files share.
#include <chrono>
#include <string>

#include "connectors/teams/teams_connector.h"

namespace learnloop::connectors::teams {

constexpr int kPageSize = 50;  // $top maximum for messages, replies and delta (§2.5, §2.6)

// A feed that never ends (a service that always names a next page) is left after this many
// pages in one poll: a delta round goes on from there at the next poll, anything else fails.
constexpr int kMaxPagesPerPoll = 2000;

// A message dated further ahead than clocks drift keeps no thread followed beyond it.
constexpr auto kFutureMargin = std::chrono::hours{24};

// On an expired delta token the new round starts this long before the last good one ended.
constexpr auto kResyncOverlap = std::chrono::hours{1};

inline const char* const kGraph = "graph";

inline const char* const kBot = "bot";

inline std::string DeltaKey(const std::string& channel) { return "delta:" + channel; }

inline std::string SubscriptionKey(const std::string& channel) { return "subscription:" + channel; }

inline const char* const kClientStateKey = "push.client_state";

// Subscriptions live 55 minutes (chatMessage allows an hour, §2.12) and are renewed when fewer
// than 15 are left.
constexpr auto kSubscriptionLife = std::chrono::minutes{55};

constexpr auto kRenewBefore = std::chrono::minutes{15};

inline const char* const kNotifyPath = "/teams/notify";

inline const char* const kLifecyclePath = "/teams/lifecycle";

inline const char* const kActivityPath = "/api/messages";

// "teams('…')/channels('19:…')/messages('…')" (a notification) or "/teams/…/channels/19:…/
// messages" (a lifecycle event names the subscription's resource) → the channel id.
inline std::string ChannelOfResource(const std::string& resource) {
  for (const std::string open : {"channels('", "/channels/"}) {
    auto a = resource.find(open);
    if (a == std::string::npos) continue;
    a += open.size();
    auto b = resource.find(open.back() == '\'' ? "')" : "/", a);
    return b == std::string::npos ? resource.substr(a) : resource.substr(a, b - a);
  }
  return "";
}

inline std::string RoundKey(const std::string& channel) { return "round:" + channel; }

inline std::string ThreadsKey(const std::string& channel) { return "threads:" + channel; }

inline std::string ThreadsReadKey(const std::string& channel) { return "threads_read:" + channel; }

// The id inside "<what>('…')" of a notification's resource ("" when absent).
inline std::string PartOfResource(const std::string& resource, const std::string& what) {
  const std::string open = what + "('";
  auto a = resource.find(open);
  if (a == std::string::npos) return "";
  a += open.size();
  auto b = resource.find("')", a);
  return b == std::string::npos ? "" : resource.substr(a, b - a);
}

inline std::string WithSlash(std::string s) {
  if (s.empty() || s.back() != '/') s.push_back('/');
  return s;
}

}  // namespace learnloop::connectors::teams
