// learnloop-api-bench: requests per 1,000 messages against the fewest the page sizes allow,
// and the backfill's request rate against the documented ceiling, for Viva Engage and Teams.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench/api_efficiency.h"
#include "core/log.h"

int main(int argc, char** argv) {
  int people = 2000, days = 60;
  uint64_t seed = 7;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--people") people = std::atoi(argv[i + 1]);
    if (a == "--days") days = std::atoi(argv[i + 1]);
    if (a == "--seed") seed = std::strtoull(argv[i + 1], nullptr, 10);
  }
  learnloop::SetLogLevel("warn");
  std::printf("API efficiency: backfill of %d days of a %d-person organisation (esn-sim)\n", days,
              people);
  std::printf("%-7s %9s %9s %9s %7s %9s %9s %7s %6s %5s   %s\n", "network", "messages", "requests",
              "minimum", "ratio", "req/1000", "sim secs", "rate", "429s", "viol",
              "read vs esn-sim (messages, likes; missing, extra)");
  int failures = 0;
  for (auto f : {learnloop::bench::MeasureYammer(people, days, seed),
                 learnloop::bench::MeasureTeams(people, days, seed)}) {
    if (!f.error.empty()) {
      std::printf("%-7s failed: %s\n", f.network.c_str(), f.error.c_str());
      ++failures;
      continue;
    }
    double ratio = f.minimum ? static_cast<double>(f.requests) / f.minimum : 0;
    double per_1000 = f.messages ? 1000.0 * f.requests / f.messages : 0;
    // A full window's worth may go at once, so the time the ceiling allows is the elapsed
    // time plus one window.
    double rate = f.budget_requests / (f.ceiling_rps * (f.seconds + f.window_seconds));
    std::printf(
        "%-7s %9lld %9lld %9lld %6.3fx %9.1f %9.0f %6.1f%% %6lld %5lld   %lld/%lld, %lld/%lld; "
        "%lld, %lld\n",
        f.network.c_str(), static_cast<long long>(f.messages), static_cast<long long>(f.requests),
        static_cast<long long>(f.minimum), ratio, per_1000, f.seconds, 100 * rate,
        static_cast<long long>(f.throttled), static_cast<long long>(f.violations),
        static_cast<long long>(f.stored_messages), static_cast<long long>(f.truth_messages),
        static_cast<long long>(f.stored_likes), static_cast<long long>(f.truth_likes),
        static_cast<long long>(f.missing), static_cast<long long>(f.extra));
    if (f.missing || f.extra || f.violations) ++failures;
  }
  std::printf(
      "ratio: requests / fewest possible for the page sizes (goal <= 1.1x); rate: the\n"
      "backfill's requests (Teams: and subscriptions) / what the documented ceiling allows in\n"
      "its simulated time plus one window (goal >= 90%%); viol: requests the simulator saw\n"
      "beyond a documented limit (0); read vs esn-sim: stored / esn-sim's messages and likes\n"
      "after the backfill and a sync until caught up (Teams: and an hour of change\n"
      "notifications), with those missing or extra (both must be 0).\n");
  return failures ? 1 : 0;
}
