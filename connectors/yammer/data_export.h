#pragma once
// Reads a Viva Engage Data Export (reference §1.10): a ZIP of CSV files for the whole network.
// Columns are found by name (the exact set is not documented): `id` and `created_at` are
// needed in Messages.csv, everything else is used when present.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.h"
#include "core/result.h"

namespace learnloop::connectors::yammer {

struct ExportData {
  std::vector<User> users;
  std::vector<Message> messages;       // deleted ones marked so; All Company's in kAllCompany
  std::vector<std::string> group_ids;  // native ids of the network's groups (Groups.csv)
  int64_t max_message_id = 0;          // the newest message of any kind in the export
  int64_t skipped = 0;                 // rows left out: private, system, or without a time
};

Result<ExportData> ParseExport(std::string_view zip, const std::string& network);

}  // namespace learnloop::connectors::yammer
