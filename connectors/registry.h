#pragma once
// The one list of built-in connectors. Adding an ESN: one folder (its connector, its keys:
// settings.h) and one line in registry.cpp.
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "connectors/common/http.h"
#include "connectors/connector.h"
#include "core/clock.h"

namespace learnloop::connectors {

// Every kind of network, for config::LoadFile.
const config::NetworkKinds& Kinds();
std::vector<std::string> RegisteredTypes();
// `client` may be given by tests; by default a real HTTP client with the configured timeout.
Result<Built> Create(const config::NetworkConfig& cfg, Clock& clock,
                     std::unique_ptr<http::Client> client = nullptr);

}  // namespace learnloop::connectors
