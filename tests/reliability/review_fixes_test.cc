// review's printed fixes run as printed (issue 15): for the lock-safety
// rules whose suggestion is a migration (CREATE INDEX CONCURRENTLY, ADD
// CONSTRAINT ... NOT VALID then VALIDATE, SET lock_timeout), the suggestion
// text from `review --format json` is fed whole, comments and all, to psql
// with ON_ERROR_STOP on a real database, and must do what the original
// statement meant: the index exists and is valid, the constraint exists and
// is validated.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "core/session.h"
#include "tests/review_cli.h"
#include "tests/support/pg_test.h"

namespace pgvise {
namespace {

TEST(ReviewFixes, LockSafetySuggestionsRunInPsqlAsPrinted) {
  const std::string uri = testing::FreshDatabase("rel_review_fixes");
  testing::Exec(uri,
                "CREATE TABLE fact (id bigint PRIMARY KEY, amount int NOT NULL); INSERT INTO fact "
                "SELECT g, g % 1000 FROM generate_series(1, 10000) g;");
  const std::string dir = testing::TempDir("review-fixes");
  testing::WriteWhole(dir + "/m.sql",
                      "CREATE INDEX fact_amount_idx ON fact (amount);\n"
                      "ALTER TABLE fact ADD CONSTRAINT fact_amount_pos CHECK (amount >= 0);\n");
  testing::CmdResult r = testing::RunPgvise("review m.sql --format json --fail-on never", dir);
  ASSERT_EQ(r.exit, 0) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.out;
  int ran = 0;
  for (const auto& f : j["findings"]) {
    const std::string rule = f.value("rule", "");
    if (rule != "require-concurrent-index-creation" && rule != "adding-check-without-not-valid" &&
        rule != "require-lock-timeout")
      continue;
    const std::string fix = f.value("suggestion", "");
    ASSERT_FALSE(fix.empty()) << f.dump();
    // psql -f: CREATE INDEX CONCURRENTLY must run outside a transaction
    // block, which -f (no --single-transaction) gives, as a reader would.
    testing::WriteWhole(dir + "/fix.sql", fix + "\n");
    std::string out;
    const int rc = testing::RunCommand(
        "psql -X -v ON_ERROR_STOP=1 -d '" + uri + "' -f '" + dir + "/fix.sql'", &out, true);
    EXPECT_EQ(rc, 0) << rule << ": the printed fix fails in psql:\n" << fix << "\n" << out;
    ++ran;
  }
  EXPECT_GE(ran, 3) << r.out;
  auto s = testing::AdminSession(uri);
  Rows rows;
  ASSERT_TRUE(
      s->Query("SELECT (SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
               "WHERE c.relname = 'fact_amount_idx' AND i.indisvalid),"
               " (SELECT count(*) FROM pg_constraint WHERE conname = 'fact_amount_pos' AND "
               "convalidated)",
               &rows)
          .ok());
  EXPECT_EQ(rows.Int(0, 0, -1), 1) << "no valid fact_amount_idx";
  EXPECT_EQ(rows.Int(0, 1, -1), 1) << "no validated fact_amount_pos";
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace pgvise
