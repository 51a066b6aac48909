#pragma once
// The one wrapper around libsystemd: the service manager's notifications (sd_notify(3)). Each
// call does nothing when the process was not started by systemd with NOTIFY_SOCKET set.
#include <chrono>
#include <optional>
#include <string>

namespace learnloop::systemd {

void Ready();                            // READY=1
void Status(const std::string& status);  // STATUS=…
void Watchdog();                         // WATCHDOG=1
void Stopping();                         // STOPPING=1
void Reloading();                        // RELOADING=1 (READY=1 follows)
// The watchdog interval the service manager expects WATCHDOG=1 within (WATCHDOG_USEC), when it
// has one for this process.
std::optional<std::chrono::microseconds> WatchdogInterval();

}  // namespace learnloop::systemd
