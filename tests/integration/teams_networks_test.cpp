// Two Teams networks on one listener, as a company with two tenants' teams (or two sets of
// teams) runs them: each network's change notifications come to its own path, and the bot's
// activities, all sent to the one messaging endpoint, reach the network whose channel they
// are in. Nothing pushed to either network is lost: every message by push alone (no polling),
// every card press stored as an answer.
#include <gtest/gtest.h>

#include <set>

#include "sim_harness.h"
#include "tests/support/ok.h"

using learnloop::testing::Ok;

using namespace learnloop;

TEST(TeamsNetworks, TwoNetworksEachGetTheirOwnNotificationsAndPresses) {
  setenv("LEARNLOOP_IT_SECRET", "sim-secret", 1);
  it::SimRun run;
  const Time start = *ParseIso("2026-11-02T06:00:00Z");  // a Monday
  const int port = it::FreePort();
  std::string yaml = it::FillConfig("teams-two-networks.yaml", {{"PORT", std::to_string(port)}});
  ASSERT_EQ(run.Start(start,
                      {"--people", "120", "--seed", "12", "--history-days", "2", "--horizon-days",
                       "6", "--teams", "2"},
                      yaml),
            "");
  ASSERT_EQ(run.cfg->networks.size(), 2u);
  const std::string team_a = run.cfg->networks[0].settings.List("teams").at(0),
                    team_b = run.cfg->networks[1].settings.List("teams").at(0);
  ASSERT_NE(team_a, team_b);
  const std::string config = run.WriteConfig();
  // the bot's one messaging endpoint, shared by both networks
  ASSERT_EQ(run.RegisterBot("http://127.0.0.1:" + std::to_string(port) + "/api/messages"), "");
  run.store.reset();  // the daemon's process has the store now
  const Time end = start + std::chrono::hours{24 * 5};
  ASSERT_EQ(it::RunLearnloop(config, run.sim.base_url(), end, std::nullopt, run.dir + "/log"), 0);

  auto reopened = store::OpenSqlite(run.cfg->store_path);
  ASSERT_TRUE(reopened.ok());
  run.store = std::move(*reopened);
  auto truth = it::ReadTruth(run.Get("/_sim/truth"));
  std::map<std::string, std::string> network_of_team = {{team_a, "teams-a"}, {team_b, "teams-b"}};
  for (const auto& g : truth.raw.at("groups").as_array())
    if (auto team = json::GetString(g, "team_id"))
      if (network_of_team.count(*team))
        truth.teams_network_of[*json::GetInt64(g, "id")] = network_of_team[*team];

  // Each network read its own channels, by push alone, exactly once.
  EXPECT_EQ(it::CheckIngestedExactlyOnce(truth, *run.store), "");
  std::map<std::string, int> messages;
  for (const auto& m : Ok(run.store->AllMessages())) ++messages[m.network];
  EXPECT_GT(messages["teams-a"], 5);
  EXPECT_GT(messages["teams-b"], 5);

  // Every press, in the channels of either network, is an answer.
  int presses = 0;
  EXPECT_EQ(it::CheckCardPresses(truth, *run.store, &presses), "");
  std::set<std::string> campaigns_answered;
  for (const auto& p : Ok(run.store->AllPrompts()))
    for (const auto& a : Ok(run.store->AllAnswers()))
      if (a.prompt_id == p.id && a.choice) campaigns_answered.insert(p.campaign);
  EXPECT_GT(presses, 10);
  EXPECT_TRUE(campaigns_answered.count("a-daily"));
  EXPECT_TRUE(campaigns_answered.count("b-daily"));

  auto stats = run.Get("/_sim/stats");
  const auto& requests = stats.at("requests");
  EXPECT_GT(json::GetInt64(requests, "notifications_sent").value_or(0), 20);
  EXPECT_EQ(json::GetInt64(requests, "notifications_failed").value_or(0), 0);
  EXPECT_EQ(json::GetInt64(requests, "bot_activitys_failed").value_or(0), 0);
  EXPECT_EQ(*json::GetInt64(stats, "violations"), 0);
}
