// The plan checks about work around the query rather than in its scans:
// subplan-per-outer-row (a correlated subquery run once per outer row),
// parallel-workers-not-launched, jit-dominates-runtime and
// planning-time-dominates. A hashed SubPlan runs once, not per row, and is
// left alone. Run from the table in plan_checks.cc.
#include "analyzer/plan/plan_checks.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "analyzer/plan/plan_rules.h"
#include "core/session.h"

namespace pgvise::plan_checks {

// -------------------------------------------- parallel-workers-not-launched

void ParallelNotLaunched(CheckEnv& env) {
  for (const auto& ref : env.nodes) {
    const PlanNode& n = *ref.node;
    if (n.workers_planned <= 0 || n.workers_launched < 0 || n.workers_launched >= n.workers_planned)
      continue;
    std::string msg = Count(n.workers_planned) + " parallel workers planned, " +
                      Count(n.workers_launched) + " launched: the query ran with " +
                      (n.workers_launched == 0 ? std::string("the leader alone")
                                               : "fewer workers than its plan assumed") +
                      " (no background worker slots free)" +
                      Current(env.plan, "max_parallel_workers");
    std::string fix =
        "-- raise max_parallel_workers (and max_worker_processes, which needs a restart) above "
        "what concurrent queries use,\n-- or lower max_parallel_workers_per_gather so plans "
        "assume what they will get";
    Finding& f = env.Emit(n, n.has_timing ? NodeTotalMs(n) : 0, msg, fix);
    env.GradeByShare(f, n);
    f.Add("workers_planned", n.workers_planned).Add("workers_launched", n.workers_launched);
  }
}

// --------------------------------------------------- subplan-per-outer-row

void SubplanPerRow(CheckEnv& env) {
  const double min_loops = env.T("min_loops");
  for (const auto& ref : env.nodes) {
    const PlanNode& n = *ref.node;
    if (n.parent_relationship != "SubPlan") continue;
    // A hashed SubPlan is run once into a hash table, not once per row.
    if (n.subplan_name.rfind("hashed", 0) == 0) continue;
    bool estimated = !n.has_actual;
    double loops = estimated ? (ref.parent ? ref.parent->plan_rows : 0) : n.actual_loops;
    if (loops < min_loops) continue;
    double total_ms = n.has_timing ? NodeTotalMs(n) : -1;
    std::string name = n.subplan_name.empty() ? "a SubPlan" : n.subplan_name;
    std::string msg =
        name + " (" + NodeLabel(n) + ") " +
        (estimated ? "will run once per outer row, about " : "ran ") + Count(loops) + " times" +
        (total_ms >= 0 ? ", " + Ms(total_ms) + " in all (" + Ms(n.actual_total_ms) + " per row)"
                       : "") +
        ": a correlated subquery that PostgreSQL does not turn into a join";
    std::string fix =
        "-- rewrite it as a join (a LEFT JOIN to a grouped derived table, COALESCE for count):\n"
        "-- `pgvise rewrite FILE` does this and states why the rewrite is equivalent";
    Finding& f = env.Emit(n, total_ms >= 0 ? total_ms : loops / 1e3, msg, fix);
    f.Add("subplan", name).Add("loops", loops).Add("estimated", estimated);
    if (total_ms >= 0) f.Add("total_ms", total_ms);
  }
}

// ---------------------------------------------------- jit-dominates-runtime

void JitDominates(CheckEnv& env) {
  const JitInfo& j = env.plan.jit;
  if (!j.present || j.total_ms < 0 || env.plan.execution_ms <= 0) return;
  const double min_ms = env.T("min_jit_ms");
  const double min_fraction = env.T("min_fraction");
  double frac = j.total_ms / env.plan.execution_ms;
  if (j.total_ms < min_ms || frac < min_fraction) return;
  double cost = env.plan.root.total_cost;
  std::string msg = "JIT compilation took " + Ms(j.total_ms) + " of the " +
                    Ms(env.plan.execution_ms) + " execution (" + Count(std::round(frac * 100)) +
                    "%): " + Count(j.functions) + " functions; inlining " +
                    Ms(std::max(j.inlining_ms, 0.0)) + ", optimization " +
                    Ms(std::max(j.optimization_ms, 0.0)) + ", emission " +
                    Ms(std::max(j.emission_ms, 0.0)) + "; the plan's cost " + Count(cost) +
                    " crossed jit_above_cost, but the query is too short to repay it";
  // Suggest a threshold above this plan's cost, and never below PostgreSQL's
  // default (100000): a lower value would JIT more queries, not fewer.
  double above = std::min(
      1e15, std::max(100000.0, std::pow(10, std::ceil(std::log10(std::max(cost, 1.0)) + 0.001))));
  std::string fix = "SET jit_above_cost = " + std::to_string(static_cast<int64_t>(above)) +
                    ";  -- above this plan's cost, so it is not compiled\n"
                    "-- or, for a short-query workload, turn JIT off for its role: ALTER ROLE app "
                    "SET jit = off;";
  Finding& f = env.Emit(env.plan.root, j.total_ms, msg, fix);
  f.Add("jit_total_ms", j.total_ms)
      .Add("execution_ms", env.plan.execution_ms)
      .Add("functions", j.functions)
      .Add("plan_cost", cost);
  f.location.plan_path = "JIT";
  f.location.node_type = "";
  f.location.object = "";
}

// --------------------------------------------------- planning-time-dominates

void PlanningDominates(CheckEnv& env) {
  const Plan& p = env.plan;
  if (p.planning_ms < 0 || p.execution_ms < 0) return;
  const double ratio = env.T("ratio");
  const double min_ms = env.T("min_planning_ms");
  if (p.planning_ms < min_ms || p.planning_ms < ratio * std::max(p.execution_ms, 0.001)) return;
  int64_t scans = 0;
  for (const auto& ref : env.nodes)
    if (IsScan(*ref.node)) ++scans;
  std::string msg = "planning took " + Ms(p.planning_ms) + ", " +
                    Count(std::round(p.planning_ms / std::max(p.execution_ms, 0.001))) + "x the " +
                    Ms(p.execution_ms) + " execution (" + Count(static_cast<double>(p.node_count)) +
                    " plan nodes, " + Count(static_cast<double>(scans)) + " relation scans)";
  std::string fix =
      "-- plan once, run many times: a prepared statement (PREPARE, or the driver's server-side "
      "prepare) reuses the plan;\n-- for many-way joins, lower join_collapse_limit / "
      "from_collapse_limit;\n-- for many partitions, prune at plan time with constant "
      "partition-key predicates";
  Finding& f = env.Emit(p.root, p.planning_ms, msg, fix);
  f.Add("planning_ms", p.planning_ms)
      .Add("execution_ms", p.execution_ms)
      .Add("plan_nodes", static_cast<int64_t>(p.node_count));
  f.location.plan_path = "Planning";
  f.location.node_type = "";
  f.location.object = "";
}

}  // namespace pgvise::plan_checks
