// The Viva Engage Data Export as the backfill source: one request for four weeks of the whole
// network instead of paging every community feed; deleted messages arrive with it (feeds just
// stop showing them), likes of the recent window from the feeds' re-read.
#include <gtest/gtest.h>

#include "daemon/run_loop.h"
#include "sim_harness.h"
#include "tests/support/ok.h"

using learnloop::testing::Ok;

using namespace learnloop;

namespace {

const std::string kYaml = it::ReadConfig("export.yaml");

}  // namespace

TEST(DataExport, BackfillsTheWholeNetworkInOneRequest) {
  it::SimRun run;
  Time start = *ParseIso("2026-11-02T06:00:00Z");
  ASSERT_EQ(run.Start(start,
                      {"--people", "500", "--seed", "17", "--history-days", "28", "--horizon-days",
                       "5", "--delete-rate", "0.05"},
                      kYaml),
            "");
  daemon::Daemon d(*run.cfg, *run.store, *run.clock);
  ASSERT_TRUE(d.Start().ok());
  ASSERT_TRUE(d.SyncUntilCaughtUp().ok());
  auto after_backfill = run.Get("/_sim/stats");
  daemon::RunSimulated(d, *run.clock, start + std::chrono::hours{24});
  ASSERT_TRUE(d.SyncUntilCaughtUp().ok());

  auto truth = it::ReadTruth(run.Get("/_sim/truth"));
  // Every message exactly once, deleted ones marked; likes for the re-read week (the export
  // has none).
  EXPECT_EQ(
      it::CheckIngestedExactlyOnce(
          truth, *run.store, start - run.cfg->networks[0].settings.Duration("refresh_window")),
      "");
  int64_t deleted_before_start = 0, stored_deleted = 0;
  std::map<int64_t, int64_t> per_group;  // what the feeds would have had to page through
  for (const auto& m : truth.messages) {
    if (m.network != "yammer" || m.created >= start) continue;
    if (m.deleted) ++deleted_before_start;
    if (!m.deleted) ++per_group[m.group];
  }
  for (const auto& m : Ok(run.store->AllMessages())) stored_deleted += m.deleted ? 1 : 0;
  EXPECT_GT(deleted_before_start, 0);
  EXPECT_GE(stored_deleted, deleted_before_start);  // the feeds could not have told these

  int64_t feed_minimum = 0;
  for (const auto& [g, n] : per_group) feed_minimum += (n + 19) / 20;
  const auto& req = after_backfill.at("requests");
  EXPECT_EQ(*json::GetInt64(req, "export"), 1);
  int64_t message_requests = json::GetInt64(req, "messages").value_or(0);
  // The feeds were read for the re-read week only.
  EXPECT_LT(message_requests, feed_minimum);
  std::printf("backfill of 28 days: 1 export + %lld feed requests (the feeds alone: >= %lld)\n",
              static_cast<long long>(message_requests), static_cast<long long>(feed_minimum));
  auto stats = run.Get("/_sim/stats");
  EXPECT_EQ(*json::GetInt64(stats, "violations"), 0);
  EXPECT_EQ(*json::GetInt64(stats.at("requests"), "export"), 1);  // never again
}

TEST(DataExport, ANonAdminServiceAccountBackfillsFromTheFeeds) {
  it::SimRun run;
  Time start = *ParseIso("2026-11-02T06:00:00Z");
  ASSERT_EQ(run.Start(start,
                      {"--people", "60", "--seed", "3", "--history-days", "4", "--horizon-days",
                       "3", "--no-export-admin"},
                      kYaml),
            "");
  daemon::Daemon d(*run.cfg, *run.store, *run.clock);
  ASSERT_TRUE(d.Start().ok());
  ASSERT_TRUE(d.SyncUntilCaughtUp().ok());
  auto truth = it::ReadTruth(run.Get("/_sim/truth"));
  EXPECT_EQ(it::CheckIngestedExactlyOnce(truth, *run.store), "");
  auto stats = run.Get("/_sim/stats");
  EXPECT_EQ(*json::GetInt64(stats.at("requests"), "export"), 1);
  EXPECT_EQ(Ok(run.store->SyncCursors("yammer"))["export.until"], "refused");
}
