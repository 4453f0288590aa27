// Index-usage inference: answering a what-if question from one already
// EXPLAINed, without asking the server.
//
// When statement q is planned under configuration C (the hypothetical
// indexes relevant to q), the plan scans some subset U of C
// (PlanCost::candidates). Take any C' with U <= C' <= C. The plan chosen
// under C is still available under C' (every index it scans is there), and
// every plan available under C' was available under C, where the planner
// found none cheaper. So the cheapest plan under C' costs what the plan
// under C costs: cost(q, C') = cost(q, C), with the same indexes used. For
// a statement costed over several parameter value sets (custom plans), U is
// the union of what each set's plan used, and the argument holds per set.
//
// Where it pays: the local search (selection_local_search.cc) prices
// "drop i" and "swap i for j" by re-costing the statements i is relevant
// to under the configuration without i. For every statement whose current
// plan does not scan i, that is C' = C \ {i} with U <= C': answered here.
// The greedy's clean-up pass asks the same questions.
//
// Worked example. q joins orders and lineitem; C = {o(o_orderdate),
// l(l_orderkey), l(l_shipdate)}; its plan scans o(o_orderdate) and
// l(l_orderkey): U = {o(o_orderdate), l(l_orderkey)}, cost 1200. Asked
// next: q under {o(o_orderdate), l(l_orderkey)} (l_shipdate dropped): U <=
// C' <= C, so 1200, no EXPLAIN. Asked: q under {o(o_orderdate),
// l(l_shipdate)}: l(l_orderkey) is missing, U is not inside: EXPLAINed.
//
// What it refuses, and why:
// - configurations of fewer than two candidates are never inferred. Those
//   are the what-if matrix, which `--jobs N` prefetches on other
//   connections; inferring them with one connection and EXPLAINing them
//   with N could differ by the planner's fuzzy path comparisons (add_path
//   keeps a path within 1% of another), and `--jobs N` promises the same
//   choice as `--jobs 1`. Every answer about two or more indexes is asked
//   on the first connection in the same order either way, so inferring
//   those keeps that promise.
// - failed EXPLAINs (!ok) prove nothing and are not remembered.
// - the planner's fuzz is also why "exact" means "exact for a planner that
//   keeps the cheapest path": HypoPG marks its indexes hypothetical, so
//   they never feed selectivity estimates, and what changes between C and
//   C' is only which paths exist. advisor/whatif_pg_test.cc compares
//   inferred answers with EXPLAINed ones on a real server.
#include <algorithm>

#include "advisor/whatif.h"

namespace pgvise {

void UsageInference::Remember(int s, const std::vector<int>& config, const PlanCost* pc) {
  if (s < 0 || config.size() < 2 || !pc->ok) return;
  if (static_cast<size_t>(s) >= costed_.size()) costed_.resize(static_cast<size_t>(s) + 1);
  costed_[static_cast<size_t>(s)].push_back({config, pc});
}

void UsageInference::Forget(int s) {
  if (s >= 0 && static_cast<size_t>(s) < costed_.size()) costed_[static_cast<size_t>(s)].clear();
}

const PlanCost* UsageInference::Infer(int s, const std::vector<int>& config) const {
  if (s < 0 || config.size() < 2 || static_cast<size_t>(s) >= costed_.size()) return nullptr;
  // The first match in costing order, so the answer depends on nothing but
  // the sequence of questions (all matches agree anyway).
  for (const Costed& k : costed_[static_cast<size_t>(s)]) {
    if (k.config.size() < config.size()) continue;
    // config <= k.config (both sorted) ...
    if (!std::includes(k.config.begin(), k.config.end(), config.begin(), config.end())) continue;
    // ... and every candidate the plan used is in config.
    bool used_inside = true;
    for (int c : k.pc->candidates)
      if (!std::binary_search(config.begin(), config.end(), c)) {
        used_inside = false;
        break;
      }
    if (used_inside) return k.pc;
  }
  return nullptr;
}

}  // namespace pgvise
