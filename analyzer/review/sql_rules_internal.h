// Internals of the SQL review rules (analyzer/sql_rule*.cc): what a handler
// sees, the helpers every handler uses to build a finding, and the handler
// tables the driver (analyzer/review/sql_rules.cc) runs. Not a public interface;
// analyzer/review/sql_rules.h is. The models some migration handlers ask live in
// their own headers: function_volatility.h, column_type_change.h and
// user_types.h; the parse-tree helpers they share in sql_rule_tree.h.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "analyzer/review/sql_rules.h"
#include "analyzer/sql/query_facts.h"

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

  // Partitioning (sql_rule_migration_partitions.cc keeps these): tables
  // this file made partitioned (CREATE TABLE ... PARTITION BY, or the parent
  // of a PARTITION OF / ATTACH PARTITION) with their key columns when known,
  // tables it wrote rows into (INSERT, COPY FROM), and the CHECK
  // constraints it added: the constants and columns of each.
  std::map<std::string, std::vector<std::string>> partitioned;  // bare name -> key columns
  std::set<std::string> filled;                                 // bare names
  struct Check {
    std::string table, name;
    std::vector<std::string> constants, columns;
    bool validated = false;
  };
  std::vector<Check> checks;

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
  // For printed fixes, which must run as printed: the statement's target
  // (facts.ddl.object, or the indexed table of a CREATE INDEX) as SQL, each
  // part quoted as needed, read from the parse tree so that a name holding a
  // '.' or a '"' stays whole.
  std::string TargetSql() const;
};

using Handler = void (*)(const Call&, std::vector<Finding>*);

// Keeps FileState's partitioning facts (sql_rule_migration_partitions.cc);
// the driver calls it after each statement.
void UpdatePartitionState(const Statement& stmt, const QueryFacts& facts, FileState* state);

struct HandlerEntry {
  const char* id;
  Handler fn;
};

// The two handler tables (one per area), in the order rules run.
const std::vector<HandlerEntry>& MigrationHandlers();  // sql_rule_migration.cc
const std::vector<HandlerEntry>& QueryHandlers();      // sql_rule_query.cc

// Statement-relative offset of the first keyword `keyword` (lower case:
// "index", "concurrently") outside comments, strings and quoted
// identifiers; -1 when absent.
int FindKeyword(const std::string& sql, std::string_view keyword);

}  // namespace pgvise::sqlrules
