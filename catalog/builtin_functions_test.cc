#include "catalog/builtin_functions.h"

#include <gtest/gtest.h>

namespace pgvise {
namespace {

TEST(BuiltinFunctions, VolatileAsPgProcSays) {
  for (const char* v : {"random", "nextval", "currval", "clock_timestamp", "gen_random_uuid",
                        "uuid_generate_v4", "pg_sleep", "setval", "timeofday"})
    EXPECT_TRUE(IsBuiltinVolatile(v)) << v;
  // STABLE or IMMUTABLE in pg_proc: constant within a statement.
  for (const char* s : {"now", "statement_timestamp", "txid_current", "pg_current_xact_id",
                        "uuid_generate_v5", "lower", ""})
    EXPECT_FALSE(IsBuiltinVolatile(s)) << s;
}

}  // namespace
}  // namespace pgvise
