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

// Statement-relative offset of the first token of kind `token` (libpg_query
// scanner token number) at or after `from`; -1 when absent.
int FindToken(const std::string& sql, int token, int from = 0);

}  // namespace pgvise::sqlrules
