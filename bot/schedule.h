#pragma once
// When a campaign's prompts go out: its cron times in its time zone, moved past quiet hours
// and holidays (or skipped, as the campaign says).
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"

namespace learnloop::bot {

// When a prompt scheduled at `t` is posted: `t` itself, the end of the quiet hours or holiday
// it falls in (defer), or nullopt (skip; `why` says which).
std::optional<Time> PostTime(const config::CampaignConfig& c, Time t, std::string* why = nullptr);
// The same, looked at `now`: when that time has passed (the daemon was down), as soon as the
// campaign lets it go out from now, and only while that is within catch_up of `t` and before
// it would close (nullopt otherwise, `why` says so).
std::optional<Time> PostTimeSeenAt(const config::CampaignConfig& c, Time t, Time now,
                                   std::string* why = nullptr);

struct Occurrence {
  Time scheduled{};
  std::optional<Time> post_at;  // nullopt: skipped
  std::string why_skipped;
  int step = 0;  // 0-based index into the campaign's steps (what would be posted)
};

// Days after joining: the local date (YYYY-MM-DD, the campaign's zone) someone joined, and
// when step `step` is due for the people who joined that day (that many days later, at the
// campaign's `at` local time; a time in a DST gap moves to the gap's end).
std::string JoinDay(const config::CampaignConfig& c, Time joined);
Time DayAfterJoining(const config::CampaignConfig& c, const std::string& join_day, int step);

// The campaign's occurrences scheduled in (from, to], as the daemon would post them (a skipped
// occurrence does not use up a step). A campaign of days after joining shows them for someone
// who joins on the local date of `from`.
std::vector<Occurrence> Occurrences(const config::CampaignConfig& c, Time from, Time to,
                                    int first_step = 0);

}  // namespace learnloop::bot
