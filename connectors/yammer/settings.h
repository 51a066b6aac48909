#pragma once
// The keys of a Viva Engage (Yammer) network, declared here beside the connector that reads
// them (docs/configuration.md's table is checked against this declaration).
#include <string>
#include <vector>

#include "config/config.h"
#include "connectors/common/entra.h"

namespace learnloop::connectors::yammer {

struct Settings {
  std::string base_url;
  Secret token;  // a static bearer token, instead of `auth`
  AuthConfig auth;
  std::vector<std::string> communities;  // native group ids; empty = every group of the account
  Millis refresh_window{}, refresh_interval{};
  // Backfill from the Data Export (one ZIP of CSVs for the whole network, admin token) instead
  // of paging every community feed. It has no likes: those come from the feeds' re-read of
  // the recent window.
  bool export_backfill = false;
  std::string export_url;  // default: https://export.yammer.com/api/v1/export, or <base_url>/export
};

const config::NetworkKind& Kind();
Settings ReadSettings(const config::NetworkConfig& network);

}  // namespace learnloop::connectors::yammer
