// The pieces an operator sees of a running daemon: the metrics' text format, the admin token
// check, the heartbeat that feeds the watchdog, and log levels that a typo cannot silence.
#include <gtest/gtest.h>

#include <thread>

#include "core/heartbeat.h"
#include "core/log.h"
#include "core/metrics.h"
#include "daemon/admin.h"

using namespace learnloop;

TEST(Metrics, TextFormatWithHelpTypeAndEscapedLabels) {
  metrics::Describe("test_requests_total", "counter", "Requests, with a \\ and a\nnewline");
  metrics::Add("test_requests_total", {{"network", "yammer"}, {"status", "200"}});
  metrics::Add("test_requests_total", {{"network", "yammer"}, {"status", "200"}}, 2);
  metrics::Add("test_requests_total", {{"network", "a\"b\\c\nd"}, {"status", "429"}});
  metrics::Set("test_lag_seconds", {}, 1.5);
  std::string text = metrics::Render();
  EXPECT_NE(text.find("# HELP test_requests_total Requests, with a \\\\ and a\\nnewline\n"
                      "# TYPE test_requests_total counter\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("test_requests_total{network=\"yammer\",status=\"200\"} 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("test_requests_total{network=\"a\\\"b\\\\c\\nd\",status=\"429\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE test_lag_seconds untyped\ntest_lag_seconds 1.5\n"), std::string::npos)
      << text;
  EXPECT_EQ(metrics::Value("test_requests_total", {{"network", "yammer"}, {"status", "200"}}), 3);
  metrics::Clear("test_lag_seconds");
  EXPECT_EQ(metrics::Render().find("test_lag_seconds"), std::string::npos);
}

TEST(AdminToken, MissingIs401WrongIs403RightIs0) {
  EXPECT_EQ(daemon::CheckBearer("", "s3cret-token"), 401);
  EXPECT_EQ(daemon::CheckBearer("Basic czNjcmV0", "s3cret-token"), 401);
  EXPECT_EQ(daemon::CheckBearer("Bearer ", "s3cret-token"), 401);
  EXPECT_EQ(daemon::CheckBearer("Bearer s3cret-tokem", "s3cret-token"), 403);
  EXPECT_EQ(daemon::CheckBearer("Bearer s3cret-token-and-more", "s3cret-token"), 403);
  EXPECT_EQ(daemon::CheckBearer("Bearer s3cret", "s3cret-token"), 403);
  EXPECT_EQ(daemon::CheckBearer("Bearer anything", ""), 403);  // no token configured: off
  EXPECT_EQ(daemon::CheckBearer("Bearer s3cret-token", "s3cret-token"), 0);
}

TEST(Heartbeat, AStepThatNeitherBeatsNorWaitsStalls) {
  heartbeat::SetBusy(false);
  std::this_thread::sleep_for(std::chrono::milliseconds{30});
  EXPECT_EQ(heartbeat::Stalled().count(), 0);  // idle: never stuck
  heartbeat::SetBusy(true);
  std::this_thread::sleep_for(std::chrono::milliseconds{30});
  EXPECT_GE(heartbeat::Stalled().count(), 25);
  {
    heartbeat::Waiting waiting;  // a wait on purpose
    std::this_thread::sleep_for(std::chrono::milliseconds{30});
    EXPECT_EQ(heartbeat::Stalled().count(), 0);
  }
  heartbeat::Beat();
  EXPECT_LT(heartbeat::Stalled().count(), 25);
  heartbeat::SetBusy(false);
}

TEST(Log, AnUnknownLevelKeepsTheOneBefore) {
  ASSERT_TRUE(SetLogLevel("info"));
  EXPECT_FALSE(SetLogLevel("inof"));
  EXPECT_TRUE(Logger("test")->should_log(spdlog::level::info));
  EXPECT_TRUE(SetLogLevel("warning"));
  EXPECT_FALSE(Logger("test")->should_log(spdlog::level::info));
  EXPECT_TRUE(SetLogLevel("info"));
  EXPECT_FALSE(SetLogFormat("xml"));
}
