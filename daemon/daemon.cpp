#include "daemon/daemon.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "analytics/report.h"
#include "core/crypto.h"
#include "core/log.h"
#include "daemon/store_sink.h"

namespace learnloop::daemon {

namespace {

constexpr auto kDirectoryEvery = std::chrono::hours{24};
constexpr auto kDirectoryRetry = std::chrono::minutes{10};

}  // namespace

Daemon::Daemon(const config::Config& cfg, store::Store& store, Clock& clock)
    : cfg_(cfg), store_(store), clock_(clock) {}

namespace {
// "<network>:rate" in the store's cursors: "running" while a process uses the network, then,
// once it stopped cleanly, "stopped" and its rate budgets on the next line.
std::string RateKey(const std::string& network) { return network + ":rate"; }
constexpr const char* kRunning = "running";
constexpr const char* kStopped = "stopped\n";
}  // namespace

Daemon::~Daemon() {
  if (server_) server_->Stop();  // before the connectors it calls into go away
  // The budgets go to the next process; a kill leaves "running", and it starts conservatively.
  for (auto& n : networks_) {
    try {
      store_.SetCursor(RateKey(n.cfg->name), kStopped + n.built.connector->SaveRateBudgets());
    } catch (const std::exception& e) {
      Logger("daemon")->warn("network {}: rate budgets not kept: {}", n.cfg->name, e.what());
    }
  }
}

Status Daemon::Listen() {
  auto colon = cfg_.listen.rfind(':');
  std::string host = cfg_.listen.substr(0, colon);
  int port = std::stoi(cfg_.listen.substr(colon + 1));
  server_ = std::make_unique<net::HttpServer>();
  // What the ESNs send (notifications, activities) is small: 1 MiB is far more than any; a
  // peer that sends more, or slower than 10 s a request, loses its connection, and the
  // connection idle longest makes room when all 256 are taken.
  net::ServerLimits limits;
  limits.max_connections = 256;
  limits.workers = 4;
  limits.body_limit = [](const std::string&) { return uint64_t{1} << 20; };
  auto bound = server_->Start(
      port, [this](const net::Request& r) { return OnRequest(r); }, host, limits);
  if (!bound.ok()) return Status::Fail("listen " + cfg_.listen + ": " + bound.error().message);
  public_url_ =
      cfg_.public_url.empty() ? "http://" + host + ":" + std::to_string(*bound) : cfg_.public_url;
  while (!public_url_.empty() && public_url_.back() == '/') public_url_.pop_back();
  Logger("daemon")->info("listening on {}:{} (public URL {})", host, *bound, public_url_);
  return Status::Ok();
}

net::Reply Daemon::OnRequest(const net::Request& r) {
  net::Reply rep;
  if (r.path == "/healthz") {
    rep.content_type = "text/plain";
    rep.body = "ok\n";
    // What works only in part: still healthy, but said.
    std::lock_guard lock(degraded_mu_);
    for (const auto& [network, why] : degraded_)
      rep.body += "degraded: network " + network + ": " + why + "\n";
    return rep;
  }
  // The networks that answer this path; where several do (the shared "/api/messages"), those
  // whose subscriptions or bot it concerns.
  std::vector<NetworkState*> serving, chosen;
  for (auto& n : networks_) {
    if (!n.built.push || r.method != "POST") continue;
    auto paths = n.built.push->PushPaths();
    if (std::find(paths.begin(), paths.end(), r.path) != paths.end()) serving.push_back(&n);
  }
  if (serving.size() == 1) chosen = serving;
  for (auto* n : serving.size() > 1 ? serving : std::vector<NetworkState*>{})
    if (n->built.push->ClaimsPush(r)) chosen.push_back(n);
  if (chosen.empty() && !serving.empty()) chosen.push_back(serving.front());  // it says no
  bool wake = false;
  for (auto* n : chosen) {
    net::Reply got = n->built.push->OnPush(r);
    if (n == chosen.front() || got.status >= 500) rep = std::move(got);
    // What was acknowledged is in the store before the answer goes: a kill after it loses
    // nothing (the ESN does not send it again).
    try {
      wake = QueuePushes(*n) || wake;
    } catch (const std::exception& e) {
      Logger("daemon")->error("network {}: cannot keep a push: {}", n->cfg->name, e.what());
      rep = net::Reply{};
      rep.status = 503;  // the ESN sends it again
      rep.body = R"({"error":"store unavailable"})";
      return rep;
    }
    wake = wake || n->built.push->MaintenanceDue();
  }
  if (!chosen.empty()) {
    std::lock_guard lock(on_push_mu_);
    if (on_push_ && wake) on_push_();
    return rep;
  }
  rep.status = 404;
  rep.body = R"({"error":"not found"})";
  return rep;
}

Status Daemon::Start() {
  std::map<std::string, connectors::Poster*> posters;
  for (const auto& nc : cfg_.networks) {
    NetworkState n;
    n.cfg = &nc;
    std::unique_ptr<connectors::http::Client> client;
    if (!nc.archive.empty()) {
      // Every page read from the ESN is kept too (raw archive).
      n.recorder = std::make_unique<connectors::archive::Recorder>(nc.archive, nc.name, clock_);
      client = std::make_unique<connectors::archive::RecordingClient>(
          connectors::http::MakeClient(nc.request_timeout), *n.recorder);
    }
    auto built = connectors::Create(nc, clock_, std::move(client));
    if (!built.ok()) return built.status();
    n.built = std::move(*built);
    n.built.connector->RestoreCursors(LoadCursors(store_, nc.name));
    n.built.connector->RestoreSecrets(LoadSecrets(store_, nc.name));
    // What the process before spent of the rate limits: as it saved it, or, after a kill
    // (still "running"), all of it just now. A first start owes nothing.
    if (auto rate = store_.GetCursor(RateKey(nc.name))) {
      if (rate->rfind(kStopped, 0) == 0)
        n.built.connector->RestoreRateBudgets(rate->substr(std::string(kStopped).size()),
                                              clock_.Now());
      else
        n.built.connector->RestoreRateBudgets(std::nullopt, clock_.Now());
    }
    store_.SetCursor(RateKey(nc.name), kRunning);
    if (n.recorder) {
      n.recorder->Begin({"start", clock_.Now(), false, {}, ""});
      if (auto s = n.recorder->End(); !s.ok()) return s;
    }
    posters[nc.name] = n.built.poster;
    networks_.push_back(std::move(n));
  }
  bot_ = std::make_unique<bot::Bot>(cfg_, store_, clock_, posters);
  for (auto& n : networks_) {
    // Refused credentials stop the start (nothing would work, and the operator must act); any
    // other failure of the directory degrades the network, which is still read, and the sync is
    // tried again later.
    auto s = SyncDirectory(n);
    if (!s.ok() && s.error().code == 401)
      return Status::Fail("network " + n.cfg->name + ": " + s.message(), 401);
    if (!s.ok())
      Logger("daemon")->warn("network {}: directory sync: {} (tried again in 10 minutes)",
                             n.cfg->name, s.message());
  }
  if (!cfg_.listen.empty()) {
    // The listener goes up after the directory sync: pushes name channels it must know.
    if (auto s = Listen(); !s.ok()) return s;
  } else {
    for (auto& n : networks_) n.built.push = nullptr;  // nowhere to be told: polling only
  }
  return Status::Ok();
}

Status Daemon::SyncDirectory(NetworkState& n) {
  StoreSink sink(store_);
  if (n.recorder) n.recorder->Begin({"sync", clock_.Now(), false, {}, ""});
  auto s = n.built.connector->SyncDirectory(sink);
  sink.Flush();
  EndArchivedCall(n);
  NoteDegraded(n);
  SaveSecrets(store_, n.cfg->name, n.built.connector->GetSecrets());
  // A failed sync is tried again soon; a good one once a day.
  n.next_directory_sync =
      clock_.Now() + (s.ok() ? Millis{kDirectoryEvery} : Millis{kDirectoryRetry});
  return s;
}

bool Daemon::QueuePushes(NetworkState& n) {
  if (!n.built.push || !n.built.push->PushPending()) return false;
  store_.QueuePush(n.cfg->name, n.built.push->TakePushed(), clock_.Now());
  pushes_queued_ = true;
  return true;
}

connectors::PollStats Daemon::PollNetwork(NetworkState& n, bool refresh_now, bool pushed_only) {
  // Prompt threads still open (or closed less than a day ago) are followed reply by reply.
  std::vector<std::string> open_threads;
  Time now = clock_.Now();
  for (const auto& p : store_.AllPrompts())
    if (p.network == n.cfg->name && !p.message_id.empty() &&
        (!p.closes_at || *p.closes_at + std::chrono::hours{24} > now))
      open_threads.push_back(p.message_id);
  n.built.connector->FollowThreads(open_threads);
  StoreSink sink(store_);
  connectors::PollStats stats;
  if (pushed_only) {
    // Oldest first, each deleted once what it brought is stored (a kill in between reads it
    // again: every write is an idempotent upsert).
    QueuePushes(n);
    for (const auto& [id, pushed] : store_.QueuedPushes(n.cfg->name)) {
      if (n.recorder) n.recorder->Begin({"pushed", clock_.Now(), false, open_threads, pushed});
      auto one = n.built.push->ReadPushed(pushed, sink);
      sink.Flush();
      EndArchivedCall(n);
      store_.DeletePush(id);
      stats.advanced |= one.advanced;
      stats.messages += one.messages;
      stats.requests += one.requests;
      stats.errors.insert(stats.errors.end(), one.errors.begin(), one.errors.end());
    }
  } else {
    if (n.recorder) n.recorder->Begin({"poll", clock_.Now(), refresh_now, open_threads, ""});
    stats = n.built.connector->Poll(sink, refresh_now);
  }
  sink.Flush();
  if (!pushed_only) EndArchivedCall(n);
  NoteDegraded(n);
  messages_ingested_ += sink.messages();
  // Events are stored before the cursors move: a crash in between only re-reads a page.
  SaveCursors(store_, n.cfg->name, n.built.connector->GetCursors());
  SaveSecrets(store_, n.cfg->name, n.built.connector->GetSecrets());
  if (!pushed_only) n.next_poll = clock_.Now() + n.cfg->poll_interval;
  return stats;
}

void Daemon::NoteDegraded(NetworkState& n) {
  auto now = n.built.connector->Degraded();
  std::lock_guard lock(degraded_mu_);
  std::erase_if(degraded_, [&](const auto& d) { return d.first == n.cfg->name; });
  for (auto& why : now) degraded_.emplace_back(n.cfg->name, std::move(why));
}

std::vector<std::string> Daemon::Degraded() const {
  std::lock_guard lock(degraded_mu_);
  std::vector<std::string> out;
  for (const auto& [network, why] : degraded_) out.push_back("network " + network + ": " + why);
  return out;
}

void Daemon::EndArchivedCall(NetworkState& n) {
  if (!n.recorder) return;
  // The archive is a copy: failing to write it does not stop the daemon, but it is said.
  if (auto s = n.recorder->End(); !s.ok())
    Logger("daemon")->error("network {}: raw archive: {}", n.cfg->name, s.message());
}

void Daemon::Tick() {
  Time now = clock_.Now();
  // Cleared first: a push queued while this tick runs wakes the next one.
  bool queued = pushes_queued_.exchange(false);
  for (auto& n : networks_) {
    if (clock_.Interrupted()) {
      if (queued) pushes_queued_ = true;  // not read yet
      return;
    }
    if (now >= n.next_directory_sync) {
      auto s = SyncDirectory(n);
      if (!s.ok())
        Logger("daemon")->warn("network {}: directory sync: {}", n.cfg->name, s.message());
    }
    // Subscriptions at their time, or at once when the service asked (a lifecycle event).
    if (n.built.push && (now >= n.next_maintenance || n.built.push->MaintenanceDue())) {
      auto s = n.built.push->MaintainSubscriptions(public_url_);
      if (!s.ok())
        Logger("daemon")->warn("network {}: subscriptions: {}", n.cfg->name, s.message());
      auto next = n.built.push->NextMaintenance();
      // A failure is tried again in five minutes.
      n.next_maintenance = s.ok() && next ? std::max(*next, now + std::chrono::minutes{1})
                                          : now + std::chrono::minutes{5};
    }
    if (now >= n.next_poll) PollNetwork(n);
    if (n.built.push && (queued || n.built.push->PushPending())) PollNetwork(n, false, true);
  }
  if (clock_.Interrupted()) return;
  bot_->Tick();
  WriteDueReports();
}

Status Daemon::SyncUntilCaughtUp() {
  for (auto& n : networks_) {
    for (int round = 0; round < 1000; ++round) {
      if (round > 0 && !clock_.SleepFor(std::chrono::minutes{1}))  // one poll per feed per minute
        return Status::Fail("stopped");
      auto stats = PollNetwork(n, round == 0);
      if (!stats.errors.empty()) return Status::Fail(stats.errors.front());
      if (!stats.advanced) break;
    }
  }
  bot_->RecognizeAnswers();
  return Status::Ok();
}

Time Daemon::NextWakeup() const {
  Time now = clock_.Now();
  Time next = now + std::chrono::hours{1};
  for (const auto& n : networks_) {
    next = std::min({next, n.next_poll, n.next_directory_sync});
    if (n.built.push) {
      next = std::min(next, n.next_maintenance);
      if (pushes_queued_ || n.built.push->PushPending() || n.built.push->MaintenanceDue())
        next = now;
    }
  }
  if (auto due = bot_->NextDue()) next = std::min(next, *due);
  for (const auto& item : store_.UnfinishedOutbox())
    next = std::min(next, std::max(item.due_at, now + std::chrono::minutes{1}));
  next = std::min(next, BoundsOf(cfg_.tz, WeekOf(cfg_.tz, now)).to);
  return std::max(next, now + Millis{1});
}

void Daemon::WriteDueReports() {
  Time now = clock_.Now();
  IsoWeek last_ended = WeekOf(cfg_.tz, now).Previous();
  IsoWeek from = last_ended;
  if (auto done = store_.GetCursor("report:last_week"))
    if (auto w = IsoWeek::Parse(*done)) {
      if (*w >= last_ended) return;
      from = w->Next();
    }
  for (IsoWeek w = from; w <= last_ended; w = w.Next()) {
    std::string digest;
    auto paths = WriteWeeklyReports(cfg_, store_, w, now, &digest);
    if (!paths.ok()) {
      Logger("daemon")->error("report {}: {}", w.ToString(), paths.error().message);
      return;
    }
    written_reports_.insert(written_reports_.end(), paths->begin(), paths->end());
    store_.Transaction([&] {
      if (!cfg_.digest_network.empty()) {
        // The digest for the leaders' community: posted once (its own key), in the morning.
        store::OutboxItem item;
        item.key = "digest:" + w.ToString();
        item.network = cfg_.digest_network;
        item.group_id = cfg_.digest_community;
        item.body = digest;
        Time monday = BoundsOf(cfg_.tz, w).to;
        item.due_at = LocalToUtc(
            cfg_.tz, UtcToLocal(cfg_.tz, monday) + std::chrono::minutes{cfg_.digest_minute});
        store_.EnqueueOutbox(item);
      }
      store_.SetCursor("report:last_week", w.ToString());
    });
  }
}

analytics::ReportOptions ReportOptionsFor(const config::Config& cfg, store::Store& store) {
  analytics::ReportOptions o;
  o.tz = cfg.tz;
  o.timezone_name = cfg.timezone;
  o.min_group_size = cfg.min_group_size;
  if (!cfg.pseudonym_key.empty()) {
    o.pseudonym_key = cfg.pseudonym_key.Reveal();
  } else {
    auto kept = store.GetSecret("privacy:pseudonym_key");
    if (!kept) {
      kept = crypto::RandomHex(32);
      store.SetSecret("privacy:pseudonym_key", *kept);
    }
    o.pseudonym_key = *kept;
  }
  return o;
}

Result<std::vector<std::string>> WriteWeeklyReports(const config::Config& cfg, store::Store& store,
                                                    IsoWeek week, Time as_of, std::string* digest) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(cfg.report_dir, ec);
  if (ec)
    return Result<std::vector<std::string>>::Fail("cannot create " + cfg.report_dir + ": " +
                                                  ec.message());
  auto data = analytics::Columns::Load(store);
  auto report = analytics::ComputeWeekly(data, week, as_of, ReportOptionsFor(cfg, store));
  if (digest) *digest = analytics::RenderDigest(report, cfg.digest_link);
  std::vector<std::pair<std::string, std::string>> files;  // name → text
  for (const auto& f : cfg.report_formats) {
    std::string base = "learnloop-" + week.ToString();
    if (f == "csv") {
      for (auto& [table, text] : analytics::RenderCsv(report))
        files.emplace_back(base + "-" + table + ".csv", std::move(text));
      continue;
    }
    files.emplace_back(base + "." + f, f == "json" ? analytics::RenderJson(report)
                                       : f == "md" ? analytics::RenderMarkdown(report)
                                                   : analytics::RenderHtml(report));
  }
  std::vector<std::string> paths;
  for (const auto& [name, text] : files) {
    fs::path p = fs::path(cfg.report_dir) / name;
    fs::path tmp = p;
    tmp += ".tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out << text;
      if (!out) return Result<std::vector<std::string>>::Fail("cannot write " + tmp.string());
    }
    fs::rename(tmp, p, ec);
    if (ec)
      return Result<std::vector<std::string>>::Fail("cannot write " + p.string() + ": " +
                                                    ec.message());
    paths.push_back(p.string());
  }
  return paths;
}

}  // namespace learnloop::daemon
