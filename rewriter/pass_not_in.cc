// Pass not-in-to-not-exists: `x NOT IN (SELECT y FROM t WHERE p)` becomes
// `NOT EXISTS (SELECT 1 FROM t WHERE p AND x = y)`, which PostgreSQL plans as
// an anti-join; NOT IN stays a SubPlan (hashed only while the subquery's rows
// fit in work_mem, otherwise rescanned per outer row).
//
// Why it is correct, and when. NOT IN is three-valued: with a NULL among the
// y values, `x NOT IN (...)` is never true (NULL or false); with x NULL and a
// non-empty list it is NULL. NOT EXISTS is two-valued and ignores both
// cases: `WHERE x NOT IN (SELECT y ...)` returns no rows at all once one y is
// NULL, while the NOT EXISTS form returns the unmatched rows. The forms agree
// exactly when neither x nor any y can be NULL, so the pass needs a proof for
// each side:
//  * a NOT NULL constraint (catalog, with --db) on the column, which must be
//    a plain column of a table that is not on the nullable side of an outer
//    join in its query level; or
//  * an explicit `col IS NOT NULL` conjunct in the same WHERE (rows where it
//    fails are filtered out whatever NOT IN would have said).
// `x <> ALL (SELECT y ...)` is the same predicate and is handled alike.
//
// Worked example (orders.user_id and users.id both NOT NULL):
//   SELECT u.id FROM users u WHERE u.id NOT IN (SELECT o.user_id FROM orders o)
// becomes
//   SELECT u.id FROM users u
//   WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE u.id = o.user_id)
//
// Without a proof the pass still rewrites, NULL-aware. In WHERE (where NULL
// and false both drop the row) `x NOT IN (SELECT y FROM t WHERE p)` keeps a
// row exactly when: the subquery is empty; or x is not NULL, no y equals x,
// and no y is NULL. So it becomes
//   NOT EXISTS (SELECT 1 FROM t WHERE p AND x = y)            -- the anti-join
//   AND NOT EXISTS (SELECT 1 FROM t WHERE p AND y IS NULL)    -- only if y may be NULL
//   AND NOT (x IS NULL AND EXISTS (SELECT 1 FROM t WHERE p))  -- only if x may be NULL
// Uncorrelated (p does not name the outer query), the two checks are
// InitPlans run once; the anti-join stays a hash anti-join. The naive rewrite
// that drops the checks returns rows NOT IN never returns (an x with NULLs
// among the ys; a NULL x against a non-empty list) — the tests show it.
//
// Refused: NOT IN below the top level of WHERE (there NULL and false
// differ), row-valued NOT IN, subqueries with aggregates / GROUP BY / LIMIT /
// set operations / set-returning or volatile functions, a volatile x (the
// NULL-aware form evaluates it twice), and outer expressions whose names the
// subquery would capture.
#include "rewriter/passes.h"

namespace pgvise::rw {

namespace {

constexpr const char* kPass = "not-in-to-not-exists";

bool HasIsNotNull(Node* where, const Node* expr) {
  for (Node* conj : Conjuncts(where)) {
    if (conj->node_case == PG_QUERY__NODE__NODE_NULL_TEST &&
        conj->null_test->nulltesttype == PG_QUERY__NULL_TEST_TYPE__IS_NOT_NULL &&
        NodeEqual(conj->null_test->arg, expr))
      return true;
  }
  return false;
}

// Proves `e` (evaluated in the innermost scope of `stack`) is never NULL.
// Returns "" on success, otherwise why not.
std::string ProveNotNull(Node* e, Node* where, const Stack& stack, const RewriteCatalog* cat) {
  std::string text = ExprSql(e);
  if (HasIsNotNull(where, e)) return "";
  std::string hint = " (add `" + text + " IS NOT NULL`" +
                     (cat ? "" : ", or pass --db to read NOT NULL constraints") + ")";
  if (e->node_case != PG_QUERY__NODE__NODE_COLUMN_REF)
    return "`" + text + "` is an expression that may be NULL" + hint;
  Resolution r = Resolve(e->column_ref, stack);
  if (r.unknown || r.rel < 0) return "cannot tell which table `" + text + "` comes from" + hint;
  const Relation& rel = stack[r.level]->rels[r.rel];
  if (!rel.base_table || !rel.columns_known)
    return "no NOT NULL constraint known for `" + text + "`" + hint;
  if (rel.nullable) return "`" + text + "` is on the nullable side of an outer join" + hint;
  std::string col = StrVal(e->column_ref->fields[e->column_ref->n_fields - 1]);
  auto it = rel.columns.find(col);
  if (it == rel.columns.end() || !it->second)
    return "`" + text + "` may be NULL (no NOT NULL constraint)" + hint;
  return "";
}

void TryNotIn(PassContext& ctx, PgQuery__SelectStmt* s, const Stack& stack, const Site& site,
              bool all_form) {
  PgQuery__SubLink* sl = (*site.slot)->sub_link;
  PgQuery__SelectStmt* sub = sl->subselect->select_stmt;
  auto refuse = [&](const std::string& why) { ctx.Report(kPass, sl, false, why); };
  bool negated = false;
  bool top = TopLevelWhere(site, &negated);
  if (!all_form && !negated) return;  // a positive IN: decorrelate-in's
  if (!top || (all_form && negated))
    return refuse("NOT IN below the top level of WHERE: its NULL result matters there");
  if (sl->testexpr && (sl->testexpr->node_case == PG_QUERY__NODE__NODE_ROW_EXPR ||
                       sl->testexpr->node_case == PG_QUERY__NODE__NODE_LIST))
    return refuse("a row-valued NOT IN");
  std::string f = ValueListRefusal(ctx, *sl);
  if (!f.empty()) return refuse(f);
  if (SelectHasAggregate(sub, ctx.cat) || sub->n_group_clause || sub->having_clause)
    return refuse(
        "the subquery aggregates: its values can be NULL whatever the columns' constraints");
  Node* y = sub->target_list[0]->res_target->val;
  Scope scope = BuildScope(s, stack, ctx.cat);
  Stack outer = stack;
  outer.push_back(&scope);
  Scope inner_scope = BuildScope(sub, outer, ctx.cat);
  Stack inner = outer;
  inner.push_back(&inner_scope);
  const std::string x_null = ProveNotNull(sl->testexpr, s->where_clause, outer, ctx.cat);
  const std::string y_null = ProveNotNull(y, sub->where_clause, inner, ctx.cat);
  if ((!x_null.empty() || !y_null.empty()) && NamesOuterQuery(ctx, sub, outer))
    return refuse("NOT IN differs from NOT EXISTS when NULLs appear (" +
                  (y_null.empty() ? x_null : y_null) +
                  ") and the subquery names the outer query, so the NULL checks would run per "
                  "outer row");
  if (!x_null.empty()) {
    f = FindVolatile(sl->testexpr, ctx.cat);
    if (!f.empty())
      return refuse("volatile function " + f + " in `" + ExprSql(sl->testexpr) +
                    "`: the NULL-aware form would evaluate it twice");
  }
  std::string why;
  Node* x = MoveIntoSubquery(ctx, sl->testexpr, outer, sub, &why);
  if (!x) return refuse(why);
  Tree& t = *ctx.tree;
  // The NULL checks, built from the subquery as written (before it becomes
  // the anti-join below) and placed beside it at the top of the outer WHERE.
  std::vector<Node*> checks;
  auto probe = [&](Node* extra) {
    return t.SubLink(PG_QUERY__SUB_LINK_TYPE__EXISTS_SUBLINK,
                     SubqueryVariant(t, *sl, t.IntConst(1), extra));
  };
  if (!y_null.empty()) checks.push_back(t.Not(probe(t.NullTest(t.Clone(y), true))));
  if (!x_null.empty())
    checks.push_back(t.Not(t.And({t.NullTest(t.Clone(sl->testexpr), true), probe(nullptr)})));
  sub->where_clause = t.And({sub->where_clause, t.Op("=", x, t.Clone(y))});
  sub->n_target_list = 0;
  sub->target_list = nullptr;
  t.Append(&sub->n_target_list, &sub->target_list, t.ResTarget(t.IntConst(1), ""));
  sub->n_distinct_clause = 0;
  sub->n_sort_clause = 0;
  sl->sub_link_type = PG_QUERY__SUB_LINK_TYPE__EXISTS_SUBLINK;
  sl->testexpr = nullptr;
  sl->n_oper_name = 0;
  sl->oper_name = nullptr;
  if (all_form) *site.slot = t.Not(*site.slot);
  if (checks.empty())
    return ctx.Report(kPass, sl, true,
                      "both sides are proven NOT NULL, so NOT IN is NOT EXISTS; PostgreSQL plans "
                      "that as an anti-join");
  checks.insert(checks.begin(), s->where_clause);
  s->where_clause = t.And(checks);
  std::string said = "NULL-aware anti-join: NOT EXISTS for the matches";
  if (!y_null.empty())
    said += "; since " + y_null.substr(0, y_null.find(" (add")) +
            ", a one-time check that no subquery value is NULL (NOT IN is then never true)";
  if (!x_null.empty())
    said += "; since " + x_null.substr(0, x_null.find(" (add")) +
            ", a row whose value is NULL is kept only when the subquery is empty";
  ctx.Report(kPass, sl, true, said + " — NOT IN's three-valued result, in WHERE");
}

}  // namespace

// Whether `sub` names a column of an enclosing query (or one pgvise cannot
// place, which may be): then the NULL-aware form's checks would be SubPlans
// run per outer row, not one-time InitPlans.
bool NamesOuterQuery(PassContext& ctx, PgQuery__SelectStmt* sub, const Stack& outer) {
  std::vector<Ref> refs;
  CollectRefsSelect(sub, outer, ctx.cat, &refs);
  for (const auto& r : refs)
    if (r.res.unknown || r.res.level < static_cast<int>(outer.size())) return true;
  return false;
}

std::string ValueListRefusal(PassContext& ctx, const PgQuery__SubLink& sl) {
  const PgQuery__SelectStmt* sub = sl.subselect->select_stmt;
  if (sub->op != PG_QUERY__SET_OPERATION__SETOP_NONE)
    return "the subquery is a UNION/INTERSECT/EXCEPT";
  if (sub->n_target_list != 1 || !sub->target_list[0]->res_target->val)
    return "the subquery does not return exactly one column";
  if (sub->limit_count || sub->limit_offset)
    return "LIMIT/OFFSET choose which values are in the list";
  if (sub->with_clause || sub->n_locking_clause || sub->n_from_clause == 0)
    return "the subquery has a WITH clause, FOR UPDATE or no FROM clause";
  std::string f = FindSetReturning(sub->target_list[0]->res_target->val, ctx.cat);
  if (!f.empty()) return "set-returning function " + f + " in the subquery";
  f = FindVolatile(sl.subselect, ctx.cat);
  if (!f.empty()) return "volatile function " + f + " in the subquery";
  return "";
}

PgQuery__SelectStmt* SubqueryVariant(Tree& t, const PgQuery__SubLink& sl, Node* value,
                                     Node* extra) {
  PgQuery__SelectStmt* c = t.Clone(sl.subselect)->select_stmt;
  if (extra) c->where_clause = t.And({c->where_clause, extra});
  c->n_target_list = 0;
  c->target_list = nullptr;
  t.Append(&c->n_target_list, &c->target_list, t.ResTarget(value, ""));
  c->n_distinct_clause = 0;
  c->n_sort_clause = 0;
  return c;
}

// NOT IN (`= ANY` under NOT) or its spelled-out twin `<> ALL`.
bool IsNotInForm(const PgQuery__SubLink& sl, bool* all_form) {
  const bool in = sl.sub_link_type == PG_QUERY__SUB_LINK_TYPE__ANY_SUBLINK &&
                  (sl.n_oper_name == 0 || (sl.n_oper_name == 1 && StrVal(sl.oper_name[0]) == "="));
  const bool ne_all = sl.sub_link_type == PG_QUERY__SUB_LINK_TYPE__ALL_SUBLINK &&
                      sl.n_oper_name == 1 &&
                      (StrVal(sl.oper_name[0]) == "<>" || StrVal(sl.oper_name[0]) == "!=");
  if (all_form) *all_form = ne_all;
  return in || ne_all;
}

void PassNotInToNotExists(PassContext& ctx, PgQuery__SelectStmt* s, const Stack& stack) {
  ForEachNewSublink(
      ctx, s, [](const Site&, const PgQuery__SubLink& sl) { return IsNotInForm(sl, nullptr); },
      [&](const Site& site) {
        bool all_form = false;
        IsNotInForm(*(*site.slot)->sub_link, &all_form);
        TryNotIn(ctx, s, stack, site, all_form);
      });
}

}  // namespace pgvise::rw
