// `pgvise advise --jobs N` (issue 10): the what-if matrix costed over N
// server connections in parallel gives exactly the recommendations one
// connection gives — the same indexes, sizes, costs and per-statement costs
// in the JSON — on a workload where the budget binds (so the choice depends
// on every cost) and statements use `$n` custom plans and literals. Bad
// values are input errors (exit 2).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/review_cli.h"

namespace pgvise::testing {
namespace {

class AdviseJobs : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    uri_ = new std::string(FreshDatabase("advise_jobs"));
    dir_ = new std::string(TempDir("advise-jobs"));
    Exec(*uri_, R"sql(
      CREATE TABLE customers (id int PRIMARY KEY, region int NOT NULL, name text NOT NULL);
      INSERT INTO customers SELECT g, g % 40, 'c' || g FROM generate_series(1, 20000) g;
      -- tenant_id skewed (tenant 1 owns ~10%), a rare status, a time range.
      CREATE TABLE orders (id bigint PRIMARY KEY, tenant_id int NOT NULL, customer_id int NOT NULL,
                           status text NOT NULL, created_at timestamptz NOT NULL, amount int NOT NULL,
                           pad text);
      INSERT INTO orders SELECT g, CASE WHEN g % 10 = 0 THEN 1 ELSE 2 + (g * 7919) % 300 END,
                                1 + (g * 31) % 20000, CASE WHEN g % 250 = 0 THEN 'open' ELSE 'done' END,
                                '2025-01-01'::timestamptz + (g * 7919 % 150000) * interval '1 minute',
                                g % 1000, repeat('p', 30)
        FROM generate_series(1, 150000) g;
      CREATE TABLE events (id bigint PRIMARY KEY, order_id bigint NOT NULL, kind int NOT NULL,
                           at timestamptz NOT NULL);
      INSERT INTO events SELECT g, 1 + (g * 13) % 150000, g % 25,
                                '2025-01-01'::timestamptz + (g % 100000) * interval '1 minute'
        FROM generate_series(1, 120000) g;
      -- No autovacuum ANALYZE between the two runs: a new sample changes the
      -- statistics both runs read (n_distinct, MCVs, histogram).
      ALTER TABLE customers SET (autovacuum_enabled = off);
      ALTER TABLE orders SET (autovacuum_enabled = off);
      ALTER TABLE events SET (autovacuum_enabled = off);
      ANALYZE customers; ANALYZE orders; ANALYZE events;
    )sql");
    WriteWhole(*dir_ + "/w.sql", R"sql(
-- pgvise: calls=5000
SELECT id, amount FROM orders WHERE tenant_id = $1 AND created_at >= $2 ORDER BY created_at DESC LIMIT 20;
-- pgvise: calls=3000
SELECT * FROM orders WHERE customer_id = $1;
-- pgvise: calls=800
SELECT id FROM orders WHERE tenant_id = $1 AND status = 'open' ORDER BY created_at LIMIT 50;
-- pgvise: calls=400
SELECT c.name, sum(o.amount) FROM orders o JOIN customers c ON c.id = o.customer_id
 WHERE c.region = $1 AND o.created_at >= $2 GROUP BY c.name;
-- pgvise: calls=2000
SELECT * FROM events WHERE order_id = $1 ORDER BY at;
-- pgvise: calls=300
SELECT kind, count(*) FROM events WHERE at >= $1 AND at < $2 GROUP BY kind;
-- pgvise: calls=100
SELECT id FROM customers WHERE region = $1 AND name = $2;
-- pgvise: calls=50
SELECT * FROM (SELECT tenant_id, max(amount) m FROM orders WHERE created_at < $1 GROUP BY tenant_id) t
 WHERE m > 900;
-- pgvise: calls=200
UPDATE orders SET status = 'done' WHERE id = $1;
)sql");
  }
  static nlohmann::json Advise(const std::string& extra) {
    CmdResult r = RunPgvise(
        "advise -q --format json --no-partitions --no-views --no-statistics "
        "--no-patterns --budget 6MB --db '" +
            *uri_ + "' -w w.sql " + extra,
        *dir_);
    EXPECT_EQ(r.exit, 0) << r.err;
    return r.exit == 0 ? nlohmann::json::parse(r.out) : nlohmann::json();
  }
  static std::string* uri_;
  static std::string* dir_;
};
std::string* AdviseJobs::uri_ = nullptr;
std::string* AdviseJobs::dir_ = nullptr;

// Everything but the timings and the what-if bookkeeping must agree.
TEST_F(AdviseJobs, ThreeConnectionsRecommendExactlyWhatOneDoes) {
  const nlohmann::json one = Advise("--jobs 1");
  const nlohmann::json three = Advise("--jobs 3");
  ASSERT_TRUE(one.contains("recommendations"));
  ASSERT_TRUE(three.contains("recommendations"));
  // The comparison means something: several indexes, and the budget binds.
  int indexes = 0;
  for (const auto& r : one["recommendations"]) indexes += r["kind"] == "index";
  ASSERT_GE(indexes, 2) << one.dump(2);
  EXPECT_EQ(one["recommendations"], three["recommendations"]);
  EXPECT_EQ(one["statements"], three["statements"]);
  for (const char* k : {"workload_cost_before", "workload_cost_after", "bytes_added",
                        "statements_costed", "candidates"})
    EXPECT_EQ(one["summary"][k], three["summary"][k]) << k;
  EXPECT_LT(one["summary"]["relative_cost"].get<double>(), 0.9);
}

TEST_F(AdviseJobs, ZeroJobsIsAnInputError) {
  CmdResult r = RunPgvise("advise -q --jobs 0 --db '" + *uri_ + "' -w w.sql", *dir_);
  EXPECT_EQ(r.exit, 2) << r.err;
  EXPECT_NE(r.err.find("--jobs 0"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace pgvise::testing
