#include "bench/api_efficiency.h"

#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "bench/sim_session.h"
#include "config/config.h"
#include "connectors/common/http.h"
#include "core/json.h"
#include "daemon/daemon.h"
#include "daemon/sim_process.h"
#include "store/store.h"

namespace learnloop::bench {

namespace {

namespace fs = std::filesystem;

int64_t Stat(const json::Value& stats, const char* cls) {
  return json::GetInt64(stats.at("requests"), cls).value_or(0);
}

// Starts esn-sim, backfills with the daemon, and fills in what both networks share.
ApiFigures Measure(const std::string& network, int people, int days, uint64_t seed,
                   const std::string& yaml_network, const std::vector<std::string>& extra) {
  ApiFigures f;
  f.network = network;
  SimSession run;
  Time start = *ParseIso("2026-11-02T06:00:00Z");
  std::vector<std::string> args{
      "--people",       std::to_string(people), "--seed",         std::to_string(seed),
      "--history-days", std::to_string(days),   "--horizon-days", "1",
      "--start",        FormatIso(start),       "--clock",        "manual"};
  args.insert(args.end(), extra.begin(), extra.end());
  if (f.error = run.Start(args); !f.error.empty()) return f;
  std::string yaml = "store: {path: " + run.dir + "/bench.db}\nreport: {out_dir: " + run.dir +
                     "}\nlog_level: warn\nnetworks:\n" + yaml_network;
  json::Value truth = run.Get("/_sim/truth");
  std::string teams;
  for (const auto& g : truth.at("groups").as_array())
    if (auto t = json::GetString(g, "team_id"); t && teams.find(*t) == std::string::npos)
      teams += (teams.empty() ? "" : ", ") + *t;
  for (size_t p; (p = yaml.find("TEAM_IDS")) != std::string::npos;)
    yaml.replace(p, 8, "[" + teams + "]");
  if (f.error = run.Load(yaml); !f.error.empty()) return f;
  ManualClock clock(start);
  daemon::KeepInStep(clock, run.sim);
  {
    daemon::Daemon d(*run.cfg, *run.store, clock);
    if (auto s = d.Start(); !s.ok()) {
      f.error = s.message();
      return f;
    }
    // The backfill alone: the first poll of every feed (the directory was read by Start).
    json::Value before = run.Get("/_sim/stats");
    Time t0 = clock.Now();
    d.Tick();
    f.seconds = std::chrono::duration<double>(clock.Now() - t0).count();
    json::Value after = run.Get("/_sim/stats");
    const char* cls = network == "teams" ? "graph_messages" : "messages";
    f.requests = Stat(after, cls) - Stat(before, cls);
    f.violations = json::GetInt64(after, "violations").value_or(0);
    f.throttled = json::GetInt64(after, "throttled").value_or(0);
  }
  for (const auto& m : run.store->AllMessages()) f.messages += m.network == network;
  // The fewest requests: one per full or partial page of each feed.
  truth = run.Get("/_sim/truth");
  std::map<int64_t, int64_t> per_group;  // Yammer: messages; Teams: thread starters
  for (const auto& m : truth.at("messages").as_array()) {
    if (*json::GetBool(m, "system") || json::GetString(m, "network").value_or("") != network)
      continue;
    if (network == "yammer" && *json::GetBool(m, "deleted")) continue;  // feeds leave them out
    if (network == "teams" && json::GetInt64(m, "replied_to_id")) continue;
    ++per_group[json::GetInt64(m, "group_id").value_or(0)];
  }
  int page = network == "teams" ? 50 : 20;
  for (const auto& [g, n] : per_group) f.minimum += (n + page - 1) / page;
  return f;
}

}  // namespace

ApiFigures MeasureYammer(int people, int days, uint64_t seed) {
  // Pages of 20 in the messages bucket: 10 requests per 30 s (§1.4.1, §1.9).
  auto f = Measure("yammer", people, days, seed,
                   "  - type: yammer\n    base_url: SIM_URL/api/v1\n"
                   "    token: ${LEARNLOOP_BENCH_TOKEN}\n    backfill_since: 2025-01-01\n",
                   {"--teams", "0"});
  f.ceiling_rps = 10.0 / 30;
  f.window_seconds = 30;
  return f;
}

ApiFigures MeasureTeams(int people, int days, uint64_t seed) {
  // Delta pages of 50 threads (replies inline): 4 requests a second per channel (§2.10).
  auto f = Measure("teams", people, days, seed,
                   "  - type: teams\n    base_url: SIM_URL/v1.0\n    auth:\n"
                   "      tenant: 5f1c1d0e-2b0a-4c3e-9d5e-7a1b2c3d4e5f\n"
                   "      client_id: sim-app\n      client_secret: ${LEARNLOOP_BENCH_SECRET}\n"
                   "      token_url: SIM_URL/5f1c1d0e-2b0a-4c3e-9d5e-7a1b2c3d4e5f/oauth2/v2.0/"
                   "token\n    teams: TEAM_IDS\n    bot:\n      service_url: SIM_URL/bf/\n",
                   {"--communities", "1"});
  f.ceiling_rps = 4;
  f.window_seconds = 1;
  return f;
}

}  // namespace learnloop::bench
