#pragma once
// Whether the daemon's work is moving: the loop marks when a step starts and ends, the work
// beats as it goes (each request sent or answered, each page stored), and a wait on the clock
// (a rate limit, a back-off) counts as moving. A step that neither beats nor waits for longer
// than the watchdog interval is stuck: /healthz says so and systemd's watchdog is not fed.
#include <chrono>

namespace learnloop::heartbeat {

void Beat();
// A step of the loop starts (true) or ends (false).
void SetBusy(bool busy);
// While one lives, the step waits on the clock on purpose.
class Waiting {
 public:
  Waiting();
  ~Waiting();
  Waiting(const Waiting&) = delete;
  Waiting& operator=(const Waiting&) = delete;
};
// How long the running step has gone without a beat and without waiting (zero when no step
// runs, or it waits).
std::chrono::milliseconds Stalled();

}  // namespace learnloop::heartbeat
