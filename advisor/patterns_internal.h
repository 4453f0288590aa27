// Internal to the workload-pattern advisor: the helpers and the handler
// context (Call) shared by the rule handlers (patterns_rules.cc) and the
// advise step that runs them (patterns.cc). Not a public interface.
#pragma once

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "advisor/patterns.h"
#include "core/report.h"

namespace pgvise::patterns_detail {
// ---------------------------------------------------------------- helpers

inline double Round(double v, int digits) {
  const double f = std::pow(10.0, digits);
  return std::round(v * f) / f;
}

// "2,000" / "1.5" / "0.031": numbers as a person reads them in messages.
inline std::string Num(double v) {
  char buf[64];
  if (std::fabs(v) >= 100 || v == std::floor(v)) return Thousands(v);
  std::snprintf(buf, sizeof buf, std::fabs(v) >= 1 ? "%.1f" : "%.3g", v);
  return buf;
}

inline std::string Duration(double seconds) {
  if (seconds < 120) return Num(Round(seconds, 1)) + " s";
  if (seconds < 7200) return Num(Round(seconds / 60, 1)) + " min";
  if (seconds < 172800) return Num(Round(seconds / 3600, 1)) + " h";
  return Num(Round(seconds / 86400, 1)) + " d";
}

inline std::string Ms(double ms) {
  return ms >= 1000 ? Num(Round(ms / 1000, 1)) + " s" : Num(ms) + " ms";
}

inline std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

inline bool IsSystemName(const RelationRef& r) {
  if (r.is_cte || r.name.empty()) return true;
  if (r.schema == "pg_catalog" || r.schema == "information_schema") return true;
  return r.schema.empty() && r.name.rfind("pg_", 0) == 0;
}

inline std::string Resolve(const Catalog& catalog, const RelationRef& r) {
  if (const TableInfo* t = catalog.FindTable(r.QualifiedName())) return t->QualifiedName();
  return r.QualifiedName();
}

// The single WHERE predicate of a statement keyed on one column by equality:
// `col = $n` (or a constant), not under OR or NOT, no expression around it.
inline const Predicate* SingleEqualityKey(const QueryFacts& f) {
  const Predicate* key = nullptr;
  for (const Predicate& p : f.predicates) {
    if (p.clause != Clause::kWhere) continue;
    if (key) return nullptr;  // a second condition: not a plain key lookup
    key = &p;
  }
  if (!key || key->kind != PredicateKind::kEquality || key->under_or || key->negated ||
      !key->expression.empty())
    return nullptr;
  if (key->value_kind != ValueKind::kParameter && key->value_kind != ValueKind::kConstant)
    return nullptr;
  return key;
}

// Functions whose result differs from call to call: a statement calling one
// is not "the same read" each time.
inline bool CallsVolatile(const std::string& sql) {
  const std::string s = Lower(sql);
  for (const char* fn : {"random(", "now(", "clock_timestamp(", "current_timestamp", "current_date",
                         "localtimestamp", "nextval(", "gen_random_uuid(", "timeofday("})
    if (s.find(fn) != std::string::npos) return true;
  return false;
}

// ------------------------------------------------------ the handler context

struct Call {
  const PatternInput& in;
  const Rule& rule;

  double Window() const { return in.window.seconds; }
  double PerSecond(double count) const { return Window() > 0 ? count / Window() : 0; }

  // A finding about one statement with the counters every pattern shows.
  Finding Make(const PatternStatement& s, std::string message) const {
    Finding f;
    f.rule = rule.id;
    f.severity = rule.severity;
    f.message = std::move(message);
    f.location.file = "pg_stat_statements";
    if (!s.tables.empty()) f.location.object = s.tables.front();
    f.Add("query", s.counters.query);
    if (!s.counters.queryid.empty()) f.Add("queryid", s.counters.queryid);
    f.Add("calls", Round(s.counters.calls, 0));
    f.Add("rows_per_call", Round(s.counters.RowsPerCall(), 2));
    f.Add("mean_exec_ms", Round(s.counters.mean_exec_ms, 4));
    f.Add("total_exec_ms", Round(s.counters.total_exec_ms, 1));
    return f;
  }
  void AddWindow(Finding& f) const {
    f.Add("window_s", Round(Window(), 0));
    f.Add("window_source", in.window_source);
    f.Add("dealloc", in.window.dealloc);
  }
};

// Whether the costs alone point at a trap (AdvisePatterns then asks for the
// plans). Returns the value set to look at, or -1.
inline int TrapCandidate(const StatementOutcome& st, const Rule& rule) {
  if (!st.costed || !st.custom_plans || st.generic_cost_before < 0 || st.value_sets.empty())
    return -1;
  if (st.calls < rule.Threshold("min_calls")) return -1;
  double dearest = 0;
  for (const auto& v : st.value_sets) dearest = std::max(dearest, v.cost_before);
  if (st.generic_cost_before > dearest * rule.Threshold("max_generic_to_average")) return -1;
  int best = -1;
  for (size_t i = 0; i < st.value_sets.size(); ++i) {
    const double c = std::max(st.value_sets[i].cost_before, 1e-9);
    if (st.generic_cost_before >= c * rule.Threshold("min_cost_ratio") &&
        (best < 0 || c < st.value_sets[static_cast<size_t>(best)].cost_before))
      best = static_cast<int>(i);
  }
  return best;
}

// The common-value side (the opposite trap): value sets whose custom cost is
// min_cost_ratio times the generic plan's, that is values reading far more
// rows than the average selectivity the generic plan was made for, while the
// generic plan costs no more than the calls' mean custom cost (times
// max_generic_to_average), so PostgreSQL keeps it. AdvisePatterns then costs
// the generic plan's own shape with those values (ForcedGenericCost).
inline std::vector<size_t> CommonTrapCandidates(const StatementOutcome& st, const Rule& rule) {
  std::vector<size_t> out;
  if (!st.costed || !st.custom_plans || st.generic_cost_before < 0 || st.value_sets.empty())
    return out;
  if (st.calls < rule.Threshold("min_calls")) return out;
  // The mean custom cost over the calls (plancache.c averages the custom
  // plans it made; the value sets' weights are their shares of the calls).
  double weight = 0, mean = 0;
  for (const auto& v : st.value_sets) weight += v.weight;
  for (const auto& v : st.value_sets)
    mean += v.cost_before * (weight > 0 ? v.weight / weight : 1.0 / st.value_sets.size());
  if (st.generic_cost_before > mean * rule.Threshold("max_generic_to_average")) return out;
  for (size_t i = 0; i < st.value_sets.size(); ++i)
    if (st.value_sets[i].cost_before >=
        std::max(st.generic_cost_before, 1e-9) * rule.Threshold("min_cost_ratio"))
      out.push_back(i);
  return out;
}

// Asks the plans behind the statements whose costs suggest a generic-plan
// trap, either side (patterns_plans.cc).
void AskPlanShapes(Session& session, const Catalog& catalog, const Workload& workload,
                   const AdviseOptions& opts, const Rule& rule, const AdviseReport& rep,
                   std::map<int, PlanShapes>* out);

using Handler = void (*)(const Call&, std::vector<Finding>*);

// Rule id -> handler, one per rules/workload/*.yaml (patterns_rules.cc).
const std::vector<std::pair<const char*, Handler>>& Handlers();

}  // namespace pgvise::patterns_detail
