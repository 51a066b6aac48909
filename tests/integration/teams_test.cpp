// The Teams connector against esn-sim: Graph delta rounds with an app-only token, prompts
// posted through the Bot Framework, answers read from the prompt threads; every message,
// reply and reaction of the simulated channels in the store exactly once, also with faults.
#include <gtest/gtest.h>

#include <set>

#include "daemon/run_loop.h"
#include "sim_harness.h"
#include "tests/support/ok.h"

using learnloop::testing::Ok;

using namespace learnloop;

namespace {

const std::string kYaml = it::ReadConfig("teams.yaml");

struct Variant {
  std::vector<std::string> faults;
  bool clear_faults = false;
  // The daemon listens for change notifications and the poller is off (one poll a week):
  // everything must then arrive by push. The bot is an app registration of its own.
  bool push = false;
  // A reply brings its root back into the next delta round (the reference cannot say, §2.6).
  bool replies_bring_root = false;
  bool members_forbidden = false;  // one team's member list is refused (403)
};

void RunTeams(const Variant& v) {
  setenv("LEARNLOOP_IT_SECRET", "sim-secret", 1);
  setenv("LEARNLOOP_IT_BOT_SECRET", "bot-secret", 1);
  it::SimRun run;
  std::string yaml = kYaml;
  if (v.push) {
    yaml = "server: {listen: \"127.0.0.1:0\"}\n" + yaml;
    yaml.replace(yaml.find("poll_interval: 30m"), 18, "poll_interval: 7d");
    yaml.replace(yaml.find("TEAMS_NETWORK"), 13, "TEAMS_NETWORK_OWN_BOT");
  }
  Time start = *ParseIso("2026-11-02T06:00:00Z");
  std::vector<std::string> args{"--people",       "150", "--seed",           "21",
                                "--history-days", "10",  "--horizon-days",   "12",
                                "--teams",        "2",   "--token-lifetime", "45m"};
  args.insert(args.end(), v.faults.begin(), v.faults.end());
  if (v.push)
    args.insert(args.end(), {"--bot-client-id", "sim-bot", "--bot-client-secret", "bot-secret"});
  if (v.replies_bring_root) args.push_back("--delta-replies-bring-root");
  ASSERT_EQ(run.Start(start, args, yaml), "");
  std::string forbidden;
  if (v.members_forbidden) {
    forbidden = run.cfg->networks[0].settings.List("teams").at(0);
    ASSERT_EQ(run.SetFaults("{\"members_forbidden\": [\"" + forbidden + "\"]}"), "");
  }
  {
    daemon::Daemon d(*run.cfg, *run.store, *run.clock);
    ASSERT_TRUE(d.Start().ok());
    if (v.members_forbidden) {
      // Said once, and the team's channels are read all the same (checked below).
      auto degraded = d.Degraded();
      ASSERT_EQ(degraded.size(), 1u);
      EXPECT_NE(degraded[0].find(forbidden), std::string::npos) << degraded[0];
    }
    if (v.push) {
      // People's replies in the bot's threads also reach the bot, as signed activities.
      ASSERT_EQ(run.RegisterBot(d), "");
    }
    daemon::RunSimulated(d, *run.clock, start + std::chrono::hours{24 * 5});
    if (v.clear_faults) {
      ASSERT_EQ(run.StopFaults(), "");
      Ok(d.Tick());
    }
    if (v.push) {
      EXPECT_FALSE(d.public_url().empty());
    } else {
      ASSERT_TRUE(d.SyncUntilCaughtUp().ok());
    }
  }
  auto truth = it::ReadTruth(run.Get("/_sim/truth"));
  EXPECT_EQ(it::CheckIngestedExactlyOnce(truth, *run.store), "");
  int teams_messages = 0;
  for (const auto& m : Ok(run.store->AllMessages())) teams_messages += m.network == "teams";
  EXPECT_GT(teams_messages, 100);
  auto stats = run.Get("/_sim/stats");
  EXPECT_EQ(*json::GetInt64(stats, "violations"), 0);
  if (!v.faults.empty()) {
    EXPECT_GT(*json::GetInt64(stats, "faults"), 20);
  }
  if (v.push) {
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
  auto prompts = Ok(run.store->AllPrompts());
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
  for (const auto& a : Ok(run.store->AllAnswers()))  // late answers are kept, marked by their time
    if (a.answered_at < closes[a.prompt_id]) ++answered[a.prompt_id];
  EXPECT_EQ(answered, expected);
  int total = 0;
  for (const auto& [id, n] : answered) total += n;
  EXPECT_GT(total, 3);
}

}  // namespace

TEST(Teams, ReadsChannelsThroughDeltaAndPostsThroughTheBotFramework) {
  RunTeams({.faults = {}, .members_forbidden = true});
}

TEST(Teams, ReadsEveryReplyAlsoWhenRepliesBringTheirRootBackIntoDelta) {
  RunTeams({.faults = {}, .replies_bring_root = true});
}

TEST(Teams, SurvivesOneAnswerInFiveGoingWrong) {
  RunTeams({.faults = {"--error-rate", "0.06", "--truncate-rate", "0.03", "--slow-rate", "0.03",
                       "--slow-ms", "10", "--reset-rate", "0.03", "--throttle-rate", "0.05",
                       "--graph-retry-after-rate", "0.3"},
            .clear_faults = true});
}

TEST(Teams, AnswersArriveByPushWithThePollerOff) { RunTeams({.faults = {}, .push = true}); }

namespace {

// A person's reply in a thread days old (not a prompt's), and an emoji reaction given and then
// taken back: in the store within one poll interval when polling, within a minute by push.
void ReplyAndReactionAnywhere(bool push) {
  setenv("LEARNLOOP_IT_SECRET", "sim-secret", 1);
  it::SimRun run;
  std::string yaml = it::ReadConfig(push ? "teams-anywhere-push.yaml" : "teams-anywhere.yaml");
  Time start = *ParseIso("2026-11-04T09:00:00Z");
  ASSERT_EQ(run.Start(start,
                      {"--people", "120", "--seed", "8", "--history-days", "6", "--horizon-days",
                       "3", "--teams", "1"},
                      yaml),
            "");
  daemon::Daemon d(*run.cfg, *run.store, *run.clock);
  ASSERT_TRUE(d.Start().ok());
  daemon::RunSimulated(d, *run.clock, start + std::chrono::minutes{5});
  // A thread started three days ago, and a member of its channel.
  auto truth = it::ReadTruth(run.Get("/_sim/truth"));
  const it::TruthMsg* root = nullptr;
  for (const auto& m : truth.messages)
    if (m.network == "teams" && !m.parent && !m.deleted && !m.by_bot &&
        m.created < start - std::chrono::hours{72})
      root = &m;
  ASSERT_NE(root, nullptr);
  int64_t person = 0;
  for (const auto& g : truth.raw.at("groups").as_array())
    if (*json::GetInt64(g, "id") == root->group)
      for (const auto& id : g.at("members").as_array()) {
        int64_t p = id.as_number().to_int64();
        // esn-sim gives this person a unicode emoji as reaction on this message.
        if (p != truth.bot && (p + root->id) % 6 == 4) person = p;
      }
  ASSERT_NE(person, 0);
  auto control = [&](const std::string& path, const std::string& body) {
    connectors::http::Request r;
    r.method = "POST";
    r.url = run.sim.base_url() + path;
    r.body = body;
    auto res = run.http->Send(r);
    EXPECT_TRUE(res.ok() && res->status < 300) << path;
    return res.ok() ? json::Parse(res->body).value() : json::Value();
  };
  auto reply = control("/_sim/reply", "{\"user_id\":" + std::to_string(person) +
                                          ",\"replied_to_id\":" + std::to_string(root->id) +
                                          ",\"body\":\"Late, but: yes!\"}");
  control("/_sim/react", "{\"user_id\":" + std::to_string(person) +
                             ",\"message_id\":" + std::to_string(root->id) + "}");
  const Millis wait = push ? Millis{std::chrono::minutes{1}} : Millis{std::chrono::minutes{31}};
  daemon::RunSimulated(d, *run.clock, run.clock->Now() + wait);
  const std::string channel = truth.channel_of.at(root->group);
  const std::string reply_id =
      "teams:" + channel + "/" + std::to_string(*json::GetInt64(reply, "id"));
  const std::string root_id = "teams:" + channel + "/" + std::to_string(root->id);
  const std::string who = "teams:" + truth.aad_of.at(person);
  bool stored = false;
  for (const auto& m : Ok(run.store->MessagesInThread(root_id))) stored |= m.id == reply_id;
  EXPECT_TRUE(stored) << "the reply in an old thread is not in the store";
  auto reaction_of = [&]() -> std::optional<std::string> {
    for (const auto& r : Ok(run.store->AllReactions()))
      if (r.message_id == root_id && r.user_id == who) return r.kind;
    return std::nullopt;
  };
  EXPECT_EQ(reaction_of().value_or("none"), "\xF0\x9F\x91\x8D");
  control("/_sim/react", "{\"user_id\":" + std::to_string(person) +
                             ",\"message_id\":" + std::to_string(root->id) + ",\"remove\":true}");
  daemon::RunSimulated(d, *run.clock, run.clock->Now() + wait);
  EXPECT_FALSE(reaction_of()) << "a reaction taken back is still in the store";
  auto stats = run.Get("/_sim/stats");
  EXPECT_EQ(*json::GetInt64(stats, "violations"), 0);
}

}  // namespace

TEST(Teams, AReplyInAnyRecentThreadAndAReactionTakenBackArriveByPolling) {
  ReplyAndReactionAnywhere(false);
}

TEST(Teams, AReplyInAnyRecentThreadAndAReactionTakenBackArriveByPush) {
  ReplyAndReactionAnywhere(true);
}
