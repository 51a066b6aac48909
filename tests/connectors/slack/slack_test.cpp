// The Slack connector against the answers of reference §4 (recorded and documented payloads in
// tests/connectors/slack/testdata): parsing, paging by cursor, threads, posting with buttons,
// signed pushes.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "connectors/slack/parse.h"
#include "connectors/slack/slack_connector.h"
#include "core/crypto.h"
#include "core/json.h"
#include "tests/support/fake_client.h"
#include "tests/support/test_network.h"
#include "tests/support/testdata.h"

using namespace learnloop;
using namespace learnloop::connectors;
using learnloop::testing::FakeClient;
using learnloop::testing::TestNetwork;

namespace {

std::string Testdata(const std::string& name) {
  return learnloop::testing::ReadTestdata("slack", name);
}

struct Sink : EventSink {
  std::vector<User> users;
  std::vector<Group> groups;
  std::vector<Message> messages;
  std::map<std::string, std::vector<Reaction>> reactions;
  std::vector<CardAction> actions;
  void OnUser(const User& u) override { users.push_back(u); }
  void OnGroup(const Group& g) override { groups.push_back(g); }
  void OnMessage(const Message& m) override { messages.push_back(m); }
  void OnReactionSnapshot(const std::string& id, const std::string& kind,
                          const std::vector<Reaction>& r) override {
    EXPECT_EQ(kind, "");
    reactions[id] = r;
  }
  void OnCardAction(const CardAction& a) override { actions.push_back(a); }
};

config::NetworkConfig Net(bool signing = true) {
  return TestNetwork(std::string("type: slack\nbase_url: http://127.0.0.1:1/api\n"
                                 "token: ${LEARNLOOP_TEST_SLACK}\nchannels: [C1]\n") +
                         (signing ? "signing_secret: ${LEARNLOOP_TEST_SIGNING}\n" : ""),
                     {{"LEARNLOOP_TEST_SLACK", "xoxb-1"}, {"LEARNLOOP_TEST_SIGNING", "sekrit"}});
}

struct Fixture {
  ManualClock clock{*ParseIso("2026-03-02T09:00:00Z")};
  FakeClient* client = nullptr;
  std::unique_ptr<slack::SlackConnector> c;
  explicit Fixture(bool signing = true) {
    auto fake = std::make_unique<FakeClient>();
    client = fake.get();
    c = std::make_unique<slack::SlackConnector>(Net(signing), clock, std::move(fake));
  }
  // The query parameter `key` of the i-th request ("" when absent).
  std::string Param(size_t i, const std::string& key) const {
    const std::string& url = client->seen.at(i).url;
    auto q = url.find('?');
    if (q == std::string::npos) return "";
    std::string query = url.substr(q + 1);
    for (size_t at = 0; at <= query.size();) {
      auto amp = query.find('&', at);
      std::string kv = query.substr(at, amp == std::string::npos ? std::string::npos : amp - at);
      auto eq = kv.find('=');
      if (kv.substr(0, eq) == key) return kv.substr(eq + 1);
      if (amp == std::string::npos) break;
      at = amp + 1;
    }
    return "";
  }
  std::string Method(size_t i) const {
    const std::string& url = client->seen.at(i).url;
    auto slash = url.rfind('/', url.find('?'));
    return url.substr(slash + 1, url.find('?') - slash - 1);
  }
};

net::Request Signed(const std::string& path, const std::string& body, Time at,
                    const std::string& secret = "sekrit") {
  net::Request r;
  r.method = "POST";
  r.path = path;
  r.body = body;
  std::string stamp = std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count());
  r.headers["x-slack-request-timestamp"] = stamp;
  r.headers["x-slack-signature"] =
      "v0=" + crypto::HmacSha256Hex(secret, "v0:" + stamp + ":" + body);
  return r;
}

}  // namespace

TEST(SlackParse, RecordedHistoryAndRepliesBecomeMessagesOfTheirThreads) {
  auto history = slack::ParseMessages(Testdata("slack_conversations_history.json"), "slack", "C1");
  ASSERT_TRUE(history.ok()) << history.error().message;
  ASSERT_EQ(history->messages.size(), 2u);
  const auto& first = history->messages[0];
  EXPECT_EQ(first.id, "slack:C1/1512085950.000216");
  EXPECT_EQ(first.thread_id, first.id);
  EXPECT_EQ(first.kind, "post");
  EXPECT_EQ(first.author_id, "slack:U012AB3CDE");
  EXPECT_EQ(first.group_id, "slack:C1");
  EXPECT_EQ(FormatIsoMillis(first.created_at), "2017-11-30T23:52:30.000Z");
  EXPECT_EQ(history->next_cursor, "bmV4dF90czoxNTEyMDg1ODYxMDAwNTQz");

  auto replies = slack::ParseMessages(Testdata("slack_conversations_replies.json"), "slack", "C1");
  ASSERT_TRUE(replies.ok()) << replies.error().message;
  ASSERT_EQ(replies->messages.size(), 4u);
  EXPECT_EQ(replies->messages[0].kind, "post");
  for (size_t i = 1; i < 4; ++i) {
    EXPECT_EQ(replies->messages[i].kind, "reply");
    EXPECT_EQ(replies->messages[i].reply_to_id, "slack:C1/1482960137.003543");
    EXPECT_EQ(replies->messages[i].thread_id, "slack:C1/1482960137.003543");
  }
  ASSERT_EQ(replies->threads.size(), 1u);  // the parent says it has replies
  EXPECT_EQ(replies->threads[0].first, "1482960137.003543");

  // Reactions of every kind, as messages carry them; mentions; system messages left out.
  auto page = slack::ParseMessages(
      R"({"ok":true,"messages":[
        {"type":"message","user":"U1","text":"B <@U2> and <@U3|sam>","ts":"1700000000.000100",
         "edited":{"user":"U1","ts":"1700000060.000000"},
         "reactions":[{"name":"+1","count":2,"users":["U2","U3"]},{"name":"tada","count":1,"users":["U2"]}]},
        {"type":"message","subtype":"channel_join","user":"U9","text":"joined","ts":"1700000001.000000"},
        {"type":"message","subtype":"tombstone","user":"USLACKBOT","text":"This message was deleted.","ts":"1700000002.000000","reply_count":1}
      ],"response_metadata":{"next_cursor":""}})",
      "slack", "C1");
  ASSERT_TRUE(page.ok()) << page.error().message;
  ASSERT_EQ(page->messages.size(), 2u);
  EXPECT_EQ(page->messages[0].mentions, (std::vector<std::string>{"slack:U2", "slack:U3"}));
  ASSERT_TRUE(page->messages[0].edited_at);
  EXPECT_TRUE(page->messages[1].deleted);
  EXPECT_EQ(page->messages[1].text, "");
  ASSERT_EQ(page->reactions.size(), 1u);
  EXPECT_EQ(page->reactions[0].second.size(), 3u);
  EXPECT_EQ(page->reactions[0].second[2].kind, "tada");
  EXPECT_EQ(page->next_cursor, "");
}

TEST(SlackParse, MethodErrorsComeAsOkFalseAndCarryACodeTheDaemonActsOn) {
  auto missing = slack::ParseMessages(Testdata("slack_error_thread_not_found.json"), "slack", "C1");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, 404);
  EXPECT_NE(missing.error().message.find("thread_not_found"), std::string::npos);
  EXPECT_EQ(slack::ParseAnswer(R"({"ok":false,"error":"invalid_auth"})").error().code, 401);
  EXPECT_EQ(slack::ParseAnswer(R"({"ok":false,"error":"not_in_channel"})").error().code, 403);
  EXPECT_EQ(slack::ParseAnswer(R"({"ok":false,"error":"ratelimited"})").error().code, 429);
  EXPECT_FALSE(slack::ParseAnswer("<html>").ok());
  EXPECT_FALSE(slack::ParseTs("12x.5"));
  EXPECT_FALSE(slack::ParseTs(""));
  EXPECT_EQ(FormatIsoMillis(*slack::ParseTs("1767326126.896109")), "2026-01-02T03:55:26.896Z");
}

TEST(SlackConnector, TheDirectoryPagesByCursorAndATokenSlackRefusesIs401) {
  Fixture f;
  f.client->Add(200, R"({"ok":true,"user_id":"UBOT","team_id":"T1"})");
  f.client->Add(200, R"({"ok":true,"members":[
      {"id":"U1","name":"ana","real_name":"Ana Lima","profile":{"email":"ana@example.com","title":"Sales"}},
      {"id":"UBOT","name":"learnloop","is_bot":true,"profile":{}}],
      "response_metadata":{"next_cursor":"dXNlcjpVMg=="}})");
  f.client->Add(200, R"({"ok":true,"members":[{"id":"U2","name":"ben","deleted":true,"profile":{}}],
      "response_metadata":{"next_cursor":""}})");
  f.client->Add(200, R"({"ok":true,"channels":[{"id":"C1","name":"learning","is_member":true}],
      "response_metadata":{"next_cursor":""}})");
  // The channel's name comes from the list: no conversations.info for it.
  f.client->Add(200,
                R"({"ok":true,"members":["U1","UBOT"],"response_metadata":{"next_cursor":""}})");
  Sink sink;
  auto s = f.c->SyncDirectory(sink);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(f.c->SelfUserId(), "slack:UBOT");
  ASSERT_EQ(sink.users.size(), 3u);
  EXPECT_EQ(sink.users[0].name, "Ana Lima");
  EXPECT_EQ(sink.users[0].email, "ana@example.com");
  EXPECT_TRUE(sink.users[1].is_bot);
  EXPECT_EQ(sink.users[2].state, "deleted");
  EXPECT_EQ(f.Param(2, "cursor"), "dXNlcjpVMg%3D%3D");  // the next page asked with its cursor
  ASSERT_EQ(sink.groups.size(), 1u);
  EXPECT_EQ(sink.groups[0].name, "#learning");
  EXPECT_EQ(sink.groups[0].kind, "channel");
  EXPECT_EQ(sink.groups[0].members, (std::vector<std::string>{"slack:U1", "slack:UBOT"}));
  for (const auto& r : f.client->seen)
    EXPECT_EQ(r.url.find("conversations.info"), std::string::npos) << r.url;
  bool bearer = false;
  for (const auto& [k, v] : f.client->seen[0].headers)
    bearer |= k == "Authorization" && v == "Bearer xoxb-1";
  EXPECT_TRUE(bearer);

  Fixture refused;
  refused.client->Add(200, R"({"ok":false,"error":"invalid_auth"})");
  Sink none;
  auto r = refused.c->SyncDirectory(none);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, 401);  // the daemon stops at the first start and says why
}

TEST(SlackConnector, APollReadsWhatIsNewAndTheThreadsWithNewReplies) {
  Fixture f;
  // The timeline: a parent with replies and a plain post (newest first), over two pages.
  f.client->Add(200, R"({"ok":true,"messages":[
      {"type":"message","user":"U1","text":"later","ts":"1772442000.000200"}],
      "response_metadata":{"next_cursor":"cGFnZTI="}})");
  f.client->Add(200, R"({"ok":true,"messages":[
      {"type":"message","user":"UBOT","text":"Q1: which?","ts":"1772441000.000100",
       "reply_count":2,"latest_reply":"1772441500.000300"}],
      "response_metadata":{"next_cursor":""}})");
  f.client->Add(200, R"({"ok":true,"messages":[
      {"type":"message","user":"UBOT","text":"Q1: which?","ts":"1772441000.000100","thread_ts":"1772441000.000100","reply_count":2},
      {"type":"message","user":"U1","text":"Definitely B!","ts":"1772441400.000100","thread_ts":"1772441000.000100","parent_user_id":"UBOT"},
      {"type":"message","user":"U2","text":"Ich würde B sagen","ts":"1772441500.000300","thread_ts":"1772441000.000100","parent_user_id":"UBOT",
       "reactions":[{"name":"+1","count":1,"users":["U1"]}]}],
      "response_metadata":{"next_cursor":""}})");
  // The refresh of the recent window (due at the first poll): nothing new in the thread.
  f.client->Add(200, R"({"ok":true,"messages":[],"response_metadata":{"next_cursor":""}})");
  Sink sink;
  auto stats = f.c->Poll(sink);
  EXPECT_TRUE(stats.errors.empty()) << stats.errors[0];
  EXPECT_EQ(f.Method(0), "conversations.history");
  EXPECT_EQ(f.Param(0, "oldest"), "");  // the first read: everything (no backfill_since)
  EXPECT_EQ(f.Param(1, "cursor"), "cGFnZTI%3D");
  EXPECT_EQ(f.Method(2), "conversations.replies");
  EXPECT_EQ(f.Param(2, "ts"), "1772441000.000100");
  ASSERT_EQ(sink.messages.size(), 5u);
  EXPECT_EQ(sink.messages[3].text, "Definitely B!");
  EXPECT_EQ(sink.messages[3].reply_to_id, "slack:C1/1772441000.000100");
  EXPECT_EQ(sink.reactions["slack:C1/1772441500.000300"].size(), 1u);
  auto cursors = f.c->GetCursors();
  EXPECT_EQ(cursors["channel:C1"], "1772442000.000200");
  EXPECT_EQ(cursors["thread:C1/1772441000.000100"], "1772441500.000300");

  // The next poll goes on from the newest message; the prompt's thread is followed.
  f.client->seen.clear();
  f.c->FollowThreads({"slack:C1/1772441000.000100", "yammer:5"});
  f.client->Add(200, R"({"ok":true,"messages":[],"response_metadata":{"next_cursor":""}})");
  f.client->Add(200, R"({"ok":true,"messages":[
      {"type":"message","user":"U3","text":"C","ts":"1772443000.000100","thread_ts":"1772441000.000100"}],
      "response_metadata":{"next_cursor":""}})");
  Sink more;
  stats = f.c->Poll(more);
  EXPECT_TRUE(stats.errors.empty());
  ASSERT_EQ(f.client->seen.size(), 2u);
  EXPECT_EQ(f.Param(0, "oldest"), "1772442000.000200");
  EXPECT_EQ(f.Method(1), "conversations.replies");
  EXPECT_EQ(f.Param(1, "oldest"), "1772441500.000300");
  ASSERT_EQ(more.messages.size(), 1u);
  EXPECT_EQ(f.c->GetCursors()["thread:C1/1772441000.000100"], "1772443000.000100");
}

TEST(SlackConnector, QuestionsGetButtonsMentionsAreSlacksAndItsOwnPostIsFound) {
  Fixture f;
  f.client->Add(200, Testdata("slack_chat_postMessage_response.json"));
  PostRequest r;
  r.group_id = "C123ABC456";
  r.body = "Q <b> & {{mention:U7|Ana}}: which?";
  r.choices = {{"A", "A) Ask"}, {"B", "B) Build"}};
  auto posted = f.c->Post(r);
  ASSERT_TRUE(posted.ok()) << posted.error().message;
  EXPECT_EQ(posted->native_id, "C123ABC456/1503435956.000247");
  const auto& req = f.client->seen.at(0);
  EXPECT_EQ(req.method, "POST");
  EXPECT_FALSE(req.idempotent);  // never sent twice blindly: FindPosted looks first
  auto body = json::Parse(req.body);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(json::GetString(*body, "text"), "Q &lt;b&gt; &amp; <@U7>: which?");
  const auto& blocks = json::Find(*body, "blocks")->as_array();
  ASSERT_EQ(blocks.size(), 2u);
  const auto& buttons = json::Find(blocks.at(1), "elements")->as_array();
  ASSERT_EQ(buttons.size(), 2u);
  EXPECT_EQ(json::GetString(buttons.at(1), "value"), "B");

  // A reply goes into the thread; without a signing secret no buttons are offered.
  Fixture plain(false);
  plain.client->Add(200, R"({"ok":true,"channel":"C1","ts":"1772441000.000900"})");
  PostRequest reply;
  reply.group_id = "C1";
  reply.reply_to = "C1/1772441000.000100";
  reply.body = "Reminder";
  reply.choices = {{"A", "A) Ask"}};
  ASSERT_TRUE(plain.c->Post(reply).ok());
  auto sent = json::Parse(plain.client->seen.at(0).body);
  EXPECT_EQ(json::GetString(*sent, "thread_ts"), "1772441000.000100");
  EXPECT_FALSE(json::Find(*sent, "blocks"));

  // After a crash: the bot's post with the same text is found, another's is not.
  plain.client->Add(200, R"({"ok":true,"user_id":"UBOT"})");
  plain.client->Add(200, R"({"ok":true,"messages":[
      {"type":"message","user":"UBOT","text":"Reminder","ts":"1772441000.000900","thread_ts":"1772441000.000100"},
      {"type":"message","user":"U1","text":"Reminder","ts":"1772441000.000950","thread_ts":"1772441000.000100"}],
      "response_metadata":{"next_cursor":""}})");
  auto found = plain.c->FindPosted(reply, *ParseIso("2026-03-02T08:00:00Z"));
  ASSERT_TRUE(found.ok()) << found.error().message;
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ(found->at(0).native_id, "C1/1772441000.000900");
  EXPECT_EQ(plain.Method(2), "conversations.replies");
}

TEST(SlackConnector, PushesNeedTheirSignatureAndBringRepliesReactionsAndPresses) {
  Fixture f;
  Time now = f.clock.Now();
  EXPECT_EQ(f.c->PushPaths(),
            (std::vector<std::string>{"/slack/slack/events", "/slack/slack/actions"}));
  // The url_verification handshake (answered even before the directory is read).
  auto handshake =
      Signed("/slack/slack/events",
             R"({"token":"x","challenge":"3eZbrw1aBm","type":"url_verification"})", now);
  EXPECT_TRUE(f.c->IsHandshake(handshake));
  EXPECT_FALSE(f.c->IsHandshake(
      Signed("/slack/slack/events", Testdata("slack_event_reaction_added.json"), now)));
  auto hello = f.c->OnPush(handshake);
  EXPECT_EQ(hello.status, 200);
  EXPECT_EQ(hello.body, R"({"challenge":"3eZbrw1aBm"})");
  // Wrong secret, stale or missing timestamp: refused, and Slack told not to retry.
  std::string event = Testdata("slack_event_reaction_added.json");
  EXPECT_EQ(f.c->OnPush(Signed("/slack/slack/events", event, now, "other")).status, 401);
  EXPECT_EQ(f.c->OnPush(Signed("/slack/slack/events", event, now - std::chrono::minutes{6})).status,
            401);
  net::Request unsigned_request;
  unsigned_request.path = "/slack/slack/events";
  unsigned_request.body = event;
  EXPECT_EQ(f.c->OnPush(unsigned_request).status, 401);
  EXPECT_FALSE(f.c->PushPending());
  // The recorded reaction is in another workspace's channel: acknowledged, not read.
  EXPECT_EQ(f.c->OnPush(Signed("/slack/slack/events", event, now)).status, 200);
  EXPECT_FALSE(f.c->PushPending());
  // A reply in our channel, sent twice (a retry): read once.
  std::string reply = R"({"type":"event_callback","event_id":"Ev1","event":{"type":"message",
      "channel":"C1","user":"U1","text":"B","ts":"1772441400.000100","thread_ts":"1772441000.000100"}})";
  EXPECT_EQ(f.c->OnPush(Signed("/slack/slack/events", reply, now)).status, 200);
  EXPECT_EQ(f.c->OnPush(Signed("/slack/slack/events", reply, now)).status, 200);
  // A button pressed.
  std::string payload =
      R"({"type":"block_actions","user":{"id":"U2"},"channel":{"id":"C1"},)"
      R"("container":{"type":"message","message_ts":"1772441000.000100","channel_id":"C1"},)"
      R"("actions":[{"action_id":"choice_1","block_id":"learnloop_choices","value":"B",)"
      R"("type":"button","action_ts":"1772441600.123456"}]})";
  EXPECT_EQ(f.c->OnPush(Signed("/slack/slack/actions", "payload=" + http::UrlEncode(payload), now))
                .status,
            200);
  ASSERT_TRUE(f.c->PushPending());
  std::string pushed = f.c->TakePushed();
  EXPECT_FALSE(f.c->PushPending());
  f.client->Add(200, R"({"ok":true,"messages":[
      {"type":"message","user":"UBOT","text":"Q","ts":"1772441000.000100","thread_ts":"1772441000.000100","reply_count":1},
      {"type":"message","user":"U1","text":"B","ts":"1772441400.000100","thread_ts":"1772441000.000100"}],
      "response_metadata":{"next_cursor":""}})");
  Sink sink;
  auto stats = f.c->ReadPushed(pushed, sink);
  EXPECT_TRUE(stats.errors.empty());
  ASSERT_EQ(f.client->seen.size(), 1u);  // the thread, once
  EXPECT_EQ(f.Param(0, "ts"), "1772441000.000100");
  EXPECT_EQ(sink.messages.size(), 2u);
  ASSERT_EQ(sink.actions.size(), 1u);
  EXPECT_EQ(sink.actions[0].user_id, "slack:U2");
  EXPECT_EQ(sink.actions[0].message_id, "slack:C1/1772441000.000100");
  EXPECT_EQ(sink.actions[0].value, R"({"choice":"B"})");
}
