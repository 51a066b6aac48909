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

std::string Bot::PromptBody(const config::CampaignConfig& c, const config::StepConfig& step,
                            Time closes) {
  std::string body = step.text;
  std::string how = "Reply in this thread to answer";
  if (step.kind == "choice" || step.kind == "poll") {
    body += "\n";
    for (size_t i = 0; i < step.options.size(); ++i)
      body += "\n" + OptionLabel(static_cast<int>(i)) + ") " + step.options[i];
    how = "Reply in this thread with the letter of your answer";
  } else if (step.kind == "rating") {
    how = "Reply in this thread with a number from 1 to 5";
  }
  return body + "\n\n" + how + " - open until " + FormatLocal(c.tz, closes) + ".";
}

Time Bot::ScheduleFrom(const config::CampaignConfig& c, Time now,
                       const store::CampaignState& state) {
  Time from = now - c.catch_up;
  if (c.start && *c.start - Millis{1} > from) from = *c.start - Millis{1};
  // Nothing due before this store first saw the campaign (a new campaign, a first start).
  if (state.first_seen && *state.first_seen - Millis{1} > from)
    from = *state.first_seen - Millis{1};
  if (state.last_due && *state.last_due > from) from = *state.last_due;
  return from;
}

Result<bool> Bot::EnqueuePromptIn(const config::CampaignConfig& c, const std::string& key,
                                  const std::string& community, int step, Time post,
                                  std::vector<std::string> audience, const std::string& lead,
                                  const std::optional<std::string>& to_user) {
  const config::StepConfig& st = c.steps[static_cast<size_t>(step) % c.steps.size()];
  Prompt p;
  p.id = key;
  p.campaign = c.name;
  p.step = step % static_cast<int>(c.steps.size()) + 1;  // a repeating sequence starts again
  p.network = c.network;
  p.group_id = MakeId(c.network, community);
  p.type = st.kind;
  if (st.correct) p.correct = OptionLabel(*st.correct);
  p.posted_at = post;
  p.closes_at = post + c.open_for;
  p.audience = std::move(audience);
  if (c.Ends()) p.last_step = static_cast<int>(c.steps.size());
  p.spaced = c.spaced.enabled;
  p.is_private = to_user.has_value();
  store::OutboxItem item;
  item.key = key;
  item.network = c.network;
  item.group_id = community;
  item.to_user = to_user;
  item.body = lead.empty() ? st.text : lead + "\n\n" + st.text;
  item.due_at = post;  // later than scheduled when deferred past quiet hours or a holiday
  LL_ASSIGN_OR_RETURN(bool queued, store_.EnqueueOutbox(item));
  if (!queued) return false;
  LL_TRY(store_.UpsertPrompt(p));
  return true;
}

Result<bool> Bot::EnqueuePrompt(const config::CampaignConfig& c, const std::string& key_time,
                                Time post) {
  if (c.spaced.enabled) return EnqueueRound(c, key_time, post);
  // A prompt still waiting to go out (deferred past quiet hours, or due just before the daemon
  // stopped) gives way to this one, which takes its step: a community gets the latest, not a
  // backlog.
  bool superseded = false;
  LL_ASSIGN_OR_RETURN(auto unfinished, store_.UnfinishedOutbox());
  for (const auto& item : unfinished) {
    if (item.state != "pending" || item.network != c.network || item.to_user || item.reply_to)
      continue;
    LL_ASSIGN_OR_RETURN(auto older, store_.GetPrompt(item.key));
    if (!older || older->campaign != c.name || !older->message_id.empty()) continue;
    LL_TRY(store_.MarkOutboxFailed(item.key, "not posted: a later prompt of the campaign is due",
                                   true));
    LL_TRY(store_.DeletePrompt(item.key));
    Logger("bot")->info("campaign {}: prompt {} gives way to a later one", c.name, item.key);
    superseded = true;
  }
  LL_ASSIGN_OR_RETURN(int posted, StepsPosted(c));
  int step = posted - (superseded ? 1 : 0);
  if (c.Ends() && step >= static_cast<int>(c.steps.size())) {
    // The sequence is over: nothing more is posted (said once).
    LL_TRY(store_.UpdateCampaignState(c.name, [&](store::CampaignState& state) {
      if (state.ended_at) return;
      Logger("bot")->info(
          "campaign {}: its {} steps have all been posted; it has ended (give "
          "'repeat: true' to start again from the first)",
          c.name, c.steps.size());
      state.ended_at = post;
    }));
    return false;
  }
  bool any = false;
  for (const auto& community : c.communities) {  // one prompt per community
    LL_ASSIGN_OR_RETURN(bool queued, EnqueuePromptIn(c, PromptKey(c, community, key_time),
                                                     community, step, post, {}, ""));
    any |= queued;
  }
  if (any) {
    LL_TRY(store_.UpdateCampaignState(
        c.name, [&](store::CampaignState& state) { state.steps_posted = step + 1; }));
    ++stats_.enqueued;
  }
  return any;
}

Result<int> Bot::StepsPosted(const config::CampaignConfig& c) const {
  LL_ASSIGN_OR_RETURN(auto state, store_.GetCampaignState(c.name));
  return state.steps_posted;
}

Status Bot::ScheduleAfterJoining(const config::CampaignConfig& c, Time now,
                                 const store::CampaignState& state) {
  auto log = Logger("bot");
  Time from = now - c.catch_up;
  if (c.start && *c.start > from) from = *c.start;
  if (state.first_seen && *state.first_seen > from) from = *state.first_seen;
  std::optional<Time> skip_through = state.skip_through;
  for (const auto& community : c.communities) {
    std::map<std::string, std::vector<const User*>> by_day;  // newcomers by local join date
    LL_ASSIGN_OR_RETURN(auto people, Audience(c, community));
    for (const auto& u : people)
      if (u.joined_at) by_day[JoinDay(c, *u.joined_at)].push_back(&u);
    for (const auto& [day, who] : by_day) {
      // The steps due for that day's newcomers since the last look: after downtime, only the
      // latest is posted, and only while it is open.
      std::optional<size_t> latest;
      for (size_t i = 0; i < c.after_joining.size(); ++i) {
        Time t = DayAfterJoining(c, day, static_cast<int>(i));
        if (t >= from && t <= now && (!c.end || t < *c.end)) latest = i;
      }
      for (size_t i = 0; i < c.after_joining.size(); ++i) {
        Time t = DayAfterJoining(c, day, static_cast<int>(i));
        if (t < from || t > now || (c.end && t >= *c.end)) continue;
        std::string key =
            PromptKey(c, community, "joined:" + day + ":day" + std::to_string(c.after_joining[i]));
        LL_ASSIGN_OR_RETURN(auto queued, store_.GetOutbox(key));
        LL_ASSIGN_OR_RETURN(auto skipped, store_.SkippedPrompt(key));
        if (queued || skipped) continue;
        LL_TRY(store_.Transaction([&]() -> Status {
          std::string why;
          std::optional<Time> post;
          if (skip_through && t <= *skip_through) {
            why = "skipped by an operator";
          } else if (i != *latest) {
            why = "not posted: a later step is due too";
          } else if (now >= t + c.open_for) {
            why = "skipped: closed before it could be posted";
          } else if (!(post = PostTimeSeenAt(c, t, now, &why))) {
            why = "skipped (" + why + ")";
          } else {
            std::vector<std::string> ids;
            std::vector<const User*> named;
            for (const User* u : who) {
              ids.push_back(u->id);
              LL_ASSIGN_OR_RETURN(bool out, OptedOut(u->id));
              if (!out) named.push_back(u);
            }
            std::string lead = (named.empty() ? std::string("For those who joined on ") + day
                                              : "For " + MentionList(named)) +
                               " - day " + std::to_string(c.after_joining[i]) + " after joining:";
            LL_ASSIGN_OR_RETURN(bool queued, EnqueuePromptIn(c, key, community, static_cast<int>(i),
                                                             *post, ids, lead));
            if (queued) ++stats_.enqueued;
            return Status::Ok();
          }
          log->info("campaign {}: prompt {} of {} {}", c.name, key, FormatIso(t), why);
          return store_.SkipPrompt(key, why);
        }));
      }
    }
  }
  return Status::Ok();
}

Status Bot::Schedule() {
  auto log = Logger("bot");
  Time now = clock_.Now();
  for (const auto& c : cfg_.campaigns) {
    // Read once per tick: what follows within the tick writes it, and reads it no more.
    LL_ASSIGN_OR_RETURN(auto state, store_.GetCampaignState(c.name));
    if (Paused(c, state)) continue;
    if (!state.first_seen)
      LL_TRY(store_.UpdateCampaignState(c.name, [&](store::CampaignState& stored) {
        if (!stored.first_seen) stored.first_seen = now;
        state = stored;
      }));
    if (c.relative()) {
      LL_TRY(ScheduleAfterJoining(c, now, state));
      continue;
    }
    Time from = ScheduleFrom(c, now, state);
    std::optional<Time> skip_through = state.skip_through;
    // The times due since the last look. After downtime there may be several: only the latest
    // is posted (a community gets one prompt, not the backlog), and only while it is open.
    std::vector<Time> due;
    for (auto t = c.schedule.Next(c.tz, from); t && *t <= now; t = c.schedule.Next(c.tz, *t)) {
      if (c.end && *t >= *c.end) break;
      due.push_back(*t);
    }
    for (size_t i = 0; i < due.size(); ++i) {
      Time t = due[i];
      LL_TRY(store_.Transaction([&]() -> Status {
        std::string why;
        std::optional<Time> post;
        if (skip_through && t <= *skip_through) {
          log->info("campaign {}: prompt of {} skipped by an operator", c.name, FormatIso(t));
        } else if (i + 1 < due.size()) {
          log->info("campaign {}: prompt of {} not posted: a later one ({}) is due too", c.name,
                    FormatIso(t), FormatIso(due.back()));
        } else if (now - t > c.catch_up || now >= t + c.open_for) {
          log->warn("campaign {}: prompt of {} skipped: {} late, past catch_up or closed", c.name,
                    FormatIso(t), MinutesText(now - t));
        } else if (!(post = PostTimeSeenAt(c, t, now, &why))) {
          log->info("campaign {}: prompt of {} skipped ({})", c.name, FormatIso(t), why);
        } else {
          LL_TRY(EnqueuePrompt(c, FormatIso(t), *post));
        }
        return store_.UpdateCampaignState(c.name,
                                          [&](store::CampaignState& state) { state.last_due = t; });
      }));
    }
  }
  return Status::Ok();
}

Result<std::optional<Time>> Bot::NextAfterJoining(const config::CampaignConfig& c,
                                                  Time after) const {
  std::optional<Time> best;
  std::set<std::string> days;
  LL_ASSIGN_OR_RETURN(auto users, store_.AllUsers());
  for (const auto& u : users)
    if (u.joined_at && !u.is_bot && u.state == "active" && c.InCohort(u.joined_at))
      days.insert(JoinDay(c, *u.joined_at));
  for (const auto& day : days)
    for (size_t i = 0; i < c.after_joining.size(); ++i) {
      Time t = DayAfterJoining(c, day, static_cast<int>(i));
      if (t > after && (!c.end || t < *c.end) && (!best || t < *best)) best = t;
    }
  return best;
}

}  // namespace learnloop::bot
