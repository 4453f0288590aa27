// SQL review rules: the checks of areas `migration` (lock safety, the squawk
// class) and `query` (statement shapes that are slow or wrong), each a YAML
// file rules/<area>/<id>.yaml and a C++ handler registered under the same id
// (analyzer/sql_rule_migration.cc, analyzer/sql_rule_query.cc).
//
// `pgvise review` parses a file (analyzer/statement.h), and ReviewSqlFile runs
// every enabled rule over every parsed statement in order, with file-level
// state: a table created earlier in the file is new (indexing it needs no
// CONCURRENTLY), `SET lock_timeout` earlier protects later ACCESS EXCLUSIVE
// statements, a validated CHECK (col IS NOT NULL) earlier makes SET NOT NULL
// cheap, BEGIN ... COMMIT blocks forbid CONCURRENTLY. Every finding points at
// the token it is about (file:line:col), names the lock it takes, carries its
// evidence and a concrete safe alternative. With table sizes from a live
// database (--db), messages say how big the table is and a rule's
// `large_table_bytes` threshold raises warning to error.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "analyzer/statement.h"
#include "core/finding.h"
#include "core/rule.h"

namespace pgvise {

class Catalog;

// Table facts from a live database, when --db is given (keyed by table name as
// written in SQL, both "schema.table" and bare "table"); used to put sizes in
// messages, to raise severity for big tables, and by changing-column-type to
// tell a table rewrite from a catalog-only type change. Function volatility
// (SqlFunctionCatalog) decides adding-field-with-volatile-default.
// (Named SqlTableInfo, not TableInfo: analyzer/catalog.h already defines
// pgvise::TableInfo, and cmd_review includes both.)
struct SqlTableInfo {
  std::string name;  // "schema.table"
  int64_t total_bytes = 0;
  double rows = 0;
  // Column -> its type as format_type() prints it: "integer",
  // "character varying(20)", "numeric(10,2)", "timestamp(3) without time zone".
  std::map<std::string, std::string> column_types;
  // Columns that are a key or INCLUDE column of some index of the table.
  std::set<std::string> indexed_columns;
};
// A function as pg_proc describes it, when --db is given: whether a DEFAULT
// makes ADD COLUMN rewrite the table is decided by the volatility PostgreSQL
// recorded for the function, not by a list of known names.
struct SqlFunction {
  std::string schema, name;
  std::string identity_args;  // pg_get_function_identity_arguments: "code integer, text"
  std::string arg_types;      // proargtypes as text ("23 25"): the signature, without names
  char volatility = 'v';      // pg_proc.provolatile: 'i' immutable, 's' stable, 'v' volatile
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
// Every overload of every function name review looked up (keyed by proname,
// all schemas), from one pg_proc query per review run.
struct SqlFunctionCatalog {
  std::multimap<std::string, SqlFunction> by_name;
  // What inlining a LANGUAGE sql body gave (volatility, note), per function:
  // a body is parsed once however many DEFAULTs call it.
  mutable std::map<const SqlFunction*, std::pair<char, std::string>> inlined;
};

// A type as pg_type describes it, when --db is given: whether ADD COLUMN or
// ALTER COLUMN TYPE to it rewrites the table depends on what it is below its
// name. A domain with constraints (its own or a domain's it is built on)
// makes PostgreSQL check every row, by rewriting the table; a domain without
// them behaves as its base type.
struct SqlType {
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
// Every pg_type row of every type name review looked up (keyed by typname,
// all schemas), from one query per review run.
struct SqlTypeCatalog {
  std::multimap<std::string, SqlType> by_name;
};

struct SqlReviewContext {
  const RuleBook* rules = nullptr;
  const std::map<std::string, SqlTableInfo>* tables = nullptr;  // null without --db
  const SqlFunctionCatalog* functions = nullptr;                // null without --db
  const SqlTypeCatalog* types = nullptr;                        // null without --db
};

// Runs every enabled migration/query rule over every parsed statement of the
// file; honours `-- pgvise-ignore:`; findings carry file:line:col of the exact
// token. Unparsed statements are skipped (the caller reports syntax errors).
std::vector<Finding> ReviewSqlFile(const SqlFile& file, const SqlReviewContext& ctx);

// The function names (pg_proc.proname, without schema) called in the DEFAULT
// of every ADD COLUMN of the file: what review --db looks up in pg_proc, in
// one query for all its files, before the rules run.
std::set<std::string> SqlVolatilityFunctionNames(const SqlFile& file);

// The type names (pg_type.typname, without schema or []) of every ADD COLUMN
// and ALTER COLUMN TYPE of the file, and, with `tables`, the current type of
// each altered column, leaving out the built-in types the model knows: what
// review --db looks up in pg_type, in one query for all its files.
std::set<std::string> SqlTypeNames(const SqlFile& file,
                                   const std::map<std::string, SqlTableInfo>* tables);

// Every handler id of areas migration and query (for RuleBook::CheckHandlers).
std::set<std::string> SqlRuleIds();

// The tables map for SqlReviewContext from a catalog snapshot: each table under
// "schema.table" and, when visible through the search_path, its bare name.
std::map<std::string, SqlTableInfo> SqlTablesFromCatalog(const Catalog& catalog);

// "38 GB" / "912 MB" / "8192 bytes" (pg_size_pretty's units) and "120M rows".
std::string PrettyBytes(int64_t bytes);
std::string PrettyRows(double rows);

}  // namespace pgvise
