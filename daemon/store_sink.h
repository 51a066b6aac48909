#pragma once
// Where connector events go: the store, in batches, and the connectors' cursors beside them.
// Shared by the daemon and by the replay of a raw archive, so both store events the same way.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "connectors/connector.h"
#include "core/heartbeat.h"
#include "core/metrics.h"
#include "store/store.h"

namespace learnloop::daemon {

// What a sink has taken so far, for progress lines and metrics.
struct SinkTally {
  int64_t users = 0, groups = 0, messages = 0, reactions = 0, card_actions = 0;
  std::optional<Time> oldest, newest;  // of the messages
  std::string part;                    // the connector's last OnProgress: "channel 3 of 12"
  int64_t part_done = 0, part_total = 0;
};

// Buffers a poll's events and writes them in batches, one transaction each. With a network
// name, what it stores is counted in the metrics (learnloop_events_ingested_total); with an
// observer, that is told of every event (the daemon's progress lines). Once a batch could not
// be written, the events after it are dropped and status() says why: the caller must not move
// the cursors past them.
class StoreSink final : public connectors::EventSink {
 public:
  explicit StoreSink(store::Store& s, std::string network = "",
                     std::function<void(const SinkTally&)> observer = nullptr)
      : store_(s), network_(std::move(network)), observer_(std::move(observer)) {}
  // Writes what is left; every caller flushes first and looks at the status itself.
  ~StoreSink() override { static_cast<void>(Flush()); }
  void OnUser(const User& u) override {
    ++tally_.users;
    Add([u](store::Store& s) { return s.UpsertUser(u); });
  }
  void OnGroup(const Group& g) override {
    ++tally_.groups;
    Add([g](store::Store& s) { return s.UpsertGroup(g); });
  }
  void OnMessage(const Message& m) override {
    ++tally_.messages;
    if (!tally_.oldest || m.created_at < *tally_.oldest) tally_.oldest = m.created_at;
    if (!tally_.newest || m.created_at > *tally_.newest) tally_.newest = m.created_at;
    Add([m](store::Store& s) { return s.UpsertMessage(m); });
  }
  void OnReactionSnapshot(const std::string& id, const std::string& kind,
                          const std::vector<Reaction>& r) override {
    tally_.reactions += static_cast<int64_t>(r.size());
    Add([id, kind, r](store::Store& s) { return s.ReplaceReactions(id, kind, r); });
  }
  void OnCardAction(const CardAction& a) override {
    ++tally_.card_actions;
    Add([a](store::Store& s) { return s.UpsertCardAction(a); });
  }
  void OnPresent(const std::string& group_id, Time from, Time to,
                 const std::vector<std::string>& ids) override {
    Add([group_id, from, to, ids](store::Store& s) {
      return s.MarkDeletedExcept(group_id, from, to, ids).status();
    });
  }
  void OnProgress(const std::string& part, int64_t done, int64_t total) override {
    tally_.part = part;
    tally_.part_done = done;
    tally_.part_total = total;
    if (observer_) observer_(tally_);
  }
  // Writes what is buffered; the first error of any batch.
  Status Flush() {
    if (pending_.empty() || !status_.ok()) {
      pending_.clear();
      return status_;
    }
    status_ = store_.Transaction([&]() -> Status {
      for (auto& f : pending_) LL_TRY(f(store_));
      return Status::Ok();
    });
    pending_.clear();
    heartbeat::Beat();
    if (!status_.ok() || network_.empty()) return status_;
    // Counted once stored.
    const std::pair<const char*, int64_t> kinds[] = {
        {"user", tally_.users - counted_.users},
        {"group", tally_.groups - counted_.groups},
        {"message", tally_.messages - counted_.messages},
        {"reaction", tally_.reactions - counted_.reactions},
        {"card_action", tally_.card_actions - counted_.card_actions}};
    for (const auto& [kind, n] : kinds)
      if (n > 0)
        metrics::Add("learnloop_events_ingested_total", {{"network", network_}, {"kind", kind}},
                     static_cast<double>(n));
    counted_ = tally_;
    return status_;
  }
  const Status& status() const { return status_; }
  int64_t messages() const { return tally_.messages; }
  const SinkTally& tally() const { return tally_; }

 private:
  void Add(std::function<Status(store::Store&)> f) {
    if (!status_.ok()) return;
    pending_.push_back(std::move(f));
    if (observer_ && (pending_.size() & 63) == 0) observer_(tally_);
    if (pending_.size() >= 5000) static_cast<void>(Flush());  // an error stays in status_
  }
  store::Store& store_;
  std::string network_;
  std::function<void(const SinkTally&)> observer_;
  std::vector<std::function<Status(store::Store&)>> pending_;
  SinkTally tally_, counted_;
  Status status_;
};

inline Result<connectors::Cursors> LoadCursors(store::SyncState& s, const std::string& network) {
  LL_ASSIGN_OR_RETURN(auto stored, s.SyncCursors(network));
  return connectors::Cursors(stored.begin(), stored.end());
}

inline Status SaveCursors(store::SyncState& s, const std::string& network,
                          const connectors::Cursors& cursors) {
  return s.SaveSyncCursors(network, {cursors.begin(), cursors.end()});
}

// A connector's secrets: "<network>:<key>" in the store's table of secrets.
inline Result<connectors::Cursors> LoadSecrets(store::SecretStore& s, const std::string& network) {
  connectors::Cursors secrets;
  LL_ASSIGN_OR_RETURN(auto stored, s.SecretsWithPrefix(network + ":"));
  for (const auto& [k, v] : stored) secrets[k.substr(network.size() + 1)] = v;
  return secrets;
}

inline Status SaveSecrets(store::Store& s, const std::string& network,
                          const connectors::Cursors& secrets) {
  if (secrets.empty()) return Status::Ok();
  return s.Transaction([&]() -> Status {
    for (const auto& [k, v] : secrets) LL_TRY(s.SetSecret(network + ":" + k, v));
    return Status::Ok();
  });
}

}  // namespace learnloop::daemon
