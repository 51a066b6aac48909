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

std::vector<User> Bot::Audience(const config::CampaignConfig& c, const std::string& community) {
  std::vector<User> out;
  std::string group = MakeId(c.network, community);
  std::set<std::string> members;
  for (const auto& g : Groups())
    if (g.id == group) members.insert(g.members.begin(), g.members.end());
  for (const auto& u : Users())
    if (members.count(u.id) && !u.is_bot && u.state == "active" && c.InCohort(u.joined_at))
      out.push_back(u);
  return out;  // by id
}

bool Bot::Reachable(const std::string& user_id) const {
  auto mark = store_.UnreachableSince(user_id);
  return !mark || clock_.Now() - mark->since >= std::chrono::hours{24 * 7};
}

std::vector<Prompt> Bot::RecentPrompts() {
  return store_.PromptsOpenAfter(clock_.Now() - std::chrono::hours{24 * 7});
}

const std::vector<User>& Bot::Users() {
  if (!in_tick_ || !tick_users_) tick_users_ = store_.AllUsers();
  return *tick_users_;
}

const std::vector<Group>& Bot::Groups() {
  if (!in_tick_ || !tick_groups_) tick_groups_ = store_.AllGroups();
  return *tick_groups_;
}

void Bot::Tick() {
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
  auto prompts = RecentPrompts();  // posted ones: Schedule only adds to the outbox
  RecognizeAnswers(prompts);
  Schedule();       // after the answers: a spaced round sees the latest
  Remind(prompts);  // after the answers are read: nobody who answered is reminded
  Feedback(prompts);
  Acknowledge(prompts);
  Leaderboards();
  Dispatch();
}

bool Bot::OptedOut(const std::string& user_id) const {
  return store_.OptedOut(user_id).value_or(false);
}

std::optional<Time> Bot::NextDue() const {
  Time now = clock_.Now();
  std::optional<Time> best;
  for (const auto& c : cfg_.campaigns) {
    if (Paused(c)) continue;
    if (c.Ends() && StepsPosted(c) >= static_cast<int>(c.steps.size())) continue;  // ended
    auto t = c.relative() ? NextAfterJoining(c, now)
                          : c.schedule.Next(c.tz, std::max(*ScheduleFrom(c, now), now - Millis{1}));
    if (t && (!c.end || *t < *c.end) && (!best || *t < *best)) best = t;
  }
  // The next reminder of an open prompt.
  for (const auto& p : store_.PromptsOpenAfter(now)) {
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
  for (const auto& item : store_.UnfinishedOutbox())
    if (item.due_at > now && (!best || item.due_at < *best)) best = item.due_at;
  return best;
}

}  // namespace learnloop::bot
