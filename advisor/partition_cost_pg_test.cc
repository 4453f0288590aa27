// The dry run's cost model after partitioning (advisor/partition_cost.cc)
// against a real partitioned copy: the same statements EXPLAINed on a flat
// table and on the same rows partitioned, in two scratch schemas of a test
// database the way `advise --verify` builds them (advisor/partition_verify.cc).
//
// For each statement: the model takes the flat plan, the number of
// partitions the planner kept after pruning and their share of the rows, and
// predicts the partitioned plan's total cost. The test holds the prediction
// to kCostTolerance of what EXPLAIN reports on the partitioned copy, and the
// pages the model assumes (the same index entries and heap rows when the key
// bounds the index condition, the surviving share otherwise, plus a descent
// per partition) to what EXPLAIN (ANALYZE, BUFFERS) counts — cheap here:
// 200,000 rows, all in shared buffers after the load.
//
// Planner settings keep both sides on the plan shape each case is about
// (enable_bitmapscan off for the index-scan cases, no parallel workers), so
// the comparison is like for like: the model re-costs the flat plan's shape,
// and a partitioned planner free to pick another shape would test the
// planner, not the model. Each case checks both plans have that shape.
//
// A test that cannot fail proves nothing: `BrokenModelsAreCaught` prices the
// same cases with a model that ignores pruning and with the one the dry run
// used before (every scan x the surviving share) and expects each to miss the
// tolerance on some case.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "advisor/partition_internal.h"
#include "analyzer/plan/explain_runner.h"
#include "core/source.h"
#include "tests/support/pg_test.h"

namespace pgvise {
namespace {

// Model vs EXPLAIN on the partitioned copy: the model keeps the flat plan's
// row estimates and each partition's planner re-estimates its own pages, a
// few percent apart (measured 3-4% on these cases, see the printed table).
constexpr double kCostTolerance = 0.10;
// Pages: 10%, plus the descent pages (root + leaf of a small B-tree) each
// partition's index adds.
constexpr double kPageTolerance = 0.10;
constexpr int kDescentPages = 2;
constexpr int kPartitions = 12;

struct Case {
  const char* name;
  const char* sql;
  const char* settings;   // planner settings for both sides
  const char* scan_type;  // the flat plan's scan of readings, and each partition's
  bool key_in_index_cond;
  // Set when EXPLAIN's cost on the partitioned copy is known not to follow
  // the pages read, and why; the model is then held to the pages instead.
  const char* cost_follows_pages_not_explain = nullptr;
};

const Case kCases[] = {
    // The key bounds the index condition: the same entries and heap rows,
    // split over two partitions. (Planned on the ts index, device filtered.)
    {"key in the index condition, 2 of 12 partitions",
     "SELECT id, value FROM readings WHERE device = 7 AND ts >= '2026-02-20 00:00+00' AND ts < "
     "'2026-02-27 00:00+00' ORDER BY ts",
     "SET enable_bitmapscan = off; SET enable_seqscan = off", "Index Scan", true},
    {"key in the index condition under an aggregate, 1 of 12",
     "SELECT avg(value) FROM readings WHERE ts >= '2026-02-21 00:00+00' AND ts < '2026-02-24 "
     "00:00+00'",
     "SET enable_bitmapscan = off; SET enable_seqscan = off", "Index Scan", true},
    // The key only filters: each surviving partition's sensor index holds
    // just its own rows, so the scan shrinks to their share.
    {"key filtered after the index, 3 of 12",
     "SELECT id, value FROM readings WHERE sensor = 7 AND ts >= '2026-02-01 00:00+00' AND ts < "
     "'2026-02-15 00:00+00'",
     "SET enable_bitmapscan = off; SET enable_seqscan = off", "Index Scan", false},
    {"key filtered after the index, 6 of 12",
     "SELECT id, value FROM readings WHERE sensor = 11 AND ts >= '2026-01-31 00:00+00'",
     "SET enable_bitmapscan = off; SET enable_seqscan = off", "Index Scan", false},
    // The inner side of a Nested Loop: a descent per partition per outer row.
    {"inner of a nested loop, key in the index condition, 2 of 12",
     "SELECT d.id, r.value FROM devices d JOIN readings r ON r.device = d.id AND r.ts >= "
     "'2026-02-20 00:00+00' AND r.ts < '2026-02-27 00:00+00' WHERE d.id < 4",
     "SET enable_bitmapscan = off; SET enable_seqscan = off; SET enable_hashjoin = off; SET "
     "enable_mergejoin = off",
     "Index Scan", true},
    // A bitmap on the key: its index part as above, its heap part already
    // only the surviving rows (the key is in the recheck condition).
    {"bitmap on the key, 2 of 12",
     "SELECT count(*) FROM readings WHERE ts >= '2026-02-20 00:00+00' AND ts < '2026-02-27 "
     "00:00+00' AND value > 10",
     "SET enable_indexscan = off; SET enable_seqscan = off", "Bitmap Heap Scan", true,
     // PostgreSQL costs a bitmap's heap pages without the index's correlation
     // (Mackert-Lohman, capped at the relation's pages): 23,000 rows of a
     // 2,654-page table are priced as nearly every page, the same rows in two
     // 222-page partitions as ~435. Both read the same 311 heap pages (the
     // rows are in time order), so the planner's 2.4x drop is not work saved;
     // the model keeps the heap part, as the pages do.
     "bitmap heap cost ignores correlation"},
    // A Seq Scan reads only the surviving partitions.
    {"seq scan, 2 of 12",
     "SELECT count(*) FROM readings WHERE ts >= '2026-02-20 00:00+00' AND ts < '2026-02-27 "
     "00:00+00' AND value > 10",
     "SET enable_indexscan = off; SET enable_bitmapscan = off", "Seq Scan", false},
};

struct Measured {
  Plan flat, part;
  int scanned = 0;          // partitions left after pruning (scans in the plan)
  double row_fraction = 0;  // their share of the rows (reltuples)
  int64_t flat_pages = 0;   // shared buffers the flat scan touched
  int64_t part_pages = 0;   // ... the partitions' scans together
};

class PartitionCostLive : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    uri_ = new std::string(testing::FreshDatabase("partition_cost_live"));
    auto admin = testing::AdminSession(*uri_);
    // 199,000 readings, one every 26 s from 2026-01-01: 59.9 days, in 12
    // partitions of 5 days (no default: every row has one). Fixed dates, so
    // the pruning is the same on every run.
    std::string sql = R"sql(
      CREATE SCHEMA flat; CREATE SCHEMA part;
      CREATE TABLE flat.readings (id bigint NOT NULL, ts timestamptz NOT NULL, device int NOT NULL,
                                  sensor int NOT NULL, value float8 NOT NULL, pad text);
      INSERT INTO flat.readings
        SELECT g, timestamptz '2026-01-01 00:00+00' + g * interval '26 seconds', g % 40, g % 400,
               (g % 1000) / 10.0, repeat('r', 40)
        FROM generate_series(1, 199000) g;
      CREATE TABLE part.readings (LIKE flat.readings) PARTITION BY RANGE (ts);
      DO $$ BEGIN FOR i IN 0..11 LOOP
        EXECUTE format('CREATE TABLE part.readings_p%s PARTITION OF part.readings
                        FOR VALUES FROM (%L) TO (%L)', i,
                       timestamptz '2026-01-01 00:00+00' + i * interval '5 days',
                       timestamptz '2026-01-01 00:00+00' + (i + 1) * interval '5 days');
      END LOOP; END $$;
      INSERT INTO part.readings SELECT * FROM flat.readings;
      CREATE TABLE flat.devices (id int PRIMARY KEY, name text);
      INSERT INTO flat.devices SELECT g, 'd' || g FROM generate_series(0, 39) g;
      CREATE TABLE part.devices AS SELECT * FROM flat.devices;
      ALTER TABLE part.devices ADD PRIMARY KEY (id);
      ANALYZE flat.devices; ANALYZE part.devices;
    )sql";
    for (const char* schema : {"flat", "part"})
      for (const char* cols : {"ts", "device, ts", "sensor"})
        sql += std::string("CREATE INDEX ON ") + schema + ".readings (" + cols + ");\n";
    // Statistics from every row, not a random 30,000-row sample: the model
    // keeps the flat plan's estimates and the partitions are small enough to
    // be read whole, so a sampled flat table made the two sides differ by a
    // few percent more on some runs than on others (a CI run failed on it).
    // 1000 x 300 rows covers the 199,000; autovacuum's ANALYZE uses it too.
    for (const char* schema : {"flat", "part"})
      for (const char* col : {"id", "ts", "device", "sensor", "value"})
        sql += std::string("ALTER TABLE ") + schema + ".readings ALTER COLUMN " + col +
               " SET STATISTICS 1000;\n";
    Check(admin->Exec(sql));
    // The parent explicitly: autovacuum never analyzes a partitioned table.
    Check(admin->Exec("VACUUM ANALYZE flat.readings"));
    Check(admin->Exec("VACUUM ANALYZE part.readings"));
  }
  static void TearDownTestSuite() { delete uri_; }

  static void Check(const Status& st) {
    if (!st.ok()) throw Error(ExitCode::kDatabaseError, "setup: " + st.message());
  }

  static Plan Explain(Session& s, const std::string& schema, const Case& c) {
    Check(s.Exec("RESET ALL; SET search_path = " + schema +
                 "; SET max_parallel_workers_per_gather = 0; " + c.settings));
    ExplainOptions eo;
    eo.analyze = true;
    eo.buffers = true;
    std::string json;
    Check(ExplainStatement(s, c.sql, eo, &json));
    Plan p;
    Check(ReadPlan(SourceText("explain.json", json), &p));
    return p;
  }

  static Measured Measure(const Case& c) {
    auto s = testing::AdminSession(*uri_);
    Measured m;
    m.flat = Explain(*s, "flat", c);
    m.part = Explain(*s, "part", c);
    std::string regs;  // the surviving partitions, as regclass literals
    ForEachNode(m.flat.root, [&](const PlanNode& n) {
      if (n.relation == "readings") m.flat_pages += n.buffers.shared_hit + n.buffers.shared_read;
    });
    ForEachNode(m.part.root, [&](const PlanNode& n) {
      if (n.relation.rfind("readings_p", 0) != 0) return;
      ++m.scanned;
      m.part_pages += n.buffers.shared_hit + n.buffers.shared_read;
      regs += (regs.empty() ? "'part." : ", 'part.") + n.relation + "'::regclass";
    });
    if (m.scanned == 0) return m;
    Rows r;
    Check(s->Query("SELECT (SELECT sum(reltuples) FROM pg_class WHERE oid IN (" + regs +
                       "))::float8 / (SELECT reltuples FROM pg_class WHERE oid = "
                       "'flat.readings'::regclass)::float8 AS f",
                   &r));
    m.row_fraction = r.Double(0, "f");
    return m;
  }

  // The flat scan of readings (the model's input) and whether it is the
  // shape the case is about.
  static const PlanNode* FlatScan(const Plan& p) {
    const PlanNode* found = nullptr;
    ForEachNode(p.root, [&](const PlanNode& n) {
      if (n.relation == "readings" && !found) found = &n;
    });
    return found;
  }

  static std::string* uri_;
};
std::string* PartitionCostLive::uri_ = nullptr;

double Off(double model, double measured) { return std::fabs(model / measured - 1); }

TEST_F(PartitionCostLive, ModelMatchesExplainOnAPartitionedCopy) {
  std::printf(
      "| case | partitions | row share | flat cost | model | EXPLAIN partitioned | off | "
      "flat pages | model pages | partitioned pages |\n");
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    Measured m = Measure(c);
    const PlanNode* scan = FlatScan(m.flat);
    ASSERT_NE(scan, nullptr);
    // The shape the case is about, on both sides (else it tests the planner).
    ASSERT_EQ(scan->node_type, c.scan_type);
    ForEachNode(m.part.root, [&](const PlanNode& n) {
      if (n.relation.rfind("readings_p", 0) == 0) {
        EXPECT_EQ(n.node_type, c.scan_type);
      }
    });
    if (std::string(c.scan_type) == "Index Scan") {
      EXPECT_EQ(scan->index_cond.find("ts >=") != std::string::npos, c.key_in_index_cond)
          << scan->index_cond;
    }
    ASSERT_GT(m.scanned, 0);
    ASSERT_LT(m.scanned, kPartitions);  // pruning happened

    const double model = CostAfterPruning(m.flat.root, "readings", "ts", m.scanned, m.row_fraction);
    const double measured = m.part.root.total_cost;
    // Pages the model assumes: the same entries and heap rows when the key
    // bounds the index condition; otherwise the surviving share; plus a
    // descent per extra partition for index scans.
    const bool index = std::string(c.scan_type) != "Seq Scan";
    const double share = c.key_in_index_cond ? 1.0 : m.row_fraction;
    const double model_pages = static_cast<double>(m.flat_pages) * share;
    // (A Nested Loop's inner scan descends once per outer row.)
    const double descents =
        index ? kDescentPages * (m.scanned - 1) * std::max(1.0, scan->actual_loops) : 0;
    std::printf("| %s | %d of %d | %.3f | %.2f | %.2f | %.2f | %.1f%% | %lld | %.0f | %lld |\n",
                c.name, m.scanned, kPartitions, m.row_fraction, m.flat.root.total_cost, model,
                measured, 100 * Off(model, measured), static_cast<long long>(m.flat_pages),
                model_pages + descents, static_cast<long long>(m.part_pages));
    if (c.cost_follows_pages_not_explain) {
      // The cost moves as the pages move: model / flat cost against
      // partitioned / flat pages.
      const double page_ratio =
          static_cast<double>(m.part_pages) / static_cast<double>(m.flat_pages);
      EXPECT_LE(Off(model / m.flat.root.total_cost, page_ratio), kCostTolerance)
          << c.cost_follows_pages_not_explain;
    } else {
      EXPECT_LE(Off(model, measured), kCostTolerance)
          << "model " << model << ", EXPLAIN on the partitioned copy " << measured;
    }
    EXPECT_LE(std::fabs(static_cast<double>(m.part_pages) - model_pages),
              kPageTolerance * model_pages + descents + kDescentPages)
        << "pages: model " << model_pages << " (+" << descents << " descents), measured "
        << m.part_pages;
  }
}

TEST_F(PartitionCostLive, BrokenModelsAreCaught) {
  // The same comparison with two wrong models: each must miss the tolerance
  // on at least one case, or the test above could not catch it.
  int ignores_pruning_missed = 0, scales_every_scan_missed = 0;
  for (const Case& c : kCases) {
    Measured m = Measure(c);
    ASSERT_GT(m.scanned, 0) << c.name;
    if (c.cost_follows_pages_not_explain) continue;
    const double measured = m.part.root.total_cost;
    // Ignores pruning: every partition scanned, every row.
    const double ignores = CostAfterPruning(m.flat.root, "readings", "ts", kPartitions, 1.0);
    // What the dry run did before the index-scan model: the whole plan's cost
    // times the surviving share.
    const double scales = m.flat.root.total_cost * m.row_fraction;
    ignores_pruning_missed += Off(ignores, measured) > kCostTolerance;
    scales_every_scan_missed += Off(scales, measured) > kCostTolerance;
  }
  EXPECT_GT(ignores_pruning_missed, 0);
  EXPECT_GT(scales_every_scan_missed, 0);
}

}  // namespace
}  // namespace pgvise
