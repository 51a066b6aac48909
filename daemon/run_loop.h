#pragma once
#include <cstdint>

#include "core/clock.h"
#include "daemon/daemon.h"

namespace learnloop::daemon {

// Real time: a Boost.Asio event loop whose timer wakes the daemon when work is due; SIGTERM or
// SIGINT interrupt whatever is waiting and stop the loop cleanly. Returns the exit code.
int RunRealtime(Daemon& d, Clock& clock);

// Simulated time: jumps the manual clock from one due time to the next until `until`. Returns
// the number of jumps (the daemon's wakeups).
int64_t RunSimulated(Daemon& d, ManualClock& clock, Time until);

}  // namespace learnloop::daemon
