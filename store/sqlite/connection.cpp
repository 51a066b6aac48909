#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "core/files.h"
#include "store/sqlite/sqlite_store.h"

namespace learnloop::store::sqlite {

void SqliteStore::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : "unknown";
    sqlite3_free(err);
    throw std::runtime_error("sqlite: " + m);
  }
}

void SqliteStore::Within(const char* begin, const std::function<void()>& fn) {
  auto lock = Lock();
  if (depth_ == 0) Exec(begin);
  ++depth_;
  try {
    fn();
  } catch (...) {
    // A failed rollback's own error would hide fn's: SQLite has rolled back by then anyway.
    if (--depth_ == 0) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  if (--depth_ == 0) {
    try {
      Exec("COMMIT");
    } catch (...) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }
}

Status SqliteStore::Run(const char* begin, const std::function<Status()>& fn) {
  struct Failed {};
  Status said;
  bool in_fn = false;
  try {
    Within(begin, [&] {
      in_fn = true;
      said = fn();
      in_fn = false;
      if (!said.ok()) throw Failed{};
    });
  } catch (const Failed&) {
    return said;
  } catch (const std::exception& e) {
    if (in_fn) throw;  // the caller's own
    return Status::Fail(e.what());
  }
  return said;
}

Result<bool> SqliteStore::Compact() {
  return Guard([&]() -> bool {
    auto lock = Lock();
    Exec("VACUUM");
    int log = -1, done = -1;
    int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, &log, &done);
    return rc == SQLITE_OK && log == 0;
  });
}

std::unique_ptr<Store> SqliteStore::OpenReader() {
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

Result<int> SqliteStore::SchemaVersion() {
  return Guard([&]() -> int {
    auto lock = Lock();
    Stmt s(db_, "PRAGMA user_version");
    return s.Step() ? static_cast<int>(s.Int(0)) : 0;
  });
}

}  // namespace learnloop::store::sqlite

namespace learnloop::store {

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
  auto store = std::make_unique<sqlite::SqliteStore>(db, o.building);
  try {
    store->Migrate(o.up_to_version);
  } catch (const std::exception& e) {
    return Result<std::unique_ptr<Store>>::Fail("cannot migrate store " + path + ": " + e.what());
  }
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace learnloop::store
