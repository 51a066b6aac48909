#include "connectors/registry.h"

#include "connectors/teams/teams_connector.h"
#include "connectors/yammer/yammer_connector.h"

namespace learnloop::connectors {

namespace {
struct Entry {
  const char* type;
  Built (*make)(const config::NetworkConfig&, Clock&, std::unique_ptr<http::Client>);
};

const Entry kRegistry[] = {
    {"yammer",
     [](const config::NetworkConfig& c, Clock& clock, std::unique_ptr<http::Client> client) {
       auto y = std::make_unique<yammer::YammerConnector>(c, clock, std::move(client));
       Poster* p = y.get();
       return Built{std::move(y), p};
     }},
    {"teams",
     [](const config::NetworkConfig& c, Clock& clock, std::unique_ptr<http::Client> client) {
       auto t = std::make_unique<teams::TeamsConnector>(c, clock, std::move(client));
       Poster* p = t.get();
       PushReceiver* push = c.push ? t.get() : nullptr;
       return Built{std::move(t), p, push};
     }},
};
}  // namespace

std::vector<std::string> RegisteredTypes() {
  std::vector<std::string> out;
  for (const auto& e : kRegistry) out.push_back(e.type);
  return out;
}

Result<Built> Create(const config::NetworkConfig& cfg, Clock& clock,
                     std::unique_ptr<http::Client> client) {
  for (const auto& e : kRegistry) {
    if (cfg.type != e.type) continue;
    if (!client) client = http::MakeClient(cfg.request_timeout);
    return e.make(cfg, clock, std::move(client));
  }
  return Result<Built>::Fail("unknown connector type '" + cfg.type + "'");
}

}  // namespace learnloop::connectors
