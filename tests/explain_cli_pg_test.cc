// Command-level tests of `pgvise explain --db URI --sql FILE [--analyze]`
// against a real PostgreSQL 15: pgvise runs EXPLAIN itself (READ ONLY),
// findings are placed at the statement, $n statements get a generic plan,
// writes are never executed, connection failures exit 3.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/review_cli.h"

namespace fs = std::filesystem;

namespace pgvise::testing {
namespace {

using json = nlohmann::json;

class ExplainDb : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    uri_ = new std::string(FreshDatabase("explain_cli"));
    dir_ = new std::string(TempDir("explain-pg"));
    Exec(*uri_, R"sql(
      CREATE TABLE orders (id int PRIMARY KEY, user_id int NOT NULL, status text NOT NULL, total int);
      INSERT INTO orders SELECT g, 1 + g % 5000, CASE WHEN g % 500 = 0 THEN 'refunded' ELSE 'done' END, g % 977
        FROM generate_series(1, 100000) g;
      ANALYZE orders;
    )sql");
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(*dir_, ec);
    delete dir_;
    delete uri_;
  }
  static std::string File(const std::string& name, const std::string& text) {
    WriteWhole(*dir_ + "/" + name, text);
    return name;
  }
  static CmdResult Explain(const std::string& args) {
    return RunPgvise("explain --db '" + *uri_ + "' " + args, *dir_);
  }
  static int64_t Count(const std::string& sql) {
    auto s = AdminSession(*uri_);
    Rows r;
    EXPECT_TRUE(s->Query(sql, &r).ok());
    return r.empty() ? -1 : r.Int(0, 0);
  }
  static std::string* uri_;
  static std::string* dir_;
};
std::string* ExplainDb::uri_ = nullptr;
std::string* ExplainDb::dir_ = nullptr;

TEST_F(ExplainDb, AnalyzeFindsTheSeqScanAtItsStatement) {
  File("q.sql",
       "-- the refunds report\n\nSELECT id, total\n  FROM orders WHERE status = 'refunded';\n");
  CmdResult r = Explain("--sql q.sql --analyze --format json --fail-on warning");
  ASSERT_EQ(r.exit, 1) << r.out << r.err;
  json j = json::parse(r.out);
  const json* hit = nullptr;
  for (const auto& f : j["findings"])
    if (f["rule"] == "seq-scan-filters-most-rows") hit = &f;
  ASSERT_NE(hit, nullptr) << r.out;
  EXPECT_EQ((*hit)["location"]["file"], "q.sql");
  EXPECT_EQ((*hit)["location"]["line"], 3);
  EXPECT_EQ((*hit)["location"]["column"], 1);
  EXPECT_EQ((*hit)["location"]["object"], "public.orders");  // VERBOSE: schema-qualified
  EXPECT_EQ((*hit)["evidence"]["rows_scanned"], 100000.0);
  EXPECT_NE((*hit)["suggestion"].get<std::string>().find(
                "CREATE INDEX CONCURRENTLY ON public.orders (status)"),
            std::string::npos);
  EXPECT_TRUE(j["notes"].empty()) << j["notes"];  // ANALYZE + BUFFERS: every check ran
}

TEST_F(ExplainDb, WithoutAnalyzeTheOutputSaysEstimatesOnly) {
  File("p.sql", "SELECT * FROM orders WHERE user_id = $1;\nSET work_mem = '64MB';\n");
  CmdResult r = Explain("--sql p.sql --fail-on never");
  ASSERT_EQ(r.exit, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("no ANALYZE"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("p.sql:2:1: a set statement has no plan"), std::string::npos) << r.out;
}

TEST_F(ExplainDb, WritesAreNeverExecuted) {
  File("w.sql", "UPDATE orders SET total = 0 WHERE id < 10;\n");
  CmdResult r = Explain("--sql w.sql --analyze");
  EXPECT_EQ(r.exit, 2) << r.out << r.err;
  EXPECT_EQ(r.ErrLines(), 1) << r.err;
  EXPECT_NE(r.err.find("w.sql:1:1"), std::string::npos) << r.err;
  // Plain EXPLAIN of the write is fine: it plans, it does not run.
  r = Explain("--sql w.sql --fail-on never");
  EXPECT_EQ(r.exit, 0) << r.out << r.err;
  EXPECT_EQ(Count("SELECT count(*) FROM orders WHERE total = 0 AND id < 10"), 0);
}

TEST_F(ExplainDb, ErrorsMapToExitCodes) {
  File("bad.sql", "SELEC id FROM orders;\n");
  CmdResult r = Explain("--sql bad.sql");
  EXPECT_EQ(r.exit, 2) << r.err;
  EXPECT_NE(r.err.find("bad.sql:1:1"), std::string::npos) << r.err;

  File("missing.sql", "SELECT * FROM no_such_table;\n");
  r = Explain("--sql missing.sql");
  EXPECT_EQ(r.exit, 3) << r.err;
  EXPECT_NE(r.err.find("missing.sql:1:1"), std::string::npos) << r.err;
  EXPECT_EQ(r.ErrLines(), 1) << r.err;

  std::string base = ClusterUri();
  std::string hostport = base.substr(base.find('@') + 1);
  File("ok.sql", "SELECT 1;\n");
  r = RunPgvise("explain --db 'postgresql://pgvise_pw:wrong-secret@" + hostport + "' --sql ok.sql",
                *dir_);
  EXPECT_EQ(r.exit, 3) << r.err;
  EXPECT_EQ(r.err.find("wrong-secret"), std::string::npos) << r.err;
  EXPECT_EQ(r.ErrLines(), 1) << r.err;
}

}  // namespace
}  // namespace pgvise::testing
