// learnloop against esn-sim with faults switched on: 5xx answers (also after a post went
// through), truncated JSON, slow answers, connection resets, unknown fields and another key
// order.
#include <gtest/gtest.h>

#include "sim_harness.h"
#include "tests/support/ok.h"

using learnloop::testing::Ok;

using namespace learnloop;

namespace {

const std::string kYaml = it::ReadConfig("sim-faults.yaml");

}  // namespace

TEST(SimWithFaults, EverythingArrivesOnceAndEveryPromptIsPostedOnce) {
  it::SimRun run;
  Time start = *ParseIso("2026-11-02T06:00:00Z");
  ASSERT_EQ(run.Start(start, {"--people",        "80",
                              "--seed",          "3",
                              "--history-days",  "7",
                              "--horizon-days",  "20",
                              "--error-rate",    "0.1",
                              "--truncate-rate", "0.05",
                              "--slow-rate",     "0.05",
                              "--slow-ms",       "10",
                              "--reset-rate",    "0.03",
                              "--throttle-rate", "0.03",
                              "--noise",         "--no-retry-after"},
                      kYaml),
            "");
  ASSERT_EQ(run.RunThenCatchUpWithoutFaults(start + std::chrono::hours{24 * 10}), "");
  auto truth = it::ReadTruth(run.Get("/_sim/truth"));
  EXPECT_EQ(it::CheckIngestedExactlyOnce(truth, *run.store), "");
  auto stats = run.Get("/_sim/stats");
  EXPECT_GT(*json::GetInt64(stats, "faults"), 20);
  EXPECT_EQ(*json::GetInt64(stats, "violations"), 0);
  // Eight weekdays at 10:00 Berlin in the ten days: each posted once, whatever the faults.
  auto posts = run.Get("/_sim/bot_posts").as_array();
  std::set<std::string> days;
  for (const auto& p : posts) days.insert(json::GetString(p, "created_at")->substr(0, 10));
  EXPECT_EQ(posts.size(), 8u);
  EXPECT_EQ(days.size(), posts.size());
  EXPECT_EQ(Ok(run.store->AllPrompts()).size(), posts.size());
}
