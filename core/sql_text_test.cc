#include "core/sql_text.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/support/pg_test.h"

namespace pgvise {
namespace {

TEST(SqlComment, OneLine) { EXPECT_EQ(SqlComment("hello"), "-- hello\n"); }

TEST(SqlComment, EveryLineIsCommentedWhateverEndsIt) {
  EXPECT_EQ(SqlComment("a\nDROP TABLE t; --"), "-- a\n-- DROP TABLE t; --\n");
  // psql and the server end a -- comment at '\r' too.
  EXPECT_EQ(SqlComment("a\rDROP TABLE t;"), "-- a\n-- DROP TABLE t;\n");
  // "\r\n" is one line break.
  EXPECT_EQ(SqlComment("a\r\nb"), "-- a\n-- b\n");
  EXPECT_EQ(SqlComment("a\n\rb"), "-- a\n-- \n-- b\n");
  EXPECT_EQ(SqlComment("a\n\nb"), "-- a\n-- \n-- b\n");
}

TEST(SqlComment, TrailingBreakAddsNoEmptyLine) {
  EXPECT_EQ(SqlComment("a\n"), "-- a\n");
  EXPECT_EQ(SqlComment("a\r\n"), "-- a\n");
  EXPECT_EQ(SqlComment("a\r"), "-- a\n");
  EXPECT_EQ(SqlComment("a\n\n"), "-- a\n-- \n");
}

TEST(SqlComment, EmptyTextAndCustomPrefix) {
  EXPECT_EQ(SqlComment(""), "-- \n");
  EXPECT_EQ(SqlComment("x\ny", "--    why: "), "--    why: x\n--    why: y\n");
}

TEST(SqlComment, NoLineOfTheOutputEscapesTheComment) {
  std::string hostile = "t\"\n\r\r\nx; DROP TABLE t; --\n\\! rm -rf /\r";
  std::string out = SqlComment(hostile, "-- ");
  // Every line (split the way psql splits) starts with "-- ".
  size_t i = 0;
  while (i < out.size()) {
    EXPECT_EQ(out.compare(i, 3, "-- "), 0) << out;
    size_t end = out.find_first_of("\r\n", i);
    ASSERT_NE(end, std::string::npos);
    EXPECT_EQ(out[end], '\n');
    i = end + 1;
  }
}

// A real shell reads each quoted word back as exactly the word: nothing in it
// is expanded or run ($(...), `...`, $VAR, quotes, line breaks, globs).
TEST(ShellQuote, AShellReadsTheWordBackUnchanged) {
  EXPECT_EQ(ShellQuote("public.t"), "'public.t'");
  EXPECT_EQ(ShellQuote("it's"), "'it'\\''s'");
  const std::string words[] = {"\"Sch $(echo pwned)\".\"t`id`\"",
                               "a'b''c'",
                               "$HOME *",
                               "x\nDROP TABLE t; --",
                               "",
                               "\\'\"\\"};
  for (const std::string& w : words) {
    const std::string cmd = "printf '%s' " + ShellQuote(w);
    std::string got;
    ASSERT_EQ(testing::RunCommand(cmd, &got), 0) << cmd;
    EXPECT_EQ(got, w) << cmd;
  }
}

}  // namespace
}  // namespace pgvise
