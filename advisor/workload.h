// Workload: the statements the advisor optimises for, each with its weight
// (how often it runs) and its QueryFacts. The first step of `pgvise advise`.
//
// Sources, merged into one list:
//   - pg_stat_statements: query text (with $n parameters), calls, total/mean
//     time and rows since its last reset;
//   - SQL files: each statement once, or `calls` times when a comment before
//     it says `-- pgvise: calls=500`; `rows=12.5` there is its rows per call
//     (pg_stat_statements' rows / calls), which fits the weights of its
//     parameter values (advisor/parameters.h);
//   - pg_qualstats (when installed): the predicate constants and
//     selectivities that pg_stat_statements normalises away. They feed partial
//     index candidates (`WHERE status = 'open'` needs the constant).
// Statements are deduplicated by libpg_query fingerprint (calls add up).
// Utility and DDL statements are skipped and counted; so are statements that
// do not parse. Nothing here writes to the database.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "analyzer/sql/query_facts.h"
#include "catalog/catalog.h"
#include "catalog/lookups.h"
#include "core/session.h"
#include "core/status.h"

namespace pgvise {

struct WorkloadStatement {
  std::string sql;
  std::string fingerprint;
  std::string source;  // "file.sql:12:1" or "pg_stat_statements"
  double calls = 1;
  double total_time_ms = 0;  // pg_stat_statements only
  double mean_time_ms = 0;
  double rows = 0;          // rows per call (pg_stat_statements), 0 when unknown
  bool has_params = false;  // $n: planned generically
  QueryFacts facts;
  // "pg_qualstats" when a `$n` of this normalised statement was replaced by a
  // constant pg_qualstats recorded (see ApplyQualConstants); `normalized_sql`
  // then keeps pg_stat_statements' text.
  std::string constant_source;
  std::string normalized_sql;
  // An UPDATE/DELETE the connected role may not EXPLAIN as written (no
  // UPDATE/DELETE privilege on its table): `sql` is then its row-finding
  // SELECT (analyzer/sql/write_as_read.h), costed in its place, and
  // `written_sql` the statement as the workload runs it. `facts` stay the
  // write's, so its write overhead is still counted.
  std::string written_sql;
};

struct Workload {
  std::vector<WorkloadStatement> statements;
  std::vector<QualConstant> qual_constants;
  // Row changes per table (as written in the SQL) from the workload's own
  // INSERT/UPDATE/DELETE/MERGE: calls x rows per call (1 when unknown).
  std::map<std::string, double> table_writes;
  bool from_pg_stat_statements = false;
  double pgss_period_s = 0;  // seconds pg_stat_statements' counters cover (0 unknown)
  int skipped_utility = 0;   // DDL, SET, BEGIN ... (not planned)
  int skipped_unparsable = 0;
  int skipped_other = 0;      // statements on system catalogs, pgvise's own, ...
  int merged_duplicates = 0;  // folded into an earlier statement by fingerprint
  std::vector<std::string> notes;
};

struct WorkloadOptions {
  int pgss_limit = 200;  // top statements by total time
  double pgss_min_calls = 1;
  bool use_qualstats = true;
};

// Adds one SQL file's statements. Fails only when the file can't be read or
// split (exit code 2 material); a bad statement is skipped and counted.
Status AddSqlFile(const std::string& path, Workload* w);
// Adds statements from SQL text already in memory (tests, stdin).
Status AddSqlText(const std::string& name, const std::string& text, Workload* w);
// Adds the top statements of pg_stat_statements for the current database.
Status AddPgStatStatements(Session& s, const WorkloadOptions& o, Workload* w);
// Reads pg_qualstats constants when the extension is installed (no-op otherwise).
Status AddQualstats(Session& s, Workload* w);

// Where `pgvise advise` reads its workload: SQL files and/or
// pg_stat_statements (`from`: auto = the files when there are any, else
// pg_stat_statements; files | pg_stat_statements | both), then the
// pg_qualstats constants when the extension is installed.
struct WorkloadSource {
  std::vector<std::string> files;
  std::string from = "auto";
  WorkloadOptions options;
};
// Collects the whole workload. kInvalidInput when a file can't be read or
// nothing plannable is left (the message counts what was skipped);
// kDatabase only when pg_stat_statements is installed but can't be read.
Status CollectWorkload(Session& s, const WorkloadSource& src, Workload* w);

// Gives normalised statements (pg_stat_statements' `status = $1`) back the
// rare constant pg_qualstats saw for that qual, so partial-index candidates
// can be generated and costed: a generic plan for `$1` never uses a partial
// index, a plan for `status = 'stuck'` can. A `$n` is replaced only when
//   - it is the value of a plain `column = $n` (not under OR / NOT),
//   - pg_qualstats recorded `=` constants for that table.column, and the most
//     frequent one is rare per pg_stats (MCV frequency < rare_frequency on a
//     column of at most max_distinct values, as for SQL-file constants),
//   - it is the highest-numbered parameter (the rest stay $1..$n-1, which a
//     PREPARE without types accepts).
// Statements changed get constant_source "pg_qualstats". Returns how many.
int ApplyQualConstants(const Catalog& catalog, double rare_frequency, double max_distinct,
                       Workload* w);

// Adds one statement (already parsed facts or not); deduplicates by
// fingerprint. Returns false when it was skipped (utility / unparsable).
bool AddStatement(const Statement& stmt, const std::string& source, double calls, Workload* w,
                  double rows_per_call = 0);

}  // namespace pgvise
