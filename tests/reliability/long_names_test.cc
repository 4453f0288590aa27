// Names at PostgreSQL's limit (issue 15, item 3: "names longer than 63
// bytes are truncated the way PostgreSQL would, without collisions").
//
// PostgreSQL silently truncates an identifier to NAMEDATALEN - 1 = 63
// bytes. An advisor that builds index names from a 63-byte table name and
// two long column names that share their first 40 bytes would, without
// care, print two CREATE INDEX statements whose names the server truncates
// to the same relation name: with IF NOT EXISTS the second is skipped with a
// NOTICE, and the script "succeeds" without the index it promised. The same
// happens when the name is already taken by another relation (a table, a
// view, a sequence — they share one namespace with indexes), not only by an
// index. The promises checked here, with the real binary and psql:
//   - every name in the script is at most 63 bytes, so the server keeps it
//     as printed;
//   - the names are distinct, and distinct from every relation in the schema;
//   - the script run by psql creates every index it prints.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>

#include "core/session.h"
#include "tests/review_cli.h"
#include "tests/support/pg_test.h"

namespace pgvise {
namespace {

using json = nlohmann::json;
using testing::RunPgvise;

std::string Psql() {
  return std::filesystem::exists("/usr/lib/postgresql/15/bin/psql")
             ? "/usr/lib/postgresql/15/bin/psql"
             : "psql";
}

// The index names a CREATE INDEX script creates, in order.
std::vector<std::string> CreatedNames(const std::string& script) {
  std::vector<std::string> out;
  static const std::regex re(
      R"(CREATE INDEX (?:CONCURRENTLY )?(?:IF NOT EXISTS )?("(?:[^"]|"")+"|[a-z0-9_]+) ON)");
  for (std::sregex_iterator it(script.begin(), script.end(), re), end; it != end; ++it) {
    std::string n = (*it)[1];
    if (n.front() == '"') n = n.substr(1, n.size() - 2);
    out.push_back(n);
  }
  return out;
}

TEST(LongNames, IndexNamesFitAndNeverCollideWithAnyRelation) {
  // 63 bytes: the longest name PostgreSQL keeps.
  const std::string table = "orders_belonging_to_tenants_in_the_european_region_archive_2026";
  ASSERT_EQ(table.size(), 63u);
  const std::string col_a = "customer_reference_number_assigned_by_the_billing_system_a";
  const std::string col_b = "customer_reference_number_assigned_by_the_billing_system_b";
  std::string uri = testing::FreshDatabase("rel_long_names");
  auto admin = testing::AdminSession(uri);
  for (const std::string& sql : {
           std::string("CREATE EXTENSION IF NOT EXISTS hypopg"),
           "CREATE TABLE " + table + " (id bigint, " + col_a + " int, " + col_b + " int, pad text)",
           "INSERT INTO " + table + " SELECT g, g % 7000, g % 6000, repeat('p', 50) " +
               "FROM generate_series(1, 60000) g",
           "ANALYZE " + table,
       }) {
    ASSERT_TRUE(admin->Exec(sql).ok()) << sql;
  }
  std::string dir = testing::TempDir("long-names");
  testing::WriteWhole(dir + "/w.sql", "-- pgvise: calls=1000\nSELECT * FROM " + table + " WHERE " +
                                          col_a + " = 17;\n-- pgvise: calls=1000\nSELECT * FROM " +
                                          table + " WHERE " + col_b + " = 23;\n");
  auto first = RunPgvise("advise --db '" + uri + "' -w '" + dir + "/w.sql' --format sql");
  ASSERT_EQ(first.exit, 0) << first.err;
  std::vector<std::string> names = CreatedNames(first.out);
  ASSERT_EQ(names.size(), 2u) << first.out;
  for (const auto& n : names) EXPECT_LE(n.size(), 63u) << n;
  EXPECT_NE(names[0], names[1]) << first.out;

  // Take the first name with a table (relations share one namespace) and a
  // view: the advisor must pick other names.
  ASSERT_TRUE(admin->Exec("CREATE TABLE " + QuoteIdent(names[0]) + " (x int)").ok());
  ASSERT_TRUE(admin->Exec("CREATE VIEW " + QuoteIdent(names[1]) + " AS SELECT 1 AS x").ok());
  auto second = RunPgvise("advise --db '" + uri + "' -w '" + dir + "/w.sql' --format sql");
  ASSERT_EQ(second.exit, 0) << second.err;
  std::vector<std::string> again = CreatedNames(second.out);
  ASSERT_EQ(again.size(), 2u) << second.out;
  std::set<std::string> distinct(again.begin(), again.end());
  EXPECT_EQ(distinct.size(), 2u) << second.out;
  for (const auto& n : again) {
    EXPECT_LE(n.size(), 63u) << n;
    EXPECT_NE(n, names[0]) << "collides with a table\n" << second.out;
    EXPECT_NE(n, names[1]) << "collides with a view\n" << second.out;
  }

  // The script, run as printed, creates both indexes under those names.
  testing::WriteWhole(dir + "/script.sql", second.out);
  std::string psql_out;
  int rc = testing::RunCommand(
      "'" + Psql() + "' -X -v ON_ERROR_STOP=1 -d '" + uri + "' -f '" + dir + "/script.sql'",
      &psql_out, true);
  EXPECT_EQ(rc, 0) << psql_out;
  Rows r;
  ASSERT_TRUE(admin
                  ->Query("SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = "
                          "i.indexrelid WHERE i.indrelid = $1::regclass AND c.relname IN ($2, $3) "
                          "AND i.indisvalid",
                          {table, again[0], again[1]}, &r)
                  .ok());
  EXPECT_EQ(r.Int(0, 0), 2) << "the script did not create the indexes it printed\n"
                            << psql_out << "\n---- script:\n"
                            << second.out;
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace pgvise
