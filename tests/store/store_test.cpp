#include "store/store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "analytics/columns.h"
#include "analytics/dataset.h"
#include "analytics/report.h"
#include "store/exchange.h"
#include "tests/support/ok.h"
#include "tests/support/temp_dir.h"

using learnloop::testing::Ok;
using learnloop::testing::TempDir;

using namespace learnloop;
namespace fs = std::filesystem;

namespace {

Message Msg(const std::string& id, const std::string& author, const char* at,
            std::optional<std::string> parent = {}) {
  Message m;
  m.id = id;
  m.network = "yammer";
  m.group_id = "yammer:1";
  m.thread_id = parent ? "yammer:10" : id;
  m.reply_to_id = parent;
  m.kind = parent ? "reply" : "post";
  m.author_id = author;
  m.created_at = *ParseIso(at);
  m.text = "hello \"world\"";
  m.mentions = {"yammer:7"};
  return m;
}

std::string Slurp(const fs::path& p) {
  std::ifstream in(p);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// The same files, none empty, in two exported folders.
void ExpectSameFiles(const fs::path& a, const fs::path& b,
                     std::initializer_list<const char*> files) {
  for (const char* f : files) {
    std::string x = Slurp(a / f);
    EXPECT_FALSE(x.empty()) << f;
    EXPECT_EQ(x, Slurp(b / f)) << f;
  }
}

}  // namespace

TEST(SqliteStore, UpsertsAreIdempotent) {
  TempDir d;
  auto s = store::OpenSqlite((d.path / "s.db").string());
  ASSERT_TRUE(s.ok()) << s.error().message;
  auto& st = **s;
  for (int i = 0; i < 2; ++i) {  // seeing the same page twice changes nothing
    Ok(st.UpsertUser(
        User{"yammer:1", "yammer", "Ann", "ann@x", std::nullopt, "active", false, std::nullopt}));
    Ok(st.UpsertGroup(Group{"yammer:1", "yammer", "G", "community", {"yammer:1", "yammer:2"}}));
    Ok(st.UpsertMessage(Msg("yammer:10", "yammer:1", "2026-11-23T09:00:00Z")));
    Ok(st.UpsertMessage(Msg("yammer:11", "yammer:2", "2026-11-23T10:00:00Z", "yammer:10")));
    Ok(st.ReplaceReactions("yammer:10", "like",
                           {Reaction{"yammer:10", "yammer:2", "like", std::nullopt}}));
  }
  EXPECT_EQ(Ok(st.AllUsers()).size(), 1u);
  EXPECT_EQ(Ok(st.AllGroups()).at(0).members.size(), 2u);
  EXPECT_EQ(Ok(st.AllMessages()).size(), 2u);
  EXPECT_EQ(Ok(st.AllReactions()).size(), 1u);
  EXPECT_EQ(Ok(st.MessagesInThread("yammer:10")).size(), 2u);
  Ok(st.ReplaceReactions("yammer:10", "like", {}));  // an unlike
  EXPECT_TRUE(Ok(st.AllReactions()).empty());
}

TEST(SqliteStore, MessagesNoLongerListedInAWindowAreMarkedDeleted) {
  TempDir d;
  auto s = store::OpenSqlite((d.path / "s.db").string());
  auto& st = **s;
  Ok(st.UpsertMessage(Msg("yammer:10", "yammer:1", "2026-11-23T09:00:00Z")));
  Ok(st.UpsertMessage(Msg("yammer:11", "yammer:2", "2026-11-23T10:00:00Z", "yammer:10")));
  Ok(st.UpsertMessage(Msg("yammer:12", "yammer:2", "2026-11-20T10:00:00Z")));  // outside the window
  EXPECT_EQ(Ok(st.MarkDeletedExcept("yammer:1", *ParseIso("2026-11-22T00:00:00Z"),
                                    *ParseIso("2026-11-24T00:00:00Z"), {"yammer:10"})),
            1);
  std::map<std::string, bool> deleted;
  for (const auto& m : Ok(st.AllMessages())) deleted[m.id] = m.deleted;
  EXPECT_FALSE(deleted["yammer:10"]);
  EXPECT_TRUE(deleted["yammer:11"]);
  EXPECT_FALSE(deleted["yammer:12"]);
}

TEST(SqliteStore, ReopensAtTheSameSchemaVersionAndKeepsCursors) {
  TempDir d;
  std::string path = (d.path / "s.db").string();
  {
    auto s = store::OpenSqlite(path);
    ASSERT_TRUE(s.ok());
    Ok((*s)->SaveSyncCursors("yammer", {{"newest:1", "41"}}));
    Ok((*s)->SaveSyncCursors("yammer", {{"newest:1", "42"}, {"newest:2", "7"}}));
    Ok((*s)->SaveSyncCursors("yammer", {{"newest:2", "8"}}));  // the others are kept
  }
  auto s = store::OpenSqlite(path);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Ok((*s)->SyncCursors("yammer")),
            (std::map<std::string, std::string>{{"newest:1", "42"}, {"newest:2", "8"}}));
  EXPECT_TRUE(Ok((*s)->SyncCursors("teams")).empty());
}

TEST(SqliteStore, WhatTheDaemonNotesIsKeptInTypedTables) {
  TempDir d;
  auto s = store::OpenSqlite((d.path / "s.db").string());
  ASSERT_TRUE(s.ok());
  store::Store& st = **s;
  EXPECT_FALSE(Ok(st.GetNetworkRun("yammer")));  // a first start owes nothing
  Ok(st.SetNetworkRun("yammer", {true, std::nullopt}));
  EXPECT_TRUE(Ok(st.GetNetworkRun("yammer"))->running);
  Ok(st.SetNetworkRun("yammer", {false, "budgets"}));
  EXPECT_EQ(Ok(st.GetNetworkRun("yammer"))->rate_budgets, "budgets");
  EXPECT_FALSE(Ok(st.LastReportWeek()));
  Ok(st.SetLastReportWeek("2026-W41"));
  Ok(st.ProbeWrite(*ParseIso("2026-10-12T07:00:00Z")));
  EXPECT_EQ(Ok(st.LastReportWeek()), "2026-W41");

  EXPECT_EQ(Ok(st.GetCampaignState("quiz")).steps_posted, 0);
  Ok(st.UpdateCampaignState("quiz", [](store::CampaignState& c) {
    c.first_seen = *ParseIso("2026-10-12T07:00:00Z");
    c.steps_posted = 2;
  }));
  Ok(st.UpdateCampaignState("quiz", [](store::CampaignState& c) { c.paused = true; }));
  auto quiz = Ok(st.GetCampaignState("quiz"));
  EXPECT_EQ(quiz.first_seen, *ParseIso("2026-10-12T07:00:00Z"));
  EXPECT_EQ(quiz.steps_posted, 2);
  EXPECT_EQ(quiz.paused, true);
  EXPECT_FALSE(quiz.last_due);
  EXPECT_FALSE(Ok(st.GetCampaignState("other")).paused);

  Ok(st.SkipPrompt("prompt:quiz:1", "skipped by an operator"));
  EXPECT_EQ(Ok(st.SkippedPrompt("prompt:quiz:1")), "skipped by an operator");
  EXPECT_FALSE(Ok(st.SkippedPrompt("prompt:quiz:2")));
  EXPECT_FALSE(Ok(st.Acknowledged("yammer:5")));
  Ok(st.MarkAcknowledged("yammer:5", *ParseIso("2026-10-12T07:00:00Z"), "not possible: 501"));
  EXPECT_TRUE(Ok(st.Acknowledged("yammer:5")));

  EXPECT_FALSE(Ok(st.OptedOut("yammer:1")));
  Ok(st.SetOptedOut("yammer:1", true));
  Ok(st.SetOptedOut("yammer:2", false));
  Ok(st.MarkUnreachable("yammer:2", {*ParseIso("2026-10-12T07:00:00Z"), "403 Forbidden"}));
  EXPECT_EQ(Ok(st.OptedOut("yammer:1")), true);
  EXPECT_EQ(Ok(st.OptChoices()),
            (std::map<std::string, bool>{{"yammer:1", true}, {"yammer:2", false}}));
  EXPECT_EQ(Ok(st.UnreachableSince("yammer:2"))->why, "403 Forbidden");
  EXPECT_FALSE(Ok(st.UnreachableSince("yammer:1")));
  EXPECT_EQ(Ok(st.AllUnreachable()).size(), 1u);
}

TEST(SqliteStore, AStoreOfSchemaVersion10MovesItsPrefixedCursorsIntoTypedTables) {
  TempDir d;
  std::string path = (d.path / "s.db").string();
  ASSERT_TRUE(store::OpenSqlite(path, {.up_to_version = 10}).ok());
  {  // the keys as version 10 kept them, written without the store
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    const char* rows = R"sql(
INSERT INTO cursors VALUES ('yammer:cursor:newest:1', '42');
INSERT INTO cursors VALUES ('yammer:cursor:export.until', 'refused');
INSERT INTO cursors VALUES ('teams-eu:cursor:delta:19:abc@thread.tacv2', 'https://x/delta?t=1');
INSERT INTO cursors VALUES ('yammer:rate', 'stopped' || char(10) || '{"budgets":1}');
INSERT INTO cursors VALUES ('teams-eu:rate', 'running');
INSERT INTO cursors VALUES ('report:last_week', '2026-W47');
INSERT INTO cursors VALUES ('admin:ready_probe', '2026-11-23T09:00:00Z');
INSERT INTO cursors VALUES ('campaign:quiz:first_seen', '2026-10-12T07:00:00Z');
INSERT INTO cursors VALUES ('campaign:quiz:last', '2026-11-23T08:00:00Z');
INSERT INTO cursors VALUES ('campaign:quiz:steps', '3');
INSERT INTO cursors VALUES ('campaign:quiz:operator', 'paused');
INSERT INTO cursors VALUES ('campaign:new-hires:skip_through', '2026-11-30T08:00:00Z');
INSERT INTO cursors VALUES ('campaign:new-hires:leaderboard_last', '2026-11-27T15:00:00Z');
INSERT INTO cursors VALUES ('campaign:new-hires:ended', '2026-11-28T08:00:00Z');
INSERT INTO cursors VALUES ('skipped:prompt:quiz:2026-11-02T08:00:00Z:g', 'skipped (holiday)');
INSERT INTO cursors VALUES ('ack:yammer:77', '2026-11-23T09:05:00Z');
INSERT INTO cursors VALUES ('ack:teams:78', 'not possible: 403 Forbidden');
INSERT INTO cursors VALUES ('optout:yammer:1', 'out');
INSERT INTO cursors VALUES ('optout:yammer:2', 'in');
INSERT INTO cursors VALUES ('unreachable:yammer:2', '2026-11-24T09:00:00Z 403 app not installed');
INSERT INTO cursors VALUES ('unreachable:teams:3', '2026-11-25T09:00:00Z 404');
)sql";
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db, rows, nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_close(db);
  }
  auto s = store::OpenSqlite(path);
  ASSERT_TRUE(s.ok()) << s.error().message;
  store::Store& st = **s;
  EXPECT_EQ(Ok(st.SyncCursors("yammer")),
            (std::map<std::string, std::string>{{"export.until", "refused"}, {"newest:1", "42"}}));
  EXPECT_EQ(Ok(st.SyncCursors("teams-eu"))["delta:19:abc@thread.tacv2"], "https://x/delta?t=1");
  EXPECT_FALSE(Ok(st.GetNetworkRun("yammer"))->running);
  EXPECT_EQ(Ok(st.GetNetworkRun("yammer"))->rate_budgets, "{\"budgets\":1}");
  EXPECT_TRUE(Ok(st.GetNetworkRun("teams-eu"))->running);
  EXPECT_FALSE(Ok(st.GetNetworkRun("teams-eu"))->rate_budgets);
  EXPECT_EQ(Ok(st.LastReportWeek()), "2026-W47");
  auto quiz = Ok(st.GetCampaignState("quiz"));
  EXPECT_EQ(quiz.first_seen, *ParseIso("2026-10-12T07:00:00Z"));
  EXPECT_EQ(quiz.last_due, *ParseIso("2026-11-23T08:00:00Z"));
  EXPECT_EQ(quiz.steps_posted, 3);
  EXPECT_EQ(quiz.paused, true);
  EXPECT_FALSE(quiz.skip_through);
  auto hires = Ok(st.GetCampaignState("new-hires"));
  EXPECT_EQ(hires.skip_through, *ParseIso("2026-11-30T08:00:00Z"));
  EXPECT_EQ(hires.leaderboard_at, *ParseIso("2026-11-27T15:00:00Z"));
  EXPECT_EQ(hires.ended_at, *ParseIso("2026-11-28T08:00:00Z"));
  EXPECT_FALSE(hires.paused);
  EXPECT_EQ(hires.steps_posted, 0);
  EXPECT_EQ(Ok(st.SkippedPrompt("prompt:quiz:2026-11-02T08:00:00Z:g")), "skipped (holiday)");
  EXPECT_TRUE(Ok(st.Acknowledged("yammer:77")));
  EXPECT_TRUE(Ok(st.Acknowledged("teams:78")));
  EXPECT_EQ(Ok(st.OptChoices()),
            (std::map<std::string, bool>{{"yammer:1", true}, {"yammer:2", false}}));
  auto gone = Ok(st.AllUnreachable());
  ASSERT_EQ(gone.size(), 2u);
  EXPECT_EQ(gone["yammer:2"].since, *ParseIso("2026-11-24T09:00:00Z"));
  EXPECT_EQ(gone["yammer:2"].why, "403 app not installed");
  EXPECT_EQ(gone["teams:3"].why, "404");
  EXPECT_EQ(Ok(st.OptedOut("teams:3")), std::nullopt);
}

TEST(SqliteStore, AStoreOfSchemaVersion3MovesToIntegerKeysKeepingEveryRow) {
  TempDir d;
  std::string path = (d.path / "s.db").string();
  ASSERT_TRUE(store::OpenSqlite(path, {.up_to_version = 3}).ok());
  {  // rows as version 3 kept them, written without the store
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    const char* rows = R"sql(
INSERT INTO users VALUES ('yammer:1','yammer','Ann','ann@x',NULL,'active',0,NULL);
INSERT INTO users VALUES ('yammer:2','yammer','Bo',NULL,NULL,'active',0,NULL);
INSERT INTO groups VALUES ('yammer:1','yammer','G','community');
INSERT INTO memberships VALUES ('yammer:1','yammer:1');
INSERT INTO messages VALUES ('yammer:10','yammer','yammer:1','yammer:10',NULL,'yammer:1',
  1700000000000,NULL,0,'hello','["yammer:2"]','post');
INSERT INTO messages VALUES ('yammer:11','yammer','yammer:1','yammer:10','yammer:10','yammer:2',
  1700000060000,1700000070000,1,'reply','[]','reply');
INSERT INTO messages VALUES ('yammer:12','yammer',NULL,'yammer:99','yammer:98','yammer:3',
  1700000120000,NULL,0,'a reply to messages never seen','[]','reply');
INSERT INTO reactions VALUES ('yammer:10','yammer:2','like',1700000090000);
INSERT INTO reactions VALUES ('yammer:11','yammer:1','like',NULL);
)sql";
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db, rows, nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_close(db);
  }
  auto s = store::OpenSqlite(path);
  ASSERT_TRUE(s.ok()) << s.error().message;
  auto& st = **s;
  auto messages = Ok(st.AllMessages());
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[0].id, "yammer:10");
  EXPECT_EQ(messages[0].group_id, "yammer:1");
  EXPECT_EQ(messages[0].mentions, std::vector<std::string>{"yammer:2"});
  EXPECT_EQ(messages[0].text, "hello");
  EXPECT_EQ(messages[1].reply_to_id, "yammer:10");
  EXPECT_EQ(messages[1].author_id, "yammer:2");
  EXPECT_TRUE(messages[1].deleted);
  EXPECT_EQ(messages[1].edited_at, FromUnixMillis(1700000070000));
  EXPECT_EQ(messages[1].kind, "reply");
  EXPECT_EQ(messages[2].group_id, std::nullopt);
  EXPECT_EQ(messages[2].thread_id, "yammer:99");
  EXPECT_EQ(messages[2].reply_to_id, "yammer:98");
  EXPECT_EQ(Ok(st.MessagesInThread("yammer:10")).size(), 2u);
  auto reactions = Ok(st.AllReactions());
  ASSERT_EQ(reactions.size(), 2u);
  EXPECT_EQ(reactions[0].message_id, "yammer:10");
  EXPECT_EQ(reactions[0].user_id, "yammer:2");
  EXPECT_EQ(reactions[1].created_at, std::nullopt);
  // The analytics read the same rows by key.
  auto keys = Ok(st.KeysOf({"yammer:10", "yammer:11", "yammer:2", "yammer:99", "nobody"}));
  EXPECT_EQ(keys[4], 0);
  EXPECT_EQ(Ok(st.IdsOf({keys[3]})), std::vector<std::string>{"yammer:99"});
  std::map<std::string, int64_t> people;  // the directory with each person's key
  Ok(st.ScanUsers([&](const store::Store::UserRow& u) { people[std::string(u.id)] = u.key; }));
  EXPECT_EQ(people, (std::map<std::string, int64_t>{{"yammer:1", Ok(st.KeysOf({"yammer:1"}))[0]},
                                                    {"yammer:2", keys[2]}}));
  EXPECT_NE(people["yammer:1"], 0);
  std::map<int64_t, store::Store::MessageRow> rows;
  Ok(st.ScanMessagesSince(Time::min(),
                          [&](const store::Store::MessageRow& r) { rows[r.key] = r; }));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[keys[1]].thread, keys[0]);
  EXPECT_EQ(rows[keys[1]].parent, keys[0]);
  EXPECT_EQ(rows[keys[1]].author, keys[2]);
  EXPECT_EQ(rows[keys[0]].parent, 0);
  // Each reaction with the time it counts at (its own, or its message's), and the messages not
  // deleted counted by author and group.
  auto more = Ok(st.KeysOf({"yammer:1", "yammer:3"}));
  std::map<std::pair<int64_t, int64_t>, int64_t> at;
  Ok(st.ScanReactionsSince(Time::min(), [&](const store::Store::ReactionRow& r) {
    at[{r.message, r.user}] = r.at->time_since_epoch().count();
  }));
  EXPECT_EQ(at, (std::map<std::pair<int64_t, int64_t>, int64_t>{
                    {{keys[0], keys[2]}, 1700000090000}, {{keys[1], more[0]}, 1700000060000}}));
  std::map<std::pair<int64_t, int64_t>, int64_t> written;
  Ok(st.ScanAuthorGroups([&](const store::Store::AuthorGroupRow& r) {
    written[{r.author, r.group}] = r.messages;
  }));
  EXPECT_EQ(written, (std::map<std::pair<int64_t, int64_t>, int64_t>{{{more[0], more[0]}, 1},
                                                                     {{more[1], 0}, 1}}));
  // And the store goes on from there.
  Ok(st.UpsertMessage(Msg("yammer:13", "yammer:1", "2026-11-23T09:00:00Z", "yammer:10")));
  EXPECT_EQ(Ok(st.AllMessages()).size(), 4u);
}

TEST(SqliteStore, MentionListsOfAnyIdsReadBackForAnalytics) {
  TempDir d;
  auto s = store::OpenSqlite((d.path / "s.db").string());
  auto& st = **s;
  Message m = Msg("yammer:10", "yammer:1", "2026-11-23T09:00:00Z");
  m.mentions = {"yammer:7", "odd \"id\" \\ here", "yammer:8"};
  Ok(st.UpsertMessage(m));
  std::vector<std::string> seen;
  Ok(st.ScanMessagesSince(Time::min(),
                          [&](const store::Store::MessageRow& r) { seen = *r.mentions; }));
  EXPECT_EQ(seen, m.mentions);
  m.mentions = {"yammer:7", "yammer:8"};
  Ok(st.UpsertMessage(m));
  Ok(st.ScanMessagesSince(Time::min(),
                          [&](const store::Store::MessageRow& r) { seen = *r.mentions; }));
  EXPECT_EQ(seen, m.mentions);
}

TEST(SqliteStore, ItsErrorsAreReturnedAndAFailedTransactionLeavesNothing) {
  TempDir dir;
  const std::string path = (dir.path / "s.db").string();
  auto s = store::OpenSqlite(path);
  ASSERT_TRUE(s.ok());
  auto& st = **s;
  // A damaged store: a table gone from under it.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "DROP TABLE skipped_prompts", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);

  Status skipped = st.SkipPrompt("prompt:weekly:1", "skipped by an operator");
  ASSERT_FALSE(skipped.ok());
  EXPECT_NE(skipped.message().find("skipped_prompts"), std::string::npos) << skipped.message();
  EXPECT_FALSE(st.SkippedPrompt("prompt:weekly:1").ok());

  // What a transaction wrote before an error is rolled back, and the error is returned.
  const User ada{"yammer:1",   "yammer", "Ada", std::nullopt,
                 std::nullopt, "active", false, std::nullopt};
  Status failed = st.Transaction([&]() -> Status {
    LL_TRY(st.UpsertUser(ada));
    return st.SkipPrompt("prompt:weekly:1", "skipped by an operator");
  });
  EXPECT_FALSE(failed.ok());
  EXPECT_FALSE(Ok(st.GetUser("yammer:1")).has_value());
  // The caller's own error too, nested in another transaction.
  failed = st.Transaction([&]() -> Status {
    LL_TRY(st.UpsertUser(ada));
    return st.Transaction([] { return Status::Fail("changed my mind", 7); });
  });
  EXPECT_EQ(failed.message(), "changed my mind");
  EXPECT_EQ(failed.error().code, 7);
  EXPECT_FALSE(Ok(st.GetUser("yammer:1")).has_value());
  // The store goes on: the next transaction commits.
  Ok(st.Transaction([&] { return st.UpsertUser(ada); }));
  EXPECT_EQ(Ok(st.GetUser("yammer:1"))->name, "Ada");
}

TEST(SqliteStore, OutboxKeepsIntentAndState) {
  TempDir d;
  auto s = store::OpenSqlite((d.path / "s.db").string());
  auto& st = **s;
  store::OutboxItem o;
  o.key = "prompt:q:2026-11-23T08:00:00Z";
  o.network = "yammer";
  o.group_id = "1";
  o.body = "What did you learn?";
  o.due_at = *ParseIso("2026-11-23T08:00:00Z");
  EXPECT_TRUE(Ok(st.EnqueueOutbox(o)));
  EXPECT_FALSE(Ok(st.EnqueueOutbox(o)));  // the key is the idempotency key
  Ok(st.MarkOutboxSending(o.key, "What did you learn? Open until …", o.due_at));
  Ok(st.MarkOutboxFailed(o.key, "HTTP 503", false));
  Ok(st.MarkOutboxSending(o.key, "another text", o.due_at + std::chrono::minutes{1}));
  Ok(st.MarkOutboxFailed(o.key, "HTTP 503", false));
  auto again = Ok(st.UnfinishedOutbox());
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].state, "sending");  // it may have gone out: the bot must look first
  EXPECT_EQ(again[0].attempts, 2);
  // The first attempt's text and time stay: every attempt sends the same.
  EXPECT_EQ(again[0].sent_body.value_or(""), "What did you learn? Open until …");
  EXPECT_EQ(again[0].sent_at, o.due_at);
  EXPECT_FALSE(Ok(st.OutboxKeyOfPost("yammer", "555")));
  Ok(st.MarkOutboxPosted(o.key, "555", *ParseIso("2026-11-23T08:00:01Z")));
  EXPECT_TRUE(Ok(st.UnfinishedOutbox()).empty());
  EXPECT_EQ(*Ok(st.GetOutbox(o.key))->native_id, "555");
  EXPECT_EQ(Ok(st.OutboxKeyOfPost("yammer", "555")).value_or(""), o.key);
  EXPECT_EQ(Ok(st.AllOutbox()).size(), 1u);
}

TEST(Exchange, ExportImportExportGivesTheSameFiles) {
  TempDir d;
  auto a = store::OpenSqlite((d.path / "a.db").string());
  auto& st = **a;
  Ok(st.UpsertUser(User{"yammer:1", "yammer", "Ann \"A\"", std::nullopt, "Sales", "active", false,
                        *ParseIso("2025-01-01T00:00:00Z")}));
  Ok(st.UpsertUser(
      User{"yammer:9", "yammer", "Bot", std::nullopt, std::nullopt, "active", true, std::nullopt}));
  Ok(st.UpsertGroup(Group{"yammer:1", "yammer", "G", "community", {"yammer:1"}}));
  Ok(st.UpsertMessage(Msg("yammer:10", "yammer:1", "2026-11-23T09:00:00.5Z")));
  Ok(st.UpsertMessage(Msg("yammer:11", "yammer:9", "2026-11-23T10:00:00Z", "yammer:10")));
  Ok(st.UpsertReaction(Reaction{"yammer:10", "yammer:9", "like", std::nullopt}));
  Prompt p{"prompt:q:1",
           "q",
           1,
           "yammer",
           "yammer:1",
           "yammer:10",
           "free_text",
           *ParseIso("2026-11-23T09:00:00Z"),
           *ParseIso("2026-11-26T09:00:00Z"),
           std::nullopt,
           {"yammer:1"},
           3,  // a sequence that ends at its third step
           false,
           false};  // a sequence that ends at its third step
  Ok(st.UpsertPrompt(p));
  Ok(st.UpsertAnswer(Answer{"prompt:q:1", "yammer:1", "yammer:11",
                            *ParseIso("2026-11-23T10:00:00Z"), std::nullopt, std::nullopt, 1}));
  // A question asked privately, and the private conversation it is in: not exported.
  Prompt asked = p;
  asked.id = "prompt:practice:1";
  asked.campaign = "practice";
  asked.message_id = "yammer:20";
  asked.last_step.reset();
  asked.spaced = asked.is_private = true;
  Ok(st.UpsertPrompt(asked));
  Message dm = Msg("yammer:20", "yammer:9", "2026-11-23T09:00:00Z");
  dm.group_id = "yammer:direct";
  Ok(st.UpsertMessage(dm));
  Message reply = Msg("yammer:21", "yammer:1", "2026-11-23T09:30:00Z", "yammer:20");
  reply.group_id = "yammer:direct";
  reply.thread_id = "yammer:20";
  Ok(st.UpsertMessage(reply));
  Ok(st.UpsertReaction(Reaction{"yammer:21", "yammer:9", "like", std::nullopt}));
  ASSERT_TRUE(store::Export(st, (d.path / "e1").string()).ok());
  auto b = store::OpenSqlite((d.path / "b.db").string());
  auto n = store::Import(**b, (d.path / "e1").string());
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(n->messages, 2);
  ASSERT_TRUE(store::Export(**b, (d.path / "e2").string()).ok());
  EXPECT_EQ(Ok((*b)->GetPrompt("prompt:q:1"))->audience, std::vector<std::string>{"yammer:1"});
  EXPECT_EQ(Ok((*b)->GetPrompt("prompt:q:1"))->last_step, 3);
  EXPECT_FALSE(Ok((*b)->GetPrompt("prompt:q:1"))->spaced);
  EXPECT_TRUE(Ok((*b)->GetPrompt("prompt:practice:1"))->is_private);
  EXPECT_TRUE(Ok((*b)->GetPrompt("prompt:practice:1"))->spaced);
  EXPECT_FALSE(Ok((*b)->GetPrompt("prompt:practice:1"))->last_step);
  EXPECT_EQ(Ok((*b)->AllReactions()).size(), 1u);  // not the like in the private conversation
  ExpectSameFiles(d.path / "e1", d.path / "e2",
                  {"users.jsonl", "groups.jsonl", "messages.jsonl", "reactions.jsonl",
                   "prompts.jsonl", "answers.jsonl"});

  // Into a store that does not exist yet: built aside, then in place, in WAL mode.
  std::string c = (d.path / "c.db").string();
  auto m = store::ImportIntoNewSqlite(c, (d.path / "e1").string());
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->reactions, 1);
  EXPECT_FALSE(fs::exists(c + ".importing"));
  {
    auto cs = store::OpenSqlite(c);
    ASSERT_TRUE(cs.ok());
    ASSERT_TRUE(store::Export(**cs, (d.path / "e3").string()).ok());
  }
  ExpectSameFiles(d.path / "e1", d.path / "e3",
                  {"users.jsonl", "messages.jsonl", "reactions.jsonl", "answers.jsonl"});
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(c.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, nullptr);
  ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(q, 0)), "wal");
  sqlite3_finalize(q);
  sqlite3_close(db);
  // A store there already is never replaced.
  auto again = store::ImportIntoNewSqlite(c, (d.path / "e1").string());
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("cannot put the new store at"), std::string::npos);
  EXPECT_FALSE(fs::exists(c + ".importing"));
}

TEST(Exchange, AnIdNamingAPersonAGroupAndAMessageHasOneKey) {
  TempDir d;
  auto a = store::OpenSqlite((d.path / "a.db").string());
  auto& st = **a;
  Ok(st.UpsertUser(
      User{"x:5", "yammer", "Ann", std::nullopt, std::nullopt, "active", false, std::nullopt}));
  Ok(st.UpsertGroup(Group{"x:5", "yammer", "G", "community", {"x:5"}}));
  Message m = Msg("x:5", "x:5", "2026-11-23T09:00:00Z");
  m.group_id = "x:5";
  Ok(st.UpsertMessage(m));
  Ok(st.UpsertMessage(Msg("x:6", "x:5", "2026-11-23T10:00:00Z", "x:5")));
  Ok(st.UpsertReaction(Reaction{"x:5", "x:5", "like", std::nullopt}));
  EXPECT_EQ(Ok(st.KeysOf({"x:5"})).size(), 1u);
  ASSERT_TRUE(store::Export(st, (d.path / "e1").string()).ok());
  // The bulk load of a new store keeps messages' ids apart from the others: still one key.
  std::string b = (d.path / "b.db").string();
  auto n = store::ImportIntoNewSqlite(b, (d.path / "e1").string());
  ASSERT_TRUE(n.ok()) << n.error().message;
  auto bs = store::OpenSqlite(b);
  ASSERT_TRUE(bs.ok());
  ASSERT_TRUE(store::Export(**bs, (d.path / "e2").string()).ok());
  ExpectSameFiles(d.path / "e1", d.path / "e2",
                  {"users.jsonl", "groups.jsonl", "messages.jsonl", "reactions.jsonl"});
  auto messages = Ok((*bs)->AllMessages());
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].id, "x:5");
  EXPECT_EQ(messages[0].author_id, "x:5");
  EXPECT_EQ(messages[1].reply_to_id, "x:5");
  EXPECT_EQ(Ok((*bs)->MessagesInThread("x:5")).size(), 1u);  // x:6's thread is yammer:10 (Msg)
}

TEST(Exchange, ABadLineIsReportedAndNothingIsImported) {
  TempDir d;
  fs::create_directories(d.path / "in");
  std::ofstream(d.path / "in" / "users.jsonl")
      << R"({"id":"yammer:1","network":"yammer","name":"A","state":"active","is_bot":false})"
      << "\n"
      << R"({"id":"yammer:2","network":"yammer"})"
      << "\n";
  auto s = store::OpenSqlite((d.path / "s.db").string());
  auto r = store::Import(**s, (d.path / "in").string());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("users.jsonl:2: missing or non-boolean 'is_bot'"),
            std::string::npos)
      << r.error().message;
  EXPECT_TRUE(Ok((*s)->AllUsers()).empty());
  // Into a new store: none is left behind.
  std::string fresh = (d.path / "fresh.db").string();
  ASSERT_FALSE(store::ImportIntoNewSqlite(fresh, (d.path / "in").string()).ok());
  EXPECT_FALSE(fs::exists(fresh));
  EXPECT_FALSE(fs::exists(fresh + ".importing"));
}

TEST(Exchange, ARepeatedReactionLineIsOneReactionWithItsLastTime) {
  // B likes A's post, the ESN sends the like twice (the second time with another time), and B
  // hearts it too.
  TempDir d;
  const std::string in = LEARNLOOP_SOURCE_DIR "/tests/data/repeated_reactions";
  const std::string db = (d.path / "s.db").string();
  auto n = Ok(store::ImportIntoNewSqlite(db, in));
  EXPECT_EQ(n.reactions, 3);
  EXPECT_EQ(n.reactions_added, 2);
  auto s = Ok(store::OpenSqlite(db));
  auto kept = Ok(s->AllReactions());
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].kind, "heart");
  EXPECT_EQ(kept[1].kind, "like");
  EXPECT_EQ(FormatIso(*kept[1].created_at), "2026-11-21T09:00:00Z");  // the last line's
  // Imported again: every line repeats a reaction already kept.
  EXPECT_EQ(Ok(store::Import(*s, in)).reactions_added, 0);

  // A report counts one like (in W47, the last line's week) and one heart (W48), from the store
  // and from the same lines held in memory alike.
  analytics::Dataset data;
  data.users = Ok(s->AllUsers());
  data.groups = Ok(s->AllGroups());
  data.messages = Ok(s->AllMessages());
  data.reactions = {
      {"y:1", "y:b", "like", ParseIso("2026-11-24T09:00:00Z")},
      {"y:1", "y:b", "heart", ParseIso("2026-11-24T10:00:00Z")},
      {"y:1", "y:b", "like", ParseIso("2026-11-21T09:00:00Z")},
  };
  const analytics::ReportOptions utc{*FindZone("UTC"), "UTC", 1, "k"};
  const Time as_of = *ParseIso("2026-12-10T00:00:00Z");
  auto from_store = analytics::ComputeWeekly(Ok(analytics::Columns::Load(*s)),
                                             *IsoWeek::Parse("2026-W48"), as_of, utc);
  auto in_memory = analytics::ComputeWeekly(data, *IsoWeek::Parse("2026-W48"), as_of, utc);
  EXPECT_EQ(from_store.totals.reactions, 1);
  EXPECT_EQ(from_store.trend.reactions, 1);
  EXPECT_EQ(analytics::RenderJson(from_store), analytics::RenderJson(in_memory));
}

namespace {

// A store with more rows than a bulk load hands to its writer at once: posts and replies (some
// edited, deleted, without a group, mentioning people), reactions with and without times, a
// prompt and its answers. Written row by row, then exported to `dir`.
void ExportManyRows(const fs::path& db, const fs::path& dir) {
  auto s = store::OpenSqlite(db.string());
  ASSERT_TRUE(s.ok());
  auto& st = **s;
  Ok(st.Transaction([&]() -> Status {
    for (int u = 0; u < 50; ++u)
      Ok(st.UpsertUser(User{"yammer:u" + std::to_string(u), "yammer", "P" + std::to_string(u),
                            std::nullopt, std::nullopt, "active", u == 49, std::nullopt}));
    Ok(st.UpsertGroup(Group{"yammer:g", "yammer", "G", "community", {"yammer:u0", "yammer:u1"}}));
    const Time t0 = *ParseIso("2026-11-02T08:00:00Z");
    for (int i = 0; i < 6000; ++i) {
      Message m;
      m.id = "yammer:m" + std::to_string(i);
      m.network = "yammer";
      if (i % 97 != 5) m.group_id = "yammer:g";
      const bool reply = i % 3 != 0;
      m.thread_id = reply ? "yammer:m" + std::to_string(i / 3 * 3) : m.id;
      if (reply) m.reply_to_id = "yammer:m" + std::to_string(i - 1);
      m.kind = reply ? "reply" : "post";
      m.author_id = "yammer:u" + std::to_string(i * 7 % 50);
      m.created_at = t0 + std::chrono::minutes(i);
      if (i % 11 == 0) m.edited_at = m.created_at + std::chrono::seconds(30);
      m.deleted = i % 41 == 0;
      m.text = "row " + std::to_string(i) + " \"quoted\"\n";
      if (i % 5 == 0) m.mentions = {"yammer:u" + std::to_string(i % 50), "yammer:u\"odd"};
      Ok(st.UpsertMessage(m));
      for (int r = 0; r < i % 4; ++r)
        Ok(st.UpsertReaction(Reaction{
            m.id, "yammer:u" + std::to_string((i + r * 13) % 50), r == 2 ? "praise" : "like",
            r == 1 ? std::optional<Time>() : m.created_at + std::chrono::hours(1)}));
    }
    Ok(st.UpsertPrompt(Prompt{"prompt:q:1",
                              "q",
                              1,
                              "yammer",
                              "yammer:g",
                              "yammer:m0",
                              "free_text",
                              t0,
                              t0 + std::chrono::hours(72),
                              std::nullopt,
                              {},
                              std::nullopt,
                              false,
                              false}));
    for (int a = 1; a < 30; a += 3)
      Ok(st.UpsertAnswer(Answer{"prompt:q:1", "yammer:u" + std::to_string(a),
                                "yammer:m" + std::to_string(a), t0 + std::chrono::minutes(a),
                                std::nullopt, std::nullopt, 1}));
    return Status::Ok();
  }));
  ASSERT_TRUE(store::Export(st, dir.string()).ok());
}

constexpr std::initializer_list<const char*> kExchangeFiles = {"users.jsonl",    "groups.jsonl",
                                                               "messages.jsonl", "reactions.jsonl",
                                                               "prompts.jsonl",  "answers.jsonl"};

}  // namespace

TEST(Exchange, ALoadWrittenBehindGivesWhatALoadRowByRowGives) {
  TempDir d;
  ExportManyRows(d.path / "a.db", d.path / "e1");
  // Into a store without keys: the rows are written by a thread of their own.
  std::string fresh = (d.path / "fresh.db").string();
  auto n = store::ImportIntoNewSqlite(fresh, (d.path / "e1").string());
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(n->messages, 6000);
  EXPECT_EQ(n->reactions, 9000);
  {
    auto s = store::OpenSqlite(fresh);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE(store::Export(**s, (d.path / "e2").string()).ok());
    EXPECT_EQ(Ok((*s)->MessagesInThread("yammer:m3")).size(), 3u);
  }
  ExpectSameFiles(d.path / "e1", d.path / "e2", kExchangeFiles);
  // Into a store that has keys already (one of the same people): row by row.
  auto keyed = store::OpenSqlite((d.path / "keyed.db").string());
  ASSERT_TRUE(keyed.ok());
  Ok((*keyed)->UpsertUser(User{"yammer:u0", "yammer", "P0", std::nullopt, std::nullopt, "active",
                               false, std::nullopt}));
  auto k = store::Import(**keyed, (d.path / "e1").string());
  ASSERT_TRUE(k.ok()) << k.error().message;
  ASSERT_TRUE(store::Export(**keyed, (d.path / "e3").string()).ok());
  ExpectSameFiles(d.path / "e1", d.path / "e3", kExchangeFiles);
  // A message and a reaction given again thousands of rows later (other batches of the writer,
  // other statements of 64 rows): the later row wins, as row by row.
  fs::copy(d.path / "e1", d.path / "again");
  std::ofstream(d.path / "again" / "messages.jsonl", std::ios::app)
      << R"({"id":"yammer:m7","network":"yammer","group_id":null,"thread_id":"yammer:m6",)"
      << R"("reply_to_id":"yammer:m6","author_id":"yammer:u1","created_at":"2026-11-02T08:07:00Z",)"
      << R"("edited_at":"2026-11-03T08:00:00Z","deleted":false,"text":"given again",)"
      << R"("mentions":[],"kind":"reply"})"
      << "\n";
  std::ofstream(d.path / "again" / "reactions.jsonl", std::ios::app)
      << R"({"message_id":"yammer:m7","user_id":"yammer:u7","kind":"like",)"
      << R"("created_at":"2026-11-05T00:00:00Z"})"
      << "\n";
  std::string twice = (d.path / "twice.db").string();
  auto t = store::ImportIntoNewSqlite(twice, (d.path / "again").string());
  ASSERT_TRUE(t.ok()) << t.error().message;
  auto ts = store::OpenSqlite(twice);
  ASSERT_TRUE(ts.ok());
  auto messages = Ok((*ts)->AllMessages());
  ASSERT_EQ(messages.size(), 6000u);
  auto m7 = std::find_if(messages.begin(), messages.end(),
                         [](const Message& m) { return m.id == "yammer:m7"; });
  ASSERT_NE(m7, messages.end());
  EXPECT_EQ(m7->text, "given again");
  EXPECT_FALSE(m7->group_id);
  EXPECT_EQ(m7->author_id, "yammer:u1");
  EXPECT_EQ(m7->edited_at, ParseIso("2026-11-03T08:00:00Z"));
  auto reactions = Ok((*ts)->AllReactions());
  ASSERT_EQ(reactions.size(), 9000u);
  auto r7 = std::find_if(reactions.begin(), reactions.end(), [](const Reaction& r) {
    return r.message_id == "yammer:m7" && r.user_id == "yammer:u7" && r.kind == "like";
  });
  ASSERT_NE(r7, reactions.end());
  EXPECT_EQ(r7->created_at, ParseIso("2026-11-05T00:00:00Z"));
  // A store built from an export has pages of 64 KiB, one grown row by row SQLite's 4 KiB.
  auto page_size = [](const std::string& path) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* q = nullptr;
    sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &q, nullptr);
    EXPECT_EQ(sqlite3_step(q), SQLITE_ROW);
    int size = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return size;
  };
  EXPECT_EQ(page_size(fresh), 65536);
  EXPECT_EQ(page_size((d.path / "keyed.db").string()), 4096);
}

TEST(Exchange, ABadLineAfterRowsWrittenBehindLeavesNothing) {
  TempDir d;
  ExportManyRows(d.path / "a.db", d.path / "e1");
  std::ofstream(d.path / "e1" / "reactions.jsonl", std::ios::app)
      << R"({"message_id":"yammer:m1","kind":"like"})"
      << "\n";
  std::string fresh = (d.path / "fresh.db").string();
  auto n = store::ImportIntoNewSqlite(fresh, (d.path / "e1").string());
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.error().message.find("reactions.jsonl:9001: missing or non-string 'user_id'"),
            std::string::npos)
      << n.error().message;
  EXPECT_FALSE(fs::exists(fresh));
  EXPECT_FALSE(fs::exists(fresh + ".importing"));
  // Into an empty store: rolled back, and the store takes the next load.
  auto s = store::OpenSqlite((d.path / "s.db").string());
  ASSERT_TRUE(s.ok());
  ASSERT_FALSE(store::Import(**s, (d.path / "e1").string()).ok());
  EXPECT_TRUE(Ok((*s)->AllMessages()).empty());
  EXPECT_TRUE(Ok((*s)->AllReactions()).empty());
  EXPECT_TRUE(Ok((*s)->AllUsers()).empty());
  fs::resize_file(d.path / "e1" / "reactions.jsonl",
                  fs::file_size(d.path / "e1" / "reactions.jsonl") -
                      std::string(R"({"message_id":"yammer:m1","kind":"like"})").size() - 1);
  auto again = store::Import(**s, (d.path / "e1").string());
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->reactions, 9000);
  EXPECT_EQ(Ok((*s)->AllMessages()).size(), 6000u);
}

TEST(Store, PromptsKeepTheirAudienceAndAreFoundByCampaignAndByClose) {
  TempDir d;
  auto s = store::OpenSqlite((d.path / "s.db").string());
  ASSERT_TRUE(s.ok());
  auto& st = **s;
  auto prompt = [](const std::string& id, const std::string& campaign, const char* posted,
                   std::optional<Time> closes, bool sent, std::vector<std::string> audience) {
    Prompt p;
    p.id = id;
    p.campaign = campaign;
    p.step = 1;
    p.network = "yammer";
    p.group_id = "yammer:1";
    if (sent) p.message_id = "yammer:" + id;
    p.posted_at = *ParseIso(posted);
    p.closes_at = closes;
    p.audience = std::move(audience);
    return p;
  };
  Ok(st.UpsertPrompt(prompt("a", "x", "2026-11-02T09:00:00Z", ParseIso("2026-11-03T09:00:00Z"),
                            true, {"yammer:7", "yammer:3"})));
  Ok(st.UpsertPrompt(
      prompt("b", "x", "2026-11-09T09:00:00Z", ParseIso("2026-11-10T09:00:00Z"), false, {})));
  Ok(st.UpsertPrompt(prompt("c", "y", "2026-11-01T09:00:00Z", std::nullopt, true, {})));
  Ok(st.UpsertPrompt(
      prompt("d", "y", "2026-11-09T09:00:00Z", ParseIso("2026-11-12T09:00:00Z"), true, {})));

  auto x = Ok(st.PromptsOf("x"));  // the one still in the outbox too
  ASSERT_EQ(x.size(), 2u);
  EXPECT_EQ(x[0].id, "a");
  EXPECT_EQ(x[0].audience, (std::vector<std::string>{"yammer:7", "yammer:3"}));
  EXPECT_EQ(x[1].id, "b");
  EXPECT_TRUE(x[1].audience.empty());
  EXPECT_EQ(Ok(st.GetPrompt("a"))->audience.size(), 2u);

  // Posted, and open at the time (or never closing): c and d, not a (closed), not b (unsent).
  auto open = Ok(st.PromptsOpenAfter(*ParseIso("2026-11-05T00:00:00Z")));
  ASSERT_EQ(open.size(), 2u);
  EXPECT_EQ(open[0].id, "c");
  EXPECT_EQ(open[1].id, "d");
  EXPECT_EQ(Ok(st.PromptsOpenAfter(*ParseIso("2026-11-03T09:00:00Z"))).size(),
            3u);  // a closes then
}

TEST(Store, AForgottenPersonIsErasedAndNeverStoredAgain) {
  TempDir d;
  auto s = store::OpenSqlite((d.path / "s.db").string());
  ASSERT_TRUE(s.ok());
  auto& st = **s;
  for (const char* id : {"yammer:1", "yammer:2"})
    Ok(st.UpsertUser(User{id, "yammer", id, std::string(id) + "@x", std::nullopt, "active", false,
                          std::nullopt}));
  Ok(st.UpsertGroup(Group{"yammer:g", "yammer", "G", "community", {"yammer:1", "yammer:2"}}));
  Message mine = Msg("yammer:10", "yammer:1", "2026-11-23T09:00:00Z");
  Message theirs = Msg("yammer:11", "yammer:2", "2026-11-23T10:00:00Z", "yammer:10");
  theirs.mentions = {"yammer:1"};
  theirs.text = "thanks @yammer:1, see yammer:1@x";
  Ok(st.UpsertMessage(mine));
  Ok(st.UpsertMessage(theirs));
  Ok(st.UpsertReaction(Reaction{"yammer:11", "yammer:1", "like", std::nullopt}));
  Ok(st.UpsertReaction(Reaction{"yammer:10", "yammer:2", "like", std::nullopt}));
  Ok(st.SetOptedOut("yammer:1", true));
  // A question put to them privately (posted, with the bot's message), and one still to send.
  Prompt asked;
  asked.id = "prompt:practice:1";
  asked.campaign = "practice";
  asked.network = "yammer";
  asked.group_id = "yammer:g";
  asked.message_id = "yammer:30";
  asked.posted_at = *ParseIso("2026-11-24T09:00:00Z");
  asked.audience = {"yammer:1"};
  asked.spaced = asked.is_private = true;
  Ok(st.UpsertPrompt(asked));
  Message question = Msg("yammer:30", "yammer:9", "2026-11-24T09:00:00Z");
  question.group_id = "yammer:direct";
  Ok(st.UpsertMessage(question));
  store::OutboxItem next;
  next.key = "prompt:practice:2";
  next.network = "yammer";
  next.group_id = "g";
  next.body = "Hi Ann - practice question 2 of 2 (practice):";
  next.to_user = "1";
  next.due_at = *ParseIso("2026-11-29T09:00:00Z");
  ASSERT_TRUE(Ok(st.EnqueueOutbox(next)));

  auto n = Ok(st.ForgetUser("yammer:1", *ParseIso("2026-11-28T00:00:00Z")));
  EXPECT_FALSE(Ok(st.GetPrompt("prompt:practice:1")));  // put to them alone: gone, with its thread
  EXPECT_FALSE(Ok(st.GetOutbox("prompt:practice:2")));
  EXPECT_EQ(n.users, 1);
  EXPECT_EQ(n.messages, 2);  // theirs, and the bot's question to them privately
  EXPECT_EQ(n.reactions, 1);
  EXPECT_EQ(n.memberships, 1);
  EXPECT_EQ(n.mentions, 1);
  EXPECT_TRUE(Ok(st.IsForgotten("yammer:1")));
  EXPECT_FALSE(Ok(st.GetUser("yammer:1")));
  ASSERT_EQ(Ok(st.AllMessages()).size(), 1u);
  EXPECT_TRUE(Ok(st.AllMessages())[0].mentions.empty());
  EXPECT_EQ(Ok(st.AllMessages())[0].text, "thanks @[forgotten], see [forgotten]@x");
  EXPECT_EQ(Ok(st.AllGroups())[0].members, std::vector<std::string>{"yammer:2"});
  EXPECT_FALSE(Ok(st.OptedOut("yammer:1")));

  // A later sync brings them again: nothing of them is stored.
  Ok(st.UpsertUser(User{"yammer:1", "yammer", "Again", std::nullopt, std::nullopt, "active", false,
                        std::nullopt}));
  Ok(st.UpsertMessage(mine));
  Ok(st.UpsertReaction(Reaction{"yammer:11", "yammer:1", "like", std::nullopt}));
  Ok(st.UpsertGroup(Group{"yammer:g", "yammer", "G", "community", {"yammer:1", "yammer:2"}}));
  theirs.text = "edited";
  Ok(st.UpsertMessage(theirs));
  EXPECT_FALSE(Ok(st.GetUser("yammer:1")));
  ASSERT_EQ(Ok(st.AllMessages()).size(), 1u);
  EXPECT_TRUE(Ok(st.AllMessages())[0].mentions.empty());
  ASSERT_EQ(Ok(st.AllReactions()).size(), 1u);
  EXPECT_EQ(Ok(st.AllReactions())[0].user_id, "yammer:2");
  EXPECT_EQ(Ok(st.AllGroups())[0].members, std::vector<std::string>{"yammer:2"});
}

TEST(SqliteStore, ForgettingRewritesTheBotsTextsAndKeepsOnlyAHashOfTheId) {
  TempDir d;
  std::string path = (d.path / "s.db").string();
  {  // a tombstone as a store of version 8 kept it: the id itself
    ASSERT_TRUE(store::OpenSqlite(path, {.up_to_version = 8}).ok());
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "INSERT INTO forgotten VALUES ('yammer:1490000007', 1)", nullptr,
                           nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  auto s = store::OpenSqlite(path);
  ASSERT_TRUE(s.ok()) << s.error().message;
  store::Store& st = **s;
  EXPECT_TRUE(Ok(st.IsForgotten("yammer:1490000007")));
  EXPECT_FALSE(Ok(st.IsForgotten("yammer:1490000008")));
  Ok(st.UpsertUser(User{"yammer:1490000008", "yammer", "Eva Nguyen", "eva.nguyen@contoso.example",
                        std::nullopt, "active", false, std::nullopt}));
  store::OutboxItem reminder;
  reminder.key = "reminder:prompt:quiz:1:1";
  reminder.network = "yammer";
  reminder.group_id = "g";
  reminder.body = "A reminder for {{mention:1490000008|Eva Nguyen}} and {{mention:1490000009|Bo}}";
  reminder.due_at = *ParseIso("2026-11-29T09:00:00Z");
  ASSERT_TRUE(Ok(st.EnqueueOutbox(reminder)));
  Ok(st.MarkOutboxSending(reminder.key, reminder.body, *ParseIso("2026-11-29T09:00:00Z")));
  Ok(st.MarkOutboxPosted(reminder.key, "77", *ParseIso("2026-11-29T09:00:01Z")));
  store::OutboxItem board = reminder;
  board.key = "leaderboard:quiz:g:2026-11-27T15:00:00Z";
  board.body = "Leaderboard:\n1. Eva Nguyen - 5 points\n2. Bo - 3 points";
  ASSERT_TRUE(Ok(st.EnqueueOutbox(board)));
  Ok(st.MarkUnreachable("yammer:1490000008", {*ParseIso("2026-11-29T09:00:00Z"), "403"}));
  Ok(st.SkipPrompt("prompt:quiz:now:q1:1490000008", "skipped"));
  Ok(st.SkipPrompt("prompt:quiz:now:q1:1490000009", "skipped"));

  Ok(st.ForgetUser("yammer:1490000008", *ParseIso("2026-11-30T00:00:00Z")));
  auto r = Ok(st.GetOutbox(reminder.key));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "A reminder for a colleague and {{mention:1490000009|Bo}}");
  EXPECT_EQ(r->sent_body, r->body);
  EXPECT_EQ(Ok(st.GetOutbox(board.key))->body,
            "Leaderboard:\n1. [forgotten] - 5 points\n2. Bo - 3 points");
  EXPECT_FALSE(Ok(st.UnreachableSince("yammer:1490000008")));
  EXPECT_FALSE(Ok(st.SkippedPrompt("prompt:quiz:now:q1:1490000008")));
  EXPECT_TRUE(Ok(st.SkippedPrompt("prompt:quiz:now:q1:1490000009")));
  EXPECT_TRUE(Ok(st.IsForgotten("yammer:1490000008")));
  EXPECT_TRUE(Ok(st.Compact()));
  s->reset();
  // Neither id is in the store's file: the tombstones are keyed hashes.
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_GT(bytes.size(), 0u);
  for (const char* gone : {"1490000007", "1490000008", "Eva Nguyen", "eva.nguyen"})
    EXPECT_EQ(bytes.find(gone), std::string::npos) << gone;
  EXPECT_NE(bytes.find("1490000009"), std::string::npos);
  auto again = store::OpenSqlite(path);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(Ok((*again)->IsForgotten("yammer:1490000007")));
  EXPECT_TRUE(Ok((*again)->IsForgotten("yammer:1490000008")));
}

TEST(SqliteStore, AcknowledgedPushesWaitInTheStoreUntilRead) {
  TempDir d;
  std::string path = (d.path / "s.db").string();
  {
    auto s = store::OpenSqlite(path);
    ASSERT_TRUE(s.ok());
    Ok((*s)->QueuePush("teams", R"({"actions":[1]})", *ParseIso("2026-11-02T10:00:00Z")));
    Ok((*s)->QueuePush("teams-emea", R"({"actions":[2]})", *ParseIso("2026-11-02T10:00:01Z")));
    Ok((*s)->QueuePush("teams", R"({"actions":[3]})", *ParseIso("2026-11-02T10:00:02Z")));
  }  // as after a kill: nothing read yet
  auto s = store::OpenSqlite(path);
  ASSERT_TRUE(s.ok());
  auto queued = Ok((*s)->QueuedPushes("teams"));
  ASSERT_EQ(queued.size(), 2u);  // that network's, oldest first
  EXPECT_EQ(queued[0].second, R"({"actions":[1]})");
  EXPECT_EQ(queued[1].second, R"({"actions":[3]})");
  Ok((*s)->DeletePush(queued[0].first));
  ASSERT_EQ(Ok((*s)->QueuedPushes("teams")).size(), 1u);
  EXPECT_EQ(Ok((*s)->QueuedPushes("teams-emea")).size(), 1u);
}
