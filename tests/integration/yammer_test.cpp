// The Viva Engage connector's writes against esn-sim: an acknowledgement is a like by the
// service account, seen on the message by everyone; liking again changes nothing.
#include <gtest/gtest.h>

#include <algorithm>

#include "connectors/registry.h"
#include "sim_harness.h"

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
