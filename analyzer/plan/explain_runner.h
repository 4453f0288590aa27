// ExplainRunner: runs EXPLAIN (FORMAT JSON) for one SQL statement on a live
// server through core/session.h and returns the plan JSON text, ready for
// ReadPlan (analyzer/plan/plan.h). `pgvise explain --db`, `pgvise review --db`,
// the advisor's what-if costing (HypoPG) and the rewriter's --verify all get
// their plans here, so the generic-plan handling lives in one place.
//
// Statements with `$n` parameters (pg_stat_statements text, application
// queries) have no values to plan with. The parameters are counted by parsing
// the statement (libpg_query), never by pattern matching, and then:
//   - PG 16+: EXPLAIN (GENERIC_PLAN, FORMAT JSON) <sql>;
//   - PG 13-15: PREPARE p AS <sql>; SET plan_cache_mode = force_generic_plan;
//     EXPLAIN (FORMAT JSON) EXECUTE p(NULL, ...); DEALLOCATE p; and the
//     previous plan_cache_mode is restored. DEALLOCATE always runs: a prepared
//     statement keeps its cached generic plan when hypothetical indexes change
//     (HypoPG sends no invalidation), so re-using it would silently ignore a
//     new hypothetical index.
// Substituting NULL literals into the text is not an alternative: `col = NULL`
// folds to false and the plan is meaningless.
//
// Everything here is allowed in a READ ONLY session. ANALYZE executes the
// statement; with `$n` parameters there are no values to execute with, so
// ANALYZE is refused for them. Every EXPLAIN — with ANALYZE, and without it
// too, since the planner runs IMMUTABLE functions of constants while it
// plans — runs in a transaction of its own (Session::QueryRolledBack):
// BEGIN TRANSACTION READ ONLY ... ROLLBACK, rolled back also after an error.
// It is read-only whatever the session's defaults have become, and nothing
// the statement does outlives it: a write is refused, a session-level
// set_config() is undone. (A hostile file's first statement
// `SELECT set_config('default_transaction_read_only', 'off', false)` would
// otherwise make the session writable for the next one.) Only when the
// caller already has a transaction open (advisor --verify measures DML on a
// test database inside its own BEGIN ... ROLLBACK) does the statement run in
// the caller's transaction, and the caller owns the rollback.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/session.h"
#include "core/status.h"

namespace pgvise {

struct ExplainOptions {
  bool analyze = false;             // EXPLAIN ANALYZE: executes the statement
  bool buffers = false;             // BUFFERS (meaningful with analyze)
  bool verbose = false;             // VERBOSE: output columns, schema-qualified names
  bool settings = false;            // SETTINGS: non-default planner settings in the plan
  bool costs_only_generic = false;  // force the generic-plan path even without $n (tests)
};

// Runs EXPLAIN for `sql` (one statement, no trailing semicolon needed) and
// stores the JSON text (`[ { "Plan": ... } ]`) in *plan_json. Parse errors
// of `sql` are InvalidInput; server errors are Database.
Status ExplainStatement(Session& s, const std::string& sql, const ExplainOptions& o,
                        std::string* plan_json);

// One statement of a batch (ExplainBatch): planned as written (no `$n`), as
// its generic plan (`$n`, no values), or once per value set (custom plans:
// each set one literal or NULL per parameter, as PREPARE ... EXECUTE would
// bind them).
struct ExplainJob {
  std::string sql;
  int params = -1;  // the $n count when known (CountParams); -1: parsed here
  std::vector<std::vector<std::optional<std::string>>> value_sets;
  // Filled in: the first failure, or every plan (one, or one per value set).
  Status status;
  std::string sqlstate;
  std::vector<std::string> plans;
};

// EXPLAIN for many statements in one pipeline (Session::Pipeline): one round
// trip per 64 statements instead of one to five each. Each plan is what
// ExplainStatement gives for the statement alone (each EXPLAIN in its own
// rolled-back READ ONLY transaction; the generic and custom plans through a
// prepared statement with plan_cache_mode set for that transaction only).
// ANALYZE is refused for statements with `$n` and no values, as there.
// Fails only when the batch could not be sent; each job has its own status.
Status ExplainBatch(Session& s, const ExplainOptions& o, std::vector<ExplainJob>* jobs);

// The highest $n used in `sql` (0 when none), found by parsing it. Fails with
// InvalidInput when `sql` does not parse or holds more than one statement.
Status CountParams(const std::string& sql, int* count);

}  // namespace pgvise
