#pragma once
// What an idle daemon costs: resident memory, CPU time and wakeups of a daemon following five
// networks with twenty campaigns over a simulated day, against esn-sim.
#include <cstdint>
#include <string>

namespace learnloop::bench {

struct FootprintFigures {
  int networks = 0, campaigns = 0;
  int64_t messages = 0;     // in the store at the end of the day
  int64_t prompts = 0;      // prompts posted during the day
  double cpu_seconds = 0;   // user + system CPU time of the simulated day
  int64_t wakeups = 0;      // times the daemon woke up during the day
  double rss_mib = 0;       // resident memory at the end of the day
  double peak_rss_mib = 0;  // highest resident memory of the process
  std::string error;
};

// A day of an organisation of `people` on esn-sim: three Viva Engage networks and two Teams
// networks, four campaigns on each, the daemon on a manual clock the simulator follows (each
// wakeup is one sleep of the daemon's loop until its next due time).
FootprintFigures MeasureFootprint(int people);

struct IdleFigures {
  double seconds = 0;            // measured over
  double cpu_seconds = 0;        // user + system CPU time of all its threads meanwhile
  int64_t context_switches = 0;  // of all its threads meanwhile (each sleep that ends is one)
  double rss_mib = 0;            // resident memory at the end
  std::string error;
};

// The same five networks and twenty campaigns run by `learnloop run` as a process of its own,
// against esn-sim following the wall clock: after `settle` seconds (its first polls), what it
// uses over the next `seconds`.
IdleFigures MeasureIdleProcess(int people, int settle, int seconds);

}  // namespace learnloop::bench
