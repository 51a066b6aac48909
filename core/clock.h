#pragma once
// Everything that reads the time reads a Clock; nothing calls now() directly.
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>

#include "core/time.h"

namespace learnloop {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Time Now() const = 0;
  // Waits until t. Returns false when Interrupt() was called (the caller should stop).
  virtual bool SleepUntil(Time t) = 0;
  bool SleepFor(Millis d) { return SleepUntil(Now() + d); }
  virtual void Interrupt() = 0;
  virtual bool Interrupted() const = 0;
};

class SystemClock final : public Clock {
 public:
  Time Now() const override;
  bool SleepUntil(Time t) override;
  void Interrupt() override;
  bool Interrupted() const override { return interrupted_.load(); }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> interrupted_{false};
};

// A clock that only moves when told to. Sleeping jumps it forward at once, so weeks of
// simulated time pass in seconds; the hook lets a simulator follow each jump.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Time start) : now_(start) {}
  Time Now() const override;
  bool SleepUntil(Time t) override;
  void Interrupt() override { interrupted_ = true; }
  bool Interrupted() const override { return interrupted_.load(); }
  void Set(Time t);
  void Advance(Millis d) { SleepUntil(Now() + d); }
  void SetOnAdvance(std::function<void(Time)> hook) { on_advance_ = std::move(hook); }

 private:
  mutable std::mutex mu_;
  Time now_;
  std::atomic<bool> interrupted_{false};
  std::function<void(Time)> on_advance_;
};

}  // namespace learnloop
