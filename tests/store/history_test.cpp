// A report reads the weeks it needs from the store, and of the history before them only what the
// store keeps counted (each person's messages by group, each reaction's time): the figures are
// those of a report over everything, however the history was written and changed since.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "analytics/columns.h"
#include "analytics/dataset.h"
#include "analytics/report.h"
#include "store/exchange.h"
#include "store/store.h"
#include "tests/support/ok.h"
#include "tests/support/temp_dir.h"

using learnloop::testing::Ok;
using learnloop::testing::TempDir;

using namespace learnloop;
namespace fs = std::filesystem;

namespace {

const Time kStart = *ParseIso("2026-03-02T08:00:00Z");  // a Monday
const analytics::ReportOptions kUtc{*FindZone("UTC"), "UTC", 1, "k"};

std::string Person(int i) { return "yammer:p" + std::to_string(i); }
std::string Id(int i) { return "yammer:m" + std::to_string(i); }

// 30 weeks of a small network: 40 people (one a bot) joining as the weeks go, in three
// groups (and a few messages without one); posts and replies, replies to posts of weeks before,
// mentions, deleted messages, reactions with and without times (some months after their
// message); prompts of two campaigns and their answers.
void WriteHistory(store::Store& s) {
  Ok(s.Transaction([&]() -> Status {
    for (int u = 0; u < 40; ++u)
      Ok(s.UpsertUser(User{Person(u), "yammer", "P" + std::to_string(u), std::nullopt, std::nullopt,
                           "active", u == 39, std::nullopt}));
    for (int g = 0; g < 3; ++g) {
      Group group{
          "yammer:g" + std::to_string(g), "yammer", "G" + std::to_string(g), "community", {}};
      for (int u = g; u < 40; u += 2) group.members.push_back(Person(u));
      Ok(s.UpsertGroup(group));
    }
    for (int i = 0; i < 1500; ++i) {
      Message m;
      m.id = Id(i);
      m.network = "yammer";
      if (i % 53 != 7) m.group_id = "yammer:g" + std::to_string(i % 3);
      const bool reply = i % 3 != 0;
      // Replies to the post before, or (one in five) to a post of about 10 weeks before.
      int post = reply ? (i % 5 == 0 ? std::max(0, i - 500) / 3 * 3 : i / 3 * 3) : i;
      m.thread_id = Id(post);
      if (reply) m.reply_to_id = Id(post);
      m.kind = reply ? "reply" : "post";
      // Newcomers write from their week on.
      int weeks = i / 50;
      m.author_id = Person((i * 7) % std::min(40, 4 + weeks));
      m.created_at = kStart + std::chrono::minutes(i * 201);
      m.deleted = i % 37 == 0;
      m.text = "message " + std::to_string(i);
      if (i % 4 == 0) m.mentions = {Person((i + 3) % 40)};
      Ok(s.UpsertMessage(m));
      for (int r = 0; r < i % 4; ++r) {
        std::optional<Time> at;
        if (r == 1) at = m.created_at + std::chrono::hours(30);
        if (r == 2 && i % 10 == 2) at = m.created_at + std::chrono::hours(24 * 7 * 12);
        Ok(s.UpsertReaction(
            Reaction{m.id, Person((i + r * 11) % 40), r == 2 ? "praise" : "like", at}));
      }
    }
    // A sequence of four steps six weeks apart (its completion counts every step's answers),
    // and a question each week that never ends.
    for (int k = 0; k < 30; ++k) {
      const bool step = k % 6 == 2 && k < 24;
      Prompt p;
      p.id = (step ? "prompt:onboarding:" : "prompt:weekly:") + std::to_string(k);
      p.campaign = step ? "onboarding" : "weekly";
      p.step = step ? k / 6 + 1 : k + 1;
      p.network = "yammer";
      p.group_id = "yammer:g" + std::to_string(k % 2);
      p.message_id = Id(k * 50);
      p.posted_at = kStart + std::chrono::hours(24 * 7 * k + 1);
      p.closes_at = p.posted_at + std::chrono::hours(24 * 7);
      if (step) p.last_step = 4;
      Ok(s.UpsertPrompt(p));
      for (int u = k % 3; u < 39; u += 2 + k % 2)
        Ok(s.UpsertAnswer(Answer{p.id, Person(u), p.id + ":a" + std::to_string(u),
                                 p.posted_at + std::chrono::minutes(10 + u), std::nullopt,
                                 std::nullopt, 1}));
    }
    return Status::Ok();
  }));
}

analytics::Dataset Everything(store::Store& s) {
  analytics::Dataset d;
  d.users = Ok(s.AllUsers());
  d.groups = Ok(s.AllGroups());
  d.messages = Ok(s.AllMessages());
  d.reactions = Ok(s.AllReactions());
  d.prompts = Ok(s.AllPrompts());
  d.answers = Ok(s.AllAnswers());
  return d;
}

// A report as JSON, and its 12 weeks of trend (the page draws them; the JSON has two).
std::string Whole(const analytics::Report& r) {
  std::string out = analytics::RenderJson(r);
  for (const auto& t : r.history) out += "\n" + analytics::EncodeTotals(t);
  return out;
}

// The report of each of weeks 12 to 29, from the weeks it reads, equals the one over everything
// the store holds, read from the store or held in memory.
void ExpectReportsOfTheWeeksAgree(store::Store& s, const std::string& when) {
  const analytics::Dataset all = Everything(s);
  const auto everything = Ok(analytics::Columns::Load(s));
  const Time as_of = kStart + std::chrono::hours(24 * 7 * 40);
  IsoWeek first = WeekOf(kUtc.tz, kStart);
  for (int k = 12; k < 30; k += 3) {
    IsoWeek week = first;
    for (int i = 0; i < k; ++i) week = week.Next();
    const auto window = Ok(analytics::Columns::Load(s, analytics::ReportReadsFrom(kUtc.tz, week)));
    EXPECT_LT(window.msg_ms.size(), everything.msg_ms.size()) << when;
    const std::string expected = Whole(analytics::ComputeWeekly(all, week, as_of, kUtc));
    EXPECT_EQ(Whole(analytics::ComputeWeekly(everything, week, as_of, kUtc)), expected)
        << when << ", " << week.ToString();
    EXPECT_EQ(Whole(analytics::ComputeWeekly(window, week, as_of, kUtc)), expected)
        << when << ", " << week.ToString();
    // From the store with the weeks it kept (the second time, every week of the trend).
    for (int times = 0; times < 2; ++times)
      EXPECT_EQ(Whole(Ok(analytics::WeeklyReport(s, week, as_of, kUtc))), expected)
          << when << ", " << week.ToString() << ", kept weeks " << times;
  }
}

const std::string kVersion =
    "totals 1; definitions " + std::to_string(analytics::kDefinitionsVersion);

// The ends of the weeks the store keeps, as times.
std::vector<std::string> KeptEnds(store::Store& s) {
  std::vector<std::string> out;
  for (const auto& w : Ok(s.KeptWeeks(kVersion))) out.push_back(FormatIso(w.to));
  return out;
}

// What the store keeps of the history, with ids for keys: (author, group, messages) and
// (message, person, the time the reaction counts at).
std::set<std::string> Kept(store::Store& s) {
  std::vector<store::Store::AuthorGroupRow> groups;
  Ok(s.ScanAuthorGroups([&](const store::Store::AuthorGroupRow& r) { groups.push_back(r); }));
  std::vector<store::Store::ReactionRow> reactions;
  Ok(s.ScanReactionsSince(Time::min(),
                          [&](const store::Store::ReactionRow& r) { reactions.push_back(r); }));
  std::vector<int64_t> keys;
  for (const auto& r : groups) keys.insert(keys.end(), {r.author, r.group});
  for (const auto& r : reactions) keys.insert(keys.end(), {r.message, r.user});
  auto ids = Ok(s.IdsOf(keys));
  std::set<std::string> out;
  size_t i = 0;
  for (const auto& r : groups) {
    out.insert(ids[i] + " in " + ids[i + 1] + ": " + std::to_string(r.messages));
    i += 2;
  }
  for (const auto& r : reactions) {
    out.insert(ids[i] + " by " + ids[i + 1] + " at " + (r.at ? FormatIso(*r.at) : "-"));
    i += 2;
  }
  return out;
}

// What one has and the other has not (both ways).
std::string Difference(const std::set<std::string>& a, const std::set<std::string>& b) {
  std::string out;
  for (const auto& x : a)
    if (!b.count(x)) out += "+ " + x + "\n";
  for (const auto& x : b)
    if (!a.count(x)) out += "- " + x + "\n";
  return out;
}

}  // namespace

TEST(History, AReportFromItsWeeksEqualsOneOverEverythingAsTheHistoryChanges) {
  TempDir d;
  auto opened = Ok(store::OpenSqlite((d.path / "s.db").string()));
  store::Store& s = *opened;
  WriteHistory(s);
  ExpectReportsOfTheWeeksAgree(s, "as written");
  {  // The week of the sequence's last step: its completion, from answers of 18 weeks before.
    IsoWeek week = WeekOf(kUtc.tz, kStart);
    for (int i = 0; i < 20; ++i) week = week.Next();
    auto r = analytics::ComputeWeekly(
        Ok(analytics::Columns::Load(s, analytics::ReportReadsFrom(kUtc.tz, week))), week,
        kStart + std::chrono::hours(24 * 7 * 40), kUtc);
    auto onboarding = std::find_if(r.campaigns.begin(), r.campaigns.end(),
                                   [](const auto& c) { return c.campaign == "onboarding"; });
    ASSERT_NE(onboarding, r.campaigns.end());
    ASSERT_TRUE(onboarding->completion_rate);
    EXPECT_GT(*onboarding->completion_rate, 0);
  }

  // Late data: messages of weeks long past (a first message of someone new among them, a
  // reply to a post of the first weeks), a reaction today to a message of March, a message
  // moved in time (its reactions without a time of their own move with it), messages deleted
  // and restored, messages written again unchanged, a person forgotten.
  Message late;
  late.id = "yammer:late1";
  late.network = "yammer";
  late.group_id = "yammer:g2";
  late.thread_id = Id(3);
  late.reply_to_id = Id(3);
  late.kind = "reply";
  late.author_id = Person(38);
  late.created_at = kStart + std::chrono::hours(24);
  Ok(s.UpsertMessage(late));
  late.id = "yammer:late2";
  late.thread_id = late.id;
  late.reply_to_id.reset();
  late.kind = "post";
  late.created_at = kStart + std::chrono::hours(24 * 7 * 15);
  Ok(s.UpsertMessage(late));
  Ok(s.UpsertReaction(
      Reaction{Id(6), Person(5), "like", kStart + std::chrono::hours(24 * 7 * 20 + 5)}));
  auto all = Ok(s.AllMessages());
  auto moved =
      *std::find_if(all.begin(), all.end(), [](const Message& m) { return m.id == Id(901); });
  moved.created_at = kStart + std::chrono::hours(24 * 7 * 3);
  moved.group_id = "yammer:g0";
  Ok(s.UpsertMessage(moved));
  for (int i : {0, 30, 450}) {
    auto m = *std::find_if(all.begin(), all.end(), [&](const Message& x) { return x.id == Id(i); });
    m.deleted = !m.deleted;
    Ok(s.UpsertMessage(m));
  }
  all = Ok(s.AllMessages());
  for (int i : {1, 37, 450}) {  // written again as they are now: each counted once still
    auto m = *std::find_if(all.begin(), all.end(), [&](const Message& x) { return x.id == Id(i); });
    Ok(s.UpsertMessage(m));
    Ok(s.UpsertMessage(m));
  }
  Ok(s.ForgetUser(Person(9), kStart + std::chrono::hours(24 * 7 * 31)));
  ExpectReportsOfTheWeeksAgree(s, "after late data");

  // The same history exported and loaded into an empty store (a load that counts as it goes),
  // and into one that has rows already (counted by the store as rows come): the same kept.
  const auto kept = Kept(s);
  ASSERT_TRUE(store::Export(s, (d.path / "e").string()).ok());
  const std::string fresh = (d.path / "fresh.db").string();
  ASSERT_TRUE(store::ImportIntoNewSqlite(fresh, (d.path / "e").string()).ok());
  auto f = Ok(store::OpenSqlite(fresh));
  EXPECT_EQ(Difference(Kept(*f), kept), "");
  ExpectReportsOfTheWeeksAgree(*f, "loaded into an empty store");
  auto keyed = Ok(store::OpenSqlite((d.path / "keyed.db").string()));
  Ok(keyed->UpsertUser(
      User{Person(0), "yammer", "P0", std::nullopt, std::nullopt, "active", false, std::nullopt}));
  ASSERT_TRUE(store::Import(*keyed, (d.path / "e").string()).ok());
  EXPECT_EQ(Difference(Kept(*keyed), kept), "");
}

TEST(History, TheWeeksAReportKeepsGoWhenWhatTheyReadChanges) {
  TempDir d;
  auto opened = Ok(store::OpenSqlite((d.path / "s.db").string()));
  store::Store& s = *opened;
  WriteHistory(s);
  IsoWeek week = WeekOf(kUtc.tz, kStart);
  for (int i = 0; i < 25; ++i) week = week.Next();  // weeks 14 to 25 in its trend
  const Time as_of = kStart + std::chrono::hours(24 * 7 * 40);
  auto expect_report = [&](const std::string& when) {
    const std::string expected =
        Whole(analytics::ComputeWeekly(Ok(analytics::Columns::Load(s)), week, as_of, kUtc));
    EXPECT_EQ(Whole(Ok(analytics::WeeklyReport(s, week, as_of, kUtc))), expected) << when;
    EXPECT_EQ(KeptEnds(s).size(), 12u) << when;  // and each week kept again
  };
  expect_report("first");
  const auto ends = KeptEnds(s);
  ASSERT_EQ(ends.size(), 12u);
  EXPECT_EQ(ends.back(), FormatIso(kStart + std::chrono::hours(24 * 7 * 26 - 8)));
  auto week_end = [&](int k) { return kStart + std::chrono::hours(24 * 7 * (k + 1) - 8); };

  // A reply of week 19: the weeks from 18 on go (their posts' responses count 7 days on).
  Message m;
  m.id = "yammer:late";
  m.network = "yammer";
  m.group_id = "yammer:g1";
  m.thread_id = Id(900);
  m.reply_to_id = m.thread_id;
  m.kind = "reply";
  m.author_id = Person(2);
  m.created_at = kStart + std::chrono::hours(24 * 7 * 19 + 30);
  Ok(s.UpsertMessage(m));
  auto left = KeptEnds(s);
  EXPECT_EQ(left, std::vector<std::string>(ends.begin(), ends.begin() + 4)) << "weeks 14 to 17";
  EXPECT_EQ(left.back(), FormatIso(week_end(17)));
  expect_report("after a late reply");

  // Written again as it is: nothing it reads changed.
  Ok(s.UpsertMessage(m));
  EXPECT_EQ(KeptEnds(s).size(), 12u);
  // Deleted, and moved back in time: each time from its earliest time on.
  m.deleted = true;
  Ok(s.UpsertMessage(m));
  EXPECT_EQ(KeptEnds(s).size(), 4u);
  expect_report("after a deletion");
  m.created_at = kStart + std::chrono::hours(24 * 7 * 17 + 30);
  Ok(s.UpsertMessage(m));
  EXPECT_EQ(KeptEnds(s),
            (std::vector<std::string>{FormatIso(week_end(14)), FormatIso(week_end(15))}));
  expect_report("after a message moved");

  // A reaction of week 23 to a message of week 2 (its own time), then one with its
  // message's time (week 21).
  Ok(s.UpsertReaction(
      Reaction{Id(30), Person(4), "like", kStart + std::chrono::hours(24 * 7 * 23 + 2)}));
  EXPECT_EQ(KeptEnds(s).size(), 8u) << "weeks 14 to 21";
  expect_report("after a reaction");
  Ok(s.UpsertReaction(Reaction{Id(21 * 50), Person(5), "like", std::nullopt}));
  EXPECT_EQ(KeptEnds(s).size(), 5u) << "weeks 14 to 18";
  expect_report("after a reaction at its message's time");

  // The directory: a person leaving changes the members of every week.
  auto p = *Ok(s.GetUser(Person(6)));
  p.state = "deactivated";
  Ok(s.UpsertUser(p));
  EXPECT_EQ(KeptEnds(s).size(), 0u);
  expect_report("after a person left");
  Ok(s.ForgetUser(Person(7), as_of));
  EXPECT_EQ(KeptEnds(s).size(), 0u);
  expect_report("after a person was forgotten");

  // A network's first group: its private conversations with the bot stop counting.
  Message direct;
  direct.id = "teams:dm1";
  direct.network = "teams";
  direct.group_id = "teams:" + std::string(kPrivateGroup);
  direct.thread_id = direct.id;
  direct.kind = "post";
  direct.author_id = Person(3);
  direct.created_at = kStart + std::chrono::hours(24 * 7 * 20 + 3);
  Ok(s.UpsertMessage(direct));
  expect_report("after a private message of a network without groups");
  Ok(s.UpsertGroup(Group{"teams:g1", "teams", "G", "community", {}}));
  EXPECT_EQ(KeptEnds(s).size(), 0u);
  expect_report("after a network's first group");
  Ok(s.UpsertGroup(Group{"teams:g2", "teams", "G2", "community", {}}));
  EXPECT_EQ(KeptEnds(s).size(), 12u);

  // A week marked before its data is read, changed meanwhile: its figures are not kept.
  const auto kept = Ok(s.KeptWeeks(kVersion));
  const Time from = kept.front().from, to = kept.front().to;
  Ok(s.UpsertUser(p));  // unchanged: all kept still
  ASSERT_EQ(KeptEnds(s).size(), 12u);
  Message early = m;
  early.id = "yammer:early";
  early.created_at = kStart;
  Ok(s.UpsertMessage(early));
  ASSERT_EQ(KeptEnds(s).size(), 0u);
  const int64_t mark = Ok(s.MarkWeeks(kVersion, {{from, to}}));
  early.id = "yammer:early2";
  Ok(s.UpsertMessage(early));
  Ok(s.KeepWeeks(mark, {{from, to, kept.front().figures}}));
  EXPECT_EQ(KeptEnds(s).size(), 0u);
  expect_report("after a change while the report read");
  // And a bulk load keeps none.
  ASSERT_TRUE(store::Export(s, (d.path / "e").string()).ok());
  ASSERT_TRUE(store::Import(s, (d.path / "e").string()).ok());
  EXPECT_EQ(KeptEnds(s).size(), 0u);
  expect_report("after an import");
}

TEST(History, AReactionWrittenBeforeItsMessageCountsAtTheMessagesTime) {
  TempDir d;
  auto s = Ok(store::OpenSqlite((d.path / "s.db").string()));
  Ok(s->UpsertReaction(Reaction{"yammer:1", "yammer:2", "like", std::nullopt}));
  EXPECT_EQ(Kept(*s).size(), 0u);  // no time yet: not read by any report
  Message m;
  m.id = "yammer:1";
  m.network = "yammer";
  m.thread_id = m.id;
  m.kind = "post";
  m.author_id = "yammer:3";
  m.created_at = kStart;
  Ok(s->UpsertMessage(m));
  EXPECT_EQ(Kept(*s), (std::set<std::string>{"yammer:1 by yammer:2 at 2026-03-02T08:00:00Z",
                                             "yammer:3 in : 1"}));
  m.deleted = true;
  Ok(s->UpsertMessage(m));
  EXPECT_EQ(Kept(*s), (std::set<std::string>{"yammer:1 by yammer:2 at 2026-03-02T08:00:00Z"}));
}
