// Internal to the plan checks (analyzer/plan/plan_rules.cc runs them,
// analyzer/plan/plan_checks.cc holds their table and shared helpers, and
// plan_checks_{estimates,memory,access,overhead}.cc the handlers): the handler
// table and what a handler sees. Not for other modules: they call CheckPlan
// (analyzer/plan/plan_rules.h).
#pragma once

#include <string>
#include <vector>

#include "analyzer/plan/plan.h"
#include "analyzer/plan/plan_rules.h"
#include "core/finding.h"
#include "core/rule.h"

namespace pgvise::plan_checks {

// A node with what its handlers need to know about where it sits.
struct NodeRef {
  const PlanNode* node = nullptr;
  const PlanNode* parent = nullptr;
  bool under_limit = false;  // a Limit above stops this node early, by design
};

struct ScoredFinding {
  Finding finding;
  double impact = 0;  // ms or rows at stake: orders findings of one severity
};

class CheckEnv {
 public:
  CheckEnv(const Plan& plan, const std::vector<NodeRef>& nodes, const Rule& rule, Severity severity,
           const std::string& file, std::vector<ScoredFinding>* out)
      : plan(plan), nodes(nodes), rule_(rule), severity_(severity), file_(file), out_(out) {}

  const Plan& plan;
  const std::vector<NodeRef>& nodes;  // every node, parents first

  // A threshold from the rule's YAML (Rule::Threshold: a missing name is a bug).
  double T(const char* name) const { return rule_.Threshold(name); }
  // Adds a finding about `node` (path, type and relation filled in).
  Finding& Emit(const PlanNode& node, double impact, std::string message, std::string fix);
  // Grades `f` by the share of the query `node` accounts for (pgMustard-style):
  // its time over the execution time with ANALYZE timing, else its total cost
  // over the root's. At or above the YAML's `warning_share` it is a warning,
  // below it info; the message and evidence say the share.
  void GradeByShare(Finding& f, const PlanNode& node) const;

 private:
  const Rule& rule_;
  Severity severity_;
  const std::string& file_;
  std::vector<ScoredFinding>* out_;
};

struct PlanCheck {
  const char* id;
  Severity severity;   // default; the YAML's severity wins when a RuleBook is given
  bool needs_analyze;  // false: estimates alone support the check
  bool needs_buffers;
  bool needs_timing;
  void (*run)(CheckEnv& env);
};

const std::vector<PlanCheck>& Checks();

// The relation a node is about, or "" when it is about none in particular:
// a scan's own relation; for any other node, the one relation every scan
// below it reads (a Hash over one Seq Scan), else the one relation its sort
// or group keys name (a Sort by o.note above a join is about o's table);
// else "" (a join, a Sort by columns of two tables).
std::string RelationOf(const PlanNode& n);

// Every relation scanned below `n` (itself included), first seen first.
std::vector<std::string> RelationsBelow(const PlanNode& n);

// Number formatting for messages: 1234567 -> "1,234,567"; ms -> "12.3 ms";
// kB -> "9.1 MB"; a work_mem value that holds `kb` -> "16MB".
std::string Count(double v);
std::string Ms(double ms);
std::string Kb(double kb);
std::string Percent(double fraction);  // 0.986 -> "99%", 0.999 -> "99.90%"
std::string WorkMemFor(double kb);

// Shared by the handlers (plan_checks.cc).
bool IsScan(const PlanNode& n);
// Time a node took over all its loops (EXPLAIN's times are per loop).
double NodeTotalMs(const PlanNode& n);
// "Seq Scan on orders", or the node type alone when it is about no relation.
std::string NodeLabel(const PlanNode& n);
std::string Join(const std::vector<std::string>& v, const char* sep = ", ");
// " (now 4MB)" when the plan's SETTINGS name `setting`, else "".
std::string Current(const Plan& p, const char* setting);
// A relation as RelationOf names it ("orders", "shop.orders") written as SQL.
std::string SqlRelation(const std::string& rel);
std::string SqlColumns(const std::vector<std::string>& cols);
std::string SqlRelations(const std::vector<std::string>& rels);
// The CREATE INDEX that would serve `cc` on `rel`, or "" when none would.
std::string IndexFor(const std::string& rel, const ConditionColumns& cc);

// The handlers, one per rule id, by the file that holds them.
// plan_checks_estimates.cc
void RowMisestimate(CheckEnv& env);
// plan_checks_memory.cc
void SortSpills(CheckEnv& env);
void HashJoinBatches(CheckEnv& env);
void HashAggSpills(CheckEnv& env);
void BitmapLossy(CheckEnv& env);
// plan_checks_access.cc
void SeqScanFilter(CheckEnv& env);
void NestedLoopLoops(CheckEnv& env);
void IndexOnlyHeapFetches(CheckEnv& env);
void AppendWithoutPruning(CheckEnv& env);
void ReadsFromDisk(CheckEnv& env);
// plan_checks_overhead.cc
void ParallelNotLaunched(CheckEnv& env);
void SubplanPerRow(CheckEnv& env);
void JitDominates(CheckEnv& env);
void PlanningDominates(CheckEnv& env);

}  // namespace pgvise::plan_checks
