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
