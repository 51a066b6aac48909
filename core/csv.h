#pragma once
// CSV as RFC 4180 writes it (comma, double quotes, CRLF or LF line ends), for the Viva Engage
// Data Export and the report tables.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace learnloop::csv {

// One record, each field quoted when it holds a comma, a quote or a line break; ends in CRLF.
std::string Row(const std::vector<std::string>& fields);

// A field as a spreadsheet should show it, not run it: text that starts with '=', '+', '-',
// '@', a tab or a carriage return (what Excel and LibreOffice read as a formula, as OWASP's
// CSV injection guidance lists) gets a leading apostrophe; a number (-0.25, +3) stays as it is.
std::string SpreadsheetText(std::string_view field);

// Row() of fields each made SpreadsheetText: for files people open in a spreadsheet.
std::string SpreadsheetRow(const std::vector<std::string>& fields);

// The byte-order mark a spreadsheet needs to read a CSV file as UTF-8 (Excel reads one without
// it in the system's code page).
inline constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// Calls `row` for each record of `text` in order (the header too); a record may span lines
// inside quotes. Stops early when `row` returns false. An error names the line where an
// unterminated quote began.
Status Parse(std::string_view text, const std::function<bool(std::vector<std::string>&)>& row);

// A table read with its header: fields looked up by column name, so that columns may be
// added, removed or reordered.
class Table {
 public:
  // Fails on a CSV error or when a `required` column is missing.
  static Result<Table> Read(std::string_view text, const std::vector<std::string>& required = {});
  size_t size() const { return rows_.size(); }
  // The field of row i in column `name`; empty when the column or the field is missing.
  const std::string& Get(size_t i, std::string_view name) const;
  bool Has(std::string_view name) const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace learnloop::csv
