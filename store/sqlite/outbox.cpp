#include "store/sqlite/sqlite_store.h"

namespace learnloop::store::sqlite {

Result<bool> SqliteStore::EnqueueOutbox(const OutboxItem& o) {
  return Guard([&]() -> bool {
    bool inserted = false;
    Locked([&] {
      Stmt s(db_,
             "INSERT OR IGNORE INTO outbox (key, network, group_id, reply_to, body, state, "
             "native_id, attempts, due_at, posted_at, last_error, to_user) VALUES "
             "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)");
      s.Bind(1, o.key).Bind(2, o.network).Bind(3, o.group_id).Bind(4, o.reply_to).Bind(5, o.body);
      s.Bind(6, o.state).Bind(7, o.native_id).Bind(8, o.attempts).Bind(9, o.due_at);
      s.Bind(10, o.posted_at).Bind(11, o.last_error).Bind(12, o.to_user).Run();
      inserted = sqlite3_changes(db_) > 0;
    });
    return inserted;
  });
}

OutboxItem SqliteStore::ReadOutbox(Stmt& s) {
  OutboxItem o;
  o.key = s.Text(0);
  o.network = s.Text(1);
  o.group_id = s.Text(2);
  o.reply_to = s.OptText(3);
  o.body = s.Text(4);
  o.state = s.Text(5);
  o.native_id = s.OptText(6);
  o.attempts = static_cast<int>(s.Int(7));
  o.due_at = s.TimeAt(8);
  o.posted_at = s.OptTime(9);
  o.last_error = s.Text(10);
  o.sent_body = s.OptText(11);
  o.sent_at = s.OptTime(12);
  o.to_user = s.OptText(13);
  return o;
}

Result<std::vector<OutboxItem>> SqliteStore::AllOutbox() {
  return Guard([&]() -> std::vector<OutboxItem> {
    auto lock = Lock();
    Stmt s(db_, "SELECT * FROM outbox ORDER BY due_at, key");
    std::vector<OutboxItem> out;
    while (s.Step()) out.push_back(ReadOutbox(s));
    return out;
  });
}

Result<std::optional<std::string>> SqliteStore::OutboxKeyOfPost(const std::string& network,
                                                                const std::string& native_id) {
  return Guard([&]() -> std::optional<std::string> {
    auto lock = Lock();
    Stmt s(db_, "SELECT key FROM outbox WHERE network=?1 AND native_id=?2 LIMIT 1");
    s.Bind(1, network).Bind(2, native_id);
    if (s.Step()) return s.Text(0);
    return std::nullopt;
  });
}

Result<std::vector<OutboxItem>> SqliteStore::UnfinishedOutbox() {
  return Guard([&]() -> std::vector<OutboxItem> {
    auto lock = Lock();
    Stmt s(db_, "SELECT * FROM outbox WHERE state IN ('pending','sending') ORDER BY due_at, key");
    std::vector<OutboxItem> out;
    while (s.Step()) out.push_back(ReadOutbox(s));
    return out;
  });
}

Result<std::optional<OutboxItem>> SqliteStore::GetOutbox(const std::string& key) {
  return Guard([&]() -> std::optional<OutboxItem> {
    auto lock = Lock();
    Stmt s(db_, "SELECT * FROM outbox WHERE key=?1");
    s.Bind(1, key);
    if (s.Step()) return ReadOutbox(s);
    return std::nullopt;
  });
}

Status SqliteStore::MarkOutboxSending(const std::string& key, const std::string& body, Time at) {
  return Guard([&] {
    Locked([&] {
      Stmt s(db_,
             "UPDATE outbox SET state='sending', attempts=attempts+1, "
             "sent_body=coalesce(sent_body, ?2), sent_at=coalesce(sent_at, ?3) WHERE key=?1");
      s.Bind(1, key).Bind(2, body).Bind(3, at).Run();
    });
  });
}

Status SqliteStore::MarkOutboxPosted(const std::string& key, const std::string& native_id,
                                     Time at) {
  return Guard([&] {
    Locked([&] {
      Stmt s(db_,
             "UPDATE outbox SET state='posted', native_id=?2, posted_at=?3, last_error='' WHERE "
             "key=?1");
      s.Bind(1, key).Bind(2, native_id).Bind(3, at).Run();
    });
  });
}

Status SqliteStore::MarkOutboxFailed(const std::string& key, const std::string& error, bool final) {
  return Guard([&] {
    Locked([&] {
      // A failure that is not final keeps the state: a 'sending' item may still have gone out.
      Stmt s(db_,
             "UPDATE outbox SET state=CASE WHEN ?2 THEN 'failed' ELSE state END, last_error=?3 "
             "WHERE key=?1");
      s.Bind(1, key).Bind(2, final).Bind(3, error).Run();
    });
  });
}

}  // namespace learnloop::store::sqlite
