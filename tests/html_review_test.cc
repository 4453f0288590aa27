// `pgvise review --format html` in a real browser (headless Chromium): the
// findings of each file with the source line each points at, its severity,
// rule id and fix, fitting a phone's width; the other formats stay what the
// golden files say (tests/golden/review).
#include <gtest/gtest.h>

#include "tests/html_check.h"
#include "tests/review_cli.h"

namespace pgvise::testing {
namespace {

std::string Golden() { return SourceDir() + "/tests/golden/review/"; }

// The line `line` (1-based) of `path`.
std::string SourceLine(const std::string& path, int line) {
  std::ifstream in(path);
  std::string s;
  for (int n = 0; n < line && std::getline(in, s); ++n) {
  }
  return s;
}

TEST(ReviewHtml, FindingsWithTheirSourceLinesFitAPhone) {
  for (const char* file : {"migration.sql", "queries.sql", "syntax-error.sql"}) {
    const std::string path = Golden() + file;
    CmdResult r = RunPgvise("review --format html --fail-on never '" + path + "'");
    CmdResult json = RunPgvise("review --format json --fail-on never '" + path + "'");
    ASSERT_EQ(r.exit, json.exit) << file << r.err;
    EXPECT_EQ(r.out.find("<script"), std::string::npos);
    const auto findings = nlohmann::json::parse(json.out)["findings"];
    ASSERT_GT(findings.size(), 0u) << file;
    for (int width : {375, 1280}) {
      HtmlProbe p = ProbeHtml(r.out, width, std::string("review-") + file);
      ASSERT_TRUE(p.ok) << p.error;
      EXPECT_FALSE(p.Overflows()) << file << " at " << width << " px: " << p.scroll_width << " > "
                                  << p.client_width;
      EXPECT_EQ(static_cast<size_t>(p.findings), findings.size()) << file;
      // Each finding's rule id, severity and source line are on the page.
      for (const auto& f : findings) {
        const std::string rule = f.value("rule", "");
        EXPECT_NE(p.text.find(rule), std::string::npos) << file << ": " << rule;
        EXPECT_NE(p.text.find(f.value("severity", "")), std::string::npos) << file;
        const int line = f["location"].value("line", 0);
        if (line <= 0) continue;
        std::string src = SourceLine(path, line);
        while (!src.empty() && (src.back() == ' ' || src.back() == '\r')) src.pop_back();
        if (src.empty()) continue;
        EXPECT_NE(p.text.find(src), std::string::npos) << file << ":" << line << ": " << src;
      }
    }
  }
}

TEST(ReviewHtml, EveryFindingShowsItsLineAndFix) {
  CmdResult r = RunPgvise("review --format html --fail-on never '" + Golden() + "migration.sql'");
  ASSERT_EQ(r.exit, 0) << r.err;
  size_t findings = 0, sources = 0, fixes = 0;
  for (size_t at = 0; (at = r.out.find("<div class=\"finding ", at)) != std::string::npos; ++at)
    ++findings;
  for (size_t at = 0; (at = r.out.find("<pre class=\"src\">", at)) != std::string::npos; ++at)
    ++sources;
  for (size_t at = 0; (at = r.out.find("<figcaption>fix</figcaption>", at)) != std::string::npos;
       ++at)
    ++fixes;
  EXPECT_GT(findings, 0u);
  EXPECT_EQ(sources, findings);  // every migration finding points at a line
  EXPECT_GT(fixes, 0u);
  EXPECT_NE(r.out.find("ALTER TABLE orders ADD COLUMN tracking_id uuid DEFAULT gen_random_uuid();"),
            std::string::npos);
}

}  // namespace
}  // namespace pgvise::testing
