#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "analytics/report.h"
#include "core/csv.h"
#include "core/json.h"

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
                {},
                std::nullopt,
                false,
                false}};
  d.answers = {
      {"prompt:q:1", "y:c", "y:r3", T("2026-11-25T10:00:00Z"), std::nullopt, std::nullopt, 1}};
  return d;
}

ReportOptions Utc(int min_group = 5) {
  return ReportOptions{*FindZone("UTC"), "UTC", min_group, "test-key"};
}

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
          R"({"definitions_version":7,"week":"2026-W48","timezone":"UTC","from":"2026-11-23T00:00:00Z","to":"2026-11-30T00:00:00Z","as_of":"2026-12-10T00:00:00Z","provisional":false,)",
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
  EXPECT_EQ(open.campaigns[0].audience, 3);
  EXPECT_NEAR(*open.campaigns[0].participation_rate, 1.0 / 3, 1e-12);
  EXPECT_FALSE(open.campaigns[0].completion_rate);  // no sequence that has ended

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

TEST(Weekly, PersonasAndTheNetworkCountedByHand) {
  // 28 days ending with W48. A: posts p5, p1, replies r2, likes own p5 (made 4), B replies to
  // p1 (received 1): broadcaster (2 posts > 1 reply). B: r1, p2 (made 2), A replies to r1 and C
  // likes p2 (received 2): engager. C: r3, a like (made 2; p3 is deleted), received nothing:
  // responder (no posts).
  auto r =
      ComputeWeekly(HandData(), *IsoWeek::Parse("2026-W48"), T("2026-12-10T00:00:00Z"), Utc(2));
  EXPECT_EQ(r.personas.observer, 0);
  EXPECT_EQ(r.personas.catalyst, 0);
  EXPECT_EQ(r.personas.engager, 1);
  EXPECT_EQ(r.personas.broadcaster, 1);
  EXPECT_EQ(r.personas.responder, 1);
  // Edges: B→A (r1), A→B (r2), C→B (like on p2); the reply to the bot, the bot's like, the
  // self-like and the like on a deleted post make none.
  EXPECT_EQ(r.network.nodes, 3);
  EXPECT_EQ(r.network.edges, 3);
  EXPECT_NEAR(*r.network.reciprocity, 2.0 / 3, 1e-12);
  EXPECT_NEAR(*r.network.density, 0.5, 1e-12);
  EXPECT_NEAR(*r.network.cross_group_share, 0.0, 1e-12);  // one home group for all
  // PageRank: c = 0.05, a = 0.05 + 0.85 b, b = 0.05 + 0.85 (a + c) → b 0.4865 > a 0.4635 > c.
  ASSERT_EQ(r.network.top_connectors.size(), 3u);
  EXPECT_EQ(r.network.top_connectors[0], Pseudonym("test-key", "y:b"));
  EXPECT_EQ(r.network.top_connectors[1], Pseudonym("test-key", "y:a"));
  EXPECT_EQ(r.network.top_connectors[2], Pseudonym("test-key", "y:c"));
  EXPECT_EQ(Pseudonym("test-key", "y:b").size(), 12u);
  EXPECT_NE(Pseudonym("other-key", "y:b"), Pseudonym("test-key", "y:b"));
  // Groups of the week: y:g's members A, B, C; posts p1, p2; replies r1-r3; two reactions.
  ASSERT_EQ(r.groups.size(), 1u);
  const GroupRow& g = r.groups[0];
  EXPECT_FALSE(g.suppressed);
  EXPECT_EQ(*g.members, 3);
  EXPECT_EQ(*g.active_users, 3);
  EXPECT_EQ(*g.posts, 2);
  EXPECT_EQ(*g.replies, 3);
  EXPECT_EQ(*g.reactions, 2);
  EXPECT_DOUBLE_EQ(*g.engagement_rate, 1.0);
  auto json = RenderJson(r);
  EXPECT_NE(
      json.find(
          R"("personas":{"observer":0,"catalyst":0,"engager":1,"broadcaster":1,"responder":1},"network":{"nodes":3,"edges":3,"reciprocity":0.6667,"density":0.5,"cross_group_share":0,"top_connectors":[)"),
      std::string::npos)
      << json;

  // Opted out: B leaves the top connectors after ranking; the next move up.
  Dataset d = HandData();
  d.opted_out = {"y:b"};
  auto o = ComputeWeekly(d, *IsoWeek::Parse("2026-W48"), T("2026-12-10T00:00:00Z"), Utc(2));
  EXPECT_EQ(o.network.top_connectors,
            (std::vector<std::string>{Pseudonym("test-key", "y:a"), Pseudonym("test-key", "y:c")}));
}

TEST(Weekly, ASmallGroupAndTheNextSmallestAreSuppressedInEveryFormat) {
  Dataset d;
  auto add_group = [&](const std::string& id, const std::string& name, int n) {
    Group g{id, "y", name, "community", {}};
    for (int i = 0; i < n; ++i) {
      std::string uid = id + "-u" + std::to_string(i);
      d.users.push_back({uid,
                         "y",
                         "Person " + uid,
                         "p" + std::to_string(i) + "@example.com",
                         {},
                         "active",
                         false,
                         {}});
      g.members.push_back(uid);
      Message m;
      m.id = uid + "-post";
      m.network = "y";
      m.group_id = id;
      m.thread_id = m.id;
      m.author_id = uid;
      m.created_at = T("2026-11-24T10:00:00Z");
      d.messages.push_back(m);
    }
    d.groups.push_back(g);
  };
  add_group("y:four", "Four people", 4);
  add_group("y:six", "Six people", 6);
  add_group("y:nine", "Nine people", 9);
  auto r = ComputeWeekly(d, *IsoWeek::Parse("2026-W48"), T("2026-12-10T00:00:00Z"), Utc(5));
  std::map<std::string, const GroupRow*> by_id;
  for (const auto& g : r.groups) by_id[g.group_id] = &g;
  EXPECT_TRUE(by_id["y:four"]->suppressed);
  EXPECT_TRUE(by_id["y:six"]->suppressed);  // complementary: the next-smallest
  EXPECT_FALSE(by_id["y:nine"]->suppressed);
  EXPECT_FALSE(by_id["y:four"]->members);
  EXPECT_EQ(*by_id["y:nine"]->members, 9);

  auto json = RenderJson(r);
  EXPECT_NE(
      json.find(
          R"({"group_id":"y:four","name":"Four people","members":null,"active_users":null,"posts":null,"replies":null,"reactions":null,"engagement_rate":null,"suppressed":true})"),
      std::string::npos)
      << json;
  EXPECT_NE(json.find(R"({"group_id":"y:six","name":"Six people","members":null)"),
            std::string::npos);
  EXPECT_NE(
      json.find(
          R"({"group_id":"y:nine","name":"Nine people","members":9,"active_users":9,"posts":9)"),
      std::string::npos);
  auto md = RenderMarkdown(r);
  EXPECT_NE(md.find("| Four people | suppressed (small group) |"), std::string::npos) << md;
  EXPECT_NE(md.find("| Six people | suppressed (small group) |"), std::string::npos) << md;
  EXPECT_NE(md.find("| Nine people | 9 | 9 | 100 % |"), std::string::npos) << md;
  auto html = RenderHtml(r);
  for (const char* id : {"y:four", "y:six"}) {
    auto row = html.find(std::string("<tr data-group=\"") + id + "\">");
    ASSERT_NE(row, std::string::npos) << id;
    auto end = html.find("</tr>", row);
    EXPECT_NE(html.substr(row, end - row).find("suppressed: fewer than 5 people"),
              std::string::npos)
        << id;
  }
  std::string groups_csv;
  for (const auto& [table, text] : RenderCsv(r))
    if (table == "groups") groups_csv = text;
  EXPECT_NE(groups_csv.find("y:four,Four people,,,,,,,true\r\n"), std::string::npos) << groups_csv;
  EXPECT_NE(groups_csv.find("y:six,Six people,,,,,,,true\r\n"), std::string::npos);
  EXPECT_NE(groups_csv.find("y:nine,Nine people,9,9,9,0,0,1,false\r\n"), std::string::npos)
      << groups_csv;
  // No name or email of a person anywhere in a leader report.
  for (const std::string& text : {json, md, html, groups_csv}) {
    EXPECT_EQ(text.find("Person "), std::string::npos);
    EXPECT_EQ(text.find("@example.com"), std::string::npos);
  }
}

TEST(Weekly, AWeekAcrossTheEndOfSummerTimeHas169HoursInBerlin) {
  // W43 of 2026 in Berlin: Monday 19 October 00:00 CEST (18 Oct 22:00 UTC) to Monday 26
  // October 00:00 CET (25 Oct 23:00 UTC). A post at 22:30 UTC on the 25th is 23:30 local on
  // Sunday (W43); one at 23:30 UTC is 00:30 on Monday (W44).
  Dataset d;
  d.users = {{"y:a", "y", "A", {}, {}, "active", false, {}},
             {"y:b", "y", "B", {}, {}, "active", false, {}}};
  d.groups = {{"y:g", "y", "G", "community", {"y:a", "y:b"}}};
  auto post = [&](const char* id, const char* author, const char* at) {
    Message m = M(id, author, at);
    d.messages.push_back(m);
  };
  post("y:1", "y:a", "2026-10-18T21:30:00Z");  // Sunday 18th 23:30 CEST: W42
  post("y:2", "y:a", "2026-10-18T22:00:00Z");  // Monday 19th 00:00 CEST: W43
  post("y:3", "y:b", "2026-10-25T22:30:00Z");  // Sunday 25th 23:30 CET: W43
  post("y:4", "y:b", "2026-10-25T23:30:00Z");  // Monday 26th 00:30 CET: W44
  ReportOptions berlin{*FindZone("Europe/Berlin"), "Europe/Berlin", 1, "k"};
  auto w43 = ComputeWeekly(d, *IsoWeek::Parse("2026-W43"), T("2026-11-30T00:00:00Z"), berlin);
  EXPECT_EQ(FormatIso(w43.from), "2026-10-18T22:00:00Z");
  EXPECT_EQ(FormatIso(w43.to), "2026-10-25T23:00:00Z");
  EXPECT_EQ(w43.totals.posts, 2);
  EXPECT_EQ(w43.trend.posts, 1);
  auto w44 = ComputeWeekly(d, *IsoWeek::Parse("2026-W44"), T("2026-11-30T00:00:00Z"), berlin);
  EXPECT_EQ(w44.totals.posts, 1);
  // Personas over the 28 local days ending with W44 (5 Oct 00:00 CEST to 2 Nov 00:00 CET):
  // every post is in, so both are broadcasters (posts only, nobody answered).
  EXPECT_EQ(w44.personas.broadcaster, 2);
  EXPECT_EQ(w44.history_weeks.back(), "2026-W44");
  EXPECT_EQ(w44.history.size(), 12u);
  EXPECT_EQ(w44.history[10].posts, 2);  // W43 in the trend chart
}

TEST(Weekly, ParticipationOfEveryCampaignAndCompletionOnlyOnceASequenceHasEnded) {
  // A weekly question of a three-step sequence: A, B and C asked each week; C answers all,
  // B skips the second. Participation is the week's; completion appears with the last step.
  Dataset d = HandData();
  d.prompts.clear();
  d.answers.clear();
  const char* weeks[] = {"2026-11-09T09:00:00Z", "2026-11-16T09:00:00Z", "2026-11-23T09:00:00Z"};
  for (int i = 0; i < 3; ++i) {
    Prompt p;
    p.id = "prompt:seq:" + std::to_string(i + 1);
    p.campaign = "seq";
    p.step = i + 1;
    p.network = "y";
    p.group_id = "y:g";
    p.message_id = "y:s" + std::to_string(i + 1);
    p.posted_at = T(weeks[i]);
    p.closes_at = p.posted_at + std::chrono::hours{72};
    p.last_step = 3;
    d.prompts.push_back(p);
    d.answers.push_back({p.id, "y:c", "y:c" + std::to_string(i),
                         p.posted_at + std::chrono::hours{1}, std::nullopt, std::nullopt, 1});
    if (i != 1)
      d.answers.push_back({p.id, "y:b", "y:b" + std::to_string(i),
                           p.posted_at + std::chrono::hours{2}, std::nullopt, std::nullopt, 1});
  }
  auto week = [&](const char* w) {
    auto r = ComputeWeekly(d, *IsoWeek::Parse(w), T("2026-12-10T00:00:00Z"), Utc(1));
    EXPECT_EQ(r.campaigns.size(), 1u);
    return r.campaigns.at(0);
  };
  auto w46 = week("2026-W46"), w47 = week("2026-W47"), w48 = week("2026-W48");
  EXPECT_EQ(w46.audience, 3);  // A, B and C (D is suspended)
  EXPECT_NEAR(*w46.participation_rate, 2.0 / 3, 1e-12);
  EXPECT_NEAR(*w47.participation_rate, 1.0 / 3, 1e-12);  // a healthy week does not fall to 0
  EXPECT_FALSE(w46.completion_rate);
  EXPECT_FALSE(w47.completion_rate);
  // Ended in W48: of its participants (B, C), C answered all three.
  EXPECT_NEAR(*w48.completion_rate, 0.5, 1e-12);
  auto json =
      RenderJson(ComputeWeekly(d, *IsoWeek::Parse("2026-W47"), T("2026-12-10T00:00:00Z"), Utc(1)));
  EXPECT_NE(
      json.find(
          R"("campaigns":[{"campaign":"seq","prompts":1,"participants":1,"answers":1,"audience":3,"participation_rate":0.3333,"completion_rate":null,"suppressed":false}])"),
      std::string::npos)
      << json;
}

TEST(Weekly, ASpacedCampaignsRoundsAreOneRowPerQuestionNotPerPersonOrRound) {
  // Two rounds of a spaced campaign: question 1 privately to A and B on Monday, to C on
  // Wednesday; question 2 to A on Wednesday.
  Dataset d = HandData();
  d.prompts.clear();
  d.answers.clear();
  auto ask = [&](const char* id, int q, const char* who, const char* at) {
    Prompt p;
    p.id = id;
    p.campaign = "practice";
    p.step = q;
    p.network = "y";
    p.group_id = "y:g";
    p.message_id = std::string("y:m-") + id;
    p.type = "choice";
    p.posted_at = T(at);
    p.closes_at = p.posted_at + std::chrono::hours{24};
    p.correct = "B";
    p.audience = {who};
    p.spaced = p.is_private = true;
    d.prompts.push_back(p);
  };
  ask("r1a", 1, "y:a", "2026-11-23T09:00:00Z");
  ask("r1b", 1, "y:b", "2026-11-23T09:00:00Z");
  ask("r2c", 1, "y:c", "2026-11-25T09:00:00Z");
  ask("r2a", 2, "y:a", "2026-11-25T09:00:00Z");
  d.answers = {{"r1a", "y:a", "y:x1", T("2026-11-23T09:30:00Z"), "B", true, 2},
               {"r2c", "y:c", "y:x2", T("2026-11-25T10:00:00Z"), "A", false, 1},
               {"r2a", "y:a", "y:x3", T("2026-11-25T11:00:00Z"), "B", true, 2}};
  auto r = ComputeWeekly(d, *IsoWeek::Parse("2026-W48"), T("2026-12-10T00:00:00Z"), Utc(1));
  ASSERT_EQ(r.prompts.size(), 2u);
  std::map<std::string, PromptRow> rows;
  for (const auto& row : r.prompts) rows[row.prompt_id] = row;
  const PromptRow& q1 = rows.at("practice:y:g:q1");
  EXPECT_EQ(*q1.audience, 3);
  EXPECT_EQ(*q1.answerers, 2);
  EXPECT_NEAR(*q1.correct_rate, 0.5, 1e-12);
  EXPECT_DOUBLE_EQ(*q1.median_minutes_to_answer, 45.0);  // 30 and 60 minutes
  const PromptRow& q2 = rows.at("practice:y:g:q2");
  EXPECT_EQ(*q2.audience, 1);
  ASSERT_EQ(r.campaigns.size(), 1u);
  EXPECT_EQ(r.campaigns[0].prompts, 2);  // rows, not the four messages
  EXPECT_EQ(r.campaigns[0].audience, 3);
  EXPECT_NEAR(*r.campaigns[0].participation_rate, 2.0 / 3, 1e-12);  // A and C
  EXPECT_FALSE(r.campaigns[0].completion_rate);
}

TEST(Weekly, ACohortsPromptsShowNoJoinDateAndTheirCampaignLineIsSuppressedWithThem) {
  // An onboarding campaign's day-1 prompts: to A alone (joined the 22nd), then to all three
  // (joined the 23rd, say); the community's weekly question goes to everyone (A, B, C).
  Dataset d = HandData();
  d.prompts.clear();
  d.answers.clear();
  auto ask = [&](const char* id, const char* campaign, std::vector<std::string> who,
                 const char* at) {
    Prompt p;
    p.id = id;
    p.campaign = campaign;
    p.network = "y";
    p.group_id = "y:g";
    p.message_id = std::string("y:m-") + id;
    p.posted_at = T(at);
    p.closes_at = p.posted_at + std::chrono::hours{72};
    p.audience = std::move(who);
    d.prompts.push_back(p);
  };
  ask("prompt:onboarding:joined:2026-11-23:day1", "onboarding", {"y:a", "y:b", "y:c"},
      "2026-11-24T09:30:00Z");
  ask("prompt:onboarding:joined:2026-11-22:day1", "onboarding", {"y:a"}, "2026-11-23T09:30:00Z");
  ask("a-weekly", "weekly", {}, "2026-11-23T09:00:00Z");
  d.answers = {
      {"prompt:onboarding:joined:2026-11-22:day1", "y:a", "y:x1", T("2026-11-23T10:00:00Z"),
       std::nullopt, std::nullopt, 1},
      {"a-weekly", "y:a", "y:x2", T("2026-11-23T10:00:00Z"), std::nullopt, std::nullopt, 1}};
  auto r = ComputeWeekly(d, *IsoWeek::Parse("2026-W48"), T("2026-12-10T00:00:00Z"), Utc(2));
  std::map<std::string, PromptRow> rows;
  for (const auto& row : r.prompts) rows[row.prompt_id] = row;
  ASSERT_EQ(rows.size(), 3u);
  // Numbered by time, whatever their ids say; A's own row is suppressed (1 < 2), and the
  // weekly question's as its complement (the smallest id of the smallest others).
  ASSERT_TRUE(rows.count("onboarding:y:g:step0:1"));
  EXPECT_TRUE(rows.at("onboarding:y:g:step0:1").suppressed);
  EXPECT_EQ(rows.at("onboarding:y:g:step0:2").audience, 3);
  EXPECT_TRUE(rows.at("a-weekly").suppressed);
  EXPECT_EQ(RenderJson(r).find("joined"), std::string::npos);
  std::map<std::string, CampaignRow> lines;
  for (const auto& c : r.campaigns) lines[c.campaign] = c;
  // The onboarding line (3 people) less its visible row would show A's answer: hidden. The
  // weekly line's hidden row is about 3 people: shown.
  EXPECT_TRUE(lines.at("onboarding").suppressed);
  EXPECT_FALSE(lines.at("onboarding").participants);
  EXPECT_FALSE(lines.at("onboarding").answers);
  EXPECT_EQ(lines.at("onboarding").prompts, 2);
  EXPECT_FALSE(lines.at("weekly").suppressed);
  EXPECT_EQ(lines.at("weekly").participants, 1);
  // With a minimum of 1 nothing is hidden.
  auto open = ComputeWeekly(d, *IsoWeek::Parse("2026-W48"), T("2026-12-10T00:00:00Z"), Utc(1));
  for (const auto& c : open.campaigns) EXPECT_FALSE(c.suppressed) << c.campaign;
  // A line about fewer people than the minimum is hidden though none of its rows is.
  auto big = ComputeWeekly(d, *IsoWeek::Parse("2026-W48"), T("2026-12-10T00:00:00Z"), Utc(4));
  for (const auto& c : big.campaigns) EXPECT_TRUE(c.suppressed) << c.campaign;
  auto html = RenderHtml(r);
  EXPECT_NE(html.find("suppressed: fewer than 2 people"), std::string::npos);
}

TEST(Weekly, CsvFilesOpenInASpreadsheetAsTextNotFormulas) {
  // A community named like a formula, a campaign that starts with '@', names in other scripts:
  // the files say they are UTF-8 (a byte-order mark), the names are shown as text (a leading
  // apostrophe, as OWASP recommends), quoted as RFC 4180 says; numbers, negative ones too,
  // stay numbers.
  Report r;
  r.groups.push_back(
      {"y:evil", "=HYPERLINK(\"http://example.test\",\"click me\")", false, 9, 9, 9, 0, 0, -0.5});
  r.groups.push_back({"y:ok", "Équipe Zürich, 東京", false, 9, 9, 9, 0, 0, 1.0});
  CampaignRow c;
  c.campaign = "@onboarding";
  c.prompts = 1;
  r.campaigns.push_back(c);
  std::map<std::string, std::string> files;
  for (auto& [table, text] : RenderCsv(r)) files[table] = text;
  ASSERT_EQ(files.size(), 7u);
  for (const auto& [table, text] : files) EXPECT_EQ(text.substr(0, 3), "\xEF\xBB\xBF") << table;
  const std::string& g = files["groups"];
  EXPECT_NE(g.find("y:evil,\"'=HYPERLINK(\"\"http://example.test\"\",\"\"click me\"\")\",9,9,9,0,0,"
                   "-0.5,false\r\n"),
            std::string::npos)
      << g;
  EXPECT_NE(g.find("y:ok,\"Équipe Zürich, 東京\",9,9,9,0,0,1,false\r\n"), std::string::npos) << g;
  EXPECT_NE(files["campaigns"].find("\r\n'@onboarding,1,0,0,0,,,false\r\n"), std::string::npos)
      << files["campaigns"];
  // Every cell read back is what a spreadsheet shows: never one that starts a formula.
  for (const auto& [table, text] : files)
    ASSERT_TRUE(csv::Parse(text, [&](std::vector<std::string>& row) {
                  for (const auto& cell : row)
                    if (!cell.empty() && std::string("=+@\t\r").find(cell[0]) != std::string::npos)
                      ADD_FAILURE() << table << ": " << cell;
                  return true;
                }).ok());
}

TEST(Weekly, HostileNamesStayTextInEveryFormat) {
  // Names an ESN hands over as people typed them: markup, a formula, a table's pipe and a line
  // break, a Markdown link to script, a right-to-left override, 500 characters without a
  // space, emoji.
  const std::vector<std::string> names = {
      "<script>alert(1)</script>",
      "=HYPERLINK(\"http://example.test\",\"click me\")",
      "Ops | Finance\nSecond line",
      "[click](javascript:alert(1)) <b>bold</b> *all*",
      "\xE2\x80\xAE"
      "evil.exe",
      std::string(500, 'W'),
      "Team \xF0\x9F\x9A\x80 Rocket",
  };
  Report r;
  r.week = "2026-W48";
  r.timezone = "UTC";
  r.min_group_size = 5;
  for (size_t i = 0; i < names.size(); ++i) {
    std::string id = "y:g" + std::to_string(i);
    r.groups.push_back({id, names[i], false, 9, 4, 3, 2, 1, 0.25});
    r.group_names[id] = names[i];
    PromptRow p;
    p.prompt_id = names[i] + ":q1";
    p.campaign = names[i];
    p.group_id = id;
    p.type = "free_text";
    p.step = 1;
    p.audience = 9;
    p.answerers = 3;
    p.response_rate = 1.0 / 3;
    r.prompts.push_back(p);
    CampaignRow c;
    c.campaign = names[i];
    c.prompts = 1;
    r.campaigns.push_back(c);
  }

  // JSON: each name comes back as it was.
  auto json = json::Parse(RenderJson(r));
  ASSERT_TRUE(json.ok());
  for (size_t i = 0; i < names.size(); ++i)
    EXPECT_EQ(json::GetString(json->at("groups").as_array()[i], "name"), names[i]);

  // Markdown: every table line has its columns (no name adds a cell or a line), and no name is
  // read as a link, as HTML or as emphasis; no right-to-left override survives.
  std::string md = RenderMarkdown(r);
  std::istringstream lines(md);
  int rows = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] != '|') continue;
    int cells = 0;
    for (size_t i = 0; i < line.size(); ++i)
      if (line[i] == '|' && (i == 0 || line[i - 1] != '\\')) ++cells;
    ++rows;
    // A table's line holds 4 or 5 cells' worth of bars, whatever the names.
    EXPECT_TRUE(cells == 4 || cells == 5) << line;
  }
  EXPECT_GE(rows, 2 * static_cast<int>(names.size()));
  EXPECT_EQ(md.find("<script>"), std::string::npos);
  EXPECT_EQ(md.find("<b>"), std::string::npos);
  EXPECT_EQ(md.find("](javascript"), std::string::npos);
  EXPECT_EQ(md.find("Ops | Finance"), std::string::npos);
  EXPECT_EQ(md.find("\xE2\x80\xAE"), std::string::npos);
  EXPECT_NE(md.find("\\<script\\>alert\\(1\\)\\</script\\>"), std::string::npos) << md;

  // HTML: names as text.
  std::string html = RenderHtml(r);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_EQ(html.find("<b>bold"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("overflow-wrap:anywhere"), std::string::npos);

  // CSV: each name one field, formulas neutralised.
  for (const auto& [table, text] : RenderCsv(r)) {
    if (table != "groups" && table != "campaigns") continue;
    std::vector<std::vector<std::string>> parsed;
    ASSERT_TRUE(csv::Parse(text.substr(3), [&](std::vector<std::string>& row) {
                  parsed.push_back(row);
                  return true;
                }).ok());
    ASSERT_EQ(parsed.size(), names.size() + 1) << table;
    for (size_t i = 0; i < names.size(); ++i) {
      const std::string& cell = parsed[i + 1][table == "groups" ? 1 : 0];
      EXPECT_EQ(cell, names[i][0] == '=' ? "'" + names[i] : names[i]) << table;
    }
  }

  // The plain-text digest: one line per community and per prompt, no override, long names cut.
  std::string digest = RenderDigest(r, "https://intranet.example/learning/{week}.html");
  int dashes = 0;
  std::istringstream dl(digest);
  for (std::string line; std::getline(dl, line);) {
    if (line.rfind("- ", 0) == 0) ++dashes;
    EXPECT_LT(line.size(), 400u) << line;
  }
  EXPECT_EQ(dashes, 2 * static_cast<int>(names.size()));
  EXPECT_EQ(digest.find("\xE2\x80\xAE"), std::string::npos);
  EXPECT_NE(digest.find("Ops | Finance Second line"), std::string::npos);
  EXPECT_NE(digest.find("Full report: https://intranet.example/learning/2026-W48.html"),
            std::string::npos);
  EXPECT_NE(digest.find("Team \xF0\x9F\x9A\x80 Rocket"), std::string::npos);
}
