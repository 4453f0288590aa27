// The parse tree of one statement, for the review rules that read what
// QueryFacts does not carry: a DEFAULT's calls, USING, COLLATE, a function
// body, a domain's constraints. QueryFacts (analyzer/sql/query_facts.h) is the
// rules' main input; this is the second look, taken only by the migration
// concepts (function_volatility, column_type_change, user_types) and their
// handlers. It reads the same tree as the facts walker, through PgTree
// (analyzer/sql/pg_tree.h: the C parse tree seen as libpg_query's JSON), so the
// analyzer has one tree reader. Internal to analyzer/sql_rule*.cc and those
// modules.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "analyzer/sql/pg_tree.h"
#include "analyzer/sql/statement.h"

namespace pgvise::sqlrules {

namespace dom = pgtree;

// `o`'s member `key` as an element / object body / array / string / integer;
// false (or the fallback) when absent. Members that hold their default (NULL,
// 0, false) are absent in the view.
inline bool Field(dom::object o, std::string_view key, dom::element* out) {
  return o.at_key(key).get(*out) == dom::SUCCESS;
}
inline bool Obj(dom::object o, std::string_view key, dom::object* out) {
  return o.at_key(key).get(*out) == dom::SUCCESS;
}
inline bool Arr(dom::object o, std::string_view key, dom::array* out) {
  return o.at_key(key).get(*out) == dom::SUCCESS;
}
inline bool Has(dom::object o, std::string_view key) {
  dom::element e;
  return Field(o, key, &e);
}
inline std::string_view Str(dom::object o, std::string_view key) {
  std::string_view s;
  return o.at_key(key).get(s) == dom::SUCCESS ? s : std::string_view();
}
inline int64_t Int(dom::object o, std::string_view key, int64_t fallback = 0) {
  int64_t v = fallback;
  return o.at_key(key).get(v) == dom::SUCCESS ? v : fallback;
}
inline bool Bool(dom::object o, std::string_view key) {
  bool b = false;
  return o.at_key(key).get(b) == dom::SUCCESS && b;
}
inline size_t Count(dom::object o, std::string_view key) {
  dom::array a;
  return Arr(o, key, &a) ? a.size() : 0;
}

// The body of `e` when it is a node of type `type` ({"type": body}).
inline bool NodeOf(dom::element e, std::string_view type, dom::object* body) {
  std::string_view t;
  dom::object b;
  if (!e.unwrap(&t, &b) || t != type) return false;
  *body = b;
  return true;
}

// The text of a String node; empty for any other node.
inline std::string_view StringOf(dom::element e) {
  dom::object s;
  return NodeOf(e, "String", &s) ? Str(s, "sval") : std::string_view();
}

// The i-th from the end (0: last) of a list of String nodes (a qualified
// name); empty when the list is shorter or the item is not a String.
inline std::string_view NameFromEnd(dom::object o, std::string_view key, size_t i) {
  dom::array a;
  if (!Arr(o, key, &a) || a.size() <= i) return {};
  size_t at = a.size() - 1 - i, k = 0;
  for (dom::element e : a)
    if (k++ == at) return StringOf(e);
  return {};
}

// The one statement of `sql`; stmt(type) is false unless the SQL parses to
// exactly one statement of that node type ("AlterTableStmt") — and false for
// a statement nested deeper than pgvise analyses (a function body read from
// pg_proc never passed the file-level guard, and the rules' walks recurse).
class OneStatement {
 public:
  explicit OneStatement(const std::string& sql) : tree_(std::make_unique<dom::PgTree>(sql)) {
    ok_ = tree_->ok() && tree_->size() == 1 &&
          (sql.size() <= kShortStatementBytes || tree_->MaxDepth() <= kMaxNestingDepth);
  }
  bool stmt(std::string_view type, dom::object* body) const {
    return ok_ && NodeOf(tree_->statement(0), type, body);
  }

 private:
  std::unique_ptr<dom::PgTree> tree_;
  bool ok_ = false;
};

// Calls fn(cmd, column_def) for each ALTER TABLE subcommand of `sql` of type
// `subtype` ("AT_AddColumn", "AT_AlterColumnType") that defines a column;
// both are node bodies (AlterTableCmd, ColumnDef).
template <typename Fn>
void ForEachColumnCmd(const std::string& sql, std::string_view subtype, Fn&& fn) {
  OneStatement one(sql);
  dom::object at;
  dom::array cmds;
  if (!one.stmt("AlterTableStmt", &at) || !Arr(at, "cmds", &cmds)) return;
  for (dom::element n : cmds) {
    dom::object cmd, cd;
    if (!NodeOf(n, "AlterTableCmd", &cmd) || Str(cmd, "subtype") != subtype) continue;
    dom::element def_el;
    if (!Field(cmd, "def", &def_el) || !NodeOf(def_el, "ColumnDef", &cd)) continue;
    fn(cmd, cd);
  }
}

// Whether a ColumnDef has a DEFAULT (raw_default, or a DEFAULT constraint);
// *expr the expression when given.
inline bool ColumnDefault(dom::object cd, dom::element* expr) {
  if (Field(cd, "raw_default", expr)) return true;
  dom::array cons;
  if (!Arr(cd, "constraints", &cons)) return false;
  for (dom::element c : cons) {
    dom::object con;
    if (NodeOf(c, "Constraint", &con) && Str(con, "contype") == "CONSTR_DEFAULT") {
      if (!Field(con, "raw_expr", expr)) *expr = dom::element();
      return true;
    }
  }
  return false;
}

// Calls fn(type, body) for every node under `e`, pre-order. Recursive: the
// statements reaching the rules passed OneStatement's nesting guard.
template <typename Fn>
void WalkNodes(dom::element e, const Fn& fn) {
  dom::array a;
  if (e.get(a) == dom::SUCCESS) {
    for (dom::element x : a) WalkNodes(x, fn);
    return;
  }
  dom::object o;
  if (e.get(o) != dom::SUCCESS) return;
  std::string_view type;
  dom::object body;
  if (e.unwrap(&type, &body)) {
    fn(type, body);
    o = body;
  }
  for (dom::element c : o.children()) WalkNodes(c, fn);
}

}  // namespace pgvise::sqlrules
