// Cron schedules, and the next times they give across a year in a zone with DST changes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/cron.h"
#include "core/time.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace learnloop;
  const std::string spec(reinterpret_cast<const char*>(data), size);
  auto s = CronSchedule::Parse(spec);
  if (!s.ok()) return 0;
  static const TimeZone tz = *FindZone("Europe/Berlin");
  Time t = *ParseIso("2026-03-28T00:00:00Z");
  for (int i = 0; i < 20; ++i) {
    auto next = s->Next(tz, t);
    if (!next) break;
    if (*next <= t) __builtin_trap();  // strictly after, always
    t = *next;
  }
  return 0;
}
