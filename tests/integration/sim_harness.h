#pragma once
// Runs learnloop against esn-sim on a free loopback port, on a manual clock that the
// simulator follows, exactly as the demo does.
#include <csignal>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "connectors/common/http.h"
#include "core/clock.h"
#include "core/json.h"
#include "daemon/daemon.h"
#include "daemon/sim_process.h"
#include "store/store.h"

namespace learnloop::it {

struct TruthMsg {
  int64_t id = 0, group = 0, thread = 0, parent = 0, sender = 0;
  Time created{};
  bool system = false, deleted = false, by_bot = false;
  std::string network;  // yammer | teams
  std::vector<int64_t> likes;
  std::string meant;        // what a simulated person meant by an answer ("B", "4"), or ""
  bool is_private = false;  // a private conversation (with the bot)
  std::string chat;         // its Teams personal chat ("a:…"), or ""
  std::string slack_ts;     // its ts on esn-sim's Slack (a community's message), or ""
};

struct Truth {
  int64_t bot = 0;
  std::string bot_app_id;
  std::map<int64_t, std::string> aad_of;      // person → Entra object id
  std::map<int64_t, std::string> channel_of;  // group → Teams channel id
  std::vector<TruthMsg> messages;
  json::Value raw;
  // The learnloop network that reads a Teams channel (group), where it is not "teams" (several
  // Teams networks on one simulator).
  std::map<int64_t, std::string> teams_network_of;
  std::string NetworkOf(const TruthMsg& m) const;
};

Truth ReadTruth(const json::Value& v);

std::string Y(int64_t native);
// The learnloop id of a simulator message, author or group, whichever network it is on.
std::string MessageId(const Truth& t, const TruthMsg& m, int64_t message_id);
// `network`: the learnloop network's name ("yammer" for Viva Engage).
std::string UserId(const Truth& t, const std::string& network, int64_t person);
// "" when the store holds every non-system message and like of the simulator exactly once
// (same thread, parent, author, time and group); otherwise what differs. With `likes_since`,
// likes of older messages need not be there (a source without likes fed those).
std::string CheckIngestedExactlyOnce(const Truth& truth, store::Store& store,
                                     std::optional<Time> likes_since = std::nullopt);

// How well the answers simulated people gave (in esn-sim's own phrasings) were read: the
// replies with a meaning, those read as meant, and those read as something else.
struct Reading {
  int meant = 0, right = 0, wrong = 0;
  std::string first_wrong;
  void Add(const std::string& text, const std::string& meant_choice,
           const std::optional<std::string>& read);
  double Recall() const { return meant ? 100.0 * right / meant : 100; }
};

// "" when every card button the simulator's people pressed before the prompt's close is stored
// as an answer of that person to that prompt with the pressed choice; otherwise the first that
// is not. `presses` gets how many were checked.
// With `lost`, a press at a time it accepts may be missing (the bot's endpoint was down then:
// Teams does not send it again for long).
std::string CheckCardPresses(const Truth& truth, store::Store& store, int* presses = nullptr,
                             const std::function<bool(Time)>& lost = nullptr);

// Runs `learnloop run --config CONFIG --clock sim:SIM_URL --until UNTIL` (the built binary) to
// its end and gives its exit code; with `kill_at`, kills it (SIGKILL) as soon as esn-sim's
// clock has reached that time, and gives -9. With `output`, what it prints (both streams) is
// appended to that file.
int RunLearnloop(const std::string& config, const std::string& sim_url, Time until,
                 std::optional<Time> kill_at = std::nullopt, const std::string& output = "");
// Starts `learnloop run --config CONFIG` (the built binary, on the wall clock, with the usual
// limit of 1024 open files) and gives its
// process id once its /healthz on `port` answers (-1 if it never does within 60 s). `env` is
// set in its environment.
int StartLearnloop(const std::string& config, int port, const std::string& output,
                   const std::map<std::string, std::string>& env = {});
// Sends `sig` to it and gives its exit code (-signal when a signal ended it).
int StopLearnloop(int pid, int sig = SIGTERM);
// The process's resident memory now and at its peak, in KiB (/proc/PID/status).
int64_t ResidentKiB(int pid, bool peak = false);
// A TCP port on 127.0.0.1 free a moment ago.
int FreePort();
// A configuration of tests/integration/configs/, as written there (with the placeholders
// SimRun::Start fills); a missing file throws.
std::string ReadConfig(const std::string& name);
// The same with the placeholders a test fills itself replaced, each everywhere, in order
// ({"DIR", "/tmp/x"}, …): for the tests that start no SimRun, or fill PORT.
std::string FillConfig(const std::string& name,
                       const std::vector<std::pair<std::string, std::string>>& fill);

struct SimRun {
  daemon::SimProcess sim;
  std::unique_ptr<connectors::http::Client> http =
      connectors::http::MakeClient(std::chrono::seconds{30});
  std::unique_ptr<ManualClock> clock;
  std::unique_ptr<store::Store> store;
  std::optional<config::Config> cfg;
  std::string dir;

  // Starts esn-sim at `start` with extra options and loads `yaml` (BASE_URL becomes the Yammer
  // API's URL, SIM_URL the simulator's, DIR a fresh temporary folder, TEAM_IDS the list of
  // the simulated Teams teams, TEAM_k the k-th team (in the simulator's order) and CHANNEL_k its
  // first channel, TEAMS_NETWORK the keys of a
  // Teams network on the simulator: `  - TEAMS_NETWORK` then any further keys of that network;
  // TEAMS_NETWORK_OWN_BOT the same with the bot's own app registration, sim-bot, whose secret
  // is in LEARNLOOP_IT_BOT_SECRET; YAMMER_DELEGATED the keys of a Viva Engage network read with
  // delegated access, its refresh token in LEARNLOOP_IT_REFRESH).
  std::string Start(Time start, const std::vector<std::string>& sim_args, std::string yaml);
  json::Value Get(const std::string& path);  // from the simulator, parsed
  // Tells the simulator's Teams where the daemon's bot endpoint listens now ("" or an error).
  std::string RegisterBot(const daemon::Daemon& d);
  // The same for a bot endpoint given as a URL (a `learnloop run` process's, say).
  std::string RegisterBot(const std::string& endpoint);
  // Sets the simulator's faults (a JSON object as /_sim/faults takes it); "" or an error.
  std::string SetFaults(const std::string& faults);
  // Switches every fault off; "" or an error.
  std::string StopFaults();
  // A daemon on the simulated clock until `until` (through whatever faults are on), then the
  // faults stop, a tick posts what a failed attempt left in the outbox and one clean catch-up
  // must find everything; "" or what failed.
  std::string RunThenCatchUpWithoutFaults(Time until);
  // The configuration as loaded, written to DIR/config.yaml for a `learnloop` process; its path.
  std::string WriteConfig();
  // Moves the simulator's clock (while no daemon runs); "" or an error.
  std::string SetClock(Time t);
  Time SimNow();     // the simulator's clock
  std::string yaml;  // the configuration's text, placeholders filled
  ~SimRun();
};

}  // namespace learnloop::it
