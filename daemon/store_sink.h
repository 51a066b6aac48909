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
// observer, that is told of every event (the daemon's progress lines).
class StoreSink final : public connectors::EventSink {
 public:
  explicit StoreSink(store::Store& s, std::string network = "",
                     std::function<void(const SinkTally&)> observer = nullptr)
      : store_(s), network_(std::move(network)), observer_(std::move(observer)) {}
  ~StoreSink() override { Flush(); }
  void OnUser(const User& u) override {
    ++tally_.users;
    Add([u](store::Store& s) { s.UpsertUser(u); });
  }
  void OnGroup(const Group& g) override {
    ++tally_.groups;
    Add([g](store::Store& s) { s.UpsertGroup(g); });
  }
  void OnMessage(const Message& m) override {
    ++tally_.messages;
    if (!tally_.oldest || m.created_at < *tally_.oldest) tally_.oldest = m.created_at;
    if (!tally_.newest || m.created_at > *tally_.newest) tally_.newest = m.created_at;
    Add([m](store::Store& s) { s.UpsertMessage(m); });
  }
  void OnReactionSnapshot(const std::string& id, const std::string& kind,
                          const std::vector<Reaction>& r) override {
    tally_.reactions += static_cast<int64_t>(r.size());
    Add([id, kind, r](store::Store& s) { s.ReplaceReactions(id, kind, r); });
  }
  void OnCardAction(const CardAction& a) override {
    ++tally_.card_actions;
    Add([a](store::Store& s) { s.UpsertCardAction(a); });
  }
  void OnPresent(const std::string& group_id, Time from, Time to,
                 const std::vector<std::string>& ids) override {
    Add([group_id, from, to, ids](store::Store& s) {
      s.MarkDeletedExcept(group_id, from, to, ids);
    });
  }
  void OnProgress(const std::string& part, int64_t done, int64_t total) override {
    tally_.part = part;
    tally_.part_done = done;
    tally_.part_total = total;
    if (observer_) observer_(tally_);
  }
  void Flush() {
    if (pending_.empty()) return;
    store_.Transaction([&] {
      for (auto& f : pending_) f(store_);
    });
    pending_.clear();
    heartbeat::Beat();
    if (network_.empty()) return;
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
  }
  int64_t messages() const { return tally_.messages; }
  const SinkTally& tally() const { return tally_; }

 private:
  void Add(std::function<void(store::Store&)> f) {
    pending_.push_back(std::move(f));
    if (observer_ && (pending_.size() & 63) == 0) observer_(tally_);
    if (pending_.size() >= 5000) Flush();
  }
  store::Store& store_;
  std::string network_;
  std::function<void(const SinkTally&)> observer_;
  std::vector<std::function<void(store::Store&)>> pending_;
  SinkTally tally_, counted_;
};

inline connectors::Cursors LoadCursors(store::SyncState& s, const std::string& network) {
  auto stored = s.SyncCursors(network);
  return connectors::Cursors(stored.begin(), stored.end());
}

inline void SaveCursors(store::SyncState& s, const std::string& network,
                        const connectors::Cursors& cursors) {
  s.SaveSyncCursors(network, {cursors.begin(), cursors.end()});
}

// A connector's secrets: "<network>:<key>" in the store's table of secrets.
inline connectors::Cursors LoadSecrets(store::SecretStore& s, const std::string& network) {
  connectors::Cursors secrets;
  for (const auto& [k, v] : s.SecretsWithPrefix(network + ":"))
    secrets[k.substr(network.size() + 1)] = v;
  return secrets;
}

inline void SaveSecrets(store::Store& s, const std::string& network,
                        const connectors::Cursors& secrets) {
  if (secrets.empty()) return;
  s.Transaction([&] {
    for (const auto& [k, v] : secrets) s.SetSecret(network + ":" + k, v);
  });
}

}  // namespace learnloop::daemon
