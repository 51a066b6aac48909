#include "store/sqlite/sqlite_store.h"

namespace learnloop::store::sqlite {

std::optional<std::string> SqliteStore::GetValue(const std::string& table, const std::string& key) {
  auto lock = Lock();
  Stmt s(db_, ("SELECT value FROM " + table + " WHERE key=?1").c_str());
  s.Bind(1, key);
  if (s.Step()) return s.Text(0);
  return std::nullopt;
}

void SqliteStore::SetValue(const std::string& table, const std::string& key,
                           const std::string& value) {
  Locked([&] {
    Stmt s(db_, ("INSERT INTO " + table +
                 " VALUES (?1,?2) ON CONFLICT(key) DO UPDATE SET value=excluded.value")
                    .c_str());
    s.Bind(1, key).Bind(2, value).Run();
  });
}

std::map<std::string, std::string> SqliteStore::ValuesWithPrefix(const std::string& table,
                                                                 const std::string& prefix) {
  auto lock = Lock();
  Stmt s(db_,
         ("SELECT key, value FROM " + table + " WHERE substr(key, 1, length(?1)) = ?1 ORDER BY key")
             .c_str());
  s.Bind(1, prefix);
  std::map<std::string, std::string> out;
  while (s.Step()) out[s.Text(0)] = s.Text(1);
  return out;
}

std::optional<std::string> SqliteStore::GetCursor(const std::string& key) {
  return GetValue("cursors", key);
}

void SqliteStore::SetCursor(const std::string& key, const std::string& value) {
  SetValue("cursors", key, value);
}

std::map<std::string, std::string> SqliteStore::CursorsWithPrefix(const std::string& prefix) {
  return ValuesWithPrefix("cursors", prefix);
}

std::optional<std::string> SqliteStore::GetSecret(const std::string& key) {
  return GetValue("secrets", key);
}

void SqliteStore::SetSecret(const std::string& key, const std::string& value) {
  SetValue("secrets", key, value);
}

std::map<std::string, std::string> SqliteStore::SecretsWithPrefix(const std::string& prefix) {
  return ValuesWithPrefix("secrets", prefix);
}

}  // namespace learnloop::store::sqlite
