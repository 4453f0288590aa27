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

// Names pgvise derives from a table name by appending a suffix
// (<t>_partitioned, <t>_history, <t>_p20261201, ...). Cut to 63 bytes from
// the end, a 63-byte table name loses the whole suffix: every derived name
// is the table's own name, and the migration's first CREATE TABLE fails with
// "already exists". PostgreSQL's own choice of names (ChooseRelationName)
// shortens the base and keeps the suffix; the script must do the same.
// Before Fit63 this failed: every derived name equalled the table name.
TEST(LongNames, PartitionMigrationOfA63ByteTableRunsAsPrinted) {
  const std::string table = "sensor_readings_from_the_north_sea_platforms_kept_for_ten_years";
  ASSERT_EQ(table.size(), 63u);
  const std::string uri = testing::FreshDatabase("rel_long_partition");
  const std::string dir = testing::TempDir("long-partition");
  const std::string qt = QuoteIdent(table);
  testing::Exec(uri, "CREATE TABLE " + qt +
                         " (id bigint PRIMARY KEY, ts timestamptz NOT NULL, value float8 NOT NULL);"
                         "INSERT INTO " +
                         qt +
                         " SELECT g, now() - interval '60 days' + g * interval '26 seconds', "
                         "g % 1000 FROM generate_series(1, 200000) g;"
                         "CREATE INDEX ON " +
                         qt + " (ts); ANALYZE " + qt + ";");
  testing::WriteWhole(
      dir + "/workload.sql",
      "-- pgvise: calls=500\nSELECT avg(value) FROM " + qt +
          " WHERE ts >= now() - interval '1 day';\n-- pgvise: calls=1\nDELETE FROM " + qt +
          " WHERE ts < now() - interval '50 days';\n");
  testing::CmdResult r = testing::RunPgvise(
      "advise --db '" + uri +
          "' -w workload.sql --partition-min-size 1MB --no-views --no-statistics --no-patterns "
          "--format sql",
      dir);
  ASSERT_EQ(r.exit, 0) << r.err << r.out;
  ASSERT_NE(r.out.find("PARTITION BY RANGE"), std::string::npos) << "no migration\n" << r.out;
  // Every relation the script creates: at most 63 bytes, all distinct.
  static const std::regex create(R"(CREATE TABLE (?:[^ ]+\.)?("(?:[^"]|"")+"|[a-z0-9_]+) )");
  std::set<std::string> created;
  for (std::sregex_iterator it(r.out.begin(), r.out.end(), create), end; it != end; ++it) {
    std::string n = (*it)[1];
    if (n.front() == '"') n = n.substr(1, n.size() - 2);
    EXPECT_LE(n.size(), 63u) << n;
    EXPECT_NE(n, table) << "a derived name lost its suffix\n" << r.out;
    EXPECT_TRUE(created.insert(n).second) << "created twice: " << n << "\n" << r.out;
  }
  testing::WriteWhole(dir + "/advice.sql", r.out);
  std::string out;
  const int rc = testing::RunCommand(
      "'" + Psql() + "' -X -v ON_ERROR_STOP=1 -d '" + uri + "' -f '" + dir + "/advice.sql'", &out,
      true);
  EXPECT_EQ(rc, 0) << out << "\n--- script ---\n" << r.out;
  auto s = testing::AdminSession(uri);
  Rows rows;
  ASSERT_TRUE(s->Query("SELECT relkind::text FROM pg_class WHERE oid = to_regclass($1)",
                       {QuoteIdent(table)}, &rows)
                  .ok());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows.Text(0, 0), "p") << "the table was not partitioned\n" << r.out;
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

// maintain names the partitions it proposes <parent>_p<lower bound>, cut to
// 63 bytes from the front so the bound survives. A cut must fall between
// characters: half a UTF-8 character makes the statement fail in psql
// ("invalid byte sequence for encoding UTF8"). PostgreSQL itself never cuts
// inside a character (pg_mbcliplen).
// Before the UTF-8-aware Clip63 this failed: 4 CREATE TABLE failed with
// invalid byte sequence.
TEST(LongNames, MaintainPartitionNamesFromANonAsciiParentRunAsPrinted) {
  std::string parent = "a";
  for (int i = 0; i < 31; ++i) parent += "\xc3\xbc";  // ü: characters start at odd offsets
  ASSERT_EQ(parent.size(), 63u);
  const std::string uri = testing::FreshDatabase("rel_long_maintain");
  const std::string dir = testing::TempDir("long-maintain");
  const std::string qp = QuoteIdent(parent);
  // Integer RANGE, partitions not named after their bounds: maintain falls
  // back to <parent>_p<lower>; rows in the newest partition make the next
  // ones due.
  testing::Exec(uri, "CREATE TABLE " + qp +
                         " (id bigint NOT NULL, v int) PARTITION BY RANGE (id);"
                         "CREATE TABLE part_a PARTITION OF " +
                         qp +
                         " FOR VALUES FROM (0) TO (1000);"
                         "CREATE TABLE part_b PARTITION OF " +
                         qp +
                         " FOR VALUES FROM (1000) TO (2000);"
                         "INSERT INTO " +
                         qp + " SELECT g, 0 FROM generate_series(1, 1500) g; ANALYZE " + qp + ";");
  testing::CmdResult r =
      testing::RunPgvise("maintain --db '" + uri + "' --fail-on never --format sql", dir);
  ASSERT_EQ(r.exit, 0) << r.err << r.out;
  ASSERT_NE(r.out.find("PARTITION OF"), std::string::npos) << "no partition proposed\n" << r.out;
  testing::WriteWhole(dir + "/plan.sql", r.out);
  std::string out;
  const int rc = testing::RunCommand(
      "'" + Psql() + "' -X -v ON_ERROR_STOP=1 -d '" + uri + "' -f '" + dir + "/plan.sql'", &out,
      true);
  EXPECT_EQ(rc, 0) << out << "\n--- script ---\n" << r.out;
  auto s = testing::AdminSession(uri);
  Rows rows;
  ASSERT_TRUE(
      s->Query("SELECT count(*) FROM pg_inherits WHERE inhparent = to_regclass($1)", {qp}, &rows)
          .ok());
  EXPECT_GT(rows.Int(0, 0), 2) << "no partition was created\n" << out << "\n" << r.out;
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace pgvise
