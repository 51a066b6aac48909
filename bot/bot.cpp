#include "bot/bot.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <set>

#include "bot/answers.h"
#include "bot/helpers.h"
#include "bot/schedule.h"
#include "connectors/common/mentions.h"
#include "core/json.h"
#include "core/log.h"

namespace learnloop::bot {

Bot::Bot(const config::Config& cfg, store::Store& store, Clock& clock,
         std::map<std::string, connectors::Poster*> posters)
    : cfg_(cfg), store_(store), clock_(clock), posters_(std::move(posters)) {}

const config::CampaignConfig* Bot::FindCampaign(const std::string& name) const {
  for (const auto& c : cfg_.campaigns)
    if (c.name == name) return &c;
  return nullptr;
}

Result<std::vector<User>> Bot::Audience(const config::CampaignConfig& c,
                                        const std::string& community) {
  std::vector<User> out;
  std::string group = MakeId(c.network, community);
  std::set<std::string> members;
  LL_ASSIGN_OR_RETURN(const auto* groups, Groups());
  for (const auto& g : *groups)
    if (g.id == group) members.insert(g.members.begin(), g.members.end());
  LL_ASSIGN_OR_RETURN(const auto* users, Users());
  for (const auto& u : *users)
    if (members.count(u.id) && !u.is_bot && u.state == "active" && c.InCohort(u.joined_at))
      out.push_back(u);
  return out;  // by id
}

Result<bool> Bot::Reachable(const std::string& user_id) const {
  LL_ASSIGN_OR_RETURN(auto mark, store_.UnreachableSince(user_id));
  return !mark || clock_.Now() - mark->since >= std::chrono::hours{24 * 7};
}

Result<std::vector<Prompt>> Bot::RecentPrompts() {
  return store_.PromptsOpenAfter(clock_.Now() - std::chrono::hours{24 * 7});
}

Result<const std::vector<User>*> Bot::Users() {
  if (!in_tick_ || !tick_users_) {
    LL_ASSIGN_OR_RETURN(tick_users_, store_.AllUsers());
  }
  return &*tick_users_;
}

Result<const std::vector<Group>*> Bot::Groups() {
  if (!in_tick_ || !tick_groups_) {
    LL_ASSIGN_OR_RETURN(tick_groups_, store_.AllGroups());
  }
  return &*tick_groups_;
}

Status Bot::Tick() {
  // The directory changes only with a sync, between ticks: read it once for the whole tick.
  struct Forget {
    Bot& b;
    ~Forget() {
      b.tick_users_.reset();
      b.tick_groups_.reset();
      b.in_tick_ = false;
    }
  } forget{*this};
  in_tick_ = true;
  // posted ones: Schedule only adds to the outbox
  LL_ASSIGN_OR_RETURN(auto prompts, RecentPrompts());
  LL_TRY(RecognizeAnswers(prompts));
  LL_TRY(Schedule());       // after the answers: a spaced round sees the latest
  LL_TRY(Remind(prompts));  // after the answers are read: nobody who answered is reminded
  LL_TRY(Feedback(prompts));
  LL_TRY(Acknowledge(prompts));
  LL_TRY(Leaderboards());
  return Dispatch();
}

Result<bool> Bot::OptedOut(const std::string& user_id) const {
  LL_ASSIGN_OR_RETURN(auto out, store_.OptedOut(user_id));
  return out.value_or(false);
}

Result<std::optional<Time>> Bot::NextDue() const {
  Time now = clock_.Now();
  std::optional<Time> best;
  for (const auto& c : cfg_.campaigns) {
    LL_ASSIGN_OR_RETURN(auto state, store_.GetCampaignState(c.name));
    if (Paused(c, state)) continue;
    if (c.Ends() && state.steps_posted >= static_cast<int>(c.steps.size())) continue;  // ended
    std::optional<Time> t;
    if (c.relative()) {
      LL_ASSIGN_OR_RETURN(t, NextAfterJoining(c, now));
    } else {
      t = c.schedule.Next(c.tz, std::max(ScheduleFrom(c, now, state), now - Millis{1}));
    }
    if (t && (!c.end || *t < *c.end) && (!best || *t < *best)) best = t;
  }
  // The next reminder of an open prompt.
  LL_ASSIGN_OR_RETURN(auto open, store_.PromptsOpenAfter(now));
  for (const auto& p : open) {
    const config::CampaignConfig* c = FindCampaign(p.campaign);
    if (!c || !c->reminders.enabled || !c->reminders.mention || p.is_private) continue;
    if (p.closes_at && now >= *p.closes_at) continue;
    for (int k = 1; k <= c->reminders.max; ++k) {
      Time due = p.posted_at + c->reminders.after * k;
      if (due > now && (!p.closes_at || due < *p.closes_at)) {
        if (!best || due < *best) best = due;
        break;
      }
    }
  }
  // A prompt deferred past quiet hours or a holiday waits in the outbox.
  // (Items already due are retried at the daemon's regular ticks.)
  LL_ASSIGN_OR_RETURN(auto unfinished, store_.UnfinishedOutbox());
  for (const auto& item : unfinished)
    if (item.due_at > now && (!best || item.due_at < *best)) best = item.due_at;
  return best;
}

}  // namespace learnloop::bot
