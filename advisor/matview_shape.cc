// View matching, reading a statement: one SELECT becomes a Shape, its
// tables sorted by qualified name and renamed t1..tn, every column written
// tK.col, its WHERE / ON conjuncts split into join equivalence classes
// (column = column across tables) and other predicates (each marked: may it
// stay in a view, may it be applied to one), its grouping keys and its
// aggregates. Two statements that spell the same join with other aliases
// then compare equal as text. What the matcher refuses is refused here,
// with the reason (see matview_match.cc for the list and why).
#include <algorithm>
#include <functional>
#include <map>

#include "advisor/matview_match_internal.h"

namespace pgvise::mv::detail {

namespace {

// Collects the FROM items: plain tables and INNER joins of them.
bool CollectFrom(Node* n, std::vector<PgQuery__RangeVar*>* rels, std::vector<Node*>* quals,
                 std::string* why) {
  if (n->node_case == PG_QUERY__NODE__NODE_RANGE_VAR) {
    rels->push_back(n->range_var);
    return true;
  }
  if (n->node_case == PG_QUERY__NODE__NODE_JOIN_EXPR) {
    auto* j = n->join_expr;
    if (j->jointype != PG_QUERY__JOIN_TYPE__JOIN_INNER || j->is_natural || j->n_using_clause ||
        j->alias) {
      *why = "an outer, NATURAL or USING join";
      return false;
    }
    if (!CollectFrom(j->larg, rels, quals, why) || !CollectFrom(j->rarg, rels, quals, why))
      return false;
    FlattenAnd(j->quals, quals);
    return true;
  }
  *why = "a subquery or function in FROM";
  return false;
}

}  // namespace

bool Analyze(const Catalog& catalog, const std::string& sql, Shape* out, std::string* why,
             const std::vector<ViewTable>* align) {
  if (!rw::Tree::Parse(sql, &out->tree).ok()) {
    *why = "does not parse";
    return false;
  }
  auto* root = out->tree->root();
  if (root->n_stmts != 1 || root->stmts[0]->stmt->node_case != PG_QUERY__NODE__NODE_SELECT_STMT) {
    *why = "not a single SELECT";
    return false;
  }
  PgQuery__SelectStmt* s = root->stmts[0]->stmt->select_stmt;
  out->sel = s;
  if (s->op != PG_QUERY__SET_OPERATION__SETOP_NONE || s->with_clause || s->n_distinct_clause ||
      s->n_window_clause || s->n_values_lists || s->n_locking_clause || s->into_clause ||
      s->group_distinct) {
    *why = "a set operation, CTE, DISTINCT, window, VALUES or locking clause";
    return false;
  }
  // LIMIT / OFFSET stay in the rewrite (the tree is edited around them);
  // without ORDER BY which rows they keep is not defined, so statement and
  // rewrite could differ.
  if ((s->limit_count || s->limit_offset) && !s->n_sort_clause) {
    *why = "LIMIT or OFFSET without ORDER BY (which rows it returns is not defined)";
    return false;
  }
  // No subquery anywhere: its scope would need its own matching.
  bool sub = false;
  rw::VisitSlots(reinterpret_cast<ProtobufCMessage*>(s), [&](Node** slot) {
    auto c = (*slot)->node_case;
    if (c == PG_QUERY__NODE__NODE_SUB_LINK || c == PG_QUERY__NODE__NODE_RANGE_SUBSELECT ||
        c == PG_QUERY__NODE__NODE_RANGE_FUNCTION || c == PG_QUERY__NODE__NODE_GROUPING_SET ||
        c == PG_QUERY__NODE__NODE_GROUPING_FUNC)
      sub = true;
    return !sub;
  });
  if (sub) {
    *why = "a subquery, function in FROM or grouping set";
    return false;
  }

  // Tables.
  std::vector<PgQuery__RangeVar*> rels;
  std::vector<Node*> conjuncts;
  for (size_t i = 0; i < s->n_from_clause; ++i)
    if (!CollectFrom(s->from_clause[i], &rels, &conjuncts, why)) return false;
  if (rels.empty()) {
    *why = "no table";
    return false;
  }
  struct Rel {
    const TableInfo* t;
    std::string refname;
  };
  std::vector<Rel> found;
  for (auto* rv : rels) {
    if (rv->catalogname && *rv->catalogname) {
      *why = "a table named with its database";
      return false;
    }
    const TableInfo* t = rv->schemaname && *rv->schemaname
                             ? catalog.FindTable(rv->schemaname, rv->relname)
                             : catalog.FindTable(rv->relname);
    if (!t || (t->kind != 'r' && t->kind != 'p')) {
      *why = std::string("table ") + rv->relname + " not found in the catalog";
      return false;
    }
    if (!rv->inh) {
      *why = "ONLY";
      return false;
    }
    for (const auto& f : found)
      if (f.t == t) {
        *why = "reads " + t->QualifiedName() + " twice";
        return false;
      }
    found.push_back({t, rv->alias ? rv->alias->aliasname : rv->relname});
  }
  std::sort(found.begin(), found.end(),
            [](const Rel& a, const Rel& b) { return a.t->QualifiedName() < b.t->QualifiedName(); });
  for (size_t i = 0; i < found.size(); ++i) {
    std::string alias = "t" + std::to_string(i + 1);
    if (align) {  // the alias the view gives the same table
      alias.clear();
      for (const auto& vt : *align)
        if (vt.schema == found[i].t->schema && vt.name == found[i].t->name) alias = vt.alias;
      if (alias.empty()) {
        *why = "reads " + found[i].t->QualifiedName() + ", which the view does not";
        return false;
      }
    }
    out->tables.push_back({found[i].t->schema, found[i].t->name, alias});
    out->infos.push_back(found[i].t);
  }

  // Every column as tK.col.
  auto canon = [&](Node** root_slot) -> bool {
    bool ok = true;
    rw::VisitSlots(root_slot, [&](Node** slot) {
      if (!ok) return false;
      if ((*slot)->node_case != PG_QUERY__NODE__NODE_COLUMN_REF) return true;
      auto* c = (*slot)->column_ref;
      std::string table, col;
      if (c->n_fields == 1 && c->fields[0]->node_case == PG_QUERY__NODE__NODE_STRING) {
        col = rw::StrVal(c->fields[0]);
        int hits = 0;
        for (size_t i = 0; i < found.size(); ++i)
          if (found[i].t->Column(col)) ++hits, table = out->tables[i].alias;
        if (hits != 1) {
          *why = "column " + col + (hits ? " is ambiguous" : " is not a table column");
          ok = false;
          return false;
        }
      } else if (c->n_fields == 2 && c->fields[1]->node_case == PG_QUERY__NODE__NODE_STRING) {
        const std::string ref = rw::StrVal(c->fields[0]);
        col = rw::StrVal(c->fields[1]);
        for (size_t i = 0; i < found.size(); ++i)
          if (found[i].refname == ref && found[i].t->Column(col)) table = out->tables[i].alias;
        if (table.empty()) {
          *why = "column " + ref + "." + col + " not resolved";
          ok = false;
          return false;
        }
      } else {
        *why = "a column reference the matcher does not resolve (* or schema.table.column)";
        ok = false;
        return false;
      }
      *slot = out->tree->ColumnRef({table, col});
      return false;
    });
    return ok;
  };
  for (size_t i = 0; i < s->n_target_list; ++i) {
    auto* rt = s->target_list[i]->res_target;
    // protobuf-c leaves an absent name "" (not null): an output written
    // without AS gets the name PostgreSQL gives it, which the rewrite keeps.
    const bool named = rt->name && *rt->name;
    out->output_names.insert(named ? rt->name : FigureColname(rt->val));
    if (!named) rt->name = out->tree->arena().Strdup(FigureColname(rt->val));
    if (!canon(&rt->val)) return false;
  }
  FlattenAnd(s->where_clause, &conjuncts);
  for (auto*& c : conjuncts)
    if (!canon(&c)) return false;
  // HAVING: applied to the view's rows (same grouping) or to the rollup's
  // groups; its aggregates must be kept by the view like the outputs'.
  if (s->having_clause && !canon(&s->having_clause)) return false;
  for (size_t i = 0; i < s->n_group_clause; ++i) {
    Node*& g = s->group_clause[i];
    if (g->node_case == PG_QUERY__NODE__NODE_A_CONST &&
        g->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL) {
      const int k = g->a_const->ival->ival;
      if (k < 1 || static_cast<size_t>(k) > s->n_target_list) {
        *why = "GROUP BY position out of range";
        return false;
      }
      g = out->tree->Clone(s->target_list[k - 1]->res_target->val);
      continue;
    }
    if (!canon(&g)) return false;
  }
  for (size_t i = 0; i < s->n_sort_clause; ++i) {
    auto* sb = s->sort_clause[i]->sort_by;
    if (sb->n_use_op) {
      *why = "ORDER BY ... USING";
      return false;
    }
    Node* n = sb->node;
    const bool output_name = n->node_case == PG_QUERY__NODE__NODE_COLUMN_REF &&
                             n->column_ref->n_fields == 1 &&
                             out->output_names.count(rw::StrVal(n->column_ref->fields[0]));
    const bool ordinal = n->node_case == PG_QUERY__NODE__NODE_A_CONST;
    if (!output_name && !ordinal && !canon(&sb->node)) return false;
  }

  // Join classes and the other conjuncts.
  std::map<std::string, std::string> parent;
  std::function<std::string(const std::string&)> find = [&](const std::string& x) {
    auto it = parent.find(x);
    if (it == parent.end() || it->second == x) return x;
    return it->second = find(it->second);
  };
  for (Node* c : conjuncts) {
    ExprInfo info;
    Inspect(c, false, &info);
    if (!info.ok) {
      *why = "WHERE holds " + info.why;
      return false;
    }
    if (c->node_case == PG_QUERY__NODE__NODE_A_EXPR &&
        c->a_expr->kind == PG_QUERY__A__EXPR__KIND__AEXPR_OP && rw::OpName(c->a_expr) == "=" &&
        c->a_expr->lexpr->node_case == PG_QUERY__NODE__NODE_COLUMN_REF &&
        c->a_expr->rexpr->node_case == PG_QUERY__NODE__NODE_COLUMN_REF &&
        rw::StrVal(c->a_expr->lexpr->column_ref->fields[0]) !=
            rw::StrVal(c->a_expr->rexpr->column_ref->fields[0])) {
      const std::string l = Sql(c->a_expr->lexpr), r = Sql(c->a_expr->rexpr);
      parent.emplace(l, l);
      parent.emplace(r, r);
      parent[find(l)] = find(r);
      continue;
    }
    bool core_ok = !info.stable, pushable = true;
    for (Node* col : info.columns) {
      const ColumnInfo* ci = out->Column(col);
      if (!ci) return *why = "unresolved column", false;
      if (IsTimestampTz(ci->type)) core_ok = false;
      if (!GroupableType(ci->type)) pushable = false;
    }
    if (!core_ok && !pushable) {
      *why = "WHERE " + Sql(c) +
             " can neither be kept in a view (it depends on the session or a $n) nor be applied "
             "to one (its columns can't be grouping keys)";
      return false;
    }
    out->preds.push_back(c);
    out->pred_sql.push_back(Sql(c));
    out->core_ok.push_back(core_ok);
    out->pushable.push_back(pushable);
    out->pred_cols.push_back(info.columns);
  }
  std::map<std::string, std::vector<std::string>> classes;
  for (const auto& [x, p] : parent) classes[find(x)].push_back(x);
  for (auto& [root_name, members] : classes) {
    std::sort(members.begin(), members.end());
    out->classes.push_back(members);
  }
  std::sort(out->classes.begin(), out->classes.end());

  // A join that is not connected is a cross product: refused (a view over it
  // would be as large as the product).
  if (out->tables.size() > 1) {
    std::set<std::string> joined;
    for (const auto& cl : out->classes)
      for (const auto& m : cl) joined.insert(m.substr(0, m.find('.')));
    if (joined.size() != out->tables.size()) {
      *why = "a table that is not joined by a column equality";
      return false;
    }
  }

  // Grouping keys.
  for (size_t i = 0; i < s->n_group_clause; ++i) {
    Node* g = s->group_clause[i];
    const ColumnInfo* ci = nullptr;
    if (g->node_case == PG_QUERY__NODE__NODE_COLUMN_REF) {
      ci = out->Column(g);
      if (!ci || !GroupableType(ci->type)) {
        *why = "GROUP BY " + Sql(g) + ": its type's equality is not identity (" +
               (ci ? ci->type : "?") + ")";
        return false;
      }
    } else if (g->node_case == PG_QUERY__NODE__NODE_FUNC_CALL &&
               rw::FuncName(g->func_call) == "date_trunc" && g->func_call->n_args == 2 &&
               g->func_call->args[0]->node_case == PG_QUERY__NODE__NODE_A_CONST &&
               g->func_call->args[1]->node_case == PG_QUERY__NODE__NODE_COLUMN_REF) {
      ci = out->Column(g->func_call->args[1]);
      if (!ci || !IsTimestampNoTz(ci->type)) {
        *why = "GROUP BY date_trunc of a " + std::string(ci ? ci->type : "?") +
               " (only timestamp without time zone: the others depend on TimeZone)";
        return false;
      }
    } else {
      *why = "GROUP BY an expression (only columns and date_trunc of a timestamp)";
      return false;
    }
    out->keys.push_back(g);
    out->key_sql.push_back(Sql(g));
  }

  // Aggregates in the outputs and ORDER BY.
  auto collect_aggs = [&](Node* n) -> bool {
    ExprInfo info;
    Inspect(n, true, &info);
    if (!info.ok) {
      *why = info.why;
      return false;
    }
    rw::VisitSlots(&n, [&](Node** slot) {
      if ((*slot)->node_case != PG_QUERY__NODE__NODE_FUNC_CALL) return true;
      auto* f = (*slot)->func_call;
      const std::string name = rw::FuncName(f);
      if (!HandledAggregates().count(name)) return true;
      AggUse a{name, f->agg_star ? "" : Sql(f->args[0]), ""};
      if (!f->agg_star && f->args[0]->node_case == PG_QUERY__NODE__NODE_COLUMN_REF)
        a.arg_column = FigureColname(f->args[0]);
      out->aggs.push_back(a);
      return false;
    });
    return true;
  };
  for (size_t i = 0; i < s->n_target_list; ++i)
    if (!collect_aggs(s->target_list[i]->res_target->val)) return false;
  for (size_t i = 0; i < s->n_sort_clause; ++i)
    if (!collect_aggs(s->sort_clause[i]->sort_by->node)) return false;
  if (s->having_clause && !collect_aggs(s->having_clause)) return false;
  if (out->aggs.empty() && out->keys.empty()) {
    *why = "no aggregation (a view of a plain join is not proposed)";
    return false;
  }
  out->signature = "";
  for (const auto& t : out->tables) out->signature += t.schema + "." + t.name + ",";
  out->signature += "|";
  for (const auto& cl : out->classes) {
    for (const auto& m : cl) out->signature += m + "=";
    out->signature += ";";
  }
  return true;
}

}  // namespace pgvise::mv::detail
