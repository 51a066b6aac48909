#include "bench/footprint.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "bench/sim_session.h"
#include "config/config.h"
#include "daemon/daemon.h"
#include "daemon/run_loop.h"
#include "store/store.h"

namespace learnloop::bench {

namespace {

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

// VmRSS or VmHWM of this process, in MiB.
double StatusMib(const std::string& key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key + ":", 0) == 0) return std::stod(line.substr(key.size() + 1)) / 1024;
  return 0;
}

// Four campaigns in `where` (communities or channels): a weekday question, a daily one,
// a spaced practice twice a day and (Viva Engage) days after joining.
std::string Campaigns(const std::string& network, const std::vector<std::string>& where,
                      bool engage) {
  auto at = [&](size_t i) { return "\"" + where[i % where.size()] + "\""; };
  std::string y;
  y += "  - {name: " + network + "-weekday, network: " + network + ", community: " + at(0) +
       ", schedule: \"0 9 * * MON-FRI\", open_for: 48h, reminders: {after: 4h, max: 1}, "
       "prompts: [\"What did a colleague teach you this week?\"]}\n";
  y += "  - {name: " + network + "-daily, network: " + network + ", community: " + at(1) +
       ", schedule: \"30 13 * * *\", open_for: 24h, "
       "prompts: [\"One thing you learned today?\", \"Who helped you today?\"]}\n";
  y +=
      "  - name: " + network + "-practice\n    network: " + network + "\n    community: " + at(2) +
      "\n    mode: spaced\n    schedule: \"0 10,15 * * *\"\n    open_for: 12h\n    steps:\n"
      "      - {text: \"First check?\", kind: choice, options: [\"A\", \"B\", \"C\"], correct: B}\n"
      "      - {text: \"Best plot?\", kind: choice, options: [\"A\", \"B\"], correct: A}\n";
  if (engage)
    y += "  - {name: " + network + "-onboarding, network: " + network + ", community: " + at(3) +
         ", schedule: {after_joining: [1, 3], at: \"09:30\"}, "
         "prompts: [\"Who showed you around?\", \"What would you tell the next newcomer?\"]}\n";
  else
    y += "  - {name: " + network + "-poll, network: " + network + ", community: " + at(3) +
         ", schedule: \"0 16 * * MON,THU\", steps: [{text: \"How useful was this week?\", "
         "kind: rating}]}\n";
  return y;
}

// The configuration of five networks and twenty campaigns on the simulator `run`, SIM_URL for
// its address ("" when the simulated organisation lacks communities or two Teams teams).
std::string FootprintYaml(SimSession& run) {
  std::vector<std::string> communities;
  std::vector<std::pair<std::string, std::string>> channels;  // (team, channel)
  json::Value truth = run.Get("/_sim/truth");
  for (const auto& g : truth.at("groups").as_array()) {
    auto team = json::GetString(g, "team_id");
    if (team)
      channels.emplace_back(*team, *json::GetString(g, "channel_id"));
    else
      communities.push_back(std::to_string(*json::GetInt64(g, "id")));
  }
  std::set<std::string> team_set;
  for (const auto& [t, c] : channels) team_set.insert(t);
  std::vector<std::string> teams(team_set.begin(), team_set.end());
  if (communities.empty() || teams.size() < 2) {
    return "";
  }
  std::string yaml = "timezone: Europe/Berlin\nlog_level: warn\nstore: {path: " + run.dir +
                     "/footprint.db}\nreport: {out_dir: " + run.dir + "}\nnetworks:\n";
  std::string campaigns = "campaigns:\n";
  for (int k = 1; k <= 3; ++k) {  // Viva Engage networks (each the whole simulated network)
    std::string name = "engage" + std::to_string(k);
    yaml += "  - {name: " + name + ", type: yammer, base_url: \"SIM_URL/api/v1\", token: " +
            "\"${LEARNLOOP_BENCH_TOKEN}\", poll_interval: 5m}\n";
    std::vector<std::string> mine(communities.begin() + static_cast<long>(k - 1) % 2,
                                  communities.end());
    campaigns += Campaigns(name, mine, true);
  }
  for (int k = 1; k <= 2; ++k) {  // Teams networks: one team each
    std::string name = "teams" + std::to_string(k);
    const std::string& team = teams[static_cast<size_t>(k - 1)];
    yaml += "  - name: " + name +
            "\n    type: teams\n    base_url: SIM_URL/v1.0\n    poll_interval: 5m\n    auth:\n"
            "      tenant: 5f1c1d0e-2b0a-4c3e-9d5e-7a1b2c3d4e5f\n      client_id: sim-app\n"
            "      client_secret: ${LEARNLOOP_BENCH_SECRET}\n"
            "      token_url: SIM_URL/5f1c1d0e-2b0a-4c3e-9d5e-7a1b2c3d4e5f/oauth2/v2.0/token\n"
            "    teams: [" +
            team +
            "]\n    bot:\n      service_url: SIM_URL/bf/\n"
            "      token_url: SIM_URL/botframework.com/oauth2/v2.0/token\n"
            "      openid_url: SIM_URL/botframework/v1/.well-known/openidconfiguration\n";
    std::vector<std::string> mine;
    for (const auto& [t, c] : channels)
      if (t == team) mine.push_back(c);
    campaigns += Campaigns(name, mine, false);
  }
  yaml += campaigns;
  return yaml;
}

// Starts esn-sim for the footprint (with `clock_args`) and gives the configuration of its five
// networks and twenty campaigns: "" or why not.
std::string StartFootprint(SimSession& run, int people, std::vector<std::string> clock_args,
                           std::string& yaml) {
  std::vector<std::string> args{"--people", std::to_string(people), "--seed", "3", "--history-days",
                                "7",        "--horizon-days",       "2"};
  args.insert(args.end(), clock_args.begin(), clock_args.end());
  if (auto error = run.Start(args); !error.empty()) return error;
  yaml = FootprintYaml(run);
  return yaml.empty() ? "the simulated organisation needs communities and two Teams teams" : "";
}

}  // namespace

FootprintFigures MeasureFootprint(int people) {
  FootprintFigures f;
  SimSession run;
  Time start = *ParseIso("2026-11-02T00:00:00Z");
  std::string yaml;
  f.error = StartFootprint(run, people, {"--start", FormatIso(start), "--clock", "manual"}, yaml);
  if (f.error.empty()) f.error = run.Load(yaml);
  if (!f.error.empty()) return f;
  f.networks = static_cast<int>(run.cfg->networks.size());
  f.campaigns = static_cast<int>(run.cfg->campaigns.size());
  ManualClock clock(start);
  daemon::KeepInStep(clock, run.sim);
  daemon::Daemon d(*run.cfg, *run.store, clock);
  if (auto s = d.Start(); !s.ok()) {
    f.error = s.message();
    return f;
  }
  // The backfill: not part of the idle day.
  if (auto s = d.Tick(); !s.ok()) {
    f.error = "backfill: " + s.message();
    return f;
  }
  auto prompts_before = run.store->AllPrompts();
  if (!prompts_before.ok()) {
    f.error = "the store: " + prompts_before.error().message;
    return f;
  }
  double cpu0 = CpuSeconds();
  f.wakeups = daemon::RunSimulated(d, clock, clock.Now() + std::chrono::hours{24});
  f.cpu_seconds = CpuSeconds() - cpu0;
  f.rss_mib = StatusMib("VmRSS");
  f.peak_rss_mib = StatusMib("VmHWM");
  auto messages = run.store->AllMessages();
  auto prompts = run.store->AllPrompts();
  if (!messages.ok() || !prompts.ok()) {
    f.error = "the store: " + (messages.ok() ? prompts.error() : messages.error()).message;
    return f;
  }
  f.messages = static_cast<int64_t>(messages->size());
  f.prompts = static_cast<int64_t>(prompts->size() - prompts_before->size());
  return f;
}

namespace {

// CPU seconds and context switches of every thread of `pid`.
std::pair<double, int64_t> ProcessUse(pid_t pid) {
  double cpu = 0;
  int64_t switches = 0;
  std::string base = "/proc/" + std::to_string(pid) + "/task";
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator(base, ec)) {
    std::ifstream stat(task.path() / "stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    // Fields after the command name (in parentheses): utime and stime are the 12th and 13th.
    auto close = text.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(text.substr(close + 2));
    std::string field;
    for (int i = 1; i <= 13 && rest >> field; ++i)
      if (i >= 12) cpu += std::stod(field) / static_cast<double>(sysconf(_SC_CLK_TCK));
    std::ifstream status(task.path() / "status");
    std::string line;
    while (std::getline(status, line))
      if (line.find("ctxt_switches:") != std::string::npos)
        switches += std::stoll(line.substr(line.find(':') + 1));
  }
  return {cpu, switches};
}

double ProcessRssMib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024;
  return 0;
}

}  // namespace

IdleFigures MeasureIdleProcess(int people, int settle, int seconds) {
  IdleFigures f;
  SimSession run;
  std::string yaml;
  if (f.error = StartFootprint(run, people, {"--clock", "real"}, yaml); !f.error.empty()) return f;
  std::string cfg = run.dir + "/footprint.yaml";
  std::ofstream(cfg) << run.Resolve(yaml);
  std::string bin =
      (std::filesystem::path(daemon::FindSimBinary()).parent_path() / "learnloop").string();
  pid_t pid = fork();
  if (pid == 0) {
    execl(bin.c_str(), bin.c_str(), "run", "--config", cfg.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  if (pid < 0) {
    f.error = "cannot start " + bin;
    return f;
  }
  std::this_thread::sleep_for(std::chrono::seconds{settle});
  auto [cpu0, switches0] = ProcessUse(pid);
  auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::seconds{seconds});
  auto [cpu1, switches1] = ProcessUse(pid);
  f.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  f.rss_mib = ProcessRssMib(pid);
  f.cpu_seconds = cpu1 - cpu0;
  f.context_switches = switches1 - switches0;
  int status = 0;
  if (waitpid(pid, &status, WNOHANG) == pid)
    f.error = bin + " run stopped early (status " + std::to_string(status) + ")";
  kill(pid, SIGTERM);
  waitpid(pid, &status, 0);
  return f;
}

}  // namespace learnloop::bench
