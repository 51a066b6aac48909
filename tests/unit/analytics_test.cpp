#include <gtest/gtest.h>

#include "analytics/report.h"

using namespace learnloop;
using namespace learnloop::analytics;

namespace {

Time T(const char* s) { return *ParseIso(s); }

Message M(const char* id, const char* author, const char* at, const char* parent = nullptr,
          bool deleted = false) {
  Message m;
  m.id = id;
  m.network = "y";
  m.group_id = "y:g";
  m.author_id = author;
  m.created_at = T(at);
  m.deleted = deleted;
  if (parent) {
    m.reply_to_id = parent;
    m.thread_id = "y:p1";
    m.kind = "reply";
  } else {
    m.thread_id = id;
  }
  return m;
}

// A week small enough to count by hand (see the comments for each figure).
Dataset HandData() {
  Dataset d;
  d.users = {
      {"y:a", "y", "A", {}, {}, "active", false, {}},
      {"y:b", "y", "B", {}, {}, "active", false, {}},
      {"y:c", "y", "C", {}, {}, "active", false, {}},
      {"y:d", "y", "D", {}, {}, "suspended", false, {}},                      // not a member
      {"y:bot", "y", "Bot", {}, {}, "active", true, {}},                      // never counts
      {"y:e", "y", "E", {}, {}, "active", false, T("2026-12-05T00:00:00Z")},  // joins later
  };
  d.groups = {{"y:g", "y", "G", "community", {"y:a", "y:b", "y:c", "y:d", "y:bot"}}};
  Message r3 = M("y:r3", "y:c", "2026-11-25T10:00:00Z", "y:p4");
  r3.thread_id = "y:p4";
  d.messages = {
      M("y:p5", "y:a", "2026-11-20T09:00:00Z"),                 // last week's post
      M("y:p1", "y:a", "2026-11-23T09:00:00Z"),                 // post, answered after 60 min
      M("y:r1", "y:b", "2026-11-23T10:00:00Z", "y:p1"),         // a response to p1
      M("y:r2", "y:a", "2026-11-23T11:00:00Z", "y:r1"),         // the author's own reply
      M("y:p2", "y:b", "2026-11-24T09:00:00Z"),                 // answered by a like only
      M("y:p3", "y:c", "2026-11-25T09:00:00Z", nullptr, true),  // deleted
      M("y:p4", "y:bot", "2026-11-25T09:00:00Z"),               // the bot's prompt
      r3,                                                       // a person's answer to it
  };
  d.reactions = {
      {"y:p2", "y:c", "like", std::nullopt},               // at p2's time
      {"y:p1", "y:bot", "like", std::nullopt},             // a bot: ignored
      {"y:p3", "y:b", "like", std::nullopt},               // on a deleted message
      {"y:p5", "y:a", "like", T("2026-11-24T12:00:00Z")},  // this week, on an old post
  };
  d.prompts = {{"prompt:q:1",
                "q",
                1,
                "y",
                "y:g",
                "y:p4",
                "free_text",
                T("2026-11-25T09:00:00Z"),
                T("2026-11-28T09:00:00Z"),
                std::nullopt,
                {}}};
  d.answers = {
      {"prompt:q:1", "y:c", "y:r3", T("2026-11-25T10:00:00Z"), std::nullopt, std::nullopt, 1}};
  return d;
}

ReportOptions Utc(int min_group = 5) { return ReportOptions{*FindZone("UTC"), "UTC", min_group}; }

}  // namespace

TEST(Weekly, TotalsCountedByHand) {
  auto r = ComputeWeekly(HandData(), *IsoWeek::Parse("2026-W48"), T("2026-12-10T00:00:00Z"), Utc());
  const Totals& t = r.totals;
  EXPECT_EQ(t.members, 3);    // a, b, c
  EXPECT_EQ(t.posts, 2);      // p1, p2
  EXPECT_EQ(t.replies, 3);    // r1, r2, r3
  EXPECT_EQ(t.reactions, 2);  // c on p2, a on p5
  EXPECT_EQ(t.active_users, 3);
  EXPECT_EQ(t.contributors, 3);
  EXPECT_EQ(t.new_contributors, 2);  // b and c (c's deleted post does not count)
  EXPECT_DOUBLE_EQ(*t.engagement_rate, 1.0);
  EXPECT_DOUBLE_EQ(*t.replies_per_post, 1.5);
  EXPECT_DOUBLE_EQ(*t.response_rate, 1.0);
  EXPECT_DOUBLE_EQ(*t.median_first_response_minutes, 60.0);
  EXPECT_EQ(r.trend.posts, 1);
  EXPECT_EQ(r.trend.new_contributors, 1);  // a, whose first post was last week
  EXPECT_DOUBLE_EQ(*r.trend.replies_per_post, 0.0);
  EXPECT_EQ(r.trend.active_users, 1);
  EXPECT_DOUBLE_EQ(*r.trend.response_rate, 0.0);  // a like by the author is no response
  EXPECT_FALSE(r.trend.median_first_response_minutes);
  EXPECT_FALSE(r.provisional);
  auto json = RenderJson(r);
  EXPECT_NE(
      json.find(
          R"("totals":{"members":3,"posts":2,"replies":3,"reactions":2,"active_users":3,"contributors":3,"engagement_rate":1,"new_contributors":2,"replies_per_post":1.5,"response_rate":1,"median_first_response_minutes":60})"),
      std::string::npos)
      << json;
  EXPECT_NE(
      json.find(
          R"("delta":{"members":0,"posts":1,"replies":3,"reactions":2,"active_users":2,"contributors":2,"engagement_rate":0.6667,"new_contributors":1,"replies_per_post":1.5,"response_rate":1,"median_first_response_minutes":null})"),
      std::string::npos)
      << json;
  EXPECT_EQ(
      json.rfind(
          R"({"definitions_version":3,"week":"2026-W48","timezone":"UTC","from":"2026-11-23T00:00:00Z","to":"2026-11-30T00:00:00Z","as_of":"2026-12-10T00:00:00Z","provisional":false,)",
          0),
      0u)
      << json;
}

TEST(Weekly, PromptFiguresAndSmallGroupSuppression) {
  auto open =
      ComputeWeekly(HandData(), *IsoWeek::Parse("2026-W48"), T("2026-12-01T00:00:00Z"), Utc(2));
  ASSERT_EQ(open.prompts.size(), 1u);
  const PromptRow& p = open.prompts[0];
  EXPECT_EQ(*p.audience, 3);
  EXPECT_EQ(*p.answerers, 1);
  EXPECT_NEAR(*p.response_rate, 1.0 / 3, 1e-12);
  EXPECT_DOUBLE_EQ(*p.median_minutes_to_answer, 60.0);
  EXPECT_FALSE(p.correct_rate);
  EXPECT_TRUE(open.provisional);
  ASSERT_EQ(open.campaigns.size(), 1u);
  EXPECT_EQ(open.campaigns[0].participants, 1);
  EXPECT_DOUBLE_EQ(*open.campaigns[0].completion_rate, 1.0);

  auto hidden =
      ComputeWeekly(HandData(), *IsoWeek::Parse("2026-W48"), T("2026-12-01T00:00:00Z"), Utc(5));
  EXPECT_TRUE(hidden.prompts[0].suppressed);
  EXPECT_FALSE(hidden.prompts[0].audience);
  auto json = RenderJson(hidden);
  EXPECT_NE(json.find(R"("audience":null,"answerers":null,"response_rate":null)"),
            std::string::npos);
  EXPECT_NE(RenderMarkdown(hidden).find("suppressed"), std::string::npos);
  EXPECT_NE(RenderHtml(hidden).find("suppressed"), std::string::npos);
}

TEST(Weekly, SameDataSameBytes) {
  auto a = RenderJson(
      ComputeWeekly(HandData(), *IsoWeek::Parse("2026-W48"), T("2026-12-10T00:00:00Z"), Utc()));
  auto b = RenderJson(
      ComputeWeekly(HandData(), *IsoWeek::Parse("2026-W48"), T("2026-12-10T00:00:00Z"), Utc()));
  EXPECT_EQ(a, b);
}

TEST(Weekly, HtmlIsSelfContainedAndEscaped) {
  Dataset d = HandData();
  d.prompts[0].campaign = "<script>alert(1)</script>";
  auto html =
      RenderHtml(ComputeWeekly(d, *IsoWeek::Parse("2026-W48"), T("2026-12-10T00:00:00Z"), Utc(2)));
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;"), std::string::npos);
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
}

TEST(Weekly, APromptThatNamesItsPeopleHasThemAsItsAudience) {
  Dataset d = HandData();
  // Put to C and D (D is suspended: not a member of the network) and to E, who joins later.
  d.prompts[0].audience = {"y:c", "y:d", "y:e"};
  auto r = ComputeWeekly(d, *IsoWeek::Parse("2026-W48"), T("2026-12-01T00:00:00Z"), Utc(1));
  ASSERT_EQ(r.prompts.size(), 1u);
  EXPECT_EQ(*r.prompts[0].audience, 1);  // C only
  EXPECT_EQ(*r.prompts[0].answerers, 1);
  EXPECT_DOUBLE_EQ(*r.prompts[0].response_rate, 1.0);
}
