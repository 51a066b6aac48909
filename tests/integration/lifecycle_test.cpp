// Graph's subscription lifecycle as a running daemon meets it: a real `learnloop run` process
// against esn-sim on the wall clock. A removed subscription is made again at once and what was
// posted meanwhile is read; a reauthorisation request is answered at once; a reply pushed
// afterwards arrives within seconds.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "connectors/common/http.h"
#include "core/json.h"
#include "sim_harness.h"
#include "store/store.h"
#include "tests/support/ok.h"

using learnloop::testing::Ok;

using namespace learnloop;
namespace fs = std::filesystem;
namespace http = learnloop::connectors::http;

namespace {

struct Process {
  pid_t pid = -1;
  ~Process() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
};

pid_t Spawn(const std::vector<std::string>& argv) {
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

// Waits (wall time) until `done` holds; false after `limit`.
bool WaitFor(const std::function<bool()>& done, std::chrono::seconds limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
  return done();
}

}  // namespace

TEST(Lifecycle, ARunningDaemonActsOnSubscriptionLifecycleEventsAtOnce) {
  fs::path dir = fs::temp_directory_path() / ("learnloop-lifecycle-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string sim_bin = std::getenv("LEARNLOOP_ESN_SIM")
                            ? std::getenv("LEARNLOOP_ESN_SIM")
                            : (fs::path(LEARNLOOP_BIN).parent_path() / "esn-sim").string();
  Process sim;
  sim.pid = Spawn({sim_bin, "--port", "0", "--port-file", (dir / "port").string(), "--clock",
                   "real", "--people", "150", "--seed", "12", "--teams", "1", "--history-days", "5",
                   "--horizon-days", "2"});
  int port = 0;
  ASSERT_TRUE(WaitFor(
      [&] {
        std::ifstream in(dir / "port");
        return static_cast<bool>(in >> port);
      },
      std::chrono::seconds{20}));
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  auto client = http::MakeClient(std::chrono::seconds{10});
  auto call = [&](const std::string& method, const std::string& path,
                  const std::string& body = "") {
    http::Request r;
    r.method = method;
    r.url = base + path;
    r.body = body;
    auto res = client->Send(r);
    auto v = res.ok() ? json::Parse(res->body) : Result<json::Value>::Fail("");
    return v.ok() ? *v : json::Value();
  };
  // The simulated team, a thread of its channel and one of its members.
  json::Value truth = call("GET", "/_sim/truth");
  std::string team, channel;
  int64_t group = 0, person = 0, root = 0;
  for (const auto& m : truth.at("messages").as_array())
    if (json::GetString(m, "network") == "teams" && !json::GetInt64(m, "replied_to_id") &&
        !*json::GetBool(m, "deleted")) {
      root = *json::GetInt64(m, "id");
      group = *json::GetInt64(m, "group_id");
    }
  for (const auto& g : truth.at("groups").as_array())
    if (*json::GetInt64(g, "id") == group) {
      team = *json::GetString(g, "team_id");
      channel = *json::GetString(g, "channel_id");
      const auto& members = g.at("members").as_array();
      person = members.at(members.size() - 1).as_number().to_int64();  // not the bot
    }
  ASSERT_NE(root, 0);
  ASSERT_NE(person, 0);

  std::ofstream(dir / "run.yaml") << it::FillConfig(
      "lifecycle.yaml", {{"SIM_URL", base}, {"TEAM_ID", team}, {"DIR", dir.string()}});
  setenv("LEARNLOOP_LIFECYCLE_SECRET", "sim-secret", 1);
  Process daemon;
  daemon.pid = Spawn({LEARNLOOP_BIN, "run", "--config", (dir / "run.yaml").string()});

  // What the daemon asked of the subscriptions (method, status), in order.
  auto subscription_calls = [&] {
    std::vector<std::pair<std::string, int64_t>> out;
    const json::Value log = call("GET", "/_sim/requests?limit=10000");
    for (const auto& r : log.as_array())
      if (json::GetString(r, "target").value_or("").rfind("/v1.0/subscriptions", 0) == 0)
        out.emplace_back(*json::GetString(r, "method"), *json::GetInt64(r, "status"));
    return out;
  };
  auto count = [&](const std::string& method) {
    int n = 0;
    for (const auto& [m, status] : subscription_calls()) n += m == method && status < 300;
    return n;
  };
  ASSERT_TRUE(WaitFor([&] { return count("POST") == 1; }, std::chrono::seconds{60}))
      << "the daemon never subscribed";
  // Whether the store holds a message (the daemon's store, read beside it).
  auto stored = [&](int64_t id) {
    auto s = store::OpenSqlite((dir / "run.db").string());
    if (!s.ok()) return false;
    std::string want = "teams:" + channel + "/" + std::to_string(id);
    for (const auto& m :
         Ok((*s)->MessagesInThread("teams:" + channel + "/" + std::to_string(root))))
      if (m.id == want) return true;
    return false;
  };
  auto reply = [&](const std::string& text) {
    return *json::GetInt64(call("POST", "/_sim/reply",
                                "{\"user_id\":" + std::to_string(person) + ",\"replied_to_id\":" +
                                    std::to_string(root) + ",\"body\":\"" + text + "\"}"),
                           "id");
  };

  // Graph removes the subscription; a reply comes while there is none.
  EXPECT_EQ(*json::GetInt64(call("POST", "/_sim/lifecycle", R"({"event":"subscriptionRemoved"})"),
                            "sent"),
            1);
  int64_t unnotified = reply("Said while nobody listened");
  EXPECT_TRUE(WaitFor([&] { return count("POST") == 2; }, std::chrono::seconds{10}))
      << "no new subscription within seconds";
  EXPECT_TRUE(WaitFor([&] { return stored(unnotified); }, std::chrono::seconds{10}))
      << "what was posted without a subscription was not caught up";
  EXPECT_EQ(count("PATCH"), 0);  // the removed one was not renewed in vain

  // Graph asks for reauthorisation: renewed (PATCH) at once, not at the next renewal time.
  call("POST", "/_sim/lifecycle", R"({"event":"reauthorizationRequired"})");
  EXPECT_TRUE(WaitFor([&] { return count("PATCH") == 1; }, std::chrono::seconds{10}))
      << "the subscription was not reauthorised within seconds";

  // Notifications were missed: the channel is caught up (a delta round at once).
  auto deltas = [&] {
    int n = 0;
    const json::Value log = call("GET", "/_sim/requests?limit=10000");
    for (const auto& r : log.as_array())
      n += json::GetString(r, "target").value_or("").find("/messages/delta") != std::string::npos;
    return n;
  };
  int before = deltas();
  call("POST", "/_sim/lifecycle", R"({"event":"missed"})");
  EXPECT_TRUE(WaitFor([&] { return deltas() > before; }, std::chrono::seconds{10}));

  // And a reply with the subscription back in place arrives by push within seconds.
  int64_t pushed = reply("And now?");
  EXPECT_TRUE(WaitFor([&] { return stored(pushed); }, std::chrono::seconds{10}));

  kill(daemon.pid, SIGTERM);
  int status = -1;
  ASSERT_TRUE(WaitFor([&] { return waitpid(daemon.pid, &status, WNOHANG) == daemon.pid; },
                      std::chrono::seconds{10}));
  daemon.pid = -1;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  fs::remove_all(dir);
}
