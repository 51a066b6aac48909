#include "bot/schedule.h"

#include <algorithm>

namespace learnloop::bot {

namespace {

std::string LocalDate(TimeZone tz, Time t) { return FormatLocal(tz, t).substr(0, 10); }

int LocalMinute(TimeZone tz, Time t) {
  std::string s = FormatLocal(tz, t);  // "2026-11-23 09:00 CET"
  return std::stoi(s.substr(11, 2)) * 60 + std::stoi(s.substr(14, 2));
}

bool InQuiet(const std::pair<int, int>& q, int minute) {
  return q.first < q.second ? minute >= q.first && minute < q.second
                            : minute >= q.first || minute < q.second;
}

}  // namespace

std::optional<Time> PostTime(const config::CampaignConfig& c, Time t, std::string* why) {
  // Each step moves t forward (to the next minute boundary that may be free); a week of
  // holidays and quiet hours is crossed within a few thousand steps at most.
  for (int guard = 0; guard < 60 * 24 * 40; ++guard) {
    std::string day = LocalDate(c.tz, t);
    bool holiday = std::find(c.holidays.begin(), c.holidays.end(), day) != c.holidays.end();
    bool quiet = c.quiet_hours && InQuiet(*c.quiet_hours, LocalMinute(c.tz, t));
    if (!holiday && !quiet) return t;
    if (c.quiet_skip) {
      if (why) *why = holiday ? "holiday " + day : "quiet hours";
      return std::nullopt;
    }
    // Deferred: try again a minute later, on the minute (cheap next to a day's minutes, and
    // correct across DST changes since every instant is read in the zone).
    t = std::chrono::floor<std::chrono::minutes>(t) + std::chrono::minutes{1};
    if (holiday && LocalDate(c.tz, t) == day) {
      // Still the holiday: jump close to its end rather than walking the whole day.
      int minute = LocalMinute(c.tz, t);
      if (minute < 23 * 60) t += std::chrono::minutes{23 * 60 - minute};
    }
  }
  if (why) *why = "no free time within 40 days";
  return std::nullopt;
}

std::optional<Time> PostTimeSeenAt(const config::CampaignConfig& c, Time t, Time now,
                                   std::string* why) {
  auto post = PostTime(c, t, why);
  if (!post || *post >= now) return post;
  auto late = PostTime(c, now, why);
  if (!late) return late;
  if (*late - t > c.catch_up || *late >= t + c.open_for) {
    if (why) *why = "it could go out only at " + FormatIso(*late) + ", past catch_up or closed";
    return std::nullopt;
  }
  return late;
}

std::string JoinDay(const config::CampaignConfig& c, Time joined) {
  return LocalDate(c.tz, joined);
}

Time DayAfterJoining(const config::CampaignConfig& c, const std::string& join_day, int step) {
  auto day = ParseIso(join_day);  // midnight UTC of that date: its day number
  auto days = std::chrono::floor<std::chrono::days>(day.value_or(Time{}).time_since_epoch());
  days += std::chrono::days{c.after_joining.at(static_cast<size_t>(step))};
  std::chrono::local_seconds local{std::chrono::duration_cast<std::chrono::seconds>(days) +
                                   std::chrono::minutes{c.at_minute}};
  return LocalToUtc(c.tz, local);
}

std::vector<Occurrence> Occurrences(const config::CampaignConfig& c, Time from, Time to,
                                    int first_step) {
  std::vector<Occurrence> out;
  if (c.relative()) {
    std::string day = JoinDay(c, from);
    for (size_t i = 0; i < c.after_joining.size(); ++i) {
      Time t = DayAfterJoining(c, day, static_cast<int>(i));
      if (t < from || t > to || (c.end && t >= *c.end)) continue;
      Occurrence o;
      o.scheduled = t;
      o.post_at = PostTime(c, t, &o.why_skipped);
      o.step = static_cast<int>(i);
      out.push_back(std::move(o));
    }
    return out;
  }
  int step = first_step;
  const int steps = static_cast<int>(std::max<size_t>(1, c.steps.size()));
  for (auto t = c.schedule.Next(c.tz, from); t && *t <= to; t = c.schedule.Next(c.tz, *t)) {
    if (c.start && *t < *c.start) continue;
    if (c.end && *t >= *c.end) break;
    if (c.Ends() && step >= steps) break;  // the sequence has ended
    Occurrence o;
    o.scheduled = *t;
    o.post_at = PostTime(c, *t, &o.why_skipped);
    o.step = step % steps;
    if (o.post_at) ++step;
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace learnloop::bot
