// Slack end to end: the daemon, listening for the Events API and button presses, reads a
// channel of esn-sim's Slack (reference §4), posts a daily question with buttons, and people
// answer by pressing one or by replying in the thread. Afterwards the store holds every message
// of the channel once, in its thread, and every press and every reply as the person meant it.
// Then the same channel read by polling alone through esn-sim's faults (5xx, also after a post
// went through, cut bodies, resets, slow answers, 429 with Retry-After): nothing lost, nothing
// twice, no question posted twice.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "daemon/daemon.h"
#include "daemon/run_loop.h"
#include "sim_harness.h"
#include "tests/support/ok.h"

using learnloop::testing::Ok;

using namespace learnloop;

TEST(Slack, QuestionsWithButtonsAreAnsweredByPressesAndRepliesEachReadOnceAsMeant) {
  setenv("LEARNLOOP_IT_SIGNING", "sim-signing", 1);
  it::SimRun run;
  std::string yaml = it::ReadConfig("slack.yaml");
  Time start = *ParseIso("2026-11-02T07:00:00Z");
  ASSERT_EQ(run.Start(start,
                      {"--people", "135", "--seed", "11", "--history-days", "4", "--horizon-days",
                       "5", "--teams", "0"},
                      yaml),
            "");
  daemon::Daemon d(*run.cfg, *run.store, *run.clock);
  ASSERT_TRUE(d.Start().ok());
  // The Slack app's settings: where its events and presses go, and its signing secret.
  connectors::http::Request app;
  app.method = "POST";
  app.url = run.sim.base_url() + "/_sim/slack";
  app.body = R"({"events_url":")" + d.public_url() + R"(/slack/slack/events","actions_url":")" +
             d.public_url() + R"(/slack/slack/actions","signing_secret":"sim-signing"})";
  auto configured = run.http->Send(app);
  ASSERT_TRUE(configured.ok() && configured->status == 200);
  daemon::RunSimulated(d, *run.clock, start + std::chrono::hours{24 * 3 + 12});

  auto truth = it::ReadTruth(run.Get("/_sim/truth"));
  const std::string channel = run.cfg->campaigns.at(0).community();
  int64_t group = std::stoll(channel.substr(1));
  auto id_of = [&](const std::string& ts) { return "slack:" + channel + "/" + ts; };
  std::map<int64_t, const it::TruthMsg*> by_id;
  for (const auto& m : truth.messages) by_id[m.id] = &m;

  // Every message of the channel once, in its thread, by its author.
  std::map<std::string, Message> stored;
  for (const auto& m : Ok(run.store->AllMessages()))
    if (m.network == "slack") {
      EXPECT_TRUE(stored.emplace(m.id, m).second) << m.id;
    }
  int expected = 0;
  for (const auto& m : truth.messages) {
    if (m.group != group || m.system || m.is_private || m.deleted) continue;
    ASSERT_FALSE(m.slack_ts.empty());
    ++expected;
    auto it = stored.find(id_of(m.slack_ts));
    ASSERT_NE(it, stored.end()) << "message " << m.id << " (" << m.slack_ts << ") not stored";
    EXPECT_EQ(it->second.author_id, "slack:U" + std::to_string(m.sender));
    EXPECT_EQ(it->second.thread_id, id_of(by_id.at(m.thread)->slack_ts)) << m.id;
    EXPECT_EQ(it->second.kind, m.parent ? "reply" : "post");
  }
  EXPECT_GT(expected, 10);

  // A question each day at 10:00 (2 to 5 November), posted once.
  auto prompts = Ok(run.store->AllPrompts());
  ASSERT_EQ(prompts.size(), 4u);
  std::map<std::string, Prompt> prompt_of;  // by message id
  for (const auto& p : prompts) prompt_of[p.message_id] = p;
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> answers;
  for (const auto& a : Ok(run.store->AllAnswers()))
    answers[{a.prompt_id, a.user_id}].push_back(a.choice.value_or("(unread)"));
  auto has = [](const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  };

  // Every press before the close is that person's answer with the pressed choice.
  std::map<int64_t, std::string> ts_of;
  for (const auto& m : truth.messages) ts_of[m.id] = m.slack_ts;
  int presses = 0;
  for (const auto& c : truth.raw.at("card_actions").as_array()) {
    auto p = prompt_of.find(id_of(ts_of[*json::GetInt64(c, "message_id")]));
    ASSERT_NE(p, prompt_of.end());
    if (p->second.closes_at && *ParseIso(*json::GetString(c, "at")) >= *p->second.closes_at)
      continue;
    std::string user = "slack:U" + std::to_string(*json::GetInt64(c, "user_id"));
    auto got = answers.find({p->second.id, user});
    ASSERT_NE(got, answers.end()) << user << " pressed on " << p->second.id;
    EXPECT_TRUE(has(got->second, *json::GetString(c.at("data"), "choice"))) << user;
    ++presses;
  }
  // Every reply in a question's thread that means an option is read as meant.
  int replies = 0;
  for (const auto& m : truth.messages) {
    if (m.group != group || !m.parent || m.meant.empty() || m.deleted) continue;
    auto p = prompt_of.find(id_of(by_id.at(m.thread)->slack_ts));
    if (p == prompt_of.end() || (p->second.closes_at && m.created >= *p->second.closes_at))
      continue;
    auto got = answers.find({p->second.id, "slack:U" + std::to_string(m.sender)});
    ASSERT_NE(got, answers.end()) << "reply " << m.id;
    EXPECT_TRUE(has(got->second, m.meant)) << "reply " << m.id << ": " << got->second.front();
    ++replies;
  }
  EXPECT_GT(presses, 10);
  EXPECT_GT(replies, 0);
}

TEST(Slack, WithFaultsEveryMessageArrivesOnceAndEveryQuestionIsPostedOnce) {
  it::SimRun run;
  Time start = *ParseIso("2026-11-02T06:00:00Z");  // a Monday
  ASSERT_EQ(
      run.Start(start,
                {"--people",        "80",   "--seed",          "5",    "--history-days", "4",
                 "--horizon-days",  "7",    "--teams",         "0",    "--error-rate",   "0.1",
                 "--truncate-rate", "0.05", "--slow-rate",     "0.05", "--slow-ms",      "10",
                 "--reset-rate",    "0.03", "--throttle-rate", "0.03", "--noise"},
                it::ReadConfig("slack-faults.yaml")),
      "");
  ASSERT_EQ(run.RunThenCatchUpWithoutFaults(start + std::chrono::hours{24 * 5}), "");
  auto stats = run.Get("/_sim/stats");
  EXPECT_GT(*json::GetInt64(stats, "faults"), 20);
  EXPECT_EQ(*json::GetInt64(stats, "violations"), 0);  // Retry-After and the tiers kept

  auto truth = it::ReadTruth(run.Get("/_sim/truth"));
  const std::string channel = run.cfg->campaigns.at(0).community();
  int64_t group = std::stoll(channel.substr(1));
  std::map<std::string, int> stored;  // by id: how often
  for (const auto& m : Ok(run.store->AllMessages()))
    if (m.network == "slack") ++stored[m.id];
  int expected = 0, by_bot = 0;
  std::set<std::string> days;
  for (const auto& m : truth.messages) {
    if (m.group != group || m.system || m.is_private || m.deleted) continue;
    ++expected;
    EXPECT_EQ(stored["slack:" + channel + "/" + m.slack_ts], 1) << "message " << m.id;
    if (m.by_bot && !m.parent) {
      ++by_bot;
      days.insert(FormatIso(m.created).substr(0, 10));
    }
  }
  EXPECT_GT(expected, 10);
  // Monday to Friday at 10:00 Berlin: each question posted once, whatever the faults.
  EXPECT_EQ(by_bot, 5);
  EXPECT_EQ(days.size(), 5u);
  EXPECT_EQ(Ok(run.store->AllPrompts()).size(), 5u);
}
