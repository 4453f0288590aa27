// Internal to index selection (advisor/selection.h has the essay): the
// configuration arithmetic every strategy shares — adding and replacing a
// member, the per-statement costs of the current configuration (State),
// which statements a move affects — and the seams between the files:
// selection.cc runs Extend's greedy, selection_local_search.cc improves its
// answer, selection_baselines.cc holds the strategies it is compared with.
// Not for other files: they call the Select* functions.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <set>
#include <vector>

#include "advisor/selection.h"
#include "catalog/catalog.h"

namespace pgvise::selection {

using Clock = std::chrono::steady_clock;
// A divisor floor (no index is free); WhatIf::Size is already at least one
// of the server's pages.
constexpr int64_t kMinBytes = kDefaultBlockSize;

inline std::vector<int> With(std::vector<int> config, int c) {
  config.push_back(c);
  std::sort(config.begin(), config.end());
  return config;
}

inline std::vector<int> Replace(std::vector<int> config, int from, int to) {
  for (auto& x : config)
    if (x == from) x = to;
  std::sort(config.begin(), config.end());
  return config;
}

inline bool Contains(const std::vector<int>& v, int x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

struct State {
  CostOracle& o;
  std::vector<int> config;
  std::vector<double> cur;  // per statement cost under config

  explicit State(CostOracle& oracle) : o(oracle) {
    cur.resize(static_cast<size_t>(o.num_statements()));
    for (int s = 0; s < o.num_statements(); ++s) cur[static_cast<size_t>(s)] = o.Cost(s, {});
  }
  // Statement-cost reduction (weighted by calls) of moving to `next`, over
  // the statements `affected`.
  double Gain(const std::vector<int>& next, const std::set<int>& affected) {
    o.Prefetch({affected.begin(), affected.end()}, next);
    double g = 0;
    for (int s : affected) g += o.Calls(s) * (cur[static_cast<size_t>(s)] - o.Cost(s, next));
    return g;
  }
  void Apply(const std::vector<int>& next, const std::set<int>& affected) {
    config = next;
    o.Prefetch({affected.begin(), affected.end()}, config);
    for (int s : affected) cur[static_cast<size_t>(s)] = o.Cost(s, config);
  }
};

// The statements any of `cands` can change the plan of (-1 entries skipped).
std::set<int> Affected(CostOracle& o, std::initializer_list<int> cands);
int64_t Bytes(CostOracle& o, const std::vector<int>& config);
// Sorts r->chosen and fills its final cost and size.
void Finish(CostOracle& o, SelectionResult* r);

// Local search after the greedy (selection_local_search.cc; see
// selection.h): moves that replace what the greedy chose, kept only when
// the workload cost strictly falls. `st` and `used` are the greedy's
// configuration and its bytes, improved in place.
void ImproveByLocalSearch(CostOracle& o, const SelectionOptions& opts,
                          const std::function<bool()>& expired, State* st, int64_t* used,
                          SelectionResult* r);

}  // namespace pgvise::selection
