// Reliability: `pgvise explain --db --analyze` executes statements, and must
// never write. The hostile tester's attack (issue 15): a file whose first
// statement turns the session's default_transaction_read_only off with a
// session-level set_config(), and whose second calls a function that
// INSERTs. Each EXPLAIN ANALYZE now runs in BEGIN TRANSACTION READ ONLY ...
// ROLLBACK, so the write is refused and the setting does not outlive its
// statement. Proven on a real server: the target table stays empty.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "analyzer/plan/explain_runner.h"
#include "tests/review_cli.h"

namespace fs = std::filesystem;

namespace pgvise::testing {
namespace {

class ExplainReadOnly : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    uri_ = new std::string(FreshDatabase("rel_explain_readonly"));
    dir_ = new std::string(TempDir("rel-explain-ro"));
    Exec(*uri_, R"sql(
      CREATE TABLE victim (x int);
      CREATE TABLE items (id int PRIMARY KEY, v int NOT NULL);
      INSERT INTO items SELECT g, g % 100 FROM generate_series(1, 5000) g;
      ANALYZE items;
      CREATE FUNCTION evil_sql() RETURNS int LANGUAGE sql
        AS $$ INSERT INTO victim VALUES (1) RETURNING x $$;
      CREATE FUNCTION evil_plpgsql() RETURNS int LANGUAGE plpgsql
        AS $$ BEGIN INSERT INTO victim VALUES (2); RETURN 2; END $$;
      -- A function that tries to make its own transaction writable.
      CREATE FUNCTION evil_setting() RETURNS int LANGUAGE plpgsql
        SET default_transaction_read_only = off
        AS $$ BEGIN PERFORM set_config('transaction_read_only', 'off', true);
                    INSERT INTO victim VALUES (3); RETURN 3; END $$;
      -- The planner folds IMMUTABLE functions of constants: plain EXPLAIN,
      -- without ANALYZE, runs these.
      CREATE FUNCTION imm_unlock() RETURNS int IMMUTABLE LANGUAGE plpgsql
        AS $$ BEGIN PERFORM set_config('default_transaction_read_only', 'off', false);
                    RETURN 1; END $$;
      CREATE FUNCTION imm_write() RETURNS int IMMUTABLE LANGUAGE plpgsql
        AS $$ BEGIN PERFORM evil_plpgsql(); RETURN 1; END $$;
    )sql");
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(*dir_, ec);
    delete dir_;
    delete uri_;
  }
  static CmdResult Analyze(const std::string& name, const std::string& sql,
                           const std::string& mode = "--analyze") {
    WriteWhole(*dir_ + "/" + name, sql);
    return RunPgvise("explain --db '" + *uri_ + "' " + mode + " --format json --sql " + name,
                     *dir_);
  }
  static int64_t VictimRows() {
    auto s = AdminSession(*uri_);
    Rows r;
    EXPECT_TRUE(s->Query("SELECT count(*) FROM victim", &r).ok());
    return r.empty() ? -1 : r.Int(0, 0);
  }
  static std::unique_ptr<Session> ReadOnlySession() {
    SessionOptions so;
    so.conninfo = *uri_;
    so.statement_timeout_ms = 12345;
    std::unique_ptr<Session> s;
    Status st = Session::Connect(so, &s);
    EXPECT_TRUE(st.ok()) << st.message();
    return s;
  }
  static std::string* uri_;
  static std::string* dir_;
};
std::string* ExplainReadOnly::uri_ = nullptr;
std::string* ExplainReadOnly::dir_ = nullptr;

// The reported attack, with a SQL and a plpgsql writer, and variants that try
// to flip the setting in the same statement or inside the function.
TEST_F(ExplainReadOnly, SetConfigThenWritingFunctionWritesNothing) {
  const std::string unlock = "SELECT set_config('default_transaction_read_only', 'off', false);\n";
  const std::vector<std::pair<std::string, std::string>> attacks = {
      {"sql_fn.sql", unlock + "SELECT evil_sql();\n"},
      {"plpgsql_fn.sql", unlock + "SELECT evil_plpgsql();\n"},
      {"same_stmt.sql",
       "SELECT set_config('default_transaction_read_only', 'off', false), evil_plpgsql();\n"},
      {"tx_ro_off.sql",
       "SELECT set_config('transaction_read_only', 'off', false);\nSELECT evil_sql();\n"},
      {"fn_setting.sql", unlock + "SELECT evil_setting();\n"},
  };
  for (const auto& [name, sql] : attacks) {
    CmdResult r = Analyze(name, sql);
    EXPECT_EQ(VictimRows(), 0) << name << " wrote a row\n" << r.out << r.err;
    // The write is refused: the command fails (database error), in one line.
    EXPECT_EQ(r.exit, 3) << name << "\n" << r.out << r.err;
    EXPECT_EQ(r.ErrLines(), 1) << name << "\n" << r.err;
  }
}

// Without --analyze the planner still executes IMMUTABLE functions of
// constants: the same attack through plan-time folding writes nothing either
// (here the write is refused: exit 3).
TEST_F(ExplainReadOnly, PlanTimeFoldingWritesNothing) {
  CmdResult r = Analyze("fold.sql", "SELECT imm_unlock();\nSELECT imm_write();\n", "");
  EXPECT_EQ(VictimRows(), 0) << r.out << r.err;
  EXPECT_EQ(r.exit, 3) << r.out << r.err;
  EXPECT_EQ(r.ErrLines(), 1) << r.err;
}

// advise plans workload statements (what-ifs) through the same runner: a
// hostile workload file writes nothing, and the advice still comes.
TEST_F(ExplainReadOnly, AdviseWorkloadFoldingWritesNothing) {
  Exec(*uri_, "CREATE EXTENSION IF NOT EXISTS hypopg");
  WriteWhole(*dir_ + "/workload.sql",
             "SELECT imm_unlock();\nSELECT * FROM items WHERE v = imm_write();\n"
             "SELECT * FROM items WHERE v = 5;\n");
  CmdResult r = RunPgvise("advise --db '" + *uri_ + "' --format json -q workload.sql", *dir_);
  EXPECT_EQ(VictimRows(), 0) << r.out << r.err;
  EXPECT_EQ(r.exit, 0) << r.out << r.err;
}

// A plain read-only EXPLAIN ANALYZE still works, also after a statement that
// changed a setting (whose transaction was rolled back).
TEST_F(ExplainReadOnly, ReadOnlyAnalyzeStillWorks) {
  CmdResult r = Analyze("ok.sql",
                        "SELECT set_config('work_mem', '64kB', false);\n"
                        "SELECT v, count(*) FROM items GROUP BY v;\n"
                        "SELECT * FROM items WHERE id = 7;\n");
  EXPECT_EQ(r.exit, 0) << r.out << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(VictimRows(), 0);
}

// Through the API: nothing an analysed statement sets outlives it — the
// session stays read only with its own statement_timeout, and an error in
// the statement leaves no transaction open.
TEST_F(ExplainReadOnly, SessionSettingsDoNotLeakOutOfAnalyze) {
  auto s = ReadOnlySession();
  ASSERT_TRUE(s);
  ExplainOptions o;
  o.analyze = true;
  std::string json;
  Status st = ExplainStatement(
      *s,
      "SELECT set_config('default_transaction_read_only', 'off', false),"
      " set_config('statement_timeout', '0', false), set_config('lock_timeout', '0', false)",
      o, &json);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_FALSE(s->InTransaction());
  Rows r;
  ASSERT_TRUE(s->Query("SELECT current_setting('default_transaction_read_only'),"
                       " current_setting('statement_timeout'), current_setting('lock_timeout')",
                       &r)
                  .ok());
  EXPECT_EQ(r.Text(0, 0), "on");
  EXPECT_EQ(r.Text(0, 1), "12345ms");
  EXPECT_EQ(r.Text(0, 2), "1s");

  // A failing statement: the error and its SQLSTATE reach the caller, and the
  // transaction is rolled back (the next statement runs normally).
  st = ExplainStatement(*s, "SELECT evil_sql()", o, &json);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(s->last_sqlstate(), "25006");  // read_only_sql_transaction
  EXPECT_FALSE(s->InTransaction());
  st = ExplainStatement(*s, "SELECT count(*) FROM items", o, &json);
  EXPECT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(VictimRows(), 0);
}

}  // namespace
}  // namespace pgvise::testing
