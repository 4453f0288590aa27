// Built-in functions whose volatility pgvise knows without a server: the one
// list the analyzer (query facts, ADD COLUMN DEFAULT) and the rewriter
// (whether a subquery may move) share.
//
// With a database, pg_proc decides (catalog/functions.h); this list is what
// decides when there is none, or for a name pg_proc was not asked about. It
// holds exactly the names PostgreSQL 15 marks VOLATILE (provolatile = 'v',
// checked against pg_proc of a PostgreSQL 15 cluster with uuid-ossp and
// pgcrypto; dblink's functions are VOLATILE by its extension script), plus
// random_normal (VOLATILE since PostgreSQL 16). STABLE
// functions are not on it, however "live" they look: statement_timestamp(),
// txid_current() and pg_current_xact_id() are constant within a statement,
// so ADD COLUMN ... DEFAULT txid_current() evaluates once and does not
// rewrite the table, and a subquery calling them may move.
#pragma once

#include <string_view>

namespace pgvise {

// `name` unqualified, lower case (pg_proc.proname).
bool IsBuiltinVolatile(std::string_view name);

}  // namespace pgvise
