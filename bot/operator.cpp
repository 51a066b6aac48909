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

Result<bool> Bot::Paused(const config::CampaignConfig& c) const {
  // An operator's pause (learnloop campaigns pause) lasts until resumed, whatever the file says.
  LL_ASSIGN_OR_RETURN(auto state, store_.GetCampaignState(c.name));
  return Paused(c, state);
}

Status Bot::SetPaused(const std::string& campaign, bool paused) {
  if (!FindCampaign(campaign)) return Status::Fail("no campaign named '" + campaign + "'");
  return store_.UpdateCampaignState(campaign,
                                    [&](store::CampaignState& state) { state.paused = paused; });
}

Result<Time> Bot::SkipNext(const std::string& campaign) {
  const config::CampaignConfig* c = FindCampaign(campaign);
  if (!c) return Result<Time>::Fail("no campaign named '" + campaign + "'");
  Time now = clock_.Now();
  LL_ASSIGN_OR_RETURN(auto state, store_.GetCampaignState(campaign));
  Time from = std::max(ScheduleFrom(*c, now, state), now);
  if (auto t = state.skip_through; t && *t > from) from = *t;
  std::optional<Time> next;
  if (c->relative()) {
    LL_ASSIGN_OR_RETURN(next, NextAfterJoining(*c, from));
  } else {
    next = c->schedule.Next(c->tz, from);
  }
  if (!next || (c->end && *next >= *c->end))
    return Result<Time>::Fail("campaign '" + campaign + "' has no prompt left to skip");
  LL_TRY(store_.UpdateCampaignState(
      campaign, [&](store::CampaignState& stored) { stored.skip_through = next; }));
  return *next;
}

Result<std::string> Bot::PostNow(const std::string& campaign) {
  const config::CampaignConfig* c = FindCampaign(campaign);
  if (!c) return Result<std::string>::Fail("no campaign named '" + campaign + "'");
  if (c->relative())
    return Result<std::string>::Fail("campaign '" + campaign +
                                     "' posts on days after joining, to each day's newcomers: "
                                     "there is no next prompt to post now");
  Time now = clock_.Now();
  std::string key_time = "now:" + FormatIsoMillis(now);
  bool any = false;
  LL_TRY(store_.Transaction([&]() -> Status {
    LL_ASSIGN_OR_RETURN(any, EnqueuePrompt(*c, key_time, now));
    return Status::Ok();
  }));
  if (!any) return Result<std::string>::Fail("nothing was queued");
  return "prompt:" + c->name + ":" + key_time;
}

}  // namespace learnloop::bot
