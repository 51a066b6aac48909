#pragma once
// esn-sim: Yammer REST v1 as the reference describes it (§1, checklist §5.2), over a simulated
// organisation, plus a control API under /_sim/ for tests, benchmarks and the demo. Each service
// is a file of its own: simulator.cpp (routing), faults.cpp (throttling, injected failures and
// noise), yammer_api.cpp, graph_api.cpp, botframework_api.cpp, slack_api.cpp, identity.cpp
// (Entra tokens), notifications.cpp, data_export.cpp, control.cpp (/_sim/).
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>

#include "sim/botframework_api.h"
#include "sim/graph_api.h"
#include "sim/http_server.h"
#include "sim/identity.h"
#include "sim/notifications.h"
#include "sim/slack_api.h"
#include "sim/world.h"

namespace learnloop::sim {

// Faults on demand (reference §5.1), each a share of the API answers, drawn from the seed.
struct Faults {
  double error_rate = 0;  // 500 / 503 answers
  double slow_rate = 0;   // answers held back by slow_for (wall time)
  Millis slow_for{std::chrono::milliseconds{1500}};
  double truncate_rate = 0;  // status 200 with the JSON body cut in half
  double reset_rate = 0;     // no answer: the connection is reset (after the request took effect)
  double throttle_rate = 0;  // 429 answers although no limit was reached (before any effect)
};

struct SimOptions {
  OrgOptions org;
  IdentityOptions identity;
  GraphOptions graph;
  NotifyOptions notify;
  Faults faults;
  bool noise = false;  // unknown extra fields and a different key order (reference §1.1)
  std::string token = "sim-token";  // the service account's bearer token
  bool retry_after = true;          // Retry-After on 429 (undocumented for Yammer: optional)
  int rate_limit = 10;              // requests per window, per token and bucket
  Millis rate_window{std::chrono::seconds{30}};
  bool manual_clock = true;  // false: the clock follows wall time from the start
  bool new_yammer = true;    // posts must name a group, a parent or recipients
  bool export_admin = true;  // the service account is a verified admin (Data Export, §1.10)
  // Communities (Viva Engage ids) and teams (Teams ids) whose member list answers 403, as
  // when a permission is missing.
  std::set<std::string> members_forbidden;
};

class Simulator {
 public:
  explicit Simulator(const SimOptions& o);
  SimReply Handle(const SimRequest& r);
  World& world() { return world_; }

 private:
  SimReply Yammer(const SimRequest& r, int64_t user);
  SimReply Control(const SimRequest& r);
  SimReply Feed(const SimRequest& r, const std::vector<size_t>& source, const std::string& name,
                int64_t user);
  SimReply PostMessage(const SimRequest& r, int64_t user);
  SimReply Users(const SimRequest& r);
  // Counts the request against the token's bucket; a reply when it must be refused.
  std::optional<SimReply> Throttle(const std::string& token, const std::string& bucket);
  void FollowWallClock();
  SimReply Dispatch(const SimRequest& r);
  std::string Noisy(const std::string& message_json);

  struct LogEntry {
    Time at;
    std::string method, target;
    int status;
  };

  struct TokenState {
    std::map<std::string, std::deque<Time>> sent;  // per bucket, inside the window
    Time blocked_until{};
  };

  SimOptions opt_;
  World world_;
  Identity identity_;
  GraphApi graph_;
  BotFrameworkApi bot_;
  Notifier notifier_;
  std::set<std::string> valid_tokens_;
  SlackApi slack_;
  std::map<std::string, TokenState> tokens_;
  std::deque<LogEntry> log_;
  std::mt19937_64 fault_rng_;
  std::chrono::steady_clock::time_point wall_start_;
};

}  // namespace learnloop::sim
