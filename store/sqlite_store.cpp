#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>

#include "core/crypto.h"
#include "core/files.h"
#include "core/interner.h"
#include "core/json.h"
#include "core/parallel.h"
#include "store/store.h"

namespace learnloop::store {

namespace {

// Versioned migrations: each entry moves the schema one version up; never edit a shipped one.
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE users (
  id TEXT PRIMARY KEY, network TEXT NOT NULL, name TEXT NOT NULL, email TEXT, department TEXT,
  state TEXT NOT NULL, is_bot INTEGER NOT NULL, joined_at INTEGER);
CREATE TABLE groups (
  id TEXT PRIMARY KEY, network TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL);
CREATE TABLE memberships (
  group_id TEXT NOT NULL, user_id TEXT NOT NULL, PRIMARY KEY (group_id, user_id));
CREATE TABLE messages (
  id TEXT PRIMARY KEY, network TEXT NOT NULL, group_id TEXT, thread_id TEXT NOT NULL,
  reply_to_id TEXT, author_id TEXT NOT NULL, created_at INTEGER NOT NULL, edited_at INTEGER,
  deleted INTEGER NOT NULL, text TEXT NOT NULL, mentions TEXT NOT NULL, kind TEXT NOT NULL);
CREATE INDEX messages_thread ON messages(thread_id);
CREATE TABLE reactions (
  message_id TEXT NOT NULL, user_id TEXT NOT NULL, kind TEXT NOT NULL, created_at INTEGER,
  PRIMARY KEY (message_id, user_id, kind));
CREATE TABLE cursors (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE outbox (
  key TEXT PRIMARY KEY, network TEXT NOT NULL, group_id TEXT NOT NULL, reply_to TEXT,
  body TEXT NOT NULL, state TEXT NOT NULL, native_id TEXT, attempts INTEGER NOT NULL,
  due_at INTEGER NOT NULL, posted_at INTEGER, last_error TEXT NOT NULL DEFAULT '');
CREATE TABLE prompts (
  id TEXT PRIMARY KEY, campaign TEXT NOT NULL, step INTEGER NOT NULL, network TEXT NOT NULL,
  group_id TEXT NOT NULL, message_id TEXT, type TEXT NOT NULL, posted_at INTEGER NOT NULL,
  closes_at INTEGER, correct TEXT);
CREATE TABLE answers (
  prompt_id TEXT NOT NULL, user_id TEXT NOT NULL, message_id TEXT NOT NULL,
  answered_at INTEGER NOT NULL, choice TEXT, correct INTEGER, points INTEGER NOT NULL,
  PRIMARY KEY (prompt_id, message_id));
)sql",
    R"sql(
CREATE TABLE card_actions (
  id TEXT PRIMARY KEY, network TEXT NOT NULL, message_id TEXT NOT NULL, user_id TEXT NOT NULL,
  value TEXT NOT NULL, at INTEGER NOT NULL);
CREATE INDEX card_actions_message ON card_actions(message_id);
)sql",
    R"sql(
ALTER TABLE prompts ADD COLUMN audience TEXT;
CREATE INDEX prompts_campaign ON prompts(campaign);
CREATE INDEX prompts_closes ON prompts(closes_at);
)sql",
    R"sql(
CREATE TABLE forgotten (user_id TEXT PRIMARY KEY, at INTEGER NOT NULL);
CREATE INDEX reactions_user ON reactions(user_id);
CREATE INDEX messages_author ON messages(author_id);
)sql",
    // Integer keys: every id of a person, group or message gets one when first written, and
    // the two large tables refer to each other by them (smaller rows and indexes, and reports
    // that read integers only). Ids are kept once, in `ids`; what reports do not read of a
    // message (its text) is in `message_bodies`; the views show whole rows with their ids.
    R"sql(
CREATE TABLE ids (key INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE);
INSERT OR IGNORE INTO ids(id) SELECT id FROM users ORDER BY rowid;
INSERT OR IGNORE INTO ids(id) SELECT id FROM groups ORDER BY rowid;
INSERT OR IGNORE INTO ids(id) SELECT id FROM messages ORDER BY rowid;
INSERT OR IGNORE INTO ids(id) SELECT thread_id FROM messages;
INSERT OR IGNORE INTO ids(id) SELECT reply_to_id FROM messages WHERE reply_to_id IS NOT NULL;
INSERT OR IGNORE INTO ids(id) SELECT author_id FROM messages;
INSERT OR IGNORE INTO ids(id) SELECT group_id FROM messages WHERE group_id IS NOT NULL;
INSERT OR IGNORE INTO ids(id) SELECT message_id FROM reactions;
INSERT OR IGNORE INTO ids(id) SELECT user_id FROM reactions;
CREATE TABLE keyed_messages (
  key INTEGER PRIMARY KEY, thread_key INTEGER NOT NULL, parent_key INTEGER,
  author_key INTEGER NOT NULL, group_key INTEGER, created_at INTEGER NOT NULL,
  deleted INTEGER NOT NULL, mentions TEXT NOT NULL);
INSERT INTO keyed_messages
  SELECT k.key, t.key, p.key, a.key, g.key, m.created_at, m.deleted, m.mentions
  FROM messages m JOIN ids k ON k.id = m.id JOIN ids t ON t.id = m.thread_id
       JOIN ids a ON a.id = m.author_id LEFT JOIN ids p ON p.id = m.reply_to_id
       LEFT JOIN ids g ON g.id = m.group_id;
CREATE TABLE message_bodies (
  key INTEGER PRIMARY KEY, network TEXT NOT NULL, edited_at INTEGER, kind TEXT NOT NULL,
  text TEXT NOT NULL);
INSERT INTO message_bodies
  SELECT k.key, m.network, m.edited_at, m.kind, m.text FROM messages m JOIN ids k ON k.id = m.id;
DROP TABLE messages;
ALTER TABLE keyed_messages RENAME TO messages;
CREATE INDEX messages_thread ON messages(thread_key);
CREATE TABLE keyed_reactions (
  message_key INTEGER NOT NULL, user_key INTEGER NOT NULL, kind TEXT NOT NULL, created_at INTEGER,
  PRIMARY KEY (message_key, user_key, kind)) WITHOUT ROWID;
INSERT INTO keyed_reactions
  SELECT m.key, u.key, r.kind, r.created_at
  FROM reactions r JOIN ids m ON m.id = r.message_id JOIN ids u ON u.id = r.user_id;
DROP TABLE reactions;
ALTER TABLE keyed_reactions RENAME TO reactions;
CREATE VIEW message_rows AS
  SELECT (SELECT id FROM ids WHERE key = m.key) AS id, b.network,
         (SELECT id FROM ids WHERE key = m.group_key) AS group_id,
         (SELECT id FROM ids WHERE key = m.thread_key) AS thread_id,
         (SELECT id FROM ids WHERE key = m.parent_key) AS reply_to_id,
         (SELECT id FROM ids WHERE key = m.author_key) AS author_id,
         m.created_at, b.edited_at, m.deleted, b.text, m.mentions, b.kind, m.key, m.thread_key
  FROM messages m JOIN message_bodies b ON b.key = m.key;
CREATE VIEW reaction_rows AS
  SELECT (SELECT id FROM ids WHERE key = r.message_key) AS message_id,
         (SELECT id FROM ids WHERE key = r.user_key) AS user_id, r.kind, r.created_at
  FROM reactions r;
)sql",
    // Secrets (the pseudonym key, the networks' refresh tokens and notification client states)
    // in a table of their own, out of the cursors.
    R"sql(
CREATE TABLE secrets (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO secrets SELECT key, value FROM cursors WHERE key = 'privacy:pseudonym_key';
INSERT INTO secrets
  SELECT replace(key, ':cursor:', ':'), value FROM cursors
  WHERE key GLOB '*:cursor:auth.refresh_token' OR key GLOB '*:cursor:push.client_state';
DELETE FROM cursors WHERE key = 'privacy:pseudonym_key' OR
  key GLOB '*:cursor:auth.refresh_token' OR key GLOB '*:cursor:push.client_state';
)sql",
    // The text an outbox item was first sent with, and when: attempts after it send the same
    // text, by which the post is found again (no bookkeeping shows in it).
    R"sql(
ALTER TABLE outbox ADD COLUMN sent_body TEXT;
ALTER TABLE outbox ADD COLUMN sent_at INTEGER;
CREATE INDEX outbox_native ON outbox(network, native_id);
)sql",
    // What a prompt is part of (a sequence that ends at its last step, a spaced-repetition
    // round, a private question), and the person an outbox item goes to privately.
    R"sql(
ALTER TABLE prompts ADD COLUMN last_step INTEGER;
ALTER TABLE prompts ADD COLUMN spaced INTEGER NOT NULL DEFAULT 0;
ALTER TABLE prompts ADD COLUMN private INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN to_user TEXT;
)sql",
    // A forgotten person's tombstone is a keyed hash of their id, not the id (the rows written
    // before are hashed when the store opens, see HashTombstones).
    R"sql(
CREATE TABLE tombstones (hash TEXT PRIMARY KEY, at INTEGER NOT NULL);
INSERT INTO tombstones SELECT 'id:' || user_id, at FROM forgotten;
DROP TABLE forgotten;
)sql",
    // Pushes acknowledged and not yet read (see Store::QueuePush).
    R"sql(
CREATE TABLE pushes (
  id INTEGER PRIMARY KEY, network TEXT NOT NULL, payload TEXT NOT NULL, at INTEGER NOT NULL);
)sql",
};

// The indexes only reads need (the same as the migrations create). A person's messages and
// reactions have none: only forgetting them looks for those, and reads the tables whole.
const char* const kDropSecondaryIndexes = "DROP INDEX messages_thread;";
const char* const kCreateSecondaryIndexes =
    "PRAGMA threads=2; CREATE INDEX messages_thread ON messages(thread_key);";

class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) != SQLITE_OK)
      throw std::runtime_error(std::string("sqlite prepare: ") + sqlite3_errmsg(db));
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& Bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(int i, const char* v) { return Bind(i, std::string(v)); }
  // The text must stay put until the statement is reset.
  Stmt& BindView(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& Bind(int i, int v) { return Bind(i, static_cast<int64_t>(v)); }
  Stmt& Bind(int i, bool v) { return Bind(i, static_cast<int64_t>(v ? 1 : 0)); }
  Stmt& Bind(int i, Time t) { return Bind(i, ToUnixMillis(t)); }
  Stmt& BindNull(int i) {
    sqlite3_bind_null(s_, i);
    return *this;
  }
  template <typename T>
  Stmt& Bind(int i, const std::optional<T>& v) {
    return v ? Bind(i, *v) : BindNull(i);
  }
  bool Step() {
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw std::runtime_error(std::string("sqlite step: ") + sqlite3_errmsg(db_));
  }
  void Run() {
    Step();
    Reset();
  }
  void Reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  bool IsNull(int c) { return sqlite3_column_type(s_, c) == SQLITE_NULL; }
  std::string Text(int c) {
    auto p = sqlite3_column_text(s_, c);
    return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(s_, c)) : "";
  }
  // Valid until the next Step.
  std::string_view View(int c) {
    auto p = sqlite3_column_text(s_, c);
    return p ? std::string_view(reinterpret_cast<const char*>(p), sqlite3_column_bytes(s_, c))
             : std::string_view();
  }
  std::optional<std::string> OptText(int c) {
    if (IsNull(c)) return std::nullopt;
    return Text(c);
  }
  int64_t Int(int c) { return sqlite3_column_int64(s_, c); }
  Time TimeAt(int c) { return FromUnixMillis(Int(c)); }
  std::optional<Time> OptTime(int c) {
    if (IsNull(c)) return std::nullopt;
    return TimeAt(c);
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
};

// A value that stands for NULL where a column is written from a plain integer.
constexpr int64_t kNone = std::numeric_limits<int64_t>::min();
std::optional<int64_t> Nullable(int64_t v, int64_t null) {
  return v == null ? std::nullopt : std::optional<int64_t>(v);
}

std::string EncodeList(const std::vector<std::string>& v) {
  json::Writer w;
  w.StringArray(v);
  return w.Take();
}

std::vector<std::string> DecodeList(const std::string& s) {
  std::vector<std::string> out;
  auto v = json::Parse(s);
  if (!v.ok() || !v->is_array()) return out;
  for (const auto& e : v->as_array())
    if (e.is_string()) out.push_back(e.as_string());
  return out;
}

// DecodeList into `out` (reused), without a JSON parser for the usual lists of plain ids.
void DecodeIds(std::string_view s, std::vector<std::string>& out) {
  out.clear();
  if (s == "[]") return;
  if (s.size() < 4 || s.front() != '[' || s.back() != ']' || s.find('\\') != s.npos) {
    out = DecodeList(std::string(s));
    return;
  }
  // ["a","b",...]: plain strings between quotes, separated by commas.
  size_t i = 1;
  while (i < s.size() && s[i] == '"') {
    size_t end = s.find('"', i + 1);
    if (end == s.npos) break;
    out.emplace_back(s.substr(i + 1, end - i - 1));
    i = end + 1;
    if (i < s.size() && s[i] == ',') ++i;
  }
  if (i != s.size() - 1) out = DecodeList(std::string(s));  // not the plain shape after all
}

// Whether the character can be part of an id or a word (ASCII letters and digits, and any byte
// of a multi-byte UTF-8 character).
bool WordByte(char c) {
  auto u = static_cast<unsigned char>(c);
  return u >= 0x80 || (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z');
}

// `text` with each `word` replaced by `with`; when `whole`, only where it stands alone (not
// inside a longer run of letters and digits). Returns whether anything changed.
bool ReplaceWord(std::string& text, std::string_view word, std::string_view with, bool whole) {
  if (word.empty()) return false;
  bool changed = false;
  for (size_t at = text.find(word); at != std::string::npos; at = text.find(word, at)) {
    size_t end = at + word.size();
    if (whole &&
        ((at > 0 && WordByte(text[at - 1])) || (end < text.size() && WordByte(text[end])))) {
      at = end;
      continue;
    }
    text.replace(at, word.size(), with);
    at += with.size();
    changed = true;
  }
  return changed;
}

// What names a person in a text the store keeps, and how it goes when they are forgotten: the
// bot's mention token of them becomes "a colleague", their name and email "[forgotten]", their
// id (whole) "[forgotten]".
struct Scrubber {
  std::string native_id, user_id;
  std::vector<std::string> words;  // name, email

  // The strings a text must contain to need scrubbing (for a first cheap look with instr).
  std::vector<std::string> Needles() const {
    std::vector<std::string> out = words;
    out.push_back(user_id);
    if (native_id.size() >= 4) out.push_back(native_id);
    out.push_back("{{mention:" + native_id + "|");
    return out;
  }
  bool Scrub(std::string& text) const {
    bool changed = false;
    const std::string token = "{{mention:" + native_id + "|";
    for (size_t at = text.find(token); at != std::string::npos; at = text.find(token, at)) {
      size_t end = text.find("}}", at);
      if (end == std::string::npos) break;
      text.replace(at, end + 2 - at, "a colleague");
      changed = true;
    }
    for (const auto& w : words)
      if (w.size() >= 3) changed |= ReplaceWord(text, w, "[forgotten]", false);
    changed |= ReplaceWord(text, user_id, "[forgotten]", true);
    if (native_id.size() >= 4) changed |= ReplaceWord(text, native_id, "[forgotten]", true);
    return changed;
  }
};

// The keys a bulk transaction hands out from memory (outside the class: its default member
// initialisers must be complete where the class makes one).
struct BulkKeys {
  struct Table {
    Interner ids;               // ids looked up or given a key during the bulk transaction
    std::vector<int64_t> keys;  // by index in `ids`
  };
  Table messages, others;    // messages' ids; people's and groups' ids
  int64_t next = 1;          // the next key to give
  bool table_empty = true;   // `ids` was empty: an id not in memory has no key yet
  std::string_view last_id;  // the id given a key last, and its key
  int64_t last_key = 0;
};

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(sqlite3* db, bool building = false) : db_(db), building_(building) {}
  ~SqliteStore() override {
    cache_.clear();
    if (building_) sqlite3_exec(db_, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr);
    sqlite3_close(db_);
  }

  void Exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string m = err ? err : "unknown";
      sqlite3_free(err);
      throw std::runtime_error("sqlite: " + m);
    }
  }

  void Migrate(int up_to) {
    // A store built from an export has pages of 64 KiB: it holds millions of rows from its first
    // day, reports read its tables whole, and the load writes each page once (a third faster than
    // pages of 4 KiB at 10 million rows; reports no slower). A store that grows by syncs keeps
    // SQLite's 4 KiB: its many small transactions each write whole pages to the log.
    if (building_)
      Exec(
          "PRAGMA page_size=65536; PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; "
          "PRAGMA foreign_keys=ON;");
    else
      Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
    sqlite3_busy_timeout(db_, 5000);
    int64_t version = 0;
    {
      Stmt s(db_, "PRAGMA user_version");
      if (s.Step()) version = s.Int(0);
    }
    int64_t target = sizeof(kMigrations) / sizeof(kMigrations[0]);
    if (up_to > 0 && up_to < target) target = up_to;
    for (int64_t v = version; v < target; ++v) {
      Transaction([&] {
        Exec(kMigrations[v]);
        Exec(("PRAGMA user_version = " + std::to_string(v + 1)).c_str());
      });
    }
    if (target >= 9) HashTombstones();
  }

  void Transaction(const std::function<void()>& fn) override { Within("BEGIN IMMEDIATE", fn); }
  void ReadTransaction(const std::function<void()>& fn) override { Within("BEGIN DEFERRED", fn); }

  // fn inside a transaction begun with `begin`, or inside the one already open.
  void Within(const char* begin, const std::function<void()>& fn) {
    auto lock = Lock();
    if (depth_++ == 0) Exec(begin);
    try {
      fn();
    } catch (...) {
      if (--depth_ == 0) Exec("ROLLBACK");
      throw;
    }
    if (--depth_ == 0) Exec("COMMIT");
  }

  void BulkTransaction(const std::function<void()>& fn) override {
    auto lock = Lock();
    // A store in use: up to 1 GiB of pages in memory, so that a long transaction does not spill
    // them to the log before its commit. A store being built has no log: 64 MiB, and pages go to
    // the file as the load goes (on the writer's thread, not all at the commit; a third of the
    // memory at 10 million rows).
    Exec(building_ ? "PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY"
                   : "PRAGMA cache_size=-1048576; PRAGMA temp_store=MEMORY");
    try {
      Transaction([&] {
        // Into an empty store, the secondary indexes are built once at the end (a sort)
        // instead of row by row.
        Stmt& any = Cached("SELECT 1 FROM messages LIMIT 1");
        bool empty = !any.Step();
        any.Reset();
        if (empty) Exec(kDropSecondaryIndexes);
        // Nobody else can write meanwhile: the forgotten are read once, and keys are handed out
        // from memory.
        bulk_forgotten_.emplace();
        for (auto& h : ReadAll("SELECT hash FROM tombstones", [](Stmt& s) { return s.Text(0); }))
          bulk_forgotten_->insert(std::move(h));
        bulk_keys_.emplace();
        bulk_keys_->messages.ids.Reserve(1 << 20);
        Stmt& max = Cached("SELECT max(key) FROM ids");
        if (max.Step() && !max.IsNull(0)) {
          bulk_keys_->next = max.Int(0) + 1;
          bulk_keys_->table_empty = false;
        }
        max.Reset();
        try {
          fn();
          if (writer_) writer_->Drain();
        } catch (...) {
          writer_.reset();  // before the rollback: the connection is this thread's again
          throw;
        }
        writer_.reset();
        bulk_forgotten_.reset();
        bulk_keys_.reset();
        if (empty) Exec(kCreateSecondaryIndexes);
      });
    } catch (...) {
      bulk_forgotten_.reset();
      bulk_keys_.reset();
      Exec("PRAGMA cache_size=-2000; PRAGMA temp_store=DEFAULT");
      throw;
    }
    Exec("PRAGMA cache_size=-2000; PRAGMA temp_store=DEFAULT");
  }

  // A person erased with ForgetUser never comes back, whatever a sync, an import or a replay
  // brings. Their tombstone is a keyed hash of their id: the store keeps nothing of them.
  bool Forgotten(const std::string& user_id) {
    if (bulk_forgotten_) {
      if (bulk_forgotten_->empty()) return false;
      auto h = Tombstone(user_id, false);
      return h && bulk_forgotten_->count(*h) > 0;
    }
    auto h = Tombstone(user_id, false);
    if (!h) return false;  // nobody has been forgotten
    Stmt& s = Cached("SELECT 1 FROM tombstones WHERE hash=?1");
    s.Bind(1, *h);
    bool found = s.Step();
    s.Reset();
    return found;
  }

  // The tombstone of an id, with the store's own key (made at the first forget; none before
  // unless `create`).
  std::optional<std::string> Tombstone(const std::string& user_id, bool create) {
    if (tombstone_key_.empty()) {
      if (auto k = GetValue("secrets", kTombstoneKey)) {
        tombstone_key_ = *k;
      } else if (create) {
        tombstone_key_ = crypto::RandomHex(32);
        SetValue("secrets", kTombstoneKey, tombstone_key_);
      } else {
        return std::nullopt;
      }
    }
    return "hmac:" + crypto::HmacSha256Hex(tombstone_key_, user_id);
  }

  // Tombstones written before they were hashed (kept as 'id:<user id>') are hashed now.
  void HashTombstones() {
    auto raw = ReadAll("SELECT hash, at FROM tombstones WHERE hash GLOB 'id:*'", [](Stmt& s) {
      return std::pair<std::string, int64_t>(s.Text(0), s.Int(1));
    });
    if (raw.empty()) return;
    Transaction([&] {
      for (const auto& [old, at] : raw) {
        Stmt d(db_, "DELETE FROM tombstones WHERE hash=?1");
        d.Bind(1, old).Run();
        Stmt i(db_, "INSERT OR REPLACE INTO tombstones VALUES (?1, ?2)");
        i.Bind(1, *Tombstone(old.substr(3), true)).Bind(2, at).Run();
      }
    });
  }

  bool IsForgotten(const std::string& user_id) override {
    auto lock = Lock();
    return Forgotten(user_id);
  }

  // The key of an id, given to it now when it has none. `of_message`: the id is a message's (a
  // bulk load keeps those apart from the far fewer ids of people and groups, which then stay in
  // the processor's caches).
  int64_t KeyOf(std::string_view id, bool of_message) {
    if (bulk_keys_) {
      BulkKeys& b = *bulk_keys_;
      // Rows about one message come together (its reactions, the replies of a thread).
      if (of_message && b.last_key && id == b.last_id) return b.last_key;
      BulkKeys::Table& own = of_message ? b.messages : b.others;
      uint32_t i = own.ids.Intern(id);
      if (i == own.keys.size()) {
        BulkKeys::Table& other = of_message ? b.others : b.messages;
        int64_t key = 0;
        if (auto j = other.ids.Find(id)) {  // the same id names something else too
          key = other.keys[*j];
        } else if (!b.table_empty) {
          Stmt& q = Cached("SELECT key FROM ids WHERE id=?1");
          q.BindView(1, id);
          if (q.Step()) key = q.Int(0);
          q.Reset();
        }
        if (key == 0) {
          key = b.next++;
          AddRow(BulkRow::Kind::kId, {key}, {id});
        }
        own.keys.push_back(key);
      }
      if (of_message) {
        b.last_id = own.ids[i];
        b.last_key = own.keys[i];
      }
      return own.keys[i];
    }
    Stmt& q = Cached("SELECT key FROM ids WHERE id=?1");
    q.BindView(1, id);
    if (q.Step()) {
      int64_t key = q.Int(0);
      q.Reset();
      return key;
    }
    q.Reset();
    Stmt& add = Cached("INSERT INTO ids(id) VALUES (?1)");
    add.BindView(1, id).Run();
    return sqlite3_last_insert_rowid(db_);
  }

  ForgetCounts ForgetUser(const std::string& user_id, Time at) override {
    ForgetCounts n;
    Transaction([&] {
      auto run = [&](const char* sql) {
        Stmt s(db_, sql);
        s.Bind(1, user_id).Run();
        return sqlite3_changes(db_);
      };
      auto colon = user_id.find(':');
      Scrubber scrub;
      scrub.user_id = user_id;
      scrub.native_id = colon == std::string::npos ? user_id : user_id.substr(colon + 1);
      {
        Stmt u(db_, "SELECT name, email FROM users WHERE id=?1");
        u.Bind(1, user_id);
        if (u.Step()) {
          scrub.words.push_back(u.Text(0));
          if (auto e = u.OptText(1); e && !e->empty()) scrub.words.push_back(*e);
        }
      }
      n.users = run("DELETE FROM users WHERE id=?1");
      n.memberships = run("DELETE FROM memberships WHERE user_id=?1");
      // Their messages (one read of the table, there is no index by author), then those bodies.
      std::vector<int64_t> theirs;
      {
        Stmt m(db_,
               "DELETE FROM messages WHERE author_key=(SELECT key FROM ids WHERE id=?1) "
               "RETURNING key");
        m.Bind(1, user_id);
        while (m.Step()) theirs.push_back(m.Int(0));
      }
      Stmt& body = Cached("DELETE FROM message_bodies WHERE key=?1");
      for (int64_t key : theirs) body.Bind(1, key).Run();
      n.messages = static_cast<int>(theirs.size());
      n.reactions = run("DELETE FROM reactions WHERE user_key=(SELECT key FROM ids WHERE id=?1)");
      n.answers = run("DELETE FROM answers WHERE user_id=?1");
      run("DELETE FROM card_actions WHERE user_id=?1");
      // Mentions of them in other people's messages (lists are stored as JSON arrays).
      std::string quoted = EncodeList({user_id});
      quoted = quoted.substr(1, quoted.size() - 2);
      for (auto& m : ReadAll("SELECT * FROM message_rows WHERE instr(mentions, ?1) > 0",
                             ReadMessage, quoted)) {
        auto before = m.mentions.size();
        m.mentions.erase(std::remove(m.mentions.begin(), m.mentions.end(), user_id),
                         m.mentions.end());
        if (m.mentions.size() == before) continue;
        Stmt u(db_, "UPDATE messages SET mentions=?2 WHERE key=(SELECT key FROM ids WHERE id=?1)");
        u.Bind(1, m.id).Bind(2, EncodeList(m.mentions)).Run();
        ++n.mentions;
      }
      // Prompts put to them by name; one put to them alone (a private question) goes, with
      // the bot's messages in its thread.
      for (auto& p :
           ReadAll("SELECT * FROM prompts WHERE instr(audience, ?1) > 0", ReadPrompt, quoted)) {
        p.audience.erase(std::remove(p.audience.begin(), p.audience.end(), user_id),
                         p.audience.end());
        if (p.audience.empty()) {
          if (!p.message_id.empty()) {
            std::vector<int64_t> bodies;
            Stmt m(db_,
                   "DELETE FROM messages WHERE thread_key=(SELECT key FROM ids WHERE id=?1) "
                   "RETURNING key");
            m.Bind(1, p.message_id);
            while (m.Step()) bodies.push_back(m.Int(0));
            for (int64_t key : bodies) body.Bind(1, key).Run();
            n.messages += static_cast<int>(bodies.size());
          }
          Stmt d(db_, "DELETE FROM prompts WHERE id=?1");
          d.Bind(1, p.id).Run();
          continue;
        }
        Stmt u(db_, "UPDATE prompts SET audience=?2 WHERE id=?1");
        u.Bind(1, p.id).Bind(2, EncodeList(p.audience)).Run();
      }
      // What was still to be sent to them privately.
      {
        Stmt o(db_, "DELETE FROM outbox WHERE network=?1 AND to_user=?2");
        o.Bind(1, user_id.substr(0, colon)).Bind(2, scrub.native_id).Run();
      }
      // Their name, email, id and the bot's mentions of them in anyone's text, and in what the
      // bot has posted or will post (a mention becomes "a colleague").
      for (const auto& needle : scrub.Needles()) {
        for (auto& [key, text] : ReadAll(
                 "SELECT key, text FROM message_bodies WHERE instr(text, ?1) > 0",
                 [](Stmt& s) { return std::pair<int64_t, std::string>(s.Int(0), s.Text(1)); },
                 needle)) {
          if (!scrub.Scrub(text)) continue;
          Stmt u(db_, "UPDATE message_bodies SET text=?2 WHERE key=?1");
          u.Bind(1, key).Bind(2, text).Run();
        }
        for (auto& o : ReadAll(
                 "SELECT * FROM outbox WHERE instr(body, ?1) > 0 OR instr(sent_body, ?1) > 0 OR "
                 "instr(last_error, ?1) > 0",
                 ReadOutbox, needle)) {
          bool changed = scrub.Scrub(o.body);
          changed = scrub.Scrub(o.last_error) || changed;
          if (o.sent_body) changed |= scrub.Scrub(*o.sent_body);
          if (!changed) continue;
          Stmt u(db_, "UPDATE outbox SET body=?2, sent_body=?3, last_error=?4 WHERE key=?1");
          u.Bind(1, o.key).Bind(2, o.body).Bind(3, o.sent_body).Bind(4, o.last_error).Run();
        }
      }
      // What the bot noted about them (opted out or in, unreachable, a private prompt skipped).
      {
        Stmt c(db_,
               "DELETE FROM cursors WHERE instr(key, ?1) > 0 OR key LIKE '%:' || ?2 OR "
               "(length(?2) >= 4 AND instr(key, ':' || ?2 || ':') > 0)");
        c.Bind(1, user_id).Bind(2, scrub.native_id).Run();
      }
      // Their key goes too, unless the same id also names a group or a message.
      run("DELETE FROM ids WHERE id=?1 AND NOT EXISTS (SELECT 1 FROM groups WHERE id=?1) AND "
          "NOT EXISTS (SELECT 1 FROM messages m WHERE ids.key IN (m.key, m.thread_key, "
          "m.parent_key, m.group_key)) AND NOT EXISTS (SELECT 1 FROM reactions r WHERE "
          "r.message_key=ids.key)");
      Stmt f(db_, "INSERT OR REPLACE INTO tombstones VALUES (?1, ?2)");
      f.Bind(1, *Tombstone(user_id, true)).Bind(2, at).Run();
    });
    return n;
  }

  bool Compact() override {
    auto lock = Lock();
    Exec("VACUUM");
    int log = -1, done = -1;
    int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, &log, &done);
    return rc == SQLITE_OK && log == 0;
  }

  void QueuePush(const std::string& network, const std::string& payload, Time at) override {
    Locked([&] {
      Stmt s(db_, "INSERT INTO pushes(network, payload, at) VALUES (?1, ?2, ?3)");
      s.Bind(1, network).Bind(2, payload).Bind(3, at).Run();
    });
  }
  std::vector<std::pair<int64_t, std::string>> QueuedPushes(const std::string& network) override {
    return ReadAll(
        "SELECT id, payload FROM pushes WHERE network=?1 ORDER BY id",
        [](Stmt& s) { return std::pair<int64_t, std::string>(s.Int(0), s.Text(1)); }, network);
  }
  void DeletePush(int64_t id) override {
    Locked([&] {
      Stmt s(db_, "DELETE FROM pushes WHERE id=?1");
      s.Bind(1, id).Run();
    });
  }

  void UpsertUser(const User& u) override {
    Locked([&] {
      if (Forgotten(u.id)) return;
      Stmt& s = Cached(
          "INSERT INTO users VALUES (?1,?2,?3,?4,?5,?6,?7,?8) ON CONFLICT(id) DO UPDATE SET "
          "network=excluded.network, name=excluded.name, email=excluded.email, "
          "department=excluded.department, state=excluded.state, is_bot=excluded.is_bot, "
          "joined_at=excluded.joined_at");
      s.Bind(1, u.id).Bind(2, u.network).Bind(3, u.name).Bind(4, u.email).Bind(5, u.department);
      s.Bind(6, u.state).Bind(7, u.is_bot).Bind(8, u.joined_at).Run();
      KeyOf(u.id, false);
    });
  }

  void UpsertGroup(const Group& g) override {
    Transaction([&] {
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
  }

  void UpsertMessage(const Message& given) override {
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
    AddRow(BulkRow::Kind::kMessage,
           {key, thread, parent, author, group, ToUnixMillis(m.created_at),
            m.edited_at ? ToUnixMillis(*m.edited_at) : kNone, m.deleted},
           {EncodeList(m.mentions), m.network, m.kind, m.text});
  }

  void ReplaceReactions(const std::string& message_id, const std::string& kind,
                        const std::vector<Reaction>& reactions) override {
    Transaction([&] {
      Stmt d(db_,
             "DELETE FROM reactions WHERE message_key=(SELECT key FROM ids WHERE id=?1) AND "
             "(?2 = '' OR kind=?2)");
      d.Bind(1, message_id).Bind(2, kind).Run();
      for (const auto& r : reactions) UpsertReaction(r);
    });
  }

  void UpsertReaction(const Reaction& r) override {
    std::lock_guard lock(mu_);
    if (Forgotten(r.user_id)) return;
    if (bulk_keys_) {
      bulk_keys_->messages.ids.Prefetch(r.message_id);
      bulk_keys_->others.ids.Prefetch(r.user_id);
    }
    StartWriterIntoNewStore();
    const int64_t message = KeyOf(r.message_id, true), user = KeyOf(r.user_id, false);
    AddRow(BulkRow::Kind::kReaction,
           {message, user, r.created_at ? ToUnixMillis(*r.created_at) : kNone}, {r.kind});
  }

  // A row handed to the writer of a bulk load: its numbers, and the sizes of its texts (kept one
  // after the other in the batch's `text`).
  struct BulkRow {
    enum class Kind : uint8_t { kId, kMessage, kReaction } kind;
    static constexpr size_t kValues = 8, kTexts = 4;
    int64_t value[kValues];
    uint32_t size[kTexts];
  };
  struct BulkBatch {
    std::vector<BulkRow> rows;
    std::string text;
    void Add(BulkRow::Kind kind, std::initializer_list<int64_t> values,
             std::initializer_list<std::string_view> texts) {
      BulkRow& row = rows.emplace_back(BulkRow{kind, {}, {}});
      std::copy(values.begin(), values.end(), row.value);
      size_t i = 0;
      for (std::string_view t : texts) {
        row.size[i++] = static_cast<uint32_t>(t.size());
        text.append(t);
      }
    }
    bool Full() const { return rows.size() >= 4096; }
    bool empty() const { return rows.empty(); }
    void clear() {
      rows.clear();
      text.clear();
    }
  };

  // A row of a message, a reaction or a new key: handed to the writer of a bulk load, or written
  // now.
  void AddRow(BulkRow::Kind kind, std::initializer_list<int64_t> values,
              std::initializer_list<std::string_view> texts) {
    if (writer_) {
      BulkBatch& b = writer_->Filling();
      b.Add(kind, values, texts);
      if (b.Full()) writer_->Hand();
      return;
    }
    one_.Add(kind, values, texts);
    WriteRows(one_);
    one_.clear();
  }

  // The tables of those rows: how a row is bound from its numbers (`v`) and texts (`t`), and the
  // statements writing one row, or kRowsAtOnce rows (a fraction of the work per row of a
  // statement each). A key 0 and a time kNone are NULL.
  static constexpr int kRowsAtOnce = 64;
  struct RowTable {
    BulkRow::Kind kind;
    int columns;
    void (*bind)(Stmt& s, int at, const int64_t* v, const std::string_view* t);
    std::string one, many;
  };
  static std::string InsertSql(const char* table, int columns, int rows, const char* conflict) {
    std::string row = "(?";
    for (int c = 1; c < columns; ++c) row += ",?";
    row += ")";
    std::string sql = std::string("INSERT INTO ") + table + " VALUES " + row;
    for (int r = 1; r < rows; ++r) sql += "," + row;
    return sql + " " + conflict;
  }
  static const std::vector<RowTable>& RowTables() {
    using K = BulkRow::Kind;
    using Bind = void (*)(Stmt&, int, const int64_t*, const std::string_view*);
    auto table = [](K kind, const char* name, int columns, const char* conflict, Bind bind) {
      return RowTable{kind, columns, bind, InsertSql(name, columns, 1, conflict),
                      InsertSql(name, columns, kRowsAtOnce, conflict)};
    };
    static const std::vector<RowTable> tables = {
        table(K::kId, "ids", 2, "",
              [](Stmt& s, int at, const int64_t* v, const std::string_view* t) {
                s.Bind(at, v[0]).BindView(at + 1, t[0]);
              }),
        // Numbers: key, thread, parent, author, group, created_at, edited_at, deleted; texts:
        // mentions, network, kind, text.
        table(K::kMessage, "messages", 8,
              "ON CONFLICT(key) DO UPDATE SET thread_key=excluded.thread_key, "
              "parent_key=excluded.parent_key, author_key=excluded.author_key, "
              "group_key=excluded.group_key, created_at=excluded.created_at, "
              "deleted=excluded.deleted, mentions=excluded.mentions",
              [](Stmt& s, int at, const int64_t* v, const std::string_view* t) {
                s.Bind(at, v[0]).Bind(at + 1, v[1]).Bind(at + 2, Nullable(v[2], 0));
                s.Bind(at + 3, v[3]).Bind(at + 4, Nullable(v[4], 0)).Bind(at + 5, v[5]);
                s.Bind(at + 6, v[7] != 0).BindView(at + 7, t[0]);
              }),
        table(K::kMessage, "message_bodies", 5,
              "ON CONFLICT(key) DO UPDATE SET network=excluded.network, "
              "edited_at=excluded.edited_at, kind=excluded.kind, text=excluded.text",
              [](Stmt& s, int at, const int64_t* v, const std::string_view* t) {
                s.Bind(at, v[0]).BindView(at + 1, t[1]).Bind(at + 2, Nullable(v[6], kNone));
                s.BindView(at + 3, t[2]).BindView(at + 4, t[3]);
              }),
        // Numbers: message, person, created_at; text: kind.
        table(K::kReaction, "reactions", 4,
              "ON CONFLICT(message_key,user_key,kind) DO UPDATE SET created_at=excluded.created_at",
              [](Stmt& s, int at, const int64_t* v, const std::string_view* t) {
                s.Bind(at, v[0]).Bind(at + 1, v[1]).BindView(at + 2, t[0]);
                s.Bind(at + 3, Nullable(v[2], kNone));
              }),
    };
    return tables;
  }

  // Writes a batch's rows table by table, in their order within each table (a later row of the
  // same key wins).
  void WriteRows(const BulkBatch& batch) {
    texts_.resize(batch.rows.size());
    size_t at = 0;
    for (size_t i = 0; i < batch.rows.size(); ++i)
      for (size_t k = 0; k < BulkRow::kTexts; ++k) {
        texts_[i][k] = std::string_view(batch.text).substr(at, batch.rows[i].size[k]);
        at += batch.rows[i].size[k];
      }
    for (const RowTable& table : RowTables()) {
      picked_.clear();
      for (uint32_t i = 0; i < batch.rows.size(); ++i)
        if (batch.rows[i].kind == table.kind) picked_.push_back(i);
      size_t done = 0;
      if (picked_.size() >= kRowsAtOnce) {
        Stmt& many = Cached(table.many.c_str());
        for (; done + kRowsAtOnce <= picked_.size(); done += kRowsAtOnce) {
          for (int r = 0; r < kRowsAtOnce; ++r) {
            uint32_t i = picked_[done + r];
            table.bind(many, 1 + r * table.columns, batch.rows[i].value, texts_[i].data());
          }
          many.Run();
        }
      }
      if (done == picked_.size()) continue;
      Stmt& one = Cached(table.one.c_str());
      for (; done < picked_.size(); ++done) {
        uint32_t i = picked_[done];
        table.bind(one, 1, batch.rows[i].value, texts_[i].data());
        one.Run();
      }
    }
  }

  // A bulk load into a store without keys yet hands its rows of messages and reactions (and
  // their new keys) to a thread of its own, which writes them while this one reads the next.
  // Nothing else touches the connection meanwhile: every other use waits for it (Lock). Started
  // by the first message or reaction: people and groups, before them, are written at once.
  void StartWriterIntoNewStore() {
    if (writer_ || !bulk_keys_ || !bulk_keys_->table_empty) return;
    writer_ = std::make_unique<Handoff<BulkBatch>>([this](BulkBatch& batch) { WriteRows(batch); });
  }

  int MarkDeletedExcept(const std::string& group_id, Time from, Time to,
                        const std::vector<std::string>& present) override {
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
  }

  // The two tables of keys and values: cursors (state the daemon resumes from) and secrets.
  std::optional<std::string> GetValue(const std::string& table, const std::string& key) {
    auto lock = Lock();
    Stmt s(db_, ("SELECT value FROM " + table + " WHERE key=?1").c_str());
    s.Bind(1, key);
    if (s.Step()) return s.Text(0);
    return std::nullopt;
  }
  void SetValue(const std::string& table, const std::string& key, const std::string& value) {
    Locked([&] {
      Stmt s(db_, ("INSERT INTO " + table +
                   " VALUES (?1,?2) ON CONFLICT(key) DO UPDATE SET value=excluded.value")
                      .c_str());
      s.Bind(1, key).Bind(2, value).Run();
    });
  }
  std::map<std::string, std::string> ValuesWithPrefix(const std::string& table,
                                                      const std::string& prefix) {
    auto lock = Lock();
    Stmt s(db_, ("SELECT key, value FROM " + table +
                 " WHERE substr(key, 1, length(?1)) = ?1 ORDER BY key")
                    .c_str());
    s.Bind(1, prefix);
    std::map<std::string, std::string> out;
    while (s.Step()) out[s.Text(0)] = s.Text(1);
    return out;
  }

  std::optional<std::string> GetCursor(const std::string& key) override {
    return GetValue("cursors", key);
  }
  void SetCursor(const std::string& key, const std::string& value) override {
    SetValue("cursors", key, value);
  }
  std::map<std::string, std::string> CursorsWithPrefix(const std::string& prefix) override {
    return ValuesWithPrefix("cursors", prefix);
  }
  std::optional<std::string> GetSecret(const std::string& key) override {
    return GetValue("secrets", key);
  }
  void SetSecret(const std::string& key, const std::string& value) override {
    SetValue("secrets", key, value);
  }
  std::map<std::string, std::string> SecretsWithPrefix(const std::string& prefix) override {
    return ValuesWithPrefix("secrets", prefix);
  }

  bool EnqueueOutbox(const OutboxItem& o) override {
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
  }

  static OutboxItem ReadOutbox(Stmt& s) {
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

  std::vector<OutboxItem> AllOutbox() override {
    auto lock = Lock();
    Stmt s(db_, "SELECT * FROM outbox ORDER BY due_at, key");
    std::vector<OutboxItem> out;
    while (s.Step()) out.push_back(ReadOutbox(s));
    return out;
  }

  std::optional<std::string> OutboxKeyOfPost(const std::string& network,
                                             const std::string& native_id) override {
    auto lock = Lock();
    Stmt s(db_, "SELECT key FROM outbox WHERE network=?1 AND native_id=?2 LIMIT 1");
    s.Bind(1, network).Bind(2, native_id);
    if (s.Step()) return s.Text(0);
    return std::nullopt;
  }

  std::vector<OutboxItem> UnfinishedOutbox() override {
    auto lock = Lock();
    Stmt s(db_, "SELECT * FROM outbox WHERE state IN ('pending','sending') ORDER BY due_at, key");
    std::vector<OutboxItem> out;
    while (s.Step()) out.push_back(ReadOutbox(s));
    return out;
  }

  std::optional<OutboxItem> GetOutbox(const std::string& key) override {
    auto lock = Lock();
    Stmt s(db_, "SELECT * FROM outbox WHERE key=?1");
    s.Bind(1, key);
    if (s.Step()) return ReadOutbox(s);
    return std::nullopt;
  }

  void MarkOutboxSending(const std::string& key, const std::string& body, Time at) override {
    Locked([&] {
      Stmt s(db_,
             "UPDATE outbox SET state='sending', attempts=attempts+1, "
             "sent_body=coalesce(sent_body, ?2), sent_at=coalesce(sent_at, ?3) WHERE key=?1");
      s.Bind(1, key).Bind(2, body).Bind(3, at).Run();
    });
  }

  void MarkOutboxPosted(const std::string& key, const std::string& native_id, Time at) override {
    Locked([&] {
      Stmt s(db_,
             "UPDATE outbox SET state='posted', native_id=?2, posted_at=?3, last_error='' WHERE "
             "key=?1");
      s.Bind(1, key).Bind(2, native_id).Bind(3, at).Run();
    });
  }

  void MarkOutboxFailed(const std::string& key, const std::string& error, bool final) override {
    Locked([&] {
      // A failure that is not final keeps the state: a 'sending' item may still have gone out.
      Stmt s(db_,
             "UPDATE outbox SET state=CASE WHEN ?2 THEN 'failed' ELSE state END, last_error=?3 "
             "WHERE key=?1");
      s.Bind(1, key).Bind(2, final).Bind(3, error).Run();
    });
  }

  void UpsertPrompt(const Prompt& p) override {
    Locked([&] {
      Stmt s(
          db_,
          "INSERT INTO prompts VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14) ON "
          "CONFLICT(id) DO UPDATE "
          "SET campaign=excluded.campaign, step=excluded.step, network=excluded.network, "
          "group_id=excluded.group_id, message_id=excluded.message_id, type=excluded.type, "
          "posted_at=excluded.posted_at, closes_at=excluded.closes_at, correct=excluded.correct, "
          "audience=excluded.audience, last_step=excluded.last_step, spaced=excluded.spaced, "
          "private=excluded.private");
      s.Bind(1, p.id).Bind(2, p.campaign).Bind(3, p.step).Bind(4, p.network).Bind(5, p.group_id);
      if (p.message_id.empty())
        s.BindNull(6);
      else
        s.Bind(6, p.message_id);
      s.Bind(7, p.type).Bind(8, p.posted_at).Bind(9, p.closes_at).Bind(10, p.correct);
      if (p.audience.empty())
        s.BindNull(11);
      else
        s.Bind(11, EncodeList(p.audience));
      if (p.last_step)
        s.Bind(12, *p.last_step);
      else
        s.BindNull(12);
      s.Bind(13, p.spaced).Bind(14, p.is_private).Run();
    });
  }

  void DeletePrompt(const std::string& id) override {
    Locked([&] {
      Stmt a(db_, "DELETE FROM answers WHERE prompt_id=?1");
      a.Bind(1, id).Run();
      Stmt p(db_, "DELETE FROM prompts WHERE id=?1");
      p.Bind(1, id).Run();
    });
  }

  static Prompt ReadPrompt(Stmt& s) {
    Prompt p;
    p.id = s.Text(0);
    p.campaign = s.Text(1);
    p.step = static_cast<int>(s.Int(2));
    p.network = s.Text(3);
    p.group_id = s.Text(4);
    p.message_id = s.Text(5);
    p.type = s.Text(6);
    p.posted_at = s.TimeAt(7);
    p.closes_at = s.OptTime(8);
    p.correct = s.OptText(9);
    if (auto a = s.OptText(10)) p.audience = DecodeList(*a);
    if (!s.IsNull(11)) p.last_step = static_cast<int>(s.Int(11));
    p.spaced = s.Int(12) != 0;
    p.is_private = s.Int(13) != 0;
    return p;
  }

  std::optional<Prompt> GetPrompt(const std::string& id) override {
    auto lock = Lock();
    Stmt s(db_, "SELECT * FROM prompts WHERE id=?1");
    s.Bind(1, id);
    if (s.Step()) return ReadPrompt(s);
    return std::nullopt;
  }

  void UpsertAnswer(const Answer& a) override {
    Locked([&] {
      if (Forgotten(a.user_id)) return;
      Stmt& s = Cached(
          "INSERT INTO answers VALUES (?1,?2,?3,?4,?5,?6,?7) ON CONFLICT(prompt_id,message_id) "
          "DO UPDATE SET user_id=excluded.user_id, answered_at=excluded.answered_at, "
          "choice=excluded.choice, correct=excluded.correct, points=excluded.points");
      s.Bind(1, a.prompt_id).Bind(2, a.user_id).Bind(3, a.message_id).Bind(4, a.answered_at);
      s.Bind(5, a.choice).Bind(6, a.correct).Bind(7, a.points).Run();
    });
  }

  void UpsertCardAction(const CardAction& a) override {
    Locked([&] {
      if (Forgotten(a.user_id)) return;
      Stmt& s = Cached("INSERT OR REPLACE INTO card_actions VALUES (?1,?2,?3,?4,?5,?6)");
      s.Bind(1, a.id).Bind(2, a.network).Bind(3, a.message_id).Bind(4, a.user_id);
      s.Bind(5, a.value).Bind(6, a.at).Run();
    });
  }

  std::vector<CardAction> CardActionsOn(const std::string& message_id) override {
    auto lock = Lock();
    Stmt s(db_, "SELECT * FROM card_actions WHERE message_id=?1 ORDER BY at, id");
    s.Bind(1, message_id);
    std::vector<CardAction> out;
    while (s.Step())
      out.push_back(CardAction{s.Text(0), s.Text(1), s.Text(2), s.Text(3), s.Text(4), s.TimeAt(5)});
    return out;
  }

  void DeleteAnswer(const std::string& prompt_id, const std::string& message_id) override {
    Locked([&] {
      Stmt s(db_, "DELETE FROM answers WHERE prompt_id=?1 AND message_id=?2");
      s.Bind(1, prompt_id).Bind(2, message_id).Run();
    });
  }

  static Message ReadMessage(Stmt& s) {
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

  std::vector<Message> MessagesInThread(const std::string& thread_id) override {
    return ReadAll(
        "SELECT * FROM message_rows WHERE thread_key=(SELECT key FROM ids WHERE id=?1) "
        "ORDER BY created_at, id",
        ReadMessage, thread_id);
  }

  std::map<std::string, std::vector<Message>> MessagesInThreads(
      const std::vector<std::string>& thread_ids) override {
    std::map<std::string, std::vector<Message>> out;
    for (auto& m : ReadAll("SELECT * FROM message_rows WHERE thread_key IN (SELECT key FROM ids "
                           "WHERE id IN (SELECT value FROM json_each(?1))) ORDER BY created_at, id",
                           ReadMessage, EncodeList(thread_ids)))
      out[m.thread_id].push_back(std::move(m));
    return out;
  }

  std::map<std::string, std::vector<Answer>> AnswersToPrompts(
      const std::vector<std::string>& prompt_ids) override {
    std::map<std::string, std::vector<Answer>> out;
    for (auto& a : ReadAll("SELECT * FROM answers WHERE prompt_id IN (SELECT value FROM "
                           "json_each(?1)) ORDER BY answered_at, message_id",
                           ReadAnswer, EncodeList(prompt_ids)))
      out[a.prompt_id].push_back(std::move(a));
    return out;
  }

  std::map<std::string, std::vector<CardAction>> CardActionsOnMessages(
      const std::vector<std::string>& message_ids) override {
    auto lock = Lock();
    Stmt s(db_,
           "SELECT * FROM card_actions WHERE message_id IN (SELECT value FROM json_each(?1)) "
           "ORDER BY at, id");
    s.Bind(1, EncodeList(message_ids));
    std::map<std::string, std::vector<CardAction>> out;
    while (s.Step())
      out[s.Text(2)].push_back(
          CardAction{s.Text(0), s.Text(1), s.Text(2), s.Text(3), s.Text(4), s.TimeAt(5)});
    return out;
  }

  static User ReadUser(Stmt& s) {
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

  std::optional<User> GetUser(const std::string& id) override {
    auto lock = Lock();
    Stmt s(db_, "SELECT * FROM users WHERE id=?1");
    s.Bind(1, id);
    if (s.Step()) return ReadUser(s);
    return std::nullopt;
  }

  std::vector<User> AllUsers() override {
    return ReadAll("SELECT * FROM users ORDER BY id", ReadUser);
  }

  std::vector<Group> AllGroups() override {
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
  }

  std::vector<Message> AllMessages() override {
    return ReadAll("SELECT * FROM message_rows ORDER BY created_at, id", ReadMessage);
  }

  std::vector<Reaction> AllReactions() override {
    return ReadAll("SELECT * FROM reaction_rows ORDER BY message_id, user_id, kind", [](Stmt& s) {
      return Reaction{s.Text(0), s.Text(1), s.Text(2), s.OptTime(3)};
    });
  }

  int64_t MaxKey() override {
    auto lock = Lock();
    Stmt s(db_, "SELECT max(key) FROM ids");
    return s.Step() ? s.Int(0) : 0;
  }

  std::vector<int64_t> KeysOf(const std::vector<std::string>& ids) override {
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
  }

  std::vector<std::string> IdsOf(const std::vector<int64_t>& keys) override {
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
  }

  std::unique_ptr<Store> OpenReader() override {
    auto lock = Lock();
    const char* file = sqlite3_db_filename(db_, "main");
    sqlite3* db = nullptr;
    if (!file || !*file ||
        sqlite3_open_v2(file, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) !=
            SQLITE_OK) {
      sqlite3_close(db);
      return nullptr;
    }
    sqlite3_busy_timeout(db, 5000);
    return std::make_unique<SqliteStore>(db);
  }

  void ScanMessages(int64_t from_key, int64_t to_key,
                    const std::function<void(const MessageRow&)>& fn) override {
    auto lock = Lock();
    Stmt& s = Cached(
        "SELECT key, thread_key, parent_key, author_key, group_key, created_at, deleted, "
        "mentions FROM messages WHERE key >= ?1 AND key < ?2");
    s.Bind(1, from_key).Bind(2, to_key);
    MessageRow row;
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

  void ScanUsers(const std::function<void(const UserRow&)>& fn) override {
    auto lock = Lock();
    Stmt s(db_,
           "SELECT k.key, u.id, u.state, u.is_bot, u.joined_at FROM users u LEFT JOIN ids k ON "
           "k.id = u.id ORDER BY u.id");
    UserRow row;
    while (s.Step()) {
      row.key = s.Int(0);
      row.id = s.View(1);
      row.state = s.View(2);
      row.is_bot = s.Int(3) != 0;
      row.joined_at = s.OptTime(4);
      fn(row);
    }
  }

  void ScanReactions(const std::function<void(const ReactionRow&)>& fn) override {
    auto lock = Lock();
    Stmt s(db_, "SELECT message_key, user_key, created_at FROM reactions");
    ReactionRow row;
    while (s.Step()) {
      row.message = s.Int(0);
      row.user = s.Int(1);
      row.created_at = s.OptTime(2);
      fn(row);
    }
  }

  void ScanAnswers(const std::function<void(const AnswerRow&)>& fn) override {
    auto lock = Lock();
    Stmt s(db_, "SELECT prompt_id, user_id, message_id, answered_at, correct FROM answers");
    AnswerRow row;
    while (s.Step()) {
      row.prompt_id = s.View(0);
      row.user_id = s.View(1);
      row.message_id = s.View(2);
      row.answered_at = s.TimeAt(3);
      row.correct = s.IsNull(4) ? std::nullopt : std::optional<bool>(s.Int(4) != 0);
      fn(row);
    }
  }

  std::vector<Prompt> AllPrompts() override {
    return ReadAll("SELECT * FROM prompts WHERE message_id IS NOT NULL ORDER BY posted_at, id",
                   ReadPrompt);
  }

  std::vector<Prompt> PromptsOf(const std::string& campaign) override {
    return ReadAll("SELECT * FROM prompts WHERE campaign=?1 ORDER BY posted_at, id", ReadPrompt,
                   campaign);
  }

  int SchemaVersion() override {
    auto lock = Lock();
    Stmt s(db_, "PRAGMA user_version");
    return s.Step() ? static_cast<int>(s.Int(0)) : 0;
  }

  Tally Count(Time now) override {
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
  }

  std::vector<Prompt> PromptsOpenAfter(Time t) override {
    return ReadAll(
        "SELECT * FROM prompts WHERE message_id IS NOT NULL AND (closes_at IS NULL OR "
        "closes_at >= ?1) ORDER BY posted_at, id",
        ReadPrompt, t);
  }

  static Answer ReadAnswer(Stmt& s) {
    Answer a{s.Text(0),
             s.Text(1),
             s.Text(2),
             s.TimeAt(3),
             s.OptText(4),
             std::nullopt,
             static_cast<int>(s.Int(6))};
    if (!s.IsNull(5)) a.correct = s.Int(5) != 0;
    return a;
  }

  std::vector<Answer> AllAnswers() override {
    return ReadAll("SELECT * FROM answers ORDER BY prompt_id, answered_at, message_id", ReadAnswer);
  }

  std::vector<Answer> AnswersTo(const std::string& prompt_id) override {
    return ReadAll("SELECT * FROM answers WHERE prompt_id=?1 ORDER BY answered_at, message_id",
                   ReadAnswer, prompt_id);
  }

 private:
  // Every row of `sql`, with `args` bound to ?1, ?2, …, read by `read`.
  template <typename Read, typename... Args>
  std::vector<std::invoke_result_t<Read&, Stmt&>> ReadAll(const char* sql, Read read,
                                                          const Args&... args) {
    auto lock = Lock();
    Stmt s(db_, sql);
    int i = 0;
    (s.Bind(++i, args), ...);
    std::vector<std::invoke_result_t<Read&, Stmt&>> out;
    while (s.Step()) out.push_back(read(s));
    return out;
  }

  template <typename F>
  void Locked(F&& f) {
    auto lock = Lock();
    f();
  }

  // The connection, for this thread alone: whatever the writer of a bulk load was handed is
  // written first.
  std::unique_lock<std::recursive_mutex> Lock() {
    std::unique_lock lock(mu_);
    if (writer_) writer_->Drain();
    return lock;
  }

  // The statements of the frequent writes, prepared once (keyed by their SQL literal).
  Stmt& Cached(const char* sql) {
    auto& s = cache_[sql];
    if (!s) s = std::make_unique<Stmt>(db_, sql);
    s->Reset();
    return *s;
  }

  sqlite3* db_;
  std::unordered_map<const char*, std::unique_ptr<Stmt>> cache_;
  std::optional<std::unordered_set<std::string>> bulk_forgotten_;  // during a bulk transaction
  static constexpr const char* kTombstoneKey = "privacy:tombstone_key";
  std::string tombstone_key_;  // once read or made
  std::optional<BulkKeys> bulk_keys_;
  std::unique_ptr<Handoff<BulkBatch>> writer_;  // during a bulk load into a store without keys
  BulkBatch one_;                               // a row written at once
  std::vector<std::array<std::string_view, BulkRow::kTexts>>
      texts_;                     // of the rows WriteRows writes
  std::vector<uint32_t> picked_;  // those of one table
  std::recursive_mutex mu_;
  int depth_ = 0;
  const bool building_;
};

}  // namespace

Result<std::unique_ptr<Store>> OpenSqlite(const std::string& path, const SqliteOptions& o) {
  auto parent = std::filesystem::path(path).parent_path();
  if (auto made = MakePrivateDirs(parent.string()); !made.ok())
    return Result<std::unique_ptr<Store>>::Fail("cannot open store " + path + ": " +
                                                made.message());
  // The store holds what people wrote and live secrets: readable by its owner only. SQLite
  // gives its log files the same mode as the store's file.
  if (int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600); fd >= 0)
    ::close(fd);
  else if (struct stat st; ::stat(path.c_str(), &st) == 0 && (st.st_mode & 077))
    ::chmod(path.c_str(), st.st_mode & 0700);  // a store made before: tightened (if ours)
  sqlite3* db = nullptr;
  // The store serialises every use of its connection itself.
  if (sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Result<std::unique_ptr<Store>>::Fail("cannot open store " + path + ": " + msg);
  }
  auto store = std::make_unique<SqliteStore>(db, o.building);
  try {
    store->Migrate(o.up_to_version);
  } catch (const std::exception& e) {
    return Result<std::unique_ptr<Store>>::Fail("cannot migrate store " + path + ": " + e.what());
  }
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace learnloop::store
