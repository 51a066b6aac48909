// The raw archive: with `archive` set, every page the connectors read is kept (compressed,
// without credentials), and `learnloop replay` rebuilds the same store from it without the
// ESN — across a restart, with faults, posting and pushes going on.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/compress.h"
#include "daemon/replay.h"
#include "daemon/run_loop.h"
#include "sim_harness.h"
#include "store/exchange.h"
#include "tests/support/ok.h"

using learnloop::testing::Ok;

using namespace learnloop;
namespace fs = std::filesystem;

namespace {

const std::string kYaml = it::ReadConfig("archive.yaml");

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST(RawArchive, ReplayRebuildsTheSameStoreWithoutTheEsn) {
  setenv("LEARNLOOP_IT_SECRET", "sim-secret", 1);
  it::SimRun run;
  Time start = *ParseIso("2026-11-02T06:00:00Z");
  ASSERT_EQ(run.Start(start, {"--people",       "120",  "--seed",           "8",
                              "--history-days", "6",    "--horizon-days",   "8",
                              "--teams",        "2",    "--token-lifetime", "45m",
                              "--error-rate",   "0.05", "--truncate-rate",  "0.03",
                              "--reset-rate",   "0.02", "--throttle-rate",  "0.03"},
                      kYaml),
            "");
  for (int part = 0; part < 2; ++part) {  // a restart in between
    daemon::Daemon d(*run.cfg, *run.store, *run.clock);
    ASSERT_TRUE(d.Start().ok());
    ASSERT_EQ(run.RegisterBot(d), "");
    daemon::RunSimulated(d, *run.clock, start + std::chrono::hours{36 * (part + 1)});
  }
  ASSERT_GT(Ok(run.store->AllMessages()).size(), 100u);

  // The archive holds pages and no credential.
  std::string all;
  int files = 0;
  for (const auto& e : fs::recursive_directory_iterator(run.dir + "/archive")) {
    if (!e.is_regular_file()) continue;
    ++files;
    auto text = GzipRead(e.path().string());
    ASSERT_TRUE(text.ok()) << text.error().message;
    all += *text;
  }
  EXPECT_GE(files, 4);  // two networks, two days at least
  EXPECT_NE(all.find("\"call\":\"poll\""), std::string::npos);
  EXPECT_NE(all.find("\"call\":\"pushed\""), std::string::npos);
  for (const char* secret : {"it-token", "sim-secret", "Bearer", "\"access_token\":\"ey"})
    EXPECT_EQ(all.find(secret), std::string::npos) << secret;

  // Rebuilt without the ESN: the simulator is gone.
  run.sim.Stop();
  auto replayed = store::OpenSqlite(run.dir + "/replayed.db");
  ASSERT_TRUE(replayed.ok());
  auto r = daemon::ReplayArchive(*run.cfg, **replayed, run.dir + "/archive");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->warnings.empty()) << r->warnings[0];
  EXPECT_GT(r->pages, 100);
  std::printf("replayed %lld calls, %lld pages, %lld messages\n", static_cast<long long>(r->calls),
              static_cast<long long>(r->pages), static_cast<long long>(r->messages));

  ASSERT_TRUE(store::Export(*run.store, run.dir + "/live-export").ok());
  ASSERT_TRUE(store::Export(**replayed, run.dir + "/replayed-export").ok());
  for (const char* f : {"users.jsonl", "groups.jsonl", "messages.jsonl", "reactions.jsonl"}) {
    std::string live = ReadFile(fs::path(run.dir) / "live-export" / f);
    EXPECT_FALSE(live.empty()) << f;
    EXPECT_TRUE(live == ReadFile(fs::path(run.dir) / "replayed-export" / f)) << f << " differs";
  }

  // An archive that lacks a page is not replayed into something else: the replay says where.
  fs::path cut = fs::path(run.dir) / "cut";
  fs::copy(run.dir + "/archive", cut, fs::copy_options::recursive);
  fs::path day;
  for (const auto& e : fs::directory_iterator(cut / "yammer")) day = std::max(day, e.path());
  auto text = GzipRead(day.string());
  ASSERT_TRUE(text.ok());
  size_t page = text->find("{\"t\":");
  ASSERT_NE(page, std::string::npos);
  std::string without = text->substr(0, page) + text->substr(text->find('\n', page) + 1);
  fs::remove(day);
  ASSERT_TRUE(GzipAppend(day.string(), without).ok());
  auto other = store::OpenSqlite(run.dir + "/cut.db");
  ASSERT_TRUE(other.ok());
  auto bad = daemon::ReplayArchive(*run.cfg, **other, cut.string());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("network yammer, call "), std::string::npos)
      << bad.error().message;
  EXPECT_NE(bad.error().message.find("left the archive"), std::string::npos);

  // `learnloop forget`: the busiest Viva Engage author leaves the store and the archive; a
  // replay of the archive then knows nothing of them either, and everything else is as before.
  std::map<std::string, int> written;
  for (const auto& m : Ok(run.store->AllMessages()))
    if (m.network == "yammer") ++written[m.author_id];
  std::string who;
  for (const auto& [id, n] : written)
    if (auto u = Ok(run.store->GetUser(id)); u && !u->is_bot && (who.empty() || n > written[who]))
      who = id;
  ASSERT_FALSE(who.empty());
  std::string person_name = Ok(run.store->GetUser(who))->name;
  std::set<std::string> others_before;
  for (const auto& m : Ok(run.store->AllMessages()))
    if (m.author_id != who) others_before.insert(m.id);
  fs::path cfg = fs::path(run.dir) / "forget.yaml";
  {
    std::ofstream(cfg) << "store: {path: " << run.dir << "/live.db}\nnetworks:\n  - {type: yammer, "
                       << "token: \"${LEARNLOOP_IT_TOKEN}\", archive: " << run.dir << "/archive}\n";
  }
  std::string cmd = std::string(LEARNLOOP_BIN) + " forget " + who + " --config " + cfg.string() +
                    " > " + run.dir + "/forget.out 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << ReadFile(fs::path(run.dir) / "forget.out");
  std::string said = ReadFile(fs::path(run.dir) / "forget.out");
  EXPECT_NE(said.find(who + " forgotten: " + std::to_string(written[who]) + " message(s)"),
            std::string::npos)
      << said;
  EXPECT_NE(said.find("archive of yammer: "), std::string::npos) << said;
  auto after = store::OpenSqlite(run.dir + "/after.db");
  ASSERT_TRUE(after.ok());
  auto again = daemon::ReplayArchive(*run.cfg, **after, run.dir + "/archive");
  ASSERT_TRUE(again.ok()) << again.error().message;
  for (store::Store* st : {run.store.get(), after->get()}) {
    EXPECT_FALSE(Ok(st->GetUser(who)));
    std::set<std::string> others;
    for (const auto& m : Ok(st->AllMessages())) {
      EXPECT_NE(m.author_id, who);
      EXPECT_EQ(std::find(m.mentions.begin(), m.mentions.end(), who), m.mentions.end());
      if (m.network == "yammer") {  // (on Teams the same name may be someone else's)
        EXPECT_EQ(m.text.find(person_name), std::string::npos) << m.id << ": " << m.text;
      }
      others.insert(m.id);
    }
    EXPECT_EQ(others, others_before);  // everyone else's messages are all still there
    for (const auto& r : Ok(st->AllReactions())) EXPECT_NE(r.user_id, who);
    for (const auto& g : Ok(st->AllGroups()))
      EXPECT_EQ(std::find(g.members.begin(), g.members.end(), who), g.members.end());
  }
  std::string archived;
  for (const auto& e : fs::recursive_directory_iterator(run.dir + "/archive/yammer"))
    if (e.is_regular_file()) archived += *GzipRead(e.path().string());
  EXPECT_EQ(archived.find(NativeId(who)), std::string::npos);
  EXPECT_EQ(archived.find(person_name), std::string::npos);
}
