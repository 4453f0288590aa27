// Expression text for QueryFacts: a small deparser from libpg_query's JSON
// expression nodes back to SQL, for the texts facts carry (index expressions,
// constants, defaults, sort keys).
//
// Why not libpg_query's deparser: it works from the protobuf tree, which costs
// ~5x the JSON parse (references.md), and facts need only expressions. The
// output must be valid SQL that means the same thing, not byte-identical to the
// input; binary operators are parenthesised so precedence never changes:
//   lower(u.email)                  -> lower(email)        (qualifier stripped)
//   payload->>'k'                   -> (payload ->> 'k')
//   EXTRACT(YEAR FROM created_at)   -> EXTRACT(year FROM created_at)
//   created_at::date                -> created_at::date
//   date_trunc('day', created_at)   -> date_trunc('day', created_at)
// A node it does not know makes Deparse return false: callers then leave the
// text empty rather than emit something wrong.
#include <algorithm>
#include <cctype>
#include <cstring>

#include "analyzer/sql/query_facts_internal.h"
#include "catalog/builtin_functions.h"

namespace pgvise::facts {

namespace {

bool IsReserved(std::string_view w) {
  // Sorted: binary search.
  static const std::string_view kWords[] = {"all",          "analyse",
                                            "analyze",      "and",
                                            "any",          "array",
                                            "as",           "asc",
                                            "asymmetric",   "both",
                                            "case",         "cast",
                                            "check",        "collate",
                                            "column",       "constraint",
                                            "create",       "current_catalog",
                                            "current_date", "current_role",
                                            "current_time", "current_timestamp",
                                            "current_user", "default",
                                            "deferrable",   "desc",
                                            "distinct",     "do",
                                            "else",         "end",
                                            "except",       "false",
                                            "fetch",        "for",
                                            "foreign",      "from",
                                            "grant",        "group",
                                            "having",       "in",
                                            "initially",    "intersect",
                                            "into",         "lateral",
                                            "leading",      "limit",
                                            "localtime",    "localtimestamp",
                                            "not",          "null",
                                            "offset",       "on",
                                            "only",         "or",
                                            "order",        "placing",
                                            "primary",      "references",
                                            "returning",    "select",
                                            "session_user", "some",
                                            "symmetric",    "table",
                                            "then",         "to",
                                            "trailing",     "true",
                                            "union",        "unique",
                                            "user",         "using",
                                            "variadic",     "when",
                                            "where",        "window",
                                            "with"};
  return std::binary_search(std::begin(kWords), std::end(kWords), w);
}

void AppendLiteral(std::string_view s, std::string* out) {
  out->push_back('\'');
  for (char c : s) {
    if (c == '\'') out->push_back('\'');
    out->push_back(c);
  }
  out->push_back('\'');
}

bool DeparseList(dom::array a, bool strip, std::string* out) {
  bool first = true;
  for (dom::element e : a) {
    if (!first) out->append(", ");
    first = false;
    if (!Deparse(e, strip, out)) return false;
  }
  return true;
}

bool ConstBody(dom::object c, std::string* out) {
  if (Bool(c, "isnull")) {
    out->append("NULL");
    return true;
  }
  dom::object v;
  if (Obj(c, "ival", &v)) {
    out->append(std::to_string(Int(v, "ival", 0)));
  } else if (Obj(c, "fval", &v)) {
    out->append(Str(v, "fval"));
  } else if (Obj(c, "sval", &v)) {
    AppendLiteral(Str(v, "sval"), out);
  } else if (Obj(c, "boolval", &v)) {
    out->append(Bool(v, "boolval") ? "true" : "false");
  } else if (Obj(c, "bsval", &v)) {
    out->append(Str(v, "bsval"));  // b'0101' / x'1f' as written by the scanner
  } else {
    return false;
  }
  return true;
}

const char* SqlValueFunctionText(std::string_view op) {
  if (op == "SVFOP_CURRENT_DATE") return "CURRENT_DATE";
  if (op == "SVFOP_CURRENT_TIME" || op == "SVFOP_CURRENT_TIME_N") return "CURRENT_TIME";
  if (op == "SVFOP_CURRENT_TIMESTAMP" || op == "SVFOP_CURRENT_TIMESTAMP_N")
    return "CURRENT_TIMESTAMP";
  if (op == "SVFOP_LOCALTIME" || op == "SVFOP_LOCALTIME_N") return "LOCALTIME";
  if (op == "SVFOP_LOCALTIMESTAMP" || op == "SVFOP_LOCALTIMESTAMP_N") return "LOCALTIMESTAMP";
  if (op == "SVFOP_CURRENT_ROLE") return "CURRENT_ROLE";
  if (op == "SVFOP_CURRENT_USER") return "CURRENT_USER";
  if (op == "SVFOP_USER") return "USER";
  if (op == "SVFOP_SESSION_USER") return "SESSION_USER";
  if (op == "SVFOP_CURRENT_CATALOG") return "CURRENT_CATALOG";
  if (op == "SVFOP_CURRENT_SCHEMA") return "CURRENT_SCHEMA";
  return nullptr;
}

bool DeparseFunc(dom::object f, bool strip, std::string* out) {
  dom::object over;
  if (Obj(f, "over", &over)) return false;  // window calls never go into index expressions
  std::string name = QualifiedName(f, "funcname");
  dom::array args;
  bool has_args = Arr(f, "args", &args);
  if (Str(f, "funcformat") == "COERCE_SQL_SYNTAX") {
    if (name == "extract" && has_args) {
      // EXTRACT(field FROM source): the field is a string constant in the tree.
      auto it = args.begin();
      Node field = Unwrap(*it);
      dom::object sv;
      if (!field.ok || field.type != "A_Const" || !Obj(field.body, "sval", &sv)) return false;
      out->append("EXTRACT(").append(Str(sv, "sval")).append(" FROM ");
      ++it;
      if (it == args.end() || !Deparse(*it, strip, out)) return false;
      out->push_back(')');
      return true;
    }
    if (name == "timezone" && has_args && args.size() == 2) {
      // `ts AT TIME ZONE 'UTC'` is timezone('UTC', ts) in the tree; written
      // back as the user wrote it, so an index expression reads like the
      // query's (the planner matches either: same function).
      auto it = args.begin();
      dom::element zone = *it;
      ++it;
      if (!Deparse(*it, strip, out)) return false;
      out->append(" AT TIME ZONE ");
      return Deparse(zone, strip, out);
    }
    // Other SQL-syntax functions (position, substring, overlay) are ordinary
    // catalog functions under their own names.
    out->append("pg_catalog.\"").append(name).append("\"(");
  } else {
    out->append(name).push_back('(');
  }
  if (Bool(f, "agg_star")) out->push_back('*');
  if (Bool(f, "agg_distinct")) out->append("DISTINCT ");
  if (Bool(f, "func_variadic")) out->append("VARIADIC ");
  if (has_args && !DeparseList(args, strip, out)) return false;
  out->push_back(')');
  return true;
}

bool DeparseAExpr(dom::object a, bool strip, std::string* out) {
  std::string_view kind = Str(a, "kind");
  std::string op(LastName(a, "name"));
  dom::element l, r;
  bool has_l = Field(a, "lexpr", &l), has_r = Field(a, "rexpr", &r);
  if (kind == "AEXPR_OP" || kind == "AEXPR_LIKE" || kind == "AEXPR_ILIKE") {
    if (kind == "AEXPR_LIKE") op = op == "~~" ? "LIKE" : "NOT LIKE";
    if (kind == "AEXPR_ILIKE") op = op == "~~*" ? "ILIKE" : "NOT ILIKE";
    out->push_back('(');
    if (has_l) {
      if (!Deparse(l, strip, out)) return false;
      out->push_back(' ');
    }
    out->append(op).push_back(' ');
    if (!has_r || !Deparse(r, strip, out)) return false;
    out->push_back(')');
    return true;
  }
  if (kind == "AEXPR_NULLIF" && has_l && has_r) {
    out->append("NULLIF(");
    if (!Deparse(l, strip, out)) return false;
    out->append(", ");
    if (!Deparse(r, strip, out)) return false;
    out->push_back(')');
    return true;
  }
  if ((kind == "AEXPR_DISTINCT" || kind == "AEXPR_NOT_DISTINCT") && has_l && has_r) {
    out->push_back('(');
    if (!Deparse(l, strip, out)) return false;
    out->append(kind == "AEXPR_DISTINCT" ? " IS DISTINCT FROM " : " IS NOT DISTINCT FROM ");
    if (!Deparse(r, strip, out)) return false;
    out->push_back(')');
    return true;
  }
  return false;
}

bool DeparseCase(dom::object c, bool strip, std::string* out) {
  out->append("CASE");
  dom::element arg;
  if (Field(c, "arg", &arg)) {
    out->push_back(' ');
    if (!Deparse(arg, strip, out)) return false;
  }
  dom::array whens;
  if (!Arr(c, "args", &whens)) return false;
  for (dom::element w : whens) {
    Node n = Unwrap(w);
    dom::element cond, result;
    if (!n.ok || !Field(n.body, "expr", &cond) || !Field(n.body, "result", &result)) return false;
    out->append(" WHEN ");
    if (!Deparse(cond, strip, out)) return false;
    out->append(" THEN ");
    if (!Deparse(result, strip, out)) return false;
  }
  dom::element def;
  if (Field(c, "defresult", &def)) {
    out->append(" ELSE ");
    if (!Deparse(def, strip, out)) return false;
  }
  out->append(" END");
  return true;
}

}  // namespace

std::string Ident(std::string_view name) {
  bool plain = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0]));
  for (char c : name)
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '_' || (c & 0x80)))
      plain = false;
  if (plain && !IsReserved(name)) return std::string(name);
  std::string q = "\"";
  for (char c : name) {
    if (c == '"') q.push_back('"');
    q.push_back(c);
  }
  q.push_back('"');
  return q;
}

std::string_view LastName(dom::object o, std::string_view key) {
  std::string_view last;
  Each(o, key, [&](dom::element e) {
    std::string_view s = StringNode(e);
    if (!s.empty()) last = s;
  });
  return last;
}

std::string QualifiedName(dom::object o, std::string_view key) {
  std::string name;
  Each(o, key, [&](dom::element e) {
    std::string_view s = StringNode(e);
    if (s.empty() || s == "pg_catalog") return;
    if (!name.empty()) name.push_back('.');
    name.append(Ident(s));
  });
  return name;
}

std::string TypeNameText(dom::object t) {
  std::string name = QualifiedName(t, "names");
  // The grammar maps SQL spellings to catalog names (int8, int4, bool...);
  // give the common ones back their usual SQL names for messages.
  static const std::pair<const char*, const char*> kNames[] = {{"int8", "bigint"},
                                                               {"int4", "integer"},
                                                               {"int2", "smallint"},
                                                               {"bool", "boolean"},
                                                               {"float8", "double precision"},
                                                               {"float4", "real"},
                                                               {"bpchar", "char"},
                                                               {"timestamptz", "timestamptz"}};
  for (const auto& [from, to] : kNames)
    if (name == from) name = to;
  dom::array mods;
  if (Arr(t, "typmods", &mods)) {
    name.push_back('(');
    bool first = true;
    for (dom::element m : mods) {
      if (!first) name.append(", ");
      first = false;
      Node n = Unwrap(m);
      if (n.ok && n.type == "A_Const") ConstBody(n.body, &name);
    }
    name.push_back(')');
  }
  if (Arr(t, "arrayBounds", &mods)) name.append("[]");
  return name;
}

bool Deparse(dom::element e, bool strip, std::string* out) {
  Node n = Unwrap(e);
  if (!n.ok) return false;
  const std::string_view t = n.type;
  if (t == "ColumnRef") {
    dom::array fields;
    if (!Arr(n.body, "fields", &fields)) return false;
    size_t count = fields.size(), i = 0;
    bool first = true;
    for (dom::element f : fields) {
      ++i;
      Node fn = Unwrap(f);
      if (!fn.ok) return false;
      if (fn.type == "A_Star") {
        if (!first) out->push_back('.');
        out->push_back('*');
        first = false;
        continue;
      }
      if (strip && i < count) continue;  // qualifier: index expressions name bare columns
      if (!first) out->push_back('.');
      out->append(Ident(Str(fn.body, "sval")));
      first = false;
    }
    return true;
  }
  if (t == "A_Const") return ConstBody(n.body, out);
  if (t == "ParamRef") {
    out->push_back('$');
    out->append(std::to_string(Int(n.body, "number", 0)));
    return true;
  }
  if (t == "TypeCast") {
    dom::element arg;
    dom::object tn;
    if (!Field(n.body, "arg", &arg) || !Obj(n.body, "typeName", &tn)) return false;
    Node an = Unwrap(arg);
    // `x AT TIME ZONE z` is a FuncCall written as an operator: `::` would
    // bind to z without the parentheses.
    bool simple =
        an.ok && (an.type == "ColumnRef" || an.type == "A_Const" || an.type == "ParamRef" ||
                  (an.type == "FuncCall" && Str(an.body, "funcformat") != "COERCE_SQL_SYNTAX"));
    if (!simple) out->push_back('(');
    if (!Deparse(arg, strip, out)) return false;
    if (!simple) out->push_back(')');
    out->append("::").append(TypeNameText(tn));
    return true;
  }
  if (t == "FuncCall") return DeparseFunc(n.body, strip, out);
  if (t == "A_Expr") return DeparseAExpr(n.body, strip, out);
  if (t == "SQLValueFunction") {
    const char* s = SqlValueFunctionText(Str(n.body, "op"));
    if (!s) return false;
    out->append(s);
    return true;
  }
  if (t == "BoolExpr") {
    std::string_view op = Str(n.body, "boolop");
    dom::array args;
    if (!Arr(n.body, "args", &args)) return false;
    out->push_back('(');
    if (op == "NOT_EXPR") {
      out->append("NOT ");
      if (!DeparseList(args, strip, out)) return false;
    } else {
      bool first = true;
      for (dom::element a : args) {
        if (!first) out->append(op == "AND_EXPR" ? " AND " : " OR ");
        first = false;
        if (!Deparse(a, strip, out)) return false;
      }
    }
    out->push_back(')');
    return true;
  }
  if (t == "NullTest") {
    dom::element arg;
    if (!Field(n.body, "arg", &arg)) return false;
    out->push_back('(');
    if (!Deparse(arg, strip, out)) return false;
    out->append(Str(n.body, "nulltesttype") == "IS_NULL" ? " IS NULL)" : " IS NOT NULL)");
    return true;
  }
  if (t == "CoalesceExpr" || t == "MinMaxExpr") {
    dom::array args;
    if (!Arr(n.body, "args", &args)) return false;
    if (t == "CoalesceExpr")
      out->append("COALESCE(");
    else
      out->append(Str(n.body, "op") == "IS_GREATEST" ? "GREATEST(" : "LEAST(");
    if (!DeparseList(args, strip, out)) return false;
    out->push_back(')');
    return true;
  }
  if (t == "A_ArrayExpr") {
    out->append("ARRAY[");
    dom::array els;
    if (Arr(n.body, "elements", &els) && !DeparseList(els, strip, out)) return false;
    out->push_back(']');
    return true;
  }
  if (t == "CaseExpr") return DeparseCase(n.body, strip, out);
  if (t == "CollateClause") {
    dom::element arg;
    if (!Field(n.body, "arg", &arg)) return false;
    out->push_back('(');
    if (!Deparse(arg, strip, out)) return false;
    out->append(" COLLATE ").append(QualifiedName(n.body, "collname")).push_back(')');
    return true;
  }
  return false;
}

bool ConstantText(dom::element e, std::string* out, int* param) {
  Node n = Unwrap(e);
  if (!n.ok) return false;
  if (n.type == "A_Const") return ConstBody(n.body, out);
  if (n.type == "ParamRef") {
    if (param) *param = static_cast<int>(Int(n.body, "number", 0));
    out->push_back('$');
    out->append(std::to_string(Int(n.body, "number", 0)));
    return true;
  }
  if (n.type == "TypeCast") {
    dom::element arg;
    if (!Field(n.body, "arg", &arg)) return false;
    Node an = Unwrap(arg);
    if (!an.ok || (an.type != "A_Const" && an.type != "ParamRef")) return false;
    if (an.type == "ParamRef" && param) *param = static_cast<int>(Int(an.body, "number", 0));
    return Deparse(e, false, out);
  }
  return false;
}

bool IsAggregateName(std::string_view name) { return IsBuiltinAggregate(name); }

namespace {

bool IsVolatileName(std::string_view name) { return IsBuiltinVolatile(name); }

}  // namespace

bool HasVolatileCall(dom::element e) {
  dom::array a;
  if (e.get(a) == dom::SUCCESS) {
    for (dom::element x : a)
      if (HasVolatileCall(x)) return true;
    return false;
  }
  dom::object o;
  if (e.get(o) != dom::SUCCESS) return false;
  if (!o.is_wrapper()) {
    for (dom::element c : o.children())
      if (HasVolatileCall(c)) return true;
    return false;
  }
  for (auto field : o) {
    if (field.key == "FuncCall") {
      dom::object f;
      if (field.value.get(f) == dom::SUCCESS && IsVolatileName(LastName(f, "funcname")))
        return true;
    }
    if (HasVolatileCall(field.value)) return true;
  }
  return false;
}

}  // namespace pgvise::facts

namespace pgvise {

bool IsBuiltinAggregate(std::string_view name) {
  // PostgreSQL's built-in aggregates (pg_proc.prokind = 'a' in a fresh cluster),
  // for when no catalog is at hand.
  static const char* const kAggs[] = {"any_value",
                                      "array_agg",
                                      "avg",
                                      "bit_and",
                                      "bit_or",
                                      "bit_xor",
                                      "bool_and",
                                      "bool_or",
                                      "corr",
                                      "count",
                                      "covar_pop",
                                      "covar_samp",
                                      "every",
                                      "json_agg",
                                      "json_object_agg",
                                      "jsonb_agg",
                                      "jsonb_object_agg",
                                      "max",
                                      "min",
                                      "mode",
                                      "percentile_cont",
                                      "percentile_disc",
                                      "range_agg",
                                      "range_intersect_agg",
                                      "regr_avgx",
                                      "regr_avgy",
                                      "regr_count",
                                      "regr_intercept",
                                      "regr_r2",
                                      "regr_slope",
                                      "regr_sxx",
                                      "regr_sxy",
                                      "regr_syy",
                                      "stddev",
                                      "stddev_pop",
                                      "stddev_samp",
                                      "string_agg",
                                      "sum",
                                      "var_pop",
                                      "var_samp",
                                      "variance",
                                      "xmlagg"};
  for (const char* a : kAggs)
    if (name == a) return true;
  return false;
}

}  // namespace pgvise
