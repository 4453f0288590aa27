#include "core/session.h"

#include <gtest/gtest.h>

#include "tests/support/pg_test.h"

namespace pgvise {
namespace {

TEST(Session, AnalysisSessionIsReadOnlyWithTimeouts) {
  std::string uri = testing::FreshDatabase("session_test");
  SessionOptions o;
  o.conninfo = uri;
  o.statement_timeout_ms = 1234;
  o.lock_timeout_ms = 567;
  std::unique_ptr<Session> s;
  ASSERT_TRUE(Session::Connect(o, &s).ok());
  Rows r;
  ASSERT_TRUE(s->Query("SHOW statement_timeout", &r).ok());
  EXPECT_EQ(r.Text(0, 0), "1234ms");
  ASSERT_TRUE(s->Query("SHOW lock_timeout", &r).ok());
  EXPECT_EQ(r.Text(0, 0), "567ms");
  ASSERT_TRUE(s->Query("SELECT current_setting('application_name')", &r).ok());
  EXPECT_EQ(r.Text(0, 0), "pgvise");
  Status st = s->Exec("CREATE TABLE t (x int)");
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(s->last_sqlstate(), "25006");  // read_only_sql_transaction
  EXPECT_TRUE(s->HasExtension("hypopg"));
}

// A step that reads plan_cache_mode, with it forced for the step when given.
Session::Step ShowPlanCacheMode(const char* forced = nullptr) {
  Session::Step st;
  st.sql = "SHOW plan_cache_mode";
  if (forced) {
    st.setting = "plan_cache_mode";
    st.setting_value = forced;
  }
  return st;
}

// The pipeline the advisor sends its what-ifs through: each step's failure
// is its own, each runs read-only and rolled back whatever the step before
// did, a setting lives only in its step, and batches past the window size
// come back in order.
TEST(Session, PipelineStepsAreIsolatedReadOnlyAndInOrder) {
  std::string uri = testing::FreshDatabase("session_pipeline");
  SessionOptions o;
  o.conninfo = uri;
  std::unique_ptr<Session> s;
  ASSERT_TRUE(Session::Connect(o, &s).ok());
  ASSERT_TRUE(s->Exec("SET plan_cache_mode = force_custom_plan").ok());
  std::vector<Session::Step> steps(6);
  steps[0].sql = "SELECT 1/0";
  steps[1].sql = "SELECT set_config('default_transaction_read_only', 'off', false)";
  steps[2].sql = "CREATE TABLE pipeline_t (x int)";
  steps[3] = ShowPlanCacheMode("force_generic_plan");
  steps[4] = ShowPlanCacheMode();
  steps[5].sql = "SHOW default_transaction_read_only";
  steps[5].own_transaction = false;
  ASSERT_TRUE(s->Pipeline(&steps).ok());
  EXPECT_FALSE(steps[0].status.ok());
  EXPECT_EQ(steps[0].sqlstate, "22012");  // division_by_zero, and the rest still ran
  EXPECT_TRUE(steps[1].status.ok()) << steps[1].status.message();
  EXPECT_FALSE(steps[2].status.ok());
  EXPECT_EQ(steps[2].sqlstate, "25006");  // read only, whatever step 1 set
  ASSERT_TRUE(steps[3].status.ok()) << steps[3].status.message();
  EXPECT_EQ(steps[3].rows.Text(0, 0), "force_generic_plan");
  ASSERT_TRUE(steps[4].status.ok());
  EXPECT_EQ(steps[4].rows.Text(0, 0), "force_custom_plan");  // the setting did not outlive its step
  ASSERT_TRUE(steps[5].status.ok());
  EXPECT_EQ(steps[5].rows.Text(0, 0), "on");  // step 1's set_config was rolled back
  EXPECT_FALSE(s->InTransaction());
  Rows r;
  ASSERT_TRUE(s->Query("SELECT count(*) FROM pg_class WHERE relname = 'pipeline_t'", &r).ok());
  EXPECT_EQ(r.Int(0, 0), 0);

  // Past the 64-step window, every answer in its place.
  std::vector<Session::Step> many(150);
  for (size_t i = 0; i < many.size(); ++i) many[i].sql = "SELECT " + std::to_string(i * 7);
  many[100].sql = "SELECT no_such_column";
  ASSERT_TRUE(s->Pipeline(&many).ok());
  for (size_t i = 0; i < many.size(); ++i) {
    if (i == 100) {
      EXPECT_EQ(many[i].sqlstate, "42703");
      continue;
    }
    ASSERT_TRUE(many[i].status.ok()) << i << ": " << many[i].status.message();
    EXPECT_EQ(many[i].rows.Int(0, 0), static_cast<int64_t>(i * 7)) << i;
  }

  // Inside the caller's transaction the steps run there, and a step's
  // setting is put back for the rest of it.
  ASSERT_TRUE(s->Exec("BEGIN").ok());
  std::vector<Session::Step> in = {ShowPlanCacheMode("force_generic_plan"), ShowPlanCacheMode()};
  ASSERT_TRUE(s->Pipeline(&in).ok());
  EXPECT_EQ(in[0].rows.Text(0, 0), "force_generic_plan");
  EXPECT_EQ(in[1].rows.Text(0, 0), "force_custom_plan");
  EXPECT_TRUE(s->InTransaction());
  ASSERT_TRUE(s->Exec("ROLLBACK").ok());
}

TEST(Session, WrongPasswordIsMaskedAndMapsToDatabaseError) {
  std::string base = testing::ClusterUri();
  std::string hostport = base.substr(base.find('@') + 1);
  std::string uri = "postgresql://pgvise_pw:wrong-secret@" + hostport;
  SessionOptions o;
  o.conninfo = uri;
  std::unique_ptr<Session> s;
  Status st = Session::Connect(o, &s);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.exit_code(), ExitCode::kDatabaseError);
  EXPECT_EQ(st.message().find("wrong-secret"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("password authentication failed"), std::string::npos) << st.message();
}

TEST(Session, RefusedConnectionFailsFast) {
  SessionOptions o;
  o.conninfo = "postgresql://nobody:pw@127.0.0.1:1/x";
  std::unique_ptr<Session> s;
  Status st = Session::Connect(o, &s);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message().find(":pw@"), std::string::npos);
  EXPECT_NE(st.message().find("127.0.0.1"), std::string::npos);
}

}  // namespace
}  // namespace pgvise
