// learnloop-footprint-bench: resident memory, CPU time and wakeups of a daemon with five
// networks and twenty campaigns over a simulated day, and of `learnloop run` idling on the wall
// clock.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench/footprint.h"
#include "core/log.h"

int main(int argc, char** argv) {
  int people = 300, idle_seconds = 60;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--people") people = std::atoi(argv[i + 1]);
    if (std::string(argv[i]) == "--idle-seconds") idle_seconds = std::atoi(argv[i + 1]);
  }
  learnloop::SetLogLevel("warn");
  auto f = learnloop::bench::MeasureFootprint(people);
  if (!f.error.empty()) {
    std::printf("footprint: %s\n", f.error.c_str());
    return 1;
  }
  std::printf(
      "Daemon footprint: %d networks, %d campaigns, a simulated day of a %d-person organisation\n"
      "  messages in the store   %lld\n  prompts posted          %lld\n"
      "  wakeups                 %lld (%.1f an hour)\n  CPU time                %.2f s\n"
      "  resident memory         %.1f MiB (peak %.1f MiB)\n"
      "Goals: <= 40 MB resident; no busy waiting (the daemon sleeps until its next due time).\n",
      f.networks, f.campaigns, people, static_cast<long long>(f.messages),
      static_cast<long long>(f.prompts), static_cast<long long>(f.wakeups), f.wakeups / 24.0,
      f.cpu_seconds, f.rss_mib, f.peak_rss_mib);
  auto idle = learnloop::bench::MeasureIdleProcess(people, 20, idle_seconds);
  if (!idle.error.empty()) {
    std::printf("idle process: %s\n", idle.error.c_str());
    return 1;
  }
  std::printf(
      "`learnloop run` as its own process, on the wall clock, %.0f s after its first 20 s:\n"
      "  CPU time                %.2f s (%.3f %% of a core)\n"
      "  context switches        %lld (%.1f a second, all threads)\n"
      "  resident memory         %.1f MiB\n",
      idle.seconds, idle.cpu_seconds, 100 * idle.cpu_seconds / idle.seconds,
      static_cast<long long>(idle.context_switches), idle.context_switches / idle.seconds,
      idle.rss_mib);
  return 0;
}
