// `pgvise explain`'s row-misestimate finding on real EXPLAIN ANALYZE plans
// of a real correlated table (zip determines city): it names the node's
// filter columns and the concrete CREATE STATISTICS, and running that
// suggestion fixes the estimate (the finding goes away). Also the same
// finding from a plan file psql's EXPLAIN wrote, and `pgvise advise`'s
// statistics recommendation end to end through the binary (JSON contract,
// --no-statistics, --verify leaving the database as it was).
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/review_cli.h"

namespace fs = std::filesystem;

namespace pgvise::testing {
namespace {

using json = nlohmann::json;

class ExtStatisticsCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    uri_ = new std::string(FreshDatabase("ext_statistics_cli"));
    dir_ = new std::string(TempDir("ext-statistics-pg"));
    Exec(*uri_, R"sql(
      CREATE TABLE addr (id bigint PRIMARY KEY, city text NOT NULL, zip text NOT NULL, pad text);
      INSERT INTO addr SELECT g, 'c' || ((g * 7919 % 1000) % 100), 'z' || (g * 7919 % 1000), repeat('x', 40)
        FROM generate_series(1, 200000) g;
      CREATE TABLE people (id bigint PRIMARY KEY, city text NOT NULL, zip text NOT NULL, pad text);
      INSERT INTO people SELECT g, 'c' || ((g * 7919 % 1000) % 100), 'z' || (g * 7919 % 1000), repeat('x', 40)
        FROM generate_series(1, 200000) g;
      CREATE INDEX people_city ON people (city);
      ANALYZE addr;
      ANALYZE people;
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
  static const json* Misestimate(const json& j) {
    for (const auto& f : j["findings"])
      if (f["rule"] == "row-misestimate") return &f;
    return nullptr;
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
std::string* ExtStatisticsCli::uri_ = nullptr;
std::string* ExtStatisticsCli::dir_ = nullptr;

TEST_F(ExtStatisticsCli, ExplainNamesTheColumnsAndTheStatisticsThatFixTheEstimate) {
  File("q.sql", "SELECT id FROM addr WHERE city = 'c7' AND zip = 'z7';\n");
  CmdResult r = RunPgvise(
      "explain --db '" + *uri_ + "' --sql q.sql --analyze --format json --fail-on never", *dir_);
  ASSERT_EQ(r.exit, 0) << r.out << r.err;
  json j = json::parse(r.out);
  const json* f = Misestimate(j);
  ASSERT_NE(f, nullptr) << r.out;
  EXPECT_EQ((*f)["evidence"]["direction"], "under");
  EXPECT_EQ((*f)["evidence"]["columns"], json::array({"city", "zip"}));
  const std::string stats = (*f)["evidence"]["statistics"];
  EXPECT_EQ(stats,
            "CREATE STATISTICS public.addr_city_zip_stats (dependencies) ON city, zip FROM "
            "public.addr");
  const std::string fix = (*f)["suggestion"];
  EXPECT_NE(fix.find(stats + ";\nANALYZE public.addr;"), std::string::npos) << fix;
  EXPECT_NE((*f)["message"].get<std::string>().find("correlated columns city, zip"),
            std::string::npos);

  // Run the suggestion as given: the estimate is right and the finding goes.
  Exec(*uri_, stats + "; ANALYZE public.addr;");
  r = RunPgvise("explain --db '" + *uri_ + "' --sql q.sql --analyze --format json --fail-on never",
                *dir_);
  ASSERT_EQ(r.exit, 0) << r.out << r.err;
  EXPECT_EQ(Misestimate(json::parse(r.out)), nullptr) << r.out;
  Exec(*uri_, "DROP STATISTICS public.addr_city_zip_stats; ANALYZE public.addr;");
}

TEST_F(ExtStatisticsCli, PlanFileWithIndexCondAndFilterOnTwoColumns) {
  // psql's EXPLAIN (ANALYZE, FORMAT JSON): a Bitmap Heap Scan whose Recheck
  // Cond tests city and whose Filter tests zip; the columns come from both.
  auto s = AdminSession(*uri_);
  Rows rows;
  ASSERT_TRUE(s->Query("EXPLAIN (ANALYZE, FORMAT JSON) SELECT id FROM people WHERE city = 'c7' "
                       "AND zip = 'z7'",
                       &rows)
                  .ok());
  std::string plan;
  for (size_t i = 0; i < rows.size(); ++i) plan += rows.Text(i, 0);
  File("plan.json", plan);
  CmdResult r = RunPgvise("explain plan.json --format json --fail-on never", *dir_);
  ASSERT_EQ(r.exit, 0) << r.out << r.err;
  json j = json::parse(r.out);
  const json* f = Misestimate(j);
  ASSERT_NE(f, nullptr) << plan << r.out;
  ASSERT_TRUE((*f)["evidence"].contains("columns")) << *f;
  std::vector<std::string> cols = (*f)["evidence"]["columns"];
  std::sort(cols.begin(), cols.end());
  EXPECT_EQ(cols, (std::vector<std::string>{"city", "zip"})) << plan;
  // The plan file names no schema (no VERBOSE): the statistics go on the bare table.
  EXPECT_NE((*f)["suggestion"].get<std::string>().find(" FROM people;"), std::string::npos) << *f;
}

TEST_F(ExtStatisticsCli, AdviseRecommendsVerifiesAndLeavesNothingBehind) {
  File("w.sql",
       "-- pgvise: calls=100\nSELECT id FROM addr WHERE city = $1 AND zip = $2;\n"
       "-- pgvise: calls=10\nSELECT city, zip, count(*) FROM addr GROUP BY city, zip;\n");
  CmdResult r = RunPgvise("advise --db '" + *uri_ + "' w.sql --format json --verify -q", *dir_);
  ASSERT_EQ(r.exit, 0) << r.out << r.err;
  json j = json::parse(r.out);
  const json* rec = nullptr;
  for (const auto& x : j["recommendations"])
    if (x["kind"] == "statistics") rec = &x;
  ASSERT_NE(rec, nullptr) << r.out;
  EXPECT_EQ((*rec)["object"], "public.addr");
  EXPECT_EQ(
      (*rec)["sql"].get<std::string>().rfind("CREATE STATISTICS public.addr_city_zip_stats (", 0),
      0u);
  EXPECT_EQ((*rec)["evidence"]["columns"], json::array({"city", "zip"}));
  const double before = (*rec)["evidence"]["q_error_before"];
  const double after = (*rec)["evidence"]["q_error_after"];
  EXPECT_GT(before, 10);
  EXPECT_LT(after, 2);
  EXPECT_EQ(Count("SELECT count(*) FROM pg_statistic_ext"), 0);

  r = RunPgvise("advise --db '" + *uri_ + "' w.sql --format json --no-statistics -q", *dir_);
  ASSERT_EQ(r.exit, 0) << r.out << r.err;
  for (const auto& x : json::parse(r.out)["recommendations"]) EXPECT_NE(x["kind"], "statistics");
}

}  // namespace
}  // namespace pgvise::testing
