// The view advisor against a real PostgreSQL 15: a dashboard aggregate over
// a rarely written table gets one view serving two statements (one through a
// rollup) whose rewrites return the statements' rows; the same aggregate over
// a table the workload writes all day gets none; --verify drops a view whose
// rewrite returns other rows.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "advisor/advisor.h"
#include "advisor/matview.h"
#include "advisor/report.h"
#include "tests/support/pg_test.h"

namespace pgvise {
namespace {

class MatviewPg : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    uri_ = new std::string(testing::FreshDatabase("matview_test"));
    testing::Exec(*uri_, R"sql(
      CREATE TABLE customers (id int PRIMARY KEY, region text NOT NULL, name text);
      INSERT INTO customers SELECT g, (ARRAY['EU','US','APAC','LATAM'])[1 + g % 4], 'c' || g
        FROM generate_series(1, 2000) g;
      CREATE TABLE products (id int PRIMARY KEY, category text NOT NULL);
      INSERT INTO products SELECT g, 'cat' || (g % 20) FROM generate_series(1, 200) g;
      -- Two copies of one fact table: the workload never writes `sales`
      -- and writes `sales_hot` all day.
      CREATE TABLE sales (id bigint PRIMARY KEY, customer_id int NOT NULL, product_id int NOT NULL,
                          amount numeric(12,2), status text NOT NULL);
      INSERT INTO sales SELECT g, 1 + g % 2000, 1 + (g * 7) % 200,
                               CASE WHEN g % 97 = 0 THEN NULL ELSE (g % 1000) / 10.0 END,
                               CASE WHEN g % 10 = 0 THEN 'refunded' ELSE 'paid' END
        FROM generate_series(1, 200000) g;
      -- sales' keys are NOT NULL foreign keys: a view may join products
      -- for one statement and serve another that does not read it.
      ALTER TABLE sales ADD FOREIGN KEY (customer_id) REFERENCES customers,
                        ADD FOREIGN KEY (product_id) REFERENCES products;
      CREATE TABLE sales_hot (LIKE sales INCLUDING ALL);
      INSERT INTO sales_hot SELECT * FROM sales;
    )sql");
    auto admin = testing::AdminSession(*uri_);
    ASSERT_TRUE(admin->Exec("VACUUM ANALYZE").ok());
  }
  static void TearDownTestSuite() { delete uri_; }

  static std::unique_ptr<Session> Connect(bool read_only) {
    SessionOptions o;
    o.conninfo = *uri_;
    o.read_only = read_only;
    std::unique_ptr<Session> s;
    Status st = Session::Connect(o, &s);
    EXPECT_TRUE(st.ok()) << st.message();
    return s;
  }

  static AdviseReport Advise(const std::string& sql, AdviseOptions opts = {}) {
    auto s = Connect(true);
    Catalog cat;
    Status st = Catalog::Load(*s, {}, &cat);
    EXPECT_TRUE(st.ok()) << st.message();
    Workload w;
    st = AddSqlText("workload.sql", sql, &w);
    EXPECT_TRUE(st.ok()) << st.message();
    AdviseReport rep;
    opts.verbose = true;
    st = RunAdvisor(*s, cat, w, opts, &rep);
    EXPECT_TRUE(st.ok()) << st.message();
    return rep;
  }

  // Dashboard statements over `table`, each called `calls` times, plus
  // `writes` single-row updates of it.
  static std::string Dashboard(const std::string& table, int calls, int writes) {
    std::string c = "-- pgvise: calls=" + std::to_string(calls) + "\n";
    std::string sql =
        c + "SELECT c.region, p.category, sum(s.amount) AS revenue, count(*) AS orders FROM " +
        table +
        " s JOIN customers c ON c.id = s.customer_id JOIN products p ON p.id = s.product_id "
        "WHERE s.status = 'paid' GROUP BY c.region, p.category;\n" +
        c + "SELECT c.region, avg(s.amount) AS avg_amount, max(s.amount), count(s.amount) FROM " +
        table +
        " s JOIN customers c ON c.id = s.customer_id JOIN products p ON p.id = s.product_id "
        "WHERE s.status = 'paid' GROUP BY c.region ORDER BY c.region;\n";
    if (writes > 0)
      sql += "-- pgvise: calls=" + std::to_string(writes) + "\nUPDATE " + table +
             " SET amount = amount + 1 WHERE id = 17;\n";
    return sql;
  }

  static std::string Notes(const AdviseReport& r) {
    std::string s;
    for (const auto& n : r.notes) s += n + "\n";
    return s;
  }

  static std::string* uri_;
};
std::string* MatviewPg::uri_ = nullptr;

// Runs `sql` and returns its rows as a sorted multiset of text lines.
std::vector<std::string> RowsOf(Session& s, const std::string& sql) {
  Rows r;
  Status st = s.Query(sql, &r);
  EXPECT_TRUE(st.ok()) << st.message() << "\n" << sql;
  std::vector<std::string> out;
  for (size_t i = 0; i < r.size(); ++i) {
    std::string line;
    for (size_t c = 0; c < r.columns(); ++c) line += (r.IsNull(i, c) ? "NULL" : r.Text(i, c)) + "|";
    out.push_back(line);
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST_F(MatviewPg, DashboardOverARarelyWrittenTableGetsOneViewServingTwoStatements) {
  AdviseReport r = Advise(Dashboard("sales", 5, 0));
  ASSERT_EQ(r.views.size(), 1u) << Notes(r) << RenderAdvice(r, {});
  const Recommendation& v = r.views[0];
  EXPECT_EQ(v.kind, RecommendationKind::kMaterializedView);
  EXPECT_NE(v.sql.find("CREATE UNIQUE INDEX"), std::string::npos) << v.sql;
  ASSERT_EQ(v.benefit.size(), 2u);
  for (const auto& b : v.benefit) EXPECT_LT(b.cost_after, b.cost_before / 10) << b.query;

  // JSON: "rewrites" beside the evidence, one per served statement, one a rollup.
  AdviceRenderOptions ro;
  ro.format = "json";
  auto j = nlohmann::json::parse(RenderAdvice(r, ro));
  nlohmann::json rewrites;
  for (const auto& rec : j["recommendations"])
    if (rec["kind"] == "materialized-view") rewrites = rec["rewrites"];
  ASSERT_TRUE(rewrites.is_array()) << j.dump(1);
  ASSERT_EQ(rewrites.size(), 2u);
  int rollups = 0;
  for (const auto& x : rewrites) rollups += x["rollup"].get<bool>();
  EXPECT_EQ(rollups, 1);

  // Build the view as proposed and compare each statement with its rewrite.
  auto admin = testing::AdminSession(*uri_);
  ASSERT_TRUE(admin->Exec("DROP MATERIALIZED VIEW IF EXISTS " + v.object).ok());
  for (const char* part : {"CREATE MATERIALIZED", "CREATE UNIQUE"}) {
    const size_t at = v.sql.find(part);
    const size_t end = v.sql.find(";\n", at);
    ASSERT_TRUE(admin->Exec(v.sql.substr(at, end == std::string::npos ? end : end - at)).ok());
  }
  ASSERT_TRUE(admin->Exec("REFRESH MATERIALIZED VIEW CONCURRENTLY " + v.object).ok());
  for (const auto& x : rewrites) {
    auto a = RowsOf(*admin, x["query"].get<std::string>());
    auto b = RowsOf(*admin, x["rewritten"].get<std::string>());
    EXPECT_FALSE(a.empty());
    EXPECT_EQ(a, b) << x["rewritten"];
  }
  ASSERT_TRUE(admin->Exec("DROP MATERIALIZED VIEW " + v.object).ok());

  // --verify measures it and keeps it.
  auto w = Connect(false);
  ASSERT_TRUE(VerifyViews(*w, {}, &r).ok());
  ASSERT_EQ(r.views.size(), 1u) << Notes(r);
  EXPECT_EQ(r.views[0].confidence, Confidence::kMeasured);
  Rows left;
  ASSERT_TRUE(
      admin->Query("SELECT 1 FROM pg_namespace WHERE nspname = 'pgvise_verify_mv'", &left).ok());
  EXPECT_TRUE(left.empty()) << "the scratch schema was left behind";
}

TEST_F(MatviewPg, TheSameAggregateOverAWriteHotTableGetsNone) {
  // Same statements and calls; the workload changes sales_hot 100,000 times
  // a day, so the view would be refreshed every hour: 24 refreshes, each
  // about as dear as running the statement, for 10 calls.
  AdviseReport r = Advise(Dashboard("sales_hot", 5, 100000));
  EXPECT_TRUE(r.views.empty()) << RenderAdvice(r, {});
  EXPECT_NE(Notes(r).find("refreshes cost more than it saves"), std::string::npos) << Notes(r);
  // Control: without the writes the same statements get their view.
  EXPECT_EQ(Advise(Dashboard("sales_hot", 5, 0)).views.size(), 1u);
}

TEST_F(MatviewPg, VerifyDropsAViewWhoseRewriteReturnsOtherRows) {
  AdviseReport r = Advise(Dashboard("sales", 5, 0));
  ASSERT_EQ(r.views.size(), 1u) << Notes(r);
  // Break the definition on purpose: the view now sums refunds.
  for (auto& e : r.views[0].evidence)
    if (e.key == "definition") {
      std::string& d = std::get<std::string>(e.value);
      d.replace(d.find("'paid'"), 6, "'refunded'");
    }
  const int64_t bytes = r.bytes_added;
  auto w = Connect(false);
  ASSERT_TRUE(VerifyViews(*w, {}, &r).ok());
  EXPECT_TRUE(r.views.empty());
  EXPECT_LT(r.bytes_added, bytes);
  EXPECT_NE(Notes(r).find("not proposed"), std::string::npos) << Notes(r);
}

TEST_F(MatviewPg, ParameterizedStatementIsVerifiedWithAValueReadFromTheView) {
  // A `$1` compared with a key: --verify runs statement and rewrite with a
  // value one row of the view holds.
  const std::string sql =
      Dashboard("sales", 5, 0) +
      "-- pgvise: calls=5\n"
      "SELECT p.category, sum(s.amount) AS revenue FROM sales s JOIN customers c ON c.id = "
      "s.customer_id JOIN products p ON p.id = s.product_id WHERE s.status = 'paid' AND "
      "c.region = $1 GROUP BY p.category;\n";
  AdviseReport r = Advise(sql);
  ASSERT_EQ(r.views.size(), 1u) << Notes(r);
  ASSERT_EQ(r.views[0].benefit.size(), 3u) << Notes(r);
  auto w = Connect(false);
  ASSERT_TRUE(VerifyViews(*w, {}, &r).ok());
  ASSERT_EQ(r.views.size(), 1u) << Notes(r);
  std::string rewrites;
  for (const auto& e : r.views[0].evidence)
    if (e.key == "rewrites") rewrites = std::get<std::string>(e.value);
  auto j = nlohmann::json::parse(rewrites);
  int with_params = 0;
  for (const auto& x : j) {
    EXPECT_TRUE(x.value("verified", false)) << x.dump();
    with_params += x.contains("parameters");
  }
  EXPECT_EQ(with_params, 1) << j.dump(1);
}

// Builds view `v` as proposed, then runs each rewrite beside its statement:
// the same multiset of rows, and some rows. Returns the rewrites.
nlohmann::json ProveRewrites(Session& admin, const AdviseReport& r, const Recommendation& v) {
  AdviceRenderOptions ro;
  ro.format = "json";
  auto j = nlohmann::json::parse(RenderAdvice(r, ro));
  nlohmann::json rewrites;
  for (const auto& rec : j["recommendations"])
    if (rec["kind"] == "materialized-view" && rec["object"] == v.object) rewrites = rec["rewrites"];
  EXPECT_TRUE(rewrites.is_array()) << j.dump(1);
  EXPECT_TRUE(admin.Exec("DROP MATERIALIZED VIEW IF EXISTS " + v.object).ok());
  for (const char* part : {"CREATE MATERIALIZED", "CREATE UNIQUE"}) {
    const size_t at = v.sql.find(part);
    const size_t end = v.sql.find(";\n", at);
    Status st = admin.Exec(v.sql.substr(at, end == std::string::npos ? end : end - at));
    EXPECT_TRUE(st.ok()) << st.message() << "\n" << v.sql;
  }
  EXPECT_TRUE(admin.Exec("REFRESH MATERIALIZED VIEW CONCURRENTLY " + v.object).ok());
  for (const auto& x : rewrites) {
    auto a = RowsOf(admin, x["query"].get<std::string>());
    auto b = RowsOf(admin, x["rewritten"].get<std::string>());
    EXPECT_FALSE(a.empty()) << x["query"];
    EXPECT_EQ(a, b) << x["rewritten"];
  }
  EXPECT_TRUE(admin.Exec("DROP MATERIALIZED VIEW " + v.object).ok());
  return rewrites;
}

TEST_F(MatviewPg, GrandTotalHavingAndAnExtraTableShareOneViewWithTheSameRows) {
  const std::string join =
      " FROM sales s JOIN customers c ON c.id = s.customer_id JOIN products p ON p.id = "
      "s.product_id WHERE s.status = 'paid'";
  const std::string c = "-- pgvise: calls=5\n";
  const std::string sql =
      // The finest grouping.
      c + "SELECT c.region, p.category, sum(s.amount) AS revenue, count(*) AS orders" + join +
      " GROUP BY c.region, p.category;\n" +
      // HAVING at the view's grouping (a key and an aggregate): a WHERE on its rows.
      c + "SELECT c.region, p.category, count(*) AS orders" + join +
      " GROUP BY c.region, p.category HAVING c.region <> 'EU' AND count(*) > 100;\n" +
      // A grand total: every row of the view re-aggregated.
      c + "SELECT sum(s.amount) AS revenue, count(*) AS orders" + join + ";\n" +
      // Without products (joined by the view through sales.product_id, a NOT
      // NULL foreign key), with HAVING over the rollup.
      c +
      "SELECT c.region, sum(s.amount) AS revenue FROM sales s JOIN customers c ON c.id = "
      "s.customer_id WHERE s.status = 'paid' GROUP BY c.region HAVING sum(s.amount) > 0 "
      "ORDER BY c.region;\n";
  AdviseReport r = Advise(sql);
  ASSERT_EQ(r.views.size(), 1u) << Notes(r) << RenderAdvice(r, {});
  const Recommendation& v = r.views[0];
  ASSERT_EQ(v.benefit.size(), 4u) << Notes(r) << RenderAdvice(r, {});
  auto admin = testing::AdminSession(*uri_);
  nlohmann::json rewrites = ProveRewrites(*admin, r, v);
  ASSERT_EQ(rewrites.size(), 4u);
  for (const auto& x : rewrites) {
    const std::string q = x["query"], w = x["rewritten"];
    EXPECT_EQ(w.find("JOIN"), std::string::npos) << w;  // reads the view alone
    if (q.find("HAVING c.region") != std::string::npos) {
      EXPECT_NE(w.find("WHERE mv.region <> 'EU' AND mv.row_count > 100"), std::string::npos) << w;
    }
  }
  // --verify agrees: every rewrite verified on data.
  auto w = Connect(false);
  ASSERT_TRUE(VerifyViews(*w, {}, &r).ok());
  ASSERT_EQ(r.views.size(), 1u) << Notes(r);
  for (const auto& e : r.views[0].evidence) {
    if (e.key != "rewrites") continue;
    for (const auto& x : nlohmann::json::parse(std::get<std::string>(e.value)))
      EXPECT_TRUE(x.value("verified", false)) << x.dump();
  }
}

TEST_F(MatviewPg, GrandTotalAloneGetsAOneRowViewThatRefreshesConcurrently) {
  const std::string sql =
      "-- pgvise: calls=20\nSELECT sum(amount) AS revenue, count(*) AS orders, max(amount) "
      "FROM sales WHERE status = 'paid';\n";
  AdviseReport r = Advise(sql);
  ASSERT_EQ(r.views.size(), 1u) << Notes(r) << RenderAdvice(r, {});
  EXPECT_NE(r.views[0].sql.find("pgvise_total"), std::string::npos) << r.views[0].sql;
  auto admin = testing::AdminSession(*uri_);
  ProveRewrites(*admin, r, r.views[0]);
}

TEST_F(MatviewPg, NoViewsWhenTurnedOffOrOverTheBudget) {
  AdviseOptions off;
  off.views.enabled = false;
  EXPECT_TRUE(Advise(Dashboard("sales", 5, 0), off).views.empty());
  AdviseOptions tiny;
  tiny.selection.budget_bytes = 1024;
  AdviseReport r = Advise(Dashboard("sales", 5, 0), tiny);
  EXPECT_TRUE(r.views.empty());
  EXPECT_NE(Notes(r).find("storage budget"), std::string::npos) << Notes(r);
}

}  // namespace
}  // namespace pgvise
