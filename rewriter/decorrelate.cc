// The decorrelation building blocks (decorrelate.h): the correlation
// analysis every pass starts from, the grouped derived table, and the ways of
// attaching it to the outer query. The empty-group reasoning (the COUNT bug)
// is in empty_value.cc.
#include "rewriter/decorrelate.h"

namespace pgvise::rw {

void ForEachNewSublink(PassContext& ctx, PgQuery__SelectStmt* s,
                       const std::function<bool(const Site&, const PgQuery__SubLink&)>& wanted,
                       const std::function<void(const Site&)>& rewrite) {
  for (;;) {
    const auto sites = CollectSites(s, ctx.cat);
    const Site* pick = nullptr;
    for (const Site& site : sites) {
      const PgQuery__SubLink* sl = (*site.slot)->sub_link;
      if (ctx.seen.count(sl) || sl->location < 0 || !sl->subselect ||
          sl->subselect->node_case != PG_QUERY__NODE__NODE_SELECT_STMT || !wanted(site, *sl))
        continue;
      pick = &site;
      break;
    }
    if (!pick) return;
    ctx.seen.insert((*pick->slot)->sub_link);
    rewrite(*pick);
  }
}

std::string PassContext::FreshName(const std::string& prefix) {
  for (int i = 1;; ++i) {
    std::string n = prefix + std::to_string(i);
    if (!used_names.count(n)) {
      used_names.insert(n);
      return n;
    }
  }
}

void PassContext::Report(const std::string& pass, const PgQuery__SubLink* sl, bool applied,
                         const std::string& reason) {
  PassOutcome o;
  o.pass = pass;
  o.applied = applied;
  o.reason = reason;
  o.location = sl ? sl->location : -1;
  if (sl && sl->subselect && sl->subselect->node_case == PG_QUERY__NODE__NODE_SELECT_STMT)
    o.subquery = Shorten(SelectSql(sl->subselect->select_stmt));
  outcomes->push_back(o);
  if (applied) applied_any = true;
}

namespace {

std::string ColText(const PgQuery__ColumnRef* c) {
  std::string s;
  for (size_t i = 0; i < c->n_fields; ++i) {
    if (i) s += ".";
    s += c->fields[i]->node_case == PG_QUERY__NODE__NODE_A_STAR ? "*" : StrVal(c->fields[i]);
  }
  return s;
}

// Checks references of one part of the subquery. `L` is the outer level.
// Sets *outer when a reference reaches level L from the subquery level.
bool CheckRefs(const std::vector<Ref>& refs, int L, const RewriteCatalog* cat, const char* part,
               bool allow_outer, Correlation* c, std::string* why, bool* outer) {
  for (const auto& r : refs) {
    if (r.res.unknown) {
      // Only at the top level is a wrong guess loud (see scope.h).
      if (L == 0 && r.occurs_at > L) {
        c->assumed_local = true;
        continue;
      }
      *why = "cannot tell which query column `" + ColText(r.col) + "` belongs to" +
             (cat ? std::string() : std::string(" (pass --db so the catalog can resolve it)"));
      return false;
    }
    if (r.res.level < L) {
      *why = "`" + ColText(r.col) +
             "` refers to a query further out than the one holding the subquery";
      return false;
    }
    if (r.res.level == L) {
      if (r.occurs_at > L + 1) {
        *why = "correlation two levels deep: `" + ColText(r.col) +
               "` is used by a subquery nested inside the subquery; a derived table cannot see it";
        return false;
      }
      if (!allow_outer) {
        *why = std::string("outer column `") + ColText(r.col) + "` used in the subquery's " + part +
               ": only equalities in WHERE can become join keys";
        return false;
      }
      if (r.res.rel < 0) {
        *why = "outer reference `" + ColText(r.col) + "` is not a column of a FROM item";
        return false;
      }
      *outer = true;
    }
  }
  return true;
}

// Side of an equality: 1 = reads only the subquery, 2 = reads only the outer
// level, 0 = neither (constants, mixed, sublinks).
int Side(Node* e, const Stack& inner, const RewriteCatalog* cat, int L, std::set<int>* rels) {
  if (HasSublink(e)) return 0;
  std::vector<Ref> refs;
  CollectRefs(e, inner, cat, &refs);
  if (refs.empty()) return 0;
  bool any_outer = false, any_local = false;
  for (const auto& r : refs) {
    if (r.res.unknown) {
      if (L == 0)
        any_local = true;  // assumed the subquery's (see CheckRefs)
      else
        return 0;
    } else if (r.res.level == L && r.res.rel >= 0) {
      any_outer = true;
    } else if (r.res.level > L) {
      any_local = true;
    } else {
      return 0;
    }
  }
  if (any_outer && any_local) return 0;
  if (any_outer) {
    for (const auto& r : refs) rels->insert(r.res.rel);
    return 2;
  }
  return 1;
}

bool IsIntegerType(const std::string& t) {
  return t == "smallint" || t == "integer" || t == "bigint";
}

// The catalog type of a plain column reference, "" when unknown.
std::string ColumnType(Node* e, const Stack& stack) {
  if (!e || e->node_case != PG_QUERY__NODE__NODE_COLUMN_REF) return "";
  Resolution r = Resolve(e->column_ref, stack);
  if (r.unknown || r.rel < 0) return "";
  const Relation& rel = stack[r.level]->rels[r.rel];
  auto* c = e->column_ref;
  auto it = rel.types.find(StrVal(c->fields[c->n_fields - 1]));
  return it == rel.types.end() ? "" : it->second;
}

}  // namespace

CorrelationResult AnalyzeCorrelation(PgQuery__SelectStmt* sub, const Stack& outer,
                                     const RewriteCatalog* cat, Correlation* c, std::string* why) {
  const int L = static_cast<int>(outer.size()) - 1;
  if (sub->op != PG_QUERY__SET_OPERATION__SETOP_NONE) {
    *why = "the subquery is a UNION/INTERSECT/EXCEPT";
    return CorrelationResult::kRefused;
  }
  if (sub->with_clause) {
    *why = "the subquery has its own WITH clause";
    return CorrelationResult::kRefused;
  }
  if (sub->n_locking_clause) {
    *why = "the subquery locks rows (FOR UPDATE/SHARE)";
    return CorrelationResult::kRefused;
  }
  if (sub->n_values_lists || sub->n_from_clause == 0) {
    *why = "the subquery has no FROM clause";
    return CorrelationResult::kRefused;
  }
  Scope sc = BuildScope(sub, outer, cat);
  Stack inner = outer;
  inner.push_back(&sc);
  bool has_outer = false;
  struct Part {
    const char* name;
    std::vector<Node*> nodes;
  };
  std::vector<Ref> refs;
  CollectFromRefs(sub, outer, inner, cat, &refs);
  if (!CheckRefs(refs, L, cat, "FROM clause", false, c, why, &has_outer))
    return CorrelationResult::kRefused;
  std::vector<Part> parts = {{"select list", {}},
                             {"GROUP BY (outer references in GROUP BY)", {}},
                             {"HAVING clause", {}},
                             {"ORDER BY / LIMIT", {}},
                             {"window or DISTINCT clause", {}}};
  for (size_t i = 0; i < sub->n_target_list; ++i) parts[0].nodes.push_back(sub->target_list[i]);
  for (size_t i = 0; i < sub->n_group_clause; ++i) parts[1].nodes.push_back(sub->group_clause[i]);
  parts[2].nodes.push_back(sub->having_clause);
  for (size_t i = 0; i < sub->n_sort_clause; ++i) parts[3].nodes.push_back(sub->sort_clause[i]);
  parts[3].nodes.push_back(sub->limit_count);
  parts[3].nodes.push_back(sub->limit_offset);
  for (size_t i = 0; i < sub->n_window_clause; ++i) parts[4].nodes.push_back(sub->window_clause[i]);
  for (size_t i = 0; i < sub->n_distinct_clause; ++i)
    parts[4].nodes.push_back(sub->distinct_clause[i]);
  for (auto& p : parts) {
    std::vector<Ref> prefs;
    for (Node* n : p.nodes) CollectRefs(n, inner, cat, &prefs);
    // ORDER BY may name the subquery's own output columns.
    if (&p == &parts[3])
      for (auto& r : prefs)
        if (r.res.unknown && r.col->n_fields == 1) r.res = Resolution{L + 1, -1, false};
    if (!CheckRefs(prefs, L, cat, p.name, false, c, why, &has_outer))
      return CorrelationResult::kRefused;
  }
  for (Node* conj : Conjuncts(sub->where_clause)) {
    std::vector<Ref> crefs;
    CollectRefs(conj, inner, cat, &crefs);
    bool conj_outer = false;
    if (!CheckRefs(crefs, L, cat, "WHERE clause", true, c, why, &conj_outer))
      return CorrelationResult::kRefused;
    if (!conj_outer) {
      c->local_preds.push_back(conj);
      continue;
    }
    has_outer = true;
    bool is_eq = conj->node_case == PG_QUERY__NODE__NODE_A_EXPR &&
                 conj->a_expr->kind == PG_QUERY__A__EXPR__KIND__AEXPR_OP &&
                 conj->a_expr->n_name == 1 && OpName(conj->a_expr) == "=";
    if (is_eq) {
      std::set<int> lrels, rrels;
      int ls = Side(conj->a_expr->lexpr, inner, cat, L, &lrels);
      int rs = Side(conj->a_expr->rexpr, inner, cat, L, &rrels);
      Node* in_side = nullptr;
      Node* out_side = nullptr;
      if (ls == 1 && rs == 2) {
        in_side = conj->a_expr->lexpr;
        out_side = conj->a_expr->rexpr;
        c->outer_rels.insert(rrels.begin(), rrels.end());
      } else if (ls == 2 && rs == 1) {
        in_side = conj->a_expr->rexpr;
        out_side = conj->a_expr->lexpr;
        c->outer_rels.insert(lrels.begin(), lrels.end());
      }
      if (in_side) {
        std::string tin = ColumnType(in_side, inner), tout = ColumnType(out_side, inner);
        if (!tin.empty() && !tout.empty() && tin != tout &&
            !(IsIntegerType(tin) && IsIntegerType(tout))) {
          *why = "the correlation `" + ExprSql(conj) + "` compares " + tin + " with " + tout +
                 ": grouping by one type's equality can split values the cross-type `=` treats as "
                 "equal, and "
                 "the join would then repeat outer rows";
          return CorrelationResult::kRefused;
        }
        std::string v = FindVolatile(conj, cat);
        if (!v.empty()) {
          *why = "volatile function " + v + " in the correlation `" + ExprSql(conj) + "`";
          return CorrelationResult::kRefused;
        }
        c->inner_keys.push_back(in_side);
        c->outer_keys.push_back(out_side);
        continue;
      }
    }
    *why = "correlation `" + ExprSql(conj) +
           "` is not an equality between a subquery expression and an outer expression; a derived "
           "table "
           "grouped on join keys cannot express it";
    return CorrelationResult::kRefused;
  }
  if (!has_outer) return CorrelationResult::kUncorrelated;
  return CorrelationResult::kCorrelated;
}

PgQuery__SelectStmt* BuildDerived(PassContext& ctx, PgQuery__SelectStmt* sub, const Correlation& c,
                                  Node* value, const std::vector<Node*>& extra_group,
                                  Node* having) {
  Tree& t = *ctx.tree;
  PgQuery__SelectStmt* d = t.EmptySelect();
  for (size_t i = 0; i < c.inner_keys.size(); ++i)
    t.Append(&d->n_target_list, &d->target_list,
             t.ResTarget(c.inner_keys[i], "pgv_k" + std::to_string(i + 1)));
  if (value) t.Append(&d->n_target_list, &d->target_list, t.ResTarget(value, "pgv_v"));
  d->n_from_clause = sub->n_from_clause;
  d->from_clause = sub->from_clause;
  d->where_clause = t.And(c.local_preds);
  for (Node* k : c.inner_keys) t.Append(&d->n_group_clause, &d->group_clause, t.Clone(k));
  for (Node* g : extra_group) t.Append(&d->n_group_clause, &d->group_clause, g);
  d->having_clause = having;
  return d;
}

Node* KeyJoinCondition(PassContext& ctx, const std::string& dname, const Correlation& c) {
  Tree& t = *ctx.tree;
  std::vector<Node*> eqs;
  for (size_t i = 0; i < c.outer_keys.size(); ++i)
    eqs.push_back(
        t.Op("=", t.ColumnRef({dname, "pgv_k" + std::to_string(i + 1)}), c.outer_keys[i]));
  return t.And(eqs);
}

namespace {

bool ItemNames(Node* it, std::vector<std::string>* names, std::string* why) {
  switch (it->node_case) {
    case PG_QUERY__NODE__NODE_RANGE_VAR: {
      auto* rv = it->range_var;
      names->push_back(rv->alias && rv->alias->aliasname && *rv->alias->aliasname
                           ? rv->alias->aliasname
                           : rv->relname);
      return true;
    }
    case PG_QUERY__NODE__NODE_RANGE_SUBSELECT:
      if (it->range_subselect->alias && it->range_subselect->alias->aliasname) {
        names->push_back(it->range_subselect->alias->aliasname);
        return true;
      }
      break;
    case PG_QUERY__NODE__NODE_RANGE_FUNCTION: {
      auto* rf = it->range_function;
      if (rf->alias && rf->alias->aliasname && *rf->alias->aliasname) {
        names->push_back(rf->alias->aliasname);
        return true;
      }
      break;
    }
    case PG_QUERY__NODE__NODE_JOIN_EXPR: {
      auto* j = it->join_expr;
      if (j->alias && j->alias->aliasname) {
        names->push_back(j->alias->aliasname);
        return true;
      }
      if (j->is_natural || j->n_using_clause) {
        *why =
            "SELECT * over a JOIN ... USING / NATURAL JOIN: its column list cannot be kept without "
            "the catalog";
        return false;
      }
      return ItemNames(j->larg, names, why) && ItemNames(j->rarg, names, why);
    }
    default:
      break;
  }
  *why = "SELECT * over a FROM item without a name: adding a join would change the output columns";
  return false;
}

}  // namespace

bool ExpandStar(PassContext& ctx, PgQuery__SelectStmt* s, std::string* why) {
  Tree& t = *ctx.tree;
  bool has = false;
  for (size_t i = 0; i < s->n_target_list; ++i) {
    Node* v = s->target_list[i]->node_case == PG_QUERY__NODE__NODE_RES_TARGET
                  ? s->target_list[i]->res_target->val
                  : nullptr;
    if (v && v->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && v->column_ref->n_fields == 1 &&
        v->column_ref->fields[0]->node_case == PG_QUERY__NODE__NODE_A_STAR)
      has = true;
  }
  if (!has) return true;
  std::vector<std::string> names;
  for (size_t i = 0; i < s->n_from_clause; ++i)
    if (!ItemNames(s->from_clause[i], &names, why)) return false;
  size_t n = 0;
  Node** items = nullptr;
  for (size_t i = 0; i < s->n_target_list; ++i) {
    Node* tn = s->target_list[i];
    Node* v = tn->node_case == PG_QUERY__NODE__NODE_RES_TARGET ? tn->res_target->val : nullptr;
    if (v && v->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && v->column_ref->n_fields == 1 &&
        v->column_ref->fields[0]->node_case == PG_QUERY__NODE__NODE_A_STAR) {
      for (const auto& nm : names) {
        PgQuery__AStar sinit = PG_QUERY__A__STAR__INIT;
        Node* star = t.Wrap(PG_QUERY__NODE__NODE_A_STAR, t.New(sinit));
        Node* cr = t.ColumnRef({nm});
        t.Append(&cr->column_ref->n_fields, &cr->column_ref->fields, star);
        t.Append(&n, &items, t.ResTarget(cr, ""));
      }
    } else {
      t.Append(&n, &items, tn);
    }
  }
  s->n_target_list = n;
  s->target_list = items;
  return true;
}

void AttachLeft(PassContext& ctx, PgQuery__SelectStmt* s, const Scope& scope,
                const std::set<int>& rels, Node* derived, Node* on) {
  Tree& t = *ctx.tree;
  std::set<int> items;
  for (int r : rels) items.insert(scope.rels[r].from_item);
  size_t idx = items.empty() ? 0 : static_cast<size_t>(*items.begin());
  if (items.size() > 1) {
    // The keys read several comma-separated FROM items: one CROSS JOIN chain
    // is the same relation, and the LEFT JOIN can then see all of them.
    Node* chain = s->from_clause[0];
    for (size_t i = 1; i < s->n_from_clause; ++i)
      chain = t.Join(PG_QUERY__JOIN_TYPE__JOIN_INNER, chain, s->from_clause[i], nullptr);
    s->n_from_clause = 1;
    s->from_clause[0] = chain;
    idx = 0;
  }
  s->from_clause[idx] = t.Join(PG_QUERY__JOIN_TYPE__JOIN_LEFT, s->from_clause[idx], derived, on);
}

namespace {

PgQuery__RangeVar* FindRangeVar(Node* item, const std::string& name) {
  if (!item) return nullptr;
  if (item->node_case == PG_QUERY__NODE__NODE_RANGE_VAR) {
    auto* rv = item->range_var;
    std::string exposed = rv->alias && rv->alias->aliasname && *rv->alias->aliasname
                              ? rv->alias->aliasname
                              : rv->relname;
    return exposed == name ? rv : nullptr;
  }
  if (item->node_case == PG_QUERY__NODE__NODE_JOIN_EXPR && !item->join_expr->alias) {
    if (auto* l = FindRangeVar(item->join_expr->larg, name)) return l;
    return FindRangeVar(item->join_expr->rarg, name);
  }
  return nullptr;
}

}  // namespace

std::string ReduceToOuterKeys(PassContext& ctx, PgQuery__SelectStmt* d, PgQuery__SelectStmt* s,
                              const Scope& scope, const Stack& outer, const Correlation& c,
                              Node* skip) {
  if (c.outer_rels.size() != 1) return "";
  const int r = *c.outer_rels.begin();
  const int L = static_cast<int>(outer.size()) - 1;
  const Relation& rel = scope.rels[r];
  if (!rel.base_table) return "";
  // A NULL-extended row of a nullable table reaches the join with its key
  // computed from NULLs: fine for a plain column (NULL matches no group),
  // not for an expression like COALESCE(p.id, 5).
  if (rel.nullable)
    for (Node* k : c.outer_keys)
      if (k->node_case != PG_QUERY__NODE__NODE_COLUMN_REF) return "";
  PgQuery__RangeVar* rv = nullptr;
  for (size_t i = 0; i < s->n_from_clause && !rv; ++i)
    rv = FindRangeVar(s->from_clause[i], rel.name);
  if (!rv) return "";
  std::vector<Node*> filters;
  for (Node* conj : Conjuncts(s->where_clause)) {
    if (conj == skip || !FindVolatile(conj, ctx.cat).empty()) continue;
    std::vector<Ref> refs;
    CollectRefs(conj, outer, ctx.cat, &refs);
    bool ok = !refs.empty();
    bool reads_rel = false;
    for (const auto& ref : refs) {
      if (ref.res.unknown)
        ok = false;
      else if (ref.res.level == L && ref.res.rel == r && ref.occurs_at == L)
        reads_rel = true;
      else if (!(ref.occurs_at > L && ref.res.level > L))
        ok = false;
    }
    if (ok && reads_rel) filters.push_back(conj);
  }
  if (filters.empty()) return "";
  Tree& t = *ctx.tree;
  PgQuery__SelectStmt* keys = t.EmptySelect();
  for (Node* k : c.outer_keys)
    t.Append(&keys->n_target_list, &keys->target_list, t.ResTarget(t.Clone(k), ""));
  PgQuery__Node rvn = PG_QUERY__NODE__INIT;
  rvn.node_case = PG_QUERY__NODE__NODE_RANGE_VAR;
  rvn.range_var = rv;
  t.Append(&keys->n_from_clause, &keys->from_clause, t.Clone(&rvn));
  std::vector<Node*> copies;
  for (Node* f : filters) copies.push_back(t.Clone(f));
  keys->where_clause = t.And(copies);
  Node* test;
  if (c.inner_keys.size() == 1) {
    test = t.Clone(c.inner_keys[0]);
  } else {
    PgQuery__RowExpr init = PG_QUERY__ROW_EXPR__INIT;
    auto* row = t.New(init);
    for (Node* k : c.inner_keys) t.Append(&row->n_args, &row->args, t.Clone(k));
    row->row_format = PG_QUERY__COERCION_FORM__COERCE_IMPLICIT_CAST;
    row->location = -1;
    test = t.Wrap(PG_QUERY__NODE__NODE_ROW_EXPR, row);
  }
  d->where_clause =
      t.And({d->where_clause, t.SubLink(PG_QUERY__SUB_LINK_TYPE__ANY_SUBLINK, keys, test)});
  return "; groups limited to keys of " + rel.name +
         " rows that pass the outer filters (a semi-join)";
}

bool IsGrouped(PgQuery__SelectStmt* s, const RewriteCatalog* cat) {
  return s->n_group_clause > 0 || s->having_clause || SelectHasAggregate(s, cat);
}

}  // namespace pgvise::rw
