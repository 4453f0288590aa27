// pg_stat_statements as counters: every statement's calls, rows, execution
// and planning time and buffer use, with the window those counters cover
// (pg_stat_statements_info: stats_reset, dealloc). One query each.
//
// Where it sits: a catalog look-up (core <- catalog) for the advisor's
// workload-pattern step (advisor/patterns.h). advisor/workload.cc reads the
// same view for a different purpose — the statements to optimise, deduplicated,
// INSERT ... VALUES left out — so it keeps its own narrower query; this one
// keeps every top-level statement of the database, INSERTs included, with
// the counters patterns are judged by.
//
// The window: pg_stat_statements counts from its last full reset
// (pg_stat_statements_info.stats_reset, PostgreSQL 14+). An entry evicted
// when the view is full (pg_stat_statements.max; `dealloc` counts evictions)
// starts again from zero when its statement next runs, so after evictions a
// statement's counters may cover less than the window: rates computed over
// the window are then lower bounds. Both are reported, never hidden.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/session.h"
#include "core/status.h"

namespace pgvise {

// One pg_stat_statements entry (top-level, current database).
struct StatementCounters {
  std::string queryid;
  std::string query;  // normalised text: constants are $n
  double calls = 0;
  double rows = 0;  // rows returned or affected, all calls together
  double total_exec_ms = 0, mean_exec_ms = 0;
  double plans = 0, total_plan_ms = 0;  // 0 unless pg_stat_statements.track_planning
  double shared_blks_hit = 0, shared_blks_read = 0;
  double RowsPerCall() const { return calls > 0 ? rows / calls : 0; }
  double BuffersPerCall() const {
    return calls > 0 ? (shared_blks_hit + shared_blks_read) / calls : 0;
  }
};

// What the counters cover.
struct StatementWindow {
  bool known = false;       // pg_stat_statements_info was readable (PG14+)
  double seconds = 0;       // now() - stats_reset
  std::string stats_reset;  // timestamp text
  int64_t dealloc = 0;      // entries evicted since the reset
  int64_t max_entries = 0;  // pg_stat_statements.max (0 unknown)
};

// The `limit` most-called and the `limit` most time-consuming top-level
// statements of the current database (the union: a cheap statement called
// 100,000 times and an expensive one called twice are both patterns'
// material). NotFound when the extension is not installed here.
Status ReadStatementCounters(Session& session, int limit, std::vector<StatementCounters>* out);

// pg_stat_statements_info and pg_stat_statements.max. known=false (not an
// error) on a server without pg_stat_statements_info.
Status ReadStatementWindow(Session& session, StatementWindow* out);

}  // namespace pgvise
