#include "core/heartbeat.h"

#include <atomic>

namespace learnloop::heartbeat {

namespace {
using Steady = std::chrono::steady_clock;
std::atomic<int64_t> g_last{0};  // steady ms of the last beat
std::atomic<bool> g_busy{false};
std::atomic<int> g_waiting{0};

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Steady::now().time_since_epoch())
      .count();
}
}  // namespace

void Beat() { g_last = NowMs(); }

void SetBusy(bool busy) {
  Beat();
  g_busy = busy;
}

Waiting::Waiting() {
  Beat();
  ++g_waiting;
}

Waiting::~Waiting() {
  --g_waiting;
  Beat();
}

std::chrono::milliseconds Stalled() {
  if (!g_busy || g_waiting > 0) return std::chrono::milliseconds{0};
  return std::chrono::milliseconds{std::max<int64_t>(0, NowMs() - g_last)};
}

}  // namespace learnloop::heartbeat
