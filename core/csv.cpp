#include "core/csv.h"

#include <algorithm>

namespace learnloop::csv {

std::string Row(const std::vector<std::string>& fields) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) out += ',';
    const std::string& f = fields[i];
    if (f.find_first_of(",\"\r\n") == std::string::npos) {
      out += f;
      continue;
    }
    out += '"';
    for (char c : f) {
      if (c == '"') out += '"';
      out += c;
    }
    out += '"';
  }
  out += "\r\n";
  return out;
}

std::string SpreadsheetText(std::string_view field) {
  if (field.empty() || std::string_view("=+-@\t\r").find(field[0]) == std::string_view::npos)
    return std::string(field);
  // A number with a sign: digits, at most one point, a digit on each side of it.
  size_t i = field[0] == '-' || field[0] == '+' ? 1 : 0, digits = 0, points = 0;
  bool number = i == 1 && i < field.size();
  for (size_t k = i; number && k < field.size(); ++k) {
    char c = field[k];
    if (c >= '0' && c <= '9') {
      ++digits;
    } else if (c == '.' && points == 0 && digits > 0 && k + 1 < field.size()) {
      ++points;
    } else {
      number = false;
    }
  }
  if (number && digits > 0) return std::string(field);
  return "'" + std::string(field);
}

std::string SpreadsheetRow(const std::vector<std::string>& fields) {
  std::vector<std::string> safe;
  safe.reserve(fields.size());
  for (const auto& f : fields) safe.push_back(SpreadsheetText(f));
  return Row(safe);
}

Status Parse(std::string_view text, const std::function<bool(std::vector<std::string>&)>& row) {
  std::vector<std::string> fields;
  std::string field;
  size_t i = 0, line = 1;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") i = 3;  // a byte-order mark, as Excel writes it
  bool any = false;                                // something of the current record was read
  while (i < text.size()) {
    char c = text[i];
    if (c == '"' && field.empty()) {
      size_t opened = line;
      ++i;
      for (;;) {
        if (i >= text.size())
          return Status::Fail("CSV: the quote opened on line " + std::to_string(opened) +
                              " is never closed");
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        if (text[i] == '\n') ++line;
        field += text[i++];
      }
      any = true;
      continue;
    }
    if (c == ',') {
      fields.push_back(std::move(field));
      field.clear();
      any = true;
      ++i;
      continue;
    }
    if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      ++i;
      ++line;
      if (any || !field.empty()) {
        fields.push_back(std::move(field));
        field.clear();
        if (!row(fields)) return Status::Ok();
        fields.clear();
      }
      any = false;
      continue;
    }
    field += c;
    any = true;
    ++i;
  }
  if (any || !field.empty()) {
    fields.push_back(std::move(field));
    row(fields);
  }
  return Status::Ok();
}

Result<Table> Table::Read(std::string_view text, const std::vector<std::string>& required) {
  Table t;
  bool first = true;
  auto s = Parse(text, [&](std::vector<std::string>& f) {
    if (first) {
      t.header_ = std::move(f);
      for (auto& h : t.header_) {  // names compared without surrounding blanks
        while (!h.empty() && h.back() == ' ') h.pop_back();
        while (!h.empty() && h.front() == ' ') h.erase(h.begin());
      }
      first = false;
    } else {
      t.rows_.push_back(std::move(f));
    }
    return true;
  });
  if (!s.ok()) return s.error();
  for (const auto& r : required)
    if (!t.Has(r)) return Result<Table>::Fail("CSV: no column '" + r + "'");
  return t;
}

bool Table::Has(std::string_view name) const {
  return std::find(header_.begin(), header_.end(), name) != header_.end();
}

const std::string& Table::Get(size_t i, std::string_view name) const {
  static const std::string kEmpty;
  auto it = std::find(header_.begin(), header_.end(), name);
  if (it == header_.end() || i >= rows_.size()) return kEmpty;
  size_t col = static_cast<size_t>(it - header_.begin());
  return col < rows_[i].size() ? rows_[i][col] : kEmpty;
}

}  // namespace learnloop::csv
