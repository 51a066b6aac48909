#pragma once
// The simulator's HTTP server (Boost.Beast behind this small interface).
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"

namespace learnloop::sim {

struct SimRequest {
  std::string method;
  std::string path;  // decoded, without the query
  std::map<std::string, std::string> query;
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

struct SimReply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;
  bool reset = false;  // no answer: the connection is closed with a TCP reset
};

class HttpServer {
 public:
  using Handler = std::function<SimReply(const SimRequest&)>;
  HttpServer();
  ~HttpServer();
  // Listens on 127.0.0.1:port (0: a free port is chosen). Returns the port.
  Result<int> Start(int port, Handler handler);
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The simulator's own outbound calls (notifications, validation): a POST that returns the
// status and body, or an error when the peer cannot be reached in `timeout`.
struct PostResult {
  int status = 0;
  std::string body;
};
Result<PostResult> HttpPost(const std::string& url, const std::string& content_type,
                            const std::string& body, std::chrono::milliseconds timeout,
                            const std::vector<std::pair<std::string, std::string>>& headers = {});

std::string UrlEncode(const std::string& s);  // for a query value

// Decodes application/x-www-form-urlencoded text.
std::map<std::string, std::string> ParseForm(const std::string& body);

}  // namespace learnloop::sim
