// The fixture the SQL review rule tests share (analyzer/review/sql_rules_test.cc
// and the tests of the models behind the migration rules:
// function_volatility_test.cc, column_type_change_test.cc,
// user_types_test.cc): the rule book loaded from rules/, a file reviewed
// with it, and the findings of one rule. No database.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "analyzer/review/sql_rules.h"
#include "tests/support/pg_test.h"

namespace pgvise {

class SqlRulesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    book_ = new RuleBook();
    Status st = RuleBook::LoadDir(testing::SourceDir() + "/rules", book_);
    ASSERT_TRUE(st.ok()) << st.message();
  }
  static void TearDownTestSuite() {
    delete book_;
    book_ = nullptr;
  }

  static std::vector<Finding> Review(const std::string& sql, const RuleBook* book = nullptr,
                                     const std::map<std::string, SqlTableInfo>* tables = nullptr) {
    SqlFile f;
    Status st = ParseSqlFile(SourceText("m.sql", sql), &f);
    EXPECT_TRUE(st.ok()) << st.message();
    SqlReviewContext ctx;
    ctx.rules = book ? book : book_;
    ctx.tables = tables;
    return ReviewSqlFile(f, ctx);
  }

  static std::vector<Finding> Of(const std::vector<Finding>& all, const std::string& rule) {
    std::vector<Finding> out;
    for (const auto& f : all)
      if (f.rule == rule) out.push_back(f);
    return out;
  }

  static inline RuleBook* book_ = nullptr;
};

}  // namespace pgvise
