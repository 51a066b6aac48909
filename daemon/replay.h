#pragma once
// Rebuilds a store from the raw archive (connectors/common/archive.h) without calling the ESN:
// each archived call is made again, at its time, on the same connector code, which is given
// the archived answers instead of the network's.
#include <string>
#include <vector>

#include "config/config.h"
#include "core/result.h"
#include "store/store.h"

namespace learnloop::daemon {

struct ReplayStats {
  int64_t calls = 0, pages = 0, messages = 0;
  std::vector<std::string> warnings;  // networks without an archive, cut files
};

// Replays every configured network's archive under `dir` into `store`. An error names the
// network, the call and the request where the replay left the archive (another connector
// version asks differently).
Result<ReplayStats> ReplayArchive(const config::Config& cfg, store::Store& store,
                                  const std::string& dir);

}  // namespace learnloop::daemon
