#include "connectors/yammer/data_export.h"

#include <map>

#include "connectors/yammer/parse.h"
#include "core/compress.h"
#include "core/csv.h"
#include "core/time.h"

namespace learnloop::connectors::yammer {

namespace {

// The export's time format is not documented: ISO 8601, the REST API's
// "YYYY/MM/DD HH:MM:SS +0000", and "YYYY-MM-DD HH:MM:SS UTC" are all read.
std::optional<Time> ExportTime(std::string_view s) {
  if (s.empty()) return std::nullopt;
  if (auto t = ParseYammerTime(s)) return t;
  if (auto t = ParseIso(s)) return t;
  if (s.size() > 4 && s.substr(s.size() - 4) == " UTC") {
    std::string iso(s.substr(0, s.size() - 4));
    if (iso.size() > 10 && iso[10] == ' ') iso[10] = 'T';
    return ParseIso(iso + "Z");
  }
  return std::nullopt;
}

bool IsTrue(const std::string& s) { return s == "true" || s == "True" || s == "TRUE" || s == "1"; }

std::optional<int64_t> Int(const std::string& s) {
  if (s.empty()) return std::nullopt;
  try {
    size_t used = 0;
    int64_t v = std::stoll(s, &used);
    if (used != s.size()) return std::nullopt;
    return v;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

const std::string* Entry(const std::vector<ZipEntry>& files, const std::string& name) {
  for (const auto& f : files) {
    // Entries may sit in a folder; names are compared without it and without case.
    std::string base =
        f.name.substr(f.name.rfind('/') == std::string::npos ? 0 : f.name.rfind('/') + 1);
    if (base.size() != name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < base.size() && same; ++i)
      same = std::tolower(static_cast<unsigned char>(base[i])) ==
             std::tolower(static_cast<unsigned char>(name[i]));
    if (same) return &f.data;
  }
  return nullptr;
}

}  // namespace

Result<ExportData> ParseExport(std::string_view zip, const std::string& network) {
  using R = Result<ExportData>;
  auto files = ReadZip(zip);
  if (!files.ok()) return R::Fail("Data Export: " + files.error().message);
  ExportData out;
  std::map<std::string, std::string> names;  // native user id → name, for mentions

  if (const std::string* users = Entry(*files, "Users.csv")) {
    auto t = csv::Table::Read(*users, {"id"});
    if (!t.ok()) return R::Fail("Data Export, Users.csv: " + t.error().message);
    for (size_t i = 0; i < t->size(); ++i) {
      auto id = Int(t->Get(i, "id"));
      if (!id) continue;
      User u;
      u.network = network;
      u.id = MakeId(network, std::to_string(*id));
      u.name = t->Get(i, "name");
      if (!t->Get(i, "email").empty()) u.email = t->Get(i, "email");
      if (!t->Get(i, "department").empty()) u.department = t->Get(i, "department");
      const std::string& state = t->Get(i, "state");
      if (!t->Get(i, "deleted_at").empty() || state == "deleted" || state == "soft_delete")
        u.state = "deleted";
      else if (!t->Get(i, "suspended_at").empty() || state == "suspended")
        u.state = "suspended";
      u.joined_at = ExportTime(t->Get(i, "joined_at"));
      names[std::to_string(*id)] = u.name;
      out.users.push_back(std::move(u));
    }
  }
  if (const std::string* groups = Entry(*files, "Groups.csv")) {
    auto t = csv::Table::Read(*groups, {"id"});
    if (!t.ok()) return R::Fail("Data Export, Groups.csv: " + t.error().message);
    for (size_t i = 0; i < t->size(); ++i)
      if (auto id = Int(t->Get(i, "id")); id && !IsTrue(t->Get(i, "deleted")))
        out.group_ids.push_back(std::to_string(*id));
  }
  const std::string* messages = Entry(*files, "Messages.csv");
  if (!messages) return R::Fail("Data Export: the archive has no Messages.csv");
  auto t = csv::Table::Read(*messages, {"id", "created_at"});
  if (!t.ok()) return R::Fail("Data Export, Messages.csv: " + t.error().message);
  for (size_t i = 0; i < t->size(); ++i) {
    auto id = Int(t->Get(i, "id"));
    if (!id) {
      ++out.skipped;
      continue;
    }
    out.max_message_id = std::max(out.max_message_id, *id);
    auto created = ExportTime(t->Get(i, "created_at"));
    auto group = Int(t->Get(i, "group_id"));
    bool system = t->Get(i, "message_type") == "system" || t->Get(i, "sender_type") == "System";
    if (!created || system || IsTrue(t->Get(i, "in_private_conversation"))) {
      ++out.skipped;  // private messages and system notices are not community activity
      continue;
    }
    Message m;
    m.network = network;
    m.id = MakeId(network, std::to_string(*id));
    // A message without a group was posted to All Company.
    m.group_id = MakeId(network, group ? std::to_string(*group) : std::string(kAllCompany));
    m.created_at = *created;
    auto reply_to = Int(t->Get(i, "replied_to_id"));
    if (reply_to) m.reply_to_id = MakeId(network, std::to_string(*reply_to));
    m.kind = reply_to ? "reply" : "post";
    auto thread = Int(t->Get(i, "thread_id"));
    m.thread_id = reply_to && thread ? MakeId(network, std::to_string(*thread)) : m.id;
    m.author_id = MakeId(network, t->Get(i, "sender_id"));
    // Mentions are stored as [[user:ID]] references; shown as @Name like the web does.
    const std::string& body = t->Get(i, "body");
    for (const auto& u : MentionsFromParsed(body)) m.mentions.push_back(MakeId(network, u));
    std::string text;
    for (size_t at = 0; at < body.size();) {
      size_t open = body.find("[[user:", at);
      size_t close = open == std::string::npos ? open : body.find("]]", open);
      if (close == std::string::npos) {
        text += body.substr(at);
        break;
      }
      text += body.substr(at, open - at);
      std::string uid = body.substr(open + 7, close - open - 7);
      auto n = names.find(uid);
      text += "@" + (n != names.end() ? n->second : uid);
      at = close + 2;
    }
    m.text = std::move(text);
    m.deleted = !t->Get(i, "deleted_at").empty();
    out.messages.push_back(std::move(m));
  }
  return out;
}

}  // namespace learnloop::connectors::yammer
