#pragma once
// The exchange format of METRICS.md §1: one folder of JSON Lines files.
#include <optional>
#include <string>

#include "core/result.h"
#include "store/store.h"

namespace learnloop::store {

struct ExchangeCounts {
  int64_t users = 0, groups = 0, messages = 0, reactions = 0, prompts = 0, answers = 0;
  // Of an import: the reactions it added to the store. Lines that repeat a reaction (same
  // message, person and kind) are that one reaction, so this can be fewer than `reactions`.
  std::optional<int64_t> reactions_added;
};

Result<ExchangeCounts> Export(Store& s, const std::string& dir);
// Lines are upserted, so importing the same folder twice changes nothing. An error names the
// file and line.
Result<ExchangeCounts> Import(Store& s, const std::string& dir);
// Import into a SQLite store that does not exist yet: built aside, without a log, and put at
// `store_path` only when complete (a failure leaves no store behind).
Result<ExchangeCounts> ImportIntoNewSqlite(const std::string& store_path, const std::string& dir);

}  // namespace learnloop::store
