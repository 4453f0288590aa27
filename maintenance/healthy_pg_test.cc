// False advice on healthy tables (issue 13), as a CI test: a database whose
// every object needs nothing gets a maintenance plan with no item about any
// of them. bench/maintain_bench.cc part 3 measures the same at a larger size;
// this is the small copy that runs on every change.
//
// The objects, each a shape the issue saw misjudged or a rule could trip on:
//   loaded       bulk-loaded moments ago and analyzed, as a load script does
//                (its 30,000 inserts over a minutes-old statistics window
//                must not read as a hot append-only table);
//   unscanned    a primary key never scanned (too young to call unused);
//   country /    a lookup table and a table referencing it, the foreign key
//   customer     indexed, both read by a join;
//   events       append-only, autovacuum on, vacuumed (visibility map set);
//   accounts     1% of its rows updated, far under autovacuum's 20% + 50;
//   empty_now    no rows at all;
//   daily        a materialized view refreshed (created) just now.
// Server-wide items (settings: the throwaway cluster runs with fsync off on
// purpose) are not about these objects and are left out of the count.
//
// A test that cannot fail proves nothing: the second case runs the same
// database with the rate rules' minimum window set to zero (what the code
// did before the guard) and expects the false advice the guard prevents.
#include <gtest/gtest.h>

#include "maintenance/maintain.h"
#include "tests/support/pg_test.h"

namespace pgvise {
namespace {

RuleBook Book() {
  RuleBook book;
  Status st = RuleBook::LoadDir(testing::SourceDir() + "/rules", &book);
  if (!st.ok()) throw Error(st);
  return book;
}

MaintainRun Plan(const std::string& uri, const RuleBook& book) {
  SessionOptions so;
  so.conninfo = uri;
  std::unique_ptr<Session> s;
  Status st = Session::Connect(so, &s);
  if (!st.ok()) throw Error(st);
  MaintainRun run;
  st = BuildMaintenancePlan(*s, book, {}, &run);
  if (!st.ok()) throw Error(st);
  return run;
}

// The plan's items about the test's own objects, one line each.
std::string ItemsOnTables(const MaintainRun& run, int* count) {
  std::string out;
  *count = 0;
  for (const auto& it : run.plan.items) {
    if (it.rec.object.rfind("public.", 0) != 0) continue;  // server-wide
    ++*count;
    out += it.rule + " " + it.rec.object + ": " + it.rec.reason + "\n";
  }
  return out;
}

class HealthyTables : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    uri_ = new std::string(testing::FreshDatabase("maintain_healthy"));
    auto admin = testing::AdminSession(*uri_);
    const char* setup[] = {
        // The test cluster commits asynchronously; VACUUM marks a page
        // all-visible only once its rows' commit is flushed, and without this
        // the map would stay empty and the advice to VACUUM events be right.
        "SET synchronous_commit = on",
        "CREATE TABLE loaded (id bigint PRIMARY KEY, customer int, amount numeric, at "
        "timestamptz)",
        "INSERT INTO loaded SELECT g, g % 500, g % 977, now() - g * interval '1 s' FROM "
        "generate_series(1, 30000) g",
        "ANALYZE loaded",
        "CREATE TABLE unscanned (id int PRIMARY KEY, v text)",
        "INSERT INTO unscanned SELECT g, md5(g::text) FROM generate_series(1, 5000) g",
        "CREATE TABLE country (code char(2) PRIMARY KEY, name text NOT NULL)",
        "INSERT INTO country VALUES ('de', 'Germany'), ('fr', 'France'), ('nl', "
        "'Netherlands'), ('it', 'Italy'), ('es', 'Spain')",
        "CREATE TABLE customer (id int PRIMARY KEY, country char(2) REFERENCES country)",
        "CREATE INDEX ON customer (country)",
        "INSERT INTO customer SELECT g, (ARRAY['de','fr','nl','it','es'])[1 + g % 5] FROM "
        "generate_series(1, 2000) g",
        "CREATE TABLE events (id bigserial PRIMARY KEY, at timestamptz DEFAULT now(), payload "
        "text) WITH (autovacuum_enabled = true)",
        "INSERT INTO events (payload) SELECT 'e' || g FROM generate_series(1, 20000) g",
        "CREATE TABLE accounts (id int PRIMARY KEY, balance int)",
        "INSERT INTO accounts SELECT g, 0 FROM generate_series(1, 10000) g",
        "CREATE TABLE empty_now (id int PRIMARY KEY, v text)",
        "CREATE MATERIALIZED VIEW daily AS SELECT customer, count(*) FROM loaded GROUP BY "
        "customer",
        "VACUUM ANALYZE",
        "UPDATE accounts SET balance = balance + 1 WHERE id <= 100",
        "SELECT count(*) FROM customer c JOIN country k ON k.code = c.country WHERE c.id < 100",
        "SELECT * FROM loaded WHERE id = 42",
    };
    for (const char* sql : setup) {
      Status st = admin->Exec(sql);
      if (!st.ok()) throw Error(ExitCode::kDatabaseError, std::string(sql) + ": " + st.message());
      (void)admin->Exec("SELECT pg_stat_force_next_flush()");
    }
  }
  static void TearDownTestSuite() { delete uri_; }
  static std::string* uri_;
};
std::string* HealthyTables::uri_ = nullptr;

TEST_F(HealthyTables, GetNoPlanItem) {
  MaintainRun run = Plan(*uri_, Book());
  // The objects were all read (a plan of nothing because nothing was seen
  // would pass for the wrong reason).
  for (const char* t :
       {"loaded", "unscanned", "country", "customer", "events", "accounts", "empty_now", "daily"}) {
    bool seen = false;
    for (const auto& th : run.snapshot.tables) seen = seen || th.name == t;
    EXPECT_TRUE(seen) << t << " not in the snapshot";
  }
  int n = 0;
  const std::string items = ItemsOnTables(run, &n);
  EXPECT_EQ(n, 0) << items;
}

TEST_F(HealthyTables, WithoutTheMinimumWindowTheBulkLoadReadsAsAHotTable) {
  // The guard under test in the case above: rates judged over a window of
  // minutes. The bulk load must now look like a hot append-only table, so
  // the check above is one that a misjudging rule fails.
  RuleBook book = Book();
  for (const char* id : {"autovacuum-insert-settings", "autovacuum-vacuum-settings"}) {
    Rule* r = book.Mutable(id);
    ASSERT_NE(r, nullptr) << id;
    r->thresholds["min_window_hours"] = 0;
  }
  MaintainRun run = Plan(*uri_, book);
  int n = 0;
  const std::string items = ItemsOnTables(run, &n);
  EXPECT_GT(n, 0) << "no false advice without the window guard: the healthy check cannot fail";
  EXPECT_NE(items.find("public.loaded"), std::string::npos) << items;
}

}  // namespace
}  // namespace pgvise
