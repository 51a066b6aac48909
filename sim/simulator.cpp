#include "sim/simulator.h"

#include <algorithm>
#include <thread>

#include "core/json.h"
#include "sim/data_export.h"
#include "sim/replies.h"

namespace learnloop::sim {

Simulator::Simulator(const SimOptions& o)
    : opt_(o),
      world_(o.org),
      identity_(world_, o.identity),
      graph_(world_, identity_, o.graph, o.org.seed * 31 + 7),
      bot_(world_, identity_),
      notifier_(world_, identity_, o.notify),
      valid_tokens_{o.token},
      slack_(world_, SlackOptions{},
             [this](const std::string& t) { return valid_tokens_.count(t) > 0; }),
      fault_rng_(o.org.seed * 7919 + 1),
      wall_start_(std::chrono::steady_clock::now()) {
  world_.SetOnChange([this](size_t msg, bool created) {
    notifier_.OnChange(msg, created);
    bot_.OnChange(msg, created, notifier_);
    slack_.OnChange(msg, created, notifier_);
  });
  world_.SetOnClick([this](size_t click) {
    bot_.OnClick(click, notifier_);
    slack_.OnClick(click, notifier_);
  });
}

void Simulator::FollowWallClock() {
  if (opt_.manual_clock) return;
  auto elapsed = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - wall_start_);
  world_.AdvanceTo(opt_.org.start + elapsed);
}

SimReply Simulator::Handle(const SimRequest& r) {
  Millis hold{0};
  SimReply reply;
  {
    std::lock_guard lock(world_.mu());
    FollowWallClock();
    const bool slack = r.path.rfind("/slack/api/", 0) == 0;
    bool api = r.path.rfind("/api/", 0) == 0 || r.path.rfind("/v1.0/", 0) == 0 ||
               r.path.rfind("/bf/", 0) == 0 || slack;
    // A throttled call is refused before it is carried out (in the real services a 429 has no
    // effect), so it is decided before the request is handled.
    bool throttled =
        api && opt_.faults.throttle_rate > 0 &&
        std::uniform_real_distribution<double>(0, 1)(fault_rng_) < opt_.faults.throttle_rate;
    if (!throttled) reply = Dispatch(r);
    if (api && !throttled && reply.status < 400) {
      std::uniform_real_distribution<double> u(0, 1);
      double x = u(fault_rng_);
      const Faults& f = opt_.faults;
      if (x < f.error_rate) {
        bool five_hundred = u(fault_rng_) < 0.5;
        reply = Json(five_hundred ? 500 : 503,
                     R"({"response":{"message":"Service unavailable","stat":"fail"}})");
        ++world_.stats().faults;
      } else if (x < f.error_rate + f.truncate_rate && reply.body.size() > 2) {
        reply.body.resize(reply.body.size() / 2);
        ++world_.stats().faults;
      } else if (x < f.error_rate + f.truncate_rate + f.slow_rate) {
        hold = f.slow_for;
        ++world_.stats().faults;
      } else if (x < f.error_rate + f.truncate_rate + f.slow_rate + f.reset_rate) {
        reply.reset = true;
        ++world_.stats().faults;
      }
    }
    if (throttled && slack) {
      // Slack's 429 always names its wait (reference §4.4).
      reply = Json(429, R"({"ok":false,"error":"ratelimited"})");
      reply.headers.push_back({"Retry-After", "2"});
      ++world_.stats().faults;
      ++world_.stats().throttled;
    } else if (throttled) {
      // Refused as if busy, without effect. Retry-After as each service gives it.
      bool graph = r.path.rfind("/api/", 0) != 0;
      reply = graph ? GraphError(429, "TooManyRequests", "Too many requests.", world_.Now())
                    : YammerError(429, 33, "Rate limited due to excessive requests.");
      bool with_header = graph ? std::uniform_real_distribution<double>(0, 1)(fault_rng_) <
                                     graph_.options().retry_after_rate
                               : opt_.retry_after;
      if (with_header) reply.headers.push_back({"Retry-After", "2"});
      ++world_.stats().faults;
      ++world_.stats().throttled;
    }
    if (r.path.rfind("/_sim/", 0) != 0) {
      std::string target = r.path;
      char sep = '?';
      for (const auto& [k, v] : r.query) {
        target += sep + k + "=" + v;
        sep = '&';
      }
      log_.push_back(LogEntry{world_.Now(), r.method, target, reply.status});
      if (log_.size() > 10000) log_.pop_front();
    }
  }
  if (hold.count() > 0) std::this_thread::sleep_for(hold);  // outside the lock
  // Notifications that became due are delivered before the answer, without the lock (the
  // subscriber may call back); so a clock step returns once its notifications are out.
  for (int round = 0; round < 4; ++round) {
    std::vector<Notifier::Delivery> due;
    {
      std::lock_guard lock(world_.mu());
      due = notifier_.TakeDue();
      // Slack signs each attempt anew (its timestamp is checked against a 5-minute window).
      for (auto& d : due)
        if (d.kind.rfind("slack_", 0) == 0) d.headers = slack_.Sign(d.body, d.attempt);
    }
    if (due.empty()) break;
    for (auto& d : due) {
      const char* type =
          d.kind == "slack_action" ? "application/x-www-form-urlencoded" : "application/json";
      auto res = HttpPost(d.url, type, d.body, std::chrono::seconds{3}, d.headers);
      bool delivered = res.ok() && res->status >= 200 && res->status < 300;
      std::lock_guard lock(world_.mu());
      notifier_.Report(std::move(d), delivered);
    }
  }
  return reply;
}

SimReply Simulator::Dispatch(const SimRequest& r) {
  if (r.path.rfind("/_sim/", 0) == 0) {
    ++world_.stats().requests["control"];
    return Control(r);
  }
  if (r.method == "POST" && EndsWith(r.path, "/oauth2/v2.0/token")) {
    ++world_.stats().requests["token"];
    std::string tenant = r.path.substr(1, r.path.find('/', 1) - 1);
    return identity_.Token(r, tenant);
  }
  if (r.path.rfind("/v1.0/subscriptions", 0) == 0) {
    std::string auth = r.Header("authorization");
    if (identity_.Validate(auth.rfind("Bearer ", 0) == 0 ? auth.substr(7) : "", "graph") !=
        Identity::Check::kOk) {
      ++world_.stats().unauthorized;
      return GraphError(401, "InvalidAuthenticationToken", "Access token is empty or not valid.",
                        world_.Now());
    }
    return notifier_.Handle(r);
  }
  if (r.path.rfind("/v1.0/", 0) == 0) return graph_.Handle(r);
  if (r.path.rfind("/slack/api/", 0) == 0) return slack_.Handle(r);
  if (r.path.rfind("/bf/", 0) == 0) return bot_.Handle(r);
  if (r.path.rfind("/botframework/", 0) == 0) {
    ++world_.stats().requests["openid"];
    return bot_.OpenId(r);
  }
  const bool is_export = r.path == "/api/v1/export";
  if (r.path.rfind("/api/v1/", 0) != 0 || (!EndsWith(r.path, ".json") && !is_export)) {
    ++world_.stats().requests["not_found"];
    return Json(404, R"({"response":{"message":"Not found","stat":"fail"}})");
  }
  std::string auth = r.Header("authorization");
  std::string token = auth.rfind("Bearer ", 0) == 0 ? auth.substr(7) : "";
  if (!valid_tokens_.count(token) && identity_.Validate(token, "yammer") != Identity::Check::kOk) {
    ++world_.stats().unauthorized;
    return YammerError(401, 16, "Token not found.");
  }
  if (is_export) {
    // Admin-only and heavy; its limits are not published, so none is enforced here.
    ++world_.stats().requests["export"];
    return DataExport(world_, r, opt_.export_admin);
  }
  std::string bucket = r.path.rfind("/api/v1/messages", 0) == 0 ? "messages" : "other";
  ++world_.stats().requests[bucket];
  // Limits are per user per app (§1.9): every token here is the service account's.
  if (auto refused = Throttle("user:" + std::to_string(world_.bot().id), bucket)) return *refused;
  return Yammer(r, world_.bot().id);
}

}  // namespace learnloop::sim
