// The daemon's listener under hostile peers, as a real `learnloop run` process meets them: more
// idle, half-sent requests than it takes connections or may open files, and bodies of 60 MiB (with
// a length, and chunked). It stays up, answers /healthz at once, and still takes a change
// notification, its memory unmoved by what it refused.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "sim_harness.h"
#include "tests/support/ok.h"

using learnloop::testing::Ok;

using namespace learnloop;

namespace {

const std::string kYaml = it::ReadConfig("listener.yaml");

int Connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return fd;
}

bool SendAll(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    ssize_t n = send(fd, s.data() + done, s.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// Sends `header`, then up to 60 MiB of body in pieces (`chunked`: as chunks) until the
// server stops taking them; gives the status line it answered ("" if none).
std::string SendHuge(int port, const std::string& header, bool chunked) {
  int fd = Connect(port);
  if (fd < 0) return "";
  std::string piece(64 * 1024, 'x');
  if (chunked) {
    char size[16];
    std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
    piece = size + piece + "\r\n";
  }
  bool ok = SendAll(fd, header);
  for (size_t sent = 0; ok && sent < (size_t{60} << 20); sent += 64 * 1024) ok = SendAll(fd, piece);
  std::string answer;
  char buf[4096];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) answer.append(buf, static_cast<size_t>(n));
  close(fd);
  return answer.substr(0, answer.find("\r\n"));
}

}  // namespace

TEST(Listener, StaysUpAndBoundedUnderIdleConnectionsAndHugeBodies) {
  setenv("LEARNLOOP_IT_SECRET", "sim-secret", 1);
  it::SimRun run;
  // On the wall clock: the simulator starts now, and the daemon runs as in production.
  const Time start = std::chrono::floor<std::chrono::minutes>(SystemClock().Now());
  const int port = it::FreePort();
  std::string yaml = kYaml;
  yaml.replace(yaml.find("PORT"), 4, std::to_string(port));
  ASSERT_EQ(run.Start(start,
                      {"--clock", "real", "--rate-limit", "1000", "--people", "60", "--seed", "3",
                       "--history-days", "14", "--horizon-days", "1", "--teams", "1"},
                      yaml),
            "");
  run.store.reset();
  const std::string config = run.WriteConfig(), log = run.dir + "/log";
  const int pid = it::StartLearnloop(config, port, log);
  ASSERT_GT(pid, 0) << "learnloop run did not come up; see " << log;
  // Its subscriptions made (the handshake went through the listener).
  for (int i = 0; i < 300; ++i) {
    auto stats = run.Get("/_sim/stats");
    if (json::GetInt64(stats.at("requests"), "graph_subscriptions").value_or(0) >= 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
  auto http = connectors::http::MakeClient(std::chrono::seconds{1});
  auto healthz = [&] {
    connectors::http::Request r;
    r.url = "http://127.0.0.1:" + std::to_string(port) + "/healthz";
    auto res = http->Send(r);
    return res.ok() && res->status == 200;
  };

  // 1,100 connections that never finish their request: more than the daemon takes (256), and
  // more than it may open files (1024).
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = std::min<rlim_t>(files.rlim_max, 4096);
  setrlimit(RLIMIT_NOFILE, &files);
  ASSERT_GE(files.rlim_cur, 1200u) << "this test needs 1,200 open files";
  std::vector<int> idle;
  for (int i = 0; i < 1100; ++i) {
    int fd = Connect(port);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(SendAll(fd, "POST /teams/notify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-"));
    idle.push_back(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds{200});
  EXPECT_TRUE(healthz()) << "no answer within 1 s behind 1,100 idle connections";

  // A reply in the channel: notified, read and stored while the idle connections stay.
  auto truth = it::ReadTruth(run.Get("/_sim/truth"));
  const it::TruthMsg* root = nullptr;
  for (const auto& m : truth.messages)
    if (m.network == "teams" && m.chat.empty() && !m.system && !m.deleted && m.id == m.thread &&
        !m.by_bot)
      root = &m;
  ASSERT_NE(root, nullptr) << truth.messages.size() << " messages in the simulator";
  connectors::http::Request reply;
  reply.method = "POST";
  reply.url = run.sim.base_url() + "/_sim/reply";
  reply.body = "{\"user_id\":" + std::to_string(root->sender) +
               ",\"replied_to_id\":" + std::to_string(root->id) +
               ",\"body\":\"Told while 1,100 connections idled\"}";
  auto posted = run.http->Send(reply);
  ASSERT_TRUE(posted.ok() && posted->status == 201);
  auto reply_id = json::GetInt64(*json::Parse(posted->body), "id");
  ASSERT_TRUE(reply_id);
  it::TruthMsg reply_msg = *root;
  reply_msg.id = *reply_id;
  const std::string want = it::MessageId(truth, reply_msg, *reply_id);
  bool stored = false;
  for (int i = 0; i < 200 && !stored; ++i) {
    auto st = store::OpenSqlite(run.cfg->store_path);
    if (st.ok())
      for (const auto& m : Ok((*st)->AllMessages())) stored |= m.id == want;
    if (!stored) std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
  if (!stored) {
    std::ifstream in(log);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ADD_FAILURE() << want << " was not stored; the daemon said:\n"
                  << text.substr(text.size() > 6000 ? text.size() - 6000 : 0);
  }
  for (int fd : idle) close(fd);

  // 60 MiB at a notification path, with a length and chunked: refused, memory unmoved.
  const int64_t before = it::ResidentKiB(pid);
  EXPECT_EQ(SendHuge(port,
                     "POST /teams/notify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                     "application/json\r\nContent-Length: 62914560\r\n\r\n",
                     false),
            "HTTP/1.1 413 Payload Too Large");
  EXPECT_EQ(SendHuge(port,
                     "POST /api/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                     "application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
                     true),
            "HTTP/1.1 413 Payload Too Large");
  const int64_t after = it::ResidentKiB(pid), peak = it::ResidentKiB(pid, true);
  EXPECT_LT(after - before, 20 * 1024) << "resident " << before << " KiB, then " << after;
  EXPECT_LT(peak - before, 20 * 1024) << "resident " << before << " KiB, at its peak " << peak;
#if !defined(__SANITIZE_ADDRESS__)
  // (AddressSanitizer's shadow memory alone is about that much: there only the growth counts.)
  EXPECT_LT(peak, 100 * 1024) << "peak resident memory " << peak << " KiB";
#endif
  EXPECT_TRUE(healthz());
  EXPECT_EQ(it::StopLearnloop(pid), 0);
}
