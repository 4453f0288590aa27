// The extended-statistics advisor against a real PostgreSQL 15 with
// generated data whose dependencies are known by construction:
//   addr:  zip is one of 1,000 values and determines city (100 values):
//          `city = .. AND zip = ..` is underestimated ~100x;
//   indep: a and b drawn independently (random() with a fixed seed):
//          the planner's product is right, nothing to recommend;
//   sales: region (20) and country (200) where country determines region:
//          GROUP BY region, country is overestimated 20x (ndistinct);
//   covered: the same dependency as addr, with a statistics object already;
//   parcel:  addr's city/zip plus kind (5 values) drawn independently: the
//            misestimate of all three is attributed to the city/zip pair;
//   indep3:  three independent columns: nothing to attribute.
#include "advisor/ext_statistics.h"

#include <gtest/gtest.h>

#include "advisor/report.h"
#include "catalog/ext_stats.h"
#include "tests/support/pg_test.h"

namespace pgvise {
namespace {

class ExtStatisticsPg : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    uri_ = new std::string(testing::FreshDatabase("ext_statistics_test"));
    testing::Exec(*uri_, R"sql(
      SELECT setseed(0.42);
      CREATE TABLE addr (id bigint PRIMARY KEY, city text NOT NULL, zip text NOT NULL, pad text);
      INSERT INTO addr SELECT g, 'c' || ((g * 7919 % 1000) % 100), 'z' || (g * 7919 % 1000), repeat('x', 40)
        FROM generate_series(1, 200000) g;
      CREATE TABLE indep (id bigint PRIMARY KEY, a int NOT NULL, b int NOT NULL, pad text);
      INSERT INTO indep SELECT g, floor(random() * 20)::int, floor(random() * 50)::int, repeat('y', 40)
        FROM generate_series(1, 200000) g;
      CREATE TABLE sales (id bigint PRIMARY KEY, region int NOT NULL, country int NOT NULL, amount numeric NOT NULL);
      INSERT INTO sales SELECT g, (g * 7919 % 200) % 20, g * 7919 % 200, g % 1000
        FROM generate_series(1, 200000) g;
      CREATE TABLE covered (id bigint PRIMARY KEY, city text NOT NULL, zip text NOT NULL);
      INSERT INTO covered SELECT g, 'c' || ((g * 7919 % 1000) % 100), 'z' || (g * 7919 % 1000)
        FROM generate_series(1, 200000) g;
      CREATE STATISTICS covered_dep (dependencies) ON city, zip FROM covered;
      CREATE TABLE parcel (id bigint PRIMARY KEY, city text NOT NULL, zip text NOT NULL, kind int NOT NULL);
      INSERT INTO parcel SELECT g, 'c' || ((g * 7919 % 1000) % 100), 'z' || (g * 7919 % 1000), floor(random() * 5)::int
        FROM generate_series(1, 200000) g;
      CREATE TABLE indep3 (id bigint PRIMARY KEY, a int NOT NULL, b int NOT NULL, c int NOT NULL);
      INSERT INTO indep3 SELECT g, floor(random() * 20)::int, floor(random() * 50)::int, floor(random() * 5)::int
        FROM generate_series(1, 200000) g;
      CREATE TABLE tiny (id bigint PRIMARY KEY, city text NOT NULL, zip text NOT NULL);
      INSERT INTO tiny SELECT g, 'c' || (g % 10), 'z' || g FROM generate_series(1, 500) g;
    )sql");
    auto admin = testing::AdminSession(*uri_);
    ASSERT_TRUE(admin->Exec("VACUUM ANALYZE").ok());
  }
  static void TearDownTestSuite() { delete uri_; }

  static std::unique_ptr<Session> Connect(bool read_only = true) {
    SessionOptions o;
    o.conninfo = *uri_;
    o.read_only = read_only;
    o.statement_timeout_ms = 60000;
    std::unique_ptr<Session> s;
    Status st = Session::Connect(o, &s);
    EXPECT_TRUE(st.ok()) << st.message();
    return s;
  }

  static AdviseReport Advise(Session& s, const std::string& sql, AdviseOptions opts = {}) {
    Catalog cat;
    Status st = Catalog::Load(s, {}, &cat);
    EXPECT_TRUE(st.ok()) << st.message();
    Workload w;
    st = AddSqlText("workload.sql", sql, &w);
    EXPECT_TRUE(st.ok()) << st.message();
    AdviseReport rep;
    AdviseStatistics(s, cat, w, opts, &rep);
    return rep;
  }

  static double Num(const Recommendation& r, const std::string& key) {
    for (const auto& e : r.evidence)
      if (e.key == key) {
        if (const double* d = std::get_if<double>(&e.value)) return *d;
        if (const int64_t* i = std::get_if<int64_t>(&e.value)) return static_cast<double>(*i);
      }
    ADD_FAILURE() << "no numeric evidence " << key;
    return -1;
  }

  static int StatisticsObjects() {
    auto s = Connect();
    Rows r;
    EXPECT_TRUE(s->Query("SELECT count(*) FROM pg_statistic_ext", &r).ok());
    return static_cast<int>(r.Int(0, 0));
  }

  static std::string* uri_;
};
std::string* ExtStatisticsPg::uri_ = nullptr;

TEST_F(ExtStatisticsPg, CorrelatedColumnsGetStatisticsThatLowerTheQError) {
  auto s = Connect();
  AdviseOptions opts;
  AdviseReport rep = Advise(*s, "SELECT id FROM addr WHERE city = 'c7' AND zip = 'z7';", opts);
  ASSERT_EQ(rep.statistics.size(), 1u);
  const Recommendation& r = rep.statistics[0];
  EXPECT_EQ(r.kind, RecommendationKind::kStatistics);
  EXPECT_EQ(r.object, "public.addr");
  // 1,000 zip/city combinations do not fit one MCV list: dependencies only.
  EXPECT_EQ(r.sql,
            "CREATE STATISTICS public.addr_city_zip_stats (dependencies) ON city, zip FROM "
            "public.addr;\nANALYZE public.addr");
  EXPECT_EQ(r.revert, "DROP STATISTICS IF EXISTS public.addr_city_zip_stats;");
  // The planner: 1% x 0.1% x 200,000 = 2 rows; the data: 200 (zip determines city).
  const double before = Num(r, "q_error_before");
  EXPECT_GT(before, 30);
  EXPECT_GT(Num(r, "dependence"), 30);
  EXPECT_NEAR(Num(r, "estimated_rows"), 2, 1);

  // The JSON contract: kind, object, sql, evidence.columns as an array.
  nlohmann::ordered_json j = AdviceToJson(rep);
  const auto& rec = j["recommendations"][0];
  EXPECT_EQ(rec["kind"], "statistics");
  EXPECT_EQ(rec["object"], "public.addr");
  EXPECT_EQ(rec["evidence"]["columns"], nlohmann::ordered_json::array({"city", "zip"}));
  EXPECT_TRUE(rec["evidence"]["q_error_before"].is_number());

  // --verify: create, ANALYZE, re-estimate; the q-error falls; rolled back.
  auto w = Connect(false);
  Status st = VerifyStatistics(*w, opts, &rep);
  ASSERT_TRUE(st.ok()) << st.message();
  const double after = Num(rep.statistics[0], "q_error_after");
  EXPECT_LT(after, 2.0) << rep.statistics[0].reason;
  EXPECT_LT(after, before);
  EXPECT_EQ(Num(rep.statistics[0], "plans_checked"), 1);
  EXPECT_EQ(rep.statistics[0].confidence, Confidence::kMeasured);
  EXPECT_EQ(StatisticsObjects(), 1);  // only `covered_dep`: the database is as it was
  j = AdviceToJson(rep);
  EXPECT_TRUE(j["recommendations"][0]["evidence"]["q_error_after"].is_number());
}

TEST_F(ExtStatisticsPg, IndependentColumnsGetNoneAndVerboseSaysWhy) {
  auto s = Connect();
  AdviseOptions opts;
  opts.verbose = true;
  AdviseReport rep = Advise(*s, "SELECT id FROM indep WHERE a = 3 AND b = 7;", opts);
  EXPECT_TRUE(rep.statistics.empty());
  bool said = false;
  for (const auto& n : rep.notes)
    said |= n.find("public.indep (a, b): no statistics needed") == 0 ||
            n.find("statistics: public.indep (a, b): no statistics") == 0;
  EXPECT_TRUE(said) << ::testing::PrintToString(rep.notes);
}

TEST_F(ExtStatisticsPg, MisestimateIsAttributedToTheCorrelatedPair) {
  // city, zip and kind filtered together: the planner's product of three
  // fractions is ~100x under the data, and the cause is the city/zip pair
  // (zip determines city); kind is independent of both and is in no pair.
  auto s = Connect();
  AdviseReport rep =
      Advise(*s, "SELECT id FROM parcel WHERE city = 'c7' AND zip = 'z7' AND kind = 3;");
  ASSERT_EQ(rep.statistics.size(), 1u);
  const Recommendation& r = rep.statistics[0];
  EXPECT_GT(Num(r, "q_error_before"), 10);
  nlohmann::ordered_json j = AdviceToJson(rep);
  const auto& ev = j["recommendations"][0]["evidence"];
  EXPECT_EQ(ev["correlated_columns"], nlohmann::ordered_json::array({"city", "zip"})) << ev.dump();
  // The object covers the correlated pair; the filter's columns stay in the
  // evidence.
  EXPECT_EQ(ev["columns"], nlohmann::ordered_json::array({"city", "zip"})) << ev.dump();
  EXPECT_EQ(ev["filter_columns"], nlohmann::ordered_json::array({"city", "zip", "kind"}))
      << ev.dump();
  EXPECT_EQ(r.sql,
            "CREATE STATISTICS public.parcel_city_zip_stats (dependencies) ON city, zip FROM "
            "public.parcel;\nANALYZE public.parcel");
  ASSERT_EQ(ev["correlated_pairs"].size(), 1u) << ev.dump();
  EXPECT_EQ(ev["correlated_pairs"][0].get<std::string>().rfind("city, zip: ", 0), 0u) << ev.dump();
  EXPECT_EQ(ev["misestimate"], "under") << ev.dump();
  EXPECT_NE(r.reason.find("correlated column pair: city, zip"), std::string::npos) << r.reason;
  // --verify: the pair's statistics alone bring the three-column estimate
  // right (kind's own selectivity multiplies in, as it should).
  const double before = Num(r, "q_error_before");
  auto w = Connect(false);
  Status st = VerifyStatistics(*w, {}, &rep);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_LT(Num(rep.statistics[0], "q_error_after"), 2.0) << rep.statistics[0].reason;
  EXPECT_LT(Num(rep.statistics[0], "q_error_after"), before);

  // Control: three independent columns: no recommendation, so nothing is
  // attributed, and -v says the estimate is fine.
  AdviseOptions opts;
  opts.verbose = true;
  AdviseReport none = Advise(*s, "SELECT id FROM indep3 WHERE a = 3 AND b = 7 AND c = 1;", opts);
  EXPECT_TRUE(none.statistics.empty());
  bool said = false;
  for (const auto& n : none.notes)
    said |= n.find("public.indep3 (a, b, c): no statistics") != std::string::npos;
  EXPECT_TRUE(said) << ::testing::PrintToString(none.notes);
}

TEST_F(ExtStatisticsPg, ParametersAreProbedWithRepresentativeValues) {
  auto s = Connect();
  AdviseReport rep = Advise(*s, "SELECT id FROM addr WHERE city = $1 AND zip = $2;");
  ASSERT_EQ(rep.statistics.size(), 1u);
  bool probe = false;
  for (const auto& e : rep.statistics[0].evidence)
    if (e.key == "probe")
      probe = std::get<std::string>(e.value).find("city = '") != std::string::npos;
  EXPECT_TRUE(probe);
}

TEST_F(ExtStatisticsPg, GroupByOfDependentColumnsGetsNdistinct) {
  auto s = Connect();
  AdviseOptions opts;
  AdviseReport rep =
      Advise(*s, "SELECT region, country, sum(amount) FROM sales GROUP BY region, country;", opts);
  ASSERT_EQ(rep.statistics.size(), 1u);
  const Recommendation& r = rep.statistics[0];
  EXPECT_NE(r.sql.find("(ndistinct) ON region, country FROM public.sales"), std::string::npos)
      << r.sql;
  // 20 x 200 = 4,000 groups planned; 200 exist.
  EXPECT_NEAR(Num(r, "estimated_groups"), 4000, 100);
  EXPECT_NEAR(Num(r, "sampled_groups"), 200, 20);
  auto w = Connect(false);
  ASSERT_TRUE(VerifyStatistics(*w, opts, &rep).ok());
  EXPECT_LT(Num(rep.statistics[0], "q_error_after"), 1.5);
  // The aggregate's plan is costed for 200 groups instead of 4,000.
  ASSERT_EQ(rep.statistics[0].benefit.size(), 1u);
  EXPECT_LT(rep.statistics[0].benefit[0].cost_after, rep.statistics[0].benefit[0].cost_before);
}

TEST_F(ExtStatisticsPg, GroupsCoveredByAnExistingObjectOrOnTinyTablesAreSkipped) {
  auto s = Connect();
  AdviseOptions opts;
  opts.verbose = true;
  AdviseReport rep = Advise(*s,
                            "SELECT id FROM covered WHERE city = 'c7' AND zip = 'z7';\n"
                            "SELECT id FROM tiny WHERE city = 'c7' AND zip = 'z7';",
                            opts);
  EXPECT_TRUE(rep.statistics.empty());
  bool covered = false, tiny = false;
  for (const auto& n : rep.notes) {
    covered |= n.find("covered by statistics object public.covered_dep") != std::string::npos;
    tiny |= n.find("public.tiny (city, zip): table has fewer than") != std::string::npos;
  }
  EXPECT_TRUE(covered && tiny) << ::testing::PrintToString(rep.notes);
  std::vector<ExtStatInfo> existing;
  ASSERT_TRUE(LoadExtendedStatistics(*s, &existing).ok());
  ASSERT_EQ(existing.size(), 1u);
  EXPECT_EQ(existing[0].columns, (std::vector<std::string>{"city", "zip"}));
  EXPECT_TRUE(existing[0].dependencies);
  EXPECT_FALSE(existing[0].mcv);
}

TEST_F(ExtStatisticsPg, ReportSectionAndScriptCarryTheStatement) {
  auto s = Connect();
  AdviseReport rep = Advise(*s, "SELECT id FROM addr WHERE city = 'c7' AND zip = 'z7';");
  ASSERT_EQ(rep.statistics.size(), 1u);
  AdviceRenderOptions ro;
  ro.format = "sql";
  std::string sql = RenderAdvice(rep, ro);
  EXPECT_NE(sql.find("CREATE STATISTICS public.addr_city_zip_stats (dependencies) ON city, zip "
                     "FROM public.addr;\nANALYZE public.addr;"),
            std::string::npos)
      << sql;
  EXPECT_NE(RenderRevertSql(rep, ro).find("DROP STATISTICS IF EXISTS public.addr_city_zip_stats;"),
            std::string::npos);
  ro.format = "text";
  EXPECT_NE(RenderAdvice(rep, ro).find("Extended statistics"), std::string::npos);
}

}  // namespace
}  // namespace pgvise
