#include "bot/answers.h"

#include <gtest/gtest.h>

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
