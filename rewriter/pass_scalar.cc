// Passes decorrelate-scalar-where and decorrelate-scalar-select: a correlated
// scalar aggregate subquery becomes a grouped derived table joined on the
// correlation columns.
//
// Why it is correct. Take an outer row u and the subquery
//   (SELECT agg(e) FROM orders o WHERE o.user_id = u.id AND p(o))
// Its value is agg over R(u) = {o : p(o) and o.user_id = u.id}. The derived
// table
//   (SELECT o.user_id AS pgv_k1, agg(e) AS pgv_v FROM orders o WHERE p(o)
//    GROUP BY o.user_id) pgv_sq1
// has one row per distinct o.user_id, and the row whose key equals u.id
// aggregates exactly R(u) (equal keys fall into one group). So when a row
// matches, pgv_sq1.pgv_v is the subquery's value; and because keys are
// unique in pgv_sq1, joining never multiplies outer rows. What remains is the
// outer row with R(u) empty (no group matches; also u.id IS NULL): the
// subquery yields agg over no rows, which is 0 for COUNT and NULL for
// SUM/AVG/MIN/MAX. Two correct ways to treat that row:
//  * INNER JOIN, only when the predicate that holds the subquery is a
//    top-level WHERE conjunct that is false or NULL on the empty value
//    (`count > 10`, `sum(...) > x`, `l_quantity < 0.2 * avg(...)`): the
//    original filters those rows out anyway.
//  * otherwise LEFT JOIN and put the empty value back: COALESCE(pgv_v, 0) for
//    COUNT, pgv_v itself when the expression is NULL on no rows, and for any
//    other expression CASE WHEN pgv_k1 IS NULL THEN (the aggregate over an
//    empty input) ELSE pgv_v END. This is the COUNT bug (Kiessling 1984): a
//    naive inner join drops users with no orders from `count(*) = 0`,
//    `count(*) < 3` and `sum(x) IS NULL`.
// The LEFT JOIN form substitutes an equal value for every outer row, so it is
// valid anywhere in the query level: the select list, under OR/NOT, HAVING
// (the derived columns then join the outer GROUP BY: they are functionally
// dependent on grouped outer columns, so no group splits).
//
// When the outer keys come from one table that the outer WHERE filters, the
// derived table is limited to keys passing those filters
// (ReduceToOuterKeys, a semi-join "magic set"): a selective outer query
// (TPC-H Q17: a few parts) then aggregates only its own groups instead of
// the whole inner table.
//
// Worked example:
//   SELECT u.id FROM users u
//   WHERE (SELECT count(*) FROM orders o WHERE o.user_id = u.id) = 0
// becomes
//   SELECT u.id FROM users u LEFT JOIN
//     (SELECT o.user_id AS pgv_k1, count(*) AS pgv_v FROM orders o
//      GROUP BY o.user_id) pgv_sq1 ON pgv_sq1.pgv_k1 = u.id
//   WHERE COALESCE(pgv_sq1.pgv_v, 0) = 0
//
// Refused (the guards below say why each would change the result or not
// help): outer references anywhere but key equalities in WHERE (see
// decorrelate.h), subqueries with their own GROUP BY / HAVING / LIMIT /
// DISTINCT, non-aggregate lookups (including ORDER BY ... LIMIT 1), window
// and set-returning functions, volatile functions, aggregates whose empty
// value is unknown, subqueries in JOIN ... ON / GROUP BY / ORDER BY, outer
// queries with LIMIT, FOR UPDATE, GROUPING SETS or aggregation without GROUP
// BY, and SELECT * over USING / NATURAL joins.
#include "rewriter/passes.h"

namespace pgvise::rw {

namespace {

std::string KeysText(const Correlation& c) {
  std::string s;
  for (size_t i = 0; i < c.inner_keys.size(); ++i) {
    if (i) s += ", ";
    s += ExprSql(c.inner_keys[i]);
  }
  return s;
}

bool HasGroupingSets(PgQuery__SelectStmt* s) {
  for (size_t i = 0; i < s->n_group_clause; ++i)
    if (s->group_clause[i]->node_case == PG_QUERY__NODE__NODE_GROUPING_SET) return true;
  return false;
}

void TryScalar(PassContext& ctx, const char* pass, PgQuery__SelectStmt* s, const Stack& stack,
               const Site& site) {
  PgQuery__SubLink* sl = (*site.slot)->sub_link;
  auto refuse = [&](const std::string& why) { ctx.Report(pass, sl, false, why); };
  PgQuery__SelectStmt* sub = sl->subselect->select_stmt;
  Scope scope = BuildScope(s, stack, ctx.cat);
  Stack outer = stack;
  outer.push_back(&scope);
  Correlation c;
  std::string why;
  switch (AnalyzeCorrelation(sub, outer, ctx.cat, &c, &why)) {
    case CorrelationResult::kUncorrelated:
      // PostgreSQL evaluates it once (an InitPlan); nothing to gain.
      refuse(std::string("not correlated: PostgreSQL runs it once as an InitPlan") +
             (c.assumed_local ? " (unqualified columns were taken as the subquery's own; pass --db "
                                "to resolve them)"
                              : ""));
      return;
    case CorrelationResult::kRefused:
      return refuse(why);
    case CorrelationResult::kCorrelated:
      break;
  }
  // Where the subquery sits.
  if (site.clause == SiteClause::kJoinOn)
    return refuse(
        "in a JOIN ... ON condition: a derived table joined to the query is not visible there");
  if (site.clause == SiteClause::kOther) return refuse("in GROUP BY / ORDER BY: not rewritten");
  // The subquery's shape.
  if (sub->n_target_list != 1) return refuse("the subquery returns more than one column");
  if (!SelectHasAggregate(sub, ctx.cat)) {
    if (sub->limit_count && sub->n_sort_clause)
      return refuse(
          "an ORDER BY ... LIMIT lookup: it picks one row per outer row, which no grouped join "
          "expresses "
          "(limit-one-to-lateral makes it a LATERAL join)");
    return refuse(
        "not an aggregate: a join could return several rows per outer row where the subquery "
        "raises an "
        "error");
  }
  if (sub->n_group_clause)
    return refuse("the subquery has its own GROUP BY: it can return several rows or none");
  if (sub->having_clause)
    return refuse(
        "the subquery has HAVING: on a failing group it returns no row (NULL), which a join does "
        "not model");
  if (sub->limit_count || sub->limit_offset)
    return refuse("LIMIT/OFFSET in the subquery (OFFSET 1 or LIMIT 0 make it NULL)");
  if (sub->n_distinct_clause) return refuse("DISTINCT in the subquery");
  if (HasWindow(sub->target_list[0])) return refuse("a window function in the subquery");
  std::string f = FindSetReturning(sub->target_list[0], ctx.cat);
  if (!f.empty())
    return refuse("set-returning function " + f + " in the subquery changes its row count");
  f = FindVolatile(sl->subselect, ctx.cat);
  if (!f.empty())
    return refuse("volatile function " + f +
                  ": it would run once per group instead of once per outer row");
  Node* value = sub->target_list[0]->res_target->val;
  if (!value) return refuse("the subquery selects *");
  // The outer query's shape.
  // LIMIT: the SubPlan may only run for the rows fetched, while a grouped
  // join aggregates every group. Not so when the subquery filters (WHERE)
  // and the query sorts first (TPC-H Q2): every row that reaches the sort
  // has run it. Whether the plan sorts or walks an index in ORDER BY order
  // and stops early only the planner knows, so this is allowed only with a
  // catalog (--db), whose cost gate compares both plans. Rows tied at the
  // LIMIT may then come out differently, as they may between two runs of
  // the original.
  const bool sorts_first =
      s->n_sort_clause && site.clause == SiteClause::kWhere && !site.in_aggregate && ctx.cat;
  if ((s->limit_count || s->limit_offset) && !sorts_first)
    return refuse(
        "the outer query has LIMIT/OFFSET: the SubPlan only runs for the rows fetched, while a "
        "grouped join aggregates every group" +
        std::string(s->n_sort_clause && site.clause == SiteClause::kWhere
                        ? " (with ORDER BY and --db the server's costs would decide)"
                        : ""));
  if (s->n_locking_clause) return refuse("the outer query locks rows (FOR UPDATE/SHARE)");
  bool grouped = IsGrouped(s, ctx.cat);
  bool needs_group = grouped && site.clause != SiteClause::kWhere && !site.in_aggregate;
  if (needs_group && s->n_group_clause == 0)
    return refuse("the outer query aggregates without GROUP BY");
  if (grouped && HasGroupingSets(s))
    return refuse("GROUPING SETS / ROLLUP / CUBE in the outer query");
  for (int r : c.outer_rels)
    if (r < 0 || r >= static_cast<int>(scope.rels.size()) || scope.rels[r].from_item < 0)
      return refuse("an outer key column is not from a FROM item of the outer query");

  EmptyValue ev = EmptyValueOf(value, ctx.cat);
  bool inner_join = site.clause == SiteClause::kWhere && site.conjunct && !site.in_aggregate &&
                    TruthOnEmpty(*site.conjunct, site.slot, ev) == 0;
  // ExpandStar renumbers the select list; hold on to the entry itself.
  PgQuery__ResTarget* target =
      site.clause == SiteClause::kTarget ? s->target_list[site.target]->res_target : nullptr;
  if (!ExpandStar(ctx, s, &why)) return refuse(why);

  Tree& t = *ctx.tree;
  // Keep the output column's name: `(SELECT count(*) ...)` is called "count".
  if (target && &target->val == site.slot && (!target->name || !*target->name))
    target->name = t.arena().Strdup(FigureColname(*site.slot));
  std::string cond_text = site.conjunct ? ExprSql(*site.conjunct) : "";
  std::string name = ctx.FreshName("pgv_sq");
  Node* empty = nullptr;  // the aggregate over no rows, for the CASE form
  if (!inner_join && ev == EmptyValue::kOther) {
    PgQuery__SelectStmt* e = t.EmptySelect();
    t.Append(&e->n_target_list, &e->target_list, t.ResTarget(t.Clone(value), ""));
    for (size_t i = 0; i < sub->n_from_clause; ++i)
      t.Append(&e->n_from_clause, &e->from_clause, t.Clone(sub->from_clause[i]));
    e->where_clause = t.BoolConst(false);
    empty = t.SubLink(PG_QUERY__SUB_LINK_TYPE__EXPR_SUBLINK, e);
  }
  std::string keys = KeysText(c);
  PgQuery__SelectStmt* d = BuildDerived(ctx, sub, c, value, {}, nullptr);
  std::string reduced =
      ReduceToOuterKeys(ctx, d, s, scope, outer, c, site.conjunct ? *site.conjunct : nullptr);
  Node* on = KeyJoinCondition(ctx, name, c);
  Node* vref = t.ColumnRef({name, "pgv_v"});
  Node* replacement = vref;
  std::string how;
  if (inner_join) {
    how = "INNER JOIN: `" + cond_text +
          "` is false or NULL when no row matches, so those outer rows drop out either way";
  } else if (ev == EmptyValue::kZero) {
    replacement = t.Coalesce({vref, t.IntConst(0)});
    how =
        "LEFT JOIN + COALESCE(..., 0): COUNT is 0, not missing, for outer rows without a match "
        "(the COUNT bug)";
  } else if (ev == EmptyValue::kNull) {
    how = "LEFT JOIN: the aggregate is NULL over no rows, as the unmatched join column is";
  } else {
    replacement = t.Case(t.NullTest(t.ColumnRef({name, "pgv_k1"}), true), empty, vref);
    how = "LEFT JOIN + CASE: outer rows without a match get the aggregate over an empty input";
  }
  *site.slot = replacement;
  Node* derived = t.RangeSubselect(d, name);
  if (inner_join) {
    t.Append(&s->n_from_clause, &s->from_clause, derived);
    s->where_clause = t.And({s->where_clause, on});
  } else {
    AttachLeft(ctx, s, scope, c.outer_rels, derived, on);
  }
  if (needs_group) {
    t.Append(&s->n_group_clause, &s->group_clause, t.ColumnRef({name, "pgv_v"}));
    if (empty) t.Append(&s->n_group_clause, &s->group_clause, t.ColumnRef({name, "pgv_k1"}));
    how += "; its columns join the outer GROUP BY (they depend only on grouped columns)";
  }
  ctx.Report(
      pass, sl, true,
      "grouped derived table " + name + " on " + keys + "; " + how + reduced +
          (c.assumed_local ? " (unqualified columns were taken as the subquery's own)" : "") +
          (s->limit_count || s->limit_offset
               ? "; the outer query sorts before its LIMIT, so the SubPlan ran for every row "
                 "that reached the sort (rows tied at the LIMIT may differ, as between two runs)"
               : ""));
}

void RunScalar(PassContext& ctx, PgQuery__SelectStmt* s, const Stack& stack, bool select_list) {
  const char* pass = select_list ? "decorrelate-scalar-select" : "decorrelate-scalar-where";
  ForEachNewSublink(
      ctx, s,
      [&](const Site& site, const PgQuery__SubLink& sl) {
        return sl.sub_link_type == PG_QUERY__SUB_LINK_TYPE__EXPR_SUBLINK &&
               (site.clause == SiteClause::kTarget) == select_list;
      },
      [&](const Site& site) { TryScalar(ctx, pass, s, stack, site); });
}

}  // namespace

void PassScalarWhere(PassContext& ctx, PgQuery__SelectStmt* s, const Stack& stack) {
  RunScalar(ctx, s, stack, false);
}
void PassScalarSelect(PassContext& ctx, PgQuery__SelectStmt* s, const Stack& stack) {
  RunScalar(ctx, s, stack, true);
}

}  // namespace pgvise::rw
