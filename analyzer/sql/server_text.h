// Server-plannable text for pg_stat_statements' normalized statements.
//
// Where it sits: advisor/workload reads statements from pg_stat_statements and
// calls this before anything parses or plans them; it reads the text with
// PgTree (analyzer/sql/pg_tree.h) and changes only bytes the tree locates.
//
// pg_stat_statements replaces every constant by `$n`. Two shapes that were
// valid SQL with their constants are not, as the server sees them, once the
// constant is a parameter (libpg_query accepts both; PREPARE does not):
//
//   now() - interval '5 minutes'   ->  now() - interval $2
//       A typed literal (`type 'string'`) takes a string constant only; the
//       server's grammar rejects `interval $2`: "syntax error at or near $2".
//       Written as CAST($2 AS interval) it plans with the same type.
//   bid = 7 % 10 + 1               ->  bid = $1 % $2 + $3
//       Two untyped parameters on both sides of an arithmetic operator leave
//       the server no way to choose an operator: "operator is not unique:
//       unknown % unknown". The constants were numbers (a quoted string
//       would not have been an operand of `%`), so CAST($1 AS bigint): an
//       integer compared with an int4 column still uses the column's index
//       (int48 operators), and a decimal constant would have made the
//       expression numeric, which plans alike for costing.
//
// Nothing else is changed: a statement that needs no change comes back as it
// is, and a change whose result no longer parses is not made.
#pragma once

#include <string>
#include <vector>

namespace pgvise {

// `sql` with the two shapes above rewritten; `changes` (may be null) gets one
// short description per rewrite, e.g. "interval $2 -> CAST($2 AS interval)".
std::string ServerPlannableText(const std::string& sql, std::vector<std::string>* changes);

}  // namespace pgvise
