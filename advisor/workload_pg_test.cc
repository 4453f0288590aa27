// The workload read from pg_stat_statements against a real PostgreSQL 15:
// normalized texts the server cannot plan as they are (analyzer/sql/
// server_text.h) are adapted, so they are costed rather than reported as
// "not costed: syntax error".
#include "advisor/workload.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "analyzer/plan/explain_runner.h"
#include "tests/support/pg_test.h"

namespace pgvise {
namespace {

TEST(WorkloadPg, PgStatStatementsTextsTheServerCannotPlanAreAdaptedAndPlan) {
  const std::string uri = testing::FreshDatabase("workload_pgss_test");
  testing::Exec(uri, R"sql(
    CREATE TABLE w_events (id int PRIMARY KEY, account int, created_at timestamptz);
    INSERT INTO w_events SELECT g, g % 100, now() - g * interval '1 minute'
      FROM generate_series(1, 1000) g;
    ANALYZE w_events;
  )sql");
  auto admin = testing::AdminSession(uri);
  // Constants as an application writes them; pg_stat_statements stores them
  // as `interval $2` and `$1 % $2 + $3`.
  ASSERT_TRUE(admin
                  ->Exec("SELECT count(*) FROM w_events WHERE account = 7 AND created_at > now() - "
                         "interval '5 minutes'")
                  .ok());
  ASSERT_TRUE(admin->Exec("SELECT id FROM w_events WHERE account = 17 % 10 + 1").ok());

  Workload w;
  ASSERT_TRUE(AddPgStatStatements(*admin, {}, &w).ok());
  int adapted = 0;
  for (const auto& ws : w.statements) {
    if (ws.sql.find("w_events") == std::string::npos) continue;
    const bool interval = ws.sql.find("CAST($2 AS interval)") != std::string::npos;
    const bool arithmetic =
        ws.sql.find("CAST($1 AS bigint) % CAST($2 AS bigint)") != std::string::npos;
    if (!interval && !arithmetic) continue;
    ++adapted;
    // The server plans the adapted text (a generic plan: PREPARE + EXECUTE).
    std::string plan;
    Status st = ExplainStatement(*admin, ws.sql, {}, &plan);
    EXPECT_TRUE(st.ok()) << ws.sql << ": " << st.message();
    EXPECT_NE(plan.find("w_events"), std::string::npos) << plan;
    // What pg_stat_statements stored does not plan: the adaptation is needed.
    const std::string original =
        interval ? "SELECT count(*) FROM w_events WHERE account = $1 AND created_at > now() - "
                   "interval $2"
                 : "SELECT id FROM w_events WHERE account = $1 % $2 + $3";
    EXPECT_FALSE(ExplainStatement(*admin, original, {}, &plan).ok()) << original;
  }
  EXPECT_EQ(adapted, 2);
  EXPECT_TRUE(std::any_of(w.notes.begin(), w.notes.end(), [](const std::string& n) {
    return n.find("adapted so the server can plan them") != std::string::npos;
  }));
}

}  // namespace
}  // namespace pgvise
