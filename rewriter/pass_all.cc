// Pass all-to-aggregate: an ordering comparison against ALL of an
// uncorrelated subquery, `x > ALL (SELECT y FROM t WHERE p)`, becomes a
// comparison with the subquery's MAX or MIN, computed once.
//
// Why it is faster. PostgreSQL pulls ANY sublinks up into semi-joins, but
// never ALL: `x > ALL (...)` stays a SubPlan that walks the materialised
// subquery for every outer row until the answer is known, O(outer x inner).
// MAX/MIN of an uncorrelated subquery is an InitPlan run once (with an index
// on y, a single index probe), so the predicate is O(outer + inner). ANY is
// left to the planner's semi-join (the MIN/MAX argument below holds for it
// too, and would be the next step where the semi-join is a nested loop).
//
// Why it is correct, and when. In WHERE, NULL and false both drop the row,
// so only "true" needs to be kept exactly. With S the subquery's values:
//   x > ANY (S)  is true  iff  some non-NULL y in S has x > y
//                         iff  x > min(S)          (min ignores NULLs; over
//                              no non-NULL value it is NULL: not true either)
//   x > ALL (S)  is true  iff  S is empty, or (no y is NULL and x > every y)
//                         iff  NOT EXISTS (S)
//                              OR (x > max(S) AND NOT EXISTS (S where y IS NULL))
// and alike for >=, < and <= (< ANY and > ALL use MAX, > ANY and < ALL MIN).
// A NULL x: ANY is NULL or false, the MIN form is NULL; ALL is true only for
// an empty S, which the NOT EXISTS (S) arm keeps. The naive rewrite
// `x > (SELECT max(y) ...)` for ALL drops every row when S is empty (ALL is
// then true for every x) and keeps rows ALL rejects when S holds a NULL — the
// tests show both on data built for it.
//
// Worked example (orders.total has NULLs):
//   SELECT p.pid FROM people p WHERE p.q > ALL (SELECT o.qty FROM orders o WHERE o.status = 'void')
// becomes
//   SELECT p.pid FROM people p
//   WHERE (NOT EXISTS (SELECT 1 FROM orders o WHERE o.status = 'void')
//          OR (p.q > (SELECT max(o.qty) FROM orders o WHERE o.status = 'void')
//              AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.status = 'void' AND o.qty IS NULL)))
// — three InitPlans, each run once.
//
// Refused: the comparison below the top level of WHERE or under NOT (there
// NULL and false differ), a correlated subquery (the aggregate would run per
// row: no gain), row-valued comparisons, operators other than < <= > >=,
// subqueries that aggregate, group, limit, use DISTINCT, set operations,
// WITH, set-returning or volatile functions (the ALL form reads the
// subquery up to three times, and a volatile one could differ each time),
// and a volatile x.
#include "rewriter/passes.h"

namespace pgvise::rw {

namespace {

constexpr const char* kPass = "all-to-aggregate";

// "<", "<=", ">", ">=" (the orderings MIN/MAX answer); "" otherwise.
std::string OrderingOp(const PgQuery__SubLink& sl) {
  if (sl.n_oper_name != 1) return "";
  std::string op = StrVal(sl.oper_name[0]);
  return op == "<" || op == "<=" || op == ">" || op == ">=" ? op : "";
}

bool IsAllOrdering(const PgQuery__SubLink& sl) {
  return sl.sub_link_type == PG_QUERY__SUB_LINK_TYPE__ALL_SUBLINK && !OrderingOp(sl).empty();
}

void TryAll(PassContext& ctx, PgQuery__SelectStmt* s, const Stack& stack, const Site& site) {
  PgQuery__SubLink* sl = (*site.slot)->sub_link;
  PgQuery__SelectStmt* sub = sl->subselect->select_stmt;
  const std::string op = OrderingOp(*sl);
  auto refuse = [&](const std::string& why) { ctx.Report(kPass, sl, false, why); };
  bool negated = false;
  if (!TopLevelWhere(site, &negated) || negated)
    return refuse(op + " ALL" +
                  " below the top level of WHERE or under NOT: its NULL result matters there");
  if (!sl->testexpr || sl->testexpr->node_case == PG_QUERY__NODE__NODE_ROW_EXPR ||
      sl->testexpr->node_case == PG_QUERY__NODE__NODE_LIST)
    return refuse("a row-valued comparison");
  std::string f = ValueListRefusal(ctx, *sl);
  if (!f.empty()) return refuse(f);
  if (SelectHasAggregate(sub, ctx.cat) || sub->n_group_clause || sub->having_clause ||
      sub->n_distinct_clause)
    return refuse("the subquery aggregates, groups or uses DISTINCT");
  Node* y = sub->target_list[0]->res_target->val;
  f = FindVolatile(sl->testexpr, ctx.cat);
  if (!f.empty()) return refuse("volatile function " + f + " in the compared value");
  Scope scope = BuildScope(s, stack, ctx.cat);
  Stack outer = stack;
  outer.push_back(&scope);
  if (NamesOuterQuery(ctx, sub, outer))
    return refuse("the subquery names the outer query: its MIN/MAX would run per row, no faster");

  Tree& t = *ctx.tree;
  const bool greater = op[0] == '>';
  // > ALL needs the largest value, < ALL the smallest.
  const char* agg = greater ? "max" : "min";
  // The aggregate and the probes are copies of the subquery.
  auto variant = [&](Node* value, Node* extra) { return SubqueryVariant(t, *sl, value, extra); };
  Node* bound = t.SubLink(PG_QUERY__SUB_LINK_TYPE__EXPR_SUBLINK,
                          variant(t.FuncCall(agg, {t.Clone(y)}), nullptr));
  Node* compare = t.Op(op, t.Clone(sl->testexpr), bound);
  Node* empty =
      t.Not(t.SubLink(PG_QUERY__SUB_LINK_TYPE__EXISTS_SUBLINK, variant(t.IntConst(1), nullptr)));
  Node* no_null = t.Not(t.SubLink(PG_QUERY__SUB_LINK_TYPE__EXISTS_SUBLINK,
                                  variant(t.IntConst(1), t.NullTest(t.Clone(y), true))));
  *site.slot = t.Or({empty, t.And({compare, no_null})});
  ctx.Report(kPass, sl, true,
             std::string("x ") + op +
                 " ALL (S) is true exactly when S is empty, or S holds no "
                 "NULL and x " +
                 op + " " + agg +
                 "(S): three one-time InitPlans instead of a scan of S per row (an empty S "
                 "keeps every row, a NULL in S keeps none)");
}

}  // namespace

void PassAllToAggregate(PassContext& ctx, PgQuery__SelectStmt* s, const Stack& stack) {
  ForEachNewSublink(
      ctx, s, [](const Site&, const PgQuery__SubLink& sl) { return IsAllOrdering(sl); },
      [&](const Site& site) { TryAll(ctx, s, stack, site); });
}

}  // namespace pgvise::rw
