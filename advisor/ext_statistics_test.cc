// The statistics advisor's database-free parts: column groups from the
// workload's facts, the q-error, PostgreSQL's Duj1 distinct estimator and the
// choice of statistics kinds.
#include "advisor/ext_statistics.h"

#include <gtest/gtest.h>

namespace pgvise {
namespace {

TableInfo Table(const std::string& name, std::vector<std::string> cols, double rows = 1e6) {
  TableInfo t;
  t.schema = "public";
  t.name = name;
  t.reltuples = rows;
  int n = 0;
  for (auto& c : cols) {
    ColumnInfo ci;
    ci.name = c;
    ci.attnum = ++n;
    ci.type = "integer";
    t.columns.push_back(ci);
  }
  return t;
}

Catalog TestCatalog() {
  Catalog cat;
  cat.AddTable(Table("addr", {"id", "city", "zip", "street"}));
  cat.AddTable(Table("orders", {"id", "addr_id", "status", "created_at"}));
  cat.set_search_path({"public"});
  return cat;
}

std::vector<ColumnGroup> Groups(const std::string& sql) {
  Workload w;
  EXPECT_TRUE(AddSqlText("w.sql", sql, &w).ok());
  Catalog cat = TestCatalog();
  return FindColumnGroups(cat, w, ParameterOptions{});
}

TEST(ExtStatistics, EqualityInAndRangeOnOneTableMakeOneGroupInAttnumOrder) {
  auto g = Groups(
      "SELECT * FROM addr WHERE zip = '69001' AND city IN ('Lyon', 'Paris') AND street > 'M';");
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0].table, "addr");
  EXPECT_EQ(g[0].columns, (std::vector<std::string>{"city", "zip", "street"}));
  EXPECT_TRUE(g[0].filter && g[0].equality && g[0].has_range);
  EXPECT_EQ(g[0].probe, "city IN ('Lyon', 'Paris') AND zip = '69001' AND street > 'M'");
  EXPECT_EQ(g[0].probe_terms.size(), 3u);
}

TEST(ExtStatistics, OrNotOneColumnAndJoinsMakeNoFilterGroup) {
  EXPECT_TRUE(Groups("SELECT * FROM addr WHERE city = 'a' OR zip = 'b';").empty());
  EXPECT_TRUE(Groups("SELECT * FROM addr WHERE city = 'a' AND NOT (zip = 'b');").empty());
  EXPECT_TRUE(Groups("SELECT * FROM addr WHERE city = 'a';").empty());
  // One column per table: no group on either.
  EXPECT_TRUE(
      Groups("SELECT * FROM addr a JOIN orders o ON o.addr_id = a.id WHERE a.city = 'x' AND "
             "o.status = 'open';")
          .empty());
}

TEST(ExtStatistics, GroupsOfSeveralStatementsAddUpAndTheHeaviestProbes) {
  auto g = Groups(
      "-- pgvise: calls=5\nSELECT * FROM addr WHERE city = 'a' AND zip = '1';\n"
      "-- pgvise: calls=50\nSELECT id FROM addr WHERE zip = '2' AND city = 'b';\n");
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0].calls, 55);
  EXPECT_EQ(g[0].statements.size(), 2u);
  EXPECT_EQ(g[0].probe, "city = 'b' AND zip = '2'");
}

TEST(ExtStatistics, EqualityParametersTakeTheirValuesFromTheData) {
  auto g = Groups("SELECT * FROM addr WHERE city = $1 AND zip = $2;");
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0].probe, "");  // filled by AdviseStatistics from a sample
  EXPECT_EQ(g[0].probe_terms, (std::vector<std::string>{"", ""}));
}

TEST(ExtStatistics, GroupByColumnsOfOneTableMakeAnNdistinctGroup) {
  auto g = Groups("SELECT city, zip, count(*) FROM addr GROUP BY city, zip;");
  ASSERT_EQ(g.size(), 1u);
  EXPECT_TRUE(g[0].group_by);
  EXPECT_FALSE(g[0].filter);
  EXPECT_EQ(StatisticsKinds(g[0]), "ndistinct");
}

TEST(ExtStatistics, KindsFollowThePredicates) {
  ColumnGroup g;
  g.filter = true;
  g.equality = true;
  EXPECT_EQ(StatisticsKinds(g), "dependencies");
  g.mcv_fits = true;
  EXPECT_EQ(StatisticsKinds(g), "dependencies, mcv");
  g.mcv_fits = false;
  g.has_range = true;
  EXPECT_EQ(StatisticsKinds(g), "dependencies, mcv");
  g.equality = false;
  EXPECT_EQ(StatisticsKinds(g), "mcv");
  g.group_by = true;
  EXPECT_EQ(StatisticsKinds(g), "ndistinct, mcv");
}

TEST(ExtStatistics, QErrorIsSymmetricAndFlooredAtOneRow) {
  EXPECT_DOUBLE_EQ(QError(2, 200), 100);
  EXPECT_DOUBLE_EQ(QError(200, 2), 100);
  EXPECT_DOUBLE_EQ(QError(0, 0.2), 1);
  EXPECT_DOUBLE_EQ(QError(0.5, 10), 10);
}

TEST(ExtStatistics, Duj1MatchesPostgresEstimator) {
  // Every sampled value seen twice or more: the distinct count is what the sample saw.
  EXPECT_DOUBLE_EQ(Duj1Distinct(30000, 200, 0, 2e6), 200);
  // All distinct: unique column.
  EXPECT_DOUBLE_EQ(Duj1Distinct(30000, 30000, 30000, 2e6), 2e6);
  // n d / (n - f1 + f1 n / N) = 30000 * 20000 / (30000 - 10000 + 10000 * 0.015) = 29776.7
  EXPECT_NEAR(Duj1Distinct(30000, 20000, 10000, 2e6), 29776.7, 0.1);
}

}  // namespace
}  // namespace pgvise
