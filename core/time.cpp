#include "core/time.h"

#include <date/date.h>
#include <date/iso_week.h>
#include <date/tz.h>

#include <cctype>
#include <cstdio>

namespace learnloop {

namespace {

bool ReadInt(std::string_view s, size_t pos, size_t len, int& out) {
  if (pos + len > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + len; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

std::optional<Time> MakeUtc(int y, int mo, int d, int h, int mi, int sec, int64_t ms) {
  date::year_month_day ymd{date::year{y}, date::month{static_cast<unsigned>(mo)},
                           date::day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  auto days = date::sys_days{ymd};
  return Time{std::chrono::duration_cast<Millis>(days.time_since_epoch()) + std::chrono::hours{h} +
              std::chrono::minutes{mi} + std::chrono::seconds{sec} + Millis{ms}};
}

}  // namespace

Time FromUnixMillis(int64_t ms) { return Time{Millis{ms}}; }
int64_t ToUnixMillis(Time t) { return t.time_since_epoch().count(); }

std::string FormatIso(Time t) {
  auto ms = t.time_since_epoch().count() % 1000;
  if (ms < 0) ms += 1000;
  if (ms == 0) return date::format("%FT%TZ", std::chrono::floor<std::chrono::seconds>(t));
  return date::format("%FT%TZ", t);
}

std::string FormatIsoMillis(Time t) { return date::format("%FT%TZ", t); }

std::optional<Time> ParseIso(std::string_view s) {
  int y, mo, d, h = 0, mi = 0, sec = 0;
  if (!ReadInt(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !ReadInt(s, 5, 2, mo) ||
      s[7] != '-' || !ReadInt(s, 8, 2, d))
    return std::nullopt;
  if (s.size() == 10) return MakeUtc(y, mo, d, 0, 0, 0, 0);
  if (s.size() < 19 || (s[10] != 'T' && s[10] != ' ') || !ReadInt(s, 11, 2, h) || s[13] != ':' ||
      !ReadInt(s, 14, 2, mi) || s[16] != ':' || !ReadInt(s, 17, 2, sec))
    return std::nullopt;
  size_t pos = 19;
  int64_t ms = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
      if (digits < 3) ms = ms * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (int i = digits; i < 3; ++i) ms *= 10;
  }
  auto t = MakeUtc(y, mo, d, h, mi, sec, ms);
  if (!t) return std::nullopt;
  if (pos == s.size()) return t;  // no offset: taken as UTC
  if (s[pos] == 'Z' && pos + 1 == s.size()) return t;
  if ((s[pos] == '+' || s[pos] == '-') && s.size() == pos + 6 && s[pos + 3] == ':') {
    int oh, om;
    if (!ReadInt(s, pos + 1, 2, oh) || !ReadInt(s, pos + 4, 2, om)) return std::nullopt;
    auto off = std::chrono::hours{oh} + std::chrono::minutes{om};
    return s[pos] == '+' ? *t - off : *t + off;
  }
  return std::nullopt;
}

std::optional<Time> StartOfLocalDay(TimeZone tz, std::string_view date, int days) {
  if (date.size() != 10) return std::nullopt;
  auto day = ParseIso(date);  // midnight UTC of that date: its day number
  if (!day) return std::nullopt;
  auto d = std::chrono::floor<std::chrono::days>(day->time_since_epoch()) + std::chrono::days{days};
  return LocalToUtc(
      tz, std::chrono::local_seconds{std::chrono::duration_cast<std::chrono::seconds>(d)});
}

std::optional<Time> ParseYammerTime(std::string_view s) {
  int y, mo, d, h, mi, sec, oh, om;
  if (s.size() != 25 || !ReadInt(s, 0, 4, y) || s[4] != '/' || !ReadInt(s, 5, 2, mo) ||
      s[7] != '/' || !ReadInt(s, 8, 2, d) || s[10] != ' ' || !ReadInt(s, 11, 2, h) ||
      s[13] != ':' || !ReadInt(s, 14, 2, mi) || s[16] != ':' || !ReadInt(s, 17, 2, sec) ||
      s[19] != ' ' || (s[20] != '+' && s[20] != '-') || !ReadInt(s, 21, 2, oh) ||
      !ReadInt(s, 23, 2, om))
    return std::nullopt;
  auto t = MakeUtc(y, mo, d, h, mi, sec, 0);
  if (!t) return std::nullopt;
  auto off = std::chrono::hours{oh} + std::chrono::minutes{om};
  return s[20] == '+' ? *t - off : *t + off;
}

std::string FormatYammerTime(Time t) {
  return date::format("%Y/%m/%d %H:%M:%S +0000", std::chrono::floor<std::chrono::seconds>(t));
}

std::optional<Millis> ParseDuration(std::string_view s) {
  if (s.empty()) return std::nullopt;
  Millis total{0};
  size_t i = 0;
  while (i < s.size()) {
    int64_t n = 0;
    size_t start = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      n = n * 10 + (s[i] - '0');
      if (n > 1'000'000'000) return std::nullopt;
      ++i;
    }
    if (i == start || i == s.size()) return std::nullopt;
    // No sum past a century (n is at most 10^9, so no term overflows either).
    if (total > std::chrono::hours{24 * 366 * 100}) return std::nullopt;
    switch (s[i]) {
      case 's':
        total += std::chrono::seconds{n};
        break;
      case 'm':
        total += std::chrono::minutes{n};
        break;
      case 'h':
        total += std::chrono::hours{n};
        break;
      case 'd':
        total += std::chrono::hours{24 * n};
        break;
      case 'w':
        total += std::chrono::hours{24 * 7 * n};
        break;
      default:
        return std::nullopt;
    }
    ++i;
  }
  if (total > std::chrono::hours{24 * 366 * 100}) return std::nullopt;
  return total;
}

Result<TimeZone> FindZone(const std::string& name) {
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    return Result<TimeZone>::Fail("unknown time zone '" + name +
                                  "' (expected an IANA name such as Europe/Berlin)");
  }
}

Time LocalToUtc(TimeZone tz, std::chrono::local_seconds local) {
  date::local_seconds l{local.time_since_epoch()};
  auto info = tz->get_info(l);
  switch (info.result) {
    case date::local_info::unique:
    case date::local_info::ambiguous: {
      auto sys = date::sys_seconds{l.time_since_epoch() - info.first.offset};
      return Time{std::chrono::duration_cast<Millis>(sys.time_since_epoch())};
    }
    case date::local_info::nonexistent:
    default:
      return Time{std::chrono::duration_cast<Millis>(info.first.end.time_since_epoch())};
  }
}

std::chrono::local_seconds UtcToLocal(TimeZone tz, Time t) {
  auto s = std::chrono::floor<std::chrono::seconds>(t);
  auto info = tz->get_info(date::sys_seconds{s.time_since_epoch()});
  return std::chrono::local_seconds{s.time_since_epoch() + info.offset};
}

std::string FormatLocal(TimeZone tz, Time t) {
  auto s = std::chrono::floor<std::chrono::seconds>(t);
  date::zoned_seconds z{tz, date::sys_seconds{s.time_since_epoch()}};
  return date::format("%Y-%m-%d %H:%M %Z", z);
}

std::string IsoWeek::ToString() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-W%02u", year, week);
  return buf;
}

std::optional<IsoWeek> IsoWeek::Parse(std::string_view s) {
  int y, w;
  if (s.size() != 8 || !ReadInt(s, 0, 4, y) || s[4] != '-' || (s[5] != 'W' && s[5] != 'w') ||
      !ReadInt(s, 6, 2, w) || w < 1)
    return std::nullopt;
  auto last = iso_week::year_weeknum_weekday{iso_week::year{y} / iso_week::last / iso_week::mon};
  if (static_cast<unsigned>(w) > static_cast<unsigned>(last.weeknum())) return std::nullopt;
  return IsoWeek{y, static_cast<unsigned>(w)};
}

namespace {
date::sys_days MondayOf(IsoWeek w) {
  return date::sys_days{iso_week::year{w.year} / iso_week::weeknum{w.week} / iso_week::mon};
}
IsoWeek FromDays(date::sys_days d) {
  iso_week::year_weeknum_weekday iw{d};
  return IsoWeek{static_cast<int>(iw.year()), static_cast<unsigned>(iw.weeknum())};
}
}  // namespace

IsoWeek IsoWeek::Previous() const { return FromDays(MondayOf(*this) - date::days{7}); }
IsoWeek IsoWeek::Next() const { return FromDays(MondayOf(*this) + date::days{7}); }

WeekBounds BoundsOf(TimeZone tz, IsoWeek w) {
  auto monday = MondayOf(w);
  std::chrono::local_seconds from{std::chrono::seconds{monday.time_since_epoch()}};
  std::chrono::local_seconds to{from + std::chrono::hours{24 * 7}};
  return WeekBounds{LocalToUtc(tz, from), LocalToUtc(tz, to)};
}

IsoWeek WeekOf(TimeZone tz, Time t) {
  auto local = UtcToLocal(tz, t);
  auto d = date::sys_days{std::chrono::floor<date::days>(local.time_since_epoch())};
  return FromDays(d);
}

}  // namespace learnloop
