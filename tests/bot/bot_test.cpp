#include "bot/bot.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>

#include "bot/schedule.h"
#include "config/config.h"
#include "connectors/common/mentions.h"
#include "connectors/registry.h"
#include "tests/support/fake_poster.h"
#include "tests/support/ok.h"

using learnloop::testing::FakePoster;
using learnloop::testing::Ok;

using namespace learnloop;
namespace fs = std::filesystem;

namespace {

struct BotFixture : ::testing::Test {
  fs::path dir;
  std::unique_ptr<store::Store> store;
  config::Config cfg;
  void SetUp() override {
    char t[] = "/tmp/learnloop-bot-XXXXXX";
    dir = mkdtemp(t);
    store = std::move(*store::OpenSqlite((dir / "s.db").string()));
    setenv("LEARNLOOP_BOT_TOKEN", "x", 1);
    auto r = config::LoadString(R"(timezone: Europe/Berlin
networks: [{type: yammer, token: "${LEARNLOOP_BOT_TOKEN}"}]
campaigns:
  - {name: weekly, network: yammer, community: "42", schedule: "0 9 * * MON", open_for: 72h, prompts: [one, two]}
)",
                                "t.yaml", connectors::Kinds());
    ASSERT_TRUE(r.config);
    cfg = *r.config;
  }
  void TearDown() override { fs::remove_all(dir); }
};

}  // namespace

TEST_F(BotFixture, PostsEachPromptOnceAtLocalTimeAcrossARestart) {
  ManualClock clock(*ParseIso("2026-10-18T12:00:00Z"));
  FakePoster poster;
  poster.clock = &clock;
  {
    bot::Bot b(cfg, *store, clock, {{"yammer", &poster}});
    for (Time t = clock.Now(); t < *ParseIso("2026-10-26T12:00:00Z");
         t += std::chrono::minutes{30}) {
      clock.SleepUntil(t);
      Ok(b.Schedule());
      Ok(b.Dispatch());
    }
  }
  bot::Bot restarted(cfg, *store, clock, {{"yammer", &poster}});  // a restart re-reads the outbox
  Ok(restarted.Schedule());
  Ok(restarted.Dispatch());
  ASSERT_EQ(poster.posts.size(), 2u);
  auto prompts = Ok(store->AllPrompts());
  ASSERT_EQ(prompts.size(), 2u);
  EXPECT_EQ(FormatIso(prompts[0].posted_at), "2026-10-19T07:00:00Z");  // 09:00 CEST
  EXPECT_EQ(FormatIso(prompts[1].posted_at), "2026-10-26T08:00:00Z");  // 09:00 CET
  EXPECT_EQ(poster.posts[0].group_id, "42");
  EXPECT_EQ(poster.posts[0].body.rfind("one", 0), 0u);
  EXPECT_EQ(poster.posts[1].body.rfind("two", 0), 0u);
  EXPECT_EQ(prompts[0].message_id, "yammer:1001");
}

TEST_F(BotFixture, APostThatWentOutDespiteAnErrorIsNotPostedAgain) {
  ManualClock clock(*ParseIso("2026-10-19T07:00:00Z"));
  FakePoster poster;
  poster.clock = &clock;
  bot::Bot b(cfg, *store, clock, {{"yammer", &poster}});
  poster.fail_after_posting = true;
  Ok(b.Schedule());
  Ok(b.Dispatch());
  EXPECT_EQ(poster.posts.size(), 1u);
  EXPECT_TRUE(Ok(store->AllPrompts()).empty());
  poster.fail_after_posting = false;
  clock.Advance(std::chrono::minutes{1});
  bot::Bot after_crash(cfg, *store, clock, {{"yammer", &poster}});
  Ok(after_crash.Dispatch());
  EXPECT_EQ(poster.posts.size(), 1u);  // found by its text, not re-posted
  EXPECT_EQ(after_crash.stats().reconciled, 1);
  EXPECT_EQ(Ok(store->AllPrompts()).size(), 1u);
}

TEST_F(BotFixture, AStoreThatFailsStopsTheTickWithItsErrorAndTheNextTickGoesOn) {
  ManualClock clock(*ParseIso("2026-10-19T06:00:00Z"));
  FakePoster poster;
  poster.clock = &clock;
  bot::Bot b(cfg, *store, clock, {{"yammer", &poster}});
  Ok(b.Tick());  // the campaign is seen before its Monday 09:00
  clock.SleepUntil(*ParseIso("2026-10-19T07:00:00Z"));
  // The outbox cannot be written (its table is gone): the prompt due now is not lost.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir / "s.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(db, "ALTER TABLE outbox RENAME TO outbox_aside", nullptr, nullptr, nullptr),
      SQLITE_OK);
  Status s = b.Tick();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("outbox"), std::string::npos) << s.message();
  EXPECT_TRUE(poster.posts.empty());
  // Once the store is whole again, the next tick posts the prompt of 09:00.
  ASSERT_EQ(
      sqlite3_exec(db, "ALTER TABLE outbox_aside RENAME TO outbox", nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(db);
  clock.Advance(std::chrono::minutes{1});
  Ok(b.Tick());
  ASSERT_EQ(poster.posts.size(), 1u);
  EXPECT_EQ(poster.posts[0].body.rfind("one", 0), 0u);
}

TEST_F(BotFixture, APromptThatWaitedPastCatchUpIsDroppedNotPostedLate) {
  ManualClock clock(*ParseIso("2026-10-19T06:00:00Z"));
  FakePoster poster;
  poster.clock = &clock;
  bot::Bot b(cfg, *store, clock, {{"yammer", &poster}});
  Ok(b.Schedule());  // the campaign is seen before its Monday 09:00
  clock.SleepUntil(*ParseIso("2026-10-19T07:00:00Z"));
  poster.down = true;  // the ESN is down all morning
  Ok(b.Schedule());
  Ok(b.Dispatch());
  clock.Advance(std::chrono::hours{3});
  Ok(b.Dispatch());  // still down, still within catch_up: kept
  EXPECT_EQ(Ok(store->UnfinishedOutbox()).size(), 1u);
  poster.down = false;
  clock.Advance(std::chrono::hours{4});  // back, seven hours after the prompt was due
  Ok(b.Dispatch());
  EXPECT_TRUE(poster.posts.empty());  // not posted late
  auto item = Ok(store->GetOutbox("prompt:weekly:2026-10-19T07:00:00Z"));
  ASSERT_TRUE(item);
  EXPECT_EQ(item->state, "failed");
  EXPECT_NE(item->last_error.find("past the campaign's catch_up"), std::string::npos)
      << item->last_error;
}

TEST_F(BotFixture, AMissedTimeBeyondTheCatchUpWindowIsSkipped) {
  ManualClock clock(*ParseIso("2026-10-20T12:00:00Z"));  // a day after Monday 09:00
  Ok(store->UpdateCampaignState(
      "weekly", [](store::CampaignState& s) { s.last_due = *ParseIso("2026-10-12T07:00:00Z"); }));
  FakePoster poster;
  poster.clock = &clock;
  bot::Bot b(cfg, *store, clock, {{"yammer", &poster}});
  Ok(b.Schedule());
  Ok(b.Dispatch());
  EXPECT_TRUE(poster.posts.empty());
}

TEST_F(BotFixture, RepliesFromPeopleBeforeTheCloseAreAnswers) {
  ManualClock clock(*ParseIso("2026-10-19T07:00:00Z"));
  FakePoster poster;
  poster.clock = &clock;
  bot::Bot b(cfg, *store, clock, {{"yammer", &poster}});
  Ok(b.Schedule());
  Ok(b.Dispatch());
  auto p = Ok(store->AllPrompts()).at(0);
  Ok(store->UpsertUser(
      User{"yammer:9", "yammer", "Bot", std::nullopt, std::nullopt, "active", true, std::nullopt}));
  auto reply = [&](const char* id, const char* author, Time at) {
    Message m;
    m.id = id;
    m.network = "yammer";
    m.group_id = "yammer:42";
    m.thread_id = p.message_id;
    m.reply_to_id = p.message_id;
    m.author_id = author;
    m.created_at = at;
    m.kind = "reply";
    Ok(store->UpsertMessage(m));
  };
  reply("yammer:2001", "yammer:1", p.posted_at + std::chrono::hours{2});
  reply("yammer:2002", "yammer:9", p.posted_at + std::chrono::hours{3});   // the bot itself
  reply("yammer:2003", "yammer:2", p.posted_at + std::chrono::hours{80});  // after the close
  clock.Advance(std::chrono::hours{100});
  Ok(b.RecognizeAnswers());
  Ok(b.RecognizeAnswers());  // idempotent
  auto answers = Ok(store->AllAnswers());
  ASSERT_EQ(answers.size(), 2u);  // the bot's reply is none
  EXPECT_EQ(answers[0].user_id, "yammer:1");
  EXPECT_EQ(answers[0].message_id, "yammer:2001");
  EXPECT_EQ(answers[0].points, 1);
  // The late reply is recorded as late (after closes_at) and scores nothing.
  EXPECT_EQ(answers[1].message_id, "yammer:2003");
  EXPECT_GE(answers[1].answered_at, *p.closes_at);
  EXPECT_EQ(answers[1].points, 0);
}

TEST_F(BotFixture, CardButtonsPressedBeforeTheCloseAreAnswersWithTheirChoice) {
  ManualClock clock(*ParseIso("2026-10-19T07:00:00Z"));
  FakePoster poster;
  poster.clock = &clock;
  bot::Bot b(cfg, *store, clock, {{"yammer", &poster}});
  Ok(b.Schedule());
  Ok(b.Dispatch());
  auto p = Ok(store->AllPrompts()).at(0);
  auto press = [&](const char* id, const char* user, const char* value, Time at) {
    Ok(store->UpsertCardAction(CardAction{id, "yammer", p.message_id, user, value, at}));
  };
  press("yammer:f1", "yammer:1", R"({"choice":"B"})", p.posted_at + std::chrono::hours{1});
  press("yammer:f2", "yammer:2", R"({"rating":4})", p.posted_at + std::chrono::hours{2});
  press("yammer:f3", "yammer:3", R"({"choice":"A"})", p.posted_at + std::chrono::hours{90});
  clock.Advance(std::chrono::hours{100});
  Ok(b.RecognizeAnswers());
  auto answers = Ok(store->AllAnswers());
  ASSERT_EQ(answers.size(), 3u);
  EXPECT_EQ(answers[0].message_id, "yammer:f1");
  EXPECT_EQ(answers[0].choice.value_or(""), "B");
  EXPECT_EQ(answers[1].choice.value_or(""), R"({"rating":4})");
  EXPECT_EQ(answers[2].points, 0);  // pressed after the close: late
  EXPECT_FALSE(answers[2].choice.has_value());
}

namespace {

config::Config Load(const std::string& campaigns) {
  setenv("LEARNLOOP_BOT_TOKEN", "x", 1);
  auto r = config::LoadString(
      "timezone: Europe/Berlin\nnetworks: [{type: yammer, token: "
      "\"${LEARNLOOP_BOT_TOKEN}\"}]\ncampaigns:\n" +
          campaigns,
      "c.yaml", connectors::Kinds());
  EXPECT_TRUE(r.config) << (r.errors.empty() ? "" : r.errors[0].ToString());
  return r.config ? *r.config : config::Config{};
}

Message Reply(const Prompt& p, const std::string& id, const std::string& author, Time at,
              const std::string& text) {
  Message m;
  m.id = id;
  m.network = "yammer";
  m.group_id = p.group_id;
  m.thread_id = p.message_id;
  m.reply_to_id = p.message_id;
  m.author_id = author;
  m.created_at = at;
  m.kind = "reply";
  m.text = text;
  return m;
}

}  // namespace

TEST_F(BotFixture, ChoiceAnswersAreReadScoredOncePerPersonAndFrozenAtTheClose) {
  cfg = Load(R"(  - name: quiz
    network: yammer
    community: "42"
    schedule: "0 9 * * MON"
    open_for: 48h
    scoring: {answer: 1, correct: 2}
    steps:
      - text: "A colleague asks how to share a large file. Best first step?"
        kind: choice
        options: ["Email it", "Share a link from OneDrive", "Print it"]
        correct: B
        explanation: "A link keeps one version."
)");
  ManualClock clock(*ParseIso("2026-10-19T07:00:00Z"));
  FakePoster poster;
  poster.clock = &clock;
  bot::Bot b(cfg, *store, clock, {{"yammer", &poster}});
  Ok(b.Schedule());
  Ok(b.Dispatch());
  ASSERT_EQ(poster.posts.size(), 1u);
  const std::string& body = poster.posts[0].body;
  EXPECT_NE(body.find("\nA) Email it\nB) Share a link from OneDrive\nC) Print it"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find("with the letter of your answer"), std::string::npos);
  auto p = Ok(store->AllPrompts()).at(0);
  EXPECT_EQ(p.type, "choice");
  EXPECT_EQ(p.correct.value_or(""), "B");
  Time t0 = p.posted_at;
  using std::chrono::hours;
  Ok(store->UpsertMessage(
      Reply(p, "yammer:1", "yammer:ada", t0 + hours{1}, "Good one, let me think")));
  Ok(store->UpsertMessage(Reply(p, "yammer:2", "yammer:ada", t0 + hours{2}, "b) a link")));
  Ok(store->UpsertMessage(Reply(p, "yammer:3", "yammer:ada", t0 + hours{3}, "or maybe C")));
  Ok(store->UpsertMessage(Reply(p, "yammer:4", "yammer:bob", t0 + hours{4}, "A")));
  Message edited = Reply(p, "yammer:5", "yammer:cy", t0 + hours{5}, "share a link from onedrive");
  Ok(store->UpsertMessage(edited));
  Ok(b.RecognizeAnswers());
  std::map<std::string, Answer> by_id;
  for (const auto& a : Ok(store->AllAnswers())) by_id[a.message_id] = a;
  ASSERT_EQ(by_id.size(), 5u);
  EXPECT_FALSE(by_id["yammer:1"].choice.has_value());  // a comment: recorded, not scored
  EXPECT_EQ(by_id["yammer:1"].points, 0);
  EXPECT_EQ(by_id["yammer:2"].choice.value_or(""), "B");
  EXPECT_TRUE(by_id["yammer:2"].correct.value_or(false));
  EXPECT_EQ(by_id["yammer:2"].points, 3);  // the first readable answer: 1 + 2 for correct
  EXPECT_EQ(by_id["yammer:3"].choice.value_or(""), "C");
  EXPECT_EQ(by_id["yammer:3"].points, 0);  // not the first
  EXPECT_FALSE(by_id["yammer:4"].correct.value_or(true));
  EXPECT_EQ(by_id["yammer:4"].points, 1);
  EXPECT_EQ(by_id["yammer:5"].choice.value_or(""), "B");  // the option's words

  // Bob edits his answer before the close: it counts as edited. Cy edits after: it does not.
  Message bob = Reply(p, "yammer:4", "yammer:bob", t0 + hours{4}, "B!");
  bob.edited_at = t0 + hours{20};
  Ok(store->UpsertMessage(bob));
  clock.SleepUntil(t0 + hours{50});
  edited.text = "A";
  edited.edited_at = t0 + hours{49};
  Ok(store->UpsertMessage(edited));
  // Ada deletes her first readable answer: it is withdrawn, and her next one scores.
  Message gone = Reply(p, "yammer:2", "yammer:ada", t0 + hours{2}, "b) a link");
  gone.deleted = true;
  Ok(store->UpsertMessage(gone));
  Ok(b.RecognizeAnswers());
  by_id.clear();
  for (const auto& a : Ok(store->AllAnswers())) by_id[a.message_id] = a;
  EXPECT_EQ(by_id.count("yammer:2"), 0u);
  EXPECT_EQ(by_id["yammer:3"].points, 1);  // C, wrong: 1
  EXPECT_EQ(by_id["yammer:4"].choice.value_or(""), "B");
  EXPECT_EQ(by_id["yammer:4"].points, 3);
  EXPECT_EQ(by_id["yammer:5"].choice.value_or(""), "B");  // frozen at the close
}

TEST_F(BotFixture, PollsAndRatingsAreTalliedNotScoredForCorrectness) {
  cfg = Load(R"(  - name: pulse
    network: yammer
    community: "42"
    schedule: "0 9 * * MON"
    steps:
      - {text: "How useful was this week's session?", kind: rating}
)");
  ManualClock clock(*ParseIso("2026-10-19T07:00:00Z"));
  FakePoster poster;
  poster.clock = &clock;
  bot::Bot b(cfg, *store, clock, {{"yammer", &poster}});
  Ok(b.Schedule());
  Ok(b.Dispatch());
  EXPECT_NE(poster.posts.at(0).body.find("a number from 1 to 5"), std::string::npos);
  auto p = Ok(store->AllPrompts()).at(0);
  Ok(store->UpsertMessage(
      Reply(p, "yammer:1", "yammer:ada", p.posted_at + std::chrono::hours{1}, "4/5 - good")));
  Ok(store->UpsertMessage(Reply(p, "yammer:2", "yammer:bob", p.posted_at + std::chrono::hours{1},
                                "\xE2\x98\x85\xE2\x98\x85")));
  Ok(b.RecognizeAnswers());
  auto answers = Ok(store->AllAnswers());
  ASSERT_EQ(answers.size(), 2u);
  std::set<std::string> choices{answers[0].choice.value_or(""), answers[1].choice.value_or("")};
  EXPECT_EQ(choices, (std::set<std::string>{"4", "2"}));
  EXPECT_FALSE(answers[0].correct.has_value());
}

TEST_F(BotFixture, QuietHoursDeferHolidaysSkipAndEveryCommunityGetsItsPrompt) {
  cfg = Load(R"(  - name: cop
    network: yammer
    communities: ["42", "43"]
    schedule: "30 21 * * *"
    quiet_hours: "21:00-07:30"
    holidays: [2026-10-21]
    repeat: true
    prompts: ["Question of the day"]
)");
  ManualClock clock(*ParseIso("2026-10-19T12:00:00Z"));
  FakePoster poster;
  poster.clock = &clock;
  bot::Bot b(cfg, *store, clock, {{"yammer", &poster}});
  for (Time t = clock.Now(); t < *ParseIso("2026-10-24T12:00:00Z"); t += std::chrono::minutes{15}) {
    clock.SleepUntil(t);
    Ok(b.Schedule());
    Ok(b.Dispatch());
  }
  // 21:30 Berlin is quiet: each day's prompt goes out at 07:30 the next morning, in both
  // communities; the one whose morning is the holiday (21 Oct) waits for the 22nd, where it
  // gives way to the next day's: a community gets one prompt a morning, not two.
  std::map<std::string, std::set<std::string>> local_posts;  // community → local times
  for (const auto& p : Ok(store->AllPrompts()))
    local_posts[p.group_id].insert(FormatLocal(*FindZone("Europe/Berlin"), p.posted_at));
  ASSERT_EQ(local_posts.size(), 2u);
  EXPECT_EQ(local_posts["yammer:42"], local_posts["yammer:43"]);
  std::set<std::string> expected{"2026-10-20 07:30 CEST", "2026-10-22 07:30 CEST",
                                 "2026-10-23 07:30 CEST", "2026-10-24 07:30 CEST"};
  EXPECT_EQ(local_posts["yammer:42"], expected);
  EXPECT_EQ(local_posts["yammer:42"].count("2026-10-21 07:30 CEST"), 0u);  // the holiday
  EXPECT_EQ(poster.posts.size(), 2u * 4u);
  EXPECT_EQ(Ok(store->PromptsOf("cop")).size(), 2u * 4u);  // the one that gave way is gone
}

TEST_F(BotFixture, RemindersMentionWhoHasNotAnsweredAfterTheDelayAtMostTwiceNeverInQuietHours) {
  cfg = Load(R"(  - name: daily
    network: yammer
    community: "42"
    schedule: "0 16 * * MON"
    open_for: 24h
    quiet_hours: "20:00-08:00"
    reminders: {after: 2h, max: 2}
    repeat: true
    prompts: ["What did you learn today?"]
)");
  Group g;
  g.id = "yammer:42";
  g.network = "yammer";
  g.name = "CoP";
  for (const char* who : {"yammer:1", "yammer:2", "yammer:3", "yammer:9"}) {
    g.members.push_back(who);
    Ok(store->UpsertUser(User{who, "yammer", std::string("Person ") + who, std::nullopt,
                              std::nullopt, "active", std::string(who) == "yammer:9",
                              std::nullopt}));
  }
  Ok(store->UpsertGroup(g));
  ManualClock clock(*ParseIso("2026-10-19T13:00:00Z"));
  FakePoster poster;
  poster.clock = &clock;
  bot::Bot b(cfg, *store, clock, {{"yammer", &poster}});
  auto tick = [&] {
    Ok(b.Schedule());
    Ok(b.RecognizeAnswers());
    Ok(b.Remind());
    Ok(b.Dispatch());
  };
  tick();
  clock.SleepUntil(*ParseIso("2026-10-19T14:00:00Z"));  // 16:00 Berlin (CEST)
  tick();
  ASSERT_EQ(poster.posts.size(), 1u);
  auto p = Ok(store->AllPrompts()).at(0);
  Ok(store->UpsertMessage(Reply(p, "yammer:501", "yammer:1", p.posted_at + std::chrono::minutes{30},
                                "I learned to ask earlier")));
  auto run_until = [&](const char* iso) {
    for (Time t = clock.Now(); t < *ParseIso(iso); t += std::chrono::minutes{10}) {
      clock.SleepUntil(t);
      tick();
    }
  };
  run_until("2026-10-19T17:00:00Z");  // 19:00 Berlin: after the first reminder
  // Who opts out is never named again.
  Ok(bot::Bot::SetOptOut(*store, "yammer:3", true));
  EXPECT_TRUE(Ok(b.OptedOut("yammer:3")));
  run_until("2026-10-20T15:00:00Z");
  // 18:00 Berlin: the first reminder, naming the two who have not answered (not the bot, not
  // the one who answered). 20:00 is quiet: the second waits until 08:00 the next morning.
  ASSERT_EQ(poster.posts.size(), 3u);
  const auto& first = poster.posts[1];
  EXPECT_EQ(first.reply_to.value_or(""), NativeId(p.message_id));
  EXPECT_NE(first.body.find("{{mention:2|Person yammer:2}}, {{mention:3|Person yammer:3}}"),
            std::string::npos)
      << first.body;
  EXPECT_EQ(first.body.find("mention:1|"), std::string::npos);
  EXPECT_EQ(first.body.find("mention:9|"), std::string::npos);
  auto zone = *FindZone("Europe/Berlin");
  std::vector<std::string> sent;
  for (const auto& key : {"reminder:" + p.id + ":1", "reminder:" + p.id + ":2"}) {
    auto item = Ok(store->GetOutbox(key));
    ASSERT_TRUE(item.has_value()) << key;
    sent.push_back(FormatLocal(zone, *item->posted_at));
  }
  EXPECT_EQ(sent[0], "2026-10-19 18:00 CEST");
  EXPECT_EQ(sent[1], "2026-10-20 08:00 CEST");
  auto second = Ok(store->GetOutbox("reminder:" + p.id + ":2"));
  EXPECT_EQ(second->body.find("mention:3|"), std::string::npos) << second->body;
  EXPECT_NE(second->body.find("mention:2|"), std::string::npos) << second->body;
  // After everyone answered, no reminder would be posted: a third is not allowed anyway.
  EXPECT_FALSE(Ok(store->GetOutbox("reminder:" + p.id + ":3")).has_value());
}

TEST(Mentions, TokensRenderPerNetwork) {
  std::string body = "Hi " + connectors::MentionToken("7", "Ada L{o}vel|ace") + " and " +
                     connectors::MentionToken("8", "Bo") + "!";
  std::vector<connectors::MentionRef> refs;
  EXPECT_EQ(connectors::RenderMentions(
                body, [](const connectors::MentionRef& m) { return "@" + m.name; }, &refs),
            "Hi @Ada Lovelace and @Bo!");
  ASSERT_EQ(refs.size(), 2u);
  EXPECT_EQ(refs[0].native_id, "7");
  EXPECT_EQ(connectors::RenderMentions("no tokens {{mention:x", [](auto&) { return "?"; }),
            "no tokens {{mention:x");
}

TEST_F(BotFixture, FeedbackAtTheCloseGivesTheAnswerAndTheTallyWithoutNames) {
  cfg = Load(R"(  - name: quiz
    network: yammer
    community: "42"
    schedule: "0 9 * * MON"
    open_for: 24h
    feedback: true
    steps:
      - text: "Best first step?"
        kind: choice
        options: ["Email it", "Share a link"]
        correct: B
        explanation: "A link keeps one version."
)");
  ManualClock clock(*ParseIso("2026-10-19T07:00:00Z"));
  FakePoster poster;
  poster.clock = &clock;
  bot::Bot b(cfg, *store, clock, {{"yammer", &poster}});
  Ok(b.Schedule());
  Ok(b.Dispatch());
  auto p = Ok(store->AllPrompts()).at(0);
  using std::chrono::hours;
  Ok(store->UpsertMessage(Reply(p, "yammer:1", "yammer:ada", p.posted_at + hours{1}, "B")));
  Ok(store->UpsertMessage(Reply(p, "yammer:2", "yammer:bob", p.posted_at + hours{2}, "a)")));
  Ok(store->UpsertMessage(Reply(p, "yammer:3", "yammer:cy", p.posted_at + hours{3}, "b, a link")));
  Ok(store->UpsertMessage(
      Reply(p, "yammer:4", "yammer:dee", p.posted_at + hours{30}, "B")));  // late
  auto tick = [&] {
    Ok(b.RecognizeAnswers());
    Ok(b.Feedback());
    Ok(b.Dispatch());
  };
  tick();
  EXPECT_EQ(poster.posts.size(), 1u);  // not before the close
  clock.SleepUntil(*p.closes_at + std::chrono::minutes{1});
  tick();
  tick();  // once
  ASSERT_EQ(poster.posts.size(), 2u);
  const std::string& body = poster.posts[1].body;
  EXPECT_NE(body.find("The answer: B) Share a link. A link keeps one version."), std::string::npos)
      << body;
  EXPECT_NE(body.find("3 answer(s), 66% right."), std::string::npos) << body;
  EXPECT_NE(body.find("A) Email it: 1\nB) Share a link: 2"), std::string::npos) << body;
  EXPECT_EQ(body.find("ada"), std::string::npos);  // answers are not public
  EXPECT_EQ(poster.posts[1].reply_to.value_or(""), NativeId(p.message_id));
}

TEST_F(BotFixture, ScoredAnswersAreLikedOnceWhenTheCampaignAcknowledges) {
  cfg = Load(R"(  - name: daily
    network: yammer
    community: "42"
    schedule: "0 9 * * MON"
    acknowledge: true
    repeat: true
    prompts: ["What did you learn?"]
)");
  ManualClock clock(*ParseIso("2026-10-19T07:00:00Z"));
  FakePoster poster;
  poster.clock = &clock;
  bot::Bot b(cfg, *store, clock, {{"yammer", &poster}});
  Ok(b.Schedule());
  Ok(b.Dispatch());
  auto p = Ok(store->AllPrompts()).at(0);
  using std::chrono::hours;
  Ok(store->UpsertMessage(Reply(p, "yammer:11", "yammer:ada", p.posted_at + hours{1}, "a thing")));
  Ok(store->UpsertMessage(Reply(p, "yammer:12", "yammer:ada", p.posted_at + hours{2}, "and more")));
  Ok(store->UpsertMessage(Reply(p, "yammer:13", "yammer:bob", p.posted_at + hours{2}, "another")));
  poster.fail_likes = 1;
  for (int i = 0; i < 3; ++i) {
    Ok(b.RecognizeAnswers());
    Ok(b.Acknowledge());
  }
  // Ada's first answer and Bob's, once each; the failed like was tried again.
  std::sort(poster.liked.begin(), poster.liked.end());
  EXPECT_EQ(poster.liked, (std::vector<std::string>{"11", "13"}));
}

TEST_F(BotFixture, OperatorsPauseResumeSkipAndPostNowThroughTheStore) {
  ManualClock clock(*ParseIso("2026-10-18T12:00:00Z"));  // a Sunday; prompts Mondays 09:00
  FakePoster poster;
  poster.clock = &clock;
  bot::Bot daemon_bot(cfg, *store, clock, {{"yammer", &poster}});
  bot::Bot operator_bot(cfg, *store, clock, {});  // another process, the same store
  auto run_until = [&](const char* iso) {
    for (Time t = clock.Now(); t < *ParseIso(iso); t += std::chrono::minutes{30}) {
      clock.SleepUntil(t);
      Ok(daemon_bot.Schedule());
      Ok(daemon_bot.Dispatch());
    }
  };
  EXPECT_FALSE(operator_bot.SetPaused("nope", true).ok());
  ASSERT_TRUE(operator_bot.SetPaused("weekly", true).ok());
  run_until("2026-10-20T00:00:00Z");
  EXPECT_TRUE(poster.posts.empty());  // paused over Monday 19 Oct
  ASSERT_TRUE(operator_bot.SetPaused("weekly", false).ok());
  auto skipped = operator_bot.SkipNext("weekly");
  ASSERT_TRUE(skipped.ok());
  EXPECT_EQ(FormatIso(*skipped), "2026-10-26T08:00:00Z");  // Monday 09:00 CET
  run_until("2026-10-27T00:00:00Z");
  EXPECT_TRUE(poster.posts.empty());  // the 26th was skipped
  auto now_key = operator_bot.PostNow("weekly");
  ASSERT_TRUE(now_key.ok()) << now_key.error().message;
  run_until("2026-10-27T01:00:00Z");
  ASSERT_EQ(poster.posts.size(), 1u);  // posted at the daemon's next tick
  EXPECT_EQ(poster.posts[0].body.rfind("one", 0), 0u);
  run_until("2026-11-03T00:00:00Z");
  ASSERT_EQ(poster.posts.size(), 2u);  // Monday 2 Nov, the next step
  EXPECT_EQ(poster.posts[1].body.rfind("two", 0), 0u);
}

TEST_F(BotFixture, LeaderboardsShowOnlyWhoOptedInWithPointsAndStreaks) {
  cfg = Load(R"(  - name: daily
    network: yammer
    community: "42"
    schedule: "0 9 * * MON-FRI"
    open_for: 8h
    leaderboard: {schedule: "0 16 * * FRI", top: 5}
    repeat: true
    prompts: ["What did you learn?"]
)");
  for (const char* who : {"yammer:ada", "yammer:bob", "yammer:cy"})
    Ok(store->UpsertUser(User{who, "yammer", std::string(who).substr(7), std::nullopt, std::nullopt,
                              "active", false, std::nullopt}));
  Ok(bot::Bot::SetOptOut(*store, "yammer:ada", false));  // opted in
  Ok(bot::Bot::SetOptOut(*store, "yammer:bob", false));  // opted in; cy did not
  ManualClock clock(*ParseIso("2026-10-19T06:00:00Z"));
  FakePoster poster;
  poster.clock = &clock;
  bot::Bot b(cfg, *store, clock, {{"yammer", &poster}});
  Ok(b.Schedule());  // the daemon runs from 08:00 Berlin on (nothing is due before it first looks)
  // Monday to Friday: ada answers every day, bob Monday to Wednesday, cy every day.
  for (int day = 0; day < 5; ++day) {
    clock.SleepUntil(*ParseIso("2026-10-19T07:30:00Z") + std::chrono::hours{24 * day});
    Ok(b.Schedule());
    Ok(b.Dispatch());
    auto prompts = Ok(store->AllPrompts());
    const Prompt& p = prompts.back();
    for (const char* who : {"yammer:ada", "yammer:bob", "yammer:cy"}) {
      if (std::string(who) == "yammer:bob" && day >= 3) continue;
      Ok(store->UpsertMessage(Reply(p, std::string(who) + ":" + std::to_string(day), who,
                                    p.posted_at + std::chrono::minutes{30}, "something")));
    }
    clock.SleepUntil(clock.Now() + std::chrono::hours{1});
    Ok(b.RecognizeAnswers());
  }
  clock.SleepUntil(*ParseIso("2026-10-23T14:30:00Z"));  // Friday 16:30 Berlin
  Ok(b.Leaderboards());
  Ok(b.Leaderboards());  // once
  Ok(b.Dispatch());
  ASSERT_EQ(poster.posts.size(), 6u);
  const std::string& board = poster.posts.back().body;
  EXPECT_NE(board.find("1. ada - 5 points, 5 in a row\n2. bob - 3 points, 0 in a row"),
            std::string::npos)
      << board;
  EXPECT_EQ(board.find("cy"), std::string::npos) << board;  // did not opt in
  EXPECT_FALSE(poster.posts.back().reply_to.has_value());   // a post of its own
}

TEST_F(BotFixture, ACohortCampaignRemindsOnlyPeopleWhoJoinedInItsRange) {
  cfg = Load(R"(  - name: onboarding
    network: yammer
    community: "42"
    schedule: "0 10 * * MON"
    audience: {joined_from: 2026-10-01, joined_to: 2026-11-01}
    reminders: {after: 2h, max: 1}
    prompts: ["Welcome! What surprised you in your first weeks?"]
)");
  Group g;
  g.id = "yammer:42";
  g.network = "yammer";
  g.name = "New joiners";
  auto person = [&](const char* id, const char* joined) {
    g.members.push_back(id);
    Ok(store->UpsertUser(User{id, "yammer", id, std::nullopt, std::nullopt, "active", false,
                              joined ? ParseIso(joined) : std::nullopt}));
  };
  person("yammer:new1", "2026-10-05");
  person("yammer:new2", "2026-10-31T23:00:00Z");
  person("yammer:old", "2025-03-01");
  person("yammer:later", "2026-11-01");
  person("yammer:unknown", nullptr);
  Ok(store->UpsertGroup(g));
  ManualClock clock(*ParseIso("2026-11-02T08:30:00Z"));
  FakePoster poster;
  poster.clock = &clock;
  bot::Bot b(cfg, *store, clock, {{"yammer", &poster}});
  for (Time t = clock.Now(); t < *ParseIso("2026-11-02T13:00:00Z"); t += std::chrono::minutes{15}) {
    clock.SleepUntil(t);
    Ok(b.Schedule());
    Ok(b.RecognizeAnswers());
    Ok(b.Remind());
    Ok(b.Dispatch());
  }
  ASSERT_EQ(poster.posts.size(), 2u);
  const std::string& reminder = poster.posts[1].body;
  EXPECT_NE(reminder.find("{{mention:new1|yammer:new1}}, {{mention:new2|yammer:new2}}"),
            std::string::npos)
      << reminder;
  for (const char* other : {"mention:old|", "mention:later|", "mention:unknown|"})
    EXPECT_EQ(reminder.find(other), std::string::npos) << other;
  auto bad = config::LoadString(
      "networks: [{type: yammer, token: \"${LEARNLOOP_BOT_TOKEN}\"}]\ncampaigns:\n  - {name: x, "
      "network: yammer, community: \"1\", schedule: \"0 9 * * MON\", prompts: [q], audience: "
      "{joined_from: 2026-11-01, joined_to: 2026-10-01}}\n",
      "bad.yaml", connectors::Kinds());
  ASSERT_FALSE(bad.errors.empty());
  EXPECT_NE(bad.errors[0].message.find("'joined_to' must come after 'joined_from'"),
            std::string::npos);
}

namespace {

void AddPerson(store::Store& st, Group& g, const std::string& id, std::optional<Time> joined) {
  g.members.push_back(id);
  Ok(st.UpsertUser(User{id, "yammer", id, std::nullopt, std::nullopt, "active", false, joined}));
  Ok(st.UpsertGroup(g));
}

}  // namespace

TEST_F(BotFixture, DaysAfterJoiningGoToEachDaysNewcomersAtLocalTimeAcrossDst) {
  cfg = Load(R"(  - name: onboarding
    network: yammer
    community: "42"
    schedule: {after_joining: [1, 3, 7], at: "09:30"}
    reminders: {after: 2h, max: 1}
    steps:
      - {text: "Who showed you around on your first day?"}
      - {text: "Which community did you join first?"}
      - {text: "What would you tell the next newcomer?"}
)");
  const auto& c = cfg.campaigns.front();
  EXPECT_EQ(c.schedule_text, "days 1, 3, 7 after joining, at 09:30");
  Group g{"yammer:42", "yammer", "Newcomers", "community", {}};
  AddPerson(*store, g, "yammer:a", ParseIso("2026-10-22T08:00:00Z"));
  AddPerson(*store, g, "yammer:b", ParseIso("2026-10-22T20:00:00Z"));
  AddPerson(*store, g, "yammer:c", ParseIso("2026-10-23T22:30:00Z"));  // 00:30 on the 24th, local
  AddPerson(*store, g, "yammer:old", ParseIso("2025-03-01T08:00:00Z"));
  AddPerson(*store, g, "yammer:unknown", std::nullopt);

  ManualClock clock(*ParseIso("2026-10-22T00:00:00Z"));
  FakePoster poster;
  poster.clock = &clock;
  auto b = std::make_unique<bot::Bot>(
      cfg, *store, clock, std::map<std::string, connectors::Poster*>{{"yammer", &poster}});
  for (Time t = clock.Now(); t < *ParseIso("2026-11-03T00:00:00Z"); t += std::chrono::minutes{15}) {
    clock.SleepUntil(t);
    if (t == *ParseIso("2026-10-27T12:00:00Z"))  // a newcomer the directory sync brings late
      AddPerson(*store, g, "yammer:d", ParseIso("2026-10-26T07:00:00Z"));
    if (t == *ParseIso("2026-10-25T08:30:00Z"))  // a restart just as two prompts are due
      b = std::make_unique<bot::Bot>(
          cfg, *store, clock, std::map<std::string, connectors::Poster*>{{"yammer", &poster}});
    Ok(b->Tick());
  }
  std::vector<std::string> got;
  for (const auto& p : Ok(store->AllPrompts())) {
    std::string who;
    for (const auto& id : p.audience) who += (who.empty() ? "" : "+") + NativeId(id);
    got.push_back(FormatIso(p.posted_at) + " step " + std::to_string(p.step) + " " + who);
  }
  EXPECT_EQ(got, (std::vector<std::string>{
                     "2026-10-23T07:30:00Z step 1 a+b",  // 09:30 CEST
                     "2026-10-25T08:30:00Z step 2 a+b",  // 09:30 CET, the day summer time ends
                     "2026-10-25T08:30:00Z step 1 c",
                     "2026-10-27T08:30:00Z step 2 c",
                     "2026-10-27T12:00:00Z step 1 d",  // late, within the catch-up window
                     "2026-10-29T08:30:00Z step 3 a+b",
                     "2026-10-29T08:30:00Z step 2 d",
                     "2026-10-31T08:30:00Z step 3 c",
                     "2026-11-02T08:30:00Z step 3 d",
                 }));
  // Each prompt names its newcomers; reminders name only those of them who have not answered.
  size_t prompts = 0, reminders = 0;
  for (const auto& post : poster.posts) {
    if (post.reply_to) {
      ++reminders;
      EXPECT_EQ(post.body.find("mention:old|"), std::string::npos);
      continue;
    }
    ++prompts;
    EXPECT_NE(post.body.find("after joining:"), std::string::npos) << post.body;
  }
  EXPECT_EQ(prompts, 9u);
  EXPECT_EQ(reminders, 9u);
  EXPECT_EQ(poster.posts[0].body.rfind("For {{mention:a|yammer:a}}, {{mention:b|yammer:b}} - day 1 "
                                       "after joining:\n\nWho showed you around",
                                       0),
            0u)
      << poster.posts[0].body;

  // The preview shows the days for someone joining on its first day.
  auto occ =
      bot::Occurrences(c, *ParseIso("2026-10-22T22:00:00Z"), *ParseIso("2026-12-01T00:00:00Z"));
  ASSERT_EQ(occ.size(), 3u);
  EXPECT_EQ(FormatIso(occ[0].scheduled), "2026-10-24T07:30:00Z");  // the 23rd + 1, in CEST
  EXPECT_EQ(FormatIso(occ[1].scheduled), "2026-10-26T08:30:00Z");  // + 3 days, in CET

  auto bad = config::LoadString(
      "networks: [{type: yammer, token: \"${LEARNLOOP_BOT_TOKEN}\"}]\ncampaigns:\n  - {name: x, "
      "network: yammer, community: \"1\", schedule: {after_joining: [1, 3], at: \"25:00\"}, "
      "prompts: [q]}\n",
      "bad.yaml", connectors::Kinds());
  ASSERT_EQ(bad.errors.size(), 2u);
  EXPECT_NE(bad.errors[0].message.find("'at' must be a local time"), std::string::npos);
  EXPECT_NE(bad.errors[1].message.find("2 days after joining for 1 steps"), std::string::npos);
}

TEST_F(BotFixture, SpacedRepetitionAsksEachPersonTheirNextDueQuestionAndRetiresMasteredOnes) {
  cfg = Load(R"(  - name: practice
    network: yammer
    community: "42"
    timezone: UTC
    mode: spaced
    schedule: "0 9,14,18 * * *"
    open_for: 3h
    spacing: {per_person: 2, delivery: public, daily_cap: 10, wrong_after: 1d, right_after: 3d, retire_after: 2}
    steps:
      - {text: "Q1", kind: choice, options: [x, y], correct: A}
      - {text: "Q2", kind: choice, options: [x, y], correct: B}
      - {text: "Q3", kind: choice, options: [x, y, z], correct: C}
)");
  Group g{"yammer:42", "yammer", "Practice", "community", {}};
  AddPerson(*store, g, "yammer:p", std::nullopt);    // answers an hour after each question
  AddPerson(*store, g, "yammer:q", std::nullopt);    // never answers
  AddPerson(*store, g, "yammer:out", std::nullopt);  // opted out: never named, never asked
  Ok(bot::Bot::SetOptOut(*store, "yammer:out", true));

  ManualClock clock(*ParseIso("2026-11-02T08:00:00Z"));
  FakePoster poster;
  poster.clock = &clock;
  bot::Bot b(cfg, *store, clock, {{"yammer", &poster}});
  const std::vector<bool> p_right = {true, false, true, true, true, true, true};
  std::map<std::string, std::vector<std::string>> asked;  // person → "day hour qN"
  std::set<std::string> seen;
  int reply = 0;
  for (Time t = clock.Now(); t < *ParseIso("2026-11-10T00:00:00Z"); t += std::chrono::minutes{30}) {
    clock.SleepUntil(t);
    Ok(b.Tick());
    for (const auto& p : Ok(store->AllPrompts())) {
      if (seen.count(p.id)) continue;
      for (const auto& uid : p.audience)
        asked[uid].push_back(FormatIso(p.posted_at).substr(8, 5) + " q" + std::to_string(p.step));
      seen.insert(p.id);
    }
    // P answers each question an hour after it is posted: right or wrong, as scripted.
    for (const auto& p : Ok(store->AllPrompts())) {
      if (std::find(p.audience.begin(), p.audience.end(), "yammer:p") == p.audience.end()) continue;
      if (clock.Now() != p.posted_at + std::chrono::hours{1}) continue;
      size_t n = static_cast<size_t>(reply++);
      bool right = n < p_right.size() && p_right[n];
      std::string letter = right ? *p.correct : (*p.correct == "A" ? "B" : "A");
      Ok(store->UpsertMessage(
          Reply(p, "yammer:r" + std::to_string(n), "yammer:p", clock.Now(), letter)));
    }
  }
  EXPECT_EQ(asked["yammer:p"], (std::vector<std::string>{
                                   "02T09 q1", "02T14 q2",  // two a day at most: none at 18:00
                                   "03T09 q3",              // q2 (wrong) is not due yet
                                   "03T18 q2",              // q2, a day after the wrong answer
                                   "05T14 q1",              // q1, three days after; retired
                                   "06T14 q3",              // retired
                                   "07T09 q2",  // 3 days after 03T19: right twice, retired
                               }));
  // Not answering counts as wrong: the two first questions come back, two a day, every day.
  const auto& q = asked["yammer:q"];
  EXPECT_EQ(q.size(), 16u);
  for (size_t i = 0; i < q.size(); ++i)
    EXPECT_EQ(q[i].substr(q[i].size() - 2), i % 2 ? "q2" : "q1") << q[i];
  EXPECT_FALSE(asked.count("yammer:out"));
  // P's streak counts the questions put to P (all seven answered), not Q's.
  Ok(bot::Bot::SetOptOut(*store, "yammer:p", false));
  auto standings = Ok(b.Standings(cfg.campaigns[0], "42"));
  ASSERT_EQ(standings.size(), 1u);
  EXPECT_EQ(standings[0].user_id, "yammer:p");
  EXPECT_EQ(standings[0].streak, 7);
  EXPECT_EQ(standings[0].points, 7 + 6);  // a point per answer, one more for each right one
  // One post per question and round, naming its people.
  EXPECT_NE(poster.posts[0].body.find("For {{mention:p|yammer:p}}, {{mention:q|yammer:q}} - "
                                      "practice question 1 of 3:"),
            std::string::npos)
      << poster.posts[0].body;
  EXPECT_EQ(poster.posts[0].choices.size(), 2u);
}

namespace {

// A network that takes private messages, except to people it cannot reach (403), and whose
// private replies arrive in one conversation per person (as a Teams personal chat).
struct PrivatePoster : FakePoster {
  std::set<std::string> unreachable;  // native user ids
  Result<connectors::Posted> Post(const connectors::PostRequest& r) override {
    if (r.to_user && unreachable.count(*r.to_user))
      return Result<connectors::Posted>::Fail("HTTP 403 BotNotInConversationRoster", 403);
    auto res = FakePoster::Post(r);
    if (res.ok() && r.to_user) res->native_id = "a:chat-" + *r.to_user + "/" + res->native_id;
    return res;
  }
  bool PostsPrivately() const override { return true; }
  std::string ConversationOf(const std::string& id) const override {
    return id.rfind("a:", 0) == 0 ? id.substr(0, id.rfind('/')) : id;
  }
};

}  // namespace

TEST_F(BotFixture, SpacedQuestionsGoPrivatelyElseToOneCappedThreadADay) {
  cfg = Load(R"(  - name: practice
    network: yammer
    community: "42"
    timezone: UTC
    mode: spaced
    schedule: "0 9 * * *"
    open_for: 24h
    spacing: {per_person: 1}
    steps:
      - {text: "Q1", kind: choice, options: [x, y], correct: A}
      - {text: "Q2", kind: choice, options: [x, y], correct: B}
)");
  EXPECT_EQ(cfg.campaigns[0].spaced.daily_cap, 1);     // one community thread a day
  EXPECT_EQ(cfg.campaigns[0].spaced.mention_cap, 10);  // naming ten people at most
  Group g{"yammer:42", "yammer", "Practice", "community", {}};
  PrivatePoster poster;
  for (int i = 0; i < 30; ++i) {
    std::string native = "u" + std::to_string(100 + i);
    AddPerson(*store, g, "yammer:" + native, std::nullopt);
    if (i < 15) poster.unreachable.insert(native);  // half of them cannot be reached privately
  }
  ManualClock clock(*ParseIso("2026-11-02T08:00:00Z"));
  poster.clock = &clock;
  bot::Bot b(cfg, *store, clock, {{"yammer", &poster}});
  std::map<std::string, std::vector<connectors::PostRequest>> by_day;
  size_t seen = 0;
  for (Time t = clock.Now(); t < *ParseIso("2026-11-06T00:00:00Z"); t += std::chrono::minutes{30}) {
    clock.SleepUntil(t);
    Ok(b.Tick());
    for (; seen < poster.posts.size(); ++seen)
      by_day[FormatIso(clock.Now()).substr(0, 10)].push_back(poster.posts[seen]);
  }
  // Day 1: everyone is tried privately; fifteen cannot be reached, and nobody was asked
  // publicly yet (their private questions are gone, not counted as asked).
  const auto& first = by_day["2026-11-02"];
  ASSERT_EQ(first.size(), 15u);
  for (const auto& r : first) {
    ASSERT_TRUE(r.to_user);
    EXPECT_EQ(poster.unreachable.count(*r.to_user), 0u);
    EXPECT_EQ(r.body.find("{{mention"), std::string::npos) << r.body;
    EXPECT_EQ(
        r.body.rfind("Hi yammer:" + *r.to_user + " - practice question 1 of 2 (practice):", 0), 0u)
        << r.body;
    EXPECT_EQ(r.choices.size(), 2u);
  }
  for (const auto& u : poster.unreachable)
    EXPECT_TRUE(Ok(store->UnreachableSince("yammer:" + u))) << u;
  // Each later day: the reachable ones privately, and one community thread naming ten of
  // the others at most.
  for (const char* day : {"2026-11-03", "2026-11-04", "2026-11-05"}) {
    int threads = 0, privately = 0;
    for (const auto& r : by_day[day]) {
      if (r.to_user) {
        ++privately;
        EXPECT_EQ(poster.unreachable.count(*r.to_user), 0u);
        continue;
      }
      if (r.reply_to) continue;
      ++threads;
      size_t named = 0;
      for (size_t at = 0; (at = r.body.find("{{mention:", at)) != std::string::npos; ++at) ++named;
      EXPECT_EQ(named, 10u) << r.body;
      EXPECT_EQ(r.body.find("and 5 more"), std::string::npos) << r.body;
    }
    EXPECT_EQ(threads, 1) << day;
    EXPECT_GT(privately, 0) << day;
  }
  // A private answer is the person's message in their conversation after the question and
  // before the next one there.
  std::vector<Prompt> mine;
  for (const auto& p : Ok(store->AllPrompts()))
    if (p.is_private && p.audience == std::vector<std::string>{"yammer:u120"}) mine.push_back(p);
  ASSERT_GE(mine.size(), 2u);
  EXPECT_TRUE(mine[0].spaced);
  Message m;
  m.id = "yammer:a:chat-u120/r1";
  m.network = "yammer";
  m.group_id = MakeId("yammer", kPrivateGroup);
  m.thread_id = "yammer:a:chat-u120";
  m.reply_to_id = m.thread_id;
  m.author_id = "yammer:u120";
  m.created_at = mine[0].posted_at + std::chrono::hours{1};
  m.kind = "reply";
  m.text = "I think A";
  Ok(store->UpsertMessage(m));
  Ok(b.RecognizeAnswers());
  auto a0 = Ok(store->AnswersTo(mine[0].id)), a1 = Ok(store->AnswersTo(mine[1].id));
  ASSERT_EQ(a0.size(), 1u);
  EXPECT_EQ(a0[0].choice, "A");
  EXPECT_EQ(a0[0].correct, true);
  EXPECT_TRUE(a1.empty());
}

TEST_F(BotFixture, ASequenceEndsAfterItsLastStepUnlessItRepeats) {
  for (bool repeat : {false, true}) {
    fs::path db = dir / (repeat ? "r.db" : "s.db");
    auto st = std::move(*store::OpenSqlite(db.string()));
    config::Config c = cfg;
    c.campaigns[0].repeat = repeat;
    ManualClock clock(*ParseIso("2026-10-18T12:00:00Z"));
    FakePoster poster;
    poster.clock = &clock;
    bot::Bot b(c, *st, clock, {{"yammer", &poster}});
    for (int hour = 0; hour < 24 * 7 * 5; hour += 2) {  // five weeks, looked at every 2 h
      clock.Advance(std::chrono::hours{2});
      Ok(b.Schedule());
      Ok(b.Dispatch());
    }
    std::vector<int> steps;
    for (const auto& p : Ok(st->AllPrompts())) steps.push_back(p.step);
    if (repeat)
      EXPECT_EQ(steps, (std::vector<int>{1, 2, 1, 2, 1}));
    else
      EXPECT_EQ(steps, (std::vector<int>{1, 2}));  // never "step 3"
    EXPECT_EQ(Ok(b.NextDue()).has_value(), repeat);
  }
  // A campaign of one question asks it at every scheduled time: there is nothing to end.
  auto st = std::move(*store::OpenSqlite((dir / "one.db").string()));
  config::Config c = cfg;
  c.campaigns[0].steps.resize(1);
  ManualClock clock(*ParseIso("2026-10-18T12:00:00Z"));
  FakePoster poster;
  poster.clock = &clock;
  bot::Bot b(c, *st, clock, {{"yammer", &poster}});
  for (int hour = 0; hour < 24 * 7 * 3; hour += 2) {
    clock.Advance(std::chrono::hours{2});
    Ok(b.Schedule());
    Ok(b.Dispatch());
  }
  EXPECT_EQ(Ok(st->AllPrompts()).size(), 3u);
  EXPECT_TRUE(Ok(b.NextDue()).has_value());
}

// Preview across the clock changes and the date line: the first prompt is on the local start
// date, the last on the local end date (both included).
TEST_F(BotFixture, ACampaignsDatesAreLocalAcrossClockChangesAndTheDateLine) {
  struct Zone {
    const char* name;
    const char* first;  // the first prompt, local
    const char* last;   // the last prompt, local
  } zones[] = {{"Europe/Berlin", "2026-03-28 00:00", "2026-04-05 09:00"},
               {"America/Los_Angeles", "2026-03-28 00:00", "2026-04-05 09:00"},
               {"Asia/Tokyo", "2026-03-28 00:00", "2026-04-05 09:00"},
               {"Pacific/Auckland", "2026-03-28 00:00", "2026-04-05 09:00"}};
  for (const auto& z : zones) {
    auto r = config::LoadString(
        std::string(R"(networks: [{type: yammer, token: "${LEARNLOOP_BOT_TOKEN}"}]
campaigns:
  - {name: spring, network: yammer, community: "42", timezone: )") +
            z.name + R"(, schedule: "0 0,9 * * *", start: 2026-03-28,
     end: 2026-04-05, repeat: true, prompts: [one]}
)",
        "z.yaml", connectors::Kinds());
    ASSERT_TRUE(r.config) << z.name;
    const auto& c = r.config->campaigns[0];
    auto occ =
        bot::Occurrences(c, *ParseIso("2026-03-20T00:00:00Z"), *ParseIso("2026-04-20T00:00:00Z"));
    ASSERT_FALSE(occ.empty()) << z.name;
    EXPECT_EQ(FormatLocal(c.tz, occ.front().scheduled).substr(0, 16), z.first) << z.name;
    EXPECT_EQ(FormatLocal(c.tz, occ.back().scheduled).substr(0, 16), z.last) << z.name;
    EXPECT_EQ(occ.size(), 18u) << z.name;  // nine days, two a day, clock changes or not
  }
}
