// The Teams connector against esn-sim: Graph delta rounds with an app-only token, prompts
// posted through the Bot Framework, answers read from the prompt threads; every message,
// reply and reaction of the simulated channels in the store exactly once, also with faults.
#include <gtest/gtest.h>

#include <set>

#include "daemon/run_loop.h"
#include "sim_harness.h"

using namespace learnloop;

namespace {

const char* kYaml = R"(timezone: Europe/Berlin
store: {path: DIR/teams.db}
report: {out_dir: DIR/reports}
networks:
  - TEAMS_NETWORK
    poll_interval: 30m
campaigns:
  - name: daily
    network: teams
    community: CHANNEL_0
    schedule: "0 10 * * MON-FRI"
    open_for: 48h
    prompts: ["What is one thing you learned today?", "Who helped you this week, and how?"]
)";

// push: the daemon listens for change notifications and the poller is off (one poll a week);
// everything must then arrive by push.
void RunTeams(const std::vector<std::string>& faults, bool clear_faults, bool push = false) {
  setenv("LEARNLOOP_IT_SECRET", "sim-secret", 1);
  it::SimRun run;
  std::string yaml = kYaml;
  if (push) {
    yaml = "server: {listen: \"127.0.0.1:0\"}\n" + yaml;
    yaml.replace(yaml.find("poll_interval: 30m"), 18, "poll_interval: 7d");
  }
  Time start = *ParseIso("2026-11-02T06:00:00Z");
  std::vector<std::string> args{"--people",       "150", "--seed",           "21",
                                "--history-days", "10",  "--horizon-days",   "12",
                                "--teams",        "2",   "--token-lifetime", "45m"};
  args.insert(args.end(), faults.begin(), faults.end());
  ASSERT_EQ(run.Start(start, args, yaml), "");
  {
    daemon::Daemon d(*run.cfg, *run.store, *run.clock);
    ASSERT_TRUE(d.Start().ok());
    if (push) {
      // People's replies in the bot's threads also reach the bot, as signed activities.
      ASSERT_EQ(run.RegisterBot(d), "");
    }
    daemon::RunSimulated(d, *run.clock, start + std::chrono::hours{24 * 5});
    if (clear_faults) {
      ASSERT_EQ(
          run.SetFaults(
              R"({"error_rate": 0, "truncate_rate": 0, "slow_rate": 0, "reset_rate": 0, "throttle_rate": 0})"),
          "");
      d.Tick();
    }
    if (push) {
      EXPECT_FALSE(d.public_url().empty());
    } else {
      ASSERT_TRUE(d.SyncUntilCaughtUp().ok());
    }
  }
  auto truth = it::ReadTruth(run.Get("/_sim/truth"));
  EXPECT_EQ(it::CheckIngestedExactlyOnce(truth, *run.store), "");
  int teams_messages = 0;
  for (const auto& m : run.store->AllMessages()) teams_messages += m.network == "teams";
  EXPECT_GT(teams_messages, 100);
  auto stats = run.Get("/_sim/stats");
  EXPECT_EQ(*json::GetInt64(stats, "violations"), 0);
  if (!faults.empty()) {
    EXPECT_GT(*json::GetInt64(stats, "faults"), 20);
  }
  if (push) {
    const auto& requests = stats.at("requests");
    EXPECT_GT(json::GetInt64(requests, "notifications_sent").value_or(0), 50);
    EXPECT_EQ(json::GetInt64(requests, "notifications_failed").value_or(0), 0);
    // Every activity the bot was sent passed the token check.
    EXPECT_GT(json::GetInt64(requests, "bot_activitys_sent").value_or(0), 10);
    EXPECT_EQ(json::GetInt64(requests, "bot_activitys_failed").value_or(0), 0);
    // One subscription per channel, renewed (PATCH) well before each expiry.
    EXPECT_GE(json::GetInt64(requests, "graph_subscriptions").value_or(0), 5 * 24);
  }
  // Five weekdays at 10:00 Berlin: each prompt posted once, through the Bot Framework.
  auto posts = run.Get("/_sim/bot_posts").as_array();
  std::set<std::string> days;
  for (const auto& p : posts) days.insert(json::GetString(p, "created_at")->substr(0, 10));
  EXPECT_EQ(posts.size(), 5u);
  EXPECT_EQ(days.size(), posts.size());
  auto prompts = run.store->AllPrompts();
  EXPECT_EQ(prompts.size(), posts.size());
  // Answers: the people's replies in each prompt thread before it closed.
  std::map<std::string, int> expected;
  for (const auto& p : prompts) {
    std::string root = p.message_id.substr(p.message_id.rfind('/') + 1);
    for (const auto& m : truth.messages)
      if (std::to_string(m.thread) == root && m.parent && !m.by_bot && !m.deleted &&
          m.created < *p.closes_at)
        ++expected[p.id];
  }
  std::map<std::string, int> answered;
  std::map<std::string, Time> closes;
  for (const auto& p : prompts) closes[p.id] = *p.closes_at;
  for (const auto& a : run.store->AllAnswers())  // late answers are kept, marked by their time
    if (a.answered_at < closes[a.prompt_id]) ++answered[a.prompt_id];
  EXPECT_EQ(answered, expected);
  int total = 0;
  for (const auto& [id, n] : answered) total += n;
  EXPECT_GT(total, 3);
}

}  // namespace

TEST(Teams, ReadsChannelsThroughDeltaAndPostsThroughTheBotFramework) { RunTeams({}, false); }

TEST(Teams, SurvivesOneAnswerInFiveGoingWrong) {
  RunTeams(
      {"--error-rate", "0.06", "--truncate-rate", "0.03", "--slow-rate", "0.03", "--slow-ms", "10",
       "--reset-rate", "0.03", "--throttle-rate", "0.05", "--graph-retry-after-rate", "0.3"},
      true);
}

TEST(Teams, AnswersArriveByPushWithThePollerOff) { RunTeams({}, false, true); }
