// View matching, one statement onto one view: the conditions checked
// (same tables, same join classes, the view's filters among the statement's
// conjuncts and the rest applicable to its keys, outputs from view columns,
// grouping equal or coarser), then the statement edited on its parse tree to
// read the view: FROM the view alone, residual conjuncts and outputs over
// view columns, a rollup re-aggregating (SUM of SUMs, SUM of COUNTs, MIN of
// MINs, MAX of MAXs, AVG as SUM / SUM of COUNTs) cast back to the type the
// statement returned. The result is deparsed and re-parsed.
#include <algorithm>
#include <memory>

#include "advisor/matview_match_internal.h"
#include "core/session.h"

namespace pgvise::mv {

using detail::Analyze;
using detail::ExtraTablesKeepRows;
using detail::FindAgg;
using detail::FindKey;
using detail::HandledAggregates;
using detail::Node;
using detail::ParseExpr;
using detail::ProperSubset;
using detail::Shape;
using detail::Sql;

namespace {

std::string Col(const ViewColumn& c) { return "mv." + QuoteIdent(c.name); }

bool SumTypeOk(const std::string& t) {
  return t == "bigint" || t == "numeric" || t == "integer" || t == "smallint";
}

// The view form of one aggregate of the statement.
bool AggregateSql(const ViewDefinition& def, const std::string& func, const std::string& arg,
                  bool rollup, std::string* out, std::string* why) {
  if (func == "avg") {
    const ViewColumn* s = FindAgg(def, "sum", arg);
    const ViewColumn* c = FindAgg(def, "count", arg);
    if (!s || !c) return *why = "the view lacks avg's sum and count", false;
    if (!s->type.empty() && s->type != "bigint" && s->type != "numeric")
      return *why = "avg over " + s->type + " (not exact when re-summed)", false;
    *out = rollup ? "(sum(" + Col(*s) + ")::numeric / NULLIF(sum(" + Col(*c) + "), 0)::numeric)"
                  : "(" + Col(*s) + "::numeric / NULLIF(" + Col(*c) + ", 0)::numeric)";
    return true;
  }
  const ViewColumn* v = FindAgg(def, func, arg);
  if (!v) return *why = "the view lacks " + func + "(" + arg + ")", false;
  if (!rollup) {
    *out = Col(*v);
    return true;
  }
  if (func == "count") {
    *out = "COALESCE(sum(" + Col(*v) + "), 0)::bigint";
  } else if (func == "sum") {
    // sum(bigint) is numeric: cast back to what the statement's sum returned.
    const std::string type = v->type.empty() ? "numeric" : v->type;
    if (!v->type.empty() && !SumTypeOk(v->type))
      return *why = "sum over " + v->type + " (not exact when re-summed)", false;
    *out = "sum(" + Col(*v) + ")::" + type;
  } else {
    *out = func + "(" + Col(*v) + ")";
  }
  return true;
}

// Rewrites, in place, every key expression and aggregate under *slot into
// its view form; false (with *why) when a column is not a view key.
bool Translate(rw::Tree& t, Node** slot, const ViewDefinition& def, bool rollup, std::string* why) {
  bool ok = true;
  rw::VisitSlots(slot, [&](Node** s) {
    if (!ok) return false;
    Node* x = *s;
    if (x->node_case == PG_QUERY__NODE__NODE_COLUMN_REF ||
        x->node_case == PG_QUERY__NODE__NODE_FUNC_CALL) {
      if (const ViewColumn* k = FindKey(def, Sql(x))) {
        *s = t.ColumnRef({"mv", k->name});
        return false;
      }
    }
    if (x->node_case == PG_QUERY__NODE__NODE_COLUMN_REF) {
      *why = Sql(x) + " is not a grouping key of the view";
      ok = false;
      return false;
    }
    if (x->node_case == PG_QUERY__NODE__NODE_FUNC_CALL &&
        HandledAggregates().count(rw::FuncName(x->func_call))) {
      auto* f = x->func_call;
      std::string sql;
      if (!AggregateSql(def, rw::FuncName(f), f->agg_star ? "" : Sql(f->args[0]), rollup, &sql,
                        why)) {
        ok = false;
        return false;
      }
      Node* n = ParseExpr(t, sql);
      if (!n) {
        *why = "cannot parse " + sql;
        ok = false;
        return false;
      }
      *s = n;
      return false;
    }
    return true;
  });
  return ok;
}

bool SameSet(std::vector<std::string> a, std::vector<std::string> b) {
  std::sort(a.begin(), a.end());
  a.erase(std::unique(a.begin(), a.end()), a.end());
  std::sort(b.begin(), b.end());
  b.erase(std::unique(b.begin(), b.end()), b.end());
  return a == b;
}

// Shared by Rewrite and DescribeRewrite: checks the match and edits the tree.
Status RewriteShape_(const Catalog& catalog, const std::string& sql, const ViewDefinition& def,
                     const std::string& view, Shape* shape, RewriteShape* rs) {
  std::string why;
  if (!Analyze(catalog, sql, shape, &why)) return Status::InvalidInput(why);
  // 1. + 2. same tables, same join classes.
  std::vector<std::string> tabs, view_tabs;
  for (const auto& t : shape->tables) tabs.push_back(t.schema + "." + t.name);
  view_tabs = def.QualifiedTables();
  if (tabs != view_tabs) {
    // 1'. fewer tables: read again with the view's aliases; each extra table
    // must be joined through a key (matview_extra.cc).
    if (!ProperSubset(shape->tables, def.tables))
      return Status::InvalidInput("reads other tables than the view");
    *shape = Shape{};
    if (!Analyze(catalog, sql, shape, &why, &def.tables)) return Status::InvalidInput(why);
    if (!ExtraTablesKeepRows(catalog, *shape, def.tables, def.joins, &why))
      return Status::InvalidInput(why);
  } else {
    std::vector<std::string> joins;
    for (const auto& cl : shape->classes)
      for (size_t i = 1; i < cl.size(); ++i) joins.push_back(cl[0] + " = " + cl[i]);
    if (!SameSet(joins, def.joins)) return Status::InvalidInput("joins differently from the view");
  }
  // 3. the view's filters are conjuncts of the statement; the rest read keys.
  for (const auto& f : def.filters)
    if (std::find(shape->pred_sql.begin(), shape->pred_sql.end(), f) == shape->pred_sql.end())
      return Status::InvalidInput("lacks the view's filter " + f);
  std::vector<Node*> residual;
  for (size_t i = 0; i < shape->preds.size(); ++i) {
    if (std::find(def.filters.begin(), def.filters.end(), shape->pred_sql[i]) != def.filters.end())
      continue;
    Node* p = shape->preds[i];
    if (!Translate(*shape->tree, &p, def, false, &why)) return Status::InvalidInput(why);
    residual.push_back(p);
  }
  // 5. grouping equal (read as is) or coarser (re-aggregate).
  std::vector<std::string> view_keys;
  for (const auto& k : def.keys) view_keys.push_back(k.expr);
  for (const auto& k : shape->key_sql)
    if (!FindKey(def, k)) return Status::InvalidInput("groups by " + k + ", not a view key");
  // A grand-total view (no keys: one row) serves a grand total as it is;
  // a grouped view serves one by re-aggregating all its rows.
  const bool rollup =
      !def.keys.empty() && (!SameSet(shape->key_sql, view_keys) || shape->key_sql.empty());
  PgQuery__SelectStmt* s = shape->sel;
  rw::Tree& t = *shape->tree;
  // 4. outputs and ORDER BY from view columns.
  for (size_t i = 0; i < s->n_target_list; ++i)
    if (!Translate(t, &s->target_list[i]->res_target->val, def, rollup, &why))
      return Status::InvalidInput(why);
  for (size_t i = 0; i < s->n_sort_clause; ++i) {
    auto* sb = s->sort_clause[i]->sort_by;
    Node* n = sb->node;
    if (n->node_case == PG_QUERY__NODE__NODE_A_CONST ||
        (n->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && n->column_ref->n_fields == 1))
      continue;  // an output name or position: the outputs keep their names
    if (!Translate(t, &sb->node, def, rollup, &why)) return Status::InvalidInput(why);
  }
  // HAVING: over the rollup's groups it stays a HAVING (its aggregates
  // re-aggregated); at the view's own grouping each view row is one group,
  // so it becomes a conjunct on the row's columns.
  if (s->having_clause) {
    Node* h = s->having_clause;
    if (!Translate(t, &h, def, rollup, &why)) return Status::InvalidInput(why);
    if (rollup) {
      s->having_clause = h;
    } else {
      residual.push_back(h);
      s->having_clause = nullptr;
    }
  }
  std::vector<Node*> group;
  if (rollup)
    for (Node* k : shape->keys) {
      Node* g = t.Clone(k);
      if (!Translate(t, &g, def, true, &why)) return Status::InvalidInput(why);
      group.push_back(g);
    }
  // The FROM: the view alone. `view` is quoted as needed ("Sch ""q"".v):
  // the parser reads it back into its parts, unquoted, as the tree holds
  // them (splitting at the first dot would keep the quotes, which the
  // deparser then doubles, and break on a dot inside a quoted name).
  std::unique_ptr<rw::Tree> name_tree;
  if (!rw::Tree::Parse("SELECT FROM " + view, &name_tree).ok() || name_tree->root()->n_stmts != 1 ||
      name_tree->root()->stmts[0]->stmt->node_case != PG_QUERY__NODE__NODE_SELECT_STMT ||
      name_tree->root()->stmts[0]->stmt->select_stmt->n_from_clause != 1 ||
      name_tree->root()->stmts[0]->stmt->select_stmt->from_clause[0]->node_case !=
          PG_QUERY__NODE__NODE_RANGE_VAR)
    return Status::InvalidInput("not a view name: " + view);
  const PgQuery__RangeVar* named =
      name_tree->root()->stmts[0]->stmt->select_stmt->from_clause[0]->range_var;
  PgQuery__RangeVar rinit = PG_QUERY__RANGE_VAR__INIT;
  auto* rv = t.New(rinit);
  if (named->schemaname && *named->schemaname) rv->schemaname = t.arena().Strdup(named->schemaname);
  rv->relname = t.arena().Strdup(named->relname);
  rv->inh = true;
  rv->relpersistence = t.arena().Strdup("p");
  PgQuery__Alias ainit = PG_QUERY__ALIAS__INIT;
  rv->alias = t.New(ainit);
  rv->alias->aliasname = t.arena().Strdup("mv");
  rv->location = -1;
  s->n_from_clause = 0;
  s->from_clause = nullptr;
  t.Append(&s->n_from_clause, &s->from_clause, t.Wrap(PG_QUERY__NODE__NODE_RANGE_VAR, rv));
  s->where_clause = t.And(residual);
  s->n_group_clause = 0;
  s->group_clause = nullptr;
  for (Node* g : group) t.Append(&s->n_group_clause, &s->group_clause, g);
  rs->residual_quals = static_cast<int>(residual.size());
  rs->rollup = rollup;
  rs->rollup_keys = rollup ? static_cast<int>(group.size()) : 0;
  rs->aggregates = static_cast<int>(shape->aggs.size());
  return Status::Ok();
}

}  // namespace

Status Rewrite(const Catalog& catalog, const std::string& sql, const ViewDefinition& def,
               const std::string& view, std::string* out, bool* rollup) {
  Shape shape;
  RewriteShape rs;
  Status st = RewriteShape_(catalog, sql, def, view, &shape, &rs);
  if (!st.ok()) return st;
  std::string text;
  st = shape.tree->Deparse(&text);
  if (!st.ok()) return st;
  // Re-parse: what is printed must be what PostgreSQL reads.
  std::unique_ptr<rw::Tree> again;
  st = rw::Tree::Parse(text, &again);
  if (!st.ok()) return Status::Internal("the rewrite does not re-parse: " + st.message());
  std::string text2;
  if (!again->Deparse(&text2).ok() || text2 != text)
    return Status::Internal("the rewrite does not deparse back to itself");
  *out = text;
  if (rollup) *rollup = rs.rollup;
  return Status::Ok();
}

Status DescribeRewrite(const Catalog& catalog, const std::string& sql, const ViewDefinition& def,
                       RewriteShape* out) {
  Shape shape;
  return RewriteShape_(catalog, sql, def, "v", &shape, out);
}

}  // namespace pgvise::mv
