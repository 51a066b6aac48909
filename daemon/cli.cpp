#include "daemon/cli.h"

#include <pthread.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "analytics/report.h"
#include "bot/bot.h"
#include "config/config.h"
#include "connectors/common/archive.h"
#include "connectors/registry.h"
#include "core/clock.h"
#include "core/log.h"
#include "daemon/actions.h"
#include "daemon/campaigns_cli.h"
#include "daemon/daemon.h"
#include "daemon/demo.h"
#include "daemon/replay.h"
#include "daemon/run_loop.h"
#include "daemon/sim_process.h"
#include "store/exchange.h"

namespace learnloop::daemon {

namespace {

struct Args {
  std::string command;
  std::map<std::string, std::string> options;
  std::vector<std::string> positional;
  bool help = false;
};

Args Parse(int argc, char** argv) {
  Args a;
  if (argc > 1) a.command = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "--help" || s == "-h") {
      a.help = true;
    } else if (s.rfind("--", 0) == 0) {
      auto eq = s.find('=');
      if (eq != std::string::npos)
        a.options[s.substr(2, eq - 2)] = s.substr(eq + 1);
      else if (i + 1 < argc)
        a.options[s.substr(2)] = argv[++i];
      else
        a.options[s.substr(2)] = "";
    } else {
      a.positional.push_back(s);
    }
  }
  return a;
}

// Says what is wrong with the command line, and the command's help: exit code 2.
int Usage(const std::string& command, const std::string& problem);

std::optional<config::Config> LoadConfig(const std::string& path) {
  auto r = config::LoadFile(path, connectors::Kinds());
  for (const auto& e : r.errors) std::cerr << e.ToString() << "\n";
  for (const auto& w : r.warnings) std::cerr << w.ToString() << "\n";
  if (r.config) {
    SetLogLevel(r.config->log_level);
    SetLogFormat(r.config->log_format);
  }
  return r.config;
}

// For a reload: the configuration file read again, or nullptr after logging each problem as
// FILE:LINE:COL.
ConfigLoader Reloader(const std::string& path) {
  return [path]() -> std::unique_ptr<config::Config> {
    auto log = Logger("daemon");
    auto r = config::LoadFile(path, connectors::Kinds());
    for (const auto& e : r.errors) log->error("reload: {}", e.ToString());
    for (const auto& w : r.warnings) log->warn("reload: {}", w.ToString());
    if (!r.config) return nullptr;
    for (const auto& e : r.config->network_secret_errors) log->error("reload: {}", e.ToString());
    if (!r.config->network_secret_errors.empty()) return nullptr;
    return std::make_unique<config::Config>(std::move(*r.config));
  };
}

// The networks' secrets, for a command that talks to the ESN: false after saying which cannot be
// read.
bool NetworkSecretsReadable(const config::Config& cfg) {
  for (const auto& e : cfg.network_secret_errors) std::cerr << e.ToString() << "\n";
  return cfg.network_secret_errors.empty();
}

// What an operator's action did (stdout), or why not (stderr): its exit code.
int Report(const std::string& command, const ActionOutcome& o) {
  if (!o.ok()) {
    std::cerr << "learnloop " << command << ": " << o.message << "\n";
    return 1;
  }
  std::cout << o.message << "\n";
  if (!o.warning.empty()) std::cerr << "learnloop " << command << ": " << o.warning << "\n";
  return 0;
}

// The configured store, or nullptr after saying why.
std::unique_ptr<store::Store> OpenStore(const std::string& path) {
  auto store = store::OpenSqlite(path);
  if (!store.ok()) {
    std::cerr << "learnloop: " << store.error().message << "\n";
    return nullptr;
  }
  return std::move(*store);
}

int CheckOptions(const Args& a, const std::vector<std::string>& allowed) {
  for (const auto& [k, v] : a.options)
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end())
      return Usage(a.command, "unknown option --" + k);
  return 0;
}

// What an export or import moved, as "N users, N groups, …".
std::string Counts(const store::ExchangeCounts& n) {
  return std::to_string(n.users) + " users, " + std::to_string(n.groups) + " groups, " +
         std::to_string(n.messages) + " messages, " + std::to_string(n.reactions) + " reactions, " +
         std::to_string(n.prompts) + " prompts, " + std::to_string(n.answers) + " answers";
}

// learnloop import: into the open store, or (none) into a new one at store_path.
int Import(Args& a, store::Store* into, const std::string& store_path) {
  if (a.positional.size() != 1) return Usage(a.command, "give the folder to import");
  auto n = into ? store::Import(*into, a.positional[0])
                : store::ImportIntoNewSqlite(store_path, a.positional[0]);
  if (!n.ok()) {
    std::cerr << "learnloop import: " << n.error().message << "\n";
    return 1;
  }
  std::cout << "imported " << Counts(*n) << "\n";
  // A line that repeats a reaction (same message, person and kind) is that reaction (§9).
  if (n->reactions_added)
    std::cout << "reactions kept: " << *n->reactions_added << " new of " << n->reactions
              << " lines (a line that repeats a reaction, or one stored before, adds none)\n";
  return 0;
}

// learnloop run --clock sim:URL [--until TIME]: the daemon on esn-sim's simulated clock.
int RunOnSimulatedClock(Args& a, const config::Config& cfg, store::Store& store) {
  // SIGTERM and SIGINT stop the simulated run as they stop the real one: blocked in every
  // thread (before any starts) and waited for by one.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  const std::string& clock_option = a.options["clock"];
  if (clock_option.rfind("sim:", 0) != 0)
    return Usage(a.command, "--clock takes sim:URL (esn-sim's address)");
  std::string url = clock_option.substr(4);
  while (!url.empty() && url.back() == '/') url.pop_back();
  Time until = Time::max();
  if (a.options.count("until")) {
    auto t = ParseIso(a.options["until"]);
    if (!t) return Usage(a.command, "--until must be an ISO 8601 time");
    until = *t;
  }
  auto now = SimulatorNow(url);
  if (!now.ok()) {
    std::cerr << "learnloop run: " << now.error().message << "\n";
    return 1;
  }
  ManualClock clock(*now);
  KeepInStep(clock, url);
  Daemon d(cfg, store, clock);
  if (auto s = d.Start(); !s.ok()) {
    std::cerr << "learnloop run: " << s.message() << "\n";
    return 1;
  }
  Logger("daemon")->info("{}", d.Banner());
  std::atomic<bool> reload{false}, done{false};
  std::thread waiter([&] {
    for (;;) {
      int sig = 0;
      sigwait(&stop, &sig);
      if (done) return;
      if (sig == SIGHUP) {
        reload = true;  // taken between two ticks
        continue;
      }
      clock.Interrupt();
      return;
    }
  });
  RunSimulated(d, clock, until, &reload, Reloader(a.options["config"]));
  done = true;
  pthread_kill(waiter.native_handle(), SIGTERM);  // done: the waiter ends
  waiter.join();
  return 0;
}

// The handlers. Each gets the parsed arguments (their options already checked against the
// command's) and, for a command that needs one, the loaded configuration.

int CheckConfigHandler(Args& a, config::Config*) {
  if (a.positional.size() != 1) return Usage(a.command, "give one configuration file");
  auto r = config::LoadFile(a.positional[0], connectors::Kinds());
  for (const auto& e : r.errors) std::cerr << e.ToString() << "\n";
  for (const auto& w : r.warnings) std::cerr << w.ToString() << "\n";
  if (!r.config) return 2;
  // The daemon will need them: checked as it would.
  if (!NetworkSecretsReadable(*r.config)) return 2;
  std::cout << a.positional[0] << ": OK (" << r.config->networks.size() << " network(s), "
            << r.config->campaigns.size() << " campaign(s))\n";
  return 0;
}

// The configuration and store of an operator's command (campaigns pause, people, forget), or
// the exit code that says why not.
struct OperatorContext {
  std::optional<config::Config> cfg;
  std::unique_ptr<store::Store> store;
  int code = 0;
};
OperatorContext OpenForOperator(Args& a) {
  OperatorContext o;
  if (!a.options.count("config")) {
    o.code = Usage(a.command, "--config FILE is required");
    return o;
  }
  o.cfg = LoadConfig(a.options["config"]);
  if (!o.cfg) {
    o.code = 2;
    return o;
  }
  o.store = OpenStore(o.cfg->store_path);
  if (!o.store) o.code = 1;
  return o;
}

int CampaignsHandler(Args& a, config::Config*) {
  if (a.positional.size() == 2 && (a.positional[0] == "pause" || a.positional[0] == "resume" ||
                                   a.positional[0] == "skip" || a.positional[0] == "post-now")) {
    // Operator actions: on the store the running daemon uses; it follows at its next tick.
    if (int rc = CheckOptions(a, {"config"})) return rc;
    auto o = OpenForOperator(a);
    if (o.code) return o.code;
    SystemClock clock;
    return Report(a.command + " " + a.positional[0],
                  CampaignAction(*o.cfg, *o.store, clock, a.positional[0], a.positional[1]));
  }
  if (a.positional.size() != 2) return Usage(a.command, "give an action and a file");
  CampaignsCommand cmd;
  cmd.action = a.positional[0];
  cmd.file = a.positional[1];
  if (a.options.count("config")) cmd.config = a.options["config"];
  try {
    if (a.options.count("weeks")) cmd.weeks = std::stoi(a.options["weeks"]);
  } catch (const std::exception&) {
    return Usage(a.command, "--weeks takes a number");
  }
  if (cmd.weeks < 1 || cmd.weeks > 104) return Usage(a.command, "--weeks is 1..104");
  SystemClock now;
  cmd.from = now.Now();
  if (a.options.count("from")) {
    auto t = ParseIso(a.options["from"]);
    if (!t) return Usage(a.command, "--from must be an ISO 8601 time");
    cmd.from = *t;
  }
  return RunCampaigns(cmd, std::cout, std::cerr);
}

int ForgetHandler(Args& a, config::Config*) {
  if (a.positional.size() != 1) return Usage(a.command, "give one person (id or email)");
  auto o = OpenForOperator(a);
  if (o.code) return o.code;
  SystemClock clock;
  return Report(a.command, Forget(*o.cfg, *o.store, clock, a.positional[0]));
}

int PeopleHandler(Args& a, config::Config*) {
  if (a.positional.size() != 2 || (a.positional[0] != "opt-out" && a.positional[0] != "opt-in"))
    return Usage(a.command, "give opt-in or opt-out and a person (id or email)");
  auto o = OpenForOperator(a);
  if (o.code) return o.code;
  return Report(a.command, PeopleAction(*o.store, a.positional[0], a.positional[1]));
}

int DemoHandler(Args& a, config::Config*) {
  DemoOptions o;
  try {
    if (a.options.count("weeks")) o.weeks = std::stoi(a.options["weeks"]);
    if (a.options.count("people")) o.people = std::stoi(a.options["people"]);
    if (a.options.count("seed")) o.seed = std::stoull(a.options["seed"]);
  } catch (const std::exception&) {
    return Usage(a.command, "--weeks, --people and --seed take numbers");
  }
  if (o.weeks < 1 || o.weeks > 52 || o.people < 10)
    return Usage(a.command, "--weeks is 1..52 and --people at least 10");
  if (a.options.count("out")) o.out_dir = a.options["out"];
  if (a.options.count("config")) o.config_file = a.options["config"];
  return RunDemo(o);
}

int ReplayHandler(Args& a, config::Config* cfg) {
  if (!a.options.count("archive") || a.options["archive"].empty())
    return Usage(a.command, "--archive DIR is required");
  std::string path = a.options.count("store") ? a.options["store"] : cfg->store_path;
  auto target = store::OpenSqlite(path);
  if (!target.ok()) {
    std::cerr << "learnloop replay: " << target.error().message << "\n";
    return 1;
  }
  auto held = (*target)->AllMessages();
  if (!held.ok()) {
    std::cerr << "learnloop replay: " << held.error().message << "\n";
    return 1;
  }
  if (!held->empty()) {
    std::cerr << "learnloop replay: " << path
              << " already holds messages; replay rebuilds a store: give an empty one with "
                 "--store PATH\n";
    return 1;
  }
  auto r = ReplayArchive(*cfg, **target, a.options["archive"]);
  if (!r.ok()) {
    std::cerr << "learnloop replay: " << r.error().message << "\n";
    return 1;
  }
  for (const auto& w : r->warnings) std::cerr << "learnloop replay: " << w << "\n";
  std::cout << "replayed " << r->calls << " calls, " << r->pages << " pages, " << r->messages
            << " messages into " << path << "\n";
  return 0;
}

int ImportHandler(Args& a, config::Config* cfg) {
  // Into a store that does not exist yet, an import builds it aside and puts it in place whole.
  if (!std::filesystem::exists(cfg->store_path)) return Import(a, nullptr, cfg->store_path);
  auto store = OpenStore(cfg->store_path);
  if (!store) return 1;
  return Import(a, store.get(), cfg->store_path);
}

int RunHandler(Args& a, config::Config* cfg) {
  if (!a.options.count("clock"))
    if (int rc = CheckOptions(a, {"config"})) return rc;
  if (!NetworkSecretsReadable(*cfg)) return 2;
  auto store = OpenStore(cfg->store_path);
  if (!store) return 1;
  if (a.options.count("clock")) return RunOnSimulatedClock(a, *cfg, *store);
  SystemClock clock;
  Daemon d(*cfg, *store, clock);
  // Up, listening and ready before the ESN is asked anything: the first tick reads the
  // directories.
  if (auto s = d.Open(); !s.ok()) {
    std::cerr << "learnloop run: " << s.message() << "\n";
    return 1;
  }
  Logger("daemon")->info("{}", d.Banner());
  return RunRealtime(d, clock, Reloader(a.options["config"]));
}

int SyncHandler(Args& a, config::Config* cfg) {
  if (!NetworkSecretsReadable(*cfg)) return 2;
  auto store = OpenStore(cfg->store_path);
  if (!store) return 1;
  // A sync runs beside the daemon: the admin listener is the daemon's.
  cfg->admin.listen.clear();
  SystemClock clock;
  Daemon d(*cfg, *store, clock);
  if (auto s = d.Start(); !s.ok()) {
    std::cerr << "learnloop " << a.command << ": " << s.message() << "\n";
    return 1;
  }
  auto s = d.SyncUntilCaughtUp();
  std::cout << "synced: " << d.messages_ingested() << " message(s) read\n";
  if (!s.ok()) {
    std::cerr << "learnloop sync: " << s.message() << "\n";
    return 1;
  }
  return 0;
}

int ReportHandler(Args& a, config::Config* cfg) {
  auto week = IsoWeek::Parse(a.options["week"]);
  if (!week) return Usage(a.command, "--week must look like 2026-W47");
  std::string format = a.options.count("format") ? a.options["format"] : "json";
  if (format != "json" && format != "md" && format != "html" && format != "csv")
    return Usage(a.command, "--format is json, md, html or csv");
  if (format == "csv" && !a.options.count("out"))
    return Usage(a.command, "--format csv writes one file per table: give --out DIR");
  SystemClock clock;
  Time as_of = clock.Now();
  if (a.options.count("as-of")) {
    auto t = ParseIso(a.options["as-of"]);
    if (!t) return Usage(a.command, "--as-of must be an ISO 8601 time");
    as_of = *t;
  }
  auto store = OpenStore(cfg->store_path);
  if (!store) return 1;
  auto options = ReportOptionsFor(*cfg, *store);
  auto computed = options.ok() ? analytics::WeeklyReport(*store, *week, as_of, *options)
                               : Result<analytics::Report>::Fail(options.error().message);
  if (!computed.ok()) {
    std::cerr << "learnloop report: " << computed.error().message << "\n";
    return 1;
  }
  const analytics::Report& report = *computed;
  if (format == "csv") {
    std::error_code ec;
    std::filesystem::create_directories(a.options["out"], ec);
    for (const auto& [table, text] : analytics::RenderCsv(report)) {
      auto path = std::filesystem::path(a.options["out"]) /
                  ("learnloop-" + week->ToString() + "-" + table + ".csv");
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out << text;
      if (!out) {
        std::cerr << "learnloop report: cannot write " << path.string() << "\n";
        return 1;
      }
    }
    return 0;
  }
  std::string text = format == "json" ? analytics::RenderJson(report)
                     : format == "md" ? analytics::RenderMarkdown(report)
                                      : analytics::RenderHtml(report);
  if (a.options.count("out")) {
    std::ofstream out(a.options["out"], std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) {
      std::cerr << "learnloop report: cannot write " << a.options["out"] << "\n";
      return 1;
    }
  } else {
    std::cout << text;
  }
  return 0;
}

int ExportHandler(Args& a, config::Config* cfg) {
  if (!a.options.count("out")) return Usage(a.command, "--out DIR is required");
  auto store = OpenStore(cfg->store_path);
  if (!store) return 1;
  auto n = store::Export(*store, a.options["out"]);
  if (!n.ok()) {
    std::cerr << "learnloop export: " << n.error().message << "\n";
    return 1;
  }
  std::cout << "exported " << Counts(*n) << "\n"
            << "not exported: the secrets the store keeps (refresh tokens, notification "
               "client states, pseudonym and tombstone keys) and private conversations with "
               "the bot\n";
  return 0;
}

// A command: its lines in the list of commands, its help, the options it takes, whether it
// needs --config (loaded before its handler runs) and its handler.
struct Command {
  std::string name;
  std::string synopsis;
  std::string help;
  std::vector<std::string> options;
  bool needs_config = false;
  std::function<int(Args&, config::Config*)> run;
};

const std::vector<Command>& Commands() {
  static const std::vector<Command> commands = {
      {"run",
       "  run --config FILE             run the daemon: poll, post prompts, write weekly reports\n",
       "Usage: learnloop run --config FILE [--clock sim:URL [--until TIME]]\n\n"
       "Runs the daemon: polls every configured network, posts campaign prompts through the\n"
       "outbox, recognises answers and writes the report of each week once it has ended.\n"
       "SIGTERM or SIGINT stop it cleanly; a restart resumes from the stored cursors.\n\n"
       "--clock sim:URL runs it on esn-sim's simulated clock instead of the wall clock (for\n"
       "tests and demos): it starts at the simulator's time (URL is esn-sim's address,\n"
       "http://127.0.0.1:PORT), jumps from one due time to the next and moves the simulator's\n"
       "clock along; --until stops it at that simulated time (ISO 8601).\n",
       {"config", "clock", "until"},
       true,
       RunHandler},
      {"sync",
       "  sync --config FILE            poll every network until caught up, then exit\n",
       "Usage: learnloop sync --config FILE\n\n"
       "Polls every configured network until a poll brings nothing new, then exits.\n",
       {"config"},
       true,
       SyncHandler},
      {"report",
       "  report --config FILE --week YYYY-Www [--format json|md|html|csv] [--out FILE|DIR]\n"
       "         [--as-of TIME]         compute the report of one ISO week\n",
       "Usage: learnloop report --config FILE --week YYYY-Www [--format json|md|html|csv]\n"
       "                        [--out FILE] [--as-of TIME]\n\n"
       "Computes the weekly report of one ISO week (in the configured time zone) from the\n"
       "store. --as-of fixes the computation time (ISO 8601, default now): the same store\n"
       "and --as-of give byte-identical output. Without --out the report goes to stdout;\n"
       "csv writes one file per table into the folder --out names.\n",
       {"config", "week", "format", "out", "as-of"},
       true,
       ReportHandler},
      {"export",
       "  export --config FILE --out DIR\n"
       "                                write the store as JSON Lines (the exchange format)\n",
       "Usage: learnloop export --config FILE --out DIR\n\n"
       "Writes users, groups, messages, reactions, prompts and answers as JSON Lines.\n"
       "Secrets the store keeps (refresh tokens, notification client states, the pseudonym\n"
       "and tombstone keys) are never exported.\n",
       {"config", "out"},
       true,
       ExportHandler},
      {"import",
       "  import --config FILE DIR      read an exported folder into the store\n",
       "Usage: learnloop import --config FILE DIR\n\n"
       "Reads a folder written by export into the store (idempotent). A store that does not\n"
       "exist yet is built aside (FILE.importing) and put in place only when complete.\n",
       {"config"},
       true,
       ImportHandler},
      {"replay",
       "  replay --config FILE --archive DIR [--store PATH]\n"
       "                                rebuild a store from the raw archive, without the ESN\n",
       "Usage: learnloop replay --config FILE --archive DIR [--store PATH]\n\n"
       "Rebuilds the users, groups, messages and reactions of every configured network from\n"
       "the raw archive in DIR (the `archive` folder of the networks), without calling the\n"
       "ESN: the connectors read the archived pages again, call by call. Into an empty store:\n"
       "--store PATH, or the configured one when it is still empty.\n",
       {"config", "archive", "store"},
       true,
       ReplayHandler},
      {"check-config",
       "  check-config FILE             validate a configuration file\n",
       "Usage: learnloop check-config FILE\n\n"
       "Validates a configuration. Problems are printed as FILE:LINE:COL: message and\n"
       "the exit code is 2. Secrets are resolved but never printed.\n",
       {},
       false,
       CheckConfigHandler},
      {"campaigns",
       "  campaigns validate|list|show|preview FILE [--config F] [--weeks N] [--from TIME]\n"
       "                                check campaign definitions before they go live\n"
       "  campaigns pause|resume|skip|post-now NAME --config F\n"
       "                                steer a running campaign (the daemon follows at once)\n",
       "Usage: learnloop campaigns validate|list|show|preview FILE [--config F] [--weeks N]\n"
       "                [--from TIME]\n\n"
       "FILE is a campaign file (a list of campaigns, or a `campaigns:` list) or a whole\n"
       "configuration. validate reports every problem as FILE:LINE:COL; list gives one line\n"
       "per campaign; show gives each campaign with its steps and options; preview prints\n"
       "every prompt of the next N weeks (default 4, from now or --from) in the campaign's\n"
       "local time and in UTC, with the ones that quiet hours or holidays defer or skip.\n"
       "--config names the configuration whose networks the campaigns use.\n\n"
       "       learnloop campaigns pause|resume|skip|post-now NAME --config F\n\n"
       "Steers a campaign on the store the running daemon uses, without a restart: pause and\n"
       "resume it (an operator's pause wins over the file), skip its next prompt, or queue its\n"
       "next step now.\n",
       {"config", "weeks", "from"},
       false,
       CampaignsHandler},
      {"people",
       "  people opt-out|opt-in USER --config F\n"
       "                                a person (id or email) is never named by the bot, or "
       "again\n",
       "Usage: learnloop people opt-out|opt-in USER --config F\n\n"
       "USER is a learnloop id (yammer:123) or an email address. An opted-out person is never\n"
       "named in reminders or leaderboards; an opted-in one is shown on leaderboards (nobody is\n"
       "shown there otherwise).\n",
       {"config"},
       false,
       PeopleHandler},
      {"forget",
       "  forget USER --config F        erase a person from the store, the archive and every "
       "report\n",
       "Usage: learnloop forget USER --config F\n\n"
       "Erases a person (a learnloop id such as yammer:123, or an email address): from the\n"
       "store (their messages, reactions, answers, memberships, mentions of them, their name\n"
       "and id in anyone's text and in what the bot posted or will post), from the raw archive\n"
       "of the networks that keep one, and so from every export and report made from now on;\n"
       "then rewrites the store's files without the erased rows. They are not stored again,\n"
       "whatever a sync, an import or a replay brings (the store keeps a keyed hash of their\n"
       "id, not the id). Run it while learnloop run is stopped, or run it again after.\n",
       {"config"},
       false,
       ForgetHandler},
      {"demo",
       "  demo [--weeks N] [--people N] [--seed N] [--out DIR] [--config FILE]\n"
       "                                run against the built-in simulated network\n",
       "Usage: learnloop demo [--weeks N] [--people N] [--seed N] [--out DIR] [--config FILE]\n\n"
       "Starts esn-sim (a simulated Viva Engage network) on a free loopback port, runs the\n"
       "daemon against it on a simulated clock (default 4 weeks, 300 people), writes each\n"
       "week's report to DIR (default out/demo) and prints a summary.\n",
       {"weeks", "people", "seed", "out", "config"},
       false,
       DemoHandler},
  };
  return commands;
}

const Command* Find(const std::string& name) {
  for (const auto& c : Commands())
    if (c.name == name) return &c;
  return nullptr;
}

std::string UsageText();

int Usage(const std::string& command, const std::string& problem) {
  std::cerr << "learnloop " << command << ": " << problem << "\n";
  const Command* c = Find(command);
  std::cerr << (c ? c->help : UsageText());
  return 2;
}

std::string UsageText() {
  std::string text =
      "learnloop - social learning inside the enterprise social network\n\n"
      "Usage: learnloop COMMAND [options]\n\n"
      "Commands\n";
  for (const auto& c : Commands()) text += c.synopsis;
  text += "  help COMMAND                  help on one command\n\n";
  text += "Run `learnloop COMMAND --help` for the options of a command.\n";
  return text;
}

}  // namespace

int Main(int argc, char** argv) {
  Args a = Parse(argc, argv);
  if (a.command.empty() || a.command == "--help" || a.command == "-h") {
    std::cout << UsageText();
    return a.command.empty() ? 2 : 0;
  }
  if (a.command == "--version") {
    std::cout << "learnloop " << kVersion << " (metric definitions version "
              << analytics::kDefinitionsVersion << ")\n";
    return 0;
  }
  if (a.command == "help") {
    const Command* c = a.positional.empty() ? nullptr : Find(a.positional[0]);
    std::cout << (c ? c->help : UsageText());
    return 0;
  }
  const Command* c = Find(a.command);
  if (!c) {
    std::cerr << "learnloop: unknown command '" << a.command << "'\n\n" << UsageText();
    return 2;
  }
  if (a.help) {
    std::cout << c->help;
    return 0;
  }
  if (int rc = CheckOptions(a, c->options)) return rc;
  if (!c->needs_config) return c->run(a, nullptr);
  if (!a.options.count("config") || a.options["config"].empty())
    return Usage(a.command, "--config FILE is required");
  auto cfg = LoadConfig(a.options["config"]);
  if (!cfg) return 2;
  return c->run(a, &*cfg);
}

}  // namespace learnloop::daemon
