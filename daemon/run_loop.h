#pragma once
#include <cstdint>
#include <functional>
#include <memory>

#include "config/config.h"
#include "core/clock.h"
#include "daemon/daemon.h"

namespace learnloop::daemon {

// Reads the configuration again for a reload: the new one, or nullptr after logging why not.
using ConfigLoader = std::function<std::unique_ptr<config::Config>()>;

// Real time: a Boost.Asio event loop whose timer wakes the daemon when work is due. It tells
// systemd it is ready (the daemon is open), what it does (STATUS=) and that it is alive
// (WATCHDOG=1, only while the work moves); SIGHUP reloads the configuration between two ticks;
// SIGTERM or SIGINT interrupt whatever is waiting and stop the loop within 2 s, saying what is
// left unfinished. Returns the exit code.
int RunRealtime(Daemon& d, Clock& clock, ConfigLoader reload = nullptr);

// Simulated time: jumps the manual clock from one due time to the next until `until`. Returns
// the number of jumps (the daemon's wakeups). `reload_requested`, when set, is checked (and
// cleared) between ticks.
int64_t RunSimulated(Daemon& d, ManualClock& clock, Time until,
                     std::atomic<bool>* reload_requested = nullptr, ConfigLoader reload = nullptr);

}  // namespace learnloop::daemon
