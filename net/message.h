#pragma once
// An HTTP request as a handler sees it, and the answer it gives: what the server (http_server.h)
// hands to the daemon, the simulator and the connectors' push receivers.
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace learnloop::net {

struct Request {
  std::string method;
  std::string path;  // decoded, without the query
  std::map<std::string, std::string> query;
  std::string raw_query;                       // as sent (a parameter may repeat)
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string Query(const std::string& k, const std::string& def = "") const {
    auto it = query.find(k);
    return it == query.end() ? def : it->second;
  }
  std::string Header(const std::string& k) const {
    auto it = headers.find(k);
    return it == headers.end() ? "" : it->second;
  }
};

struct Reply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;
  bool reset = false;  // no answer: the connection is closed with a TCP reset
  // Set: the body is sent in chunks (chunked transfer encoding), each produced on demand by a
  // call that fills `chunk` and returns false once there is nothing more. For answers too big
  // to hold in memory at once.
  std::function<bool(std::string& chunk)> stream;
};

}  // namespace learnloop::net
