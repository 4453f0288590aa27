#include "core/sql_text.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace pgvise
