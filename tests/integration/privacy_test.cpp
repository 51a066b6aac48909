// What a privacy officer and a security reviewer check: after `learnloop forget`, no byte of a
// forgotten person is left in any file the product writes (the store after its compaction, its
// log, the raw archive, a later export and later reports of every format); what holds people's
// words is readable by its owner only; and a run at the `trace` level logs no secret.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "analytics/report.h"
#include "core/compress.h"
#include "sim_harness.h"
#include "tests/support/ok.h"

using learnloop::testing::Ok;

using namespace learnloop;
namespace fs = std::filesystem;

namespace {

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs the built `learnloop` with `args`; its output in `out`. Gives the exit code.
int Cli(const std::string& args, const std::string& out) {
  std::string cmd = std::string(LEARNLOOP_BIN) + " " + args + " >> " + out + " 2>&1";
  int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// Every file under `dir` as the product's reader sees it: gzip files decompressed.
std::map<std::string, std::string> FilesUnder(const fs::path& dir) {
  std::map<std::string, std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::string path = e.path().string();
    if (path.size() > 3 && path.substr(path.size() - 3) == ".gz") {
      auto text = GzipRead(path);
      out[path] = text.ok() ? *text : "(unreadable)";
    } else {
      out[path] = ReadFile(e.path());
    }
  }
  return out;
}

int Mode(const fs::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 0777) : -1;
}

const std::string kYaml = it::ReadConfig("privacy.yaml");

struct Person {
  std::string id, role;
  std::vector<std::string> strings;  // what must be found nowhere once they are forgotten
};

}  // namespace

TEST(Privacy, AForgottenPersonLeavesNoByteInAnyFileTheProductWrites) {
  setenv("LEARNLOOP_IT_PSEUDONYM_KEY", "it-pseudonym-key-0123456789abcdef", 1);
  it::SimRun run;
  Time start = *ParseIso("2026-11-02T06:00:00Z");  // a Monday
  ASSERT_EQ(
      run.Start(start,
                {"--people", "135", "--seed", "31", "--history-days", "3", "--horizon-days", "8"},
                kYaml),
      "");
  std::string cfg = run.WriteConfig();
  std::string log = run.dir + "/run.log";
  // A week's first days; then a person who answers joins the leaderboard, which Friday posts.
  ASSERT_EQ(it::RunLearnloop(cfg, run.sim.base_url(), *ParseIso("2026-11-05T12:00:00Z"),
                             std::nullopt, log),
            0)
      << ReadFile(log);

  auto st = store::OpenSqlite(run.dir + "/data/store.db");
  ASSERT_TRUE(st.ok());
  std::map<std::string, int> points;
  for (const auto& a : Ok((*st)->AllAnswers())) points[a.user_id] += a.points;
  std::string opted;
  for (const auto& [id, p] : points)
    if (p > 0 && (opted.empty() || p > points[opted])) opted = id;
  ASSERT_FALSE(opted.empty()) << "nobody answered the quiz";
  st->reset();
  std::string out = run.dir + "/cli.out";
  ASSERT_EQ(Cli("people opt-in " + opted + " --config " + cfg, out), 0) << ReadFile(out);
  ASSERT_EQ(it::RunLearnloop(cfg, run.sim.base_url(), *ParseIso("2026-11-06T18:00:00Z"),
                             std::nullopt, log),
            0)
      << ReadFile(log);

  // Whom to forget: someone in each of the ways a person leaves traces.
  st = store::OpenSqlite(run.dir + "/data/store.db");
  ASSERT_TRUE(st.ok());
  store::Store& s = **st;
  auto users = Ok(s.AllUsers());
  auto messages = Ok(s.AllMessages());
  std::map<std::string, User> by_id;
  for (const auto& u : users) by_id[u.id] = u;
  // A name or email that is theirs alone (not inside anyone else's) can be looked for.
  auto distinct = [&](const std::string& id) {
    const User& me = by_id[id];
    if (me.is_bot || me.name.size() < 6) return false;
    for (const auto& u : users)
      if (u.id != id && (u.name.find(me.name) != std::string::npos ||
                         (me.email && u.email && u.email->find(*me.email) != std::string::npos)))
        return false;
    return true;
  };
  std::vector<Person> people;
  std::set<std::string> taken;
  auto pick = [&](const std::string& role, const std::vector<std::string>& candidates) {
    for (const auto& id : candidates)
      if (by_id.count(id) && !taken.count(id) && distinct(id)) {
        taken.insert(id);
        people.push_back({id, role, {}});
        return;
      }
    ADD_FAILURE() << "nobody to forget as " << role;
  };
  std::vector<std::string> posters, repliers, reactors, answerers, reminded, cohort;
  for (const auto& m : messages) (m.reply_to_id ? repliers : posters).push_back(m.author_id);
  for (const auto& r : Ok(s.AllReactions())) reactors.push_back(r.user_id);
  for (const auto& a : Ok(s.AllAnswers())) answerers.push_back(a.user_id);
  for (const auto& o : Ok(s.AllOutbox())) {
    if (o.key.rfind("reminder:", 0) != 0 || !o.sent_body) continue;
    for (size_t at = o.sent_body->find("{{mention:"); at != std::string::npos;
         at = o.sent_body->find("{{mention:", at + 1))
      reminded.push_back("yammer:" +
                         o.sent_body->substr(at + 10, o.sent_body->find('|', at) - at - 10));
  }
  for (const auto& p : Ok(s.AllPrompts()))
    for (const auto& id : p.audience) cohort.push_back(id);
  pick("leaderboard", {opted});
  pick("reminded by name", reminded);
  pick("newcomer", cohort);
  pick("answerer", answerers);
  pick("poster", posters);
  pick("replier", repliers);
  pick("reactor", reactors);
  ASSERT_EQ(people.size(), 7u);
  // The leaderboard named them, a reminder mentioned them.
  bool on_board = false, in_reminder = false;
  for (const auto& o : Ok(s.AllOutbox())) {
    on_board |=
        o.key.rfind("leaderboard:", 0) == 0 && o.body.find(by_id[opted].name) != o.body.npos;
    in_reminder |= o.key.rfind("reminder:", 0) == 0 &&
                   o.body.find("{{mention:" + NativeId(people[1].id) + "|") != o.body.npos;
  }
  EXPECT_TRUE(on_board);
  EXPECT_TRUE(in_reminder);

  std::string key = "it-pseudonym-key-0123456789abcdef";
  for (auto& p : people) {
    const User& u = by_id[p.id];
    p.strings = {p.id, NativeId(p.id), u.name, analytics::Pseudonym(key, p.id)};
    if (u.email) p.strings.push_back(*u.email);
    // What they wrote, where nobody else wrote the same.
    for (const auto& m : messages) {
      if (m.author_id != p.id || m.text.size() < 24) continue;
      bool theirs = std::none_of(messages.begin(), messages.end(), [&](const Message& o) {
        return o.author_id != p.id && o.text.find(m.text) != std::string::npos;
      });
      if (theirs) p.strings.push_back(m.text);
    }
  }
  // Before: the files do name them (the search below can find what it looks for).
  {
    std::string all;
    for (const auto& [path, text] : FilesUnder(run.dir + "/archive")) all += text;
    for (const auto& p : people) EXPECT_NE(all.find(p.strings[2]), std::string::npos) << p.role;
  }
  st->reset();

  for (const auto& p : people)
    ASSERT_EQ(Cli("forget " + p.id + " --config " + cfg, out), 0) << ReadFile(out);
  EXPECT_EQ(ReadFile(out).find("in use by another process"), std::string::npos) << ReadFile(out);
  ASSERT_EQ(Cli("export --config " + cfg + " --out " + run.dir + "/export", out), 0)
      << ReadFile(out);
  EXPECT_NE(ReadFile(out).find("not exported: the secrets"), std::string::npos);
  fs::create_directories(run.dir + "/later");
  for (const char* f : {"json", "md", "html"})
    ASSERT_EQ(Cli("report --config " + cfg + " --week 2026-W45 --as-of 2026-11-06T18:00:00Z " +
                      "--format " + f + " --out " + run.dir + "/later/report." + f,
                  out),
              0)
        << ReadFile(out);
  ASSERT_EQ(Cli("report --config " + cfg + " --week 2026-W45 --as-of 2026-11-06T18:00:00Z " +
                    "--format csv --out " + run.dir + "/later/csv",
                out),
            0)
      << ReadFile(out);

  std::map<std::string, std::string> files;
  for (const char* where : {"/data", "/archive", "/export", "/later"})
    files.merge(FilesUnder(run.dir + where));
  EXPECT_TRUE(files.count(run.dir + "/data/store.db"));
  EXPECT_GE(files.size(), 12u);
  for (const auto& p : people)
    for (const auto& needle : p.strings)
      for (const auto& [path, text] : files) {
        size_t at = text.find(needle);
        EXPECT_EQ(at, std::string::npos)
            << p.role << " " << p.id << ": '" << needle << "' is still in " << path << ": …"
            << text.substr(at < 200 ? 0 : at - 200, 400) << "…";
      }

  // They stay gone: the next run syncs the network again (where they still are).
  ASSERT_EQ(it::RunLearnloop(cfg, run.sim.base_url(), *ParseIso("2026-11-06T20:00:00Z"),
                             std::nullopt, log),
            0);
  st = store::OpenSqlite(run.dir + "/data/store.db");
  ASSERT_TRUE(st.ok());
  for (const auto& p : people) {
    EXPECT_FALSE(Ok((*st)->GetUser(p.id))) << p.role;
    EXPECT_TRUE(Ok((*st)->IsForgotten(p.id))) << p.role;
  }

  // Readable by their owner only: the store, its log, the archive, and the folders made for
  // them.
  EXPECT_EQ(Mode(run.dir + "/data"), 0700);
  EXPECT_EQ(Mode(run.dir + "/data/store.db"), 0600);
  EXPECT_EQ(Mode(run.dir + "/data/store.db-wal"), 0600);
  EXPECT_EQ(Mode(run.dir + "/archive"), 0700);
  for (const auto& e : fs::recursive_directory_iterator(run.dir + "/archive"))
    EXPECT_EQ(Mode(e.path()), e.is_directory() ? 0700 : 0600) << e.path();
}

// The `trace` level says what the connectors send and receive, and no credential: not the
// tokens and secrets of the configuration, not those the store keeps, not an access token.
TEST(Privacy, NoSecretInAnyLogLineAtTraceLevel) {
  setenv("LEARNLOOP_IT_SECRET", "it-client-secret-7f3a", 1);
  setenv("LEARNLOOP_IT_BOT_SECRET", "it-bot-secret-9c1e", 1);
  setenv("LEARNLOOP_IT_PSEUDONYM_KEY", "it-pseudonym-key-5b2d", 1);
  setenv("LEARNLOOP_IT_REFRESH", "it-refresh-4d8e", 1);
  it::SimRun run;
  Time start = *ParseIso("2026-11-02T06:00:00Z");
  ASSERT_EQ(run.Start(start,
                      {"--people", "60", "--seed", "5", "--history-days", "2", "--horizon-days",
                       "2", "--token-lifetime", "20m", "--client-secret", "it-client-secret-7f3a",
                       "--bot-client-id", "sim-bot", "--bot-client-secret", "it-bot-secret-9c1e",
                       "--refresh-token", "it-refresh-4d8e"},
                      it::ReadConfig("privacy-trace.yaml")),
            "");
  std::string log = run.dir + "/trace.log";
  ASSERT_EQ(it::RunLearnloop(run.WriteConfig(), run.sim.base_url(),
                             *ParseIso("2026-11-02T14:00:00Z"), std::nullopt, log),
            0)
      << ReadFile(log);
  std::string said = ReadFile(log);
  // It did log at trace: every request, with its answer.
  EXPECT_NE(said.find("[trace]"), std::string::npos);
  EXPECT_NE(said.find("HTTP 200"), std::string::npos);
  std::vector<std::string> secrets = {"it-client-secret-7f3a",
                                      "it-bot-secret-9c1e",
                                      "it-pseudonym-key-5b2d",
                                      "it-refresh-4d8e",
                                      "Bearer ",
                                      "eyJ"};
  auto st = store::OpenSqlite(run.dir + "/store.db");
  ASSERT_TRUE(st.ok());
  for (const auto& [k, v] : Ok((*st)->SecretsWithPrefix("")))
    if (v.size() >= 8) secrets.push_back(v);
  EXPECT_GE(secrets.size(), 8u);  // the store keeps secrets of its own (a refresh token)
  for (const auto& secret : secrets) {
    size_t at = said.find(secret);
    EXPECT_EQ(at, std::string::npos)
        << "'" << secret << "' in: " << said.substr(said.rfind('\n', at) + 1, 300);
  }
}
