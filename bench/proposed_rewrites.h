// The rewrites one gate of `pgvise rewrite` proposed in a bench run: how
// many, how many ran slower (by the --verify measurement, or a rewrite that
// timed out), and the geometric mean of their speed-ups. Shared by
// bench/rewrite_bench.cc and bench/rewrite_tpch_bench.cc.
#pragma once

#include <cmath>
#include <cstdio>

namespace pgvise::bench {

struct Proposed {
  int n = 0, slower = 0;
  double log_sum = 0;
  void Add(double ratio, bool is_slower) {
    if (ratio <= 0) return;
    ++n;
    slower += is_slower;
    log_sum += std::log(ratio);
  }
  void Print(const char* gate, int timeout_s) const {
    std::printf(
        "%s: %d rewrites proposed, %d measured slower; geometric mean speed-up %.1fx "
        "(originals past %d s counted at %d s: a lower bound)\n",
        gate, n, slower, n ? std::exp(log_sum / n) : 0.0, timeout_s, timeout_s);
    std::fflush(stdout);
  }
};

}  // namespace pgvise::bench
