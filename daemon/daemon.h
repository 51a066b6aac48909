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
#include <shared_mutex>
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

inline constexpr char kVersion[] = LEARNLOOP_VERSION;  // of CMake's project()

struct NetworkState {
  const config::NetworkConfig* cfg = nullptr;
  std::unique_ptr<connectors::archive::Recorder> recorder;  // before `built`: outlives it
  connectors::Built built;
  Time next_poll{};
  Time next_directory_sync{};
  Time next_maintenance{};           // subscriptions, when the connector takes pushes
  bool directory_synced = false;     // a directory sync succeeded in this process
  bool added_by_reload = false;      // refused credentials then stop the network, not the daemon
  std::string directory_error;       // why the last one failed
  std::optional<Time> last_poll_ok;  // the last poll without an error
  std::string poll_error;            // the last poll's first error
};

class AdminApi;

class Daemon {
 public:
  Daemon(const config::Config& cfg, store::Store& store, Clock& clock);
  ~Daemon();

  // Builds the connectors, restores their cursors and opens the listeners (admin and public);
  // nothing is asked of the ESN yet: the first tick syncs the directories.
  Status Open();
  // Open(), then the directory sync of every network (a refused credential fails it).
  Status Start();
  // One step of the loop; an error (the store, say) is for the loop to log: the next tick tries
  // again.
  Status Tick();
  // Re-reads every network's recent window, then polls until a poll brings nothing new.
  Status SyncUntilCaughtUp();
  Time NextWakeup() const;
  // Takes a new configuration between two ticks: campaigns, networks, reports, logging. What
  // the store holds (cursors, outbox, prompts) stays; the listeners and the store stay as they
  // are (a change of theirs is said to need a restart).
  void Reload(std::unique_ptr<config::Config> next);
  // Set when the daemon cannot go on (refused credentials at the first directory sync).
  std::optional<std::string> Fatal() const;

  const std::vector<std::string>& written_reports() const { return written_reports_; }
  const bot::Bot& bot() const { return *bot_; }
  int64_t messages_ingested() const { return messages_ingested_; }
  // What works only in part, per network (a refused directory call, say).
  std::vector<std::string> Degraded() const;
  // Where the ESN reaches the listener ("" when the daemon does not listen).
  const std::string& public_url() const { return public_url_; }
  // The admin listener's port (0 when it is off).
  int admin_port() const { return admin_port_; }
  const config::Config& config() const { return *cfg_; }
  store::Store& store() { return store_; }
  Clock& clock() { return clock_; }
  // Called on the listener's threads after a push, so that a waiting loop can run a tick.
  void SetOnPush(std::function<void()> f) {
    std::lock_guard lock(on_push_mu_);
    on_push_ = std::move(f);
  }
  // Wakes a waiting loop (an operator's action through the admin API).
  void Wake();
  // One line on what the daemon is and does: version, files, networks, campaigns, listeners.
  std::string Banner() const;
  // What the daemon is doing now (for systemd's STATUS= and the stop), "" when waiting.
  std::string Activity() const;
  // One line per item left unfinished, when it stops.
  std::vector<std::string> Unfinished();
  // Readiness: empty when ready, else what is not (for /readyz).
  std::vector<std::string> NotReady();
  // Updates the metrics read from the store and the networks' state (before /metrics answers).
  void RefreshMetrics();

 private:
  Status SyncDirectory(NetworkState& n);
  Result<NetworkState> BuildNetwork(const config::NetworkConfig& nc);
  void BuildBot();
  Result<connectors::PollStats> PollNetwork(NetworkState& n, bool refresh_now = false,
                                            bool pushed_only = false);
  // Puts what the network's listener took into the store's queue; whether there was any.
  Result<bool> QueuePushes(NetworkState& n);
  void EndArchivedCall(NetworkState& n);
  void NoteDegraded(NetworkState& n);
  Status Listen();
  net::Reply OnRequest(const net::Request& r);
  Status WriteDueReports();
  void SetActivity(std::string what);
  // A long read's progress: in the log, as the activity and as systemd's status.
  void SayProgress(const std::string& line);
  // The rate budgets of a network to the next process.
  void SaveRateBudget(NetworkState& n);
  // Everything of a network's connector the next one starts from (a reload replaced it):
  // cursors, secrets, rate budgets.
  void Park(NetworkState& n);
  void NoteReadiness();

  const config::Config* cfg_;
  std::vector<std::unique_ptr<config::Config>> reloaded_;  // the configurations taken since
  store::Store& store_;
  Clock& clock_;
  // Held shared by the listener's threads while they use the networks, exclusively while a
  // reload replaces them.
  mutable std::shared_mutex networks_mu_;
  std::vector<NetworkState> networks_;
  std::unique_ptr<bot::Bot> bot_;
  std::vector<std::string> written_reports_;
  int64_t messages_ingested_ = 0;
  std::unique_ptr<net::HttpServer> server_, admin_server_;
  std::unique_ptr<AdminApi> admin_;
  std::string public_url_, listening_, admin_listening_;
  int admin_port_ = 0;
  // Pushes are queued in the store (set by the listener, or at start when some were left).
  std::atomic<bool> pushes_queued_{true};
  std::mutex on_push_mu_;
  std::function<void()> on_push_;
  mutable std::mutex degraded_mu_;  // read by the listener's threads (/healthz)
  std::vector<std::pair<std::string, std::string>> degraded_;  // network, why
  mutable std::mutex state_mu_;  // what the listener's threads read of the loop's state
  std::string activity_;
  std::optional<std::string> fatal_;
  std::vector<std::string> not_ready_;  // per network, as of the last tick
  std::chrono::steady_clock::time_point last_tally_{}, last_write_probe_{};
  std::string write_probe_error_;  // of the last write the readiness probe tried
};

// Writes the report of `week` in every configured format into the report folder.
// How reports are made for this configuration: zone, privacy, and the pseudonym key (the
// configured one, or one made once and kept in the store so ids stay the same week to week).
Result<analytics::ReportOptions> ReportOptionsFor(const config::Config& cfg,
                                                  store::SecretStore& secrets);

// The week's report files in the configured formats; `digest`, when given, gets the Markdown.
Result<std::vector<std::string>> WriteWeeklyReports(const config::Config& cfg, store::Store& store,
                                                    IsoWeek week, Time as_of,
                                                    std::string* digest = nullptr);

}  // namespace learnloop::daemon
