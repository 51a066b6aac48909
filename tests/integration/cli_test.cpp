// The command line as a user meets it: exit codes, FILE:LINE:COL errors, and the demo.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "store/store.h"
#include "tests/integration/sim_harness.h"
#include "tests/support/ok.h"

using learnloop::testing::Ok;

using namespace learnloop;
namespace fs = std::filesystem;

namespace {

struct Out {
  int code;
  std::string text;
};

// A configuration file of the tests (configs/), put where a command reads it.
void CopyConfig(const std::string& name, const fs::path& to) {
  std::ofstream(to, std::ios::binary) << it::ReadConfig(name);
}

Out RunCli(const std::string& args) {
  std::string cmd = std::string(LEARNLOOP_BIN) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) text.append(buf, n);
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, text};
}

}  // namespace

TEST(Cli, CheckConfigReportsFileLineColumnAndExits2) {
  fs::path f = fs::temp_directory_path() / "learnloop-cli-bad.yaml";
  CopyConfig("cli/unknown-key.yaml", f);
  setenv("LEARNLOOP_CLI_TOKEN", "very-secret-value", 1);
  auto r = RunCli("check-config " + f.string());
  EXPECT_EQ(r.code, 2) << r.text;
  EXPECT_NE(r.text.find(f.string() + ":4:5: network 'yammer': unknown key 'colour'"),
            std::string::npos)
      << r.text;
  EXPECT_EQ(r.text.find("very-secret-value"), std::string::npos);
  fs::remove(f);
}

TEST(Cli, ExampleConfigIsValidAndEveryCommandHasHelp) {
  setenv("LEARNLOOP_DEMO_TOKEN", "t", 1);
  auto ok =
      RunCli(std::string("check-config ") + LEARNLOOP_SOURCE_DIR + "/config/examples/demo.yaml");
  EXPECT_EQ(ok.code, 0) << ok.text;
  for (const char* c : {"run", "sync", "report", "export", "import", "replay", "campaigns",
                        "check-config", "demo"}) {
    auto h = RunCli(std::string(c) + " --help");
    EXPECT_EQ(h.code, 0) << c;
    EXPECT_NE(h.text.find("Usage: learnloop"), std::string::npos) << c;
  }
  EXPECT_EQ(RunCli("frobnicate").code, 2);
  EXPECT_EQ(RunCli("report --config x.yaml --bogus 1").code, 2);
}

TEST(Cli, DemoRunsAndWritesReports) {
  fs::path out = fs::temp_directory_path() / "learnloop-cli-demo";
  fs::remove_all(out);
  auto r = RunCli("demo --weeks 2 --people 60 --out " + out.string());
  ASSERT_EQ(r.code, 0) << r.text;
  EXPECT_NE(r.text.find("Latest HTML report:"), std::string::npos) << r.text;
  EXPECT_TRUE(fs::exists(out / "learnloop-2026-W42.html"));
  EXPECT_TRUE(fs::exists(out / "learnloop-2026-W42.json"));
  EXPECT_TRUE(fs::exists(out / "learnloop-2026-W42.md"));
  // The report of a stored week is reproducible from the command line.
  fs::path cfg = out / "demo.yaml";
  std::ofstream(cfg) << it::FillConfig("cli/demo-report.yaml", {{"DIR", out.string()}});
  setenv("LEARNLOOP_DEMO_TOKEN", "t", 1);
  auto a =
      RunCli("report --config " + cfg.string() + " --week 2026-W42 --as-of 2026-11-20T00:00:00Z");
  auto b =
      RunCli("report --config " + cfg.string() + " --week 2026-W42 --as-of 2026-11-20T00:00:00Z");
  EXPECT_EQ(a.code, 0) << a.text;
  EXPECT_EQ(a.text, b.text);
  EXPECT_NE(a.text.find("\"definitions_version\":7"), std::string::npos);
  // A replay rebuilds a store: it refuses one that holds messages, and needs the archive.
  EXPECT_EQ(RunCli("replay --config " + cfg.string()).code, 2);
  auto refused = RunCli("replay --config " + cfg.string() + " --archive " + (out / "a").string());
  EXPECT_EQ(refused.code, 1);
  EXPECT_NE(refused.text.find("already holds messages"), std::string::npos) << refused.text;
  auto nothing = RunCli("replay --config " + cfg.string() + " --archive " + (out / "a").string() +
                        " --store " + (out / "new.db").string());
  EXPECT_EQ(nothing.code, 0) << nothing.text;
  EXPECT_NE(nothing.text.find("nothing archived under"), std::string::npos) << nothing.text;
  fs::remove_all(out);
}

TEST(Cli, RunStopsCleanlyOnSigterm) {
  // esn-sim on the wall clock, with its rate window shortened so start-up is quick.
  fs::path dir = fs::temp_directory_path() / "learnloop-cli-run";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string sim_bin = std::getenv("LEARNLOOP_ESN_SIM")
                            ? std::getenv("LEARNLOOP_ESN_SIM")
                            : (fs::path(LEARNLOOP_BIN).parent_path() / "esn-sim").string();
  pid_t sim = fork();
  if (sim == 0) {
    execl(sim_bin.c_str(), sim_bin.c_str(), "--port", "0", "--port-file", (dir / "port").c_str(),
          "--clock", "real", "--people", "60", "--token", "run-token", "--rate-window", "1s",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  int port = 0;
  for (int i = 0; i < 200 && port == 0; ++i) {
    std::ifstream in(dir / "port");
    if (!(in >> port)) usleep(50000);
  }
  ASSERT_GT(port, 0);
  std::ofstream(dir / "run.yaml") << it::FillConfig(
      "cli/run.yaml", {{"PORT", std::to_string(port)}, {"DIR", dir.string()}});
  setenv("LEARNLOOP_RUN_TOKEN", "run-token", 1);
  std::string bin = LEARNLOOP_BIN;
  pid_t daemon = fork();
  if (daemon == 0) {
    execl(bin.c_str(), bin.c_str(), "run", "--config", (dir / "run.yaml").c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  // Let it sync and poll, then ask it to stop.
  for (int i = 0; i < 100 && !fs::exists(dir / "reports"); ++i) usleep(100000);
  EXPECT_TRUE(fs::exists(dir / "reports")) << "the daemon wrote no report";
  kill(daemon, SIGTERM);
  int status = -1;
  for (int i = 0; i < 100; ++i) {
    if (waitpid(daemon, &status, WNOHANG) == daemon) break;
    usleep(100000);
  }
  if (!WIFEXITED(status)) kill(daemon, SIGKILL);
  ASSERT_TRUE(WIFEXITED(status)) << "did not stop within 10 s of SIGTERM";
  EXPECT_EQ(WEXITSTATUS(status), 0);
  kill(sim, SIGTERM);
  waitpid(sim, &status, 0);
  fs::remove_all(dir);
}

TEST(Cli, CampaignsValidateListShowAndPreviewAcrossADstChange) {
  fs::path dir = fs::temp_directory_path() / "learnloop-cli-campaigns";
  fs::remove_all(dir);
  fs::create_directories(dir / "campaigns");
  CopyConfig("cli/quiz.yaml", dir / "campaigns" / "quiz.yaml");
  CopyConfig("cli/bad.yaml", dir / "bad.yaml");
  CopyConfig("cli/campaigns-dir.yaml", dir / "config.yaml");
  setenv("LEARNLOOP_DEMO_TOKEN", "t", 1);
  std::string quiz = (dir / "campaigns" / "quiz.yaml").string();
  auto ok = RunCli("campaigns validate " + quiz);
  EXPECT_EQ(ok.code, 0) << ok.text;
  EXPECT_NE(ok.text.find("OK (1 campaign(s)"), std::string::npos) << ok.text;
  // The configuration reads the folder: the campaign is checked against its networks.
  auto whole = RunCli("check-config " + (dir / "config.yaml").string());
  EXPECT_EQ(whole.code, 0) << whole.text;
  EXPECT_NE(whole.text.find("1 campaign(s)"), std::string::npos) << whole.text;

  auto bad = RunCli("campaigns validate " + (dir / "bad.yaml").string());
  EXPECT_EQ(bad.code, 2);  // like check-config
  EXPECT_NE(bad.text.find("bad.yaml:5:15: schedule '0 25 * * MON'"), std::string::npos) << bad.text;
  EXPECT_NE(bad.text.find("bad.yaml:7:9: a poll step needs 2 to 26 'options'"), std::string::npos)
      << bad.text;

  auto list = RunCli("campaigns list " + quiz + " --from 2026-10-19T00:00:00Z");
  EXPECT_NE(list.text.find("quiz"), std::string::npos);
  auto show = RunCli("campaigns show " + quiz);
  EXPECT_NE(show.text.find("A) Intranet   (correct)"), std::string::npos) << show.text;

  // Mondays 09:00 Berlin: 07:00 UTC in summer time, 08:00 after 25 October; the holiday is
  // skipped, as the campaign says.
  auto preview = RunCli("campaigns preview " + quiz + " --from 2026-10-18T00:00:00Z --weeks 4");
  EXPECT_EQ(preview.code, 0) << preview.text;
  EXPECT_NE(preview.text.find("2026-10-19 09:00 CEST  (2026-10-19T07:00:00Z)  step 1"),
            std::string::npos)
      << preview.text;
  EXPECT_NE(preview.text.find("2026-10-26 09:00 CET  (2026-10-26T08:00:00Z)  step 1"),
            std::string::npos)
      << preview.text;
  EXPECT_NE(preview.text.find("2026-11-02 09:00 CET  (2026-11-02T08:00:00Z)  skipped: holiday "
                              "2026-11-02"),
            std::string::npos)
      << preview.text;
  EXPECT_NE(preview.text.find("2026-11-09 09:00 CET"), std::string::npos) << preview.text;
  EXPECT_EQ(RunCli("campaigns frobnicate " + quiz).code, 2);

  // Days after joining, previewed for someone joining on the --from date; a spaced campaign's
  // rounds and its rules.
  CopyConfig("cli/more.yaml", dir / "more.yaml");
  std::string more = (dir / "more.yaml").string();
  auto days = RunCli("campaigns preview " + more + " --from 2026-10-23T08:00:00Z --weeks 1");
  EXPECT_EQ(days.code, 0) << days.text;
  EXPECT_NE(days.text.find("for people who join on 2026-10-23"), std::string::npos) << days.text;
  EXPECT_NE(days.text.find("2026-10-24 09:30 CEST  (2026-10-24T07:30:00Z)  day 1, step 1: Who "
                           "showed you around?"),
            std::string::npos)
      << days.text;
  EXPECT_NE(days.text.find("2026-10-26 09:30 CET  (2026-10-26T08:30:00Z)  day 3, step 2"),
            std::string::npos)
      << days.text;
  EXPECT_NE(days.text.find("2026-10-26 09:00 CET  (2026-10-26T08:00:00Z)  round: each person's "
                           "next due question"),
            std::string::npos)
      << days.text;
  auto rules = RunCli("campaigns show " + more);
  EXPECT_NE(rules.text.find("schedule \"days 1, 3 after joining, at 09:30\""), std::string::npos)
      << rules.text;
  EXPECT_NE(rules.text.find("spaced repetition over 1 questions"), std::string::npos) << rules.text;
  EXPECT_NE(rules.text.find("asked privately where the network allows it; others in at most 1 "
                            "community thread(s) a day naming at most 10 people each"),
            std::string::npos)
      << rules.text;

  // A campaign without its own zone, previewed without the configuration: the preview says
  // which zone it shows, and how to get the right one.
  CopyConfig("cli/zoneless.yaml", dir / "zoneless.yaml");
  auto utc = RunCli("campaigns preview " + (dir / "zoneless.yaml").string() +
                    " --from 2026-10-23T08:00:00Z --weeks 1");
  EXPECT_EQ(utc.code, 0) << utc.text;
  EXPECT_NE(utc.text.find("(no --config: a campaign without its own 'timezone' is shown in UTC"),
            std::string::npos)
      << utc.text;
  EXPECT_NE(utc.text.find("zoneless - 7 - UTC, next 1 week(s)"), std::string::npos) << utc.text;
  EXPECT_NE(utc.text.find("2026-10-26 09:00 UTC"), std::string::npos) << utc.text;
  fs::remove_all(dir);
}

TEST(Cli, OperatorsSteerACampaignOnTheDaemonsStore) {
  fs::path dir = fs::temp_directory_path() / "learnloop-cli-operator";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "config.yaml")
      << it::FillConfig("cli/operator.yaml", {{"DIR", dir.string()}});
  setenv("LEARNLOOP_DEMO_TOKEN", "t", 1);
  std::string cfg = " --config " + (dir / "config.yaml").string();
  auto paused = RunCli("campaigns pause quiz" + cfg);
  EXPECT_EQ(paused.code, 0) << paused.text;
  EXPECT_NE(paused.text.find("campaign quiz paused"), std::string::npos);
  EXPECT_EQ(RunCli("campaigns resume quiz" + cfg).code, 0);
  auto skip = RunCli("campaigns skip quiz" + cfg);
  EXPECT_EQ(skip.code, 0) << skip.text;
  EXPECT_NE(skip.text.find("09:00"), std::string::npos) << skip.text;  // the next Monday, local
  auto now = RunCli("campaigns post-now quiz" + cfg);
  EXPECT_EQ(now.code, 0) << now.text;
  EXPECT_NE(now.text.find("prompt:quiz:now:"), std::string::npos) << now.text;
  auto unknown = RunCli("campaigns pause nope" + cfg);
  EXPECT_EQ(unknown.code, 1);
  EXPECT_NE(unknown.text.find("no campaign named 'nope'"), std::string::npos) << unknown.text;
  EXPECT_EQ(RunCli("campaigns pause quiz").code, 2);  // --config is needed
  auto nobody = RunCli("people opt-out ada@contoso.example" + cfg);
  EXPECT_EQ(nobody.code, 1);
  EXPECT_NE(nobody.text.find("nobody in the store"), std::string::npos) << nobody.text;
  // The store holds what the running daemon will follow.
  auto store = store::OpenSqlite((dir / "s.db").string());
  ASSERT_TRUE(store.ok());
  auto quiz = Ok((*store)->GetCampaignState("quiz"));
  EXPECT_EQ(quiz.paused, false);  // resumed
  EXPECT_TRUE(quiz.skip_through.has_value());
  EXPECT_EQ(Ok((*store)->UnfinishedOutbox()).size(), 1u);
  fs::remove_all(dir);
}

TEST(Cli, CommandsThatDoNotTalkToTheEsnNeedNoEsnSecrets) {
  fs::path dir = fs::temp_directory_path() / ("learnloop-cli-secrets-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  unsetenv("LEARNLOOP_CLI_UNSET_TOKEN");
  std::ofstream(dir / "c.yaml") << it::FillConfig("cli/unset-token.yaml", {{"DIR", dir.string()}});
  std::string config = " --config " + (dir / "c.yaml").string();
  for (const std::string& cmd : std::vector<std::string>{
           "export --out " + (dir / "x").string(), "report --week 2026-W45 --format json",
           "forget yammer:1490000001", "campaigns list " + (dir / "c.yaml").string()}) {
    auto out = RunCli(cmd + config);
    EXPECT_EQ(out.code, 0) << cmd << ": " << out.text;
    EXPECT_EQ(out.text.find("is not set"), std::string::npos) << cmd << ": " << out.text;
  }
  auto people = RunCli("people opt-out yammer:1490000001" + config);
  EXPECT_EQ(people.text.find("is not set"), std::string::npos) << people.text;
  // Those that talk to the ESN say which secret is missing, where, and stop.
  for (const std::string& cmd :
       std::vector<std::string>{"sync" + config, "check-config " + (dir / "c.yaml").string()}) {
    auto out = RunCli(cmd);
    EXPECT_EQ(out.code, 2) << cmd << ": " << out.text;
    EXPECT_NE(out.text.find("c.yaml:5:12: 'token': environment variable LEARNLOOP_CLI_UNSET_TOKEN "
                            "is not set"),
              std::string::npos)
        << out.text;
  }
  // An import says how many reactions it kept: a line that repeats one (same message, person
  // and kind) is that reaction.
  fs::remove(dir / "s.db");
  auto imported =
      RunCli("import" + config + " " LEARNLOOP_SOURCE_DIR "/tests/data/repeated_reactions");
  EXPECT_EQ(imported.code, 0) << imported.text;
  EXPECT_NE(imported.text.find("3 reactions"), std::string::npos) << imported.text;
  EXPECT_NE(imported.text.find("reactions kept: 2 new of 3 lines"), std::string::npos)
      << imported.text;
  // The store (live secrets, what people wrote) is readable by its owner only.
  auto mode = fs::status(dir / "s.db").permissions();
  EXPECT_EQ(mode & (fs::perms::group_all | fs::perms::others_all), fs::perms::none);
  fs::remove_all(dir);
}
