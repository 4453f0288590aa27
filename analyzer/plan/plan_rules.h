// Plan checks: the rules of area `plan` (rules/plan/<id>.yaml), each a C++
// handler registered under the same id (analyzer/plan/plan_checks.cc). They read a
// Plan (analyzer/plan/plan.h) and report Findings that name the node (its path,
// node type and relation), the numbers behind the problem and a concrete fix.
// `pgvise explain` calls them on a plan file or a plan it fetched itself;
// `pgvise review --db` calls them on every statement's plan.
//
// A plan without ANALYZE has estimates only: then only the checks that
// estimates support run (PlanCheckNotes says which, for RenderOptions.notes).
// Findings come out worst first: by severity, then by the time or rows at
// stake.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "analyzer/plan/plan.h"
#include "core/finding.h"
#include "core/rule.h"

namespace pgvise {

struct PlanCheckContext {
  // Rule metadata: enabled flag, severity, thresholds. Required by CheckPlan
  // (thresholds live only in the YAML; null throws std::logic_error).
  // PlanCheckNotes takes null as "every rule enabled".
  const RuleBook* rules = nullptr;
  std::string file;  // for Location.file
  // The text the plan was read from, when it is a file the user gave (not a
  // plan pgvise fetched for a statement): findings then carry the line:col
  // of their node in it (LocatePlanNode). Null: no line/column.
  const SourceText* source = nullptr;
};

std::vector<Finding> CheckPlan(const Plan& plan, const PlanCheckContext& ctx);

// What the output should say once about this plan: which checks could not
// run and why (no ANALYZE, no BUFFERS, TIMING OFF).
std::vector<std::string> PlanCheckNotes(const Plan& plan, const PlanCheckContext& ctx);

// The ids of every plan handler (for RuleBook::CheckHandlers).
std::set<std::string> PlanRuleIds();

// Columns a deparsed plan condition ("((a = 1) AND (b > $1))") tests, found by
// parsing it with libpg_query. Used to name the index or the extended
// statistics that would serve a predicate.
struct ConditionColumns {
  bool parsed = false;
  int and_terms = 0;                     // top-level AND-ed terms (1 when no AND)
  std::vector<std::string> equality;     // col = x, col IN (...), col IS NULL
  std::vector<std::string> range;        // col < x, BETWEEN, LIKE 'prefix%'
  std::vector<std::string> like_prefix;  // subset of range: needs text_pattern_ops
  std::vector<std::string> unindexable;  // LIKE '%x', col <> x: a B-tree cannot serve
  std::vector<std::string> all;          // every column mentioned, first-seen order
};
ConditionColumns AnalyzeCondition(const std::string& condition);

}  // namespace pgvise
