#include "daemon/daemon.h"

#include <filesystem>
#include <fstream>

#include "analytics/report.h"
#include "core/log.h"

namespace learnloop::daemon {

namespace {

constexpr auto kDirectoryEvery = std::chrono::hours{24};
constexpr auto kDirectoryRetry = std::chrono::minutes{10};

// Buffers a poll's events and writes them in batches, one transaction each.
class StoreSink final : public connectors::EventSink {
 public:
  explicit StoreSink(store::Store& s) : store_(s) {}
  ~StoreSink() override { Flush(); }
  void OnUser(const User& u) override {
    Add([u](store::Store& s) { s.UpsertUser(u); });
  }
  void OnGroup(const Group& g) override {
    Add([g](store::Store& s) { s.UpsertGroup(g); });
  }
  void OnMessage(const Message& m) override {
    ++messages_;
    Add([m](store::Store& s) { s.UpsertMessage(m); });
  }
  void OnReactionSnapshot(const std::string& id, const std::string& kind,
                          const std::vector<Reaction>& r) override {
    Add([id, kind, r](store::Store& s) { s.ReplaceReactions(id, kind, r); });
  }
  void OnCardAction(const CardAction& a) override {
    Add([a](store::Store& s) { s.UpsertCardAction(a); });
  }
  void OnPresent(const std::string& group_id, Time from, Time to,
                 const std::vector<std::string>& ids) override {
    Add([group_id, from, to, ids](store::Store& s) {
      s.MarkDeletedExcept(group_id, from, to, ids);
    });
  }
  void Flush() {
    if (pending_.empty()) return;
    store_.Transaction([&] {
      for (auto& f : pending_) f(store_);
    });
    pending_.clear();
  }
  int64_t messages() const { return messages_; }

 private:
  void Add(std::function<void(store::Store&)> f) {
    pending_.push_back(std::move(f));
    if (pending_.size() >= 5000) Flush();
  }
  store::Store& store_;
  std::vector<std::function<void(store::Store&)>> pending_;
  int64_t messages_ = 0;
};

std::string CursorPrefix(const std::string& network) { return network + ":cursor:"; }

}  // namespace

Daemon::Daemon(const config::Config& cfg, store::Store& store, Clock& clock)
    : cfg_(cfg), store_(store), clock_(clock) {}

Daemon::~Daemon() {
  if (server_) server_->Stop();  // before the connectors it calls into go away
}

Status Daemon::Listen() {
  auto colon = cfg_.listen.rfind(':');
  std::string host = cfg_.listen.substr(0, colon);
  int port = std::stoi(cfg_.listen.substr(colon + 1));
  server_ = std::make_unique<net::HttpServer>();
  auto bound = server_->Start(
      port, [this](const net::Request& r) { return OnRequest(r); }, host);
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
    return rep;
  }
  for (auto& n : networks_) {
    if (!n.built.push) continue;
    for (const auto& p : n.built.push->PushPaths()) {
      if (r.path != p || r.method != "POST") continue;
      rep = n.built.push->OnPush(r);
      std::lock_guard lock(on_push_mu_);
      if (on_push_ && n.built.push->PushPending()) on_push_();
      return rep;
    }
  }
  rep.status = 404;
  rep.body = R"({"error":"not found"})";
  return rep;
}

Status Daemon::Start() {
  std::map<std::string, connectors::Poster*> posters;
  for (const auto& nc : cfg_.networks) {
    auto built = connectors::Create(nc, clock_);
    if (!built.ok()) return built.status();
    NetworkState n;
    n.cfg = &nc;
    n.built = std::move(*built);
    connectors::Cursors cursors;
    std::string prefix = CursorPrefix(nc.name);
    for (const auto& [k, v] : store_.CursorsWithPrefix(prefix))
      cursors[k.substr(prefix.size())] = v;
    n.built.connector->RestoreCursors(cursors);
    posters[nc.name] = n.built.poster;
    networks_.push_back(std::move(n));
  }
  bot_ = std::make_unique<bot::Bot>(cfg_, store_, clock_, posters);
  for (auto& n : networks_) {
    auto s = SyncDirectory(n);
    if (!s.ok()) return Status::Fail("network " + n.cfg->name + ": " + s.message());
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
  auto s = n.built.connector->SyncDirectory(sink);
  sink.Flush();
  // A failed sync is tried again soon; a good one once a day.
  n.next_directory_sync =
      clock_.Now() + (s.ok() ? Millis{kDirectoryEvery} : Millis{kDirectoryRetry});
  return s;
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
  auto stats =
      pushed_only ? n.built.push->PollPushed(sink) : n.built.connector->Poll(sink, refresh_now);
  sink.Flush();
  messages_ingested_ += sink.messages();
  // Events are stored before the cursors move: a crash in between only re-reads a page.
  store_.Transaction([&] {
    for (const auto& [k, v] : n.built.connector->GetCursors())
      store_.SetCursor(CursorPrefix(n.cfg->name) + k, v);
  });
  if (!pushed_only) n.next_poll = clock_.Now() + n.cfg->poll_interval;
  return stats;
}

void Daemon::Tick() {
  Time now = clock_.Now();
  for (auto& n : networks_) {
    if (clock_.Interrupted()) return;
    if (now >= n.next_directory_sync) {
      auto s = SyncDirectory(n);
      if (!s.ok())
        Logger("daemon")->warn("network {}: directory sync: {}", n.cfg->name, s.message());
    }
    if (n.built.push && now >= n.next_maintenance) {
      auto s = n.built.push->MaintainSubscriptions(public_url_);
      if (!s.ok())
        Logger("daemon")->warn("network {}: subscriptions: {}", n.cfg->name, s.message());
      auto next = n.built.push->NextMaintenance();
      // A failure is tried again in five minutes.
      n.next_maintenance = s.ok() && next ? std::max(*next, now + std::chrono::minutes{1})
                                          : now + std::chrono::minutes{5};
    }
    if (now >= n.next_poll)
      PollNetwork(n);
    else if (n.built.push && n.built.push->PushPending())
      PollNetwork(n, false, true);
  }
  if (clock_.Interrupted()) return;
  bot_->Schedule();
  bot_->Dispatch();
  bot_->RecognizeAnswers();
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
      if (n.built.push->PushPending()) next = now;
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
    auto paths = WriteWeeklyReports(cfg_, store_, w, now);
    if (!paths.ok()) {
      Logger("daemon")->error("report {}: {}", w.ToString(), paths.error().message);
      return;
    }
    written_reports_.insert(written_reports_.end(), paths->begin(), paths->end());
    store_.SetCursor("report:last_week", w.ToString());
  }
}

Result<std::vector<std::string>> WriteWeeklyReports(const config::Config& cfg, store::Store& store,
                                                    IsoWeek week, Time as_of) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(cfg.report_dir, ec);
  if (ec)
    return Result<std::vector<std::string>>::Fail("cannot create " + cfg.report_dir + ": " +
                                                  ec.message());
  auto data = analytics::Dataset::Load(store);
  analytics::ReportOptions o{cfg.tz, cfg.timezone, cfg.min_group_size};
  auto report = analytics::ComputeWeekly(data, week, as_of, o);
  std::vector<std::string> paths;
  for (const auto& f : cfg.report_formats) {
    std::string text = f == "json" ? analytics::RenderJson(report)
                       : f == "md" ? analytics::RenderMarkdown(report)
                                   : analytics::RenderHtml(report);
    fs::path p = fs::path(cfg.report_dir) / ("learnloop-" + week.ToString() + "." + f);
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
