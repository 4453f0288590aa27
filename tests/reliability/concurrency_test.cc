// Concurrency: hypothetical indexes live in each backend's memory (HypoPG),
// so four `advise` runs at once on one database must each reach the same
// recommendations as a run alone — no run sees another's what-if indexes.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/review_cli.h"

namespace fs = std::filesystem;

namespace pgvise::testing {
namespace {

std::vector<std::string> Recommended(const std::string& json_text) {
  std::vector<std::string> out;
  auto doc = nlohmann::json::parse(json_text, nullptr, false);
  if (doc.is_discarded()) return {"<unreadable JSON>"};
  for (const auto& r : doc["recommendations"]) out.push_back(r["sql"].get<std::string>());
  for (const auto& r : doc["drops"]) out.push_back(r["sql"].get<std::string>());
  return out;
}

TEST(Concurrency, FourAdviseRunsAtOnceAgreeWithOneAlone) {
  const std::string uri = FreshDatabase("rel_concurrency");
  const std::string dir = TempDir("rel-concurrency");
  // The planner's inputs must hold still between the run alone and the four:
  // with autovacuum on, an autovacuum of the freshly loaded tables (200,000
  // inserted rows pass the insert threshold) could land between them and move
  // relallvisible (index-only scan costs) or re-sample the statistics
  // (n_distinct), and the runs would then rightly disagree — the once-seen
  // flake. Autovacuum is off on these tables and VACUUM ANALYZE runs once.
  // No now() either, in the data or the workload: the selectivity of
  // `created_at > now() - interval '1 day'` against the histogram moves
  // while the clock runs, between the run alone and the four (seen once
  // more at load 13, runs 1 and 3 of 4 choosing (customer_id, created_at)
  // where the run alone chose (customer_id); not reproduced in 5 repeats,
  // so this is one suspect removed, not a proven cause).
  Exec(uri, R"sql(
    CREATE TABLE orders (id int PRIMARY KEY, customer_id int, status text, created_at timestamptz,
                         total int) WITH (autovacuum_enabled = off);
    INSERT INTO orders SELECT g, g % 20000, CASE WHEN g % 50 = 0 THEN 'open' ELSE 'done' END,
      timestamptz '2026-06-01' - g * interval '1 minute', g % 500 FROM generate_series(1, 200000) g;
    CREATE TABLE customers (id int PRIMARY KEY, email text, country text)
      WITH (autovacuum_enabled = off);
    INSERT INTO customers SELECT g, 'c' || g || '@x', CASE WHEN g % 7 = 0 THEN 'DE' ELSE 'FR' END
      FROM generate_series(1, 20000) g;
  )sql");
  Exec(uri, "VACUUM ANALYZE orders");
  Exec(uri, "VACUUM ANALYZE customers");
  WriteWhole(
      dir + "/w.sql",
      "-- pgvise: calls=900\nSELECT * FROM orders WHERE customer_id = 77 ORDER BY created_at "
      "DESC LIMIT 10;\n"
      "-- pgvise: calls=300\nSELECT id FROM orders WHERE status = 'open' AND total > 400;\n"
      "-- pgvise: calls=200\nSELECT id FROM customers WHERE email = 'c5@x';\n"
      "-- pgvise: calls=50\nSELECT c.country, count(*) FROM orders o JOIN customers c ON "
      "c.id = o.customer_id WHERE o.created_at > timestamptz '2026-05-31' GROUP BY 1;\n");
  const std::string cmd =
      "'" + PgviseBin() + "' advise --db '" + uri + "' -w w.sql --budget 50MB --format json -q";
  CmdResult alone =
      RunPgvise("advise --db '" + uri + "' -w w.sql --budget 50MB --format json -q", dir);
  ASSERT_EQ(alone.exit, 0) << alone.err;
  const std::vector<std::string> expected = Recommended(alone.out);
  ASSERT_FALSE(expected.empty()) << alone.out;

  std::string out;
  int rc = RunCommand("cd '" + dir + "' && for i in 1 2 3 4; do (" + cmd +
                          " > out$i.json 2> err$i.txt; echo $? > rc$i) & done; wait",
                      &out);
  ASSERT_EQ(rc, 0) << out;
  for (int i = 1; i <= 4; ++i) {
    const std::string n = std::to_string(i);
    EXPECT_EQ(ReadWhole(dir + "/rc" + n), "0\n") << ReadWhole(dir + "/err" + n + ".txt");
    EXPECT_EQ(Recommended(ReadWhole(dir + "/out" + n + ".json")), expected) << "run " << n;
  }
  // Nothing of any run is left behind: no hypothetical index outlives its
  // backend, and no real index was created.
  auto s = AdminSession(uri);
  Rows r;
  ASSERT_TRUE(s->Query("SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'", &r).ok());
  EXPECT_EQ(r.Int(0, 0), 2);  // the two primary keys
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace pgvise::testing
