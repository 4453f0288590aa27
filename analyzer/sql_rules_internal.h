// Internals of the SQL review rules (analyzer/sql_rule*.cc): what a handler
// sees and the helpers every handler uses to build a finding. Not a public
// interface; analyzer/sql_rules.h is.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "analyzer/query_facts.h"
#include "analyzer/sql_rules.h"

namespace pgvise::sqlrules {

// What the statements before the current one established.
struct FileState {
  std::set<std::string> created_tables;  // CREATE TABLE earlier in this file (as written)
  bool lock_timeout_set = false;         // SET lock_timeout to a non-zero value earlier
  bool lock_timeout_local = false;       // ... by SET LOCAL: gone at COMMIT / ROLLBACK
  // CHECK (col IS NOT NULL) constraints seen: constraint name -> {table, column, validated}.
  struct NotNullCheck {
    std::string table, column;
    bool validated = false;
  };
  std::map<std::string, NotNullCheck> not_null_checks;
  // SET TIME ZONE to a zero-offset zone earlier (timestamp <-> timestamptz
  // then needs no rewrite); `_local`: by SET LOCAL, gone at COMMIT / ROLLBACK.
  bool session_utc = false;
  bool session_utc_local = false;
  // "table.column" (bare table name) -> type written by an earlier ADD COLUMN
  // or ALTER COLUMN TYPE of this file: newer than the catalog snapshot.
  std::map<std::string, std::string> column_types;
  // CREATE FUNCTION earlier in this file (not in pg_proc yet: nothing in the
  // file is executed), with the volatility the statement declares.
  SqlFunctionCatalog created_functions;
  // CREATE DOMAIN / CREATE TYPE ... AS ENUM earlier in this file, and
  // domains an ALTER DOMAIN of the file gave a constraint.
  SqlTypeCatalog created_types;
  // SET search_path earlier in this file (`search_path_set`; empty list:
  // SET to ''); `_local`: by SET LOCAL, gone at COMMIT / ROLLBACK. Function
  // and type names then resolve through it instead of the session's path.
  std::vector<std::string> search_path;
  bool search_path_set = false;
  bool search_path_local = false;

  bool IsNew(const std::string& table) const;
  bool HasValidatedNotNullCheck(const std::string& table, const std::string& column) const;
};

// One handler invocation: a statement, its facts, the file state before it.
struct Call {
  const SqlFile& file;
  const Statement& stmt;
  const QueryFacts& facts;
  const FileState& state;
  const Rule& rule;
  const SqlReviewContext& ctx;

  // A finding of this rule at a statement-relative byte offset (negative: the
  // statement's first token), with the rule's severity.
  Finding Make(int rel_location, std::string message) const;
  // Live-database facts for a table as written, or nullptr.
  const SqlTableInfo* Table(const std::string& name) const;
  // "orders" or, with --db, "orders (38 GB, 120M rows)".
  std::string Describe(const std::string& table) const;
  // Adds table evidence and raises warning -> error when the table is at least
  // the rule's `large_table_bytes` (default 1 GiB).
  void AboutTable(const std::string& table, Finding* f) const;
  // The statement text from a relative offset to its end (for suggestions).
  std::string Text() const { return stmt.sql; }
};

using Handler = void (*)(const Call&, std::vector<Finding>*);

struct HandlerEntry {
  const char* id;
  Handler fn;
};

// The two handler tables (one per area), in the order rules run.
const std::vector<HandlerEntry>& MigrationHandlers();
const std::vector<HandlerEntry>& QueryHandlers();

// A column type reduced to what decides whether ALTER COLUMN TYPE rewrites
// the table (changing-column-type): the built-in type's internal name, its
// modifiers and whether it is an array.
struct ColumnType {
  std::string name;  // "varchar", "bpchar", "numeric", "int4", "timestamptz"...; else as written
  std::vector<int> mods;  // varchar(20) -> {20}; numeric(10,2) -> {10, 2}; interval: {precision}
  std::string fields;     // interval only: "" (full range) or its fields ("day to second")
  bool array = false;
  bool known = false;  // a built-in type the model knows (not a domain, enum, extension type)
  std::string text;    // what was parsed, for messages
};

// Parses format_type() output ("character varying(20)", "timestamp(3) without
// time zone", "numeric(10,2)[]") or a type as written in SQL ("varchar(20)",
// "numeric(14, 2)", "timestamptz", "int8").
ColumnType ParseColumnType(const std::string& text);

// What PostgreSQL (12+) does for ALTER COLUMN TYPE from `from` to `to` when
// no USING expression is given (sql_rule_migration.cc explains the model).
enum class TypeChange {
  kSame,              // nothing changes
  kCatalogOnly,       // binary-coercible: catalog update only, indexes kept
  kIndexesRebuilt,    // no table rewrite, but indexes on the column are rebuilt
  kRewriteUnlessUtc,  // timestamp <-> timestamptz: no rewrite only if the session TimeZone is UTC
  kRewrite,           // every row is converted: table rewrite and index rebuild
  kUnknown,           // a type outside the model: assumed to rewrite
};
struct TypeChangeVerdict {
  TypeChange kind = TypeChange::kUnknown;
  std::string why;  // one clause for the message / evidence
};
TypeChangeVerdict ClassifyTypeChange(const ColumnType& from, const ColumnType& to,
                                     bool session_utc);

// A type as written in SQL or printed by format_type: its schema (if
// written), name (unquoted) and whether it is an array.
struct TypeRef {
  std::string schema, name;
  bool array = false;
  bool builtin = false;  // a built-in type the model knows (ParseColumnType's known)
  std::string Text() const { return (schema.empty() ? "" : schema + ".") + name; }
};
// "public.\"MyDomain\"[]", "d_check", "character varying(20)".
TypeRef TypeRefOf(const std::string& text);

// The type `ref` names: the file's own CREATE DOMAIN / CREATE TYPE first (the
// file runs before the statement), else pg_type resolved the way the parser
// does (a schema as written, else the first schema of current_schemas(true)
// that has the name). nullptr for built-ins and names neither knows.
// `source` is set to "this file's CREATE DOMAIN" or "pg_type".
const SqlType* LookupType(const SqlTypeCatalog* file, const SqlTypeCatalog* db, const TypeRef& ref,
                          std::string* source = nullptr);

// One side of an ALTER COLUMN TYPE: the written or current type, and what
// pg_type (or the file) says it is; `user` null for built-ins and unknowns.
struct TypeSide {
  ColumnType type;  // ParseColumnType of the text
  TypeRef ref;
  const SqlType* user = nullptr;
};
// ClassifyTypeChange extended to domains and enums: a domain with
// constraints as the new type rewrites (ATColumnChangeRequiresRewrite stops
// at a CoerceToDomain that has constraints); otherwise a domain counts as its
// base type on either side; an enum to anything else is converted value by
// value. Without user types it is ClassifyTypeChange.
TypeChangeVerdict ClassifyUserTypeChange(const TypeSide& from, const TypeSide& to,
                                         bool session_utc);

// A CREATE DOMAIN or CREATE TYPE ... AS ENUM statement as a SqlType; a domain
// over another domain (the file's or pg_type's) inherits its base and
// constraints. false: neither statement.
bool ParseCreateType(const std::string& sql, const SqlTypeCatalog* file, const SqlTypeCatalog* db,
                     SqlType* out);
// ALTER DOMAIN ... ADD CONSTRAINT / SET NOT NULL: the domain with the new
// constraint appended. false: not such a statement, or a domain neither knows.
bool ParseAlterDomain(const std::string& sql, const SqlTypeCatalog* file, const SqlTypeCatalog* db,
                      SqlType* out);

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

// Statement-relative offset of the first token of kind `token` (libpg_query
// scanner token number) at or after `from`; -1 when absent.
int FindToken(const std::string& sql, int token, int from = 0);

}  // namespace pgvise::sqlrules
