// The view advisor's dry-run estimates, read-only: the view's column types
// (a rollup casts sums back to them), the planner's rows, width and cost for
// its definition, and the product of its keys' distinct counts from pg_stats
// (which caps the rows: EXPLAIN guesses the number of groups of an
// expression such as date_trunc). Each is named an estimate in the report;
// advise --verify (matview_verify.cc) measures them.
#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "advisor/matview_internal.h"
#include "catalog/lookups.h"

namespace pgvise::mv::advice {

Status ReadTypes(Session& s, ViewDefinition* def) {
  std::string sel;
  for (const auto* cols : {&def->keys, &def->aggs})
    for (const auto& c : *cols)
      sel +=
          (sel.empty() ? "" : ", ") + std::string("pg_typeof(v.") + QuoteIdent(c.name) + ")::text";
  Rows r;
  Status st = s.QueryRolledBack(
      "SELECT " + sel + " FROM (SELECT 1) d LEFT JOIN (" + def->Sql() + " LIMIT 0) v ON true", &r);
  if (!st.ok()) return st;
  if (r.size() != 1) return Status::Internal("no row from the type query");
  size_t i = 0;
  for (auto* cols : {&def->keys, &def->aggs})
    for (auto& c : *cols) c.type = r.Text(0, i++);
  return Status::Ok();
}

Status ExplainDefinition(Session& s, const std::string& sql, double* cost, double* rows,
                         double* width) {
  Rows r;
  Status st = s.QueryRolledBack("EXPLAIN (FORMAT JSON) " + sql, &r);
  if (!st.ok()) return st;
  auto j = nlohmann::json::parse(r.Text(0, 0), nullptr, false);
  if (j.is_discarded() || !j.is_array() || j.empty())
    return Status::Internal("unreadable EXPLAIN output");
  const auto& plan = j[0]["Plan"];
  *cost = plan.value("Total Cost", 0.0);
  *rows = plan.value("Plan Rows", 0.0);
  *width = plan.value("Plan Width", 0.0);
  return Status::Ok();
}

namespace {

// Seconds per date_trunc unit (a month and longer: their average length).
double UnitSeconds(const std::string& unit) {
  static const std::map<std::string, double> k = {{"second", 1},
                                                  {"minute", 60},
                                                  {"hour", 3600},
                                                  {"day", 86400},
                                                  {"week", 604800},
                                                  {"month", 2629746},
                                                  {"quarter", 7889238},
                                                  {"year", 31556952},
                                                  {"decade", 315569520},
                                                  {"century", 3155695200},
                                                  {"millennium", 31556952000}};
  auto it = k.find(unit);
  return it == k.end() ? 0 : it->second;
}

// Distinct values of one key: pg_stats n_distinct for a column; for
// date_trunc(unit, col), at most the column's distinct values and at most
// the number of units between its histogram's first and last bound (the
// planner has no statistics for the expression and guesses). -1 unknown.
double KeyDistinct(Session& session, const Catalog& catalog, const ViewDefinition& def,
                   const std::string& expr, double* width) {
  std::string e = expr, unit;
  const bool trunc = e.rfind("date_trunc('", 0) == 0;
  if (trunc) {
    const size_t q = e.find('\'', 12);
    const size_t comma = e.find(", ", q);
    if (q == std::string::npos || comma == std::string::npos || e.back() != ')') return -1;
    unit = e.substr(12, q - 12);
    e = e.substr(comma + 2, e.size() - comma - 3);
  }
  const auto dot = e.find('.');
  if (e.find('(') != std::string::npos || dot == std::string::npos) return -1;
  const std::string alias = e.substr(0, dot);
  std::string col = e.substr(dot + 1);
  if (col.size() > 1 && col.front() == '"') col = col.substr(1, col.size() - 2);
  const TableInfo* ti = nullptr;
  for (const auto& t : def.tables)
    if (t.alias == alias) ti = catalog.FindTable(t.schema, t.name);
  const ColumnInfo* ci = ti ? ti->Column(col) : nullptr;
  if (!ci) return -1;
  if (ci->avg_width > 0) *width = trunc ? 8 : ci->avg_width;
  if (!ci->has_stats) return -1;
  double d = std::max(1.0, ci->DistinctValues(ti->Rows()));
  if (!trunc) return d;
  const double unit_s = UnitSeconds(unit);
  if (unit_s <= 0) return d;
  // A column that is not a date/time makes the look-up fail: d stands.
  double span_s = -1;
  if (HistogramSpanSeconds(session, ti->schema, ti->name, col, &span_s).ok() && span_s >= 0)
    d = std::min(d, std::floor(span_s / unit_s) + 2);  // partial units at both ends
  return d;
}

}  // namespace

// Product of the keys' distinct counts, -1 when one is unknown.
double DistinctProduct(Session& session, const Catalog& catalog, const ViewDefinition& def,
                       double* key_width) {
  double product = 1;
  bool known = true;
  *key_width = 0;
  for (const auto& k : def.keys) {
    double width = 8;
    const double d = KeyDistinct(session, catalog, def, k.expr, &width);
    *key_width += width;
    if (d < 0)
      known = false;
    else
      product *= d;
  }
  return known ? product : -1;
}

}  // namespace pgvise::mv::advice
