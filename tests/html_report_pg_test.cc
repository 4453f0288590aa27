// HTML reports in a real browser (headless Chromium): each command's report
// is laid out at a phone's width and a wide screen's, must not scroll
// sideways, must show every recommendation's DDL in full, and is kept as a
// screenshot (build/html-artifacts/).
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/html_check.h"
#include "tests/review_cli.h"

namespace fs = std::filesystem;

namespace pgvise::testing {
namespace {

class HtmlReports : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    uri_ = new std::string(FreshDatabase("html_reports"));
    dir_ = new std::string(TempDir("html-reports"));
    Exec(*uri_, R"sql(
      CREATE SCHEMA shop;
      CREATE TABLE shop.orders (id int PRIMARY KEY, customer_id int NOT NULL, status text NOT NULL,
                                amount int, created_at timestamptz NOT NULL,
                                a_rather_long_column_name_for_wrapping_tests text)
        WITH (autovacuum_enabled = false);
      INSERT INTO shop.orders SELECT g, 1 + g % 5000, CASE WHEN g % 100 = 0 THEN 'open' ELSE 'done' END,
        g % 1000, now() - (g % 1000) * interval '1 hour', 'x' FROM generate_series(1, 100000) g;
    )sql");
    // The JSON and the HTML run must see the same planner inputs: an
    // autovacuum between them would move relallvisible (index-only scan
    // costs) and could change the chosen set, so the table is vacuumed once
    // here and autovacuum stays off on it.
    Exec(*uri_, "VACUUM ANALYZE shop.orders");
    WriteWhole(*dir_ + "/workload.sql",
               "-- pgvise: calls=500\n"
               "SELECT id, amount FROM shop.orders WHERE customer_id = 42 ORDER BY created_at DESC "
               "LIMIT 20;\n"
               "-- pgvise: calls=50\n"
               "SELECT id FROM shop.orders WHERE status = 'open' AND "
               "a_rather_long_column_name_for_wrapping_tests = 'x' ORDER BY created_at;\n");
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(*dir_, ec);
    delete dir_;
    delete uri_;
  }
  static std::string* uri_;
  static std::string* dir_;
};
std::string* HtmlReports::uri_ = nullptr;
std::string* HtmlReports::dir_ = nullptr;

TEST_F(HtmlReports, AdviseShowsEveryRecommendationAndFitsAPhone) {
  CmdResult js = RunPgvise("advise --db '" + *uri_ + "' -w workload.sql --format json", *dir_);
  ASSERT_EQ(js.exit, 0) << js.err;
  auto doc = nlohmann::json::parse(js.out);
  std::vector<std::string> ddl;
  for (const auto& r : doc["recommendations"]) ddl.push_back(r["sql"].get<std::string>());
  ASSERT_FALSE(ddl.empty()) << js.out;

  CmdResult html = RunPgvise("advise --db '" + *uri_ + "' -w workload.sql --format html", *dir_);
  ASSERT_EQ(html.exit, 0) << html.err;
  EXPECT_EQ(html.out.find("<script"), std::string::npos) << "the report must carry no script";
  for (int width : {375, 1280}) {
    HtmlProbe p = ProbeHtml(html.out, width, "advise");
    ASSERT_TRUE(p.ok) << p.error;
    EXPECT_FALSE(p.Overflows()) << "advise report scrolls sideways at " << width
                                << " px: " << p.scroll_width << " > " << p.client_width;
    for (const auto& d : ddl) {
      bool shown = false;
      for (const auto& c : p.code) shown = shown || c.find(d) != std::string::npos;
      EXPECT_TRUE(shown) << "DDL not shown in full at " << width << " px: " << d;
    }
  }
}

}  // namespace
}  // namespace pgvise::testing
