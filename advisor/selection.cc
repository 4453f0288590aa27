#include "advisor/selection.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <set>
#include <string>

#include "catalog/catalog.h"

namespace pgvise {

namespace {

using Clock = std::chrono::steady_clock;
// A divisor floor (no index is free); WhatIf::Size is already at least one
// of the server's pages.
constexpr int64_t kMinBytes = kDefaultBlockSize;

std::vector<int> With(std::vector<int> config, int c) {
  config.push_back(c);
  std::sort(config.begin(), config.end());
  return config;
}

std::vector<int> Replace(std::vector<int> config, int from, int to) {
  for (auto& x : config)
    if (x == from) x = to;
  std::sort(config.begin(), config.end());
  return config;
}

bool Contains(const std::vector<int>& v, int x) {
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
    double g = 0;
    for (int s : affected) g += o.Calls(s) * (cur[static_cast<size_t>(s)] - o.Cost(s, next));
    return g;
  }
  void Apply(const std::vector<int>& next, const std::set<int>& affected) {
    config = next;
    for (int s : affected) cur[static_cast<size_t>(s)] = o.Cost(s, config);
  }
};

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

// Local search after the greedy: moves that replace what the greedy chose,
// kept only when the workload cost strictly falls (see selection.h).
// `res` maps a statement to its cost under a configuration that differs from
// the current one; statements not in it cost what they cost now.
class LocalSearch {
 public:
  LocalSearch(CostOracle& o, const SelectionOptions& opts, const std::function<bool()>& expired,
              State* st, int64_t* used, SelectionResult* r)
      : o_(o), opts_(opts), expired_(expired), st_(*st), used_(*used), r_(*r) {
    used_ = Bytes(o_, st_.config);  // the clean-up pass dropped some
  }

  void Run() {
    // Wider variants of what was chosen become candidates like any other.
    for (int c : std::vector<int>(st_.config)) o_.Extensions(c);
    while (ImproveOnce()) ++r_.local_moves;
    // A search cut short still returns a configuration no worse than the
    // greedy's: every kept move lowered the cost.
    if (expired_()) r_.timed_out = true;
  }

 private:
  using Residual = std::map<int, double>;
  struct Pick {
    int c = -1;
    double gain = 0;  // workload cost reduction, write overhead included
    Residual after;
  };

  double Res(const Residual& res, int s) const {
    auto it = res.find(s);
    return it == res.end() ? st_.cur[static_cast<size_t>(s)] : it->second;
  }
  double CurrentTotal() const {
    double sum = 0;
    for (int s = 0; s < o_.num_statements(); ++s)
      sum += o_.Calls(s) * st_.cur[static_cast<size_t>(s)];
    for (int c : st_.config) sum += o_.WriteOverhead(c);
    return sum;
  }
  int64_t Room(int64_t freed) const {
    return opts_.budget_bytes < 0 ? INT64_MAX : opts_.budget_bytes - used_ + freed;
  }
  // What c saves on its own, per statement (calls included); the same
  // diminishing-returns assumption as the greedy's lazy evaluation makes
  // min(alone, what is left) an upper bound of what c saves on top of more.
  const std::vector<std::pair<int, double>>& Alone(int c) {
    auto it = alone_.find(c);
    if (it != alone_.end()) return it->second;
    std::vector<std::pair<int, double>> v;
    for (int s : o_.StatementsFor(c))
      v.push_back({s, o_.Calls(s) * std::max(0.0, o_.Cost(s, {}) - o_.Cost(s, {c}))});
    return alone_[c] = std::move(v);
  }
  double Bound(int c, const Residual& res) {
    double b = -o_.WriteOverhead(c);
    for (const auto& [s, g] : Alone(c)) b += std::min(g, o_.Calls(s) * Res(res, s));
    return b;
  }
  Pick Exact(const std::vector<int>& config, int c, const Residual& res) {
    Pick p;
    p.c = c;
    std::vector<int> next = With(config, c);
    p.after = res;
    p.gain = -o_.WriteOverhead(c);
    for (int s : o_.StatementsFor(c)) {
      double cost = o_.Cost(s, next);
      p.gain += o_.Calls(s) * (Res(res, s) - cost);
      p.after[s] = cost;
    }
    return p;
  }
  // Candidates outside `config` that fit `room`, by their bound (per byte
  // when `per_byte`), best first; ties by number, for determinism.
  std::vector<std::pair<double, int>> Ranked(const std::vector<int>& config, const Residual& res,
                                             int64_t room, bool per_byte) {
    std::vector<std::pair<double, int>> out;
    for (int c = 0; c < o_.num_candidates(); ++c) {
      // Putting back the index just taken out is no move.
      if (c == taken_out_ || Contains(config, c) || o_.Size(c) > room) continue;
      double b = Bound(c, res);
      if (b <= 0) continue;
      if (per_byte) b /= static_cast<double>(std::max(o_.Size(c), kMinBytes));
      out.push_back({b, c});
    }
    std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) {
      return x.first != y.first ? x.first > y.first : x.second < y.second;
    });
    return out;
  }
  // The addition that saves most, if it saves more than `floor`. Only
  // candidates whose bound beats the best so far are costed.
  Pick BestAdd(const std::vector<int>& config, const Residual& res, int64_t room, double floor) {
    Pick best;
    best.gain = floor;
    for (const auto& [bound, c] : Ranked(config, res, room, false)) {
      if (bound <= best.gain || expired_()) break;
      Pick p = Exact(config, c, res);
      if (p.gain > best.gain) best = std::move(p);
    }
    return best;
  }
  // The addition that saves most per byte (the greedy's own criterion).
  Pick BestRatio(const std::vector<int>& config, const Residual& res, int64_t room) {
    Pick best;
    double best_ratio = 0;
    for (const auto& [bound, c] : Ranked(config, res, room, true)) {
      if (bound <= best_ratio || expired_()) break;
      Pick p = Exact(config, c, res);
      double ratio = p.gain / static_cast<double>(std::max(o_.Size(c), kMinBytes));
      if (p.gain > 0 && ratio > best_ratio) best_ratio = ratio, best = std::move(p);
    }
    return best;
  }

  // One improving move, the best among those that take out one chosen index
  // (drop it, swap it, or swap it for two), first chosen index that has one
  // wins; else one more index. Returns false at a fixed point.
  bool ImproveOnce() {
    double total = CurrentTotal();
    double eps = std::max(1e-9 * total, 1e-12);  // strictly better, not rounding noise
    double add_floor = std::max(opts_.min_gain * total, eps);
    bool can_grow = static_cast<int>(st_.config.size()) < opts_.max_indexes;
    std::vector<int> order = st_.config;
    for (int i : order) {
      if (expired_()) return false;
      std::vector<int> without;
      for (int x : st_.config)
        if (x != i) without.push_back(x);
      Residual res;
      double loss = -o_.WriteOverhead(i);  // what dropping i costs the workload
      for (int s : o_.StatementsFor(i)) {
        res[s] = o_.Cost(s, without);
        loss += o_.Calls(s) * (res[s] - st_.cur[static_cast<size_t>(s)]);
      }
      int64_t room = Room(o_.Size(i));
      taken_out_ = i;
      double best = eps;
      bool found = false;
      std::vector<int> next;
      std::string what;
      if (-loss > best) {
        best = -loss, next = without, found = true;
        what = "drop " + std::to_string(i);
      }
      Pick swap = BestAdd(without, res, room, best + loss);
      if (swap.c >= 0) {
        best = swap.gain - loss, next = With(without, swap.c), found = true;
        what = "swap " + std::to_string(i) + " for " + std::to_string(swap.c);
      }
      if (can_grow && !expired_()) {
        // Two indexes in the room of one: the best per byte, then the one
        // that saves most on top of it.
        Pick first = BestRatio(without, res, room);
        if (first.c >= 0) {
          std::vector<int> with_first = With(without, first.c);
          double floor = std::max(best, add_floor) + loss - first.gain;
          Pick second = BestAdd(with_first, first.after, room - o_.Size(first.c), floor);
          if (second.c >= 0) {
            best = first.gain + second.gain - loss, next = With(with_first, second.c);
            found = true;
            what = "swap " + std::to_string(i) + " for " + std::to_string(first.c) + " and " +
                   std::to_string(second.c);
          }
        }
      }
      taken_out_ = -1;
      if (found) {
        Apply(next, best, what);
        return true;
      }
    }
    if (can_grow && !expired_()) {
      Pick add = BestAdd(st_.config, {}, Room(0), add_floor);
      if (add.c >= 0) {
        Apply(With(st_.config, add.c), add.gain, "add " + std::to_string(add.c));
        return true;
      }
    }
    return !expired_() && MakeRoom(eps);
  }

  // Bring in a candidate that does not fit, then take out the chosen
  // indexes that cost least per byte freed (or least, when the index limit
  // is what binds) until it does: one bigger index for several smaller
  // ones. Candidates in order of what they save alone, which bounds what
  // they save anywhere.
  bool MakeRoom(double eps) {
    std::vector<std::pair<double, int>> order;
    for (int c = 0; c < o_.num_candidates(); ++c) {
      if (Contains(st_.config, c)) continue;
      if (opts_.budget_bytes >= 0 && o_.Size(c) > opts_.budget_bytes) continue;
      double alone = -o_.WriteOverhead(c);
      for (const auto& [s, g] : Alone(c)) alone += g;
      if (alone > eps) order.push_back({alone, c});
    }
    std::sort(order.begin(), order.end(), [](const auto& x, const auto& y) {
      return x.first != y.first ? x.first > y.first : x.second < y.second;
    });
    double best = eps;
    std::vector<int> best_next;
    int best_in = -1;
    std::vector<int> best_out, best_more;
    for (const auto& [bound, j] : order) {
      if (bound <= best || expired_()) break;
      bool fits = o_.Size(j) <= Room(0) && static_cast<int>(st_.config.size()) < opts_.max_indexes;
      if (fits) continue;  // a plain addition, tried elsewhere
      Pick p = Exact(st_.config, j, {});
      std::vector<int> config = With(st_.config, j);
      Residual res = p.after;
      double gain = p.gain;
      std::vector<int> out;
      int64_t bytes = Bytes(o_, config);
      while ((opts_.budget_bytes >= 0 && bytes > opts_.budget_bytes) ||
             static_cast<int>(config.size()) > opts_.max_indexes) {
        bool need_bytes = opts_.budget_bytes >= 0 && bytes > opts_.budget_bytes;
        int victim = -1;
        double victim_loss = 0, victim_key = INFINITY;
        Residual victim_res;
        for (int i : config) {
          if (i == j) continue;
          std::vector<int> without;
          for (int x : config)
            if (x != i) without.push_back(x);
          Residual r = res;
          double loss = -o_.WriteOverhead(i);
          for (int s : o_.StatementsFor(i)) {
            r[s] = o_.Cost(s, without);
            loss += o_.Calls(s) * (r[s] - Res(res, s));
          }
          double key =
              need_bytes ? loss / static_cast<double>(std::max(o_.Size(i), kMinBytes)) : loss;
          if (key < victim_key) victim = i, victim_key = key, victim_loss = loss, victim_res = r;
        }
        if (victim < 0) break;
        config.erase(std::find(config.begin(), config.end(), victim));
        bytes -= o_.Size(victim);
        gain -= victim_loss;
        res = std::move(victim_res);
        out.push_back(victim);
      }
      bool ok = (opts_.budget_bytes < 0 || bytes <= opts_.budget_bytes) &&
                static_cast<int>(config.size()) <= opts_.max_indexes;
      // What the evictions freed beyond j's needs is refilled, best saving
      // first, without growing the index count past what it was.
      std::vector<int> in;
      int most = std::min(opts_.max_indexes, static_cast<int>(st_.config.size()));
      while (ok && static_cast<int>(config.size()) < most && !expired_()) {
        int64_t room = opts_.budget_bytes < 0 ? INT64_MAX : opts_.budget_bytes - bytes;
        Pick more = BestAdd(config, res, room, 0);
        if (more.c < 0) break;
        config = With(config, more.c);
        bytes += o_.Size(more.c);
        gain += more.gain;
        res = std::move(more.after);
        in.push_back(more.c);
      }
      if (ok && gain > best) {
        best = gain, best_next = config, best_in = j, best_out = out, best_more = in;
      }
    }
    if (best_in < 0) return false;
    std::string what = "make room for " + std::to_string(best_in) + " by taking out";
    for (int i : best_out) what += " " + std::to_string(i);
    if (!best_more.empty()) what += ", then adding";
    for (int c : best_more) what += " " + std::to_string(c);
    Apply(best_next, best, what);
    return true;
  }

  void Apply(const std::vector<int>& next, double saved, const std::string& what) {
    std::set<int> affected;
    for (int c : st_.config)
      if (!Contains(next, c))
        for (int s : o_.StatementsFor(c)) affected.insert(s);
    for (int c : next)
      if (!Contains(st_.config, c))
        for (int s : o_.StatementsFor(c)) affected.insert(s);
    st_.Apply(next, affected);
    used_ = Bytes(o_, st_.config);
    char line[240];
    std::snprintf(line, sizeof line, "local search: %s, saves %.0f", what.c_str(), saved);
    r_.log.push_back(line);
    if (opts_.progress) opts_.progress(line);
  }

  CostOracle& o_;
  const SelectionOptions& opts_;
  const std::function<bool()>& expired_;
  State& st_;
  int64_t& used_;
  SelectionResult& r_;
  std::map<int, std::vector<std::pair<int, double>>> alone_;
  int taken_out_ = -1;
};

}  // namespace

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
    // Extension moves: a chosen index grows by one key column.
    for (int from : st.config) {
      for (int ext : o.Extensions(from)) {
        if (Contains(st.config, ext) || expired()) continue;
        int64_t dsize = o.Size(ext) - o.Size(from);
        if (opts.budget_bytes >= 0 && used + dsize > opts.budget_bytes) continue;
        std::vector<int> next = Replace(st.config, from, ext);
        double gain = st.Gain(next, Affected(o, {from, ext})) -
                      (o.WriteOverhead(ext) - o.WriteOverhead(from));
        double ratio = by_gain ? gain : gain / static_cast<double>(std::max(dsize, kMinBytes));
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
    LocalSearch(o, opts, expired_fn, &st, &used, &r).Run();
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
