#pragma once
// Graph change notifications for channel messages (reference §2.12): subscriptions with the
// validationToken handshake, notifications {"value":[…]} with clientState, retries when the
// subscriber fails, expiry, and the lifecycle events: `missed` when delivery is given up,
// `reauthorizationRequired` ten minutes before a subscription expires, and on demand (control
// API) any of them, `subscriptionRemoved` also dropping the subscription.
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "core/json.h"
#include "sim/http_server.h"
#include "sim/identity.h"
#include "sim/world.h"

namespace learnloop::sim {

struct NotifyOptions {
  Millis max_lifetime{std::chrono::minutes{60}};  // longest expirationDateTime accepted
  int max_attempts = 6;                           // then the items are missed
};

class Notifier {
 public:
  Notifier(World& world, Identity& identity, NotifyOptions o)
      : world_(world), identity_(identity), opt_(o) {}
  // /v1.0/subscriptions[/{id}]: POST (with the validation call), GET, PATCH, DELETE.
  SimReply Handle(const SimRequest& r);
  // From World: a message appeared (created) or was changed.
  void OnChange(size_t msg, bool created);

  struct Delivery {
    std::string url, body, subscription;
    int attempt = 0;
    Time due{};
    std::string kind = "notification";   // notification | lifecycle | bot_activity
    std::vector<std::string> resources;  // what a `missed` event would cover
    std::vector<std::pair<std::string, std::string>> headers;
  };
  void Enqueue(Delivery d) { queue_.push_back(std::move(d)); }
  // Deliveries due now, taken out; they are made without the lock and reported back.
  std::vector<Delivery> TakeDue();
  // POST /_sim/lifecycle {"event", "subscription"}: sends a lifecycle event now (to every
  // subscription with a lifecycle URL when none is named).
  SimReply Trigger(const SimRequest& r);
  void Report(Delivery d, bool delivered);

 private:
  struct Subscription {
    std::string id, resource, change_type, notification_url, lifecycle_url, client_state;
    const Community* channel = nullptr;
    Time expires{};
    bool reauthorization_sent = false;  // for the current expiry
  };
  void WriteSubscription(json::Writer& w, const Subscription& s);
  void Lifecycle(const Subscription& s, const std::string& event);

  World& world_;
  Identity& identity_;
  NotifyOptions opt_;
  std::map<std::string, Subscription> subs_;
  std::deque<Delivery> queue_;
  uint64_t counter_ = 0;
};

}  // namespace learnloop::sim
