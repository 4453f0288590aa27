// Scopes and query shapes for QueryFacts: FROM items (tables, joins, derived
// tables, functions), CTEs, subquery levels, the select list, GROUP BY /
// ORDER BY keys and LIMIT / OFFSET. See query_facts.cc for the overview.
#include <algorithm>

#include "analyzer/sql/query_facts_walker.h"

namespace pgvise::facts {

const ScopeEntry* Extractor::FindAlias(const Level& l, std::string_view alias) const {
  for (const auto& e : l.scope)
    if (e.alias == alias) return &e;
  return nullptr;
}

Ref Extractor::Resolve(dom::object cr) {
  Ref r;
  std::string_view parts[4];
  int count = 0;
  bool star = false;
  r.location = Loc(cr);
  Each(cr, "fields", [&](dom::element f) {
    Node n = Unwrap(f);
    if (!n.ok) return;
    if (n.type == "A_Star") {
      star = true;
    } else if (count < 4) {
      std::string_view s = Str(n.body, "sval");
      if (!s.empty()) parts[count++] = s;
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
        j.join_type = std::string(ctx.join_type);
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
  sf.compare_op = std::string(ctx.compare_op);
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
  dom::element off;
  out_->has_offset = Field(s, "limitOffset", &off);
  if (out_->offset) out_->offset_location = Loc(Unwrap(s.at_key("limitOffset").value()).body);
}

}  // namespace pgvise::facts
