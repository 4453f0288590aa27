// Unit tests of the partition advisor's decisions over a hand-built catalog
// and workload: which strategy and key (or none, and why), the interval and
// count, pruning against a histogram, and the migration's shape.
#include <gtest/gtest.h>

#include <tuple>

#include "advisor/partition_internal.h"

namespace pgvise {
namespace {

constexpr int64_t kGB = 1LL << 30;

TableInfo EventsTable(int64_t bytes) {
  TableInfo t;
  t.schema = "public";
  t.name = "events";
  t.reltuples = 1e8;
  t.total_bytes = bytes;
  t.heap_bytes = bytes * 3 / 4;
  t.index_bytes = bytes / 4;
  ColumnInfo id;
  id.name = "id";
  id.type = "bigint";
  id.type_category = 'N';
  id.not_null = true;
  id.has_stats = true;
  id.n_distinct = -1;
  id.correlation = 0.2;  // not in insert order: not a RANGE key
  ColumnInfo ts;
  ts.name = "ts";
  ts.type = "timestamp with time zone";
  ts.type_category = 'D';
  ts.has_stats = true;
  ts.n_distinct = -0.9;
  ColumnInfo kind;
  kind.name = "kind";
  kind.type = "text";
  kind.type_category = 'S';
  kind.has_stats = true;
  kind.n_distinct = 3;
  kind.most_common_vals = {"click", "view", "buy"};
  kind.most_common_freqs = {0.6, 0.3, 0.1};
  t.columns = {id, ts, kind};
  IndexInfo pk;
  pk.schema = "public";
  pk.name = "events_pkey";
  pk.table_schema = "public";
  pk.table = "events";
  pk.method = "btree";
  pk.unique = pk.primary = true;
  pk.constraint = "events_pkey";
  pk.constraint_type = 'p';
  IndexKey k;
  k.column = k.expression = "id";
  pk.keys = {k};
  pk.definition = "CREATE UNIQUE INDEX events_pkey ON public.events USING btree (id)";
  IndexInfo tsi = pk;
  tsi.name = "events_ts";
  tsi.unique = tsi.primary = false;
  tsi.constraint.clear();
  tsi.constraint_type = 0;
  k.column = k.expression = "ts";
  tsi.keys = {k};
  tsi.definition = "CREATE INDEX events_ts ON public.events USING btree (ts)";
  t.indexes = {pk, tsi};
  ConstraintInfo pkc;
  pkc.name = "events_pkey";
  pkc.type = 'p';
  pkc.columns = {"id"};
  t.constraints = {pkc};
  return t;
}

Catalog WithTable(TableInfo t) {
  Catalog c;
  c.AddTable(std::move(t));
  c.set_search_path({"public"});
  return c;
}

Workload Load(const std::string& sql) {
  Workload w;
  EXPECT_TRUE(AddSqlText("w.sql", sql, &w).ok());
  return w;
}

std::optional<PartitionCandidate> Decide(const Catalog& c, const Workload& w, std::string* why,
                                         PartitionOptions o = {}) {
  auto uses = GroupByTable(c, w);
  EXPECT_EQ(uses.size(), 1u);
  if (uses.empty()) return std::nullopt;
  return ChooseCandidate(uses[0], o, why);
}

TEST(PartitionCandidates, RangeReadsAndRetentionPickTheTimeColumn) {
  Catalog c = WithTable(EventsTable(30 * kGB));
  Workload w = Load(
      "-- pgvise: calls=900\nSELECT count(*) FROM events WHERE ts >= now() - interval '1 day';\n"
      "-- pgvise: calls=100\nSELECT * FROM events WHERE id = $1;\n"
      "-- pgvise: calls=1\nDELETE FROM events WHERE ts < now() - interval '90 days';\n"
      "-- pgvise: calls=5000\nINSERT INTO events (id, ts, kind) VALUES ($1, now(), 'view');\n");
  std::string why;
  auto cand = Decide(c, w, &why);
  ASSERT_TRUE(cand) << why;
  EXPECT_EQ(cand->strategy, PartitionStrategy::kRange);
  EXPECT_EQ(cand->key, "ts");
  EXPECT_TRUE(cand->time_key);
  EXPECT_TRUE(cand->retention);
  // 901 of the 1,001 reading calls filter ts by range; INSERTs don't count.
  EXPECT_NEAR(cand->share, 901.0 / 1001.0, 1e-9);
}

// The base type decides a time key, not the type's name: a domain over
// timestamptz is one; a domain over time (a time of day, same 'D'
// category) is not, nor is time itself.
TEST(PartitionCandidates, TheBaseTypeDecidesATimeKey) {
  const std::string reads =
      "-- pgvise: calls=900\nSELECT count(*) FROM events WHERE ts >= now() - interval '1 day';\n";
  for (const auto& [type, base, time] :
       {std::tuple<std::string, std::string, bool>{"\"My TS\"", "timestamp with time zone", true},
        {"public.day", "date", true},
        {"\"Tod\"", "time without time zone", false},
        {"time with time zone", "", false}}) {
    TableInfo t = EventsTable(30 * kGB);
    t.columns[1].type = type;
    t.columns[1].base_type = base;
    Catalog c = WithTable(t);
    std::string why;
    auto cand = Decide(c, Load(reads), &why);
    EXPECT_EQ(cand.has_value(), time) << type << ": " << why;
    if (cand) {
      EXPECT_TRUE(cand->time_key) << type;
    }
  }
}

TEST(PartitionCandidates, RetentionAloneIsEnough) {
  Catalog c = WithTable(EventsTable(30 * kGB));
  Workload w = Load(
      "-- pgvise: calls=1000\nSELECT * FROM events WHERE id = $1;\n"
      "DELETE FROM events WHERE ts < now() - interval '90 days';\n");
  std::string why;
  auto cand = Decide(c, w, &why);
  ASSERT_TRUE(cand) << why;
  EXPECT_EQ(cand->key, "ts");
  EXPECT_TRUE(cand->retention);
}

TEST(PartitionCandidates, PrimaryKeyLookupsGetNothingAndSayWhy) {
  Catalog c = WithTable(EventsTable(30 * kGB));
  Workload w = Load(
      "-- pgvise: calls=1000\nSELECT * FROM events WHERE id = $1;\n"
      "UPDATE events SET kind = 'buy' WHERE id = 7;\n");
  std::string why;
  EXPECT_FALSE(Decide(c, w, &why));
  EXPECT_NE(why.find("id: equality"), std::string::npos) << why;
  EXPECT_NE(why.find("distinct values"), std::string::npos) << why;
}

TEST(PartitionCandidates, SmallTableGetsNothing) {
  Catalog c = WithTable(EventsTable(19 * kGB));  // the default threshold is 20 GB
  Workload w = Load("SELECT count(*) FROM events WHERE ts >= now() - interval '1 day';\n");
  std::string why;
  EXPECT_FALSE(Decide(c, w, &why));
  EXPECT_EQ(why, "below --partition-min-size");
  PartitionOptions o;
  o.min_size_bytes = 1 * kGB;
  EXPECT_TRUE(Decide(c, w, &why, o));
}

TEST(PartitionCandidates, RangeOnARareFilterIsNotEnough) {
  Catalog c = WithTable(EventsTable(30 * kGB));
  Workload w = Load(
      "-- pgvise: calls=10\nSELECT count(*) FROM events WHERE ts >= now() - interval '1 day';\n"
      "-- pgvise: calls=990\nSELECT * FROM events WHERE id = $1;\n");
  std::string why;
  EXPECT_FALSE(Decide(c, w, &why));
  EXPECT_NE(why.find("ts: range in only 1%"), std::string::npos) << why;
}

TEST(PartitionCandidates, ListOnFewStableValues) {
  Catalog c = WithTable(EventsTable(30 * kGB));
  Workload w = Load(
      "-- pgvise: calls=800\nSELECT count(*) FROM events WHERE kind = 'buy';\n"
      "-- pgvise: calls=200\nSELECT * FROM events WHERE id = $1;\n");
  std::string why;
  auto cand = Decide(c, w, &why);
  ASSERT_TRUE(cand) << why;
  EXPECT_EQ(cand->strategy, PartitionStrategy::kList);
  EXPECT_EQ(cand->key, "kind");
  EXPECT_EQ(cand->list_values.size(), 3u);
}

TEST(PartitionCandidates, ListNeedsTheMcvsToCoverTheRows) {
  TableInfo t = EventsTable(30 * kGB);
  t.columns[2].most_common_freqs = {0.3, 0.2, 0.1};  // 40% of the rows in a long tail
  t.columns[2].n_distinct = 5000;
  Catalog c = WithTable(t);
  Workload w = Load("SELECT count(*) FROM events WHERE kind = 'buy';\n");
  std::string why;
  EXPECT_FALSE(Decide(c, w, &why));
  EXPECT_NE(why.find("kind: equality"), std::string::npos) << why;
}

TEST(PartitionCandidates, NonTimeRangeColumnIsRejected) {
  TableInfo t = EventsTable(30 * kGB);
  Catalog c = WithTable(t);
  Workload w = Load("SELECT * FROM events WHERE id > 100 AND id < 200;\n");
  std::string why;
  EXPECT_FALSE(Decide(c, w, &why));
  EXPECT_NE(why.find("neither a date/time nor an integer in insert order"), std::string::npos)
      << why;
  // The same column in insert order (a sequence's id) is a RANGE key.
  t.columns[0].correlation = 0.99;
  Catalog c2 = WithTable(t);
  auto cand = Decide(c2, w, &why);
  ASSERT_TRUE(cand) << why;
  EXPECT_EQ(cand->key, "id");
  EXPECT_FALSE(cand->time_key);
}

TEST(PartitionInterval, WorkedExampleIsOneMonth) {
  IntervalInput in;
  in.lo = 0;
  in.hi = 365 * 86400.0;
  in.table_bytes = 30 * kGB;
  in.index_bytes = 9 * kGB;
  in.shared_buffers_bytes = 8 * kGB;
  in.indexes = 3;
  IntervalChoice c = ChooseInterval(in, {});
  EXPECT_EQ(c.interval, "1 month");
  EXPECT_EQ(c.trunc_unit, "month");
  EXPECT_EQ(c.partitions, 12);  // 365 / 30.44 days
  EXPECT_EQ(c.premake, 4);
}

TEST(PartitionInterval, SmallBuffersMakeSmallerPartitions) {
  IntervalInput in;
  in.lo = 0;
  in.hi = 365 * 86400.0;
  in.table_bytes = 300 * kGB;
  in.index_bytes = 100 * kGB;
  in.shared_buffers_bytes = 4 * kGB;  // 1 GB of index per partition: 3.65 days of data
  PartitionOptions o;
  o.max_partitions = 400;
  IntervalChoice c = ChooseInterval(in, o);
  EXPECT_EQ(c.interval, "1 day");
  EXPECT_EQ(c.partitions, 365);
  // With the default bound of 200 partitions (at least 1.8 days each) the
  // count wins: 1 week, and the reasoning says so.
  c = ChooseInterval(in, {});
  EXPECT_EQ(c.interval, "1 week");
  EXPECT_EQ(c.partitions, 53);
  EXPECT_NE(c.why[2].find("this bound won"), std::string::npos);
}

TEST(PartitionInterval, CountBoundWinsOverSize) {
  IntervalInput in;
  in.lo = 0;
  in.hi = 3650 * 86400.0;  // ten years
  in.table_bytes = 3000 * kGB;
  in.index_bytes = 1000 * kGB;
  in.shared_buffers_bytes = 1 * kGB;  // size allows ~0.9 days
  IntervalChoice c = ChooseInterval(in, {});
  // 3650 days / 200 partitions = 18.25 days at least: 1 month.
  EXPECT_EQ(c.interval, "1 month");
  EXPECT_LE(c.partitions, 200);
  EXPECT_NE(c.why[2].find("this bound won"), std::string::npos);
}

TEST(PartitionInterval, IntegerKeysStepOneTwoFive) {
  IntervalInput in;
  in.time_key = false;
  in.lo = 1;
  in.hi = 10'000'000;
  in.table_bytes = 30 * kGB;
  in.index_bytes = 6 * kGB;
  in.shared_buffers_bytes = 8 * kGB;
  IntervalChoice c = ChooseInterval(in, {});
  // Size: 1e7 x 2 GB / 6 GB = 3.3e6; pruning: 1e7 / 8 = 1.25e6 -> 1,000,000.
  EXPECT_EQ(c.interval, "1000000");
  EXPECT_EQ(c.partitions, 10);
}

TEST(PartitionPrune, HistogramFraction) {
  std::vector<double> b = {0, 10, 20, 30, 40};  // four buckets of 25%
  EXPECT_DOUBLE_EQ(HistogramFraction(b, 0, 40), 1.0);
  EXPECT_DOUBLE_EQ(HistogramFraction(b, 10, 20), 0.25);
  EXPECT_DOUBLE_EQ(HistogramFraction(b, 35, 1e9), 0.125);
  EXPECT_DOUBLE_EQ(HistogramFraction(b, 50, 60), 0.0);
}

TEST(PartitionPrune, SurvivingPartitions) {
  std::vector<double> b = {0, 25, 50, 75, 100};
  // Ten partitions of 10 from 0; `key >= 95` leaves the last one.
  PruneResult r = Prune(95.0, std::nullopt, 0, 10, 10, b);
  EXPECT_EQ(r.scanned, 1);
  EXPECT_EQ(r.total, 10);
  EXPECT_NEAR(r.row_fraction, 0.1, 1e-9);
  // [20, 40): partitions 2 and 3.
  r = Prune(20.0, 40.0, 0, 10, 10, b);
  EXPECT_EQ(r.scanned, 2);
  EXPECT_NEAR(r.row_fraction, 0.2, 1e-9);
  // No bound: every partition, every row.
  r = Prune(std::nullopt, std::nullopt, 0, 10, 10, b);
  EXPECT_EQ(r.scanned, 10);
  EXPECT_DOUBLE_EQ(r.row_fraction, 1.0);
  // Below the data: nothing.
  r = Prune(std::nullopt, -5.0, 0, 10, 10, b);
  EXPECT_EQ(r.scanned, 0);
}

// A scan node of `readings`, as ReadPlan would give it.
PlanNode ScanNode(const std::string& type, double startup, double total, double rows,
                  const std::string& index_cond = "") {
  PlanNode n;
  n.node_type = type;
  n.relation = "readings";
  n.startup_cost = startup;
  n.total_cost = total;
  n.plan_rows = rows;
  n.index_cond = index_cond;
  return n;
}

TEST(PartitionCost, SeqScanScalesByTheSurvivingRows) {
  PlanNode agg;
  agg.node_type = "Aggregate";
  agg.total_cost = 1100;
  agg.children.push_back(ScanNode("Seq Scan", 0, 1000, 1000));
  // 2 of 12 partitions, 10% of the rows: 900 less, plus the Append's 0.005 a row.
  EXPECT_NEAR(CostAfterPruning(agg, "readings", "ts", 2, 0.1), 1100 - 900 + 5, 1e-9);
  // Another table's scan is untouched.
  EXPECT_DOUBLE_EQ(CostAfterPruning(agg, "other", "ts", 2, 0.1), 1100);
}

TEST(PartitionCost, IndexScanOnTheKeyPaysADescentPerPartitionNotAFraction) {
  // WHERE ts >= x on an index over ts: the same entries are read, over 3
  // partitions: two more descents (the startup cost) and the Append.
  PlanNode ix = ScanNode("Index Scan", 0.42, 812, 100, "(ts >= '2026-12-01'::timestamptz)");
  EXPECT_NEAR(CostAfterPruning(ix, "readings", "ts", 3, 0.25), 812 + 2 * 0.42 + 0.5, 1e-9);
  // One partition: no extra descent, no Append.
  EXPECT_NEAR(CostAfterPruning(ix, "readings", "ts", 1, 0.25), 812, 1e-9);
}

TEST(PartitionCost, IndexScanWithoutTheKeyScalesByTheSurvivingRows) {
  // An index on device; ts is filtered after the fetch: each partition's
  // index holds only its rows. `last_ts` is not the key.
  PlanNode ix = ScanNode("Index Scan", 0.42, 812.42, 100, "(device = 7) AND (last_ts > now())");
  EXPECT_NEAR(CostAfterPruning(ix, "readings", "ts", 3, 0.25), 0.42 + 812 * 0.25 + 2 * 0.42 + 0.5,
              1e-9);
}

TEST(PartitionCost, BitmapScanAndNestedLoopInner) {
  // Bitmap Heap Scan (heap part 500) over a Bitmap Index Scan on ts.
  PlanNode heap = ScanNode("Bitmap Heap Scan", 10, 510, 1000);
  heap.recheck_cond = "(ts >= now())";
  PlanNode bix;
  bix.node_type = "Bitmap Index Scan";
  bix.index_name = "readings_ts";
  bix.startup_cost = 0;
  bix.total_cost = 10;
  bix.index_cond = "(ts >= now())";
  heap.children.push_back(bix);
  // The key bounds the bitmap: the heap part is the same rows; descents are 0.
  EXPECT_NEAR(CostAfterPruning(heap, "readings", "ts", 2, 0.5), 510 + 5, 1e-9);
  // Inner side of a Nested Loop runs once per outer row (4): its change counts 4 times.
  PlanNode nl;
  nl.node_type = "Nested Loop";
  nl.total_cost = 100;
  PlanNode outer = ScanNode("Seq Scan", 0, 10, 4);
  outer.relation = "devices";
  nl.children = {outer, ScanNode("Index Scan", 0.5, 20, 1, "(ts = now())")};
  EXPECT_NEAR(CostAfterPruning(nl, "readings", "ts", 2, 0.5), 100 + 4 * (0.5 + 0.005), 1e-9);
}

MigrationInput RangeMigration(const TableInfo* t) {
  MigrationInput in;
  in.table = t;
  in.cand.table = t;
  in.cand.key = "ts";
  in.cand.time_key = true;
  in.interval.interval = "1 day";
  in.interval.trunc_unit = "day";
  in.interval.premake = 2;
  in.key_type = "timestamp with time zone";
  in.history_bound = "2026-12-07 00:00:00+00";
  in.future_bounds = {"2026-12-07 00:00:00+00", "2026-12-08 00:00:00+00", "2026-12-09 00:00:00+00"};
  return in;
}

TEST(PartitionMigration, NonBlockingShape) {
  TableInfo t = EventsTable(30 * kGB);
  Migration m = BuildMigration(RangeMigration(&t));
  EXPECT_TRUE(m.executable);
  const std::string& s = m.sql;
  auto at = [&](const std::string& x) { return s.find(x); };
  // CHECK NOT VALID, then VALIDATE, then the swap's ATTACH (which the CHECK lets skip its scan).
  ASSERT_NE(at("CHECK (ts IS NOT NULL AND ts < '2026-12-07 00:00:00+00'"), std::string::npos);
  ASSERT_NE(at(") NOT VALID;"), std::string::npos);
  ASSERT_NE(at("VALIDATE CONSTRAINT events_partition_bound"), std::string::npos);
  EXPECT_LT(at("NOT VALID"), at("VALIDATE CONSTRAINT"));
  EXPECT_LT(at("VALIDATE CONSTRAINT"), at("ATTACH PARTITION"));
  // The parent is shaped before the CHECK exists (LIKE copies CHECKs).
  EXPECT_LT(at("CREATE TABLE public.events_partitioned (LIKE public.events INCLUDING ALL "
               "EXCLUDING INDEXES"),
            at("NOT VALID"));
  // The primary key gains the key; its twin is built CONCURRENTLY on the old table.
  EXPECT_NE(at("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS events_pkey_ts_key ON "
               "public.events (id, ts)"),
            std::string::npos);
  EXPECT_NE(at("ADD PRIMARY KEY (id, ts)"), std::string::npos);
  EXPECT_NE(at("CREATE INDEX ON public.events_partitioned USING btree (ts)"), std::string::npos);
  // Two future partitions, no default.
  EXPECT_NE(at("events_p2026_12_07 PARTITION OF"), std::string::npos);
  EXPECT_NE(at("events_p2026_12_08 PARTITION OF"), std::string::npos);
  EXPECT_EQ(at("DEFAULT"), std::string::npos);
  // The swap is one short transaction with its own lock_timeout, then ANALYZE.
  EXPECT_LT(at("BEGIN;\nSET LOCAL lock_timeout"), at("RENAME TO events_history"));
  EXPECT_LT(at("ATTACH PARTITION public.events_history FOR VALUES FROM (MINVALUE)"), at("COMMIT;"));
  EXPECT_NE(at("ANALYZE public.events;"), std::string::npos);
  EXPECT_NE(m.revert.find("DETACH PARTITION public.events_history"), std::string::npos);
  EXPECT_NE(m.revert.find("INSERT INTO public.events SELECT * FROM public.events_partitioned"),
            std::string::npos);
  ASSERT_FALSE(m.constraints.empty());
  EXPECT_NE(m.constraints[0].find("primary key events_pkey (id) must include"), std::string::npos);
}

TEST(PartitionMigration, ReferencingForeignKeyMakesItAdvice) {
  TableInfo t = EventsTable(30 * kGB);
  MigrationInput in = RangeMigration(&t);
  in.deps.referencing_fks.push_back(
      {"public.clicks", "clicks_event_fk", "FOREIGN KEY (event_id) REFERENCES events(id)"});
  Migration m = BuildMigration(in);
  EXPECT_FALSE(m.executable);
  ASSERT_EQ(m.blockers.size(), 1u);
  EXPECT_NE(m.blockers[0].find("clicks_event_fk"), std::string::npos);
}

TEST(PartitionMigration, PartmanConfigWhenInstalled) {
  TableInfo t = EventsTable(30 * kGB);
  MigrationInput in = RangeMigration(&t);
  EXPECT_TRUE(BuildMigration(in).partman.empty());
  in.settings.pg_partman = true;
  in.settings.partman_schema = "partman";
  in.retention_intervals = 90;
  Migration m = BuildMigration(in);
  EXPECT_NE(m.partman.find("partman.create_parent(p_parent_table => 'public.events', p_control "
                           "=> 'ts'"),
            std::string::npos)
      << m.partman;
  EXPECT_NE(m.partman.find("retention = '90 days'"), std::string::npos) << m.partman;
  // It starts where the old table ends, or its premade partitions behind
  // now() overlap the old table attached below B.
  EXPECT_NE(m.partman.find("p_start_partition => '2026-12-07 00:00:00+00'"), std::string::npos)
      << m.partman;
}

}  // namespace
}  // namespace pgvise
