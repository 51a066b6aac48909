#include "daemon/demo.h"

#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <iostream>

#include "analytics/report.h"
#include "config/config.h"
#include "connectors/registry.h"
#include "core/json.h"
#include "core/log.h"
#include "daemon/daemon.h"
#include "daemon/demo_config.h"
#include "daemon/run_loop.h"
#include "daemon/sim_process.h"

namespace learnloop::daemon {

namespace fs = std::filesystem;

int RunDemo(const DemoOptions& o) {
  setenv("LEARNLOOP_DEMO_TOKEN", "demo-token", 0);
  auto loaded = o.config_file.empty() ? config::LoadString(kDemoConfig, "config/examples/demo.yaml",
                                                           connectors::Kinds())
                                      : config::LoadFile(o.config_file, connectors::Kinds());
  if (!loaded.config) {
    for (const auto& e : loaded.errors) std::cerr << e.ToString() << "\n";
    return 2;
  }
  config::Config cfg = *loaded.config;
  for (const auto& e : cfg.network_secret_errors) std::cerr << e.ToString() << "\n";
  if (!cfg.network_secret_errors.empty()) return 2;
  SetLogLevel(cfg.log_level);
  if (cfg.networks.empty()) {
    std::cerr << "learnloop demo: the configuration has no network\n";
    return 2;
  }
  // The simulator accepts the token the configuration gives.
  const std::string token = cfg.networks.front().settings.SecretValue("token").Reveal();
  // A run of simulated weeks in seconds: nothing for Prometheus or an operator to watch.
  if (!cfg.admin.listen_given) cfg.admin.listen.clear();
  cfg.store_path = (fs::path(o.out_dir) / "learnloop.db").string();
  cfg.report_dir = o.out_dir;
  std::error_code ec;
  fs::create_directories(o.out_dir, ec);
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(cfg.store_path + suffix, ec);
  for (const auto& entry : fs::directory_iterator(o.out_dir, ec))
    if (entry.path().filename().string().rfind("learnloop-", 0) == 0) fs::remove(entry.path(), ec);

  // The demo's first Monday, midnight in the organisation's zone: four weeks across the end of
  // summer time, so the schedule's DST handling is visible in the reports.
  auto start_day = std::chrono::local_days{std::chrono::year{2026} / 10 / 5};
  Time start = LocalToUtc(cfg.tz, std::chrono::local_seconds{start_day.time_since_epoch()});
  IsoWeek last = WeekOf(cfg.tz, start);
  for (int i = 1; i < o.weeks; ++i) last = last.Next();
  Time end = BoundsOf(cfg.tz, last).to + std::chrono::minutes{5};

  SimProcess sim;
  auto started = sim.Start(
      FindSimBinary(), {"--start", FormatIso(start), "--people", std::to_string(o.people), "--seed",
                        std::to_string(o.seed), "--token", token, "--timezone", cfg.timezone,
                        "--clock", "manual", "--horizon-days", std::to_string(o.weeks * 7 + 7)});
  if (!started.ok()) {
    std::cerr << "learnloop demo: " << started.message() << "\n";
    return 1;
  }
  for (auto& n : cfg.networks) n.settings.Set("base_url", sim.base_url() + "/api/v1");
  std::cout << "esn-sim: a simulated Viva Engage network of " << o.people << " people on "
            << sim.base_url() << "\n";

  ManualClock clock(start);
  KeepInStep(clock, sim);

  auto store = store::OpenSqlite(cfg.store_path);
  if (!store.ok()) {
    std::cerr << "learnloop demo: " << store.error().message << "\n";
    return 1;
  }
  Daemon d(cfg, **store, clock);
  if (auto s = d.Start(); !s.ok()) {
    std::cerr << "learnloop demo: " << s.message() << "\n";
    return 1;
  }
  std::cout << "Running " << o.weeks << " simulated weeks from " << FormatLocal(cfg.tz, start)
            << "...\n";
  RunSimulated(d, clock, end);

  auto columns = analytics::Columns::Load(**store);
  auto options = columns.ok() ? ReportOptionsFor(cfg, **store) : columns.error();
  if (!options.ok()) {
    std::cerr << "learnloop demo: " << options.error().message << "\n";
    return 1;
  }
  const auto& data = *columns;
  const analytics::ReportOptions& ro = *options;
  std::cout
      << "\n week      members  active  engaged  posts  replies  reactions  prompts  answered\n";
  for (IsoWeek w = WeekOf(cfg.tz, start); BoundsOf(cfg.tz, w).to <= clock.Now(); w = w.Next()) {
    auto r = analytics::ComputeWeekly(data, w, clock.Now(), ro);
    int64_t audience = 0, answered = 0;
    for (const auto& p : r.prompts)
      if (!p.suppressed) {
        audience += *p.audience;
        answered += *p.answerers;
      }
    std::cout << " " << r.week << std::setw(9) << r.totals.members << std::setw(8)
              << r.totals.active_users << std::setw(8)
              << json::FormatFixed(r.totals.engagement_rate.value_or(0) * 100, 1) << "%"
              << std::setw(7) << r.totals.posts << std::setw(9) << r.totals.replies << std::setw(11)
              << r.totals.reactions << std::setw(9) << r.prompts.size() << std::setw(6) << answered
              << "/" << audience << "\n";
  }
  const auto& bs = d.bot().stats();
  std::cout << "\nIngested " << data.stored_messages << " messages and " << data.react_msg.size()
            << " likes; posted " << bs.posted << " prompts; recognised " << data.answers.size()
            << " answers.\n";
  std::string latest;
  for (const auto& p : d.written_reports())
    if (p.size() > 5 && p.substr(p.size() - 5) == ".html") latest = p;
  std::cout << "Reports: " << fs::absolute(o.out_dir).lexically_normal().string() << "\n";
  if (!latest.empty())
    std::cout << "Latest HTML report: " << fs::absolute(latest).lexically_normal().string() << "\n";
  return 0;
}

}  // namespace learnloop::daemon
