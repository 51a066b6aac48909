#include <algorithm>
#include <optional>
#include <tuple>

#include "store/sqlite/sqlite_store.h"

namespace learnloop::store::sqlite {

namespace {

// What a load into an empty store builds once at its end (a sort each) instead of row by row:
// the indexes only reads need, the triggers keeping what is derived from messages, and that.
// The unique index on messages' keys stays: writes find a message again by it. Any load drops
// the triggers that remove the weeks a report kept, and removes them all at its end instead.
const char* const kDerivedSchema =
    "SELECT type, name, sql FROM sqlite_schema WHERE (type = 'trigger' AND (tbl_name = "
    "'messages' OR name GLOB 'week_totals_*')) OR name IN ('messages_thread', 'reactions_at') "
    "ORDER BY type";
const char* const kKeptWeeksTriggers =
    "SELECT type, name, sql FROM sqlite_schema WHERE type = 'trigger' AND name GLOB "
    "'week_totals_*'";
const char* const kTimeReactions =
    "UPDATE reactions SET at = (SELECT m.created_at FROM messages m WHERE m.key = "
    "reactions.message_key) WHERE at IS NULL";
const char* const kCountAuthorGroups =
    "INSERT INTO author_groups SELECT author_key, coalesce(group_key, 0), count(*) FROM messages "
    "WHERE deleted = 0 GROUP BY 1, 2";

}  // namespace

Status SqliteStore::BulkTransaction(const std::function<Status()>& fn) {
  auto lock = Lock();
  // However it ends (the caller's own exception included): back to a store's usual state.
  struct Restore {
    SqliteStore& s;
    ~Restore() {
      s.bulk_forgotten_.reset();
      s.bulk_keys_.reset();
      sqlite3_exec(s.db_, "PRAGMA cache_size=-2000", nullptr, nullptr, nullptr);
    }
  } restore{*this};
  // A store in use: up to 1 GiB of pages in memory, so that a long transaction does not spill
  // them to the log before its commit. A store being built has no log: 64 MiB, and pages go
  // to the file as the load goes (on the writer's thread, not all at the commit; a third of
  // the memory at 10 million rows). The indexes built at the end sort through temporary
  // files, SQLite's default: its in-memory sort allocates each row on its own, twice as slow
  // (messages by thread and reactions by time: 13.8 s -> 7.1 s at 10 million events).
  Status said =
      Guard([&] { Exec(building_ ? "PRAGMA cache_size=-65536" : "PRAGMA cache_size=-1048576"); });
  if (said.ok())
    said = Run("BEGIN IMMEDIATE", [&]() -> Status {
      bool empty = false;
      std::vector<std::string> derived_indexes, derived_triggers;  // dropped for the load
      bool kept_weeks = false;  // the store keeps weeks' figures (schema 15 on)
      LL_TRY(Guard([&] {
        // Into an empty store, the secondary indexes are built once at the end (a sort)
        // instead of row by row.
        Stmt& any = Cached("SELECT 1 FROM messages LIMIT 1");
        empty = !any.Step();
        any.Reset();
        for (auto& [type, name, sql] :
             ReadAll(empty ? kDerivedSchema : kKeptWeeksTriggers, [](Stmt& q) {
               return std::tuple{q.Text(0), q.Text(1), q.Text(2)};
             })) {
          Exec(("DROP " + type + " " + name).c_str());
          kept_weeks = kept_weeks || name.starts_with("week_totals_");
          (type == "index" ? derived_indexes : derived_triggers).push_back(std::move(sql));
        }
        // Nobody else can write meanwhile: the forgotten are read once, and keys are handed
        // out from memory.
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
      }));
      // The writer's thread stops before the transaction ends either way: the connection is
      // this thread's again for the commit or the rollback.
      Status done;
      try {
        done = fn();
        if (done.ok())
          done = Guard([&] {
            if (writer_) writer_->Drain();
          });
      } catch (...) {
        writer_.reset();
        throw;  // the caller's own
      }
      writer_.reset();
      bulk_forgotten_.reset();  // before the indexes' sort: their memory is free for it
      std::optional<BulkKeys::Counts> counted;  // of messages by author and group
      if (bulk_keys_ && !bulk_keys_->recount) counted = std::move(bulk_keys_->author_groups);
      bulk_keys_.reset();
      if (done.ok())
        done = Guard([&] {
          Exec("PRAGMA threads=2");
          for (const auto& sql : derived_indexes)  // first: the data below reads by them
            Exec(sql.c_str());
          if (empty) {
            Exec(kTimeReactions);
            if (!counted) {
              Exec(kCountAuthorGroups);  // a message written twice
            } else {
              std::vector<std::pair<uint64_t, int64_t>> rows = std::move(counted->slots);
              counted.reset();
              std::erase_if(rows, [](const auto& r) { return r.second == 0; });
              std::sort(rows.begin(), rows.end());
              Stmt& add = Cached("INSERT INTO author_groups VALUES (?1, ?2, ?3)");
              for (const auto& [ag, n] : rows)
                add.Bind(1, static_cast<int64_t>(ag >> 32))
                    .Bind(2, static_cast<int64_t>(ag & 0xFFFFFFFF))
                    .Bind(3, n)
                    .Run();
            }
          }
          for (const auto& sql : derived_triggers) Exec(sql.c_str());
          if (kept_weeks) Exec("DELETE FROM week_totals");
        });
      return done;
    });
  return said;
}

namespace {

size_t Spread(uint64_t key) {  // splitmix64's finish: every bit of the key moves every bit
  key ^= key >> 30;
  key *= 0xbf58476d1ce4e5b9ULL;
  key ^= key >> 27;
  key *= 0x94d049bb133111ebULL;
  return static_cast<size_t>(key ^ (key >> 31));
}

}  // namespace

void BulkKeys::Counts::Add(uint64_t key) {
  if (2 * (used + 1) > slots.size()) {
    std::vector<std::pair<uint64_t, int64_t>> old(2 * slots.size());
    old.swap(slots);
    for (const auto& e : old)
      if (e.second != 0) {
        size_t i = Spread(e.first) & (slots.size() - 1);
        while (slots[i].second != 0) i = (i + 1) & (slots.size() - 1);
        slots[i] = e;
      }
  }
  size_t i = Spread(key) & (slots.size() - 1);
  while (slots[i].second != 0 && slots[i].first != key) i = (i + 1) & (slots.size() - 1);
  if (slots[i].second == 0) {
    slots[i].first = key;
    ++used;
  }
  ++slots[i].second;
}

int64_t SqliteStore::KeyOf(std::string_view id, bool of_message) {
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

void SqliteStore::AddRow(BulkRow::Kind kind, std::initializer_list<int64_t> values,
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

std::string SqliteStore::InsertSql(const char* table, int columns, int rows, const char* conflict) {
  std::string row = "(?";
  for (int c = 1; c < columns; ++c) row += ",?";
  row += ")";
  std::string sql = std::string("INSERT INTO ") + table + " VALUES " + row;
  for (int r = 1; r < rows; ++r) sql += "," + row;
  return sql + " " + conflict;
}

const std::vector<SqliteStore::RowTable>& SqliteStore::RowTables() {
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
      // Numbers: message, person, created_at, the time it counts at; text: kind.
      table(K::kReaction, "reactions", 5,
            "ON CONFLICT(message_key,user_key,kind) DO UPDATE SET created_at=excluded.created_at, "
            "at=excluded.at",
            [](Stmt& s, int at, const int64_t* v, const std::string_view* t) {
              s.Bind(at, v[0]).Bind(at + 1, v[1]).BindView(at + 2, t[0]);
              s.Bind(at + 3, Nullable(v[2], kNone)).Bind(at + 4, Nullable(v[3], kNone));
            }),
  };
  return tables;
}

void SqliteStore::WriteRows(const BulkBatch& batch) {
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

void SqliteStore::StartWriterIntoNewStore() {
  if (writer_ || !bulk_keys_ || !bulk_keys_->table_empty) return;
  writer_ = std::make_unique<Handoff<BulkBatch>>([this](BulkBatch& batch) { WriteRows(batch); });
}

}  // namespace learnloop::store::sqlite
