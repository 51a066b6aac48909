#include "daemon/daemon.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>

#include "analytics/report.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/systemd.h"
#include "daemon/admin.h"
#include "daemon/store_sink.h"

namespace learnloop::daemon {

namespace {

constexpr auto kDirectoryEvery = std::chrono::hours{24};
constexpr auto kDirectoryRetry = std::chrono::minutes{10};

}  // namespace

Daemon::Daemon(const config::Config& cfg, store::Store& store, Clock& clock)
    : cfg_(&cfg), store_(store), clock_(clock) {
  // Every metric the daemon and its parts report (docs/operations.md, "Monitoring").
  static const char* const kMetrics[][3] = {
      {"learnloop_build_info", "gauge",
       "learnloop's version and metric definitions version (always 1)"},
      {"learnloop_esn_requests_total", "counter",
       "Requests sent to the ESN, by network, endpoint class and HTTP status"},
      {"learnloop_esn_throttled_total", "counter",
       "429 answers of the ESN, by network and endpoint class"},
      {"learnloop_esn_wait_seconds_total", "counter",
       "Time spent waiting before requests: rate budget, 429 Retry-After, back-off"},
      {"learnloop_events_ingested_total", "counter",
       "Users, groups, messages, reactions and card presses stored, by kind"},
      {"learnloop_poll_lag_seconds", "gauge", "Time since each network's last successful poll"},
      {"learnloop_last_success_timestamp_seconds", "gauge",
       "Unix time of the last success: poll, directory sync, report"},
      {"learnloop_outbox_items", "gauge",
       "Items of the outbox by state (pending, sending, posted, failed)"},
      {"learnloop_prompts_open", "gauge", "Prompts posted and not closed yet"},
      {"learnloop_answers_recognised", "gauge", "Answers to prompts the store holds"},
      {"learnloop_report_runs_total", "counter", "Weekly reports written, by result"},
      {"learnloop_report_duration_seconds", "gauge",
       "How long the last weekly report took to compute and write"},
      {"learnloop_network_ready", "gauge",
       "1 when the network's directory is synced and its feeds are polled in time"},
      {"learnloop_pushes_queued", "gauge",
       "Pushes (notifications, activities) taken and not yet read"}};
  for (const auto& m : kMetrics) metrics::Describe(m[0], m[1], m[2]);
  metrics::Set(
      "learnloop_build_info",
      {{"version", kVersion}, {"definitions", std::to_string(analytics::kDefinitionsVersion)}}, 1);
}

namespace {
double UnixSeconds(Time t) { return std::chrono::duration<double>(t.time_since_epoch()).count(); }

// When a long read says how far it is: at most every 10 s.
class ProgressClock {
 public:
  double Seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  }
  // The seconds since the start when a line is due.
  std::optional<double> Due() {
    auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::seconds{10}) return std::nullopt;
    last_ = now;
    return std::chrono::duration<double>(now - started_).count();
  }

 private:
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now(),
                                        last_ = started_;
};

// "1,234" for a log line.
std::string Thousands(int64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > (n < 0 ? 1 : 0); i -= 3) s.insert(i, ",");
  return s;
}
}  // namespace

Daemon::~Daemon() {
  if (admin_server_) admin_server_->Stop();
  if (server_) server_->Stop();  // before the connectors it calls into go away
  for (auto& n : networks_) SaveRateBudget(n);
}

void Daemon::SaveRateBudget(NetworkState& n) {
  // The budgets go to the next process; a kill leaves "running", and it starts conservatively.
  if (auto s = store_.SetNetworkRun(n.cfg->name, {false, n.built.connector->SaveRateBudgets()});
      !s.ok())
    Logger("daemon")->warn("network {}: rate budgets not kept: {}", n.cfg->name, s.message());
}

void Daemon::Park(NetworkState& n) {
  Status s = SaveCursors(store_, n.cfg->name, n.built.connector->GetCursors());
  if (s.ok()) s = SaveSecrets(store_, n.cfg->name, n.built.connector->GetSecrets());
  if (!s.ok())  // the next connector reads again what this one had read
    Logger("daemon")->warn("network {}: cursors not kept: {}", n.cfg->name, s.message());
  SaveRateBudget(n);
}

namespace {
// host and port of "host:port".
std::pair<std::string, int> HostPort(const std::string& listen) {
  auto colon = listen.rfind(':');
  return {listen.substr(0, colon), std::stoi(listen.substr(colon + 1))};
}
}  // namespace

Status Daemon::Listen() {
  admin_ = std::make_unique<AdminApi>(*this);
  const auto& admin = cfg_->admin;
  bool shared = !admin.listen.empty() && admin.listen == cfg_->listen;
  if (!cfg_->listen.empty()) {
    auto [host, port] = HostPort(cfg_->listen);
    server_ = std::make_unique<net::HttpServer>();
    // What the ESNs send (notifications, activities) is small: 1 MiB is far more than any; a
    // peer that sends more, or slower than 10 s a request, loses its connection, and the
    // connection idle longest makes room when all 256 are taken.
    net::ServerLimits limits;
    limits.max_connections = 256;
    limits.workers = 4;
    limits.body_limit = [](const std::string&) { return uint64_t{1} << 20; };
    if (shared) limits.tls_cert_file = admin.tls_cert, limits.tls_key_file = admin.tls_key;
    auto bound = server_->Start(
        port, [this](const net::Request& r) { return OnRequest(r); }, host, limits);
    if (!bound.ok()) return Status::Fail("listen " + cfg_->listen + ": " + bound.error().message);
    public_url_ = cfg_->public_url.empty() ? "http://" + host + ":" + std::to_string(*bound)
                                           : cfg_->public_url;
    while (!public_url_.empty() && public_url_.back() == '/') public_url_.pop_back();
    listening_ = host + ":" + std::to_string(*bound);
    Logger("daemon")->info("listening on {} (public URL {}{})", listening_, public_url_,
                           shared ? ", admin too" : "");
    if (shared) {
      admin_port_ = *bound;
      admin_listening_ = listening_;
    }
  }
  if (!admin.listen.empty() && !shared) {
    auto [host, port] = HostPort(admin.listen);
    admin_server_ = std::make_unique<net::HttpServer>();
    net::ServerLimits limits;
    limits.max_connections = 64;
    limits.workers = 2;
    limits.body_limit = [](const std::string&) { return uint64_t{64} << 10; };
    limits.tls_cert_file = admin.tls_cert;
    limits.tls_key_file = admin.tls_key;
    auto bound = admin_server_->Start(
        port,
        [this](const net::Request& r) {
          std::shared_lock lock(networks_mu_);
          if (!AdminApi::Serves(r.path)) {
            net::Reply rep;
            rep.status = 404;
            rep.body = R"({"error":"not found"})";
            return rep;
          }
          return admin_->Handle(r);
        },
        host, limits);
    if (!bound.ok()) {
      admin_server_.reset();
      std::string why = "admin listener " + admin.listen + ": " + bound.error().message;
      // The default address may be taken (another learnloop): said, and the daemon goes on.
      if (admin.listen_given) return Status::Fail(why + " (admin.listen)");
      Logger("daemon")->warn("{}; no health, readiness or metrics (set admin.listen)", why);
    } else {
      admin_port_ = *bound;
      admin_listening_ = host + ":" + std::to_string(*bound);
      Logger("daemon")->info("admin listener on {}{} (/healthz /readyz /metrics /api/v1/)",
                             admin.tls_cert.empty() ? "http://" : "https://", admin_listening_);
    }
  }
  return Status::Ok();
}

net::Reply Daemon::OnRequest(const net::Request& r) {
  net::Reply rep;
  std::shared_lock networks_lock(networks_mu_);
  if (r.path == "/healthz") return admin_->Health();
  if (admin_listening_ == listening_ && AdminApi::Serves(r.path)) return admin_->Handle(r);
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
    if (!n->directory_synced && !n->built.push->IsHandshake(r)) {
      // Pushes name channels and people of the directory, not read yet: the ESN sends again.
      rep = net::Reply{};
      rep.status = 503;
      rep.headers.push_back({"Retry-After", "30"});
      rep.body = R"({"error":"starting: the directory is not read yet"})";
      return rep;
    }
    net::Reply got = n->built.push->OnPush(r);
    if (n == chosen.front() || got.status >= 500) rep = std::move(got);
    // What was acknowledged is in the store before the answer goes: a kill after it loses
    // nothing (the ESN does not send it again).
    if (auto queued = QueuePushes(*n); queued.ok()) {
      wake = *queued || wake;
    } else {
      Logger("daemon")->error("network {}: cannot keep a push: {}", n->cfg->name,
                              queued.error().message);
      rep = net::Reply{};
      rep.status = 503;  // the ESN sends it again
      rep.body = R"({"error":"store unavailable"})";
      return rep;
    }
    wake = wake || n->built.push->MaintenanceDue();
  }
  if (!chosen.empty()) {
    if (wake) Wake();
    return rep;
  }
  rep.status = 404;
  rep.body = R"({"error":"not found"})";
  return rep;
}

void Daemon::Wake() {
  std::lock_guard lock(on_push_mu_);
  if (on_push_) on_push_();
}

Result<NetworkState> Daemon::BuildNetwork(const config::NetworkConfig& nc) {
  NetworkState n;
  n.cfg = &nc;
  std::unique_ptr<connectors::http::Client> client;
  if (!nc.archive.empty()) {
    // Every page read from the ESN is kept too (raw archive).
    n.recorder = std::make_unique<connectors::archive::Recorder>(nc.archive, nc.name, clock_);
    client = std::make_unique<connectors::archive::RecordingClient>(
        connectors::http::MakeClient(nc.request_timeout), *n.recorder);
  }
  auto made = connectors::Create(nc, clock_, std::move(client));
  if (!made.ok()) return Result<NetworkState>::Fail(made.error().message, made.error().code);
  n.built = std::move(*made);
  LL_ASSIGN_OR_RETURN(auto cursors, LoadCursors(store_, nc.name));
  n.built.connector->RestoreCursors(cursors);
  LL_ASSIGN_OR_RETURN(auto secrets, LoadSecrets(store_, nc.name));
  n.built.connector->RestoreSecrets(secrets);
  // What the process before spent of the rate limits: as it saved it, or, after a kill
  // (still "running"), all of it just now. A first start owes nothing.
  LL_ASSIGN_OR_RETURN(auto run, store_.GetNetworkRun(nc.name));
  if (run)
    n.built.connector->RestoreRateBudgets(run->running ? std::nullopt : run->rate_budgets,
                                          clock_.Now());
  LL_TRY(store_.SetNetworkRun(nc.name, {true, std::nullopt}));
  if (n.recorder) {
    n.recorder->Begin({"start", clock_.Now(), false, {}, ""});
    if (auto s = n.recorder->End(); !s.ok())
      return Result<NetworkState>::Fail(s.message(), s.error().code);
  }
  if (cfg_->listen.empty()) n.built.push = nullptr;  // nowhere to be told: polling only
  return n;
}

void Daemon::BuildBot() {
  std::map<std::string, connectors::Poster*> posters;
  for (auto& n : networks_) posters[n.cfg->name] = n.built.poster;
  bot_ = std::make_unique<bot::Bot>(*cfg_, store_, clock_, posters);
}

Status Daemon::Open() {
  for (const auto& nc : cfg_->networks) {
    auto n = BuildNetwork(nc);
    if (!n.ok()) return n.status();
    networks_.push_back(std::move(*n));
  }
  BuildBot();
  NoteReadiness();  // not ready: nothing is read yet
  return Listen();
}

Status Daemon::Start() {
  if (auto s = Open(); !s.ok()) return s;
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
  return Status::Ok();
}

namespace {
// Everything of a network's configuration, so that an unchanged network keeps its connector
// (and what it knows) across a reload; a hash, as it holds the secrets.
std::string Fingerprint(const config::NetworkConfig& n) {
  std::string f =
      n.name + "\n" + n.type + "\n" + n.archive + "\n" + std::to_string(n.poll_interval.count()) +
      "\n" + std::to_string(n.request_timeout.count()) + "\n" +
      std::to_string(n.rate_limit_requests) + "\n" + std::to_string(n.rate_limit_window.count()) +
      "\n" + std::to_string(n.private_messages) + "\n" +
      (n.backfill_since ? FormatIso(*n.backfill_since) : "") + "\n";
  return crypto::Sha256Hex(f + n.settings.Canonical());
}
}  // namespace

void Daemon::Reload(std::unique_ptr<config::Config> next) {
  auto log = Logger("daemon");
  const config::Config& old = *cfg_;
  // What only a restart changes.
  if (next->store_path != old.store_path)
    log->warn("reload: store.path changed: the store in use stays until a restart");
  if (next->listen != old.listen || next->public_url != old.public_url)
    log->warn("reload: server.listen/public_url changed: they take effect at a restart");
  if (next->admin.listen != old.admin.listen || next->admin.tls_cert != old.admin.tls_cert ||
      next->admin.tls_key != old.admin.tls_key)
    log->warn("reload: admin.listen/tls_cert/tls_key changed: they take effect at a restart");
  next->listen = old.listen;
  next->public_url = old.public_url;
  next->store_path = old.store_path;
  next->admin.listen = old.admin.listen;
  next->admin.listen_given = old.admin.listen_given;
  next->admin.tls_cert = old.admin.tls_cert;
  next->admin.tls_key = old.admin.tls_key;
  SetLogLevel(next->log_level);
  SetLogFormat(next->log_format);

  std::unique_lock lock(networks_mu_);  // no push or admin call meanwhile
  std::map<std::string, NetworkState> before;
  for (auto& n : networks_) before.emplace(n.cfg->name, std::move(n));
  networks_.clear();
  cfg_ = next.get();
  int kept = 0, made = 0, dropped = 0;
  for (const auto& nc : cfg_->networks) {
    auto it = before.find(nc.name);
    if (it != before.end() && Fingerprint(*it->second.cfg) == Fingerprint(nc)) {
      // Unchanged: the same connector goes on (it reads its settings from the older file,
      // which stays in memory).
      networks_.push_back(std::move(it->second));
      before.erase(it);
      ++kept;
      continue;
    }
    if (it != before.end()) {
      // Changed: its state goes to the store, and a new connector starts from there.
      Park(it->second);
      before.erase(it);
    }
    auto n = BuildNetwork(nc);
    if (!n.ok()) {
      log->error("reload: network {}: {}; it is not read until the next reload", nc.name,
                 n.error().message);
      continue;
    }
    n->added_by_reload = true;
    networks_.push_back(std::move(*n));
    ++made;
  }
  for (auto& [name, o] : before) {
    Park(o);
    ++dropped;
  }
  before.clear();
  {
    std::lock_guard degraded_lock(degraded_mu_);
    std::erase_if(degraded_, [&](const auto& d) {
      return std::none_of(networks_.begin(), networks_.end(),
                          [&](const NetworkState& n) { return n.cfg->name == d.first; });
    });
  }
  BuildBot();
  reloaded_.push_back(std::move(next));
  pushes_queued_ = true;
  log->info("reloaded {}: {} campaign(s); networks: {} unchanged, {} new or changed, {} removed",
            cfg_->file, cfg_->campaigns.size(), kept, made, dropped);
}

std::optional<std::string> Daemon::Fatal() const {
  std::lock_guard lock(state_mu_);
  return fatal_;
}

void Daemon::SetActivity(std::string what) {
  std::lock_guard lock(state_mu_);
  activity_ = std::move(what);
}

void Daemon::SayProgress(const std::string& line) {
  Logger("daemon")->info("{}", line);
  SetActivity(line);
  systemd::Status(line);
}

std::string Daemon::Activity() const {
  std::lock_guard lock(state_mu_);
  return activity_.empty() ? "waiting" : activity_;
}

namespace {
std::string SchemaText(store::Store& s) {
  auto v = s.SchemaVersion();
  return v.ok() ? std::to_string(*v) : "unreadable: " + v.error().message;
}
}  // namespace

std::string Daemon::Banner() const {
  std::string s = "learnloop " + std::string(kVersion) + " starting: config " +
                  (cfg_->file.empty() ? "(built in)" : cfg_->file) + ", store " + cfg_->store_path +
                  " (schema " + SchemaText(store_) + "), networks:";
  for (const auto& n : cfg_->networks)
    s += " " + n.name + " (" + n.type +
         (n.kind && n.kind->scope ? ", " + n.kind->scope(n.settings) : std::string()) + ")";
  if (cfg_->networks.empty()) s += " none";
  s += ", campaigns: " + std::to_string(cfg_->campaigns.size());
  for (size_t i = 0; i < cfg_->campaigns.size() && i < 5; ++i)
    s += (i ? ", " : " (") + cfg_->campaigns[i].name;
  if (cfg_->campaigns.size() > 5) s += ", …";
  if (!cfg_->campaigns.empty()) s += ")";
  s += ", listeners: admin " + (admin_listening_.empty() ? std::string("off") : admin_listening_) +
       ", public " + (listening_.empty() ? std::string("off") : listening_);
  return s;
}

std::vector<std::string> Daemon::Unfinished() {
  std::vector<std::string> out;
  std::string doing = Activity();
  if (doing != "waiting")
    out.push_back("interrupted: " + doing + " (goes on from the store at the next start)");
  Time now = clock_.Now();
  auto unfinished = store_.UnfinishedOutbox();
  auto t = store_.Count(now);
  if (!unfinished.ok() || !t.ok()) {
    out.push_back("the store cannot be read: " +
                  (unfinished.ok() ? t.error() : unfinished.error()).message);
    return out;
  }
  for (const auto& item : *unfinished) {
    if (item.due_at > now + std::chrono::hours{1}) continue;
    out.push_back("outbox " + item.key + ": " + item.state + ", due " + FormatIso(item.due_at) +
                  (item.last_error.empty() ? "" : ", last error: " + item.last_error) +
                  " (sent at the next start)");
  }
  if (t->pushes_queued > 0)
    out.push_back(std::to_string(t->pushes_queued) +
                  " push(es) taken and not read yet (read at the next start)");
  return out;
}

std::vector<std::string> Daemon::NotReady() {
  // Whether the store takes a write, tried at most every 10 s: a probe each second is not a
  // write each second.
  bool probe = false;
  {
    auto steady = std::chrono::steady_clock::now();
    std::lock_guard lock(state_mu_);
    if (last_write_probe_ == std::chrono::steady_clock::time_point{} ||
        steady - last_write_probe_ >= std::chrono::seconds{10}) {
      last_write_probe_ = steady;
      probe = true;
    }
  }
  if (probe) {
    Status written = store_.ProbeWrite(clock_.Now());
    std::lock_guard lock(state_mu_);
    write_probe_error_ = written.message();
  }
  std::vector<std::string> out;
  std::lock_guard lock(state_mu_);
  if (!write_probe_error_.empty()) out.push_back("store: not writable: " + write_probe_error_);
  if (fatal_) out.push_back("stopping: " + *fatal_);
  out.insert(out.end(), not_ready_.begin(), not_ready_.end());
  return out;
}

void Daemon::RefreshMetrics() {
  Time now = clock_.Now();
  // From the metrics the loop sets (its own state is its thread's).
  for (const auto& n : cfg_->networks) {
    double last = metrics::Value("learnloop_last_success_timestamp_seconds",
                                 {{"network", n.name}, {"what", "poll"}});
    if (last > 0)
      metrics::Set("learnloop_poll_lag_seconds", {{"network", n.name}},
                   std::max(0.0, UnixSeconds(now) - last));
  }
  // The store's figures at most every 5 s (a count over a large store takes a moment).
  {
    auto steady = std::chrono::steady_clock::now();
    std::lock_guard lock(state_mu_);
    if (steady - last_tally_ < std::chrono::seconds{5}) return;
    last_tally_ = steady;
  }
  auto counted = store_.Count(now);
  if (!counted.ok()) {
    Logger("daemon")->warn("metrics: the store cannot be counted: {}", counted.error().message);
    return;
  }
  {
    const auto& t = *counted;
    metrics::Clear("learnloop_outbox_items");
    for (const char* state : {"pending", "sending", "posted", "failed"})
      metrics::Set("learnloop_outbox_items", {{"state", state}},
                   static_cast<double>(t.outbox.count(state) ? t.outbox.at(state) : 0));
    metrics::Set("learnloop_prompts_open", {}, static_cast<double>(t.prompts_open));
    metrics::Set("learnloop_answers_recognised", {}, static_cast<double>(t.answers));
    metrics::Set("learnloop_pushes_queued", {}, static_cast<double>(t.pushes_queued));
  }
}

Status Daemon::SyncDirectory(NetworkState& n) {
  SetActivity("network " + n.cfg->name + ": reading the directory");
  ProgressClock progress;
  auto log = Logger("daemon");
  StoreSink sink(store_, n.cfg->name, [&](const SinkTally& t) {
    auto secs = progress.Due();
    if (!secs) return;
    SayProgress("network " + n.cfg->name + ": reading the directory: " + Thousands(t.users) +
                " people, " + Thousands(t.groups) + " groups, " +
                std::to_string(static_cast<int64_t>(t.users / std::max(*secs, 1.0))) + " people/s");
  });
  if (n.recorder) n.recorder->Begin({"sync", clock_.Now(), false, {}, ""});
  auto s = n.built.connector->SyncDirectory(sink);
  Status stored = sink.Flush();
  EndArchivedCall(n);
  NoteDegraded(n);
  if (stored.ok()) stored = SaveSecrets(store_, n.cfg->name, n.built.connector->GetSecrets());
  if (s.ok() && !stored.ok()) s = Status::Fail("the store: " + stored.message());
  // A failed sync is tried again soon; a good one once a day.
  n.next_directory_sync =
      clock_.Now() + (s.ok() ? Millis{kDirectoryEvery} : Millis{kDirectoryRetry});
  if (s.ok()) {
    n.directory_synced = true;
    n.directory_error.clear();
    metrics::Set("learnloop_last_success_timestamp_seconds",
                 {{"network", n.cfg->name}, {"what", "directory_sync"}}, UnixSeconds(clock_.Now()));
    double secs = progress.Seconds();
    if (secs >= 10 || !sink.tally().users)
      log->info("network {}: directory read: {} people, {} groups in {:.0f} s", n.cfg->name,
                Thousands(sink.tally().users), Thousands(sink.tally().groups), secs);
  } else {
    n.directory_error = s.message();
  }
  SetActivity("");
  return s;
}

Result<bool> Daemon::QueuePushes(NetworkState& n) {
  if (!n.built.push || !n.built.push->PushPending()) return false;
  LL_TRY(store_.QueuePush(n.cfg->name, n.built.push->TakePushed(), clock_.Now()));
  pushes_queued_ = true;
  return true;
}

Result<connectors::PollStats> Daemon::PollNetwork(NetworkState& n, bool refresh_now,
                                                  bool pushed_only) {
  // Prompt threads still open (or closed less than a day ago) are followed reply by reply.
  std::vector<std::string> open_threads;
  Time now = clock_.Now();
  LL_ASSIGN_OR_RETURN(auto prompts, store_.AllPrompts());
  for (const auto& p : prompts)
    if (p.network == n.cfg->name && !p.message_id.empty() &&
        (!p.closes_at || *p.closes_at + std::chrono::hours{24} > now))
      open_threads.push_back(p.message_id);
  n.built.connector->FollowThreads(open_threads);
  SetActivity("network " + n.cfg->name + (pushed_only ? ": reading pushes" : ": polling"));
  ProgressClock progress;
  // A long read (the first backfill) says how far it is.
  StoreSink sink(store_, n.cfg->name, [&](const SinkTally& t) {
    auto due = progress.Due();
    if (!due) return;
    double secs = *due;
    std::string line = "network " + n.cfg->name + ": reading";
    if (t.part_total > 0)
      line +=
          " " + t.part + " " + std::to_string(t.part_done) + " of " + std::to_string(t.part_total);
    line += ": " + Thousands(t.messages) + " messages";
    double done = -1;
    if (t.part_total > 0) done = static_cast<double>(t.part_done - 1) / t.part_total;
    if (n.cfg->backfill_since && t.oldest && t.newest && *t.newest > *n.cfg->backfill_since) {
      // Feeds read newest first: how far back the read has come, in time.
      line += ", back to " + FormatIso(*t.oldest).substr(0, 10);
      if (t.part_total == 0)
        done = std::clamp(
            std::chrono::duration<double>(*t.newest - *t.oldest).count() /
                std::chrono::duration<double>(*t.newest - *n.cfg->backfill_since).count(),
            0.0, 1.0);
    }
    line += ", " + std::to_string(static_cast<int64_t>(t.messages / std::max(secs, 1.0))) +
            " messages/s";
    if (done > 0.001) {
      line += ", " + std::to_string(static_cast<int>(done * 100)) + " %";
      line += ", about " + std::to_string(static_cast<int64_t>(secs * (1 - done) / done / 60 + 1)) +
              " min left";
    }
    SayProgress(line);
  });
  connectors::PollStats stats;
  if (pushed_only) {
    // Oldest first, each deleted once what it brought is stored (a kill in between reads it
    // again: every write is an idempotent upsert).
    LL_TRY(QueuePushes(n));
    LL_ASSIGN_OR_RETURN(auto queued, store_.QueuedPushes(n.cfg->name));
    for (const auto& [id, pushed] : queued) {
      if (n.recorder) n.recorder->Begin({"pushed", clock_.Now(), false, open_threads, pushed});
      auto one = n.built.push->ReadPushed(pushed, sink);
      Status stored = sink.Flush();
      EndArchivedCall(n);
      LL_TRY(stored);  // kept in the queue: read again at the next tick
      LL_TRY(store_.DeletePush(id));
      stats.advanced |= one.advanced;
      stats.messages += one.messages;
      stats.requests += one.requests;
      stats.errors.insert(stats.errors.end(), one.errors.begin(), one.errors.end());
    }
  } else {
    if (n.recorder) n.recorder->Begin({"poll", clock_.Now(), refresh_now, open_threads, ""});
    stats = n.built.connector->Poll(sink, refresh_now);
  }
  Status stored = sink.Flush();
  if (!pushed_only) EndArchivedCall(n);
  NoteDegraded(n);
  // Events are stored before the cursors move: a crash in between only re-reads a page; a
  // batch the store refused leaves the stored cursors where they were.
  if (!stored.ok()) {
    SetActivity("");
    return stored.error();
  }
  messages_ingested_ += sink.messages();
  LL_TRY(SaveCursors(store_, n.cfg->name, n.built.connector->GetCursors()));
  LL_TRY(SaveSecrets(store_, n.cfg->name, n.built.connector->GetSecrets()));
  if (!pushed_only) {
    n.next_poll = clock_.Now() + n.cfg->poll_interval;
    if (stats.errors.empty()) {
      n.last_poll_ok = clock_.Now();
      n.poll_error.clear();
      metrics::Set("learnloop_last_success_timestamp_seconds",
                   {{"network", n.cfg->name}, {"what", "poll"}}, UnixSeconds(clock_.Now()));
    } else {
      n.poll_error = stats.errors.front();
    }
  }
  SetActivity("");
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

Status Daemon::Tick() {
  Time now = clock_.Now();
  // Cleared first: a push queued while this tick runs wakes the next one.
  bool queued = pushes_queued_.exchange(false);
  for (auto& n : networks_) {
    if (clock_.Interrupted()) {
      if (queued) pushes_queued_ = true;  // not read yet
      return Status::Ok();
    }
    if (now >= n.next_directory_sync) {
      bool first = !n.directory_synced;
      auto s = SyncDirectory(n);
      if (!s.ok() && first && s.error().code == 401 && !n.added_by_reload) {
        // Refused credentials before anything was read: nothing would work, the operator
        // must act.
        std::lock_guard lock(state_mu_);
        fatal_ = "network " + n.cfg->name + ": " + s.message();
        return Status::Ok();
      }
      if (!s.ok())
        Logger("daemon")->warn(
            "network {}: directory sync: {}{}", n.cfg->name, s.message(),
            first ? " (tried again in 10 minutes; the feeds are read meanwhile)" : "");
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
    if (now >= n.next_poll) LL_TRY(PollNetwork(n));
    // A push the store could not read stays in its queue, read with the next one (not at once:
    // a store that keeps failing would have the loop spin).
    if (n.built.push && (queued || n.built.push->PushPending()))
      LL_TRY(PollNetwork(n, false, true));
  }
  if (clock_.Interrupted()) return Status::Ok();
  SetActivity("campaigns and outbox");
  Status s = bot_->Tick();
  SetActivity("");
  LL_TRY(s);
  LL_TRY(WriteDueReports());
  NoteReadiness();
  return Status::Ok();
}

void Daemon::NoteReadiness() {
  Time now = clock_.Now();
  std::vector<std::string> missing;
  for (const auto& n : networks_) {
    bool ready = true;
    const std::string& name = n.cfg->name;
    if (!n.directory_synced) {
      // Degraded with a reason counts as done: the network is read as far as it can be.
      bool degraded = false;
      {
        std::lock_guard lock(degraded_mu_);
        for (const auto& d : degraded_) degraded |= d.first == name;
      }
      if (!degraded) {
        missing.push_back("network " + name + ": directory not read yet" +
                          (n.directory_error.empty() ? "" : " (" + n.directory_error + ")"));
        ready = false;
      }
    }
    bool live = n.built.push && n.built.push->SubscriptionsLive();
    if (!live && (!n.last_poll_ok || now - *n.last_poll_ok > 3 * n.cfg->poll_interval)) {
      missing.push_back("network " + name + ": " +
                        (n.last_poll_ok ? "last successful poll " + FormatIso(*n.last_poll_ok) +
                                              ", more than 3 poll intervals ago"
                                        : std::string("not polled successfully yet")) +
                        (n.poll_error.empty() ? "" : " (" + n.poll_error + ")"));
      ready = false;
    }
    metrics::Set("learnloop_network_ready", {{"network", name}}, ready ? 1 : 0);
  }
  std::lock_guard lock(state_mu_);
  not_ready_ = std::move(missing);
}

Status Daemon::SyncUntilCaughtUp() {
  for (auto& n : networks_) {
    for (int round = 0; round < 1000; ++round) {
      if (round > 0 && !clock_.SleepFor(std::chrono::minutes{1}))  // one poll per feed per minute
        return Status::Fail("stopped");
      LL_ASSIGN_OR_RETURN(auto stats, PollNetwork(n, round == 0));
      if (!stats.errors.empty()) return Status::Fail(stats.errors.front());
      if (!stats.advanced) break;
    }
  }
  return bot_->RecognizeAnswers();
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
  auto due = bot_->NextDue();
  auto unfinished = store_.UnfinishedOutbox();
  if (!due.ok() || !unfinished.ok()) {
    // The store cannot be read now: tried again in a minute.
    Logger("daemon")->warn("next wake-up: {}",
                           (due.ok() ? unfinished.error() : due.error()).message);
    next = std::min(next, now + std::chrono::minutes{1});
  } else {
    if (*due) next = std::min(next, **due);
    for (const auto& item : *unfinished)
      next = std::min(next, std::max(item.due_at, now + std::chrono::minutes{1}));
  }
  next = std::min(next, BoundsOf(cfg_->tz, WeekOf(cfg_->tz, now)).to);
  return std::max(next, now + Millis{1});
}

Status Daemon::WriteDueReports() {
  Time now = clock_.Now();
  IsoWeek last_ended = WeekOf(cfg_->tz, now).Previous();
  IsoWeek from = last_ended;
  LL_ASSIGN_OR_RETURN(auto done, store_.LastReportWeek());
  if (done)
    if (auto w = IsoWeek::Parse(*done)) {
      if (*w >= last_ended) return Status::Ok();
      from = w->Next();
    }
  for (IsoWeek w = from; w <= last_ended; w = w.Next()) {
    std::string digest;
    SetActivity("writing the report of " + w.ToString());
    auto started = std::chrono::steady_clock::now();
    auto paths = WriteWeeklyReports(*cfg_, store_, w, now, &digest);
    SetActivity("");
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    metrics::Add("learnloop_report_runs_total", {{"result", paths.ok() ? "ok" : "failed"}});
    if (!paths.ok()) {
      Logger("daemon")->error("report {}: {}", w.ToString(), paths.error().message);
      return Status::Ok();  // tried again at the next tick
    }
    metrics::Set("learnloop_report_duration_seconds", {}, secs);
    metrics::Set("learnloop_last_success_timestamp_seconds", {{"network", ""}, {"what", "report"}},
                 UnixSeconds(clock_.Now()));
    Logger("daemon")->info("report {} written in {:.1f} s ({} file(s))", w.ToString(), secs,
                           paths->size());
    written_reports_.insert(written_reports_.end(), paths->begin(), paths->end());
    LL_TRY(store_.Transaction([&]() -> Status {
      if (!cfg_->digest_network.empty()) {
        // The digest for the leaders' community: posted once (its own key), in the morning.
        store::OutboxItem item;
        item.key = "digest:" + w.ToString();
        item.network = cfg_->digest_network;
        item.group_id = cfg_->digest_community;
        item.body = digest;
        Time monday = BoundsOf(cfg_->tz, w).to;
        item.due_at = LocalToUtc(
            cfg_->tz, UtcToLocal(cfg_->tz, monday) + std::chrono::minutes{cfg_->digest_minute});
        LL_TRY(store_.EnqueueOutbox(item));  // false: there already
      }
      return store_.SetLastReportWeek(w.ToString());
    }));
  }
  return Status::Ok();
}

Result<analytics::ReportOptions> ReportOptionsFor(const config::Config& cfg,
                                                  store::SecretStore& secrets) {
  analytics::ReportOptions o;
  o.tz = cfg.tz;
  o.timezone_name = cfg.timezone;
  o.min_group_size = cfg.min_group_size;
  if (!cfg.pseudonym_key.empty()) {
    o.pseudonym_key = cfg.pseudonym_key.Reveal();
  } else {
    LL_ASSIGN_OR_RETURN(auto kept, secrets.GetSecret("privacy:pseudonym_key"));
    if (!kept) {
      kept = crypto::RandomHex(32);
      LL_TRY(secrets.SetSecret("privacy:pseudonym_key", *kept));
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
  LL_ASSIGN_OR_RETURN(auto options, ReportOptionsFor(cfg, store));
  LL_ASSIGN_OR_RETURN(auto report, analytics::WeeklyReport(store, week, as_of, options));
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
