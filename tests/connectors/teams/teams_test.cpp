// The Teams connector on recorded Graph and Bot Framework payloads: delta rounds followed
// verbatim, an expired delta token, 401/429/5xx/truncated answers, and posting.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "connectors/common/mentions.h"
#include "connectors/teams/graph_parse.h"
#include "connectors/teams/teams_connector.h"
#include "core/json.h"
#include "sim/jwt_signer.h"
#include "tests/support/fake_client.h"
#include "tests/support/test_network.h"
#include "tests/support/testdata.h"

using namespace learnloop;
using namespace learnloop::connectors;
using learnloop::testing::FakeClient;
using learnloop::testing::TestNetwork;

namespace {

const std::string kTeam = "fbe2bf47-16c8-47cf-b4a5-4b9b187c508b";
const std::string kChannel = "19:4a95f7d8db4c4e7fae857bcebe0623e6@thread.tacv2";

std::string Testdata(const std::string& name) {
  return learnloop::testing::ReadTestdata("teams", name);
}

struct Sink : EventSink {
  std::vector<User> users;
  std::vector<Group> groups;
  std::vector<Message> messages;
  std::map<std::pair<std::string, std::string>, std::vector<Reaction>> reactions;
  std::vector<CardAction> actions;
  void OnCardAction(const CardAction& a) override { actions.push_back(a); }
  void OnUser(const User& u) override { users.push_back(u); }
  void OnGroup(const Group& g) override { groups.push_back(g); }
  void OnMessage(const Message& m) override { messages.push_back(m); }
  void OnReactionSnapshot(const std::string& id, const std::string& kind,
                          const std::vector<Reaction>& r) override {
    reactions[{id, kind}] = r;
  }
};

config::NetworkConfig Net() {
  return TestNetwork(
      "type: teams\n"
      "base_url: https://graph.example/v1.0\n"
      "auth:\n"
      "  tenant: contoso.example\n"
      "  client_id: app-1\n"
      "  client_secret: ${LEARNLOOP_TEST_SECRET}\n"
      "  token_url: https://login.example/t/oauth2/v2.0/token\n"
      "bot:\n"
      "  client_id: app-1\n"
      "  service_url: https://smba.example/emea\n"
      "  token_url: https://login.example/botframework.com/oauth2/v2.0/token\n"
      "teams: ['" +
          std::string(kTeam) + "']",
      {{"LEARNLOOP_TEST_SECRET", "s3cret"}});
}

std::string Token(const std::string& t) {
  return R"({"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":")" + t +
         "\"}";
}

std::string Channels() {
  return R"({"value":[{"id":")" + kChannel +
         R"(","displayName":"General","membershipType":"standard"}]})";
}

std::string Members() {
  return R"({"value":[{"userId":"8ea0e38b-efb3-4757-924a-5f94061cf8c2","displayName":"Robin Kline","email":"robin@contoso.example"}]})";
}

std::string LastPage(const std::string& delta_link) {
  return R"({"@odata.deltaLink":")" + delta_link + R"(","value":[]})";
}

// A connector that has synced its directory (token, members, channels).
struct Fixture {
  FakeClient* client = nullptr;
  ManualClock clock{*ParseIso("2026-03-01T08:00:00Z")};
  std::unique_ptr<teams::TeamsConnector> c;
  Sink sink;
  Fixture() {
    auto fake = std::make_unique<FakeClient>();
    client = fake.get();
    fake->Add(200, Token("g1"));
    fake->Add(200, Members());
    fake->Add(200, Channels());
    c = std::make_unique<teams::TeamsConnector>(Net(), clock, std::move(fake));
    EXPECT_TRUE(c->SyncDirectory(sink).ok());
    client->seen.clear();
  }
  // Subscribes to the channel (subscription sub-1) and makes the new subscription's catch-up;
  // the clientState notifications must carry.
  std::string Subscribe() {
    client->Add(201, R"({"id":"sub-1","expirationDateTime":"2026-03-01T08:55:00.000Z"})");
    EXPECT_TRUE(c->MaintainSubscriptions("https://learnloop.example").ok());
    std::string state = *json::GetString(*json::Parse(client->seen.back().body), "clientState");
    client->Add(200, LastPage("https://graph.example/v1.0/d?$deltatoken=1"));
    c->PollPushed(sink);
    client->seen.clear();
    return state;
  }
};

}  // namespace

TEST(TeamsParse, RecordedDeltaPageBecomesCoreMessages) {
  auto page = teams::ParseMessagePage(Testdata("graph_channel_messages_delta_page1.json"), "teams",
                                      kChannel);
  ASSERT_TRUE(page.ok()) << page.error().message;
  ASSERT_EQ(page->messages.size(), 2u);
  const Message& m = page->messages[0].message;
  EXPECT_EQ(m.id, "teams:" + kChannel + "/1606515483514");
  EXPECT_EQ(m.thread_id, m.id);
  EXPECT_FALSE(m.reply_to_id);
  EXPECT_EQ(m.group_id.value_or(""), "teams:" + kChannel);
  EXPECT_EQ(m.author_id.rfind("teams:", 0), 0u);
  EXPECT_EQ(FormatIsoMillis(m.created_at), "2020-11-27T22:18:03.514Z");
  ASSERT_TRUE(page->next_link);
  EXPECT_NE(page->next_link->find("$skiptoken="), std::string::npos);
  EXPECT_FALSE(page->delta_link);
}

TEST(TeamsParse, RepliesHtmlMentionsAndReactions) {
  auto page =
      teams::ParseMessagePage(Testdata("graph_channel_message_replies.json"), "teams", kChannel);
  ASSERT_TRUE(page.ok());
  ASSERT_FALSE(page->messages.empty());
  for (const auto& p : page->messages) {
    EXPECT_EQ(p.message.kind, "reply");
    EXPECT_TRUE(p.message.reply_to_id);
    EXPECT_EQ(p.message.text.find('<'), std::string::npos) << p.message.text;
  }
  EXPECT_EQ(teams::TextOfHtml("<p>Hi <at id=\"0\">Ann</at> &amp; team</p><p>next</p>"),
            "Hi Ann & team next");
  std::string body = R"({"id":"2","replyToId":"1","messageType":"message",)"
                     R"("createdDateTime":"2026-03-01T09:00:00.000Z","deletedDateTime":null,)"
                     R"("from":{"user":{"id":"u1"}},"body":{"contentType":"text","content":"x"},)"
                     R"("mentions":[{"id":0,"mentioned":{"user":{"id":"u2"}}}],)"
                     R"("reactions":[{"reactionType":"heart","createdDateTime":)"
                     R"("2026-03-01T09:05:00.000Z","user":{"user":{"id":"u3"}}}]})";
  auto one = teams::ParseOneMessage(body, "teams", kChannel);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->message.mentions, std::vector<std::string>{"teams:u2"});
  ASSERT_EQ(one->reactions.size(), 1u);
  EXPECT_EQ(one->reactions[0].kind, "heart");
  EXPECT_EQ(one->reactions[0].user_id, "teams:u3");
  EXPECT_EQ(FormatIso(*one->reactions[0].created_at), "2026-03-01T09:05:00Z");
  EXPECT_FALSE(one->message.deleted);
  auto system = teams::ParseOneMessage(
      R"({"id":"3","messageType":"systemEventMessage","createdDateTime":"2026-03-01T09:00:00Z"})",
      "teams", kChannel);
  EXPECT_FALSE(system.ok());
}

TEST(TeamsConnector, DirectoryGivesChannelsMembersAndTheBot) {
  Fixture f;
  ASSERT_EQ(f.sink.groups.size(), 1u);
  EXPECT_EQ(f.sink.groups[0].id, "teams:" + kChannel);
  EXPECT_EQ(f.sink.groups[0].kind, "channel");
  EXPECT_EQ(f.sink.groups[0].members,
            std::vector<std::string>{"teams:8ea0e38b-efb3-4757-924a-5f94061cf8c2"});
  bool bot = false;
  for (const auto& u : f.sink.users) bot |= u.id == "teams:app-1" && u.is_bot;
  EXPECT_TRUE(bot);
  EXPECT_EQ(*f.c->SelfUserId(), "teams:app-1");
}

TEST(TeamsConnector, FollowsTheLinksVerbatimAndKeepsTheDeltaLink) {
  Fixture f;
  std::string page1 = Testdata("graph_channel_messages_delta_page1.json");
  std::string next = *json::GetString(*json::Parse(page1), "@odata.nextLink");
  f.client->Add(200, page1);
  f.client->Add(200, LastPage("https://graph.example/v1.0/delta?$deltatoken=abc"));
  auto stats = f.c->Poll(f.sink);
  EXPECT_TRUE(stats.errors.empty());
  ASSERT_EQ(f.client->seen.size(), 2u);
  EXPECT_EQ(f.client->seen[0].url, "https://graph.example/v1.0/teams/" + kTeam + "/channels/" +
                                       kChannel + "/messages/delta?$top=50&$expand=replies");
  EXPECT_EQ(f.client->seen[1].url, next);  // as given, not rebuilt
  EXPECT_EQ(f.sink.messages.size(), 2u);
  EXPECT_EQ(f.c->GetCursors().at("delta:" + kChannel),
            "https://graph.example/v1.0/delta?$deltatoken=abc");
  // The next poll starts from the stored link.
  f.client->Add(200, LastPage("https://graph.example/v1.0/delta?$deltatoken=def"));
  f.c->Poll(f.sink);
  EXPECT_EQ(f.client->seen[2].url, "https://graph.example/v1.0/delta?$deltatoken=abc");
}

TEST(TeamsConnector, ADeltaRoundThatNeverEndsGoesOnAtTheNextPoll) {
  Fixture f;
  // Every page names another next page: 2,000 are read in one poll, then the next poll goes
  // on from the first page not read.
  auto link = [](int k) {
    return "https://graph.example/v1.0/delta?$skiptoken=" + std::to_string(k);
  };
  for (int k = 1; k <= 2001; ++k)
    f.client->Add(200, R"({"@odata.nextLink":")" + link(k) + R"(","value":[]})");
  auto stats = f.c->Poll(f.sink);
  EXPECT_TRUE(stats.errors.empty());
  EXPECT_EQ(f.client->seen.size(), 2000u);
  EXPECT_EQ(f.c->GetCursors().at("delta:" + kChannel), link(2000));
  f.client->replies.clear();
  f.client->seen.clear();
  f.client->Add(200, LastPage("https://graph.example/v1.0/delta?$deltatoken=end"));
  f.c->Poll(f.sink);
  ASSERT_EQ(f.client->seen.size(), 1u);
  EXPECT_EQ(f.client->seen[0].url, link(2000));
  EXPECT_EQ(f.c->GetCursors().at("delta:" + kChannel),
            "https://graph.example/v1.0/delta?$deltatoken=end");
}

TEST(TeamsConnector, APageThatNamesItselfNextEndsThePollWithAnError) {
  Fixture f;
  const std::string first = "https://graph.example/v1.0/teams/" + kTeam + "/channels/" + kChannel +
                            "/messages/delta?$top=50&$expand=replies";
  f.client->Add(200, R"({"@odata.nextLink":")" + first + R"(","value":[]})");
  f.client->Add(200, R"({"@odata.nextLink":")" + first + R"(","value":[]})");
  auto stats = f.c->Poll(f.sink);
  ASSERT_EQ(stats.errors.size(), 1u);
  EXPECT_NE(stats.errors[0].find("names itself next"), std::string::npos) << stats.errors[0];
  EXPECT_EQ(f.client->seen.size(), 1u);
}

TEST(TeamsConnector, AMessageDatedFarAheadKeepsNoThreadFollowedForever) {
  Fixture f;
  f.client->Add(
      200,
      R"({"@odata.deltaLink":"https://graph.example/v1.0/d?$deltatoken=1","value":[)"
      R"({"id":"1700000000000","messageType":"message","createdDateTime":"9999-12-31T23:59:59Z",)"
      R"("from":{"user":{"id":"8ea0e38b-efb3-4757-924a-5f94061cf8c2"}},)"
      R"("body":{"contentType":"text","content":"from the future"}}]})");
  auto stats = f.c->Poll(f.sink);
  EXPECT_TRUE(stats.errors.empty());
  ASSERT_EQ(f.sink.messages.size(), 1u);
  // Followed until now + a day at most, not until the year 9999.
  std::string threads = f.c->GetCursors().at("threads:" + kChannel);
  auto at = std::stoll(threads.substr(threads.find('@') + 1));
  EXPECT_LE(FromUnixMillis(at), f.clock.Now() + std::chrono::hours{24}) << threads;
}

TEST(TeamsConnector, AfterDaysDownTheThreadsRecentBeforeTheGapAreReadOnce) {
  Fixture f;
  // A root six days old (the refresh window is a week) comes in the first round.
  f.client->Add(200, R"({"@odata.deltaLink":"https://graph.example/v1.0/d?$deltatoken=1","value":[)"
                     R"({"id":"1700000000000","messageType":"message","createdDateTime":")" +
                         FormatIsoMillis(f.clock.Now() - std::chrono::hours{24 * 6}) +
                         R"(","from":{"user":{"id":"8ea0e38b-efb3-4757-924a-5f94061cf8c2"}},)"
                         R"("body":{"contentType":"text","content":"an old thread"}}]})");
  f.c->Poll(f.sink);
  auto replies_read = [&] {
    int n = 0;
    for (const auto& r : f.client->seen)
      n += r.url.find("/1700000000000/replies") != std::string::npos;
    return n;
  };
  // Three days down: the root is nine days old now, out of the window, but it was in it when
  // its replies were last read, and a reply made then was never notified: read once more.
  f.clock.Advance(std::chrono::hours{24 * 3});
  f.client->seen.clear();
  f.client->Add(200, Token("g2"));
  f.client->Add(200, LastPage("https://graph.example/v1.0/d?$deltatoken=2"));
  f.client->Add(200, R"({"value":[]})");
  f.c->Poll(f.sink);
  EXPECT_EQ(replies_read(), 1);
  // Then it is left.
  f.clock.Advance(std::chrono::hours{1});
  f.client->seen.clear();
  f.client->Add(200, Token("g3"));
  f.client->Add(200, LastPage("https://graph.example/v1.0/d?$deltatoken=3"));
  f.c->Poll(f.sink);
  EXPECT_EQ(replies_read(), 0);
}

TEST(TeamsConnector, AnExpiredDeltaTokenRestartsWithAnOverlappingFilter) {
  Fixture f;
  f.c->RestoreCursors({{"delta:" + kChannel, "https://graph.example/v1.0/delta?$deltatoken=old"},
                       {"round:" + kChannel, "2026-02-28T12:00:00.000Z"}});
  f.client->Add(410, R"({"error":{"code":"resyncRequired","message":"gone"}})");
  f.client->Add(200, LastPage("https://graph.example/v1.0/delta?$deltatoken=new"));
  auto stats = f.c->Poll(f.sink);
  EXPECT_TRUE(stats.errors.empty());
  ASSERT_EQ(f.client->seen.size(), 2u);
  EXPECT_NE(f.client->seen[1].url.find(
                "&$filter=lastModifiedDateTime%20gt%202026-02-28T11%3A00%3A00.000Z"),
            std::string::npos)
      << f.client->seen[1].url;
}

TEST(TeamsConnector, RenewsTheTokenOnA401AndWaitsOut429s) {
  Fixture f;
  f.client->Add(401, Testdata("graph_error_response.json"));
  f.client->Add(200, Token("g2"));
  f.client->Add(429, R"({"error":{"code":"TooManyRequests"}})");  // no Retry-After
  f.client->Add(429, R"({"error":{"code":"TooManyRequests"}})", {{"retry-after", "7"}});
  f.client->Add(503, "");
  f.client->Add(200, R"({"@odata.deltaLink":"https://graph.example/v1.0/d?$deltatoken=x","val)");
  f.client->Add(200, LastPage("https://graph.example/v1.0/d?$deltatoken=x"));
  Time before = f.clock.Now();
  auto stats = f.c->Poll(f.sink);
  EXPECT_TRUE(stats.errors.empty()) << stats.errors.front();
  EXPECT_EQ(f.client->seen.size(), 7u);
  EXPECT_EQ(f.client->seen[1].url, "https://login.example/t/oauth2/v2.0/token");
  bool renewed = false;
  for (const auto& [k, v] : f.client->seen[2].headers) renewed |= v == "Bearer g2";
  EXPECT_TRUE(renewed);
  EXPECT_GE(f.clock.Now() - before, std::chrono::seconds{30 + 7});
  EXPECT_EQ(f.c->graph_counters().throttled, 2);
  EXPECT_EQ(f.c->graph_counters().server_errors, 1);
  EXPECT_EQ(f.c->GetCursors().at("delta:" + kChannel),
            "https://graph.example/v1.0/d?$deltatoken=x");
}

TEST(TeamsConnector, PostsThreadsAndRepliesThroughTheBotFramework) {
  Fixture f;
  f.client->Add(200, Token("b1"));
  f.client->Add(201, Testdata("teams_bot_create_conversation_response.json"));
  PostRequest r;
  r.group_id = kChannel;
  r.body = "What did you learn this week?";
  auto posted = f.c->Post(r);
  ASSERT_TRUE(posted.ok()) << posted.error().message;
  auto response = *json::Parse(Testdata("teams_bot_create_conversation_response.json"));
  EXPECT_EQ(posted->native_id, kChannel + "/" + *json::GetString(response, "activityId"));
  ASSERT_EQ(f.client->seen.size(), 2u);
  EXPECT_NE(f.client->seen[0].body.find("scope=https%3A%2F%2Fapi.botframework.com%2F.default"),
            std::string::npos);
  const auto& create = f.client->seen[1];
  EXPECT_EQ(create.url, "https://smba.example/emea/v3/conversations");
  EXPECT_FALSE(create.idempotent);
  auto sent = *json::Parse(create.body);
  auto documented = *json::Parse(Testdata("teams_bot_create_channel_conversation_request.json"));
  for (const auto& [k, v] : documented.as_object()) EXPECT_TRUE(json::Find(sent, k.c_str())) << k;
  EXPECT_EQ(*json::GetString(sent.at("channelData").at("channel"), "id"), kChannel);
  EXPECT_EQ(*json::GetString(sent.at("activity"), "text"), r.body);

  f.client->Add(201, R"({"id":"1700000000001"})");
  PostRequest reply;
  reply.group_id = kChannel;
  reply.reply_to = kChannel + "/1700000000000";
  reply.body = "Reminder";
  auto rp = f.c->Post(reply);
  ASSERT_TRUE(rp.ok());
  EXPECT_EQ(rp->native_id, kChannel + "/1700000000001");
  EXPECT_EQ(f.client->seen[2].url,
            "https://smba.example/emea/v3/conversations/"
            "19%3A4a95f7d8db4c4e7fae857bcebe0623e6%40thread.tacv2%3Bmessageid%3D1700000000000/"
            "activities/1700000000000");
  // A failed post is reported and not sent again (it may have gone through).
  f.client->Add(502, "");
  EXPECT_FALSE(f.c->Post(reply).ok());
  EXPECT_EQ(f.client->seen.size(), 4u);
}

TEST(TeamsConnector, SubscribesAndTakesOnlyItsOwnNotifications) {
  Fixture f;
  f.client->Add(201, R"({"id":"sub-1","expirationDateTime":"2026-03-01T08:55:00.000Z"})");
  ASSERT_TRUE(f.c->MaintainSubscriptions("https://learnloop.example").ok());
  ASSERT_EQ(f.client->seen.size(), 1u);
  auto req = *json::Parse(f.client->seen[0].body);
  EXPECT_EQ(f.client->seen[0].url, "https://graph.example/v1.0/subscriptions");
  EXPECT_FALSE(f.client->seen[0].idempotent);
  // The network's own path: several Teams networks on one listener each get theirs.
  EXPECT_EQ(*json::GetString(req, "notificationUrl"),
            "https://learnloop.example/teams/teams/notify");
  EXPECT_EQ(*json::GetString(req, "lifecycleNotificationUrl"),
            "https://learnloop.example/teams/teams/lifecycle");
  EXPECT_EQ(*json::GetString(req, "resource"),
            "/teams/" + kTeam + "/channels/" + kChannel + "/messages");
  std::string state = *json::GetString(req, "clientState");
  EXPECT_EQ(state.size(), 32u);
  EXPECT_TRUE(f.c->PushPending());  // a new subscription: catch up on what came before it
  f.client->Add(200, LastPage("https://graph.example/v1.0/d?$deltatoken=1"));
  f.c->PollPushed(f.sink);
  EXPECT_FALSE(f.c->PushPending());

  net::Request validation;
  validation.method = "POST";
  validation.path = "/teams/notify";
  validation.query["validationToken"] = "Validation: Testing client application reachability";
  EXPECT_TRUE(f.c->IsHandshake(validation));  // answered before the directory is read
  auto echo = f.c->OnPush(validation);
  EXPECT_EQ(echo.status, 200);
  EXPECT_EQ(echo.content_type, "text/plain");
  EXPECT_EQ(echo.body, "Validation: Testing client application reachability");

  auto note = [&](const std::string& client_state) {
    net::Request r;
    r.method = "POST";
    r.path = "/teams/notify";
    r.body = R"({"value":[{"subscriptionId":"sub-1","changeType":"created","clientState":")" +
             client_state + R"(","resource":"teams('x')/channels(')" + kChannel +
             R"x(')/messages('1')"}]})x";
    return f.c->OnPush(r);
  };
  EXPECT_EQ(note("forged").status, 202);
  EXPECT_FALSE(f.c->PushPending());  // ignored
  EXPECT_EQ(note(state).status, 202);
  EXPECT_TRUE(f.c->PushPending());

  // On a path several networks share, it claims what concerns it only: its subscriptions and
  // channels, and activities for its bot in them (or in a personal chat with it).
  auto shared = [](const std::string& path, const std::string& body) {
    net::Request r;
    r.method = "POST";
    r.path = path;
    r.body = body;
    return r;
  };
  EXPECT_TRUE(f.c->ClaimsPush(shared("/teams/teams/notify", "{}")));  // its own path
  EXPECT_TRUE(f.c->ClaimsPush(
      shared("/teams/notify", R"({"value":[{"subscriptionId":"sub-1","resource":"x"}]})")));
  EXPECT_FALSE(f.c->ClaimsPush(shared(
      "/teams/notify",
      R"x({"value":[{"subscriptionId":"sub-9","resource":"teams('y')/channels('19:other@thread.tacv2')/messages('1')"}]})x")));
  const std::string in_channel = R"({"type":"message","recipient":{"id":"28:app-1"},)"
                                 R"("conversation":{"id":")" +
                                 kChannel + R"(;messageid=1"}})";
  EXPECT_TRUE(f.c->ClaimsPush(shared("/api/messages", in_channel)));
  std::string other_bot = in_channel;
  other_bot.replace(other_bot.find("28:app-1"), 8, "28:app-2");
  EXPECT_FALSE(f.c->ClaimsPush(shared("/api/messages", other_bot)));
  EXPECT_FALSE(f.c->ClaimsPush(
      shared("/api/messages",
             R"({"type":"message","conversation":{"id":"19:other@thread.tacv2;messageid=1"}})")));
  EXPECT_TRUE(f.c->ClaimsPush(shared(
      "/api/messages",
      R"({"type":"message","conversation":{"id":"a:1xyz","conversationType":"personal"}})")));

  // reauthorizationRequired: renewed at once, by PATCH.
  net::Request life;
  life.method = "POST";
  life.path = "/teams/lifecycle";
  life.body = R"({"value":[{"subscriptionId":"sub-1","clientState":")" + state +
              R"(","lifecycleEvent":"reauthorizationRequired"}]})";
  EXPECT_EQ(f.c->OnPush(life).status, 202);
  EXPECT_EQ(*f.c->NextMaintenance(), f.clock.Now());
  f.client->Add(200, R"({"id":"sub-1"})");
  ASSERT_TRUE(f.c->MaintainSubscriptions("https://learnloop.example").ok());
  EXPECT_EQ(f.client->seen.back().method, "PATCH");
  EXPECT_EQ(f.client->seen.back().url, "https://graph.example/v1.0/subscriptions/sub-1");
  // Next: 15 minutes before the new expiry, 55 minutes after the renewal.
  EXPECT_GT(*f.c->NextMaintenance(), f.clock.Now() + std::chrono::minutes{39});
  EXPECT_LE(*f.c->NextMaintenance(), f.clock.Now() + std::chrono::minutes{40});
}

namespace {

// An activity as the Bot Connector sends it, with its signed token.
net::Request Activity(const sim::JwtSigner& signer, Time now, const std::string& body,
                      const std::string& aud = "app-1",
                      const std::string& service_url = "https://smba.example/emea/",
                      int64_t lifetime = 3600) {
  auto s = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  std::string claims = R"({"serviceUrl":")" + service_url + R"(","nbf":)" +
                       std::to_string(s - 300) + R"(,"exp":)" + std::to_string(s + lifetime) +
                       R"(,"iss":"https://api.botframework.com","aud":")" + aud + R"("})";
  net::Request r;
  r.method = "POST";
  r.path = "/api/messages";
  r.headers["authorization"] = "Bearer " + signer.Sign(claims);
  r.body = body;
  return r;
}

std::string Submit(const std::string& type, const std::string& extra) {
  return R"({"type":")" + type +
         R"(","id":"f:1","timestamp":"2026-03-01T08:30:00.000Z","serviceUrl":"https://smba.example/emea/",)"
         R"("from":{"id":"29:x","aadObjectId":"8ea0e38b-efb3-4757-924a-5f94061cf8c2"},)"
         R"("conversation":{"isGroup":true,"conversationType":"channel","id":")" +
         kChannel + R"(;messageid=1700000000000"},"replyToId":"1700000000000")" + extra + "}";
}

}  // namespace

TEST(TeamsConnector, BotActivitiesNeedAValidTokenAndCardPressesAreAnswers) {
  Fixture f;
  sim::JwtSigner signer;
  f.client->Add(200, R"({"jwks_uri":"https://login.example/keys"})");
  f.client->Add(200, signer.Jwks());
  Time now = f.clock.Now();
  auto ok = f.c->OnPush(Activity(signer, now, Submit("message", R"(,"value":{"choice":"B"})")));
  EXPECT_EQ(ok.status, 200);
  auto invoke = f.c->OnPush(Activity(
      signer, now,
      Submit(
          "invoke",
          R"(,"name":"adaptiveCard/action","value":{"action":{"type":"Action.Execute","data":{"choice":"4"}}})")));
  EXPECT_EQ(invoke.status, 200);
  EXPECT_NE(invoke.body.find("\"statusCode\":200"), std::string::npos);
  auto reply = f.c->OnPush(Activity(signer, now, Submit("message", R"(,"text":"Pairing helps")")));
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(f.client->seen.size(), 2u);  // the keys were fetched once
  // Refused: another audience, another service, expired, tampered, none.
  EXPECT_EQ(f.c->OnPush(Activity(signer, now, Submit("message", ""), "someone-else")).status, 403);
  EXPECT_EQ(
      f.c->OnPush(Activity(signer, now, Submit("message", ""), "app-1", "https://evil.example/"))
          .status,
      403);
  EXPECT_EQ(f.c->OnPush(Activity(signer, now - std::chrono::hours{3}, Submit("message", ""),
                                 "app-1", "https://smba.example/emea/", 60))
                .status,
            403);
  auto tampered = Activity(signer, now, Submit("message", ""));
  std::string& auth = tampered.headers["authorization"];
  char& c = auth[auth.size() - 5];  // inside the signature (the last symbol is partly padding)
  c = c == 'A' ? 'B' : 'A';
  EXPECT_EQ(f.c->OnPush(tampered).status, 403);
  auto none = Activity(signer, now, Submit("message", ""));
  none.headers.clear();
  EXPECT_EQ(f.c->OnPush(none).status, 403);

  ASSERT_TRUE(f.c->PushPending());
  f.c->PollPushed(f.sink);
  ASSERT_EQ(f.sink.actions.size(), 2u);
  EXPECT_EQ(f.sink.actions[0].message_id, "teams:" + kChannel + "/1700000000000");
  EXPECT_EQ(f.sink.actions[0].user_id, "teams:8ea0e38b-efb3-4757-924a-5f94061cf8c2");
  EXPECT_EQ(f.sink.actions[0].value, R"({"choice":"B"})");
  EXPECT_EQ(f.sink.actions.at(1).value, R"({"choice":"4"})");
  ASSERT_EQ(f.sink.messages.size(), 1u);
  EXPECT_EQ(f.sink.messages[0].text, "Pairing helps");
  EXPECT_EQ(f.sink.messages[0].thread_id, "teams:" + kChannel + "/1700000000000");
  EXPECT_EQ(f.sink.messages[0].kind, "reply");
}

TEST(TeamsConnector, AQuestionGetsACardWithButtonsAndRemindersMentionPeople) {
  Fixture f;
  f.client->Add(200, Token("b1"));
  f.client->Add(201, Testdata("teams_bot_create_conversation_response.json"));
  PostRequest r;
  r.group_id = kChannel;
  r.body = "Best first step?\n\nA) Email it\nB) Share a link\n\nReply with the letter";
  r.choices = {{"A", "A) Email it"}, {"B", "B) Share a link"}};
  ASSERT_TRUE(f.c->Post(r).ok());
  auto sent = *json::Parse(f.client->seen[1].body);
  const auto& activity = sent.at("activity");
  EXPECT_EQ(*json::GetString(activity, "text"), r.body);  // the text is found by again
  const auto& att = activity.at("attachments").as_array().at(0);
  EXPECT_EQ(*json::GetString(att, "contentType"), "application/vnd.microsoft.card.adaptive");
  const auto& card = att.at("content");
  EXPECT_EQ(*json::GetString(card, "type"), "AdaptiveCard");
  EXPECT_EQ(*json::GetString(card.at("body").as_array().at(0), "text"), "Best first step?");
  const auto& actions = card.at("actions").as_array();
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(*json::GetString(actions.at(1), "type"), "Action.Submit");
  EXPECT_EQ(*json::GetString(actions.at(1), "title"), "B) Share a link");
  EXPECT_EQ(*json::GetString(actions.at(1).at("data"), "choice"), "B");

  f.client->Add(201, R"({"id":"1700000000002"})");
  PostRequest reminder;
  reminder.group_id = kChannel;
  reminder.reply_to = kChannel + "/1700000000000";
  reminder.body = "Reminder: " + MentionToken("8b081ef6-4792-4def-b2c9-c363a1bf41d5", "Ada L") +
                  ", we would love your answer";
  ASSERT_TRUE(f.c->Post(reminder).ok());
  auto sent2 = *json::Parse(f.client->seen[2].body);
  EXPECT_EQ(*json::GetString(sent2, "text"), "Reminder: <at>Ada L</at>, we would love your answer");
  const auto& mention = sent2.at("entities").as_array().at(0);
  EXPECT_EQ(*json::GetString(mention, "type"), "mention");
  EXPECT_EQ(*json::GetString(mention, "text"), "<at>Ada L</at>");
  EXPECT_EQ(*json::GetString(mention.at("mentioned"), "id"),
            "8b081ef6-4792-4def-b2c9-c363a1bf41d5");

  // Teams reads the text as HTML: a name or a text with markup is escaped, in the text and in
  // the mention entity alike (the entity's name stays as the person is called).
  f.client->Add(201, R"({"id":"1700000000003"})");
  PostRequest hostile = reminder;
  hostile.body = "Is 3 < 5 & \"yes\"? " +
                 MentionToken("8b081ef6-4792-4def-b2c9-c363a1bf41d5", "<b>Ada</b> & Co") +
                 " <script>alert(1)</script>";
  ASSERT_TRUE(f.c->Post(hostile).ok());
  auto sent3 = *json::Parse(f.client->seen[3].body);
  EXPECT_EQ(*json::GetString(sent3, "text"),
            "Is 3 &lt; 5 &amp; &quot;yes&quot;? <at>&lt;b&gt;Ada&lt;/b&gt; &amp; Co</at> "
            "&lt;script&gt;alert(1)&lt;/script&gt;");
  const auto& m3 = sent3.at("entities").as_array().at(0);
  EXPECT_EQ(*json::GetString(m3, "text"), "<at>&lt;b&gt;Ada&lt;/b&gt; &amp; Co</at>");
  EXPECT_EQ(*json::GetString(m3.at("mentioned"), "name"), "<b>Ada</b> & Co");
}

namespace {

// A chatMessage as Graph gives it (a root when reply_to is empty).
std::string ChatMessage(const std::string& id, const std::string& reply_to, const std::string& at,
                        const std::string& reactions = "[]") {
  return R"({"id":")" + id + R"(","replyToId":)" +
         (reply_to.empty() ? std::string("null") : "\"" + reply_to + "\"") +
         R"(,"messageType":"message","createdDateTime":")" + at +
         R"(","from":{"user":{"id":"8ea0e38b-efb3-4757-924a-5f94061cf8c2"}},)"
         R"("body":{"contentType":"text","content":"hi"},"reactions":)" +
         reactions + "}";
}

}  // namespace

TEST(TeamsConnector, EveryRecentThreadsRepliesAreReadAtMostOnceAPollInterval) {
  Fixture f;
  // First round: a root of yesterday (its replies expanded: none yet) and one of last month.
  f.client->Add(200,
                R"({"@odata.deltaLink":"https://graph.example/v1.0/d?$deltatoken=1","value":[)" +
                    ChatMessage("1772272800000", "", "2026-02-28T10:00:00.000Z") + "," +
                    ChatMessage("1769940000000", "", "2026-02-01T10:00:00.000Z") + "]}");
  f.c->Poll(f.sink);
  ASSERT_EQ(f.client->seen.size(), 1u);  // both threads came with their replies
  // Five minutes later, a reply that did not bring its root back into the delta round: the
  // recent thread's replies are read, the old thread's not.
  f.clock.Advance(std::chrono::minutes{5});
  f.client->Add(200, LastPage("https://graph.example/v1.0/d?$deltatoken=2"));
  f.client->Add(200, R"({"value":[)" +
                         ChatMessage("1772276400000", "1772272800000", "2026-02-28T11:00:00.000Z") +
                         "]}");
  auto stats = f.c->Poll(f.sink);
  EXPECT_TRUE(stats.errors.empty());
  ASSERT_EQ(f.client->seen.size(), 3u);
  EXPECT_EQ(f.client->seen[2].url, "https://graph.example/v1.0/teams/" + kTeam + "/channels/" +
                                       kChannel + "/messages/1772272800000/replies?$top=50");
  EXPECT_EQ(f.sink.messages.back().id, "teams:" + kChannel + "/1772276400000");
  EXPECT_EQ(f.sink.messages.back().kind, "reply");
  // Polled again within the interval: the thread is not read again.
  f.client->Add(200, LastPage("https://graph.example/v1.0/d?$deltatoken=3"));
  f.c->Poll(f.sink);
  EXPECT_EQ(f.client->seen.size(), 4u);
  // The threads are kept with the cursors: a restarted connector still reads them.
  EXPECT_NE(f.c->GetCursors().at("threads:" + kChannel).find("1772272800000@"), std::string::npos);
  EXPECT_EQ(f.c->GetCursors().at("threads:" + kChannel).find("1769940000000"),
            std::string::npos);  // older than refresh_window
}

TEST(TeamsConnector, ANotificationOfAReplyReadsExactlyThatReply) {
  Fixture f;
  std::string state = f.Subscribe();
  net::Request r;
  r.method = "POST";
  r.path = "/teams/notify";
  r.body = R"({"value":[{"subscriptionId":"sub-1","changeType":"created","clientState":")" + state +
           R"(","resource":"teams(')" + kTeam + "')/channels('" + kChannel +
           R"x(')/messages('1700000000000')/replies('1700000000500')"}]})x";
  EXPECT_EQ(f.c->OnPush(r).status, 202);
  EXPECT_TRUE(f.c->PushPending());
  f.client->Add(200, ChatMessage("1700000000500", "1700000000000", "2026-03-01T08:10:00.000Z"));
  auto stats = f.c->PollPushed(f.sink);
  EXPECT_TRUE(stats.errors.empty());
  ASSERT_EQ(f.client->seen.size(), 1u);  // that reply, and no delta round
  EXPECT_EQ(f.client->seen[0].url, "https://graph.example/v1.0/teams/" + kTeam + "/channels/" +
                                       kChannel + "/messages/1700000000000/replies/1700000000500");
  EXPECT_EQ(f.sink.messages.back().id, "teams:" + kChannel + "/1700000000500");
}

TEST(TeamsConnector, ReactionsTakenBackAreRemovedWhateverTheirKind) {
  Fixture f;
  std::string root = "teams:" + kChannel + "/1772272800000";
  f.client->Add(200,
                R"({"@odata.deltaLink":"https://graph.example/v1.0/d?$deltatoken=1","value":[)" +
                    ChatMessage("1772272800000", "", "2026-02-28T10:00:00.000Z",
                                R"([{"reactionType":"💯","createdDateTime":"2026-02-28T10:05:00Z",
                               "user":{"user":{"id":"u-1"}}},
                              {"reactionType":"custom","displayName":"Kudos",
                               "reactionContentUrl":"https://x.example/kudos",
                               "createdDateTime":"2026-02-28T10:06:00Z","user":{"user":{"id":"u-2"}}},
                              {"reactionType":"like","createdDateTime":"2026-02-28T10:07:00Z",
                               "user":{"user":{"id":"u-3"}}}])") +
                    "]}");
  f.c->Poll(f.sink);
  const auto& all = f.sink.reactions[{root, ""}];  // every kind at once
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].kind, "💯");
  EXPECT_EQ(all[1].kind, "custom:Kudos");
  EXPECT_EQ(all[2].kind, "like");
  // Taken back: the next read shows none, and the set given is empty.
  f.clock.Advance(std::chrono::minutes{10});
  f.client->Add(200,
                R"({"@odata.deltaLink":"https://graph.example/v1.0/d?$deltatoken=2","value":[)" +
                    ChatMessage("1772272800000", "", "2026-02-28T10:00:00.000Z") + "]}");
  f.c->Poll(f.sink);
  EXPECT_TRUE((f.sink.reactions[{root, ""}].empty()));
}

TEST(TeamsConnector, LifecycleEventsAreActedOnAtOnce) {
  Fixture f;
  std::string state = f.Subscribe();
  EXPECT_FALSE(f.c->MaintenanceDue());
  auto lifecycle = [&](const std::string& event) {
    net::Request r;
    r.method = "POST";
    r.path = "/teams/lifecycle";
    r.body = R"({"value":[{"subscriptionId":"sub-1","clientState":")" + state +
             R"(","lifecycleEvent":")" + event + R"(","resource":"/teams/)" + kTeam + "/channels/" +
             kChannel + R"(/messages"}]})";
    return f.c->OnPush(r).status;
  };
  // Removed: made again at the next maintenance (no renewal of the removed one is tried), then
  // the channel caught up.
  EXPECT_EQ(lifecycle("subscriptionRemoved"), 202);
  EXPECT_TRUE(f.c->MaintenanceDue());
  f.client->seen.clear();
  f.client->Add(201, R"({"id":"sub-2","expirationDateTime":"2026-03-01T08:55:00.000Z"})");
  ASSERT_TRUE(f.c->MaintainSubscriptions("https://learnloop.example").ok());
  ASSERT_EQ(f.client->seen.size(), 1u);
  EXPECT_EQ(f.client->seen[0].method, "POST");  // no PATCH of the removed one
  EXPECT_FALSE(f.c->MaintenanceDue());
  EXPECT_TRUE(f.c->PushPending());
  f.client->Add(200, LastPage("https://graph.example/v1.0/d?$deltatoken=2"));
  f.c->PollPushed(f.sink);
  EXPECT_EQ(f.client->seen.back().url, "https://graph.example/v1.0/d?$deltatoken=1");
  // Missed notifications: a catch-up of the channel at once.
  // (the event names sub-1, which was removed: the channel is known from its resource)
  EXPECT_EQ(lifecycle("missed"), 202);
  EXPECT_TRUE(f.c->PushPending());
}

TEST(TeamsConnector, ARefusedMemberListDegradesTheTeamButItsChannelsAreRead) {
  auto fake = std::make_unique<FakeClient>();
  FakeClient* client = fake.get();
  fake->Add(200, Token("g1"));
  fake->Add(403, R"({"error":{"code":"Forbidden","message":"Missing role permissions"}})");
  fake->Add(200, Channels());
  ManualClock clock(*ParseIso("2026-03-01T08:00:00Z"));
  teams::TeamsConnector c(Net(), clock, std::move(fake));
  Sink sink;
  ASSERT_TRUE(c.SyncDirectory(sink).ok());
  ASSERT_EQ(sink.groups.size(), 1u);
  EXPECT_FALSE(sink.groups[0].members_known);
  ASSERT_EQ(c.Degraded().size(), 1u);
  EXPECT_NE(c.Degraded()[0].find("members of team " + kTeam), std::string::npos);
  client->Add(200, LastPage("https://graph.example/v1.0/d?$deltatoken=1"));
  EXPECT_TRUE(c.Poll(sink).errors.empty());  // the channel is read
}
