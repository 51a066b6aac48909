#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/cron.h"
#include "core/interner.h"
#include "core/json.h"
#include "core/parallel.h"
#include "core/secret.h"
#include "core/sort.h"
#include "core/time.h"

using namespace learnloop;

namespace {
Time Iso(const char* s) { return *ParseIso(s); }
TimeZone Zone(const char* n) { return *FindZone(n); }
}  // namespace

TEST(Time, IsoRoundTripAndOffsets) {
  EXPECT_EQ(FormatIso(Iso("2026-11-23T09:00:00Z")), "2026-11-23T09:00:00Z");
  EXPECT_EQ(FormatIso(Iso("2026-11-23T09:00:00.250Z")), "2026-11-23T09:00:00.250Z");
  EXPECT_EQ(Iso("2026-11-23T10:30:00+01:30"), Iso("2026-11-23T09:00:00Z"));
  EXPECT_EQ(Iso("2026-11-23"), Iso("2026-11-23T00:00:00Z"));
  EXPECT_FALSE(ParseIso("2026-02-30T00:00:00Z"));
  EXPECT_FALSE(ParseIso("23/11/2026"));
}

TEST(Time, YammerFormat) {
  auto t = ParseYammerTime("2019/12/22 17:20:30 +0000");
  ASSERT_TRUE(t);
  EXPECT_EQ(FormatIso(*t), "2019-12-22T17:20:30Z");
  EXPECT_EQ(FormatYammerTime(*t), "2019/12/22 17:20:30 +0000");
  EXPECT_FALSE(ParseYammerTime("2019-12-22T17:20:30Z"));
}

TEST(Time, Durations) {
  EXPECT_EQ(*ParseDuration("90s"), std::chrono::seconds{90});
  EXPECT_EQ(*ParseDuration("1h30m"), std::chrono::minutes{90});
  EXPECT_EQ(*ParseDuration("3d"), std::chrono::hours{72});
  EXPECT_FALSE(ParseDuration("3"));
  EXPECT_FALSE(ParseDuration("h"));
  EXPECT_FALSE(ParseDuration("5x"));
}

TEST(Time, IsoWeeksInAZoneAcrossDst) {
  TimeZone berlin = Zone("Europe/Berlin");
  // W43 of 2026 holds the end of summer time (25 October): the week is 169 hours long.
  auto b = BoundsOf(berlin, *IsoWeek::Parse("2026-W43"));
  EXPECT_EQ(FormatIso(b.from), "2026-10-18T22:00:00Z");
  EXPECT_EQ(FormatIso(b.to), "2026-10-25T23:00:00Z");
  EXPECT_EQ(WeekOf(berlin, Iso("2026-10-25T22:59:59Z")).ToString(), "2026-W43");
  EXPECT_EQ(WeekOf(berlin, Iso("2026-10-25T23:00:00Z")).ToString(), "2026-W44");
  EXPECT_EQ(IsoWeek::Parse("2027-W01")->Previous().ToString(), "2026-W53");
  EXPECT_FALSE(IsoWeek::Parse("2025-W53"));
  EXPECT_EQ(IsoWeek::Parse("2026-W53")->Next().ToString(), "2027-W01");
}

TEST(Time, NonexistentLocalMidnightIsFirstInstantOfTheDay) {
  // Chile moves from 00:00 to 01:00 on 2026-09-06.
  TimeZone santiago = Zone("America/Santiago");
  auto b = BoundsOf(santiago, *IsoWeek::Parse("2026-W37"));
  EXPECT_EQ(FormatLocal(santiago, b.from).substr(0, 16), "2026-09-07 00:00");
  Time gap = LocalToUtc(
      santiago, std::chrono::local_seconds{
                    std::chrono::local_days{std::chrono::year{2026} / 9 / 6}.time_since_epoch()});
  EXPECT_EQ(FormatLocal(santiago, gap).substr(0, 16), "2026-09-06 01:00");
}

TEST(Cron, ParsesAndRejects) {
  EXPECT_TRUE(CronSchedule::Parse("0 9 * * MON").ok());
  EXPECT_TRUE(CronSchedule::Parse("*/15 8-18/2 1,15 JAN-DEC 1-5").ok());
  auto bad = CronSchedule::Parse("0 25 * * *");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("hour"), std::string::npos);
  EXPECT_FALSE(CronSchedule::Parse("0 9 * *").ok());
  EXPECT_FALSE(CronSchedule::Parse("0 9 * * FUNDAY").ok());
}

TEST(Cron, StaysAtLocalTimeAcrossDst) {
  TimeZone berlin = Zone("Europe/Berlin");
  auto c = *CronSchedule::Parse("0 9 * * MON");
  auto t1 = c.Next(berlin, Iso("2026-10-18T00:00:00Z"));
  auto t2 = c.Next(berlin, *t1);
  EXPECT_EQ(FormatIso(*t1), "2026-10-19T07:00:00Z");  // CEST
  EXPECT_EQ(FormatIso(*t2), "2026-10-26T08:00:00Z");  // CET
}

TEST(Cron, GapRunsOnceAfterItAndRepeatedHourRunsOnce) {
  TimeZone berlin = Zone("Europe/Berlin");
  // 02:30 does not exist on 2026-03-29: it runs at 03:00 local, once.
  auto spring = *CronSchedule::Parse("30 2 * * *");
  auto t = spring.Next(berlin, Iso("2026-03-28T12:00:00Z"));
  EXPECT_EQ(FormatIso(*t), "2026-03-29T01:00:00Z");
  EXPECT_EQ(FormatIso(*spring.Next(berlin, *t)), "2026-03-30T00:30:00Z");
  // 02:30 happens twice on 2026-10-25: the prompt goes out once, at the first.
  auto autumn = *CronSchedule::Parse("30 2 * * *");
  auto a = autumn.Next(berlin, Iso("2026-10-24T12:00:00Z"));
  EXPECT_EQ(FormatIso(*a), "2026-10-25T00:30:00Z");
  EXPECT_EQ(FormatIso(*autumn.Next(berlin, *a)), "2026-10-26T01:30:00Z");
}

TEST(Cron, OnceADayEveryDayOfAYearInZonesOnBothHemispheres) {
  // Zones whose clocks change at 02:00 (Berlin, New York), 03:00 in autumn (Sydney), at
  // midnight (Santiago, where the day itself starts in the gap) and half-hour zones that never
  // change (Kolkata): a daily prompt in the changing hour and one at 09:00 go out exactly once
  // on every local day of two years, 09:00 always at 09:00.
  for (const char* name : {"Europe/Berlin", "America/New_York", "Australia/Sydney",
                           "America/Santiago", "Asia/Kolkata"}) {
    TimeZone z = Zone(name);
    for (const char* rule : {"30 2 * * *", "0 0 * * *", "0 9 * * *"}) {
      auto c = *CronSchedule::Parse(rule);
      std::map<std::string, int> per_day;
      Time from = Iso("2026-01-01T00:00:00Z"), to = Iso("2027-12-31T00:00:00Z");
      for (auto t = c.Next(z, from); t && *t < to; t = c.Next(z, *t)) {
        std::string local = FormatLocal(z, *t);
        ++per_day[local.substr(0, 10)];
        if (std::string(rule) == "0 9 * * *") {
          EXPECT_EQ(local.substr(11, 5), "09:00") << name;
        }
      }
      // 728 local days lie wholly in [from, to) in every zone; each has its prompt, once.
      int days = 0;
      for (const auto& [day, n] : per_day) {
        EXPECT_EQ(n, 1) << name << " " << rule << " " << day;
        if (day > "2026-01-01" && day < "2027-12-30") ++days;
      }
      EXPECT_EQ(days, 727) << name << " " << rule;
    }
  }
}

TEST(Cron, LeapDayAndDayFieldsOr) {
  TimeZone utc = Zone("UTC");
  auto leap = *CronSchedule::Parse("0 12 29 2 *");
  EXPECT_EQ(FormatIso(*leap.Next(utc, Iso("2026-01-01T00:00:00Z"))), "2028-02-29T12:00:00Z");
  auto either = *CronSchedule::Parse("0 0 1 * FRI");  // the 1st, or any Friday
  EXPECT_EQ(FormatIso(*either.Next(utc, Iso("2026-11-28T00:00:00Z"))), "2026-12-01T00:00:00Z");
  EXPECT_EQ(FormatIso(*either.Next(utc, Iso("2026-12-01T00:00:00Z"))), "2026-12-04T00:00:00Z");
}

TEST(Json, WriterOrderEscapesAndRounding) {
  json::Writer w;
  w.BeginObject().Key("b").Int(1).Key("a").String("<x>\"\n").Key("r").Fixed(0.123449, 4);
  w.Key("h").Fixed(0.00005, 4).Key("n").Null().Key("l").StringArray({"x", "y"}).EndObject();
  EXPECT_EQ(w.str(),
            R"({"b":1,"a":"\u003cx\u003e\"\n","r":0.1234,"h":0.0001,"n":null,"l":["x","y"]})");
  EXPECT_EQ(json::FormatFixed(2.5, 0), "3");
  EXPECT_EQ(json::FormatFixed(-0.00001, 4), "0");
}

TEST(Json, TolerantReads) {
  auto v = json::Parse(R"({"id": 470839661887488, "s": "12", "b": "true", "n": null})");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*json::GetInt64(*v, "id"), 470839661887488);
  EXPECT_EQ(*json::GetInt64(*v, "s"), 12);
  EXPECT_TRUE(*json::GetBool(*v, "b"));
  EXPECT_FALSE(json::GetString(*v, "n"));
  EXPECT_FALSE(json::Parse("{\"truncated\": [1, 2").ok());
}

TEST(Secret, FromEnvironmentAndNeverPrinted) {
  setenv("LEARNLOOP_TEST_SECRET", "s3cr3t", 1);
  auto s = Secret::FromReference("${LEARNLOOP_TEST_SECRET}");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->Reveal(), "s3cr3t");
  std::ostringstream os;
  os << *s;
  EXPECT_EQ(os.str().find("s3cr3t"), std::string::npos);
  EXPECT_FALSE(Secret::FromReference("plain-text-token").ok());
  EXPECT_FALSE(Secret::FromReference("${LEARNLOOP_NOT_SET_ANYWHERE}").ok());
}

TEST(Clock, ManualClockJumpsAndCallsTheHook) {
  ManualClock c(Iso("2026-01-01T00:00:00Z"));
  std::vector<Time> seen;
  c.SetOnAdvance([&](Time t) { seen.push_back(t); });
  EXPECT_TRUE(c.SleepFor(std::chrono::minutes{5}));
  EXPECT_EQ(c.Now(), Iso("2026-01-01T00:05:00Z"));
  c.SleepUntil(Iso("2025-01-01T00:00:00Z"));  // never back
  EXPECT_EQ(c.Now(), Iso("2026-01-01T00:05:00Z"));
  EXPECT_EQ(seen.size(), 1u);
  c.Interrupt();
  EXPECT_FALSE(c.SleepFor(std::chrono::minutes{1}));
}

namespace {
struct Numbers {
  std::vector<int> items;
  bool empty() const { return items.empty(); }
  void clear() { items.clear(); }
};
}  // namespace

TEST(Handoff, ConsumesEveryBatchInOrderOnAnotherThread) {
  std::vector<int> seen;  // written by the consumer only, read after Drain
  std::thread::id consumer;
  Handoff<Numbers> h([&](Numbers& b) {
    consumer = std::this_thread::get_id();
    seen.insert(seen.end(), b.items.begin(), b.items.end());
  });
  for (int i = 0; i < 10000; ++i) {
    h.Filling().items.push_back(i);
    if (h.Filling().items.size() == 7) h.Hand();
    EXPECT_LT(h.Filling().items.size(), 7u);  // a handed batch comes back empty
  }
  h.Drain();  // what is still being filled is handed too
  ASSERT_EQ(seen.size(), 10000u);
  for (int i = 0; i < 10000; ++i) ASSERT_EQ(seen[i], i);
  EXPECT_NE(consumer, std::this_thread::get_id());
  h.Drain();  // nothing left: returns at once
  EXPECT_EQ(seen.size(), 10000u);
}

TEST(Handoff, AFailureOfTheConsumerIsThrownToTheCallerAndLaterBatchesAreDropped) {
  std::atomic<int> consumed = 0;
  Handoff<Numbers> h([&](Numbers& b) {
    ++consumed;
    if (b.items.front() == 3) throw std::runtime_error("batch 3 failed");
  });
  auto hand = [&](int i) {
    h.Filling().items.push_back(i);
    h.Hand();
  };
  for (int i = 0; i < 4; ++i) hand(i);
  try {
    h.Drain();
    FAIL() << "the failure was not thrown";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "batch 3 failed");
  }
  EXPECT_EQ(consumed.load(), 4);
  EXPECT_THROW(hand(4), std::runtime_error);  // still failed: nothing more is consumed
  EXPECT_EQ(consumed.load(), 4);
}

TEST(Handoff, DestroyedWhileBatchesWaitFinishesTheBatchBeingConsumed) {
  std::atomic<int> started = 0, finished = 0;
  {
    Handoff<Numbers> h([&](Numbers&) {
      ++started;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      ++finished;
    });
    for (int i = 0; i < 3; ++i) {
      h.Filling().items.push_back(i);
      h.Hand();
    }
  }  // the batch being consumed is finished, the waiting ones dropped
  EXPECT_EQ(started.load(), finished.load());
}

TEST(Parallel, BothPiecesRunAndAFailureOfEitherIsThrown) {
  std::atomic<int> ran = 0;
  InParallel([&] { ++ran; }, [&] { ++ran; });
  EXPECT_EQ(ran.load(), 2);
  EXPECT_THROW(InParallel([] {}, [] { throw std::runtime_error("second"); }), std::runtime_error);
  try {
    InParallel([] { throw std::runtime_error("first"); },
               [] { throw std::runtime_error("second"); });
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "first");
  }
}

TEST(Interner, NumberedAndOtherIdsEachGetOneIndexAndComeBackAsWritten) {
  Interner ids;
  ids.Prefetch("yammer:1234");  // nothing there yet: a hint all the same
  ids.Prefetch("user-1");
  // Ids that read as the same number are different ids: leading zeros, other prefixes.
  const std::vector<std::string> distinct = {"yammer:1234",
                                             "yammer:01234",
                                             "teams:1234",
                                             "1234",
                                             ":1234",
                                             "yammer:",
                                             "yammer:0",
                                             "yammer:00",
                                             "yammer:-1",
                                             "yammer:12a",
                                             "yammer:18446744073709551615",
                                             "yammer:99999999999999999999",
                                             "yammer:9999999999999999999",
                                             "msgraph:6f1c-77:2",
                                             "msgraph:6f1c-77:02",
                                             "",
                                             "a:b:c",
                                             "yammer:1234 "};
  std::vector<uint32_t> index;
  for (const auto& id : distinct) index.push_back(ids.Intern(id));
  ASSERT_EQ(ids.size(), distinct.size());
  for (size_t i = 0; i < distinct.size(); ++i) {
    ids.Prefetch(distinct[i]);
    EXPECT_EQ(index[i], i) << distinct[i];
    EXPECT_EQ(ids[index[i]], distinct[i]);
    EXPECT_EQ(ids.Intern(distinct[i]), i) << distinct[i];  // again: the same index
    EXPECT_EQ(ids.Find(distinct[i]), std::optional<uint32_t>(i)) << distinct[i];
  }
  EXPECT_FALSE(ids.Find("yammer:1235"));
  EXPECT_FALSE(ids.Find("yammer:001234"));
  EXPECT_FALSE(ids.Find("slack:1234"));  // a prefix never seen
  EXPECT_FALSE(ids.Find("b:c"));
}

TEST(SortKeys, OrdersAsAComparisonSortDoes) {
  std::mt19937_64 random(7);
  // Small and large, keys in a narrow range (few passes), over every bit, many repeated, one
  // value only, already sorted and reversed.
  std::vector<std::vector<uint64_t>> cases = {{}, {5}, {3, 1, 2}};
  for (size_t n : {4095, 4096, 100000}) {
    std::vector<uint64_t> narrow(n), wide(n), repeated(n), same(n, 42), sorted(n);
    for (size_t i = 0; i < n; ++i) {
      narrow[i] = (uint64_t{random() % 3} << 32) | (random() % 100000);
      wide[i] = random();
      repeated[i] = random() % 7 << 50;
      sorted[i] = i << 20;
    }
    std::vector<uint64_t> reversed(sorted.rbegin(), sorted.rend());
    cases.insert(cases.end(), {narrow, wide, repeated, same, sorted, reversed});
  }
  for (auto& keys : cases) {
    auto expected = keys;
    std::sort(expected.begin(), expected.end());
    SortKeys(keys);
    EXPECT_EQ(keys, expected) << keys.size() << " keys";
  }
}

TEST(KeyIndex, KeysGetTheirFirstValueAndAreFoundAsTheTableGrows) {
  KeyIndex index;
  EXPECT_EQ(index.Find(5), KeyIndex::kAbsent);
  // Keys in no order and far apart (a report's message keys), past several growths.
  for (uint32_t i = 0; i < 300000; ++i)
    EXPECT_EQ(index.Insert(int64_t{i} * 7919 % 4000037 + 1, i), i);
  EXPECT_EQ(index.size(), 300000u);
  EXPECT_EQ(index.Insert(1, 99), 0u);  // key 1 had 0 already: kept
  for (uint32_t i = 0; i < 300000; i += 101)
    ASSERT_EQ(index.Find(int64_t{i} * 7919 % 4000037 + 1), i);
  EXPECT_EQ(index.Find(4000037 + 5), KeyIndex::kAbsent);
  EXPECT_EQ(index.Find(0), KeyIndex::kAbsent);
  EXPECT_EQ(index.Find(-3), KeyIndex::kAbsent);
  EXPECT_EQ(index.Find(int64_t{1} << 40), KeyIndex::kAbsent);
  EXPECT_THROW(index.Insert(0, 1), std::invalid_argument);
  EXPECT_THROW(index.Insert(KeyIndex::kAbsent, 1), std::invalid_argument);
  index.Reserve(1000000);  // a larger table: the same values
  for (uint32_t i = 0; i < 300000; i += 101)
    ASSERT_EQ(index.Find(int64_t{i} * 7919 % 4000037 + 1), i);
}

TEST(Interner, GrowsPastMillionsAndManyPrefixes) {
  Interner ids;
  // Numbers of one network, two hundred prefixes (past those kept as numbers), other ids.
  for (uint64_t n = 0; n < 1500000; ++n) ids.Intern("yammer:" + std::to_string(n * 7919));
  for (int p = 0; p < 200; ++p) ids.Intern("net" + std::to_string(p) + ":" + std::to_string(p));
  for (uint64_t n = 0; n < 200000; ++n) ids.Intern("user-" + std::to_string(n));
  ASSERT_EQ(ids.size(), 1700200u);
  for (uint64_t n = 0; n < 1500000; n += 997)
    ASSERT_EQ(ids.Find("yammer:" + std::to_string(n * 7919)), std::optional<uint32_t>(n));
  for (int p = 0; p < 200; ++p)
    EXPECT_EQ(ids.Find("net" + std::to_string(p) + ":" + std::to_string(p)),
              std::optional<uint32_t>(1500000 + p));
  for (uint64_t n = 0; n < 200000; n += 997)
    ASSERT_EQ(ids.Find("user-" + std::to_string(n)), std::optional<uint32_t>(1500200 + n));
  EXPECT_FALSE(ids.Find("yammer:7918"));
  EXPECT_FALSE(ids.Find("net199:198"));
  EXPECT_EQ(ids[2], "yammer:15838");
  // Views stay valid while the tables grow.
  std::string_view first = ids[0];
  for (int n = 0; n < 100000; ++n) ids.Intern("net5:" + std::to_string(n));
  for (int n = 0; n < 100000; ++n) ids.Intern("net150:" + std::to_string(n));
  EXPECT_EQ(ids.size(), 1900198u);  // net5:5 and net150:150 were there
  EXPECT_EQ(first, "yammer:0");
  EXPECT_EQ(ids.Keep("kept"), "kept");
}
