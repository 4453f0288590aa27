// Unit tests of the maintenance module that need no database: the rule book
// matches the handler table, every fixture example behaves as its YAML says,
// the bloat layout model, plan ordering and rendering.
#include <gtest/gtest.h>

#include "maintenance/bloat.h"
#include "maintenance/plan.h"
#include "maintenance/rule_examples.h"
#include "maintenance/snapshot.h"
#include "tests/support/pg_test.h"

namespace pgvise {
namespace {

RuleBook LoadBook() {
  RuleBook book;
  Status st = RuleBook::LoadDir(testing::SourceDir() + "/rules", &book);
  EXPECT_TRUE(st.ok()) << st.message();
  return book;
}

TEST(MaintenanceRules, YamlAndHandlersMatchOneToOne) {
  RuleBook book = LoadBook();
  Status st = book.CheckHandlers({"maintenance"}, MaintenanceHandlerIds());
  EXPECT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(book.InArea("maintenance").size(), MaintenanceHandlers().size());
}

TEST(MaintenanceRules, EveryRuleHasBadAndGoodExamples) {
  RuleBook book = LoadBook();
  for (const Rule* r : book.InArea("maintenance")) {
    int bad = 0, good = 0;
    for (const auto& ex : r->examples) (ex.bad ? bad : good)++;
    EXPECT_GE(bad, 1) << r->id;
    EXPECT_GE(good, 1) << r->id;
  }
}

TEST(MaintenanceRules, FixtureExamplesFireAsDeclared) {
  RuleBook book = LoadBook();
  int run = 0;
  for (const Rule* r : book.InArea("maintenance")) {
    for (const auto& ex : r->examples) {
      if (IsLiveExample(ex)) continue;  // rule_examples_pg_test.cc runs these
      bool fired = false;
      std::string detail;
      Status st = RunFixtureExample(*r, ex, &fired, &detail);
      ASSERT_TRUE(st.ok()) << st.message();
      EXPECT_EQ(fired, ex.bad) << r->id << " " << ex.name << " emitted:\n" << detail;
      ++run;
    }
  }
  EXPECT_GE(run, 15);
}

TEST(Snapshot, FixtureRejectsUnknownFieldsWithTheirPath) {
  HealthSnapshot s;
  Status st =
      SnapshotFromJson(nlohmann::json::parse(R"({"tables": [{"name": "t", "n_dead": 5}]})"), &s);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("snapshot.tables[0].n_dead"), std::string::npos) << st.message();
}

ColumnHealth Col(int attnum, const char* type, int len, char align, double width) {
  ColumnHealth c;
  c.attnum = attnum;
  c.type = type;
  c.typlen = len;
  c.typalign = align;
  c.has_stats = true;
  c.avg_width = width;
  return c;
}

TableHealth AlignmentHeavy(double rows) {
  TableHealth t;
  t.name = "t";
  t.schema = "public";
  t.reltuples = rows;
  t.has_stats = true;
  t.n_live_tup = static_cast<int64_t>(rows);
  t.columns = {Col(1, "bool", 1, 'c', 1), Col(2, "int8", 8, 'd', 8), Col(3, "bool", 1, 'c', 1),
               Col(4, "int8", 8, 'd', 8)};
  return t;
}

// The worked example in bloat.cc: (bool, int8, bool, int8) pads to 32 data
// bytes, 136 rows per page; a column-sum model would say 157.
TEST(Bloat, AlignmentPaddingIsCountedPerColumn) {
  TableHealth t = AlignmentHeavy(1e6);
  t.heap_bytes = 7353LL * 8192;
  BloatEstimate e = EstimateTableBloat(t);
  ASSERT_TRUE(e.estimated);
  EXPECT_EQ(e.per_page, 136);
  EXPECT_LT(e.ratio, 0.01);
  // Reordered to (int8, int8, bool, bool) the same data needs no padding.
  TableHealth packed = t;
  packed.columns = {Col(1, "int8", 8, 'd', 8), Col(2, "int8", 8, 'd', 8), Col(3, "bool", 1, 'c', 1),
                    Col(4, "bool", 1, 'c', 1)};
  EXPECT_GT(EstimateTableBloat(packed).per_page, e.per_page);
}

TEST(Bloat, DoubleSizeIsHalfBloatAndFillfactorReservesSpace) {
  TableHealth t = AlignmentHeavy(1e6);
  t.heap_bytes = 2 * 7353LL * 8192;
  EXPECT_NEAR(EstimateTableBloat(t).ratio, 0.5, 0.01);
  t.reloptions["fillfactor"] = "50";
  EXPECT_LT(EstimateTableBloat(t).ratio, 0.05);
}

TEST(Bloat, NeverAnalyzedTablesAreNotEstimated) {
  TableHealth t = AlignmentHeavy(-1);
  t.has_stats = false;
  t.heap_bytes = 1 << 30;
  EXPECT_FALSE(EstimateTableBloat(t).estimated);
}

TEST(Bloat, BtreeDeduplicationShrinksLowCardinalityIndexes) {
  TableHealth t;
  t.reltuples = 1e6;
  t.has_stats = true;
  t.n_live_tup = 1000000;
  ColumnHealth status = Col(1, "int4", 4, 'i', 4);
  status.n_distinct = 10;
  t.columns = {status};
  IndexHealth x;
  x.am = "btree";
  x.attnums = {1};
  x.natts = x.nkeyatts = 1;
  x.bytes = 1LL << 30;
  BloatEstimate dedup = EstimateIndexBloat(x, t, 150000);
  x.unique = true;  // unique indexes are not deduplicated at build
  BloatEstimate plain = EstimateIndexBloat(x, t, 150000);
  ASSERT_TRUE(dedup.estimated && plain.estimated);
  EXPECT_TRUE(dedup.deduplicated);
  EXPECT_FALSE(plain.deduplicated);
  EXPECT_LT(dedup.expected_bytes * 2, plain.expected_bytes);
  x.unique = false;
  EXPECT_FALSE(EstimateIndexBloat(x, t, 120000).deduplicated);  // PG 12 has no dedup
}

PlanItem Item(const char* rule, const char* group, Severity sev, const char* kind,
              const char* object, const char* sql, bool executable = true) {
  PlanItem it;
  it.rule = rule;
  it.group = group;
  it.severity = sev;
  it.executable = executable;
  it.rec.kind = kind;
  it.rec.object = object;
  it.rec.sql = sql;
  it.rec.reason = "because";
  return it;
}

TEST(Plan, MostUrgentFirstAndRedundantAnalyzeDropped) {
  std::vector<PlanItem> items = {
      Item("stale-statistics", "statistics", Severity::kWarning, "analyze", "public.a",
           "ANALYZE a;"),
      Item("vacuum-overdue", "vacuum", Severity::kWarning, "vacuum", "public.a",
           "VACUUM (ANALYZE) a;"),
      Item("server-settings", "settings", Severity::kInfo, "config", "work_mem",
           "ALTER SYSTEM ..."),
      Item("xid-wraparound", "wraparound", Severity::kError, "vacuum", "public.b",
           "VACUUM (FREEZE) b;"),
  };
  OrderPlan(&items);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].rule, "xid-wraparound");
  EXPECT_EQ(items[1].rule, "vacuum-overdue");
  EXPECT_EQ(items[2].rule, "server-settings");
}

TEST(Plan, SqlScriptCommentsOutAdvice) {
  MaintenancePlan plan;
  plan.database = "shop";
  plan.server_version = 150018;
  plan.items = {Item("index-bloat", "bloat", Severity::kWarning, "reindex", "public.i",
                     "REINDEX INDEX CONCURRENTLY public.i;"),
                Item("idle-in-transaction", "health", Severity::kWarning, "session", "pid 7",
                     "SELECT pg_terminate_backend(7);", false)};
  std::string sql = RenderPlanSql(plan, 2000, 60000);
  EXPECT_NE(sql.find("\nREINDEX INDEX CONCURRENTLY public.i;\n"), std::string::npos) << sql;
  EXPECT_NE(sql.find("-- SELECT pg_terminate_backend(7);"), std::string::npos) << sql;
  EXPECT_EQ(sql.find("\nSELECT pg_terminate_backend"), std::string::npos) << sql;
  EXPECT_NE(sql.find("SET lock_timeout = '2000ms';"), std::string::npos);
  auto j = nlohmann::json::parse(RenderPlanJson(plan, nullptr));
  EXPECT_EQ(j["plan"][0]["recommendation"]["kind"], "reindex");
  EXPECT_EQ(j["plan"][1]["executable"], false);
}

TEST(Plan, TablePatternsAndSelectors) {
  EXPECT_TRUE(TableMatches({"orders*"}, "public", "orders_2024"));
  EXPECT_TRUE(TableMatches({"sales.*"}, "sales", "x"));
  EXPECT_FALSE(TableMatches({"sales.*"}, "public", "x"));
  EXPECT_TRUE(TableMatches({}, "public", "x"));
  MaintainOptions o;
  o.exclude = {"health"};
  EXPECT_FALSE(RuleSelected(o, "idle-in-transaction", "health"));
  o.only = {"table-bloat"};
  o.exclude.clear();
  EXPECT_TRUE(RuleSelected(o, "table-bloat", "bloat"));
  EXPECT_FALSE(RuleSelected(o, "index-bloat", "bloat"));
  EXPECT_EQ(ParseMemorySize("16GB"), 16LL << 30);
  EXPECT_EQ(ParseMemorySize("512MB"), 512LL << 20);
  EXPECT_EQ(ParseMemorySize("lots"), 0);
}

}  // namespace
}  // namespace pgvise
