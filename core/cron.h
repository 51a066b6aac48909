#pragma once
// Cron-like schedules ("minute hour day-of-month month day-of-week") evaluated in an IANA time
// zone, so a 09:00 prompt stays at 09:00 local across DST changes.
#include <bitset>
#include <optional>
#include <string>

#include "core/result.h"
#include "core/time.h"

namespace learnloop {

class CronSchedule {
 public:
  // Fields accept *, numbers, ranges (1-5), lists (1,3,5), steps (*/15, 8-18/2) and names
  // (MON..SUN, JAN..DEC). Day-of-week 0 and 7 are Sunday. When both day fields are restricted,
  // a day matches either (as in Vixie cron).
  static Result<CronSchedule> Parse(const std::string& spec);

  // The first scheduled instant strictly after `after`. A local time inside a DST gap runs at
  // the first instant after the gap; a repeated local hour runs once, at its first occurrence.
  std::optional<Time> Next(TimeZone tz, Time after) const;
  const std::string& spec() const { return spec_; }

 private:
  std::string spec_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> dom_;
  std::bitset<13> months_;
  std::bitset<7> dow_;
  bool dom_star_ = true;
  bool dow_star_ = true;
};

}  // namespace learnloop
