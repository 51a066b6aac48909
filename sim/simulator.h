#pragma once
// esn-sim: Yammer REST v1 as the reference describes it (§1, checklist §5.2), over a simulated
// organisation, plus a control API under /_sim/ for tests, benchmarks and the demo.
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <string>

#include "sim/http_server.h"
#include "sim/world.h"

namespace learnloop::sim {

struct SimOptions {
  OrgOptions org;
  std::string token = "sim-token";  // the service account's bearer token
  bool retry_after = true;          // Retry-After on 429 (undocumented for Yammer: optional)
  int rate_limit = 10;              // requests per window, per token and bucket
  Millis rate_window{std::chrono::seconds{30}};
  bool manual_clock = true;  // false: the clock follows wall time from the start
  bool new_yammer = true;    // posts must name a group, a parent or recipients
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

  struct TokenState {
    std::map<std::string, std::deque<Time>> sent;  // per bucket, inside the window
    Time blocked_until{};
  };

  SimOptions opt_;
  World world_;
  std::map<std::string, TokenState> tokens_;
  std::chrono::steady_clock::time_point wall_start_;
};

}  // namespace learnloop::sim
