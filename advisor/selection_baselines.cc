// The selection strategies Extend is measured against (advisor/selection.h
// says what each is): (a) one single-column index per predicate column,
// (b) the best index per query (dexter's approach), both filled greedily by
// gain per byte under the budget, and (c) the exhaustive optimum over a
// small pool, by branch and bound. The benchmark and the tests compare
// Extend's workload cost with theirs.
#include "advisor/selection.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "advisor/selection_internal.h"

namespace pgvise {

using selection::Finish;
using selection::kMinBytes;

namespace {

// Greedy fill by individual gain per byte (baselines a and b).
void FillByRatio(CostOracle& o, const SelectionOptions& opts, std::vector<int> pool,
                 SelectionResult* r) {
  std::vector<std::pair<double, int>> ranked;
  for (int c : pool) {
    double gain = 0;
    for (int s : o.StatementsFor(c)) gain += o.Calls(s) * (o.Cost(s, {}) - o.Cost(s, {c}));
    gain -= o.WriteOverhead(c);
    if (gain > 0) ranked.push_back({gain / static_cast<double>(std::max(o.Size(c), kMinBytes)), c});
  }
  std::sort(ranked.rbegin(), ranked.rend());
  int64_t used = 0;
  for (const auto& [ratio, c] : ranked) {
    if (static_cast<int>(r->chosen.size()) >= opts.max_indexes) break;
    int64_t sz = o.Size(c);
    if (opts.budget_bytes >= 0 && used + sz > opts.budget_bytes) continue;
    used += sz;
    r->chosen.push_back(c);
  }
}

}  // namespace

SelectionResult SelectSingleColumn(CostOracle& o, const SelectionOptions& opts) {
  SelectionResult r;
  r.base_cost = WorkloadCost(o, {});
  std::vector<int> pool;
  for (int c = 0; c < o.num_candidates(); ++c)
    if (o.IsSingleColumnPredicateIndex(c)) pool.push_back(c);
  FillByRatio(o, opts, pool, &r);
  Finish(o, &r);
  return r;
}

SelectionResult SelectBestPerQuery(CostOracle& o, const SelectionOptions& opts) {
  SelectionResult r;
  r.base_cost = WorkloadCost(o, {});
  std::map<int, std::vector<int>> for_statement;
  for (int c = 0; c < o.num_candidates(); ++c)
    if (o.KeyWidth(c) <= 2)
      for (int s : o.StatementsFor(c)) for_statement[s].push_back(c);
  std::set<int> pool;
  for (const auto& [s, cands] : for_statement) {
    double base = o.Cost(s, {});
    int best = -1;
    double best_cost = base;
    for (int c : cands) {
      double cost = o.Cost(s, {c});
      if (cost < best_cost) best_cost = cost, best = c;
    }
    if (best >= 0 && best_cost <= 0.5 * base) pool.insert(best);
  }
  FillByRatio(o, opts, std::vector<int>(pool.begin(), pool.end()), &r);
  Finish(o, &r);
  return r;
}

SelectionResult SelectExhaustive(CostOracle& o, const SelectionOptions& opts,
                                 const std::vector<int>& pool, int max_k) {
  SelectionResult r;
  // One bit per member in the masks below.
  if (pool.size() > 31) {
    r = SelectExtend(o, opts);
    r.log.push_back("pool too large for exhaustive search: Extend's answer instead");
    return r;
  }
  std::vector<double> cur(static_cast<size_t>(o.num_statements()));
  for (int s = 0; s < o.num_statements(); ++s) {
    cur[static_cast<size_t>(s)] = o.Cost(s, {});
    r.base_cost += o.Calls(s) * cur[static_cast<size_t>(s)];
  }
  // Per statement, which pool members can change its plan (a bit each); a
  // statement's cost depends only on the members present among those, so it
  // is memoised by that bit mask.
  std::vector<std::vector<int>> stmts;
  std::map<int, uint32_t> relevant_mask;
  for (size_t i = 0; i < pool.size(); ++i) {
    stmts.push_back(o.StatementsFor(pool[i]));
    for (int s : stmts.back()) relevant_mask[s] |= 1u << i;
  }
  // Branch and bound: below a node whose undecided members start at i, a
  // statement that one of them could still change costs at least what it
  // costs with every relevant pool member present (more indexes never give
  // the planner a costlier cheapest plan; 2% slack for its fuzzy path
  // comparisons), and write overhead only grows. A branch whose bound
  // cannot beat the best found so far is not searched: the answer is the
  // same as visiting every subset, without the 2^n.
  std::map<int, double> floor_cost;
  for (const auto& [s, mask] : relevant_mask) {
    std::vector<int> config;
    for (size_t i = 0; i < pool.size(); ++i)
      if (mask & (1u << i)) config.push_back(pool[i]);
    floor_cost[s] = 0.98 * o.Cost(s, config);
  }
  std::map<std::pair<int, uint32_t>, double> memo;
  auto cost = [&](int s, uint32_t present) {
    uint32_t mask = present & relevant_mask[s];
    auto key = std::make_pair(s, mask);
    if (auto it = memo.find(key); it != memo.end()) return it->second;
    std::vector<int> config;
    for (size_t i = 0; i < pool.size(); ++i)
      if (mask & (1u << i)) config.push_back(pool[i]);
    return memo[key] = o.Cost(s, config);
  };
  double best = r.base_cost;
  uint32_t best_set = 0;
  int k_limit = std::min<int>(max_k, opts.max_indexes);
  // Depth-first over subsets in pool order; the budget prunes a branch.
  // Adding a member re-costs only the statements it can change.
  std::function<void(size_t, int64_t, double, uint32_t, int)> rec =
      [&](size_t start, int64_t bytes, double total, uint32_t present, int k) {
        ++r.steps;
        if (total < best - 1e-9) best = total, best_set = present;
        if (k >= k_limit || start >= pool.size()) return;
        uint32_t undecided = ~((1u << start) - 1u);
        double bound = total;
        for (const auto& [s, mask] : relevant_mask)
          if (mask & undecided)
            bound -= o.Calls(s) * std::max(0.0, cur[static_cast<size_t>(s)] - floor_cost[s]);
        if (bound >= best - 1e-9) return;
        for (size_t i = start; i < pool.size(); ++i) {
          int64_t sz = o.Size(pool[i]);
          if (opts.budget_bytes >= 0 && bytes + sz > opts.budget_bytes) continue;
          uint32_t next_set = present | (1u << i);
          std::vector<std::pair<int, double>> saved;
          double next = total + o.WriteOverhead(pool[i]);
          for (int s : stmts[i]) {
            double before = cur[static_cast<size_t>(s)];
            double after = cost(s, next_set);
            saved.push_back({s, before});
            cur[static_cast<size_t>(s)] = after;
            next += o.Calls(s) * (after - before);
          }
          rec(i + 1, bytes + sz, next, next_set, k + 1);
          for (const auto& [s, before] : saved) cur[static_cast<size_t>(s)] = before;
        }
      };
  rec(0, 0, r.base_cost, 0, 0);
  for (size_t i = 0; i < pool.size(); ++i)
    if (best_set & (1u << i)) r.chosen.push_back(pool[i]);
  Finish(o, &r);
  return r;
}

}  // namespace pgvise