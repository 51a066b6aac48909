#include "core/json.h"

#include <cmath>
#include <cstdint>
#include <cstdio>

namespace learnloop::json {

Result<Value> Parse(std::string_view text) {
  std::error_code ec;
  Value v = Value::parse(std::string(text), ec);
  if (ec) return Result<Value>::Fail("invalid JSON: " + ec.message());
  return v;
}

std::string Dump(const Value& v) { return v.serialize(); }

const Value* Find(const Value& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  const auto& o = obj.as_object();
  auto it = o.find(key);
  if (it == o.end() || it->second.is_null()) return nullptr;
  return &it->second;
}

std::optional<std::string> GetString(const Value& obj, const char* key) {
  const Value* v = Find(obj, key);
  if (!v || !v->is_string()) return std::nullopt;
  return v->as_string();
}

std::optional<int64_t> GetInt64(const Value& obj, const char* key) {
  const Value* v = Find(obj, key);
  if (!v) return std::nullopt;
  if (v->is_number()) {
    const auto& n = v->as_number();
    if (n.is_int64()) return n.to_int64();
    // Past the signed range: no int64 (a cast would turn it negative).
    if (n.is_uint64() && n.to_uint64() <= static_cast<uint64_t>(INT64_MAX))
      return static_cast<int64_t>(n.to_uint64());
    return std::nullopt;
  }
  if (v->is_string()) return ParseInt64(v->as_string());
  return std::nullopt;
}

std::optional<int64_t> ParseInt64(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  int64_t r = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    if (r > (INT64_MAX - (c - '0')) / 10) return std::nullopt;  // past the signed range
    r = r * 10 + (c - '0');
  }
  return r;
}

std::optional<bool> GetBool(const Value& obj, const char* key) {
  const Value* v = Find(obj, key);
  if (!v) return std::nullopt;
  if (v->is_boolean()) return v->as_bool();
  if (v->is_string()) {  // some Yammer fields are "true"/"false" strings
    if (v->as_string() == "true") return true;
    if (v->as_string() == "false") return false;
  }
  return std::nullopt;
}

std::optional<double> GetDouble(const Value& obj, const char* key) {
  const Value* v = Find(obj, key);
  if (!v || !v->is_number()) return std::nullopt;
  return v->as_double();
}

std::optional<std::vector<std::string>> GetStringArray(const Value& obj, const char* key) {
  const Value* v = Find(obj, key);
  if (!v || !v->is_array()) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& e : v->as_array()) {
    std::string s = AsIdString(e);
    if (!s.empty()) out.push_back(std::move(s));
  }
  return out;
}

std::string AsIdString(const Value& v) {
  if (v.is_string()) return v.as_string();
  if (v.is_number()) {
    const auto& n = v.as_number();
    if (n.is_int64()) return std::to_string(n.to_int64());
    if (n.is_uint64()) return std::to_string(n.to_uint64());
  }
  return "";
}

void AppendEscaped(std::string& out, std::string_view s) {
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '<':
        out += "\\u003c";
        break;  // keeps JSON safe to embed in HTML
      case '>':
        out += "\\u003e";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

std::string FormatFixed(double v, int decimals) {
  double scale = std::pow(10.0, decimals);
  double r = std::round(v * scale) / scale;  // std::round is half away from zero
  if (r == 0) r = 0;                         // no "-0"
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, r);
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

void Writer::Separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.empty()) {
    if (!first_.back()) out_.push_back(',');
    first_.back() = false;
  }
}

Writer& Writer::BeginObject() {
  Separate();
  out_.push_back('{');
  first_.push_back(true);
  return *this;
}
Writer& Writer::EndObject() {
  out_.push_back('}');
  first_.pop_back();
  return *this;
}
Writer& Writer::BeginArray() {
  Separate();
  out_.push_back('[');
  first_.push_back(true);
  return *this;
}
Writer& Writer::EndArray() {
  out_.push_back(']');
  first_.pop_back();
  return *this;
}
Writer& Writer::Key(std::string_view k) {
  Separate();
  AppendEscaped(out_, k);
  out_.push_back(':');
  after_key_ = true;
  return *this;
}
Writer& Writer::String(std::string_view s) {
  Separate();
  AppendEscaped(out_, s);
  return *this;
}
Writer& Writer::Int(int64_t v) {
  Separate();
  out_ += std::to_string(v);
  return *this;
}
Writer& Writer::Bool(bool v) {
  Separate();
  out_ += v ? "true" : "false";
  return *this;
}
Writer& Writer::Null() {
  Separate();
  out_ += "null";
  return *this;
}
Writer& Writer::Fixed(double v, int decimals) {
  Separate();
  out_ += FormatFixed(v, decimals);
  return *this;
}
Writer& Writer::Raw(std::string_view json) {
  Separate();
  out_ += json;
  return *this;
}

Writer& Writer::StringArray(const std::vector<std::string>& a) {
  BeginArray();
  for (const auto& s : a) String(s);
  return EndArray();
}

}  // namespace learnloop::json
