#include "store/sqlite/sqlite_store.h"

namespace learnloop::store::sqlite {

Message SqliteStore::ReadMessage(Stmt& s) {
  Message m;
  m.id = s.Text(0);
  m.network = s.Text(1);
  m.group_id = s.OptText(2);
  m.thread_id = s.Text(3);
  m.reply_to_id = s.OptText(4);
  m.author_id = s.Text(5);
  m.created_at = s.TimeAt(6);
  m.edited_at = s.OptTime(7);
  m.deleted = s.Int(8) != 0;
  m.text = s.Text(9);
  m.mentions = DecodeList(s.Text(10));
  m.kind = s.Text(11);
  return m;
}

Result<std::vector<Message>> SqliteStore::MessagesInThread(const std::string& thread_id) {
  return Guard([&]() -> std::vector<Message> {
    return ReadAll(
        "SELECT * FROM message_rows WHERE thread_key=(SELECT key FROM ids WHERE id=?1) "
        "ORDER BY created_at, id",
        ReadMessage, thread_id);
  });
}

Result<std::map<std::string, std::vector<Message>>> SqliteStore::MessagesInThreads(
    const std::vector<std::string>& thread_ids) {
  return Guard([&]() -> std::map<std::string, std::vector<Message>> {
    std::map<std::string, std::vector<Message>> out;
    for (auto& m : ReadAll("SELECT * FROM message_rows WHERE thread_key IN (SELECT key FROM ids "
                           "WHERE id IN (SELECT value FROM json_each(?1))) ORDER BY created_at, id",
                           ReadMessage, EncodeList(thread_ids)))
      out[m.thread_id].push_back(std::move(m));
    return out;
  });
}

User SqliteStore::ReadUser(Stmt& s) {
  User u;
  u.id = s.Text(0);
  u.network = s.Text(1);
  u.name = s.Text(2);
  u.email = s.OptText(3);
  u.department = s.OptText(4);
  u.state = s.Text(5);
  u.is_bot = s.Int(6) != 0;
  u.joined_at = s.OptTime(7);
  return u;
}

Result<std::optional<User>> SqliteStore::GetUser(const std::string& id) {
  return Guard([&]() -> std::optional<User> {
    auto lock = Lock();
    Stmt s(db_, "SELECT * FROM users WHERE id=?1");
    s.Bind(1, id);
    if (s.Step()) return ReadUser(s);
    return std::nullopt;
  });
}

Result<std::vector<User>> SqliteStore::AllUsers() {
  return Guard(
      [&]() -> std::vector<User> { return ReadAll("SELECT * FROM users ORDER BY id", ReadUser); });
}

Result<std::vector<Group>> SqliteStore::AllGroups() {
  return Guard([&]() -> std::vector<Group> {
    auto lock = Lock();
    std::vector<Group> out;
    {
      Stmt s(db_, "SELECT * FROM groups ORDER BY id");
      while (s.Step()) out.push_back(Group{s.Text(0), s.Text(1), s.Text(2), s.Text(3), {}});
    }
    Stmt m(db_, "SELECT group_id, user_id FROM memberships ORDER BY group_id, user_id");
    size_t gi = 0;
    while (m.Step()) {
      std::string g = m.Text(0);
      while (gi < out.size() && out[gi].id < g) ++gi;
      if (gi < out.size() && out[gi].id == g) out[gi].members.push_back(m.Text(1));
    }
    return out;
  });
}

Result<std::vector<Message>> SqliteStore::AllMessages() {
  return Guard([&]() -> std::vector<Message> {
    return ReadAll("SELECT * FROM message_rows ORDER BY created_at, id", ReadMessage);
  });
}

Result<std::vector<Reaction>> SqliteStore::AllReactions() {
  return Guard([&]() -> std::vector<Reaction> {
    return ReadAll("SELECT * FROM reaction_rows ORDER BY message_id, user_id, kind", [](Stmt& s) {
      return Reaction{s.Text(0), s.Text(1), s.Text(2), s.OptTime(3)};
    });
  });
}

Result<int64_t> SqliteStore::ReactionCount() {
  return Guard([&]() -> int64_t {
    auto lock = Lock();
    Stmt s(db_, "SELECT count(*) FROM reactions");
    return s.Step() ? s.Int(0) : 0;
  });
}

Result<int64_t> SqliteStore::MaxKey() {
  return Guard([&]() -> int64_t {
    auto lock = Lock();
    Stmt s(db_, "SELECT max(key) FROM ids");
    return s.Step() ? s.Int(0) : 0;
  });
}

Result<std::vector<int64_t>> SqliteStore::KeysOf(const std::vector<std::string>& ids) {
  return Guard([&]() -> std::vector<int64_t> {
    auto lock = Lock();
    std::vector<int64_t> out;
    out.reserve(ids.size());
    Stmt& q = Cached("SELECT key FROM ids WHERE id=?1");
    for (const auto& id : ids) {
      q.BindView(1, id);
      out.push_back(q.Step() ? q.Int(0) : 0);
      q.Reset();
    }
    return out;
  });
}

Result<std::vector<std::string>> SqliteStore::IdsOf(const std::vector<int64_t>& keys) {
  return Guard([&]() -> std::vector<std::string> {
    auto lock = Lock();
    std::vector<std::string> out;
    out.reserve(keys.size());
    Stmt& q = Cached("SELECT id FROM ids WHERE key=?1");
    for (int64_t key : keys) {
      q.Bind(1, key);
      out.push_back(q.Step() ? q.Text(0) : std::string());
      q.Reset();
    }
    return out;
  });
}

namespace {

void ReadMessages(Stmt& s, const std::function<void(const Store::MessageRow&)>& fn) {
  Store::MessageRow row;
  std::vector<std::string> mentions;
  row.mentions = &mentions;
  while (s.Step()) {
    row.key = s.Int(0);
    row.thread = s.Int(1);
    row.parent = s.Int(2);  // 0 when NULL
    row.author = s.Int(3);
    row.group = s.Int(4);
    row.created_at = s.TimeAt(5);
    row.deleted = s.Int(6) != 0;
    DecodeIds(s.View(7), mentions);
    fn(row);
  }
  s.Reset();
}

}  // namespace

Status SqliteStore::ScanMessagesSince(Time from, const std::function<void(const MessageRow&)>& fn) {
  return Guard([&] {
    auto lock = Lock();
    Stmt& s = Cached(
        "SELECT key, thread_key, parent_key, author_key, group_key, created_at, deleted, "
        "mentions FROM messages WHERE created_at >= ?1");
    s.Bind(1, from);
    ReadMessages(s, fn);
  });
}

Status SqliteStore::ScanMessagesOf(const std::vector<int64_t>& keys,
                                   const std::function<void(const MessageRow&)>& fn) {
  return Guard([&] {
    auto lock = Lock();
    Stmt& s = Cached(
        "SELECT key, thread_key, parent_key, author_key, group_key, created_at, deleted, "
        "mentions FROM messages WHERE key = ?1");
    for (int64_t key : keys) {
      s.Bind(1, key);
      ReadMessages(s, fn);
    }
  });
}

Status SqliteStore::ScanUsers(const std::function<void(const UserRow&)>& fn) {
  return Guard([&] {
    auto lock = Lock();
    Stmt s(db_, "SELECT key, id, state, is_bot, joined_at FROM users ORDER BY id");
    UserRow row;
    while (s.Step()) {
      row.key = s.Int(0);
      row.id = s.View(1);
      row.state = s.View(2);
      row.is_bot = s.Int(3) != 0;
      row.joined_at = s.OptTime(4);
      fn(row);
    }
  });
}

Status SqliteStore::ScanReactionsSince(Time from,
                                       const std::function<void(const ReactionRow&)>& fn) {
  return Guard([&] {
    auto lock = Lock();
    // The index by time holds all of it: the table itself is not read.
    Stmt& s = Cached("SELECT message_key, user_key, at FROM reactions WHERE at >= ?1");
    s.Bind(1, from);
    ReactionRow row;
    while (s.Step()) {
      row.message = s.Int(0);
      row.user = s.Int(1);
      row.at = s.OptTime(2);
      fn(row);
    }
    s.Reset();
  });
}

Status SqliteStore::ScanAuthorGroups(const std::function<void(const AuthorGroupRow&)>& fn) {
  return Guard([&] {
    auto lock = Lock();
    Stmt s(db_, "SELECT author_key, group_key, messages FROM author_groups WHERE messages > 0");
    AuthorGroupRow row;
    while (s.Step()) {
      row.author = s.Int(0);
      row.group = s.Int(1);
      row.messages = s.Int(2);
      fn(row);
    }
  });
}

Status SqliteStore::ScanAnswersTo(const std::vector<std::string>& prompt_ids,
                                  const std::function<void(const AnswerRow&)>& fn) {
  return Guard([&] {
    auto lock = Lock();
    Stmt& s = Cached(
        "SELECT prompt_id, user_id, message_id, answered_at, correct FROM answers "
        "WHERE prompt_id = ?1");
    AnswerRow row;
    for (const auto& id : prompt_ids) {
      s.Bind(1, id);
      while (s.Step()) {
        row.prompt_id = s.View(0);
        row.user_id = s.View(1);
        row.message_id = s.View(2);
        row.answered_at = s.TimeAt(3);
        row.correct = s.IsNull(4) ? std::nullopt : std::optional<bool>(s.Int(4) != 0);
        fn(row);
      }
      s.Reset();
    }
  });
}

Result<SqliteStore::Tally> SqliteStore::Count(Time now) {
  return Guard([&]() -> SqliteStore::Tally {
    auto lock = Lock();
    Tally t;
    {
      Stmt s(db_, "SELECT state, COUNT(*) FROM outbox GROUP BY state");
      while (s.Step()) t.outbox[s.Text(0)] = s.Int(1);
    }
    auto one = [&](const char* sql, int64_t& out, bool with_now = false) {
      Stmt s(db_, sql);
      if (with_now) s.Bind(1, now);
      if (s.Step()) out = s.Int(0);
    };
    one("SELECT COUNT(*) FROM prompts WHERE message_id IS NOT NULL AND (closes_at IS NULL OR "
        "closes_at > ?1)",
        t.prompts_open, true);
    one("SELECT COUNT(*) FROM answers", t.answers);
    one("SELECT COUNT(*) FROM pushes", t.pushes_queued);
    return t;
  });
}

Result<std::vector<Store::KeptWeek>> SqliteStore::KeptWeeks(const std::string& version) {
  return Guard([&] {
    return ReadAll(
        "SELECT from_ms, to_ms, figures FROM week_totals WHERE version = ?1 AND figures NOT NULL "
        "ORDER BY from_ms",
        [](Stmt& s) {
          return KeptWeek{s.TimeAt(0), s.TimeAt(1), s.Text(2)};
        },
        version);
  });
}

Result<int64_t> SqliteStore::MarkWeeks(const std::string& version,
                                       const std::vector<std::pair<Time, Time>>& weeks) {
  return Guard([&] {
    int64_t mark = 0;
    Write([&] {
      Stmt& last = Cached("SELECT coalesce(max(mark), 0) + 1 FROM week_totals");
      if (last.Step()) mark = last.Int(0);
      last.Reset();
      Stmt& put = Cached(
          "INSERT OR REPLACE INTO week_totals(from_ms, to_ms, version, mark) "
          "VALUES (?1, ?2, ?3, ?4)");
      for (const auto& [from, to] : weeks)
        put.Bind(1, from).Bind(2, to).Bind(3, version).Bind(4, mark).Run();
    });
    return mark;
  });
}

Status SqliteStore::KeepWeeks(int64_t mark, const std::vector<KeptWeek>& weeks) {
  return Guard([&] {
    Write([&] {
      Stmt& keep = Cached(
          "UPDATE week_totals SET figures = ?4 WHERE from_ms = ?1 AND to_ms = ?2 AND mark = ?3 "
          "AND figures IS NULL");
      for (const auto& w : weeks)
        keep.Bind(1, w.from).Bind(2, w.to).Bind(3, mark).Bind(4, w.figures).Run();
      Stmt& drop = Cached("DELETE FROM week_totals WHERE mark = ?1 AND figures IS NULL");
      drop.Bind(1, mark).Run();
    });
  });
}

}  // namespace learnloop::store::sqlite
