// The view matcher (advisor/matview_match.h) on a catalog built in memory:
// which statements share a view, the view's definition, the rewrites, and
// what is refused. The database half is in matview_pg_test.cc.
#include "advisor/matview_match.h"

#include <gtest/gtest.h>

namespace pgvise::mv {
namespace {

ColumnInfo Col(const std::string& name, const std::string& type) {
  ColumnInfo c;
  c.name = name;
  c.type = type;
  return c;
}

Catalog ShopCatalog() {
  Catalog cat;
  TableInfo sales;
  sales.schema = "public";
  sales.name = "sales";
  sales.columns = {Col("id", "bigint"),
                   Col("customer_id", "integer"),
                   Col("product_id", "integer"),
                   Col("amount", "numeric(12,2)"),
                   Col("status", "text"),
                   Col("sold_at", "timestamp without time zone"),
                   Col("paid_at", "timestamp with time zone"),
                   Col("weight", "double precision")};
  TableInfo customers;
  customers.schema = "public";
  customers.name = "customers";
  customers.columns = {Col("id", "integer"), Col("region", "text"), Col("name", "text")};
  TableInfo products;
  products.schema = "public";
  products.name = "products";
  products.columns = {Col("id", "integer"), Col("category", "text")};
  cat.AddTable(sales);
  cat.AddTable(customers);
  cat.AddTable(products);
  cat.set_search_path({"public"});
  return cat;
}

const char* kByRegionCategory =
    "SELECT c.region, p.category, sum(s.amount) AS revenue, count(*) AS n "
    "FROM sales s JOIN customers c ON c.id = s.customer_id JOIN products p ON p.id = "
    "s.product_id WHERE s.status = 'paid' GROUP BY c.region, p.category";
const char* kByRegion =
    "SELECT cu.region, avg(x.amount), count(*) FROM sales x, customers cu, products pr "
    "WHERE pr.id = x.product_id AND x.customer_id = cu.id AND x.status = 'paid' "
    "AND cu.region = $1 GROUP BY cu.region ORDER BY 2 DESC";

TEST(MatviewMatch, TwoStatementsShareOneViewAtTheFinerGrouping) {
  Catalog cat = ShopCatalog();
  MatchResult m = PlanViews(cat, {{0, kByRegionCategory, 10}, {1, kByRegion, 5}});
  ASSERT_EQ(m.plans.size(), 1u) << (m.refused.empty() ? "" : m.refused[0]);
  const ViewPlan& p = m.plans[0];
  EXPECT_EQ(p.served, (std::vector<int>{0, 1}));
  // Keys: region and category (the finer grouping); the common filter stays in the view.
  EXPECT_EQ(p.def.KeyNames(), (std::vector<std::string>{"region", "category"}));
  ASSERT_EQ(p.def.filters.size(), 1u);
  EXPECT_NE(p.def.filters[0].find("'paid'"), std::string::npos);
  // sum(amount) once (shared by sum and avg), count(amount) for avg, count(*).
  EXPECT_EQ(p.def.aggs.size(), 3u);
  EXPECT_EQ(p.def.joins.size(), 2u);

  ViewDefinition def = p.def;
  for (auto& a : def.aggs) a.type = a.func == "sum" ? "numeric" : "bigint";
  std::string out;
  bool rollup = true;
  ASSERT_TRUE(Rewrite(cat, kByRegionCategory, def, "public.mv_x", &out, &rollup).ok());
  EXPECT_FALSE(rollup) << out;  // same grouping: read as is
  EXPECT_EQ(out.find("GROUP BY"), std::string::npos) << out;
  EXPECT_NE(out.find("FROM public.mv_x mv"), std::string::npos) << out;
  ASSERT_TRUE(Rewrite(cat, kByRegion, def, "public.mv_x", &out, &rollup).ok());
  EXPECT_TRUE(rollup) << out;
  EXPECT_NE(out.find("mv.region = $1"), std::string::npos) << out;
  EXPECT_NE(out.find("GROUP BY mv.region"), std::string::npos) << out;
  EXPECT_NE(out.find("NULLIF(sum(mv.count_amount), 0)"), std::string::npos) << out;
  EXPECT_NE(out.find("ORDER BY 2 DESC"), std::string::npos) << out;
}

TEST(MatviewMatch, DifferingConstantBecomesAGroupingKey) {
  Catalog cat = ShopCatalog();
  MatchResult m =
      PlanViews(cat, {{0,
                       "SELECT p.category, sum(s.amount) FROM sales s JOIN products p ON p.id = "
                       "s.product_id WHERE s.status = 'paid' GROUP BY p.category",
                       2},
                      {1,
                       "SELECT p.category, sum(s.amount) FROM sales s JOIN products p ON p.id = "
                       "s.product_id WHERE s.status = 'refunded' GROUP BY p.category",
                       1}});
  ASSERT_EQ(m.plans.size(), 1u);
  EXPECT_EQ(m.plans[0].def.KeyNames(), (std::vector<std::string>{"category", "status"}));
  EXPECT_TRUE(m.plans[0].def.filters.empty());
  EXPECT_EQ(m.plans[0].served.size(), 2u);
}

TEST(MatviewMatch, RefusesWhatItCannotProve) {
  Catalog cat = ShopCatalog();
  const std::vector<std::string> refused = {
      // A DISTINCT aggregate, a subquery, an outer join.
      "SELECT status, count(DISTINCT customer_id) FROM sales GROUP BY status",
      "SELECT status, count(*) FROM sales WHERE customer_id IN (SELECT id FROM customers) "
      "GROUP BY status",
      "SELECT c.region, count(*) FROM sales s LEFT JOIN customers c ON c.id = s.customer_id "
      "GROUP BY c.region",
      // Grouping by a numeric (1.0 = 1.00).
      "SELECT amount, count(*) FROM sales GROUP BY amount",
      // A filter with a $n (can't be in the view) on a float (can't be a key).
      "SELECT status, count(*) FROM sales WHERE weight > $1 GROUP BY status",
      // No aggregation at all.
      "SELECT s.id, c.region FROM sales s JOIN customers c ON c.id = s.customer_id",
      // A HAVING over an aggregate the view can't keep.
      "SELECT status, count(*) FROM sales GROUP BY status HAVING count(DISTINCT id) > 3"};
  for (const auto& sql : refused) {
    MatchResult m = PlanViews(cat, {{0, sql, 1}});
    EXPECT_TRUE(m.plans.empty()) << "served: " << sql;
    EXPECT_EQ(m.refused.size(), 1u) << sql;
  }
}

TEST(MatviewMatch, FloatSumIsRefusedOnceTypesAreKnown) {
  Catalog cat = ShopCatalog();
  MatchResult m = PlanViews(cat, {{0,
                                   "SELECT status, sold_at, sum(amount) FROM sales GROUP BY "
                                   "status, sold_at",
                                   1},
                                  {1, "SELECT status, sum(amount) FROM sales GROUP BY status", 1}});
  ASSERT_EQ(m.plans.size(), 1u);
  ViewDefinition def = m.plans[0].def;
  for (auto& a : def.aggs) a.type = "double precision";
  std::string out;
  EXPECT_FALSE(
      Rewrite(cat, "SELECT status, sum(amount) FROM sales GROUP BY status", def, "v", &out).ok());
}

TEST(MatviewMatch, DefinitionParsesAndNamesItsColumns) {
  Catalog cat = ShopCatalog();
  MatchResult m = PlanViews(
      cat, {{0,
             "SELECT date_trunc('month', sold_at) AS month, min(amount), max(amount) FROM sales "
             "WHERE status = 'paid' GROUP BY 1",
             1}});
  ASSERT_EQ(m.plans.size(), 1u) << (m.refused.empty() ? "" : m.refused[0]);
  const std::string sql = m.plans[0].def.Sql();
  EXPECT_NE(sql.find("date_trunc('month', t1.sold_at) AS sold_at_month"), std::string::npos) << sql;
  EXPECT_NE(sql.find("GROUP BY date_trunc('month', t1.sold_at)"), std::string::npos) << sql;
  EXPECT_NE(sql.find("min(t1.amount) AS min_amount"), std::string::npos) << sql;
}

// The shop with its keys: sales.customer_id and sales.product_id are NOT
// NULL foreign keys to customers(id) and products(id).
Catalog KeyedShopCatalog(bool product_fk_not_null = true, bool product_fk = true) {
  Catalog base = ShopCatalog();
  Catalog cat;
  for (const char* name : {"sales", "customers", "products"}) {
    TableInfo t = *base.FindTable("public", name);
    if (t.name == "sales") {
      for (auto& c : t.columns)
        if (c.name == "customer_id" || (c.name == "product_id" && product_fk_not_null))
          c.not_null = true;
      auto fk = [](const std::string& col, const std::string& ref) {
        ConstraintInfo c;
        c.name = "sales_" + col + "_fkey";
        c.type = 'f';
        c.columns = {col};
        c.referenced_table = ref;
        c.referenced_columns = {"id"};
        return c;
      };
      t.constraints.push_back(fk("customer_id", "public.customers"));
      if (product_fk) t.constraints.push_back(fk("product_id", "public.products"));
    }
    cat.AddTable(t);
  }
  cat.set_search_path({"public"});
  return cat;
}

const char* kPaidByRegionNoProducts =
    "SELECT c.region, sum(s.amount) AS revenue FROM sales s JOIN customers c ON c.id = "
    "s.customer_id WHERE s.status = 'paid' GROUP BY c.region";

TEST(MatviewMatch, ExtraTableJoinedThroughAKeyServesTheNarrowerStatement) {
  // The heavier statement reads sales and customers only; the view joins
  // products too (through sales.product_id, a NOT NULL foreign key), so the
  // statement rolls the view up over category.
  Catalog cat = KeyedShopCatalog();
  MatchResult m = PlanViews(cat, {{0, kPaidByRegionNoProducts, 10}, {1, kByRegionCategory, 5}});
  ASSERT_EQ(m.plans.size(), 1u) << (m.refused.empty() ? "" : m.refused[0]);
  const ViewPlan& p = m.plans[0];
  EXPECT_EQ(p.def.tables.size(), 3u);
  EXPECT_EQ(p.served, (std::vector<int>{0, 1}));
  ViewDefinition def = p.def;
  for (auto& a : def.aggs) a.type = a.func == "sum" ? "numeric" : "bigint";
  std::string out;
  bool rollup = false;
  ASSERT_TRUE(Rewrite(cat, kPaidByRegionNoProducts, def, "v", &out, &rollup).ok());
  EXPECT_TRUE(rollup) << out;
  EXPECT_NE(out.find("GROUP BY mv.region"), std::string::npos) << out;
  // Either order of arrival gives the same view.
  MatchResult m2 = PlanViews(cat, {{0, kPaidByRegionNoProducts, 1}, {1, kByRegionCategory, 5}});
  ASSERT_EQ(m2.plans.size(), 1u);
  EXPECT_EQ(m2.plans[0].def.tables.size(), 3u);
  EXPECT_EQ(m2.plans[0].served.size(), 2u);
}

TEST(MatviewMatch, ExtraTableNeedsANotNullValidatedForeignKey) {
  // A nullable FK would drop the NULL rows from the view's join; no FK at
  // all could repeat or lose rows: each statement then gets its own view.
  for (auto [not_null, has_fk] : {std::pair{false, true}, std::pair{true, false}}) {
    Catalog cat = KeyedShopCatalog(not_null, has_fk);
    MatchResult m = PlanViews(cat, {{0, kPaidByRegionNoProducts, 10}, {1, kByRegionCategory, 5}});
    ASSERT_EQ(m.plans.size(), 2u) << not_null << has_fk;
    ViewDefinition def = m.plans[1].def;  // the three-table view
    ASSERT_EQ(def.tables.size(), 3u);
    for (auto& a : def.aggs) a.type = a.func == "sum" ? "numeric" : "bigint";
    std::string out;
    Status st = Rewrite(cat, kPaidByRegionNoProducts, def, "v", &out);
    EXPECT_FALSE(st.ok()) << out;
    EXPECT_NE(st.message().find(not_null ? "foreign key" : "NULL"), std::string::npos)
        << st.message();
  }
  // The statement may not read a table the view lacks.
  Catalog cat = KeyedShopCatalog();
  MatchResult m = PlanViews(cat, {{0, kPaidByRegionNoProducts, 1}});
  ASSERT_EQ(m.plans.size(), 1u);
  std::string out;
  EXPECT_FALSE(Rewrite(cat, kByRegionCategory, m.plans[0].def, "v", &out).ok());
}

TEST(MatviewMatch, GrandTotalIsServedByAGroupedView) {
  Catalog cat = ShopCatalog();
  const char* total =
      "SELECT sum(s.amount) AS revenue, count(*) AS n FROM sales s JOIN customers c ON c.id = "
      "s.customer_id JOIN products p ON p.id = s.product_id WHERE s.status = 'paid'";
  MatchResult m = PlanViews(cat, {{0, kByRegionCategory, 10}, {1, total, 5}});
  ASSERT_EQ(m.plans.size(), 1u) << (m.refused.empty() ? "" : m.refused[0]);
  EXPECT_EQ(m.plans[0].served.size(), 2u);
  ViewDefinition def = m.plans[0].def;
  for (auto& a : def.aggs) a.type = a.func == "sum" ? "numeric" : "bigint";
  std::string out;
  bool rollup = false;
  ASSERT_TRUE(Rewrite(cat, total, def, "v", &out, &rollup).ok());
  EXPECT_TRUE(rollup);
  // No GROUP BY: one row even when the view is empty, as the statement.
  EXPECT_EQ(out.find("GROUP BY"), std::string::npos) << out;
  EXPECT_NE(out.find("COALESCE(sum(mv.row_count), 0)::bigint AS n"), std::string::npos) << out;
}

TEST(MatviewMatch, GrandTotalsAloneGetAOneRowView) {
  Catalog cat = ShopCatalog();
  const char* total = "SELECT sum(amount), count(*) FROM sales WHERE status = 'paid'";
  MatchResult m = PlanViews(cat, {{0, total, 1}});
  ASSERT_EQ(m.plans.size(), 1u) << (m.refused.empty() ? "" : m.refused[0]);
  const ViewDefinition& def = m.plans[0].def;
  EXPECT_EQ(def.KeyNames(), (std::vector<std::string>{"pgvise_total"}));
  const std::string sql = def.Sql();
  EXPECT_NE(sql.find("SELECT 1 AS pgvise_total, sum(t1.amount)"), std::string::npos) << sql;
  EXPECT_EQ(sql.find("GROUP BY"), std::string::npos) << sql;
  std::string out;
  bool rollup = true;
  ASSERT_TRUE(Rewrite(cat, total, def, "v", &out, &rollup).ok());
  EXPECT_FALSE(rollup) << out;  // the view's one row is the answer
  // Outputs keep the names PostgreSQL gave them (sum, count).
  EXPECT_EQ(out, "SELECT mv.sum_amount AS sum, mv.row_count AS count FROM v mv");
}

TEST(MatviewMatch, HavingIsAppliedToTheViewsAggregates) {
  Catalog cat = ShopCatalog();
  const char* having = "SELECT status, count(*) FROM sales GROUP BY status HAVING count(*) > 3";
  // Same grouping: each view row is one group, so HAVING becomes WHERE.
  MatchResult m = PlanViews(cat, {{0, having, 1}});
  ASSERT_EQ(m.plans.size(), 1u) << (m.refused.empty() ? "" : m.refused[0]);
  std::string out;
  ASSERT_TRUE(Rewrite(cat, having, m.plans[0].def, "v", &out).ok());
  EXPECT_EQ(out,
            "SELECT mv.status AS status, mv.row_count AS count FROM v mv WHERE mv.row_count > 3");
  // Over a finer view: HAVING on the re-aggregated count.
  m = PlanViews(cat, {{0,
                       "SELECT status, sold_at, sum(amount), count(*) FROM sales GROUP BY status, "
                       "sold_at",
                       5},
                      {1, having, 1}});
  ASSERT_EQ(m.plans.size(), 1u);
  ASSERT_EQ(m.plans[0].served.size(), 2u);
  ViewDefinition def = m.plans[0].def;
  for (auto& a : def.aggs) a.type = a.func == "sum" ? "numeric" : "bigint";
  ASSERT_TRUE(Rewrite(cat, having, def, "v", &out).ok());
  EXPECT_NE(out.find("GROUP BY mv.status HAVING COALESCE(sum(mv.row_count), 0)::bigint > 3"),
            std::string::npos)
      << out;
}

TEST(MatviewMatch, RewriteKeepsLimitAndOffset) {
  Catalog cat = ShopCatalog();
  const char* page =
      "SELECT status, sold_at, count(*) FROM sales GROUP BY status, sold_at ORDER BY status, "
      "sold_at LIMIT 20 OFFSET 40";
  MatchResult m = PlanViews(cat, {{0, page, 1}});
  ASSERT_EQ(m.plans.size(), 1u) << (m.refused.empty() ? "" : m.refused[0]);
  std::string out;
  ASSERT_TRUE(Rewrite(cat, page, m.plans[0].def, "v", &out).ok());
  EXPECT_NE(out.find("ORDER BY status, sold_at LIMIT 20 OFFSET 40"), std::string::npos) << out;
  // Without ORDER BY, which rows OFFSET skips is not defined: refused.
  m = PlanViews(cat, {{0, "SELECT status, count(*) FROM sales GROUP BY status OFFSET 2", 1}});
  EXPECT_TRUE(m.plans.empty());
  ASSERT_EQ(m.refused.size(), 1u);
  EXPECT_NE(m.refused[0].find("OFFSET"), std::string::npos) << m.refused[0];
}

}  // namespace
}  // namespace pgvise::mv
