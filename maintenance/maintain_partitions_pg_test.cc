// `pgvise maintain` on partitioned tables, on a real cluster: a monthly
// RANGE table about to run out of partitions with rows piling up in its
// default partition, a parent never analyzed, and a healthy table that gets
// nothing. The plan's SQL is then run as written (the advice recipe with its
// comment lines left out) and the next plan checked: the rows moved, the
// partitions exist, the rules are quiet.
#include <gtest/gtest.h>

#include <sstream>

#include "analyzer/sql/statement.h"
#include "maintenance/maintain.h"
#include "maintenance/report.h"
#include "tests/support/pg_test.h"

namespace pgvise {
namespace {

void Script(const std::string& uri, const std::string& sql) {
  SqlFile file;
  Status st = ParseSqlFile(SourceText("setup.sql", sql), &file);
  if (!st.ok()) throw Error(st);
  auto admin = testing::AdminSession(uri);
  for (const auto& s : file.statements) {
    st = admin->Exec(s.sql);
    if (!st.ok()) throw Error(ExitCode::kDatabaseError, s.sql + ": " + st.message());
    (void)admin->Exec("SELECT pg_stat_force_next_flush()");
  }
  (void)admin->Exec("SELECT 1");
}

std::string Scalar(const std::string& uri, const std::string& sql) {
  auto s = testing::AdminSession(uri);
  Rows r;
  Status st = s->Query(sql, &r);
  if (!st.ok()) throw Error(ExitCode::kDatabaseError, sql + ": " + st.message());
  return r.empty() ? "" : r.Text(0, 0);
}

MaintainRun Plan(const std::string& uri) {
  RuleBook book;
  Status st = RuleBook::LoadDir(testing::SourceDir() + "/rules", &book);
  if (!st.ok()) throw Error(st);
  SessionOptions so;
  so.conninfo = uri;
  std::unique_ptr<Session> s;
  st = Session::Connect(so, &s);
  if (!st.ok()) throw Error(st);
  MaintainOptions o;
  o.only = {"partitions"};
  MaintainRun run;
  st = BuildMaintenancePlan(*s, book, o, &run);
  if (!st.ok()) throw Error(st);
  return run;
}

const PlanItem* Find(const MaintainRun& run, const std::string& rule, const std::string& object) {
  for (const auto& it : run.plan.items)
    if (it.rule == rule && it.rec.object == object) return &it;
  return nullptr;
}

// The statements of an advice item: its SQL without the comment lines.
std::string Uncommented(const std::string& sql) {
  std::istringstream in(sql);
  std::string line, out;
  while (std::getline(in, line))
    if (line.rfind("--", 0) != 0) out += line + "\n";
  return out;
}

// Monthly partitions named events_YYYY_MM: last month and this month, a
// default partition, 1,000 rows this month and 3,000 two months ahead (they
// land in the default: that month has no partition).
const char* kMonthly = R"SQL(
CREATE TABLE events (id bigint NOT NULL, ts timestamptz NOT NULL, v text) PARTITION BY RANGE (ts);
DO $$
DECLARE m timestamptz := date_trunc('month', now());
BEGIN
  EXECUTE format('CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%L) TO (%L)',
                 'events_' || to_char(m - interval '1 month', 'YYYY_MM'), m - interval '1 month', m);
  EXECUTE format('CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%L) TO (%L)',
                 'events_' || to_char(m, 'YYYY_MM'), m, m + interval '1 month');
END $$;
CREATE TABLE events_default PARTITION OF events DEFAULT;
CREATE INDEX ON events (ts);
INSERT INTO events SELECT g, date_trunc('month', now()) + g * interval '1 second', 'now'
  FROM generate_series(1, 1000) g;
INSERT INTO events SELECT g, date_trunc('month', now()) + interval '2 month' + g * interval '10 minutes', 'ahead'
  FROM generate_series(1, 3000) g;
ANALYZE events;
)SQL";

TEST(MaintainPartitions, MissingFuturePartitionsAndFillingDefaultAreFixedByThePlan) {
  const std::string uri = testing::FreshDatabase("maintain_parts");
  Script(uri, kMonthly);
  const std::string next =
      Scalar(uri, "SELECT to_char(date_trunc('month', now()) + interval '1 month', 'YYYY_MM')");
  const std::string in_default =
      Scalar(uri, "SELECT to_char(date_trunc('month', now()) + interval '2 month', 'YYYY_MM')");

  MaintainRun run = Plan(uri);
  const PlanItem* future = Find(run, "partition-future-missing", "public.events");
  ASSERT_NE(future, nullptr);
  EXPECT_TRUE(future->executable);
  // Names continue the table's own pattern; the month the default already
  // holds rows of is left to the default-partition recipe (creating it would fail).
  EXPECT_NE(future->rec.sql.find("public.events_" + next + " PARTITION OF public.events"),
            std::string::npos)
      << future->rec.sql;
  EXPECT_EQ(future->rec.sql.find("events_" + in_default), std::string::npos) << future->rec.sql;
  EXPECT_NE(future->rec.reason.find("by 1 mon"), std::string::npos) << future->rec.reason;

  const PlanItem* filling = Find(run, "partition-default-filling", "public.events_default");
  ASSERT_NE(filling, nullptr);
  EXPECT_FALSE(filling->executable);
  EXPECT_NE(filling->rec.reason.find("3000 rows"), std::string::npos) << filling->rec.reason;
  EXPECT_NE(filling->rec.sql.find("ATTACH PARTITION public.events_" + in_default),
            std::string::npos)
      << filling->rec.sql;
  // The parent was analyzed with all its rows: nothing to say.
  EXPECT_EQ(Find(run, "partitioned-parent-not-analyzed", "public.events"), nullptr);

  // The plan as written: the executable item, then the recipe.
  auto admin = testing::AdminSession(uri);
  Status st = admin->Exec(future->rec.sql);
  ASSERT_TRUE(st.ok()) << st.message() << "\n" << future->rec.sql;
  st = admin->Exec(Uncommented(filling->rec.sql));
  ASSERT_TRUE(st.ok()) << st.message() << "\n" << filling->rec.sql;
  admin.reset();

  EXPECT_EQ(Scalar(uri, "SELECT count(*) FROM events_default"), "0");
  EXPECT_EQ(Scalar(uri, "SELECT count(*) FROM events_" + in_default), "3000");
  EXPECT_EQ(Scalar(uri, "SELECT count(*) FROM events"), "4000");
  EXPECT_EQ(Scalar(uri, "SELECT count(*) FROM pg_inherits WHERE inhrelid = 'events_" + in_default +
                            "'::regclass AND inhparent = 'events'::regclass"),
            "1");
  // The CHECK that spared ATTACH its scan is gone; the index came along.
  EXPECT_EQ(Scalar(uri, "SELECT count(*) FROM pg_constraint WHERE conrelid = 'events_" +
                            in_default + "'::regclass AND contype = 'c'"),
            "0");
  EXPECT_EQ(Scalar(uri, "SELECT count(*) FROM pg_index WHERE indrelid = 'events_" + in_default +
                            "'::regclass"),
            "1");

  Script(uri, "ANALYZE events_default");
  MaintainRun after = Plan(uri);
  EXPECT_EQ(Find(after, "partition-future-missing", "public.events"), nullptr);
  EXPECT_EQ(Find(after, "partition-default-filling", "public.events_default"), nullptr);
  testing::Exec(testing::ClusterUri(), "DROP DATABASE maintain_parts WITH (FORCE)");
}

TEST(MaintainPartitions, ParentNeverAnalyzedThenHealthyTableIsQuiet) {
  const std::string uri = testing::FreshDatabase("maintain_parts_ok");
  Script(uri, R"SQL(
CREATE TABLE metrics (id bigint, at timestamptz NOT NULL) PARTITION BY RANGE (at);
DO $$
DECLARE m timestamptz := date_trunc('month', now());
BEGIN
  FOR i IN 0..3 LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF metrics FOR VALUES FROM (%L) TO (%L)',
                   'metrics_' || to_char(m + i * interval '1 month', 'YYYY_MM'),
                   m + i * interval '1 month', m + (i + 1) * interval '1 month');
  END LOOP;
END $$;
CREATE TABLE metrics_default PARTITION OF metrics DEFAULT;
INSERT INTO metrics SELECT g, date_trunc('month', now()) + g * interval '1 second'
  FROM generate_series(1, 5000) g;
)SQL");
  // The partitions are analyzed (as autovacuum would), the parent is not.
  const std::string part =
      "metrics_" + Scalar(uri, "SELECT to_char(date_trunc('month', now()), 'YYYY_MM')");
  Script(uri, "ANALYZE " + part);
  MaintainRun run = Plan(uri);
  const PlanItem* analyze = Find(run, "partitioned-parent-not-analyzed", "public.metrics");
  ASSERT_NE(analyze, nullptr);
  EXPECT_EQ(analyze->rec.sql, "ANALYZE public.metrics;");
  EXPECT_NE(analyze->rec.reason.find("never analyzed"), std::string::npos);
  EXPECT_EQ(run.plan.items.size(), 1u) << run.plan.items[0].rule;

  Script(uri, analyze->rec.sql);
  MaintainRun healthy = Plan(uri);
  for (const auto& it : healthy.plan.items)
    ADD_FAILURE() << "healthy partitioned table got " << it.rule << " " << it.rec.object << ": "
                  << it.rec.reason;
  testing::Exec(testing::ClusterUri(), "DROP DATABASE maintain_parts_ok WITH (FORCE)");
}

// pg_partman for real (Debian's postgresql-15-partman, installed by
// scripts/install-deps.sh): a daily table it manages, with 3 days'
// retention and ten days of partitions still attached because its
// maintenance never ran. The rule reads part_config and names them; once
// run_maintenance() has run, it is quiet.
TEST(MaintainPartitions, PartmanRetentionDueIsFoundOnARealPartmanTable) {
  const std::string uri = testing::FreshDatabase("maintain_partman");
  Script(uri, R"SQL(
CREATE SCHEMA partman;
CREATE EXTENSION pg_partman SCHEMA partman;
CREATE TABLE ev (id bigint NOT NULL, ts timestamptz NOT NULL) PARTITION BY RANGE (ts);
SELECT partman.create_parent(p_parent_table => 'public.ev', p_control => 'ts', p_type => 'native',
                             p_interval => 'daily', p_premake => 2,
                             p_start_partition => (now() - interval '10 days')::text);
UPDATE partman.part_config SET retention = '3 days', retention_keep_table = false
 WHERE parent_table = 'public.ev';
INSERT INTO ev SELECT g, now() - (g % 9) * interval '1 day' FROM generate_series(1, 900) g;
ANALYZE ev;
)SQL");
  MaintainRun run = Plan(uri);
  const PlanItem* due = Find(run, "partition-retention-due", "public.ev");
  ASSERT_NE(due, nullptr) << RenderPlanText(run.plan);
  EXPECT_NE(due->rec.reason.find("3 days"), std::string::npos) << due->rec.reason;

  Script(uri, "SELECT partman.run_maintenance('public.ev')");
  MaintainRun after = Plan(uri);
  EXPECT_EQ(Find(after, "partition-retention-due", "public.ev"), nullptr)
      << RenderPlanText(after.plan);
  testing::Exec(testing::ClusterUri(), "DROP DATABASE maintain_partman WITH (FORCE)");
}

}  // namespace
}  // namespace pgvise
