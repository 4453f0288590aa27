#include "rewriter/scope.h"

#include <algorithm>
#include <cstring>

#include "analyzer/sql/query_facts.h"
#include "catalog/builtin_functions.h"

namespace pgvise::rw {

namespace {

bool CteVisible(const std::string& name, const Stack& stack, const Scope& self,
                std::vector<std::string>* cols) {
  auto look = [&](const Scope& sc) {
    auto it = sc.ctes.find(name);
    if (it == sc.ctes.end()) return false;
    *cols = it->second;
    return true;
  };
  if (look(self)) return true;
  for (auto it = stack.rbegin(); it != stack.rend(); ++it)
    if (look(**it)) return true;
  return false;
}

void AddFromItem(Node* item, int index, bool nullable, const Stack& stack,
                 const RewriteCatalog* cat, Scope* sc) {
  if (!item) return;
  switch (item->node_case) {
    case PG_QUERY__NODE__NODE_RANGE_VAR: {
      auto* rv = item->range_var;
      Relation r;
      r.table = rv->relname ? rv->relname : "";
      r.schema = rv->schemaname ? rv->schemaname : "";
      r.name = rv->alias && rv->alias->aliasname ? rv->alias->aliasname : r.table;
      r.nullable = nullable;
      r.from_item = index;
      std::vector<std::string> cte_cols;
      if (r.schema.empty() && CteVisible(r.table, stack, *sc, &cte_cols)) {
        bool known = std::find(cte_cols.begin(), cte_cols.end(), "") == cte_cols.end();
        r.columns_known = known;
        for (auto& c : cte_cols) r.columns[c] = false;
      } else {
        r.base_table = true;
        if (cat) {
          if (const auto* t = cat->FindTable(r.schema, r.table)) {
            r.columns_known = true;
            r.columns = t->not_null;
            r.types = t->types;
          }
        }
      }
      if (rv->alias && rv->alias->n_colnames) {
        // Column aliases rename the leading columns; keep NOT NULL by position unknown.
        r.columns_known = false;
      }
      sc->rels.push_back(r);
      break;
    }
    case PG_QUERY__NODE__NODE_RANGE_SUBSELECT: {
      auto* rs = item->range_subselect;
      Relation r;
      r.name = rs->alias && rs->alias->aliasname ? rs->alias->aliasname : "";
      r.nullable = nullable;
      r.from_item = index;
      std::vector<std::string> cols;
      if (rs->alias && rs->alias->n_colnames) {
        for (size_t i = 0; i < rs->alias->n_colnames; ++i)
          cols.push_back(StrVal(rs->alias->colnames[i]));
        r.columns_known = true;
      } else if (rs->subquery && rs->subquery->node_case == PG_QUERY__NODE__NODE_SELECT_STMT) {
        r.columns_known = OutputColumns(rs->subquery->select_stmt, &cols);
      }
      for (auto& c : cols) r.columns[c] = false;
      sc->rels.push_back(r);
      break;
    }
    case PG_QUERY__NODE__NODE_RANGE_FUNCTION: {
      auto* rf = item->range_function;
      Relation r;
      r.nullable = nullable;
      r.from_item = index;
      if (rf->alias && rf->alias->aliasname && *rf->alias->aliasname) {
        r.name = rf->alias->aliasname;
      } else if (rf->n_functions == 1 && rf->functions[0]->node_case == PG_QUERY__NODE__NODE_LIST &&
                 rf->functions[0]->list->n_items > 0) {
        Node* f = rf->functions[0]->list->items[0];
        if (f && f->node_case == PG_QUERY__NODE__NODE_FUNC_CALL) r.name = FuncName(f->func_call);
      }
      sc->rels.push_back(r);
      break;
    }
    case PG_QUERY__NODE__NODE_JOIN_EXPR: {
      auto* j = item->join_expr;
      if (j->alias && j->alias->aliasname) {
        // A join alias hides the names inside it.
        Relation r;
        r.name = j->alias->aliasname;
        r.nullable = nullable;
        r.from_item = index;
        sc->rels.push_back(r);
        break;
      }
      bool lnull = nullable || j->jointype == PG_QUERY__JOIN_TYPE__JOIN_RIGHT ||
                   j->jointype == PG_QUERY__JOIN_TYPE__JOIN_FULL;
      bool rnull = nullable || j->jointype == PG_QUERY__JOIN_TYPE__JOIN_LEFT ||
                   j->jointype == PG_QUERY__JOIN_TYPE__JOIN_FULL;
      AddFromItem(j->larg, index, lnull, stack, cat, sc);
      AddFromItem(j->rarg, index, rnull, stack, cat, sc);
      break;
    }
    default: {
      Relation r;  // TABLESAMPLE, XMLTABLE ...: a name we cannot see into
      r.nullable = nullable;
      r.from_item = index;
      if (item->node_case == PG_QUERY__NODE__NODE_RANGE_TABLE_SAMPLE &&
          item->range_table_sample->relation &&
          item->range_table_sample->relation->node_case == PG_QUERY__NODE__NODE_RANGE_VAR) {
        auto* rv = item->range_table_sample->relation->range_var;
        r.name = rv->alias && rv->alias->aliasname ? rv->alias->aliasname : rv->relname;
      }
      sc->rels.push_back(r);
      break;
    }
  }
}

}  // namespace

Scope BuildScope(PgQuery__SelectStmt* s, const Stack& outer, const RewriteCatalog* cat) {
  Scope sc;
  sc.select = s;
  if (s->with_clause) {
    for (size_t i = 0; i < s->with_clause->n_ctes; ++i) {
      Node* c = s->with_clause->ctes[i];
      if (c->node_case != PG_QUERY__NODE__NODE_COMMON_TABLE_EXPR) continue;
      auto* cte = c->common_table_expr;
      std::vector<std::string> cols;
      bool known = false;
      if (cte->n_aliascolnames) {
        for (size_t k = 0; k < cte->n_aliascolnames; ++k)
          cols.push_back(StrVal(cte->aliascolnames[k]));
        known = true;
      } else if (cte->ctequery && cte->ctequery->node_case == PG_QUERY__NODE__NODE_SELECT_STMT) {
        known = OutputColumns(cte->ctequery->select_stmt, &cols);
      }
      if (!known) cols = {""};
      sc.ctes[cte->ctename] = cols;
    }
  }
  for (size_t i = 0; i < s->n_from_clause; ++i)
    AddFromItem(s->from_clause[i], static_cast<int>(i), false, outer, cat, &sc);
  return sc;
}

Resolution Resolve(const PgQuery__ColumnRef* c, const Stack& stack) {
  Resolution res;
  std::vector<std::string> f;
  for (size_t i = 0; i < c->n_fields; ++i) {
    if (c->fields[i]->node_case == PG_QUERY__NODE__NODE_A_STAR)
      f.push_back("*");
    else
      f.push_back(StrVal(c->fields[i]));
  }
  if (f.empty()) {
    res.unknown = true;
    return res;
  }
  if (f.size() >= 2) {
    const std::string& rel = f[f.size() - 2];
    std::string schema = f.size() >= 3 ? f[f.size() - 3] : "";
    for (int lv = static_cast<int>(stack.size()) - 1; lv >= 0; --lv) {
      const auto& rels = stack[lv]->rels;
      for (size_t r = 0; r < rels.size(); ++r) {
        if (rels[r].name != rel) continue;
        if (!schema.empty() && rels[r].schema != schema) continue;
        res.level = lv;
        res.rel = static_cast<int>(r);
        return res;
      }
    }
    res.unknown = true;
    return res;
  }
  // Unqualified: the innermost level with a relation that has the column.
  const std::string& col = f[0];
  for (int lv = static_cast<int>(stack.size()) - 1; lv >= 0; --lv) {
    const auto& rels = stack[lv]->rels;
    bool uncertain = false;
    int found = -1;
    for (size_t r = 0; r < rels.size(); ++r) {
      if (!rels[r].columns_known) {
        uncertain = true;
        continue;
      }
      if (rels[r].columns.count(col)) found = static_cast<int>(r);
    }
    if (found >= 0 && !uncertain) {
      res.level = lv;
      res.rel = found;
      return res;
    }
    if (uncertain) {
      res.unknown = true;
      return res;
    }
    // A whole-row reference to a relation of this level (`row_to_json(u)`).
    for (size_t r = 0; r < rels.size(); ++r) {
      if (rels[r].name == col) {
        res.level = lv;
        res.rel = static_cast<int>(r);
        return res;
      }
    }
  }
  res.unknown = true;
  return res;
}

void CollectRefs(Node* n, const Stack& stack, const RewriteCatalog* cat, std::vector<Ref>* out) {
  if (!n) return;
  VisitSlots(&n, [&](Node** slot) {
    Node* x = *slot;
    if (x->node_case == PG_QUERY__NODE__NODE_COLUMN_REF) {
      Ref r;
      r.col = x->column_ref;
      r.occurs_at = static_cast<int>(stack.size()) - 1;
      r.res = Resolve(x->column_ref, stack);
      out->push_back(r);
      return false;
    }
    if (x->node_case == PG_QUERY__NODE__NODE_SELECT_STMT) {
      CollectRefsSelect(x->select_stmt, stack, cat, out);
      return false;
    }
    return true;
  });
}

void CollectFromRefs(PgQuery__SelectStmt* s, const Stack& outer, const Stack& inner,
                     const RewriteCatalog* cat, std::vector<Ref>* out) {
  std::function<void(Node*)> item = [&](Node* it) {
    if (!it) return;
    switch (it->node_case) {
      case PG_QUERY__NODE__NODE_RANGE_SUBSELECT: {
        auto* rs = it->range_subselect;
        if (rs->subquery && rs->subquery->node_case == PG_QUERY__NODE__NODE_SELECT_STMT)
          CollectRefsSelect(rs->subquery->select_stmt, rs->lateral ? inner : outer, cat, out);
        break;
      }
      case PG_QUERY__NODE__NODE_JOIN_EXPR:
        item(it->join_expr->larg);
        item(it->join_expr->rarg);
        CollectRefs(it->join_expr->quals, inner, cat, out);
        break;
      case PG_QUERY__NODE__NODE_RANGE_FUNCTION:
        for (size_t i = 0; i < it->range_function->n_functions; ++i)
          CollectRefs(it->range_function->functions[i], inner, cat, out);
        break;
      case PG_QUERY__NODE__NODE_RANGE_VAR:
        break;
      default:
        CollectRefs(it, inner, cat, out);
        break;
    }
  };
  for (size_t i = 0; i < s->n_from_clause; ++i) item(s->from_clause[i]);
}

void CollectRefsSelect(PgQuery__SelectStmt* s, const Stack& stack, const RewriteCatalog* cat,
                       std::vector<Ref>* out) {
  if (!s) return;
  if (s->op != PG_QUERY__SET_OPERATION__SETOP_NONE) {
    CollectRefsSelect(s->larg, stack, cat, out);
    CollectRefsSelect(s->rarg, stack, cat, out);
    return;
  }
  if (s->with_clause) {
    for (size_t i = 0; i < s->with_clause->n_ctes; ++i) {
      Node* c = s->with_clause->ctes[i];
      if (c->node_case == PG_QUERY__NODE__NODE_COMMON_TABLE_EXPR)
        CollectRefs(c->common_table_expr->ctequery, stack, cat, out);
    }
  }
  Scope sc = BuildScope(s, stack, cat);
  Stack inner = stack;
  inner.push_back(&sc);
  CollectFromRefs(s, stack, inner, cat, out);
  for (size_t i = 0; i < s->n_target_list; ++i) CollectRefs(s->target_list[i], inner, cat, out);
  CollectRefs(s->where_clause, inner, cat, out);
  for (size_t i = 0; i < s->n_group_clause; ++i) CollectRefs(s->group_clause[i], inner, cat, out);
  CollectRefs(s->having_clause, inner, cat, out);
  for (size_t i = 0; i < s->n_window_clause; ++i) CollectRefs(s->window_clause[i], inner, cat, out);
  for (size_t i = 0; i < s->n_distinct_clause; ++i)
    CollectRefs(s->distinct_clause[i], inner, cat, out);
  for (size_t i = 0; i < s->n_values_lists; ++i) CollectRefs(s->values_lists[i], inner, cat, out);
  // ORDER BY may name output columns; those resolve to nothing (unknown) and
  // the passes treat them as local, which they are.
  for (size_t i = 0; i < s->n_sort_clause; ++i) {
    std::vector<Ref> refs;
    CollectRefs(s->sort_clause[i], inner, cat, &refs);
    for (auto& r : refs) {
      if (r.res.unknown && r.col->n_fields == 1)
        r.res = Resolution{static_cast<int>(inner.size()) - 1, -1, false};
      out->push_back(r);
    }
  }
  CollectRefs(s->limit_count, inner, cat, out);
  CollectRefs(s->limit_offset, inner, cat, out);
}

namespace {

const std::set<std::string>& KnownSetReturning() {
  static const std::set<std::string> k = {"generate_series",
                                          "unnest",
                                          "jsonb_array_elements",
                                          "json_array_elements",
                                          "jsonb_array_elements_text",
                                          "json_array_elements_text",
                                          "jsonb_each",
                                          "json_each",
                                          "jsonb_each_text",
                                          "json_each_text",
                                          "jsonb_object_keys",
                                          "json_object_keys",
                                          "regexp_matches",
                                          "regexp_split_to_table",
                                          "string_to_table",
                                          "generate_subscripts",
                                          "jsonb_path_query",
                                          "json_populate_recordset",
                                          "jsonb_populate_recordset",
                                          "json_to_recordset",
                                          "jsonb_to_recordset",
                                          "pg_get_keywords",
                                          "ts_stat",
                                          "ts_parse",
                                          "ts_token_type"};
  return k;
}

}  // namespace

RewriteCatalog::Function ClassifyFunction(const PgQuery__FuncCall* f, const RewriteCatalog* cat) {
  std::string name = FuncName(f);
  RewriteCatalog::Function fn;
  if (cat) fn = cat->FindFunction(name);
  if (!fn.known) {
    fn.is_aggregate = IsBuiltinAggregate(name);
    fn.is_volatile = IsBuiltinVolatile(name);
    fn.returns_set = KnownSetReturning().count(name) > 0;
  }
  // Aggregate-only syntax marks an aggregate whatever its name.
  if (f->agg_star || f->agg_distinct || f->n_agg_order || f->agg_filter || f->agg_within_group)
    fn.is_aggregate = true;
  return fn;
}

bool IsAggregateCall(const PgQuery__FuncCall* f, const RewriteCatalog* cat) {
  return !f->over && ClassifyFunction(f, cat).is_aggregate;
}

namespace {

std::string FindFunc(Node* n, const RewriteCatalog* cat, bool want_volatile) {
  std::string found;
  if (!n) return found;
  VisitSlots(&n, [&](Node** slot) {
    if (!found.empty()) return false;
    Node* x = *slot;
    if (x->node_case == PG_QUERY__NODE__NODE_FUNC_CALL) {
      auto fn = ClassifyFunction(x->func_call, cat);
      if (want_volatile ? fn.is_volatile : fn.returns_set) found = FuncName(x->func_call) + "()";
    }
    return true;
  });
  return found;
}

}  // namespace

std::string FindVolatile(Node* n, const RewriteCatalog* cat) { return FindFunc(n, cat, true); }
std::string FindSetReturning(Node* n, const RewriteCatalog* cat) { return FindFunc(n, cat, false); }

bool HasAggregate(Node* n, const RewriteCatalog* cat) {
  bool found = false;
  if (!n) return false;
  VisitSlots(&n, [&](Node** slot) {
    Node* x = *slot;
    if (found || x->node_case == PG_QUERY__NODE__NODE_SELECT_STMT) return false;
    if (x->node_case == PG_QUERY__NODE__NODE_FUNC_CALL && IsAggregateCall(x->func_call, cat))
      found = true;
    return !found;
  });
  return found;
}

bool HasWindow(Node* n) {
  bool found = false;
  if (!n) return false;
  VisitSlots(&n, [&](Node** slot) {
    Node* x = *slot;
    if (found || x->node_case == PG_QUERY__NODE__NODE_SELECT_STMT) return false;
    if (x->node_case == PG_QUERY__NODE__NODE_FUNC_CALL && x->func_call->over) found = true;
    return !found;
  });
  return found;
}

bool HasSublink(Node* n) {
  bool found = false;
  if (!n) return false;
  VisitSlots(&n, [&](Node** slot) {
    if ((*slot)->node_case == PG_QUERY__NODE__NODE_SUB_LINK) found = true;
    return !found;
  });
  return found;
}

bool SelectHasAggregate(PgQuery__SelectStmt* s, const RewriteCatalog* cat) {
  for (size_t i = 0; i < s->n_target_list; ++i)
    if (HasAggregate(s->target_list[i], cat)) return true;
  return HasAggregate(s->having_clause, cat);
}

namespace {

void SitesIn(Node** slot, SiteClause clause, Node** conjunct, bool in_agg, int target,
             const RewriteCatalog* cat, std::vector<Site>* out) {
  if (!*slot) return;
  VisitSlots(slot, [&](Node** s) {
    Node* x = *s;
    if (x->node_case == PG_QUERY__NODE__NODE_SUB_LINK) {
      Site site;
      site.slot = s;
      site.clause = clause;
      site.conjunct = conjunct;
      site.in_aggregate = in_agg;
      site.target = target;
      out->push_back(site);
      // A SubLink's test expression belongs to this level too.
      if (x->sub_link->testexpr)
        SitesIn(&x->sub_link->testexpr, clause, nullptr, in_agg, target, cat, out);
      return false;
    }
    if (x->node_case == PG_QUERY__NODE__NODE_SELECT_STMT) return false;
    if (x->node_case == PG_QUERY__NODE__NODE_FUNC_CALL && !in_agg &&
        IsAggregateCall(x->func_call, cat)) {
      auto* f = x->func_call;
      for (size_t i = 0; i < f->n_args; ++i)
        SitesIn(&f->args[i], clause, nullptr, true, target, cat, out);
      if (f->agg_filter) SitesIn(&f->agg_filter, clause, nullptr, true, target, cat, out);
      return false;
    }
    return true;
  });
}

void ConjunctSites(Node** where, SiteClause clause, const RewriteCatalog* cat,
                   std::vector<Site>* out) {
  if (!*where) return;
  Node* w = *where;
  if (w->node_case == PG_QUERY__NODE__NODE_BOOL_EXPR &&
      w->bool_expr->boolop == PG_QUERY__BOOL_EXPR_TYPE__AND_EXPR) {
    for (size_t i = 0; i < w->bool_expr->n_args; ++i)
      ConjunctSites(&w->bool_expr->args[i], clause, cat, out);
    return;
  }
  SitesIn(where, clause, where, false, -1, cat, out);
}

void JoinSites(Node** item, const RewriteCatalog* cat, std::vector<Site>* out) {
  if (!*item || (*item)->node_case != PG_QUERY__NODE__NODE_JOIN_EXPR) return;
  auto* j = (*item)->join_expr;
  JoinSites(&j->larg, cat, out);
  JoinSites(&j->rarg, cat, out);
  SitesIn(&j->quals, SiteClause::kJoinOn, nullptr, false, -1, cat, out);
}

}  // namespace

std::vector<Site> CollectSites(PgQuery__SelectStmt* s, const RewriteCatalog* cat) {
  std::vector<Site> out;
  for (size_t i = 0; i < s->n_target_list; ++i) {
    Node* t = s->target_list[i];
    if (t->node_case == PG_QUERY__NODE__NODE_RES_TARGET)
      SitesIn(&t->res_target->val, SiteClause::kTarget, nullptr, false, static_cast<int>(i), cat,
              &out);
  }
  ConjunctSites(&s->where_clause, SiteClause::kWhere, cat, &out);
  ConjunctSites(&s->having_clause, SiteClause::kHaving, cat, &out);
  for (size_t i = 0; i < s->n_from_clause; ++i) JoinSites(&s->from_clause[i], cat, &out);
  for (size_t i = 0; i < s->n_group_clause; ++i)
    SitesIn(&s->group_clause[i], SiteClause::kOther, nullptr, false, -1, cat, &out);
  for (size_t i = 0; i < s->n_sort_clause; ++i)
    SitesIn(&s->sort_clause[i], SiteClause::kOther, nullptr, false, -1, cat, &out);
  return out;
}

void WalkSelects(PgQuery__SelectStmt* s, Stack* stack, const RewriteCatalog* cat,
                 const SelectFn& fn) {
  if (!s) return;
  if (s->op != PG_QUERY__SET_OPERATION__SETOP_NONE) {
    WalkSelects(s->larg, stack, cat, fn);
    WalkSelects(s->rarg, stack, cat, fn);
    return;
  }
  if (s->with_clause) {
    for (size_t i = 0; i < s->with_clause->n_ctes; ++i) {
      Node* c = s->with_clause->ctes[i];
      if (c->node_case == PG_QUERY__NODE__NODE_COMMON_TABLE_EXPR &&
          c->common_table_expr->ctequery &&
          c->common_table_expr->ctequery->node_case == PG_QUERY__NODE__NODE_SELECT_STMT)
        WalkSelects(c->common_table_expr->ctequery->select_stmt, stack, cat, fn);
    }
  }
  {
    Scope sc = BuildScope(s, *stack, cat);
    // Derived tables see the enclosing levels (and this one only when LATERAL).
    std::function<void(Node*)> from = [&](Node* it) {
      if (!it) return;
      if (it->node_case == PG_QUERY__NODE__NODE_RANGE_SUBSELECT) {
        auto* rs = it->range_subselect;
        if (rs->subquery && rs->subquery->node_case == PG_QUERY__NODE__NODE_SELECT_STMT) {
          if (rs->lateral) stack->push_back(&sc);
          WalkSelects(rs->subquery->select_stmt, stack, cat, fn);
          if (rs->lateral) stack->pop_back();
        }
      } else if (it->node_case == PG_QUERY__NODE__NODE_JOIN_EXPR) {
        from(it->join_expr->larg);
        from(it->join_expr->rarg);
      }
    };
    for (size_t i = 0; i < s->n_from_clause; ++i) from(s->from_clause[i]);
    stack->push_back(&sc);
    auto nested = [&](Node** slot) {
      if ((*slot)->node_case == PG_QUERY__NODE__NODE_SELECT_STMT) {
        WalkSelects((*slot)->select_stmt, stack, cat, fn);
        return false;
      }
      if ((*slot)->node_case == PG_QUERY__NODE__NODE_RANGE_SUBSELECT) return false;  // done above
      return true;
    };
    std::vector<Node**> parts;
    for (size_t i = 0; i < s->n_target_list; ++i) parts.push_back(&s->target_list[i]);
    parts.push_back(&s->where_clause);
    parts.push_back(&s->having_clause);
    for (size_t i = 0; i < s->n_from_clause; ++i) parts.push_back(&s->from_clause[i]);
    for (size_t i = 0; i < s->n_group_clause; ++i) parts.push_back(&s->group_clause[i]);
    for (size_t i = 0; i < s->n_sort_clause; ++i) parts.push_back(&s->sort_clause[i]);
    for (Node** p : parts) VisitSlots(p, nested);
    stack->pop_back();
  }
  fn(s, *stack);
}

}  // namespace pgvise::rw
