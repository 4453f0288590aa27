// UsageInference: the lookup behind index-usage inference
// (advisor/whatif_infer.cc); advisor/whatif_pg_test.cc checks its answers
// against EXPLAIN on a real server.
#include <gtest/gtest.h>

#include "advisor/whatif.h"

namespace pgvise {
namespace {

PlanCost Plan(double cost, std::set<int> used) {
  PlanCost pc;
  pc.ok = true;
  pc.cost = cost;
  pc.candidates = std::move(used);
  return pc;
}

TEST(UsageInference, AnswersBetweenTheUsedSetAndTheCostedConfiguration) {
  UsageInference u;
  PlanCost abc = Plan(100, {1, 3});  // {1,2,3} costed, plan used 1 and 3
  u.Remember(0, {1, 2, 3}, &abc);
  EXPECT_EQ(u.Infer(0, {1, 3}), &abc);        // 2 dropped: unused
  EXPECT_EQ(u.Infer(0, {1, 2, 3}), &abc);     // the configuration itself
  EXPECT_EQ(u.Infer(0, {1, 2}), nullptr);     // 3 was used
  EXPECT_EQ(u.Infer(0, {1, 3, 4}), nullptr);  // 4 never costed
  EXPECT_EQ(u.Infer(1, {1, 3}), nullptr);     // another statement
}

TEST(UsageInference, RefusesSinglesFailuresAndForgottenStatements) {
  UsageInference u;
  PlanCost none_used = Plan(50, {});
  u.Remember(2, {4, 5}, &none_used);
  // One candidate or none: the what-if matrix, always EXPLAINed (--jobs N
  // prefetches it; see whatif_infer.cc).
  EXPECT_EQ(u.Infer(2, {4}), nullptr);
  EXPECT_EQ(u.Infer(2, {}), nullptr);
  PlanCost failed;
  failed.candidates = {};
  u.Remember(3, {4, 5, 6}, &failed);
  EXPECT_EQ(u.Infer(3, {4, 5}), nullptr);
  u.Forget(2);
  EXPECT_EQ(u.Infer(2, {4, 5}), nullptr);
}

TEST(UsageInference, FirstMatchInCostingOrder) {
  UsageInference u;
  PlanCost first = Plan(10, {7}), second = Plan(11, {7});
  u.Remember(0, {7, 8, 9}, &first);
  u.Remember(0, {7, 8}, &second);
  EXPECT_EQ(u.Infer(0, {7, 8}), &first);
}

}  // namespace
}  // namespace pgvise
