// `advise --verify` for materialized views beside a session that holds a
// lock on a view's base table (issue 15, item 5: "advise --verify never
// waits past its timeouts").
//
// --verify builds each proposed view for real (advisor/matview_verify.cc):
// CREATE MATERIALIZED VIEW reads the base tables under ACCESS SHARE, then
// statement and rewrite run side by side. Only ACCESS EXCLUSIVE (a
// migration's ALTER TABLE, VACUUM FULL, LOCK TABLE) conflicts with that; a
// lock that blocks every write (EXCLUSIVE, what REFRESH MATERIALIZED VIEW
// CONCURRENTLY takes on its view) does not. The dry run plans the tables, so
// a view is only proposed when the lock is taken after the dry run: that is
// why these tests drive the two steps directly, as
// tests/partition_advise_pg_test.cc does for the partition migration's
// --verify (VerifyUnderAHeldLockSaysNotVerified). The promises:
//   - --verify returns although the session was left with lock_timeout 0
//     (wait for ever): the scratch work sets its own;
//   - under ACCESS EXCLUSIVE the view is kept, not measured, with
//     verify_skipped = lock_timeout and a note naming the lock wait;
//   - under EXCLUSIVE the view is still measured;
//   - nothing is left behind: no view, no index, no scratch schema.
#include <gtest/gtest.h>

#include <string>

#include "advisor/advisor.h"
#include "advisor/matview.h"
#include "advisor/workload.h"
#include "catalog/catalog.h"
#include "core/session.h"
#include "tests/support/pg_test.h"

namespace pgvise::testing {
namespace {

class MatviewVerifyLocks : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    uri_ = new std::string(FreshDatabase("rel_matview_verify_locks"));
    Exec(*uri_, R"sql(
      CREATE EXTENSION IF NOT EXISTS hypopg;
      CREATE TABLE customers (id int PRIMARY KEY, region text NOT NULL);
      INSERT INTO customers SELECT g, (ARRAY['EU','US','APAC','LATAM'])[1 + g % 4]
        FROM generate_series(1, 2000) g;
      CREATE TABLE sales (id bigint PRIMARY KEY, customer_id int NOT NULL REFERENCES customers,
                          amount numeric(12,2), status text NOT NULL);
      INSERT INTO sales SELECT g, 1 + g % 2000, (g % 1000) / 10.0,
                               CASE WHEN g % 10 = 0 THEN 'refunded' ELSE 'paid' END
        FROM generate_series(1, 200000) g;
    )sql");
    AdminSession(*uri_)->Exec("VACUUM ANALYZE");
  }
  static void TearDownTestSuite() { delete uri_; }

  // The dry run (read-only session): one view proposed over sales.
  static AdviseReport DryRun() {
    SessionOptions o;
    o.conninfo = *uri_;
    std::unique_ptr<Session> s;
    EXPECT_TRUE(Session::Connect(o, &s).ok());
    Catalog cat;
    EXPECT_TRUE(Catalog::Load(*s, {}, &cat).ok());
    Workload w;
    const std::string c = "-- pgvise: calls=5\n";
    EXPECT_TRUE(AddSqlText("w.sql",
                           c + "SELECT c.region, sum(s.amount), count(*) FROM sales s JOIN "
                               "customers c ON c.id = s.customer_id WHERE s.status = 'paid' "
                               "GROUP BY c.region;\n",
                           &w)
                    .ok());
    AdviseReport rep;
    EXPECT_TRUE(RunAdvisor(*s, cat, w, {}, &rep).ok());
    return rep;
  }

  // --verify's session, left with lock_timeout 0 (wait for ever) on purpose.
  static std::unique_ptr<Session> Writable() {
    SessionOptions o;
    o.conninfo = *uri_;
    o.read_only = false;
    o.lock_timeout_ms = 300;
    std::unique_ptr<Session> s;
    EXPECT_TRUE(Session::Connect(o, &s).ok());
    EXPECT_TRUE(s->Exec("SET lock_timeout = 0").ok());
    return s;
  }

  static std::string Evidence(const Recommendation& r, const std::string& key) {
    for (const auto& e : r.evidence)
      if (e.key == key) {
        if (auto* s = std::get_if<std::string>(&e.value)) return *s;
        return "(set)";
      }
    return "";
  }

  static std::string Notes(const AdviseReport& r) {
    std::string s;
    for (const auto& n : r.notes) s += n + "\n";
    return s;
  }

  // Views, indexes and schemas pgvise might have left: none of each.
  static void ExpectNothingLeft() {
    Rows rows;
    ASSERT_TRUE(AdminSession(*uri_)
                    ->Query("SELECT (SELECT count(*) FROM pg_matviews) + (SELECT count(*) FROM "
                            "pg_namespace WHERE nspname LIKE 'pgvise%') + (SELECT count(*) FROM "
                            "pg_class WHERE relname LIKE 'pgvise%') + (SELECT count(*) FROM "
                            "pg_indexes WHERE schemaname = 'public' AND indexname NOT LIKE "
                            "'%_pkey')",
                            &rows)
                    .ok());
    EXPECT_EQ(rows.Int(0, 0, -1), 0) << "left behind";
  }

  static std::string* uri_;
};
std::string* MatviewVerifyLocks::uri_ = nullptr;

TEST_F(MatviewVerifyLocks, AccessExclusiveOnABaseTableIsNotedNotWaitedFor) {
  AdviseReport rep = DryRun();
  ASSERT_EQ(rep.views.size(), 1u) << Notes(rep);
  const Confidence estimated = rep.views[0].confidence;

  auto holder = AdminSession(*uri_);
  ASSERT_TRUE(holder->Exec("BEGIN").ok());
  ASSERT_TRUE(holder->Exec("LOCK TABLE sales IN ACCESS EXCLUSIVE MODE").ok());
  auto w = Writable();
  Status st = VerifyViews(*w, {}, &rep);
  ASSERT_TRUE(holder->Exec("ROLLBACK").ok());
  ASSERT_TRUE(st.ok()) << st.message();

  ASSERT_EQ(rep.views.size(), 1u) << Notes(rep);
  const Recommendation& v = rep.views[0];
  EXPECT_EQ(Evidence(v, "verify_skipped"), "lock_timeout");
  EXPECT_EQ(Evidence(v, "verify_summary").rfind("not verified: lock timeout", 0), 0u)
      << Evidence(v, "verify_summary");
  EXPECT_EQ(Evidence(v, "measured_ms_after"), "");
  EXPECT_EQ(v.confidence, estimated);
  EXPECT_NE(Notes(rep).find("waited longer than lock_timeout (300 ms)"), std::string::npos)
      << Notes(rep);
  // The session's lock_timeout is its own again (300 ms, from its options).
  Rows r;
  ASSERT_TRUE(w->Query("SELECT current_setting('lock_timeout')", &r).ok());
  EXPECT_EQ(r.Text(0, 0), "300ms");
  ExpectNothingLeft();
}

TEST_F(MatviewVerifyLocks, ExclusiveOnABaseTableBlocksWritesNotTheMeasurement) {
  AdviseReport rep = DryRun();
  ASSERT_EQ(rep.views.size(), 1u) << Notes(rep);

  auto holder = AdminSession(*uri_);
  ASSERT_TRUE(holder->Exec("BEGIN").ok());
  ASSERT_TRUE(holder->Exec("LOCK TABLE sales IN EXCLUSIVE MODE").ok());
  auto w = Writable();
  Status st = VerifyViews(*w, {}, &rep);
  ASSERT_TRUE(holder->Exec("ROLLBACK").ok());
  ASSERT_TRUE(st.ok()) << st.message();

  ASSERT_EQ(rep.views.size(), 1u) << Notes(rep);
  EXPECT_EQ(Evidence(rep.views[0], "verify_skipped"), "");
  EXPECT_NE(Evidence(rep.views[0], "measured_ms_after"), "") << Notes(rep);
  EXPECT_EQ(rep.views[0].confidence, Confidence::kMeasured);
  ExpectNothingLeft();
}

}  // namespace
}  // namespace pgvise::testing
