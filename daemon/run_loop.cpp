#include "daemon/run_loop.h"

#include <boost/asio.hpp>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "core/heartbeat.h"
#include "core/log.h"
#include "core/systemd.h"
#include "daemon/admin.h"

namespace learnloop::daemon {

namespace {
// How long a stop waits for the step under way (a request of up to request_timeout) before it
// leaves it: the store is consistent at every moment, and the next start goes on from it.
constexpr auto kStopGrace = std::chrono::milliseconds{1500};

// A configuration read again, taken between two steps; one that did not load (null) or does
// not apply leaves the one before in use.
void ApplyReload(Daemon& d, std::unique_ptr<config::Config> next) {
  if (!next) {
    Logger("daemon")->error("reload refused: the configuration before stays in use");
    return;
  }
  try {
    d.Reload(std::move(next));
  } catch (const std::exception& e) {
    Logger("daemon")->error("reload failed: {}", e.what());
  }
}
}  // namespace

int RunRealtime(Daemon& d, Clock& clock, ConfigLoader reload) {
  namespace asio = boost::asio;
  auto log = Logger("daemon");
  asio::io_context io;
  asio::signal_set signals(io, SIGTERM, SIGINT, SIGHUP);
  asio::system_timer timer(io);
  asio::steady_timer watchdog(io);
  // The daemon's work blocks on the network; it runs on its own thread so that the loop stays
  // free to take a signal, feed the watchdog and answer at any time.
  asio::thread_pool worker(1);
  std::mutex done_mu;
  std::condition_variable done_cv;
  bool working = false;  // a step runs on the worker (guarded by done_mu)
  bool stopping = false;
  bool armed = false;  // the timer waits for the next wake-up
  bool woken = false;  // a push cut that wait short
  int exit_code = 0;
  std::function<void()> arm;
  std::function<void()> stop;
  auto run_on_worker = [&](std::function<void()> step) {
    {
      std::lock_guard lock(done_mu);
      working = true;
    }
    asio::post(worker, [&, step = std::move(step)] {
      heartbeat::SetBusy(true);
      try {
        step();
      } catch (const std::exception& e) {
        log->error("tick failed: {}", e.what());
      }
      heartbeat::SetBusy(false);
      {
        std::lock_guard lock(done_mu);
        working = false;
      }
      done_cv.notify_all();
      asio::post(io, [&] {
        if (stopping) return;
        if (auto fatal = d.Fatal()) {
          log->error("cannot go on: {}", *fatal);
          exit_code = 1;
          stop();
          return;
        }
        arm();
      });
    });
  };
  auto work = [&] {
    run_on_worker([&] {
      // A failed step (the store, say) is logged and retried at the next wake-up.
      if (auto s = d.Tick(); !s.ok()) log->error("tick failed: {}", s.message());
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
  // A push (a change notification, a bot activity) or an operator's action runs a tick now
  // instead of at the next wake-up; one that comes during a tick is seen by NextWakeup after it.
  d.SetOnPush([&] {
    asio::post(io, [&] {
      if (armed && !stopping) {
        woken = true;
        timer.cancel();
      }
    });
  });
  // The watchdog is fed from this loop, and only while the work moves (or waits on purpose).
  auto interval = systemd::WatchdogInterval();
  auto feed_every =
      interval ? std::max(std::chrono::milliseconds{100},
                          std::chrono::duration_cast<std::chrono::milliseconds>(*interval / 4))
               : std::chrono::milliseconds{5000};
  std::string last_status;
  bool was_stuck = false;
  std::function<void()> feed = [&] {
    watchdog.expires_after(feed_every);
    watchdog.async_wait([&](const boost::system::error_code& ec) {
      if (ec || stopping) return;
      auto stalled = heartbeat::Stalled();
      bool stuck = stalled > AdminApi::StuckAfter();
      if (!stuck) systemd::Watchdog();
      if (stuck != was_stuck)
        log->error("{}", stuck ? "the loop has not moved for " +
                                     std::to_string(stalled.count() / 1000) + " s (" +
                                     d.Activity() + "): the watchdog is no longer fed"
                               : std::string("the loop moves again"));
      was_stuck = stuck;
      std::string status = d.Activity();
      if (status != last_status) systemd::Status(status);
      last_status = status;
      feed();
    });
  };
  stop = [&] {
    if (stopping) return;
    stopping = true;
    systemd::Stopping();
    clock.Interrupt();
    timer.cancel();
    watchdog.cancel();
    signals.cancel();
  };
  std::function<void()> wait_signal = [&] {
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        log->info("SIGHUP: reloading {}", d.config().file);
        if (reload) {
          systemd::Reloading();
          // Between two ticks: on the worker, after the step under way.
          auto next = std::make_shared<std::unique_ptr<config::Config>>(reload());
          asio::post(worker, [&, next] {
            ApplyReload(d, std::move(*next));
            d.Wake();
          });
          systemd::Ready();
        }
        wait_signal();
        return;
      }
      log->info("signal {}: stopping", sig);
      stop();
    });
  };
  wait_signal();
  systemd::Ready();
  systemd::Status("started: reading the directories");
  feed();
  work();
  io.run();  // returns once stopped: nothing is left to wait for
  {
    std::unique_lock lock(done_mu);
    if (!done_cv.wait_for(lock, kStopGrace, [&] { return !working; })) {
      // A request still under way: left, and said, with everything else unfinished.
      for (const auto& line : d.Unfinished()) log->warn("stop: {}", line);
      log->warn("stopped without waiting for the step under way");
      spdlog::shutdown();
      std::_Exit(exit_code);
    }
  }
  worker.join();
  for (const auto& line : d.Unfinished()) log->info("stop: {}", line);
  d.SetOnPush(nullptr);
  log->info("stopped");
  return exit_code;
}

int64_t RunSimulated(Daemon& d, ManualClock& clock, Time until, std::atomic<bool>* reload_requested,
                     ConfigLoader reload) {
  int64_t wakeups = 0;
  auto take_reload = [&] {
    if (!reload_requested || !reload_requested->exchange(false) || !reload) return;
    Logger("daemon")->info("SIGHUP: reloading {}", d.config().file);
    ApplyReload(d, reload());
  };
  auto tick = [&] {
    if (auto s = d.Tick(); !s.ok()) Logger("daemon")->error("tick failed: {}", s.message());
  };
  while (clock.Now() < until && !clock.Interrupted()) {
    take_reload();
    tick();
    if (d.Fatal()) return wakeups;
    Time next = std::min(d.NextWakeup(), until);
    if (!clock.SleepUntil(next)) break;
    ++wakeups;
  }
  if (!clock.Interrupted()) tick();
  return wakeups;
}

}  // namespace learnloop::daemon
