// Verify: proves one rewrite on a live database before it is proposed.
//
// `pgvise rewrite --db URI` calls this per rewritten statement. Two gates,
// each named in the report by the method that applied it:
//
//  estimate     (always with --db) EXPLAIN (FORMAT JSON) both forms, read-only
//               and rolled back, never run: total cost before/after and the
//               number of SubPlans (the per-outer-row subqueries a rewrite
//               removes). A rewrite not cheaper by estimate is withheld.
//  measurement  (--verify) run both forms, each in its own READ ONLY
//               transaction rolled back, under the session's
//               statement_timeout: one warm-up run each (its rows are
//               compared as multisets: sorted, NULLs distinct from every
//               value), then up to `runs` timed runs each, interleaved
//               original/rewrite and alternating which goes first (so a
//               drift in machine load falls on both), within a time budget.
//               DecideSpeed compares the medians with a noise margin; a
//               rewrite measured slower beyond the margin is withheld and
//               its numbers shown, whatever the estimate said.
//
// A rewrite is proposed only when every gate that ran passes: results
// identical (measurement), cheaper by estimate, and not slower beyond the
// margin (measurement). The estimate can only be overruled towards "no".
//
// Where the estimate is known to mislead towards the rewrite
// (MisleadingEstimate), the estimate alone proposes nothing: the statement
// stays as written, with both costs and "run with --verify to measure", and
// only the measurement can propose it. Both shapes have the original probe
// an index once per outer row, which the planner prices as a cold read every
// time (no caching between loops), overstating the original:
//  - a SubPlan through an index: 4,864.5 -> 3,887.9 by estimate ran
//    8.8-18 ms -> 31.6-32.1 ms; TPC-H Q20 with keys at SF 1 ran
//    1,002 -> 1,531 ms (bench/rewrite.md);
//  - a LATERAL top-N through an index (a Limit over an index scan on the
//    inner side of a Nested Loop) that the rewrite drops
//    (topn-lateral-window, LATERAL -> row_number()): 100k users, 1M orders,
//    1.70M -> 116k by estimate, ran 3,568 -> 4,785 ms.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/session.h"
#include "core/status.h"

namespace pgvise {

// How the measurement gate times the two forms and what it calls noise.
struct MeasureOptions {
  int runs = 5;                // timed runs per form after one warm-up each (>= 1)
  double budget_ms = 10000;    // fewer runs when runs x (both warm-ups) would exceed this;
                               // none when one pair does (the warm-ups decide)
  double margin_ratio = 0.10;  // noise margin: at least this share of the original's median,
  double margin_min_ms = 1.0;  // at least this many ms,
  double spread_factor = 2.0;  // and at least this many median absolute deviations
};

enum class SpeedVerdict {
  kUnmeasured,   // not run (no --verify), or a form failed
  kFaster,       // rewrite median below the original's by more than the margin
  kWithinNoise,  // medians within the margin of each other
  kSlower,       // rewrite median above the original's by more than the margin
};
const char* SpeedVerdictName(SpeedVerdict v);  // "unmeasured", "faster", "within noise", "slower"

struct SpeedCheck {
  SpeedVerdict verdict = SpeedVerdict::kUnmeasured;
  double median_before = 0, median_after = 0;  // ms
  double margin_ms = 0;                        // the noise margin applied
  int runs = 0;                                // timed runs per form
};

// The measurement rule, on measured inputs (ms per run, same count or not):
// margin = max(margin_ratio x median(before), margin_min_ms,
//              spread_factor x max(MAD(before), MAD(after)));
// slower when median(after) > median(before) + margin, faster when
// median(after) < median(before) - margin, else within noise. Empty input:
// unmeasured.
SpeedCheck DecideSpeed(const std::vector<double>& before_ms, const std::vector<double>& after_ms,
                       const MeasureOptions& o = {});

struct VerifyOptions {
  // Run both forms and compare results and timings; false: EXPLAIN only (what
  // `rewrite --db` does without --verify: read-only, never executes them).
  bool execute = true;
  MeasureOptions measure;
};

struct VerifyResult {
  double cost_before = 0, cost_after = 0;
  int subplans_before = 0, subplans_after = 0;
  // The original runs a SubPlan whose scan goes through an index (a per-row
  // lookup): the estimate prices each probe as a cold read, so it tends to
  // overstate the original — a rewrite cheaper by estimate may still be slower.
  bool subplan_index_before = false;
  // Limits over an index scan on the inner side of a Nested Loop: a LATERAL
  // top-N probed once per outer row through an index, in each form.
  int lateral_index_probes_before = 0, lateral_index_probes_after = 0;
  bool explained = false;  // both forms EXPLAINed
  bool executed = false;   // both forms ran to completion (warm-up)
  bool before_timed_out = false, after_timed_out = false;
  bool results_failed = false;                  // a form failed to run (not a timeout)
  std::string failure;                          // what failed: EXPLAIN of a form, or running it
  double ms_before = 0, ms_after = 0;           // medians of the timed runs (the warm-up when none)
  std::vector<double> runs_before, runs_after;  // the timed runs, in order
  int64_t rows_before = 0, rows_after = 0;
  bool results_equal = false;  // meaningful when both ran to completion
  SpeedCheck speed;            // the measurement gate (kUnmeasured without --verify)
  bool proposed = false;
  // The gate that settled the decision: "estimate" (EXPLAIN costs),
  // "measurement" (timed runs), "results" (rows differ, or a form failed or
  // timed out), "explain" (a form could not be planned).
  std::string decided_by;
  std::string note;  // the decision in one sentence, with its numbers
};

// Why the estimate is known to mislead towards the rewrite, in one clause
// ("the original looks up an index ..."), "" when it is not: the original
// runs a SubPlan through an index, or has more LATERAL index probes than
// the rewrite.
std::string MisleadingEstimate(const VerifyResult& v);

// The proposal rule on what was checked (pure; VerifyRewrite ends with it):
// fills proposed, decided_by and note from the costs, results and timings.
// `measured`: the measurement gate ran (--verify). Without it, a rewrite
// cheaper by estimate where MisleadingEstimate says the estimate misleads is
// not proposed.
void DecideProposal(bool measured, VerifyResult* v);

// The planner's total cost of `sql`: EXPLAIN (FORMAT JSON) in a rolled-back
// READ ONLY transaction, never run (what the estimate gate reads).
Status ExplainCost(Session& session, const std::string& sql, double* cost);

// Errors only for a broken session; query failures are reported in `out`.
Status VerifyRewrite(Session& session, const std::string& original, const std::string& rewritten,
                     const VerifyOptions& o, VerifyResult* out);

}  // namespace pgvise
