#pragma once
// Time points, the formats the ESNs and our export use, and ISO weeks in an IANA time zone.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace date {
class time_zone;
}

namespace learnloop {

using Millis = std::chrono::milliseconds;
using Time = std::chrono::sys_time<Millis>;

Time FromUnixMillis(int64_t ms);
int64_t ToUnixMillis(Time t);

// ISO 8601 in UTC with a Z; fractional digits only when the time has them.
std::string FormatIso(Time t);
// Always with three fractional digits, as Microsoft Graph writes times.
std::string FormatIsoMillis(Time t);
// Accepts YYYY-MM-DDTHH:MM:SS[.fff][Z|+HH:MM|-HH:MM] and a bare date YYYY-MM-DD (midnight UTC).
std::optional<Time> ParseIso(std::string_view s);
// Yammer v1: "YYYY/MM/DD HH:MM:SS +0000".
std::optional<Time> ParseYammerTime(std::string_view s);
std::string FormatYammerTime(Time t);
// Durations written as 90s, 15m, 2h, 3d, 1w (or combinations such as 1h30m).
std::optional<Millis> ParseDuration(std::string_view s);

using TimeZone = const date::time_zone*;
// Looks the IANA name up in the system's zoneinfo; an error names the zone.
Result<TimeZone> FindZone(const std::string& name);

// A local wall-clock time as UTC: a time in a gap (clock moved forward) is the first instant
// after the gap; an ambiguous time (clock moved back) is the earlier of the two.
Time LocalToUtc(TimeZone tz, std::chrono::local_seconds local);
std::chrono::local_seconds UtcToLocal(TimeZone tz, Time t);
std::string FormatLocal(TimeZone tz, Time t);  // "2026-11-23 09:00 CET"
// The first instant of a local date (YYYY-MM-DD) plus `days` days, in UTC (a midnight that does
// not exist is the first instant of that day); nullopt for no such date (2026-02-31).
std::optional<Time> StartOfLocalDay(TimeZone tz, std::string_view date, int days = 0);

struct IsoWeek {
  int year = 0;
  unsigned week = 0;
  std::string ToString() const;  // 2026-W47
  static std::optional<IsoWeek> Parse(std::string_view s);
  IsoWeek Previous() const;
  IsoWeek Next() const;
  auto operator<=>(const IsoWeek&) const = default;
};

struct WeekBounds {
  Time from;  // Monday 00:00 local, inclusive
  Time to;    // next Monday 00:00 local, exclusive
};
WeekBounds BoundsOf(TimeZone tz, IsoWeek w);
IsoWeek WeekOf(TimeZone tz, Time t);

}  // namespace learnloop
