#include <algorithm>

#include "store/sqlite/sqlite_store.h"

namespace learnloop::store::sqlite {

Status SqliteStore::QueuePush(const std::string& network, const std::string& payload, Time at) {
  return Guard([&] {
    Locked([&] {
      Stmt s(db_, "INSERT INTO pushes(network, payload, at) VALUES (?1, ?2, ?3)");
      s.Bind(1, network).Bind(2, payload).Bind(3, at).Run();
    });
  });
}

Result<std::vector<std::pair<int64_t, std::string>>> SqliteStore::QueuedPushes(
    const std::string& network) {
  return Guard([&]() -> std::vector<std::pair<int64_t, std::string>> {
    return ReadAll(
        "SELECT id, payload FROM pushes WHERE network=?1 ORDER BY id",
        [](Stmt& s) { return std::pair<int64_t, std::string>(s.Int(0), s.Text(1)); }, network);
  });
}

Status SqliteStore::DeletePush(int64_t id) {
  return Guard([&] {
    Locked([&] {
      Stmt s(db_, "DELETE FROM pushes WHERE id=?1");
      s.Bind(1, id).Run();
    });
  });
}

Status SqliteStore::UpsertUser(const User& u) {
  return Guard([&] {
    Locked([&] {
      if (Forgotten(u.id)) return;
      const int64_t key = KeyOf(u.id, false);
      Stmt& s = Cached(
          "INSERT INTO users(id, network, name, email, department, state, is_bot, joined_at, key) "
          "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9) ON CONFLICT(id) DO UPDATE SET "
          "network=excluded.network, name=excluded.name, email=excluded.email, "
          "department=excluded.department, state=excluded.state, is_bot=excluded.is_bot, "
          "joined_at=excluded.joined_at, key=excluded.key");
      s.Bind(1, u.id).Bind(2, u.network).Bind(3, u.name).Bind(4, u.email).Bind(5, u.department);
      s.Bind(6, u.state).Bind(7, u.is_bot).Bind(8, u.joined_at).Bind(9, key).Run();
    });
  });
}

Status SqliteStore::UpsertGroup(const Group& g) {
  return Guard([&] {
    Write([&] {
      Stmt& s = Cached(
          "INSERT INTO groups VALUES (?1,?2,?3,?4) ON CONFLICT(id) DO UPDATE SET "
          "network=excluded.network, name=excluded.name, kind=excluded.kind");
      s.Bind(1, g.id).Bind(2, g.network).Bind(3, g.name).Bind(4, g.kind).Run();
      KeyOf(g.id, false);
      if (!g.members_known) return;
      Stmt& d = Cached("DELETE FROM memberships WHERE group_id=?1");
      d.Bind(1, g.id).Run();
      Stmt& m = Cached("INSERT OR IGNORE INTO memberships VALUES (?1,?2)");
      for (const auto& u : g.members)
        if (!Forgotten(u)) m.Bind(1, g.id).Bind(2, u).Run();
    });
  });
}

Status SqliteStore::UpsertMessage(const Message& given) {
  return Guard([&] {
    std::lock_guard lock(mu_);
    if (Forgotten(given.author_id)) return;
    auto forgotten = [&](const std::string& id) { return Forgotten(id); };
    std::optional<Message> without;  // without the forgotten among its mentions
    if (std::any_of(given.mentions.begin(), given.mentions.end(), forgotten)) {
      without = given;
      std::erase_if(without->mentions, forgotten);
    }
    const Message& m = without ? *without : given;
    if (bulk_keys_) {  // the ids of a row looked up at once: their waits for memory overlap
      const Interner &ids = bulk_keys_->messages.ids, &others = bulk_keys_->others.ids;
      ids.Prefetch(m.id);
      others.Prefetch(m.id);  // a new message's id may name a person or a group too
      if (m.thread_id != m.id) ids.Prefetch(m.thread_id);
      if (m.reply_to_id && *m.reply_to_id != m.thread_id) ids.Prefetch(*m.reply_to_id);
      others.Prefetch(m.author_id);
    }
    StartWriterIntoNewStore();
    const int64_t key = KeyOf(m.id, true), thread = KeyOf(m.thread_id, true),
                  author = KeyOf(m.author_id, false);
    const int64_t parent = m.reply_to_id ? KeyOf(*m.reply_to_id, true) : 0,
                  group = m.group_id ? KeyOf(*m.group_id, false) : 0;
    if (bulk_keys_) {  // its time for its reactions without one, and counted
      BulkKeys& b = *bulk_keys_;
      uint32_t i = *b.messages.ids.Find(m.id);
      if (i >= b.created.size()) b.created.resize(i + 1, kNone);
      if (b.created[i] != kNone || !b.table_empty || author > 0xFFFFFFFF || group > 0xFFFFFFFF)
        b.recount = true;
      b.created[i] = ToUnixMillis(m.created_at);
      if (!b.recount && !m.deleted)
        b.author_groups.Add(static_cast<uint64_t>(author) << 32 | static_cast<uint64_t>(group));
    }
    AddRow(BulkRow::Kind::kMessage,
           {key, thread, parent, author, group, ToUnixMillis(m.created_at),
            m.edited_at ? ToUnixMillis(*m.edited_at) : kNone, m.deleted},
           {EncodeList(m.mentions), m.network, m.kind, m.text});
  });
}

Status SqliteStore::ReplaceReactions(const std::string& message_id, const std::string& kind,
                                     const std::vector<Reaction>& reactions) {
  return Guard([&] {
    Write([&] {
      Stmt d(db_,
             "DELETE FROM reactions WHERE message_key=(SELECT key FROM ids WHERE id=?1) AND "
             "(?2 = '' OR kind=?2)");
      d.Bind(1, message_id).Bind(2, kind).Run();
      for (const auto& r : reactions) Check(UpsertReaction(r));
    });
  });
}

Status SqliteStore::UpsertReaction(const Reaction& r) {
  return Guard([&] {
    std::lock_guard lock(mu_);
    if (Forgotten(r.user_id)) return;
    if (bulk_keys_) {
      bulk_keys_->messages.ids.Prefetch(r.message_id);
      bulk_keys_->others.ids.Prefetch(r.user_id);
    }
    StartWriterIntoNewStore();
    const int64_t message = KeyOf(r.message_id, true), user = KeyOf(r.user_id, false);
    // The time it counts at: its own, or else its message's (a message written later gives it
    // its time then).
    int64_t at = r.created_at ? ToUnixMillis(*r.created_at) : kNone;
    if (at == kNone && bulk_keys_) {
      auto i = bulk_keys_->messages.ids.Find(r.message_id);
      if (i && *i < bulk_keys_->created.size()) at = bulk_keys_->created[*i];
    }
    if (at == kNone && !(bulk_keys_ && bulk_keys_->table_empty)) {
      Stmt& q = Cached("SELECT created_at FROM messages WHERE key=?1");
      q.Bind(1, message);
      if (q.Step()) at = q.Int(0);
      q.Reset();
    }
    AddRow(BulkRow::Kind::kReaction,
           {message, user, r.created_at ? ToUnixMillis(*r.created_at) : kNone, at}, {r.kind});
  });
}

Result<int> SqliteStore::MarkDeletedExcept(const std::string& group_id, Time from, Time to,
                                           const std::vector<std::string>& present) {
  return Guard([&]() -> int {
    int changed = 0;
    Locked([&] {
      Stmt& s = Cached(
          "UPDATE messages SET deleted=1 WHERE group_key=(SELECT key FROM ids WHERE id=?1) AND "
          "created_at>=?2 AND created_at<?3 AND deleted=0 AND key NOT IN (SELECT k.key FROM "
          "json_each(?4) j JOIN ids k ON k.id=j.value)");
      s.Bind(1, group_id).Bind(2, from).Bind(3, to).Bind(4, EncodeList(present)).Run();
      changed = sqlite3_changes(db_);
    });
    return changed;
  });
}

}  // namespace learnloop::store::sqlite
