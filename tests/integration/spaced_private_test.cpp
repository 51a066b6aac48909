// Spaced repetition without spam, against esn-sim for a working week: on Viva Engage every
// question goes to its person as a private message; on Teams as a 1:1 message to the people who
// installed the app, the others asked in the channel in at most one thread a day that names at
// most ten of them. Answers in the private conversations (replies, and card buttons in Teams
// chats) are read like any other; the leaders' report shows one row per question, not per
// person or round.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "analytics/columns.h"
#include "analytics/report.h"
#include "daemon/run_loop.h"
#include "sim_harness.h"
#include "tests/support/ok.h"

using learnloop::testing::Ok;

using namespace learnloop;

namespace {

const std::string kYaml = it::ReadConfig("spaced-private.yaml");

// Mentions in a post: "@First Last" on Viva Engage, "<at>First Last</at>" on Teams.
int Named(const std::string& body) {
  int n = 0;
  for (size_t at = 0; (at = body.find("<at>", at)) != std::string::npos; ++at) ++n;
  return n;
}

}  // namespace

TEST(SpacedPrivately, QuestionsGoToEachPersonPrivatelyTheRestToOneSmallThreadADay) {
  setenv("LEARNLOOP_IT_SECRET", "sim-secret", 1);
  it::SimRun run;
  const Time start = *ParseIso("2026-11-02T06:00:00Z");  // a Monday
  const Time end = start + std::chrono::hours{24 * 5};
  ASSERT_EQ(run.Start(start,
                      {"--people", "300", "--seed", "17", "--history-days", "2", "--horizon-days",
                       "7", "--teams", "1", "--teams-app-share", "0.6"},
                      kYaml),
            "");
  {
    daemon::Daemon d(*run.cfg, *run.store, *run.clock);
    ASSERT_TRUE(d.Start().ok());
    ASSERT_EQ(run.RegisterBot(d), "");
    daemon::RunSimulated(d, *run.clock, end);
    ASSERT_TRUE(d.SyncUntilCaughtUp().ok());
  }
  auto truth = it::ReadTruth(run.Get("/_sim/truth"));
  std::map<int64_t, bool> has_app;
  for (const auto& u : truth.raw.at("users").as_array())
    has_app[*json::GetInt64(u, "id")] = json::GetBool(u, "teams_app").value_or(false);
  std::string channel;
  for (const auto& c : run.cfg->campaigns)
    if (c.name == "practice-teams") channel = c.community();
  int64_t channel_group = 0;
  for (const auto& [g, ch] : truth.channel_of)
    if (ch == channel) channel_group = g;

  // What the bot sent: private messages (to whom), and threads in the communities.
  int engage_private = 0, teams_private = 0;
  std::map<std::string, int> teams_threads_per_day;
  const json::Value posts = run.Get("/_sim/bot_posts");
  for (const auto& p : posts.as_array()) {
    if (json::GetInt64(p, "replied_to_id")) continue;
    std::string body = *json::GetString(p, "body");
    Time at = *ParseIso(*json::GetString(p, "created_at"));
    if (auto to = json::GetInt64(p, "to")) {
      if (json::GetString(p, "chat")) {
        ++teams_private;
        EXPECT_TRUE(has_app[*to]) << "a 1:1 message to someone without the app";
      } else {
        ++engage_private;
      }
      EXPECT_EQ(body.find('@'), std::string::npos) << body;
      EXPECT_EQ(body.find("<at>"), std::string::npos) << body;
      continue;
    }
    if (json::GetInt64(p, "group_id") == channel_group) {
      ++teams_threads_per_day[FormatIso(at).substr(0, 10)];
      EXPECT_LE(Named(body), 10) << body;
      EXPECT_GE(Named(body), 1) << body;
    } else {
      ADD_FAILURE() << "a Viva Engage question in public: " << body;
    }
  }
  EXPECT_GT(engage_private, 20);
  EXPECT_GT(teams_private, 5);
  EXPECT_GE(teams_threads_per_day.size(), 2u);  // people without the app are asked publicly
  for (const auto& [day, n] : teams_threads_per_day) EXPECT_EQ(n, 1) << day;

  // Each private prompt names one person; Teams people without the app were noted.
  int unreachable = 0;
  for (const auto& p : Ok(run.store->AllPrompts())) {
    if (!p.is_private) continue;
    EXPECT_TRUE(p.spaced);
    ASSERT_EQ(p.audience.size(), 1u) << p.id;
  }
  for (const auto& [id, mark] : Ok(run.store->AllUnreachable())) {
    EXPECT_EQ(id.rfind("teams:", 0), 0u) << id;
    EXPECT_FALSE(mark.why.empty()) << id;
    ++unreachable;
  }
  EXPECT_GT(unreachable, 0);

  // Every answer given privately is read as meant; every button pressed in a chat is an answer.
  std::map<std::string, std::string> meant;  // learnloop message id → what was meant
  for (const auto& m : truth.messages)
    if (m.is_private && !m.meant.empty()) meant[it::MessageId(truth, m, m.id)] = m.meant;
  std::map<std::string, Answer> answers;
  for (const auto& a : Ok(run.store->AllAnswers())) answers[a.message_id] = a;
  it::Reading reading;
  int teams_answers = 0;
  for (const auto& [id, what] : meant) {
    auto a = answers.find(id);
    if (a == answers.end()) {
      std::string thread, stored = "not stored";
      for (const auto& m : truth.messages)
        if (it::MessageId(truth, m, m.id) == id) thread = it::MessageId(truth, m, m.thread);
      for (const auto& m : Ok(run.store->MessagesInThread(thread)))
        if (m.id == id) stored = "stored at " + FormatIso(m.created_at);
      auto p = Ok(run.store->AllPrompts());
      std::string prompt = "no prompt";
      for (const auto& q : p)
        if (q.message_id == thread)
          prompt = q.id + " posted " + FormatIso(q.posted_at) + " closes " +
                   FormatIso(q.closes_at.value_or(Time{}));
      ADD_FAILURE() << "a private answer not recognised: " << id << " in " << thread << ", "
                    << stored << "; " << prompt;
      continue;
    }
    auto p = Ok(run.store->GetPrompt(a->second.prompt_id));
    ASSERT_TRUE(p);
    EXPECT_TRUE(p->is_private);
    teams_answers += p->network == "teams";
    if (p->closes_at && a->second.answered_at >= *p->closes_at) continue;
    reading.Add(id, what, a->second.choice);
  }
  int presses = 0;
  EXPECT_EQ(it::CheckCardPresses(truth, *run.store, &presses), "");
  EXPECT_GT(reading.meant, 15);
  EXPECT_EQ(reading.wrong, 0) << reading.first_wrong;
  EXPECT_GE(reading.Recall(), 95.0);
  EXPECT_GT(teams_answers + presses, 3);

  // The leaders' report: one row per campaign, community and question; the campaign line says
  // how many of the people asked took part.
  auto data = Ok(analytics::Columns::Load(*run.store));
  analytics::ReportOptions o;
  o.tz = *FindZone("Europe/Berlin");
  o.timezone_name = "Europe/Berlin";
  auto r = analytics::ComputeWeekly(data, *IsoWeek::Parse("2026-W45"), end, o);
  std::set<std::string> rows;
  for (const auto& row : r.prompts) {
    EXPECT_TRUE(rows.insert(row.prompt_id).second) << row.prompt_id;
    EXPECT_NE(row.prompt_id.find(":q"), std::string::npos) << row.prompt_id;
  }
  EXPECT_LE(rows.size(), 5u);  // three questions on Viva Engage, two on Teams
  ASSERT_EQ(r.campaigns.size(), 2u);
  for (const auto& c : r.campaigns) {
    EXPECT_GT(c.audience, 20) << c.campaign;
    ASSERT_TRUE(c.participation_rate) << c.campaign;
    EXPECT_GT(*c.participation_rate, 0.1) << c.campaign;
    EXPECT_FALSE(c.completion_rate) << "a spaced campaign is no sequence that ends";
  }
  std::cout << "spaced: " << engage_private << " private messages on Viva Engage, " << teams_private
            << " 1:1 on Teams, " << unreachable << " Teams people asked in the channel instead; "
            << reading.right << " of " << reading.meant << " private answers read as meant, "
            << presses << " buttons pressed\n";
}
