// Conditions for QueryFacts: WHERE / ON / HAVING split on AND into
// predicates an index can serve and join conditions, plus the generic
// expression walk that finds read columns, aggregates, windows and subquery
// links. See query_facts.cc for the overview.
//
// Example: `WHERE lower(u.email) = $1 AND o.user_id = u.id AND o.total > 100`
//   -> Predicate u.email expr "lower(email)" equality, parameter $1
//   -> JoinCondition o.user_id = u.id ("implicit" in WHERE, the join type in ON)
//   -> Predicate o.total range, constant 100
#include "analyzer/sql/query_facts_walker.h"
#include "catalog/builtin_functions.h"

namespace pgvise::facts {

void Extractor::CollectRefs(dom::element e, std::vector<Ref>* refs) {
  dom::array a;
  if (e.get(a) == dom::SUCCESS) {
    for (dom::element x : a) CollectRefs(x, refs);
    return;
  }
  dom::object o;
  if (e.get(o) != dom::SUCCESS) return;
  if (!o.is_wrapper()) {
    for (dom::element c : o.children()) CollectRefs(c, refs);
    return;
  }
  for (auto field : o) {
    if (field.key == "ColumnRef") {
      dom::object cr;
      if (field.value.get(cr) == dom::SUCCESS) refs->push_back(Resolve(cr));
      continue;
    }
    if (field.key == "SubLink") continue;  // its own level
    CollectRefs(field.value, refs);
  }
}

// --- conditions ---

void Extractor::Condition(dom::element e, Ctx ctx) {
  Node n = Unwrap(e);
  if (!n.ok) return;
  if (n.type == "BoolExpr") {
    std::string_view op = Str(n.body, "boolop");
    Ctx inner = ctx;
    if (op == "OR_EXPR") inner.under_or = true;
    if (op == "NOT_EXPR") inner.negated = !ctx.negated;
    Each(n.body, "args", [&](dom::element a) { Condition(a, inner); });
    return;
  }
  if (n.type == "A_Expr") {
    AExpr a = ReadAExpr(n.body);
    TryPredicate(a, ctx);
    // Walk both sides for read columns and subqueries; a subquery compared
    // with something records the operator (subquery on the left).
    Ctx side = ctx;
    if (a.has_l) {
      side.compare_op = a.op;
      Expr(a.l, side);
    }
    if (a.has_r) {
      static const std::pair<const char*, const char*> kFlip[] = {
          {"<", ">"}, {">", "<"}, {"<=", ">="}, {">=", "<="}};
      side.compare_op = a.op;
      for (const auto& [x, y] : kFlip)
        if (a.op == x) side.compare_op = y;
      Expr(a.r, side);
    }
    return;
  }
  if (n.type == "NullTest") {
    dom::element arg;
    if (!Field(n.body, "arg", &arg)) return;
    std::vector<Ref> refs;
    CollectRefs(arg, &refs);
    Node an = Unwrap(arg);
    if (refs.size() == 1 && refs[0].level == CurIndex() && an.ok) {
      Predicate p;
      p.relation = refs[0].alias;
      p.column = refs[0].column;
      for (const auto& sc : Cur().scope)
        if (sc.alias == p.relation) p.table = sc.table;
      if (an.type != "ColumnRef") Deparse(arg, true, &p.expression);
      bool is_null = Str(n.body, "nulltesttype") == "IS_NULL";
      p.kind = is_null ? PredicateKind::kIsNull : PredicateKind::kIsNotNull;
      p.op = is_null ? "IS NULL" : "IS NOT NULL";
      p.clause = ctx.clause;
      p.under_or = ctx.under_or;
      p.negated = ctx.negated;
      p.location = Loc(an.body);
      Cur().predicates.push_back(std::move(p));
    }
    Expr(arg, ctx);
    return;
  }
  if (n.type == "ColumnRef") {
    BoolColumn(n.body, ctx);
    return;
  }
  Expr(e, ctx);
}

void Extractor::BoolColumn(dom::object cr, const Ctx& ctx) {
  Ref r = Resolve(cr);
  NoteRef(r);
  if (r.level != CurIndex()) return;
  Predicate p;
  p.relation = r.alias;
  p.column = r.column;
  for (const auto& sc : Cur().scope)
    if (sc.alias == p.relation) p.table = sc.table;
  p.kind = PredicateKind::kEquality;
  p.op = "=";
  p.value_kind = ValueKind::kConstant;
  p.constants.push_back("true");
  p.clause = ctx.clause;
  p.under_or = ctx.under_or;
  p.negated = ctx.negated;
  p.location = r.location;
  Cur().predicates.push_back(std::move(p));
}

namespace {

struct OpInfo {
  PredicateKind kind = PredicateKind::kOther;
  std::string op;
  bool negate = false;
};

OpInfo Classify(std::string_view kind, std::string_view op) {
  OpInfo i;
  i.op = op;
  if (kind == "AEXPR_OP") {
    if (op == "=")
      i.kind = PredicateKind::kEquality;
    else if (op == "<" || op == ">" || op == "<=" || op == ">=")
      i.kind = PredicateKind::kRange;
    else if (op == "<>" || op == "!=")
      i.kind = PredicateKind::kNotEqual, i.op = "<>";
    else if (op == "@>" || op == "<@")
      i.kind = PredicateKind::kContains;
    else if (op == "?" || op == "?|" || op == "?&")
      i.kind = PredicateKind::kKeyExists;
    else if (op == "&&")
      i.kind = PredicateKind::kOverlap;
    else if (op == "@@")
      i.kind = PredicateKind::kFullText;
  } else if (kind == "AEXPR_OP_ANY") {
    i.kind = op == "=" ? PredicateKind::kAnyArray : PredicateKind::kOther;
    i.op = std::string(op) + " ANY";
  } else if (kind == "AEXPR_OP_ALL") {
    i.op = std::string(op) + " ALL";
  } else if (kind == "AEXPR_IN") {
    i.kind = PredicateKind::kInList;
    i.negate = op == "<>";
    i.op = i.negate ? "NOT IN" : "IN";
  } else if (kind == "AEXPR_LIKE") {
    i.kind = PredicateKind::kLikePrefix;  // refined by the pattern
    i.negate = op == "!~~";
    i.op = "LIKE";
  } else if (kind == "AEXPR_ILIKE") {
    i.kind = PredicateKind::kLikeOther;
    i.negate = op == "!~~*";
    i.op = "ILIKE";
  } else if (kind == "AEXPR_BETWEEN" || kind == "AEXPR_BETWEEN_SYM") {
    i.kind = PredicateKind::kRange;
    i.op = "BETWEEN";
  } else if (kind == "AEXPR_NOT_BETWEEN" || kind == "AEXPR_NOT_BETWEEN_SYM") {
    i.op = "NOT BETWEEN";
  } else if (kind == "AEXPR_DISTINCT") {
    i.op = "IS DISTINCT FROM";
  } else if (kind == "AEXPR_NOT_DISTINCT") {
    i.op = "IS NOT DISTINCT FROM";
  } else if (kind == "AEXPR_SIMILAR") {
    i.op = "SIMILAR TO";
  }
  return i;
}

// True when the expression calls an aggregate or window function.
bool ContainsAggregate(dom::element e) {
  dom::array a;
  if (e.get(a) == dom::SUCCESS) {
    for (dom::element x : a)
      if (ContainsAggregate(x)) return true;
    return false;
  }
  dom::object o;
  if (e.get(o) != dom::SUCCESS) return false;
  if (!o.is_wrapper()) {
    for (dom::element c : o.children())
      if (ContainsAggregate(c)) return true;
    return false;
  }
  for (auto field : o) {
    if (field.key == "SubLink") continue;
    if (field.key == "FuncCall") {
      dom::object f, over;
      if (field.value.get(f) == dom::SUCCESS && (IsAggregateName(LastName(f, "funcname")) ||
                                                 Bool(f, "agg_star") || Obj(f, "over", &over)))
        return true;
    }
    if (ContainsAggregate(field.value)) return true;
  }
  return false;
}

std::string FlipOp(const std::string& op) {
  if (op == "<") return ">";
  if (op == ">") return "<";
  if (op == "<=") return ">=";
  if (op == ">=") return "<=";
  if (op == "@>") return "<@";
  if (op == "<@") return "@>";
  return op;
}

}  // namespace

AExpr ReadAExpr(dom::object o) {
  AExpr a;
  for (auto field : o) {
    std::string_view k = field.key;
    if (k == "kind") {
      if (field.value.get(a.kind) != dom::SUCCESS) a.kind = {};
    } else if (k == "name") {
      dom::array names;
      if (field.value.get(names) == dom::SUCCESS)
        for (dom::element e : names) a.op = StringNode(e);
    } else if (k == "lexpr") {
      a.l = field.value;
      a.has_l = true;
    } else if (k == "rexpr") {
      a.r = field.value;
      a.has_r = true;
    } else if (k == "location") {
      int64_t v;
      if (field.value.get(v) == dom::SUCCESS) a.location = static_cast<int>(v);
    }
  }
  return a;
}

bool Extractor::TryPredicate(const AExpr& a, const Ctx& ctx) {
  std::string_view kind = a.kind;
  if (kind == "AEXPR_NULLIF") return false;
  OpInfo info = Classify(kind, a.op);
  if (!a.has_l || !a.has_r) return false;
  dom::element l = a.l, r = a.r;
  std::vector<Ref> lrefs, rrefs;
  CollectRefs(l, &lrefs);
  CollectRefs(r, &rrefs);
  const int cur = CurIndex();
  auto local = [&](const std::vector<Ref>& refs) {
    // Exactly one distinct column of this level, nothing else.
    if (refs.empty()) return false;
    for (const Ref& x : refs)
      if (x.level != cur || x.alias != refs[0].alias || x.column != refs[0].column) return false;
    return refs[0].column != "*";
  };
  auto none_local = [&](const std::vector<Ref>& refs) {
    for (const Ref& x : refs)
      if (x.level == cur || x.level < 0) return false;
    return true;
  };
  bool l_col = local(lrefs), r_col = local(rrefs);
  Node ln = Unwrap(l), rn = Unwrap(r);
  if (!ln.ok || !rn.ok) return false;
  // sum(total) > 10 in HAVING filters groups, not rows: no index serves it.
  if (l_col && ln.type != "ColumnRef" && ContainsAggregate(l)) l_col = false;
  if (r_col && rn.type != "ColumnRef" && ContainsAggregate(r)) r_col = false;

  // Column = column of two different relations of this level: a join.
  if (l_col && r_col && lrefs[0].alias != rrefs[0].alias && ln.type == "ColumnRef" &&
      rn.type == "ColumnRef" && info.kind != PredicateKind::kOther && !ctx.under_or &&
      !ctx.negated) {
    JoinCondition j;
    j.left_relation = lrefs[0].alias;
    j.left_column = lrefs[0].column;
    j.right_relation = rrefs[0].alias;
    j.right_column = rrefs[0].column;
    for (const auto& sc : Cur().scope) {
      if (sc.alias == j.left_relation) j.left_table = sc.table;
      if (sc.alias == j.right_relation) j.right_table = sc.table;
    }
    j.op = info.op;
    j.join_type = ctx.clause == Clause::kJoinOn ? std::string(ctx.join_type) : "implicit";
    j.location = a.location;
    Cur().joins.push_back(std::move(j));
    return true;
  }
  // Put the column side on the left.
  if (!l_col && r_col && none_local(lrefs) && kind == "AEXPR_OP") {
    std::swap(l, r);
    std::swap(ln, rn);
    std::swap(lrefs, rrefs);
    info.op = FlipOp(info.op);
    l_col = true;
  }
  if (!l_col || !none_local(rrefs)) return false;

  Predicate p;
  p.relation = lrefs[0].alias;
  p.column = lrefs[0].column;
  for (const auto& sc : Cur().scope)
    if (sc.alias == p.relation) p.table = sc.table;
  if (ln.type != "ColumnRef") Deparse(l, true, &p.expression);
  p.kind = info.kind;
  p.op = info.op;
  p.clause = ctx.clause;
  p.under_or = ctx.under_or;
  p.negated = ctx.negated != info.negate;
  p.location = Loc(ln.body);
  p.value_location = Loc(rn.body);

  // The value side.
  std::string text;
  if (rn.type == "ColumnRef") {
    p.value_kind = ValueKind::kColumn;
    p.constants.push_back(rrefs.empty() ? "" : rrefs[0].alias + "." + rrefs[0].column);
  } else if (rn.type == "SubLink") {
    p.value_kind = ValueKind::kSubquery;
  } else if (rn.type == "List" || rn.type == "A_ArrayExpr") {
    p.value_kind = ValueKind::kConstant;
    Each(rn.body, rn.type == "List" ? "items" : "elements", [&](dom::element x) {
      std::string c;
      int param = 0;
      if (ConstantText(x, &c, &param)) {
        if (param) p.value_kind = ValueKind::kParameter, p.param = param;
        p.constants.push_back(std::move(c));
      } else {
        p.value_kind = ValueKind::kExpression;
      }
    });
    if (kind == "AEXPR_BETWEEN" && p.constants.size() == 2) p.value_location = Loc(rn.body);
  } else if (ConstantText(r, &text, &p.param)) {
    p.value_kind = p.param ? ValueKind::kParameter : ValueKind::kConstant;
    p.constants.push_back(std::move(text));
  } else {
    p.value_kind = ValueKind::kExpression;
    if (Deparse(r, false, &text)) p.constants.push_back(std::move(text));
  }
  if (kind == "AEXPR_LIKE") {
    // A B-tree (text_pattern_ops or C collation) serves LIKE 'abc%' as a range;
    // a pattern starting with a wildcard, or unknown until run time, it cannot.
    dom::object sv;
    std::string_view pattern;
    if (rn.type == "A_Const" && Obj(rn.body, "sval", &sv)) pattern = Str(sv, "sval");
    if (pattern.empty() || pattern[0] == '%' || pattern[0] == '_')
      p.kind = PredicateKind::kLikeOther;
  }
  Cur().predicates.push_back(std::move(p));
  return true;
}

// --- expressions ---

void Extractor::Expr(dom::element e, const Ctx& ctx) {
  dom::array a;
  if (e.get(a) == dom::SUCCESS) {
    for (dom::element x : a) Expr(x, ctx);
    return;
  }
  dom::object o;
  if (e.get(o) != dom::SUCCESS) return;
  Node n = Unwrap(e);
  if (n.ok && !n.type.empty() && n.type[0] >= 'A' && n.type[0] <= 'Z' && o.size() == 1) {
    ExprNode(n, ctx);
    return;
  }
  if (o.is_wrapper()) {
    for (auto field : o) Expr(field.value, ctx);
  } else {
    for (dom::element c : o.children()) Expr(c, ctx);
  }
}

void Extractor::ExprNode(Node n, const Ctx& ctx) {
  if (n.type == "ColumnRef") {
    NoteRef(Resolve(n.body));
    return;
  }
  if (n.type == "SubLink") {
    SubLink(n.body, ctx);
    return;
  }
  if (n.type == "FuncCall") {
    std::string_view name = LastName(n.body, "funcname");
    dom::object over;
    bool window = Obj(n.body, "over", &over);
    if (window) {
      Cur().has_window = true;
      if (stack_.size() == 1) out_->has_window = true;
    } else if (dom::array order; IsAggregateName(name) || Bool(n.body, "agg_star") ||
                                 Arr(n.body, "agg_order", &order)) {
      Cur().has_aggregate = true;
      if (stack_.size() == 1) out_->has_aggregate = true;
    }
    if (IsBuiltinVolatile(name)) Cur().has_volatile = true;  // catalog's one list
  }
  if (n.type == "SelectStmt" || n.type == "RangeSubselect") return;  // only via SubLink/FROM
  Ctx inner = ctx;
  inner.compare_op = {};  // deeper subqueries are not the compared operand
  for (dom::element c : n.body.children()) Expr(c, inner);
}

void Extractor::SubLink(dom::object s, const Ctx& ctx) {
  std::string_view type = Str(s, "subLinkType");
  SubqueryKind kind = SubqueryKind::kScalar;
  std::string_view op = LastName(s, "operName");
  if (type == "EXISTS_SUBLINK")
    kind = SubqueryKind::kExists;
  else if (type == "ANY_SUBLINK")
    kind = (op.empty() || op == "=") ? SubqueryKind::kIn : SubqueryKind::kAny;
  else if (type == "ALL_SUBLINK")
    kind = SubqueryKind::kAll;
  else if (type == "ARRAY_SUBLINK")
    kind = SubqueryKind::kArray;
  dom::element test, select;
  if (Field(s, "testexpr", &test)) {
    Ctx t = ctx;
    t.compare_op = {};
    if (kind == SubqueryKind::kIn) {
      // col IN (SELECT ...): a predicate whose value is a subquery.
      std::vector<Ref> refs;
      CollectRefs(test, &refs);
      Node tn = Unwrap(test);
      if (refs.size() == 1 && refs[0].level == CurIndex() && tn.ok) {
        Predicate p;
        p.relation = refs[0].alias;
        p.column = refs[0].column;
        for (const auto& sc : Cur().scope)
          if (sc.alias == p.relation) p.table = sc.table;
        if (tn.type != "ColumnRef") Deparse(test, true, &p.expression);
        p.kind = PredicateKind::kInList;
        p.op = ctx.negated ? "NOT IN" : "IN";
        p.value_kind = ValueKind::kSubquery;
        p.clause = ctx.clause;
        p.under_or = ctx.under_or;
        p.negated = ctx.negated;
        p.location = Loc(tn.body);
        p.value_location = Loc(s);
        Cur().predicates.push_back(std::move(p));
      }
    }
    Expr(test, t);
  }
  if (!Field(s, "subselect", &select)) return;
  Ctx sub = ctx;
  if (kind == SubqueryKind::kIn || kind == SubqueryKind::kAny || kind == SubqueryKind::kAll)
    sub.compare_op = op.empty() ? std::string_view("=") : op;
  else if (kind != SubqueryKind::kScalar)
    sub.compare_op = {};
  if (ctx.clause == Clause::kWhere) sub.placement = SubqueryPlacement::kWhere;
  if (ctx.clause == Clause::kHaving) sub.placement = SubqueryPlacement::kHaving;
  if (ctx.clause == Clause::kJoinOn) sub.placement = SubqueryPlacement::kJoinOn;
  Subquery(select, kind, sub, "", Loc(s), false);
}

// --- DML ---

}  // namespace pgvise::facts
