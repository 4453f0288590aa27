// QueryFacts extraction from libpg_query's JSON parse tree.
//
// One pass over the tree with a stack of query levels. A level is one SELECT
// (or the UPDATE/DELETE/INSERT itself): it owns a scope (the aliases of its
// FROM items) and collects its relations, predicates and joins. A subquery
// opens a new level whose parent scope is the enclosing one, so a column
// qualified with an alias found only in an enclosing level is a correlation:
//
//   SELECT u.id FROM users u
//   WHERE (SELECT count(*) FROM orders o WHERE o.user_id = u.id) > 10
//
//   level 0: relations [users u], read_columns {u: {id}}
//   level 1 (subquery, WHERE, scalar, compare_op ">", depth 1):
//     relations [orders o], has_aggregate,
//     predicate o.user_id = <column u.id> (value_kind kColumn),
//     correlated_on ["u.id"]
//
// Conditions are split on AND; every conjunct of the form
// `<column or expression over one column> <op> <value>` becomes a Predicate
// (value = constant, $n, expression without columns of this level, or an outer
// column); `a.x = b.y` between two relations of the level becomes a
// JoinCondition. Anything else is still walked for read columns and subqueries.
//
// Unqualified columns resolve to the only relation of their level; with
// several relations and no catalog they stay unresolved (relation "").
#include "analyzer/sql/query_facts.h"

#include "analyzer/sql/query_facts_walker.h"

namespace pgvise {

namespace facts {

void Extractor::Insert(dom::object s) {
  With(s);
  dom::object rv;
  if (Obj(s, "relation", &rv)) {
    // The target is not in the scope of the SELECT that feeds it.
    AddRelation(rv, false);
    if (stack_.size() == 1) out_->keyword_location = Loc(rv);
  }
  Each(s, "cols", [&](dom::element e) {
    Node n = Unwrap(e);
    if (n.ok && stack_.size() == 1) out_->insert_columns.emplace_back(Str(n.body, "name"));
  });
  dom::element sel;
  if (Field(s, "selectStmt", &sel)) {
    Node n = Unwrap(sel);
    if (n.ok && n.type == "SelectStmt") Select(n.body, stack_.size() == 1);
  }
  dom::object oc;
  if (Obj(s, "onConflictClause", &oc)) {
    std::string_view action = Str(oc, "action");
    if (stack_.size() == 1) {
      out_->conflict_action = action == "ONCONFLICT_UPDATE"    ? "update"
                              : action == "ONCONFLICT_NOTHING" ? "nothing"
                                                               : "";
      dom::object infer;
      if (Obj(oc, "infer", &infer))
        Each(infer, "indexElems", [&](dom::element e) {
          Node n = Unwrap(e);
          if (n.ok) out_->conflict_columns.emplace_back(Str(n.body, "name"));
        });
    }
    // DO UPDATE sees the target and the `excluded` pseudo-row.
    if (!Cur().relations.empty()) {
      const RelationRef& target = Cur().relations.front();
      Cur().scope.push_back({target.alias, target.QualifiedName(), false});
      Cur().scope.push_back({"excluded", target.QualifiedName(), false});
    }
    Each(oc, "targetList", [&](dom::element e) {
      Node n = Unwrap(e);
      if (n.ok && stack_.size() == 1) out_->updated_columns.emplace_back(Str(n.body, "name"));
    });
    Ctx other;
    other.clause = Clause::kOther;
    other.placement = SubqueryPlacement::kOther;
    Each(oc, "targetList", [&](dom::element e) { Expr(e, other); });
    dom::element w;
    if (Field(oc, "whereClause", &w)) Expr(w, other);
  }
  dom::array ret;
  if (Arr(s, "returningList", &ret)) {
    if (stack_.size() == 1) out_->has_returning = true;
    TargetList(s, "returningList");
  }
}

// The target table of an UPDATE or DELETE: a relation of the statement, and
// where the statement's keyword finding should point.
void Extractor::DmlTarget(dom::object s) {
  dom::object rv;
  if (Obj(s, "relation", &rv)) {
    AddRelation(rv, true);
    if (stack_.size() == 1) out_->keyword_location = Loc(rv);
  }
}

// WHERE and RETURNING of an UPDATE or DELETE.
void Extractor::WhereAndReturning(dom::object s) {
  dom::element where;
  if (Field(s, "whereClause", &where)) {
    if (stack_.size() == 1) {
      out_->has_where = true;
      out_->where_location = Loc(Unwrap(where).body);
    }
    Condition(where, Ctx{});
  }
  if (dom::array ret; Arr(s, "returningList", &ret)) {
    if (stack_.size() == 1) out_->has_returning = true;
    TargetList(s, "returningList");
  }
}

void Extractor::Update(dom::object s) {
  With(s);
  DmlTarget(s);
  std::vector<std::string> aliases;
  Each(s, "fromClause", [&](dom::element e) { FromItem(e, &aliases); });
  Ctx set;
  set.clause = Clause::kOther;
  set.placement = SubqueryPlacement::kSelectList;
  Each(s, "targetList", [&](dom::element e) {
    Node n = Unwrap(e);
    if (!n.ok) return;
    if (stack_.size() == 1) out_->updated_columns.emplace_back(Str(n.body, "name"));
    dom::element v;
    if (Field(n.body, "val", &v)) Expr(v, set);
  });
  WhereAndReturning(s);
}

void Extractor::Delete(dom::object s) {
  With(s);
  DmlTarget(s);
  std::vector<std::string> aliases;
  Each(s, "usingClause", [&](dom::element e) { FromItem(e, &aliases); });
  WhereAndReturning(s);
}

void Extractor::Statement(Node n) {
  Level top;
  stack_.push_back(&top);
  const std::string_view t = n.type;
  if (t == "SelectStmt") {
    dom::object into;
    out_->kind =
        Obj(n.body, "intoClause", &into) ? StatementKind::kCreateTableAs : StatementKind::kSelect;
    out_->lock = out_->kind == StatementKind::kSelect ? "ACCESS SHARE" : "";
    Select(n.body, true);
    if (out_->for_update) out_->lock = "ROW SHARE";
  } else if (t == "InsertStmt") {
    out_->kind = StatementKind::kInsert;
    out_->lock = "ROW EXCLUSIVE";
    Insert(n.body);
  } else if (t == "UpdateStmt") {
    out_->kind = StatementKind::kUpdate;
    out_->lock = "ROW EXCLUSIVE";
    Update(n.body);
  } else if (t == "DeleteStmt") {
    out_->kind = StatementKind::kDelete;
    out_->lock = "ROW EXCLUSIVE";
    Delete(n.body);
  } else if (t == "MergeStmt") {
    out_->kind = StatementKind::kMerge;
    out_->lock = "ROW EXCLUSIVE";
    dom::object rv;
    if (Obj(n.body, "relation", &rv)) AddRelation(rv, true);
    std::vector<std::string> aliases;
    dom::element src, cond;
    if (Field(n.body, "sourceRelation", &src)) FromItem(src, &aliases);
    Ctx on;
    on.clause = Clause::kJoinOn;
    on.join_type = "inner";
    if (Field(n.body, "joinCondition", &cond)) Condition(cond, on);
  } else if (t == "ExplainStmt") {
    out_->kind = StatementKind::kExplain;
    dom::element q;
    Node inner;
    if (Field(n.body, "query", &q) && (inner = Unwrap(q)).ok) {
      stack_.pop_back();
      Statement(inner);  // facts of the explained statement, kind kExplain
      out_->kind = StatementKind::kExplain;
      return;
    }
  } else if (ExtractDdl(t, n.body, out_)) {
    // CREATE VIEW / CREATE TABLE AS / CREATE MATERIALIZED VIEW: the query's
    // facts too (the kind stays the DDL kind).
    dom::element q;
    if ((t == "ViewStmt" || t == "CreateTableAsStmt") && Field(n.body, "query", &q)) {
      Node inner = Unwrap(q);
      if (inner.ok && inner.type == "SelectStmt") Select(inner.body, true);
    }
  } else {
    bool ddl = t.rfind("Create", 0) == 0 || t.rfind("Alter", 0) == 0 || t.rfind("Drop", 0) == 0 ||
               t == "CommentStmt" || t == "GrantStmt";
    out_->kind = ddl ? StatementKind::kOtherDdl : StatementKind::kOtherUtility;
  }
  stack_.pop_back();
  // Usually nothing is there yet: take the level's vector whole instead of
  // allocating a second one and moving each relation over.
  if (out_->relations.empty())
    out_->relations = std::move(top.relations);
  else
    out_->relations.insert(out_->relations.end(), std::make_move_iterator(top.relations.begin()),
                           std::make_move_iterator(top.relations.end()));
  out_->predicates = std::move(top.predicates);
  out_->joins = std::move(top.joins);
}

}  // namespace facts

using namespace facts;  // NOLINT: internal helpers of this module

const char* StatementKindName(StatementKind k) {
  switch (k) {
    case StatementKind::kSelect:
      return "select";
    case StatementKind::kInsert:
      return "insert";
    case StatementKind::kUpdate:
      return "update";
    case StatementKind::kDelete:
      return "delete";
    case StatementKind::kMerge:
      return "merge";
    case StatementKind::kCreateTable:
      return "create-table";
    case StatementKind::kCreateTableAs:
      return "create-table-as";
    case StatementKind::kAlterTable:
      return "alter-table";
    case StatementKind::kDropTable:
      return "drop-table";
    case StatementKind::kCreateIndex:
      return "create-index";
    case StatementKind::kDropIndex:
      return "drop-index";
    case StatementKind::kReindex:
      return "reindex";
    case StatementKind::kCreateView:
      return "create-view";
    case StatementKind::kCreateMatView:
      return "create-materialized-view";
    case StatementKind::kRefreshMatView:
      return "refresh-materialized-view";
    case StatementKind::kRename:
      return "rename";
    case StatementKind::kTruncate:
      return "truncate";
    case StatementKind::kVacuum:
      return "vacuum";
    case StatementKind::kAnalyze:
      return "analyze";
    case StatementKind::kCluster:
      return "cluster";
    case StatementKind::kTransaction:
      return "transaction";
    case StatementKind::kSet:
      return "set";
    case StatementKind::kCopy:
      return "copy";
    case StatementKind::kExplain:
      return "explain";
    case StatementKind::kOtherDdl:
      return "other-ddl";
    case StatementKind::kOtherUtility:
      return "other-utility";
  }
  return "other-utility";
}

const char* PredicateKindName(PredicateKind k) {
  switch (k) {
    case PredicateKind::kEquality:
      return "equality";
    case PredicateKind::kRange:
      return "range";
    case PredicateKind::kInList:
      return "in-list";
    case PredicateKind::kAnyArray:
      return "any-array";
    case PredicateKind::kLikePrefix:
      return "like-prefix";
    case PredicateKind::kLikeOther:
      return "like-other";
    case PredicateKind::kIsNull:
      return "is-null";
    case PredicateKind::kIsNotNull:
      return "is-not-null";
    case PredicateKind::kNotEqual:
      return "not-equal";
    case PredicateKind::kContains:
      return "contains";
    case PredicateKind::kKeyExists:
      return "key-exists";
    case PredicateKind::kOverlap:
      return "overlap";
    case PredicateKind::kFullText:
      return "full-text";
    case PredicateKind::kOther:
      return "other";
  }
  return "other";
}

Status ParseStatementFacts(const std::string& sql, QueryFacts* out, size_t* error_pos) {
  pgtree::PgTree tree(sql);
  if (!tree.ok()) {
    if (error_pos) *error_pos = tree.cursor();
    return Status::InvalidInput(tree.message());
  }
  // Every walk of the tree after this one recurses (this extractor,
  // libpg_query's printers, the rewriter), so a tree too deep for them is
  // refused here, where every statement enters the analyzer: measured once,
  // without recursion (analyzer/sql/statement.h, kMaxNestingDepth).
  // (A statement of kShortStatementBytes or less cannot be that deep.)
  if (const int depth = sql.size() > kShortStatementBytes ? tree.MaxDepth() : 0;
      depth > kMaxNestingDepth) {
    if (error_pos) *error_pos = 0;
    return Status::Unsupported(TooDeepMessage(depth));
  }
  // A Statement holds one statement (the file splitter saw to that); text
  // from elsewhere (pg_stat_statements) is read up to its first.
  if (tree.size() == 0) return Status::Ok();  // only comments
  Node n = Unwrap(tree.statement(0));
  if (!n.ok) return Status::Ok();
  Extractor ex(out);
  ex.Statement(n);
  if (out->kind == StatementKind::kAlterTable) FillAlterLocations(sql, &out->ddl);
  return Status::Ok();
}

Status ExtractFacts(const Statement& stmt, QueryFacts* out) {
  if (!stmt.parsed) {
    *out = QueryFacts();
    return Status::InvalidInput("statement did not parse: " + stmt.error);
  }
  if (stmt.facts) {
    *out = *stmt.facts;
    return Status::Ok();
  }
  *out = QueryFacts();
  Status st = ParseStatementFacts(stmt.sql, out, nullptr);
  if (!st.ok()) return Status::InvalidInput("statement did not parse: " + st.message());
  return Status::Ok();
}

void NoteTransactionBlock(QueryFacts* f, bool* in_block) {
  if (f->kind != StatementKind::kTransaction) {
    f->in_transaction_block = *in_block;
    return;
  }
  const auto& a = f->ddl.actions;
  const bool begin = !a.empty() && (a[0] == "begin" || a[0] == "start");
  const bool end =
      !a.empty() && (a[0] == "commit" || a[0] == "rollback" || a[0] == "prepare-transaction");
  f->in_transaction_block = (*in_block && !begin) || end;
  if (begin) *in_block = true;
  if (end) *in_block = false;
}

const QueryFacts& FactsOf(const Statement& stmt) {
  static const QueryFacts kNone;
  return stmt.facts ? *stmt.facts : kNone;
}

std::vector<QueryFacts> ExtractFileFacts(const SqlFile& file) {
  std::vector<QueryFacts> all;
  all.reserve(file.statements.size());
  bool in_block = false;
  for (const Statement& s : file.statements) {
    if (s.facts) {
      all.push_back(*s.facts);  // ParseSqlFile already carried the block state
      continue;
    }
    QueryFacts& f = all.emplace_back();
    if (!ExtractFacts(s, &f).ok()) {
      f.in_transaction_block = in_block;
      continue;
    }
    NoteTransactionBlock(&f, &in_block);
  }
  return all;
}

}  // namespace pgvise
