#include "daemon/admin.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "analytics/report.h"
#include "bot/bot.h"
#include "core/heartbeat.h"
#include "core/json.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/systemd.h"
#include "daemon/actions.h"
#include "daemon/daemon.h"

namespace learnloop::daemon {

namespace {

net::Reply JsonReply(int status, const std::string& body) {
  net::Reply r;
  r.status = status;
  r.body = body;
  return r;
}

net::Reply Error(int status, const std::string& message) {
  json::Writer w;
  w.BeginObject().Key("error").String(message).EndObject();
  return JsonReply(status, w.str() + "\n");
}

std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> parts;
  std::stringstream ss(path);
  for (std::string p; std::getline(ss, p, '/');)
    if (!p.empty()) parts.push_back(p);
  return parts;
}

std::string ContentTypeOf(const std::string& file) {
  auto ends = [&](const char* ext) {
    std::string e = ext;
    return file.size() >= e.size() && file.compare(file.size() - e.size(), e.size(), e) == 0;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".json")) return "application/json; charset=utf-8";
  if (ends(".csv")) return "text/csv; charset=utf-8";
  if (ends(".md")) return "text/markdown; charset=utf-8";
  return "application/octet-stream";
}

}  // namespace

int CheckBearer(const std::string& authorization, const std::string& token) {
  const std::string prefix = "Bearer ";
  if (authorization.size() <= prefix.size() || authorization.compare(0, prefix.size(), prefix) != 0)
    return 401;
  if (token.empty()) return 403;
  std::string given = authorization.substr(prefix.size());
  // Constant time over the configured token's length, whatever was given.
  std::string padded = given;
  padded.resize(token.size(), '\0');
  bool same = CRYPTO_memcmp(padded.data(), token.data(), token.size()) == 0;
  return same && given.size() == token.size() ? 0 : 403;
}

bool AdminApi::Serves(const std::string& path) {
  return path == "/healthz" || path == "/readyz" || path == "/metrics" ||
         path.rfind("/api/v1/", 0) == 0 || path == "/api/v1";
}

std::chrono::milliseconds AdminApi::StuckAfter() {
  if (auto w = systemd::WatchdogInterval())
    return std::chrono::duration_cast<std::chrono::milliseconds>(*w);
  return std::chrono::seconds{90};
}

net::Reply AdminApi::Handle(const net::Request& r) {
  if (r.path == "/healthz") return Health();
  if (r.path == "/readyz") return Ready();
  if (r.path == "/metrics") return Metrics();
  return Api(r);
}

net::Reply AdminApi::Health() {
  net::Reply rep;
  rep.content_type = "text/plain; charset=utf-8";
  auto stalled = heartbeat::Stalled();
  if (stalled > StuckAfter()) {
    rep.status = 503;
    rep.body = "stuck: the loop has not moved for " +
               std::to_string(std::chrono::duration_cast<std::chrono::seconds>(stalled).count()) +
               " s (" + d_.Activity() + ")\n";
    return rep;
  }
  rep.body = "ok\n";
  // What works only in part: still healthy, but said.
  for (const auto& why : d_.Degraded()) rep.body += "degraded: " + why + "\n";
  return rep;
}

net::Reply AdminApi::Ready() {
  auto missing = d_.NotReady();
  json::Writer w;
  w.BeginObject().Key("ready").Bool(missing.empty());
  w.Key("not_ready").BeginArray();
  for (const auto& m : missing) w.String(m);
  w.EndArray();
  w.Key("degraded").BeginArray();
  for (const auto& m : d_.Degraded()) w.String(m);
  w.EndArray().EndObject();
  return JsonReply(missing.empty() ? 200 : 503, w.str() + "\n");
}

net::Reply AdminApi::Metrics() {
  d_.RefreshMetrics();
  net::Reply rep;
  rep.content_type = "text/plain; version=0.0.4; charset=utf-8";
  rep.body = metrics::Render();
  return rep;
}

net::Reply AdminApi::Api(const net::Request& r) {
  const auto& cfg = d_.config();
  if (int denied = CheckBearer(r.Header("authorization"), cfg.admin.token.Reveal())) {
    auto rep = Error(denied, denied == 401 ? "a bearer token is required"
                             : cfg.admin.token.empty()
                                 ? "the admin API is off: the configuration gives no admin.token"
                                 : "wrong token");
    if (denied == 401) rep.headers.push_back({"WWW-Authenticate", "Bearer"});
    Logger("admin")->info("{} {}: {}", r.method, r.path, denied);
    return rep;
  }
  auto parts = Split(r.path);  // api, v1, …
  if (parts.size() < 3) return Error(404, "not found");
  const std::string& what = parts[2];
  auto logged = [&](const ActionOutcome& o) {
    Logger("admin")->info("{} {}: {}", r.method, r.path, o.message);
    json::Writer w;
    w.BeginObject().Key("ok").Bool(o.ok()).Key(o.ok() ? "message" : "error").String(o.message);
    if (!o.warning.empty()) w.Key("warning").String(o.warning);
    w.EndObject();
    if (o.ok()) d_.Wake();
    return JsonReply(o.status, w.str() + "\n");
  };
  if (what == "campaigns") {
    if (parts.size() == 3) {
      if (r.method != "GET") return Error(405, "GET the list");
      return Campaigns();
    }
    if (parts.size() != 5) return Error(404, "not found");
    if (r.method != "POST") return Error(405, "POST an action");
    return logged(CampaignAction(cfg, d_.store(), d_.clock(), parts[4], parts[3]));
  }
  if (what == "people") {
    if (parts.size() != 5) return Error(404, "not found");
    if (r.method != "POST") return Error(405, "POST an action");
    if (parts[4] == "forget") return logged(Forget(cfg, d_.store(), d_.clock(), parts[3]));
    return logged(PeopleAction(d_.store(), parts[4], parts[3]));
  }
  if (what == "reports") {
    if (r.method != "GET") return Error(405, "GET a report");
    if (parts.size() == 3) return Reports("", "");
    if (parts.size() == 4) return Reports(parts[3], r.Query("format", "json"));
    return Error(404, "not found");
  }
  return Error(404, "not found");
}

net::Reply AdminApi::Campaigns() {
  const auto& cfg = d_.config();
  bot::Bot b(cfg, d_.store(), d_.clock(), {});
  json::Writer w;
  w.BeginObject().Key("campaigns").BeginArray();
  for (const auto& c : cfg.campaigns) {
    w.BeginObject().Key("name").String(c.name).Key("network").String(c.network);
    w.Key("communities").BeginArray();
    for (const auto& g : c.communities) w.String(g);
    w.EndArray();
    w.Key("schedule")
        .String(c.schedule_text)
        .Key("steps")
        .Int(static_cast<int64_t>(c.steps.size()));
    auto paused = b.Paused(c);
    auto prompts = d_.store().PromptsOf(c.name);
    if (!paused.ok() || !prompts.ok())
      return Error(503, "the store: " + (paused.ok() ? prompts.error() : paused.error()).message);
    w.Key("paused").Bool(*paused).Key("prompts_posted");
    w.Int(static_cast<int64_t>(prompts->size()));
    w.EndObject();
  }
  w.EndArray().EndObject();
  return JsonReply(200, w.str() + "\n");
}

net::Reply AdminApi::Reports(const std::string& name, const std::string& format) {
  namespace fs = std::filesystem;
  const auto& dir = d_.config().report_dir;
  if (name.empty()) {
    std::vector<std::string> files;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.is_regular_file() && e.path().filename().string().rfind("learnloop-", 0) == 0 &&
          e.path().extension() != ".tmp")
        files.push_back(e.path().filename().string());
    std::sort(files.begin(), files.end());
    json::Writer w;
    w.BeginObject().Key("reports").BeginArray();
    for (const auto& f : files) {
      std::error_code size_ec;
      auto size = fs::file_size(fs::path(dir) / f, size_ec);
      w.BeginObject().Key("file").String(f).Key("week").String(f.substr(10, 8));
      w.Key("bytes").Int(size_ec ? 0 : static_cast<int64_t>(size)).EndObject();
    }
    w.EndArray().EndObject();
    return JsonReply(200, w.str() + "\n");
  }
  // A week (2026-W47, with ?format=) or one of the files the list names.
  std::string file = name;
  if (IsoWeek::Parse(name)) {
    if (format != "json" && format != "md" && format != "html")
      return Error(400, "format is json, md or html (csv: fetch one of the listed files)");
    file = "learnloop-" + name + "." + format;
  }
  if (file.find('/') != std::string::npos || file.rfind("learnloop-", 0) != 0 ||
      file.find("..") != std::string::npos)
    return Error(404, "no such report");
  std::ifstream in(fs::path(dir) / file, std::ios::binary);
  if (!in) return Error(404, "no report " + file + " (has its week ended?)");
  std::stringstream ss;
  ss << in.rdbuf();
  net::Reply rep;
  rep.content_type = ContentTypeOf(file);
  rep.body = ss.str();
  return rep;
}

}  // namespace learnloop::daemon
