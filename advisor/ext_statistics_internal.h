// advisor/ext_statistics_internal: what the statistics advisor's files share
// (not an API).
//
// The statistics advisor is four files, one step each:
//   ext_statistics_groups.cc  the workload's column groups (FindColumnGroups);
//   ext_statistics_sample.cc  the read-only evidence: the planner's estimate
//                             against a TABLESAMPLE, q-error and dependence;
//   ext_statistics.cc         the decision and the recommendation
//                             (AdviseStatistics) and its report section;
//   ext_statistics_verify.cc  advise --verify: create, ANALYZE, re-estimate,
//                             inside one rolled-back transaction.
// The method: the essay at the top of ext_statistics.cc.
#pragma once

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "advisor/ext_statistics.h"
#include "core/report.h"

namespace pgvise::extstats {

constexpr size_t kMaxStatisticsColumns = 8;  // PostgreSQL's STATS_MAX_DIMENSIONS

inline std::string Fmt(double v, int decimals = 1) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

inline std::string Join(const std::vector<std::string>& v, const std::string& sep = ", ") {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

inline std::string QualifiedSql(const std::string& schema, const std::string& name) {
  return QuoteIdent(schema) + "." + QuoteIdent(name);
}

inline std::string ColumnsSql(const std::vector<std::string>& cols) {
  std::vector<std::string> q;
  for (const auto& c : cols) q.push_back(QuoteIdent(c));
  return Join(q);
}

inline const Evidence* FindEvidence(const Recommendation& r, const std::string& key) {
  for (const auto& e : r.evidence)
    if (e.key == key) return &e;
  return nullptr;
}

template <typename T>
inline const T* EvidenceAs(const Recommendation& r, const std::string& key) {
  const Evidence* e = FindEvidence(r, key);
  return e ? std::get_if<T>(&e->value) : nullptr;
}

inline void SetEvidence(Recommendation* r, const std::string& key, EvidenceValue v) {
  for (auto& e : r->evidence)
    if (e.key == key) {
      e.value = std::move(v);
      return;
    }
  r->Add(key, std::move(v));
}

inline double EvidenceNumber(const Recommendation& r, const std::string& key, double fallback = 0) {
  if (const double* d = EvidenceAs<double>(r, key)) return *d;
  if (const int64_t* i = EvidenceAs<int64_t>(r, key)) return static_cast<double>(*i);
  return fallback;
}

inline double Round2(double v) { return std::round(v * 100) / 100; }

// The planner's rows for the root of EXPLAIN (FORMAT JSON) `sql`.
Status EstimateRows(Session& s, const std::string& sql, double* rows);
// `FROM t TABLESAMPLE SYSTEM (p) REPEATABLE (1)` reading about sample_rows
// rows, or the whole table when it is that small.
std::string SampleFrom(const std::string& table_sql, double rows, int64_t sample_rows, bool* exact);
// Gives the `col = $n` columns of a probe (empty terms) the most frequent
// combination of values in a sample of the table among the rows the rest of
// the probe selects: independent representative values per parameter would
// pair a zip with another city's name, a combination no call asks for.
Status FillFromData(Session& s, ColumnGroup* g, double table_rows, int64_t sample_rows);

// What one probe measured.
struct Measure {
  bool ok = false;
  std::string error;
  double table_rows = 0;  // the planner's reltuples (the scale of both numbers)
  // Filter.
  double est_rows = 0, act_rows = 0, sampled = 0, matched = 0, q = 1, dependence = 1;
  double combinations = 0;  // distinct value combinations in the sample (a lower bound)
  // The attribution: each pair of the probe's columns, its joint fraction
  // in the same sample against the product of the two single fractions.
  // The pairs at min_q_error or more are the correlated columns that cause
  // the misestimate; an independent column of the filter is in none.
  struct Pair {
    size_t a = 0, b = 0;  // indices into ColumnGroup::columns
    double dependence = 1;
  };
  std::vector<Pair> pairs;
  bool exact = false;
  // GROUP BY.
  double est_groups = 0, act_groups = 0, q_groups = 1;
};

// The probe's combined filter: the planner's rows against the sample's,
// and each column pair's dependence (Measure::pairs).
Status MeasureFilter(Session& s, const ColumnGroup& g, const StatisticsOptions& o, Measure* m);
// The columns of the pairs at `min_dependence` or more, in the group's
// order, and the pairs themselves ("city, zip: 101.1x"), worst first.
void CorrelatedColumns(const ColumnGroup& g, const Measure& m, double min_dependence,
                       std::vector<std::string>* columns, std::vector<std::string>* pairs);

// GROUP BY: the planner's group count against Duj1 over the sample.
Status MeasureGroups(Session& s, const ColumnGroup& g, const StatisticsOptions& o, Measure* m);

}  // namespace pgvise::extstats
