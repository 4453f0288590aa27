// "Never slower" (issue 14): `pgvise rewrite --db` without --verify compares
// the EXPLAIN costs of the original and the rewritten form (read-only, not
// run) and proposes a rewrite only when it is cheaper; both costs are shown
// either way. Without --db the rewrite is proposed, marked unchecked.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/review_cli.h"

namespace pgvise::testing {
namespace {

class RewriteCost : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    uri_ = new std::string(FreshDatabase("rewrite_cost"));
    dir_ = new std::string(TempDir("rewrite-cost"));
    Exec(*uri_, R"sql(
      -- Few outer rows, an index on the correlation column, a big inner
      -- table: a per-row index lookup beats aggregating every order.
      CREATE TABLE u (id int PRIMARY KEY, name text);
      CREATE TABLE o (id int PRIMARY KEY, user_id int NOT NULL, amount int);
      INSERT INTO u SELECT g, 'u' || g FROM generate_series(1, 50) g;
      INSERT INTO o SELECT g, 1 + g % 100000, g % 100 FROM generate_series(1, 200000) g;
      CREATE INDEX ON o (user_id);
      -- No index: the SubPlan scans o2 once per outer row; the join is cheaper.
      CREATE TABLE u2 (id int PRIMARY KEY, name text);
      CREATE TABLE o2 (id int PRIMARY KEY, user_id int NOT NULL, amount int);
      INSERT INTO u2 SELECT g, 'u' || g FROM generate_series(1, 2000) g;
      INSERT INTO o2 SELECT g, 1 + g % 2000, g % 100 FROM generate_series(1, 20000) g;
    )sql");
    // VACUUM (so the index-only path is costed as it will run) cannot share
    // the setup's transaction.
    for (const char* t : {"u", "o", "u2", "o2"}) Exec(*uri_, std::string("VACUUM ANALYZE ") + t);
    WriteWhole(*dir_ + "/costlier.sql",
               "SELECT u.id FROM u WHERE (SELECT count(*) FROM o WHERE o.user_id = u.id) > 10;\n");
    WriteWhole(*dir_ + "/cheaper.sql",
               "SELECT u2.id FROM u2 WHERE (SELECT count(*) FROM o2 WHERE o2.user_id = u2.id) > "
               "10;\n");
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    std::filesystem::remove_all(*dir_, ec);
    delete dir_;
    delete uri_;
  }
  static nlohmann::json Statement0(const std::string& args) {
    CmdResult r = RunPgvise("rewrite --format json " + args, *dir_);
    EXPECT_EQ(r.exit, 0) << r.err;
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    if (j.is_discarded() || j["statements"].empty()) return nlohmann::json::object();
    return j["statements"][0];
  }
  static std::string* uri_;
  static std::string* dir_;
};
std::string* RewriteCost::uri_ = nullptr;
std::string* RewriteCost::dir_ = nullptr;

TEST_F(RewriteCost, CostlierRewriteIsNotProposedWithDb) {
  auto s = Statement0("--db '" + *uri_ + "' costlier.sql");
  EXPECT_FALSE(s["changed"].get<bool>()) << s.dump(2);
  EXPECT_EQ(s["check"], "estimate");
  EXPECT_EQ(s["sql"], s["original"]);
  const auto& v = s["verify"];
  EXPECT_FALSE(v["executed"].get<bool>()) << "the cost check must not run the statements";
  EXPECT_GT(v["cost_after"].get<double>(), v["cost_before"].get<double>()) << v.dump();
  EXPECT_TRUE(v["subplan_index_path"].get<bool>()) << v.dump();
  EXPECT_NE(v["note"].get<std::string>().find("not cheaper by estimate"), std::string::npos);
  // The text says so with both costs.
  CmdResult t = RunPgvise("rewrite --format text --db '" + *uri_ + "' costlier.sql", *dir_);
  ASSERT_EQ(t.exit, 0) << t.err;
  char costs[96];
  std::snprintf(costs, sizeof costs, "%.1f -> %.1f", v["cost_before"].get<double>(),
                v["cost_after"].get<double>());
  EXPECT_NE(t.out.find(costs), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("not proposed"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("per-row SubPlan over an index"), std::string::npos) << t.out;
}

TEST_F(RewriteCost, WithoutDbTheRewriteIsProposedUnchecked) {
  auto s = Statement0("costlier.sql");
  EXPECT_TRUE(s["changed"].get<bool>()) << s.dump(2);
  EXPECT_EQ(s["check"], "none");
  EXPECT_FALSE(s.contains("verify"));
  CmdResult t = RunPgvise("rewrite --format text costlier.sql", *dir_);
  EXPECT_NE(t.out.find("rewritten (unchecked: no --db)"), std::string::npos) << t.out;
}

TEST_F(RewriteCost, CheaperRewriteIsProposedWithBothCosts) {
  auto s = Statement0("--db '" + *uri_ + "' cheaper.sql");
  EXPECT_TRUE(s["changed"].get<bool>()) << s.dump(2);
  EXPECT_EQ(s["check"], "estimate");
  const auto& v = s["verify"];
  EXPECT_LT(v["cost_after"].get<double>(), v["cost_before"].get<double>()) << v.dump();
  EXPECT_EQ(v["subplans_after"].get<int>(), 0);
  CmdResult t = RunPgvise("rewrite --format text --db '" + *uri_ + "' cheaper.sql", *dir_);
  char costs[96];
  std::snprintf(costs, sizeof costs, "cost by estimate (EXPLAIN, not run): %.1f -> %.1f",
                v["cost_before"].get<double>(), v["cost_after"].get<double>());
  EXPECT_NE(t.out.find(costs), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("proposed: cheaper by estimate"), std::string::npos) << t.out;
}

}  // namespace
}  // namespace pgvise::testing
