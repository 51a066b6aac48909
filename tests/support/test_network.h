#pragma once
// A network for unit tests, made as a configuration file makes it: `keys` are the lines of one
// entry of `networks:` (secrets as ${VAR}, set from `env`).
#include <cstdlib>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>

#include "config/config.h"
#include "connectors/registry.h"

namespace learnloop::testing {

inline config::NetworkConfig TestNetwork(const std::string& keys,
                                         const std::map<std::string, std::string>& env = {}) {
  for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
  std::string yaml = "networks:\n";
  std::istringstream in(keys);
  bool first = true;
  for (std::string line; std::getline(in, line); first = false)
    yaml += (first ? "  - " : "    ") + line + "\n";
  auto r = config::LoadString(yaml, "test.yaml", connectors::Kinds());
  if (!r.config) {
    std::string errors;
    for (const auto& e : r.errors) errors += e.ToString() + "\n";
    throw std::runtime_error("test network does not load:\n" + errors);
  }
  if (!r.config->network_secret_errors.empty())
    throw std::runtime_error(r.config->network_secret_errors.front().ToString());
  return r.config->networks.front();
}

}  // namespace learnloop::testing
