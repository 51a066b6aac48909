#include "connectors/common/archive.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "core/compress.h"
#include "core/crypto.h"
#include "core/json.h"
#include "core/time.h"
#include "tests/support/fake_client.h"

using namespace learnloop;
using namespace learnloop::connectors;
namespace fs = std::filesystem;

namespace {

http::Request Get(const std::string& url) {
  http::Request r;
  r.url = url;
  r.headers = {{"Authorization", "Bearer secret-access-token"}};
  return r;
}

}  // namespace

TEST(Archive, RedactsCredentialsInUrls) {
  EXPECT_EQ(archive::RedactUrl("https://x/api?since=1&access_token=abc&b=2"),
            "https://x/api?since=1&access_token=REDACTED&b=2");
  EXPECT_EQ(archive::RedactUrl("https://x/a?sig=s&code=c&$deltatoken=keep"),
            "https://x/a?sig=REDACTED&code=REDACTED&$deltatoken=keep");
  EXPECT_EQ(archive::RedactUrl("https://x/a"), "https://x/a");
}

TEST(Archive, RecordsCallsAndPagesWithoutCredentialsAndReplaysThem) {
  fs::path dir = fs::temp_directory_path() / ("learnloop-archive-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  ManualClock clock(*ParseIso("2026-03-01T23:59:00Z"));
  archive::Recorder rec(dir.string(), "yammer", clock);
  auto fake = std::make_unique<learnloop::testing::FakeClient>();
  auto* raw = fake.get();
  archive::RecordingClient client(std::move(fake), rec);

  raw->Add(200, R"({"messages":[{"id":1}],"access_token":"leaked"})", {{"retry-after", "3"}});
  raw->Add(200, R"({"access_token":"tok","expires_in":3600})");
  raw->AddError("connection reset");
  raw->Add(200, std::string("PK\x03\x04\xff\xfe", 6));  // binary (a ZIP)
  raw->Add(200, "{}");

  rec.Begin({"poll", clock.Now(), true, {"yammer:9"}, ""});
  ASSERT_TRUE(client.Send(Get("http://h/api/v1/messages.json?access_token=q")).ok());
  http::Request token;
  token.method = "POST";
  token.url = "http://h/token";
  token.body = "grant_type=refresh_token&refresh_token=rt";
  ASSERT_TRUE(client.Send(token).ok());  // never archived
  EXPECT_FALSE(client.Send(Get("http://h/api/v1/users.json")).ok());
  clock.Set(*ParseIso("2026-03-02T00:00:30Z"));
  ASSERT_TRUE(client.Send(Get("http://h/api/v1/export?since=x")).ok());
  ASSERT_TRUE(rec.End().ok());
  ASSERT_TRUE(client.Send(Get("http://h/outside")).ok());  // outside a call: not archived

  // One file per UTC day of the call's start.
  ASSERT_TRUE(fs::exists(dir / "yammer" / "2026-03-01.jsonl.gz"));
  auto text = GzipRead((dir / "yammer" / "2026-03-01.jsonl.gz").string());
  ASSERT_TRUE(text.ok());
  for (const char* secret : {"secret-access-token", "leaked", "grant_type", "\"q\"", "=q"})
    EXPECT_EQ(text->find(secret), std::string::npos) << secret << " in " << *text;
  EXPECT_EQ(text->find("outside"), std::string::npos);

  std::vector<std::string> warnings;
  auto calls = archive::Read(dir.string(), "yammer", &warnings);
  ASSERT_TRUE(calls.ok()) << calls.error().message;
  ASSERT_EQ(calls->size(), 1u);
  const auto& c = (*calls)[0];
  EXPECT_EQ(c.call.kind, "poll");
  EXPECT_TRUE(c.call.refresh_now);
  EXPECT_EQ(c.call.follow, std::vector<std::string>{"yammer:9"});
  ASSERT_EQ(c.pages.size(), 3u);

  // The replay answers the same requests with the same answers, in order.
  archive::ReplayClient replay(&clock);
  replay.Load(&c.pages);
  auto a = replay.Send(Get("http://h/api/v1/messages.json?access_token=other"));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->status, 200);
  EXPECT_EQ(a->body, R"({"messages":[{"id":1}],"access_token":"REDACTED"})");
  EXPECT_EQ(*a->Header("retry-after"), "3");
  auto t = replay.Send(token);
  ASSERT_TRUE(t.ok());  // a made-up token
  EXPECT_NE(t->body.find("\"access_token\""), std::string::npos);
  auto e = replay.Send(Get("http://h/api/v1/users.json"));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().message, "connection reset");
  auto z = replay.Send(Get("http://h/api/v1/export?since=x"));
  ASSERT_TRUE(z.ok());
  EXPECT_EQ(z->body, std::string("PK\x03\x04\xff\xfe", 6));
  EXPECT_EQ(FormatIso(clock.Now()), "2026-03-02T00:00:30Z");  // when that answer came
  EXPECT_EQ(replay.unread(), 0u);
  EXPECT_FALSE(replay.Send(Get("http://h/more")).ok());
  EXPECT_NE(replay.divergence().find("GET http://h/more is not in the archive"), std::string::npos);

  // A file cut while a call was appended: that call is left out, with a warning.
  rec.Begin({"sync", clock.Now(), false, {}, ""});
  raw->Add(200, "{\"users\":[]}");
  ASSERT_TRUE(client.Send(Get("http://h/api/v1/users.json?page=1")).ok());
  ASSERT_TRUE(rec.End().ok());
  fs::path second = dir / "yammer" / "2026-03-02.jsonl.gz";
  fs::resize_file(second, fs::file_size(second) - 8);
  warnings.clear();
  auto again = archive::Read(dir.string(), "yammer", &warnings);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->size(), 1u);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("ends in the middle of a call"), std::string::npos);
  fs::remove_all(dir);
}

TEST(Archive, ForgettingAPersonTakesTheirPagesMessagesLikesAndNamesOut) {
  char tmpl[] = "/tmp/learnloop-forget-XXXXXX";
  fs::path dir = mkdtemp(tmpl);
  fs::create_directories(dir / "yammer");
  // One call with a Yammer feed page: Anna (1490000013) wrote m2 and liked m1; Bert's m3
  // mentions her; plus a Data Export ZIP with a row of hers.
  std::string feed =
      R"({"messages":[)"
      R"({"id":1,"sender_id":1490000026,"body":{"plain":"Hello"},"liked_by":{"count":1,"names":[{"user_id":1490000013,"full_name":"Anna Berg"}]}},)"
      R"({"id":2,"sender_id":1490000013,"body":{"plain":"My secret plan"}},)"
      R"({"id":3,"sender_id":1490000026,"body":{"plain":"Thanks [[user:1490000013]], Anna Berg!"},"notified_user_ids":[1490000013,1490000039]}],)"
      R"("references":[{"type":"user","id":1490000013,"full_name":"Anna Berg","email":"anna.berg@contoso.example"},)"
      R"({"type":"user","id":1490000026,"full_name":"Bert Kahn"}]})";
  auto zip = MakeZip({{"Messages.csv",
                       "id,sender_id,body\r\n7,1490000013,mine\r\n8,1490000026,"
                       "hi Anna Berg\r\n"}});
  ASSERT_TRUE(zip.ok());
  json::Writer call, page, export_page;
  call.BeginObject().Key("call").String("poll").Key("t").String("2026-11-02T10:00:00Z").EndObject();
  page.BeginObject().Key("t").String("2026-11-02T10:00:01Z").Key("method").String("GET");
  page.Key("url").String("https://x/api/v1/messages.json").Key("status").Int(200);
  page.Key("body").String(feed).EndObject();
  export_page.BeginObject().Key("t").String("2026-11-02T10:00:02Z").Key("method").String("GET");
  export_page.Key("url").String("https://x/api/v1/export").Key("status").Int(200);
  export_page.Key("body_base64").String(crypto::Base64UrlEncode(*zip)).EndObject();
  ASSERT_TRUE(GzipAppend((dir / "yammer" / "2026-11-02.jsonl.gz").string(),
                         call.Take() + "\n" + page.Take() + "\n" + export_page.Take() + "\n")
                  .ok());

  auto n = archive::Forget(dir.string(), "yammer", "1490000013",
                           {"Anna Berg", "anna.berg@contoso.example"});
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 1);
  auto calls = archive::Read(dir.string(), "yammer");
  ASSERT_TRUE(calls.ok());
  ASSERT_EQ(calls->size(), 1u);
  ASSERT_EQ((*calls)[0].pages.size(), 2u);
  std::string body = *json::GetString((*calls)[0].pages[0], "body");
  for (const char* gone : {"1490000013", "Anna Berg", "anna.berg@", "My secret plan"})
    EXPECT_EQ(body.find(gone), std::string::npos) << gone << " in " << body;
  auto v = json::Parse(body);
  ASSERT_TRUE(v.ok());
  // The page keeps its shape (a replay asks the same next page): hers stays as a husk with the
  // tombstone id 0 and no text; others keep their words, less her name.
  const auto& messages = v->at("messages").as_array();
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(*json::GetInt64(messages.at(1), "id"), 2);
  EXPECT_EQ(*json::GetInt64(messages.at(1), "sender_id"), 0);
  EXPECT_EQ(*json::GetString(messages.at(1).at("body"), "plain"), "[forgotten]");
  const auto& like = messages.at(0).at("liked_by").at("names").as_array().at(0);
  EXPECT_EQ(*json::GetInt64(like, "user_id"), 0);
  EXPECT_EQ(*json::GetString(like, "full_name"), "[forgotten]");
  EXPECT_EQ(*json::GetString(messages.at(0).at("body"), "plain"), "Hello");
  EXPECT_EQ(*json::GetString(messages.at(2).at("body"), "plain"),
            "Thanks [[user:0]], [forgotten]!");
  EXPECT_EQ(json::AsIdString(messages.at(2).at("notified_user_ids").as_array().at(0)), "0");
  EXPECT_EQ(json::AsIdString(messages.at(2).at("notified_user_ids").as_array().at(1)),
            "1490000039");
  ASSERT_EQ(v->at("references").as_array().size(), 2u);
  EXPECT_EQ(*json::GetString(v->at("references").as_array().at(1), "full_name"), "Bert Kahn");
  auto bytes = crypto::Base64UrlDecode(*json::GetString((*calls)[0].pages[1], "body_base64"));
  ASSERT_TRUE(bytes);
  auto entries = ReadZip(*bytes);
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ((*entries)[0].data,
            "id,sender_id,body\r\n7,0,[forgotten]\r\n8,1490000026,hi [forgotten]\r\n");
  EXPECT_EQ(archive::ForgottenIds(dir.string(), "yammer"), std::vector<std::string>{"0"});
  fs::remove_all(dir);
}
