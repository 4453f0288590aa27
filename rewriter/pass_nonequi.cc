// Pass join-aggregate-non-equality: a correlated aggregate subquery whose
// correlation includes a non-equality (`o.amount > c.credit_limit`), which
// no grouped derived table can express (the group would depend on the outer
// row), becomes a LEFT JOIN of the outer table and the subquery's table on
// the subquery's whole WHERE, grouped by the outer table's primary key, with
// the predicate moved to HAVING.
//
// Why it is correct. Take the outer query
//   SELECT t FROM c WHERE P(c) AND Q(c, (SELECT agg(e) FROM o WHERE W(o, c)))
// where c is one table with primary key k, and W's outer references are to c.
// For a row r of c the subquery aggregates R(r) = {o : W(o, r) true}. In
//   c LEFT JOIN o ON W(o, c)
// the rows with c = r are r paired with each row of R(r), or, when R(r) is
// empty, r once with o NULL-extended. GROUP BY c.k makes one group per row of
// c (k is unique and never NULL), so no outer row is repeated or merged. In
// that group, `agg(e) FILTER (WHERE o.ctid IS NOT NULL)` aggregates e over
// exactly R(r): a real row of o always has a ctid, the NULL-extended row has
// none. Over an empty R(r) it is agg of no rows — 0 for COUNT, NULL for SUM,
// MAX... — which is what the subquery yields: the COUNT bug cannot occur
// (the naive `count(*)` over the LEFT JOIN counts the NULL-extended row as
// 1, and the naive INNER JOIN loses r altogether). Every aggregate of the
// value gets the filter, so a non-strict argument (count(coalesce(o.x, 0)))
// is not fed the missing row either. Q moves to HAVING, which keeps a group
// exactly when Q is true, as WHERE kept r; P stays in WHERE (it reads only
// c, so it has the same value on every joined row of r). t and Q may name
// any column of c: c is grouped by its primary key, on which all its
// columns depend, and PostgreSQL accepts that (SQL:1999 functional
// dependency).
//
// Worked example (customers.id is the primary key):
//   SELECT c.id FROM customers c WHERE (SELECT count(*) FROM orders o
//     WHERE o.customer_id = c.id AND o.amount > c.credit_limit) = 0
// becomes
//   SELECT c.id FROM customers c LEFT JOIN orders o
//     ON o.customer_id = c.id AND o.amount > c.credit_limit
//   GROUP BY c.id HAVING count(*) FILTER (WHERE o.ctid IS NOT NULL) = 0
//
// Refused: without --db (the primary key and the columns that could be
// captured are unknown); a correlation without any equality (the join would
// be a nested loop over all pairs, like the SubPlan: no gain); an outer
// query over more than one FROM item, without a primary key, grouped, with
// window functions, LIMIT / OFFSET, or volatile functions; the subquery in
// anything but a top-level WHERE conjunct holding no other subquery; a
// subquery over more than one table, or with GROUP BY / HAVING / DISTINCT /
// ORDER BY / LIMIT / window / set-returning / volatile functions or a nested
// subquery; outer references outside its WHERE or more than one level out;
// unqualified columns in the subquery, a subquery alias that an enclosing
// query also uses, and unqualified columns of the outer statement that the
// subquery's table has (the join would capture them).
#include <algorithm>

#include "rewriter/passes.h"

namespace pgvise::rw {

namespace {

constexpr const char* kPass = "join-aggregate-non-equality";

int CountSublinks(Node* n) {
  int k = 0;
  VisitSlots(&n, [&](Node** slot) {
    if ((*slot)->node_case == PG_QUERY__NODE__NODE_SUB_LINK) ++k;
    return true;
  });
  return k;
}

// Adds FILTER (WHERE probe) to every aggregate call of this level in `n`.
void FilterAggregates(Tree& t, Node* n, Node* probe, const RewriteCatalog* cat) {
  VisitSlots(&n, [&](Node** slot) {
    Node* x = *slot;
    if (x->node_case == PG_QUERY__NODE__NODE_SUB_LINK) return false;
    if (x->node_case == PG_QUERY__NODE__NODE_FUNC_CALL && IsAggregateCall(x->func_call, cat)) {
      PgQuery__FuncCall* f = x->func_call;
      f->agg_filter = f->agg_filter ? t.And({f->agg_filter, t.Clone(probe)}) : t.Clone(probe);
      return false;  // aggregates do not nest
    }
    return true;
  });
}

void TryNonEqui(PassContext& ctx, PgQuery__SelectStmt* s, const Stack& stack, const Site& site) {
  PgQuery__SubLink* sl = (*site.slot)->sub_link;
  PgQuery__SelectStmt* sub = sl->subselect->select_stmt;
  if (!SelectHasAggregate(sub, ctx.cat)) return;  // not an aggregate: not this pass's shape
  Scope scope = BuildScope(s, stack, ctx.cat);
  Stack outer = stack;
  outer.push_back(&scope);
  {
    // Equality-only correlations are the scalar passes' (and were reported
    // there); only a correlation they refuse is looked at here.
    Correlation c;
    std::string why;
    if (AnalyzeCorrelation(sub, outer, ctx.cat, &c, &why) != CorrelationResult::kRefused) return;
    if (why.find("is not an equality") == std::string::npos) return;
  }
  auto refuse = [&](const std::string& w) { ctx.Report(kPass, sl, false, w); };
  const int L = static_cast<int>(outer.size()) - 1;  // the outer query's level

  // Where the subquery sits.
  if (site.clause != SiteClause::kWhere || !site.conjunct || site.in_aggregate)
    return refuse("not in a top-level WHERE conjunct: only a WHERE filter can move to HAVING");
  if (CountSublinks(*site.conjunct) != 1)
    return refuse("its WHERE conjunct holds another subquery");
  if (!ctx.cat) return refuse("needs --db: the outer table's primary key must be known");

  // The subquery.
  if (sub->n_target_list != 1 || !sub->target_list[0]->res_target->val)
    return refuse("the subquery does not return exactly one column");
  if (sub->n_group_clause || sub->having_clause || sub->n_distinct_clause || sub->n_sort_clause ||
      sub->limit_count || sub->limit_offset || sub->n_window_clause)
    return refuse("GROUP BY / HAVING / DISTINCT / ORDER BY / LIMIT / WINDOW in the subquery");
  if (sub->with_clause || sub->n_locking_clause || sub->op != PG_QUERY__SET_OPERATION__SETOP_NONE)
    return refuse("WITH, FOR UPDATE or a set operation in the subquery");
  Node* value = sub->target_list[0]->res_target->val;
  if (HasWindow(value)) return refuse("a window function in the subquery");
  if (HasSublink(value) || HasSublink(sub->where_clause))
    return refuse("a subquery nested in the subquery");
  std::string f = FindSetReturning(value, ctx.cat);
  if (!f.empty()) return refuse("set-returning function " + f + " in the subquery");
  f = FindVolatile(sl->subselect, ctx.cat);
  if (!f.empty())
    return refuse("volatile function " + f + ": it would run per joined row instead of per row");
  Scope sc = BuildScope(sub, outer, ctx.cat);
  if (sub->n_from_clause != 1 || sc.rels.size() != 1 || !sc.rels[0].base_table ||
      sub->from_clause[0]->node_case != PG_QUERY__NODE__NODE_RANGE_VAR)
    return refuse("the subquery reads more than one table (or not a table)");
  const Relation& inner_rel = sc.rels[0];
  if (!ctx.cat->FindTable(inner_rel.schema, inner_rel.table))
    return refuse("table " + inner_rel.table + " is not in the catalog");
  for (int lv = 0; lv <= L; ++lv)
    for (const auto& r : outer[lv]->rels)
      if (r.name == inner_rel.name)
        return refuse("the subquery's alias " + inner_rel.name +
                      " is also a name in an enclosing query: joined, it would capture its "
                      "references");

  // Its column references: qualified; outer ones only in WHERE, one level out;
  // at least one equality to join on.
  Stack inner = outer;
  inner.push_back(&sc);
  std::vector<Ref> all, in_where;
  CollectRefsSelect(sub, outer, ctx.cat, &all);
  CollectRefs(sub->where_clause, inner, ctx.cat, &in_where);
  for (const Ref& r : all) {
    if (r.col->n_fields < 2)
      return refuse(
          "unqualified column in the subquery: qualify it so it cannot bind to the "
          "other table once joined");
    if (r.res.unknown || r.res.level < 0)
      return refuse("a column of the subquery cannot be placed");
    if (r.res.level < L) return refuse("the subquery refers to a query two levels out");
    if (r.res.level == L) {
      bool where = std::any_of(in_where.begin(), in_where.end(),
                               [&](const Ref& w) { return w.col == r.col; });
      if (!where) return refuse("an outer column outside the subquery's WHERE");
    }
  }
  bool has_equality = false;
  for (Node* conj : Conjuncts(sub->where_clause)) {
    if (conj->node_case != PG_QUERY__NODE__NODE_A_EXPR || OpName(conj->a_expr) != "=") continue;
    std::vector<Ref> l, r;
    CollectRefs(conj->a_expr->lexpr, inner, ctx.cat, &l);
    CollectRefs(conj->a_expr->rexpr, inner, ctx.cat, &r);
    auto only = [&](const std::vector<Ref>& v, int level) {
      return !v.empty() &&
             std::all_of(v.begin(), v.end(), [&](const Ref& x) { return x.res.level == level; });
    };
    has_equality |= (only(l, L) && only(r, L + 1)) || (only(l, L + 1) && only(r, L));
  }
  if (!has_equality)
    return refuse(
        "no equality between the subquery and the outer row: the join would pair "
        "every row with every row, as the SubPlan does; no gain");

  // The outer query: one table with a primary key, nothing grouped or limited.
  if (s->n_from_clause != 1 || s->from_clause[0]->node_case != PG_QUERY__NODE__NODE_RANGE_VAR ||
      scope.rels.size() != 1 || !scope.rels[0].base_table)
    return refuse(
        "the outer query reads more than one FROM item: grouping by one table's key "
        "would merge rows of the others");
  const Relation& outer_rel = scope.rels[0];
  const RewriteCatalog::Table* ot = ctx.cat->FindTable(outer_rel.schema, outer_rel.table);
  if (!ot || ot->primary_key.empty())
    return refuse("the outer table " + outer_rel.table +
                  " has no primary key (known to the catalog) to group by");
  if (IsGrouped(s, ctx.cat)) return refuse("the outer query groups");
  for (size_t i = 0; i < s->n_target_list; ++i)
    if (HasWindow(s->target_list[i])) return refuse("window functions in the outer query");
  if (s->limit_count || s->limit_offset)
    return refuse("the outer query has LIMIT/OFFSET: the SubPlan only runs for the rows fetched");
  if (s->n_locking_clause) return refuse("the outer query locks rows (FOR UPDATE/SHARE)");
  if (s->with_clause) return refuse("the outer query has a WITH clause");
  for (size_t i = 0; i < s->n_target_list; ++i)
    if (!FindVolatile(s->target_list[i], ctx.cat).empty())
      return refuse("a volatile function in the outer query");
  if (!FindVolatile(s->where_clause, ctx.cat).empty())
    return refuse("a volatile function in the outer WHERE");
  // Unqualified columns of the statement that the joined table also has would
  // bind to it (or become ambiguous).
  const RewriteCatalog::Table* it = ctx.cat->FindTable(inner_rel.schema, inner_rel.table);
  std::vector<Ref> outer_refs;
  CollectRefsSelect(s, stack, ctx.cat, &outer_refs);
  for (const Ref& r : outer_refs) {
    if (r.col->n_fields != 1 || r.col->fields[0]->node_case != PG_QUERY__NODE__NODE_STRING)
      continue;
    if (r.occurs_at == L + 1 && r.res.level == L + 1) continue;  // inside the subquery: checked
    if (r.res.level >= 0 && r.res.level > L) continue;           // bound below the outer query
    if (it->types.count(StrVal(r.col->fields[0])) || it->not_null.count(StrVal(r.col->fields[0])))
      return refuse("unqualified column " + StrVal(r.col->fields[0]) + " would also name " +
                    inner_rel.name + "'s column once joined");
  }
  std::string why;
  if (!ExpandStar(ctx, s, &why)) return refuse(why);

  // Rewrite.
  Tree& t = *ctx.tree;
  Node* conj = *site.conjunct;
  std::vector<Node*> rest;
  for (Node* x : Conjuncts(s->where_clause))
    if (x != conj) rest.push_back(x);
  Node* probe = t.NullTest(t.ColumnRef({inner_rel.name, "ctid"}), false);
  FilterAggregates(t, value, probe, ctx.cat);
  *site.slot = value;
  s->where_clause = rest.empty() ? nullptr : t.And(rest);
  s->having_clause = conj;
  s->from_clause[0] = t.Join(PG_QUERY__JOIN_TYPE__JOIN_LEFT, s->from_clause[0], sub->from_clause[0],
                             sub->where_clause ? sub->where_clause : t.BoolConst(true));
  std::string pk;
  for (const auto& col : ot->primary_key) {
    t.Append(&s->n_group_clause, &s->group_clause, t.ColumnRef({outer_rel.name, col}));
    pk += (pk.empty() ? "" : ", ") + outer_rel.name + "." + col;
  }
  ctx.outcomes->erase(std::remove_if(ctx.outcomes->begin(), ctx.outcomes->end(),
                                     [&](const PassOutcome& o) {
                                       return !o.applied && o.location == sl->location &&
                                              o.pass.rfind("decorrelate-scalar", 0) == 0;
                                     }),
                      ctx.outcomes->end());
  ctx.Report(kPass, sl, true,
             "LEFT JOIN " + inner_rel.name + " on the subquery's WHERE, GROUP BY " + pk +
                 " (the primary key: one group per outer row), the predicate in HAVING; "
                 "every aggregate gets FILTER (WHERE " +
                 inner_rel.name +
                 ".ctid IS NOT NULL), so an outer row without a match aggregates no rows "
                 "(COUNT 0, SUM NULL), as the subquery does (the COUNT bug)");
}

}  // namespace

void PassJoinAggregateNonEquality(PassContext& ctx, PgQuery__SelectStmt* s, const Stack& stack) {
  ForEachNewSublink(
      ctx, s,
      [&](const Site&, const PgQuery__SubLink& sl) {
        return sl.sub_link_type == PG_QUERY__SUB_LINK_TYPE__EXPR_SUBLINK;
      },
      [&](const Site& site) { TryNonEqui(ctx, s, stack, site); });
}

}  // namespace pgvise::rw
