#include "bot/bot.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "config/config.h"

using namespace learnloop;
namespace fs = std::filesystem;

namespace {

// A poster that can pretend a post failed although it went through (a 5xx after the write).
struct FakePoster : connectors::Poster {
  std::vector<connectors::PostRequest> posts;
  bool fail_after_posting = false;
  Clock* clock = nullptr;
  Result<connectors::Posted> Post(const connectors::PostRequest& r) override {
    posts.push_back(r);
    if (fail_after_posting) return Result<connectors::Posted>::Fail("HTTP 503", 503);
    return connectors::Posted{std::to_string(1000 + posts.size()), clock->Now()};
  }
  Result<std::optional<connectors::Posted>> FindPosted(const connectors::PostRequest& r,
                                                       Time) override {
    for (size_t i = 0; i < posts.size(); ++i)
      if (posts[i].body.find(r.marker) != std::string::npos)
        return std::optional<connectors::Posted>(
            connectors::Posted{std::to_string(1001 + i), clock->Now()});
    return std::optional<connectors::Posted>();
  }
};

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
                                "t.yaml");
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
      b.Schedule();
      b.Dispatch();
    }
  }
  bot::Bot restarted(cfg, *store, clock, {{"yammer", &poster}});  // a restart re-reads the outbox
  restarted.Schedule();
  restarted.Dispatch();
  ASSERT_EQ(poster.posts.size(), 2u);
  auto prompts = store->AllPrompts();
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
  b.Schedule();
  b.Dispatch();
  EXPECT_EQ(poster.posts.size(), 1u);
  EXPECT_TRUE(store->AllPrompts().empty());
  poster.fail_after_posting = false;
  clock.Advance(std::chrono::minutes{1});
  bot::Bot after_crash(cfg, *store, clock, {{"yammer", &poster}});
  after_crash.Dispatch();
  EXPECT_EQ(poster.posts.size(), 1u);  // found by its marker, not re-posted
  EXPECT_EQ(after_crash.stats().reconciled, 1);
  EXPECT_EQ(store->AllPrompts().size(), 1u);
}

TEST_F(BotFixture, AMissedTimeBeyondTheCatchUpWindowIsSkipped) {
  ManualClock clock(*ParseIso("2026-10-20T12:00:00Z"));  // a day after Monday 09:00
  store->SetCursor("campaign:weekly:last", "2026-10-12T07:00:00Z");
  FakePoster poster;
  poster.clock = &clock;
  bot::Bot b(cfg, *store, clock, {{"yammer", &poster}});
  b.Schedule();
  b.Dispatch();
  EXPECT_TRUE(poster.posts.empty());
}

TEST_F(BotFixture, RepliesFromPeopleBeforeTheCloseAreAnswers) {
  ManualClock clock(*ParseIso("2026-10-19T07:00:00Z"));
  FakePoster poster;
  poster.clock = &clock;
  bot::Bot b(cfg, *store, clock, {{"yammer", &poster}});
  b.Schedule();
  b.Dispatch();
  auto p = store->AllPrompts().at(0);
  store->UpsertUser(
      User{"yammer:9", "yammer", "Bot", std::nullopt, std::nullopt, "active", true, std::nullopt});
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
    store->UpsertMessage(m);
  };
  reply("yammer:2001", "yammer:1", p.posted_at + std::chrono::hours{2});
  reply("yammer:2002", "yammer:9", p.posted_at + std::chrono::hours{3});   // the bot itself
  reply("yammer:2003", "yammer:2", p.posted_at + std::chrono::hours{80});  // after the close
  clock.Advance(std::chrono::hours{100});
  b.RecognizeAnswers();
  b.RecognizeAnswers();  // idempotent
  auto answers = store->AllAnswers();
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].user_id, "yammer:1");
  EXPECT_EQ(answers[0].message_id, "yammer:2001");
}

TEST_F(BotFixture, CardButtonsPressedBeforeTheCloseAreAnswersWithTheirChoice) {
  ManualClock clock(*ParseIso("2026-10-19T07:00:00Z"));
  FakePoster poster;
  poster.clock = &clock;
  bot::Bot b(cfg, *store, clock, {{"yammer", &poster}});
  b.Schedule();
  b.Dispatch();
  auto p = store->AllPrompts().at(0);
  auto press = [&](const char* id, const char* user, const char* value, Time at) {
    store->UpsertCardAction(CardAction{id, "yammer", p.message_id, user, value, at});
  };
  press("yammer:f1", "yammer:1", R"({"choice":"B"})", p.posted_at + std::chrono::hours{1});
  press("yammer:f2", "yammer:2", R"({"rating":4})", p.posted_at + std::chrono::hours{2});
  press("yammer:f3", "yammer:3", R"({"choice":"A"})", p.posted_at + std::chrono::hours{90});
  clock.Advance(std::chrono::hours{100});
  b.RecognizeAnswers();
  auto answers = store->AllAnswers();
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[0].message_id, "yammer:f1");
  EXPECT_EQ(answers[0].choice.value_or(""), "B");
  EXPECT_EQ(answers[1].choice.value_or(""), R"({"rating":4})");
}
