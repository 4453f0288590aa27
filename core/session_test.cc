#include "core/session.h"

#include <gtest/gtest.h>

namespace pgvise {
namespace {

TEST(MaskConnInfo, HidesPasswordsInEveryForm) {
  EXPECT_EQ(MaskConnInfo("postgresql://bob:s3cret@db:5432/app"),
            "postgresql://bob:***@db:5432/app");
  EXPECT_EQ(MaskConnInfo("postgres://bob:p%40ss@db/app?sslmode=require"),
            "postgres://bob:***@db/app?sslmode=require");
  EXPECT_EQ(MaskConnInfo("postgresql://db/app?user=bob&password=hunter2&sslmode=disable"),
            "postgresql://db/app?user=bob&password=***&sslmode=disable");
  EXPECT_EQ(MaskConnInfo("host=db user=bob password=hunter2 dbname=app"),
            "host=db user=bob password=*** dbname=app");
  EXPECT_EQ(MaskConnInfo("host=db password='a b c' dbname=app"), "host=db password=*** dbname=app");
  EXPECT_EQ(MaskConnInfo("postgresql://bob@db/app"), "postgresql://bob@db/app");
}

TEST(QuoteIdent, QuotesOnlyWhenNeeded) {
  EXPECT_EQ(QuoteIdent("orders"), "orders");
  EXPECT_EQ(QuoteIdent("Orders"), "\"Orders\"");
  EXPECT_EQ(QuoteIdent("order"), "\"order\"");
  EXPECT_EQ(QuoteIdent("my col"), "\"my col\"");
  EXPECT_EQ(QuoteIdent("a\"b"), "\"a\"\"b\"");
  EXPECT_EQ(QuoteLiteral("it's"), "'it''s'");
}

}  // namespace
}  // namespace pgvise
