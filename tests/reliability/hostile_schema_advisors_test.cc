// Hostile names in the schema advisors' output (issue 15 item 3): the
// partition migration, CREATE STATISTICS and the materialized view DDL that
// `advise --format sql` prints are fed whole to psql over a schema, tables
// and columns named with double quotes, spaces, mixed case, a reserved word,
// non-ASCII letters and an injection shape, and columns whose types (a
// domain, an enum) are named that way too. The promise: the canary table
// survives, and each statement does what it says — the time-series table
// becomes partitioned, a statistics object and a materialized view appear.
// A partition key whose type is a hostile-named domain over timestamptz gets
// the advice a timestamptz key gets (issue 15: the base type decides).
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
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
const std::string kDomain = "measure\nDROP TABLE canary; --";
const std::string kEnum = "Kind \"k\"; DROP TABLE canary; --";

std::string Q(const std::string& s) { return QuoteIdent(s); }
std::string T(const std::string& t) { return Q(kSchema) + "." + Q(t); }

TEST(HostileSchemaAdvisors, MigrationStatisticsAndViewRunAsPrinted) {
  const std::string uri = testing::FreshDatabase("rel_hostile_schema");
  const std::string dir = testing::TempDir("hostile-schema");
  testing::Exec(
      uri, "CREATE TABLE canary (id int); CREATE SCHEMA " + Q(kSchema) + ";" + "CREATE DOMAIN " +
               T(kDomain) + " AS float8 CHECK (VALUE >= 0); CREATE TYPE " + T(kEnum) +
               " AS ENUM ('a', 'b\"; --');" + "CREATE TABLE " + T(kSeries) +
               " (id bigint PRIMARY KEY, " + Q(kTs) + " timestamptz NOT NULL, value " + T(kDomain) +
               " NOT NULL, kind " + T(kEnum) + " NOT NULL);" + "INSERT INTO " + T(kSeries) +
               " SELECT g, now() - interval '60 days' + g * interval "
               "'26 seconds', g % 1000, CASE WHEN g % 2 = 0 THEN 'a' ELSE 'b\"; --' END::" +
               T(kEnum) + " FROM generate_series(1, 200000) g;" + "CREATE INDEX ON " + T(kSeries) +
               " (" + Q(kTs) + ");" + "CREATE TABLE " + T(kFact) + " (id bigint PRIMARY KEY, " +
               Q(kCity) + " text NOT NULL, " + Q(kZip) + " text NOT NULL, amount int NOT NULL);" +
               "INSERT INTO " + T(kFact) +
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
  // The view rewrites are advice, printed commented out: each, uncommented,
  // runs as printed (a view name quoted twice had made them fail).
  std::string rewrites;
  {
    std::istringstream in(r.out);
    std::string line;
    bool next = false;
    while (std::getline(in, line)) {
      if (next && line.rfind("-- SELECT", 0) == 0) rewrites += line.substr(3) + "\n";
      next = line.rfind("-- statement ", 0) == 0;
    }
  }
  EXPECT_FALSE(rewrites.empty()) << r.out;
  testing::WriteWhole(dir + "/rewrites.sql", rewrites);
  const int rc2 = testing::RunCommand(
      "psql -X -v ON_ERROR_STOP=1 -d '" + uri + "' -f '" + dir + "/rewrites.sql'", &out, true);
  EXPECT_EQ(rc2, 0) << out << "\n--- rewrites ---\n" << rewrites;
  std::filesystem::remove_all(dir);
}

// A partition key whose column is a domain (over a domain) over timestamptz
// is a time key like timestamptz itself: the base type decides, not the type's
// name. Two copies of one time series, one with a plain timestamptz column
// and one whose column's type is a hostile-named domain over another domain
// over timestamptz, both read the same way, get the same advice (strategy,
// key, interval, bounds, partition count); --verify measures both; and the
// printed migration, fed whole to psql, partitions both.
TEST(HostileSchemaAdvisors, DomainOverTimestamptzKeyGetsThePlainKeysAdvice) {
  const std::string uri = testing::FreshDatabase("rel_hostile_domain_key");
  const std::string dir = testing::TempDir("hostile-domain-key");
  const std::string inner = "ïnner \"ts\"";
  const std::string when = "when\nDROP TABLE canary; --";
  const std::string plain = "plain series";
  const std::string Tp = T(plain), Td = T(kSeries);
  testing::Exec(
      uri, "CREATE TABLE canary (id int); CREATE SCHEMA " + Q(kSchema) + "; CREATE DOMAIN " +
               T(inner) + " AS timestamptz; CREATE DOMAIN " + T(when) + " AS " + T(inner) +
               " CHECK (VALUE > '2000-01-01');" + "CREATE TABLE " + Tp +
               " (id bigint PRIMARY KEY, " + Q(kTs) + " timestamptz NOT NULL, v int NOT NULL);" +
               "INSERT INTO " + Tp +
               " SELECT g, now() - interval '60 days' + g * interval '26 seconds', g % 1000"
               " FROM generate_series(1, 200000) g;" +
               "CREATE TABLE " + Td + " (id bigint PRIMARY KEY, " + Q(kTs) + " " + T(when) +
               " NOT NULL, v int NOT NULL); INSERT INTO " + Td + " SELECT * FROM " + Tp + ";" +
               // Statistics from every row: the two histograms, and so the
               // bounds, are the same.
               "ALTER TABLE " + Tp + " ALTER COLUMN " + Q(kTs) + " SET STATISTICS 1000;" +
               "ALTER TABLE " + Td + " ALTER COLUMN " + Q(kTs) + " SET STATISTICS 1000;" +
               "CREATE INDEX ON " + Tp + " (" + Q(kTs) + "); CREATE INDEX ON " + Td + " (" +
               Q(kTs) + "); ANALYZE " + Tp + "; ANALYZE " + Td + ";");
  std::string workload;
  for (const auto& t : {Tp, Td})
    workload += "-- pgvise: calls=500\nSELECT avg(v) FROM " + t + " WHERE " + Q(kTs) +
                " >= now() - interval '1 day';\n-- pgvise: calls=1\nDELETE FROM " + t + " WHERE " +
                Q(kTs) + " < now() - interval '50 days';\n";
  testing::WriteWhole(dir + "/workload.sql", workload);

  testing::CmdResult j = testing::RunPgvise("advise --db '" + uri +
                                                "' -w workload.sql --partition-min-size 1MB "
                                                "--verify --format json",
                                            dir);
  ASSERT_EQ(j.exit, 0) << j.err << j.out;
  auto report = nlohmann::json::parse(j.out, nullptr, false);
  ASSERT_TRUE(report.is_object()) << j.out;
  std::map<std::string, nlohmann::json> ev;  // object -> evidence
  for (const auto& rec : report["recommendations"])
    if (rec.value("kind", "") == "partition") ev[rec.value("object", "")] = rec["evidence"];
  const std::string op = kSchema + "." + plain, od = kSchema + "." + kSeries;
  ASSERT_EQ(ev.count(op), 1u) << j.out;
  ASSERT_EQ(ev.count(od), 1u) << "no partition advice for the domain-typed key\n" << j.out;
  for (const char* k : {"strategy", "key", "key_base_type", "interval", "partitions", "premake",
                        "first_bound", "history_bound", "retention_delete"})
    EXPECT_EQ(ev[od][k], ev[op][k]) << k;
  EXPECT_EQ(ev[od]["strategy"], "range");
  EXPECT_EQ(ev[od]["key_base_type"], "timestamp with time zone");
  EXPECT_NE(ev[od]["key_type"], ev[op]["key_type"]);  // the domain's name, quoted
  // --verify measured the domain key too (it had been "time keys only").
  EXPECT_TRUE(ev[od].contains("verify_sample_percent")) << report["notes"].dump();
  EXPECT_TRUE(ev[op].contains("verify_sample_percent")) << report["notes"].dump();

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
                           QuoteLiteral(Tp) +
                           ")), (SELECT relkind::text FROM pg_class WHERE "
                           "oid = to_regclass(" +
                           QuoteLiteral(Td) + ")), (SELECT count(*) FROM " + Td + ")",
                       &rows)
                  .ok());
  EXPECT_EQ(rows.Text(0, 0), "1") << "the canary was dropped";
  EXPECT_EQ(rows.Text(0, 1), "p") << r.out;
  EXPECT_EQ(rows.Text(0, 2), "p") << "the domain-keyed table was not partitioned\n" << r.out;
  EXPECT_EQ(rows.Int(0, 3), 200000) << "rows lost in the migration";
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace pgvise
