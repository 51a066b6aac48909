#include "sim/data_export.h"

#include <algorithm>

#include "core/compress.h"
#include "core/csv.h"
#include "core/time.h"

namespace learnloop::sim {

namespace {

const char* const kApi = "https://www.yammer.com/api/v1";

SimReply Fail(int status, const std::string& message) {
  SimReply r;
  r.status = status;
  r.body = R"({"response":{"message":")" + message + R"(","stat":"fail"}})";
  return r;
}

// Times as ISO 8601 in UTC with milliseconds (the exact export format is not documented).
std::string When(std::optional<Time> t) { return t ? FormatIso(*t) : ""; }

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t at; (at = s.find(sep, start)) != std::string::npos; start = at + 1)
    out.push_back(s.substr(start, at - start));
  out.push_back(s.substr(start));
  return out;
}

std::string Id(int64_t id) { return id ? std::to_string(id) : ""; }

}  // namespace

SimReply DataExport(const World& world, const SimRequest& r, bool admin) {
  if (!admin) return Fail(403, "Only verified admins can export network data.");
  auto since = ParseIso(r.Query("since"));
  if (!since) return Fail(400, "since is required: an ISO 8601 time");
  Time until = world.Now();
  if (!r.Query("until").empty()) {
    auto u = ParseIso(r.Query("until"));
    if (!u) return Fail(400, "until must be an ISO 8601 time");
    until = std::min(until, *u);
  }
  // model=… may repeat (the parsed query keeps one value).
  std::vector<std::string> models;
  for (const auto& part : Split(r.raw_query, '&'))
    if (part.rfind("model=", 0) == 0) models.push_back(part.substr(6));
  auto wanted = [&](const char* m) {
    return models.empty() || std::find(models.begin(), models.end(), m) != models.end();
  };

  std::vector<ZipEntry> files;
  if (wanted("Message")) {
    std::string out = csv::Row({"id",
                                "replied_to_id",
                                "thread_id",
                                "conversation_id",
                                "group_id",
                                "group_name",
                                "participants",
                                "in_private_group",
                                "in_private_conversation",
                                "sender_id",
                                "sender_type",
                                "sender_name",
                                "sender_email",
                                "body",
                                "api_url",
                                "attachments",
                                "deleted_by_id",
                                "deleted_by_type",
                                "created_at",
                                "deleted_at"});
    const auto& msgs = world.messages();
    for (size_t idx : world.YammerVisible()) {
      const Msg& m = msgs[idx];
      if (m.id == 0 || m.system || m.created_at < *since || m.created_at >= until) continue;
      const Person* p = world.FindPerson(m.sender);
      const Community* c = world.FindCommunity(m.group);
      if (c && c->company_wide) c = nullptr;  // All Company messages have no group
      bool deleted = m.deleted_at && *m.deleted_at < until;
      std::string body = world.Text(m);
      if (m.mention)
        if (const Person* who = world.FindPerson(m.mention))
          body += " [[user:" + std::to_string(who->id) + "]]";  // references, as stored
      out += csv::Row({Id(m.id),
                       m.parent == SIZE_MAX ? "" : Id(msgs[m.parent].id),
                       Id(msgs[m.thread].id),
                       "",
                       c ? Id(m.group) : "",
                       c ? c->full_name : "",
                       "",
                       "false",
                       "false",
                       Id(m.sender),
                       "User",
                       p ? p->first + " " + p->last : "",
                       p ? p->email : "",
                       body,
                       std::string(kApi) + "/messages/" + std::to_string(m.id),
                       "",
                       deleted ? Id(m.sender) : "",
                       deleted ? "User" : "",
                       When(m.created_at),
                       deleted ? When(m.deleted_at) : ""});
    }
    files.push_back({"Messages.csv", std::move(out)});
  }
  if (wanted("User")) {
    std::string out = csv::Row({"id", "name", "email", "job_title", "location", "department",
                                "api_url", "joined_at", "deleted_at", "suspended_at", "state"});
    for (const auto& p : world.people())
      out += csv::Row({Id(p.id), p.first + " " + p.last, p.email, p.bot ? "Service account" : "",
                       "", p.department, std::string(kApi) + "/users/" + std::to_string(p.id),
                       When(p.activated_at), "", "", p.state});
    files.push_back({"Users.csv", std::move(out)});
  }
  if (wanted("Group")) {
    std::string out = csv::Row({"id", "name", "description", "private", "deleted", "creator_id",
                                "creator_type", "created_at", "updated_at", "api_url"});
    for (const auto& c : world.communities()) {
      if (c.IsChannel() || c.company_wide) continue;
      out += csv::Row({Id(c.id), c.full_name, c.description, "false", "false", "", "",
                       When(c.created_at), When(c.created_at),
                       std::string(kApi) + "/groups/" + std::to_string(c.id)});
    }
    files.push_back({"Groups.csv", std::move(out)});
  }
  if (wanted("Topic")) files.push_back({"Topics.csv", csv::Row({"id", "name", "api_url"})});
  if (wanted("Admin")) {
    const Person& b = world.bot();
    files.push_back({"Admins.csv",
                     csv::Row({"id", "name", "email", "admin_type"}) +
                         csv::Row({Id(b.id), b.first + " " + b.last, b.email, "verified_admin"})});
  }
  auto zip = MakeZip(files);
  if (!zip.ok()) return Fail(500, "export failed");
  SimReply rep;
  rep.body = std::move(*zip);
  rep.content_type = "application/zip";
  rep.headers.push_back({"Content-Disposition", "attachment; filename=\"export.zip\""});
  return rep;
}

}  // namespace learnloop::sim
