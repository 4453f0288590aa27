// review's printed fixes run as printed (issue 15): for the lock-safety
// rules whose suggestion is a migration (CREATE INDEX CONCURRENTLY, ADD
// CONSTRAINT ... NOT VALID then VALIDATE, SET lock_timeout), the suggestion
// text from `review --format json` is fed whole, comments and all, to psql
// with ON_ERROR_STOP on a real database, and must do what the original
// statement meant: the index exists and is valid, the constraint exists and
// is validated. The same again over hostile table, column and type names
// (a domain and an enum named to inject SQL, non-ASCII, over 63 bytes), for
// every rule whose fix is SQL.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
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

// The same promise over hostile names: the table, its schema and columns,
// and the types of its columns — a domain and an enum named with a line break
// or quotes followed by SQL, a non-ASCII name, a name longer than 63 bytes
// (PostgreSQL truncates it the same way wherever it is read). Every fix of
// the rules whose suggestion is SQL, reviewed with --db, runs as printed in
// psql, the canary table survives, and each fix did what it says.
TEST(ReviewFixes, HostileNamesAndTypesInFixesRunInPsqlAsPrinted) {
  const std::string uri = testing::FreshDatabase("rel_review_fixes_hostile");
  auto Q = [](const std::string& s) { return QuoteIdent(s); };
  const std::string schema = "Sch \"r\" ünï";
  auto T = [&](const std::string& t) { return Q(schema) + "." + Q(t); };
  const std::string table = "Fäct \"t\"\nDROP TABLE canary; --";
  const std::string measure = "measure\nDROP TABLE canary; --";
  const std::string kind = "Kind \"k\"; DROP TABLE canary; --";
  const std::string txt = "txt\rDROP TABLE canary; --";
  const std::string nn = "nn ünï \"d\"";
  const std::string money =
      "Ünïcödé amount domain whose name is longer than sixty-three bytes \"q\"";
  ASSERT_GT(money.size(), 63u);
  const std::string col = "Mëasure \"m\"", note = "nöte", idx = "ïdx \"m\"", pos = "pos \"c\"",
                    nn_col = "nn \"c\"", u_col = "u \"c\"";
  const std::string tt = T(table);
  testing::Exec(uri, "CREATE TABLE canary (id int); CREATE SCHEMA " + Q(schema) +
                         "; CREATE DOMAIN " + T(measure) + " AS float8; CREATE TYPE " + T(kind) +
                         " AS ENUM ('a', 'b\"; --'); CREATE DOMAIN " + T(txt) +
                         " AS text; CREATE DOMAIN " + T(nn) + " AS int NOT NULL; CREATE DOMAIN " +
                         T(money) + " AS numeric(12, 2); CREATE TABLE " + tt +
                         " (id bigint PRIMARY KEY, " + Q(col) + " " + T(measure) + ", k " +
                         T(kind) + ", " + Q(note) + " " + T(txt) + ", amount int);" +
                         "INSERT INTO " + tt +
                         " SELECT g, g % 1000, 'a', 'n' || g, g % 100 FROM "
                         "generate_series(1, 5000) g; ANALYZE " +
                         tt + ";");
  const std::string dir = testing::TempDir("review-fixes-hostile");
  testing::WriteWhole(dir + "/m.sql",
                      "CREATE INDEX " + Q(idx) + " ON " + tt + " (" + Q(col) + ");\nALTER TABLE " +
                          tt + " ADD CONSTRAINT " + Q(pos) + " CHECK (amount >= 0);\nALTER TABLE " +
                          tt + " ALTER COLUMN " + Q(col) + " TYPE " + T(money) + ";\nALTER TABLE " +
                          tt + " ADD COLUMN " + Q(nn_col) + " " + T(nn) +
                          " DEFAULT 0;\nALTER TABLE " + tt + " ADD COLUMN " + Q(u_col) + " " +
                          T(kind) + " UNIQUE;\nALTER TABLE " + tt +
                          " ALTER COLUMN amount SET NOT NULL;\nSELECT id FROM " + tt + " WHERE " +
                          Q(note) + " LIKE '%x%';\n");
  testing::CmdResult r =
      testing::RunPgvise("review m.sql --db '" + uri + "' --format json --fail-on never", dir);
  ASSERT_EQ(r.exit, 0) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.out;
  const std::set<std::string> sql_fixes = {"require-concurrent-index-creation",
                                           "adding-check-without-not-valid",
                                           "require-lock-timeout",
                                           "changing-column-type",
                                           "adding-column-with-constrained-domain",
                                           "adding-unique-without-index",
                                           "setting-not-null-without-check",
                                           "leading-wildcard-like"};
  std::set<std::string> ran;
  for (const auto& f : j["findings"]) {
    const std::string rule = f.value("rule", "");
    if (!sql_fixes.count(rule)) continue;
    const std::string fix = f.value("suggestion", "");
    ASSERT_FALSE(fix.empty()) << f.dump();
    testing::WriteWhole(dir + "/fix.sql", fix + "\n");
    std::string out;
    const int rc = testing::RunCommand(
        "psql -X -v ON_ERROR_STOP=1 -d '" + uri + "' -f '" + dir + "/fix.sql'", &out, true);
    EXPECT_EQ(rc, 0) << rule << ": the printed fix fails in psql:\n" << fix << "\n" << out;
    ran.insert(rule);
  }
  EXPECT_EQ(ran, sql_fixes) << r.out;
  auto s = testing::AdminSession(uri);
  Rows rows;
  ASSERT_TRUE(
      s->Query(
           "SELECT (SELECT count(*) FROM pg_class WHERE relname = 'canary'),"
           " (SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
           "   WHERE c.relname = $2 AND i.indisvalid AND i.indrelid = $1::regclass),"
           " (SELECT count(*) FROM pg_constraint WHERE conrelid = $1::regclass AND conname = $3"
           "   AND convalidated),"
           " (SELECT format_type(atttypid, NULL) = format_type($4::regtype, NULL) FROM"
           "   pg_attribute WHERE attrelid = $1::regclass AND attname = $5),"
           " (SELECT count(*) FROM pg_attribute WHERE attrelid = $1::regclass AND attname = $6),"
           " (SELECT count(*) FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'u'),"
           " (SELECT attnotnull FROM pg_attribute WHERE attrelid = $1::regclass AND"
           "   attname = 'amount'),"
           " (SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am"
           "   am ON am.oid = c.relam WHERE i.indrelid = $1::regclass AND am.amname = 'gin'"
           "   AND i.indisvalid)",
           {tt, idx, pos, T(money), col, nn_col}, &rows)
          .ok());
  EXPECT_EQ(rows.Int(0, 0, -1), 1) << "the canary was dropped";
  EXPECT_EQ(rows.Int(0, 1, -1), 1) << "no valid index " << idx;
  EXPECT_EQ(rows.Int(0, 2, -1), 1) << "no validated " << pos;
  EXPECT_TRUE(rows.Bool(0, 3)) << col << " did not take the new type";
  EXPECT_EQ(rows.Int(0, 4, -1), 1) << "no column " << nn_col;
  EXPECT_EQ(rows.Int(0, 5, -1), 1) << "no unique constraint";
  EXPECT_TRUE(rows.Bool(0, 6)) << "amount is not NOT NULL";
  EXPECT_EQ(rows.Int(0, 7, -1), 1) << "no trigram index";
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace pgvise
