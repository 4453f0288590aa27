// SQL review rules: the checks of areas `migration` (lock safety, the squawk
// class) and `query` (statement shapes that are slow or wrong), each a YAML
// file rules/<area>/<id>.yaml and a C++ handler registered under the same id
// (analyzer/review/sql_rule_migration.cc, analyzer/review/sql_rule_query.cc).
//
// `pgvise review` parses a file (analyzer/sql/statement.h), and ReviewSqlFile runs
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

#include "analyzer/sql/statement.h"
#include "catalog/catalog.h"
#include "catalog/functions.h"
#include "core/finding.h"
#include "core/rule.h"

namespace pgvise {

// Table facts from a live database, when --db is given (keyed by table name as
// written in SQL, both "schema.table" and bare "table"); used to put sizes in
// messages, to raise severity for big tables, and by changing-column-type to
// tell a table rewrite from a catalog-only type change. Function volatility
// (SqlFunctionCatalog) decides adding-field-with-volatile-default.
// (Named SqlTableInfo, not TableInfo: catalog/catalog.h already defines
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
  int64_t block_size = kDefaultBlockSize;  // the server's page size
  // Partitioning (create-index-on-partitioned-table, attach-partition-without-check):
  bool partitioned = false;                // relkind 'p'
  std::vector<std::string> partition_key;  // its key columns ("" for an expression)
  std::vector<std::string> partitions;     // direct partitions, "schema.table"
  std::string default_partition;           // "schema.table", "" when none
  // Validated CHECK constraints, as pg_get_constraintdef prints them.
  std::vector<std::string> checks;
};
// Functions and types from a live database, when --db is given
// (catalog/functions.h reads them: one pg_proc and one pg_type query per
// review run): whether a DEFAULT or a new column type rewrites the table is
// decided by what PostgreSQL recorded, not by a list of known names.
using SqlFunction = FunctionInfo;
using SqlFunctionCatalog = FunctionCatalog;
using SqlType = TypeInfo;
using SqlTypeCatalog = TypeCatalog;

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
