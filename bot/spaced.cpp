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

Result<Bot::PracticeState> Bot::Practices(const config::CampaignConfig& c,
                                          const std::string& community, Time at) {
  PracticeState s;
  std::string group = MakeId(c.network, community);
  LL_ASSIGN_OR_RETURN(auto prompts, store_.PromptsOf(c.name));
  for (const auto& p : prompts) {
    int q = p.step - 1;
    if (p.group_id != group || p.audience.empty() || p.posted_at > at) continue;
    if (q < 0 || q >= static_cast<int>(c.steps.size())) continue;
    std::map<std::string, Answer> first;
    if (!p.message_id.empty()) {
      LL_ASSIGN_OR_RETURN(auto answers, store_.AnswersTo(p.id));  // as they stood at `at`
      answers.erase(std::remove_if(answers.begin(), answers.end(),
                                   [&](const Answer& a) { return a.answered_at > at; }),
                    answers.end());
      first = FirstAnswers(p, "choice", answers);
    }
    bool closed = p.closes_at && at >= *p.closes_at;
    std::string day = LocalDay(c.tz, p.posted_at);
    if (!p.is_private) ++s.threads_per_day[day];
    for (const auto& uid : p.audience) {
      ++s.asked_per_day[uid][day];
      Practice& pr = s.by_user[uid][q];
      pr.asked = true;
      pr.open = false;
      if (auto a = first.find(uid); a != first.end()) {
        bool right = a->second.correct.value_or(false);
        pr.right_in_a_row = right ? pr.right_in_a_row + 1 : 0;
        pr.due = a->second.answered_at + (right ? c.spaced.right_after : c.spaced.wrong_after);
      } else if (closed) {  // not answered: as if wrong, back after the short interval
        pr.right_in_a_row = 0;
        pr.due = std::max(*p.closes_at, p.posted_at + c.spaced.wrong_after);
      } else {
        pr.open = true;
      }
      pr.retired = pr.right_in_a_row >= c.spaced.retire_after;
    }
  }
  return s;
}

std::optional<int> Bot::NextQuestion(const config::CampaignConfig& c, const PracticeState& s,
                                     const std::string& user_id, Time at) {
  if (auto d = s.asked_per_day.find(user_id); d != s.asked_per_day.end()) {
    auto n = d->second.find(LocalDay(c.tz, at));
    if (n != d->second.end() && n->second >= c.spaced.per_person) return std::nullopt;
  }
  static const std::map<int, Practice> kNone;
  auto u = s.by_user.find(user_id);
  const auto& mine = u == s.by_user.end() ? kNone : u->second;
  std::optional<int> best;
  for (const auto& [q, pr] : mine)  // a due repeat, the longest due first
    if (!pr.retired && !pr.open && pr.due <= at && (!best || pr.due < mine.at(*best).due)) best = q;
  if (best) return best;
  for (int q = 0; q < static_cast<int>(c.steps.size()); ++q)  // a question never asked
    if (!mine.count(q)) return q;
  return std::nullopt;
}

Result<bool> Bot::EnqueueRound(const config::CampaignConfig& c, const std::string& key_time,
                               Time post) {
  auto log = Logger("bot");
  auto poster = posters_.find(c.network);
  const bool privately = c.spaced.privately && poster != posters_.end() && poster->second &&
                         poster->second->PostsPrivately();
  const std::string total = std::to_string(c.steps.size());
  bool any = false;
  for (const auto& community : c.communities) {
    LL_ASSIGN_OR_RETURN(PracticeState state, Practices(c, community, post));
    // Everyone's next question: privately where that reaches them, else in the community.
    std::map<int, std::vector<const User*>> in_public;  // by question
    LL_ASSIGN_OR_RETURN(auto people, Audience(c, community));
    for (const auto& u : people) {
      LL_ASSIGN_OR_RETURN(bool out, OptedOut(u.id));
      if (out) continue;  // never named, so never asked
      auto q = NextQuestion(c, state, u.id, post);
      if (!q) continue;
      bool reachable = false;
      if (privately) {
        LL_ASSIGN_OR_RETURN(reachable, Reachable(u.id));
      }
      if (reachable) {
        std::string key = PromptKey(
            c, community, key_time + ":q" + std::to_string(*q + 1) + ":" + NativeId(u.id));
        // Their name makes each text one of a kind: a message whose answer was lost is found
        // again by its text, never taken for another person's.
        LL_ASSIGN_OR_RETURN(bool queued, EnqueuePromptIn(c, key, community, *q, post, {u.id},
                                                         "Hi " + u.name + " - practice question " +
                                                             std::to_string(*q + 1) + " of " +
                                                             total + " (" + c.name + "):",
                                                         NativeId(u.id)));
        any |= queued;
      } else {
        in_public[*q].push_back(&u);
      }
    }
    // The community's threads: at most daily_cap a local day, the question most people wait
    // for first, each naming at most mention_cap of them; the others wait for a later round.
    std::vector<std::pair<int, std::vector<const User*>>> waiting(in_public.begin(),
                                                                  in_public.end());
    std::stable_sort(waiting.begin(), waiting.end(), [](const auto& a, const auto& b) {
      return a.second.size() > b.second.size();
    });
    int threads = state.threads_per_day[LocalDay(c.tz, post)];
    size_t left_waiting = 0;
    for (auto& [q, who] : waiting) {
      if (threads >= c.spaced.daily_cap) {
        left_waiting += who.size();
        continue;
      }
      size_t named_n = std::min(who.size(), static_cast<size_t>(c.spaced.mention_cap));
      left_waiting += who.size() - named_n;
      std::vector<const User*> named(who.begin(),
                                     who.begin() + static_cast<std::ptrdiff_t>(named_n));
      std::vector<std::string> ids;
      for (const User* u : named) ids.push_back(u->id);
      std::string key = PromptKey(c, community, key_time + ":q" + std::to_string(q + 1));
      std::string lead = "For " + MentionList(named) + " - practice question " +
                         std::to_string(q + 1) + " of " + total + ":";
      LL_ASSIGN_OR_RETURN(bool queued,
                          EnqueuePromptIn(c, key, community, q, post, std::move(ids), lead));
      if (queued) {
        any = true;
        ++threads;
      }
    }
    if (left_waiting)
      log->info(
          "campaign {}: {} people of {} wait for a later round (at most {} thread(s) a "
          "day in the community, {} people named in each)",
          c.name, left_waiting, community, c.spaced.daily_cap, c.spaced.mention_cap);
  }
  if (any) ++stats_.enqueued;
  return any;
}

}  // namespace learnloop::bot
