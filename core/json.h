#pragma once
// The one wrapper around the JSON library (cpprestsdk's web::json) for reading, plus a small
// writer of our own for output whose key order and number format must be exact.
#include <cpprest/json.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace learnloop::json {

using Value = web::json::value;

Result<Value> Parse(std::string_view text);
std::string Dump(const Value& v);

// Field access that never throws: a missing field, a null or a wrong type gives nullopt.
const Value* Find(const Value& obj, const char* key);
std::optional<std::string> GetString(const Value& obj, const char* key);
// Accepts a JSON integer or a string of digits (64-bit ids arrive either way).
std::optional<int64_t> GetInt64(const Value& obj, const char* key);
// Decimal digits as a non-negative int64; none when empty, not all digits or past the range.
std::optional<int64_t> ParseInt64(std::string_view s);
std::optional<bool> GetBool(const Value& obj, const char* key);
std::optional<double> GetDouble(const Value& obj, const char* key);
std::optional<std::vector<std::string>> GetStringArray(const Value& obj, const char* key);
std::string AsIdString(const Value& v);  // number or string → decimal string; "" otherwise

// Writes compact JSON with keys in the order they are written.
class Writer {
 public:
  Writer& BeginObject();
  Writer& EndObject();
  Writer& BeginArray();
  Writer& EndArray();
  Writer& Key(std::string_view k);
  Writer& String(std::string_view s);
  Writer& Int(int64_t v);
  Writer& Bool(bool v);
  Writer& Null();
  // A decimal rounded half away from zero to `decimals` places, trailing zeros trimmed.
  Writer& Fixed(double v, int decimals);
  Writer& OptString(const std::optional<std::string>& s) { return s ? String(*s) : Null(); }
  Writer& OptInt(const std::optional<int64_t>& v) { return v ? Int(*v) : Null(); }
  Writer& OptFixed(const std::optional<double>& v, int decimals) {
    return v ? Fixed(*v, decimals) : Null();
  }
  Writer& OptBool(const std::optional<bool>& v) { return v ? Bool(*v) : Null(); }
  Writer& StringArray(const std::vector<std::string>& a);
  // Already serialised JSON, written as one value.
  Writer& Raw(std::string_view json);
  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }
  // What was written so far, leaving the writer where it is (for output sent in pieces).
  std::string TakeChunk() {
    std::string s;
    s.swap(out_);
    return s;
  }

 private:
  void Separate();
  std::string out_;
  std::vector<bool> first_;  // per open container: nothing written yet
  bool after_key_ = false;
};

void AppendEscaped(std::string& out, std::string_view s);
std::string FormatFixed(double v, int decimals);

}  // namespace learnloop::json
