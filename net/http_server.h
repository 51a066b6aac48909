#pragma once
// A small HTTP/1.1 server (Boost.Beast behind this interface) for the simulator and for the
// daemon's listener, plus a one-shot POST client. What a request and an answer are (message.h)
// and URL encoding (url.h) are apart: connectors use them without linking the server.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "net/message.h"
#include "net/url.h"

namespace learnloop::net {

// How much a server takes from its peers. A peer that sends slowly, sends too much or never
// finishes holds at most one connection for at most a timeout; past the connection limit, the
// connection idle longest (waiting for a request) makes room for the new one.
struct ServerLimits {
  size_t max_connections = 256;
  // Handlers run on this many threads; the connections are read and written on one more.
  int workers = 4;
  // A request's header (also the wait for the next request on a kept-alive connection), and
  // then its body, must arrive within these; an answer must be taken within write_timeout.
  std::chrono::milliseconds header_timeout{10000}, body_timeout{10000}, write_timeout{60000};
  // The largest body taken for a path (larger: 413, and the connection is closed).
  std::function<uint64_t(const std::string& path)> body_limit = [](const std::string&) {
    return uint64_t{64} << 20;
  };
  // Both set: HTTPS (TLS 1.2 or later) with this certificate chain and private key (PEM files).
  std::string tls_cert_file, tls_key_file;
};

class HttpServer {
 public:
  using Handler = std::function<Reply(const Request&)>;
  HttpServer();
  ~HttpServer();
  // Listens on host:port (0: a free port is chosen). Returns the port.
  Result<int> Start(int port, Handler handler, const std::string& host = "127.0.0.1",
                    ServerLimits limits = {});
  void Stop();
  // How many connections are open now, and how many were closed to make room (for tests and
  // metrics).
  size_t open_connections() const;
  uint64_t evicted_connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A POST that returns the status and body, or an error when the peer cannot be reached in
// `timeout` (the simulator's notifications and validation calls).
struct PostResult {
  int status = 0;
  std::string body;
};
Result<PostResult> HttpPost(const std::string& url, const std::string& content_type,
                            const std::string& body, std::chrono::milliseconds timeout,
                            const std::vector<std::pair<std::string, std::string>>& headers = {});

}  // namespace learnloop::net
