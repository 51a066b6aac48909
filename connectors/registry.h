#pragma once
// The one list of built-in connectors. Adding an ESN: one folder and one line in registry.cpp.
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "connectors/common/http.h"
#include "connectors/connector.h"
#include "core/clock.h"

namespace learnloop::connectors {

struct Built {
  std::unique_ptr<Connector> connector;
  Poster* poster = nullptr;      // the same object, when it can post
  PushReceiver* push = nullptr;  // the same object, when it takes pushes
};

std::vector<std::string> RegisteredTypes();
// `client` may be given by tests; by default a real HTTP client with the configured timeout.
Result<Built> Create(const config::NetworkConfig& cfg, Clock& clock,
                     std::unique_ptr<http::Client> client = nullptr);

}  // namespace learnloop::connectors
