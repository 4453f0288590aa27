// Rate windows: over how long a stretch of time `pgvise maintain` judges
// write and dead-tuple rates, and where that stretch comes from.
//
// Sits between the snapshot and the rules (snapshot -> window -> rules ->
// plan): the rules read rates as counters / HealthSnapshot::stats_age_s, and
// this step decides what those counters and that age are.
//
// PostgreSQL's activity counters (pg_stat_user_tables n_tup_ins, n_tup_upd,
// ...) count from the last statistics reset, which is often the server's
// start. Averaged over that span, a bulk load or a one-off backfill minutes
// after a restart looks like a permanent hot workload: 50,000 rows loaded
// ten minutes ago read as "300,000 inserts/h". Monitoring tools never rate
// from one reading; they take two and divide the difference by the time
// between them. Three ways to get a window here, best first:
//
//   --observe DURATION   two snapshots DURATION apart, in this run;
//   --baseline FILE      the counters a previous run saved with
//                        --save-baseline FILE (a nightly cron job: each run
//                        saves, the next judges the day in between);
//   neither              the counters since the reset, and the rate rules
//                        judge only when they cover the rule's
//                        `min_window_hours` (a day by default); otherwise
//                        they stay quiet and the plan says what they need.
//
// Counts that are facts about now (dead tuples, modifications since ANALYZE,
// XID ages) are not rates and are never windowed.
//
// Worked example: a baseline saved at 02:00 holds events.n_tup_ins =
// 1,000,000; at 02:00 the next day the counter reads 1,480,000. The window is
// 24 h and the rate 20,000 inserts/h — whatever the counter's age. A table
// created after the baseline counts from zero (all its writes are inside the
// window); a counter that went down (a statistics reset in between) counts
// from zero too, which under-states the rate: quiet rather than wrong.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "maintenance/snapshot.h"

namespace pgvise {

// One table's cumulative counters at one moment.
struct TableCounters {
  uint32_t oid = 0;
  std::string schema, name;
  int64_t n_tup_ins = 0, n_tup_upd = 0, n_tup_hot_upd = 0, n_tup_del = 0;
  int64_t vacuum_count = 0, autovacuum_count = 0, analyze_count = 0, autoanalyze_count = 0;
  int64_t heap_blks_read = 0, heap_blks_hit = 0;
};

// The counters of every table at one moment: what --save-baseline writes.
struct CounterBaseline {
  std::string database;
  std::time_t taken_at = 0;  // this machine's clock, seconds since the epoch
  std::vector<TableCounters> tables;
};

CounterBaseline CountersOf(const HealthSnapshot& snap, std::time_t taken_at);

// The baseline file: {"pgvise_baseline": 1, "database", "taken_at", "tables": [...]}.
nlohmann::json BaselineToJson(const CounterBaseline& b);
// Errors are located (`FILE: tables[3].n_tup_ins: not a number`) input errors.
Status BaselineFromJson(const nlohmann::json& j, const std::string& where, CounterBaseline* out);
Status ReadBaseline(const std::string& path, CounterBaseline* out);
Status WriteBaseline(const std::string& path, const CounterBaseline& b);

// "90", "90s", "10min", "10m", "2h", "1d" -> seconds; -1 when it is none of
// those or not positive (--observe's argument).
double ParseDuration(const std::string& text);

// Replaces `now`'s activity counters by their growth since `before`, sets
// stats_age_s to the seconds in between and records where the window came
// from (`source`, e.g. "observed over 10 min"). Fails when the baseline is of
// another database or not older than now.
Status ApplyWindow(const CounterBaseline& before, double elapsed_s, const std::string& source,
                   HealthSnapshot* now);

}  // namespace pgvise
