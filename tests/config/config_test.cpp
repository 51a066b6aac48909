#include "config/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <vector>

#include "connectors/registry.h"
#include "connectors/teams/settings.h"
#include "connectors/yammer/settings.h"
#include "core/time.h"

using namespace learnloop;

namespace {

std::string Errors(const config::LoadResult& r) {
  std::string s;
  for (const auto& e : r.errors) s += e.ToString() + "\n";
  return s;
}

const char* kGood = R"(timezone: Europe/Berlin
store:
  path: x.db
networks:
  - type: yammer
    token: ${LEARNLOOP_CFG_TOKEN}
    poll_interval: 2m
campaigns:
  - name: q
    network: yammer
    community: "123"
    schedule: "0 9 * * MON"
    prompts: ["a", "b"]
)";

}  // namespace

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override { setenv("LEARNLOOP_CFG_TOKEN", "tok", 1); }
};

TEST_F(ConfigTest, LoadsAValidFile) {
  auto r = config::LoadString(kGood, "c.yaml", connectors::Kinds());
  ASSERT_TRUE(r.config) << Errors(r);
  const auto& c = *r.config;
  EXPECT_EQ(c.networks.at(0).name, "yammer");
  auto y = connectors::yammer::ReadSettings(c.networks.at(0));
  EXPECT_EQ(y.base_url, "https://www.yammer.com/api/v1");
  EXPECT_EQ(y.token.Reveal(), "tok");
  EXPECT_EQ(c.networks.at(0).poll_interval, std::chrono::minutes{2});
  EXPECT_EQ(c.campaigns.at(0).timezone, "Europe/Berlin");  // inherited
  EXPECT_EQ(c.campaigns.at(0).open_for, std::chrono::hours{72});
}

TEST_F(ConfigTest, ReportsEveryProblemWithLineAndColumn) {
  std::string text = R"(timezone: Mars/Olympus
stroe:
  path: x.db
networks:
  - type: yammer
    token: literal-secret
    poll_interval: often
campaigns:
  - name: q
    network: slack
    community: "1"
    schedule: "0 9 * * MONDAYS"
    prompts: []
)";
  auto r = config::LoadString(text, "bad.yaml", connectors::Kinds());
  EXPECT_FALSE(r.config);
  std::string e = Errors(r);
  EXPECT_NE(e.find("bad.yaml:1:11: unknown time zone 'Mars/Olympus'"), std::string::npos) << e;
  EXPECT_NE(e.find("bad.yaml:2:1: config: unknown key 'stroe' (did you mean 'store'?)"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("bad.yaml:6:12: 'token': secrets must be written as ${ENV_VAR}"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("bad.yaml:7:20: 'poll_interval' must be a duration"), std::string::npos) << e;
  EXPECT_NE(e.find("bad.yaml:10:14: campaign 'q' names unknown network 'slack'"), std::string::npos)
      << e;
  EXPECT_NE(e.find("bad.yaml:12:15: schedule '0 9 * * MONDAYS': day-of-week field"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("bad.yaml:9:5: campaign 'q' needs at least one of 'prompts' or 'steps'"),
            std::string::npos)
      << e;
}

TEST_F(ConfigTest, MissingRequiredAndWrongTypes) {
  auto r = config::LoadString("networks:\n  - type: yammer\n    communities: 5\n", "m.yaml",
                              connectors::Kinds());
  std::string e = Errors(r);
  EXPECT_NE(e.find("m.yaml:2:5: network 'yammer': give 'auth' (or, for Viva Engage, a 'token'"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("m.yaml:3:18: 'communities' must be a list"), std::string::npos) << e;
  auto none = config::LoadString("timezone: UTC\n", "n.yaml", connectors::Kinds());
  EXPECT_NE(Errors(none).find("missing required key 'networks'"), std::string::npos);
  auto syntax = config::LoadString("networks: [\n", "s.yaml", connectors::Kinds());
  EXPECT_NE(Errors(syntax).find("s.yaml:"), std::string::npos);
}

TEST_F(ConfigTest, AnUnsetSecretOfANetworkMattersOnlyToWhoTalksToTheEsn) {
  // The configuration loads (export, report, forget… need no ESN secret), and says where the
  // secret is missing for the commands that do.
  unsetenv("LEARNLOOP_CFG_TOKEN");
  auto r = config::LoadString(kGood, "c.yaml", connectors::Kinds());
  ASSERT_TRUE(r.config) << Errors(r);
  ASSERT_EQ(r.config->network_secret_errors.size(), 1u);
  EXPECT_EQ(r.config->network_secret_errors[0].ToString(),
            "c.yaml:6:12: 'token': environment variable LEARNLOOP_CFG_TOKEN is not set");
  // Other secrets (the pseudonym key of reports) are needed by every command.
  auto key =
      config::LoadString(std::string(kGood) + "privacy: {pseudonym_key: \"${LL_NO_SUCH_VAR}\"}\n",
                         "k.yaml", connectors::Kinds());
  EXPECT_FALSE(key.config);
  EXPECT_NE(Errors(key).find("LL_NO_SUCH_VAR is not set"), std::string::npos);
}

TEST_F(ConfigTest, ExampleConfigsLoad) {
  setenv("LEARNLOOP_DEMO_TOKEN", "t", 1);
  setenv("LEARNLOOP_YAMMER_TOKEN", "t", 1);
  for (const char* f : {"demo.yaml", "yammer.yaml"}) {
    auto r = config::LoadFile(std::string(LEARNLOOP_SOURCE_DIR) + "/config/examples/" + f,
                              connectors::Kinds());
    EXPECT_TRUE(r.config) << Errors(r);
  }
  setenv("LEARNLOOP_TEAMS_SECRET", "t", 1);
  for (const char* c : {"yammer", "teams"}) {
    auto sample =
        config::LoadFile(std::string(LEARNLOOP_SOURCE_DIR) + "/connectors/" + c + "/sample.yaml",
                         connectors::Kinds());
    EXPECT_TRUE(sample.config) << Errors(sample);
  }
}

TEST_F(ConfigTest, AuthBlocksAndTeamsNetworks) {
  setenv("LL_TEST_SECRET", "s3cret", 1);
  auto ok = config::LoadString(R"(networks:
  - type: yammer
    auth: {tenant: contoso.example, client_id: app, refresh_token: "${LL_TEST_SECRET}"}
  - type: teams
    auth: {tenant: contoso.example, client_id: app, client_secret: "${LL_TEST_SECRET}"}
    teams: [fbe2bf47-16c8-47cf-b4a5-4b9b187c508b]
    bot: {service_url: "https://smba.example/emea/"}
)",
                               "ok.yaml", connectors::Kinds());
  ASSERT_TRUE(ok.config) << Errors(ok);
  auto y = connectors::yammer::ReadSettings(ok.config->networks[0]);
  EXPECT_TRUE(y.auth.enabled);
  EXPECT_EQ(y.auth.TokenUrl(),
            "https://login.microsoftonline.com/contoso.example/oauth2/v2.0/token");
  EXPECT_EQ(y.auth.refresh_token.Reveal(), "s3cret");
  auto t = connectors::teams::ReadSettings(ok.config->networks[1]);
  EXPECT_EQ(t.base_url, "https://graph.microsoft.com/v1.0");
  EXPECT_EQ(t.bot.client_id, "app");
  EXPECT_EQ(t.bot.service_url, "https://smba.example/emea/");
  ASSERT_EQ(t.teams.size(), 1u);

  auto bad = config::LoadString(R"(networks:
  - type: yammer
    auth: {tenant: c, client_id: app}
  - type: teams
    name: t1
    token: "${LL_TEST_SECRET}"
  - type: teams
    name: t2
    auth: {tenant: c, client_id: app}
    teams: [x]
)",
                                "bad.yaml", connectors::Kinds());
  std::string e = Errors(bad);
  EXPECT_NE(e.find("bad.yaml:3:11: network 'yammer': Viva Engage accepts only delegated tokens"),
            std::string::npos)
      << e;
  // A key of another kind of network is named as such, where it is.
  EXPECT_NE(e.find("bad.yaml:6:5: network 't1': 'token' is a key of yammer networks, not of teams "
                   "ones"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("network 't1': give 'auth'"), std::string::npos) << e;
  EXPECT_NE(e.find("network 't1': missing required key 'teams'"), std::string::npos) << e;
  EXPECT_NE(e.find("network 't2': Teams reads with an app-only token: give 'client_secret'"),
            std::string::npos)
      << e;
}

TEST_F(ConfigTest, BackfillSourceIsFeedsOrTheVivaEngageExport) {
  setenv("LL_TEST_SECRET", "s3cret", 1);
  auto ok = config::LoadString(R"(networks:
  - type: yammer
    token: "${LL_TEST_SECRET}"
    backfill_source: export
    export_url: https://export.example/api/v1/export
  - type: yammer
    name: y2
    token: "${LL_TEST_SECRET}"
)",
                               "ok.yaml", connectors::Kinds());
  ASSERT_TRUE(ok.config) << Errors(ok);
  auto y1 = connectors::yammer::ReadSettings(ok.config->networks[0]);
  EXPECT_TRUE(y1.export_backfill);
  EXPECT_EQ(y1.export_url, "https://export.example/api/v1/export");
  EXPECT_FALSE(connectors::yammer::ReadSettings(ok.config->networks[1]).export_backfill);
  auto bad = config::LoadString(R"(networks:
  - type: yammer
    token: "${LL_TEST_SECRET}"
    backfill_source: dump
  - type: teams
    auth: {tenant: c, client_id: app, client_secret: x}
    teams: [x]
    backfill_source: export
)",
                                "bad.yaml", connectors::Kinds());
  std::string e = Errors(bad);
  EXPECT_NE(e.find("bad.yaml:4:22: 'backfill_source' is 'feeds' or 'export', not 'dump'"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("bad.yaml:8:5: network 'teams': 'backfill_source' is a key of yammer "
                   "networks, not of teams ones"),
            std::string::npos)
      << e;
}

TEST_F(ConfigTest, SpacedCampaignsAndDaysAfterJoiningAreChecked) {
  auto ok = config::LoadString(R"(networks:
  - type: yammer
    token: ${LEARNLOOP_CFG_TOKEN}
campaigns:
  - name: practice
    network: yammer
    community: "1"
    mode: spaced
    schedule: "0 9,14 * * MON-FRI"
    spacing: {per_person: 3, delivery: public, daily_cap: 2, mention_cap: 5, wrong_after: 1d, right_after: 10d, retire_after: 3}
    steps: [{text: q, kind: choice, options: [a, b], correct: A}]
  - name: onboarding
    network: yammer
    community: "1"
    schedule: {after_joining: [0, 2, 9], at: "08:15"}
    prompts: [a, b, c]
)",
                               "ok.yaml", connectors::Kinds());
  ASSERT_TRUE(ok.config) << Errors(ok);
  const auto& p = ok.config->campaigns[0];
  EXPECT_TRUE(p.spaced.enabled);
  EXPECT_EQ(p.spaced.per_person, 3);
  EXPECT_FALSE(p.spaced.privately);
  EXPECT_EQ(p.spaced.daily_cap, 2);
  EXPECT_EQ(p.spaced.mention_cap, 5);
  EXPECT_FALSE(ok.config->networks[0].private_messages);  // nothing is asked privately there
  EXPECT_EQ(p.spaced.wrong_after, std::chrono::hours{24});
  EXPECT_EQ(p.spaced.right_after, std::chrono::hours{240});
  EXPECT_EQ(p.spaced.retire_after, 3);
  const auto& o = ok.config->campaigns[1];
  EXPECT_EQ(o.after_joining, (std::vector<int>{0, 2, 9}));
  EXPECT_EQ(o.at_minute, 8 * 60 + 15);
  EXPECT_FALSE(o.spaced.enabled);

  auto bad = config::LoadString(R"(networks:
  - type: yammer
    token: ${LEARNLOOP_CFG_TOKEN}
  - type: teams
    auth: {tenant: c, client_id: app, client_secret: x}
    teams: [x]
campaigns:
  - name: a
    network: yammer
    community: "1"
    mode: spaced
    schedule: "0 9 * * *"
    prompts: [free text cannot be right or wrong]
  - name: b
    network: yammer
    community: "1"
    mode: drip
    schedule: "0 9 * * *"
    spacing: {daily_cap: 2}
    prompts: [q]
  - name: c
    network: teams
    community: "19:x"
    schedule: {after_joining: [3, 1]}
    prompts: [q, r]
)",
                                "bad.yaml", connectors::Kinds());
  std::string e = Errors(bad);
  for (const char* want :
       {"bad.yaml:8:5: campaign 'a': every question of a spaced campaign is a choice step",
        "bad.yaml:17:11: 'mode' is sequence or spaced, not 'drip'",
        "bad.yaml:19:14: 'spacing' is for campaigns with 'mode: spaced'",
        "bad.yaml:24:35: days after joining must grow",
        "bad.yaml:24:15: campaign 'c': days after joining need the date people joined"})
    EXPECT_NE(e.find(want), std::string::npos) << want << "\n" << e;
}

// The usual mistakes of a campaign author: refused (errors, with FILE:LINE:COL) when the
// campaign cannot work as written, said (warnings) when it works but probably not as meant.
TEST_F(ConfigTest, CampaignMistakesAreRefusedOrSaid) {
  auto r = config::LoadString(R"(timezone: Europe/Berlin
log_level: verbose
networks:
  - type: yammer
    token: ${LEARNLOOP_CFG_TOKEN}
campaigns:
  - name: backwards
    network: yammer
    community: "1"
    schedule: "0 9 * * MON"
    start: 2027-03-10
    end: 2027-03-01
    prompts: ["a"]
  - name: no-such-day
    network: yammer
    community: "1"
    schedule: "0 9 * * MON"
    start: 2027-02-31
    prompts: ["a"]
  - name: empty
    network: yammer
    community: "1"
    schedule: "0 9 * * MON"
    steps:
      - text: "   "
  - name: night-owl
    network: yammer
    community: "1"
    schedule: "0 22 * * *"
    quiet_hours: "20:00-08:00"
    quiet_action: skip
    prompts: ["a"]
)",
                              "m.yaml", connectors::Kinds());
  std::string e = Errors(r);
  EXPECT_NE(e.find("m.yaml:2:12: 'log_level' is one of trace, debug, info, warn, error, "
                   "critical, off"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("m.yaml:12:10: campaign 'backwards' ends before it starts"), std::string::npos)
      << e;
  EXPECT_NE(e.find("m.yaml:18:12: 'start' must be a date that exists"), std::string::npos) << e;
  EXPECT_NE(e.find("m.yaml:25:15: a step's 'text' is what people read: it cannot be empty"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("m.yaml:30:18: campaign 'night-owl': every prompt of the next 8 weeks"),
            std::string::npos)
      << e;

  auto w = config::LoadString(R"(networks:
  - type: yammer
    token: ${LEARNLOOP_CFG_TOKEN}
campaigns:
  - name: unscored
    network: yammer
    community: "1"
    schedule: "0 9 * * MON"
    open_for: 24h
    end: 2020-01-31
    reminders: {after: 16h, max: 2}
    steps:
      - {text: "Which?", kind: choice, options: [x, y]}
)",
                              "w.yaml", connectors::Kinds());
  ASSERT_TRUE(w.config) << Errors(w);  // warnings only: it loads
  std::string ws;
  for (const auto& d : w.warnings) ws += d.ToString() + "\n";
  EXPECT_NE(ws.find("w.yaml:10:10: warning: campaign 'unscored' ended on 2020-01-31"),
            std::string::npos)
      << ws;
  EXPECT_NE(ws.find("w.yaml:13:9: warning: campaign 'unscored', step 1: a choice without "
                    "'correct'"),
            std::string::npos)
      << ws;
  EXPECT_NE(ws.find("w.yaml:11:16: warning: campaign 'unscored': reminder 2 would come 32.0 h "
                    "after the prompt, when it is closed"),
            std::string::npos)
      << ws;
}

// `start` and `end` are local dates of the campaign's zone, both days included: its first
// prompt is on the start date and its last on the end date, whatever the zone's offset or
// clock change that day.
TEST_F(ConfigTest, StartAndEndAreLocalDatesBothIncluded) {
  for (const char* zone :
       {"Europe/Berlin", "America/Los_Angeles", "Asia/Tokyo", "Pacific/Auckland"}) {
    auto r = config::LoadString(std::string(R"(networks:
  - type: yammer
    token: ${LEARNLOOP_CFG_TOKEN}
campaigns:
  - name: spring
    network: yammer
    community: "1"
    timezone: )") + zone + R"(
    schedule: "0 0,9 * * *"
    start: 2026-03-28
    end: 2026-04-05
    prompts: ["a"]
    repeat: true
)",
                                "z.yaml", connectors::Kinds());
    ASSERT_TRUE(r.config) << Errors(r);
    const auto& c = r.config->campaigns[0];
    // The first instant of 28 March and of 6 April, local.
    EXPECT_EQ(FormatLocal(c.tz, *c.start).substr(0, 16), "2026-03-28 00:00") << zone;
    EXPECT_EQ(FormatLocal(c.tz, *c.end).substr(0, 16), "2026-04-06 00:00") << zone;
  }
}

TEST_F(ConfigTest, WhatPassesTheCheckAlsoRuns) {
  auto errors = [](const std::string& text) {
    return Errors(config::LoadString(text, "c.yaml", connectors::Kinds()));
  };
  std::string good = kGood;
  // Ports: a number from 0 to 65535, nothing that would wrap or throw later.
  for (const char* port : {"99999999999", "70000", "65536", "-1", "80a"})
    EXPECT_NE(errors(good + "server:\n  listen: \"127.0.0.1:" + port + "\"\n")
                  .find("c.yaml:15:11: 'listen' must be host:port with a port from 1 to 65535"),
              std::string::npos)
        << port << ": " << errors(good + "server:\n  listen: \"127.0.0.1:" + port + "\"\n");
  EXPECT_EQ(errors(good + "server: {listen: \"127.0.0.1:65535\"}\n"), "");
  // A key given twice is an error at the second, naming the first.
  EXPECT_NE(errors(good + "campaigns: []\n")
                .find("c.yaml:14:1: 'campaigns' is given twice (first at line 8, column 1)"),
            std::string::npos)
      << errors(good + "campaigns: []\n");
  EXPECT_NE(errors("networks:\n  - type: yammer\n    type: teams\n")
                .find("c.yaml:3:5: 'type' is given twice (first at line 2, column 5)"),
            std::string::npos);
  // Nothing at all.
  EXPECT_EQ(errors(""), "c.yaml:1:1: empty configuration\n");
  EXPECT_EQ(errors("\n  \n"), "c.yaml:1:1: empty configuration\n");
  // Durations: at most a year; sums that would overflow are no durations.
  std::string late = good;
  late.replace(late.find("poll_interval: 2m"), 17, "poll_interval: 1000000000w");
  EXPECT_NE(errors(late).find("c.yaml:7:20: 'poll_interval' must be at most 366d"),
            std::string::npos)
      << errors(late);
  std::string many;
  for (int i = 0; i < 31; ++i) many += "1000000000w";
  EXPECT_FALSE(ParseDuration(many));
  EXPECT_EQ(ParseDuration("1w2d"), std::chrono::hours{24 * 9});
  // Secret files: regular, small.
  auto dir = std::filesystem::temp_directory_path() / ("cfg-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "big") << std::string(70 * 1024, 'x');
  for (const auto& [file, why] :
       {std::pair<std::string, std::string>{"/dev/zero", "is not a regular file"},
        {(dir / "big").string(), "is larger than 64 KiB"},
        {dir.string(), "is not a regular file"},
        {(dir / "missing").string(), "cannot read secret file"}}) {
    std::string text = good + "privacy: {pseudonym_key_file: " + file + "}\n";
    EXPECT_NE(errors(text).find(why), std::string::npos) << file << ": " << errors(text);
  }
  std::filesystem::remove_all(dir);
}

// A corpus of broken configurations (tests/data/broken_configs.txt: "### what", the file, then
// a line ">>> " for each message expected among the errors, with its place): each is refused,
// saying where and what. (LEARNLOOP_PRINT_CORPUS=1 prints what each gives.)
TEST_F(ConfigTest, EveryBrokenConfigurationOfTheCorpusIsRefusedSayingWhereAndWhat) {
  std::ifstream in(std::string(LEARNLOOP_SOURCE_DIR) + "/tests/data/broken_configs.txt");
  ASSERT_TRUE(in) << "tests/data/broken_configs.txt";
  struct Case {
    std::string name, text;
    std::vector<std::string> expected;
  };
  std::vector<Case> cases;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("### ", 0) == 0) {
      cases.push_back({line.substr(4), "", {}});
    } else if (line.rfind(">>> ", 0) == 0 && !cases.empty()) {
      cases.back().expected.push_back(line.substr(4));
    } else if (!cases.empty()) {
      cases.back().text += line + "\n";
    }
  }
  EXPECT_GE(cases.size(), 80u);
  bool print = std::getenv("LEARNLOOP_PRINT_CORPUS") != nullptr;
  for (const auto& c : cases) {
    auto r = config::LoadString(c.text, "c.yaml", connectors::Kinds());
    std::string e = Errors(r);
    if (print) std::cout << "### " << c.name << "\n" << e;
    EXPECT_FALSE(r.config) << c.name;
    EXPECT_FALSE(c.expected.empty()) << c.name;
    for (const auto& expected : c.expected)
      EXPECT_NE(e.find(expected), std::string::npos)
          << c.name << ": expected '" << expected << "' among:\n"
          << e;
  }
}

// docs/configuration.md and each connector's README show a network's keys as the connectors
// declare them, between "<!-- keys: TYPE -->" and "<!-- /keys -->" ("common": the keys of every
// network). LEARNLOOP_UPDATE_DOCS=1 writes the declarations there.
TEST(ConfigDocs, NetworkKeyTablesAreTheConnectorsDeclarations) {
  std::map<std::string, std::string> tables{
      {"common", config::KeyTable(config::CommonNetworkKeys())}};
  std::vector<std::pair<std::string, std::vector<std::string>>> files = {
      {"docs/configuration.md", {"common"}}};
  for (const auto& k : connectors::Kinds()) {
    tables[k.type] = config::KeyTable(k.keys);
    files.front().second.push_back(k.type);
    files.push_back({"connectors/" + k.type + "/README.md", {k.type}});
  }
  bool update = std::getenv("LEARNLOOP_UPDATE_DOCS") != nullptr;
  for (const auto& [file, wanted] : files) {
    std::string path = std::string(LEARNLOOP_SOURCE_DIR) + "/" + file;
    std::ifstream in(path);
    ASSERT_TRUE(in) << path;
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string fixed = text;
    for (const auto& type : wanted) {
      std::string open = "<!-- keys: " + type + " -->\n", close = "<!-- /keys -->";
      auto from = fixed.find(open);
      ASSERT_NE(from, std::string::npos) << file << " has no table of " << type << "'s keys";
      from += open.size();
      auto to = fixed.find(close, from);
      ASSERT_NE(to, std::string::npos) << file << ": " << type << "'s table is not closed";
      fixed.replace(from, to - from, tables[type]);
    }
    if (update && fixed != text) std::ofstream(path) << fixed;
    EXPECT_EQ(text, fixed) << file
                           << " does not show the keys as declared: run the unit tests with "
                              "LEARNLOOP_UPDATE_DOCS=1";
  }
}

// A campaign file is checked as the configuration is: a key given twice (the second prompt
// list an author pasted under the first) is an error, not a silent loss of one of them.
TEST(ConfigCampaignFile, AKeyGivenTwiceIsAnErrorAtTheSecond) {
  auto path =
      std::filesystem::temp_directory_path() / ("campaign-" + std::to_string(getpid()) + ".yaml");
  std::ofstream(path) << "- name: weekly\n"
                         "  network: yammer\n"
                         "  community: \"123\"\n"
                         "  schedule: \"0 9 * * MON\"\n"
                         "  prompts: [\"a\"]\n"
                         "  prompts: [\"b\"]\n";
  auto r = config::LoadCampaignFile(path.string());
  std::filesystem::remove(path);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].ToString(),
            path.string() + ":6:3: 'prompts' is given twice (first at line 5, column 3)");
  EXPECT_TRUE(r.campaigns.empty());
}
