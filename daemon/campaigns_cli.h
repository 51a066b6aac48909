#pragma once
// `learnloop campaigns validate|list|show|preview FILE`: what an L&D person checks before a
// campaign goes live.
#include <iosfwd>
#include <optional>
#include <string>

#include "config/config.h"
#include "core/time.h"

namespace learnloop::daemon {

struct CampaignsCommand {
  std::string action;                 // validate | list | show | preview
  std::string file;                   // a campaign file or a whole configuration
  std::optional<std::string> config;  // the configuration whose networks the file uses
  int weeks = 4;                      // preview: how far ahead
  Time from{};                        // preview: from when
};

// Exit code as the command line gives it: 0, 1 (errors in the file), 2 (usage).
int RunCampaigns(const CampaignsCommand& cmd, std::ostream& out, std::ostream& err);

}  // namespace learnloop::daemon
