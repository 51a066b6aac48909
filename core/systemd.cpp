#include "core/systemd.h"

#include <systemd/sd-daemon.h>

#include <cstdint>

namespace learnloop::systemd {

namespace {
void Notify(const std::string& state) { sd_notify(0, state.c_str()); }
}  // namespace

void Ready() { Notify("READY=1"); }

void Status(const std::string& status) {
  std::string one_line = status.substr(0, status.find('\n'));
  Notify("STATUS=" + one_line);
}

void Watchdog() { Notify("WATCHDOG=1"); }

void Stopping() { Notify("STOPPING=1"); }

void Reloading() { Notify("RELOADING=1"); }

std::optional<std::chrono::microseconds> WatchdogInterval() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
  return std::chrono::microseconds{static_cast<int64_t>(usec)};
}

}  // namespace learnloop::systemd
