// Hostile names in the schema advisors' output (issue 15 item 3): the
// partition migration, CREATE STATISTICS and the materialized view DDL that
// `advise --format sql` prints are fed whole to psql over a schema, tables
// and columns named with double quotes, spaces, mixed case, a reserved word,
// non-ASCII letters and an injection shape. The promise: the canary table
// survives, and each statement does what it says — the time-series table
// becomes partitioned, a statistics object and a materialized view appear.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "core/session.h"
#include "tests/review_cli.h"
#include "tests/support/pg_test.h"

namespace pgvise {
namespace {

const std::string kSchema = "Sch \"q\" ünï";
const std::string kSeries = "x; DROP TABLE canary; --";
const std::string kTs = "select";
const std::string kFact = "Fäct Table";
const std::string kCity = "Ci\"ty";
const std::string kZip = "ZIP code";

std::string Q(const std::string& s) { return QuoteIdent(s); }
std::string T(const std::string& t) { return Q(kSchema) + "." + Q(t); }

TEST(HostileSchemaAdvisors, MigrationStatisticsAndViewRunAsPrinted) {
  const std::string uri = testing::FreshDatabase("rel_hostile_schema");
  const std::string dir = testing::TempDir("hostile-schema");
  testing::Exec(
      uri, "CREATE TABLE canary (id int); CREATE SCHEMA " + Q(kSchema) + ";" + "CREATE TABLE " +
               T(kSeries) + " (id bigint PRIMARY KEY, " + Q(kTs) +
               " timestamptz NOT NULL, value float8 NOT NULL);" + "INSERT INTO " + T(kSeries) +
               " SELECT g, now() - interval '60 days' + g * interval "
               "'26 seconds', g % 1000 FROM generate_series(1, 200000) g;" +
               "CREATE INDEX ON " + T(kSeries) + " (" + Q(kTs) + ");" + "CREATE TABLE " + T(kFact) +
               " (id bigint PRIMARY KEY, " + Q(kCity) + " text NOT NULL, " + Q(kZip) +
               " text NOT NULL, amount int NOT NULL);" + "INSERT INTO " + T(kFact) +
               " SELECT g, 'c' || ((g * 7919 % 1000) % 100), "
               "'z' || (g * 7919 % 1000), g % 1000 FROM generate_series(1, 200000) g;" +
               "ANALYZE " + T(kSeries) + "; ANALYZE " + T(kFact) + ";");
  testing::WriteWhole(
      dir + "/workload.sql",
      "-- pgvise: calls=500\nSELECT avg(value) FROM " + T(kSeries) + " WHERE " + Q(kTs) +
          " >= now() - interval '1 day';\n-- pgvise: calls=1\nDELETE FROM " + T(kSeries) +
          " WHERE " + Q(kTs) + " < now() - interval '50 days';\n-- pgvise: calls=300\nSELECT " +
          Q(kCity) + ", sum(amount), count(*) FROM " + T(kFact) + " GROUP BY " + Q(kCity) +
          ";\n-- pgvise: calls=200\nSELECT id FROM " + T(kFact) + " WHERE " + Q(kCity) +
          " = 'c7' AND " + Q(kZip) + " = 'z7';\n");
  testing::CmdResult r = testing::RunPgvise(
      "advise --db '" + uri + "' -w workload.sql --partition-min-size 1MB --format sql", dir);
  ASSERT_EQ(r.exit, 0) << r.err << r.out;
  testing::WriteWhole(dir + "/advice.sql", r.out);
  std::string out;
  const int rc = testing::RunCommand(
      "psql -X -v ON_ERROR_STOP=1 -d '" + uri + "' -f '" + dir + "/advice.sql'", &out, true);
  EXPECT_EQ(rc, 0) << out << "\n--- script ---\n" << r.out;
  auto s = testing::AdminSession(uri);
  Rows rows;
  ASSERT_TRUE(s->Query("SELECT (SELECT count(*) FROM pg_class WHERE relname = 'canary'),"
                       " (SELECT relkind::text FROM pg_class WHERE oid = to_regclass(" +
                           QuoteLiteral(T(kSeries)) +
                           ")),"
                           " (SELECT count(*) FROM pg_statistic_ext),"
                           " (SELECT count(*) FROM pg_matviews)",
                       &rows)
                  .ok());
  EXPECT_EQ(rows.Text(0, 0), "1") << "the canary was dropped";
  EXPECT_EQ(rows.Text(0, 1), "p") << "the series table was not partitioned\n" << r.out;
  EXPECT_GE(rows.Int(0, 2), 1) << "no statistics object\n" << r.out;
  EXPECT_GE(rows.Int(0, 3), 1) << "no materialized view\n" << r.out;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace pgvise
