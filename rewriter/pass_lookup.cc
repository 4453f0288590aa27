// Pass unique-lookup-to-left-join: a correlated scalar subquery that looks a
// row up by a unique key (`(SELECT c.name FROM customers c WHERE c.id =
// o.customer_id)`, the ORM's lazy lookup written as SQL) becomes a LEFT JOIN
// the planner can hash or merge, instead of one index probe per outer row.
//
// Why it is correct. Take an outer row o and the subquery
//   (SELECT v(c) FROM customers c WHERE c.id = o.customer_id AND p(c))
// A scalar subquery yields the value of its only row, NULL when it finds no
// row, and raises an error when it finds two. Let K be the subquery's side of
// its key equalities (here {c.id}). When K covers the columns of a unique
// index of `customers` (valid, not partial, plain columns with the default
// operator class so its equality is the type's `=`, not DEFERRABLE, and no
// inheritance children whose rows the index does not cover; read from the
// catalog, so this pass needs --db), at most one row has c.id equal to a
// given value: the subquery finds 0 or 1 rows for every o and never raises.
// The derived table
//   (SELECT c.id AS pgv_k1, v(c) AS pgv_v FROM customers c WHERE p(c)) pgv_sq1
// holds the same rows with their values, still at most one per key, so
//   o LEFT JOIN pgv_sq1 ON pgv_sq1.pgv_k1 = o.customer_id
// keeps every outer row exactly once (LEFT: never dropped; the key is unique:
// never repeated), and pgv_sq1.pgv_v is v of the matching row — or NULL when
// there is none, which is also what the subquery yields (v is computed inside
// the derived table, so a non-strict v such as coalesce(c.name, '?') is not
// applied to the missing row). The value is equal for every outer row, so the
// substitution holds wherever the subquery sits in the query level: the
// select list, or anywhere in WHERE (under OR and NOT too).
//
// The wrong rewrites this avoids: an INNER JOIN drops the outer rows whose key
// is NULL or dangling (the subquery gives them NULL); a LEFT JOIN on a key that
// is not unique repeats outer rows where the subquery raises "more than one
// row returned". Cross-type keys are refused unless both are integer types:
// a coarser cross-type `=` (numeric = double precision) could match several
// rows the index holds apart.
//
// Worked example (customers.id is the primary key):
//   SELECT o.id, (SELECT c.name FROM customers c WHERE c.id = o.customer_id) AS name
//   FROM orders o
// becomes
//   SELECT o.id, pgv_sq1.pgv_v AS name
//   FROM orders o LEFT JOIN (SELECT c.id AS pgv_k1, c.name AS pgv_v
//                            FROM customers c) pgv_sq1 ON pgv_sq1.pgv_k1 = o.customer_id
//
// Refused: without --db (uniqueness unknown); key columns that are not a
// unique key; a subquery over several FROM items, a non-table, or with
// GROUP BY / DISTINCT / ORDER BY / LIMIT / OFFSET / window or set-returning
// or volatile functions; outer keys whose type is unknown or differs; outer
// queries that group, have LIMIT / OFFSET or lock rows; subqueries in JOIN ...
// ON, GROUP BY or ORDER BY. Aggregate subqueries belong to the scalar passes
// and are not looked at here.
#include <algorithm>

#include "rewriter/passes.h"

namespace pgvise::rw {

namespace {

constexpr const char* kPass = "unique-lookup-to-left-join";

bool IsIntegerType(const std::string& t) {
  return t == "smallint" || t == "integer" || t == "bigint";
}

// Column name of a plain column reference resolving to relation `rel` of
// stack level `level`; "" otherwise.
std::string ColumnOf(Node* e, const Stack& stack, int level, int rel) {
  if (!e || e->node_case != PG_QUERY__NODE__NODE_COLUMN_REF) return "";
  const PgQuery__ColumnRef* c = e->column_ref;
  if (c->n_fields == 0 || c->fields[c->n_fields - 1]->node_case != PG_QUERY__NODE__NODE_STRING)
    return "";
  Resolution r = Resolve(c, stack);
  if (r.unknown || r.level != level || r.rel != rel) return "";
  return StrVal(c->fields[c->n_fields - 1]);
}

// Catalog type of a plain column reference, "" when unknown.
std::string TypeOf(Node* e, const Stack& stack) {
  if (!e || e->node_case != PG_QUERY__NODE__NODE_COLUMN_REF) return "";
  Resolution r = Resolve(e->column_ref, stack);
  if (r.unknown || r.rel < 0) return "";
  const Relation& rel = stack[r.level]->rels[r.rel];
  const PgQuery__ColumnRef* c = e->column_ref;
  auto it = rel.types.find(StrVal(c->fields[c->n_fields - 1]));
  return it == rel.types.end() ? "" : it->second;
}

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

void TryLookup(PassContext& ctx, PgQuery__SelectStmt* s, const Stack& stack, const Site& site) {
  PgQuery__SubLink* sl = (*site.slot)->sub_link;
  PgQuery__SelectStmt* sub = sl->subselect->select_stmt;
  // Aggregates are the scalar passes' (a grouped derived table).
  if (SelectHasAggregate(sub, ctx.cat)) return;
  Scope scope = BuildScope(s, stack, ctx.cat);
  Stack outer = stack;
  outer.push_back(&scope);
  Correlation c;
  std::string why;
  // Uncorrelated (an InitPlan) and refused correlations were reported by the
  // scalar passes with their reason; nothing to add.
  if (AnalyzeCorrelation(sub, outer, ctx.cat, &c, &why) != CorrelationResult::kCorrelated) return;
  auto refuse = [&](const std::string& w) { ctx.Report(kPass, sl, false, w); };

  if (site.clause == SiteClause::kJoinOn)
    return refuse(
        "in a JOIN ... ON condition: a derived table joined to the query is not visible there");
  if (site.clause != SiteClause::kTarget && site.clause != SiteClause::kWhere)
    return refuse("outside the select list and WHERE: not rewritten");
  // Only a plain one-table lookup is this pass's shape; anything else (ORDER
  // BY ... LIMIT 1, GROUP BY, DISTINCT, a join, a window or set-returning
  // function) is left without a word: the scalar passes' refusal ("not an
  // aggregate", "an ORDER BY ... LIMIT lookup") already says why.
  Scope sc = BuildScope(sub, outer, ctx.cat);
  if (sub->n_target_list != 1 || !sub->target_list[0]->res_target->val || sub->n_group_clause ||
      sub->having_clause || sub->n_distinct_clause || sub->n_sort_clause || sub->limit_count ||
      sub->limit_offset || sub->n_window_clause || sub->n_from_clause != 1 || sc.rels.size() != 1 ||
      !sc.rels[0].base_table || sub->from_clause[0]->node_case != PG_QUERY__NODE__NODE_RANGE_VAR)
    return;
  Node* value = sub->target_list[0]->res_target->val;
  if (HasWindow(value) || !FindSetReturning(value, ctx.cat).empty()) return;
  std::string f = FindVolatile(sl->subselect, ctx.cat);
  if (!f.empty())
    return refuse("volatile function " + f + ": it would run per row of the table joined");

  // The subquery reads one table, whose unique key the correlation covers.
  const Relation& rel = sc.rels[0];
  if (!ctx.cat)
    return refuse(
        "not an aggregate, and without --db the uniqueness of " + rel.name +
        "'s key cannot be proven: a join could repeat outer rows where the subquery raises an "
        "error (pass --db to read its unique indexes)");
  const RewriteCatalog::Table* table = ctx.cat->FindTable(rel.schema, rel.table);
  if (!table) return refuse("table " + rel.table + " is not in the catalog");
  Stack inner = outer;
  inner.push_back(&sc);
  const int L = static_cast<int>(outer.size());  // the subquery's level in `inner`
  std::set<std::string> key_cols;
  std::vector<std::string> key_list;
  for (size_t i = 0; i < c.inner_keys.size(); ++i) {
    std::string col = ColumnOf(c.inner_keys[i], inner, L, 0);
    if (col.empty()) continue;  // an expression key: equal, but not an index column
    key_cols.insert(col);
    key_list.push_back(rel.name + "." + col);
    // Integer types mix safely; any other pair must be the same type, known.
    std::string tin = TypeOf(c.inner_keys[i], inner), tout = TypeOf(c.outer_keys[i], inner);
    if (tout.empty())
      return refuse("the type of the outer key `" + ExprSql(c.outer_keys[i]) +
                    "` is unknown: a cross-type `=` could match several rows of the unique key");
    if (tin != tout && !(IsIntegerType(tin) && IsIntegerType(tout)))
      return refuse("the key `" + ExprSql(c.inner_keys[i]) + "` (" + tin + ") is compared with " +
                    tout + ": a cross-type `=` could match several rows of the unique key");
  }
  const std::vector<std::string>* proof = nullptr;
  for (const auto& uk : table->unique_keys) {
    bool covered = true;
    for (const auto& col : uk) covered &= key_cols.count(col) > 0;
    if (covered) {
      proof = &uk;
      break;
    }
  }
  if (!proof)
    return refuse("not an aggregate, and the correlation columns (" +
                  (key_list.empty() ? std::string("none plain") : Join(key_list)) +
                  ") cover no unique key of " + rel.table +
                  ": the subquery could find several rows (an error) where a join repeats the "
                  "outer row");

  // The outer query.
  if (s->limit_count || s->limit_offset)
    return refuse("the outer query has LIMIT/OFFSET: the SubPlan only runs for the rows fetched");
  if (s->n_locking_clause) return refuse("the outer query locks rows (FOR UPDATE/SHARE)");
  if (IsGrouped(s, ctx.cat))
    return refuse("the outer query groups: the looked-up value would have to join its GROUP BY");
  for (int r : c.outer_rels)
    if (r < 0 || r >= static_cast<int>(scope.rels.size()) || scope.rels[r].from_item < 0)
      return refuse("an outer key column is not from a FROM item of the outer query");
  PgQuery__ResTarget* target =
      site.clause == SiteClause::kTarget ? s->target_list[site.target]->res_target : nullptr;
  if (!ExpandStar(ctx, s, &why)) return refuse(why);

  Tree& t = *ctx.tree;
  if (target && &target->val == site.slot && (!target->name || !*target->name))
    target->name = t.arena().Strdup(FigureColname(*site.slot));
  const std::string name = ctx.FreshName("pgv_sq");
  PgQuery__SelectStmt* d = t.EmptySelect();
  for (size_t i = 0; i < c.inner_keys.size(); ++i)
    t.Append(&d->n_target_list, &d->target_list,
             t.ResTarget(c.inner_keys[i], "pgv_k" + std::to_string(i + 1)));
  t.Append(&d->n_target_list, &d->target_list, t.ResTarget(value, "pgv_v"));
  d->n_from_clause = sub->n_from_clause;
  d->from_clause = sub->from_clause;
  d->where_clause = t.And(c.local_preds);
  Node* on = KeyJoinCondition(ctx, name, c);
  *site.slot = t.ColumnRef({name, "pgv_v"});
  AttachLeft(ctx, s, scope, c.outer_rels, t.RangeSubselect(d, name), on);

  // The scalar passes refused this subquery as "not an aggregate" before this
  // pass ran; that refusal is now answered.
  auto& outs = *ctx.outcomes;
  outs.erase(std::remove_if(outs.begin(), outs.end(),
                            [&](const PassOutcome& o) {
                              return !o.applied && o.location == sl->location &&
                                     o.pass.rfind("decorrelate-scalar", 0) == 0;
                            }),
             outs.end());
  ctx.Report(kPass, sl, true,
             "LEFT JOIN " + name + " on " + Join(key_list) + ": (" + Join(*proof) +
                 ") is a unique key of " + rel.table +
                 ", so the subquery finds at most one row and the join never repeats an outer "
                 "row; outer rows without a match (NULL or dangling key) keep a NULL value, as "
                 "the subquery gives them (never INNER: it would drop them)");
}

}  // namespace

void PassUniqueLookup(PassContext& ctx, PgQuery__SelectStmt* s, const Stack& stack) {
  ForEachNewSublink(
      ctx, s,
      [&](const Site&, const PgQuery__SubLink& sl) {
        return sl.sub_link_type == PG_QUERY__SUB_LINK_TYPE__EXPR_SUBLINK;
      },
      [&](const Site& site) { TryLookup(ctx, s, stack, site); });
}

}  // namespace pgvise::rw
