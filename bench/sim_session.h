#pragma once
// esn-sim for a benchmark: the child process, an HTTP client to its control API and a
// temporary folder, all gone with the session.
#include <filesystem>
#include <memory>
#include <string>

#include "connectors/common/http.h"
#include "core/json.h"
#include "daemon/sim_process.h"

namespace learnloop::bench {

struct SimSession {
  daemon::SimProcess sim;
  std::unique_ptr<connectors::http::Client> http =
      connectors::http::MakeClient(std::chrono::seconds{60});
  std::string dir;

  SimSession() {
    char tmpl[] = "/tmp/learnloop-bench-XXXXXX";
    dir = mkdtemp(tmpl);
  }
  ~SimSession() { std::filesystem::remove_all(dir); }
  SimSession(const SimSession&) = delete;
  SimSession& operator=(const SimSession&) = delete;

  // GET of the simulator's `path`, parsed (null on any failure).
  json::Value Get(const std::string& path) {
    connectors::http::Request r;
    r.url = sim.base_url() + path;
    auto res = http->Send(r);
    auto v = res.ok() ? json::Parse(res->body) : Result<json::Value>::Fail("");
    return v.ok() ? *v : json::Value();
  }
};

}  // namespace learnloop::bench
