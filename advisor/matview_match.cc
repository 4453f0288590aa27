// View matching: which statements one materialized view serves, and how each
// is rewritten to read it.
//
// PostgreSQL never rewrites a query onto a materialized view, so a view is
// only worth proposing together with the statements rewritten to read it, and
// each rewrite must return the same rows as the statement, for every state of
// the base tables. The conditions are Goldstein & Larson's (SIGMOD 2001),
// restricted to what can be checked on the parse tree alone:
//
//   1. same tables: the statement reads exactly the view's tables, each once
//      (no extra table joined through a key: refused);
//   2. join equivalences: its column = column conjuncts across tables form the
//      same equivalence classes as the view's (so a.x = b.y AND b.y = c.z
//      matches a.x = b.y AND a.x = c.z);
//   3. range containment / residual predicates: every filter of the view is a
//      conjunct of the statement (compared as deparsed text over canonical
//      aliases), and every other conjunct of the statement reads only
//      grouping keys of the view, so it can be applied to the view's rows:
//      a row of the view stands for a group whose key values are those the
//      conjunct would see on each base row;
//   4. outputs: every column the statement outputs, groups by, orders by or
//      filters on is a grouping key of the view, and every aggregate is one
//      the view keeps (SUM, COUNT, MIN, MAX; AVG as SUM / COUNT);
//   5. grouping equal or coarser: the statement's keys are view keys. Equal:
//      the rewrite reads the rows as they are. Coarser: it re-aggregates
//      (SUM of SUMs, SUM of COUNTs, MIN of MINs, MAX of MAXs, AVG as SUM of
//      SUMs / SUM of COUNTs), cast back to the type the statement returned.
//
// Statements are grouped before matching: those over the same tables with the
// same join classes share one view. Its filters are the conjuncts all of them
// have; a conjunct only some have (a constant that differs, `region = 'EU'`
// vs `region = 'US'`, or a `$n`) makes its columns grouping keys and is
// applied by the rewrite. The view groups by the union of the keys, the
// finest grouping any of them needs.
//
// Worked example. Two dashboard statements over sales s JOIN customers c:
//   A: SELECT c.region, p.category, sum(s.amount) FROM ... WHERE s.status = 'paid'
//      GROUP BY c.region, p.category
//   B: SELECT c.region, avg(s.amount) FROM ... WHERE s.status = 'paid'
//      AND c.region = $1 GROUP BY c.region
// share tables and joins; filter status = 'paid' is common (a view filter);
// c.region = $1 is B's alone and reads a key. The view:
//   SELECT t2.region, t3.category, sum(t1.amount) AS sum_amount,
//          count(t1.amount) AS count_amount FROM sales t1, customers t2,
//          products t3 WHERE <joins> AND t1.status = 'paid' GROUP BY 1, 2
// A reads it as is (same grouping); B re-aggregates:
//   SELECT mv.region AS region, sum(mv.sum_amount)::numeric /
//          NULLIF(sum(mv.count_amount), 0)::numeric AS avg
//   FROM v mv WHERE mv.region = $1 GROUP BY mv.region
//
// Refused (the statement gets no view, with the reason under -v): anything
// but one plain SELECT with aggregates or GROUP BY; DISTINCT, HAVING, window
// functions, grouping sets, CTEs, set operations, subqueries, functions in
// FROM, outer joins, NATURAL / USING joins, a table read twice, SELECT *;
// aggregates other than SUM/COUNT/MIN/MAX/AVG, or with DISTINCT, FILTER or
// ORDER BY; functions outside a short list known to be safe; grouping keys
// of types whose equality is not identity (numeric 1.0 = 1.00, floats,
// collations) — only plain columns of integer, text, date, boolean,
// timestamp, uuid types, or date_trunc of a timestamp without time zone;
// conjuncts that must stay in the view but depend on the session (now(),
// timestamptz columns and casts: a refresh would freeze them); SUM/AVG over
// floating point (re-summing changes the rounding). What the parse tree
// cannot prove, advise --verify checks on data: it runs statement and
// rewrite and drops a view whose rewrite returns different rows.
#include "advisor/matview_match.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <memory>
#include <set>

#include "analyzer/sql/edit_tree.h"
#include "core/session.h"

namespace pgvise::mv {

namespace {

using rw::Node;

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

// What an expression may contain and where it may go.
struct ExprInfo {
  bool ok = true;
  std::string why;
  bool stable = false;  // reads the session or the clock, or a `$n`
  bool has_agg = false;
  std::vector<Node*> columns;  // ColumnRef nodes outside aggregates
};

void Inspect(Node* n, bool allow_agg, ExprInfo* info);

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

// The canonical text of an expression whose columns are already tK.col.
std::string Sql(const Node* n) { return rw::ExprSql(n); }

struct AggUse {
  std::string func;        // sum count min max avg
  std::string arg;         // canonical argument, "" for count(*)
  std::string arg_column;  // the argument's column name when it is one (for naming)
};

// A statement read for matching, its columns rewritten to tK.col.
struct Shape {
  std::unique_ptr<rw::Tree> tree;
  PgQuery__SelectStmt* sel = nullptr;
  std::vector<ViewTable> tables;
  std::vector<const TableInfo*> infos;
  std::vector<std::vector<std::string>> classes;
  std::vector<Node*> preds;
  std::vector<std::string> pred_sql;
  std::vector<bool> core_ok;   // may sit in the view (no `$n`, no session dependence)
  std::vector<bool> pushable;  // reads only columns that may be grouping keys
  std::vector<std::vector<Node*>> pred_cols;
  std::vector<Node*> keys;
  std::vector<std::string> key_sql;
  std::vector<AggUse> aggs;
  std::set<std::string> output_names;
  std::string signature;  // tables and join classes

  const ColumnInfo* Column(const Node* colref) const {
    const auto* c = colref->column_ref;
    if (c->n_fields != 2) return nullptr;
    const std::string alias = rw::StrVal(c->fields[0]);
    for (size_t i = 0; i < tables.size(); ++i)
      if (tables[i].alias == alias) return infos[i]->Column(rw::StrVal(c->fields[1]));
    return nullptr;
  }
};

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

// Reads `sql` into *out; false with *why when it can't be matched.
bool Analyze(const Catalog& catalog, const std::string& sql, Shape* out, std::string* why) {
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
      s->having_clause || s->n_window_clause || s->n_values_lists || s->n_locking_clause ||
      s->into_clause || s->group_distinct) {
    *why = "a set operation, CTE, DISTINCT, HAVING, window, VALUES or locking clause";
    return false;
  }
  if (s->limit_count && !s->n_sort_clause) {
    *why = "LIMIT without ORDER BY (which rows it returns is not defined)";
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
    out->tables.push_back({found[i].t->schema, found[i].t->name, "t" + std::to_string(i + 1)});
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
    out->output_names.insert(rt->name ? rt->name : FigureColname(rt->val));
    if (!rt->name) rt->name = out->tree->arena().Strdup(FigureColname(rt->val));
    if (!canon(&rt->val)) return false;
  }
  FlattenAnd(s->where_clause, &conjuncts);
  for (auto*& c : conjuncts)
    if (!canon(&c)) return false;
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

std::string Col(const ViewColumn& c) { return "mv." + QuoteIdent(c.name); }

bool SumTypeOk(const std::string& t) {
  return t == "bigint" || t == "numeric" || t == "integer" || t == "smallint";
}

// The view form of one aggregate of the statement.
bool AggregateSql(const ViewDefinition& def, const std::string& func, const std::string& arg,
                  bool rollup, std::string* out, std::string* why) {
  if (func == "avg") {
    const ViewColumn* s = FindAgg(def, "sum", arg);
    const ViewColumn* c = FindAgg(def, "count", arg);
    if (!s || !c) return *why = "the view lacks avg's sum and count", false;
    if (!s->type.empty() && s->type != "bigint" && s->type != "numeric")
      return *why = "avg over " + s->type + " (not exact when re-summed)", false;
    *out = rollup ? "(sum(" + Col(*s) + ")::numeric / NULLIF(sum(" + Col(*c) + "), 0)::numeric)"
                  : "(" + Col(*s) + "::numeric / NULLIF(" + Col(*c) + ", 0)::numeric)";
    return true;
  }
  const ViewColumn* v = FindAgg(def, func, arg);
  if (!v) return *why = "the view lacks " + func + "(" + arg + ")", false;
  if (!rollup) {
    *out = Col(*v);
    return true;
  }
  if (func == "count") {
    *out = "COALESCE(sum(" + Col(*v) + "), 0)::bigint";
  } else if (func == "sum") {
    // sum(bigint) is numeric: cast back to what the statement's sum returned.
    const std::string type = v->type.empty() ? "numeric" : v->type;
    if (!v->type.empty() && !SumTypeOk(v->type))
      return *why = "sum over " + v->type + " (not exact when re-summed)", false;
    *out = "sum(" + Col(*v) + ")::" + type;
  } else {
    *out = func + "(" + Col(*v) + ")";
  }
  return true;
}

// Rewrites, in place, every key expression and aggregate under *slot into
// its view form; false (with *why) when a column is not a view key.
bool Translate(rw::Tree& t, Node** slot, const ViewDefinition& def, bool rollup, std::string* why) {
  bool ok = true;
  rw::VisitSlots(slot, [&](Node** s) {
    if (!ok) return false;
    Node* x = *s;
    if (x->node_case == PG_QUERY__NODE__NODE_COLUMN_REF ||
        x->node_case == PG_QUERY__NODE__NODE_FUNC_CALL) {
      if (const ViewColumn* k = FindKey(def, Sql(x))) {
        *s = t.ColumnRef({"mv", k->name});
        return false;
      }
    }
    if (x->node_case == PG_QUERY__NODE__NODE_COLUMN_REF) {
      *why = Sql(x) + " is not a grouping key of the view";
      ok = false;
      return false;
    }
    if (x->node_case == PG_QUERY__NODE__NODE_FUNC_CALL &&
        HandledAggregates().count(rw::FuncName(x->func_call))) {
      auto* f = x->func_call;
      std::string sql;
      if (!AggregateSql(def, rw::FuncName(f), f->agg_star ? "" : Sql(f->args[0]), rollup, &sql,
                        why)) {
        ok = false;
        return false;
      }
      Node* n = ParseExpr(t, sql);
      if (!n) {
        *why = "cannot parse " + sql;
        ok = false;
        return false;
      }
      *s = n;
      return false;
    }
    return true;
  });
  return ok;
}

bool SameSet(std::vector<std::string> a, std::vector<std::string> b) {
  std::sort(a.begin(), a.end());
  a.erase(std::unique(a.begin(), a.end()), a.end());
  std::sort(b.begin(), b.end());
  b.erase(std::unique(b.begin(), b.end()), b.end());
  return a == b;
}

// Shared by Rewrite and DescribeRewrite: checks the match and edits the tree.
Status RewriteShape_(const Catalog& catalog, const std::string& sql, const ViewDefinition& def,
                     const std::string& view, Shape* shape, RewriteShape* rs) {
  std::string why;
  if (!Analyze(catalog, sql, shape, &why)) return Status::InvalidInput(why);
  // 1. + 2. same tables, same join classes.
  std::vector<std::string> tabs, view_tabs;
  for (const auto& t : shape->tables) tabs.push_back(t.schema + "." + t.name);
  view_tabs = def.QualifiedTables();
  if (tabs != view_tabs) return Status::InvalidInput("reads other tables than the view");
  std::vector<std::string> joins;
  for (const auto& cl : shape->classes)
    for (size_t i = 1; i < cl.size(); ++i) joins.push_back(cl[0] + " = " + cl[i]);
  if (!SameSet(joins, def.joins)) return Status::InvalidInput("joins differently from the view");
  // 3. the view's filters are conjuncts of the statement; the rest read keys.
  for (const auto& f : def.filters)
    if (std::find(shape->pred_sql.begin(), shape->pred_sql.end(), f) == shape->pred_sql.end())
      return Status::InvalidInput("lacks the view's filter " + f);
  std::vector<Node*> residual;
  for (size_t i = 0; i < shape->preds.size(); ++i) {
    if (std::find(def.filters.begin(), def.filters.end(), shape->pred_sql[i]) != def.filters.end())
      continue;
    Node* p = shape->preds[i];
    if (!Translate(*shape->tree, &p, def, false, &why)) return Status::InvalidInput(why);
    residual.push_back(p);
  }
  // 5. grouping equal (read as is) or coarser (re-aggregate).
  std::vector<std::string> view_keys;
  for (const auto& k : def.keys) view_keys.push_back(k.expr);
  for (const auto& k : shape->key_sql)
    if (!FindKey(def, k)) return Status::InvalidInput("groups by " + k + ", not a view key");
  const bool rollup = !SameSet(shape->key_sql, view_keys) || shape->key_sql.empty();
  PgQuery__SelectStmt* s = shape->sel;
  rw::Tree& t = *shape->tree;
  // 4. outputs and ORDER BY from view columns.
  for (size_t i = 0; i < s->n_target_list; ++i)
    if (!Translate(t, &s->target_list[i]->res_target->val, def, rollup, &why))
      return Status::InvalidInput(why);
  for (size_t i = 0; i < s->n_sort_clause; ++i) {
    auto* sb = s->sort_clause[i]->sort_by;
    Node* n = sb->node;
    if (n->node_case == PG_QUERY__NODE__NODE_A_CONST ||
        (n->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && n->column_ref->n_fields == 1))
      continue;  // an output name or position: the outputs keep their names
    if (!Translate(t, &sb->node, def, rollup, &why)) return Status::InvalidInput(why);
  }
  std::vector<Node*> group;
  if (rollup)
    for (Node* k : shape->keys) {
      Node* g = t.Clone(k);
      if (!Translate(t, &g, def, true, &why)) return Status::InvalidInput(why);
      group.push_back(g);
    }
  // The FROM: the view alone.
  const auto dot = view.find('.');
  PgQuery__RangeVar rinit = PG_QUERY__RANGE_VAR__INIT;
  auto* rv = t.New(rinit);
  if (dot != std::string::npos) {
    rv->schemaname = t.arena().Strdup(view.substr(0, dot));
    rv->relname = t.arena().Strdup(view.substr(dot + 1));
  } else {
    rv->relname = t.arena().Strdup(view);
  }
  rv->inh = true;
  rv->relpersistence = t.arena().Strdup("p");
  PgQuery__Alias ainit = PG_QUERY__ALIAS__INIT;
  rv->alias = t.New(ainit);
  rv->alias->aliasname = t.arena().Strdup("mv");
  rv->location = -1;
  s->n_from_clause = 0;
  s->from_clause = nullptr;
  t.Append(&s->n_from_clause, &s->from_clause, t.Wrap(PG_QUERY__NODE__NODE_RANGE_VAR, rv));
  s->where_clause = t.And(residual);
  s->n_group_clause = 0;
  s->group_clause = nullptr;
  for (Node* g : group) t.Append(&s->n_group_clause, &s->group_clause, g);
  rs->residual_quals = static_cast<int>(residual.size());
  rs->rollup = rollup;
  rs->rollup_keys = rollup ? static_cast<int>(group.size()) : 0;
  rs->aggregates = static_cast<int>(shape->aggs.size());
  return Status::Ok();
}

}  // namespace

std::string ViewDefinition::Sql() const {
  std::string sql = "SELECT ";
  bool first = true;
  for (const auto* cols : {&keys, &aggs})
    for (const auto& c : *cols) {
      sql += (first ? "" : ", ") + c.expr + " AS " + QuoteIdent(c.name);
      first = false;
    }
  sql += " FROM ";
  for (size_t i = 0; i < tables.size(); ++i)
    sql += (i ? ", " : "") + QuoteIdent(tables[i].schema) + "." + QuoteIdent(tables[i].name) + " " +
           tables[i].alias;
  std::vector<std::string> where = joins;
  where.insert(where.end(), filters.begin(), filters.end());
  for (size_t i = 0; i < where.size(); ++i) sql += (i ? " AND " : " WHERE ") + where[i];
  for (size_t i = 0; i < keys.size(); ++i) sql += (i ? ", " : " GROUP BY ") + keys[i].expr;
  return sql;
}

std::vector<std::string> ViewDefinition::KeyNames() const {
  std::vector<std::string> out;
  for (const auto& k : keys) out.push_back(k.name);
  return out;
}

std::vector<std::string> ViewDefinition::QualifiedTables() const {
  std::vector<std::string> out;
  for (const auto& t : tables) out.push_back(t.schema + "." + t.name);
  return out;
}

MatchResult PlanViews(const Catalog& catalog, const std::vector<Candidate>& candidates) {
  MatchResult res;
  std::vector<Candidate> order = candidates;
  std::stable_sort(order.begin(), order.end(),
                   [](const Candidate& a, const Candidate& b) { return a.weight > b.weight; });
  std::vector<std::unique_ptr<Shape>> shapes;
  std::vector<int> ids;
  std::map<int, std::string> sql_of;
  for (const auto& c : candidates) sql_of[c.index] = c.sql;
  for (const auto& c : order) {
    auto sh = std::make_unique<Shape>();
    std::string why;
    if (!Analyze(catalog, c.sql, sh.get(), &why)) {
      res.refused.push_back("statement " + std::to_string(c.index + 1) + ": " + why);
      continue;
    }
    shapes.push_back(std::move(sh));
    ids.push_back(c.index);
  }
  // Greedy grouping, heaviest first: a statement joins the first group of its
  // signature whose common filters leave every member's other conjuncts
  // applicable to the view.
  struct Group {
    std::vector<size_t> members;
    std::vector<std::string> core;
  };
  std::vector<Group> groups;
  auto core_of = [&](const std::vector<size_t>& members) {
    std::vector<std::string> core;
    const Shape& first = *shapes[members[0]];
    for (size_t i = 0; i < first.preds.size(); ++i) {
      if (!first.core_ok[i]) continue;
      bool all = true;
      for (size_t m : members) {
        const auto& ps = shapes[m]->pred_sql;
        all = all && std::find(ps.begin(), ps.end(), first.pred_sql[i]) != ps.end();
      }
      if (all) core.push_back(first.pred_sql[i]);
    }
    return core;
  };
  auto valid = [&](const std::vector<size_t>& members, const std::vector<std::string>& core) {
    for (size_t m : members) {
      const Shape& sh = *shapes[m];
      for (size_t i = 0; i < sh.preds.size(); ++i)
        if (std::find(core.begin(), core.end(), sh.pred_sql[i]) == core.end() && !sh.pushable[i])
          return false;
    }
    return true;
  };
  for (size_t i = 0; i < shapes.size(); ++i) {
    bool placed = false;
    for (auto& g : groups) {
      if (shapes[g.members[0]]->signature != shapes[i]->signature) continue;
      std::vector<size_t> members = g.members;
      members.push_back(i);
      auto core = core_of(members);
      if (!valid(members, core)) continue;
      g.members = members;
      g.core = core;
      placed = true;
      break;
    }
    if (placed) continue;
    Group g{{i}, {}};
    g.core = core_of(g.members);
    if (!valid(g.members, g.core)) {
      res.refused.push_back("statement " + std::to_string(ids[i] + 1) +
                            ": a conjunct can neither stay in a view nor be applied to one");
      continue;
    }
    groups.push_back(std::move(g));
  }
  for (const auto& g : groups) {
    const Shape& first = *shapes[g.members[0]];
    ViewPlan plan;
    ViewDefinition& def = plan.def;
    def.tables = first.tables;
    for (const auto& cl : first.classes)
      for (size_t i = 1; i < cl.size(); ++i) def.joins.push_back(cl[0] + " = " + cl[i]);
    def.filters = g.core;
    std::set<std::string> taken;
    auto add_key = [&](Node* n) {
      const std::string expr = Sql(n);
      if (FindKey(def, expr)) return;
      std::string base;
      if (n->node_case == PG_QUERY__NODE__NODE_COLUMN_REF) {
        base = FigureColname(n);
      } else {  // date_trunc('month', tK.col)
        const auto* unit = n->func_call->args[0]->a_const;
        base = FigureColname(n->func_call->args[1]) + "_" +
               (unit->val_case == PG_QUERY__A__CONST__VAL_SVAL ? unit->sval->sval : "trunc");
      }
      ViewColumn c;
      c.expr = expr;
      c.key = true;
      c.name = ViewColumnName(base, &taken);
      def.keys.push_back(c);
    };
    for (size_t m : g.members) {
      const Shape& sh = *shapes[m];
      for (Node* k : sh.keys) add_key(k);
      for (size_t i = 0; i < sh.preds.size(); ++i)
        if (std::find(g.core.begin(), g.core.end(), sh.pred_sql[i]) == g.core.end())
          for (Node* c : sh.pred_cols[i]) add_key(c);
    }
    auto add_agg = [&](const std::string& func, const AggUse& a) {
      if (FindAgg(def, func, a.arg)) return;
      ViewColumn c;
      c.func = func;
      c.arg = a.arg;
      c.expr = func + "(" + (a.arg.empty() ? "*" : a.arg) + ")";
      c.name = ViewColumnName(
          a.arg.empty() ? "row_count"
                        : func + "_" + (a.arg_column.empty() ? std::string("expr") : a.arg_column),
          &taken);
      def.aggs.push_back(c);
    };
    for (size_t m : g.members)
      for (const auto& a : shapes[m]->aggs) {
        if (a.func == "avg") {
          add_agg("sum", a);
          add_agg("count", a);
        } else {
          add_agg(a.func, a);
        }
      }
    if (def.keys.empty()) {
      for (size_t m : g.members)
        res.refused.push_back("statement " + std::to_string(ids[m] + 1) +
                              ": a grand total (no grouping key for the unique index REFRESH "
                              "CONCURRENTLY needs)");
      continue;
    }
    // Every member must rewrite onto the view (types unknown yet: checked
    // again once the database has said them).
    for (size_t m : g.members) {
      std::string out;
      Status st = Rewrite(catalog, sql_of[ids[m]], def, "v", &out);
      if (st.ok())
        plan.served.push_back(ids[m]);
      else
        res.refused.push_back("statement " + std::to_string(ids[m] + 1) + ": " + st.message());
    }
    if (!plan.served.empty()) res.plans.push_back(std::move(plan));
  }
  return res;
}

Status Rewrite(const Catalog& catalog, const std::string& sql, const ViewDefinition& def,
               const std::string& view, std::string* out, bool* rollup) {
  Shape shape;
  RewriteShape rs;
  Status st = RewriteShape_(catalog, sql, def, view, &shape, &rs);
  if (!st.ok()) return st;
  std::string text;
  st = shape.tree->Deparse(&text);
  if (!st.ok()) return st;
  // Re-parse: what is printed must be what PostgreSQL reads.
  std::unique_ptr<rw::Tree> again;
  st = rw::Tree::Parse(text, &again);
  if (!st.ok()) return Status::Internal("the rewrite does not re-parse: " + st.message());
  std::string text2;
  if (!again->Deparse(&text2).ok() || text2 != text)
    return Status::Internal("the rewrite does not deparse back to itself");
  *out = text;
  if (rollup) *rollup = rs.rollup;
  return Status::Ok();
}

Status DescribeRewrite(const Catalog& catalog, const std::string& sql, const ViewDefinition& def,
                       RewriteShape* out) {
  Shape shape;
  return RewriteShape_(catalog, sql, def, "v", &shape, out);
}

}  // namespace pgvise::mv
