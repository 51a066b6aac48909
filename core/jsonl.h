#pragma once
// The one wrapper around simdjson: a fast reader of JSON Lines files (the exchange format can be
// gigabytes; cpprestsdk's parser, behind core/json.h, serves everything else).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace learnloop::jsonl {

// One parsed line (a JSON object). Views are valid during the callback only. Every accessor
// gives nullopt for a missing key, a null or a value of another type.
class Object {
 public:
  std::optional<std::string_view> String(const char* key) const;
  std::optional<bool> Bool(const char* key) const;
  // An integer, or a string of digits.
  std::optional<int64_t> Int(const char* key) const;
  // The strings of an array (other elements skipped).
  std::optional<std::vector<std::string>> StringArray(const char* key) const;

  struct Impl;
  explicit Object(const Impl& impl) : impl_(impl) {}

 private:
  const Impl& impl_;
};

struct LineError {
  std::string message;
};

// Calls `fn` for each non-empty line of the file, in order; a missing file has no lines. A
// line that is not a JSON object, or a LineError thrown by `fn`, stops the reading with
// "<path>:<line>: <message>". `count` is the number of lines read.
Status ForEachLine(const std::string& path, const std::function<void(const Object&)>& fn,
                   int64_t& count);

}  // namespace learnloop::jsonl
