// ResolveColumns: unqualified columns get their relation from the catalog,
// and only when exactly one relation of the level can own them.
#include <gtest/gtest.h>

#include "analyzer/sql/query_facts.h"
#include "catalog/catalog.h"

namespace pgvise {
namespace {

Catalog ShopCatalog() {
  Catalog c;
  auto table = [&](const char* name, std::vector<const char*> cols) {
    TableInfo t;
    t.schema = "shop";
    t.name = name;
    for (const char* col : cols) {
      ColumnInfo ci;
      ci.name = col;
      t.columns.push_back(ci);
    }
    c.AddTable(t);
  };
  table("orders", {"id", "user_id", "status", "total_cents", "created_at"});
  table("users", {"id", "email", "country", "created_at"});
  table("order_items", {"order_id", "product_id", "quantity"});
  c.set_search_path({"shop", "public"});
  return c;
}

QueryFacts Facts(const std::string& sql) {
  SqlFile f;
  EXPECT_TRUE(ParseSqlFile(SourceText("t.sql", sql), &f).ok());
  EXPECT_EQ(f.statements.size(), 1u);
  QueryFacts q;
  EXPECT_TRUE(ExtractFacts(f.statements[0], &q).ok());
  return q;
}

const Predicate* Pred(const std::vector<Predicate>& ps, const std::string& column) {
  for (const Predicate& p : ps)
    if (p.column == column) return &p;
  return nullptr;
}

TEST(ResolveColumns, UnqualifiedColumnsGoToTheOneRelationThatHasThem) {
  QueryFacts q = Facts(
      "SELECT o.id, email FROM orders o JOIN users u ON u.id = o.user_id "
      "WHERE status = 'open' AND country = 'DE' ORDER BY total_cents DESC");
  ASSERT_NE(Pred(q.predicates, "status"), nullptr);
  EXPECT_EQ(Pred(q.predicates, "status")->relation, "");  // the parse tree alone cannot tell
  const int n = ResolveColumns(ShopCatalog(), &q);
  EXPECT_GE(n, 4);
  EXPECT_EQ(Pred(q.predicates, "status")->relation, "o");
  EXPECT_EQ(Pred(q.predicates, "status")->table, "orders");
  EXPECT_EQ(Pred(q.predicates, "country")->relation, "u");
  ASSERT_EQ(q.order_by.size(), 1u);
  EXPECT_EQ(q.order_by[0].relation, "o");
  EXPECT_TRUE(q.read_columns["u"].count("email"));
  EXPECT_TRUE(q.read_columns["o"].count("status"));
  EXPECT_EQ(q.read_columns.count(""), 0u);
}

TEST(ResolveColumns, AmbiguousOrUnknownColumnsStayUnresolved) {
  QueryFacts q = Facts(
      "SELECT 1 FROM orders o JOIN users u ON u.id = o.user_id "
      "WHERE created_at > now() - interval '1 day' AND nickname = 'x'");
  ResolveColumns(ShopCatalog(), &q);
  ASSERT_NE(Pred(q.predicates, "created_at"), nullptr);
  EXPECT_EQ(Pred(q.predicates, "created_at")->relation, "");  // both tables have it
  ASSERT_NE(Pred(q.predicates, "nickname"), nullptr);
  EXPECT_EQ(Pred(q.predicates, "nickname")->relation, "");  // neither has it
}

TEST(ResolveColumns, ALevelWithARelationTheCatalogDoesNotKnowResolvesNothing) {
  QueryFacts q = Facts(
      "WITH recent AS (SELECT user_id FROM orders) "
      "SELECT 1 FROM users u JOIN recent r ON r.user_id = u.id WHERE country = 'DE'");
  EXPECT_EQ(ResolveColumns(ShopCatalog(), &q), 0);
  ASSERT_NE(Pred(q.predicates, "country"), nullptr);
  EXPECT_EQ(Pred(q.predicates, "country")->relation, "");  // `recent` might have a country
}

TEST(ResolveColumns, SubqueryColumnsResolveInsideTheSubqueryOnly) {
  QueryFacts q = Facts(
      "SELECT u.id FROM users u, orders o WHERE o.user_id = u.id AND EXISTS ("
      "SELECT 1 FROM order_items i, orders o2 WHERE i.order_id = o2.id AND quantity > 3 "
      "AND product_id = 7)");
  ResolveColumns(ShopCatalog(), &q);
  ASSERT_FALSE(q.subqueries.empty());
  const auto& sub = q.subqueries[0].predicates;
  ASSERT_NE(Pred(sub, "quantity"), nullptr);
  EXPECT_EQ(Pred(sub, "quantity")->relation, "i");
  EXPECT_EQ(Pred(sub, "product_id")->relation, "i");
}

}  // namespace
}  // namespace pgvise
