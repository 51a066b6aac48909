#include "store/sqlite/statement.h"

#include "core/json.h"

namespace learnloop::store::sqlite {

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

}  // namespace learnloop::store::sqlite
