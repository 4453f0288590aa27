// QueryFacts extraction from libpg_query's JSON parse tree.
//
// One pass over the tree with a stack of query levels. A level is one SELECT
// (or the UPDATE/DELETE/INSERT itself): it owns a scope (the aliases of its
// FROM items) and collects its relations, predicates and joins. A subquery
// opens a new level whose parent scope is the enclosing one, so a column
// qualified with an alias found only in an enclosing level is a correlation:
//
//   SELECT u.id FROM users u
//   WHERE (SELECT count(*) FROM orders o WHERE o.user_id = u.id) > 10
//
//   level 0: relations [users u], read_columns {u: {id}}
//   level 1 (subquery, WHERE, scalar, compare_op ">", depth 1):
//     relations [orders o], has_aggregate,
//     predicate o.user_id = <column u.id> (value_kind kColumn),
//     correlated_on ["u.id"]
//
// Conditions are split on AND; every conjunct of the form
// `<column or expression over one column> <op> <value>` becomes a Predicate
// (value = constant, $n, expression without columns of this level, or an outer
// column); `a.x = b.y` between two relations of the level becomes a
// JoinCondition. Anything else is still walked for read columns and subqueries.
//
// Unqualified columns resolve to the only relation of their level; with
// several relations and no catalog they stay unresolved (relation "").
#include "analyzer/query_facts.h"

#include <algorithm>

#include "analyzer/query_facts_internal.h"

namespace pgvise {

using namespace facts;  // NOLINT: internal helpers of this module

namespace {

struct ScopeEntry {
  std::string alias;
  std::string table;  // qualified table name; empty for derived tables / functions
  bool is_cte = false;
};

// What a condition sits under while it is walked.
struct Ctx {
  Clause clause = Clause::kWhere;
  SubqueryPlacement placement = SubqueryPlacement::kWhere;
  bool under_or = false;
  bool negated = false;
  std::string join_type;   // for ON conditions
  std::string compare_op;  // for a scalar subquery being compared
};

struct Level {
  std::vector<ScopeEntry> scope;
  std::vector<RelationRef> relations;
  std::vector<Predicate> predicates;
  std::vector<JoinCondition> joins;
  std::set<std::string> correlated;
  std::set<std::string> ctes;  // CTE names visible here
  int sub_index = -1;          // index in QueryFacts::subqueries; -1 for the statement
  bool has_aggregate = false, has_window = false, has_volatile = false;
};

// A column reference resolved against the level stack.
struct Ref {
  std::string alias;   // relation alias ("" when unresolved)
  std::string column;  // "*" for t.*
  int level = -1;      // index in the stack; -1 unresolved
  int location = -1;
};

class Extractor {
 public:
  explicit Extractor(QueryFacts* out) : out_(out) {}

  void Statement(Node n);

 private:
  // --- levels ---
  Level& Cur() { return *stack_.back(); }
  int CurIndex() const { return static_cast<int>(stack_.size()) - 1; }
  const ScopeEntry* FindAlias(const Level& l, std::string_view alias) const;
  Ref Resolve(dom::object column_ref);
  void NoteRef(const Ref& r);

  // --- query shapes ---
  void Select(dom::object s, bool top);
  void With(dom::object s);
  void FromItem(dom::element e, std::vector<std::string>* aliases);
  void AddRelation(dom::object range_var, bool in_scope);
  int Subquery(dom::element select, SubqueryKind kind, const Ctx& ctx, std::string alias,
               int location, bool lateral);
  void TargetList(dom::object s, std::string_view key);
  void SortKeys(dom::object s, std::string_view key, dom::object select, std::vector<SortKey>* out);
  void Limit(dom::object s);

  // --- expressions ---
  void Condition(dom::element e, Ctx ctx);
  void Expr(dom::element e, const Ctx& ctx);
  void ExprNode(Node n, const Ctx& ctx);
  void SubLink(dom::object s, const Ctx& ctx);
  bool TryPredicate(dom::object a_expr, const Ctx& ctx);
  void CollectRefs(dom::element e, std::vector<Ref>* refs);
  void BoolColumn(dom::object column_ref, const Ctx& ctx);

  // --- DML ---
  void Insert(dom::object s);
  void Update(dom::object s);
  void Delete(dom::object s);

  QueryFacts* out_;
  std::vector<Level*> stack_;
};

const ScopeEntry* Extractor::FindAlias(const Level& l, std::string_view alias) const {
  for (const auto& e : l.scope)
    if (e.alias == alias) return &e;
  return nullptr;
}

Ref Extractor::Resolve(dom::object cr) {
  Ref r;
  r.location = Loc(cr);
  std::string_view parts[4];
  int count = 0;
  bool star = false;
  Each(cr, "fields", [&](dom::element f) {
    Node n = Unwrap(f);
    if (!n.ok) return;
    if (n.type == "A_Star") {
      star = true;
    } else if (count < 4) {
      parts[count++] = Str(n.body, "sval");
    }
  });
  if (star) {
    r.column = "*";
  } else if (count > 0) {
    r.column = std::string(parts[count - 1]);
    --count;
  }
  if (count > 0) {
    // Qualified: the alias is the last qualifier (schema.table.column uses table).
    std::string_view alias = parts[count - 1];
    for (int i = CurIndex(); i >= 0; --i) {
      if (FindAlias(*stack_[i], alias)) {
        r.alias = std::string(alias);
        r.level = i;
        return r;
      }
    }
    r.alias = std::string(alias);  // unknown alias (e.g. `excluded` without scope)
    return r;
  }
  // Unqualified: the innermost level with exactly one relation owns it.
  for (int i = CurIndex(); i >= 0; --i) {
    const Level& l = *stack_[i];
    if (l.scope.size() == 1) {
      r.alias = l.scope[0].alias;
      r.level = i;
      return r;
    }
    if (!l.scope.empty()) {
      r.level = i;  // several relations: this level, relation unknown
      return r;
    }
  }
  return r;
}

void Extractor::NoteRef(const Ref& r) {
  if (r.level < 0) {
    if (stack_.size() == 1 && !r.column.empty()) out_->read_columns[r.alias].insert(r.column);
    return;
  }
  if (r.level == 0 && !r.column.empty()) out_->read_columns[r.alias].insert(r.column);
  // A reference to an enclosing level correlates every level in between.
  if (r.level < CurIndex() && !r.alias.empty()) {
    std::string name = r.alias + "." + r.column;
    for (int i = r.level + 1; i <= CurIndex(); ++i) stack_[i]->correlated.insert(name);
  }
}

void Extractor::AddRelation(dom::object rv, bool in_scope) {
  RelationRef rel;
  rel.schema = std::string(Str(rv, "schemaname"));
  rel.name = std::string(Str(rv, "relname"));
  dom::object alias;
  rel.alias = Obj(rv, "alias", &alias) ? std::string(Str(alias, "aliasname")) : rel.name;
  rel.location = Loc(rv);
  for (int i = CurIndex(); i >= 0 && rel.schema.empty(); --i)
    if (stack_[i]->ctes.count(rel.name)) rel.is_cte = true;
  if (in_scope) Cur().scope.push_back({rel.alias, rel.QualifiedName(), rel.is_cte});
  Cur().relations.push_back(std::move(rel));
}

void Extractor::With(dom::object s) {
  dom::object with;
  if (!Obj(s, "withClause", &with)) return;
  Each(with, "ctes", [&](dom::element c) {
    Node n = Unwrap(c);
    if (!n.ok) return;
    std::string name(Str(n.body, "ctename"));
    Cur().ctes.insert(name);  // visible to later CTEs and the body (and itself when RECURSIVE)
    if (stack_.size() == 1) out_->ctes.push_back(name);
    dom::element q;
    if (Field(n.body, "ctequery", &q)) {
      Ctx ctx;
      ctx.placement = SubqueryPlacement::kOther;
      Subquery(q, SubqueryKind::kCte, ctx, name, Loc(n.body), false);
    }
  });
}

void Extractor::FromItem(dom::element e, std::vector<std::string>* aliases) {
  Node n = Unwrap(e);
  if (!n.ok) return;
  if (n.type == "RangeVar") {
    AddRelation(n.body, true);
    aliases->push_back(Cur().relations.back().alias);
  } else if (n.type == "JoinExpr") {
    dom::element l, r, quals;
    if (Field(n.body, "larg", &l)) FromItem(l, aliases);
    size_t right_start = aliases->size();
    if (Field(n.body, "rarg", &r)) FromItem(r, aliases);
    std::string_view jt = Str(n.body, "jointype");
    Ctx ctx;
    ctx.clause = Clause::kJoinOn;
    ctx.placement = SubqueryPlacement::kJoinOn;
    ctx.join_type = jt == "JOIN_LEFT"    ? "left"
                    : jt == "JOIN_RIGHT" ? "right"
                    : jt == "JOIN_FULL"  ? "full"
                                         : "inner";
    bool has_quals = Field(n.body, "quals", &quals);
    dom::array using_cols;
    bool has_using = Arr(n.body, "usingClause", &using_cols);
    if (!has_quals && !has_using && !Bool(n.body, "isNatural")) {
      // CROSS JOIN: record it so an unconstrained product is visible.
      JoinCondition j;
      j.join_type = "cross";
      j.op = "";
      if (right_start > 0) j.left_relation = (*aliases)[right_start - 1];
      if (right_start < aliases->size()) j.right_relation = (*aliases)[right_start];
      Cur().joins.push_back(std::move(j));
    }
    if (has_quals) Condition(quals, ctx);
    if (has_using) {
      for (dom::element c : using_cols) {
        JoinCondition j;
        j.join_type = ctx.join_type;
        j.left_column = j.right_column = std::string(StringNode(c));
        if (right_start > 0) j.left_relation = (*aliases)[right_start - 1];
        if (right_start < aliases->size()) j.right_relation = (*aliases)[right_start];
        for (const auto& s : Cur().scope) {
          if (s.alias == j.left_relation) j.left_table = s.table;
          if (s.alias == j.right_relation) j.right_table = s.table;
        }
        Cur().joins.push_back(std::move(j));
      }
    }
  } else if (n.type == "RangeSubselect") {
    dom::element q;
    dom::object alias;
    std::string name = Obj(n.body, "alias", &alias) ? std::string(Str(alias, "aliasname")) : "";
    if (Field(n.body, "subquery", &q)) {
      Ctx ctx;
      ctx.placement = SubqueryPlacement::kFrom;
      Subquery(q, SubqueryKind::kDerivedTable, ctx, name, -1, Bool(n.body, "lateral"));
    }
    Cur().scope.push_back({name, "", false});
    aliases->push_back(name);
  } else if (n.type == "RangeFunction") {
    dom::object alias;
    std::string name = Obj(n.body, "alias", &alias) ? std::string(Str(alias, "aliasname")) : "";
    Expr(e, Ctx{});  // function arguments may read columns of earlier items (LATERAL)
    Cur().scope.push_back({name, "", false});
    aliases->push_back(name);
  }
}

int Extractor::Subquery(dom::element select, SubqueryKind kind, const Ctx& ctx, std::string alias,
                        int location, bool lateral) {
  Node n = Unwrap(select);
  if (!n.ok) return -1;
  int index = static_cast<int>(out_->subqueries.size());
  out_->subqueries.emplace_back();
  Level level;
  level.sub_index = index;
  stack_.push_back(&level);
  (void)lateral;  // LATERAL references to earlier FROM items show up as correlation
  SubqueryFacts sf;
  sf.kind = kind;
  sf.placement = ctx.placement;
  sf.negated = ctx.negated;
  sf.under_or = ctx.under_or;
  sf.compare_op = ctx.compare_op;
  sf.depth = CurIndex();
  sf.alias = std::move(alias);
  sf.location = location;
  if (n.type == "SelectStmt") {
    dom::object s = n.body;
    Select(s, false);
    dom::array a;
    sf.has_group_by = Arr(s, "groupClause", &a);
    dom::element e;
    sf.has_having = Field(s, "havingClause", &e);
    sf.has_order_by = Arr(s, "sortClause", &a);
    sf.has_limit = Field(s, "limitCount", &e) || Field(s, "limitOffset", &e);
    if (Field(s, "limitCount", &e)) {
      Node ln = Unwrap(e);
      dom::object iv;
      if (ln.ok && ln.type == "A_Const" && Obj(ln.body, "ival", &iv)) sf.limit = Int(iv, "ival", 0);
    }
  } else {
    // INSERT/UPDATE/DELETE inside a CTE: walk it as a statement of its own level.
    if (n.type == "InsertStmt") Insert(n.body);
    if (n.type == "UpdateStmt") Update(n.body);
    if (n.type == "DeleteStmt") Delete(n.body);
  }
  stack_.pop_back();
  sf.has_aggregate = level.has_aggregate;
  sf.has_window = level.has_window;
  sf.has_volatile_function = level.has_volatile;
  sf.correlated_on.assign(level.correlated.begin(), level.correlated.end());
  for (const auto& r : level.relations)
    if (!r.is_cte) sf.tables.push_back(r.QualifiedName());
  sf.relations = std::move(level.relations);
  sf.predicates = std::move(level.predicates);
  sf.joins = std::move(level.joins);
  out_->subqueries[index] = std::move(sf);
  return index;
}

void Extractor::Select(dom::object s, bool top) {
  With(s);
  std::string_view op = Str(s, "op");
  if (!op.empty() && op != "SETOP_NONE") {
    // UNION / INTERSECT / EXCEPT: both arms are bare SelectStmt bodies; their
    // facts belong to this level (an index serving either arm helps).
    if (top) out_->set_operation = true;
    // Each arm has its own FROM scope; relations and predicates accumulate.
    dom::object arm;
    std::vector<ScopeEntry> saved = std::move(Cur().scope);
    Cur().scope.clear();
    if (Obj(s, "larg", &arm)) Select(arm, top);
    Cur().scope.clear();
    if (Obj(s, "rarg", &arm)) Select(arm, top);
    Cur().scope = std::move(saved);
    if (top) {
      SortKeys(s, "sortClause", s, &out_->order_by);
      Limit(s);
    }
    return;
  }
  std::vector<std::string> aliases;
  Each(s, "fromClause", [&](dom::element e) {
    size_t before = aliases.size();
    FromItem(e, &aliases);
    if (top) {
      out_->from_items.emplace_back(aliases.begin() + before, aliases.end());
      Node n = Unwrap(e);
      out_->from_item_locations.push_back(n.ok ? Loc(n.body) : -1);
    }
  });
  Ctx sel;
  sel.placement = SubqueryPlacement::kSelectList;
  sel.clause = Clause::kOther;
  TargetList(s, "targetList");
  dom::element where;
  if (Field(s, "whereClause", &where)) {
    if (top) {
      out_->has_where = true;
      Node wn = Unwrap(where);
      out_->where_location = wn.ok ? Loc(wn.body) : -1;
    }
    Condition(where, Ctx{});
  }
  Ctx other;
  other.clause = Clause::kOther;
  other.placement = SubqueryPlacement::kOther;
  if (top) {
    SortKeys(s, "groupClause", s, &out_->group_by);
  } else {
    Each(s, "groupClause", [&](dom::element e) { Expr(e, other); });
  }
  dom::element having;
  if (Field(s, "havingClause", &having)) {
    Ctx h;
    h.clause = Clause::kHaving;
    h.placement = SubqueryPlacement::kHaving;
    if (top) out_->has_having = true;
    Condition(having, h);
  }
  if (top) {
    SortKeys(s, "sortClause", s, &out_->order_by);
    Limit(s);
    dom::array a;
    if (Arr(s, "distinctClause", &a)) out_->distinct = true;
    if (Arr(s, "lockingClause", &a)) out_->for_update = true;
  } else {
    Each(s, "sortClause", [&](dom::element e) { Expr(e, other); });
  }
  Each(s, "valuesLists", [&](dom::element e) { Expr(e, other); });
}

void Extractor::TargetList(dom::object s, std::string_view key) {
  Ctx sel;
  sel.placement = SubqueryPlacement::kSelectList;
  sel.clause = Clause::kOther;
  Each(s, key, [&](dom::element e) {
    Node rt = Unwrap(e);
    dom::element val;
    if (!rt.ok || !Field(rt.body, "val", &val)) return;
    Node v = Unwrap(val);
    if (v.ok && v.type == "ColumnRef" && stack_.size() == 1) {
      Ref r = Resolve(v.body);
      if (r.column == "*" && !out_->select_star) {
        out_->select_star = true;
        out_->select_star_location = r.location;
      }
      if (r.column == "*" && r.alias.empty())
        for (const auto& sc : Cur().scope) out_->read_columns[sc.alias].insert("*");
    }
    Expr(val, sel);
  });
}

void Extractor::SortKeys(dom::object s, std::string_view key, dom::object select,
                         std::vector<SortKey>* out) {
  Ctx other;
  other.clause = Clause::kOther;
  other.placement = SubqueryPlacement::kOther;
  Each(s, key, [&](dom::element e) {
    Node n = Unwrap(e);
    if (!n.ok) return;
    SortKey k;
    dom::element expr = e;
    if (n.type == "SortBy") {
      if (!Field(n.body, "node", &expr)) return;
      k.descending = Str(n.body, "sortby_dir") == "SORTBY_DESC";
      std::string_view nulls = Str(n.body, "sortby_nulls");
      if (nulls == "SORTBY_NULLS_FIRST") k.nulls = SortKey::Nulls::kFirst;
      if (nulls == "SORTBY_NULLS_LAST") k.nulls = SortKey::Nulls::kLast;
    }
    Node x = Unwrap(expr);
    if (!x.ok) return;
    k.location = Loc(x.body);
    // ORDER BY 2 / GROUP BY 1: the select-list item it points at.
    dom::object iv;
    if (x.type == "A_Const" && Obj(x.body, "ival", &iv)) {
      int64_t pos = Int(iv, "ival", 0), i = 0;
      Each(select, "targetList", [&](dom::element t) {
        Node rt = Unwrap(t);
        dom::element val;
        if (++i == pos && rt.ok && Field(rt.body, "val", &val)) expr = val;
      });
      x = Unwrap(expr);
      if (!x.ok) return;
    }
    if (x.type == "ColumnRef") {
      Ref r = Resolve(x.body);
      k.relation = r.alias;
      k.column = r.column;
      for (const auto& sc : Cur().scope)
        if (sc.alias == r.alias) k.table = sc.table;
      // ORDER BY an output alias (SELECT total AS t ... ORDER BY t) stays a bare name.
    } else {
      std::vector<Ref> refs;
      CollectRefs(expr, &refs);
      if (refs.size() == 1) {
        k.relation = refs[0].alias;
        for (const auto& sc : Cur().scope)
          if (sc.alias == refs[0].alias) k.table = sc.table;
      }
      Deparse(expr, true, &k.expression);
    }
    Expr(expr, other);
    out->push_back(std::move(k));
  });
}

void Extractor::Limit(dom::object s) {
  auto read = [&](std::string_view key, std::optional<int64_t>* value, bool* param) {
    dom::element e;
    if (!Field(s, key, &e)) return;
    Node n = Unwrap(e);
    if (!n.ok) return;
    if (n.type == "ParamRef") *param = true;
    dom::object iv;
    if (n.type == "A_Const" && !Bool(n.body, "isnull"))
      *value = Obj(n.body, "ival", &iv) ? Int(iv, "ival", 0) : 0;
  };
  read("limitCount", &out_->limit, &out_->limit_param);
  read("limitOffset", &out_->offset, &out_->offset_param);
  if (out_->offset) out_->offset_location = Loc(Unwrap(s.at_key("limitOffset").value()).body);
}

void Extractor::CollectRefs(dom::element e, std::vector<Ref>* refs) {
  dom::array a;
  if (e.get(a) == simdjson::SUCCESS) {
    for (dom::element x : a) CollectRefs(x, refs);
    return;
  }
  dom::object o;
  if (e.get(o) != simdjson::SUCCESS) return;
  for (auto field : o) {
    if (field.key == "ColumnRef") {
      dom::object cr;
      if (field.value.get(cr) == simdjson::SUCCESS) refs->push_back(Resolve(cr));
      continue;
    }
    if (field.key == "SubLink") continue;  // its own level
    if (field.value.is_object() || field.value.is_array()) CollectRefs(field.value, refs);
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
    TryPredicate(n.body, ctx);
    // Walk both sides for read columns and subqueries; a subquery compared
    // with something records the operator (subquery on the left).
    dom::element l, r;
    Ctx side = ctx;
    bool has_l = Field(n.body, "lexpr", &l), has_r = Field(n.body, "rexpr", &r);
    std::string op = LastName(n.body, "name");
    if (has_l) {
      side.compare_op = op;
      Expr(l, side);
    }
    if (has_r) {
      static const std::pair<const char*, const char*> kFlip[] = {
          {"<", ">"}, {">", "<"}, {"<=", ">="}, {">=", "<="}};
      side.compare_op = op;
      for (const auto& [a, b] : kFlip)
        if (op == a) side.compare_op = b;
      Expr(r, side);
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

OpInfo Classify(std::string_view kind, const std::string& op) {
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
    i.op = op + " ANY";
  } else if (kind == "AEXPR_OP_ALL") {
    i.op = op + " ALL";
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
  if (e.get(a) == simdjson::SUCCESS) {
    for (dom::element x : a)
      if (ContainsAggregate(x)) return true;
    return false;
  }
  dom::object o;
  if (e.get(o) != simdjson::SUCCESS) return false;
  for (auto field : o) {
    if (field.key == "SubLink") continue;
    if (field.key == "FuncCall") {
      dom::object f, over;
      if (field.value.get(f) == simdjson::SUCCESS && (IsAggregateName(LastName(f, "funcname")) ||
                                                      Bool(f, "agg_star") || Obj(f, "over", &over)))
        return true;
    }
    if ((field.value.is_object() || field.value.is_array()) && ContainsAggregate(field.value))
      return true;
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

bool Extractor::TryPredicate(dom::object a, const Ctx& ctx) {
  std::string_view kind = Str(a, "kind");
  if (kind == "AEXPR_NULLIF") return false;
  OpInfo info = Classify(kind, LastName(a, "name"));
  dom::element l, r;
  if (!Field(a, "lexpr", &l) || !Field(a, "rexpr", &r)) return false;
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
    j.join_type = ctx.clause == Clause::kJoinOn ? ctx.join_type : "implicit";
    j.location = Loc(a);
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
  if (e.get(a) == simdjson::SUCCESS) {
    for (dom::element x : a) Expr(x, ctx);
    return;
  }
  dom::object o;
  if (e.get(o) != simdjson::SUCCESS) return;
  Node n = Unwrap(e);
  if (n.ok && !n.type.empty() && n.type[0] >= 'A' && n.type[0] <= 'Z' && o.size() == 1) {
    ExprNode(n, ctx);
    return;
  }
  for (auto field : o)
    if (field.value.is_object() || field.value.is_array()) Expr(field.value, ctx);
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
    std::string name = LastName(n.body, "funcname");
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
    static const char* const kVolatile[] = {"random",          "clock_timestamp", "nextval",
                                            "gen_random_uuid", "timeofday",       "setval"};
    for (const char* v : kVolatile)
      if (name == v) Cur().has_volatile = true;
  }
  if (n.type == "SelectStmt" || n.type == "RangeSubselect") return;  // only via SubLink/FROM
  Ctx inner = ctx;
  inner.compare_op.clear();  // deeper subqueries are not the compared operand
  for (auto field : n.body)
    if (field.value.is_object() || field.value.is_array()) Expr(field.value, inner);
}

void Extractor::SubLink(dom::object s, const Ctx& ctx) {
  std::string_view type = Str(s, "subLinkType");
  SubqueryKind kind = SubqueryKind::kScalar;
  std::string op = LastName(s, "operName");
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
    t.compare_op.clear();
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
    sub.compare_op = op.empty() ? "=" : op;
  else if (kind != SubqueryKind::kScalar)
    sub.compare_op.clear();
  if (ctx.clause == Clause::kWhere) sub.placement = SubqueryPlacement::kWhere;
  if (ctx.clause == Clause::kHaving) sub.placement = SubqueryPlacement::kHaving;
  if (ctx.clause == Clause::kJoinOn) sub.placement = SubqueryPlacement::kJoinOn;
  Subquery(select, kind, sub, "", Loc(s), false);
}

// --- DML ---

void Extractor::Insert(dom::object s) {
  With(s);
  dom::object rv;
  if (Obj(s, "relation", &rv)) {
    // The target is not in the scope of the SELECT that feeds it.
    AddRelation(rv, false);
    if (stack_.size() == 1) out_->keyword_location = Loc(rv);
  }
  Each(s, "cols", [&](dom::element e) {
    Node n = Unwrap(e);
    if (n.ok && stack_.size() == 1) out_->insert_columns.emplace_back(Str(n.body, "name"));
  });
  dom::element sel;
  if (Field(s, "selectStmt", &sel)) {
    Node n = Unwrap(sel);
    if (n.ok && n.type == "SelectStmt") Select(n.body, stack_.size() == 1);
  }
  dom::object oc;
  if (Obj(s, "onConflictClause", &oc)) {
    std::string_view action = Str(oc, "action");
    if (stack_.size() == 1) {
      out_->conflict_action = action == "ONCONFLICT_UPDATE"    ? "update"
                              : action == "ONCONFLICT_NOTHING" ? "nothing"
                                                               : "";
      dom::object infer;
      if (Obj(oc, "infer", &infer))
        Each(infer, "indexElems", [&](dom::element e) {
          Node n = Unwrap(e);
          if (n.ok) out_->conflict_columns.emplace_back(Str(n.body, "name"));
        });
    }
    // DO UPDATE sees the target and the `excluded` pseudo-row.
    if (!Cur().relations.empty()) {
      const RelationRef& target = Cur().relations.front();
      Cur().scope.push_back({target.alias, target.QualifiedName(), false});
      Cur().scope.push_back({"excluded", target.QualifiedName(), false});
    }
    Each(oc, "targetList", [&](dom::element e) {
      Node n = Unwrap(e);
      if (n.ok && stack_.size() == 1) out_->updated_columns.emplace_back(Str(n.body, "name"));
    });
    Ctx other;
    other.clause = Clause::kOther;
    other.placement = SubqueryPlacement::kOther;
    Each(oc, "targetList", [&](dom::element e) { Expr(e, other); });
    dom::element w;
    if (Field(oc, "whereClause", &w)) Expr(w, other);
  }
  dom::array ret;
  if (Arr(s, "returningList", &ret)) {
    if (stack_.size() == 1) out_->has_returning = true;
    TargetList(s, "returningList");
  }
}

void Extractor::Update(dom::object s) {
  With(s);
  dom::object rv;
  if (Obj(s, "relation", &rv)) {
    AddRelation(rv, true);
    if (stack_.size() == 1) out_->keyword_location = Loc(rv);
  }
  std::vector<std::string> aliases;
  Each(s, "fromClause", [&](dom::element e) { FromItem(e, &aliases); });
  Ctx set;
  set.clause = Clause::kOther;
  set.placement = SubqueryPlacement::kSelectList;
  Each(s, "targetList", [&](dom::element e) {
    Node n = Unwrap(e);
    if (!n.ok) return;
    if (stack_.size() == 1) out_->updated_columns.emplace_back(Str(n.body, "name"));
    dom::element v;
    if (Field(n.body, "val", &v)) Expr(v, set);
  });
  dom::element where;
  if (Field(s, "whereClause", &where)) {
    if (stack_.size() == 1) {
      out_->has_where = true;
      out_->where_location = Loc(Unwrap(where).body);
    }
    Condition(where, Ctx{});
  }
  if (dom::array ret; Arr(s, "returningList", &ret)) {
    if (stack_.size() == 1) out_->has_returning = true;
    TargetList(s, "returningList");
  }
}

void Extractor::Delete(dom::object s) {
  With(s);
  dom::object rv;
  if (Obj(s, "relation", &rv)) {
    AddRelation(rv, true);
    if (stack_.size() == 1) out_->keyword_location = Loc(rv);
  }
  std::vector<std::string> aliases;
  Each(s, "usingClause", [&](dom::element e) { FromItem(e, &aliases); });
  dom::element where;
  if (Field(s, "whereClause", &where)) {
    if (stack_.size() == 1) {
      out_->has_where = true;
      out_->where_location = Loc(Unwrap(where).body);
    }
    Condition(where, Ctx{});
  }
  if (dom::array ret; Arr(s, "returningList", &ret)) {
    if (stack_.size() == 1) out_->has_returning = true;
    TargetList(s, "returningList");
  }
}

void Extractor::Statement(Node n) {
  Level top;
  stack_.push_back(&top);
  const std::string_view t = n.type;
  if (t == "SelectStmt") {
    dom::object into;
    out_->kind =
        Obj(n.body, "intoClause", &into) ? StatementKind::kCreateTableAs : StatementKind::kSelect;
    out_->lock = out_->kind == StatementKind::kSelect ? "ACCESS SHARE" : "";
    Select(n.body, true);
    if (out_->for_update) out_->lock = "ROW SHARE";
  } else if (t == "InsertStmt") {
    out_->kind = StatementKind::kInsert;
    out_->lock = "ROW EXCLUSIVE";
    Insert(n.body);
  } else if (t == "UpdateStmt") {
    out_->kind = StatementKind::kUpdate;
    out_->lock = "ROW EXCLUSIVE";
    Update(n.body);
  } else if (t == "DeleteStmt") {
    out_->kind = StatementKind::kDelete;
    out_->lock = "ROW EXCLUSIVE";
    Delete(n.body);
  } else if (t == "MergeStmt") {
    out_->kind = StatementKind::kMerge;
    out_->lock = "ROW EXCLUSIVE";
    dom::object rv;
    if (Obj(n.body, "relation", &rv)) AddRelation(rv, true);
    std::vector<std::string> aliases;
    dom::element src, cond;
    if (Field(n.body, "sourceRelation", &src)) FromItem(src, &aliases);
    Ctx on;
    on.clause = Clause::kJoinOn;
    on.join_type = "inner";
    if (Field(n.body, "joinCondition", &cond)) Condition(cond, on);
  } else if (t == "ExplainStmt") {
    out_->kind = StatementKind::kExplain;
    dom::element q;
    Node inner;
    if (Field(n.body, "query", &q) && (inner = Unwrap(q)).ok) {
      stack_.pop_back();
      Statement(inner);  // facts of the explained statement, kind kExplain
      out_->kind = StatementKind::kExplain;
      return;
    }
  } else if (!ExtractDdl(t, n.body, out_)) {
    bool ddl = t.rfind("Create", 0) == 0 || t.rfind("Alter", 0) == 0 || t.rfind("Drop", 0) == 0 ||
               t == "CommentStmt" || t == "GrantStmt";
    out_->kind = ddl ? StatementKind::kOtherDdl : StatementKind::kOtherUtility;
  }
  stack_.pop_back();
  out_->relations.insert(out_->relations.end(), std::make_move_iterator(top.relations.begin()),
                         std::make_move_iterator(top.relations.end()));
  out_->predicates = std::move(top.predicates);
  out_->joins = std::move(top.joins);
}

}  // namespace

const char* StatementKindName(StatementKind k) {
  switch (k) {
    case StatementKind::kSelect:
      return "select";
    case StatementKind::kInsert:
      return "insert";
    case StatementKind::kUpdate:
      return "update";
    case StatementKind::kDelete:
      return "delete";
    case StatementKind::kMerge:
      return "merge";
    case StatementKind::kCreateTable:
      return "create-table";
    case StatementKind::kCreateTableAs:
      return "create-table-as";
    case StatementKind::kAlterTable:
      return "alter-table";
    case StatementKind::kDropTable:
      return "drop-table";
    case StatementKind::kCreateIndex:
      return "create-index";
    case StatementKind::kDropIndex:
      return "drop-index";
    case StatementKind::kReindex:
      return "reindex";
    case StatementKind::kCreateView:
      return "create-view";
    case StatementKind::kCreateMatView:
      return "create-materialized-view";
    case StatementKind::kRefreshMatView:
      return "refresh-materialized-view";
    case StatementKind::kRename:
      return "rename";
    case StatementKind::kTruncate:
      return "truncate";
    case StatementKind::kVacuum:
      return "vacuum";
    case StatementKind::kAnalyze:
      return "analyze";
    case StatementKind::kCluster:
      return "cluster";
    case StatementKind::kTransaction:
      return "transaction";
    case StatementKind::kSet:
      return "set";
    case StatementKind::kCopy:
      return "copy";
    case StatementKind::kExplain:
      return "explain";
    case StatementKind::kOtherDdl:
      return "other-ddl";
    case StatementKind::kOtherUtility:
      return "other-utility";
  }
  return "other-utility";
}

const char* PredicateKindName(PredicateKind k) {
  switch (k) {
    case PredicateKind::kEquality:
      return "equality";
    case PredicateKind::kRange:
      return "range";
    case PredicateKind::kInList:
      return "in-list";
    case PredicateKind::kAnyArray:
      return "any-array";
    case PredicateKind::kLikePrefix:
      return "like-prefix";
    case PredicateKind::kLikeOther:
      return "like-other";
    case PredicateKind::kIsNull:
      return "is-null";
    case PredicateKind::kIsNotNull:
      return "is-not-null";
    case PredicateKind::kNotEqual:
      return "not-equal";
    case PredicateKind::kContains:
      return "contains";
    case PredicateKind::kKeyExists:
      return "key-exists";
    case PredicateKind::kOverlap:
      return "overlap";
    case PredicateKind::kFullText:
      return "full-text";
    case PredicateKind::kOther:
      return "other";
  }
  return "other";
}

Status ExtractFacts(const Statement& stmt, QueryFacts* out) {
  *out = QueryFacts();
  if (!stmt.parsed) return Status::InvalidInput("statement did not parse: " + stmt.error);
  // One parser per thread, reused: its buffers grow to the largest tree seen,
  // so steady-state extraction allocates nothing for the JSON itself.
  thread_local dom::parser parser;
  dom::element root;
  if (parser.parse(stmt.parse_json).get(root) != simdjson::SUCCESS)
    return Status::Internal("libpg_query returned JSON simdjson cannot read");
  dom::array stmts;
  if (root.at_key("stmts").get(stmts) != simdjson::SUCCESS) return Status::Ok();  // empty
  for (dom::element raw : stmts) {
    dom::element s;
    if (raw.at_key("stmt").get(s) != simdjson::SUCCESS) continue;
    Node n = Unwrap(s);
    if (!n.ok) continue;
    Extractor ex(out);
    ex.Statement(n);
    if (out->kind == StatementKind::kAlterTable) FillAlterLocations(stmt.sql, &out->ddl);
    break;  // Statement holds one statement (the file splitter saw to that)
  }
  return Status::Ok();
}

std::vector<QueryFacts> ExtractFileFacts(const SqlFile& file) {
  std::vector<QueryFacts> all(file.statements.size());
  bool in_block = false;
  for (size_t i = 0; i < file.statements.size(); ++i) {
    QueryFacts& f = all[i];
    if (!ExtractFacts(file.statements[i], &f).ok()) {
      f.in_transaction_block = in_block;
      continue;
    }
    if (f.kind == StatementKind::kTransaction) {
      const auto& a = f.ddl.actions;
      bool begin = !a.empty() && (a[0] == "begin" || a[0] == "start");
      bool end =
          !a.empty() && (a[0] == "commit" || a[0] == "rollback" || a[0] == "prepare-transaction");
      f.in_transaction_block = in_block && !begin;
      if (begin) in_block = true;
      if (end) in_block = false;
      if (end) f.in_transaction_block = true;
      continue;
    }
    f.in_transaction_block = in_block;
  }
  return all;
}

}  // namespace pgvise
