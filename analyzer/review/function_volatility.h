// Function volatility: whether the DEFAULT of an ADD COLUMN makes
// PostgreSQL rewrite the table. It sits in the analyzer between the facts
// review --db loads (pg_proc, one query per run for the names
// SqlVolatilityFunctionNames collects) and the review rule
// adding-field-with-volatile-default (analyzer/review/sql_rule_migration_rewrites.cc);
// the rule driver (analyzer/review/sql_rules.cc) also records each CREATE FUNCTION
// of the file through ParseCreateFunction. Flow: analyzer <- review rules.
//
// Why it matters for lock safety (PostgreSQL 15): ADD COLUMN takes ACCESS
// EXCLUSIVE. A DEFAULT without volatile functions is evaluated once and
// stored in pg_attribute.attmissingval, so the lock lasts a moment. A
// volatile DEFAULT must give every row its own value: the table is rewritten
// (new relfilenode, every index rebuilt) while all reads and writes wait.
// STABLE counts as non-volatile here: DEFAULT now() stores one timestamp.
//
// Worked example: my_schema.make_code() is VOLATILE in pg_proc.
// `ALTER TABLE t ADD COLUMN c text DEFAULT upper(my_schema.make_code())`:
// AddColumnDefaults finds the calls upper() and my_schema.make_code();
// ResolveVolatility finds the IMMUTABLE pg_catalog.upper(text) and the
// VOLATILE make_code(), so the rule fires, saying "my_schema.make_code() is
// VOLATILE in pg_proc (my_schema.make_code())". Had make_code been `LANGUAGE
// sql AS $$ SELECT 'p' $$` (VOLATILE by omission) the planner would inline
// it to a constant, and so does the model: no rewrite, no finding.
//
// Where it gives up (and what it assumes then):
// - Argument types are not resolved: overloads with a compatible argument
//   count that disagree make the call VOLATILE, and the message says so.
// - A name neither pg_proc nor the file's CREATE FUNCTION knows is left to
//   QueryFacts' list of known volatile built-ins; without --db the list is
//   all there is, so a user-defined function never fires offline.
// - Only a `SELECT <one expression>` (or RETURN / BEGIN ATOMIC with one such
//   statement) body is inlined, a few levels deep; deeper nesting, a FROM, a
//   sub-select, STRICT, SECURITY DEFINER, SET, SETOF or another language:
//   the function's declared volatility stands.
#pragma once

#include <string>
#include <vector>

#include "analyzer/review/sql_rules.h"

namespace pgvise::sqlrules {

// A function call in a DEFAULT expression, as written.
struct FunctionCall {
  std::string schema;  // "" when unqualified (the search_path decides)
  std::string name;
  int nargs = 0;
  int location = -1;  // statement-relative
  // "my_schema.make_code()" as written (arguments elided).
  std::string Text() const { return (schema.empty() ? "" : schema + ".") + name + "()"; }
};

// The DEFAULT of one ADD COLUMN, read from the statement's own parse tree
// (QueryFacts keeps only the deparsed text and a list-based volatility flag).
struct AddColumnDefault {
  std::string column;
  bool has_default = false;         // DEFAULT given (not serial / identity)
  std::vector<FunctionCall> calls;  // every FuncCall in the expression, outermost first
};
std::vector<AddColumnDefault> AddColumnDefaults(const std::string& sql);

// What pg_proc says about one call: the overloads PostgreSQL could pick
// (schema as written, else every schema of current_schemas(true) with a
// signature not hidden by an earlier schema; argument count compatible,
// counting defaults and VARIADIC). Argument types are not resolved, so when
// the candidates disagree the verdict is the most volatile one.
// A VOLATILE LANGUAGE sql candidate whose body is one expression is judged
// by that expression, as the planner inlines it (clauses.c inline_function):
// its calls are resolved the same way (an unknown name: the built-in list,
// else assumed volatile).
struct CallVolatility {
  bool found = false;     // some candidate exists
  char volatility = 'v';  // 'i' | 's' | 'v' (most volatile candidate, after inlining)
  bool disagree = false;  // candidates differ in volatility
  std::vector<SqlFunction> candidates;
  std::vector<char> effective;     // per candidate: its volatility after inlining
  std::vector<std::string> notes;  // per candidate: what inlining found ("" if not inlined)
  // "make_code() is VOLATILE in pg_proc (my_schema.make_code())" and the like;
  // `where` names the source of the candidates.
  std::string Describe(const FunctionCall& call, const std::string& where = "pg_proc") const;
};
CallVolatility ResolveVolatility(const SqlFunctionCatalog& catalog, const FunctionCall& call,
                                 int depth = 0);

// A CREATE [OR REPLACE] FUNCTION statement as a SqlFunction: the volatility
// it declares (VOLATILE when it says none), argument counts, and whether the
// planner may inline it (LANGUAGE sql, not STRICT / SECURITY DEFINER / SET /
// SETOF, body given as a string). false: not a CREATE FUNCTION.
bool ParseCreateFunction(const std::string& sql, SqlFunction* out);

}  // namespace pgvise::sqlrules
