// Unit tests of representative parameter values (advisor/parameters.h) over
// a hand-built catalog: which values, with which weights, for which `$n`.
#include "advisor/parameters.h"

#include <gtest/gtest.h>

#include <cstdio>

namespace pgvise {
namespace {

Catalog OrdersCatalog() {
  TableInfo t;
  t.schema = "public";
  t.name = "orders";
  t.reltuples = 1e6;
  ColumnInfo status;
  status.name = "status";
  status.type = "text";
  status.type_category = 'S';
  status.n_distinct = 4;
  status.most_common_vals = {"done", "shipped", "open", "void"};
  status.most_common_freqs = {0.9, 0.08, 0.015, 0.005};
  ColumnInfo created;
  created.name = "created_at";
  created.type = "timestamp with time zone";
  created.type_category = 'D';
  created.n_distinct = -0.9;
  for (int d = 0; d <= 100; ++d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "2024-%02d-%02d", 1 + d / 28, 1 + d % 28);
    created.histogram_bounds.push_back(buf);
  }
  ColumnInfo note;
  note.name = "note";
  note.type = "text";
  t.columns = {status, created, note};
  Catalog cat;
  cat.AddTable(t);
  cat.set_search_path({"public"});
  return cat;
}

WorkloadStatement Statement(const std::string& sql) {
  Workload w;
  EXPECT_TRUE(AddSqlText("w.sql", sql, &w).ok());
  EXPECT_EQ(w.statements.size(), 1u);
  return w.statements.empty() ? WorkloadStatement{} : w.statements[0];
}

double WeightOf(const StatementParams& p, size_t param, const std::string& value) {
  double w = 0;
  for (const auto& s : p.sets)
    if (s.values[param] && *s.values[param] == value) w += s.weight;
  return w;
}

TEST(Parameters, EqualityValuesAreTheMcvsWithTheirFrequencies) {
  Catalog cat = OrdersCatalog();
  ParameterOptions o;
  o.row_weight = 1;
  StatementParams p =
      DeriveParameters(Statement("SELECT 1 FROM orders WHERE status = $1"), cat, {}, o);
  ASSERT_TRUE(p.custom()) << p.generic_reason;
  EXPECT_EQ(p.source, "pg_stats");
  // 'done', 'shipped', 'open' carry >= 1% and stand alone; 'void' is the rest.
  ASSERT_EQ(p.sets.size(), 4u);
  EXPECT_NEAR(WeightOf(p, 0, "done"), 0.9, 1e-9);
  EXPECT_NEAR(WeightOf(p, 0, "shipped"), 0.08, 1e-9);
  EXPECT_NEAR(WeightOf(p, 0, "open"), 0.015, 1e-9);
  EXPECT_NEAR(WeightOf(p, 0, "void"), 0.005, 1e-9);
}

TEST(Parameters, TheRestIsRepresentedByTheMemberNearestItsMeanShare) {
  Catalog cat = OrdersCatalog();
  ParameterOptions o;
  o.max_sets = 2;
  o.row_weight = 1;  // rest {shipped .08, open .015, void .005}: mean share .0665
  StatementParams rows =
      DeriveParameters(Statement("SELECT 1 FROM orders WHERE status = $1"), cat, {}, o);
  ASSERT_EQ(rows.sets.size(), 2u);
  EXPECT_NEAR(WeightOf(rows, 0, "done"), 0.9, 1e-9);
  EXPECT_NEAR(WeightOf(rows, 0, "shipped"), 0.1, 1e-9);
  o.row_weight = 0;  // calls even over the values: mean share of the rest .033
  StatementParams even =
      DeriveParameters(Statement("SELECT 1 FROM orders WHERE status = $1"), cat, {}, o);
  ASSERT_EQ(even.sets.size(), 2u);
  EXPECT_NEAR(WeightOf(even, 0, "open"), 0.75, 1e-9);
}

TEST(Parameters, ACtesColumnTakesItsTablesValues) {
  Catalog cat = OrdersCatalog();
  StatementParams p = DeriveParameters(
      Statement("WITH r AS (SELECT status FROM orders) SELECT count(*) FROM r WHERE status = $1"),
      cat, {}, ParameterOptions{});
  EXPECT_TRUE(p.custom()) << p.generic_reason;
  // Renamed in the CTE: not followed.
  StatementParams renamed = DeriveParameters(
      Statement("WITH r AS (SELECT status AS s FROM orders) SELECT count(*) FROM r WHERE s = $1"),
      cat, {}, ParameterOptions{});
  EXPECT_FALSE(renamed.custom());
}

TEST(Parameters, PgQualstatsConstantsReplaceTheGuess) {
  Catalog cat = OrdersCatalog();
  QualConstant a{"public", "orders", "status", "=", "'open'::text", 30, -1};
  QualConstant b{"public", "orders", "status", "=", "'void'::text", 10, -1};
  StatementParams p = DeriveParameters(Statement("SELECT 1 FROM orders WHERE status = $1"), cat,
                                       {a, b}, ParameterOptions{});
  ASSERT_TRUE(p.custom());
  EXPECT_EQ(p.source, "pg_qualstats");
  EXPECT_NEAR(WeightOf(p, 0, "open"), 0.75, 1e-9);
  EXPECT_NEAR(WeightOf(p, 0, "void"), 0.25, 1e-9);
}

TEST(Parameters, RangesAreRecentAndWindowsEndAtTheLastBound) {
  Catalog cat = OrdersCatalog();
  StatementParams p =
      DeriveParameters(Statement("SELECT 1 FROM orders WHERE created_at >= $1 AND created_at < $2"),
                       cat, {}, ParameterOptions{});
  ASSERT_TRUE(p.custom()) << p.generic_reason;
  const std::string last = "2024-04-17";  // bound 100
  for (const auto& s : p.sets) {
    ASSERT_TRUE(s.values[0] && s.values[1]);
    EXPECT_EQ(*s.values[1], last);
    EXPECT_GE(*s.values[0], std::string("2024-03-20")) << s.label;  // bound 75: newest 25% at most
    EXPECT_LT(*s.values[0], last);
  }
  // An upper bound alone is read both ways: half the sets a cleanup's
  // "older than the retention" (the oldest rows), half a stuck-job scan's
  // "older than a moment ago" (all but the newest).
  StatementParams old =
      DeriveParameters(Statement("DELETE FROM orders WHERE created_at < $1"), cat, {}, {});
  ASSERT_TRUE(old.custom());
  int oldest = 0, recent = 0;
  for (const auto& s : old.sets) {
    if (*s.values[0] < std::string("2024-02-01")) {
      ++oldest;
      EXPECT_NE(s.label.find("oldest"), std::string::npos) << s.label;
    } else {
      ++recent;
      EXPECT_GE(*s.values[0], std::string("2024-04-01")) << s.label;  // within the newest 10%
      EXPECT_NE(s.label.find("all but the newest"), std::string::npos) << s.label;
    }
  }
  EXPECT_GE(oldest, 1);
  EXPECT_EQ(oldest, recent);
}

TEST(Parameters, SetValuesAreNullLimitIsAPageAndUnknownFiltersStayGeneric) {
  Catalog cat = OrdersCatalog();
  StatementParams upd = DeriveParameters(Statement("UPDATE orders SET note = $1 WHERE status = $2"),
                                         cat, {}, ParameterOptions{});
  ASSERT_TRUE(upd.custom()) << upd.generic_reason;
  for (const auto& s : upd.sets) {
    EXPECT_FALSE(s.values[0].has_value());  // the SET value does not shape the plan
    EXPECT_TRUE(s.values[1].has_value());
  }
  StatementParams lim = DeriveParameters(
      Statement("SELECT 1 FROM orders WHERE status = $1 ORDER BY created_at LIMIT $2"), cat, {},
      ParameterOptions{});
  ASSERT_TRUE(lim.custom());
  EXPECT_EQ(*lim.sets[0].values[1], "100");
  StatementParams like = DeriveParameters(Statement("SELECT 1 FROM orders WHERE note LIKE $1"), cat,
                                          {}, ParameterOptions{});
  EXPECT_FALSE(like.custom());
  EXPECT_EQ(like.Describe().rfind("generic plan (no value for $1", 0), 0u) << like.Describe();
  StatementParams none =
      DeriveParameters(Statement("SELECT 1 FROM orders WHERE status = 'open'"), cat, {}, {});
  EXPECT_EQ(none.params, 0);
  EXPECT_EQ(none.Describe(), "plan with the statement's own values");
}

// The essay's worked example: two sets, the record alone fixes the weights.
TEST(FitWeightsToRows, TwoSetsMeetTheRecordedRowsExactly) {
  StatementParams p;
  p.source = "pg_stats";
  p.sets = {ParamSet{{"'done'"}, 0.6, "state = done"}, ParamSet{{"'queued'"}, 0.4, "queued"}};
  ASSERT_TRUE(FitWeightsToRows({920000, 10000}, 100000, &p));
  EXPECT_NEAR(p.sets[0].weight, 90000.0 / 910000.0, 1e-6);
  EXPECT_NEAR(p.sets[1].weight, 820000.0 / 910000.0, 1e-6);
  EXPECT_NE(p.Describe().find("weights fitted to 100,000 rows per call"), std::string::npos)
      << p.Describe();
  EXPECT_NE(p.fitted.find("(the derived weights implied 556,000)"), std::string::npos) << p.fitted;
}

// More sets than the one equation pins: sets of equal rows keep their ratio,
// the weights sum to 1, and the mean is the record.
TEST(FitWeightsToRows, SetsTheRecordCannotTellApartKeepTheirRatio) {
  StatementParams p;
  p.source = "pg_stats";
  const std::vector<double> rows = {50000, 50000, 500, 500};
  p.sets = {ParamSet{{}, 0.3, "a"}, ParamSet{{}, 0.1, "b"}, ParamSet{{}, 0.45, "c"},
            ParamSet{{}, 0.15, "d"}};
  ASSERT_TRUE(FitWeightsToRows(rows, 2000, &p));
  double sum = 0, mean = 0;
  for (size_t i = 0; i < rows.size(); ++i)
    sum += p.sets[i].weight, mean += p.sets[i].weight * rows[i];
  EXPECT_NEAR(sum, 1, 1e-9);
  EXPECT_NEAR(mean, 2000, 1);
  EXPECT_NEAR(p.sets[0].weight / p.sets[1].weight, 3, 1e-6);
  EXPECT_NEAR(p.sets[2].weight / p.sets[3].weight, 3, 1e-6);
}

// A record below every set's rows takes the fewest-rows end, not beyond.
TEST(FitWeightsToRows, ARecordOutsideTheSetsTakesTheNearestEnd) {
  StatementParams p;
  p.source = "pg_stats";
  p.sets = {ParamSet{{}, 0.5, "big"}, ParamSet{{}, 0.5, "small"}};
  ASSERT_TRUE(FitWeightsToRows({10000, 100}, 3, &p));
  EXPECT_LT(p.sets[0].weight, 1e-6);
  EXPECT_GT(p.sets[1].weight, 1 - 1e-6);
}

// No evidence, no change: rows that can't tell the sets apart (a count(*)),
// a LIMIT $n costed with our page, pg_qualstats' record, a record that
// agrees with the derived weights, or no record at all.
TEST(FitWeightsToRows, LeavesTheWeightsWhenTheRowsSayNothing) {
  StatementParams p;
  p.source = "pg_stats";
  p.sets = {ParamSet{{}, 0.6, "a"}, ParamSet{{}, 0.4, "b"}};
  EXPECT_FALSE(FitWeightsToRows({1, 1}, 1, &p));        // count(*): one row whatever $1
  EXPECT_FALSE(FitWeightsToRows({1000, 800}, 50, &p));  // within 1.5x
  EXPECT_FALSE(FitWeightsToRows({1000, 10}, 0, &p));    // nothing recorded
  EXPECT_FALSE(FitWeightsToRows({1000, 10}, 605, &p));  // the derived mean: 604
  StatementParams paged = p;
  paged.rows_not_matched = true;
  EXPECT_FALSE(FitWeightsToRows({1000, 10}, 50, &paged));
  StatementParams recorded = p;
  recorded.source = "pg_qualstats";
  EXPECT_FALSE(FitWeightsToRows({1000, 10}, 50, &recorded));
  EXPECT_DOUBLE_EQ(p.sets[0].weight, 0.6);
  EXPECT_TRUE(p.fitted.empty());
}

TEST(Parameters, RowsThatAreNotTheMatchedRowsAreMarked) {
  Catalog cat = OrdersCatalog();
  StatementParams lim = DeriveParameters(
      Statement("SELECT 1 FROM orders WHERE status = $1 ORDER BY created_at LIMIT $2"), cat, {},
      ParameterOptions{});
  EXPECT_TRUE(lim.rows_not_matched);
  StatementParams plain = DeriveParameters(Statement("SELECT 1 FROM orders WHERE status = $1"), cat,
                                           {}, ParameterOptions{});
  EXPECT_FALSE(plain.rows_not_matched);
  StatementParams groups = DeriveParameters(
      Statement("SELECT created_at, count(*) FROM orders WHERE status = $1 GROUP BY 1"), cat, {},
      ParameterOptions{});
  EXPECT_TRUE(groups.rows_not_matched);
}

// `-- pgvise: calls=N rows=R` carries pg_stat_statements' two counters.
TEST(Parameters, ASqlFileCarriesRowsPerCall) {
  Workload w;
  ASSERT_TRUE(
      AddSqlText("w.sql",
                 "-- pgvise: calls=300 rows=12.5\nSELECT 1 FROM orders WHERE status = $1;\n", &w)
          .ok());
  ASSERT_EQ(w.statements.size(), 1u);
  EXPECT_DOUBLE_EQ(w.statements[0].calls, 300);
  EXPECT_DOUBLE_EQ(w.statements[0].rows, 12.5);
  Workload bad;
  Status st = AddSqlText("w.sql", "-- pgvise: calls=3 rows=many\nSELECT 1;\n", &bad);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("w.sql:2:1: pgvise: rows=many is not a number"), std::string::npos)
      << st.message();
}

}  // namespace
}  // namespace pgvise
