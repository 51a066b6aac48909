#pragma once
// Files that hold what people wrote or secrets: made readable by their owner only.
#include <string>

#include "core/result.h"

namespace learnloop {

// Creates `dir` and its missing parents; those it creates get mode 0700 (existing ones are left
// as they are).
Status MakePrivateDirs(const std::string& dir);

// Flushes a file, or a folder's entries, to the disk (fsync).
Status SyncFile(const std::string& path);

}  // namespace learnloop
