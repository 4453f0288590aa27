#include "analyzer/plan/explain_runner.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/pg_test.h"

namespace pgvise {
namespace {

class ExplainRunner : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    uri_ = new std::string(testing::FreshDatabase("explain_runner"));
    testing::Exec(*uri_,
                  "CREATE EXTENSION IF NOT EXISTS hypopg;"
                  "CREATE TABLE items (id int PRIMARY KEY, b int NOT NULL, note text);"
                  "INSERT INTO items SELECT g, g % 1000, 'n' || g FROM generate_series(1, 50000) g;"
                  "ANALYZE items;");
  }
  static void TearDownTestSuite() { delete uri_; }

  std::unique_ptr<Session> Connect() {
    SessionOptions o;
    o.conninfo = *uri_;
    std::unique_ptr<Session> s;
    Status st = Session::Connect(o, &s);
    EXPECT_TRUE(st.ok()) << st.message();
    return s;
  }

  // The top plan node of EXPLAIN's JSON, as nlohmann sees it (independent of
  // analyzer/plan/plan.h, so this test checks the runner alone).
  static nlohmann::json Top(const std::string& plan_json) {
    nlohmann::json j = nlohmann::json::parse(plan_json);
    return j.at(0).at("Plan");
  }
  static bool Mentions(const nlohmann::json& node, const std::string& key,
                       const std::string& needle) {
    if (node.contains(key) && node[key].is_string() &&
        node[key].get<std::string>().find(needle) != std::string::npos)
      return true;
    if (node.contains("Plans"))
      for (const auto& c : node["Plans"])
        if (Mentions(c, key, needle)) return true;
    return false;
  }
  static int64_t PreparedCount(Session& s) {
    Rows r;
    EXPECT_TRUE(s.Query("SELECT count(*) FROM pg_prepared_statements", &r).ok());
    return r.Int(0, 0);
  }

  static std::string* uri_;
};
std::string* ExplainRunner::uri_ = nullptr;

TEST_F(ExplainRunner, CountsParametersByParsing) {
  int n = -1;
  ASSERT_TRUE(CountParams("SELECT * FROM items WHERE id = $1 AND b IN ($3, $2)", &n).ok());
  EXPECT_EQ(n, 3);
  // '$1' inside a string literal and a dollar-quoted body are not parameters.
  ASSERT_TRUE(CountParams("SELECT '$1' || $$ $2 $$ FROM items", &n).ok());
  EXPECT_EQ(n, 0);
  EXPECT_FALSE(CountParams("SELECT FROM WHERE (", &n).ok());
  EXPECT_FALSE(CountParams("SELECT 1; SELECT 2", &n).ok());
}

TEST_F(ExplainRunner, PlainStatementGivesJsonPlan) {
  auto s = Connect();
  std::string json;
  Status st = ExplainStatement(*s, "SELECT * FROM items WHERE id = 42", {}, &json);
  ASSERT_TRUE(st.ok()) << st.message();
  nlohmann::json top = Top(json);
  EXPECT_TRUE(Mentions(top, "Index Name", "items_pkey")) << json;
  EXPECT_FALSE(top.contains("Actual Rows"));
}

TEST_F(ExplainRunner, AnalyzeAndBuffersInReadOnlySession) {
  auto s = Connect();
  std::string json;
  ExplainOptions o;
  o.analyze = true;
  o.buffers = true;
  Status st = ExplainStatement(*s, "SELECT count(*) FROM items WHERE b = 7", o, &json);
  ASSERT_TRUE(st.ok()) << st.message();
  nlohmann::json top = Top(json);
  EXPECT_EQ(top.at("Actual Rows").get<double>(), 1);
  EXPECT_TRUE(top.contains("Shared Hit Blocks"));
  // The session is read only: ANALYZE of a write is refused by the server.
  st = ExplainStatement(*s, "UPDATE items SET b = 0 WHERE id = 1", o, &json);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Status::Code::kDatabase);
  EXPECT_EQ(s->last_sqlstate(), "25006");
}

TEST_F(ExplainRunner, ParameterisedStatementGetsGenericPlanAndCleansUp) {
  auto s = Connect();
  ASSERT_TRUE(s->Exec("SET plan_cache_mode = force_custom_plan").ok());
  std::string json;
  Status st = ExplainStatement(*s, "SELECT note FROM items WHERE id = $1", {}, &json);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_TRUE(Mentions(Top(json), "Index Name", "items_pkey")) << json;
  EXPECT_EQ(PreparedCount(*s), 0);
  Rows r;
  ASSERT_TRUE(s->Query("SHOW plan_cache_mode", &r).ok());
  EXPECT_EQ(r.Text(0, 0), "force_custom_plan");  // restored
}

// A batch gives each statement what ExplainStatement gives it alone: the
// plan as written, the generic plan for $n, one custom plan per value set;
// a failure stays with its statement; nothing is left prepared and the
// session's plan_cache_mode is untouched.
TEST_F(ExplainRunner, BatchPlansEachStatementAsAloneAndCleansUp) {
  auto s = Connect();
  ASSERT_TRUE(s->Exec("SET plan_cache_mode = force_custom_plan").ok());
  std::vector<ExplainJob> jobs(6);
  jobs[0].sql = "SELECT * FROM items WHERE id = 42";
  jobs[1].sql = "SELECT note FROM items WHERE id = $1";
  jobs[2].sql = "SELECT * FROM no_such_table WHERE id = $1";
  jobs[3].sql = "SELECT id FROM items WHERE b = $1 AND note <> $2";
  jobs[3].value_sets = {{"7", "x"}, {std::nullopt, "y"}};
  jobs[4].sql = "SELEC 1";
  jobs[5].sql = "SELECT count(*) FROM items WHERE b < 3";
  ASSERT_TRUE(ExplainBatch(*s, {}, &jobs).ok());
  for (int j : {0, 1, 5}) {
    ASSERT_TRUE(jobs[j].status.ok()) << j << ": " << jobs[j].status.message();
    ASSERT_EQ(jobs[j].plans.size(), 1u);
    std::string alone;
    ASSERT_TRUE(ExplainStatement(*s, jobs[j].sql, {}, &alone).ok());
    EXPECT_EQ(Top(jobs[j].plans[0]), Top(alone)) << j;
  }
  EXPECT_TRUE(Mentions(Top(jobs[1].plans[0]), "Index Name", "items_pkey"));
  EXPECT_EQ(jobs[2].status.code(), Status::Code::kDatabase);
  EXPECT_EQ(jobs[2].sqlstate, "42P01");
  EXPECT_NE(jobs[2].status.message().find("no_such_table"), std::string::npos);
  ASSERT_TRUE(jobs[3].status.ok()) << jobs[3].status.message();
  ASSERT_EQ(jobs[3].plans.size(), 2u);
  // b = 7 is 50 rows of 50,000; b = NULL none: two different custom plans.
  EXPECT_EQ(Top(jobs[3].plans[0]).at("Plan Rows").get<double>() > 1, true) << jobs[3].plans[0];
  EXPECT_NE(jobs[3].plans[0], jobs[3].plans[1]);
  EXPECT_EQ(jobs[4].status.code(), Status::Code::kInvalidInput);
  EXPECT_EQ(PreparedCount(*s), 0);
  Rows r;
  ASSERT_TRUE(s->Query("SHOW plan_cache_mode", &r).ok());
  EXPECT_EQ(r.Text(0, 0), "force_custom_plan");
  EXPECT_FALSE(s->InTransaction());
}

TEST_F(ExplainRunner, GenericPlanSeesHypotheticalIndexChanges) {
  // The cached-generic-plan trap: a re-used prepared statement would keep
  // the plan made before the hypothetical index existed (or after it went).
  auto s = Connect();
  const std::string sql = "SELECT id FROM items WHERE b = $1";
  std::string before, with, after;
  ASSERT_TRUE(ExplainStatement(*s, sql, {}, &before).ok());
  EXPECT_FALSE(Mentions(Top(before), "Index Name", "btree_items_b")) << before;
  Rows r;
  ASSERT_TRUE(
      s->Query("SELECT indexname FROM hypopg_create_index('CREATE INDEX ON items (b)')", &r).ok());
  ASSERT_TRUE(ExplainStatement(*s, sql, {}, &with).ok());
  EXPECT_TRUE(Mentions(Top(with), "Index Name", "btree_items_b")) << with;
  ASSERT_TRUE(s->Exec("SELECT hypopg_reset()").ok());
  ASSERT_TRUE(ExplainStatement(*s, sql, {}, &after).ok());
  EXPECT_FALSE(Mentions(Top(after), "Index Name", "btree_items_b")) << after;
  EXPECT_EQ(PreparedCount(*s), 0);
}

TEST_F(ExplainRunner, ErrorsAreReportedAndLeaveNothingBehind) {
  auto s = Connect();
  std::string json;
  ExplainOptions analyze;
  analyze.analyze = true;
  Status st = ExplainStatement(*s, "SELECT * FROM items WHERE id = $1", analyze, &json);
  EXPECT_EQ(st.code(), Status::Code::kInvalidInput);
  st = ExplainStatement(*s, "SELEC 1", {}, &json);
  EXPECT_EQ(st.code(), Status::Code::kInvalidInput);
  st = ExplainStatement(*s, "SELECT * FROM no_such_table WHERE id = $1", {}, &json);
  EXPECT_EQ(st.code(), Status::Code::kDatabase);
  EXPECT_NE(st.message().find("no_such_table"), std::string::npos) << st.message();
  // Parameters whose types cannot be inferred fail at PREPARE.
  st = ExplainStatement(*s, "SELECT $1 + $2", {}, &json);
  EXPECT_EQ(st.code(), Status::Code::kDatabase);
  EXPECT_EQ(PreparedCount(*s), 0);
  // The session is still usable afterwards.
  st = ExplainStatement(*s, "SELECT * FROM items WHERE id = $1", {}, &json);
  EXPECT_TRUE(st.ok()) << st.message();
}

}  // namespace
}  // namespace pgvise
