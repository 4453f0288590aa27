// The plan check about row estimates: row-misestimate, the one that says
// where the planner's guess of a node's rows first goes wrong and why (stale
// statistics, correlated columns whose selectivities it multiplied, or a
// join or grouping whose inputs combine badly), with the ANALYZE or CREATE
// STATISTICS that fixes it. Run from the table in plan_checks.cc. A node
// under a Limit that returns fewer rows than estimated stops early by design
// and is left alone; a node whose child is wrong in the same direction
// inherits the error and is not reported (the child is).
#include "analyzer/plan/plan_checks.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "analyzer/plan/plan_rules.h"
#include "core/session.h"

namespace pgvise::plan_checks {

namespace {

// ------------------------------------------------------------ row-misestimate

bool IsBitmapNode(const PlanNode& n) {
  return n.node_type == "BitmapAnd" || n.node_type == "Bitmap Index Scan";
}

// The relation of the Bitmap Heap Scan above a bitmap node.
std::string HeapOf(const std::vector<NodeRef>& nodes, const PlanNode& n) {
  const PlanNode* cur = &n;
  for (int depth = 0; cur && depth < 3; ++depth) {
    if (!cur->relation.empty()) return cur->QualifiedRelation();
    const PlanNode* parent = nullptr;
    for (const auto& ref : nodes)
      if (ref.node == cur) parent = ref.parent;
    cur = parent;
  }
  return "";
}

// The columns a node's own conditions test against values, over every
// condition it applies (Index Cond, Recheck Cond, Filter; a BitmapAnd's
// index scans), when they are all ANDed: the terms the planner multiplied.
struct FilterColumns {
  std::vector<std::string> columns;  // equality and range columns, first seen first
  bool equality = false, range = false;
  bool all_anded = true;  // no condition is an OR (or anything not parsed)
};

void AddConditions(const PlanNode& n, FilterColumns* out) {
  for (const std::string* c : {&n.index_cond, &n.recheck_cond, &n.filter}) {
    if (c->empty()) continue;
    ConditionColumns cc = AnalyzeCondition(*c);
    if (!cc.parsed || (cc.and_terms == 1 && cc.equality.empty() && cc.range.empty())) {
      out->all_anded = false;  // an OR, a function, something not a plain test
      continue;
    }
    for (const auto* list : {&cc.equality, &cc.range})
      for (const auto& col : *list)
        if (std::find(out->columns.begin(), out->columns.end(), col) == out->columns.end())
          out->columns.push_back(col);
    out->equality |= !cc.equality.empty();
    out->range |= !cc.range.empty();
  }
}

FilterColumns NodeFilterColumns(const PlanNode& n) {
  FilterColumns out;
  AddConditions(n, &out);
  if (n.node_type == "BitmapAnd")
    for (const auto& c : n.children) AddConditions(c, &out);
  return out;
}

// "shop.orders_city_zip_stats" (quoted as needed; at most 63 bytes), in the
// table's schema when the plan names it.
std::string StatisticsName(const std::string& rel, const std::vector<std::string>& cols) {
  size_t dot = rel.find('.');
  std::string schema = dot == std::string::npos ? "" : rel.substr(0, dot);
  std::string table = dot == std::string::npos ? rel : rel.substr(dot + 1);
  std::string name = table + "_" + Join(cols, "_");
  if (name.size() > 57) name.resize(57);
  while (!name.empty() && (static_cast<unsigned char>(name.back()) & 0x80)) name.pop_back();
  name += "_stats";
  return (schema.empty() ? "" : QuoteIdent(schema) + ".") + QuoteIdent(name);
}

double MisestimateFactor(const PlanNode& n) {
  double est = std::max(n.plan_rows, 1.0), act = std::max(n.actual_rows, 1.0);
  return std::max(est, act) / std::min(est, act);
}

}  // namespace

void RowMisestimate(CheckEnv& env) {
  const double factor = env.T("factor");
  const double min_rows = env.T("min_rows");
  const size_t max_findings = static_cast<size_t>(env.T("max_findings"));
  struct Hit {
    const PlanNode* node;
    double factor;
  };
  std::vector<Hit> hits;
  auto misestimated = [&](const PlanNode& n) {
    if (!n.has_actual || n.actual_loops <= 0) return false;  // never executed
    if (std::max(n.plan_rows, n.actual_rows) * std::max(1.0, n.actual_loops) < min_rows)
      return false;
    return MisestimateFactor(n) >= factor;
  };
  for (const auto& ref : env.nodes) {
    const PlanNode& n = *ref.node;
    if (!misestimated(n)) continue;
    // Under a Limit a node stops once enough rows came: fewer than estimated is by design.
    if (ref.under_limit && n.actual_rows < n.plan_rows) continue;
    // Report where the error starts: a child wrong in the same direction
    // explains this node's error, and is reported itself.
    bool over = n.plan_rows > n.actual_rows;
    bool inherited = false;
    for (const auto& c : n.children)
      if (c.parent_relationship != "SubPlan" && c.parent_relationship != "InitPlan" &&
          misestimated(c) && (c.plan_rows > c.actual_rows) == over)
        inherited = true;
    if (inherited) continue;
    hits.push_back({&n, MisestimateFactor(n)});
  }
  std::stable_sort(hits.begin(), hits.end(),
                   [](const Hit& a, const Hit& b) { return a.factor > b.factor; });
  if (hits.size() > max_findings) hits.resize(max_findings);
  for (const auto& h : hits) {
    const PlanNode& n = *h.node;
    bool under = n.actual_rows > n.plan_rows;
    // The table a bitmap node filters is its Bitmap Heap Scan's.
    std::string rel = RelationOf(n);
    if (rel.empty() && IsBitmapNode(n)) rel = HeapOf(env.nodes, n);
    std::string cond = !n.filter.empty()       ? n.filter
                       : !n.index_cond.empty() ? n.index_cond
                                               : n.recheck_cond;
    if (cond.empty() && n.node_type == "BitmapAnd") {
      for (const auto& c : n.children)
        if (!c.index_cond.empty()) cond += (cond.empty() ? "" : " AND ") + c.index_cond;
    }
    ConditionColumns cc = AnalyzeCondition(cond);
    const FilterColumns fc = NodeFilterColumns(n);
    std::string cause, fix, statistics_sql;
    std::vector<std::string> cols = fc.columns;
    if ((IsScan(n) || IsBitmapNode(n)) && !rel.empty() && under && fc.all_anded &&
        cols.size() >= 2) {
      // Several predicates on one table, together far more selective in the
      // estimate than in the data: the planner multiplied selectivities of
      // columns that are correlated. Equality: functional dependencies
      // (an MCV list is only right when the combinations fit in one, and a
      // value missing from it falls back to independence); a range: an MCV
      // list, the only kind that serves ranges.
      std::string kinds = fc.range ? (fc.equality ? "dependencies, mcv" : "mcv") : "dependencies";
      std::string stats = StatisticsName(rel, cols);
      cause = "likely cause: correlated columns " + Join(cols) + " of " + rel +
              ", ANDed in this node's condition (the planner multiplies their selectivities as "
              "if independent)";
      fix = "CREATE STATISTICS " + stats + " (" + kinds + ") ON " + SqlColumns(cols) + " FROM " +
            SqlRelation(rel) + ";\nANALYZE " + SqlRelation(rel) + ";";
      if (!fc.range)
        fix +=
            "\n-- (mcv) instead when the columns have few value combinations; `pgvise advise` "
            "measures the q-error before and after";
      statistics_sql = fix.substr(0, fix.find(";\n"));
    } else if (!rel.empty() && IsScan(n)) {
      cause = "likely cause: stale or too coarse statistics on " + rel;
      // The second step is conditional, so it is a comment: running the
      // whole suggestion must not change settings nobody asked for yet.
      fix = "ANALYZE " + SqlRelation(rel) + ";\n-- if the estimate stays wrong, sample more values";
      if (cc.all.empty()) {
        fix += " of the filtered columns, then ANALYZE again:\n-- ALTER TABLE " + SqlRelation(rel) +
               " ALTER COLUMN <column> SET STATISTICS 1000;";
      } else {
        fix += ", then ANALYZE again:";
        for (const auto& col : cc.all)
          fix += "\n-- ALTER TABLE " + SqlRelation(rel) + " ALTER COLUMN " + QuoteIdent(col) +
                 " SET STATISTICS 1000;";
      }
    } else {
      cause =
          "likely cause: the estimates of its inputs combine badly (join or grouping selectivity)";
      std::vector<std::string> below = RelationsBelow(n);
      fix = below.empty() ? std::string("-- ANALYZE the tables below this node")
                          : "ANALYZE " + SqlRelations(below) + ";";
      fix += "\n-- for joins on several correlated columns, CREATE STATISTICS on those columns";
    }
    std::string msg =
        "row estimate off by " + Count(std::round(h.factor)) + "x (" + (under ? "under" : "over") +
        "estimate): planned " + Count(n.plan_rows) + " rows, got " + Count(n.actual_rows) +
        (n.actual_loops > 1 ? " per loop x " + Count(n.actual_loops) + " loops" : "") +
        (cond.empty() ? "" : " for " + cond) + "; " + cause +
        "; a wrong estimate makes the planner pick join methods and orders for the wrong size";
    Finding& f = env.Emit(n, h.factor, msg, fix);
    f.Add("plan_rows", n.plan_rows)
        .Add("actual_rows", n.actual_rows)
        .Add("loops", n.actual_loops)
        .Add("factor", std::round(h.factor * 10) / 10)
        .Add("direction", std::string(under ? "under" : "over"));
    if (!cond.empty()) f.Add("condition", cond);
    if (!cols.empty()) f.Add("columns", cols);
    if (!statistics_sql.empty()) f.Add("statistics", statistics_sql);
  }
}

}  // namespace pgvise::plan_checks
