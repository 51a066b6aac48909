#pragma once
// The keys of a Slack workspace, declared here beside the connector that reads them
// (docs/configuration.md's table is checked against this declaration).
#include <string>
#include <vector>

#include "config/config.h"

namespace learnloop::connectors::slack {

struct Settings {
  std::string base_url;
  Secret token;                       // the bot token (xoxb-…)
  Secret signing_secret;              // set: the Events API and buttons push to the listener
  std::vector<std::string> channels;  // channel ids; empty: every channel the bot is in
  Millis refresh_window{}, refresh_interval{};
};

const config::NetworkKind& Kind();
Settings ReadSettings(const config::NetworkConfig& network);

}  // namespace learnloop::connectors::slack
