// Tokens that expire or are revoked while learnloop runs cost nothing: the Viva Engage
// connector redeems the service account's refresh token at the (simulated) Entra endpoint,
// renews before expiry and after a 401, and keeps the rotated refresh token for a restart.
#include <gtest/gtest.h>

#include "daemon/run_loop.h"
#include "sim_harness.h"
#include "tests/support/ok.h"

using learnloop::testing::Ok;

using namespace learnloop;

namespace {

const std::string kYaml = it::ReadConfig("auth.yaml");

}  // namespace

TEST(Auth, ExpiringAndRevokedTokensCostNothing) {
  setenv("LEARNLOOP_IT_REFRESH", "rt-initial", 1);
  it::SimRun run;
  Time start = *ParseIso("2026-11-02T06:00:00Z");
  // Access tokens live an hour; the daemon polls every twenty minutes.
  ASSERT_EQ(run.Start(start,
                      {"--people", "80", "--seed", "5", "--history-days", "5", "--horizon-days",
                       "10", "--token-lifetime", "1h", "--refresh-token", "rt-initial"},
                      kYaml),
            "");
  {
    daemon::Daemon d(*run.cfg, *run.store, *run.clock);
    ASSERT_TRUE(d.Start().ok());
    daemon::RunSimulated(d, *run.clock, start + std::chrono::hours{24 * 2});
    // Every issued token revoked: the next request gets a 401 and a new token at once.
    connectors::http::Request revoke;
    revoke.method = "POST";
    revoke.url = run.sim.base_url() + "/_sim/tokens";
    revoke.body = R"({"revoke_issued": true})";
    ASSERT_TRUE(run.http->Send(revoke).ok());
    daemon::RunSimulated(d, *run.clock, start + std::chrono::hours{24 * 4});
    ASSERT_TRUE(d.SyncUntilCaughtUp().ok());
  }
  auto truth = it::ReadTruth(run.Get("/_sim/truth"));
  EXPECT_EQ(it::CheckIngestedExactlyOnce(truth, *run.store), "");
  auto stats = run.Get("/_sim/stats");
  EXPECT_EQ(*json::GetInt64(stats, "violations"), 0);
  // Only the revocation cost a refusal: expiry never did, the tokens were renewed in time.
  EXPECT_EQ(*json::GetInt64(stats, "unauthorized"), 1);
  EXPECT_GT(*json::GetInt64(stats.at("requests"), "token"), 4 * 24 / 2);  // renewed ~hourly
  EXPECT_EQ(run.Get("/_sim/bot_posts").as_array().size(), 4u);  // Monday to Thursday, 10:00
  // The rotated refresh token was kept, among the secrets (not the cursors), with a hash of the
  // configured one (never the token itself).
  EXPECT_FALSE(Ok(run.store->SyncCursors("yammer")).count("auth.refresh_token"));
  auto kept = Ok(run.store->GetSecret("yammer:auth.refresh_token"));
  ASSERT_TRUE(kept.has_value());
  EXPECT_NE(*kept, "rt-initial");
  auto hash = Ok(run.store->GetSecret("yammer:auth.configured_sha256"));
  ASSERT_TRUE(hash.has_value());
  EXPECT_EQ(hash->find("rt-initial"), std::string::npos);
  auto tokens = [&](const std::string& body) {
    connectors::http::Request r;
    r.method = "POST";
    r.url = run.sim.base_url() + "/_sim/tokens";
    r.body = body;
    ASSERT_TRUE(run.http->Send(r).ok());
  };
  // After a restart the kept one is redeemed: the configured one may have been revoked.
  tokens(R"({"revoke_refresh": true, "add_refresh": ")" + *kept + R"("})");
  {
    daemon::Daemon again(*run.cfg, *run.store, *run.clock);
    ASSERT_TRUE(again.Start().ok());
    EXPECT_TRUE(again.SyncUntilCaughtUp().ok());
  }
  // The operator configures a new refresh token (the kept one is revoked): the configured one
  // differs from the one last seen, so it wins.
  tokens(R"({"revoke_refresh": true, "add_refresh": "rt-second"})");
  config::Config cfg = *run.cfg;
  config::Settings auth = cfg.networks[0].settings.Map("auth");
  auth.Set("refresh_token", Secret::FromValue("rt-second"));
  cfg.networks[0].settings.SetMap("auth", auth);
  {
    daemon::Daemon again(cfg, *run.store, *run.clock);
    auto s = again.Start();
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_TRUE(again.SyncUntilCaughtUp().ok());
  }
  EXPECT_NE(*Ok(run.store->GetSecret("yammer:auth.configured_sha256")), *hash);
  // Every refresh token revoked, and no new one configured: the start fails and says what to do.
  tokens(R"({"revoke_refresh": true})");
  daemon::Daemon refused(cfg, *run.store, *run.clock);
  auto s = refused.Start();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("invalid_grant"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("get a new refresh token and put it in this network's "
                             "auth.refresh_token"),
            std::string::npos)
      << s.message();
}
