// Index selection, Extend's greedy (the essay is in advisor/selection.h):
// lazy "add" and "extend" moves ranked by gain per byte (or by gain, the
// knapsack greedy's other half), a clean-up pass that drops what later
// indexes made redundant, then the local search (selection_local_search.cc)
// from both starts, keeping the cheaper. The baselines it is measured
// against are in selection_baselines.cc.
#include "advisor/selection.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "advisor/selection_internal.h"

namespace pgvise {

namespace selection {

std::set<int> Affected(CostOracle& o, std::initializer_list<int> cands) {
  std::set<int> out;
  for (int c : cands)
    if (c >= 0)
      for (int s : o.StatementsFor(c)) out.insert(s);
  return out;
}

int64_t Bytes(CostOracle& o, const std::vector<int>& config) {
  int64_t b = 0;
  for (int c : config) b += o.Size(c);
  return b;
}

void Finish(CostOracle& o, SelectionResult* r) {
  std::sort(r->chosen.begin(), r->chosen.end());
  r->final_cost = WorkloadCost(o, r->chosen);
  r->bytes = Bytes(o, r->chosen);
}

}  // namespace selection

using selection::Affected;
using selection::Clock;
using selection::Contains;
using selection::Finish;
using selection::kMinBytes;
using selection::Replace;
using selection::State;
using selection::With;

double WorkloadCost(CostOracle& o, const std::vector<int>& config) {
  double sum = 0;
  for (int s = 0; s < o.num_statements(); ++s) sum += o.Calls(s) * o.Cost(s, config);
  for (int c : config) sum += o.WriteOverhead(c);
  return sum;
}

// One greedy run and its local search. `by_gain`: moves ranked by what they
// save, not per byte (the knapsack greedy's other half, see SelectExtend).
SelectionResult ExtendFrom(CostOracle& o, const SelectionOptions& opts, bool by_gain,
                           Clock::time_point t0) {
  auto expired = [&] {
    return opts.time_limit_s > 0 &&
           std::chrono::duration<double>(Clock::now() - t0).count() > opts.time_limit_s;
  };
  SelectionResult r;
  State st(o);
  for (int s = 0; s < o.num_statements(); ++s)
    r.base_cost += o.Calls(s) * st.cur[static_cast<size_t>(s)];
  // A step must save min_gain of what the workload costs at that point: a
  // fraction of the original cost would stop early when one monster
  // statement dominates it and is fixed first.
  auto current_total = [&] {
    double sum = 0;
    for (int s = 0; s < o.num_statements(); ++s) sum += o.Calls(s) * st.cur[static_cast<size_t>(s)];
    return sum;
  };
  double min_gain = std::max(opts.min_gain * r.base_cost, 1e-9);
  int64_t used = 0;

  // Lazy greedy over "add" moves: stale[c] is an upper bound of c's gain
  // per byte (gains only shrink as the configuration grows).
  std::map<int, double> stale;
  for (int c = 0; c < o.num_candidates(); ++c) stale[c] = INFINITY;
  std::map<std::pair<int, int>, double> stale_ext;  // (from, ext) -> bound

  while (true) {
    if (expired()) {
      r.timed_out = true;
      break;
    }
    struct Move {
      int add = -1, from = -1;
      double gain = 0, ratio = 0;
      int64_t dsize = 0;
      std::vector<int> next;
    } best;
    bool can_add = static_cast<int>(st.config.size()) < opts.max_indexes;

    if (can_add) {
      // Candidates in order of their (stale) ratio; stop once the best fresh
      // ratio beats every remaining upper bound.
      std::vector<std::pair<double, int>> order;
      for (const auto& [c, bound] : stale)
        if (!Contains(st.config, c)) order.push_back({bound, c});
      std::sort(order.rbegin(), order.rend());
      for (const auto& [bound, c] : order) {
        if (bound <= best.ratio) break;
        if (expired()) break;
        int64_t sz = o.Size(c);
        if (opts.budget_bytes >= 0 && used + sz > opts.budget_bytes) continue;
        std::vector<int> next = With(st.config, c);
        double gain = st.Gain(next, Affected(o, {c})) - o.WriteOverhead(c);
        double ratio = by_gain ? gain : gain / static_cast<double>(std::max(sz, kMinBytes));
        stale[c] = std::max(ratio, 0.0);
        if (gain > min_gain && ratio > best.ratio) best = {c, -1, gain, ratio, sz, next};
      }
    }
    // Extension moves: a chosen index grows by one key column. Lazy like
    // the additions: stale_ext[(from, ext)] bounds the move's ratio, and a
    // move whose bound cannot beat the best fresh one is not re-costed.
    for (int from : st.config) {
      for (int ext : o.Extensions(from)) {
        if (Contains(st.config, ext) || expired()) continue;
        auto bound = stale_ext.find({from, ext});
        if (bound != stale_ext.end() && bound->second <= best.ratio) continue;
        int64_t dsize = o.Size(ext) - o.Size(from);
        if (opts.budget_bytes >= 0 && used + dsize > opts.budget_bytes) continue;
        std::vector<int> next = Replace(st.config, from, ext);
        double gain = st.Gain(next, Affected(o, {from, ext})) -
                      (o.WriteOverhead(ext) - o.WriteOverhead(from));
        double ratio = by_gain ? gain : gain / static_cast<double>(std::max(dsize, kMinBytes));
        stale_ext[{from, ext}] = std::max(ratio, 0.0);
        if (gain > min_gain && ratio > best.ratio) best = {ext, from, gain, ratio, dsize, next};
      }
    }
    if (best.add < 0) break;
    st.Apply(best.next, Affected(o, {best.add, best.from}));
    min_gain = std::max(opts.min_gain * current_total(), 1e-9);
    used += best.dsize;
    ++r.steps;
    char line[200];
    std::snprintf(line, sizeof line, "step %d: %s candidate %d%s, gain %.0f, +%lld bytes", r.steps,
                  best.from < 0 ? "add" : "extend", best.add,
                  best.from < 0 ? "" : (" (from " + std::to_string(best.from) + ")").c_str(),
                  best.gain, static_cast<long long>(best.dsize));
    r.log.push_back(line);
    if (opts.progress) opts.progress(line);
    if (best.from >= 0) stale.erase(best.from);
  }

  // Clean-up: an index chosen early may be subsumed by later ones.
  bool changed = true;
  while (changed && !r.timed_out) {
    changed = false;
    for (int c : st.config) {
      std::vector<int> without;
      for (int x : st.config)
        if (x != c) without.push_back(x);
      std::set<int> aff = Affected(o, {c});
      double loss = -st.Gain(without, aff);  // cost increase when dropping c
      if (loss < o.WriteOverhead(c) + min_gain) {
        st.Apply(without, aff);
        r.log.push_back("dropped candidate " + std::to_string(c) + ": the others cover it");
        changed = true;
        break;
      }
    }
  }
  if (opts.local_search && !r.timed_out) {
    std::function<bool()> expired_fn = expired;
    selection::ImproveByLocalSearch(o, opts, expired_fn, &st, &used, &r);
  }
  r.chosen = st.config;
  Finish(o, &r);
  return r;
}

SelectionResult SelectExtend(CostOracle& o, const SelectionOptions& opts) {
  auto t0 = Clock::now();
  SelectionResult r = ExtendFrom(o, opts, false, t0);
  if (!opts.local_search || r.timed_out) return r;
  // A greedy by gain per byte can be far off when one big index saves most
  // (the knapsack greedy's weakness); the classic remedy is to also try the
  // greedy by gain and keep the better. Each start is then improved by the
  // local search, which does not reach every configuration from either.
  SelectionResult g = ExtendFrom(o, opts, true, t0);
  if (g.final_cost < r.final_cost - 1e-9 * r.base_cost) {
    g.log.insert(g.log.begin(), "greedy by gain (not per byte) led to the cheaper configuration");
    return g;
  }
  r.timed_out = r.timed_out || g.timed_out;
  return r;
}

}  // namespace pgvise
