// --verify: measure recommendations for real, on a test or staging database.
//
// What-if costs are the planner's estimates with hypothetical indexes; GIN
// indexes can't be simulated at all. --verify closes the gap where the user
// has a database they may build indexes on: for each of the top
// recommendations, one at a time, it runs the queries the index helps with
// EXPLAIN ANALYZE (inside BEGIN ... ROLLBACK, so DML leaves no trace), builds
// the index (plain CREATE INDEX: this is not production), runs them again,
// records the measured times and whether the plan used the index, and drops
// the index. Statements with $n parameters have no values to run with and
// are skipped with a note. A lock another session holds (the build's SHARE
// lock behind an open write transaction, say) waits at most lock_timeout;
// that recommendation is then reported unmeasured (`verify_skipped:
// lock_timeout` and a note) and the run goes on. The session must be writable: the CLI opens one
// only when --verify is given, and says so.
#pragma once

#include "advisor/advisor.h"
#include "core/session.h"

namespace pgvise {

struct VerifyOptions {
  int top = 5;   // recommendations to verify (GIN ones always included)
  int runs = 2;  // EXPLAIN ANALYZE runs per query; the fastest counts (warm cache)
  int query_timeout_ms =
      30000;  // a slower query counts as this long (the speed-up is then a lower bound)
  // The workload's statements as written (the caller passes every one; the
  // report keeps only the reads). An INSERT into a recommended index's table
  // with no $n is timed before and after the build, rolled back, for the
  // write cost the index adds (insert_overhead_us_per_row).
  std::vector<std::string> workload_sql;
};

// Adds measured evidence (measured_ms_before, measured_ms_after,
// measured_speedup, used_by_plan) to the recommendations it verified.
Status VerifyRecommendations(Session& writable, const VerifyOptions& o, AdviseReport* rep);

// --verify builds indexes, views and copies: on a hot standby it cannot, so
// it is refused before minutes of analysis rather than at the first CREATE
// INDEX. Not ok (a Database status saying why) on a standby.
Status CheckCanVerify(Session& s);

// The whole --verify step of `pgvise advise`: the top index recommendations
// (above), then each partitioning, materialized view and statistics object
// through its own advisor's Verify hook.
Status VerifyAdvice(Session& writable, const AdviseOptions& ao, const VerifyOptions& o,
                    AdviseReport* rep);

}  // namespace pgvise
