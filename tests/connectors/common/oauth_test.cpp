// OAuth tokens for the HTTP layer: client credentials and refresh tokens at the Entra token
// endpoint, caching, renewal before expiry and after a 401, Entra errors.
#include "connectors/common/oauth.h"

#include <gtest/gtest.h>

#include "connectors/common/http.h"
#include "core/clock.h"
#include "tests/support/fake_client.h"

using namespace learnloop;
using namespace learnloop::connectors;
using learnloop::testing::FakeClient;

namespace {

std::string TokenBody(const std::string& token, int expires_in, const std::string& refresh = "") {
  std::string body = R"({"token_type":"Bearer","expires_in":)" + std::to_string(expires_in) +
                     R"(,"ext_expires_in":)" + std::to_string(expires_in) + R"(,"access_token":")" +
                     token + "\"";
  if (!refresh.empty()) body += R"(,"refresh_token":")" + refresh + "\"";
  return body + "}";
}

http::OAuthSettings Graph() {
  return {"https://login.example/t/oauth2/v2.0/token", "app",    Secret::FromValue("s3cret"),
          "https://graph.microsoft.com/.default",      Secret(), ""};
}

std::string AuthOf(const http::Request& r) {
  for (const auto& [k, v] : r.headers)
    if (k == "Authorization") return v;
  return "";
}

}  // namespace

TEST(OAuth, ClientCredentialsAreCachedAndRenewedBeforeExpiry) {
  FakeClient client;
  ManualClock clock(*ParseIso("2026-01-01T00:00:00Z"));
  http::OAuthTokenSource src(client, clock, Graph(), "test");
  client.Add(200, TokenBody("first", 3600));
  client.Add(200, TokenBody("second", 3600));
  EXPECT_EQ(*src.Get(), "first");
  ASSERT_EQ(client.seen.size(), 1u);
  const auto& r = client.seen[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.content_type, "application/x-www-form-urlencoded");
  EXPECT_EQ(r.body,
            "client_id=app&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default&client_secret=s3cret"
            "&grant_type=client_credentials");
  clock.Advance(std::chrono::minutes{50});
  EXPECT_EQ(*src.Get(), "first");  // cached
  EXPECT_EQ(client.seen.size(), 1u);
  clock.Advance(std::chrono::minutes{5});  // 55 minutes: inside the last tenth of its life
  EXPECT_EQ(*src.Get(), "second");
  EXPECT_EQ(src.fetches(), 2);
}

TEST(OAuth, ARefreshTokenIsRedeemedAndItsSuccessorKept) {
  FakeClient client;
  ManualClock clock(*ParseIso("2026-01-01T00:00:00Z"));
  http::OAuthSettings s{"https://login.example/t/oauth2/v2.0/token",
                        "app",
                        Secret(),
                        "https://www.yammer.com/.default offline_access",
                        Secret::FromValue("rt-1"),
                        ""};
  http::OAuthTokenSource src(client, clock, s, "test");
  std::vector<std::string> rotated;
  src.OnRotate([&](const std::string& t) { rotated.push_back(t); });
  client.Add(200, TokenBody("a1", 600, "rt-2"));
  client.Add(200, TokenBody("a2", 600, "rt-3"));
  EXPECT_EQ(*src.Get(), "a1");
  EXPECT_NE(client.seen[0].body.find("grant_type=refresh_token&refresh_token=rt-1"),
            std::string::npos);
  EXPECT_EQ(client.seen[0].body.find("client_secret"), std::string::npos);  // a public client
  src.Invalidate();
  EXPECT_EQ(*src.Get(), "a2");
  EXPECT_NE(client.seen[1].body.find("refresh_token=rt-2"), std::string::npos);
  EXPECT_EQ(rotated, (std::vector<std::string>{"rt-2", "rt-3"}));
}

TEST(OAuth, EntraErrorsAreReportedAndOutagesRetried) {
  FakeClient client;
  ManualClock clock(*ParseIso("2026-01-01T00:00:00Z"));
  http::OAuthTokenSource src(client, clock, Graph(), "test");
  client.Add(
      401,
      R"({"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x","error_codes":[7000215]})");
  auto bad = src.Get();
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message,
            "token request refused (HTTP 401): invalid_client - AADSTS7000215: Invalid client "
            "secret provided.");
  EXPECT_EQ(client.seen.size(), 1u);  // a refusal is not retried
  client.AddError("connection refused");
  client.Add(503, "");
  client.Add(200, TokenBody("ok", 3600));
  EXPECT_EQ(*src.Get(), "ok");
  EXPECT_EQ(client.seen.size(), 4u);
}

TEST(Requester, SendsTheTokenAndRenewsItOnceAfterA401) {
  FakeClient api, login;
  ManualClock clock(*ParseIso("2026-01-01T00:00:00Z"));
  http::OAuthTokenSource src(login, clock, Graph(), "test");
  http::Requester req(api, clock, 10, std::chrono::seconds{30}, http::RetryPolicy{}, 1, "test");
  req.set_token_source(&src);
  login.Add(200, TokenBody("t1", 3600));
  login.Add(200, TokenBody("t2", 3600));
  login.Add(200, TokenBody("t3", 3600));
  api.Add(401, R"({"error":{"code":"InvalidAuthenticationToken"}})", {{"request-id", "r-1"}});
  api.Add(200, "{}");
  http::Request r;
  r.url = "https://graph.example/v1.0/teams";
  auto res = req.Send(r, "teams");
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->status, 200);
  ASSERT_EQ(api.seen.size(), 2u);
  EXPECT_EQ(AuthOf(api.seen[0]), "Bearer t1");
  EXPECT_EQ(AuthOf(api.seen[1]), "Bearer t2");
  EXPECT_EQ(req.counters_by_class().at("teams").unauthorized, 1);
  EXPECT_EQ(req.counters_by_class().at("teams").requests, 2);
  // Refused again right after a new token: that is an answer, not something to retry.
  api.Add(401, "{}");
  api.Add(401, "{}");
  res = req.Send(r, "teams");
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(api.seen.size(), 4u);
}

TEST(Requester, AFixedTokenIsNotRenewed) {
  FakeClient api;
  ManualClock clock(*ParseIso("2026-01-01T00:00:00Z"));
  http::StaticToken tok(Secret::FromValue("fixed"));
  http::Requester req(api, clock, 10, std::chrono::seconds{30}, http::RetryPolicy{}, 1, "test");
  req.set_token_source(&tok);
  api.Add(401, "{}");
  http::Request r;
  r.url = "https://example/x";
  auto res = req.Send(r, "other");
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(api.seen.size(), 1u);
  EXPECT_EQ(AuthOf(api.seen[0]), "Bearer fixed");
}
