// advisor/matview_internal: what the view advisor's files share (not an API).
//
// The view advisor is four files, one step each:
//   matview.cc           candidates, matching, the net benefit, the budget
//                        (AdviseViews) and the recommendation it makes;
//   matview_estimate.cc  the dry run's estimates: the view's column types,
//                        rows (EXPLAIN, pg_stats n_distinct) and build cost;
//   matview_report.cc    its part of the advise report (AddViewReport);
//   matview_verify.cc    advise --verify: build, compare, measure, drop.
// The matcher (which statements a view serves, the rewrites) is
// advisor/matview_match.h.
#pragma once

#include <cstdio>
#include <string>

#include "advisor/matview_match.h"
#include "catalog/catalog.h"
#include "core/finding.h"
#include "core/session.h"
#include "core/status.h"

namespace pgvise::mv::advice {

inline std::string Fmt0(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
}

// Evidence of a view recommendation, read and written by key.
inline const EvidenceValue* Find(const Recommendation& r, const std::string& key) {
  for (const auto& e : r.evidence)
    if (e.key == key) return &e.value;
  return nullptr;
}
inline std::string EvString(const Recommendation& r, const std::string& key) {
  const EvidenceValue* v = Find(r, key);
  const std::string* s = v ? std::get_if<std::string>(v) : nullptr;
  return s ? *s : "";
}
inline double EvDouble(const Recommendation& r, const std::string& key) {
  const EvidenceValue* v = Find(r, key);
  if (!v) return 0;
  if (auto d = std::get_if<double>(v)) return *d;
  if (auto i = std::get_if<int64_t>(v)) return static_cast<double>(*i);
  return 0;
}
inline void Set(Recommendation& r, const std::string& key, EvidenceValue v) {
  for (auto& e : r.evidence)
    if (e.key == key) {
      e.value = std::move(v);
      return;
    }
  r.Add(key, std::move(v));
}

// The view columns' types (a rollup casts sums back to them): the definition
// outer-joined to one row, so its LIMIT 0 still gives one row of NULLs whose
// pg_typeof is the column's type.
Status ReadTypes(Session& s, ViewDefinition* def);
// The planner's total cost, rows and width for `sql` (EXPLAIN, rolled back).
Status ExplainDefinition(Session& s, const std::string& sql, double* cost, double* rows,
                         double* width);
// Product of the keys' distinct counts (pg_stats), -1 when one is unknown;
// *key_width: the keys' summed average width.
double DistinctProduct(Session& session, const Catalog& catalog, const ViewDefinition& def,
                       double* key_width);

}  // namespace pgvise::mv::advice
