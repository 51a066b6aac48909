// What a community lives through when the daemon was down: a real `learnloop run` process on
// esn-sim's simulated clock, stopped and started again after no downtime, three hours and
// three days. It posts no backlog: at most the latest missed prompt of each campaign, while it
// is open and within catch_up, and nothing due before the store first saw the campaign.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "connectors/common/http.h"
#include "core/json.h"
#include "daemon/sim_process.h"
#include "sim_harness.h"

using namespace learnloop;
namespace fs = std::filesystem;

TEST(CatchUp, AfterDowntimeOnlyTheLatestMissedPromptIsPostedWhileItIsOpen) {
  daemon::SimProcess sim;
  // Monday 2 November 2026, 08:30 in Berlin.
  Time start = *ParseIso("2026-11-02T07:30:00Z");
  ASSERT_TRUE(
      sim.Start(daemon::FindSimBinary(),
                {"--start", FormatIso(start), "--clock", "manual", "--people", "60", "--seed", "3",
                 "--history-days", "2", "--horizon-days", "6", "--token", "catch-up-token"})
          .ok());
  fs::path dir = fs::temp_directory_path() / ("learnloop-catch-up-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  setenv("LEARNLOOP_CATCH_UP_TOKEN", "catch-up-token", 1);
  std::ofstream(dir / "c.yaml") << it::FillConfig(
      "catch-up.yaml", {{"BASE_URL", sim.base_url() + "/api/v1"}, {"DIR", dir.string()}});
  auto http = connectors::http::MakeClient(std::chrono::seconds{20});
  auto posts = [&] {  // the bot's posts per community, with their times
    std::map<int64_t, std::vector<Time>> out;
    connectors::http::Request r;
    r.url = sim.base_url() + "/_sim/bot_posts";
    auto res = http->Send(r);
    auto v = res.ok() ? json::Parse(res->body) : Result<json::Value>::Fail("");
    if (v.ok())
      for (const auto& p : v->as_array())
        if (!json::GetInt64(p, "replied_to_id"))
          out[*json::GetInt64(p, "group_id")].push_back(
              *ParseIso(*json::GetString(p, "created_at")));
    return out;
  };
  auto set_clock = [&](Time t) {  // the daemon is down meanwhile
    connectors::http::Request r;
    r.method = "POST";
    r.url = sim.base_url() + "/_sim/clock";
    r.body = "{\"now\":\"" + FormatIso(t) + "\"}";
    auto res = http->Send(r);
    ASSERT_TRUE(res.ok() && res->status == 200);
  };
  const int64_t hourly = 13114941440, daily = 13114942471;
  const std::string config = (dir / "c.yaml").string();
  auto at = [](const char* iso) { return *ParseIso(iso); };

  // First start at 08:30: nothing from before it (no backlog of the morning); 09:00 and 10:00.
  ASSERT_EQ(it::RunLearnloop(config, sim.base_url(), at("2026-11-02T09:45:00Z")), 0);
  auto p = posts();
  ASSERT_EQ(p[hourly].size(), 2u);
  EXPECT_EQ(p[hourly][0], at("2026-11-02T08:00:00Z"));
  EXPECT_EQ(p[daily].size(), 1u);

  // Started again at once: 11:00, once.
  ASSERT_EQ(it::RunLearnloop(config, sim.base_url(), at("2026-11-02T10:45:00Z")), 0);
  p = posts();
  ASSERT_EQ(p[hourly].size(), 3u);
  EXPECT_EQ(p[hourly][2], at("2026-11-02T10:00:00Z"));

  // Down for three hours (12:00, 13:00 and 14:00 missed): only 14:00's, the one still open.
  set_clock(at("2026-11-02T13:45:00Z"));
  ASSERT_EQ(it::RunLearnloop(config, sim.base_url(), at("2026-11-02T13:55:00Z")), 0);
  p = posts();
  ASSERT_EQ(p[hourly].size(), 4u);
  EXPECT_GE(p[hourly][3], at("2026-11-02T13:45:00Z"));  // posted on start, 45 minutes late
  EXPECT_EQ(p[daily].size(), 1u);

  // Down for three days, back on Thursday at 12:30 in Berlin: of the hourly ones only 12:00's
  // (still open); of the daily ones only Thursday's (three and a half hours late, within
  // catch_up), not Tuesday's nor Wednesday's.
  set_clock(at("2026-11-05T11:30:00Z"));
  ASSERT_EQ(it::RunLearnloop(config, sim.base_url(), at("2026-11-05T11:45:00Z")), 0);
  p = posts();
  ASSERT_EQ(p[hourly].size(), 5u);
  EXPECT_GE(p[hourly][4], at("2026-11-05T11:30:00Z"));
  ASSERT_EQ(p[daily].size(), 2u);
  EXPECT_GE(p[daily][1], at("2026-11-05T11:30:00Z"));
  fs::remove_all(dir);
}
