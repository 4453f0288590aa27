// Verify: proves one rewrite on a live database before it is proposed.
//
// `pgvise rewrite --db URI --verify` calls this per rewritten statement:
//  1. EXPLAIN (FORMAT JSON) both forms: total cost before/after and the
//     number of SubPlans (the per-outer-row subqueries the rewrite removes);
//  2. runs each in its own READ ONLY transaction, rolled back, under the session's
//     statement_timeout and compares the results as multisets (rows sorted,
//     NULLs kept distinct from every value);
//  3. proposes the rewrite only when the results agree and the estimated cost
//     is lower. A rewrite that is not cheaper by estimate is reported, not
//     proposed; so is one whose results differ or fail to run.
#pragma once

#include <cstdint>
#include <string>

#include "core/session.h"
#include "core/status.h"

namespace pgvise {

struct VerifyOptions {
  // Run both forms and compare results; false: EXPLAIN only (what `rewrite
  // --db` does without --verify: read-only, never executes the statements).
  bool execute = true;
};

struct VerifyResult {
  double cost_before = 0, cost_after = 0;
  int subplans_before = 0, subplans_after = 0;
  // The original runs a SubPlan whose scan goes through an index (a per-row
  // lookup): the estimate prices each probe as a cold read, so it tends to
  // overstate the original — a rewrite cheaper by estimate may still be slower.
  bool subplan_index_before = false;
  bool executed = false;
  bool before_timed_out = false, after_timed_out = false;
  double ms_before = 0, ms_after = 0;
  int64_t rows_before = 0, rows_after = 0;
  bool results_equal = false;  // meaningful when both ran to completion
  bool proposed = false;
  std::string note;  // why not proposed, or what could not be checked
};

// Errors only for a broken session; query failures are reported in `out`.
Status VerifyRewrite(Session& session, const std::string& original, const std::string& rewritten,
                     const VerifyOptions& o, VerifyResult* out);

}  // namespace pgvise
