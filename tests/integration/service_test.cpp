// learnloop as an operator runs it: a real `learnloop run` process under a stand-in for
// systemd's notification socket, with its admin listener. It says it is ready before it asks the
// ESN anything, feeds the watchdog only while its work moves (a request the ESN never answers
// in time stops it, and /healthz says so), answers /readyz and /metrics (parsed with the
// Prometheus client's own parser), takes operators' actions through the admin API with its
// token, reloads its configuration on SIGHUP (and keeps it when the new one is wrong), and
// stops within 2 s.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "sim_harness.h"
#include "tests/support/ok.h"

using learnloop::testing::Ok;

using namespace learnloop;
using Steady = std::chrono::steady_clock;

namespace {

const std::string kYaml = it::ReadConfig("service.yaml");

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

// A stand-in for systemd's notification socket: every datagram, with when it came.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    timeval tv{0, 200000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    reader_ = std::thread([this] {
      char buf[4096];
      while (!stop_) {
        ssize_t n = recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) continue;
        std::lock_guard lock(mu_);
        got_.push_back({Steady::now(), std::string(buf, static_cast<size_t>(n))});
      }
    });
  }
  ~NotifySocket() {
    stop_ = true;
    reader_.join();
    close(fd_);
    unlink(path_.c_str());
  }
  // The messages that hold `what` (e.g. "WATCHDOG=1"), with their times.
  std::vector<Steady::time_point> Times(const std::string& what) {
    std::lock_guard lock(mu_);
    std::vector<Steady::time_point> out;
    for (const auto& [t, m] : got_)
      if (m.find(what) != std::string::npos) out.push_back(t);
    return out;
  }
  std::vector<std::string> All() {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& g : got_) out.push_back(g.second);
    return out;
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread reader_;
  std::mutex mu_;
  std::vector<std::pair<Steady::time_point, std::string>> got_;
};

struct Answer {
  int status = 0;
  std::string body, content_type, www_authenticate;
};

Answer Call(int port, const std::string& method, const std::string& path,
            const std::string& token = "") {
  auto http = connectors::http::MakeClient(std::chrono::seconds{10});
  connectors::http::Request r;
  r.method = method;
  r.url = "http://127.0.0.1:" + std::to_string(port) + path;
  if (!token.empty()) r.headers.push_back({"Authorization", "Bearer " + token});
  auto res = http->Send(r);
  if (!res.ok()) return {};
  return {res->status, res->body, res->Header("content-type").value_or(""),
          res->Header("www-authenticate").value_or("")};
}

// /metrics read by the Prometheus client library's parser: "name{k="v",…}" → value, the
// labels in the order the parser gives them (sorted here).
std::map<std::string, double> ParseMetrics(const std::string& dir, const std::string& text) {
  WriteFile(dir + "/metrics.txt", text);
  std::string cmd =
      "/usr/bin/python3 -c '\n"
      "import sys\n"
      "from prometheus_client.parser import text_string_to_metric_families\n"
      "for f in text_string_to_metric_families(open(sys.argv[1]).read()):\n"
      "    for s in f.samples:\n"
      "        l = \",\".join(k + \"=\" + v for k, v in sorted(s.labels.items()))\n"
      "        print(s.name + \"{\" + l + \"} \" + repr(float(s.value)))\n"
      "' " +
      dir + "/metrics.txt 2>&1";
  std::map<std::string, double> out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char line[4096];
  while (fgets(line, sizeof line, p)) {
    std::string l = line;
    auto sp = l.rfind(' ');
    if (sp == std::string::npos) continue;
    try {
      out[l.substr(0, sp)] = std::stod(l.substr(sp + 1));
    } catch (const std::exception&) {
      out["PARSE ERROR: " + l] = 0;
    }
  }
  if (pclose(p) != 0) out["PARSE ERROR: python3 failed"] = 0;
  return out;
}

// The sum of every series of `name` whose labels hold each of `with` ("network=yammer").
double Sum(const std::map<std::string, double>& m, const std::string& name,
           const std::vector<std::string>& with = {}) {
  double total = 0;
  for (const auto& [k, v] : m) {
    if (k.rfind(name + "{", 0) != 0) continue;
    bool all = true;
    for (const auto& w : with) all = all && k.find(w) != std::string::npos;
    if (all) total += v;
  }
  return total;
}

template <typename F>
bool WaitFor(F done, std::chrono::milliseconds within) {
  for (auto until = Steady::now() + within; Steady::now() < until;) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
  return done();
}

struct Service {
  it::SimRun run;
  int admin = 0, pid = -1;
  std::string config, log;
  const std::string token = "it-admin-token-1f9c2b";

  // esn-sim on the wall clock, and the configuration (LOG_FORMAT and EXTRA filled).
  void Start(const std::string& log_format, const std::string& extra) {
    setenv("LEARNLOOP_IT_ADMIN_TOKEN", token.c_str(), 1);
    const Time start = std::chrono::floor<std::chrono::minutes>(SystemClock().Now());
    admin = it::FreePort();
    std::string yaml = kYaml;
    yaml.replace(yaml.find("APORT"), 5, std::to_string(admin));
    yaml.replace(yaml.find("LOG_FORMAT"), 10, log_format);
    yaml.replace(yaml.find("EXTRA"), 5, extra);
    ASSERT_EQ(run.Start(start,
                        {"--clock", "real", "--rate-limit", "1000", "--people", "135", "--seed",
                         "17", "--history-days", "8", "--horizon-days", "1"},
                        yaml),
              "");
    run.store.reset();
    config = run.WriteConfig();
    log = run.dir + "/run.log";
  }
  // Bot posts the simulator holds.
  int BotPosts() {
    auto truth = it::ReadTruth(run.Get("/_sim/truth"));
    int n = 0;
    for (const auto& m : truth.messages) n += m.by_bot;
    return n;
  }
  ~Service() {
    if (pid > 0) it::StopLearnloop(pid, SIGKILL);
  }
};

}  // namespace

TEST(Service, ReadyBeforeTheEsnWatchdogOnlyWhileMovingMetricsAndAQuickStop) {
  Service s;
  ASSERT_NO_FATAL_FAILURE(s.Start("", ""));
  NotifySocket notify(s.run.dir + "/notify.sock");
  // stderr is "the journal" for this process: the same file as JOURNAL_STREAM names.
  WriteFile(s.log, "");
  struct stat st {};
  ASSERT_EQ(stat(s.log.c_str(), &st), 0);
  const auto journal = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  // The simulator answers nothing for 4 s at first: the daemon must be ready without it.
  ASSERT_EQ(s.run.SetFaults(R"({"slow_rate": 1.0, "slow_ms": 4000})"), "");
  s.pid = it::StartLearnloop(s.config, s.admin, s.log,
                             {{"NOTIFY_SOCKET", s.run.dir + "/notify.sock"},
                              {"WATCHDOG_USEC", "3000000"},
                              {"JOURNAL_STREAM", journal}});
  ASSERT_GT(s.pid, 0) << ReadFile(s.log);
  ASSERT_TRUE(WaitFor([&] { return !notify.Times("READY=1").empty(); }, std::chrono::seconds{5}));
  // Ready, yet not ready for work: nothing read from the ESN so far.
  auto early = Call(s.admin, "GET", "/readyz");
  EXPECT_EQ(early.status, 503) << early.body;
  EXPECT_NE(early.body.find("directory not read yet"), std::string::npos) << early.body;
  auto first = ParseMetrics(s.run.dir, Call(s.admin, "GET", "/metrics").body);
  ASSERT_EQ(s.run.SetFaults(R"({"slow_rate": 0})"), "");

  // The banner, in journald's shape (priority prefix, no time of ours).
  std::string text = ReadFile(s.log);
  EXPECT_NE(text.find("<6>[daemon] learnloop 0.1.0 starting: config " + s.config),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("listeners: admin 127.0.0.1:" + std::to_string(s.admin)), std::string::npos);

  // Ready once the directory is read and the feed polled.
  ASSERT_TRUE(WaitFor([&] { return Call(s.admin, "GET", "/readyz").status == 200; },
                      std::chrono::seconds{60}))
      << Call(s.admin, "GET", "/readyz").body << ReadFile(s.log);
  EXPECT_EQ(Call(s.admin, "GET", "/healthz").status, 200);

  // The metrics as Prometheus reads them, and moving with the traffic.
  auto metrics = ParseMetrics(s.run.dir, Call(s.admin, "GET", "/metrics").body);
  for (const auto& [k, v] : metrics) ASSERT_EQ(k.find("PARSE ERROR"), std::string::npos) << k;
  EXPECT_EQ(Sum(metrics, "learnloop_build_info", {"version=0.1.0"}), 1);
  double requests = Sum(metrics, "learnloop_esn_requests_total", {"network=yammer", "status=200"});
  EXPECT_GT(requests, Sum(first, "learnloop_esn_requests_total", {"status=200"}));
  EXPECT_GE(requests, 4);  // the account, people, communities, the feed
  EXPECT_GT(Sum(metrics, "learnloop_events_ingested_total", {"kind=message"}), 0);
  EXPECT_GT(Sum(metrics, "learnloop_events_ingested_total", {"kind=user"}), 100);
  EXPECT_EQ(Sum(first, "learnloop_events_ingested_total"), 0);
  EXPECT_EQ(metrics.count("learnloop_poll_lag_seconds{network=yammer}"), 1u);
  EXPECT_EQ(Sum(metrics, "learnloop_network_ready", {"network=yammer"}), 1);
  EXPECT_GT(Sum(metrics, "learnloop_last_success_timestamp_seconds", {"what=poll"}), 1.7e9);
  EXPECT_EQ(metrics.count("learnloop_outbox_items{state=posted}"), 1u);
  EXPECT_EQ(metrics.count("learnloop_prompts_open{}"), 1u);
  EXPECT_EQ(metrics.count("learnloop_report_runs_total{result=ok}"), 1u);  // last week's

  // A prompt posted now: the outbox and the requests move.
  auto posted = Call(s.admin, "POST", "/api/v1/campaigns/daily-quiz/post-now", s.token);
  ASSERT_EQ(posted.status, 200) << posted.body;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto m = ParseMetrics(s.run.dir, Call(s.admin, "GET", "/metrics").body);
        return Sum(m, "learnloop_outbox_items", {"state=posted"}) >= 1;
      },
      std::chrono::seconds{20}));
  auto after = ParseMetrics(s.run.dir, Call(s.admin, "GET", "/metrics").body);
  EXPECT_GE(Sum(after, "learnloop_esn_requests_total", {"status=201"}), 1);
  EXPECT_GE(Sum(after, "learnloop_prompts_open"), 1);

  // The watchdog is fed while the work moves...
  auto fed = notify.Times("WATCHDOG=1");
  ASSERT_GE(fed.size(), 2u);
  // ...and not while a request hangs past the watchdog interval (the ESN answers after 9 s).
  ASSERT_EQ(s.run.SetFaults(R"({"slow_rate": 1.0, "slow_ms": 9000})"), "");
  ASSERT_EQ(Call(s.admin, "POST", "/api/v1/campaigns/daily-quiz/post-now", s.token).status, 200);
  ASSERT_TRUE(WaitFor([&] { return Call(s.admin, "GET", "/healthz").status == 503; },
                      std::chrono::seconds{8}))
      << ReadFile(s.log);
  auto stuck_at = Steady::now();
  auto health = Call(s.admin, "GET", "/healthz");
  EXPECT_NE(health.body.find("stuck: the loop has not moved for"), std::string::npos)
      << health.body;
  std::this_thread::sleep_for(std::chrono::seconds{2});
  auto quiet_until = Steady::now();
  for (auto t : notify.Times("WATCHDOG=1"))
    EXPECT_FALSE(t > stuck_at + std::chrono::milliseconds{800} && t < quiet_until)
        << "the watchdog was fed while the loop was stuck";
  ASSERT_EQ(s.run.SetFaults(R"({"slow_rate": 0})"), "");
  // Moving again once the answer came: healthy, and fed.
  ASSERT_TRUE(WaitFor([&] { return Call(s.admin, "GET", "/healthz").status == 200; },
                      std::chrono::seconds{15}));
  auto moving_at = Steady::now();
  ASSERT_TRUE(WaitFor(
      [&] {
        for (auto t : notify.Times("WATCHDOG=1"))
          if (t > moving_at) return true;
        return false;
      },
      std::chrono::seconds{5}));
  EXPECT_NE(ReadFile(s.log).find("<3>[daemon] the loop has not moved for"), std::string::npos);

  // A stop while a request hangs: within 2 s, one line per unfinished item, STOPPING=1.
  ASSERT_EQ(s.run.SetFaults(R"({"slow_rate": 1.0, "slow_ms": 20000})"), "");
  ASSERT_EQ(Call(s.admin, "POST", "/api/v1/campaigns/daily-quiz/post-now", s.token).status, 200);
  std::this_thread::sleep_for(std::chrono::seconds{1});
  auto stop_at = Steady::now();
  int code = it::StopLearnloop(s.pid, SIGTERM);
  double took = std::chrono::duration<double>(Steady::now() - stop_at).count();
  s.pid = -1;
  std::printf("stopped in %.2f s\n", took);
  EXPECT_EQ(code, 0);
  EXPECT_LT(took, 2.0);
  EXPECT_FALSE(notify.Times("STOPPING=1").empty());
  text = ReadFile(s.log);
  EXPECT_EQ(text.find("will retry"), std::string::npos) << text;
  int stop_lines = 0;
  for (size_t p = 0; (p = text.find("[daemon] stop: ", p)) != std::string::npos; ++p) ++stop_lines;
  EXPECT_GE(stop_lines, 1) << text;
  EXPECT_LE(stop_lines, 5) << text;
  EXPECT_NE(text.find("stop: interrupted: campaigns and outbox"), std::string::npos) << text;
  ASSERT_EQ(s.run.SetFaults(R"({"slow_rate": 0})"), "");
  // Every STATUS= line is one line of what it did.
  bool said_status = false;
  for (const auto& m : notify.All()) said_status |= m.rfind("STATUS=", 0) == 0;
  EXPECT_TRUE(said_status);
}

TEST(Service, AdminApiWithItsTokenAndAReloadThatKeepsEverything) {
  Service s;
  ASSERT_NO_FATAL_FAILURE(s.Start("log_format: json", ""));
  s.pid = it::StartLearnloop(s.config, s.admin, s.log);
  ASSERT_GT(s.pid, 0) << ReadFile(s.log);
  ASSERT_TRUE(WaitFor([&] { return Call(s.admin, "GET", "/readyz").status == 200; },
                      std::chrono::seconds{60}))
      << ReadFile(s.log);

  // The token: none 401 (and says how), a wrong one 403, the right one 200.
  auto none = Call(s.admin, "GET", "/api/v1/campaigns");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.www_authenticate, "Bearer");
  EXPECT_EQ(Call(s.admin, "GET", "/api/v1/campaigns", "it-admin-token-1f9c2c").status, 403);
  EXPECT_EQ(Call(s.admin, "GET", "/api/v1/campaigns", "x").status, 403);
  auto list = Call(s.admin, "GET", "/api/v1/campaigns", s.token);
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_NE(list.body.find(R"("name":"daily-quiz")"), std::string::npos) << list.body;
  EXPECT_NE(list.body.find(R"("paused":false)"), std::string::npos) << list.body;

  // Campaigns: pause, resume, skip, post-now.
  EXPECT_EQ(Call(s.admin, "POST", "/api/v1/campaigns/daily-quiz/pause", s.token).status, 200);
  EXPECT_NE(Call(s.admin, "GET", "/api/v1/campaigns", s.token).body.find(R"("paused":true)"),
            std::string::npos);
  EXPECT_EQ(Call(s.admin, "POST", "/api/v1/campaigns/daily-quiz/resume", s.token).status, 200);
  auto skipped = Call(s.admin, "POST", "/api/v1/campaigns/daily-quiz/skip", s.token);
  EXPECT_EQ(skipped.status, 200) << skipped.body;
  EXPECT_NE(skipped.body.find("will not be posted"), std::string::npos) << skipped.body;
  EXPECT_EQ(Call(s.admin, "POST", "/api/v1/campaigns/nope/pause", s.token).status, 404);
  EXPECT_EQ(Call(s.admin, "GET", "/api/v1/campaigns/daily-quiz/pause", s.token).status, 405);
  const int before = s.BotPosts();
  ASSERT_EQ(Call(s.admin, "POST", "/api/v1/campaigns/daily-quiz/post-now", s.token).status, 200);
  ASSERT_TRUE(WaitFor([&] { return s.BotPosts() == before + 1; }, std::chrono::seconds{20}));

  // Reports: the list (last week's, written at start), each format.
  auto reports = Call(s.admin, "GET", "/api/v1/reports", s.token);
  ASSERT_EQ(reports.status, 200);
  auto v = json::Parse(reports.body);
  ASSERT_TRUE(v.ok());
  std::string week, csv;
  for (const auto& r : v->at("reports").as_array()) {
    week = *json::GetString(r, "week");
    auto file = *json::GetString(r, "file");
    if (file.find(".csv") != std::string::npos) csv = file;
  }
  ASSERT_FALSE(week.empty()) << reports.body;
  auto html = Call(s.admin, "GET", "/api/v1/reports/" + week + "?format=html", s.token);
  EXPECT_EQ(html.status, 200);
  EXPECT_EQ(html.content_type.rfind("text/html", 0), 0u);
  EXPECT_NE(html.body.find("<html"), std::string::npos);
  auto js = Call(s.admin, "GET", "/api/v1/reports/" + week, s.token);
  EXPECT_EQ(js.status, 200);
  EXPECT_TRUE(json::Parse(js.body).ok());
  ASSERT_FALSE(csv.empty());
  auto table = Call(s.admin, "GET", "/api/v1/reports/" + csv, s.token);
  EXPECT_EQ(table.status, 200);
  EXPECT_EQ(table.content_type.rfind("text/csv", 0), 0u);
  EXPECT_EQ(Call(s.admin, "GET", "/api/v1/reports/..%2Fservice.db", s.token).status, 404);

  // People: opt-out, opt-in, forget (by id).
  auto truth = it::ReadTruth(s.run.Get("/_sim/truth"));
  std::string person;
  for (const auto& m : truth.messages)
    if (!m.by_bot && !m.system) person = it::UserId(truth, "yammer", m.sender);
  ASSERT_FALSE(person.empty());
  auto out = Call(s.admin, "POST", "/api/v1/people/" + person + "/opt-out", s.token);
  EXPECT_EQ(out.status, 200) << out.body;
  EXPECT_NE(out.body.find("opted out"), std::string::npos);
  EXPECT_EQ(Call(s.admin, "POST", "/api/v1/people/" + person + "/opt-in", s.token).status, 200);
  EXPECT_EQ(Call(s.admin, "POST", "/api/v1/people/nobody@example.com/opt-in", s.token).status, 404);
  auto forgot = Call(s.admin, "POST", "/api/v1/people/" + person + "/forget", s.token);
  EXPECT_EQ(forgot.status, 200) << forgot.body;
  EXPECT_NE(forgot.body.find(person + " forgotten"), std::string::npos) << forgot.body;
  {
    auto st = store::OpenSqlite(s.run.dir + "/service.db");
    ASSERT_TRUE(st.ok());
    EXPECT_TRUE(Ok((*st)->IsForgotten(person)));
    EXPECT_FALSE(Ok((*st)->GetUser(person)).has_value());
  }

  // A reload that adds a campaign: it is there at once, and nothing posted is posted again.
  const int posts = s.BotPosts();
  std::string yaml = ReadFile(s.config);
  WriteFile(s.config, yaml + R"(  - name: tip-of-the-week
    network: yammer
    community: "13114941440"
    schedule: "0 11 * * MON"
    prompts: ["Which shortcut saved you the most time this week?"]
)");
  kill(s.pid, SIGHUP);
  ASSERT_TRUE(WaitFor([&] { return ReadFile(s.log).find("reloaded ") != std::string::npos; },
                      std::chrono::seconds{20}))
      << ReadFile(s.log);
  EXPECT_NE(ReadFile(s.log).find("networks: 1 unchanged, 0 new or changed"), std::string::npos);
  auto listed = Call(s.admin, "GET", "/api/v1/campaigns", s.token);
  EXPECT_NE(listed.body.find(R"("name":"tip-of-the-week")"), std::string::npos) << listed.body;
  ASSERT_EQ(Call(s.admin, "POST", "/api/v1/campaigns/tip-of-the-week/post-now", s.token).status,
            200);
  ASSERT_TRUE(WaitFor([&] { return s.BotPosts() == posts + 1; }, std::chrono::seconds{20}));
  std::this_thread::sleep_for(std::chrono::seconds{6});  // a poll or more after the reload
  EXPECT_EQ(s.BotPosts(), posts + 1);

  // A wrong configuration: refused with where and what, and the one before stays.
  WriteFile(s.config, yaml + "  - name: broken\n    network: yammer\n    schedul: \"0 9 * * *\"\n");
  kill(s.pid, SIGHUP);
  ASSERT_TRUE(WaitFor([&] { return ReadFile(s.log).find("reload refused") != std::string::npos; },
                      std::chrono::seconds{20}))
      << ReadFile(s.log);
  std::string text = ReadFile(s.log);
  EXPECT_NE(text.find(s.config + ":"), std::string::npos) << text;
  EXPECT_NE(text.find("schedul"), std::string::npos) << text;
  EXPECT_NE(Call(s.admin, "GET", "/api/v1/campaigns", s.token).body.find("tip-of-the-week"),
            std::string::npos);
  EXPECT_EQ(Call(s.admin, "GET", "/healthz").status, 200);

  // Every line of the log is a JSON object with a level and a message.
  EXPECT_EQ(it::StopLearnloop(s.pid, SIGTERM), 0);
  s.pid = -1;
  std::istringstream lines(ReadFile(s.log));
  int n = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    auto j = json::Parse(line);
    ASSERT_TRUE(j.ok() && j->is_object()) << line;
    EXPECT_TRUE(json::GetString(*j, "level").has_value()) << line;
    EXPECT_TRUE(json::GetString(*j, "msg").has_value()) << line;
    ++n;
  }
  EXPECT_GT(n, 5);
}

// The admin listener with a certificate speaks HTTPS only.
TEST(Service, AdminListenerSpeaksTlsWithItsCertificate) {
  Service s;
  ASSERT_NO_FATAL_FAILURE(s.Start("", ""));
  const std::string cert = s.run.dir + "/admin.crt", key = s.run.dir + "/admin.key";
  ASSERT_EQ(std::system(("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 "
                         "-addext subjectAltName=IP:127.0.0.1 -keyout " +
                         key + " -out " + cert + " 2>/dev/null")
                            .c_str()),
            0);
  // The public listener (plain) tells when it is up.
  const int open_port = it::FreePort();
  std::string yaml = ReadFile(s.config);
  const std::string admin_line = "admin: {listen: \"127.0.0.1:" + std::to_string(s.admin) +
                                 "\", token: \"${LEARNLOOP_IT_ADMIN_TOKEN}\"";
  ASSERT_NE(yaml.find(admin_line), std::string::npos) << yaml;
  yaml.replace(yaml.find(admin_line), admin_line.size(),
               admin_line + ", tls_cert: " + cert + ", tls_key: " + key);
  WriteFile(s.config, "server: {listen: \"127.0.0.1:" + std::to_string(open_port) + "\"}\n" + yaml);
  s.pid = it::StartLearnloop(s.config, open_port, s.log);
  ASSERT_GT(s.pid, 0) << ReadFile(s.log);
  // Python's own TLS client, checking the certificate against it.
  auto fetch = [&](const std::string& path, const std::string& token) {
    std::string cmd =
        "/usr/bin/python3 -c '\n"
        "import ssl, sys, urllib.request\n"
        "ctx = ssl.create_default_context(cafile=sys.argv[1])\n"
        "r = urllib.request.Request(sys.argv[2], headers={\"Authorization\": \"Bearer \" + "
        "sys.argv[3]})\n"
        "try:\n"
        "    print(urllib.request.urlopen(r, context=ctx, timeout=10).status)\n"
        "except urllib.error.HTTPError as e:\n"
        "    print(e.code)\n"
        "' " +
        cert + " https://127.0.0.1:" + std::to_string(s.admin) + path + " " + token + " 2>&1";
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    char buf[512];
    while (p && fgets(buf, sizeof buf, p)) out += buf;
    if (p) pclose(p);
    return out;
  };
  EXPECT_EQ(fetch("/healthz", "-"), "200\n");
  EXPECT_EQ(fetch("/api/v1/campaigns", s.token), "200\n");
  EXPECT_EQ(fetch("/api/v1/campaigns", "wrong"), "403\n");
  // Plain HTTP gets no answer there.
  EXPECT_NE(Call(s.admin, "GET", "/healthz").status, 200);
  EXPECT_NE(ReadFile(s.log).find("admin listener on https://127.0.0.1:"), std::string::npos);
  EXPECT_EQ(it::StopLearnloop(s.pid, SIGTERM), 0);
  s.pid = -1;
}
