// Unit tests of topn-lateral-window (rewriter/pass_topn.cc) on a catalog
// written here (no server, so no cost gate: the pass applies unchecked): the
// forms it writes in both directions, and every refusal with its reason. The
// differential tests on a real server are in topn_pg_test.cc.
#include <gtest/gtest.h>

#include "rewriter/rewriter.h"

namespace pgvise {
namespace {

class FakeCatalog : public RewriteCatalog {
 public:
  FakeCatalog() {
    auto& g = tables_["g"];
    g.types = {{"id", "integer"}, {"name", "text"}, {"code", "text"}};
    g.not_null = {{"id", false}, {"name", false}, {"code", false}};
    auto& i = tables_["i"];
    i.types = {{"id", "integer"},
               {"k", "bigint"},
               {"o1", "integer"},
               {"n", "numeric"},
               {"ts", "timestamp without time zone"},
               {"tk", "text"},
               {"u", "integer"}};
    i.not_null = {{"id", true},  {"k", false},  {"o1", false}, {"n", false},
                  {"ts", false}, {"tk", false}, {"u", false},  {"u2", true}};
    i.unique_keys = {{"id"}, {"k", "u"}, {"k", "u2"}};
    i.primary_key = {"id"};
  }
  const Table* FindTable(const std::string&, const std::string& name) const override {
    auto it = tables_.find(name);
    return it == tables_.end() ? nullptr : &it->second;
  }
  Function FindFunction(const std::string&) const override { return {}; }
  std::map<std::string, Table> tables_;
};

const PassOutcome* TopN(const RewriteResult& r) {
  for (const auto& o : r.outcomes)
    if (o.pass == "topn-lateral-window") return &o;
  return nullptr;
}

RewriteResult Rewrite(const std::string& sql, const RewriteCatalog* cat) {
  RewriteOptions o;
  o.catalog = cat;
  o.pretty = false;
  RewriteResult r;
  EXPECT_TRUE(RewriteSql(sql, o, &r).ok());
  return r;
}

bool Has(const std::string& s, const std::string& needle) {
  return s.find(needle) != std::string::npos;
}

TEST(TopNLateralWindow, LateralBecomesRowNumberWithTheConditionInOn) {
  FakeCatalog cat;
  auto r = Rewrite(
      "SELECT g.id, t.id FROM g LEFT JOIN LATERAL (SELECT i.id FROM i WHERE i.k = g.id AND "
      "i.o1 > 0 ORDER BY i.o1 DESC NULLS LAST, i.id LIMIT 3) t ON true",
      &cat);
  ASSERT_TRUE(r.changed) << TopN(r)->reason;
  EXPECT_EQ(r.sql,
            "SELECT g.id, t.id FROM g LEFT JOIN (SELECT i.id, i.k AS pgv_tk1, row_number() OVER "
            "(PARTITION BY i.k ORDER BY i.o1 DESC NULLS LAST, i.id) AS pgv_rn1 FROM i WHERE i.o1 "
            "> 0) t ON t.pgv_tk1 = g.id AND t.pgv_rn1 <= 3");
  EXPECT_TRUE(Has(TopN(r)->reason, "unique key (id)"));
  EXPECT_TRUE(Has(TopN(r)->reason, "in WHERE would drop outer rows"));
  // The comma form is an inner join: the conditions go to WHERE.
  auto c = Rewrite(
      "SELECT g.id, t.o1 FROM g, LATERAL (SELECT i.o1 FROM i WHERE g.id = i.k ORDER BY i.o1 "
      "LIMIT 1) t WHERE g.name = 'x'",
      &cat);
  ASSERT_TRUE(c.changed);
  EXPECT_TRUE(Has(c.sql, "WHERE t.pgv_tk1 = g.id AND t.pgv_rn1 <= 1 AND g.name = 'x'")) << c.sql;
  EXPECT_TRUE(Has(TopN(c)->reason, "tied rows are identical")) << TopN(c)->reason;
}

TEST(TopNLateralWindow, RowNumberBecomesLateral) {
  FakeCatalog cat;
  auto r = Rewrite(
      "SELECT g.id, t.id FROM g JOIN (SELECT i.id, i.k, row_number() OVER (PARTITION BY i.k "
      "ORDER BY i.u2) AS rn FROM i WHERE i.o1 > 0) t ON g.id = t.k AND t.rn < 3",
      &cat);
  ASSERT_TRUE(r.changed) << TopN(r)->reason;
  EXPECT_EQ(r.sql,
            "SELECT g.id, t.id FROM g JOIN LATERAL (SELECT i.id, i.k FROM i WHERE i.o1 > 0 AND "
            "i.k = g.id ORDER BY i.u2 LIMIT 2) t ON true");
  // (k, u2) is unique and u2 NOT NULL: with the partition column k, ORDER BY u2 is total.
  EXPECT_TRUE(Has(TopN(r)->reason, "unique key (k, u2)")) << TopN(r)->reason;
}

TEST(TopNLateralWindow, RefusalsSayWhy) {
  FakeCatalog cat;
  const std::string lat = "SELECT g.id, t.id FROM g LEFT JOIN LATERAL (SELECT i.id FROM i ";
  const std::string win = "SELECT g.id, t.id FROM g LEFT JOIN (SELECT i.id, i.k, ";
  struct R {
    std::string sql, why;
  };
  const std::vector<R> cases = {
      {lat + "WHERE i.k = g.id ORDER BY i.o1 LIMIT 2) t ON true", "ties in ORDER BY"},
      // u is nullable: (k, u) proves nothing for rows with NULL u.
      {lat + "WHERE i.k = g.id ORDER BY i.o1, i.u LIMIT 2) t ON true", "ties in ORDER BY"},
      // numeric equality is not identity: tied 1.0 and 1.00 show differently.
      {"SELECT g.id, t.n FROM g LEFT JOIN LATERAL (SELECT i.n FROM i WHERE i.k = g.id ORDER BY "
       "i.n LIMIT 2) t ON true",
       "ties in ORDER BY"},
      {lat + "WHERE i.k = g.id ORDER BY i.id LIMIT $1) t ON true", "LIMIT $n"},
      // ORDER BY 1 is the first output column here, a constant in a window.
      {lat + "WHERE i.k = g.id ORDER BY 1, i.id LIMIT 2) t ON true", "by position"},
      {"WITH i AS (SELECT 1 AS id, 1 AS k) " + lat.substr(0) +
           "WHERE i.k = g.id ORDER BY i.id LIMIT 2) t ON true",
       "CTE i"},
      {lat + "WHERE i.k = g.id ORDER BY i.id OFFSET 1 LIMIT 2) t ON true", "OFFSET"},
      {lat + "WHERE i.k = g.id ORDER BY i.id FETCH FIRST 2 ROWS WITH TIES) t ON true", "WITH TIES"},
      {lat + "WHERE i.k = g.id LIMIT 2) t ON true", "without ORDER BY"},
      {lat + "WHERE i.k = g.id AND i.u = g.id ORDER BY i.id LIMIT 2) t ON true",
       "more than one correlation"},
      {lat + "WHERE i.k > g.id ORDER BY i.id LIMIT 2) t ON true", "no correlation equality"},
      {lat + "WHERE i.tk = g.code ORDER BY i.id LIMIT 2) t ON true", ""},  // same type: applies
      {lat + "WHERE i.tk = g.id::text ORDER BY i.id LIMIT 2) t ON true", "no correlation"},
      {lat + "WHERE i.ts = g.id ORDER BY i.id LIMIT 2) t ON true", "cross-type"},
      {lat + "WHERE i.k = g.id ORDER BY o1, i.id LIMIT 2) t ON true", "not written table.column"},
      {lat + "WHERE i.k = g.id ORDER BY i.id LIMIT 2) t ON t.id > 3", "other than ON true"},
      {"SELECT g.id, t.id FROM g RIGHT JOIN LATERAL (SELECT i.id FROM i WHERE i.k = g.id ORDER "
       "BY i.id LIMIT 2) t ON true",
       "RIGHT or FULL"},
      {"SELECT g.id, t.id FROM g LEFT JOIN LATERAL (SELECT i.id, random() AS r FROM i WHERE i.k "
       "= g.id ORDER BY i.id LIMIT 2) t ON true",
       "volatile"},
      {"SELECT g.id, t.id FROM g LEFT JOIN LATERAL (SELECT i.id FROM i, g AS g2 WHERE i.k = g.id "
       "ORDER BY i.id LIMIT 2) t ON true",
       "exactly one table"},
      {"SELECT t.* FROM g LEFT JOIN LATERAL (SELECT i.id FROM i WHERE i.k = g.id ORDER BY i.id "
       "LIMIT 2) t ON true",
       "`*`"},
      {"SELECT g.id, row_to_json(t) FROM g LEFT JOIN LATERAL (SELECT i.id FROM i WHERE i.k = "
       "g.id ORDER BY i.id LIMIT 2) t ON true",
       "whole-row"},
      {"SELECT g.id, t.id FROM unknown_t g LEFT JOIN LATERAL (SELECT i.id FROM i WHERE i.k = "
       "g.id ORDER BY i.id LIMIT 2) t ON true",
       "unknown"},
      {win + "row_number() OVER (PARTITION BY i.k ORDER BY i.o1) AS rn FROM i) t ON t.k = g.id "
             "AND t.rn <= 2",
       "ties in ORDER BY"},
      {win + "row_number() OVER w AS rn FROM i WINDOW w AS (PARTITION BY i.k ORDER BY i.id)) t "
             "ON t.k = g.id AND t.rn <= 2",
       "named window"},
      {win + "row_number() OVER (PARTITION BY i.k, i.o1 ORDER BY i.id) AS rn FROM i) t ON t.k = "
             "g.id AND t.rn <= 2",
       "not one column"},
      {win + "row_number() OVER (PARTITION BY i.k ORDER BY i.id) AS rn FROM i) t ON t.k = g.id "
             "AND t.rn <= $1",
       "not exactly"},
      {win + "row_number() OVER (PARTITION BY i.k ORDER BY i.id) AS rn FROM i) t ON t.k = g.id "
             "AND t.rn = 1 AND t.id > 0",
       "not rn <= n"},
      {win + "row_number() OVER (PARTITION BY i.k ORDER BY i.id) AS rn FROM i) t ON t.k = g.id "
             "AND t.rn <= 2 AND t.id > 0",
       "not exactly"},
      {win + "row_number() OVER (PARTITION BY i.k ORDER BY i.id) AS rn FROM i) t ON t.k = g.id "
             "AND t.rn <= 2 WHERE t.rn IS NOT NULL",
       "outside the join condition"},
      {win + "row_number() OVER (PARTITION BY i.k ORDER BY i.id) AS rn, rank() OVER (ORDER BY "
             "i.id) AS rk FROM i) t ON t.k = g.id AND t.rn <= 2",
       "window function other than"},
      {"SELECT g.id, t.id FROM g LEFT JOIN (SELECT i.id, row_number() OVER (PARTITION BY i.k "
       "ORDER BY i.id) AS rn FROM i) t ON t.id = g.id AND t.rn <= 2",
       "partition column is not selected"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.sql);
    auto r = Rewrite(c.sql, &cat);
    const PassOutcome* o = TopN(r);
    ASSERT_NE(o, nullptr);
    if (c.why.empty()) {
      EXPECT_TRUE(o->applied) << o->reason;
      continue;
    }
    EXPECT_FALSE(o->applied);
    EXPECT_FALSE(r.changed) << r.sql;
    EXPECT_TRUE(Has(o->reason, c.why)) << o->reason;
  }
  // Without a catalog: nothing proven, no costs to choose by.
  auto n = Rewrite(lat + "WHERE i.k = g.id ORDER BY i.id LIMIT 2) t ON true", nullptr);
  EXPECT_FALSE(n.changed);
  EXPECT_TRUE(Has(TopN(n)->reason, "needs --db"));
}

}  // namespace
}  // namespace pgvise
