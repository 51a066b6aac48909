#include "core/jsonl.h"

#include <simdjson.h>

#include <cstdio>
#include <cstring>
#include <filesystem>

namespace learnloop::jsonl {

struct Object::Impl {
  simdjson::dom::object object;
};

namespace {

std::optional<simdjson::dom::element> Field(const Object::Impl& o, const char* key) {
  simdjson::dom::element e;
  if (o.object.at_key(key).get(e) != simdjson::SUCCESS || e.is_null()) return std::nullopt;
  return e;
}

}  // namespace

std::optional<std::string_view> Object::String(const char* key) const {
  auto e = Field(impl_, key);
  std::string_view s;
  if (!e || e->get_string().get(s) != simdjson::SUCCESS) return std::nullopt;
  return s;
}

std::optional<bool> Object::Bool(const char* key) const {
  auto e = Field(impl_, key);
  bool b;
  if (!e || e->get_bool().get(b) != simdjson::SUCCESS) return std::nullopt;
  return b;
}

std::optional<int64_t> Object::Int(const char* key) const {
  auto e = Field(impl_, key);
  if (!e) return std::nullopt;
  int64_t v;
  if (e->get_int64().get(v) == simdjson::SUCCESS) return v;
  std::string_view s;
  if (e->get_string().get(s) != simdjson::SUCCESS || s.empty() || s.size() > 18)
    return std::nullopt;
  v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::optional<std::vector<std::string>> Object::StringArray(const char* key) const {
  auto e = Field(impl_, key);
  simdjson::dom::array a;
  if (!e || e->get_array().get(a) != simdjson::SUCCESS) return std::nullopt;
  std::vector<std::string> out;
  for (simdjson::dom::element x : a) {
    std::string_view s;
    if (x.get_string().get(s) == simdjson::SUCCESS) out.emplace_back(s);
  }
  return out;
}

Status ForEachLine(const std::string& path, const std::function<void(const Object&)>& fn,
                   int64_t& count) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!f) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return Status::Ok();  // an empty table
    return Status::Fail("cannot read " + path);
  }
  simdjson::dom::parser parser;
  std::vector<char> buf(1 << 22);
  std::string line;
  size_t have = 0, pos = 0;
  int64_t lineno = 0;
  bool eof = false;
  auto handle = [&](std::string_view text) -> Status {
    ++lineno;
    if (text.empty() || text == "\r") return Status::Ok();
    line.assign(text);
    line.reserve(line.size() + simdjson::SIMDJSON_PADDING);
    simdjson::dom::element doc;
    Object::Impl impl;
    if (parser.parse(line.data(), line.size(), false).get(doc) != simdjson::SUCCESS ||
        doc.get_object().get(impl.object) != simdjson::SUCCESS)
      return Status::Fail(path + ":" + std::to_string(lineno) + ": not a JSON object");
    try {
      fn(Object(impl));
    } catch (const LineError& e) {
      return Status::Fail(path + ":" + std::to_string(lineno) + ": " + e.message);
    }
    ++count;
    return Status::Ok();
  };
  while (true) {
    // Lines in the buffer from pos to have.
    char* start = buf.data() + pos;
    char* nl = static_cast<char*>(std::memchr(start, '\n', have - pos));
    if (nl) {
      Status st = handle(std::string_view(start, static_cast<size_t>(nl - start)));
      if (!st.ok()) return st;
      pos = static_cast<size_t>(nl - buf.data()) + 1;
      continue;
    }
    if (eof) {
      if (pos < have) return handle(std::string_view(start, have - pos));
      return Status::Ok();
    }
    // Move the partial line to the front, grow when one line fills the buffer, read more.
    std::memmove(buf.data(), start, have - pos);
    have -= pos;
    pos = 0;
    if (have == buf.size()) buf.resize(buf.size() * 2);
    size_t got = std::fread(buf.data() + have, 1, buf.size() - have, f.get());
    if (got == 0) {
      if (std::ferror(f.get())) return Status::Fail("reading " + path + " failed");
      eof = true;
    }
    have += got;
  }
}

}  // namespace learnloop::jsonl
