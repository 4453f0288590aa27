// The maintain report at scale: a plan with one item per table (a fresh
// restore, nothing analyzed) keeps each rule's first items in full and groups
// the rest, while the JSON and the SQL script keep every item.
#include "maintenance/report.h"

#include <gtest/gtest.h>

#include <string>

#include "maintenance/plan.h"

namespace pgvise {
namespace {

size_t Count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + what.size())) ++n;
  return n;
}

MaintenancePlan ManyItems(int analyze_items, int vacuum_items) {
  MaintenancePlan plan;
  plan.database = "shop";
  auto add = [&](const std::string& rule, const std::string& verb, int i) {
    PlanItem it;
    it.rule = rule;
    it.group = "statistics";
    it.rec.kind = RecommendationKind::kAnalyze;
    it.rec.object = "public.t" + std::to_string(i);
    it.rec.sql = verb + " public.t" + std::to_string(i) + ";";
    it.rec.reason = "never analyzed";
    plan.items.push_back(it);
  };
  for (int i = 1; i <= analyze_items; ++i) add("stale-statistics", "ANALYZE", i);
  for (int i = 1; i <= vacuum_items; ++i) add("vacuum-overdue", "VACUUM", i);
  return plan;
}

TEST(MaintainReport, ARuleWithManyItemsShowsTwentyInFullAndGroupsTheRest) {
  const MaintenancePlan plan = ManyItems(45, 3);
  const std::string text = RenderPlanText(plan);
  EXPECT_EQ(Count(text, "] stale-statistics  public.t"), 20u) << text;
  EXPECT_EQ(Count(text, "] vacuum-overdue  public.t"), 3u);
  EXPECT_NE(text.find("25 more stale-statistics items (#21 onwards)"), std::string::npos) << text;
  EXPECT_NE(text.find("ANALYZE public.t45;"), std::string::npos);  // in the group's one block
  // Every item stays in the formats scripts read.
  const std::string sql = RenderPlanSql(plan, 5000, 0);
  EXPECT_EQ(Count(sql, "ANALYZE public.t"), 45u);
  const std::string json = RenderPlanJson(plan, nullptr);
  EXPECT_EQ(Count(json, "\"rule\": \"stale-statistics\""), 45u) << json.substr(0, 400);
}

TEST(MaintainReport, APlanOfFewItemsIsNotGrouped) {
  const std::string text = RenderPlanText(ManyItems(20, 1));
  EXPECT_EQ(Count(text, "] stale-statistics  public.t"), 20u);
  EXPECT_EQ(text.find(" more stale-statistics items"), std::string::npos);
}

// The lines the CLI used to compose itself (cli/cmd_maintain.cc now only
// wires): the run's report carries --apply's outcomes in its JSON, the apply
// log is stamped, and the exit code sees one severity per item.
TEST(MaintainReport, RunReportAndApplyLinesAreRenderedHere) {
  MaintainRun run;
  run.plan = ManyItems(2, 1);
  run.plan.items[2].severity = Severity::kWarning;
  EXPECT_FALSE(MaintainRunReport(run, nullptr, 2000, 60000).json.contains("apply"));
  ApplyResult applied;
  applied.applied = 2;
  applied.failed = 1;
  Report r = MaintainRunReport(run, &applied, 2000, 60000);
  ASSERT_TRUE(r.json.contains("apply"));
  EXPECT_EQ(ApplyDoneLine(applied), "done: 2 applied, 1 failed, 0 advice (not run)");
  EXPECT_EQ(ApplyStartLine(run.plan, "host=x"), "3 plan items on host=x");
  std::string logged;
  StampedApplyLog([&](const std::string& l) { logged = l; })("hello");
  EXPECT_EQ(logged.size(), std::string("2026-12-06T01:00:00Z pgvise apply: hello").size());
  EXPECT_NE(logged.find(" pgvise apply: hello"), std::string::npos);
  std::vector<Finding> sev = PlanItemSeverities(run.plan);
  ASSERT_EQ(sev.size(), 3u);
  EXPECT_EQ(sev[2].severity, Severity::kWarning);
}

}  // namespace
}  // namespace pgvise
