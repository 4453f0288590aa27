// `pgvise maintain` as a library call: the pipeline the command (and the
// tests and the benchmark) run, one named step per line in maintain.cc:
//   CollectSnapshot  - the database's health in a fixed number of queries
//   ChooseWindow     - --observe / --baseline: rates over a chosen window
//   EstimateBloat    - statistical estimate for every table and B-tree index
//   ExactBloat       - --exact: pgstattuple for what the estimate flags
//   RunRules         - every enabled rule's handler over the snapshot
//   OrderPlan        - merge duplicates, most urgent first
// Rendering and --apply (maintenance/apply.h) take the resulting plan.
#pragma once

#include "core/rule.h"
#include "core/session.h"
#include "maintenance/plan.h"
#include "maintenance/snapshot.h"
#include "maintenance/window.h"

namespace pgvise {

struct MaintainRun {
  HealthSnapshot snapshot;
  std::vector<BloatEstimate> table_bloat;  // indexed like snapshot.tables
  std::vector<BloatEstimate> index_bloat;  // indexed like snapshot.indexes
  MaintenancePlan plan;
  // The cumulative counters as read now: what --save-baseline writes.
  CounterBaseline counters;
};

// Builds the plan on a (read-only) analysis session.
Status BuildMaintenancePlan(Session& session, const RuleBook& rules, const MaintainOptions& opts,
                            MaintainRun* out);

}  // namespace pgvise
