// Pass limit-one-to-lateral: a correlated scalar subquery that picks one row
// by ORDER BY ... LIMIT 1 (the latest order per user, the current price per
// product) becomes a LEFT JOIN LATERAL, or — when the correlation is plain key
// equalities and the server's costs say it is cheaper — a LEFT JOIN to a
// DISTINCT ON derived table that picks the first row of every key at once.
//
// Why the LATERAL form is correct. Take an outer row u and the subquery
//   (SELECT v(o) FROM orders o WHERE p(o, u) ORDER BY s(o) LIMIT 1)
// A scalar subquery yields the value of its only row, NULL when it has none.
// LIMIT 1 makes it return at most one row, so it never raises "more than one
// row". The LATERAL item
//   LEFT JOIN LATERAL (SELECT v(o) FROM orders o WHERE p(o, u)
//                      ORDER BY s(o) LIMIT 1) pgv_l1(pgv_v) ON true
// is the same subquery, unchanged, evaluated for the same outer row u: one row
// with the same value, or none. LEFT JOIN ... ON true keeps u exactly once
// either way (at most one row on the right: never repeated; LEFT: never
// dropped), and pgv_l1.pgv_v is v of that row, or NULL when there is none —
// what the subquery yields. The ORDER BY is copied as written, so its
// direction and NULLS FIRST/LAST (DESC puts NULLs first by default) pick the
// same row. Where ORDER BY leaves ties, the original picks one of the tied
// rows arbitrarily and so does the rewrite: the result is one the original
// could have returned; it is the same row whenever the ORDER BY (with the
// correlation) decides a single row, which is what --verify compares.
// Several such subqueries with the same FROM, WHERE and ORDER BY (the latest
// order's total and its status) share one LATERAL item: the same row, one
// probe instead of two.
//
// Why the DISTINCT ON form is correct (only when every outer reference is a
// key equality inner_k = outer_k in WHERE, checked by AnalyzeCorrelation):
//   LEFT JOIN (SELECT DISTINCT ON (o.user_id) o.user_id AS pgv_k1, v(o) AS pgv_v
//              FROM orders o WHERE p(o) ORDER BY o.user_id, s(o)) pgv_sq1
//          ON pgv_sq1.pgv_k1 = u.id
// DISTINCT ON keeps, for each key value, the first row in the ORDER BY order
// after the key: the rows the subquery sees for u are exactly the group whose
// key equals u.id, and the first of them in s(o) order is the row LIMIT 1
// takes. One row per key: the join never repeats u; LEFT: an outer row whose
// key is NULL or matches no group keeps NULL, as the subquery gives it (never
// INNER: it would drop those rows). It reads the inner table once instead of
// probing per outer row, which wins when most outer rows are read and loses
// to an index probe when few are: this pass asks the server's EXPLAIN costs
// (RewriteCatalog::EstimateCost, --db) which form is cheaper and names both
// costs; without --db it writes the LATERAL form.
//
// The wrong rewrites this avoids: an INNER JOIN (LATERAL or not) drops outer
// rows without a match; `max(o.id)` instead of ORDER BY o.id DESC ignores the
// NULLs DESC puts first; rank() = 1 repeats outer rows on ties.
//
// Worked example:
//   SELECT u.id, (SELECT o.total FROM orders o WHERE o.user_id = u.id
//                 ORDER BY o.id DESC LIMIT 1) AS last_total FROM users u
// becomes
//   SELECT u.id, pgv_l1.pgv_v AS last_total
//   FROM users u LEFT JOIN LATERAL (SELECT o.total FROM orders o
//        WHERE o.user_id = u.id ORDER BY o.id DESC LIMIT 1) pgv_l1(pgv_v) ON true
//
// Refused: LIMIT other than 1, WITH TIES, FOR UPDATE, a set operation or WITH
// in the subquery, volatile functions (run for every outer row instead of only
// where the original evaluates the subquery), subqueries in JOIN ... ON,
// HAVING, GROUP BY or ORDER BY, outer queries that group (the value would have
// to join the GROUP BY), have LIMIT/OFFSET (the SubPlan runs only for the
// rows fetched) or lock rows. Uncorrelated subqueries are left to
// PostgreSQL (an InitPlan, run once). The DISTINCT ON form is also refused
// for OFFSET, window functions, ORDER BY by position or by the output name,
// and correlations other than key equalities; the LATERAL form then stands.
#include <algorithm>

#include "rewriter/passes.h"

namespace pgvise::rw {

namespace {

constexpr const char* kPass = "limit-one-to-lateral";

bool IsIntConst(const Node* n, int v) {
  return n && n->node_case == PG_QUERY__NODE__NODE_A_CONST && !n->a_const->isnull &&
         n->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL && n->a_const->ival->ival == v;
}

// Why the DISTINCT ON form cannot stand in for `sub`; "" when it can (with
// the correlation in *c).
std::string SetFormRefusal(PassContext& ctx, PgQuery__SelectStmt* sub, const Stack& outer,
                           Correlation* c) {
  if (sub->limit_offset) return "OFFSET picks a row DISTINCT ON cannot";
  if (sub->n_distinct_clause) return "the subquery has DISTINCT";
  if (HasWindow(sub->target_list[0]) || sub->n_window_clause)
    return "a window function would see every key's rows";
  const char* alias = sub->target_list[0]->res_target->name;
  for (size_t i = 0; i < sub->n_sort_clause; ++i) {
    Node* sb = sub->sort_clause[i];
    Node* e = sb->node_case == PG_QUERY__NODE__NODE_SORT_BY ? sb->sort_by->node : nullptr;
    if (!e) return "an ORDER BY item it cannot read";
    if (e->node_case == PG_QUERY__NODE__NODE_A_CONST)
      return "ORDER BY by position (the derived table's columns are in another order)";
    if (alias && e->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && e->column_ref->n_fields == 1 &&
        e->column_ref->fields[0]->node_case == PG_QUERY__NODE__NODE_STRING &&
        StrVal(e->column_ref->fields[0]) == alias)
      return "ORDER BY names the output column";
  }
  // AnalyzeCorrelation reads the subquery's parts as they are; it refuses
  // LIMIT with an outer reference, and ORDER BY / LIMIT only matter for it
  // through their references, which a copy without them keeps elsewhere.
  std::string why;
  switch (AnalyzeCorrelation(sub, outer, ctx.cat, c, &why)) {
    case CorrelationResult::kCorrelated:
      return "";
    case CorrelationResult::kUncorrelated:
      return "not correlated";
    case CorrelationResult::kRefused:
      break;
  }
  return why;
}

Node* SortBy(Tree& t, Node* e) {
  PgQuery__SortBy init = PG_QUERY__SORT_BY__INIT;
  auto* m = t.New(init);
  m->node = e;
  m->sortby_dir = PG_QUERY__SORT_BY_DIR__SORTBY_DEFAULT;
  m->sortby_nulls = PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_DEFAULT;
  m->location = -1;
  return t.Wrap(PG_QUERY__NODE__NODE_SORT_BY, m);
}

// The subquery without its select list, as SQL: two lookups with the same
// text pick the same row and can share one LATERAL item.
std::string ShapeKey(Tree& t, PgQuery__SelectStmt* sub) {
  PgQuery__SelectStmt copy = *sub;
  Node* one = t.ResTarget(t.IntConst(1), "");
  copy.n_target_list = 1;
  copy.target_list = &one;
  return SelectSql(&copy);
}

// The subquery's shape, the part both forms need; "" when it is this pass's,
// `skip` (no report) when it is not an ORDER BY ... LIMIT lookup at all.
constexpr const char* kNotMine = "-";
std::string ShapeRefusal(PassContext& ctx, PgQuery__SubLink* sl) {
  PgQuery__SelectStmt* sub = sl->subselect->select_stmt;
  if (sub->op != PG_QUERY__SET_OPERATION__SETOP_NONE || !sub->n_sort_clause || !sub->limit_count)
    return kNotMine;
  if (SelectHasAggregate(sub, ctx.cat) || sub->n_group_clause || sub->having_clause)
    return kNotMine;  // the scalar passes' (their refusal names LIMIT)
  if (sub->limit_option == PG_QUERY__LIMIT_OPTION__LIMIT_OPTION_WITH_TIES)
    return "FETCH ... WITH TIES can return several rows (the subquery then raises an error)";
  if (!IsIntConst(sub->limit_count, 1))
    return "LIMIT other than 1: the subquery may return several rows, or none (LIMIT 0)";
  Node* value = sub->n_target_list == 1 ? sub->target_list[0]->res_target->val : nullptr;
  const bool star = value && value->node_case == PG_QUERY__NODE__NODE_COLUMN_REF &&
                    value->column_ref->fields[value->column_ref->n_fields - 1]->node_case ==
                        PG_QUERY__NODE__NODE_A_STAR;
  if (!value || star) return "the subquery does not select one column";
  if (sub->with_clause) return "the subquery has its own WITH clause";
  if (sub->n_locking_clause) return "the subquery locks rows (FOR UPDATE/SHARE)";
  std::string f = FindVolatile(sl->subselect, ctx.cat);
  if (!f.empty())
    return "volatile function " + f +
           ": a LATERAL item runs for every outer row, the subquery only where it is evaluated";
  f = FindSetReturning(sub->target_list[0]->res_target->val, ctx.cat);
  if (!f.empty()) return "set-returning function " + f + " in the select list";
  return "";
}

void TryTopOne(PassContext& ctx, PgQuery__SelectStmt* s, const Stack& stack, const Site& site) {
  PgQuery__SubLink* sl = (*site.slot)->sub_link;
  PgQuery__SelectStmt* sub = sl->subselect->select_stmt;
  std::string shape = ShapeRefusal(ctx, sl);
  if (shape == kNotMine) return;
  auto refuse = [&](const std::string& w) { ctx.Report(kPass, sl, false, w); };
  if (!shape.empty()) return refuse(shape);
  Scope scope = BuildScope(s, stack, ctx.cat);
  Stack outer = stack;
  outer.push_back(&scope);
  const int L = static_cast<int>(outer.size()) - 1;
  if (!NamesOuterQuery(ctx, sub, outer))
    return refuse("not correlated: PostgreSQL runs it once as an InitPlan");
  if (site.clause == SiteClause::kJoinOn)
    return refuse(
        "in a JOIN ... ON condition: a LATERAL item joined to the query is not visible there");
  if (site.clause != SiteClause::kTarget && site.clause != SiteClause::kWhere)
    return refuse("outside the select list and WHERE (HAVING runs it per group): not rewritten");
  if (site.in_aggregate) return refuse("inside an aggregate's argument");
  if (s->limit_count || s->limit_offset)
    return refuse("the outer query has LIMIT/OFFSET: the SubPlan only runs for the rows fetched");
  if (s->n_locking_clause)
    return refuse("the outer query locks rows (FOR UPDATE/SHARE), which a LEFT JOIN refuses");
  if (IsGrouped(s, ctx.cat))
    return refuse("the outer query groups: the picked value would have to join its GROUP BY");
  if (s->n_from_clause == 0) return refuse("the outer query has no FROM clause");

  // The FROM items the subquery reads: the LATERAL item goes after them. A
  // reference it cannot place (no --db) may be any item's, so it then goes
  // after all of them, where it sees what the subquery saw.
  std::vector<Ref> refs;
  CollectRefsSelect(sub, outer, ctx.cat, &refs);
  std::set<int> rels;
  bool unknown = false;
  for (const auto& r : refs) {
    if (r.res.unknown) {
      unknown = true;
    } else if (r.res.level == L) {
      if (r.res.rel < 0 || scope.rels[r.res.rel].from_item < 0)
        return refuse("an outer reference is not a column of a FROM item of the outer query");
      rels.insert(r.res.rel);
    }
  }
  if (unknown || rels.empty())
    for (size_t i = 0; i < scope.rels.size(); ++i)
      if (scope.rels[i].from_item >= 0) rels.insert(static_cast<int>(i));

  // The DISTINCT ON form, when it applies and was chosen (RewriteSql asks
  // the server which form is cheaper).
  Correlation c;
  PgQuery__SelectStmt* probe = ctx.tree->Clone(sl->subselect)->select_stmt;
  std::string set_why = SetFormRefusal(ctx, probe, outer, &c);
  if (set_why.empty()) ++ctx.alternatives;
  const bool set_form = set_why.empty() && ctx.opts->top_one_form == TopOneForm::kDistinctOn;

  PgQuery__ResTarget* target =
      site.clause == SiteClause::kTarget ? s->target_list[site.target]->res_target : nullptr;
  std::string why;
  if (!ExpandStar(ctx, s, &why)) return refuse(why);
  Tree& t = *ctx.tree;
  if (target && &target->val == site.slot && (!target->name || !*target->name))
    target->name = t.arena().Strdup(FigureColname(*site.slot));

  if (set_form) {
    const std::string name = ctx.FreshName("pgv_sq");
    PgQuery__SelectStmt* d =
        BuildDerived(ctx, probe, c, probe->target_list[0]->res_target->val, {}, nullptr);
    // DISTINCT ON (keys) ... ORDER BY keys, <the subquery's ORDER BY>: no
    // GROUP BY (BuildDerived's), the first row of each key instead.
    d->n_group_clause = 0;
    d->group_clause = nullptr;
    for (Node* k : c.inner_keys) {
      t.Append(&d->n_distinct_clause, &d->distinct_clause, t.Clone(k));
      t.Append(&d->n_sort_clause, &d->sort_clause, SortBy(t, t.Clone(k)));
    }
    for (size_t i = 0; i < probe->n_sort_clause; ++i)
      t.Append(&d->n_sort_clause, &d->sort_clause, probe->sort_clause[i]);
    std::string reduced =
        ReduceToOuterKeys(ctx, d, s, scope, outer, c, site.conjunct ? *site.conjunct : nullptr);
    *site.slot = t.ColumnRef({name, "pgv_v"});
    AttachLeft(ctx, s, scope, c.outer_rels, t.RangeSubselect(d, name),
               KeyJoinCondition(ctx, name, c));
    ctx.Report(kPass, sl, true,
               "LEFT JOIN " + name +
                   " (DISTINCT ON the correlation keys, ordered by the keys and then the "
                   "subquery's own ORDER BY): one row per key, the first in the subquery's order "
                   "(NULLS FIRST/LAST as written), so no outer row repeats; outer rows without "
                   "a match keep NULL, as the subquery gives them (never INNER)" +
                   reduced);
    return;
  }

  // LATERAL: the subquery itself, plus every other lookup of this level
  // with the same FROM, WHERE and ORDER BY (one row, several columns).
  const std::string name = ctx.FreshName("pgv_l");
  const std::string key = ShapeKey(t, sub);
  PgQuery__Alias* alias = nullptr;
  Node* lat = t.RangeSubselect(sub, name);
  lat->range_subselect->lateral = true;
  alias = lat->range_subselect->alias;
  t.Append(&alias->n_colnames, &alias->colnames, t.String("pgv_v"));
  *site.slot = t.ColumnRef({name, "pgv_v"});
  int shared = 0;
  for (const Site& other : CollectSites(s, ctx.cat)) {
    if ((*other.slot)->node_case != PG_QUERY__NODE__NODE_SUB_LINK) continue;
    PgQuery__SubLink* osl = (*other.slot)->sub_link;
    if (osl->sub_link_type != PG_QUERY__SUB_LINK_TYPE__EXPR_SUBLINK || osl->location < 0 ||
        ctx.seen.count(osl) || !osl->subselect ||
        osl->subselect->node_case != PG_QUERY__NODE__NODE_SELECT_STMT ||
        (other.clause != SiteClause::kTarget && other.clause != SiteClause::kWhere) ||
        other.in_aggregate || !ShapeRefusal(ctx, osl).empty())
      continue;
    PgQuery__SelectStmt* osub = osl->subselect->select_stmt;
    if (ShapeKey(t, osub) != key) continue;
    ctx.seen.insert(osl);
    const std::string col = "pgv_v" + std::to_string(++shared + 1);
    t.Append(&sub->n_target_list, &sub->target_list,
             t.ResTarget(osub->target_list[0]->res_target->val, ""));
    t.Append(&alias->n_colnames, &alias->colnames, t.String(col));
    PgQuery__ResTarget* otarget =
        other.clause == SiteClause::kTarget ? s->target_list[other.target]->res_target : nullptr;
    if (otarget && &otarget->val == other.slot && (!otarget->name || !*otarget->name))
      otarget->name = t.arena().Strdup(FigureColname(*other.slot));
    *other.slot = t.ColumnRef({name, col});
    ctx.Report(kPass, osl, true,
               "shares LATERAL item " + name +
                   " with an earlier lookup of the same rows (same FROM, WHERE and ORDER BY): "
                   "column " +
                   col + " of the same picked row");
  }
  AttachLeft(ctx, s, scope, rels, lat, t.BoolConst(true));
  ctx.Report(kPass, sl, true,
             "LEFT JOIN LATERAL " + name +
                 " ON true: the subquery itself, run for the same outer row; LIMIT 1 gives at "
                 "most one row, so the outer row is kept exactly once (never INNER: rows "
                 "without a match keep NULL, as the subquery gives them); its ORDER BY is "
                 "copied as written, NULLS FIRST/LAST included, so it picks the same row (ties "
                 "are broken as arbitrarily as in the original)" +
                 (set_why.empty() ? std::string() : "; not as a DISTINCT ON join: " + set_why));
}

}  // namespace

void PassLimitOneToLateral(PassContext& ctx, PgQuery__SelectStmt* s, const Stack& stack) {
  ForEachNewSublink(
      ctx, s,
      [&](const Site&, const PgQuery__SubLink& sl) {
        return sl.sub_link_type == PG_QUERY__SUB_LINK_TYPE__EXPR_SUBLINK;
      },
      [&](const Site& site) {
        size_t before = ctx.outcomes->size();
        TryTopOne(ctx, s, stack, site);
        // The scalar passes refused an applied subquery as "an ORDER BY ...
        // LIMIT lookup" before this pass ran; that refusal is now answered.
        bool applied = false;
        for (size_t i = before; i < ctx.outcomes->size(); ++i)
          applied |= (*ctx.outcomes)[i].applied;
        if (!applied) return;
        std::set<int> locs;
        for (size_t i = before; i < ctx.outcomes->size(); ++i)
          if ((*ctx.outcomes)[i].applied) locs.insert((*ctx.outcomes)[i].location);
        auto& outs = *ctx.outcomes;
        outs.erase(std::remove_if(outs.begin(), outs.end(),
                                  [&](const PassOutcome& o) {
                                    return !o.applied && locs.count(o.location) &&
                                           o.pass.rfind("decorrelate-scalar", 0) == 0;
                                  }),
                   outs.end());
      });
}

}  // namespace pgvise::rw
