// User types — domains and enums: what a type name that is not a built-in
// stands for, from the file's own CREATE DOMAIN / CREATE TYPE ... AS ENUM /
// ALTER DOMAIN or from pg_type (review --db, one query per run for the names
// SqlTypeNames collects). It sits in the analyzer on top of the column type
// model (analyzer/review/column_type_change.h), under the review rules
// adding-column-with-constrained-domain and changing-column-type
// (analyzer/review/sql_rule_migration_rewrites.cc); the rule driver
// (analyzer/review/sql_rules.cc) records the file's domains and enums through
// ParseCreateType and ParseAlterDomain. Flow: analyzer <- review rules.
//
// Why it matters for lock safety (PostgreSQL 15): a domain with a CHECK or
// NOT NULL constraint (its own or one of the domains it is built on) makes
// PostgreSQL check every existing row by rewriting the table under ACCESS
// EXCLUSIVE — for ADD COLUMN even with a constant DEFAULT or none, and for
// ALTER COLUMN TYPE to it. A domain without constraints behaves as its base
// type; an enum is converted value by value, through its text form.
//
// Worked example: `CREATE DOMAIN positive AS int CHECK (VALUE > 0)` earlier
// in the file; ParseCreateType records {kind 'd', base "int4", constraints
// "positive: CHECK (VALUE > 0)"}. `ALTER TABLE t ADD COLUMN p positive
// DEFAULT 1`: TypeRefOfName reads "positive", LookupType finds the file's
// domain first, and the rule fires. `ALTER TABLE t ALTER COLUMN name TYPE
// short_text`, an unconstrained domain over text, on a text column:
// ClassifyUserTypeChange compares the base types (text -> text) and answers
// kCatalogOnly.
//
// Where it gives up (and what it assumes then):
// - Without --db only the file's own domains are known: ADD COLUMN of a
//   database domain stays silent, and ALTER COLUMN TYPE has no old type to
//   compare with (changing-column-type's blind check applies).
// - ALTER DOMAIN ... DROP CONSTRAINT / DROP NOT NULL is not followed: the
//   dropped constraint may or may not have been the last, so the domain keeps
//   the constraints it had.
// - A type the file creates unqualified counts as found for any schema a
//   later statement names: the path the server will use is not known.
#pragma once

#include <string>

#include "analyzer/review/column_type_change.h"
#include "analyzer/review/sql_rules.h"

namespace pgvise::sqlrules {

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
// A type name of the parse tree as a TypeRef; `builtin` for the types the
// column type model knows, serial types and anything in pg_catalog.
TypeRef TypeRefOfName(const pgtree::object* tn);

// The type `ref` names: the file's own CREATE DOMAIN / CREATE TYPE first (the
// file runs before the statement), else pg_type resolved the way the parser
// does (a schema as written, else the first schema of current_schemas(true)
// that has the name). nullptr for built-ins and names neither knows.
// `source` is set to "this file's CREATE DOMAIN", "this file's CREATE TYPE"
// or "pg_type".
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

}  // namespace pgvise::sqlrules
