// Pass topn-lateral-window: top-N rows per group, written as a LATERAL
// subquery with ORDER BY ... LIMIT n, or as a derived table numbered by
// row_number() OVER (PARTITION BY ...) joined with `rn <= n`. Each form is
// rewritten into the other; with --db RewriteSql keeps the rewrite only when
// the server's EXPLAIN says it is cheaper (names both costs otherwise).
//
//   A: g [LEFT] JOIN LATERAL (SELECT cols FROM i WHERE i.k = g.id AND p(i)
//                             ORDER BY s LIMIT n) t ON true
//   B: g [LEFT] JOIN (SELECT cols, i.k AS pgv_tk, row_number() OVER
//                       (PARTITION BY i.k ORDER BY s) AS pgv_rn
//                     FROM i WHERE p(i)) t ON t.pgv_tk = g.id AND t.pgv_rn <= n
//
// Why they are the same multiset. For one outer row g, A reads the rows R of
// i with p(i) and i.k = g.id, sorts them by s and keeps the first n. In B the
// partition of i.k = g.id holds exactly R (PARTITION BY groups by the same
// equality as `=`: the two key columns have the same type, or both are
// integer types; `=` is never true for a NULL, so a NULL g.id or i.k matches
// nothing in either form), row_number numbers R in s order from 1, and
// `pgv_rn <= n` keeps the first n of them. The same rows come out for g when
// the order within R is total: then "the first n in s order" is one set.
// When s leaves ties, LIMIT and row_number may each pick different tied rows,
// and the results differ (e.g. two orders of one user with the same date,
// LIMIT 1). So the pass proves one of:
//   - the ORDER BY's plain columns, with the partition column k, cover a
//     unique index of i (from the catalog) whose other columns are NOT NULL:
//     two rows of R differ in some ORDER BY column, no two rows tie; or
//   - every selected column is a plain ORDER BY column of a type whose
//     equality is identity (integers, date, timestamps, uuid, boolean): rows
//     that tie are identical in the output, so whichever is picked, the
//     multiset is the same.
// ORDER BY items are copied as written, so ASC/DESC and NULLS FIRST/LAST
// (DESC puts NULLs first by default, in both places) order R the same way.
// Joining: A with ON true keeps g once per row of R' (the chosen rows), B's
// join condition meets exactly those rows. LEFT JOIN LATERAL keeps g once with
// NULLs when R' is empty; so does B's LEFT JOIN *because the rn condition is
// in ON*: moved to WHERE it would drop g (t.pgv_rn is NULL there). The
// comma / CROSS JOIN LATERAL form is an inner join: B's conditions go to
// WHERE (comma) or ON (JOIN).
//
// The wrong rewrites this avoids (both written in rewriter_pg_test.cc and
// shown to return other rows on NULL-rich data): B with `t.rn <= n` in WHERE
// for a LEFT join drops the outer rows without matches; B or A over an ORDER
// BY with ties picks other tied rows.
//
// Worked example (orders.id is the primary key):
//   SELECT u.id, t.id, t.total FROM users u LEFT JOIN LATERAL (
//     SELECT o.id, o.total FROM orders o WHERE o.user_id = u.id
//     ORDER BY o.created DESC, o.id LIMIT 3) t ON true
// becomes
//   SELECT u.id, t.id, t.total FROM users u LEFT JOIN (
//     SELECT o.id, o.total, o.user_id AS pgv_tk, row_number() OVER
//       (PARTITION BY o.user_id ORDER BY o.created DESC, o.id) AS pgv_rn
//     FROM orders o) t ON t.pgv_tk = u.id AND t.pgv_rn <= 3
// and back. With an index on (user_id, created) A probes it per user; B
// sorts or walks all of orders once: which wins depends on the data, so the
// direction is the server's costs' (without --db the pass refuses: it can
// neither prove the order total nor choose).
//
// Refused, with the reason: ties (above); a correlation other than one
// equality inner.k = outer.col (other outer references, a non-equality, a
// column of an enclosing query); LIMIT other than an integer constant (LIMIT
// $n: NULL means "no limit" for LIMIT and "no row" for rn <= $n, and a
// negative value is an error for LIMIT only), OFFSET, WITH TIES; the
// per-group query with several FROM items, DISTINCT, GROUP BY, aggregates,
// window functions besides row_number, subqueries, volatile or set-returning
// functions; unqualified columns (a name could be captured); `*` or a
// whole-row reference to t in the outer query (the forms' column lists
// differ); a join condition other than ON true (A) or the two conditions (B);
// rn used anywhere but in the join condition (B); ORDER BY by position (a
// column number in a query's ORDER BY, a constant in a window's); a FROM name
// that is a CTE (the catalog's keys are another relation's).
#include "rewriter/passes.h"

namespace pgvise::rw {

namespace {

constexpr const char* kPass = "topn-lateral-window";

struct Col {
  std::string rel, col;
};

// A column reference written `rel.col`.
bool QualCol(const Node* n, Col* c) {
  if (!n || n->node_case != PG_QUERY__NODE__NODE_COLUMN_REF || n->column_ref->n_fields != 2)
    return false;
  for (size_t i = 0; i < 2; ++i)
    if (n->column_ref->fields[i]->node_case != PG_QUERY__NODE__NODE_STRING) return false;
  c->rel = StrVal(n->column_ref->fields[0]);
  c->col = StrVal(n->column_ref->fields[1]);
  return true;
}

bool IsOp(const Node* n, const char* op) {
  return n && n->node_case == PG_QUERY__NODE__NODE_A_EXPR &&
         n->a_expr->kind == PG_QUERY__A__EXPR__KIND__AEXPR_OP && n->a_expr->n_name == 1 &&
         StrVal(n->a_expr->name[0]) == op;
}

bool IntConst(const Node* n, int* v) {
  if (!n || n->node_case != PG_QUERY__NODE__NODE_A_CONST || n->a_const->isnull ||
      n->a_const->val_case != PG_QUERY__A__CONST__VAL_IVAL)
    return false;
  *v = n->a_const->ival->ival;
  return true;
}

// Names a FROM subtree exposes (tables, derived tables, functions, joins).
void ExposedNames(const Node* n, std::set<std::string>* out) {
  if (!n) return;
  switch (n->node_case) {
    case PG_QUERY__NODE__NODE_RANGE_VAR:
      out->insert(n->range_var->alias ? n->range_var->alias->aliasname : n->range_var->relname);
      break;
    case PG_QUERY__NODE__NODE_RANGE_SUBSELECT:
      if (n->range_subselect->alias) out->insert(n->range_subselect->alias->aliasname);
      break;
    case PG_QUERY__NODE__NODE_RANGE_FUNCTION:
      if (n->range_function->alias) out->insert(n->range_function->alias->aliasname);
      break;
    case PG_QUERY__NODE__NODE_JOIN_EXPR:
      if (n->join_expr->alias) out->insert(n->join_expr->alias->aliasname);
      ExposedNames(n->join_expr->larg, out);
      ExposedNames(n->join_expr->rarg, out);
      break;
    default:
      break;
  }
}

// Every column reference under `n`, not descending into `skip`.
void ColumnRefs(Node* n, const Node* skip, std::vector<PgQuery__ColumnRef*>* out) {
  if (!n) return;
  VisitSlots(&n, [&](Node** slot) {
    if (*slot == skip) return false;
    if ((*slot)->node_case == PG_QUERY__NODE__NODE_COLUMN_REF) out->push_back((*slot)->column_ref);
    return true;
  });
}

// The query level the pass looks at: its scope and the CTE names visible
// there (a FROM name that is a CTE is not the catalog's table of that name).
struct Level {
  const Scope& scope;
  std::set<std::string> ctes;
};

// The per-group query's single table and what the catalog knows of it.
struct Inner {
  std::string alias;
  const RewriteCatalog::Table* table = nullptr;
};

// Why `q` is not a plain per-group query over one table; "" when it is.
// `window` is the row_number target to tolerate (B), or null (A).
std::string QueryRefusal(PassContext& ctx, const Level& lv, PgQuery__SelectStmt* q,
                         const Node* window, Inner* in) {
  if (q->op != PG_QUERY__SET_OPERATION__SETOP_NONE) return "a set operation";
  if (q->with_clause) return "the subquery has its own WITH clause";
  if (q->n_locking_clause) return "the subquery locks rows";
  if (q->n_distinct_clause) return "the subquery has DISTINCT";
  if (q->n_group_clause || q->having_clause || SelectHasAggregate(q, ctx.cat))
    return "the subquery groups or aggregates";
  if (q->n_window_clause) return "the subquery has a WINDOW clause";
  if (q->n_from_clause != 1 || q->from_clause[0]->node_case != PG_QUERY__NODE__NODE_RANGE_VAR)
    return "the subquery does not read exactly one table";
  PgQuery__RangeVar* rv = q->from_clause[0]->range_var;
  if ((!rv->schemaname || !*rv->schemaname) && lv.ctes.count(rv->relname))
    return std::string("it reads CTE ") + rv->relname + ", whose keys the catalog does not know";
  in->alias = rv->alias ? rv->alias->aliasname : rv->relname;
  in->table = ctx.cat->FindTable(rv->schemaname ? rv->schemaname : "", rv->relname);
  if (!q->n_target_list) return "the subquery selects nothing";
  for (size_t i = 0; i < q->n_target_list; ++i) {
    Node* v = q->target_list[i]->res_target->val;
    if (v == window) continue;
    if (v->node_case == PG_QUERY__NODE__NODE_COLUMN_REF &&
        v->column_ref->fields[v->column_ref->n_fields - 1]->node_case ==
            PG_QUERY__NODE__NODE_A_STAR)
      return "the subquery selects `*`";
    if (HasWindow(v)) return "a window function other than the row_number() it is numbered by";
  }
  Node* whole = ctx.tree->SelectNode(q);
  if (HasSublink(whole)) return "a subquery inside the per-group query";
  std::string f = FindVolatile(whole, ctx.cat);
  if (!f.empty())
    return "volatile function " + f + ": the forms call it a different number of times";
  f = FindSetReturning(whole, ctx.cat);
  if (!f.empty()) return "set-returning function " + f;
  return "";
}

std::string TypeOf(const RewriteCatalog::Table* t, const std::string& col) {
  if (!t) return "";
  auto it = t->types.find(col);
  return it == t->types.end() ? "" : it->second;
}

bool IntegerType(const std::string& t) {
  return t == "smallint" || t == "integer" || t == "bigint";
}

// Why i.k = outer.col may group differently from PARTITION BY i.k; "" when not.
std::string KeyTypeRefusal(const Scope& scope, const Inner& in, const std::string& k,
                           const Col& outer) {
  std::string ot;
  for (const auto& r : scope.rels)
    if (r.name == outer.rel) {
      auto it = r.types.find(outer.col);
      if (it != r.types.end()) ot = it->second;
    }
  const std::string it = TypeOf(in.table, k);
  if (ot.empty() || it.empty())
    return "the types of " + in.alias + "." + k + " and " + outer.rel + "." + outer.col +
           " are unknown: PARTITION BY groups by the partition column's own equality, which "
           "is `=` only for one type";
  if (ot != it && !(IntegerType(ot) && IntegerType(it)))
    return in.alias + "." + k + " (" + it + ") = " + outer.rel + "." + outer.col + " (" + ot +
           "): a cross-type `=` may match several partitions";
  return "";
}

// Why `sort` may leave ties among one group's rows, or the proof that it
// does not (in *proof).
std::string TiesRefusal(const Inner& in, const std::string& k, PgQuery__SelectStmt* q,
                        Node* const* sort, size_t n_sort, const Node* skip_target,
                        std::string* proof) {
  for (size_t i = 0; i < n_sort; ++i)
    if (sort[i]->node_case != PG_QUERY__NODE__NODE_SORT_BY ||
        sort[i]->sort_by->node->node_case == PG_QUERY__NODE__NODE_A_CONST)
      return "ORDER BY by position: a column number in ORDER BY and a constant in a window's "
             "ORDER BY mean different things";
  std::set<std::string> ocols;
  for (size_t i = 0; i < n_sort; ++i) {
    Col c;
    if (sort[i]->node_case == PG_QUERY__NODE__NODE_SORT_BY && !sort[i]->sort_by->n_use_op &&
        QualCol(sort[i]->sort_by->node, &c) && c.rel == in.alias)
      ocols.insert(c.col);
  }
  if (in.table) {
    for (const auto& key : in.table->unique_keys) {
      bool covered = !key.empty();
      for (const auto& col : key) {
        auto nn = in.table->not_null.find(col);
        covered &= col == k || (ocols.count(col) && nn != in.table->not_null.end() && nn->second);
      }
      if (!covered) continue;
      std::string names;
      for (const auto& col : key) names += (names.empty() ? "" : ", ") + col;
      *proof = "the ORDER BY with the partition column " + k + " covers the unique key (" + names +
               ") of " + in.alias + " (NOT NULL): no two rows of a group tie";
      return "";
    }
  }
  bool all = true;
  for (size_t i = 0; i < q->n_target_list && all; ++i) {
    Node* v = q->target_list[i]->res_target->val;
    if (v == skip_target) continue;
    Col c;
    all = QualCol(v, &c) && c.rel == in.alias && ocols.count(c.col) &&
          EqualityIsIdentity(TypeOf(in.table, c.col));
  }
  if (all) {
    *proof =
        "every selected column is an ORDER BY column whose equality is identity: tied rows are "
        "identical in the output";
    return "";
  }
  return "ties in ORDER BY: rows chosen among ties may differ (the ORDER BY with the partition "
         "column covers no NOT NULL unique key the catalog knows, and not every selected column "
         "is an ORDER BY column); end the ORDER BY with a unique key";
}

// The outer query must not see the derived table's column list as a whole.
std::string OuterUseRefusal(PgQuery__SelectStmt* s, const std::string& t, const Node* skip,
                            const std::string& rn) {
  std::vector<PgQuery__ColumnRef*> refs;
  VisitSlots(reinterpret_cast<ProtobufCMessage*>(s), [&](Node** slot) {
    if (*slot == skip) return false;
    if ((*slot)->node_case == PG_QUERY__NODE__NODE_COLUMN_REF) refs.push_back((*slot)->column_ref);
    return true;
  });
  for (auto* c : refs) {
    const Node* last = c->fields[c->n_fields - 1];
    const bool star = last->node_case == PG_QUERY__NODE__NODE_A_STAR;
    const std::string first =
        c->fields[0]->node_case == PG_QUERY__NODE__NODE_STRING ? StrVal(c->fields[0]) : "";
    if (star && (c->n_fields == 1 || first == t))
      return "the outer query selects `*` over " + t + ": the two forms have other columns";
    if (c->n_fields == 1 && first == t)
      return "a whole-row reference to " + t + ": the two forms have other columns";
    if (!rn.empty() && !star && StrVal(last) == rn && (c->n_fields == 1 || first == t))
      return t + "." + rn +
             " is used outside the join condition: the LATERAL form has no row "
             "number";
  }
  return "";
}

void Report(PassContext& ctx, PgQuery__SelectStmt* q, bool applied, const std::string& why) {
  PassOutcome o;
  o.pass = kPass;
  o.applied = applied;
  o.reason = why;
  if (q->n_from_clause && q->from_clause[0]->node_case == PG_QUERY__NODE__NODE_RANGE_VAR)
    o.location = q->from_clause[0]->range_var->location;
  o.subquery = Shorten(SelectSql(q));
  ctx.outcomes->push_back(o);
  if (applied) ctx.applied_any = true;
}

bool IsTrue(const Node* n) { return n && ExprSql(n) == "true"; }

// Why a column of `q` (in `n`) is neither the inner table's nor `allowed`.
std::string RefsRefusal(Node* n, const Inner& in, const Node* allowed) {
  std::vector<PgQuery__ColumnRef*> refs;
  ColumnRefs(n, allowed, &refs);
  for (auto* c : refs) {
    Col col;
    Node wrapper = PG_QUERY__NODE__INIT;
    wrapper.node_case = PG_QUERY__NODE__NODE_COLUMN_REF;
    wrapper.column_ref = c;
    if (!QualCol(&wrapper, &col))
      return "column " + ExprSql(&wrapper) +
             " is not written table.column: a name could be captured by the other form";
    if (col.rel != in.alias)
      return "an outer reference (" + col.rel + "." + col.col +
             ") other than the one correlation equality";
  }
  return "";
}

// A -> B: the LATERAL item at *item (joined by `join`, or a comma item).
void TryLateral(PassContext& ctx, PgQuery__SelectStmt* s, const Level& lv, Node** item,
                PgQuery__JoinExpr* join, const std::set<std::string>& left) {
  PgQuery__RangeSubselect* rs = (*item)->range_subselect;
  if (!rs->lateral || !rs->subquery ||
      rs->subquery->node_case != PG_QUERY__NODE__NODE_SELECT_STMT || !rs->alias)
    return;
  PgQuery__SelectStmt* q = rs->subquery->select_stmt;
  if (!q->limit_count && !q->limit_offset) return;  // not a top-N item
  auto refuse = [&](const std::string& w) { Report(ctx, q, false, w); };
  if (!q->n_sort_clause) return refuse("LIMIT without ORDER BY picks arbitrary rows");
  if (!ctx.cat)
    return refuse(
        "needs --db: the catalog proves the ORDER BY total (a unique key), and the server's "
        "costs choose the form (an index on the key favours LATERAL, reading most groups the "
        "window)");
  const std::string t = rs->alias->aliasname;
  if (join) {
    if (join->jointype != PG_QUERY__JOIN_TYPE__JOIN_INNER &&
        join->jointype != PG_QUERY__JOIN_TYPE__JOIN_LEFT)
      return refuse("a RIGHT or FULL join of a LATERAL item");
    if (join->is_natural || join->n_using_clause)
      return refuse("NATURAL / USING join of the LATERAL item");
    if (join->quals && !IsTrue(join->quals)) return refuse("a join condition other than ON true");
  }
  if (q->limit_option == PG_QUERY__LIMIT_OPTION__LIMIT_OPTION_WITH_TIES)
    return refuse("FETCH ... WITH TIES returns every tied row, row_number() numbers them apart");
  if (q->limit_offset)
    return refuse("OFFSET: not rewritten (rn > m AND rn <= m + n is not proven here)");
  int n = 0;
  if (!IntConst(q->limit_count, &n) || n < 0)
    return refuse(
        "LIMIT is not a non-negative integer constant (LIMIT $n: NULL means no limit for LIMIT "
        "but no row for rn <= $n, and a negative value is an error only for LIMIT)");
  Inner in;
  std::string why = QueryRefusal(ctx, lv, q, nullptr, &in);
  if (!why.empty()) return refuse(why);
  // The correlation: exactly one conjunct inner.k = outer.col, the rest local.
  std::vector<Node*> locals;
  Node* corr = nullptr;
  Col kin, out;
  for (Node* c : Conjuncts(q->where_clause)) {
    Col a, b;
    if (IsOp(c, "=") && QualCol(c->a_expr->lexpr, &a) && QualCol(c->a_expr->rexpr, &b) &&
        (a.rel == in.alias) != (b.rel == in.alias)) {
      if (corr) return refuse("more than one correlation: only i.k = g.col is rewritten");
      corr = c;
      kin = a.rel == in.alias ? a : b;
      out = a.rel == in.alias ? b : a;
      continue;
    }
    locals.push_back(c);
  }
  if (!corr) return refuse("no correlation equality inner.k = outer.col in WHERE");
  why = RefsRefusal(ctx.tree->SelectNode(q), in, corr);
  if (!why.empty()) return refuse(why);
  if (!left.count(out.rel))
    return refuse("the correlation names " + out.rel +
                  ", which is not a FROM item before the LATERAL item");
  why = KeyTypeRefusal(lv.scope, in, kin.col, out);
  if (!why.empty()) return refuse(why);
  std::string proof;
  why = TiesRefusal(in, kin.col, q, q->sort_clause, q->n_sort_clause, nullptr, &proof);
  if (!why.empty()) return refuse(why);
  why = OuterUseRefusal(s, t, *item, "");
  if (!why.empty()) return refuse(why);

  Tree& tr = *ctx.tree;
  Node* kin_node = corr->a_expr->lexpr;
  Node* out_node = corr->a_expr->rexpr;
  if (Col x; QualCol(kin_node, &x) && x.rel != in.alias) std::swap(kin_node, out_node);
  const std::string tk = ctx.FreshName("pgv_tk"), rn = ctx.FreshName("pgv_rn");
  PgQuery__WindowDef winit = PG_QUERY__WINDOW_DEF__INIT;
  auto* wd = tr.New(winit);
  tr.Append(&wd->n_partition_clause, &wd->partition_clause, tr.Clone(kin_node));
  for (size_t i = 0; i < q->n_sort_clause; ++i)
    tr.Append(&wd->n_order_clause, &wd->order_clause, q->sort_clause[i]);
  wd->frame_options = 1058;  // FRAMEOPTION_DEFAULTS (row_number ignores the frame)
  wd->location = -1;
  Node* fc = tr.FuncCall("row_number", {});
  fc->func_call->over = wd;
  tr.Append(&q->n_target_list, &q->target_list, tr.ResTarget(tr.Clone(kin_node), tk));
  tr.Append(&q->n_target_list, &q->target_list, tr.ResTarget(fc, rn));
  if (rs->alias->n_colnames) {
    tr.Append(&rs->alias->n_colnames, &rs->alias->colnames, tr.String(tk));
    tr.Append(&rs->alias->n_colnames, &rs->alias->colnames, tr.String(rn));
  }
  q->where_clause = locals.empty() ? nullptr : tr.And(locals);
  q->n_sort_clause = 0;
  q->sort_clause = nullptr;
  q->limit_count = nullptr;
  q->limit_option = PG_QUERY__LIMIT_OPTION__LIMIT_OPTION_DEFAULT;
  rs->lateral = false;
  Node* cond = tr.And({tr.Op("=", tr.ColumnRef({t, tk}), tr.Clone(out_node)),
                       tr.Op("<=", tr.ColumnRef({t, rn}), tr.IntConst(n))});
  const bool left_join = join && join->jointype == PG_QUERY__JOIN_TYPE__JOIN_LEFT;
  if (join)
    join->quals = cond;
  else
    s->where_clause = s->where_clause ? tr.And({cond, s->where_clause}) : cond;
  Report(ctx, q, true,
         std::string("LATERAL top-") + std::to_string(n) + " -> row_number() OVER (PARTITION BY " +
             in.alias + "." + kin.col +
             " ORDER BY <the same ORDER BY, NULLS FIRST/LAST as "
             "written>) joined on " +
             t + "." + tk + " = " + out.rel + "." + out.col + " AND " + t + "." + rn +
             " <= " + std::to_string(n) +
             (left_join ? " in ON (a LEFT JOIN: the rn condition in WHERE would drop outer rows "
                          "without a match)"
                        : (join ? " in ON" : " in WHERE (an inner join)")) +
             ": the partition of " + out.rel + "." + out.col +
             " is the rows the LATERAL query "
             "reads for it, the first " +
             std::to_string(n) + " in the same order; " + proof + "; a NULL " + out.rel + "." +
             out.col + " or " + in.alias + "." + kin.col + " matches nothing in either form");
}

// B -> A: the derived table at join->rarg numbered by row_number().
void TryWindow(PassContext& ctx, PgQuery__SelectStmt* s, const Level& lv, PgQuery__JoinExpr* join,
               const std::set<std::string>& left) {
  PgQuery__RangeSubselect* rs = join->rarg->range_subselect;
  if (rs->lateral || !rs->subquery || rs->subquery->node_case != PG_QUERY__NODE__NODE_SELECT_STMT ||
      !rs->alias)
    return;
  PgQuery__SelectStmt* q = rs->subquery->select_stmt;
  PgQuery__ResTarget* rnt = nullptr;
  for (size_t i = 0; i < q->n_target_list && !rnt; ++i) {
    Node* v = q->target_list[i]->res_target->val;
    if (v->node_case == PG_QUERY__NODE__NODE_FUNC_CALL && v->func_call->over &&
        !v->func_call->n_args && v->func_call->n_funcname &&
        StrVal(v->func_call->funcname[v->func_call->n_funcname - 1]) == "row_number")
      rnt = q->target_list[i]->res_target;
  }
  if (!rnt) return;  // not a numbered derived table
  auto refuse = [&](const std::string& w) { Report(ctx, q, false, w); };
  if (!ctx.cat)
    return refuse(
        "needs --db: the catalog proves the ORDER BY total (a unique key), and the server's "
        "costs choose the form");
  const std::string t = rs->alias->aliasname;
  const std::string rn = rnt->name && *rnt->name ? rnt->name : "row_number";
  if (join->jointype != PG_QUERY__JOIN_TYPE__JOIN_INNER &&
      join->jointype != PG_QUERY__JOIN_TYPE__JOIN_LEFT)
    return refuse("a RIGHT or FULL join");
  if (join->is_natural || join->n_using_clause) return refuse("NATURAL / USING join");
  if (rs->alias->n_colnames) return refuse("column aliases on the derived table");
  PgQuery__WindowDef* wd = rnt->val->func_call->over;
  if ((wd->name && *wd->name) || (wd->refname && *wd->refname)) return refuse("a named window");
  if (wd->n_partition_clause != 1) return refuse("PARTITION BY is not one column");
  Inner in;
  std::string why = QueryRefusal(ctx, lv, q, rnt->val, &in);
  if (!why.empty()) return refuse(why);
  Col kin;
  if (!QualCol(wd->partition_clause[0], &kin) || kin.rel != in.alias)
    return refuse("PARTITION BY is not a column of " + in.alias);
  if (!wd->n_order_clause) return refuse("row_number() without ORDER BY numbers rows arbitrarily");
  if (q->n_sort_clause || q->limit_count || q->limit_offset)
    return refuse("the derived table has its own ORDER BY / LIMIT / OFFSET");
  why = RefsRefusal(ctx.tree->SelectNode(q), in, nullptr);
  if (!why.empty()) return refuse(why);
  std::string kout;
  for (size_t i = 0; i < q->n_target_list && kout.empty(); ++i) {
    PgQuery__ResTarget* r = q->target_list[i]->res_target;
    Col c;
    if (r != rnt && QualCol(r->val, &c) && c.rel == kin.rel && c.col == kin.col)
      kout = r->name && *r->name ? r->name : c.col;
  }
  if (kout.empty()) return refuse("the partition column is not selected, nothing joins on it");
  // ON: exactly t.kout = outer.col AND t.rn <= n (or <, >=, > written around).
  Node* out_node = nullptr;
  Col out;
  int n = -1;
  bool bound = false;
  const auto conj = Conjuncts(join->quals);
  for (Node* c : conj) {
    Col a, b;
    int v = 0;
    if (IsOp(c, "=") && QualCol(c->a_expr->lexpr, &a) && QualCol(c->a_expr->rexpr, &b) &&
        ((a.rel == t && a.col == kout) != (b.rel == t && b.col == kout)) && !out_node) {
      const bool l = a.rel == t && a.col == kout;
      out = l ? b : a;
      out_node = l ? c->a_expr->rexpr : c->a_expr->lexpr;
      continue;
    }
    const bool rl = QualCol(c->a_expr ? c->a_expr->lexpr : nullptr, &a) && a.rel == t &&
                    a.col == rn && IntConst(c->a_expr->rexpr, &v);
    const bool rr = QualCol(c->a_expr ? c->a_expr->rexpr : nullptr, &b) && b.rel == t &&
                    b.col == rn && IntConst(c->a_expr->lexpr, &v);
    if (!bound && c->node_case == PG_QUERY__NODE__NODE_A_EXPR && (rl || rr)) {
      if ((rl && IsOp(c, "<=")) || (rr && IsOp(c, ">=")))
        n = v;
      else if ((rl && IsOp(c, "<")) || (rr && IsOp(c, ">")))
        n = v - 1;
      else
        return refuse("the row-number condition is not rn <= n or rn < n");
      bound = true;
      continue;
    }
    return refuse("the join condition is not exactly " + t + "." + kout + " = outer.col AND " + t +
                  "." + rn + " <= n (an integer constant): " + Shorten(ExprSql(c), 80));
  }
  if (!out_node || !bound)
    return refuse("the join condition lacks " + t + "." + kout + " = outer.col or " + t + "." + rn +
                  " <= n");
  if (!left.count(out.rel) || out.rel == in.alias)
    return refuse(out.rel +
                  " is not a FROM item on the left of the join (or has the inner "
                  "table's name, which would capture it in a LATERAL query)");
  why = KeyTypeRefusal(lv.scope, in, kin.col, out);
  if (!why.empty()) return refuse(why);
  std::string proof;
  why = TiesRefusal(in, kin.col, q, wd->order_clause, wd->n_order_clause, rnt->val, &proof);
  if (!why.empty()) return refuse(why);
  why = OuterUseRefusal(s, t, join->quals, rn);
  if (!why.empty()) return refuse(why);

  Tree& tr = *ctx.tree;
  size_t w = 0;
  for (size_t i = 0; i < q->n_target_list; ++i)
    if (q->target_list[i]->res_target != rnt) q->target_list[w++] = q->target_list[i];
  q->n_target_list = w;
  Node* eq = tr.Op("=", tr.Clone(wd->partition_clause[0]), tr.Clone(out_node));
  q->where_clause = q->where_clause ? tr.And({q->where_clause, eq}) : eq;
  for (size_t i = 0; i < wd->n_order_clause; ++i)
    tr.Append(&q->n_sort_clause, &q->sort_clause, wd->order_clause[i]);
  n = std::max(n, 0);  // rn <= 0 keeps nothing, as LIMIT 0 does (a negative LIMIT is an error)
  q->limit_count = tr.IntConst(n);
  q->limit_option = PG_QUERY__LIMIT_OPTION__LIMIT_OPTION_COUNT;
  rs->lateral = true;
  join->quals = tr.BoolConst(true);
  const bool left_join = join->jointype == PG_QUERY__JOIN_TYPE__JOIN_LEFT;
  Report(ctx, q, true,
         "row_number() <= " + std::to_string(n) + " per " + in.alias + "." + kin.col + " -> " +
             (left_join ? "LEFT JOIN LATERAL" : "JOIN LATERAL") + " (... WHERE " + in.alias + "." +
             kin.col + " = " + out.rel + "." + out.col +
             " ORDER BY <the window's ORDER BY, "
             "NULLS FIRST/LAST as written> LIMIT " +
             std::to_string(n) +
             ") ON true: the rows "
             "the LATERAL query reads for an outer row are the partition the join met, the first " +
             std::to_string(n) + " in the same order" +
             (left_join ? "; LEFT: an outer row without a match keeps its NULLs once, as the "
                          "rn condition in ON kept it"
                        : "") +
             "; " + proof + "; a NULL " + out.rel + "." + out.col + " or " + in.alias + "." +
             kin.col + " matches nothing in either form");
}

// Every FROM item of s, join trees included; `left` is what the item may see.
void Walk(PassContext& ctx, PgQuery__SelectStmt* s, const Level& lv, Node** item,
          const std::set<std::string>& left) {
  Node* n = *item;
  if (n->node_case == PG_QUERY__NODE__NODE_RANGE_SUBSELECT) {
    TryLateral(ctx, s, lv, item, nullptr, left);
    return;
  }
  if (n->node_case != PG_QUERY__NODE__NODE_JOIN_EXPR) return;
  PgQuery__JoinExpr* j = n->join_expr;
  Walk(ctx, s, lv, &j->larg, left);
  std::set<std::string> l;
  ExposedNames(j->larg, &l);
  if (j->rarg->node_case == PG_QUERY__NODE__NODE_RANGE_SUBSELECT) {
    const size_t before = ctx.outcomes->size();
    TryLateral(ctx, s, lv, &j->rarg, j, l);
    if (ctx.outcomes->size() == before) TryWindow(ctx, s, lv, j, l);
  } else {
    std::set<std::string> all = left;
    all.insert(l.begin(), l.end());
    Walk(ctx, s, lv, &j->rarg, all);
  }
}

}  // namespace

void PassTopN(PassContext& ctx, PgQuery__SelectStmt* s, const Stack& stack) {
  if (!s->n_from_clause || s->op != PG_QUERY__SET_OPERATION__SETOP_NONE) return;
  Scope scope = BuildScope(s, stack, ctx.cat);
  Level lv{scope, {}};
  for (const Scope* sc : stack)
    for (const auto& c : sc->ctes) lv.ctes.insert(c.first);
  for (const auto& c : scope.ctes) lv.ctes.insert(c.first);
  std::set<std::string> left;
  for (size_t i = 0; i < s->n_from_clause; ++i) {
    Walk(ctx, s, lv, &s->from_clause[i], left);
    ExposedNames(s->from_clause[i], &left);
  }
}

}  // namespace pgvise::rw
