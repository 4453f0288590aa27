// Functions and types as the live database describes them: pg_proc rows
// (volatility, signature, an inlinable LANGUAGE sql body) and pg_type rows
// (domains down to their base type with every constraint on the way, enums).
//
// Part of the catalog module (catalog/catalog.h is the table snapshot). Only
// the names a command asks about are read, in ONE query per kind whatever the
// number of names or files: `pgvise review --db` asks for every function an
// ADD COLUMN DEFAULT calls and every type an ADD COLUMN / ALTER COLUMN TYPE
// names; `pgvise rewrite` asks for every function its statements call. Rows
// carry their schema's position in the session's current_schemas(true), so
// the callers resolve an unqualified name the way the parser would without
// asking again. Built-in names the callers know without a server are in
// catalog/builtin_functions.h.
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>

#include "core/session.h"
#include "core/status.h"

namespace pgvise {

// One pg_proc row: whether a DEFAULT makes ADD COLUMN rewrite the table is
// decided by the volatility PostgreSQL recorded for the function, not by a
// list of known names; the rewriter asks whether a call is volatile,
// set-returning or an aggregate.
struct FunctionInfo {
  std::string schema, name;
  std::string identity_args;  // pg_get_function_identity_arguments: "code integer, text"
  std::string arg_types;      // proargtypes as text ("23 25"): the signature, without names
  char volatility = 'v';      // pg_proc.provolatile: 'i' immutable, 's' stable, 'v' volatile
  char kind = 'f';            // pg_proc.prokind: 'f' function, 'a' aggregate, 'w' window, 'p'
  bool returns_set = false;   // proretset
  int nargs = 0;              // pronargs
  int nargdefaults = 0;       // pronargdefaults
  bool variadic = false;      // provariadic <> 0
  int path_position = 0;      // 1-based in current_schemas(true); 0: schema not on the path
  // A LANGUAGE sql function the planner may inline (not SECURITY DEFINER,
  // STRICT, set-returning, or with SET options), and its body (prosrc): a
  // VOLATILE one whose body is `SELECT <expression without volatile calls>`
  // is replaced by that expression, and then no longer rewrites the table.
  bool inlinable_sql = false;
  std::string body;
};

// Every overload of every function name asked for (keyed by proname, all
// schemas).
struct FunctionCatalog {
  std::multimap<std::string, FunctionInfo> by_name;
  // What inlining a LANGUAGE sql body gave (volatility, note), per function,
  // filled by the analyzer's volatility rules: a body is parsed once however
  // many DEFAULTs call it.
  mutable std::map<const FunctionInfo*, std::pair<char, std::string>> inlined;
};

// One pg_type row: whether ADD COLUMN or ALTER COLUMN TYPE to it rewrites the
// table depends on what it is below its name. A domain with constraints (its
// own or a domain's it is built on) makes PostgreSQL check every row, by
// rewriting the table; a domain without them behaves as its base type.
struct TypeInfo {
  std::string schema, name;  // "" schema: created by the file unqualified (first on the path)
  char kind = 'b';           // pg_type.typtype: 'b' base, 'd' domain, 'e' enum, 'c', 'r', 'm', 'p'
  // Domain: its base type at the bottom of the domain chain, as format_type
  // prints it with the domain's modifier ("character varying(40)").
  std::string base;
  // Domain: every constraint of it and of the domains under it,
  // "d_check: CHECK ((VALUE > 0)); d_nn: NOT NULL"; "" when none.
  std::string constraints;
  bool has_default = false;  // domain: some domain of the chain has a DEFAULT
  int path_position = 0;     // 1-based in current_schemas(true); 0: schema not on the path

  std::string Qualified() const { return schema.empty() ? name : schema + "." + name; }
};

// Every pg_type row of every type name asked for (keyed by typname, all
// schemas).
struct TypeCatalog {
  std::multimap<std::string, TypeInfo> by_name;
};

// Adds every overload, in every schema, of each of `names` (pg_proc.proname):
// one query, none when `names` is empty. `queries` (optional) counts it.
Status LoadFunctions(Session& session, const std::set<std::string>& names, FunctionCatalog* out,
                     int* queries = nullptr);

// Adds every pg_type row named by one of `names` (typname, without schema or
// []), a domain followed down its chain of domains: one query, none when
// `names` is empty.
Status LoadTypes(Session& session, const std::set<std::string>& names, TypeCatalog* out,
                 int* queries = nullptr);

// A text[] literal for `= ANY($1::text[])`: every element double-quoted so
// names with commas, braces or spaces survive.
std::string TextArrayLiteral(const std::set<std::string>& names);

}  // namespace pgvise
