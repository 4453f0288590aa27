// Index size estimates against indexes built for real: each shape is sized
// by WhatIf::Size (the bytes the budget is spent in), then created with
// CREATE INDEX and measured with pg_relation_size. The data is shaped like
// TPC-H's lineitem (dates, integer keys, numeric money, char(1) flags) plus a
// low-cardinality text status, an email for an expression key and a
// half-NULL column.
#include "advisor/index_size.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <memory>
#include <string>

#include "advisor/whatif.h"
#include "tests/support/pg_test.h"

namespace pgvise {
namespace {

// The estimate must be within this fraction of the built size. HypoPG's own
// estimate, which WhatIf::Size used to return for INCLUDE indexes, is 2.6x on
// the INCLUDE shape (measured; printed by each test).
constexpr double kTolerance = 0.15;

class IndexSizePg : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    uri_ = new std::string(testing::FreshDatabase("index_size_test"));
    testing::Exec(*uri_, R"sql(
      CREATE EXTENSION IF NOT EXISTS hypopg;
      -- 300,000 rows; g * prime spreads values over the table. 'open' is
      -- drawn at random (seeded) so that the rows a partial index keeps are
      -- not a residue class of g, which would thin out the dates too.
      SELECT setseed(0.42);
      CREATE TABLE li (id bigint NOT NULL, shipdate date NOT NULL, suppkey int NOT NULL,
        discount numeric(15,2) NOT NULL, price numeric(15,2) NOT NULL, qty numeric(15,2) NOT NULL,
        partkey int NOT NULL, flag char(1) NOT NULL, status text NOT NULL, email text NOT NULL,
        maybe int, extprice numeric(15,2) NOT NULL);
      INSERT INTO li SELECT g,
          '1992-01-01'::date + (g::bigint * 7919 % 2500)::int,  -- 2,500 dates: ~120 rows each
          g * 31 % 1000,                                          -- 1,000 suppliers
          (g % 11) / 100.0,                                       -- 11 discounts
          (g::bigint * 13 % 100000) / 10.0 + 900,                 -- prices, mostly distinct
          g % 50 + 1,
          g::bigint * 7907 % 200000,                              -- 200,000 parts
          CASE WHEN g % 3 = 0 THEN 'R' ELSE 'N' END,
          CASE WHEN random() < 0.05 THEN 'open' WHEN g % 10 = 0 THEN 'failed' ELSE 'done' END,
          'User' || g || '@Example.org',
          CASE WHEN g % 2 = 0 THEN g END,                         -- half NULL
          (g % 50 + 1) * (900 + g::bigint * 7 % 1200 + (g % 100) / 100.0)  -- TPC-H's l_extendedprice
        FROM generate_series(1, 300000) g;
      ANALYZE li;
      -- Orders and their lines, stored in order (correlation 1): 150,000
      -- keys, 1 to 7 rows each. n_distinct is forced 3.75x too low, as
      -- ANALYZE's sample counts it on TPC-H's lineitem.l_orderkey (437,393
      -- against 1,500,000 at SF 1); left alone it says ~0.8x here.
      CREATE TABLE cl AS SELECT o AS okey, i AS line
        FROM generate_series(1, 150000) o, LATERAL generate_series(1, 1 + (o * 7 % 13) / 2) i
        ORDER BY o, i;
      ALTER TABLE cl ALTER COLUMN okey SET (n_distinct = 40000);
      ANALYZE cl;
    )sql");
  }
  static void TearDownTestSuite() { delete uri_; }

  // WhatIf::Size of `cand` next to the built index's pg_relation_size.
  static void Check(const IndexCandidate& cand, double tolerance = kTolerance) {
    auto admin = testing::AdminSession(*uri_);
    Catalog cat;
    ASSERT_TRUE(Catalog::Load(*admin, {}, &cat).ok());
    Workload w;
    CandidateSet cs;
    int c = cs.Add(cand);
    WhatIf wi(*admin, w, &cs, cat);
    Status st = wi.Init();
    ASSERT_TRUE(st.ok()) << st.message();
    const int64_t estimate = wi.Size(c), hypopg = wi.HypopgSize(c);
    measured_ = wi.measured_distinct();

    ASSERT_TRUE(admin->Exec("DROP INDEX IF EXISTS size_probe").ok());
    st = admin->Exec(cand.Ddl("size_probe", false, false));
    ASSERT_TRUE(st.ok()) << st.message();
    Rows r;
    ASSERT_TRUE(admin->Query("SELECT pg_relation_size('size_probe')", &r).ok());
    const int64_t built = r.Int(0, 0);
    ASSERT_TRUE(admin->Exec("DROP INDEX size_probe").ok());

    const double ratio = static_cast<double>(estimate) / static_cast<double>(built);
    std::printf("%-70s built %9lld  estimate %9lld (%.2fx)  hypopg %9lld (%.2fx)\n",
                cand.Ddl("", false, false).c_str(), static_cast<long long>(built),
                static_cast<long long>(estimate), ratio, static_cast<long long>(hypopg),
                static_cast<double>(hypopg) / static_cast<double>(built));
    EXPECT_NEAR(ratio, 1.0, tolerance)
        << cand.Ddl("", false, false) << ": estimate " << estimate << " bytes, built " << built;
  }

  static IndexCandidate Btree(std::initializer_list<const char*> keys,
                              std::initializer_list<const char*> include = {}) {
    IndexCandidate c;
    c.schema = "public";
    c.table = "li";
    for (const char* k : keys) c.keys.emplace_back(k);
    for (const char* i : include) c.include.emplace_back(i);
    return c;
  }

  static std::string* uri_;
  static std::map<WhatIf::TableKey, MeasuredDistinct> measured_;  // the last Check's WhatIf
};
std::string* IndexSizePg::uri_ = nullptr;
std::map<WhatIf::TableKey, MeasuredDistinct> IndexSizePg::measured_;

// Unique bigint: 16-byte tuples, no deduplication.
TEST_F(IndexSizePg, SingleUniqueColumn) { Check(Btree({"id"})); }

// date + int + numeric: numeric keys are never deduplicated.
TEST_F(IndexSizePg, MultiColumn) { Check(Btree({"shipdate", "suppkey", "discount"})); }

// The TPC-H shape that was 1.9-2.2x: HypoPG counts a tuple header and a line
// pointer per column, so six columns cost 72 bytes of overhead instead of 12.
TEST_F(IndexSizePg, MultiColumnInclude) {
  Check(Btree({"shipdate", "suppkey", "discount"}, {"price", "qty", "partkey"}));
}

// TPC-H's lineitem (l_shipdate, l_suppkey) INCLUDE (l_discount,
// l_extendedprice, l_partkey, l_quantity), whose numerics pg_stats rounds
// down (4.82 and ~8.6 bytes read as 4 and 8): with the truncated widths its
// tuples came out a MAXALIGN word short (0.87x on TPC-H SF 1).
TEST_F(IndexSizePg, TruncatedAverageWidthsBeforeAlignment) {
  Check(Btree({"shipdate", "suppkey"}, {"discount", "extprice", "partkey", "qty"}), 0.05);
}

// ~120 rows a date: posting lists make it a third of the plain size.
TEST_F(IndexSizePg, DuplicatedKeyIsDeduplicated) { Check(Btree({"shipdate"})); }

// Three text values over 300,000 rows: almost all of it is heap TIDs.
TEST_F(IndexSizePg, LowCardinalityText) { Check(Btree({"status"})); }

// char(n) looks like text but its keys are not deduplicated (bt_metap says
// allequalimage = false on PostgreSQL 15).
TEST_F(IndexSizePg, LowCardinalityCharIsNotDeduplicated) { Check(Btree({"flag"})); }

// Half the rows NULL: those are one run of equal keys, deduplicated.
TEST_F(IndexSizePg, HalfNullColumn) { Check(Btree({"maybe"})); }

// 5% of the rows, ~6 a date: the row count comes from HypoPG's predicate
// selectivity, then those rows are deduplicated.
TEST_F(IndexSizePg, Partial) {
  IndexCandidate c = Btree({"shipdate"});
  c.predicate = "status = 'open'";
  Check(c);
}

// lower(email): text as wide as email, unique.
TEST_F(IndexSizePg, Expression) {
  IndexCandidate c;
  c.schema = "public";
  c.table = "li";
  CandidateKey k("email");
  k.expression = "lower(email)";
  c.keys = {k};
  Check(c);
}

// A physically ordered key whose pg_stats n_distinct is far too low: the
// size is estimated from a block sample's distinct count, not pg_stats'
// (which alone gives runs 3.75x too long and an estimate ~0.6x the built
// size).
TEST_F(IndexSizePg, ClusteredKeyCountedOnABlockSample) {
  IndexCandidate c;
  c.schema = "public";
  c.table = "cl";
  c.keys.emplace_back("okey");
  Check(c, 0.10);
  const WhatIf::TableKey cl{"public", "cl"};
  ASSERT_EQ(measured_.count(cl), 1u);
  ASSERT_EQ(measured_[cl].count("okey"), 1u);
  EXPECT_NEAR(measured_[cl]["okey"] / 150000.0, 1.0, 0.05);
  EXPECT_EQ(measured_[cl].count("line"), 0u);  // not a key of the candidate
}

// A column that is not physically ordered is not measured (its block
// sample would count each block's values, not runs): pg_stats stands.
TEST_F(IndexSizePg, UnorderedColumnKeepsPgStats) {
  Check(Btree({"suppkey"}));
  const WhatIf::TableKey li("public", "li");
  EXPECT_TRUE(measured_[li].empty());
}

}  // namespace
}  // namespace pgvise
