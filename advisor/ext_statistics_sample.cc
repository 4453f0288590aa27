// Extended statistics, step 3: the evidence, read-only. The planner's rows
// for the probe (EXPLAIN) against what a TABLESAMPLE of about sample_rows
// rows finds, scaled to the table: the q-error; the same sample's single-
// column fractions give the dependence (correlation, not stale statistics).
// For GROUP BY, the planner's groups against Duj1 over the sample.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "advisor/ext_statistics_internal.h"

namespace pgvise {

double QError(double estimated_rows, double actual_rows) {
  const double e = std::max(estimated_rows, 1.0), a = std::max(actual_rows, 1.0);
  return std::max(e / a, a / e);
}

double Duj1Distinct(double n, double d, double f1, double total_rows) {
  if (n <= 0 || d <= 0) return 0;
  if (f1 >= n) return total_rows;  // every sampled row distinct: assume unique
  double denom = n - f1 + f1 * n / std::max(total_rows, n);
  double est = n * d / denom;
  return std::clamp(est, d, std::max(total_rows, d));
}

namespace extstats {

using json = nlohmann::json;

Status EstimateRows(Session& s, const std::string& sql, double* rows) {
  Rows r;
  Status st = s.Query("EXPLAIN (FORMAT JSON) " + sql, &r);
  if (!st.ok()) return st;
  std::string text;
  for (size_t i = 0; i < r.size(); ++i) text += r.Text(i, 0);
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_array() || j.empty() || !j[0].contains("Plan"))
    return Status::Database("EXPLAIN returned no plan for " + sql);
  *rows = j[0]["Plan"].value("Plan Rows", 0.0);
  return Status::Ok();
}

// `FROM t TABLESAMPLE SYSTEM (p) REPEATABLE (1)` reading about sample_rows
// rows, or the whole table when it is that small.
std::string SampleFrom(const std::string& table_sql, double rows, int64_t sample_rows,
                       bool* exact) {
  *exact = rows <= static_cast<double>(sample_rows);
  if (*exact) return table_sql;
  double pct = 100.0 * static_cast<double>(sample_rows) / rows;
  pct = std::clamp(pct, 0.0001, 100.0);
  return table_sql + " TABLESAMPLE SYSTEM (" + Fmt(pct, 4) + ") REPEATABLE (1)";
}

// Gives the `col = $n` columns of a probe (empty terms) the most frequent
// combination of values in a sample of the table among the rows the rest of
// the probe selects: independent representative values per parameter would
// pair a zip with another city's name, a combination no call asks for.
Status FillFromData(Session& s, ColumnGroup* g, double table_rows, int64_t sample_rows) {
  std::vector<std::string> cols, fixed;
  for (size_t i = 0; i < g->columns.size(); ++i)
    (g->probe_terms[i].empty() ? cols : fixed)
        .push_back(g->probe_terms[i].empty() ? QuoteIdent(g->columns[i]) : g->probe_terms[i]);
  bool exact = false;
  const std::string list = Join(cols);
  Rows r;
  Status st =
      s.Query("SELECT " + list + " FROM " +
                  SampleFrom(QualifiedSql(g->schema, g->table), table_rows, sample_rows, &exact) +
                  (fixed.empty() ? "" : " WHERE " + Join(fixed, " AND ")) + " GROUP BY " + list +
                  " ORDER BY count(*) DESC LIMIT 1",
              &r);
  if (!st.ok()) return st;
  if (r.empty()) return Status::NotFound("no sampled row matches " + Join(fixed, " AND "));
  size_t k = 0;
  for (size_t i = 0; i < g->columns.size(); ++i) {
    if (!g->probe_terms[i].empty()) continue;
    g->probe_terms[i] = QuoteIdent(g->columns[i]) +
                        (r.IsNull(0, k) ? " IS NULL" : " = " + QuoteLiteral(r.Text(0, k)));
    ++k;
  }
  g->probe = Join(g->probe_terms, " AND ");
  g->probe_from_data = true;
  return Status::Ok();
}

namespace {

Status TableRows(Session& s, const std::string& table_sql, double* rows) {
  // The planner's own row count for the table (reltuples scaled to the
  // current size, as it plans), so estimate and sample share one scale.
  return EstimateRows(s, "SELECT 1 FROM " + table_sql, rows);
}

}  // namespace

Status MeasureFilter(Session& s, const ColumnGroup& g, const StatisticsOptions& o, Measure* m) {
  const std::string t = QualifiedSql(g.schema, g.table);
  Status st = TableRows(s, t, &m->table_rows);
  if (!st.ok()) return st;
  st = EstimateRows(s, "SELECT 1 FROM " + t + " WHERE " + g.probe, &m->est_rows);
  if (!st.ok()) return st;
  const std::vector<std::string>& terms = g.probe_terms;
  std::string sql = "SELECT count(*), count(*) FILTER (WHERE " + g.probe + ")";
  for (const auto& term : terms) sql += ", count(*) FILTER (WHERE " + term + ")";
  sql += ", count(DISTINCT ROW(" + ColumnsSql(g.columns) + "))";
  // Each pair's joint count, read from the same sample (at most 28 pairs
  // for PostgreSQL's 8 columns): which columns of the filter are correlated.
  std::vector<Measure::Pair> pairs;
  if (terms.size() == g.columns.size())
    for (size_t a = 0; a < terms.size(); ++a)
      for (size_t b = a + 1; b < terms.size(); ++b) {
        pairs.push_back({a, b, 1});
        sql += ", count(*) FILTER (WHERE " + terms[a] + " AND " + terms[b] + ")";
      }
  sql += " FROM " + SampleFrom(t, m->table_rows, o.sample_rows, &m->exact);
  Rows r;
  st = s.Query(sql, &r);
  if (!st.ok()) return st;
  m->sampled = r.Double(0, 0);
  m->matched = r.Double(0, 1);
  m->combinations = r.Double(0, terms.size() + 2);
  if (m->sampled <= 0) return Status::Database("the sample of " + t + " is empty");
  const double scale = m->table_rows / m->sampled;
  // No match in the sample: the true count is below about one sampled row's
  // worth; take that bound, so only an overestimate beyond it counts.
  m->act_rows = std::max(m->matched, 1.0) * scale;
  m->q = m->matched == 0 && m->est_rows <= m->act_rows ? 1.0 : QError(m->est_rows, m->act_rows);
  // Dependence: the combination against the product of each column's own
  // fraction in the same sample (what independence predicts).
  if (terms.empty()) {
    m->dependence = m->q;
  } else {
    double indep = m->table_rows;
    for (size_t i = 0; i < terms.size(); ++i) indep *= r.Double(0, i + 2) / m->sampled;
    m->dependence = m->matched == 0 && indep <= m->act_rows ? 1.0 : QError(indep, m->act_rows);
  }
  // A pair as the whole filter is judged: the joint count against what the
  // two single fractions predict, no match taken as about one sampled row.
  const size_t first_pair = terms.size() + 3;
  for (size_t k = 0; k < pairs.size(); ++k) {
    Measure::Pair& p = pairs[k];
    const double joint = r.Double(0, first_pair + k);
    const double indep =
        m->table_rows * (r.Double(0, p.a + 2) / m->sampled) * (r.Double(0, p.b + 2) / m->sampled);
    const double act = std::max(joint, 1.0) * scale;
    p.dependence = joint == 0 && indep <= act ? 1.0 : QError(indep, act);
  }
  m->pairs = std::move(pairs);
  m->ok = true;
  return Status::Ok();
}

void CorrelatedColumns(const ColumnGroup& g, const Measure& m, double min_dependence,
                       std::vector<std::string>* columns, std::vector<std::string>* pairs) {
  std::vector<Measure::Pair> hot;
  for (const auto& p : m.pairs)
    if (p.dependence >= min_dependence) hot.push_back(p);
  std::stable_sort(hot.begin(), hot.end(), [](const Measure::Pair& x, const Measure::Pair& y) {
    return x.dependence > y.dependence;
  });
  std::vector<bool> in(g.columns.size(), false);
  for (const auto& p : hot) {
    in[p.a] = in[p.b] = true;
    pairs->push_back(g.columns[p.a] + ", " + g.columns[p.b] + ": " + Fmt(p.dependence) + "x");
  }
  for (size_t i = 0; i < g.columns.size(); ++i)
    if (in[i]) columns->push_back(g.columns[i]);
}

Status MeasureGroups(Session& s, const ColumnGroup& g, const StatisticsOptions& o, Measure* m) {
  const std::string t = QualifiedSql(g.schema, g.table);
  Status st = TableRows(s, t, &m->table_rows);
  if (!st.ok()) return st;
  const std::string cols = ColumnsSql(g.columns);
  st = EstimateRows(s, "SELECT 1 FROM " + t + " GROUP BY " + cols, &m->est_groups);
  if (!st.ok()) return st;
  bool exact = false;
  Rows r;
  st = s.Query(
      "SELECT count(*) AS d, count(*) FILTER (WHERE c = 1) AS f1, coalesce(sum(c), 0) AS "
      "n FROM (SELECT count(*) AS c FROM " +
          SampleFrom(t, m->table_rows, o.sample_rows, &exact) + " GROUP BY " + cols + ") s",
      &r);
  if (!st.ok()) return st;
  const double d = r.Double(0, 0), f1 = r.Double(0, 1), n = r.Double(0, 2);
  if (n <= 0) return Status::Database("the sample of " + t + " is empty");
  m->act_groups = exact ? d : Duj1Distinct(n, d, f1, m->table_rows);
  m->q_groups = QError(m->est_groups, m->act_groups);
  m->ok = true;
  return Status::Ok();
}

}  // namespace extstats

}  // namespace pgvise
