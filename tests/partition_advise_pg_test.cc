// `pgvise advise` recommends partitioning (issue 11) on a real server with
// generated data: a time-series table read by time ranges and trimmed by a
// retention DELETE gets RANGE on its time column with a sensible interval; a
// table read only by primary key gets nothing, and a small one nothing below
// --partition-min-size (both said with -v). The generated migration runs
// as-is with psql on a copy of the database, the workload's reads return the
// same rows after it, and the revert restores a plain table with every row.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "advisor/partition.h"
#include "advisor/workload.h"
#include "catalog/catalog.h"
#include "core/session.h"
#include "tests/review_cli.h"
#include "tests/support/pg_test.h"

namespace pgvise::testing {
namespace {

class PartitionAdvise : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    uri_ = new std::string(FreshDatabase("partition_advise"));
    dir_ = new std::string(TempDir("partition-advise"));
    Exec(*uri_, R"sql(
      -- 60 days of readings, one every ~26 s, ending now.
      CREATE TABLE readings (id bigserial PRIMARY KEY, ts timestamptz NOT NULL,
                             device int NOT NULL, value float8 NOT NULL, pad text);
      INSERT INTO readings (ts, device, value, pad)
        SELECT now() - interval '60 days' + g * interval '26 seconds', g % 40, (g % 1000) / 10.0,
               repeat('r', 40)
        FROM generate_series(1, 200000) g;
      CREATE INDEX readings_ts ON readings (ts);
      CREATE INDEX readings_device ON readings (device, ts);
      CREATE TABLE accounts (id bigint PRIMARY KEY, name text NOT NULL, pad text);
      INSERT INTO accounts SELECT g, 'a' || g, repeat('a', 40) FROM generate_series(1, 100000) g;
      CREATE TABLE ticks (id int PRIMARY KEY, ts timestamptz NOT NULL);
      INSERT INTO ticks SELECT g, now() - g * interval '1 minute' FROM generate_series(1, 500) g;
    )sql");
    for (const char* t : {"readings", "accounts", "ticks"})
      Exec(*uri_, std::string("VACUUM ANALYZE ") + t);
    WriteWhole(*dir_ + "/workload.sql",
               "-- pgvise: calls=500\n"
               "SELECT avg(value) FROM readings WHERE ts >= now() - interval '1 day';\n"
               "-- pgvise: calls=200\n"
               "SELECT id, value FROM readings WHERE device = $1 AND ts >= $2 ORDER BY ts;\n"
               "-- pgvise: calls=1\n"
               "DELETE FROM readings WHERE ts < now() - interval '50 days';\n"
               "-- pgvise: calls=1000\n"
               "INSERT INTO readings (ts, device, value) VALUES (now(), 1, 0.5);\n"
               "-- pgvise: calls=1000\n"
               "SELECT name FROM accounts WHERE id = $1;\n"
               "-- pgvise: calls=100\n"
               "SELECT count(*) FROM ticks WHERE ts >= now() - interval '1 hour';\n");
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    std::filesystem::remove_all(*dir_, ec);
    delete dir_;
    delete uri_;
  }
  static CmdResult Advise(const std::string& args) {
    return RunPgvise("advise --db '" + *uri_ + "' -w workload.sql --partition-min-size 2MB " +
                         "--no-views --no-statistics --no-patterns " + args,
                     *dir_);
  }
  static std::string Psql(const std::string& uri, const std::string& args) {
    std::string out;
    const int rc = RunCommand("psql -X -v ON_ERROR_STOP=1 -At '" + uri + "' " + args, &out, true);
    EXPECT_EQ(rc, 0) << out;
    return out;
  }
  static std::string* uri_;
  static std::string* dir_;
};
std::string* PartitionAdvise::uri_ = nullptr;
std::string* PartitionAdvise::dir_ = nullptr;

// The reads the workload makes, with bounds taken from the data (not from
// now(), which moves between the two runs).
const char* kReads =
    "SELECT count(*), round(sum(value)::numeric, 1) FROM readings WHERE ts >= (SELECT max(ts) "
    "FROM readings) - interval '1 day';"
    "SELECT id, value FROM readings WHERE device = 7 AND ts >= (SELECT max(ts) FROM readings) - "
    "interval '3 days' ORDER BY ts;"
    "SELECT count(*), min(id), max(id) FROM readings;";

TEST_F(PartitionAdvise, RangeOnTheTimeColumnAndNothingElse) {
  CmdResult r = Advise("--format json -v");
  ASSERT_EQ(r.exit, 0) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  std::vector<nlohmann::json> parts;
  for (const auto& rec : doc["recommendations"])
    if (rec["kind"] == "partition") parts.push_back(rec);
  ASSERT_EQ(parts.size(), 1u) << r.out;
  const auto& p = parts[0];
  EXPECT_EQ(p["object"], "public.readings");
  const auto& ev = p["evidence"];
  EXPECT_EQ(ev["strategy"], "range");
  EXPECT_EQ(ev["key"], nlohmann::json::array({"ts"}));  // a list: the contract's shape
  // 60 days of data: at least 8 partitions means at most 7.5 days each.
  const std::string interval = ev["interval"];
  EXPECT_TRUE(interval == "1 day" || interval == "1 week") << interval;
  EXPECT_GE(ev["partitions_over_data"].get<int>(), 8);
  EXPECT_EQ(ev["default_partition"], false);
  EXPECT_EQ(ev["retention_delete"], true);
  EXPECT_NE(ev["cost_method"].get<std::string>().find("estimate"), std::string::npos);
  // Per statement: the retention DELETE becomes DETACH + DROP (cost 0 after),
  // the last day's read scans a few partitions, not all.
  bool saw_delete = false, saw_day = false;
  const auto scanned = ev["partitions_scanned"].get<std::string>();
  ASSERT_EQ(p["benefit"].size(), 3u) << p.dump(1);  // the INSERT is summarised apart
  for (size_t i = 0; i < p["benefit"].size(); ++i) {
    const auto& b = p["benefit"][i];
    const std::string q = b["query"];
    if (q.rfind("DELETE", 0) == 0) {
      saw_delete = true;
      EXPECT_GT(b["cost_before"].get<double>(), 0);
      EXPECT_EQ(b["cost_after"].get<double>(), 0);
    }
    if (q.find("avg(value)") != std::string::npos) saw_day = true;
  }
  EXPECT_TRUE(saw_delete && saw_day) << p.dump(1);
  EXPECT_GE(ev["rows_written"].get<double>(), 1000);  // the INSERT's calls
  EXPECT_NE(ev["constraints"].get<std::string>().find("primary key readings_pkey (id) must "
                                                      "include the partition key"),
            std::string::npos);
  EXPECT_EQ(ev["migration_executable"], true);
  EXPECT_NE(p["revert"].get<std::string>().find("DETACH PARTITION"), std::string::npos);
  // -v says why the others got nothing.
  std::string notes;
  for (const auto& n : doc["notes"]) notes += n.get<std::string>() + "\n";
  EXPECT_NE(notes.find("partitioning public.accounts: none — no key would prune: id: equality"),
            std::string::npos)
      << notes;
  EXPECT_NE(notes.find("partitioning public.ticks: none"), std::string::npos) << notes;
  EXPECT_NE(notes.find("below --partition-min-size"), std::string::npos) << notes;
  // The summary counts the partitioning with the other kinds of change, in
  // the JSON and in the text report's opening line.
  EXPECT_EQ(doc["summary"]["partitions"], 1) << doc["summary"].dump(1);
  EXPECT_EQ(doc["summary"]["views"], 0);  // --no-views
  CmdResult text = Advise("");
  ASSERT_EQ(text.exit, 0) << text.err;
  EXPECT_NE(text.out.find("1 partitioning"), std::string::npos) << text.out;
}

TEST_F(PartitionAdvise, DefaultThresholdRecommendsNothing) {
  CmdResult r = RunPgvise("advise --db '" + *uri_ + "' -w workload.sql --format json", *dir_);
  ASSERT_EQ(r.exit, 0) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  for (const auto& rec : doc["recommendations"]) EXPECT_NE(rec["kind"], "partition");
}

TEST_F(PartitionAdvise, MigrationRunsAsIsAndTheWorkloadReturnsTheSameRows) {
  CmdResult sql = Advise("--format sql --no-drops");
  ASSERT_EQ(sql.exit, 0) << sql.err;
  ASSERT_NE(sql.out.find("ATTACH PARTITION"), std::string::npos) << sql.out;
  WriteWhole(*dir_ + "/migrate.sql", sql.out);
  const std::string before = Psql(*uri_, "-c \"" + std::string(kReads) + "\"");
  // A copy: the migration runs on it, never on the database advised.
  const std::string copy = DatabaseUri("partition_advise_copy");
  Exec(ClusterUri(), "DROP DATABASE IF EXISTS partition_advise_copy");
  Exec(ClusterUri(), "CREATE DATABASE partition_advise_copy TEMPLATE partition_advise");
  Psql(copy, "-f '" + *dir_ + "/migrate.sql'");
  EXPECT_EQ(Psql(copy, "-c \"SELECT relkind FROM pg_class WHERE oid = 'readings'::regclass\""),
            "p\n");
  // ATTACH built nothing: the history partition has exactly the indexes the
  // migration built or kept (old ones, the key's twin, and any this run
  // recommended), each attached to a parent index or left standalone.
  EXPECT_EQ(Psql(copy, "-c \"" + std::string(kReads) + "\""), before);
  // New rows route: now() to the history partition (below B), a week ahead
  // to a future one.
  Psql(copy,
       "-c \"INSERT INTO readings (ts, device, value) VALUES (now(), 1, 1), (now() + interval "
       "'8 days', 1, 1)\"");
  const std::string where = Psql(copy,
                                 "-c \"SELECT tableoid::regclass FROM readings WHERE ts > now() "
                                 "+ interval '7 days'\"");
  EXPECT_NE(where.find("readings_p"), std::string::npos) << where;

  // The revert gives back a plain table with every row, the new ones too.
  auto doc = nlohmann::json::parse(Advise("--format json").out);
  std::string revert;
  for (const auto& rec : doc["recommendations"])
    if (rec["kind"] == "partition") revert = rec["revert"];
  ASSERT_FALSE(revert.empty());
  WriteWhole(*dir_ + "/revert.sql", revert);
  Psql(copy, "-f '" + *dir_ + "/revert.sql'");
  EXPECT_EQ(Psql(copy, "-c \"SELECT relkind FROM pg_class WHERE oid = 'readings'::regclass\""),
            "r\n");
  EXPECT_EQ(Psql(copy, "-c \"SELECT count(*) FROM readings\""), "200002\n");
  Exec(ClusterUri(), "DROP DATABASE IF EXISTS partition_advise_copy");
}

// pg_partman (Debian: postgresql-15-partman) installed: the advice prints
// its create_parent call to run after the swap. Regression: that call used
// to fail on the table the migration had just made ("partition ... would
// overlap partition readings_history"): create_parent premakes from
// premake intervals behind now, which the attached old table covers. Run as
// printed, in order, on a copy: the migration, then create_parent.
TEST_F(PartitionAdvise, PartmanCreateParentRunsAfterTheMigration) {
  const std::string name = "partition_advise_partman";
  const std::string copy = DatabaseUri(name);
  Exec(ClusterUri(), "DROP DATABASE IF EXISTS " + name);
  Exec(ClusterUri(), "CREATE DATABASE " + name + " TEMPLATE partition_advise");
  Exec(copy, "CREATE SCHEMA partman; CREATE EXTENSION pg_partman SCHEMA partman");
  auto advise = [&](const std::string& args) {
    return RunPgvise("advise --db '" + copy + "' -w workload.sql --partition-min-size 2MB " +
                         "--no-views --no-statistics --no-patterns " + args,
                     *dir_);
  };
  CmdResult sql = advise("--format sql --no-drops");
  ASSERT_EQ(sql.exit, 0) << sql.err;
  CmdResult js = advise("--format json -v");
  ASSERT_EQ(js.exit, 0) << js.err;
  const auto doc = nlohmann::json::parse(js.out);
  nlohmann::json p;
  for (const auto& rec : doc["recommendations"])
    if (rec["kind"] == "partition") p = rec;
  ASSERT_FALSE(p.is_null()) << js.out;
  ASSERT_TRUE(p["evidence"].contains("pg_partman")) << p.dump(1);
  const std::string partman = p["evidence"]["pg_partman"];
  EXPECT_NE(partman.find("p_start_partition => "), std::string::npos) << partman;
  const std::string bound = p["evidence"]["history_bound"];

  const std::string before = Psql(copy, "-c \"" + std::string(kReads) + "\"");
  WriteWhole(*dir_ + "/migrate_partman.sql", sql.out);
  WriteWhole(*dir_ + "/partman.sql", partman);
  Psql(copy, "-f '" + *dir_ + "/migrate_partman.sql'");
  Psql(copy, "-f '" + *dir_ + "/partman.sql'");  // fails the test on any error
  EXPECT_EQ(Psql(copy,
                 "-c \"SELECT count(*) FROM partman.part_config WHERE parent_table = "
                 "'public.readings'\""),
            "1\n");
  // The rows are the ones there were, read the same way.
  EXPECT_EQ(Psql(copy, "-c \"" + std::string(kReads) + "\""), before);
  // A row past B lands in a real partition (step 3's, which pg_partman now
  // manages), not in a default partition; pg_partman's maintenance runs on
  // the result.
  Psql(copy, "-c \"INSERT INTO readings (ts, device, value) VALUES ('" + bound +
                 "'::timestamptz + interval '1 hour', 1, 1)\"");
  const std::string where =
      Psql(copy, "-c \"SELECT tableoid::regclass FROM readings WHERE ts >= '" + bound + "'\"");
  EXPECT_NE(where.find("readings_p"), std::string::npos) << where;
  EXPECT_EQ(where.find("default"), std::string::npos) << where;
  Psql(copy, "-c \"SELECT partman.run_maintenance('public.readings')\"");
  Exec(ClusterUri(), "DROP DATABASE IF EXISTS " + name);
}

TEST_F(PartitionAdvise, VerifyMeasuresASampledCopyAndDropsIt) {
  CmdResult r = Advise("--format json --verify");
  ASSERT_EQ(r.exit, 0) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  nlohmann::json p;
  for (const auto& rec : doc["recommendations"])
    if (rec["kind"] == "partition") p = rec;
  ASSERT_FALSE(p.is_null()) << r.out;
  const auto& ev = p["evidence"];
  ASSERT_TRUE(ev.contains("measured_ratio")) << ev.dump(1);
  EXPECT_GT(ev["measured_ratio"].get<double>(), 0);
  EXPECT_NE(ev["verify_summary"].get<std::string>().find("TABLESAMPLE"), std::string::npos);
  // Retention measured both ways: the DELETE, and DETACH + DROP of the
  // partitions it empties (the oldest of 60 days' data, 50 days kept).
  ASSERT_TRUE(ev.contains("verify_detach_drop_ms")) << ev["verify_statements"];
  EXPECT_GT(ev["verify_delete_ms"].get<double>(), 0);
  EXPECT_TRUE(p["confidence"] == "measured" || p["confidence"] == "low");
  // The scratch schemas are gone.
  EXPECT_EQ(Psql(*uri_,
                 "-c \"SELECT count(*) FROM pg_namespace WHERE nspname LIKE "
                 "'pgvise_pv_%'\""),
            "0\n");
}

// --verify beside a session holding ACCESS EXCLUSIVE on the advised table
// (issue 15's promise: --verify never waits past its timeouts). The dry run
// plans the table, so the lock is taken between the dry run and --verify,
// which is why this drives the two steps directly. The writable session is
// left with lock_timeout 0 (wait for ever): the scratch work sets its own.
// The run must return, the recommendation say "not verified: lock timeout"
// in its evidence and keep its estimate, and leave no scratch schema.
TEST_F(PartitionAdvise, VerifyUnderAHeldLockSaysNotVerified) {
  SessionOptions ro;
  ro.conninfo = *uri_;
  std::unique_ptr<Session> reader;
  ASSERT_TRUE(Session::Connect(ro, &reader).ok());
  Catalog catalog;
  ASSERT_TRUE(Catalog::Load(*reader, {}, &catalog).ok());
  Workload w;
  ASSERT_TRUE(AddSqlText("workload.sql", ReadWhole(*dir_ + "/workload.sql"), &w).ok());
  AdviseOptions ao;
  ao.partitions.min_size_bytes = 2 << 20;
  AdviseReport rep;
  AdvisePartitions(*reader, catalog, w, ao, &rep);
  ASSERT_EQ(rep.partitions.size(), 1u);
  const Confidence estimated = rep.partitions[0].confidence;

  auto holder = AdminSession(*uri_);
  ASSERT_TRUE(holder->Exec("BEGIN").ok());
  ASSERT_TRUE(holder->Exec("LOCK TABLE readings IN ACCESS EXCLUSIVE MODE").ok());
  SessionOptions wo;
  wo.conninfo = *uri_;
  wo.read_only = false;
  wo.lock_timeout_ms = 300;
  std::unique_ptr<Session> writable;
  ASSERT_TRUE(Session::Connect(wo, &writable).ok());
  ASSERT_TRUE(writable->Exec("SET lock_timeout = 0").ok());
  Status st = VerifyPartitions(*writable, ao, &rep);
  ASSERT_TRUE(holder->Exec("ROLLBACK").ok());
  ASSERT_TRUE(st.ok()) << st.message();

  const Recommendation& rec = rep.partitions[0];
  std::string summary, skipped;
  bool measured = false;
  for (const auto& e : rec.evidence) {
    if (e.key == "verify_summary") summary = std::get<std::string>(e.value);
    if (e.key == "verify_skipped") skipped = std::get<std::string>(e.value);
    measured |= e.key == "measured_ratio";
  }
  EXPECT_EQ(summary.rfind("not verified: lock timeout", 0), 0u) << summary;
  EXPECT_NE(summary.find("300 ms"), std::string::npos) << summary;
  EXPECT_EQ(skipped, "lock_timeout");
  EXPECT_FALSE(measured);
  EXPECT_EQ(rec.confidence, estimated);
  // The session's lock_timeout is its own again (300 ms, from its options).
  Rows r;
  ASSERT_TRUE(writable->Query("SELECT current_setting('lock_timeout')", &r).ok());
  EXPECT_EQ(r.Text(0, 0), "300ms");
  EXPECT_EQ(Psql(*uri_,
                 "-c \"SELECT count(*) FROM pg_namespace WHERE nspname LIKE "
                 "'pgvise_pv_%'\""),
            "0\n");
}

}  // namespace
}  // namespace pgvise::testing
