// Extended statistics advice, from the workload's column groups to measured
// q-errors.
//
// PostgreSQL estimates `WHERE city = 'Lyon' AND zip = '69001'` as
// sel(city) x sel(zip): it assumes columns are independent. When they are
// not (a zip code determines its city), the product is far too small, and
// the plan built on it (a nested loop over "12 rows" that are 1,500) is slow.
// CREATE STATISTICS teaches the planner the dependency (functional
// dependencies, a multi-column MCV list) or the real number of distinct
// combinations (ndistinct, for GROUP BY). Each object costs ANALYZE time and
// a little catalog space, so it is only worth creating where the workload
// filters or groups on those columns together and the planner is wrong.
//
// The method, step by step:
//   1. Groups (FindColumnGroups): per statement and per relation of it, the
//      columns ANDed in WHERE / ON with equality, IN, = ANY or a range
//      against a constant or `$n` (not under OR / NOT, no expressions), and
//      the columns grouped together. Two or more columns of one table make a
//      group; the same set from several statements is one group (calls add
//      up). A group an existing statistics object already covers, with the
//      kinds it needs, is skipped.
//   2. The probe: the heaviest statement's own conditions on those columns,
//      `$n` replaced by its most frequent representative value set
//      (advisor/parameters.h), e.g. `city = 'Lyon' AND zip = '69001'`.
//   3. Evidence, read-only: the planner's rows for `SELECT 1 FROM t WHERE
//      <probe>` (EXPLAIN) against the rows a TABLESAMPLE SYSTEM of about
//      sample_rows rows finds (count(*) over the sample, scaled to the
//      table); q-error = max(est/act, act/est). The same sample counts each
//      column's condition alone, so the advisor can tell correlation (the
//      combined fraction differs from the product of the single fractions:
//      "dependence") from stale single-column statistics (then ANALYZE, not
//      CREATE STATISTICS, is the fix). For a GROUP BY group: the planner's
//      group count against PostgreSQL's own Duj1 estimate of the distinct
//      combinations in the sample.
//   4. Recommend when q-error and dependence both reach min_q_error
//      (default 4): `CREATE STATISTICS (dependencies, mcv)` for equality
//      filters (dependencies need equality; the MCV list also serves IN and
//      ranges), `(mcv)` for range-only filters, `(ndistinct)` for GROUP BY.
//
// Worked example (tests/ext_statistics_pg_test.cc): 200,000 addresses, 1,000
// zips each in one of 100 cities; `WHERE city = 'c7' AND zip = 'z7'`. The
// planner: 1% x 0.1% x 200,000 = 2 rows. The 30,000-row sample: 31 matches,
// i.e. ~207 rows; q-error ~100, dependence ~100 -> CREATE STATISTICS
// (dependencies, mcv) ON city, zip. --verify creates it, ANALYZEs and the
// estimate becomes ~200 rows (q-error ~1). A table whose two columns are
// drawn independently gets q-error ~1 and no recommendation.
//
// --verify runs the whole experiment inside one transaction on the test
// database (ANALYZE, plans, CREATE STATISTICS, ANALYZE, plans again) and
// rolls it back, so the statistics object and the refreshed column
// statistics vanish with it; only pg_class.reltuples, which ANALYZE updates
// in place, keeps the fresh count.
#include "advisor/ext_statistics.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "advisor/parameters.h"
#include "catalog/ext_stats.h"

namespace pgvise {

namespace {

using json = nlohmann::json;

constexpr size_t kMaxStatisticsColumns = 8;  // PostgreSQL's STATS_MAX_DIMENSIONS

std::string Fmt(double v, int decimals = 1) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string RowCount(double v) {
  std::string s = Fmt(std::round(v), 0);
  std::string out;
  int n = 0;
  for (auto it = s.rbegin(); it != s.rend(); ++it) {
    if (n && n % 3 == 0 && *it != '-') out.insert(out.begin(), ',');
    out.insert(out.begin(), *it);
    ++n;
  }
  return out;
}

std::string Join(const std::vector<std::string>& v, const std::string& sep = ", ") {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string QualifiedSql(const std::string& schema, const std::string& name) {
  return QuoteIdent(schema) + "." + QuoteIdent(name);
}

std::string ColumnsSql(const std::vector<std::string>& cols) {
  std::vector<std::string> q;
  for (const auto& c : cols) q.push_back(QuoteIdent(c));
  return Join(q);
}

// A predicate the extended statistics can sharpen: equality, IN, = ANY or a
// range, on a plain column, ANDed with the rest of the clause.
bool UsableFilter(const Predicate& p) {
  if (p.under_or || p.negated || !p.expression.empty() || p.column.empty()) return false;
  if (p.clause != Clause::kWhere && p.clause != Clause::kJoinOn) return false;
  switch (p.kind) {
    case PredicateKind::kEquality:
    case PredicateKind::kInList:
    case PredicateKind::kAnyArray:
    case PredicateKind::kRange:
      break;
    default:
      return false;
  }
  if (p.value_kind == ValueKind::kConstant || p.value_kind == ValueKind::kParameter) return true;
  return p.kind == PredicateKind::kRange && p.value_kind == ValueKind::kExpression &&
         !p.constants.empty();
}

bool ParamNumber(const std::string& t, size_t* n) {
  if (t.size() < 2 || t[0] != '$') return false;
  size_t v = 0;
  for (size_t i = 1; i < t.size(); ++i) {
    if (t[i] < '0' || t[i] > '9') return false;
    v = v * 10 + static_cast<size_t>(t[i] - '0');
  }
  *n = v;
  return v > 0;
}

// One predicate as SQL on the bare table, `$n` replaced from `set`; false
// when a value is missing (no set, or NULL: `= NULL` matches nothing).
bool RenderPredicate(const Predicate& p, const std::string& column, const ParamSet* set,
                     std::string* out) {
  std::vector<std::string> v;
  for (const auto& c : p.constants) {
    size_t n = 0;
    if (ParamNumber(c, &n)) {
      if (!set || n > set->values.size() || !set->values[n - 1]) return false;
      v.push_back(QuoteLiteral(*set->values[n - 1]));
    } else {
      v.push_back(c);
    }
  }
  if (v.empty()) return false;
  const std::string col = QuoteIdent(column);
  switch (p.kind) {
    case PredicateKind::kEquality:
      *out = col + " = " + v[0];
      return true;
    case PredicateKind::kInList:
      *out = col + " IN (" + Join(v) + ")";
      return true;
    case PredicateKind::kAnyArray:
      *out = v.size() == 1 && p.value_kind == ValueKind::kParameter ? col + " = ANY (" + v[0] + ")"
                                                                    : col + " IN (" + Join(v) + ")";
      return true;
    case PredicateKind::kRange:
      if (p.op == "BETWEEN") {
        if (v.size() != 2) return false;
        *out = col + " BETWEEN " + v[0] + " AND " + v[1];
      } else {
        *out = col + " " + p.op + " " + v[0];
      }
      return true;
    default:
      return false;
  }
}

// The predicates and group keys of one query level.
struct Level {
  const std::vector<RelationRef>* relations;
  const std::vector<Predicate>* predicates;
  const std::vector<SortKey>* group_by;  // null in a subquery (QueryFacts keeps the outer one)
};

struct Builder {
  const Catalog& catalog;
  const Workload& workload;
  const ParameterOptions& params;
  std::map<std::string, ColumnGroup> groups;  // key: schema.table|col,col
  std::map<int, std::optional<ParamSet>> sets;

  // The most frequent value set of statement s (nullopt: it has no `$n`, or none derived).
  const ParamSet* SetFor(int s) {
    auto it = sets.find(s);
    if (it == sets.end()) {
      std::optional<ParamSet> best;
      const WorkloadStatement& ws = workload.statements[static_cast<size_t>(s)];
      if (ws.has_params) {
        StatementParams sp = DeriveParameters(ws, catalog, workload.qual_constants, params);
        for (const auto& set : sp.sets)
          if (!best || set.weight > best->weight) best = set;
      }
      it = sets.emplace(s, std::move(best)).first;
    }
    return it->second ? &*it->second : nullptr;
  }

  // Sorts catalogued column names by attnum and caps them at 8.
  static std::vector<std::string> Ordered(const TableInfo& t, std::set<std::string> cols) {
    std::vector<std::pair<int, std::string>> v;
    for (const auto& c : cols)
      if (const ColumnInfo* ci = t.Column(c)) v.push_back({ci->attnum, ci->name});
    std::sort(v.begin(), v.end());
    std::vector<std::string> out;
    for (const auto& [n, name] : v)
      if (out.size() < kMaxStatisticsColumns) out.push_back(name);
    return out;
  }

  ColumnGroup& Group(const TableInfo& t, const std::vector<std::string>& cols) {
    const std::string key = t.QualifiedName() + "|" + Join(cols, ",");
    auto [it, inserted] = groups.try_emplace(key);
    if (inserted) {
      it->second.schema = t.schema;
      it->second.table = t.name;
      it->second.columns = cols;
    }
    return it->second;
  }

  static void AddStatement(ColumnGroup& g, int s, double calls) {
    if (std::find(g.statements.begin(), g.statements.end(), s) != g.statements.end()) return;
    g.statements.push_back(s);
    g.calls += calls;
  }

  void Visit(int s, const Level& lv, bool single_relation) {
    const WorkloadStatement& ws = workload.statements[static_cast<size_t>(s)];
    for (const auto& rel : *lv.relations) {
      if (rel.is_cte) continue;
      const TableInfo* t = catalog.FindTable(rel.QualifiedName());
      if (!t) continue;
      // Filters: column -> its usable predicates.
      std::map<std::string, std::vector<const Predicate*>> by_col;
      bool equality = false, range = false;
      for (const auto& p : *lv.predicates) {
        if (p.relation != rel.alias || !UsableFilter(p)) continue;
        const ColumnInfo* ci = t->Column(p.column);
        if (!ci) continue;
        by_col[ci->name].push_back(&p);
        if (p.kind == PredicateKind::kRange)
          range = true;
        else
          equality = true;
      }
      if (by_col.size() >= 2) {
        std::set<std::string> names;
        for (const auto& [c, ps] : by_col) names.insert(c);
        std::vector<std::string> cols = Ordered(*t, names);
        ColumnGroup& g = Group(*t, cols);
        g.filter = true;
        g.equality |= equality;
        g.has_range |= range;
        AddStatement(g, s, ws.calls);
        // The probe from the heaviest statement that yields values for all.
        const bool heavier =
            g.probe_statement < 0 ||
            ws.calls > workload.statements[static_cast<size_t>(g.probe_statement)].calls;
        if (heavier) {
          const ParamSet* set = SetFor(s);
          std::vector<std::string> per_column;
          bool ok = true;
          for (const auto& c : cols) {
            std::vector<std::string> terms;
            // `col = $n`: the value comes from the data (FillFromData), so
            // that the columns' values are a combination that exists.
            const auto& ps = by_col[c];
            if (ps.size() == 1 && ps[0]->kind == PredicateKind::kEquality &&
                ps[0]->value_kind == ValueKind::kParameter) {
              per_column.push_back("");
              continue;
            }
            for (const Predicate* p : ps) {
              std::string term;
              if (!RenderPredicate(*p, c, set, &term)) {
                ok = false;
                break;
              }
              terms.push_back(term);
            }
            if (!ok) break;
            per_column.push_back(Join(terms, " AND "));
          }
          if (ok) {
            const bool complete =
                std::none_of(per_column.begin(), per_column.end(),
                             [](const std::string& term) { return term.empty(); });
            g.probe = complete ? Join(per_column, " AND ") : "";
            g.probe_terms = per_column;
            g.probe_statement = s;
          }
        }
      }
      // GROUP BY columns of this relation.
      if (!lv.group_by) continue;
      std::set<std::string> keys;
      for (const auto& sk : *lv.group_by) {
        if (sk.column.empty() || !sk.expression.empty()) continue;
        if (sk.relation != rel.alias && !(sk.relation.empty() && single_relation)) continue;
        if (const ColumnInfo* ci = t->Column(sk.column)) keys.insert(ci->name);
      }
      if (keys.size() >= 2) {
        ColumnGroup& g = Group(*t, Ordered(*t, keys));
        g.group_by = true;
        AddStatement(g, s, ws.calls);
      }
    }
  }
};

// The planner's rows for the root of EXPLAIN (FORMAT JSON) `sql`.
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

// What one probe measured.
struct Measure {
  bool ok = false;
  std::string error;
  double table_rows = 0;  // the planner's reltuples (the scale of both numbers)
  // Filter.
  double est_rows = 0, act_rows = 0, sampled = 0, matched = 0, q = 1, dependence = 1;
  double combinations = 0;  // distinct value combinations in the sample (a lower bound)
  bool exact = false;
  // GROUP BY.
  double est_groups = 0, act_groups = 0, q_groups = 1;
};

Status TableRows(Session& s, const std::string& table_sql, double* rows) {
  // The planner's own row count for the table (reltuples scaled to the
  // current size, as it plans), so estimate and sample share one scale.
  return EstimateRows(s, "SELECT 1 FROM " + table_sql, rows);
}

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
  m->ok = true;
  return Status::Ok();
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

// A statistics object name: <table>_<col>_<col>_stats, at most 63 bytes,
// not taken in its schema.
std::string StatisticsName(const ColumnGroup& g, std::set<std::string>* taken) {
  std::string base = g.table + "_" + Join(g.columns, "_");
  auto fit = [](std::string s, size_t max) {
    if (s.size() <= max) return s;
    s.resize(max);
    while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80) s.pop_back();
    if (!s.empty() && static_cast<unsigned char>(s.back()) >= 0xC0) s.pop_back();
    return s;
  };
  for (int n = 0;; ++n) {
    std::string suffix = n == 0 ? "_stats" : "_stats" + std::to_string(n);
    std::string name = fit(base, 63 - suffix.size()) + suffix;
    if (taken->insert(g.schema + "." + name).second) return name;
  }
}

const Evidence* FindEvidence(const Recommendation& r, const std::string& key) {
  for (const auto& e : r.evidence)
    if (e.key == key) return &e;
  return nullptr;
}

template <typename T>
const T* EvidenceAs(const Recommendation& r, const std::string& key) {
  const Evidence* e = FindEvidence(r, key);
  return e ? std::get_if<T>(&e->value) : nullptr;
}

void SetEvidence(Recommendation* r, const std::string& key, EvidenceValue v) {
  for (auto& e : r->evidence)
    if (e.key == key) {
      e.value = std::move(v);
      return;
    }
  r->Add(key, std::move(v));
}

double EvidenceNumber(const Recommendation& r, const std::string& key, double fallback = 0) {
  if (const double* d = EvidenceAs<double>(r, key)) return *d;
  if (const int64_t* i = EvidenceAs<int64_t>(r, key)) return static_cast<double>(*i);
  return fallback;
}

double Round2(double v) { return std::round(v * 100) / 100; }

}  // namespace

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

std::string StatisticsKinds(const ColumnGroup& g) {
  std::vector<std::string> k;
  if (g.group_by) k.push_back("ndistinct");
  if (g.filter && g.equality) k.push_back("dependencies");
  if (g.filter && (g.mcv_fits || !g.equality || g.has_range)) k.push_back("mcv");
  return Join(k);
}

std::vector<ColumnGroup> FindColumnGroups(const Catalog& catalog, const Workload& workload,
                                          const ParameterOptions& params) {
  Builder b{catalog, workload, params, {}, {}};
  for (size_t s = 0; s < workload.statements.size(); ++s) {
    const QueryFacts& f = workload.statements[s].facts;
    b.Visit(static_cast<int>(s), {&f.relations, &f.predicates, &f.group_by},
            f.relations.size() == 1);
    for (const auto& sq : f.subqueries)
      b.Visit(static_cast<int>(s), {&sq.relations, &sq.predicates, nullptr}, false);
  }
  std::vector<ColumnGroup> out;
  for (auto& [key, g] : b.groups) out.push_back(std::move(g));
  std::stable_sort(out.begin(), out.end(),
                   [](const ColumnGroup& a, const ColumnGroup& b) { return a.calls > b.calls; });
  return out;
}

void AdviseStatistics(Session& session, const Catalog& catalog, const Workload& workload,
                      const AdviseOptions& opts, AdviseReport* rep) {
  const StatisticsOptions& o = opts.statistics;
  auto say = [&](const std::string& m) {
    if (opts.selection.progress) opts.selection.progress(m);
  };
  auto verbose = [&](const std::string& m) {
    if (opts.verbose) rep->notes.push_back("statistics: " + m);
  };
  std::vector<ColumnGroup> groups = FindColumnGroups(catalog, workload, opts.parameters);
  if (groups.empty()) return;
  std::vector<ExtStatInfo> existing;
  Status st = LoadExtendedStatistics(session, &existing);
  if (!st.ok())
    rep->notes.push_back("statistics: existing statistics objects not read (" + st.message() +
                         "); groups they cover may be proposed again");
  std::set<std::string> taken;
  for (const auto& e : existing) taken.insert(e.schema + "." + e.name);
  double mcv_items = 100;  // default_statistics_target: the MCV list's length
  Rows target;
  if (session.Query("SELECT current_setting('default_statistics_target')", &target).ok() &&
      !target.empty())
    mcv_items = target.Double(0, 0, 100);

  say("extended statistics: " + std::to_string(groups.size()) + " column group(s)");
  int probed = 0, covered = 0, small = 0;
  std::vector<Recommendation> recs;
  std::vector<ColumnGroup> chosen;
  for (auto& g : groups) {
    const std::string what = g.schema + "." + g.table + " (" + Join(g.columns) + ")";
    for (const auto& e : existing)
      if (e.table_schema == g.schema && e.table == g.table &&
          e.Covers(g.columns, g.group_by, false, false) && (!g.filter || e.dependencies || e.mcv)) {
        g.covered = true;
        g.covered_by = e.QualifiedName();
      }
    if (g.covered) {
      ++covered;
      verbose(what + ": covered by statistics object " + g.covered_by);
      continue;
    }
    const TableInfo* t = catalog.FindTable(g.schema, g.table);
    if (!t || t->Rows() < o.min_table_rows) {
      ++small;
      verbose(what + ": table has fewer than " + RowCount(o.min_table_rows) +
              " rows; a misestimate costs little there");
      continue;
    }
    double combos = 1;
    for (const auto& c : g.columns)
      if (const ColumnInfo* ci = t->Column(c))
        combos *= std::max(1.0, ci->DistinctValues(t->Rows()));
    g.mcv_fits = std::min(combos, t->Rows()) <= mcv_items;
    if (probed >= o.max_groups) {
      verbose(what + ": not probed (max " + std::to_string(o.max_groups) + " groups per run)");
      continue;
    }
    ++probed;
    Measure mf, mg;
    bool want_filter = false, want_groups = false;
    if (g.filter && g.probe.empty() && !g.probe_terms.empty()) {
      st = FillFromData(session, &g, t->Rows(), o.sample_rows);
      if (!st.ok()) verbose(what + ": no values to probe with (" + st.message() + ")");
    }
    if (g.filter && !g.probe.empty()) {
      st = MeasureFilter(session, g, o, &mf);
      if (!st.ok()) {
        verbose(what + ": not measured (" + st.message() + ")");
      } else if (mf.q >= o.min_q_error && mf.dependence >= o.min_q_error) {
        want_filter = true;
      } else if (mf.q >= o.min_q_error) {
        verbose(what + ": estimate off by " + Fmt(mf.q) + "x for " + g.probe +
                ", but the columns look independent in the sample (dependence " +
                Fmt(mf.dependence) + "x): stale column statistics? ANALYZE " + g.schema + "." +
                g.table);
      } else {
        verbose(what + ": no statistics needed for " + g.probe + ": estimate " +
                RowCount(mf.est_rows) + " rows vs " +
                (mf.matched == 0 ? "fewer than " + RowCount(mf.act_rows) + " (none in the sample)"
                                 : RowCount(mf.act_rows) + " in the sample") +
                " (q-error " + Fmt(mf.q) + " < " + Fmt(o.min_q_error) + ")");
      }
    } else if (g.filter) {
      verbose(what + ": no values to probe the filter with (generic `$n` statement)");
    }
    if (g.group_by) {
      st = MeasureGroups(session, g, o, &mg);
      if (!st.ok()) {
        verbose(what + ": GROUP BY not measured (" + st.message() + ")");
      } else if (mg.q_groups >= o.min_q_error) {
        want_groups = true;
      } else {
        verbose(what + ": GROUP BY estimate " + RowCount(mg.est_groups) + " groups vs about " +
                RowCount(mg.act_groups) + " (q-error " + Fmt(mg.q_groups) + " < " +
                Fmt(o.min_q_error) + ")");
      }
    }
    if (!want_filter && !want_groups) continue;
    ColumnGroup cg = g;
    // The sample's distinct combinations are a lower bound: more than one
    // MCV list holds in the sample means more in the table.
    if (want_filter) cg.mcv_fits = cg.mcv_fits || mf.combinations <= mcv_items;
    if (want_filter && mf.combinations > mcv_items) cg.mcv_fits = false;
    cg.filter = want_filter;
    cg.group_by = want_groups;
    const std::string name = StatisticsName(cg, &taken);
    const std::string table_sql = QualifiedSql(g.schema, g.table);
    Recommendation r;
    r.kind = RecommendationKind::kStatistics;
    r.object = g.schema + "." + g.table;
    r.sql = "CREATE STATISTICS " + QualifiedSql(g.schema, name) + " (" + StatisticsKinds(cg) +
            ") ON " + ColumnsSql(g.columns) + " FROM " + table_sql + ";\nANALYZE " + table_sql;
    r.revert = "DROP STATISTICS IF EXISTS " + QualifiedSql(g.schema, name) + ";";
    r.lock = "SHARE UPDATE EXCLUSIVE";
    r.confidence = Confidence::kMedium;
    const double q = std::max(want_filter ? mf.q : 1.0, want_groups ? mg.q_groups : 1.0);
    std::string reason = Join(g.columns) + " of " + r.object + " are ";
    if (want_filter)
      reason += "filtered together (" + g.probe + "): the planner estimates " +
                RowCount(mf.est_rows) + " rows, " +
                (mf.exact ? "the table has " : "a sample says ") + RowCount(mf.act_rows) +
                " (q-error " + Fmt(q) + "x; the columns are dependent: the combination is " +
                Fmt(mf.dependence) + "x off what independence predicts)";
    if (want_groups)
      reason += std::string(want_filter ? "; and " : "") +
                "grouped together: the planner expects " + RowCount(mg.est_groups) +
                " groups, about " + RowCount(mg.act_groups) + " exist (q-error " +
                Fmt(mg.q_groups) + "x)";
    r.reason = reason;
    r.Add("columns", g.columns).Add("kinds", StatisticsKinds(cg)).Add("q_error_before", Round2(q));
    if (want_filter)
      r.Add("probe", g.probe)
          .Add("probe_values", std::string(g.probe_from_data ? "sample" : "statement"))
          .Add("estimated_rows", mf.est_rows)
          .Add("sampled_rows", Round2(mf.act_rows))
          .Add("sample_size", mf.sampled)
          .Add("sample_exact", mf.exact)
          .Add("dependence", Round2(mf.dependence))
          .Add("q_error_filter", Round2(mf.q));
    if (want_groups)
      r.Add("group_by", true)
          .Add("estimated_groups", mg.est_groups)
          .Add("sampled_groups", std::round(mg.act_groups))
          .Add("q_error_group_by", Round2(mg.q_groups));
    r.Add("name", name).Add("statements", static_cast<int64_t>(g.statements.size()));
    for (int s : g.statements) {
      const WorkloadStatement& ws = workload.statements[static_cast<size_t>(s)];
      QueryBenefit b;
      b.fingerprint = ws.fingerprint;
      b.query = ws.sql;
      b.calls = ws.calls;
      if (static_cast<size_t>(s) < rep->statements.size())
        b.cost_before = b.cost_after = rep->statements[static_cast<size_t>(s)].cost_after;
      r.benefit.push_back(b);
    }
    r.priority = static_cast<int>(std::min(q, 1e6));
    recs.push_back(std::move(r));
    chosen.push_back(std::move(cg));
  }
  // A group inside a larger chosen one on the same table, with the same or
  // fewer kinds, is served by it (the planner applies an object to any two
  // or more of its columns).
  std::vector<bool> drop(recs.size(), false);
  for (size_t i = 0; i < chosen.size(); ++i)
    for (size_t j = 0; j < chosen.size(); ++j) {
      if (i == j || drop[j] || chosen[i].schema != chosen[j].schema ||
          chosen[i].table != chosen[j].table ||
          chosen[i].columns.size() >= chosen[j].columns.size())
        continue;
      const auto& big = chosen[j].columns;
      bool subset = std::all_of(
          chosen[i].columns.begin(), chosen[i].columns.end(),
          [&](const std::string& c) { return std::find(big.begin(), big.end(), c) != big.end(); });
      bool kinds = (!chosen[i].group_by || chosen[j].group_by) &&
                   (!chosen[i].filter || chosen[j].filter) &&
                   (!chosen[i].equality || !chosen[i].filter || chosen[j].equality);
      if (subset && kinds) {
        drop[i] = true;
        verbose(chosen[i].schema + "." + chosen[i].table + " (" + Join(chosen[i].columns) +
                "): served by the statistics on (" + Join(big) + ")");
      }
    }
  for (size_t i = 0; i < recs.size(); ++i)
    if (!drop[i]) rep->statistics.push_back(std::move(recs[i]));
  std::stable_sort(
      rep->statistics.begin(), rep->statistics.end(),
      [](const Recommendation& a, const Recommendation& b) { return a.priority > b.priority; });
  if (rep->statistics.empty() && probed > 0)
    rep->notes.push_back("statistics: " + std::to_string(probed) +
                         " column group(s) measured; none misestimated by " + Fmt(o.min_q_error) +
                         "x or more with dependent columns (-v says why per group)");
  (void)covered;
  (void)small;
}

void AddStatisticsReport(const AdviseReport& r, Report* report) {
  if (r.statistics.empty()) return;
  auto& b = report->body;
  b.push_back(ReportBlock::Heading("Extended statistics"));
  int n = 0;
  for (const auto& rec : r.statistics) {
    std::vector<std::string> cols;
    if (const auto* c = EvidenceAs<std::vector<std::string>>(rec, "columns")) cols = *c;
    const std::string title = rec.object + " (" + Join(cols) + ")";
    b.push_back(ReportBlock::Heading(std::to_string(++n) + ". " + title, 3));
    b.push_back(ReportBlock::Code(rec.sql + ";"));
    std::vector<std::pair<std::string, std::string>> kv;
    kv.push_back({"q-error before", Fmt(EvidenceNumber(rec, "q_error_before")) + "x"});
    if (FindEvidence(rec, "q_error_after"))
      kv.push_back({"q-error after (--verify)", Fmt(EvidenceNumber(rec, "q_error_after")) + "x"});
    if (const auto* p = EvidenceAs<std::string>(rec, "probe"))
      kv.push_back({"probe", *p + ": estimated " + RowCount(EvidenceNumber(rec, "estimated_rows")) +
                                 " rows, sample " + RowCount(EvidenceNumber(rec, "sampled_rows"))});
    if (FindEvidence(rec, "estimated_groups"))
      kv.push_back({"GROUP BY", "estimated " + RowCount(EvidenceNumber(rec, "estimated_groups")) +
                                    " groups, sample " +
                                    RowCount(EvidenceNumber(rec, "sampled_groups"))});
    if (FindEvidence(rec, "plans_changed"))
      kv.push_back({"plans changed (--verify)",
                    RowCount(EvidenceNumber(rec, "plans_changed")) + " of " +
                        RowCount(EvidenceNumber(rec, "plans_checked")) + " statement(s)"});
    kv.push_back({"confidence", ConfidenceName(rec.confidence)});
    b.push_back(ReportBlock::KeyValues(std::move(kv)));
    b.push_back(ReportBlock::Paragraph(rec.reason));
    ReportAction a{rec, true, "statistics on " + title};
    report->actions.push_back(std::move(a));
  }
}

namespace {

// The shape of a plan: node types, relations, indexes and join types, in
// tree order (costs and row counts left out).
void Shape(const json& node, std::string* out) {
  *out += "(" + node.value("Node Type", std::string());
  for (const char* key : {"Relation Name", "Index Name", "Join Type", "Strategy"})
    if (node.contains(key) && node[key].is_string()) *out += " " + node[key].get<std::string>();
  if (node.contains("Plans"))
    for (const auto& c : node["Plans"]) Shape(c, out);
  *out += ")";
}

struct PlanOutcome {
  bool ok = false;
  std::string shape;
  double cost = 0;
};

// The statement planned as it would run: its own constants, or custom plans
// over representative values from the test database's pg_stats.
PlanOutcome PlanStatement(Session& s, const Catalog& catalog, const std::string& sql,
                          const AdviseOptions& opts) {
  PlanOutcome out;
  Workload w;
  if (!AddSqlText("verify", sql, &w).ok() || w.statements.empty()) return out;
  const WorkloadStatement& ws = w.statements[0];
  std::vector<std::string> plans;
  std::vector<double> weights;
  if (ws.has_params) {
    StatementParams sp = DeriveParameters(ws, catalog, {}, opts.parameters);
    if (!sp.custom() || !ExplainCustomPlans(s, ws.sql, sp.sets, &plans).ok()) return out;
    for (const auto& set : sp.sets) weights.push_back(set.weight);
  } else {
    Rows r;
    if (!s.Query("EXPLAIN (FORMAT JSON) " + ws.sql, &r).ok()) return out;
    std::string text;
    for (size_t i = 0; i < r.size(); ++i) text += r.Text(i, 0);
    plans.push_back(text);
    weights.push_back(1);
  }
  for (size_t i = 0; i < plans.size(); ++i) {
    json j = json::parse(plans[i], nullptr, false);
    if (j.is_discarded() || !j.is_array() || j.empty() || !j[0].contains("Plan")) return out;
    Shape(j[0]["Plan"], &out.shape);
    out.cost += weights[i] * j[0]["Plan"].value("Total Cost", 0.0);
  }
  out.ok = true;
  return out;
}

}  // namespace

Status VerifyStatistics(Session& writable, const AdviseOptions& opts, AdviseReport* rep) {
  if (rep->statistics.empty()) return Status::Ok();
  Catalog catalog;
  Status st = Catalog::Load(writable, {}, &catalog);
  if (!st.ok()) return st;
  for (auto& rec : rep->statistics) {
    const auto* cols = EvidenceAs<std::vector<std::string>>(rec, "columns");
    const auto* name = EvidenceAs<std::string>(rec, "name");
    const TableInfo* t = catalog.FindTable(rec.object);
    if (!cols || !name || !t) {
      rep->notes.push_back("statistics --verify: " + rec.object +
                           " not found on the test database");
      continue;
    }
    ColumnGroup g;
    g.schema = t->schema;
    g.table = t->name;
    g.columns = *cols;
    if (const auto* p = EvidenceAs<std::string>(rec, "probe")) g.probe = *p, g.filter = true;
    g.group_by = FindEvidence(rec, "group_by") != nullptr;
    const std::string table_sql = QualifiedSql(g.schema, g.table);
    // Actual rows / groups on this database, outside the experiment.
    Measure actual_f, actual_g;
    if (g.filter && !(st = MeasureFilter(writable, g, opts.statistics, &actual_f)).ok()) {
      rep->notes.push_back("statistics --verify: " + rec.object + ": " + st.message());
      continue;
    }
    if (g.group_by && !(st = MeasureGroups(writable, g, opts.statistics, &actual_g)).ok()) {
      rep->notes.push_back("statistics --verify: " + rec.object + ": " + st.message());
      continue;
    }
    // The experiment, in one transaction rolled back at the end.
    std::vector<PlanOutcome> before, after;
    double est_before = 0, est_after = 0, groups_before = 0, groups_after = 0;
    auto estimate = [&](double* rows, double* groups) -> Status {
      Status s1 = Status::Ok();
      if (g.filter)
        s1 = EstimateRows(writable, "SELECT 1 FROM " + table_sql + " WHERE " + g.probe, rows);
      if (s1.ok() && g.group_by)
        s1 = EstimateRows(
            writable, "SELECT 1 FROM " + table_sql + " GROUP BY " + ColumnsSql(g.columns), groups);
      return s1;
    };
    auto plans = [&](std::vector<PlanOutcome>* out) {
      for (const auto& b : rec.benefit)
        out->push_back(PlanStatement(writable, catalog, b.query, opts));
    };
    const auto t0 = std::chrono::steady_clock::now();
    st = writable.Exec("BEGIN");
    if (st.ok()) st = writable.Exec("ANALYZE " + table_sql);
    if (st.ok()) st = estimate(&est_before, &groups_before);
    if (st.ok()) plans(&before);
    if (st.ok()) {
      // rec.sql is "CREATE STATISTICS ...;\nANALYZE t": run both.
      const std::string create = rec.sql.substr(0, rec.sql.find(";\n"));
      st = writable.Exec(create);
    }
    if (st.ok()) st = writable.Exec("ANALYZE " + table_sql);
    if (st.ok()) st = estimate(&est_after, &groups_after);
    if (st.ok()) plans(&after);
    Status rollback = writable.Exec("ROLLBACK");
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (!st.ok()) {
      rep->notes.push_back("statistics --verify: " + rec.object + ": " + st.message());
      if (!rollback.ok()) return rollback;
      continue;
    }
    if (!rollback.ok()) return rollback;
    double q_before = 1, q_after = 1;
    if (g.filter) {
      q_before = QError(est_before, actual_f.act_rows);
      q_after = QError(est_after, actual_f.act_rows);
      SetEvidence(&rec, "estimated_rows_after", est_after);
      SetEvidence(&rec, "q_error_filter_after", Round2(q_after));
    }
    if (g.group_by) {
      double qb = QError(groups_before, actual_g.act_groups);
      double qa = QError(groups_after, actual_g.act_groups);
      SetEvidence(&rec, "estimated_groups_after", groups_after);
      SetEvidence(&rec, "q_error_group_by_after", Round2(qa));
      q_before = std::max(q_before, qb);
      q_after = std::max(q_after, qa);
    }
    int changed = 0, checked = 0;
    for (size_t i = 0; i < rec.benefit.size() && i < before.size() && i < after.size(); ++i) {
      if (!before[i].ok || !after[i].ok) continue;
      ++checked;
      changed += before[i].shape != after[i].shape;
      rec.benefit[i].cost_before = before[i].cost;
      rec.benefit[i].cost_after = after[i].cost;
    }
    SetEvidence(&rec, "q_error_before_analyzed", Round2(q_before));
    SetEvidence(&rec, "q_error_after", Round2(q_after));
    SetEvidence(&rec, "plans_checked", static_cast<int64_t>(checked));
    SetEvidence(&rec, "plans_changed", static_cast<int64_t>(changed));
    SetEvidence(&rec, "verify_ms", std::round(ms));
    rec.confidence = q_after < q_before ? Confidence::kMeasured : Confidence::kLow;
    rec.reason += "\n--verify: after CREATE STATISTICS and ANALYZE the q-error is " + Fmt(q_after) +
                  "x (" + Fmt(q_before) + "x after a plain ANALYZE); " + std::to_string(changed) +
                  " of " + std::to_string(checked) + " statement plan(s) changed; rolled back";
  }
  return Status::Ok();
}

}  // namespace pgvise
