// The protobuf parse tree of one statement, for the review rules that read
// what QueryFacts does not carry: a DEFAULT's calls, USING, COLLATE, a
// function body, a domain's constraints. QueryFacts (analyzer/query_facts.h)
// is the rules' main input; this is the second look, taken only by the
// migration concepts (function_volatility, column_type_change, user_types)
// and their handlers. Internal to analyzer/sql_rule*.cc and those modules.
#pragma once

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

#include <string>

#include "analyzer/statement.h"

namespace pgvise::sqlrules {

// The one statement of `sql` as libpg_query's protobuf tree, freed with the
// object; stmt(kind) is null unless the SQL parses to exactly one statement
// of that node kind — and null for a statement nested deeper than pgvise
// analyses (a function body read from pg_proc never passed the file-level
// guard; protobuf-c's unpack recurses once per level).
class OneStatement {
 public:
  explicit OneStatement(const std::string& sql)
      : r_(CheckNestingDepth(sql).ok() ? pg_query_parse_protobuf(sql.c_str())
                                       : PgQueryProtobufParseResult{}) {
    if (!r_.error && r_.parse_tree.data)
      tree_ = pg_query__parse_result__unpack(nullptr, r_.parse_tree.len,
                                             reinterpret_cast<const uint8_t*>(r_.parse_tree.data));
  }
  ~OneStatement() {
    if (tree_) pg_query__parse_result__free_unpacked(tree_, nullptr);
    pg_query_free_protobuf_parse_result(r_);
  }
  OneStatement(const OneStatement&) = delete;
  OneStatement& operator=(const OneStatement&) = delete;

  const PgQuery__Node* stmt(PgQuery__Node__NodeCase kind) const {
    if (!tree_ || tree_->n_stmts != 1 || !tree_->stmts[0]->stmt) return nullptr;
    return tree_->stmts[0]->stmt->node_case == kind ? tree_->stmts[0]->stmt : nullptr;
  }

 private:
  PgQueryProtobufParseResult r_;
  PgQuery__ParseResult* tree_ = nullptr;
};

// Calls fn(cmd, column_def) for each ALTER TABLE subcommand of `sql` of type
// `subtype` that defines a column (ADD COLUMN, ALTER COLUMN TYPE).
template <typename Fn>
void ForEachColumnCmd(const std::string& sql, PgQuery__AlterTableType subtype, Fn&& fn) {
  OneStatement one(sql);
  const PgQuery__Node* s = one.stmt(PG_QUERY__NODE__NODE_ALTER_TABLE_STMT);
  if (!s) return;
  const PgQuery__AlterTableStmt* at = s->alter_table_stmt;
  for (size_t i = 0; i < at->n_cmds; ++i) {
    const PgQuery__Node* n = at->cmds[i];
    if (n->node_case != PG_QUERY__NODE__NODE_ALTER_TABLE_CMD) continue;
    const PgQuery__AlterTableCmd* cmd = n->alter_table_cmd;
    if (cmd->subtype != subtype || !cmd->def ||
        cmd->def->node_case != PG_QUERY__NODE__NODE_COLUMN_DEF)
      continue;
    fn(*cmd, *cmd->def->column_def);
  }
}

// The text of a String node; nullptr for any other node.
inline const char* StringOf(const PgQuery__Node* n) {
  return n && n->node_case == PG_QUERY__NODE__NODE_STRING && n->string ? n->string->sval : nullptr;
}

}  // namespace pgvise::sqlrules
