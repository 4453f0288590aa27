// `pgvise maintain --format html` and `pgvise rewrite --format html` in a
// real browser (headless Chromium, tests/html_check.h): laid out at a phone's
// width and a wide screen's, they must not scroll sideways, must show every
// plan item (its heading and its SQL) and every statement (original and
// rewritten SQL), carry no script, and are kept as screenshots
// (build/html-artifacts/).
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/html_check.h"
#include "tests/review_cli.h"

namespace fs = std::filesystem;

namespace pgvise::testing {
namespace {

class HtmlMaintainRewrite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    uri_ = new std::string(FreshDatabase("html_maintain_rewrite"));
    dir_ = new std::string(TempDir("html-maintain-rewrite"));
    Exec(*uri_, R"sql(
      CREATE TABLE users (id int PRIMARY KEY, email text) WITH (autovacuum_enabled = false);
      INSERT INTO users SELECT g, 'user' || g || '@example.com' FROM generate_series(1, 20000) g;
      CREATE TABLE orders (id int PRIMARY KEY, user_id int NOT NULL, amount int,
                           a_rather_long_column_name_for_wrapping_tests text)
        WITH (autovacuum_enabled = false);
      INSERT INTO orders SELECT g, 1 + g % 20000, g % 100, 'x' FROM generate_series(1, 40000) g;
      ANALYZE users; ANALYZE orders;
      UPDATE users SET email = email || '.old' WHERE id <= 6000;
      -- Autovacuum off here too: its ANALYZE between the JSON run and the
      -- HTML run below would change the plan the test compares.
      CREATE TABLE "never analyzed, with a long name to wrap on a phone" (id int)
        WITH (autovacuum_enabled = false);
      INSERT INTO "never analyzed, with a long name to wrap on a phone"
        SELECT g FROM generate_series(1, 3000) g;
    )sql");
    WriteWhole(*dir_ + "/.pgvise.yaml", R"(rules:
  vacuum-overdue:
    thresholds:
      min_dead_tuples: 100
      min_dead_ratio: 0.01
  stale-statistics:
    thresholds:
      min_modifications: 100
)");
    WriteWhole(*dir_ + "/app.sql",
               "SELECT u.id, u.email FROM users u\n"
               "WHERE (SELECT count(*) FROM orders o WHERE o.user_id = u.id) = 0;\n"
               "SELECT u.id FROM users u WHERE (SELECT o.amount FROM orders o WHERE o.user_id = "
               "u.id ORDER BY o.id DESC LIMIT 1) > 50;\n"
               "SELECT 1;\n");
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
std::string* HtmlMaintainRewrite::uri_ = nullptr;
std::string* HtmlMaintainRewrite::dir_ = nullptr;

bool Shows(const HtmlProbe& p, const std::string& code) {
  for (const auto& c : p.code)
    if (c.find(code) != std::string::npos) return true;
  return false;
}

TEST_F(HtmlMaintainRewrite, MaintainShowsEveryPlanItemAndTableHealth) {
  CmdResult js = RunPgvise("maintain --db '" + *uri_ + "' --format json --fail-on never", *dir_);
  ASSERT_EQ(js.exit, 0) << js.err;
  const auto plan = nlohmann::json::parse(js.out)["plan"];
  ASSERT_GE(plan.size(), 3u) << js.out;  // vacuum, analyze, autovacuum settings at least

  CmdResult html = RunPgvise("maintain --db '" + *uri_ + "' --format html --fail-on never", *dir_);
  ASSERT_EQ(html.exit, 0) << html.err;
  EXPECT_EQ(html.out.find("<script"), std::string::npos) << "the report must carry no script";
  for (int width : {375, 1280}) {
    HtmlProbe p = ProbeHtml(html.out, width, "maintain");
    ASSERT_TRUE(p.ok) << p.error;
    EXPECT_FALSE(p.Overflows()) << "maintain report scrolls sideways at " << width
                                << " px: " << p.scroll_width << " > " << p.client_width;
    for (size_t i = 0; i < plan.size(); ++i) {
      const auto& rec = plan[i]["recommendation"];
      const std::string head = std::to_string(i + 1) + ". [" +
                               plan[i]["severity"].get<std::string>() + "] " +
                               plan[i]["rule"].get<std::string>();
      bool heading = false;
      for (const auto& h : p.headings) heading = heading || h.rfind(head, 0) == 0;
      EXPECT_TRUE(heading) << "plan item missing at " << width << " px: " << head;
      EXPECT_TRUE(Shows(p, rec["sql"].get<std::string>()))
          << "SQL not shown in full at " << width << " px: " << rec["sql"];
      if (rec.contains("cost") && rec["cost"].contains("lock")) {
        EXPECT_NE(p.text.find(rec["cost"]["lock"].get<std::string>()), std::string::npos);
      }
    }
    // Table health: every table's row with its bars (dead tuples, bloat or
    // not, freeze age), and the freeze limit named.
    EXPECT_NE(p.text.find("Table health"), std::string::npos);
    EXPECT_NE(p.text.find("public.users"), std::string::npos);
    EXPECT_NE(p.text.find("of 200.00M"), std::string::npos) << "freeze age against the limit";
    EXPECT_GE(p.bars, 3 * 2) << "dead-tuple and freeze bars for each table";
  }
}

TEST_F(HtmlMaintainRewrite, RewriteShowsOriginalRewrittenPassesAndCosts) {
  CmdResult js = RunPgvise("rewrite --db '" + *uri_ + "' --format json app.sql", *dir_);
  ASSERT_EQ(js.exit, 0) << js.err;
  const auto stmts = nlohmann::json::parse(js.out)["statements"];
  ASSERT_EQ(stmts.size(), 3u);

  CmdResult html = RunPgvise("rewrite --db '" + *uri_ + "' --format html app.sql", *dir_);
  ASSERT_EQ(html.exit, 0) << html.err;
  EXPECT_EQ(html.out.find("<script"), std::string::npos);
  for (int width : {375, 1280}) {
    HtmlProbe p = ProbeHtml(html.out, width, "rewrite");
    ASSERT_TRUE(p.ok) << p.error;
    EXPECT_FALSE(p.Overflows()) << "rewrite report scrolls sideways at " << width
                                << " px: " << p.scroll_width << " > " << p.client_width;
    for (const auto& s : stmts) {
      const std::string head = "Statement " + std::to_string(s["index"].get<int>() + 1) + " (";
      bool heading = false;
      for (const auto& h : p.headings) heading = heading || h.rfind(head, 0) == 0;
      EXPECT_TRUE(heading) << head;
      EXPECT_TRUE(Shows(p, s["original"].get<std::string>())) << s["original"];
      if (s["changed"].get<bool>()) {
        EXPECT_TRUE(Shows(p, s["sql"].get<std::string>())) << s["sql"];
      }
      for (const auto& pass : s["passes"])
        EXPECT_NE(p.text.find(pass["reason"].get<std::string>().substr(0, 40)), std::string::npos)
            << "pass reason missing: " << pass["reason"];
      if (s.contains("verify")) {  // the costs, with a bar each
        EXPECT_NE(p.text.find("EXPLAIN cost"), std::string::npos);
      }
    }
    // The refusal (ORDER BY ... LIMIT 1) is there with its reason.
    EXPECT_NE(p.text.find("refused"), std::string::npos);
  }
}

}  // namespace
}  // namespace pgvise::testing
