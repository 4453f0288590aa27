// Runs every live example of rules/maintenance/*.yaml on the real cluster:
// a fresh database per example, its context.setup SQL, one snapshot through
// a READ ONLY session (two, around context.observe, when the example has a
// workload to observe), then the rule. Bad examples must fire, good ones must
// not. (Fixture examples run in maintenance_test.cc.)
#include <gtest/gtest.h>

#include <chrono>

#include "analyzer/sql/statement.h"
#include "maintenance/snapshot.h"
#include "maintenance/testing/rule_examples.h"
#include "maintenance/window.h"
#include "tests/support/pg_test.h"

namespace pgvise {
namespace {

// Runs a setup script one statement at a time (VACUUM and friends refuse
// multi-statement strings), then makes the session's statistics visible.
void RunSetup(const std::string& uri, const std::string& sql) {
  SqlFile file;
  Status st = ParseSqlFile(SourceText("setup.sql", sql), &file);
  ASSERT_TRUE(st.ok()) << st.message();
  auto admin = testing::AdminSession(uri);
  for (const auto& s : file.statements) {
    st = admin->Exec(s.sql);
    ASSERT_TRUE(st.ok()) << s.sql << ": " << st.message();
    // Counters are flushed when the backend next goes idle, at most once a
    // second unless forced: force it, so a later VACUUM or ANALYZE resets
    // counters that already include this statement (as in production,
    // where they are seconds apart).
    ASSERT_TRUE(admin->Exec("SELECT pg_stat_force_next_flush()").ok());
  }
  ASSERT_TRUE(admin->Exec("SELECT 1").ok());
}

TEST(MaintenanceRuleExamples, LiveExamplesFireAsDeclared) {
  RuleBook book;
  Status st = RuleBook::LoadDir(testing::SourceDir() + "/rules", &book);
  ASSERT_TRUE(st.ok()) << st.message();
  int n = 0;
  for (const Rule* r : book.InArea("maintenance")) {
    for (const auto& ex : r->examples) {
      if (!IsLiveExample(ex)) continue;
      std::string db = "mx_example_" + std::to_string(++n);
      std::string uri = testing::FreshDatabase(db);
      RunSetup(uri, ex.context.at("setup"));
      if (::testing::Test::HasFatalFailure()) return;
      SessionOptions so;
      so.conninfo = uri;
      std::unique_ptr<Session> s;
      ASSERT_TRUE(Session::Connect(so, &s).ok());
      HealthSnapshot snap;
      st = CollectSnapshot(*s, &snap);
      ASSERT_TRUE(st.ok()) << st.message();
      // context.observe: the workload of a chosen window (--observe): run
      // between two snapshots, rates judged on the difference.
      if (auto obs = ex.context.find("observe"); obs != ex.context.end()) {
        CounterBaseline before = CountersOf(snap, 0);
        auto t0 = std::chrono::steady_clock::now();
        RunSetup(uri, obs->second);
        if (::testing::Test::HasFatalFailure()) return;
        st = CollectSnapshot(*s, &snap);
        ASSERT_TRUE(st.ok()) << st.message();
        double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        st = ApplyWindow(before, elapsed, "observed", &snap);
        ASSERT_TRUE(st.ok()) << st.message();
      }
      std::string detail;
      bool fired = JudgeExample(snap, *r, ex, &detail);
      EXPECT_EQ(fired, ex.bad) << r->id << " " << ex.name << " (" << ex.text << ") emitted:\n"
                               << detail;
      s.reset();
      testing::Exec(testing::ClusterUri(), "DROP DATABASE " + db + " WITH (FORCE)");
    }
  }
  EXPECT_GE(n, 16);
}

}  // namespace
}  // namespace pgvise
