// Output-column names and statement text helpers for the rewrite passes:
// FigureColname (PostgreSQL's rule for naming an unnamed select-list item,
// so a rewrite keeps the column names the original returned), Shorten,
// Conjuncts (a WHERE split at its top-level ANDs) and UsedNames (every
// identifier a statement already uses, so new aliases never collide).
// Moved out of scope.cc, which holds name resolution and subquery sites.

#include <algorithm>
#include <cstring>

#include "analyzer/sql/query_facts.h"
#include "rewriter/scope.h"

namespace pgvise::rw {

// Columns a SELECT outputs, when every name is known.
bool OutputColumns(PgQuery__SelectStmt* s, std::vector<std::string>* out) {
  while (s && s->op != PG_QUERY__SET_OPERATION__SETOP_NONE && s->larg) s = s->larg;
  if (!s || s->n_values_lists > 0) return false;
  for (size_t i = 0; i < s->n_target_list; ++i) {
    Node* t = s->target_list[i];
    if (t->node_case != PG_QUERY__NODE__NODE_RES_TARGET) return false;
    auto* rt = t->res_target;
    if (rt->name && *rt->name) {
      out->push_back(rt->name);
      continue;
    }
    if (rt->val && rt->val->node_case == PG_QUERY__NODE__NODE_COLUMN_REF) {
      auto* c = rt->val->column_ref;
      if (c->n_fields && c->fields[c->n_fields - 1]->node_case == PG_QUERY__NODE__NODE_A_STAR)
        return false;
    }
    out->push_back(FigureColname(rt->val));
  }
  return true;
}

namespace {

// PostgreSQL's FigureColnameInternal: returns the strength of the guess
// (0 none, 1 weak, 2 strong) like the original.
int FigureColnameInternal(const Node* n, std::string* name) {
  if (!n) return 0;
  switch (n->node_case) {
    case PG_QUERY__NODE__NODE_COLUMN_REF: {
      auto* c = n->column_ref;
      for (size_t i = c->n_fields; i > 0; --i) {
        Node* f = c->fields[i - 1];
        if (f->node_case == PG_QUERY__NODE__NODE_STRING) {
          *name = StrVal(f);
          return 2;
        }
      }
      return 0;
    }
    case PG_QUERY__NODE__NODE_A_INDIRECTION: {
      auto* ind = n->a_indirection;
      for (size_t i = ind->n_indirection; i > 0; --i) {
        Node* f = ind->indirection[i - 1];
        if (f->node_case == PG_QUERY__NODE__NODE_STRING) {
          *name = StrVal(f);
          return 2;
        }
      }
      return FigureColnameInternal(ind->arg, name);
    }
    case PG_QUERY__NODE__NODE_FUNC_CALL:
      *name = FuncName(n->func_call);
      return 2;
    case PG_QUERY__NODE__NODE_A_EXPR:
      if (n->a_expr->kind == PG_QUERY__A__EXPR__KIND__AEXPR_NULLIF) {
        *name = "nullif";
        return 2;
      }
      return 0;
    case PG_QUERY__NODE__NODE_TYPE_CAST: {
      int strength = FigureColnameInternal(n->type_cast->arg, name);
      if (strength <= 1 && n->type_cast->type_name && n->type_cast->type_name->n_names) {
        auto* tn = n->type_cast->type_name;
        *name = StrVal(tn->names[tn->n_names - 1]);
        return 1;
      }
      return strength;
    }
    case PG_QUERY__NODE__NODE_COLLATE_CLAUSE:
      return FigureColnameInternal(n->collate_clause->arg, name);
    case PG_QUERY__NODE__NODE_GROUPING_FUNC:
      *name = "grouping";
      return 2;
    case PG_QUERY__NODE__NODE_SUB_LINK: {
      auto* sl = n->sub_link;
      if (sl->sub_link_type == PG_QUERY__SUB_LINK_TYPE__EXISTS_SUBLINK) {
        *name = "exists";
        return 2;
      }
      if (sl->sub_link_type == PG_QUERY__SUB_LINK_TYPE__ARRAY_SUBLINK) {
        *name = "array";
        return 2;
      }
      if (sl->sub_link_type == PG_QUERY__SUB_LINK_TYPE__EXPR_SUBLINK && sl->subselect &&
          sl->subselect->node_case == PG_QUERY__NODE__NODE_SELECT_STMT) {
        // The subquery's single output column name (parse analysis always names it).
        std::vector<std::string> cols;
        if (OutputColumns(sl->subselect->select_stmt, &cols) && cols.size() == 1) {
          *name = cols[0];
          return 2;
        }
      }
      return 0;
    }
    case PG_QUERY__NODE__NODE_CASE_EXPR:
      *name = "case";
      return 1;
    case PG_QUERY__NODE__NODE_A_ARRAY_EXPR:
      *name = "array";
      return 2;
    case PG_QUERY__NODE__NODE_ROW_EXPR:
      *name = "row";
      return 2;
    case PG_QUERY__NODE__NODE_COALESCE_EXPR:
      *name = "coalesce";
      return 2;
    case PG_QUERY__NODE__NODE_MIN_MAX_EXPR:
      *name = n->min_max_expr->op == PG_QUERY__MIN_MAX_OP__IS_GREATEST ? "greatest" : "least";
      return 2;
    default:
      return 0;
  }
}

}  // namespace

std::string FigureColname(const Node* n) {
  std::string name;
  if (FigureColnameInternal(n, &name) > 0 && !name.empty()) return name;
  return "?column?";
}

std::string Shorten(const std::string& sql, size_t max) {
  if (sql.size() <= max) return sql;
  return sql.substr(0, max - 3) + "...";
}

std::vector<Node*> Conjuncts(Node* where) {
  std::vector<Node*> out;
  if (!where) return out;
  if (where->node_case == PG_QUERY__NODE__NODE_BOOL_EXPR &&
      where->bool_expr->boolop == PG_QUERY__BOOL_EXPR_TYPE__AND_EXPR) {
    for (size_t i = 0; i < where->bool_expr->n_args; ++i) {
      auto sub = Conjuncts(where->bool_expr->args[i]);
      out.insert(out.end(), sub.begin(), sub.end());
    }
    return out;
  }
  out.push_back(where);
  return out;
}

std::set<std::string> UsedNames(ProtobufCMessage* root) {
  std::set<std::string> names;
  VisitSlots(root, [&](Node** slot) {
    Node* x = *slot;
    switch (x->node_case) {
      case PG_QUERY__NODE__NODE_RANGE_VAR:
        if (x->range_var->relname) names.insert(x->range_var->relname);
        if (x->range_var->alias && x->range_var->alias->aliasname)
          names.insert(x->range_var->alias->aliasname);
        break;
      case PG_QUERY__NODE__NODE_RANGE_SUBSELECT:
        if (x->range_subselect->alias && x->range_subselect->alias->aliasname)
          names.insert(x->range_subselect->alias->aliasname);
        break;
      case PG_QUERY__NODE__NODE_COMMON_TABLE_EXPR:
        if (x->common_table_expr->ctename) names.insert(x->common_table_expr->ctename);
        break;
      case PG_QUERY__NODE__NODE_COLUMN_REF:
        for (size_t i = 0; i < x->column_ref->n_fields; ++i)
          names.insert(StrVal(x->column_ref->fields[i]));
        break;
      default:
        break;
    }
    return true;
  });
  return names;
}

}  // namespace pgvise::rw
