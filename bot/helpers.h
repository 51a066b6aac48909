#pragma once
// Small helpers the bot's files share (not part of its interface).
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "bot/bot.h"
#include "connectors/common/mentions.h"
#include "core/model.h"
#include "core/time.h"

namespace learnloop::bot {

constexpr size_t kMaxMentions = 25;  // a post names a few people, not a whole community

inline std::string LocalDay(TimeZone tz, Time t) { return FormatLocal(tz, t).substr(0, 10); }

// "3 h 20 min", "45 min", "2 d 1 h": how late something is, as people read it.
inline std::string MinutesText(Millis d) {
  auto m = std::chrono::duration_cast<std::chrono::minutes>(d).count();
  if (m < 60) return std::to_string(m) + " min";
  if (m < 24 * 60) return std::to_string(m / 60) + " h " + std::to_string(m % 60) + " min";
  return std::to_string(m / (24 * 60)) + " d " + std::to_string(m / 60 % 24) + " h";
}

// "A, B, C and 3 more colleagues" as mention tokens, the first kMaxMentions by name.
inline std::string MentionList(const std::vector<const User*>& people) {
  std::string out;
  for (size_t i = 0; i < people.size() && i < kMaxMentions; ++i)
    out += (i ? ", " : "") + connectors::MentionToken(NativeId(people[i]->id), people[i]->name);
  if (people.size() > kMaxMentions)
    out += " and " + std::to_string(people.size() - kMaxMentions) + " more colleagues";
  return out;
}

// Each person's first answer before the close that says something readable (any reply for
// free text): the one that counts. `answers` in time order.
inline std::map<std::string, Answer> FirstAnswers(const Prompt& p, const std::string& kind,
                                                  const std::vector<Answer>& answers) {
  std::map<std::string, Answer> first;
  for (const auto& a : answers) {
    if (p.closes_at && a.answered_at >= *p.closes_at) continue;
    bool readable = kind == "free_text" || a.choice.has_value();
    if (readable) first.emplace(a.user_id, a);
  }
  return first;
}

// The prompt key for one community: a single-community campaign's keys stay as they always were.
inline std::string PromptKey(const config::CampaignConfig& c, const std::string& community,
                             const std::string& rest) {
  return c.communities.size() == 1 ? "prompt:" + c.name + ":" + rest
                                   : "prompt:" + c.name + ":" + community + ":" + rest;
}

}  // namespace learnloop::bot
