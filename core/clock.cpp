#include "core/clock.h"

#include "core/heartbeat.h"

namespace learnloop {

Time SystemClock::Now() const {
  return std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now());
}

bool SystemClock::SleepUntil(Time t) {
  heartbeat::Waiting waiting;  // a wait on purpose: not stuck
  std::unique_lock lock(mu_);
  cv_.wait_until(lock, std::chrono::system_clock::time_point(t),
                 [&] { return interrupted_.load(); });
  return !interrupted_.load();
}

void SystemClock::Interrupt() {
  {
    std::lock_guard lock(mu_);
    interrupted_ = true;
  }
  cv_.notify_all();
}

Time ManualClock::Now() const {
  std::lock_guard lock(mu_);
  return now_;
}

void ManualClock::Set(Time t) {
  {
    std::lock_guard lock(mu_);
    now_ = t;
  }
  if (on_advance_) on_advance_(t);
}

bool ManualClock::SleepUntil(Time t) {
  if (interrupted_) return false;
  bool moved = false;
  {
    std::lock_guard lock(mu_);
    if (t > now_) {
      now_ = t;
      moved = true;
    }
  }
  if (moved && on_advance_) on_advance_(t);
  return !interrupted_;
}

}  // namespace learnloop
