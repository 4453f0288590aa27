// The partition interval and count, and what pruning leaves per statement.
//
// Three forces set the interval of RANGE partitions, and the rule that binds
// is said in the report:
//   1. size: the partition being written (the newest) has its indexes in
//      memory, or every insert reads index pages from disk. Time-series
//      systems size chunks so the active chunk's indexes fit in about 25% of
//      memory; with PostgreSQL's shared_buffers as that memory:
//        step <= span * buffer_fraction * shared_buffers / index_bytes
//      (the table's index bytes spread evenly over its data span; a table
//      without indexes uses its heap bytes);
//   2. pruning: at least min_partitions over the data, or a statement asking
//      for a day of a month has nothing to skip;
//   3. count: at most max_partitions over the data. Every partition that
//      survives pruning is planned and locked with each of its indexes; a
//      statement that does not prune locks them all. PostgreSQL gives each
//      backend 16 fast-path lock slots; beyond them locks go to the shared
//      lock table sized max_locks_per_transaction x max_connections, and
//      planning time grows with the partitions left. The report states, per
//      statement, the relations it locks against the 16 slots.
// The interval is the largest step of a calendar ladder (1 hour, 1 day,
// 1 week, 1 month, 1 year; for integer keys 1-2-5 x 10^k) within 1 and 2,
// raised to honour 3 when they conflict.
//
// Worked example: 30 GB of heap with 9 GB of indexes over 365 days,
// shared_buffers 8 GB. Size: 365 d x 0.25 x 8 GB / 9 GB = 81 days. Pruning:
// 365 / 8 = 45.6 days. Count: 365 / 200 = 1.8 days at least. Largest ladder
// step <= 45.6 days and >= 1.8 days: 1 month (30.44 days). -> 1 month, 12
// partitions over the data (365 / 30.44, rounded up) + 4 made ahead.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "advisor/partition_internal.h"

namespace pgvise {

namespace {

struct Rung {
  double seconds;
  const char* interval;
  const char* unit;
};
constexpr Rung kTimeLadder[] = {{3600, "1 hour", "hour"},
                                {86400, "1 day", "day"},
                                {604800, "1 week", "week"},
                                {2629746, "1 month", "month"},
                                {31556952, "1 year", "year"}};

std::string Days(double seconds) {
  char buf[64];
  if (seconds >= 86400)
    std::snprintf(buf, sizeof buf, "%.1f days", seconds / 86400);
  else
    std::snprintf(buf, sizeof buf, "%.1f hours", seconds / 3600);
  return buf;
}

std::string Number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
}

}  // namespace

IntervalChoice ChooseInterval(const IntervalInput& in, const PartitionOptions& o) {
  IntervalChoice out;
  const double span = std::max(in.hi - in.lo, in.time_key ? 3600.0 : 1.0);
  const double sized_bytes =
      static_cast<double>(in.index_bytes > 0 ? in.index_bytes : in.table_bytes);
  const double budget = o.buffer_fraction * static_cast<double>(in.shared_buffers_bytes);
  const double size_ceiling = sized_bytes > 0 ? span * budget / sized_bytes : span;
  const double prune_ceiling = span / std::max(o.min_partitions, 1);
  const double count_floor = span / std::max(o.max_partitions, 1);
  const double ceiling = std::min(size_ceiling, prune_ceiling);
  auto say = [&](double v) { return in.time_key ? Days(v) : Number(v); };

  std::vector<std::pair<double, std::string>> ladder;  // step, interval text
  std::vector<std::string> units;
  if (in.time_key) {
    for (const auto& r : kTimeLadder) {
      ladder.push_back({r.seconds, r.interval});
      units.push_back(r.unit);
    }
  } else {
    for (double p = 1; p <= 1e15; p *= 10)
      for (double m : {1.0, 2.0, 5.0}) {
        ladder.push_back({m * p, Number(m * p)});
        units.push_back("");
      }
  }
  size_t pick = 0;
  bool found = false;
  for (size_t i = 0; i < ladder.size(); ++i)
    if (ladder[i].first <= ceiling) pick = i, found = true;
  if (found && ladder[pick].first < count_floor) found = false;
  if (!found) {
    // Nothing fits both ceilings and the floor: the count bound wins (a
    // partition too large for the buffer fraction costs reads; too many
    // partitions cost every statement's planning).
    pick = ladder.size() - 1;
    for (size_t i = 0; i < ladder.size(); ++i)
      if (ladder[i].first >= count_floor) {
        pick = i;
        break;
      }
  }
  out.step = ladder[pick].first;
  out.interval = ladder[pick].second;
  out.trunc_unit = units[pick];
  out.partitions = std::max(1, static_cast<int>(std::ceil(span / out.step)));
  out.premake = o.premake;
  out.partition_bytes =
      static_cast<double>(in.table_bytes + in.index_bytes) * std::min(1.0, out.step / span);
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "size: one partition's indexes within %.0f%% of shared_buffers (%s) allows "
                "partitions of up to %s of data",
                100 * o.buffer_fraction,
                (std::to_string(in.shared_buffers_bytes >> 20) + " MB").c_str(),
                say(size_ceiling).c_str());
  out.why.push_back(buf);
  out.why.push_back("pruning: at least " + std::to_string(o.min_partitions) +
                    " partitions over the data's span of " + say(span) + " means at most " +
                    say(prune_ceiling) + " each");
  out.why.push_back("count: at most " + std::to_string(o.max_partitions) +
                    " partitions over the data means at least " + say(count_floor) + " each" +
                    (found ? "" : " — this bound won over the two above"));
  const int locks = (out.partitions + out.premake) * (1 + in.indexes);
  out.why.push_back(
      "locks: a statement that does not prune locks " + std::to_string(locks) +
      " relations (each partition and its " + std::to_string(in.indexes) +
      " index(es)); 16 fit a backend's fast-path slots, the rest take the shared lock table (" +
      std::to_string(in.max_locks_per_transaction) + " max_locks_per_transaction per connection)");
  out.why.push_back("chosen: " + out.interval + " (" + std::to_string(out.partitions) +
                    " partitions over the data, " + std::to_string(out.premake) + " made ahead)");
  return out;
}

double HistogramFraction(const std::vector<double>& b, double lo, double hi) {
  if (b.size() < 2) return 1;
  if (hi <= lo) return 0;
  const double per = 1.0 / static_cast<double>(b.size() - 1);
  double f = 0;
  for (size_t i = 0; i + 1 < b.size(); ++i) {
    const double a = b[i], z = b[i + 1];
    if (z <= a) {  // a bucket of one value
      f += (a >= lo && a < hi) ? per : 0;
      continue;
    }
    const double ov = std::max(0.0, std::min(z, hi) - std::max(a, lo));
    f += per * ov / (z - a);
  }
  // Rows at or beyond the last bound (inserted since ANALYZE) are not in
  // the histogram; the fraction is of what it describes.
  return std::clamp(f, 0.0, 1.0);
}

PruneResult Prune(std::optional<double> lo, std::optional<double> hi, double first, double step,
                  int total, const std::vector<double>& histogram) {
  PruneResult r;
  r.total = total;
  if (step <= 0 || total <= 0) return r;
  int from = 0, to = total - 1;
  if (lo) from = std::max(from, static_cast<int>(std::floor((*lo - first) / step)));
  if (hi) to = std::min(to, static_cast<int>(std::ceil((*hi - first) / step)) - 1);
  r.scanned = std::max(0, to - from + 1);
  if (!lo && !hi) {
    r.row_fraction = 1;
    return r;
  }
  if (r.scanned == 0) {
    r.row_fraction = 0;
    return r;
  }
  const double a = from == 0 && !lo ? -1e300 : first + from * step;
  const double z = to == total - 1 ? 1e300 : first + (to + 1) * step;
  r.row_fraction = HistogramFraction(histogram, a, z);
  return r;
}

}  // namespace pgvise
