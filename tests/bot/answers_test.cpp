#include "bot/answers.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>

using namespace learnloop::bot;

namespace {
const std::vector<std::string> kOptions{"Ask a colleague who has done it before",
                                        "Search the intranet", "Work it out alone",
                                        "Wait for the next training"};
}

// Replies as people write them, and what they choose (-1: no choice can be read).
TEST(ParseChoice, RealLookingReplies) {
  struct Case {
    const char* reply;
    int expected;
  } cases[] = {
      {"B", 1},
      {"b", 1},
      {"b)", 1},
      {"B.", 1},
      {"(c)", 2},
      {"  d  ", 3},
      {"A", 0},
      {"a)", 0},
      {"a) because she already knows the traps", 0},
      {"B - I always start with the intranet", 1},
      {"C: honestly, alone", 2},
      {"b because the intranet is fast", 1},
      {"Option B", 1},
      {"option b, no doubt", 1},
      {"Answer: d", 3},
      {"my answer is C", 2},
      {"I'd go with (a)", 0},
      {"I think it's B.", 1},
      {"It is a", 0},
      {"@AdaLovelace B", 1},
      {"[[user:1558849124]] c)", 2},
      {"<at>learnloop</at> d", 3},
      {"2", 1},
      {"Ask a colleague who has done it before!", 0},
      {"I'd search the intranet first", 1},
      {"work it out alone, then ask", 2},
      {"A good question - I really don't know", -1},
      {"I think this is a hard one", -1},
      {"b or c, can't decide", -1},
      {"Option B. Or maybe option C", -1},
      {"e", -1},
      {"7", -1},
      {"", -1},
      {"Nice prompt, thanks!", -1},
      {"Search the intranet or work it out alone", -1},
  };
  for (const auto& c : cases) {
    auto got = ParseChoice(c.reply, kOptions);
    EXPECT_EQ(got.value_or(-1), c.expected) << "reply: '" << c.reply << "'";
  }
}

TEST(ParseChoice, NumbersAsOptionsAndOptionsInsideOthers) {
  std::vector<std::string> numbers{"5", "10", "15"};
  EXPECT_EQ(ParseChoice("10", numbers).value_or(-1), 1);
  EXPECT_EQ(ParseChoice("I'd say 15 minutes", numbers).value_or(-1), 2);
  EXPECT_EQ(ParseChoice("b", numbers).value_or(-1), 1);  // the label still works
  EXPECT_FALSE(ParseChoice("2", numbers).has_value());   // not the 2nd option: no such number
  std::vector<std::string> nested{"Teams", "Teams and Engage", "Email"};
  EXPECT_EQ(ParseChoice("teams and engage, clearly", nested).value_or(-1), 1);
  EXPECT_EQ(ParseChoice("Email.", nested).value_or(-1), 2);
  EXPECT_FALSE(ParseChoice("teams or email", nested).has_value());
}

TEST(ParseRating, NumbersStarsAndScales) {
  struct Case {
    const char* reply;
    int expected;
  } cases[] = {
      {"4", 4},
      {"5", 5},
      {"4/5", 4},
      {"3 out of 5", 3},
      {"I'd give it a 2", 2},
      {"rating: 1 - too long", 1},
      {"\xE2\x98\x85\xE2\x98\x85\xE2\x98\x85", 3},
      {"\xE2\xAD\x90\xE2\xAD\x90\xE2\xAD\x90\xE2\xAD\x90 great", 4},
      {"4\xEF\xB8\x8F\xE2\x83\xA3", 4},  // keycap emoji
      {"5/5!", 5},
      {"0", -1},
      {"6", -1},
      {"10/10", -1},
      {"3 or 4", -1},
      {"great session", -1},
      {"", -1},
  };
  for (const auto& c : cases)
    EXPECT_EQ(ParseRating(c.reply).value_or(-1), c.expected) << "reply: '" << c.reply << "'";
}

// A labelled corpus of replies (tests/data/answer_corpus.tsv: how people answer, in four
// languages, with hedges, quotes of the prompt, edits, and replies that choose nothing): what
// the parser scores must be right (precision ≥ 99 %), and it must score what a person would
// (recall ≥ 95 %).
TEST(ParseChoice, ALabelledCorpusOfRepliesIsReadAsAPersonReadsIt) {
  const std::map<std::string, std::vector<std::string>> sets = {
      {"q1", kOptions},
      {"q2", {"Histograms", "Pie charts", "Heatmaps"}},
      {"q3", {"Say no right away", "Ask what problem it solves", "Promise it for next quarter"}},
      {"q4",
       {"Email it", "Share a link", "Print it", "Post it in the community",
        "Present it in a meeting"}}};
  std::ifstream in(std::string(LEARNLOOP_SOURCE_DIR) + "/tests/data/answer_corpus.tsv");
  ASSERT_TRUE(in) << "no corpus";
  int rows = 0, scored = 0, scored_right = 0, scorable = 0, found = 0;
  std::string wrong;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    auto tab1 = line.find('\t'), tab2 = line.find('\t', tab1 + 1);
    ASSERT_NE(tab2, std::string::npos) << line;
    std::string set = line.substr(0, tab1), expected = line.substr(tab1 + 1, tab2 - tab1 - 1);
    std::string reply;  // with \n, \t and \\ read back
    for (size_t i = tab2 + 1; i < line.size(); ++i) {
      if (line[i] == '\\' && i + 1 < line.size()) {
        char e = line[++i];
        reply += e == 'n' ? '\n' : e == 't' ? '\t' : e;
      } else {
        reply += line[i];
      }
    }
    ++rows;
    auto got = ParseChoice(reply, sets.at(set));
    std::string as_read = got ? OptionLabel(*got) : "-";
    if (got) ++scored, scored_right += as_read == expected;
    if (expected != "-") ++scorable, found += as_read == expected;
    if (as_read != expected)
      wrong += "  " + set + " '" + reply + "': read " + as_read + ", meant " + expected + "\n";
  }
  double precision = scored ? 100.0 * scored_right / scored : 100;
  double recall = scorable ? 100.0 * found / scorable : 100;
  std::printf(
      "answer corpus: %d replies; %d scored, %.1f %% of them right (precision); %d "
      "scorable, %.1f %% of them read (recall)\n%s",
      rows, scored, precision, scorable, recall, wrong.c_str());
  EXPECT_GE(rows, 300);
  EXPECT_GE(precision, 99.0);
  EXPECT_GE(recall, 95.0);
}
