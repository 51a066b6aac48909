#pragma once
// Replies and parsing the simulator's files share.
#include <algorithm>
#include <cctype>
#include <optional>
#include <string>

#include "core/json.h"
#include "sim/simulator.h"

namespace learnloop::sim {

inline SimReply Json(int status, std::string body) {
  SimReply r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

inline SimReply YammerError(int status, int code, const std::string& message) {
  json::Writer w;
  w.BeginObject().Key("response").BeginObject().Key("message").String(message);
  w.Key("code").Int(code).Key("stat").String("fail").EndObject().EndObject();
  return Json(status, w.Take());
}

inline bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

inline std::optional<int64_t> ToInt(const std::string& s) {
  if (s.empty() || s.size() > 19 || !std::all_of(s.begin(), s.end(), ::isdigit))
    return std::nullopt;
  return std::stoll(s);
}

}  // namespace learnloop::sim
