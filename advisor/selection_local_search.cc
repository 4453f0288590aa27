// Index selection, the local search that repairs what a greedy by gain per
// byte gets wrong (the essay and the knapsack trap it fixes are in
// advisor/selection.h): for each chosen index, drop it, swap it for another
// candidate, or swap it for two; then one more index; then "make room" for a
// candidate that does not fit. A move is kept only when the workload cost
// strictly falls, so a search cut short by the time limit still returns
// something no worse than the greedy. Candidates are re-costed only when an
// upper bound of what they save beats the best move found so far. Like
// Extend's steps (a factor 1.003 in the hyrise code), a move must lower the
// workload cost by kMinMoveGain of what it is now: each kept move starts a
// new round of pricing (new configurations, new what-ifs), and a long tail
// of moves that each save a hair cost most of the search's EXPLAINs on
// TPC-H for next to nothing (bench/advise.md, "Fewer what-ifs"). Bounds
// spare what-ifs before any is spent: a chosen index is not priced out
// (its statements re-costed without it) when no candidate's bound on top of
// the whole configuration could pay for a move; the two-for-one search is
// skipped when the two best bounds cannot reach what it must save; "make
// room" prices alone only the candidates that do not fit and could be
// among the tries. What a candidate saves alone is itself priced lazily,
// statement by statement, only while its bound may still clear the bar
// of the question asked (Bound's threshold). In a move out of a chosen
// index, a newcomer is costed only when it may also clear the bar beside
// the whole configuration (Tight): what a candidate saves alone overstates
// what it saves once the chosen indexes serve its statements. On TPC-H SF 1
// the same choices then cost 5-23% fewer what-ifs from 250 MB up (1000 MB
// 5,018 -> 4,324, 2000 MB 5,043 -> 3,866; bench/advise.md).
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

namespace pgvise::selection {

namespace {

// The least a kept move saves, as a fraction of the current workload cost.
constexpr double kMinMoveGain = 0.003;
// "Make room" tries at most this many candidates that do not fit, those
// that save most alone first. Each try prices the candidate, every
// eviction (each chosen index out, in turn) and a refill: on TPC-H at 50 MB
// it was 12,500 of 15,700 what-ifs, spent mostly at the last round, where
// no make-room move helps and every candidate is tried to prove it. The
// moves it found there came from the first few (bench/advise.md, "Fewer
// what-ifs").
constexpr int kMakeRoomTries = 4;

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
    Bound(c, {}, -INFINITY);  // prices every statement
    std::vector<std::pair<int, double>> v;
    for (const auto& e : Entries(c)) v.push_back({e.s, e.saves});
    return alone_[c] = std::move(v);
  }
  // min(alone, what is left), summed, less c's write overhead. Priced
  // lazily: a statement not priced alone yet counts as all it costs with no
  // index, and statements are priced (the one that may save most first)
  // only while the bound is above `threshold`. So a result above
  // `threshold` is exact; one at or below it may be a bound.
  double Bound(int c, const Residual& res, double threshold) {
    std::vector<AloneEntry>& v = Entries(c);
    auto part = [&](const AloneEntry& e) {
      return std::min(e.saves, o_.Calls(e.s) * Res(res, e.s));
    };
    double b = -o_.WriteOverhead(c);
    for (const auto& e : v) b += part(e);
    while (b > threshold) {
      AloneEntry* next = nullptr;
      for (auto& e : v)
        if (!e.priced && (!next || part(e) > part(*next))) next = &e;
      if (!next) break;
      b -= part(*next);
      next->saves = o_.Calls(next->s) * std::max(0.0, o_.Cost(next->s, {}) - o_.Cost(next->s, {c}));
      next->priced = true;
      b += part(*next);
    }
    return b;
  }
  // The gain of adding c to `config`. Only the statements c helps on its
  // own are costed: under the diminishing-returns assumption the bound above
  // already makes, c saves nothing on top of more indexes where it saves
  // nothing alone, and a what-if for those statements would be spent to
  // confirm a zero. Adding an index never raises a plan's cost (the planner
  // keeps the cheapest path), so a statement left out can only make the gain
  // an underestimate, and a kept move still strictly lowers the cost. Apply
  // re-costs every affected statement exactly once a move is taken.
  Pick Exact(const std::vector<int>& config, int c, const Residual& res) {
    Pick p;
    p.c = c;
    std::vector<int> next = With(config, c);
    p.after = res;
    p.gain = -o_.WriteOverhead(c);
    std::vector<int> asked;
    for (const auto& [s, alone] : Alone(c))
      if (alone > 0) asked.push_back(s);
    o_.Prefetch(asked, next);
    for (const auto& [s, alone] : Alone(c)) {
      if (alone <= 0) continue;
      double cost = o_.Cost(s, next);
      p.gain += o_.Calls(s) * (Res(res, s) - cost);
      p.after[s] = cost;
    }
    if (res.empty() && config == st_.config) on_top_[c] = p.gain;
    return p;
  }
  // A bound of what c saves on top of the current configuration less one
  // chosen index i (and perhaps plus another newcomer), `without_i` being
  // the costs without i: what c saves on top of the current configuration
  // (OnTop, exact) plus what taking i out added to the statements c helps.
  // A statement never costs less with i than without it, so on each of
  // them c's saving from the smaller configuration is at most its saving
  // from the whole one plus what i was worth there. Where Bound caps by
  // what c saves alone, this caps by what c saves beside everything chosen,
  // which at the search's fixed point is below the bar for most candidates;
  // OnTop is priced once per configuration and serves every i.
  double Tight(int c, const Residual& without_i) {
    double t = OnTop(c);
    for (const auto& [s, alone] : Alone(c))
      if (alone > 0) t += o_.Calls(s) * (Res(without_i, s) - st_.cur[static_cast<size_t>(s)]);
    return t;
  }
  // What c saves on top of the current configuration (Exact's gain).
  double OnTop(int c) {
    auto it = on_top_.find(c);
    return it != on_top_.end() ? it->second : Exact(st_.config, c, {}).gain;
  }
  // Candidates outside `config` that fit `room` and may save more than
  // `floor`, by their bound (per byte when `per_byte`), best first; ties by
  // number, for determinism.
  std::vector<std::pair<double, int>> Ranked(const std::vector<int>& config, const Residual& res,
                                             int64_t room, bool per_byte, double floor = 0) {
    std::vector<std::pair<double, int>> out;
    for (int c = 0; c < o_.num_candidates(); ++c) {
      // Putting back the index just taken out is no move.
      if (c == taken_out_ || Contains(config, c) || o_.Size(c) > room) continue;
      double b = Bound(c, res, std::max(floor, 0.0));
      if (b <= std::max(floor, 0.0)) continue;
      if (per_byte) b /= static_cast<double>(std::max(o_.Size(c), kMinBytes));
      out.push_back({b, c});
    }
    std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) {
      return x.first != y.first ? x.first > y.first : x.second < y.second;
    });
    return out;
  }
  // The addition that saves most, if it saves more than `floor`. Only
  // candidates whose bound beats the best so far are costed. `without_i`:
  // `config` is the current configuration less a chosen index (plus
  // perhaps one newcomer) and these are the costs without that index; a
  // candidate is then costed only when Tight too beats the best so far.
  Pick BestAdd(const std::vector<int>& config, const Residual& res, int64_t room, double floor,
               const Residual* without_i = nullptr) {
    Pick best;
    best.gain = floor;
    for (const auto& [bound, c] : Ranked(config, res, room, false, floor)) {
      if (bound <= best.gain || expired_()) break;
      if (without_i && Tight(c, *without_i) <= best.gain) continue;
      Pick p = Exact(config, c, res);
      if (p.gain > best.gain) best = std::move(p);
    }
    return best;
  }
  // The addition that saves most per byte (the greedy's own criterion).
  Pick BestRatio(const std::vector<int>& config, const Residual& res, int64_t room,
                 const Residual* without_i = nullptr) {
    Pick best;
    double best_ratio = 0;
    for (const auto& [bound, c] : Ranked(config, res, room, true)) {
      if (bound <= best_ratio || expired_()) break;
      const double bytes = static_cast<double>(std::max(o_.Size(c), kMinBytes));
      if (without_i && Tight(c, *without_i) / bytes <= best_ratio) continue;
      Pick p = Exact(config, c, res);
      double ratio = p.gain / bytes;
      if (p.gain > 0 && ratio > best_ratio) best_ratio = ratio, best = std::move(p);
    }
    return best;
  }

  // Whether two candidates that fit `room` may together save more than
  // `floor` on top of `config`: the two best bounds (no what-if beyond
  // what each saves alone). When not, the pair search is not priced.
  bool PairMayReach(const std::vector<int>& config, const Residual& res, int64_t room,
                    double floor) {
    std::vector<int> pool;
    for (int c = 0; c < o_.num_candidates(); ++c)
      if (c != taken_out_ && !Contains(config, c) && o_.Size(c) <= room) pool.push_back(c);
    return TwoMayReach(pool, res, floor);
  }
  // Whether two members of `pool`, each with a positive bound, may save
  // more than `floor` together. The larger of such a pair has a bound
  // above floor / 2, so that is all the first pass prices exactly; the
  // second looks for a partner for the best of those.
  bool TwoMayReach(const std::vector<int>& pool, const Residual& res, double floor) {
    double top = 0;
    int first = -1;
    const double half = std::max(floor / 2, 0.0);
    for (int c : pool) {
      double b = Bound(c, res, half);
      if (b > half && b > top) top = b, first = c;
    }
    if (first < 0) return false;
    const double partner = std::max(floor - top, 0.0);
    for (int c : pool)
      if (c != first && Bound(c, res, partner) > partner) return true;
    return false;
  }

  // One improving move, the best among those that take out one chosen index
  // (drop it, swap it, or swap it for two), first chosen index that has one
  // wins; else one more index. Returns false at a fixed point.
  bool ImproveOnce() {
    double total = CurrentTotal();
    double eps = std::max(kMinMoveGain * total, 1e-12);  // worth a new round
    double add_floor = std::max(opts_.min_gain * total, eps);
    bool can_grow = static_cast<int>(st_.config.size()) < opts_.max_indexes;
    // One more index first: it keeps every chosen one, so it costs only the
    // newcomers' statements, where a move out of a chosen index re-costs
    // that index's statements without it first, for each chosen index in
    // turn. Where the budget leaves room (the greedy stops when no step
    // saves min_gain, and retires an index it extended) this finds the same
    // additions for a fraction of the what-ifs: TPC-H SF 1 at 2000 MB, two
    // additions came after a full pass over 15 chosen indexes each.
    if (can_grow && !expired_()) {
      Pick add = BestAdd(st_.config, {}, Room(0), add_floor);
      if (add.c >= 0) {
        Apply(With(st_.config, add.c), add.gain, "add " + std::to_string(add.c));
        return true;
      }
    }
    std::vector<int> order = st_.config;
    for (int i : order) {
      if (expired_()) return false;
      // Every move out of i keeps the indexes other than i, so it saves at
      // most what adding its newcomers to the whole configuration would
      // (i present never makes a plan dearer), plus i's write overhead
      // (dropping i costs no reads less). When that cannot reach `eps`, the
      // statements i serves are not re-costed without it.
      if (!MayImproveWithout(i, eps, can_grow)) continue;
      std::vector<int> without;
      for (int x : st_.config)
        if (x != i) without.push_back(x);
      Residual res;
      double loss = -o_.WriteOverhead(i);  // what dropping i costs the workload
      o_.Prefetch(o_.StatementsFor(i), without);
      for (int s : o_.StatementsFor(i)) {
        res[s] = o_.Cost(s, without);
        loss += o_.Calls(s) * (res[s] - st_.cur[static_cast<size_t>(s)]);
      }
      loss_without_[i] = loss;
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
      Pick swap = BestAdd(without, res, room, best + loss, &res);
      if (swap.c >= 0) {
        best = swap.gain - loss, next = With(without, swap.c), found = true;
        what = "swap " + std::to_string(i) + " for " + std::to_string(swap.c);
      }
      if (can_grow && !expired_() &&
          PairMayReach(without, res, room, std::max(best, add_floor) + loss)) {
        // Two indexes in the room of one: the best per byte, then the one
        // that saves most on top of it.
        Pick first = BestRatio(without, res, room, &res);
        if (first.c >= 0) {
          std::vector<int> with_first = With(without, first.c);
          double floor = std::max(best, add_floor) + loss - first.gain;
          // What a second newcomer saves beside the first is at most what
          // it saves without it, so Tight over `res` bounds it too.
          Pick second = BestAdd(with_first, first.after, room - o_.Size(first.c), floor, &res);
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
    return !expired_() && MakeRoom(eps);
  }

  // Whether a move that takes out chosen index i (drop, swap for one, swap
  // for two) may save more than `eps`, from the bounds alone (no what-if):
  // a newcomer c saves at most Bound(c) on top of the current configuration,
  // and the pair at most the sum of its two.
  bool MayImproveWithout(int i, double eps, bool can_grow) {
    const double need = eps - o_.WriteOverhead(i);
    if (need < 0) return true;  // dropping i alone may do it
    const int64_t room = Room(o_.Size(i));
    std::vector<int> pool;
    for (int c = 0; c < o_.num_candidates(); ++c)
      if (c != i && !Contains(st_.config, c) && o_.Size(c) <= room) pool.push_back(c);
    for (int c : pool)
      if (Bound(c, {}, need) > need) return true;
    return can_grow && TwoMayReach(pool, {}, need);
  }

  // Bring in a candidate that does not fit, then take out the chosen
  // indexes that cost least per byte freed (or least, when the index limit
  // is what binds) until it does: one bigger index for several smaller
  // ones. Candidates in order of what they save alone, which bounds what
  // they save anywhere.
  bool MakeRoom(double eps) {
    // Only candidates that do not fit: one that fits is a plain addition,
    // tried elsewhere. The tries are the kMakeRoomTries that save most
    // alone; what a candidate saves alone is priced only while it may be
    // among them (it saves at most what its statements cost now: no
    // what-if for that bound).
    auto by_value = [](const auto& x, const auto& y) {
      return x.first != y.first ? x.first > y.first : x.second < y.second;
    };
    const bool full = static_cast<int>(st_.config.size()) >= opts_.max_indexes;
    std::vector<std::pair<double, int>> pending, order;
    for (int c = 0; c < o_.num_candidates(); ++c) {
      if (Contains(st_.config, c)) continue;
      if (opts_.budget_bytes >= 0 && o_.Size(c) > opts_.budget_bytes) continue;
      if (!full && o_.Size(c) <= Room(0)) continue;
      double most = -o_.WriteOverhead(c);
      for (int s : o_.StatementsFor(c)) most += o_.Calls(s) * o_.Cost(s, {});
      if (most > eps) pending.push_back({most, c});
    }
    std::sort(pending.begin(), pending.end(), by_value);
    // What c saves alone is Bound over the costs with no index (nothing
    // capped); priced only while it may beat the tries found so far.
    const Residual& none = NoIndex();
    for (const auto& [most, c] : pending) {
      double threshold = eps;
      if (static_cast<int>(order.size()) >= kMakeRoomTries) {
        std::sort(order.begin(), order.end(), by_value);
        threshold = std::max(eps, order[kMakeRoomTries - 1].first);
      }
      if (most <= threshold) break;
      double alone = Bound(c, none, threshold);
      if (alone > threshold) order.push_back({alone, c});
    }
    std::sort(order.begin(), order.end(), by_value);
    double best = eps;
    std::vector<int> best_next;
    int best_in = -1;
    std::vector<int> best_out, best_more;
    int tries = 0;
    for (const auto& [bound, j] : order) {
      if (bound <= best || tries >= kMakeRoomTries || expired_()) break;
      bool fits = o_.Size(j) <= Room(0) && static_cast<int>(st_.config.size()) < opts_.max_indexes;
      if (fits) continue;  // a plain addition, tried elsewhere
      // A try that cannot pay is not a try: it spends no what-if and no
      // place among the kMakeRoomTries.
      if (!TryMayPay(j, bound, best)) continue;
      ++tries;
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
          o_.Prefetch(o_.StatementsFor(i), without);
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

  // Whether making room for j (alone, j saves at most `alone_j`) may save
  // more than `best`, from bounds alone. Under the diminishing returns
  // assumed throughout, the try ends at C - O + j + In (O evicted, In the
  // refill) and saves at most
  //   alone(j) + sum of alone(In) - sum over o in O of loss(o),
  // where loss(o) is what taking o alone out of C costs: f(C - O) <= f(C) -
  // sum loss(o) (each o's part is smallest on top of everything else), and
  // j and each of In save on top of C - O no more than alone. O must free
  // j's bytes (and a place, when the index limit binds), and the refill
  // holds at most |O| - 1 indexes, each fitting the budget beside j. The
  // check enumerates the O that fit those constraints (up to 2^16; a larger
  // configuration is simply tried) and prices nothing but what the
  // candidates save alone, lazily, for the refill: cached from the greedy's
  // what-if matrix, except for extensions. loss(o) is the swap phase's
  // exact figure where it priced o out, else its least, -write(o) (taking
  // an index out never makes a plan cheaper).
  //
  // Worked example (TPC-H SF 1, 100 MB): C = {l_orderkey 76 MB, loss
  // 1.07M; o_orderdate 10 MB, loss 18k}, 14 MB free; j = a 39 MB lineitem
  // index saving 218k alone. Every O that frees 25 MB holds l_orderkey:
  // {l_orderkey} bounds the try at 218k - 1.07M, {both} at 218k + A - 1.09M
  // with A the most a candidate of up to 59 MB saves alone (218k). Four
  // such tries took 44 of the 355 what-ifs there, and none paid.
  bool TryMayPay(int j, double alone_j, double best) {
    const std::vector<int>& config = st_.config;
    const size_t n = config.size();
    if (n == 0 || n > 16) return true;
    const int64_t need_bytes = opts_.budget_bytes < 0 ? 0 : o_.Size(j) - Room(0);
    const int need_count = std::max(1, static_cast<int>(n) + 1 - opts_.max_indexes);
    std::vector<double> loss(n);
    for (size_t k = 0; k < n; ++k) {
      auto it = loss_without_.find(config[k]);
      loss[k] = it != loss_without_.end() ? it->second : -o_.WriteOverhead(config[k]);
    }
    // The refill's per-index share each O would need for the try to pay:
    // the least over the O with room for a refill.
    double refill_need = INFINITY;
    for (uint32_t mask = 1; mask < (1u << n); ++mask) {
      int64_t bytes = 0;
      double lost = 0;
      int count = 0;
      for (size_t k = 0; k < n; ++k)
        if (mask & (1u << k)) bytes += o_.Size(config[k]), lost += loss[k], ++count;
      if (bytes < need_bytes || count < need_count) continue;
      if (alone_j - lost > best) return true;  // may pay with no refill at all
      if (count >= 2) refill_need = std::min(refill_need, (best - alone_j + lost) / (count - 1));
    }
    if (refill_need == INFINITY) return false;
    // Does any candidate that fits beside j save that much alone?
    const int64_t beside = opts_.budget_bytes < 0 ? INT64_MAX : opts_.budget_bytes - o_.Size(j);
    for (int c = 0; c < o_.num_candidates(); ++c) {
      if (c == j || o_.Size(c) > beside) continue;
      if (Bound(c, NoIndex(), refill_need) > refill_need) return true;
    }
    return false;
  }
  // Every statement at its cost with no index (what "alone" is measured on).
  const Residual& NoIndex() {
    if (no_index_.empty())
      for (int s = 0; s < o_.num_statements(); ++s) no_index_[s] = o_.Cost(s, {});
    return no_index_;
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
    on_top_.clear();
    loss_without_.clear();
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
  // What each candidate saves alone, per statement, as far as priced.
  struct AloneEntry {
    int s;
    double saves;  // calls x cost saved; not priced: calls x cost with no index
    bool priced;
  };
  std::vector<AloneEntry>& Entries(int c) {
    auto it = entries_.find(c);
    if (it != entries_.end()) return it->second;
    std::vector<AloneEntry> v;
    for (int s : o_.StatementsFor(c)) v.push_back({s, o_.Calls(s) * o_.Cost(s, {}), false});
    return entries_[c] = std::move(v);
  }
  std::map<int, std::vector<AloneEntry>> entries_;
  std::map<int, std::vector<std::pair<int, double>>> alone_;
  // What each candidate saves on top of the current configuration, as far
  // as priced since it last changed (Exact, Tight).
  std::map<int, double> on_top_;
  // What taking each chosen index out of the current configuration costs
  // the workload (write overhead saved included), where the moves out of it
  // priced it since the configuration last changed (TryMayPay).
  std::map<int, double> loss_without_;
  Residual no_index_;
  int taken_out_ = -1;
};

}  // namespace

void ImproveByLocalSearch(CostOracle& o, const SelectionOptions& opts,
                          const std::function<bool()>& expired, State* st, int64_t* used,
                          SelectionResult* r) {
  LocalSearch(o, opts, expired, st, used, r).Run();
}

}  // namespace pgvise::selection
