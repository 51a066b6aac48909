#include "daemon/replay.h"

#include "connectors/common/archive.h"
#include "connectors/registry.h"
#include "core/clock.h"
#include "core/time.h"
#include "daemon/store_sink.h"

namespace learnloop::daemon {

namespace archive = connectors::archive;

Result<ReplayStats> ReplayArchive(const config::Config& cfg, store::Store& store,
                                  const std::string& dir) {
  using R = Result<ReplayStats>;
  ReplayStats stats;
  for (const auto& nc : cfg.networks) {
    auto calls = archive::Read(dir, nc.name, &stats.warnings);
    if (!calls.ok()) return R::Fail("network " + nc.name + ": " + calls.error().message);
    if (calls->empty()) {
      stats.warnings.push_back("network " + nc.name + ": nothing archived under " + dir);
      continue;
    }
    // People erased from the archive stay erased: their tombstone id is refused.
    for (const auto& id : archive::ForgottenIds(dir, nc.name))
      if (auto forgot = store.ForgetUser(MakeId(nc.name, id), calls->front().call.t); !forgot.ok())
        return R::Fail("network " + nc.name + ": " + forgot.error().message);
    ManualClock clock(calls->front().call.t);
    archive::ReplayClient replies(&clock);
    connectors::Built built;
    for (size_t i = 0; i < calls->size(); ++i) {
      const auto& [call, pages] = (*calls)[i];
      clock.Set(call.t);
      auto where = [&] {
        return "network " + nc.name + ", call " + std::to_string(i + 1) + " (" + call.kind +
               " at " + FormatIsoMillis(call.t) + ")";
      };
      if (call.kind == "start" || !built.connector) {
        // As the daemon does when it starts: a new connector, the cursors from the store.
        auto b =
            connectors::Create(nc, clock, std::make_unique<archive::ForwardingClient>(replies));
        if (!b.ok()) return R::Fail(where() + ": " + b.error().message);
        built = std::move(*b);
        auto cursors = LoadCursors(store, nc.name);
        if (!cursors.ok()) return R::Fail(where() + ": " + cursors.error().message);
        built.connector->RestoreCursors(*cursors);
        if (call.kind == "start") continue;
      }
      replies.Load(&pages);
      StoreSink sink(store);
      if (call.kind == "sync") {
        (void)built.connector->SyncDirectory(sink);  // a failure then fails the same way now
      } else if (call.kind == "poll" || call.kind == "pushed") {
        built.connector->FollowThreads(call.follow);
        if (call.kind == "poll") {
          built.connector->Poll(sink, call.refresh_now);
        } else {
          if (!built.push) return R::Fail(where() + ": this connector takes no pushes");
          built.push->ReadPushed(call.pushed, sink);
        }
      } else {
        return R::Fail(where() + ": unknown call");
      }
      Status stored = sink.Flush();
      if (stored.ok() && call.kind != "sync")
        stored = SaveCursors(store, nc.name, built.connector->GetCursors());
      if (!stored.ok()) return R::Fail(where() + ": " + stored.message());
      if (!replies.divergence().empty())
        return R::Fail(where() + ": the replay left the archive: " + replies.divergence());
      if (replies.unread() > 0)
        return R::Fail(where() + ": the replay left the archive: " +
                       std::to_string(replies.unread()) + " archived answer(s) never asked for");
      ++stats.calls;
      stats.pages += static_cast<int64_t>(pages.size());
      stats.messages += sink.messages();
    }
  }
  return stats;
}

}  // namespace learnloop::daemon
