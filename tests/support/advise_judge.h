// The judge for index advice on `$n` workloads (tests and bench/advise_bench):
// the workload's cost under a set of indexes, priced with custom plans over
// fixed real parameter values the advisor never sees. Each statement is a
// list of instances (the statement with literal values, as the application
// runs it); its cost is the mean of the instances' plan costs, the
// workload's the calls-weighted sum. Indexes are HypoPG hypothetical ones,
// so judging builds nothing; read cost only (write overhead is the
// advisor's own model, not judged).
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "advisor/whatif.h"
#include "core/session.h"

namespace pgvise::testing {

struct JudgedStatement {
  double calls = 1;
  std::vector<std::string> instances;  // the statement with literal values
};

// "CREATE INDEX CONCURRENTLY IF NOT EXISTS name ON t (...)" -> "CREATE INDEX ON t (...)",
// what hypopg_create_index takes.
inline std::string HypoDdl(const std::string& ddl) {
  const size_t on = ddl.find(" ON ");
  return on == std::string::npos ? ddl : "CREATE INDEX" + ddl.substr(on);
}

// Calls-weighted workload cost with exactly `index_ddls` as hypothetical
// indexes (beside the real ones). Returns -1 when a plan fails. `each`,
// when given, gets each statement's calls-weighted part.
inline double JudgeCost(Session& s, const std::vector<std::string>& index_ddls,
                        const std::vector<JudgedStatement>& workload,
                        std::vector<double>* each = nullptr) {
  if (each) each->clear();
  if (!s.Exec("SELECT hypopg_reset()").ok()) return -1;
  for (const auto& d : index_ddls) {
    Rows r;
    if (!s.Query("SELECT hypopg_create_index($1)", {HypoDdl(d)}, &r).ok()) return -1;
  }
  double total = 0;
  for (const auto& st : workload) {
    double sum = 0;
    for (const auto& sql : st.instances) {
      Rows r;
      if (!s.Query("EXPLAIN (FORMAT JSON) " + sql, &r).ok() || r.empty()) return -1;
      double cost = 0;
      if (!ReadPlanCost(r.Text(0, 0), &cost, nullptr).ok()) return -1;
      sum += cost;
    }
    const double part =
        st.calls * sum / static_cast<double>(std::max<size_t>(st.instances.size(), 1));
    total += part;
    if (each) each->push_back(part);
  }
  s.Exec("SELECT hypopg_reset()");
  return total;
}

}  // namespace pgvise::testing
