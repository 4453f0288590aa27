// The plan checks, one handler per rule in rules/plan/<id>.yaml, registered
// in the table at the bottom (Checks()) under the rule's id. Each reads its
// thresholds from its rule's YAML through T() (there are no defaults in C++)
// and reports the node, the numbers and the fix. The handlers live by what
// they are about: plan_checks_estimates.cc (row estimates),
// plan_checks_memory.cc (work_mem: sorts, hashes and bitmaps that spill),
// plan_checks_access.cc (how rows are reached: scans, nested loops,
// partitions, disk reads) and plan_checks_overhead.cc (work around the
// query: subplans re-run per row, parallel workers, JIT, planning). This file
// holds what they share: the table and the SQL-writing helpers.
//
// The numbers EXPLAIN gives are per loop: "Actual Rows" 10 with "Actual
// Loops" 2000 is 20,000 rows, and "Actual Total Time" is per loop too, so
// the time a node cost is total time x loops. Every handler works in those
// totals. Example, from a real PG 15 plan (subplan-per-row.json):
//
//   Index Scan on users           rows 2,000, loops 1
//     SubPlan 1: Aggregate        rows 1, loops 2,000, 0.02 ms per loop
//
// subplan-per-outer-row fires: the sub-query ran 2,000 times (40 ms in all),
// once per outer row, and the fix is to decorrelate it (`pgvise rewrite`).
//
// Guards say why a node is left alone: a node under a Limit stops early by
// design, so fewer rows than estimated is not a misestimate there; a hashed
// SubPlan runs once, not per row.
#include "analyzer/plan/plan_checks.h"

#include <algorithm>
#include <cmath>

#include "analyzer/plan/plan_rules.h"
#include "core/session.h"

namespace pgvise::plan_checks {

bool IsScan(const PlanNode& n) { return !n.relation.empty(); }

double NodeTotalMs(const PlanNode& n) { return n.actual_total_ms * std::max(1.0, n.actual_loops); }

std::string NodeLabel(const PlanNode& n) {
  std::string r = RelationOf(n);
  return r.empty() ? n.node_type : n.node_type + " on " + r;
}

std::string Join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string Current(const Plan& p, const char* setting) {
  auto it = p.settings.find(setting);
  return it == p.settings.end() ? "" : " (now " + it->second + ")";
}

// A relation as RelationOf names it ("orders", "shop.orders") written as SQL:
// each part quoted when it must be ("Order Items", user). Fixes are run as
// they are, so a name that folds to another table would be a wrong fix.
std::string SqlRelation(const std::string& rel) {
  size_t dot = rel.find('.');
  if (dot == std::string::npos) return QuoteIdent(rel);
  return QuoteIdent(rel.substr(0, dot)) + "." + QuoteIdent(rel.substr(dot + 1));
}

std::string SqlColumns(const std::vector<std::string>& cols) {
  std::vector<std::string> quoted;
  for (const auto& c : cols) quoted.push_back(QuoteIdent(c));
  return Join(quoted);
}

std::string SqlRelations(const std::vector<std::string>& rels) {
  std::vector<std::string> quoted;
  for (const auto& r : rels) quoted.push_back(SqlRelation(r));
  return Join(quoted);
}

// The index that would serve `cond` on `rel`: equality columns first, then
// one range column (a B-tree can use only the first range column well).
std::string IndexFor(const std::string& rel, const ConditionColumns& cc) {
  std::vector<std::string> cols;
  for (const auto& c : cc.equality) cols.push_back(QuoteIdent(c));
  if (!cc.range.empty()) {
    const std::string& r = cc.range.front();
    bool prefix =
        std::find(cc.like_prefix.begin(), cc.like_prefix.end(), r) != cc.like_prefix.end();
    cols.push_back(QuoteIdent(r) + (prefix ? " text_pattern_ops" : ""));
  }
  if (cols.empty() || rel.empty()) return "";
  return "CREATE INDEX CONCURRENTLY ON " + SqlRelation(rel) + " (" + Join(cols) + ");";
}

const std::vector<PlanCheck>& Checks() {
  //                 id                                   default severity    analyze buffers timing
  //                 handler
  static const std::vector<PlanCheck> kChecks = {
      {"row-misestimate", Severity::kWarning, true, false, false, RowMisestimate},
      {"sort-spills-to-disk", Severity::kWarning, true, false, false, SortSpills},
      {"hash-join-multiple-batches", Severity::kWarning, true, false, false, HashJoinBatches},
      {"hash-aggregate-spills", Severity::kWarning, false, false, false, HashAggSpills},
      {"seq-scan-filters-most-rows", Severity::kWarning, true, false, false, SeqScanFilter},
      {"nested-loop-many-inner-loops", Severity::kWarning, false, false, false, NestedLoopLoops},
      {"index-only-scan-heap-fetches", Severity::kInfo, true, false, false, IndexOnlyHeapFetches},
      {"bitmap-heap-scan-lossy", Severity::kInfo, true, false, false, BitmapLossy},
      {"parallel-workers-not-launched", Severity::kInfo, true, false, false, ParallelNotLaunched},
      {"subplan-per-outer-row", Severity::kWarning, false, false, false, SubplanPerRow},
      {"jit-dominates-runtime", Severity::kWarning, true, false, true, JitDominates},
      {"partitioned-append-without-pruning", Severity::kWarning, false, false, false,
       AppendWithoutPruning},
      {"reads-mostly-from-disk", Severity::kInfo, true, true, false, ReadsFromDisk},
      {"planning-time-dominates", Severity::kInfo, true, false, false, PlanningDominates},
  };
  return kChecks;
}

}  // namespace pgvise::plan_checks