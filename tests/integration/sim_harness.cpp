#include "sim_harness.h"

#include <filesystem>

namespace learnloop::it {

std::string SimRun::Start(Time start, const std::vector<std::string>& sim_args, std::string yaml) {
  char t[] = "/tmp/learnloop-it-XXXXXX";
  dir = mkdtemp(t);
  std::vector<std::string> args{"--start", FormatIso(start), "--clock",
                                "manual",  "--token",        "it-token"};
  args.insert(args.end(), sim_args.begin(), sim_args.end());
  auto s = sim.Start(daemon::FindSimBinary(), args);
  if (!s.ok()) return s.message();
  setenv("LEARNLOOP_IT_TOKEN", "it-token", 1);
  for (size_t p; (p = yaml.find("BASE_URL")) != std::string::npos;)
    yaml.replace(p, 8, sim.base_url() + "/api/v1");
  for (size_t p; (p = yaml.find("DIR")) != std::string::npos;) yaml.replace(p, 3, dir);
  auto loaded = config::LoadString(yaml, "it.yaml");
  if (!loaded.config) return loaded.errors.at(0).ToString();
  cfg = *loaded.config;
  auto st = store::OpenSqlite(cfg->store_path);
  if (!st.ok()) return st.error().message;
  store = std::move(*st);
  clock = std::make_unique<ManualClock>(start);
  clock->SetOnAdvance([this](Time at) {
    connectors::http::Request r;
    r.method = "POST";
    r.url = sim.base_url() + "/_sim/clock";
    r.body = "{\"now\":\"" + FormatIso(at) + "\"}";
    http->Send(r);
  });
  return "";
}

json::Value SimRun::Get(const std::string& path) {
  connectors::http::Request r;
  r.url = sim.base_url() + path;
  auto res = http->Send(r);
  if (!res.ok()) return json::Value();
  auto v = json::Parse(res->body);
  return v.ok() ? *v : json::Value();
}

SimRun::~SimRun() {
  sim.Stop();
  store.reset();
  if (!dir.empty()) std::filesystem::remove_all(dir);
}

}  // namespace learnloop::it
