// Unit tests of the maintenance module that need no database: the rule book
// matches the handler table, every fixture example behaves as its YAML says,
// the bloat layout model, plan ordering and rendering.
#include <gtest/gtest.h>

#include <set>

#include "maintenance/bloat.h"
#include "maintenance/plan.h"
#include "maintenance/report.h"
#include "maintenance/snapshot.h"
#include "maintenance/testing/rule_examples.h"
#include "maintenance/window.h"
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

ColumnHealth Nullable(ColumnHealth c, double null_frac) {
  c.null_frac = null_frac;
  return c;
}

// bloat.cc's worked example: (id int8, a int4 30% NULL, b text 33 B 30% NULL,
// c int8). Data bytes per present/absent combination (offsets from the
// MAXALIGNed data start):
//   a, b present   id 0..8, a 8..12, b 12..45, pad to 48, c ..56   p = .7*.7 = .49
//   a NULL         id 0..8, b 8..41, pad to 48, c ..56             p = .3*.7 = .21
//   b NULL         id 0..8, a 8..12, pad to 16, c ..24             p = .7*.3 = .21
//   both NULL      id 0..8, c 8..16                                p = .3*.3 = .09
// E[data] = .49*56 + .21*56 + .21*24 + .09*16 = 27.44 + 11.76 + 5.04 + 1.44
//         = 45.68, all four already multiples of 8, so E[MAXALIGN] = 45.68.
// Header: 4 columns -> bitmap 1 byte; MAXALIGN(23) = MAXALIGN(24) = 24 either
// way. Tuple 24 + 45.68 = 69.68. P(any NULL) = 1 - .7*.7 = .51.
TEST(BloatWidthModel, NullColumnsAddNeitherWidthNorPadding) {
  std::vector<ColumnHealth> cols = {
      Col(1, "int8", 8, 'd', 8), Nullable(Col(2, "int4", 4, 'i', 4), 0.3),
      Nullable(Col(3, "text", -1, 'i', 33), 0.3), Col(4, "int8", 8, 'd', 8)};
  HeapRowLayout r = ExpectedHeapRow(cols);
  EXPECT_NEAR(r.p_any_null, 0.51, 1e-9);
  EXPECT_NEAR(r.header, 24, 1e-9);
  EXPECT_NEAR(r.data, 45.68, 1e-9);
  EXPECT_NEAR(r.tuple, 69.68, 1e-9);
  EXPECT_TRUE(r.variable);
}

// The bench's nullable-mixed shape: (id int8, a int4, b text md5 = 33 B,
// c int8, d bool), a and b each 1/3 NULL. Under independence:
//   both present (4/9): 8+4+33 = 45, c 48..56, d ..57 -> MAXALIGN 64
//   a NULL (2/9):       8+33 = 41,   c 48..56, d ..57 -> 64
//   b NULL (2/9):       8+4 = 12,    c 16..24, d ..25 -> 32
//   both NULL (1/9):    8,           c 8..16,  d ..17 -> 24
// E[data] = (4*57 + 2*57 + 2*25 + 17) / 9 = 409/9;
// E[MAXALIGN(data)] = (4*64 + 2*64 + 2*32 + 24) / 9 = 472/9;
// tuple = 24 + 472/9 = 76.444 (the table, whose NULLs never coincide, stores
// (64 + 64 + 32)/3 + 24 = 77.333: independence is 0.9 B, 1.1% short).
// The former averaging model said 72.7.
TEST(BloatWidthModel, PaddingIsTheExpectationOverPresentColumns) {
  std::vector<ColumnHealth> cols = {Col(1, "int8", 8, 'd', 8),
                                    Nullable(Col(2, "int4", 4, 'i', 4), 1.0 / 3),
                                    Nullable(Col(3, "text", -1, 'i', 33), 1.0 / 3),
                                    Col(4, "int8", 8, 'd', 8), Col(5, "bool", 1, 'c', 1)};
  HeapRowLayout r = ExpectedHeapRow(cols);
  EXPECT_NEAR(r.data, 409.0 / 9, 1e-9);
  EXPECT_NEAR(r.tuple, 24 + 472.0 / 9, 1e-9);
  EXPECT_NEAR(r.p_any_null, 5.0 / 9, 1e-9);
}

// Nine int8 columns, two of them 50% NULL: the bitmap (ceil(9/8) = 2 bytes)
// moves t_hoff from MAXALIGN(23) = 24 to MAXALIGN(25) = 32 in the rows that
// have a NULL: P = 1 - .5*.5 = .75 (bounds .5 .. 1), header = .25*24 + .75*32
// = 30. Data: 7*8 + 2*(.5*8) = 64 (every offset stays a multiple of 8).
// Tuple 94. A dropped column is stored as NULL: every row has the bitmap
// (header 32) and the dropped column takes no bytes.
TEST(BloatWidthModel, NullBitmapOnlyInRowsWithANull) {
  std::vector<ColumnHealth> cols;
  for (int i = 1; i <= 9; ++i) cols.push_back(Col(i, "int8", 8, 'd', 8));
  cols[3].null_frac = 0.5;
  cols[6].null_frac = 0.5;
  HeapRowLayout r = ExpectedHeapRow(cols);
  EXPECT_NEAR(r.p_any_null, 0.75, 1e-9);
  EXPECT_NEAR(r.header, 30, 1e-9);
  EXPECT_NEAR(r.data, 64, 1e-9);
  EXPECT_NEAR(r.tuple, 94, 1e-9);
  cols[3].null_frac = cols[6].null_frac = 0;
  cols[8].dropped = true;
  r = ExpectedHeapRow(cols);
  EXPECT_NEAR(r.p_any_null, 1, 1e-9);
  EXPECT_NEAR(r.tuple, 32 + 64, 1e-9);
}

// pg_stats says 12 for a varlena whose mean is anywhere in [12, 13) (its
// avg_width is an integer, truncated): 12.5 on average. After an int4, half
// the rows 4 + 12 = 16 -> 16, half 4 + 13 = 17 -> 24; E[data] = 16.5,
// E[MAXALIGN] = 20, tuple 24 + 20 = 44 (not 24 + MAXALIGN(16.5) = 48, nor
// 16.5 + 3.5).
TEST(BloatWidthModel, FractionalWidthIsAMixOfFloorAndCeiling) {
  std::vector<ColumnHealth> cols = {Col(1, "int4", 4, 'i', 4), Col(2, "text", -1, 'i', 12)};
  HeapRowLayout r = ExpectedHeapRow(cols);
  EXPECT_NEAR(r.data, 16.5, 1e-9);
  EXPECT_NEAR(r.tuple, 44, 1e-9);
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

PlanItem Item(const char* rule, const char* group, Severity sev, RecommendationKind kind,
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
      Item("stale-statistics", "statistics", Severity::kWarning, RecommendationKind::kAnalyze,
           "public.a", "ANALYZE a;"),
      Item("vacuum-overdue", "vacuum", Severity::kWarning, RecommendationKind::kVacuum, "public.a",
           "VACUUM (ANALYZE) a;"),
      Item("server-settings", "settings", Severity::kInfo, RecommendationKind::kConfig, "work_mem",
           "ALTER SYSTEM ..."),
      Item("xid-wraparound", "wraparound", Severity::kError, RecommendationKind::kVacuum,
           "public.b", "VACUUM (FREEZE) b;"),
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
  plan.items = {
      Item("index-bloat", "bloat", Severity::kWarning, RecommendationKind::kReindex, "public.i",
           "REINDEX INDEX CONCURRENTLY public.i;"),
      Item("idle-in-transaction", "health", Severity::kWarning, RecommendationKind::kSession,
           "pid 7", "SELECT pg_terminate_backend(7);", false)};
  std::string sql = RenderPlanSql(plan, 2000, 60000);
  EXPECT_NE(sql.find("\nREINDEX INDEX CONCURRENTLY public.i;\n"), std::string::npos) << sql;
  EXPECT_NE(sql.find("-- SELECT pg_terminate_backend(7);"), std::string::npos) << sql;
  EXPECT_EQ(sql.find("\nSELECT pg_terminate_backend"), std::string::npos) << sql;
  EXPECT_NE(sql.find("SET lock_timeout = '2000ms';"), std::string::npos);
  auto j = nlohmann::json::parse(RenderPlanJson(plan, nullptr));
  EXPECT_EQ(j["plan"][0]["recommendation"]["kind"], "reindex");
  EXPECT_EQ(j["plan"][1]["executable"], false);
}

// Lines as psql's lexer sees them: a `--` comment ends at '\n' or '\r'.
std::vector<std::string> PsqlLines(const std::string& text) {
  std::vector<std::string> lines;
  size_t i = 0;
  while (i <= text.size()) {
    size_t end = text.find_first_of("\r\n", i);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(i, end - i));
    i = end + 1;
  }
  return lines;
}

TEST(Plan, SqlScriptKeepsHostileNamesAndTextInsideComments) {
  const std::string evil = "x\nDROP TABLE canary; --\ry\r\nDROP TABLE canary2;";
  MaintenancePlan plan;
  plan.database = "shop" + evil;
  plan.server_version = 150018;
  plan.notes = {"note " + evil};
  PlanItem run = Item("vacuum-overdue", "vacuum", Severity::kWarning, RecommendationKind::kVacuum,
                      "public.t", "VACUUM (ANALYZE) public.t;");
  run.rec.object = "public." + evil;
  run.rec.reason = "why " + evil;
  run.rec.lock = "lock " + evil;
  run.rec.revert = "undo " + evil;
  PlanItem advice = Item("table-bloat", "bloat", Severity::kWarning, RecommendationKind::kRepack,
                         "public.t", "", false);
  advice.rec.sql = "-- comment " + evil + "\nVACUUM FULL public.t;";
  plan.items = {run, advice};
  std::string sql = RenderPlanSql(plan, 2000, 60000);
  // Only these lines run; every other line is a comment or blank.
  const std::set<std::string> statements = {
      "\\set ON_ERROR_STOP off", "SET lock_timeout = '2000ms';",
      "SET statement_timeout = '60000ms';", "VACUUM (ANALYZE) public.t;"};
  int ran = 0;
  for (const auto& line : PsqlLines(sql)) {
    if (line.empty()) continue;
    if (statements.count(line)) {
      ++ran;
      continue;
    }
    EXPECT_EQ(line.rfind("--", 0), 0u) << "line outside a comment: [" << line << "]\n" << sql;
  }
  EXPECT_EQ(ran, 4) << sql;
  // The text itself is still there, one comment line per line.
  EXPECT_NE(sql.find("\n-- DROP TABLE canary; --\n"), std::string::npos) << sql;
  EXPECT_NE(sql.find("\n--    DROP TABLE canary2;\n"), std::string::npos) << sql;
  EXPECT_NE(sql.find("\n-- VACUUM FULL public.t;\n"), std::string::npos) << sql;
}

// The pg_repack line is for a shell: each argument a shell reads back as
// the name pg_repack needs (the table SQL-quoted), whatever the names hold
// ($(...), backquotes, quotes; an SQL-quoted name alone is open to them).
TEST(Plan, RepackCommandArgumentsAreShellWords) {
  const std::string schema = "s $(touch /tmp/pgvise-pwned)", table = "t`id`'\"x",
                    db = "shop $(id) 'q'";
  HealthSnapshot snap;
  ASSERT_TRUE(SnapshotFromJson(nlohmann::json{{"database", db},
                                              {"tables",
                                               {{{"schema", schema},
                                                 {"name", table},
                                                 {"reltuples", 1000000},
                                                 {"n_live_tup", 1000000},
                                                 {"n_dead_tup", 0},
                                                 {"heap_bytes", 21474836480},
                                                 {"since_analyze_s", 3600},
                                                 {"columns",
                                                  {{{"attnum", 1},
                                                    {"name", "id"},
                                                    {"type", "int8"},
                                                    {"typlen", 8},
                                                    {"typalign", "d"},
                                                    {"avg_width", 8}}}}}}}},
                               &snap)
                  .ok());
  RuleBook book = LoadBook();
  const Rule* rule = nullptr;
  for (const Rule* r : book.InArea("maintenance"))
    if (r->id == "table-bloat") rule = r;
  ASSERT_NE(rule, nullptr);
  std::string line;
  for (const PlanItem& it : RunRule(snap, *rule, MaintainOptions()))
    for (const std::string& l : PsqlLines(it.rec.sql))
      if (l.rfind("pg_repack ", 0) == 0) line = l;
  ASSERT_FALSE(line.empty()) << "no pg_repack advice";
  // The shell runs printf in pg_repack's place: one argument per line.
  const std::string cmd = "printf '%s\\n'" + line.substr(std::string("pg_repack").size());
  std::string got;
  ASSERT_EQ(testing::RunCommand(cmd, &got), 0) << cmd;
  EXPECT_EQ(got, "--no-order\n--table=" + QuoteIdent(schema) + "." + QuoteIdent(table) +
                     "\n--dbname=" + db + "\n")
      << line;
}

TEST(Plan, StandbyIsSaidInsteadOfNothingToDo) {
  MaintenancePlan plan;
  plan.database = "shop";
  plan.server_version = 150018;
  plan.standby = true;
  std::string text = RenderPlanText(plan);
  EXPECT_EQ(text.find("Nothing to do"), std::string::npos) << text;
  EXPECT_NE(text.find("standby"), std::string::npos) << text;
  EXPECT_NE(RenderPlanSql(plan, 1, 1).find("standby"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(RenderPlanJson(plan, nullptr))["standby"], true);
  plan.standby = false;
  EXPECT_NE(RenderPlanText(plan).find("Nothing to do: every rule passed."), std::string::npos);
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

// Issue 13: a large table at 90% of autovacuum_freeze_max_age is frozen at
// the operator's hour (info, proactive), ordered below the table already past
// the warning level; a small one at the same age is left to autovacuum.
TEST(Wraparound, LargeTablesAreFrozenBeforeTheAntiWraparoundAutovacuum) {
  RuleBook book = LoadBook();
  HealthSnapshot snap;
  ASSERT_TRUE(SnapshotFromJson(nlohmann::json::parse(R"({"tables": [
      {"name": "ledger", "xid_age": 180000000, "heap_bytes": 8589934592},
      {"name": "lookup", "xid_age": 180000000, "heap_bytes": 1048576},
      {"name": "archive", "xid_age": 300000000, "heap_bytes": 8589934592}]})"),
                               &snap)
                  .ok());
  std::vector<PlanItem> items = RunRule(snap, *book.Find("xid-wraparound"), {});
  ASSERT_EQ(items.size(), 2u);
  const PlanItem* ledger = nullptr;
  const PlanItem* archive = nullptr;
  for (const auto& it : items) {
    if (it.rec.object == "public.ledger") ledger = &it;
    if (it.rec.object == "public.archive") archive = &it;
  }
  ASSERT_NE(ledger, nullptr);
  ASSERT_NE(archive, nullptr);
  EXPECT_EQ(ledger->severity, Severity::kInfo);
  EXPECT_EQ(archive->severity, Severity::kWarning);
  EXPECT_LT(ledger->rec.priority, archive->rec.priority);
  EXPECT_NE(ledger->rec.reason.find("(90%)"), std::string::npos) << ledger->rec.reason;
  EXPECT_NE(ledger->rec.reason.find("within 20.00M XIDs"), std::string::npos) << ledger->rec.reason;
}

TEST(Window, DurationsInTheUnitsPeopleWrite) {
  EXPECT_EQ(ParseDuration("90"), 90);
  EXPECT_EQ(ParseDuration("90s"), 90);
  EXPECT_EQ(ParseDuration("10min"), 600);
  EXPECT_EQ(ParseDuration("1.5h"), 5400);
  EXPECT_EQ(ParseDuration("1d"), 86400);
  EXPECT_LT(ParseDuration("abc"), 0);
  EXPECT_LT(ParseDuration("0s"), 0);
  EXPECT_LT(ParseDuration("10 parsecs"), 0);
  EXPECT_LT(ParseDuration("1e9d"), 0);
}

// The worked example of window.h: 1,000,000 inserts at the baseline,
// 1,480,000 a day later -> 480,000 over 24 h. A reset in between counts from
// zero; a table new since the baseline keeps all its counters.
TEST(Window, RatesAreTheGrowthSinceTheBaseline) {
  HealthSnapshot now;
  now.database = "shop";
  TableHealth events;
  events.oid = 10;
  events.schema = "public";
  events.name = "events";
  events.has_stats = true;
  events.n_tup_ins = 1480000;
  TableHealth reset = events;
  reset.oid = 11;
  reset.name = "reset";
  reset.n_tup_ins = 500;
  TableHealth fresh = events;
  fresh.oid = 12;
  fresh.name = "fresh";
  fresh.n_tup_ins = 7000;
  now.tables = {events, reset, fresh};
  CounterBaseline base;
  base.database = "shop";
  base.taken_at = 1000;
  TableCounters e{10, "public", "events"};
  e.n_tup_ins = 1000000;
  TableCounters r{11, "public", "reset"};
  r.n_tup_ins = 900000;
  base.tables = {e, r};
  // Through the file format, as a cron job would.
  CounterBaseline read;
  ASSERT_TRUE(BaselineFromJson(BaselineToJson(base), "b.json", &read).ok());
  ASSERT_TRUE(ApplyWindow(read, 86400, "since the baseline", &now).ok());
  EXPECT_EQ(now.tables[0].n_tup_ins, 480000);
  EXPECT_EQ(now.tables[1].n_tup_ins, 500);
  EXPECT_EQ(now.tables[2].n_tup_ins, 7000);
  EXPECT_EQ(now.stats_age_s, 86400);
  EXPECT_TRUE(now.window_chosen);
  HealthSnapshot other = now;
  other.database = "elsewhere";
  EXPECT_FALSE(ApplyWindow(read, 60, "x", &other).ok());
}

TEST(Window, BadBaselineFilesAreLocated) {
  CounterBaseline b;
  Status st = BaselineFromJson(nlohmann::json::parse(R"({"a": 1})"), "b.json", &b);
  EXPECT_NE(st.message().find("not a pgvise baseline"), std::string::npos) << st.message();
  st = BaselineFromJson(
      nlohmann::json::parse(R"({"pgvise_baseline": 1, "database": "d", "taken_at": 5,
        "tables": [{"oid": 1, "schema": "s", "name": "t", "n_tup_ins": "many"}]})"),
      "b.json", &b);
  EXPECT_EQ(st.message().rfind("b.json: tables[0].n_tup_ins", 0), 0u) << st.message();
}

}  // namespace
}  // namespace pgvise
