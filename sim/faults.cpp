#include <algorithm>
#include <thread>

#include "core/json.h"
#include "sim/data_export.h"
#include "sim/replies.h"
#include "sim/simulator.h"

namespace learnloop::sim {

std::optional<SimReply> Simulator::Throttle(const std::string& token, const std::string& bucket) {
  TokenState& ts = tokens_[token];
  Time now = world_.Now();
  auto& q = ts.sent[bucket];
  while (!q.empty() && q.front() <= now - opt_.rate_window) q.pop_front();
  auto refuse = [&](Time until) {
    ++world_.stats().throttled;
    ++world_.stats().violations;  // a request sent while the limit was already reached
    SimReply r = YammerError(429, 33, "Rate limited due to excessive requests.");
    if (opt_.retry_after) {
      auto secs = std::chrono::ceil<std::chrono::seconds>(until - now).count();
      r.headers.push_back({"Retry-After", std::to_string(std::max<int64_t>(1, secs))});
    }
    return r;
  };
  // Exceeding any bucket makes every endpoint answer 429 until that window has passed.
  if (ts.blocked_until > now) return refuse(ts.blocked_until);
  if (static_cast<int>(q.size()) >= opt_.rate_limit) {
    ts.blocked_until = q[q.size() - opt_.rate_limit] + opt_.rate_window;
    return refuse(ts.blocked_until);
  }
  q.push_back(now);
  return std::nullopt;
}

std::string Simulator::Noisy(const std::string& message_json) {
  // Parsed and written again, the members come out in another order; an unknown member is
  // added, as the real service may add fields at any time.
  auto v = json::Parse(message_json);
  if (!v.ok()) return message_json;
  (*v)["x_sim_unknown"] = json::Value::string("a field this client has never seen");
  return json::Dump(*v);
}

}  // namespace learnloop::sim
