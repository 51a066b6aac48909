// The Viva Engage connector's writes against esn-sim: an acknowledgement is a like by the
// service account, seen on the message by everyone; liking again changes nothing.
#include <gtest/gtest.h>

#include <algorithm>

#include "connectors/registry.h"
#include "sim_harness.h"
#include "tests/support/ok.h"

using learnloop::testing::Ok;

using namespace learnloop;

TEST(YammerWrites, AnAcknowledgementIsALikeOfTheServiceAccount) {
  it::SimRun run;
  Time start = *ParseIso("2026-11-02T06:00:00Z");
  ASSERT_EQ(run.Start(start, {"--people", "80", "--seed", "4", "--history-days", "5"},
                      "networks:\n  - type: yammer\n    base_url: BASE_URL\n"
                      "    token: ${LEARNLOOP_IT_TOKEN}\nstore: {path: DIR/y.db}\n"),
            "");
  auto truth = it::ReadTruth(run.Get("/_sim/truth"));
  int64_t target = 0;
  for (const auto& m : truth.messages)
    if (m.network == "yammer" && !m.system && !m.deleted &&
        std::find(m.likes.begin(), m.likes.end(), truth.bot) == m.likes.end())
      target = m.id;
  ASSERT_NE(target, 0);
  auto built = connectors::Create(run.cfg->networks[0], *run.clock);
  ASSERT_TRUE(built.ok());
  ASSERT_NE(built->poster, nullptr);
  ASSERT_TRUE(built->poster->Acknowledge(std::to_string(target)).ok());
  ASSERT_TRUE(built->poster->Acknowledge(std::to_string(target)).ok());
  auto after = it::ReadTruth(run.Get("/_sim/truth"));  // `truth` stays as it was
  int found = 0;
  for (const auto& m : after.messages)
    if (m.id == target) {
      ++found;
      EXPECT_EQ(std::count(m.likes.begin(), m.likes.end(), after.bot), 1);
    }
  EXPECT_EQ(found, 1);
  EXPECT_FALSE(built->poster->Acknowledge("999").ok());  // no such message
}

// A directory call refused (one community's member list, as without the permission) degrades
// that community: said once, shown by /healthz, and every message is still read.
TEST(YammerDirectory, ARefusedMemberListDegradesOneCommunityAndEveryMessageIsStillRead) {
  it::SimRun run;
  Time start = *ParseIso("2026-11-02T06:00:00Z");
  ASSERT_EQ(run.Start(start,
                      {"--people", "120", "--seed", "6", "--history-days", "6",
                       "--members-forbidden", "13114941440"},
                      "server: {listen: \"127.0.0.1:0\"}\nnetworks:\n  - type: yammer\n"
                      "    base_url: BASE_URL\n    token: ${LEARNLOOP_IT_TOKEN}\n"
                      "store: {path: DIR/y.db}\n"),
            "");
  daemon::Daemon d(*run.cfg, *run.store, *run.clock);
  ASSERT_TRUE(d.Start().ok());
  ASSERT_EQ(d.Degraded().size(), 1u);
  EXPECT_NE(d.Degraded()[0].find("13114941440"), std::string::npos) << d.Degraded()[0];
  connectors::http::Request health;
  health.url = d.public_url() + "/healthz";
  auto h = run.http->Send(health);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->status, 200);
  EXPECT_NE(h->body.find("degraded: network yammer: the members of community 13114941440"),
            std::string::npos)
      << h->body;
  ASSERT_TRUE(d.SyncUntilCaughtUp().ok());
  auto truth = it::ReadTruth(run.Get("/_sim/truth"));
  EXPECT_EQ(it::CheckIngestedExactlyOnce(truth, *run.store), "");
  int company = 0;
  for (const auto& m : Ok(run.store->AllMessages())) company += m.group_id == "yammer:all-company";
  EXPECT_GT(company, 0);
  for (const auto& g : Ok(run.store->AllGroups())) {
    if (g.id == "yammer:13114941440") {
      EXPECT_TRUE(g.members.empty());  // never known
    }
    if (g.id == "yammer:all-company") {
      EXPECT_GT(g.members.size(), 100u);
    }
  }
}
