#include "analyzer/sql/server_text.h"

#include <gtest/gtest.h>

namespace pgvise {
namespace {

TEST(ServerPlannableText, TypedLiteralParameterBecomesACast) {
  std::vector<std::string> changes;
  EXPECT_EQ(ServerPlannableText("SELECT sum(delta) FROM h WHERE tid = $1 AND mtime > now() - "
                                "interval $2",
                                &changes),
            "SELECT sum(delta) FROM h WHERE tid = $1 AND mtime > now() - CAST($2 AS interval)");
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0], "interval $2 -> CAST($2 AS interval)");
  // Multi-word and modified type names keep their words.
  EXPECT_EQ(ServerPlannableText("SELECT 1 FROM t WHERE ts < timestamp with time zone $1 AND d = "
                                "date $2 AND n = numeric(10,2) $3",
                                nullptr),
            "SELECT 1 FROM t WHERE ts < CAST($1 AS timestamp with time zone) AND d = CAST($2 AS "
            "date) AND n = CAST($3 AS numeric(10,2))");
}

TEST(ServerPlannableText, ArithmeticOnTwoParametersIsTypedBigint) {
  std::vector<std::string> changes;
  EXPECT_EQ(ServerPlannableText("SELECT aid FROM a WHERE bid = $1 % $2 + $3", &changes),
            "SELECT aid FROM a WHERE bid = CAST($1 AS bigint) % CAST($2 AS bigint) + $3");
  EXPECT_EQ(changes.size(), 2u);
  EXPECT_EQ(ServerPlannableText("SELECT - $1", nullptr), "SELECT - CAST($1 AS bigint)");
}

TEST(ServerPlannableText, LeavesWhatTheServerAlreadyTakes) {
  for (const char* sql : {
           "SELECT * FROM t WHERE a = $1 AND b > $2::interval",
           "SELECT * FROM t WHERE c > CAST($1 AS date)",
           "SELECT * FROM t WHERE a = $1 + 1",    // the constant types $1
           "SELECT * FROM t WHERE a = col % $1",  // the column types $1
           "SELECT * FROM t WHERE ts > now() - interval '1 day'",
           "SELECT * FROM t WHERE ts > now() - interval $1 day",  // fields after the parameter
           "SELECT 'interval $2' FROM t",
           "not sql at all",
       }) {
    std::vector<std::string> changes;
    EXPECT_EQ(ServerPlannableText(sql, &changes), sql) << sql;
    EXPECT_TRUE(changes.empty()) << sql;
  }
}

}  // namespace
}  // namespace pgvise
