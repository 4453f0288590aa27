// Candidate DDL against a real PostgreSQL 15: a candidate is only worth
// proposing if the planner can use it as written, so its DDL must be
// accepted both by HypoPG (what-if costing) and by a real CREATE INDEX (what
// the user will run). Here: an expression key with AT TIME ZONE, the shape
// that used to deparse as timezone(...) and that must stay IMMUTABLE.
#include "advisor/candidates.h"

#include <gtest/gtest.h>

#include "advisor/workload.h"
#include "catalog/catalog.h"
#include "tests/support/pg_test.h"

namespace pgvise {
namespace {

TEST(CandidatesPg, AtTimeZoneExpressionKeyIsAcceptedByHypoPGAndByARealBuild) {
  const std::string uri = testing::FreshDatabase("candidates_test");
  testing::Exec(uri, R"sql(
    CREATE EXTENSION IF NOT EXISTS hypopg;
    CREATE TABLE c_jobs (id bigint PRIMARY KEY, tenant_id int NOT NULL, enqueued_at timestamptz NOT NULL);
    INSERT INTO c_jobs SELECT g, g % 500, '2024-01-01'::timestamptz + g * interval '1 minute'
      FROM generate_series(1, 20000) g;
    ANALYZE c_jobs;
  )sql");
  auto s = testing::AdminSession(uri);
  Catalog cat;
  Status st = Catalog::Load(*s, {}, &cat);
  ASSERT_TRUE(st.ok()) << st.message();
  Workload w;
  ASSERT_TRUE(AddSqlText("w.sql",
                         "SELECT count(*) FROM c_jobs WHERE tenant_id = $1 AND "
                         "date_trunc('week', enqueued_at AT TIME ZONE 'UTC') = $2;",
                         &w)
                  .ok());
  CandidateSet cs = GenerateCandidates(w, cat, {});
  const IndexCandidate* found = nullptr;
  for (const auto& c : cs.candidates)
    for (const auto& k : c.keys)
      if (k.expression.find("AT TIME ZONE") != std::string::npos) found = &c;
  ASSERT_NE(found, nullptr) << "no AT TIME ZONE candidate";
  const std::string ddl = found->Ddl("", false, false);
  EXPECT_NE(ddl.find("AT TIME ZONE 'UTC'"), std::string::npos) << ddl;

  Rows r;
  st = s->Query("SELECT indexrelid FROM hypopg_create_index($1)", {ddl}, &r);
  ASSERT_TRUE(st.ok()) << ddl << ": " << st.message();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FALSE(r.IsNull(0, 0)) << ddl;
  ASSERT_TRUE(s->Exec("SELECT hypopg_reset()").ok());

  st = s->Exec(found->Ddl("c_jobs_atz_idx", false, false));
  ASSERT_TRUE(st.ok()) << ddl << ": " << st.message();
  st = s->Query("SELECT 1 FROM pg_class WHERE relname = 'c_jobs_atz_idx' AND relkind = 'i'", &r);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(r.size(), 1u);
}

}  // namespace
}  // namespace pgvise
