// View matching, expressions: what a statement's expressions may contain
// for the matcher to prove a rewrite (types whose equality is identity,
// functions known to depend only on their arguments or only on the session,
// the aggregates that roll up), and the small naming helpers the other
// matcher files share. See matview_match.cc for the conditions.
#include <cctype>

#include "advisor/matview_match_internal.h"
#include "core/session.h"

namespace pgvise::mv::detail {

namespace {

// Functions whose value depends only on their arguments: may sit in the view.
const std::set<std::string>& ImmutableFunctions() {
  static const std::set<std::string> s = {"lower", "upper", "abs",     "round",  "trunc",
                                          "floor", "ceil",  "ceiling", "length", "substr",
                                          "btrim", "ltrim", "rtrim",   "nullif", "mod"};
  return s;
}
// Functions that may depend on the session or the clock: only where the
// rewrite evaluates them at query time (outputs, residual conjuncts).
const std::set<std::string>& StableFunctions() {
  static const std::set<std::string> s = {"now",     "date_trunc", "date_part",
                                          "to_char", "concat",     "make_date"};
  return s;
}

void InspectAggregate(PgQuery__FuncCall* f, ExprInfo* info);

}  // namespace

bool GroupableType(const std::string& t) {
  return t == "integer" || t == "bigint" || t == "smallint" || t == "text" ||
         t.rfind("character varying", 0) == 0 || t == "date" || t == "boolean" || t == "uuid" ||
         (t.rfind("timestamp", 0) == 0);
}
bool IsTimestampTz(const std::string& t) {
  return t.rfind("timestamp", 0) == 0 && t.find("with time zone") != std::string::npos &&
         t.find("without") == std::string::npos;
}
bool IsTimestampNoTz(const std::string& t) {
  return t.rfind("timestamp", 0) == 0 && t.find("without time zone") != std::string::npos;
}

const std::set<std::string>& HandledAggregates() {
  static const std::set<std::string> s = {"sum", "count", "min", "max", "avg"};
  return s;
}

namespace {

void InspectAggregate(PgQuery__FuncCall* f, ExprInfo* info) {
  const std::string name = rw::FuncName(f);
  if (f->agg_distinct || f->agg_filter || f->n_agg_order > 0 || f->agg_within_group ||
      f->func_variadic) {
    info->ok = false;
    info->why = name + "(DISTINCT / FILTER / ORDER BY ...) does not roll up";
    return;
  }
  if (f->agg_star ? name != "count" : f->n_args != 1) {
    info->ok = false;
    info->why = name + " with " + std::to_string(f->n_args) + " arguments";
    return;
  }
  info->has_agg = true;
  if (f->agg_star) return;
  ExprInfo arg;
  Inspect(f->args[0], false, &arg);
  if (!arg.ok) {
    *info = arg;
    return;
  }
  if (arg.stable) {
    info->ok = false;
    info->why = "an aggregate over a session-dependent value (a refresh would freeze it)";
  }
}

}  // namespace

void Inspect(Node* n, bool allow_agg, ExprInfo* info) {
  if (!n || !info->ok) return;
  rw::VisitSlots(&n, [&](Node** slot) -> bool {
    if (!info->ok) return false;
    Node* x = *slot;
    switch (x->node_case) {
      case PG_QUERY__NODE__NODE_COLUMN_REF:
        for (size_t i = 0; i < x->column_ref->n_fields; ++i)
          if (x->column_ref->fields[i]->node_case == PG_QUERY__NODE__NODE_A_STAR) {
            info->ok = false;
            info->why = "SELECT * (outputs must be named)";
          }
        info->columns.push_back(x);
        return false;
      case PG_QUERY__NODE__NODE_PARAM_REF:
        info->stable = true;
        return false;
      case PG_QUERY__NODE__NODE_SQLVALUE_FUNCTION:
        info->stable = true;
        return false;
      case PG_QUERY__NODE__NODE_A_CONST:
      case PG_QUERY__NODE__NODE_STRING:
      case PG_QUERY__NODE__NODE_INTEGER:
      case PG_QUERY__NODE__NODE_FLOAT:
      case PG_QUERY__NODE__NODE_LIST:
      case PG_QUERY__NODE__NODE_BOOL_EXPR:
      case PG_QUERY__NODE__NODE_NULL_TEST:
      case PG_QUERY__NODE__NODE_BOOLEAN_TEST:
      case PG_QUERY__NODE__NODE_COALESCE_EXPR:
      case PG_QUERY__NODE__NODE_MIN_MAX_EXPR:
      case PG_QUERY__NODE__NODE_CASE_EXPR:
      case PG_QUERY__NODE__NODE_CASE_WHEN:
        return true;
      case PG_QUERY__NODE__NODE_TYPE_CAST: {
        // A cast to a timestamptz reads the session's TimeZone.
        const auto* tn = x->type_cast->type_name;
        for (size_t i = 0; tn && i < tn->n_names; ++i)
          if (rw::StrVal(tn->names[i]) == "timestamptz") info->stable = true;
        return true;
      }
      case PG_QUERY__NODE__NODE_A_EXPR: {
        switch (x->a_expr->kind) {
          case PG_QUERY__A__EXPR__KIND__AEXPR_OP:
          case PG_QUERY__A__EXPR__KIND__AEXPR_IN:
          case PG_QUERY__A__EXPR__KIND__AEXPR_LIKE:
          case PG_QUERY__A__EXPR__KIND__AEXPR_ILIKE:
          case PG_QUERY__A__EXPR__KIND__AEXPR_BETWEEN:
          case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN:
          case PG_QUERY__A__EXPR__KIND__AEXPR_DISTINCT:
          case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_DISTINCT:
          case PG_QUERY__A__EXPR__KIND__AEXPR_NULLIF:
            return true;
          default:
            info->ok = false;
            info->why = "an operator form the matcher does not check (ANY/ALL, SIMILAR)";
            return false;
        }
      }
      case PG_QUERY__NODE__NODE_FUNC_CALL: {
        PgQuery__FuncCall* f = x->func_call;
        const std::string name = rw::FuncName(f);
        if (f->over) {
          info->ok = false;
          info->why = "a window function";
          return false;
        }
        if (HandledAggregates().count(name)) {
          if (!allow_agg) {
            info->ok = false;
            info->why = "an aggregate where none may be";
            return false;
          }
          InspectAggregate(f, info);
          return false;
        }
        if (ImmutableFunctions().count(name)) return true;
        if (StableFunctions().count(name)) {
          info->stable = true;
          return true;
        }
        info->ok = false;
        info->why = "function " + name + "() is not on the matcher's list";
        return false;
      }
      default:
        info->ok = false;
        info->why = "an expression node of kind " + std::to_string(static_cast<int>(x->node_case)) +
                    " (not matched)";
        return false;
    }
  });
}

// The name PostgreSQL gives an output column written without AS.
std::string FigureColname(const Node* n) {
  if (!n) return "?column?";
  switch (n->node_case) {
    case PG_QUERY__NODE__NODE_COLUMN_REF: {
      const auto* c = n->column_ref;
      return c->n_fields ? rw::StrVal(c->fields[c->n_fields - 1]) : "?column?";
    }
    case PG_QUERY__NODE__NODE_FUNC_CALL:
      return rw::FuncName(n->func_call);
    case PG_QUERY__NODE__NODE_TYPE_CAST: {
      std::string inner = FigureColname(n->type_cast->arg);
      if (inner != "?column?") return inner;
      const auto* tn = n->type_cast->type_name;
      return tn && tn->n_names ? rw::StrVal(tn->names[tn->n_names - 1]) : "?column?";
    }
    case PG_QUERY__NODE__NODE_COALESCE_EXPR:
      return "coalesce";
    case PG_QUERY__NODE__NODE_CASE_EXPR:
      return "case";
    default:
      return "?column?";
  }
}

void FlattenAnd(Node* n, std::vector<Node*>* out) {
  if (!n) return;
  if (n->node_case == PG_QUERY__NODE__NODE_BOOL_EXPR &&
      n->bool_expr->boolop == PG_QUERY__BOOL_EXPR_TYPE__AND_EXPR) {
    for (size_t i = 0; i < n->bool_expr->n_args; ++i) FlattenAnd(n->bool_expr->args[i], out);
    return;
  }
  out->push_back(n);
}

std::string ViewColumnName(const std::string& base, std::set<std::string>* taken) {
  std::string name = base.empty() ? "col" : base;
  for (auto& ch : name)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_') ch = '_';
  name = name.substr(0, 50);
  std::string out = name;
  for (int n = 2; taken->count(out); ++n) out = name + "_" + std::to_string(n);
  taken->insert(out);
  return out;
}

const ViewColumn* FindAgg(const ViewDefinition& def, const std::string& func,
                          const std::string& arg) {
  for (const auto& a : def.aggs)
    if (a.func == func && a.arg == arg) return &a;
  return nullptr;
}
const ViewColumn* FindKey(const ViewDefinition& def, const std::string& expr) {
  for (const auto& k : def.keys)
    if (k.expr == expr) return &k;
  return nullptr;
}

// Parses one expression into tree `t`'s arena.
Node* ParseExpr(rw::Tree& t, const std::string& sql) {
  std::unique_ptr<rw::Tree> tmp;
  if (!rw::Tree::Parse("SELECT " + sql, &tmp).ok()) return nullptr;
  auto* sel = tmp->root()->stmts[0]->stmt->select_stmt;
  return t.Clone(sel->target_list[0]->res_target->val);
}

}  // namespace pgvise::mv::detail
