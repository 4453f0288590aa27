// Representative parameter values: what a `$n` statement is costed with.
// A step of `pgvise advise` between the workload (advisor/workload.h) and
// the what-if costing (advisor/whatif.h): for each statement written with
// `$n` parameters it derives a small weighted sample of parameter sets, and
// WhatIf costs the statement as the weighted mean of their custom plans
// instead of once as a generic plan. advisor/parameters.cc explains how the
// sample is drawn, with a worked example.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "advisor/workload.h"
#include "analyzer/plan/explain_runner.h"
#include "catalog/catalog.h"
#include "core/session.h"
#include "core/status.h"

namespace pgvise {

// One assignment of values to $1..$n with its share of the statement's calls.
struct ParamSet {
  std::vector<std::optional<std::string>> values;  // [i] is $(i+1); nullopt sends NULL
  double weight = 0;                               // the sets of a statement sum to 1
  std::string label;                               // "tenant_id = 7 (8.0%); ts >= ..." for reports
};

// How one statement is costed.
struct StatementParams {
  std::vector<ParamSet> sets;  // empty: a generic plan
  std::string source;          // where the values came from: pg_qualstats, pg_stats, or both
  std::string generic_reason;  // why the plan is generic when `sets` is empty
  int params = 0;              // highest $n (0: the statement has none)
  // The rows the statement returns are not the rows its filters match: a
  // $n in LIMIT / OFFSET (costed with ParameterOptions' page, not the
  // workload's), GROUP BY, DISTINCT, an aggregate or a set operation (the
  // planner's group counts are guesses). Its recorded rows then can't fit
  // the weights.
  bool rows_not_matched = false;
  // "fitted to 8,700 rows per call recorded (the derived weights implied
  // 92,000)" when FitWeightsToRows moved the weights; empty otherwise.
  std::string fitted;

  bool custom() const { return !sets.empty(); }
  // "custom plans over 4 value sets from pg_stats" / "generic plan (no value for $3 ...)".
  std::string Describe() const;
};

struct ParameterOptions {
  int max_sets = 4;           // a handful: each set is one EXPLAIN per configuration
  std::string limit = "100";  // LIMIT $n: a page, not the generic plan's 10% of the rows
  std::string offset = "0";   // OFFSET $n
  // pg_stats values: the share of calls taken to follow the rows (a value
  // owning 8% of the rows gets 8% of them); the rest spread evenly over the
  // distinct values (parameters.cc says why). pg_qualstats' counts are used
  // as they are.
  double row_weight = 0.5;
};

// Derives the sample for one statement (no database round trip: pg_stats
// and pg_qualstats are already in `catalog` and `workload.qual_constants`).
StatementParams DeriveParameters(const WorkloadStatement& ws, const Catalog& catalog,
                                 const std::vector<QualConstant>& qual_constants,
                                 const ParameterOptions& o);

// Moves the weights of `params`' sets so that the rows they return on
// average equal `recorded_rows`, the rows per call pg_stat_statements
// recorded for the statement (rows / calls): of all such weightings the one
// closest to the derived weights (least Kullback-Leibler divergence, an
// exponential tilt; parameters.cc has the argument and a worked example).
// `set_rows[i]` is set i's rows as planned without new indexes. False, and
// nothing changed, when the rows can't tell the sets apart (a count(*), a
// LIMIT $n, every set within 1.5x) or the weights move by under 0.02.
bool FitWeightsToRows(const std::vector<double>& set_rows, double recorded_rows,
                      StatementParams* params);

// EXPLAIN (FORMAT JSON) of `sql` once per set, each a custom plan: PREPARE,
// then per set EXPLAIN EXECUTE with the set's values in its own rolled-back
// READ ONLY transaction with plan_cache_mode = force_custom_plan, then
// DEALLOCATE, also after a failure; one pipeline (ExplainBatch).
// plans[i] is set i's plan JSON. Any failure fails the whole call.
Status ExplainCustomPlans(Session& s, const std::string& sql, const std::vector<ParamSet>& sets,
                          std::vector<std::string>* plans);
// The same as one job of a larger batch (`params`: the $n count, -1 unknown).
ExplainJob CustomPlansJob(const std::string& sql, int params, const std::vector<ParamSet>& sets);

}  // namespace pgvise
