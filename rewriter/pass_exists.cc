// Pass decorrelate-exists-grouped: a correlated EXISTS whose subquery
// aggregates, groups or has HAVING, which PostgreSQL's simplify_EXISTS_query
// refuses and therefore runs as a SubPlan per outer row, becomes an EXISTS
// over a grouped derived table that PostgreSQL does turn into a semi-join.
//
// Why it is correct. Let R(u) be the subquery's rows for outer row u after
// its WHERE (keys o.k = u.id, local predicates p). EXISTS is true iff the
// grouped query over R(u) returns a row:
//  * GROUP BY g, no HAVING: a group exists iff R(u) is non-empty, so the
//    GROUP BY (and the select list) can go; a plain EXISTS is left.
//    (PostgreSQL does this itself when nothing aggregates: left alone then.)
//  * GROUP BY g HAVING h: some group of R(u) by g satisfies h. Grouping all
//    rows satisfying p by (o.k, g) and keeping groups satisfying h gives, for
//    o.k = u.id, exactly the groups of R(u) by g (equal keys group together),
//    so EXISTS(SELECT 1 FROM that derived table WHERE pgv_k1 = u.id) has the
//    same truth value, for EXISTS and NOT EXISTS alike.
//  * no GROUP BY, HAVING h: one group over R(u), even when R(u) is empty.
//    Grouping by o.k only has groups for non-empty R(u); so the rewrite is
//    correct only when h is false on the empty group (`HAVING count(*) > 5`
//    yes; `HAVING count(*) < 3` no: the COUNT bug again).
//  * aggregates without GROUP BY or HAVING: exactly one row, always; EXISTS
//    is true (and a SubPlan per outer row is wasted): replaced by TRUE.
//
// Worked example:
//   SELECT u.id FROM users u WHERE EXISTS (
//     SELECT 1 FROM orders o WHERE o.user_id = u.id
//     GROUP BY o.status HAVING count(*) > 2)
// becomes
//   SELECT u.id FROM users u WHERE EXISTS (
//     SELECT 1 FROM (SELECT o.user_id AS pgv_k1 FROM orders o
//                    GROUP BY o.user_id, o.status HAVING count(*) > 2) pgv_sq1
//     WHERE pgv_sq1.pgv_k1 = u.id)
//
// Refused: EXISTS not at the top level of WHERE (PostgreSQL keeps any form a
// SubPlan there), LIMIT/OFFSET together with grouping, set-returning
// functions in the select list (they can make the row count zero), volatile
// functions, GROUPING SETS, HAVING that may hold on an empty group, and every
// correlation AnalyzeCorrelation refuses. A plain EXISTS is left alone:
// PostgreSQL already plans it as a semi-join (anti-join for NOT EXISTS).
#include "rewriter/passes.h"

namespace pgvise::rw {

bool TopLevelWhere(const Site& site, bool* negated) {
  *negated = false;
  if (site.clause != SiteClause::kWhere || !site.conjunct) return false;
  Node* conj = *site.conjunct;
  if (conj == *site.slot) return true;
  if (conj->node_case == PG_QUERY__NODE__NODE_BOOL_EXPR &&
      conj->bool_expr->boolop == PG_QUERY__BOOL_EXPR_TYPE__NOT_EXPR &&
      conj->bool_expr->n_args == 1 && conj->bool_expr->args[0] == *site.slot) {
    *negated = true;
    return true;
  }
  return false;
}

namespace {

constexpr const char* kPass = "decorrelate-exists-grouped";

bool PositiveConstLimit(Node* n) {
  return n && n->node_case == PG_QUERY__NODE__NODE_A_CONST && !n->a_const->isnull &&
         n->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL && n->a_const->ival->ival > 0;
}

// Truth of HAVING on the empty group: 0 when some conjunct is false/NULL.
int HavingOnEmpty(Node* having, const RewriteCatalog* cat) {
  for (Node* conj : Conjuncts(having)) {
    std::vector<Node**> sides;
    if (conj->node_case == PG_QUERY__NODE__NODE_A_EXPR) {
      if (conj->a_expr->lexpr) sides.push_back(&conj->a_expr->lexpr);
      if (conj->a_expr->rexpr) sides.push_back(&conj->a_expr->rexpr);
    } else if (conj->node_case == PG_QUERY__NODE__NODE_NULL_TEST) {
      sides.push_back(&conj->null_test->arg);
    }
    for (Node** side : sides) {
      EmptyValue ev = EmptyValueOf(*side, cat);
      if (ev == EmptyValue::kOther) continue;
      if (TruthOnEmpty(conj, side, ev) == 0) return 0;
    }
  }
  return -1;
}

bool HasGroupingSets(PgQuery__SelectStmt* s) {
  for (size_t i = 0; i < s->n_group_clause; ++i)
    if (s->group_clause[i]->node_case == PG_QUERY__NODE__NODE_GROUPING_SET) return true;
  return false;
}

void TryExists(PassContext& ctx, PgQuery__SelectStmt* s, const Stack& stack, const Site& site) {
  PgQuery__SubLink* sl = (*site.slot)->sub_link;
  auto refuse = [&](const std::string& why) { ctx.Report(kPass, sl, false, why); };
  PgQuery__SelectStmt* sub = sl->subselect->select_stmt;
  if (sub->op != PG_QUERY__SET_OPERATION__SETOP_NONE)
    return refuse("EXISTS over a UNION/INTERSECT/EXCEPT");
  bool aggregates = SelectHasAggregate(sub, ctx.cat);
  // simplify_EXISTS_query drops a GROUP BY when nothing aggregates.
  bool grouped = sub->having_clause || aggregates;
  bool plain_limit =
      !sub->limit_offset && (!sub->limit_count || PositiveConstLimit(sub->limit_count));
  bool negated = false;
  bool top = TopLevelWhere(site, &negated);
  if (!grouped && plain_limit) {
    bool window = false;
    for (size_t i = 0; i < sub->n_target_list; ++i) window |= HasWindow(sub->target_list[i]);
    if (!window && top) {
      ctx.Report("postgresql", sl, false,
                 std::string(negated ? "NOT EXISTS" : "EXISTS") +
                     ": PostgreSQL already turns it into a " +
                     (negated ? "anti-join" : "semi-join") + "; left alone");
      return;
    }
    if (!top)
      return refuse(
          "EXISTS not at the top level of WHERE (under OR, in the select list...): PostgreSQL "
          "keeps it a SubPlan whatever its form");
    return refuse("a window function in the EXISTS subquery");
  }
  if (!top)
    return refuse(
        "EXISTS not at the top level of WHERE (under OR, in the select list...): PostgreSQL keeps "
        "it a SubPlan whatever its form");
  if (sub->limit_offset)
    return refuse("OFFSET in an EXISTS subquery decides per outer row whether a row is left");
  if (sub->limit_count && !PositiveConstLimit(sub->limit_count))
    return refuse("a LIMIT that is not a positive constant");
  if (grouped && sub->limit_count)
    return refuse("LIMIT together with GROUP BY / aggregates in the EXISTS subquery");
  if (HasGroupingSets(sub)) return refuse("GROUPING SETS / ROLLUP / CUBE in the EXISTS subquery");
  for (size_t i = 0; i < sub->n_target_list; ++i) {
    std::string f = FindSetReturning(sub->target_list[i], ctx.cat);
    if (!f.empty())
      return refuse("set-returning function " + f +
                    " in the select list can make the row count zero");
    if (HasWindow(sub->target_list[i])) return refuse("a window function in the EXISTS subquery");
  }
  std::string f = FindVolatile(sl->subselect, ctx.cat);
  if (!f.empty())
    return refuse("volatile function " + f +
                  ": it would run once per group instead of once per outer row");
  Scope scope = BuildScope(s, stack, ctx.cat);
  Stack outer = stack;
  outer.push_back(&scope);
  Correlation c;
  std::string why;
  switch (AnalyzeCorrelation(sub, outer, ctx.cat, &c, &why)) {
    case CorrelationResult::kUncorrelated:
      return refuse("not correlated: PostgreSQL evaluates it once (an InitPlan)");
    case CorrelationResult::kRefused:
      return refuse(why);
    case CorrelationResult::kCorrelated:
      break;
  }
  Tree& t = *ctx.tree;
  if (sub->n_group_clause == 0 && !sub->having_clause) {
    // Aggregates alone: always exactly one row.
    *site.slot = t.BoolConst(true);
    ctx.Report(kPass, sl, true,
               std::string(negated ? "NOT EXISTS" : "EXISTS") +
                   " over an aggregate without GROUP BY or HAVING always sees exactly one row: "
                   "replaced by true");
    return;
  }
  if (!sub->having_clause) {
    // Groups exist iff rows do: a plain EXISTS, which PostgreSQL pulls up.
    sub->n_group_clause = 0;
    sub->group_clause = nullptr;
    sub->n_target_list = 0;
    sub->target_list = nullptr;
    t.Append(&sub->n_target_list, &sub->target_list, t.ResTarget(t.IntConst(1), ""));
    sub->n_sort_clause = 0;
    sub->n_distinct_clause = 0;
    ctx.Report(
        kPass, sl, true,
        "GROUP BY without HAVING does not change whether a row exists: dropped, leaving a plain " +
            std::string(negated ? "NOT EXISTS (anti-join)" : "EXISTS (semi-join)"));
    return;
  }
  if (sub->n_group_clause == 0 && HavingOnEmpty(sub->having_clause, ctx.cat) != 0)
    return refuse("HAVING `" + ExprSql(sub->having_clause) +
                  "` may hold on an empty group (outer rows without any match), which a grouped "
                  "join never sees "
                  "(the COUNT bug)");
  std::vector<Node*> group;
  for (size_t i = 0; i < sub->n_group_clause; ++i) group.push_back(sub->group_clause[i]);
  std::string name = ctx.FreshName("pgv_sq");
  PgQuery__SelectStmt* d = BuildDerived(ctx, sub, c, nullptr, group, sub->having_clause);
  std::string reduced = ReduceToOuterKeys(ctx, d, s, scope, outer, c, *site.conjunct);
  PgQuery__SelectStmt* probe = t.EmptySelect();
  t.Append(&probe->n_target_list, &probe->target_list, t.ResTarget(t.IntConst(1), ""));
  t.Append(&probe->n_from_clause, &probe->from_clause, t.RangeSubselect(d, name));
  probe->where_clause = KeyJoinCondition(ctx, name, c);
  sl->subselect = t.SelectNode(probe);
  ctx.Report(
      kPass, sl, true,
      "grouped derived table " + name + " (HAVING applied per group); the " +
          (negated ? "NOT EXISTS becomes an anti-join" : "EXISTS becomes a semi-join") +
          " PostgreSQL can hash" +
          (sub->n_group_clause == 0 ? "; HAVING is false on an empty group, so unmatched rows agree"
                                    : "") +
          reduced);
}

}  // namespace

void PassExistsGrouped(PassContext& ctx, PgQuery__SelectStmt* s, const Stack& stack) {
  ForEachNewSublink(
      ctx, s,
      [](const Site&, const PgQuery__SubLink& sl) {
        return sl.sub_link_type == PG_QUERY__SUB_LINK_TYPE__EXISTS_SUBLINK;
      },
      [&](const Site& site) { TryExists(ctx, s, stack, site); });
}

}  // namespace pgvise::rw
