#pragma once
// The admin listener's answers: /healthz (the loop moves), /readyz (the daemon does its work),
// /metrics (Prometheus text format) and the admin API under /api/v1/ (bearer token).
#include <chrono>
#include <string>

#include "net/http_server.h"

namespace learnloop::daemon {

class Daemon;

class AdminApi {
 public:
  explicit AdminApi(Daemon& d) : d_(d) {}
  // Whether the path is one of the admin listener's.
  static bool Serves(const std::string& path);
  net::Reply Handle(const net::Request& r);
  // How long the loop may go without moving before it counts as stuck: the service manager's
  // watchdog interval, or 90 s.
  static std::chrono::milliseconds StuckAfter();

  net::Reply Health();

 private:
  net::Reply Ready();
  net::Reply Metrics();
  net::Reply Api(const net::Request& r);
  net::Reply Campaigns();
  net::Reply Reports(const std::string& file, const std::string& format);

  Daemon& d_;
};

// A bearer token compared in constant time: 401 without one, 403 for a wrong one (or when the
// configuration gives none), 0 when it is the right one.
int CheckBearer(const std::string& authorization, const std::string& token);

}  // namespace learnloop::daemon
