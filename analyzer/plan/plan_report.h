// PlanReport: an EXPLAIN plan as a tree block of the report model
// (core/report.h), the picture people open pev2 for: each node with its own
// time (or cost), estimated against actual rows, loops and buffers, and the
// findings of analyzer/plan/plan_rules.h pinned on the node they are about.
//
// It sits after CheckPlan in `pgvise explain`: Plan + findings -> tree block;
// renderers draw it (HTML as a collapsible tree with bars, text indented).
#pragma once

#include <vector>

#include "analyzer/plan/plan.h"
#include "core/finding.h"
#include "core/report.h"

namespace pgvise {

// The node's own share: its time (ANALYZE with timing: total per loop x
// loops, minus its children's) or else its own cost (total cost minus its
// children's). Never negative (parallel workers and InitPlans can make the
// subtraction go below zero).
double PlanNodeSelfTimeMs(const PlanNode& n);
double PlanNodeSelfCost(const PlanNode& n);

// The plan as a tree; `findings` are the ones CheckPlan returned for it (a
// finding is pinned on the node whose path it names).
ReportTreeNode PlanTree(const Plan& plan, const std::vector<Finding>& findings);

}  // namespace pgvise
