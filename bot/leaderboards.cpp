#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <set>

#include "bot/answers.h"
#include "bot/bot.h"
#include "bot/helpers.h"
#include "bot/schedule.h"
#include "connectors/common/mentions.h"
#include "core/json.h"
#include "core/log.h"

namespace learnloop::bot {

Result<std::vector<Bot::Standing>> Bot::Standings(const config::CampaignConfig& c,
                                                  const std::string& community) {
  std::vector<Prompt> prompts;  // of the campaign, oldest first
  LL_ASSIGN_OR_RETURN(auto all, store_.AllPrompts());
  for (auto& p : all)
    if (p.campaign == c.name) prompts.push_back(std::move(p));
  std::map<std::string, int> points;
  // Per prompt of this community: who answered, and whom it was put to (empty: everyone).
  std::vector<std::pair<std::set<std::string>, std::set<std::string>>> answered_here;
  std::string group = MakeId(c.network, community);
  for (const auto& p : prompts) {
    std::set<std::string> who;
    LL_ASSIGN_OR_RETURN(auto answers, store_.AnswersTo(p.id));
    for (const auto& a : answers) {
      if (a.points <= 0) continue;
      points[a.user_id] += a.points;
      who.insert(a.user_id);
    }
    if (p.group_id == group)
      answered_here.emplace_back(std::move(who),
                                 std::set<std::string>(p.audience.begin(), p.audience.end()));
  }
  std::vector<Standing> out;
  for (const auto& [uid, pts] : points) {
    LL_ASSIGN_OR_RETURN(auto out_of, store_.OptedOut(uid));
    if (out_of != false) continue;  // opted in only
    Standing s;
    s.user_id = uid;
    LL_ASSIGN_OR_RETURN(auto u, store_.GetUser(uid));
    s.name = u ? u->name : uid;
    s.points = pts;
    for (auto it = answered_here.rbegin(); it != answered_here.rend(); ++it) {
      if (!it->second.empty() && !it->second.count(uid)) continue;  // not put to them
      if (!it->first.count(uid)) break;
      ++s.streak;
    }
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](const Standing& a, const Standing& b) {
    if (a.points != b.points) return a.points > b.points;
    if (a.streak != b.streak) return a.streak > b.streak;
    return a.name < b.name;
  });
  return out;
}

Status Bot::Leaderboards() {
  auto log = Logger("bot");
  Time now = clock_.Now();
  for (const auto& c : cfg_.campaigns) {
    if (!c.leaderboard.enabled) continue;
    LL_ASSIGN_OR_RETURN(auto state, store_.GetCampaignState(c.name));
    if (Paused(c, state)) continue;
    Time from = now - c.catch_up;
    if (auto last = state.leaderboard_at; last && *last > from) from = *last;
    for (auto t = c.leaderboard.schedule.Next(c.tz, from); t && *t <= now;
         t = c.leaderboard.schedule.Next(c.tz, *t)) {
      LL_TRY(store_.Transaction([&]() -> Status {
        std::string why;
        auto at = PostTime(c, *t, &why);
        if (!at) {
          log->info("campaign {}: leaderboard of {} skipped ({})", c.name, FormatIso(*t), why);
        } else {
          for (const auto& community : c.communities) {
            LL_ASSIGN_OR_RETURN(auto standings, Standings(c, community));
            std::string body = "Leaderboard - " + c.name +
                               " (only colleagues who chose to be "
                               "shown here):";
            if (standings.empty()) body += "\nNobody has joined the leaderboard yet.";
            for (size_t i = 0; i < standings.size() && static_cast<int>(i) < c.leaderboard.top; ++i)
              body += "\n" + std::to_string(i + 1) + ". " + standings[i].name + " - " +
                      std::to_string(standings[i].points) + " points, " +
                      std::to_string(standings[i].streak) + " in a row";
            store::OutboxItem item;
            item.key = "leaderboard:" + c.name + ":" + community + ":" + FormatIso(*t);
            item.network = c.network;
            item.group_id = community;
            item.body = body;
            item.due_at = *at;
            LL_TRY(store_.EnqueueOutbox(item));  // false: there already
          }
        }
        return store_.UpdateCampaignState(
            c.name, [&](store::CampaignState& stored) { stored.leaderboard_at = *t; });
      }));
    }
  }
  return Status::Ok();
}

}  // namespace learnloop::bot
