#include "core/cron.h"

#include <date/date.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <sstream>
#include <vector>

namespace learnloop {

namespace {

int NameToNumber(const std::string& s, int lo) {
  static const std::array<const char*, 7> kDays = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};
  static const std::array<const char*, 12> kMonths = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                      "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
  std::string u;
  for (char c : s) u.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  if (lo == 0)
    for (size_t i = 0; i < kDays.size(); ++i)
      if (u == kDays[i]) return static_cast<int>(i);
  if (lo == 1)
    for (size_t i = 0; i < kMonths.size(); ++i)
      if (u == kMonths[i]) return static_cast<int>(i) + 1;
  if (u.empty() || u.size() > 4) return -1;
  for (char c : u)
    if (!std::isdigit(static_cast<unsigned char>(c))) return -1;
  return std::stoi(u);
}

// Parses one field into `out` (bit i = value i). Returns an error message or "".
std::string ParseField(const std::string& field, int lo, int hi, bool names_month, bool names_day,
                       std::vector<bool>& out, bool& star) {
  out.assign(hi + 1, false);
  star = field == "*";
  std::stringstream ss(field);
  std::string part;
  while (std::getline(ss, part, ',')) {
    if (part.empty()) return "empty list item";
    int step = 1;
    auto slash = part.find('/');
    std::string range = part.substr(0, slash);
    if (slash != std::string::npos) {
      std::string st = part.substr(slash + 1);
      int v = NameToNumber(st, -1);
      if (v <= 0) return "bad step '" + st + "'";
      step = v;
    }
    int a, b;
    if (range == "*") {
      a = lo;
      b = hi;
    } else {
      auto dash = range.find('-');
      int name_lo = names_day ? 0 : (names_month ? 1 : -1);
      a = NameToNumber(range.substr(0, dash), name_lo);
      b = dash == std::string::npos ? a : NameToNumber(range.substr(dash + 1), name_lo);
      if (a < 0 || b < 0) return "bad value '" + range + "'";
      if (slash != std::string::npos && dash == std::string::npos) b = hi;
    }
    if (a < lo || b > hi || a > b)
      return "value out of range in '" + part + "' (allowed " + std::to_string(lo) + "-" +
             std::to_string(hi) + ")";
    for (int v = a; v <= b; v += step) out[v] = true;
  }
  return "";
}

}  // namespace

Result<CronSchedule> CronSchedule::Parse(const std::string& spec) {
  std::stringstream ss(spec);
  std::vector<std::string> f;
  std::string w;
  while (ss >> w) f.push_back(w);
  if (f.size() != 5)
    return Result<CronSchedule>::Fail(
        "schedule '" + spec + "' must have 5 fields: minute hour day-of-month month day-of-week");
  CronSchedule c;
  c.spec_ = spec;
  static const char* kNames[] = {"minute", "hour", "day-of-month", "month", "day-of-week"};
  const int lo[] = {0, 0, 1, 1, 0};
  const int hi[] = {59, 23, 31, 12, 7};
  std::vector<bool> bits;
  for (int i = 0; i < 5; ++i) {
    bool star = false;
    std::string err = ParseField(f[i], lo[i], hi[i], i == 3, i == 4, bits, star);
    if (!err.empty())
      return Result<CronSchedule>::Fail("schedule '" + spec + "': " + kNames[i] + " field: " + err);
    for (int v = lo[i]; v <= hi[i]; ++v) {
      if (!bits[v]) continue;
      switch (i) {
        case 0:
          c.minutes_.set(v);
          break;
        case 1:
          c.hours_.set(v);
          break;
        case 2:
          c.dom_.set(v);
          break;
        case 3:
          c.months_.set(v);
          break;
        case 4:
          c.dow_.set(v % 7);
          break;
      }
    }
    (void)star;
    // As in Vixie cron, a day field that starts with '*' does not restrict the day.
    if (i == 2) c.dom_star_ = f[i][0] == '*';
    if (i == 4) c.dow_star_ = f[i][0] == '*';
  }
  return c;
}

std::optional<Time> CronSchedule::Next(TimeZone tz, Time after) const {
  auto local_after = UtcToLocal(tz, after);
  auto day = std::chrono::floor<date::days>(local_after.time_since_epoch());
  // Start a day early so a time that moved across midnight by a DST shift is not missed.
  date::sys_days d{day - date::days{1}};
  for (int i = 0; i < 366 * 8; ++i, d += date::days{1}) {
    date::year_month_day ymd{d};
    if (!months_.test(static_cast<unsigned>(ymd.month()))) continue;
    bool dom_ok = dom_.test(static_cast<unsigned>(ymd.day()));
    bool dow_ok = dow_.test(date::weekday{d}.c_encoding());
    bool day_ok = (dom_star_ || dow_star_) ? (dom_ok && dow_ok) : (dom_ok || dow_ok);
    if (!day_ok) continue;
    for (int h = 0; h < 24; ++h) {
      if (!hours_.test(h)) continue;
      for (int m = 0; m < 60; ++m) {
        if (!minutes_.test(m)) continue;
        std::chrono::local_seconds l{std::chrono::seconds{d.time_since_epoch()} +
                                     std::chrono::hours{h} + std::chrono::minutes{m}};
        Time t = LocalToUtc(tz, l);
        if (t > after) return t;
      }
    }
  }
  return std::nullopt;
}

}  // namespace learnloop
