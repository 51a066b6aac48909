#pragma once
// The keys of a Microsoft Teams network, declared here beside the connector that reads them
// (docs/configuration.md's table is checked against this declaration).
#include <string>
#include <vector>

#include "config/config.h"
#include "connectors/common/entra.h"

namespace learnloop::connectors::teams {

// The Bot Framework side (reference §3).
struct BotSettings {
  std::string service_url, token_url, openid_url;
  // The bot's app registration, when it is not the Graph reader's (default: auth's).
  std::string client_id;
  Secret client_secret;
};

struct Settings {
  std::string base_url;
  AuthConfig auth;
  std::vector<std::string> teams;     // team ids (GUIDs) whose channels are read
  std::vector<std::string> channels;  // only these channel ids (empty: every channel)
  BotSettings bot;
  bool push = true;  // subscribe to change notifications when the daemon listens
  Millis refresh_window{};
};

const config::NetworkKind& Kind();
Settings ReadSettings(const config::NetworkConfig& network);

}  // namespace learnloop::connectors::teams
