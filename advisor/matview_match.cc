// View matching: which statements one materialized view serves, and how each
// is rewritten to read it.
//
// PostgreSQL never rewrites a query onto a materialized view, so a view is
// only worth proposing together with the statements rewritten to read it, and
// each rewrite must return the same rows as the statement, for every state of
// the base tables. The conditions are Goldstein & Larson's (SIGMOD 2001),
// restricted to what can be checked on the parse tree alone:
//
//   1. same tables: the statement reads the view's tables, each once, or a
//      subset of them when every extra table is joined through a key (a
//      NOT NULL, validated foreign key of one of the statement's tables to
//      the extra table's key, equated to nothing else: each row meets
//      exactly one extra row, so none is lost or repeated; matview_extra.cc);
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
//      A grand total (aggregates, no GROUP BY) is coarser than any grouping:
//      it re-aggregates every row of the view (no GROUP BY, so one row even
//      when the view is empty, like the statement); grand totals alone get a
//      one-row view keyed by a constant (`1 AS pgvise_total`);
//   6. HAVING: its aggregates are kept by the view like the outputs'. At the
//      view's grouping each view row is one group, so it becomes a conjunct
//      on the row; over a rollup it stays a HAVING on the re-aggregates.
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
// but one plain SELECT with aggregates or GROUP BY; DISTINCT, window
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
#include <map>
#include <memory>
#include <set>

#include "advisor/matview_match_internal.h"
#include "core/session.h"

namespace pgvise::mv {

using detail::AggUse;
using detail::Analyze;
using detail::ExtraTablesKeepRows;
using detail::FigureColname;
using detail::FindAgg;
using detail::FindKey;
using detail::Node;
using detail::Shape;
using detail::Sql;
using detail::ViewColumnName;

std::string ViewDefinition::Sql() const {
  std::string sql = "SELECT ";
  bool first = true;
  if (keys.empty()) {  // a grand total: one row, keyed by a constant for its unique index
    sql += std::string("1 AS ") + kGrandTotalKey;
    first = false;
  }
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
  if (keys.empty()) out.push_back(kGrandTotalKey);
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
  // applicable to the view; or a group over more tables, each extra one
  // joined through a key (matview_extra.cc); or it becomes the base of a
  // group over fewer tables, on the same condition for every member.
  struct Group {
    size_t base;  // the member whose tables and joins the view has
    std::vector<size_t> members;
    std::vector<std::string> core;
  };
  std::vector<Group> groups;
  auto joins_of = [](const Shape& sh) {
    std::vector<std::string> joins;
    for (const auto& cl : sh.classes)
      for (size_t i = 1; i < cl.size(); ++i) joins.push_back(cl[0] + " = " + cl[i]);
    return joins;
  };
  // Shape m read again with base's aliases; null when base's extra tables
  // could change its rows.
  auto align = [&](size_t m, const Shape& base) -> std::unique_ptr<Shape> {
    auto sh = std::make_unique<Shape>();
    std::string why;
    if (!Analyze(catalog, sql_of[ids[m]], sh.get(), &why, &base.tables) ||
        !ExtraTablesKeepRows(catalog, *sh, base.tables, joins_of(base), &why))
      return nullptr;
    return sh;
  };
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
      const Shape& base = *shapes[g.base];
      size_t new_base = g.base;
      // Members read again for this grouping, swapped in while it is tried.
      std::vector<std::pair<size_t, std::unique_ptr<Shape>>> swap;
      if (base.signature == shapes[i]->signature) {
        // same tables and joins: as read
      } else if (detail::ProperSubset(shapes[i]->tables, base.tables)) {
        auto a = align(i, base);
        if (!a) continue;
        swap.emplace_back(i, std::move(a));
      } else if (detail::ProperSubset(base.tables, shapes[i]->tables)) {
        bool all = true;
        for (size_t m : g.members) {
          auto a = align(m, *shapes[i]);
          all = all && a;
          if (!all) break;
          swap.emplace_back(m, std::move(a));
        }
        if (!all) continue;
        new_base = i;
      } else {
        continue;
      }
      for (auto& [m, sh] : swap) std::swap(shapes[m], sh);
      std::vector<size_t> members = g.members;
      members.push_back(i);
      auto core = core_of(members);
      if (!valid(members, core)) {
        for (auto& [m, sh] : swap) std::swap(shapes[m], sh);  // back as read
        continue;
      }
      g.base = new_base;
      g.members = members;
      g.core = core;
      placed = true;
      break;
    }
    if (placed) continue;
    Group g{i, {i}, {}};
    g.core = core_of(g.members);
    if (!valid(g.members, g.core)) {
      res.refused.push_back("statement " + std::to_string(ids[i] + 1) +
                            ": a conjunct can neither stay in a view nor be applied to one");
      continue;
    }
    groups.push_back(std::move(g));
  }
  for (const auto& g : groups) {
    const Shape& base = *shapes[g.base];
    ViewPlan plan;
    ViewDefinition& def = plan.def;
    def.tables = base.tables;
    def.joins = joins_of(base);
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
    // No keys at all: a grand total, one row keyed by a constant
    // (ViewDefinition::Sql).
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

}  // namespace pgvise::mv
