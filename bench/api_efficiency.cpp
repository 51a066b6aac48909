#include "bench/api_efficiency.h"

#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <set>

#include "bench/sim_session.h"
#include "config/config.h"
#include "connectors/common/http.h"
#include "core/json.h"
#include "daemon/daemon.h"
#include "daemon/run_loop.h"
#include "daemon/sim_process.h"
#include "store/store.h"

namespace learnloop::bench {

namespace {

namespace fs = std::filesystem;

int64_t Stat(const json::Value& stats, const char* cls) {
  return json::GetInt64(stats.at("requests"), cls).value_or(0);
}

// Every message (not deleted, not a system notice) and like esn-sim shows on the network,
// against the store: counts, and the ids one has and the other has not.
void Compare(SimSession& run, const std::string& network, ApiFigures& f) {
  json::Value truth = run.Get("/_sim/truth");
  std::map<int64_t, std::string> aad;       // person → Entra object id
  std::map<int64_t, std::string> channels;  // group → Teams channel id
  for (const auto& u : truth.at("users").as_array())
    aad[*json::GetInt64(u, "id")] = json::GetString(u, "aad_id").value_or("");
  for (const auto& g : truth.at("groups").as_array())
    if (auto c = json::GetString(g, "channel_id")) channels[*json::GetInt64(g, "id")] = *c;
  int64_t bot = *json::GetInt64(truth, "bot_user_id");
  std::string bot_app = json::GetString(truth, "bot_app_id").value_or("");
  auto person = [&](int64_t id) {
    if (network == "yammer") return "yammer:" + std::to_string(id);
    return "teams:" + (id == bot ? bot_app : aad[id]);
  };
  std::set<std::string> messages, likes;
  for (const auto& m : truth.at("messages").as_array()) {
    if (json::GetString(m, "network").value_or("") != network || *json::GetBool(m, "system") ||
        *json::GetBool(m, "deleted"))
      continue;
    std::string id = std::to_string(*json::GetInt64(m, "id"));
    id = network == "yammer" ? "yammer:" + id
                             : "teams:" + channels[*json::GetInt64(m, "group_id")] + "/" + id;
    messages.insert(id);
    for (const auto& l : m.at("liked_by").as_array())
      likes.insert(id + " " + person(l.as_number().to_int64()));
  }
  std::set<std::string> stored, stored_likes;
  auto all_messages = run.store->AllMessages();
  auto all_reactions = run.store->AllReactions();
  if (!all_messages.ok() || !all_reactions.ok()) {
    f.error =
        "the store: " + (all_messages.ok() ? all_reactions.error() : all_messages.error()).message;
    return;
  }
  for (const auto& m : *all_messages)
    if (m.network == network && !m.deleted) stored.insert(m.id);
  for (const auto& r : *all_reactions)
    if (stored.count(r.message_id)) stored_likes.insert(r.message_id + " " + r.user_id);
  f.truth_messages = static_cast<int64_t>(messages.size());
  f.stored_messages = static_cast<int64_t>(stored.size());
  f.truth_likes = static_cast<int64_t>(likes.size());
  f.stored_likes = static_cast<int64_t>(stored_likes.size());
  for (const auto& id : messages) f.missing += !stored.count(id);
  for (const auto& l : likes) f.missing += !stored_likes.count(l);
  for (const auto& id : stored) f.extra += !messages.count(id);
  for (const auto& l : stored_likes) f.extra += !likes.count(l);
}

// Starts esn-sim, backfills with the daemon, and fills in what both networks share.
ApiFigures Measure(const std::string& network, int people, int days, uint64_t seed,
                   const std::string& yaml_network, const std::vector<std::string>& extra,
                   const std::string& yaml_top = "") {
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
  std::string yaml = yaml_top + "store: {path: " + run.dir +
                     "/bench.db}\nreport: {out_dir: " + run.dir +
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
  auto d = std::make_unique<daemon::Daemon>(*run.cfg, *run.store, clock);
  if (auto s = d->Start(); !s.ok()) {
    f.error = s.message();
    return f;
  }
  {
    // The backfill alone: the first poll of every feed (the directory was read by Start).
    json::Value before = run.Get("/_sim/stats");
    Time t0 = clock.Now();
    if (auto s = d->Tick(); !s.ok()) f.error = "tick: " + s.message();
    f.seconds = std::chrono::duration<double>(clock.Now() - t0).count();
    json::Value after = run.Get("/_sim/stats");
    const char* cls = network == "teams" ? "graph_messages" : "messages";
    f.requests = Stat(after, cls) - Stat(before, cls);
    // Teams: the subscriptions made at start draw from the same budget as the reads.
    f.budget_requests = f.requests;
    if (network == "teams")
      f.budget_requests += Stat(after, "graph_subscriptions") - Stat(before, "graph_subscriptions");
    f.violations = json::GetInt64(after, "violations").value_or(0);
    f.throttled = json::GetInt64(after, "throttled").value_or(0);
  }
  // As `learnloop sync` goes on: the recent window read again, polls until nothing is new.
  if (auto s = d->SyncUntilCaughtUp(); !s.ok()) f.error = "sync: " + s.message();
  if (network == "teams") {
    // An hour with the listener up: what happens meanwhile arrives by push.
    daemon::RunSimulated(*d, clock, clock.Now() + std::chrono::hours{1});
  }
  d.reset();
  auto all = run.store->AllMessages();
  if (!all.ok()) {
    f.error = "the store: " + all.error().message;
    return f;
  }
  for (const auto& m : *all) f.messages += m.network == network;
  Compare(run, network, f);
  // The fewest requests: one per full or partial page of each feed. Viva Engage has one feed
  // that sees every message (the company feed, system messages included); Teams one delta
  // round per channel.
  truth = run.Get("/_sim/truth");
  std::map<int64_t, int64_t> per_group;  // Yammer: messages; Teams: thread starters
  for (const auto& m : truth.at("messages").as_array()) {
    if (json::GetString(m, "network").value_or("") != network) continue;
    if (network == "yammer" && *json::GetBool(m, "deleted")) continue;  // feeds leave them out
    if (network == "teams" && (*json::GetBool(m, "system") || json::GetInt64(m, "replied_to_id")))
      continue;
    ++per_group[network == "yammer" ? 0 : json::GetInt64(m, "group_id").value_or(0)];
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
                   {"--communities", "1"},
                   // Change notifications on: the daemon listens, Graph pushes.
                   "server: {listen: \"127.0.0.1:0\"}\n");
  f.ceiling_rps = 4;
  f.window_seconds = 1;
  return f;
}

}  // namespace learnloop::bench
