#include <gtest/gtest.h>

#include <deque>
#include <fstream>
#include <set>
#include <sstream>

#include "connectors/common/http.h"
#include "connectors/registry.h"
#include "connectors/yammer/data_export.h"
#include "connectors/yammer/parse.h"
#include "connectors/yammer/yammer_connector.h"
#include "core/compress.h"
#include "tests/support/fake_client.h"
#include "tests/support/test_network.h"
#include "tests/support/testdata.h"

using namespace learnloop;
using namespace learnloop::connectors;

namespace {

std::string Testdata(const std::string& name) {
  return learnloop::testing::ReadTestdata("yammer", name);
}

using learnloop::testing::FakeClient;
using learnloop::testing::TestNetwork;

struct Sink : EventSink {
  std::vector<User> users;
  std::vector<Group> groups;
  std::vector<Message> messages;
  std::map<std::string, std::vector<Reaction>> likes;
  std::map<std::string, std::vector<std::string>> present;  // group → ids
  void OnUser(const User& u) override { users.push_back(u); }
  void OnGroup(const Group& g) override { groups.push_back(g); }
  void OnMessage(const Message& m) override { messages.push_back(m); }
  void OnReactionSnapshot(const std::string& id, const std::string&,
                          const std::vector<Reaction>& r) override {
    likes[id] = r;
  }
  void OnPresent(const std::string& group, Time, Time,
                 const std::vector<std::string>& ids) override {
    present[group] = ids;
  }
  const Group* FindGroup(const std::string& id) const {
    for (const auto& g : groups)
      if (g.id == id) return &g;
    return nullptr;
  }
};

// A Yammer message object, as feeds give it.
std::string Msg(int64_t id, const std::string& created, const std::string& extra = "",
                int64_t group = 7) {
  return "{\"id\":" + std::to_string(id) + ",\"thread_id\":" + std::to_string(id) +
         ",\"sender_id\":5" + (group ? ",\"group_id\":" + std::to_string(group) : "") +
         ",\"created_at\":\"" + created + "\",\"body\":{\"plain\":\"x\"}" + extra + "}";
}

config::NetworkConfig Net() {
  return TestNetwork(
      "type: yammer\nbase_url: http://127.0.0.1:1/api/v1/\ntoken: ${LEARNLOOP_TEST_TOKEN}\n"
      "communities: ['7']",
      {{"LEARNLOOP_TEST_TOKEN", "tok"}});
}

}  // namespace

TEST(YammerParse, RecordedFeedSkipsSystemMessagesAndKeepsLikes) {
  auto page = yammer::ParseMessagePage(Testdata("yammer_messages_feed_camel.json"), "yammer");
  ASSERT_TRUE(page.ok()) << page.error().message;
  EXPECT_EQ(page->native_ids.size(), 2u);  // both count for paging
  ASSERT_EQ(page->messages.size(), 1u);    // the system message is not an event
  const Message& m = page->messages[0];
  EXPECT_EQ(m.id, "yammer:305298242");
  EXPECT_EQ(m.thread_id, m.id);
  EXPECT_EQ(m.kind, "post");
  EXPECT_EQ(m.author_id, "yammer:1499642294");
  EXPECT_EQ(FormatIso(m.created_at), "2013-06-25T18:14:45Z");
  ASSERT_EQ(page->likes.size(), 1u);
  EXPECT_EQ(page->likes[0].reactions.at(0).user_id, "yammer:1499642294");
  EXPECT_FALSE(page->likes[0].reactions.at(0).created_at);  // Yammer does not say when
}

TEST(YammerParse, PostResponseWith64BitIds) {
  auto page = yammer::ParseMessagePage(Testdata("yammer_post_message_response.json"), "yammer");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->messages.at(0).id, "yammer:470839661887488");
  EXPECT_EQ(*page->messages.at(0).group_id, "yammer:13114941440");
}

TEST(YammerParse, UsersGroupsAndMentions) {
  auto u = yammer::ParseUserBody(Testdata("yammer_user.json"), "yammer");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->name, "John Smith");
  EXPECT_EQ(*u->email, "jsmith@yammer-inc.com");
  EXPECT_EQ(*u->department, "Engineering");
  EXPECT_EQ(FormatIso(*u->joined_at), "2012-01-23T17:01:02Z");
  auto g = yammer::ParseGroups(Testdata("yammer_group.json"));
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->at(0).native_id, "2528");
  EXPECT_EQ(g->at(0).name, "RAILS TEAM");
  EXPECT_EQ(yammer::MentionsFromParsed("hi [[user:12]] and [[tag:3]] [[user:12]] [[user:x]]"),
            std::vector<std::string>{"12"});
  EXPECT_FALSE(yammer::ParseMessagePage("{\"messages\": [", "yammer").ok());  // truncated body
}

TEST(YammerConnector, A401IsReportedNotRetried) {
  auto client = std::make_unique<FakeClient>();
  client->Add(401, Testdata("yammer_error_token_not_found.json"));
  FakeClient* raw = client.get();
  ManualClock clock(*ParseIso("2026-01-01T00:00:00Z"));
  auto cfg = Net();
  yammer::YammerConnector c(cfg, clock, std::move(client));
  Sink sink;
  auto s = c.SyncDirectory(sink);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("401"), std::string::npos);
  EXPECT_EQ(raw->seen.size(), 1u);
  EXPECT_EQ(raw->seen[0].url, "http://127.0.0.1:1/api/v1/users/current.json");
  bool has_auth = false;
  for (const auto& [k, v] : raw->seen[0].headers)
    has_auth |= k == "Authorization" && v == "Bearer tok";
  EXPECT_TRUE(has_auth);
}

TEST(YammerConnector, PollsNewerThanTheCursorAndPagesBack) {
  auto client = std::make_unique<FakeClient>();
  FakeClient* raw = client.get();
  ManualClock clock(*ParseIso("2026-01-01T00:00:00Z"));
  auto cfg = Net();
  yammer::YammerConnector c(cfg, clock, std::move(client));
  c.RestoreCursors({{"newest", "100"}, {"refreshed", std::to_string(ToUnixMillis(clock.Now()))}});
  auto msg = [](int id) { return Msg(id, "2025/12/31 10:00:00 +0000"); };
  std::string p1 = "{\"messages\":[", p2 = "{\"messages\":[";
  for (int i = 140; i > 120; --i) p1 += msg(i) + (i > 121 ? "," : "");
  p1 += "],\"meta\":{\"older_available\":true}}";
  for (int i = 120; i > 100; i -= 5) p2 += msg(i) + (i > 105 ? "," : "");
  p2 += "],\"meta\":{\"older_available\":false}}";
  raw->Add(200, p1);
  raw->Add(200, p2);
  Sink sink;
  auto stats = c.Poll(sink);
  EXPECT_TRUE(stats.errors.empty());
  EXPECT_EQ(sink.messages.size(), 24u);
  ASSERT_EQ(raw->seen.size(), 2u);
  EXPECT_EQ(raw->seen[0].url, "http://127.0.0.1:1/api/v1/messages.json?newer_than=100");
  EXPECT_EQ(raw->seen[1].url,
            "http://127.0.0.1:1/api/v1/messages.json?newer_than=100&older_than=121");
  EXPECT_EQ(c.GetCursors().at("newest"), "140");
  // A second poll within the minute is not sent (one poll per feed per minute).
  c.Poll(sink);
  EXPECT_EQ(raw->seen.size(), 2u);
}

TEST(YammerConnector, PostReturnsTheNewIdAndA400IsFinal) {
  auto client = std::make_unique<FakeClient>();
  FakeClient* raw = client.get();
  ManualClock clock(*ParseIso("2026-01-01T00:00:00Z"));
  auto cfg = Net();
  yammer::YammerConnector c(cfg, clock, std::move(client));
  raw->Add(201, Testdata("yammer_post_message_response.json"));
  auto ok =
      c.Post(PostRequest{"13114941440", std::nullopt, "send a letter to me", {}, std::nullopt});
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->native_id, "470839661887488");
  EXPECT_NE(raw->seen[0].body.find("\"group_id\":\"13114941440\""), std::string::npos);
  raw->Add(201, Testdata("yammer_post_message_response.json"));
  ASSERT_TRUE(
      c.Post(
           PostRequest{"13114941440", std::string("470839661887488"), "thanks!", {}, std::nullopt})
          .ok());
  EXPECT_NE(raw->seen[1].body.find("\"replied_to_id\":\"470839661887488\""), std::string::npos);
  EXPECT_EQ(raw->seen[1].body.find("group_id"), std::string::npos);
  raw->Add(400, Testdata("yammer_error_post_body_blank.json"));
  auto bad = c.Post(PostRequest{"13114941440", std::nullopt, "", {}, std::nullopt});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, 400);
}

namespace {
// The recorded-shape CSV files of testdata/export, zipped as the Data Export answers them.
std::string ExportZip(bool with_messages = true) {
  std::vector<ZipEntry> files;
  for (const char* f : {"Messages.csv", "Users.csv", "Groups.csv", "Topics.csv"}) {
    if (!with_messages && std::string(f) == "Messages.csv") continue;
    files.push_back({std::string("export/") + f, Testdata(std::string("export/") + f)});
  }
  return *MakeZip(files);
}
}  // namespace

TEST(YammerExport, ReadsMessagesUsersAndGroupsByColumnName) {
  auto data = yammer::ParseExport(ExportZip(), "yammer");
  ASSERT_TRUE(data.ok()) << data.error().message;
  ASSERT_EQ(data->messages.size(), 5u);
  const Message& post = data->messages[0];
  EXPECT_EQ(post.id, "yammer:1690245398339584");  // 64-bit ids
  EXPECT_EQ(post.thread_id, post.id);
  EXPECT_EQ(post.kind, "post");
  EXPECT_EQ(post.group_id, "yammer:77410512");
  EXPECT_EQ(post.author_id, "yammer:1558849124");
  EXPECT_EQ(FormatIso(post.created_at), "2024-03-04T08:00:00Z");
  const Message& reply = data->messages[1];
  EXPECT_EQ(reply.kind, "reply");
  EXPECT_EQ(*reply.reply_to_id, post.id);
  EXPECT_EQ(reply.thread_id, post.id);
  EXPECT_EQ(FormatIso(reply.created_at), "2024-03-04T09:15:00Z");  // the REST time format
  EXPECT_EQ(reply.text,
            "From @Ada Lovelace, mostly: \"ship it, then learn\"\nand a second line, with a comma");
  EXPECT_EQ(reply.mentions, std::vector<std::string>{"yammer:1558849124"});
  const Message& gone = data->messages[2];
  EXPECT_TRUE(gone.deleted);
  EXPECT_EQ(FormatIso(gone.created_at), "2024-03-04T10:00:00Z");  // "… UTC"
  EXPECT_EQ(gone.thread_id, post.id);
  EXPECT_FALSE(post.deleted);
  // Without a group: posted to All Company.
  EXPECT_EQ(data->messages[3].group_id, "yammer:all-company");
  EXPECT_EQ(data->messages[4].group_id, "yammer:99000001");
  // The private message and the one without a time are left out, but count for the cursor.
  EXPECT_EQ(data->skipped, 2);
  EXPECT_EQ(data->max_message_id, 1690245398339800);

  ASSERT_EQ(data->users.size(), 3u);
  EXPECT_EQ(data->users[0].name, "Ada Lovelace");
  EXPECT_EQ(*data->users[0].department, "Engineering");
  EXPECT_EQ(data->users[2].state, "deleted");
  EXPECT_EQ(data->group_ids, (std::vector<std::string>{"77410512", "99000001"}));
}

TEST(YammerExport, DamagedArchivesAreErrors) {
  std::string zip = ExportZip();
  EXPECT_FALSE(yammer::ParseExport(zip.substr(0, zip.size() - 100), "yammer").ok());
  auto no_messages = yammer::ParseExport(ExportZip(false), "yammer");
  ASSERT_FALSE(no_messages.ok());
  EXPECT_NE(no_messages.error().message.find("Messages.csv"), std::string::npos);
  auto no_id =
      yammer::ParseExport(*MakeZip({{"Messages.csv", "body,created_at\r\nx,y\r\n"}}), "yammer");
  ASSERT_FALSE(no_id.ok());
  EXPECT_NE(no_id.error().message.find("'id'"), std::string::npos);
}

TEST(YammerConnector, BackfillsFromTheExportThenPollsTheFeedsFromItsNewestMessage) {
  auto client = std::make_unique<FakeClient>();
  FakeClient* raw = client.get();
  ManualClock clock(*ParseIso("2024-03-10T00:00:00Z"));
  auto cfg = Net();
  cfg.settings.Set("backfill_source", std::string("export"));
  cfg.backfill_since = *ParseIso("2024-03-01T00:00:00Z");
  yammer::YammerConnector c(cfg, clock, std::move(client));
  std::string zip = ExportZip();
  raw->Add(200, zip.substr(0, zip.size() / 2));  // cut short: fetched again
  raw->Add(200, zip);
  raw->Add(200, R"({"messages":[],"meta":{"older_available":false}})");  // recent window (likes)
  Sink sink;
  auto stats = c.Poll(sink);
  EXPECT_TRUE(stats.errors.empty()) << stats.errors[0];
  ASSERT_GE(raw->seen.size(), 3u);
  EXPECT_EQ(
      raw->seen[0].url,
      "http://127.0.0.1:1/api/v1/export?since=2024-03-01T00%3A00%3A00Z&until=2024-03-10T00%3A00%"
      "3A00Z&model=Message&model=User&model=Group&include=csv");
  // Only the configured community (7 here) and All Company are kept: the fixture's other
  // messages are elsewhere.
  ASSERT_EQ(sink.messages.size(), 1u);
  EXPECT_EQ(sink.messages[0].group_id, "yammer:all-company");
  EXPECT_EQ(sink.users.size(), 3u);
  EXPECT_EQ(c.GetCursors().at("newest"), "1690245398339800");
  EXPECT_EQ(c.GetCursors().at("export.until"), "2024-03-10T00:00:00Z");
  // The export has no likes: the recent window of the company feed is read at once.
  ASSERT_EQ(raw->seen.size(), 3u);
  EXPECT_EQ(raw->seen[2].url, "http://127.0.0.1:1/api/v1/messages.json");

  // Every community (none listed): all group messages of the export.
  auto client2 = std::make_unique<FakeClient>();
  FakeClient* raw2 = client2.get();
  cfg.settings.Set("communities", std::vector<std::string>{});
  yammer::YammerConnector all(cfg, clock, std::move(client2));
  raw2->Add(200, zip);
  raw2->Add(200, R"({"messages":[]})");
  Sink sink2;
  all.Poll(sink2);
  EXPECT_EQ(sink2.messages.size(), 5u);
  EXPECT_EQ(all.GetCursors().at("newest"), "1690245398339800");
}

TEST(YammerConnector, AnExportRefusedToANonAdminFallsBackToTheFeeds) {
  auto client = std::make_unique<FakeClient>();
  FakeClient* raw = client.get();
  ManualClock clock(*ParseIso("2024-03-10T00:00:00Z"));
  auto cfg = Net();
  cfg.settings.Set("backfill_source", std::string("export"));
  cfg.settings.Set("export_url", std::string("http://127.0.0.1:1/custom/export"));
  yammer::YammerConnector c(cfg, clock, std::move(client));
  raw->Add(403, R"({"response":{"message":"Only verified admins","stat":"fail"}})");
  raw->Add(200, R"({"messages":[],"meta":{"older_available":false}})");
  Sink sink;
  auto stats = c.Poll(sink);
  EXPECT_TRUE(stats.errors.empty());
  ASSERT_EQ(raw->seen.size(), 2u);
  EXPECT_EQ(raw->seen[0].url.rfind("http://127.0.0.1:1/custom/export?since=1970-01-01", 0), 0u);
  EXPECT_EQ(raw->seen[1].url, "http://127.0.0.1:1/api/v1/messages.json");
  EXPECT_EQ(c.GetCursors().at("export.until"), "refused");

  // A 5xx is not a refusal: the feeds wait and the export is tried again on the next poll.
  auto client2 = std::make_unique<FakeClient>();
  FakeClient* raw2 = client2.get();
  yammer::YammerConnector again(cfg, clock, std::move(client2));
  for (int i = 0; i < 6; ++i) raw2->Add(503, "");
  Sink sink2;
  auto s2 = again.Poll(sink2);
  EXPECT_EQ(s2.errors.size(), 1u);
  EXPECT_EQ(again.GetCursors().count("export.until"), 0u);
  for (const auto& r : raw2->seen) EXPECT_NE(r.url.find("/custom/export"), std::string::npos);
}

TEST(YammerConnector, AcknowledgesAnAnswerWithALike) {
  auto client = std::make_unique<FakeClient>();
  FakeClient* raw = client.get();
  ManualClock clock(*ParseIso("2026-01-01T00:00:00Z"));
  yammer::YammerConnector c(Net(), clock, std::move(client));
  raw->Add(503, "");  // a like may be sent again: it is a set
  raw->Add(201, "");
  raw->Add(404, R"({"base":["Message not found"]})");
  EXPECT_TRUE(c.Acknowledge("1690245398339590").ok());
  ASSERT_EQ(raw->seen.size(), 2u);
  EXPECT_EQ(raw->seen[1].method, "POST");
  EXPECT_EQ(raw->seen[1].url, "http://127.0.0.1:1/api/v1/messages/liked_by/current.json");
  EXPECT_EQ(raw->seen[1].body, R"({"message_id":"1690245398339590"})");
  auto gone = c.Acknowledge("1");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, 404);
}

TEST(YammerConnector, ReadsAllCompanyUnlistedCommunitiesAndLikesNamedWithoutIds) {
  auto client = std::make_unique<FakeClient>();
  FakeClient* raw = client.get();
  ManualClock clock(*ParseIso("2026-01-01T00:00:00Z"));
  auto cfg = Net();
  cfg.settings.Set("communities", std::vector<std::string>{});
  yammer::YammerConnector c(cfg, clock, std::move(client));
  // The directory: the service account, three people, one listed community.
  raw->Add(200, R"({"id":9,"full_name":"Learning Bot","name":"bot"})");
  raw->Add(200, R"([{"type":"user","id":11,"name":"ada","full_name":"Ada Lovelace"},
                    {"type":"user","id":12,"name":"grace","full_name":"Grace Hopper"},
                    {"type":"user","id":13,"name":"alan","full_name":"Alan Turing"}])");
  raw->Add(200, R"([{"type":"group","id":7,"full_name":"Listed"}])");
  raw->Add(200, R"({"users":[{"type":"user","id":11,"name":"ada"}],"more_available":false})");
  Sink sink;
  ASSERT_TRUE(c.SyncDirectory(sink).ok());
  // The company feed: a message of the listed community, one of All Company (no group_id)
  // whose likers are named without ids, one of a community the directory did not list.
  raw->Add(
      200,
      "{\"messages\":[" + Msg(103, "2025/12/31 10:00:00 +0000") + "," +
          Msg(102, "2025/12/31 09:00:00 +0000",
              R"(,"liked_by":{"count":2,"names":[{"full_name":"Ada Lovelace","permalink":"ada"},
                           {"full_name":"Alan Turing","permalink":"alan","user_id":13}]})",
              0) +
          "," +
          Msg(101, "2025/12/31 08:00:00 +0000",
              R"(,"liked_by":{"count":2,"names":[{"full_name":"Grace Hopper","permalink":"gh"},
                           {"full_name":"Nobody Known","permalink":"ghost"}]})",
              55) +
          R"(],"references":[{"type":"group","id":55,"full_name":"Hidden Guild"},
                       {"type":"user","id":12,"permalink":"gh","full_name":"Grace Hopper"},
                       {"type":"user","id":99,"permalink":"ada-too","full_name":"Ada Lovelace"}],
                       "meta":{"older_available":false}})");
  raw->Add(403, R"({"response":{"message":"Forbidden","stat":"fail"}})");  // its members
  auto stats = c.Poll(sink);
  EXPECT_TRUE(stats.errors.empty());
  ASSERT_EQ(sink.messages.size(), 3u);
  std::map<std::string, std::string> group_of;
  for (const auto& m : sink.messages) group_of[m.id] = *m.group_id;
  EXPECT_EQ(group_of["yammer:103"], "yammer:7");
  EXPECT_EQ(group_of["yammer:102"], "yammer:all-company");
  EXPECT_EQ(group_of["yammer:101"], "yammer:55");
  // All Company has everyone the directory lists; the unlisted community is kept with its name,
  // its membership unknown (the ESN refused to say) and said so.
  const Group* all = sink.FindGroup("yammer:all-company");
  ASSERT_NE(all, nullptr);
  EXPECT_EQ(all->members.size(), 3u);
  const Group* hidden = sink.FindGroup("yammer:55");
  ASSERT_NE(hidden, nullptr);
  EXPECT_EQ(hidden->name, "Hidden Guild");
  EXPECT_FALSE(hidden->members_known);
  ASSERT_EQ(c.Degraded().size(), 1u);
  EXPECT_NE(c.Degraded()[0].find("55"), std::string::npos);
  // Likers without an id: by the directory's permalink (ada — not the other Ada Lovelace the
  // page names), the page's references (gh); one nobody can be found: left out and counted.
  auto ids = [](const std::vector<Reaction>& rs) {
    std::set<std::string> out;
    for (const auto& r : rs) out.insert(r.user_id);
    return out;
  };
  EXPECT_EQ(ids(sink.likes["yammer:102"]), (std::set<std::string>{"yammer:11", "yammer:13"}));
  EXPECT_EQ(ids(sink.likes["yammer:101"]), (std::set<std::string>{"yammer:12"}));
  EXPECT_EQ(stats.likes_unresolved, 1);
  // One feed for everything: no community feed was read.
  for (const auto& r : raw->seen) EXPECT_EQ(r.url.find("/messages/in_group/"), std::string::npos);
  EXPECT_EQ(c.GetCursors().at("newest"), "103");
}

TEST(YammerConnector, KeepsOnlyTheListedCommunitiesAndAllCompany) {
  auto client = std::make_unique<FakeClient>();
  FakeClient* raw = client.get();
  ManualClock clock(*ParseIso("2026-01-01T00:00:00Z"));
  yammer::YammerConnector c(Net(), clock, std::move(client));  // communities: [7]
  raw->Add(200, "{\"messages\":[" + Msg(3, "2025/12/31 10:00:00 +0000") + "," +
                    Msg(2, "2025/12/31 09:00:00 +0000", "", 8) + "," +
                    Msg(1, "2025/12/31 08:00:00 +0000", "", 0) + "]}");
  Sink sink;
  c.Poll(sink);
  ASSERT_EQ(sink.messages.size(), 2u);
  EXPECT_EQ(sink.messages[0].group_id, "yammer:7");
  EXPECT_EQ(sink.messages[1].group_id, "yammer:all-company");
  EXPECT_EQ(sink.FindGroup("yammer:8"), nullptr);  // not wanted: not even described
}

TEST(YammerConnector, ARefreshReplacesTheMinutesPollAndIsPagedLikeIt) {
  auto client = std::make_unique<FakeClient>();
  FakeClient* raw = client.get();
  ManualClock clock(*ParseIso("2026-01-10T00:00:00Z"));
  auto cfg = Net();
  cfg.settings.Set("refresh_window", Millis{std::chrono::hours{24 * 7}});
  cfg.settings.Set("refresh_interval", Millis{std::chrono::hours{24}});
  yammer::YammerConnector c(cfg, clock, std::move(client));
  c.RestoreCursors(
      {{"newest", "100"},
       {"refreshed", std::to_string(ToUnixMillis(clock.Now() - std::chrono::hours{25}))}});
  // The window: 130..111 recent, then 110..91 of which 100 and below are older than it.
  std::string p1 = "{\"messages\":[", p2 = "{\"messages\":[";
  for (int i = 130; i > 110; --i) p1 += Msg(i, "2026/01/09 10:00:00 +0000") + (i > 111 ? "," : "");
  p1 += "],\"meta\":{\"older_available\":true}}";
  for (int i = 110; i > 90; --i)
    p2 += Msg(i, i > 100 ? "2026/01/04 10:00:00 +0000" : "2025/12/01 10:00:00 +0000") +
          (i > 91 ? "," : "");
  p2 += "],\"meta\":{\"older_available\":true}}";
  raw->Add(200, p1);
  raw->Add(200, p2);
  Sink sink;
  auto stats = c.Poll(sink);
  EXPECT_TRUE(stats.errors.empty());
  // Two pages, and no separate newer_than read of the same feed.
  ASSERT_EQ(raw->seen.size(), 2u);
  EXPECT_EQ(raw->seen[0].url, "http://127.0.0.1:1/api/v1/messages.json");
  EXPECT_EQ(raw->seen[1].url, "http://127.0.0.1:1/api/v1/messages.json?older_than=111");
  EXPECT_EQ(c.GetCursors().at("newest"), "130");
  EXPECT_EQ(c.GetCursors().at("refreshed"), std::to_string(ToUnixMillis(clock.Now())));
  EXPECT_EQ(sink.messages.size(), 30u);  // the ten older than the window were read before
  EXPECT_EQ(sink.present["yammer:7"].size(), 30u);
  EXPECT_TRUE(sink.present.count("yammer:all-company"));
  // Within the minute: nothing; a minute later: the newer_than poll.
  c.Poll(sink);
  EXPECT_EQ(raw->seen.size(), 2u);
  clock.Advance(std::chrono::seconds{61});
  raw->Add(200, R"({"messages":[]})");
  c.Poll(sink);
  ASSERT_EQ(raw->seen.size(), 3u);
  EXPECT_EQ(raw->seen[2].url, "http://127.0.0.1:1/api/v1/messages.json?newer_than=130");
}

TEST(YammerConnector, HostilePagesEndAndOutOfRangeIdsMoveNoCursor) {
  auto msg = [](const std::string& id) {
    return "{\"id\":" + id + ",\"thread_id\":" + id +
           ",\"sender_id\":5,\"group_id\":7,\"created_at\":\"2025/12/31 10:00:00 "
           "+0000\",\"body\":{\"plain\":\"x\"}}";
  };
  ManualClock clock(*ParseIso("2026-01-01T00:00:00Z"));
  auto cfg = Net();
  {
    // A service that answers the same page forever, always saying older ones are available.
    auto client = std::make_unique<FakeClient>();
    FakeClient* raw = client.get();
    yammer::YammerConnector c(cfg, clock, std::move(client));
    c.RestoreCursors({{"newest", "100"}, {"refreshed", std::to_string(ToUnixMillis(clock.Now()))}});
    std::string same = "{\"messages\":[" + msg("130") + "," + msg("120") +
                       "],\"meta\":{\"older_available\":true}}";
    for (int i = 0; i < 5; ++i) raw->Add(200, same);
    Sink sink;
    auto stats = c.Poll(sink);
    ASSERT_EQ(stats.errors.size(), 1u);
    EXPECT_NE(stats.errors[0].find("a page no older than the one before it"), std::string::npos)
        << stats.errors[0];
    EXPECT_EQ(raw->seen.size(), 2u);                // the second look saw it
    EXPECT_EQ(c.GetCursors().at("newest"), "100");  // nothing moved
  }
  {
    // Ids past the signed 64-bit range and near it: kept as text, moving no cursor.
    auto client = std::make_unique<FakeClient>();
    FakeClient* raw = client.get();
    yammer::YammerConnector c(cfg, clock, std::move(client));
    c.RestoreCursors({{"newest", "100"}, {"refreshed", std::to_string(ToUnixMillis(clock.Now()))}});
    std::string big(1 << 20, 'y');
    raw->Add(200,
             "{\"messages\":[" + msg("18446744073709551615") + "," + msg("9223372036854775807") +
                 "," + msg("140") + "," + "{\"id\":139,\"thread_id\":139,\"sender_id\":5," +
                 "\"group_id\":7,\"created_at\":\"2025/12/31 10:00:00 +0000\",\"body\":" +
                 "{\"plain\":\"" + big + "zzz\"}}" + "],\"meta\":{\"older_available\":false}}");
    Sink sink;
    auto stats = c.Poll(sink);
    EXPECT_TRUE(stats.errors.empty()) << stats.errors[0];
    std::set<std::string> ids;
    for (const auto& m : sink.messages) ids.insert(m.id);
    EXPECT_TRUE(ids.count("yammer:18446744073709551615"));
    EXPECT_TRUE(ids.count("yammer:9223372036854775807"));
    for (const auto& id : ids) EXPECT_EQ(id.find('-'), std::string::npos) << id;
    EXPECT_EQ(c.GetCursors().at("newest"), "140");
    // A field over 1 MiB is cut, and says so.
    for (const auto& m : sink.messages)
      if (m.id == "yammer:139") {
        EXPECT_LT(m.text.size(), (1u << 20) + 100);
        EXPECT_NE(m.text.find("[truncated by learnloop: 1048579 bytes in all]"), std::string::npos);
      }
  }
  {
    // A message dated years ahead is kept, but its id moves no cursor.
    auto client = std::make_unique<FakeClient>();
    FakeClient* raw = client.get();
    yammer::YammerConnector c(cfg, clock, std::move(client));
    c.RestoreCursors({{"newest", "100"}, {"refreshed", std::to_string(ToUnixMillis(clock.Now()))}});
    std::string future = msg("900000");
    future.replace(future.find("2025/12/31"), 10, "2099/01/01");
    raw->Add(200, "{\"messages\":[" + future + "," + msg("150") +
                      "],\"meta\":{\"older_available\":false}}");
    Sink sink;
    auto stats = c.Poll(sink);
    EXPECT_TRUE(stats.errors.empty());
    EXPECT_EQ(sink.messages.size(), 2u);
    EXPECT_EQ(c.GetCursors().at("newest"), "150");
  }
}
