#pragma once
// What an operator does to a running daemon, the same from the command line (on the store the
// daemon uses) and from the admin API: steer a campaign, opt a person out or in, forget them.
// The daemon follows at its next tick; everything goes through the store.
#include <string>

#include "config/config.h"
#include "core/clock.h"
#include "store/store.h"

namespace learnloop::daemon {

struct ActionOutcome {
  int status = 200;     // as an HTTP status: 200 done, 400 a wrong request, 404 no such thing,
                        // 503 the store failed (try again)
  std::string message;  // what was done, or why not (lines)
  std::string warning;  // done, but something to know
  bool ok() const { return status < 300; }
};

// pause | resume | skip | post-now NAME.
ActionOutcome CampaignAction(const config::Config& cfg, store::Store& store, Clock& clock,
                             const std::string& action, const std::string& name);
// opt-out | opt-in USER (a learnloop id or an email address).
ActionOutcome PeopleAction(store::Store& store, const std::string& action, const std::string& who);
// Erases USER from the store, from the raw archive of its network, and rewrites the store's
// files (a warning when another connection keeps the log in use).
ActionOutcome Forget(const config::Config& cfg, store::Store& store, Clock& clock,
                     const std::string& who);

}  // namespace learnloop::daemon
