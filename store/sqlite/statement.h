#pragma once
// A prepared SQLite statement, and how lists are kept in a column: what every part of the SQLite
// store writes and reads with.
#include <sqlite3.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.h"

namespace learnloop::store::sqlite {

// One statement, prepared once; errors are thrown (std::runtime_error) and caught at the store's
// edge.
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
inline std::optional<int64_t> Nullable(int64_t v, int64_t null) {
  return v == null ? std::nullopt : std::optional<int64_t>(v);
}

// A list of ids as a column holds it (a JSON array of strings), and back.
std::string EncodeList(const std::vector<std::string>& v);
std::vector<std::string> DecodeList(const std::string& s);
// DecodeList into `out` (reused), without a JSON parser for the usual lists of plain ids.
void DecodeIds(std::string_view s, std::vector<std::string>& out);

}  // namespace learnloop::store::sqlite
