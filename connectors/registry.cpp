#include "connectors/registry.h"

#include "connectors/slack/settings.h"
#include "connectors/slack/slack_connector.h"
#include "connectors/teams/settings.h"
#include "connectors/teams/teams_connector.h"
#include "connectors/yammer/settings.h"
#include "connectors/yammer/yammer_connector.h"

namespace learnloop::connectors {

namespace {
struct Entry {
  const config::NetworkKind& (*kind)();
  Built (*make)(const config::NetworkConfig&, Clock&, std::unique_ptr<http::Client>);
};

const Entry kRegistry[] = {
    {yammer::Kind, yammer::Make},
    {teams::Kind, teams::Make},
    {slack::Kind, slack::Make},
};
}  // namespace

const config::NetworkKinds& Kinds() {
  static const config::NetworkKinds kKinds = [] {
    config::NetworkKinds out;
    for (const auto& e : kRegistry) out.push_back(e.kind());
    return out;
  }();
  return kKinds;
}

std::vector<std::string> RegisteredTypes() {
  std::vector<std::string> out;
  for (const auto& k : Kinds()) out.push_back(k.type);
  return out;
}

Result<Built> Create(const config::NetworkConfig& cfg, Clock& clock,
                     std::unique_ptr<http::Client> client) {
  for (const auto& e : kRegistry) {
    if (cfg.type != e.kind().type) continue;
    if (!client) client = http::MakeClient(cfg.request_timeout);
    return e.make(cfg, clock, std::move(client));
  }
  return Result<Built>::Fail("unknown connector type '" + cfg.type + "'");
}

}  // namespace learnloop::connectors
