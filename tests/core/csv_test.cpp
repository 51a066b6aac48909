// CSV: RFC 4180 quoting, text a spreadsheet would run as a formula, parsing by column name.
#include "core/csv.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace learnloop;

TEST(Csv, QuotesOnlyWhatNeedsIt) {
  EXPECT_EQ(csv::Row({"1", "plain", ""}), "1,plain,\r\n");
  EXPECT_EQ(csv::Row({"a,b", "say \"hi\"", "two\nlines"}),
            "\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n");
}

TEST(Csv, SpreadsheetTextNeverStartsAFormulaAndLeavesNumbersAlone) {
  for (const char* formula : {"=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx", "-", "+", "-.5",
                              "-5.", "=HYPERLINK(\"http://x\",\"y\")"})
    EXPECT_EQ(csv::SpreadsheetText(formula), std::string("'") + formula) << formula;
  for (const char* kept : {"", "plain", "-0.25", "+3", "-12", "42", "a=b", "x-1", "'quoted"})
    EXPECT_EQ(csv::SpreadsheetText(kept), kept) << kept;
  EXPECT_EQ(csv::SpreadsheetRow({"=1", "-1", "a,b"}), "'=1,-1,\"a,b\"\r\n");
}

TEST(Csv, ParsesQuotedFieldsLineEndsAndEmptyFields) {
  std::string text =
      "\xEF\xBB\xBFid,body,group_id\r\n"
      "1,\"hello, \"\"world\"\"\",7\r\n"
      "2,\"line one\nline two\",\n"
      "3,,\r\n"
      "\n"
      "4,last";  // no line end at the very end
  std::vector<std::vector<std::string>> rows;
  ASSERT_TRUE(csv::Parse(text, [&](std::vector<std::string>& r) {
                rows.push_back(r);
                return true;
              }).ok());
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"id", "body", "group_id"}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"1", "hello, \"world\"", "7"}));
  EXPECT_EQ(rows[2], (std::vector<std::string>{"2", "line one\nline two", ""}));
  EXPECT_EQ(rows[3], (std::vector<std::string>{"3", "", ""}));
  EXPECT_EQ(rows[4], (std::vector<std::string>{"4", "last"}));
}

TEST(Csv, RoundTripAndUnterminatedQuote) {
  std::vector<std::string> f{"x", "a\"b", "c,d", "e\r\nf", " g "};
  std::vector<std::string> back;
  ASSERT_TRUE(csv::Parse(csv::Row(f), [&](std::vector<std::string>& r) {
                back = r;
                return true;
              }).ok());
  EXPECT_EQ(back, f);
  auto s = csv::Parse("id,body\n1,ok\n2,\"never\nclosed\n", [](auto&) { return true; });
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("line 3"), std::string::npos) << s.message();
}

TEST(Csv, TableByColumnName) {
  auto t = csv::Table::Read("b,a, c \n1,2,3\n4\n", {"a", "c"});
  ASSERT_TRUE(t.ok()) << t.error().message;
  ASSERT_EQ(t->size(), 2u);
  EXPECT_EQ(t->Get(0, "a"), "2");
  EXPECT_EQ(t->Get(0, "c"), "3");
  EXPECT_EQ(t->Get(1, "b"), "4");
  EXPECT_EQ(t->Get(1, "a"), "");  // a short row
  EXPECT_EQ(t->Get(0, "nope"), "");
  auto missing = csv::Table::Read("a,b\n1,2\n", {"id"});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("'id'"), std::string::npos);
}
