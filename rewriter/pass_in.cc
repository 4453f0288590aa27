// Passes in-aggregate-to-scalar and decorrelate-in: correlated IN
// subqueries, which PostgreSQL 15 never pulls up into a join
// (convert_ANY_sublink_to_join requires an uncorrelated subquery).
//
// in-aggregate-to-scalar. `x IN (SELECT agg(...) FROM ... WHERE corr)` with
// no GROUP BY / HAVING / LIMIT: an aggregate without GROUP BY returns exactly
// one row v, and `x IN (v)` is `x = v` in three-valued logic (true, false or
// NULL alike), in any position, under NOT too. So the IN becomes a
// comparison with a scalar subquery, which decorrelate-scalar-where /
// -select (running next) unnest with their COUNT-bug handling.
//   WHERE o.total IN (SELECT max(o2.total) FROM orders o2 WHERE o2.user_id = o.user_id)
//   -> WHERE o.total = (SELECT max(o2.total) FROM orders o2 WHERE o2.user_id = o.user_id)
//
// decorrelate-in. A correlated `x IN (SELECT y FROM t WHERE t.k = u.id ...)`
// as a top-level WHERE conjunct (not negated: there NULL and false both drop
// the row, so only "some row has x = y" matters) is
//   EXISTS (SELECT 1 FROM t WHERE t.k = u.id ... AND x = y)
// which PostgreSQL turns into a semi-join. x moves into the subquery, so each
// of its columns is qualified with its outer relation's name and that name
// must not be exposed inside the subquery too (it would capture it). When
// the subquery groups (GROUP BY, HAVING), the grouped derived table of
// decorrelate.h takes its place first:
//   EXISTS (SELECT 1 FROM (SELECT t.k AS pgv_k1, y AS pgv_v FROM t
//           GROUP BY t.k, g HAVING h) pgv_sq1
//           WHERE pgv_sq1.pgv_k1 = u.id AND x = pgv_sq1.pgv_v)
// with the same argument as decorrelate-exists-grouped.
//
// Refused: NOT IN (pass not-in-to-not-exists owns it), IN under OR or outside
// WHERE, row-valued IN, LIMIT/OFFSET (they choose which values are in the
// list), set-returning, window and volatile functions, uncorrelated IN (left
// alone: PostgreSQL already makes it a semi-join), and every correlation
// AnalyzeCorrelation refuses.
#include "rewriter/passes.h"

namespace pgvise::rw {

namespace {

bool IsInSublink(const PgQuery__SubLink* sl) {
  if (sl->sub_link_type != PG_QUERY__SUB_LINK_TYPE__ANY_SUBLINK) return false;
  if (sl->n_oper_name == 0) return true;
  return sl->n_oper_name == 1 && StrVal(sl->oper_name[0]) == "=";
}

bool RowValued(const Node* n) {
  return n && (n->node_case == PG_QUERY__NODE__NODE_ROW_EXPR ||
               (n->node_case == PG_QUERY__NODE__NODE_LIST));
}

}  // namespace

// Copies outer expression `x` so it can be evaluated inside `sub`: every
// column qualified by its outer relation's name, none captured by a name the
// subquery exposes. nullptr (with why) when that cannot be guaranteed.
Node* MoveIntoSubquery(PassContext& ctx, Node* x, const Stack& outer, PgQuery__SelectStmt* sub,
                       std::string* why) {
  Tree& t = *ctx.tree;
  if (HasSublink(x)) {
    *why = "the tested expression contains a subquery";
    return nullptr;
  }
  Scope inner = BuildScope(sub, outer, ctx.cat);
  Node* copy = t.Clone(x);
  bool ok = true;
  VisitSlots(&copy, [&](Node** slot) {
    if (!ok) return false;
    if ((*slot)->node_case != PG_QUERY__NODE__NODE_COLUMN_REF) return true;
    auto* c = (*slot)->column_ref;
    Resolution r = Resolve(c, outer);
    if (r.unknown || r.level < 0 || r.rel < 0) {
      *why = "cannot tell which relation `" + ExprSql(*slot) + "` belongs to" +
             (ctx.cat ? "" : " (pass --db so the catalog can resolve it)");
      ok = false;
      return false;
    }
    const std::string& rel = outer[r.level]->rels[r.rel].name;
    for (const auto& ir : inner.rels) {
      if (ir.name == rel || ir.name.empty()) {
        *why = "the name `" + rel + "` is also used inside the subquery; moving `" +
               ExprSql(*slot) + "` there would change what it refers to";
        ok = false;
        return false;
      }
    }
    if (c->n_fields == 1) *slot = t.ColumnRef({rel, StrVal(c->fields[0])});
    return false;
  });
  return ok ? copy : nullptr;
}

namespace {

constexpr const char* kToScalar = "in-aggregate-to-scalar";
constexpr const char* kInPass = "decorrelate-in";

void TryToScalar(PassContext& ctx, PgQuery__SelectStmt* s, const Stack& stack, const Site& site) {
  PgQuery__SubLink* sl = (*site.slot)->sub_link;
  PgQuery__SelectStmt* sub = sl->subselect->select_stmt;
  if (sub->op != PG_QUERY__SET_OPERATION__SETOP_NONE || !SelectHasAggregate(sub, ctx.cat) ||
      sub->n_group_clause || sub->having_clause || sub->limit_count || sub->limit_offset ||
      sub->n_target_list != 1 || RowValued(sl->testexpr))
    return;  // not this pass's shape: decorrelate-in / not-in-to-not-exists look at it
  auto refuse = [&](const std::string& why) { ctx.Report(kToScalar, sl, false, why); };
  if (HasWindow(sub->target_list[0])) return refuse("a window function in the subquery");
  std::string f = FindSetReturning(sub->target_list[0], ctx.cat);
  if (!f.empty()) return refuse("set-returning function " + f + " can return several rows");
  Scope scope = BuildScope(s, stack, ctx.cat);
  Stack outer = stack;
  outer.push_back(&scope);
  Correlation c;
  std::string why;
  auto res = AnalyzeCorrelation(sub, outer, ctx.cat, &c, &why);
  if (res == CorrelationResult::kUncorrelated) {
    ctx.Report("postgresql", sl, false,
               "uncorrelated IN: PostgreSQL already turns it into a semi-join; left alone");
    return;
  }
  if (res == CorrelationResult::kRefused) return refuse(why);
  Tree& t = *ctx.tree;
  Node* test = sl->testexpr;
  sl->sub_link_type = PG_QUERY__SUB_LINK_TYPE__EXPR_SUBLINK;
  sl->testexpr = nullptr;
  sl->n_oper_name = 0;
  sl->oper_name = nullptr;
  Node* sublink = *site.slot;
  *site.slot = t.Op("=", test, sublink);
  ctx.Report(kToScalar, sl, true,
             "an aggregate without GROUP BY returns exactly one row, so `x IN (subquery)` is `x = "
             "(subquery)`; "
             "the scalar passes unnest it next");
}

void TryIn(PassContext& ctx, PgQuery__SelectStmt* s, const Stack& stack, const Site& site) {
  PgQuery__SubLink* sl = (*site.slot)->sub_link;
  PgQuery__SelectStmt* sub = sl->subselect->select_stmt;
  auto refuse = [&](const std::string& why) { ctx.Report(kInPass, sl, false, why); };
  bool negated = false;
  bool top = TopLevelWhere(site, &negated);
  if (negated) return;  // NOT IN: pass not-in-to-not-exists
  Scope scope = BuildScope(s, stack, ctx.cat);
  Stack outer = stack;
  outer.push_back(&scope);
  Correlation c;
  std::string why;
  auto res = AnalyzeCorrelation(sub, outer, ctx.cat, &c, &why);
  if (res == CorrelationResult::kUncorrelated) {
    if (top)
      ctx.Report("postgresql", sl, false,
                 "uncorrelated IN: PostgreSQL already turns it into a semi-join; left alone");
    else
      refuse(
          "not at the top level of WHERE; uncorrelated, so PostgreSQL hashes it (a hashed "
          "SubPlan)");
    return;
  }
  if (res == CorrelationResult::kRefused) return refuse(why);
  if (!top)
    return refuse(
        "IN not at the top level of WHERE (under OR, in the select list...): NULL and false differ "
        "there");
  if (RowValued(sl->testexpr)) return refuse("a row-valued IN");
  if (sub->n_target_list != 1) return refuse("the subquery returns more than one column");
  if (sub->limit_count || sub->limit_offset)
    return refuse("LIMIT/OFFSET choose which values are in the list");
  Node* target = sub->target_list[0]->res_target->val;
  if (!target) return refuse("the subquery selects *");
  if (HasWindow(target)) return refuse("a window function in the subquery");
  std::string f = FindSetReturning(target, ctx.cat);
  if (!f.empty()) return refuse("set-returning function " + f + " in the subquery");
  f = FindVolatile(sl->subselect, ctx.cat);
  if (!f.empty())
    return refuse("volatile function " + f + ": it would run a different number of times");
  Tree& t = *ctx.tree;
  bool grouped = sub->n_group_clause || sub->having_clause || SelectHasAggregate(sub, ctx.cat);
  bool has_grouping_sets = false;
  for (size_t i = 0; i < sub->n_group_clause; ++i)
    has_grouping_sets |= sub->group_clause[i]->node_case == PG_QUERY__NODE__NODE_GROUPING_SET;
  if (has_grouping_sets) return refuse("GROUPING SETS / ROLLUP / CUBE in the subquery");
  if (!grouped) {
    Node* x = MoveIntoSubquery(ctx, sl->testexpr, outer, sub, &why);
    if (!x) return refuse(why);
    sub->where_clause = t.And({sub->where_clause, t.Op("=", x, t.Clone(target))});
    sub->n_target_list = 0;
    sub->target_list = nullptr;
    t.Append(&sub->n_target_list, &sub->target_list, t.ResTarget(t.IntConst(1), ""));
    sl->sub_link_type = PG_QUERY__SUB_LINK_TYPE__EXISTS_SUBLINK;
    sl->testexpr = nullptr;
    sl->n_oper_name = 0;
    sl->oper_name = nullptr;
    ctx.Report(kInPass, sl, true,
               "correlated IN as a top-level WHERE condition is EXISTS with the tested value "
               "compared inside; "
               "PostgreSQL makes that a semi-join");
    return;
  }
  if (sub->n_group_clause == 0)
    return refuse(
        "aggregates with HAVING but no GROUP BY: one group per outer row, even an empty one");
  std::vector<Node*> group;
  for (size_t i = 0; i < sub->n_group_clause; ++i) group.push_back(sub->group_clause[i]);
  std::string name = ctx.FreshName("pgv_sq");
  Node* test = sl->testexpr;
  PgQuery__SelectStmt* d = BuildDerived(ctx, sub, c, target, group, sub->having_clause);
  std::string reduced = ReduceToOuterKeys(ctx, d, s, scope, outer, c, *site.conjunct);
  PgQuery__SelectStmt* probe = t.EmptySelect();
  t.Append(&probe->n_target_list, &probe->target_list, t.ResTarget(t.IntConst(1), ""));
  t.Append(&probe->n_from_clause, &probe->from_clause, t.RangeSubselect(d, name));
  probe->where_clause =
      t.And({KeyJoinCondition(ctx, name, c), t.Op("=", test, t.ColumnRef({name, "pgv_v"}))});
  sl->subselect = t.SelectNode(probe);
  sl->sub_link_type = PG_QUERY__SUB_LINK_TYPE__EXISTS_SUBLINK;
  sl->testexpr = nullptr;
  sl->n_oper_name = 0;
  sl->oper_name = nullptr;
  ctx.Report(kInPass, sl, true,
             "grouped derived table " + name +
                 " (GROUP BY/HAVING applied per key); the IN becomes an EXISTS "
                 "semi-join on the keys and the tested value" +
                 reduced);
}

void RunIn(PassContext& ctx, PgQuery__SelectStmt* s, const Stack& stack, bool to_scalar) {
  ForEachNewSublink(
      ctx, s, [](const Site&, const PgQuery__SubLink& sl) { return IsInSublink(&sl); },
      [&](const Site& site) {
        if (to_scalar)
          TryToScalar(ctx, s, stack, site);
        else
          TryIn(ctx, s, stack, site);
      });
}

}  // namespace

void PassInAggregateToScalar(PassContext& ctx, PgQuery__SelectStmt* s, const Stack& stack) {
  RunIn(ctx, s, stack, true);
}
void PassInToExists(PassContext& ctx, PgQuery__SelectStmt* s, const Stack& stack) {
  RunIn(ctx, s, stack, false);
}

}  // namespace pgvise::rw
