#pragma once
// esn-sim for a benchmark: the child process, an HTTP client to its control API, a temporary
// folder, and the daemon's configuration and store, all gone with the session.
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "connectors/common/http.h"
#include "connectors/registry.h"
#include "core/json.h"
#include "daemon/sim_process.h"
#include "store/store.h"

namespace learnloop::bench {

struct SimSession {
  daemon::SimProcess sim;
  std::unique_ptr<connectors::http::Client> http =
      connectors::http::MakeClient(std::chrono::seconds{60});
  std::string dir;
  std::optional<config::Config> cfg;
  std::unique_ptr<store::Store> store;

  SimSession() {
    char tmpl[] = "/tmp/learnloop-bench-XXXXXX";
    dir = mkdtemp(tmpl);
  }
  ~SimSession() {
    store.reset();
    std::filesystem::remove_all(dir);
  }
  SimSession(const SimSession&) = delete;
  SimSession& operator=(const SimSession&) = delete;

  // Starts esn-sim with `args` and the benchmarks' token: "" or why not.
  std::string Start(std::vector<std::string> args) {
    args.insert(args.end(), {"--token", "bench-token"});
    auto s = sim.Start(daemon::FindSimBinary(), args);
    return s.ok() ? "" : s.message();
  }

  // `yaml` with SIM_URL as the simulator's address; the benchmarks' secrets
  // (${LEARNLOOP_BENCH_TOKEN}, ${LEARNLOOP_BENCH_SECRET}) are put in the environment.
  std::string Resolve(std::string yaml) const {
    setenv("LEARNLOOP_BENCH_TOKEN", "bench-token", 1);
    setenv("LEARNLOOP_BENCH_SECRET", "sim-secret", 1);
    for (size_t p; (p = yaml.find("SIM_URL")) != std::string::npos;)
      yaml.replace(p, 7, sim.base_url());
    return yaml;
  }

  // Loads the configuration `yaml` (resolved) into `cfg` and opens its store: "" or why not.
  std::string Load(const std::string& yaml) {
    auto loaded = config::LoadString(Resolve(yaml), "bench.yaml", connectors::Kinds());
    if (!loaded.config) return loaded.errors.at(0).ToString();
    cfg = *loaded.config;
    auto opened = store::OpenSqlite(cfg->store_path);
    if (!opened.ok()) return opened.error().message;
    store = std::move(*opened);
    return "";
  }

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
