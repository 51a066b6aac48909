#include "sim_harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "connectors/registry.h"
#include "daemon/run_loop.h"
#include "tests/support/ok.h"

using learnloop::testing::Ok;

namespace learnloop::it {

std::string Y(int64_t native) { return "yammer:" + std::to_string(native); }

std::string Truth::NetworkOf(const TruthMsg& m) const {
  if (m.network != "teams") return m.network;
  auto it = teams_network_of.find(m.group);
  return it == teams_network_of.end() ? "teams" : it->second;
}

std::string MessageId(const Truth& t, const TruthMsg& m, int64_t message_id) {
  if (m.network != "teams") return Y(message_id);
  if (!m.chat.empty()) return "teams:" + m.chat + "/" + std::to_string(message_id);
  return t.NetworkOf(m) + ":" + t.channel_of.at(m.group) + "/" + std::to_string(message_id);
}

std::string UserId(const Truth& t, const std::string& network, int64_t person) {
  if (network == "yammer") return Y(person);
  if (person == t.bot) return network + ":" + t.bot_app_id;
  return network + ":" + t.aad_of.at(person);
}

Truth ReadTruth(const json::Value& v) {
  Truth t;
  t.raw = v;
  t.bot = *json::GetInt64(v, "bot_user_id");
  t.bot_app_id = json::GetString(v, "bot_app_id").value_or("");
  for (const auto& u : v.at("users").as_array())
    t.aad_of[*json::GetInt64(u, "id")] = json::GetString(u, "aad_id").value_or("");
  for (const auto& g : v.at("groups").as_array())
    if (auto ch = json::GetString(g, "channel_id")) t.channel_of[*json::GetInt64(g, "id")] = *ch;
  for (const auto& m : v.at("messages").as_array()) {
    TruthMsg x;
    x.id = *json::GetInt64(m, "id");
    x.group = json::GetInt64(m, "group_id").value_or(0);
    x.thread = *json::GetInt64(m, "thread_id");
    x.parent = json::GetInt64(m, "replied_to_id").value_or(0);
    x.sender = *json::GetInt64(m, "sender_id");
    x.created = *ParseIso(*json::GetString(m, "created_at"));
    x.system = *json::GetBool(m, "system");
    x.deleted = *json::GetBool(m, "deleted");
    x.by_bot = *json::GetBool(m, "by_bot");
    x.network = json::GetString(m, "network").value_or("yammer");
    x.meant = json::GetString(m, "meant").value_or("");
    x.is_private = json::GetBool(m, "private").value_or(false);
    x.chat = json::GetString(m, "chat").value_or("");
    x.slack_ts = json::GetString(m, "slack_ts").value_or("");
    for (const auto& l : m.at("liked_by").as_array()) x.likes.push_back(l.as_number().to_int64());
    t.messages.push_back(x);
  }
  return t;
}

std::string CheckIngestedExactlyOnce(const Truth& truth, store::Store& store,
                                     std::optional<Time> likes_since) {
  std::ostringstream problems;
  std::map<std::string, const TruthMsg*> expected;
  std::set<std::pair<std::string, std::string>> likes;
  // Only the networks learnloop reads: those of the stored groups.
  std::set<std::string> networks;
  for (const auto& g : Ok(store.AllGroups())) networks.insert(g.network);
  for (const auto& m : truth.messages) {
    // (Private conversations with the bot are checked as answers, not as network activity.)
    if (m.system || m.is_private || !networks.count(truth.NetworkOf(m))) continue;
    expected[MessageId(truth, m, m.id)] = &m;
    if (!m.deleted)  // likes on deleted messages are not shown any more, and do not count
      for (int64_t u : m.likes)
        likes.insert({MessageId(truth, m, m.id), UserId(truth, truth.NetworkOf(m), u)});
  }
  auto stored = Ok(store.AllMessages());
  std::set<std::string> ids;
  for (const auto& m : stored) {
    if (!ids.insert(m.id).second) problems << m.id << " stored twice\n";
    if (m.group_id && IsPrivateGroup(*m.group_id)) continue;
    auto it = expected.find(m.id);
    if (it == expected.end()) {
      problems << m.id << " is not in the simulator\n";
      continue;
    }
    const TruthMsg& t = *it->second;
    if (m.deleted != t.deleted)
      problems << m.id << (t.deleted ? " was deleted" : " is not deleted") << "\n";
    // Viva Engage messages without a group were posted to All Company.
    std::string group = t.network == "teams"
                            ? truth.NetworkOf(t) + ":" + truth.channel_of.at(t.group)
                        : t.group ? Y(t.group)
                                  : std::string("yammer:all-company");
    std::string differs;
    if (m.thread_id != MessageId(truth, t, t.thread)) differs += " thread " + m.thread_id;
    if (m.reply_to_id.value_or("") != (t.parent ? MessageId(truth, t, t.parent) : ""))
      differs += " parent " + m.reply_to_id.value_or("-");
    if (m.author_id != UserId(truth, truth.NetworkOf(t), t.sender))
      differs += " author " + m.author_id;
    // (Viva Engage gives times to the second; the simulator's clock may stand between two,
    // after a restart at a moment of its own.)
    if (t.network == "yammer" ? std::chrono::floor<std::chrono::seconds>(m.created_at) !=
                                    std::chrono::floor<std::chrono::seconds>(t.created)
                              : m.created_at != t.created)
      differs +=
          " time " + FormatIsoMillis(m.created_at) + " (not " + FormatIsoMillis(t.created) + ")";
    if (m.group_id.value_or("") != group)
      differs += " group " + m.group_id.value_or("-") + " (not " + group + ")";
    if (!differs.empty())
      problems << m.id << " differs from the simulator's message:" << differs << "\n";
  }
  for (const auto& [id, m] : expected)  // a message deleted before it was ever read may be absent
    if (!ids.count(id) && !m->deleted) problems << id << " is missing\n";
  auto reactions = Ok(store.AllReactions());
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& r : reactions) {
    auto msg = expected.find(r.message_id);
    if (msg != expected.end() && msg->second->deleted) continue;
    if (!likes.count({r.message_id, r.user_id}))
      problems << "like " << r.message_id << " by " << r.user_id << " is not in the simulator\n";
    seen.insert({r.message_id, r.user_id});
  }
  for (const auto& l : likes) {
    if (likes_since && expected.at(l.first)->created < *likes_since) continue;
    if (!seen.count(l)) problems << "like " << l.first << " by " << l.second << " is missing\n";
  }
  std::string out = problems.str();
  return out.size() > 4000 ? out.substr(0, 4000) + "..." : out;
}

void Reading::Add(const std::string& text, const std::string& meant_choice,
                  const std::optional<std::string>& read) {
  ++meant;
  if (read == meant_choice) {
    ++right;
  } else if (read) {
    ++wrong;
    if (first_wrong.empty())
      first_wrong = "'" + text + "' read as " + *read + ", meant " + meant_choice;
  }
}

std::string CheckCardPresses(const Truth& truth, store::Store& store, int* presses,
                             const std::function<bool(Time)>& lost) {
  std::map<std::string, Prompt> prompt_of_message;
  for (const auto& p : Ok(store.AllPrompts())) prompt_of_message[p.message_id] = p;
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> stored;
  for (const auto& a : Ok(store.AllAnswers()))
    if (a.choice) stored[{a.prompt_id, a.user_id}].push_back(*a.choice);
  std::map<int64_t, std::string> message_id;  // simulator id → learnloop id
  std::map<int64_t, std::string> network_of;  // simulator id → learnloop network
  for (const auto& m : truth.messages) {
    message_id[m.id] = MessageId(truth, m, m.id);
    network_of[m.id] = truth.NetworkOf(m);
  }
  int n = 0;
  for (const auto& c : truth.raw.at("card_actions").as_array()) {
    int64_t card = *json::GetInt64(c, "message_id");
    auto p = prompt_of_message.find(message_id[card]);
    if (p == prompt_of_message.end()) return "a press on " + std::to_string(card) + ", no prompt";
    if (p->second.closes_at && *ParseIso(*json::GetString(c, "at")) >= *p->second.closes_at)
      continue;
    std::string user = UserId(truth, network_of[card], *json::GetInt64(c, "user_id"));
    std::string choice = *json::GetString(c.at("data"), "choice");
    auto got = stored.find({p->second.id, user});
    if (got == stored.end() ||
        std::find(got->second.begin(), got->second.end(), choice) == got->second.end()) {
      if (lost && lost(*ParseIso(*json::GetString(c, "at")))) continue;
      std::string had;
      if (got != stored.end())
        for (const auto& h : got->second) had += " " + h;
      return user + " pressed " + choice + " at " + *json::GetString(c, "at") + " on " +
             p->second.id + ": not stored" + (had.empty() ? "" : " (stored:" + had + ")");
    }
    ++n;
  }
  if (presses) *presses = n;
  return "";
}

int RunLearnloop(const std::string& config, const std::string& sim_url, Time until,
                 std::optional<Time> kill_at, const std::string& output) {
  std::string bin = LEARNLOOP_BIN;
  std::string clock = "sim:" + sim_url, until_text = FormatIso(until);
  pid_t pid = fork();
  if (pid == 0) {
    if (!output.empty()) {
      int fd = open(output.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      if (fd < 0) _exit(126);
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    execl(bin.c_str(), bin.c_str(), "run", "--config", config.c_str(), "--clock", clock.c_str(),
          "--until", until_text.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = -1;
  if (kill_at) {
    auto http = connectors::http::MakeClient(std::chrono::seconds{10});
    for (;;) {
      if (waitpid(pid, &status, WNOHANG) == pid)  // it ended before
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      connectors::http::Request r;
      r.url = sim_url + "/_sim/clock";
      auto res = http->Send(r);
      auto v = res.ok() ? json::Parse(res->body) : Result<json::Value>::Fail("");
      auto now = v.ok() ? ParseIso(json::GetString(*v, "now").value_or("")) : std::nullopt;
      if (now && *now >= *kill_at) break;
      std::this_thread::sleep_for(std::chrono::milliseconds{25});  // light on the simulator
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -9;
  }
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int StartLearnloop(const std::string& config, int port, const std::string& output,
                   const std::map<std::string, std::string>& env) {
  std::string bin = LEARNLOOP_BIN;
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(output.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd < 0) _exit(126);
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    dup2(fd, 1);
    dup2(fd, 2);
    close(fd);
    // The descriptors a service gets by default (systemd, a login shell): 1024.
    rlimit files{1024, 1024};
    setrlimit(RLIMIT_NOFILE, &files);
    execl(bin.c_str(), bin.c_str(), "run", "--config", config.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  auto http = connectors::http::MakeClient(std::chrono::seconds{2});
  for (int i = 0; i < 600; ++i) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return -1;  // it ended
    connectors::http::Request r;
    r.url = "http://127.0.0.1:" + std::to_string(port) + "/healthz";
    auto res = http->Send(r);
    if (res.ok() && res->status == 200) return pid;
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return -1;
}

int StopLearnloop(int pid, int sig) {
  kill(pid, sig);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

int64_t ResidentKiB(int pid, bool peak) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  const std::string key = peak ? "VmHWM:" : "VmRSS:";
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key, 0) == 0) return std::stoll(line.substr(key.size()));
  return -1;
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  close(fd);
  return port;
}

std::string ReadConfig(const std::string& name) {
  std::string path = std::string(LEARNLOOP_SOURCE_DIR) + "/tests/integration/configs/" + name;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read the test configuration " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string FillConfig(const std::string& name,
                       const std::vector<std::pair<std::string, std::string>>& fill) {
  std::string text = ReadConfig(name);
  for (const auto& [from, to] : fill)
    for (size_t p = 0; (p = text.find(from, p)) != std::string::npos; p += to.size())
      text.replace(p, from.size(), to);
  return text;
}

std::string SimRun::WriteConfig() {
  std::string path = dir + "/config.yaml";
  std::ofstream(path) << yaml;
  return path;
}

std::string SimRun::SetClock(Time t) {
  connectors::http::Request r;
  r.method = "POST";
  r.url = sim.base_url() + "/_sim/clock";
  r.body = "{\"now\":\"" + FormatIso(t) + "\"}";
  auto res = http->Send(r);
  if (!res.ok()) return res.error().message;
  return res->status == 200 ? "" : "HTTP " + std::to_string(res->status);
}

Time SimRun::SimNow() {
  auto v = Get("/_sim/clock");
  return ParseIso(json::GetString(v, "now").value_or("")).value_or(Time{});
}

std::string SimRun::RegisterBot(const daemon::Daemon& d) {
  return RegisterBot(d.public_url() + "/api/messages");
}

std::string SimRun::RegisterBot(const std::string& endpoint) {
  connectors::http::Request reg;
  reg.method = "POST";
  reg.url = sim.base_url() + "/_sim/bot";
  reg.body = R"({"endpoint":")" + endpoint + R"("})";
  auto r = http->Send(reg);
  if (!r.ok()) return r.error().message;
  return r->status == 200 ? "" : "HTTP " + std::to_string(r->status);
}

std::string SimRun::SetFaults(const std::string& faults) {
  connectors::http::Request req;
  req.method = "POST";
  req.url = sim.base_url() + "/_sim/faults";
  req.body = faults;
  auto r = http->Send(req);
  return r.ok() ? "" : r.error().message;
}

std::string SimRun::StopFaults() {
  return SetFaults(
      R"({"error_rate": 0, "truncate_rate": 0, "slow_rate": 0, "reset_rate": 0, "throttle_rate": 0})");
}

std::string SimRun::RunThenCatchUpWithoutFaults(Time until) {
  daemon::Daemon d(*cfg, *store, *clock);
  if (auto s = d.Start(); !s.ok()) return "start: " + s.message();
  daemon::RunSimulated(d, *clock, until);
  if (auto e = StopFaults(); !e.empty()) return "faults off: " + e;
  if (auto s = d.Tick(); !s.ok()) return "tick: " + s.message();
  if (auto s = d.SyncUntilCaughtUp(); !s.ok()) return "catch-up: " + s.message();
  return "";
}

std::string SimRun::Start(Time start, const std::vector<std::string>& sim_args, std::string yaml) {
  char t[] = "/tmp/learnloop-it-XXXXXX";
  dir = mkdtemp(t);
  std::vector<std::string> args{"--start", FormatIso(start), "--clock",
                                "manual",  "--token",        "it-token"};
  args.insert(args.end(), sim_args.begin(), sim_args.end());
  auto s = sim.Start(daemon::FindSimBinary(), args);
  if (!s.ok()) return s.message();
  setenv("LEARNLOOP_IT_TOKEN", "it-token", 1);
  // The Teams network as the simulator serves it (an item of `networks`; more keys may follow).
  const std::string teams_network = R"(type: teams
    base_url: SIM_URL/v1.0
    auth:
      tenant: 5f1c1d0e-2b0a-4c3e-9d5e-7a1b2c3d4e5f
      client_id: sim-app
      client_secret: ${LEARNLOOP_IT_SECRET}
      token_url: SIM_URL/5f1c1d0e-2b0a-4c3e-9d5e-7a1b2c3d4e5f/oauth2/v2.0/token
    teams: TEAM_IDS
    bot:
      service_url: SIM_URL/bf/
      token_url: SIM_URL/botframework.com/oauth2/v2.0/token
      openid_url: SIM_URL/botframework/v1/.well-known/openidconfiguration)";
  // The same, with the bot an app registration of its own (esn-sim's --bot-client-id sim-bot).
  // Viva Engage with delegated access: a refresh token from LEARNLOOP_IT_REFRESH.
  for (size_t p; (p = yaml.find("YAMMER_DELEGATED")) != std::string::npos;)
    yaml.replace(p, 16, R"(type: yammer
    base_url: BASE_URL
    auth:
      tenant: 5f1c1d0e-2b0a-4c3e-9d5e-7a1b2c3d4e5f
      client_id: sim-app
      refresh_token: ${LEARNLOOP_IT_REFRESH}
      token_url: SIM_URL/5f1c1d0e-2b0a-4c3e-9d5e-7a1b2c3d4e5f/oauth2/v2.0/token)");
  for (size_t p; (p = yaml.find("TEAMS_NETWORK_OWN_BOT")) != std::string::npos;)
    yaml.replace(p, 21,
                 teams_network +
                     "\n      client_id: sim-bot\n      client_secret: ${LEARNLOOP_IT_BOT_SECRET}");
  for (size_t p; (p = yaml.find("TEAMS_NETWORK")) != std::string::npos;)
    yaml.replace(p, 13, teams_network);
  // SLACK_CHANNEL: the first community the bot is a member of, as esn-sim's Slack names it.
  if (yaml.find("SLACK_CHANNEL") != std::string::npos) {
    json::Value truth = Get("/_sim/truth");
    int64_t bot = *json::GetInt64(truth, "bot_user_id");
    std::string channel;
    for (const auto& g : truth.at("groups").as_array()) {
      if (!channel.empty() || json::GetString(g, "team_id") || json::GetBool(g, "company_wide"))
        continue;
      for (const auto& id : g.at("members").as_array())
        if (id.as_number().to_int64() == bot)
          channel = "C" + std::to_string(*json::GetInt64(g, "id"));
    }
    for (size_t p; (p = yaml.find("SLACK_CHANNEL")) != std::string::npos;)
      yaml.replace(p, 13, "\"" + channel + "\"");
  }
  for (size_t p; (p = yaml.find("BASE_URL")) != std::string::npos;)
    yaml.replace(p, 8, sim.base_url() + "/api/v1");
  for (size_t p; (p = yaml.find("SIM_URL")) != std::string::npos;)
    yaml.replace(p, 7, sim.base_url());
  if (yaml.find("TEAM_") != std::string::npos || yaml.find("CHANNEL_") != std::string::npos) {
    std::set<std::string> teams;
    std::vector<std::pair<std::string, std::string>> first_channel;  // team, its first channel
    json::Value truth = Get("/_sim/truth");
    for (const auto& g : truth.at("groups").as_array())
      if (auto team = json::GetString(g, "team_id"))
        if (teams.insert(*team).second)
          first_channel.push_back({*team, *json::GetString(g, "channel_id")});
    std::string list = "[";
    for (const auto& t : teams) list += (list.size() > 1 ? ", " : "") + t;
    list += "]";
    for (size_t p; (p = yaml.find("TEAM_IDS")) != std::string::npos;) yaml.replace(p, 8, list);
    for (size_t k = 0; k < first_channel.size() && k < 10; ++k) {
      const std::string team = "TEAM_" + std::to_string(k),
                        channel = "CHANNEL_" + std::to_string(k);
      for (size_t p; (p = yaml.find(team)) != std::string::npos;)
        yaml.replace(p, team.size(), first_channel[k].first);
      for (size_t p; (p = yaml.find(channel)) != std::string::npos;)
        yaml.replace(p, channel.size(), "\"" + first_channel[k].second + "\"");
    }
  }
  for (size_t p; (p = yaml.find("DIR")) != std::string::npos;) yaml.replace(p, 3, dir);
  this->yaml = yaml;
  auto loaded = config::LoadString(yaml, "it.yaml", connectors::Kinds());
  if (!loaded.config) return loaded.errors.at(0).ToString();
  cfg = *loaded.config;
  auto st = store::OpenSqlite(cfg->store_path);
  if (!st.ok()) return st.error().message;
  store = std::move(*st);
  clock = std::make_unique<ManualClock>(start);
  daemon::KeepInStep(*clock, sim);
  return "";
}

json::Value SimRun::Get(const std::string& path) {
  connectors::http::Request r;
  r.url = sim.base_url() + path;
  auto res = http->Send(r);
  if (!res.ok()) return json::Value();
  auto v = json::Parse(res->body);
  return v.ok() ? *v : json::Value();
}

SimRun::~SimRun() {
  sim.Stop();
  store.reset();
  if (!dir.empty()) std::filesystem::remove_all(dir);
}

}  // namespace learnloop::it
