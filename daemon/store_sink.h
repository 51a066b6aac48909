#pragma once
// Where connector events go: the store, in batches, and the connectors' cursors beside them.
// Shared by the daemon and by the replay of a raw archive, so both store events the same way.
#include <functional>
#include <string>
#include <vector>

#include "connectors/connector.h"
#include "store/store.h"

namespace learnloop::daemon {

// Buffers a poll's events and writes them in batches, one transaction each.
class StoreSink final : public connectors::EventSink {
 public:
  explicit StoreSink(store::Store& s) : store_(s) {}
  ~StoreSink() override { Flush(); }
  void OnUser(const User& u) override {
    Add([u](store::Store& s) { s.UpsertUser(u); });
  }
  void OnGroup(const Group& g) override {
    Add([g](store::Store& s) { s.UpsertGroup(g); });
  }
  void OnMessage(const Message& m) override {
    ++messages_;
    Add([m](store::Store& s) { s.UpsertMessage(m); });
  }
  void OnReactionSnapshot(const std::string& id, const std::string& kind,
                          const std::vector<Reaction>& r) override {
    Add([id, kind, r](store::Store& s) { s.ReplaceReactions(id, kind, r); });
  }
  void OnCardAction(const CardAction& a) override {
    Add([a](store::Store& s) { s.UpsertCardAction(a); });
  }
  void OnPresent(const std::string& group_id, Time from, Time to,
                 const std::vector<std::string>& ids) override {
    Add([group_id, from, to, ids](store::Store& s) {
      s.MarkDeletedExcept(group_id, from, to, ids);
    });
  }
  void Flush() {
    if (pending_.empty()) return;
    store_.Transaction([&] {
      for (auto& f : pending_) f(store_);
    });
    pending_.clear();
  }
  int64_t messages() const { return messages_; }

 private:
  void Add(std::function<void(store::Store&)> f) {
    pending_.push_back(std::move(f));
    if (pending_.size() >= 5000) Flush();
  }
  store::Store& store_;
  std::vector<std::function<void(store::Store&)>> pending_;
  int64_t messages_ = 0;
};

inline std::string CursorPrefix(const std::string& network) { return network + ":cursor:"; }

inline connectors::Cursors LoadCursors(store::Store& s, const std::string& network) {
  connectors::Cursors cursors;
  std::string prefix = CursorPrefix(network);
  for (const auto& [k, v] : s.CursorsWithPrefix(prefix)) cursors[k.substr(prefix.size())] = v;
  return cursors;
}

inline void SaveCursors(store::Store& s, const std::string& network,
                        const connectors::Cursors& cursors) {
  s.Transaction([&] {
    for (const auto& [k, v] : cursors) s.SetCursor(CursorPrefix(network) + k, v);
  });
}

// A connector's secrets: "<network>:<key>" in the store's table of secrets.
inline connectors::Cursors LoadSecrets(store::Store& s, const std::string& network) {
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
