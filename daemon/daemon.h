#pragma once
// The daemon's work, one step at a time: poll the networks that are due, run the campaigns,
// recognise answers, and write the report of every week that has ended. The loops that drive
// it (real time with Boost.Asio, or simulated time) live in run_loop.h.
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "analytics/report.h"
#include "bot/bot.h"
#include "config/config.h"
#include "connectors/common/archive.h"
#include "connectors/registry.h"
#include "core/clock.h"
#include "net/http_server.h"
#include "store/store.h"

namespace learnloop::daemon {

struct NetworkState {
  const config::NetworkConfig* cfg = nullptr;
  std::unique_ptr<connectors::archive::Recorder> recorder;  // before `built`: outlives it
  connectors::Built built;
  Time next_poll{};
  Time next_directory_sync{};
  Time next_maintenance{};  // subscriptions, when the connector takes pushes
};

class Daemon {
 public:
  Daemon(const config::Config& cfg, store::Store& store, Clock& clock);
  ~Daemon();

  // Builds the connectors, restores their cursors and syncs users and groups.
  Status Start();
  void Tick();
  // Re-reads every network's recent window, then polls until a poll brings nothing new.
  Status SyncUntilCaughtUp();
  Time NextWakeup() const;

  const std::vector<std::string>& written_reports() const { return written_reports_; }
  const bot::Bot& bot() const { return *bot_; }
  int64_t messages_ingested() const { return messages_ingested_; }
  // What works only in part, per network (a refused directory call, say).
  std::vector<std::string> Degraded() const;
  // Where the ESN reaches the listener ("" when the daemon does not listen).
  const std::string& public_url() const { return public_url_; }
  // Called on the listener's threads after a push, so that a waiting loop can run a tick.
  void SetOnPush(std::function<void()> f) {
    std::lock_guard lock(on_push_mu_);
    on_push_ = std::move(f);
  }

 private:
  Status SyncDirectory(NetworkState& n);
  connectors::PollStats PollNetwork(NetworkState& n, bool refresh_now = false,
                                    bool pushed_only = false);
  // Puts what the network's listener took into the store's queue; whether there was any.
  bool QueuePushes(NetworkState& n);
  void EndArchivedCall(NetworkState& n);
  void NoteDegraded(NetworkState& n);
  Status Listen();
  net::Reply OnRequest(const net::Request& r);
  void WriteDueReports();

  const config::Config& cfg_;
  store::Store& store_;
  Clock& clock_;
  std::vector<NetworkState> networks_;
  std::unique_ptr<bot::Bot> bot_;
  std::vector<std::string> written_reports_;
  int64_t messages_ingested_ = 0;
  std::unique_ptr<net::HttpServer> server_;
  std::string public_url_;
  // Pushes are queued in the store (set by the listener, or at start when some were left).
  std::atomic<bool> pushes_queued_{true};
  std::mutex on_push_mu_;
  std::function<void()> on_push_;
  mutable std::mutex degraded_mu_;  // read by the listener's threads (/healthz)
  std::vector<std::pair<std::string, std::string>> degraded_;  // network, why
};

// Writes the report of `week` in every configured format into the report folder.
// How reports are made for this configuration: zone, privacy, and the pseudonym key (the
// configured one, or one made once and kept in the store so ids stay the same week to week).
analytics::ReportOptions ReportOptionsFor(const config::Config& cfg, store::Store& store);

// The week's report files in the configured formats; `digest`, when given, gets the Markdown.
Result<std::vector<std::string>> WriteWeeklyReports(const config::Config& cfg, store::Store& store,
                                                    IsoWeek week, Time as_of,
                                                    std::string* digest = nullptr);

}  // namespace learnloop::daemon
