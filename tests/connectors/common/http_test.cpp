// The HTTP layer every connector shares: rate budgets kept across restarts, Retry-After and
// retries of 5xx, POSTs never retried blindly.
#include "connectors/common/http.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/clock.h"
#include "core/time.h"
#include "tests/support/fake_client.h"
#include "tests/support/testdata.h"

using namespace learnloop;
using namespace learnloop::connectors;
using learnloop::testing::FakeClient;

namespace {
// A recorded answer of Viva Engage (its rate-limit refusal, say).
std::string Testdata(const std::string& name) {
  return learnloop::testing::ReadTestdata("yammer", name);
}
}  // namespace

TEST(RateBudget, KeepsTheWindow) {
  http::RateBudget b(10, std::chrono::seconds{30});
  Time t0 = *ParseIso("2026-01-01T00:00:00Z");
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(b.WaitTime(t0 + std::chrono::seconds{i}).count(), 0);
    b.Record(t0 + std::chrono::seconds{i});
  }
  EXPECT_EQ(b.WaitTime(t0 + std::chrono::seconds{10}), std::chrono::seconds{20});
  EXPECT_EQ(b.WaitTime(t0 + std::chrono::seconds{30}).count(), 0);
}

TEST(Requester, TheBudgetCarriesOverARestartOrIsTakenAsSpentAfterAKill) {
  FakeClient client;
  ManualClock clock(*ParseIso("2026-01-01T00:00:00Z"));
  http::Request r;
  r.url = "http://127.0.0.1:1/x";
  std::string saved;
  {
    http::Requester req(client, clock, 10, std::chrono::seconds{30}, http::RetryPolicy{}, 1, "t");
    for (int i = 0; i < 8; ++i) {
      client.Add(200, "{}");
      ASSERT_TRUE(req.Send(r, "messages").ok());
      clock.Advance(std::chrono::seconds{1});
    }
    saved = req.SaveBudgets();
  }
  EXPECT_EQ(std::count(saved.begin(), saved.end(), ','), 7) << saved;
  {  // a clean stop: the next process may send 2 more in this window, then waits
    http::Requester req(client, clock, 10, std::chrono::seconds{30}, http::RetryPolicy{}, 1, "t");
    req.RestoreBudgets(saved);
    Time start = clock.Now();
    for (int i = 0; i < 3; ++i) {
      client.Add(200, "{}");
      ASSERT_TRUE(req.Send(r, "messages").ok());
    }
    EXPECT_EQ(clock.Now() - start, std::chrono::seconds{22});  // the first of the 8 leaves
  }
  {  // after a kill nothing was saved: the whole window is taken as spent at the start
    http::Requester req(client, clock, 10, std::chrono::seconds{30}, http::RetryPolicy{}, 1, "t");
    req.AssumeSpent(clock.Now());
    Time start = clock.Now();
    client.Add(200, "{}");
    ASSERT_TRUE(req.Send(r, "other-bucket").ok());
    EXPECT_EQ(clock.Now() - start, std::chrono::seconds{30});
  }
  {  // a saved text the next version cannot read is ignored, not fatal
    http::Requester req(client, clock, 10, std::chrono::seconds{30}, http::RetryPolicy{}, 1, "t");
    req.RestoreBudgets("messages=x,;=;;garbage");
    client.Add(200, "{}");
    Time start = clock.Now();
    ASSERT_TRUE(req.Send(r, "messages").ok());
    EXPECT_EQ(clock.Now(), start);
  }
}

TEST(Requester, HonoursRetryAfterAndRetries5xx) {
  FakeClient client;
  ManualClock clock(*ParseIso("2026-01-01T00:00:00Z"));
  http::Requester req(client, clock, 10, std::chrono::seconds{30}, http::RetryPolicy{}, 1, "test");
  client.Add(429, Testdata("yammer_error_rate_limited.json"), {{"retry-after", "17"}});
  client.Add(503, "oops");
  client.Add(200, "{}");
  http::Request r;
  r.url = "http://127.0.0.1:1/x";
  Time start = clock.Now();
  auto res = req.Send(r, "messages");
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->status, 200);
  EXPECT_GE(clock.Now() - start, std::chrono::seconds{17});
  EXPECT_EQ(req.counters().throttled, 1);
  EXPECT_EQ(req.counters().server_errors, 1);
  EXPECT_EQ(req.counters().requests, 3);
}

TEST(Requester, A429WithoutRetryAfterWaitsAWholeWindow) {
  FakeClient client;
  ManualClock clock(*ParseIso("2026-01-01T00:00:00Z"));
  http::Requester req(client, clock, 10, std::chrono::seconds{30}, http::RetryPolicy{}, 1, "test");
  client.Add(429, Testdata("yammer_error_rate_limited.json"));
  client.Add(200, "{}");
  http::Request r;
  r.url = "http://127.0.0.1:1/x";
  Time start = clock.Now();
  ASSERT_TRUE(req.Send(r, "messages").ok());
  EXPECT_GE(clock.Now() - start, std::chrono::seconds{30});
}

TEST(Requester, APostIsNotRetriedAfterA5xx) {
  FakeClient client;
  ManualClock clock(*ParseIso("2026-01-01T00:00:00Z"));
  http::Requester req(client, clock, 10, std::chrono::seconds{30}, http::RetryPolicy{}, 1, "test");
  client.Add(503, "");
  client.Add(201, "{}");
  http::Request r;
  r.method = "POST";
  r.url = "http://127.0.0.1:1/messages.json";
  r.idempotent = false;
  auto res = req.Send(r, "messages");
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->status, 503);  // the caller decides (the outbox looks for the post first)
  EXPECT_EQ(client.seen.size(), 1u);
}
