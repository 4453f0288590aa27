// The value an aggregate subquery has over no rows, and what a predicate
// over it says then: the COUNT bug's two questions (Kiessling 1984). A
// decorrelating pass may join its grouped derived table with an INNER JOIN
// only when the predicate holding the subquery is false or NULL on that
// empty value (TruthOnEmpty == 0); otherwise it LEFT JOINs and puts the
// empty value back (COALESCE(..., 0) for COUNT, nothing for NULL-on-empty
// aggregates). Both answers are conservative: "cannot tell" (kOther, -1)
// makes the passes take the LEFT JOIN or refuse.
//
//   EmptyValueOf(count(*))          = kZero
//   EmptyValueOf(0.2 * avg(x))      = kNull   (strict arithmetic of a NULL)
//   EmptyValueOf(coalesce(sum(x),0)) = kOther
//   TruthOnEmpty(`v > 10`,  kZero)  = 0  -> INNER JOIN is safe
//   TruthOnEmpty(`v = 0`,   kZero)  = 1  -> LEFT JOIN + COALESCE
//   TruthOnEmpty(`v IS NULL`, kNull) = 1 -> LEFT JOIN
#include <cmath>
#include <cstdlib>

#include "rewriter/decorrelate.h"

namespace pgvise::rw {
namespace {

bool IsStrictArith(const std::string& op) {
  return op == "+" || op == "-" || op == "*" || op == "/" || op == "%" || op == "^" || op == "||";
}

const std::set<std::string>& StrictFunctions() {
  static const std::set<std::string> k = {
      "round",      "trunc",     "abs",     "ceil",    "ceiling", "floor", "sqrt",
      "cbrt",       "ln",        "log",     "log10",   "exp",     "power", "pow",
      "sign",       "div",       "mod",     "length",  "lower",   "upper", "to_char",
      "date_trunc", "date_part", "extract", "numeric", "int4",    "int8",  "float8"};
  return k;
}

}  // namespace

EmptyValue EmptyValueOf(const Node* e, const RewriteCatalog* cat) {
  if (!e) return EmptyValue::kOther;
  switch (e->node_case) {
    case PG_QUERY__NODE__NODE_FUNC_CALL: {
      auto* f = e->func_call;
      if (IsAggregateCall(f, cat)) {
        std::string n = FuncName(f);
        if (n == "count" || n == "regr_count") return EmptyValue::kZero;
        auto fn = ClassifyFunction(f, cat);
        // Only aggregates we know are NULL on no rows (no custom initcond).
        static const std::set<std::string> null_on_empty = {"sum",
                                                            "avg",
                                                            "min",
                                                            "max",
                                                            "bool_and",
                                                            "bool_or",
                                                            "every",
                                                            "string_agg",
                                                            "array_agg",
                                                            "json_agg",
                                                            "jsonb_agg",
                                                            "json_object_agg",
                                                            "jsonb_object_agg",
                                                            "stddev",
                                                            "stddev_pop",
                                                            "stddev_samp",
                                                            "variance",
                                                            "var_pop",
                                                            "var_samp",
                                                            "bit_and",
                                                            "bit_or",
                                                            "bit_xor",
                                                            "corr",
                                                            "covar_pop",
                                                            "covar_samp",
                                                            "percentile_cont",
                                                            "percentile_disc",
                                                            "mode",
                                                            "xmlagg",
                                                            "range_agg",
                                                            "any_value"};
        (void)fn;
        return null_on_empty.count(n) ? EmptyValue::kNull : EmptyValue::kOther;
      }
      if (StrictFunctions().count(FuncName(f)) && !f->over) {
        for (size_t i = 0; i < f->n_args; ++i)
          if (EmptyValueOf(f->args[i], cat) == EmptyValue::kNull) return EmptyValue::kNull;
      }
      return EmptyValue::kOther;
    }
    case PG_QUERY__NODE__NODE_A_EXPR: {
      auto* a = e->a_expr;
      if (a->kind == PG_QUERY__A__EXPR__KIND__AEXPR_OP && IsStrictArith(OpName(a))) {
        if ((a->lexpr && EmptyValueOf(a->lexpr, cat) == EmptyValue::kNull) ||
            (a->rexpr && EmptyValueOf(a->rexpr, cat) == EmptyValue::kNull))
          return EmptyValue::kNull;
      }
      return EmptyValue::kOther;
    }
    case PG_QUERY__NODE__NODE_TYPE_CAST:
      return EmptyValueOf(e->type_cast->arg, cat) == EmptyValue::kNull ? EmptyValue::kNull
                                                                       : EmptyValue::kOther;
    case PG_QUERY__NODE__NODE_A_CONST:
      return e->a_const->isnull ? EmptyValue::kNull : EmptyValue::kOther;
    default:
      return EmptyValue::kOther;
  }
}

namespace {

bool NumericConst(const Node* n, double* v) {
  if (!n || n->node_case != PG_QUERY__NODE__NODE_A_CONST || n->a_const->isnull) return false;
  if (n->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL) {
    *v = n->a_const->ival->ival;
    return true;
  }
  if (n->a_const->val_case == PG_QUERY__A__CONST__VAL_FVAL && n->a_const->fval->fval) {
    *v = std::strtod(n->a_const->fval->fval, nullptr);
    return true;
  }
  return false;
}

int Compare(const std::string& op, double a, double b) {
  if (op == "=") return a == b;
  if (op == "<>" || op == "!=") return a != b;
  if (op == "<") return a < b;
  if (op == ">") return a > b;
  if (op == "<=") return a <= b;
  if (op == ">=") return a >= b;
  return -1;
}

bool IsComparison(const std::string& op) {
  return op == "=" || op == "<>" || op == "!=" || op == "<" || op == ">" || op == "<=" ||
         op == ">=";
}

}  // namespace

int TruthOnEmpty(Node* conj, Node* const* slot, EmptyValue ev) {
  if (ev == EmptyValue::kOther || !conj) return -1;
  Node* v = *slot;
  if (conj == v) return ev == EmptyValue::kNull ? 0 : -1;
  if (conj->node_case == PG_QUERY__NODE__NODE_NULL_TEST && conj->null_test->arg == v) {
    bool is_null = conj->null_test->nulltesttype == PG_QUERY__NULL_TEST_TYPE__IS_NULL;
    bool value_null = ev == EmptyValue::kNull;
    return is_null == value_null ? 1 : 0;
  }
  if (conj->node_case != PG_QUERY__NODE__NODE_A_EXPR) return -1;
  auto* a = conj->a_expr;
  if (a->kind == PG_QUERY__A__EXPR__KIND__AEXPR_OP && a->n_name == 1 && IsComparison(OpName(a))) {
    std::string op = OpName(a);
    Node* other = nullptr;
    bool left = false;
    if (a->lexpr == v) {
      other = a->rexpr;
      left = true;
    } else if (a->rexpr == v) {
      other = a->lexpr;
    } else {
      return -1;
    }
    if (ev == EmptyValue::kNull) return 0;  // built-in comparisons are strict: NULL
    double c;
    if (!NumericConst(other, &c)) return -1;
    return left ? Compare(op, 0, c) : Compare(op, c, 0);
  }
  if ((a->kind == PG_QUERY__A__EXPR__KIND__AEXPR_BETWEEN ||
       a->kind == PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN) &&
      a->lexpr == v) {
    if (ev == EmptyValue::kNull) return 0;
    if (!a->rexpr || a->rexpr->node_case != PG_QUERY__NODE__NODE_LIST ||
        a->rexpr->list->n_items != 2)
      return -1;
    double lo, hi;
    if (!NumericConst(a->rexpr->list->items[0], &lo) ||
        !NumericConst(a->rexpr->list->items[1], &hi))
      return -1;
    bool in = lo <= 0 && 0 <= hi;
    return a->kind == PG_QUERY__A__EXPR__KIND__AEXPR_BETWEEN ? in : !in;
  }
  if (a->kind == PG_QUERY__A__EXPR__KIND__AEXPR_IN && a->lexpr == v) {
    if (ev == EmptyValue::kNull) return 0;
    if (!a->rexpr || a->rexpr->node_case != PG_QUERY__NODE__NODE_LIST) return -1;
    bool any = false;
    for (size_t i = 0; i < a->rexpr->list->n_items; ++i) {
      double x;
      if (!NumericConst(a->rexpr->list->items[i], &x)) return -1;
      if (x == 0) any = true;
    }
    bool in = OpName(a) == "=";
    return in ? any : !any;
  }
  return -1;
}

}  // namespace pgvise::rw
