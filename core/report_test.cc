#include "core/report.h"

#include <gtest/gtest.h>

#include <sstream>

#include "core/render.h"

namespace pgvise {
namespace {

Finding MakeFinding(const std::string& file, int line, Severity sev, const std::string& msg) {
  Finding f;
  f.rule = "some-rule";
  f.severity = sev;
  f.message = msg;
  f.location.file = file;
  f.location.line = line;
  f.location.column = 1;
  return f;
}

Report FindingsReport() {
  Report r;
  r.command = "review";
  r.inputs = {"a.sql"};
  r.notes = {"a note"};
  r.findings = {MakeFinding("a.sql", 3, Severity::kError, "CREATE INDEX without CONCURRENTLY"),
                MakeFinding("a.sql", 7, Severity::kWarning, "ALTER TABLE rewrites the table")};
  r.findings[0].suggestion = "CREATE INDEX CONCURRENTLY i ON t (a);";
  return r;
}

// Review and explain print through the report model: their text, Markdown,
// JSON and SARIF must be exactly what the findings renderer prints (the
// golden files depend on it).
TEST(Report, AFindingsReportRendersAsTheFindingsRendererDoes) {
  Report r = FindingsReport();
  for (const char* fmt : {"text", "markdown", "json", "sarif"}) {
    RenderOptions ro;
    ro.format = fmt;
    ro.command = r.command;
    ro.notes = r.notes;
    ro.inputs = r.inputs;
    ReportRenderOptions o;
    o.format = *ParseReportFormat(fmt);
    EXPECT_EQ(RenderReport(r, o), RenderFindings(r.findings, ro)) << fmt;
  }
}

TEST(Report, FormatNamesRoundTrip) {
  for (const char* n : {"text", "json", "sarif", "markdown", "html", "sql"})
    EXPECT_STREQ(ReportFormatName(*ParseReportFormat(n)), n);
  EXPECT_FALSE(ParseReportFormat("bogus"));
}

TEST(ReportHtml, SelfContainedAndEscaped) {
  Report r = FindingsReport();
  r.title = "pgvise review";
  r.findings[0].message = "table <script>alert(1)</script> \"x\"";
  r.excerpts = {{"a.sql", 3, "CREATE INDEX i ON \"<b>\" (a);"}};
  ReportRenderOptions o;
  o.format = ReportFormat::kHtml;
  const std::string html = RenderReport(r, o);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("&lt;b&gt;"), std::string::npos);  // the source line, escaped
  // Nothing is fetched: no external stylesheet, script, font or image.
  EXPECT_EQ(html.find("http"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_NE(html.find("name=\"viewport\""), std::string::npos);
  EXPECT_NE(html.find("CREATE INDEX CONCURRENTLY i ON t (a);"), std::string::npos);
}

// Width of the first bar after `from` in the HTML, in percent.
double BarWidth(const std::string& html, size_t* from) {
  const std::string key = "class=\"bar\" style=\"width:";
  size_t p = html.find(key, *from);
  if (p == std::string::npos) return -1;
  *from = p + key.size();
  return std::stod(html.substr(*from));
}

TEST(ReportHtml, LogScaleBarsKeepSmallValuesVisible) {
  Report r;
  r.command = "advise";
  ReportTable t;
  t.header = {"statement", "before", "after"};
  t.numeric = {false, true, true};
  t.log_scale = true;
  t.rows.push_back({{"q1", {}}, {"1e9", 1e9}, {"10", 10.0}});
  r.body = {ReportBlock::Table(t, "cost per statement")};
  ReportRenderOptions o;
  o.format = ReportFormat::kHtml;
  const std::string html = RenderReport(r, o);
  size_t at = 0;
  const double big = BarWidth(html, &at), small = BarWidth(html, &at);
  EXPECT_DOUBLE_EQ(big, 100);
  // Linear, 10 would be 1e-6 % of the row: invisible. Log keeps it at the floor.
  EXPECT_GT(small, 2);
  EXPECT_LT(small, 20);
  t.log_scale = false;
  r.body = {ReportBlock::Table(t, "")};
  const std::string linear = RenderReport(r, o);
  at = 0;
  BarWidth(linear, &at);
  EXPECT_LE(BarWidth(linear, &at), 1.0);
}

TEST(ReportHtml, TreeIsCollapsibleWithPinnedFindings) {
  Report r;
  r.command = "explain";
  r.findings = {MakeFinding("", 0, Severity::kWarning, "rows misestimated 100x")};
  ReportTreeNode root{"Hash Join", "", {{"rows", "10 est 1000"}}, 5.0, {}, {}};
  root.children.push_back({"Seq Scan", "on orders", {}, 4.0, {0}, {}});
  r.body = {ReportBlock::Tree(root, "plan")};
  ReportRenderOptions o;
  o.format = ReportFormat::kHtml;
  const std::string html = RenderReport(r, o);
  EXPECT_NE(html.find("<details open><summary class=\"node-head\">"), std::string::npos);
  EXPECT_NE(html.find("class=\"pin\""), std::string::npos);
  o.format = ReportFormat::kText;
  const std::string text = RenderReport(r, o);
  EXPECT_NE(text.find("-> Seq Scan on orders"), std::string::npos) << text;
  EXPECT_NE(text.find("! warning: rows misestimated 100x [some-rule]"), std::string::npos) << text;
}

// A name holding a newline (or a carriage return) can never end a comment
// and become a statement of the script.
TEST(ReportSql, HostileTextStaysInComments) {
  Report r;
  r.command = "maintain";
  r.title = "plan for \"t\nDROP TABLE canary; --\"";
  r.notes = {"note\rDROP TABLE canary2;"};
  ReportAction vac;
  vac.heading = "vacuum \"a\nDROP TABLE canary3; --\"";
  vac.rec.kind = RecommendationKind::kVacuum;
  vac.rec.reason = "dead tuples in\r\nDROP TABLE canary4;";
  vac.rec.sql = "VACUUM (ANALYZE) public.\"a\nb\"";
  ReportAction advice;
  advice.executable = false;
  advice.rec.kind = RecommendationKind::kReindex;
  advice.rec.sql = "SELECT pg_terminate_backend(42);\nDROP TABLE canary5;";
  r.actions = {vac, advice};
  r.sql_prologue = {"SET lock_timeout = '5s'"};
  const std::string sql = RenderReportSql(r);
  std::istringstream lines(sql);
  std::string line;
  int statements = 0;
  bool in_quoted_name = false;
  while (std::getline(lines, line)) {
    EXPECT_EQ(line.find('\r'), std::string::npos) << line;
    if (in_quoted_name) {  // the second line of "a\nb": still inside the identifier
      in_quoted_name = false;
      continue;
    }
    if (line.empty() || line.rfind("--", 0) == 0) continue;
    EXPECT_EQ(line.find("DROP TABLE"), std::string::npos) << line;
    ++statements;
    if (line.find("\"a") != std::string::npos) in_quoted_name = true;
  }
  EXPECT_EQ(statements, 2);  // SET lock_timeout, VACUUM
}

}  // namespace
}  // namespace pgvise

namespace pgvise {
namespace {

// Explain's plan tree is drawn in HTML only: its text output stays the
// findings renderer's, golden files and all.
TEST(Report, HtmlOnlyBlocksStayOutOfTextFormats) {
  Report r = FindingsReport();
  ReportBlock tree = ReportBlock::Tree({"Seq Scan", "on orders", {}, 1.0, {}, {}});
  tree.html_only = true;
  r.body = {tree, ReportBlock::Findings()};
  RenderOptions ro;
  ro.command = r.command;
  ro.notes = r.notes;
  ro.inputs = r.inputs;
  ReportRenderOptions o;
  for (auto [f, name] :
       {std::pair{ReportFormat::kText, "text"}, {ReportFormat::kMarkdown, "markdown"}}) {
    o.format = f;
    ro.format = name;
    EXPECT_EQ(RenderReport(r, o), RenderFindings(r.findings, ro)) << name;
  }
  o.format = ReportFormat::kHtml;
  EXPECT_NE(RenderReport(r, o).find("Seq Scan"), std::string::npos);
}

}  // namespace
}  // namespace pgvise
