#include "daemon/run_loop.h"

#include <boost/asio.hpp>
#include <thread>

#include "core/log.h"

namespace learnloop::daemon {

int RunRealtime(Daemon& d, Clock& clock) {
  namespace asio = boost::asio;
  asio::io_context io;
  asio::signal_set signals(io, SIGTERM, SIGINT);
  asio::system_timer timer(io);
  // The daemon's work blocks on the network; it runs on its own thread so that the loop stays
  // free to take a signal at any time.
  asio::thread_pool worker(1);
  bool stopping = false;
  bool armed = false;  // the timer waits for the next wake-up
  bool woken = false;  // a push cut that wait short
  std::function<void()> arm;
  auto work = [&] {
    asio::post(worker, [&] {
      try {
        d.Tick();
      } catch (const std::exception& e) {
        // A failed step (the store, say) is logged and retried at the next wake-up.
        Logger("daemon")->error("tick failed: {}", e.what());
      }
      asio::post(io, [&] {
        if (!stopping) arm();
      });
    });
  };
  arm = [&] {
    armed = true;
    timer.expires_at(std::chrono::system_clock::time_point(d.NextWakeup()));
    timer.async_wait([&](const boost::system::error_code& ec) {
      armed = false;
      bool run = (!ec || woken) && !stopping;
      woken = false;
      if (run) work();
    });
  };
  // A push (a change notification, a bot activity) runs a tick now instead of at the next
  // wake-up; one that comes during a tick is seen by NextWakeup after it.
  d.SetOnPush([&] {
    asio::post(io, [&] {
      if (armed && !stopping) {
        woken = true;
        timer.cancel();
      }
    });
  });
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    Logger("daemon")->info("signal {}: stopping", sig);
    stopping = true;
    clock.Interrupt();
    timer.cancel();
  });
  work();
  io.run();  // returns once stopped: nothing is left to wait for
  worker.join();
  d.SetOnPush(nullptr);
  return 0;
}

int64_t RunSimulated(Daemon& d, ManualClock& clock, Time until) {
  int64_t wakeups = 0;
  while (clock.Now() < until && !clock.Interrupted()) {
    d.Tick();
    Time next = std::min(d.NextWakeup(), until);
    if (!clock.SleepUntil(next)) break;
    ++wakeups;
  }
  if (!clock.Interrupted()) d.Tick();
  return wakeups;
}

}  // namespace learnloop::daemon
