// Column type changes: what PostgreSQL does to a table when ALTER COLUMN
// TYPE changes one built-in type into another without a USING expression —
// nothing, a catalog update, an index rebuild, or a rewrite of every row. It
// sits in the analyzer under the review rule changing-column-type
// (analyzer/review/sql_rule_migration_rewrites.cc), which gets the old type from
// the catalog snapshot (review --db) or from an earlier statement of the
// file; domains and enums are layered on top in analyzer/review/user_types.h. Flow:
// analyzer <- review rules.
//
// Why it matters for lock safety (PostgreSQL 15): every ALTER COLUMN TYPE
// takes ACCESS EXCLUSIVE. When the new type is binary-coercible to the old
// one, or only widens its limit, the lock lasts a moment; otherwise the
// table is rewritten and its indexes rebuilt while all reads and writes
// wait — minutes to hours on a large table. Telling the two apart is what
// keeps the rule from crying wolf on safe widenings.
//
// Worked example: users.name is "character varying(20)" in the catalog.
// `ALTER TABLE users ALTER COLUMN name TYPE varchar(40)`: ParseColumnType
// gives {varchar, {20}} and {varchar, {40}}; ClassifyTypeChange answers
// kCatalogOnly ("only the limit is widened"), and the rule stays silent.
// `TYPE varchar(10)` or `TYPE bigint` on an integer column is kRewrite.
//
// Where it gives up (and what it assumes then):
// - A type outside the model (a domain or enum without --db, an extension
//   type, a modifier that is not a number): kUnknown, treated as a rewrite.
// - Interval field ranges ("interval day to second") are not modelled:
//   changing one counts as a rewrite.
// - timestamp <-> timestamptz depends on the session TimeZone at run time:
//   without a zero-offset SET TIME ZONE earlier in the file it is
//   kRewriteUnlessUtc.
// - A USING expression that is more than the column (cast to the new type)
//   and arrays (ArrayCoerceExpr) always rewrite; the rule decides USING.
#pragma once

#include <string>
#include <vector>

#include "analyzer/sql/pg_tree.h"

namespace pgvise::sqlrules {

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

// A type name of the parse tree (a column definition, a cast, a domain's
// base) as ParseColumnType reads it: the last name, a schema other than
// pg_catalog, integer modifiers and [] ("varchar(40)", "shop.money[]").
// A non-integer modifier makes it unknown.
ColumnType FromTypeName(const pgtree::object* tn);

}  // namespace pgvise::sqlrules
