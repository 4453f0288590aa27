// `pgvise explain --format html` in a real browser (headless Chromium): the
// plan as a collapsible tree with a bar per node and the findings pinned on
// their nodes, fitting a phone's width; the text formats stay what the
// golden files say (tests/golden/explain).
#include <gtest/gtest.h>

#include "tests/html_check.h"
#include "tests/review_cli.h"

namespace pgvise::testing {
namespace {

std::string Plans() { return SourceDir() + "/tests/data/plans/"; }

TEST(ExplainHtml, PlanTreeWithPinnedFindingsFitsAPhone) {
  for (const char* plan :
       {"subplan-per-row.json", "hash-join-batches.json", "estimate-only.json"}) {
    CmdResult r = RunPgvise("explain '" + Plans() + plan + "' --format html --fail-on never");
    ASSERT_EQ(r.exit, 0) << plan << r.err;
    EXPECT_EQ(r.out.find("<script"), std::string::npos);
    CmdResult json = RunPgvise("explain '" + Plans() + plan + "' --format json --fail-on never");
    const size_t findings = nlohmann::json::parse(json.out)["findings"].size();
    for (int width : {375, 1280}) {
      HtmlProbe p = ProbeHtml(r.out, width, std::string("explain-") + plan);
      ASSERT_TRUE(p.ok) << p.error;
      EXPECT_FALSE(p.Overflows()) << plan << " at " << width << " px: " << p.scroll_width << " > "
                                  << p.client_width;
      EXPECT_GE(p.tree_nodes, 2) << plan;       // the plan's nodes, as a tree
      EXPECT_EQ(p.bars, p.tree_nodes) << plan;  // one bar per node
      EXPECT_EQ(static_cast<size_t>(p.findings), findings) << plan;
    }
  }
}

TEST(ExplainHtml, FindingsArePinnedOnTheirNode) {
  CmdResult r =
      RunPgvise("explain '" + Plans() + "subplan-per-row.json' --format html --fail-on never");
  ASSERT_EQ(r.exit, 0) << r.err;
  // The SubPlan's Aggregate node carries the pin, not the root.
  const size_t agg = r.out.find(">Aggregate<");
  const size_t pin = r.out.find("class=\"pin\"");
  const size_t next = r.out.find("node-label", agg + 1);
  ASSERT_NE(agg, std::string::npos);
  ASSERT_NE(pin, std::string::npos);
  EXPECT_GT(pin, agg);
  EXPECT_LT(pin, next);
}

}  // namespace
}  // namespace pgvise::testing
