#include "maintenance/maintain.h"

#include <chrono>
#include <cmath>
#include <stdexcept>
#include <thread>

#include "maintenance/rules_internal.h"

namespace pgvise {

namespace {

double MsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

void EstimateBloat(MaintainRun* run) {
  const HealthSnapshot& snap = run->snapshot;
  int bs = static_cast<int>(snap.Setting("block_size"));
  run->table_bloat.reserve(snap.tables.size());
  for (const auto& t : snap.tables) run->table_bloat.push_back(EstimateTableBloat(t, bs));
  run->index_bloat.reserve(snap.indexes.size());
  for (const auto& x : snap.indexes) {
    const TableHealth* t = snap.Table(x.table_oid);
    run->index_bloat.push_back(t ? EstimateIndexBloat(x, *t, snap.server_version, bs)
                                 : BloatEstimate{});
  }
}

// --exact: measure what the estimate flags (at least half the rule's ratio),
// one query for all such tables and one for all such indexes.
Status ExactBloat(Session& s, const RuleBook& rules, MaintainRun* run) {
  const HealthSnapshot& snap = run->snapshot;
  if (!snap.has_pgstattuple) {
    run->plan.notes.push_back(
        "--exact: the pgstattuple extension is not installed here; using estimates");
    return Status::Ok();
  }
  // The bloat rules' own thresholds (their YAML; a rule book without them is
  // a bug, like any missing threshold).
  auto min_ratio = [&](const char* id) {
    const Rule* r = rules.Find(id);
    if (!r) throw std::logic_error(std::string("rule ") + id + " is not loaded");
    return r->Threshold("min_ratio");
  };
  double tmin = min_ratio("table-bloat") / 2;
  double imin = min_ratio("index-bloat") / 2;
  const int bs = static_cast<int>(snap.Setting("block_size"));
  std::vector<ExactTarget> tables, indexes;
  for (size_t i = 0; i < snap.tables.size(); ++i) {
    BloatEstimate& e = run->table_bloat[i];
    // Not estimated (no statistics) is measured too: that is what --exact is for.
    if (snap.tables[i].heap_bytes >= 10 * bs && (!e.estimated || e.ratio >= tmin))
      tables.push_back({snap.tables[i].oid, &e, snap.tables[i].Fillfactor()});
  }
  for (size_t i = 0; i < snap.indexes.size(); ++i) {
    const IndexHealth& x = snap.indexes[i];
    BloatEstimate& e = run->index_bloat[i];
    if (x.am == "btree" && x.valid && x.bytes >= 10 * bs && (!e.estimated || e.ratio >= imin))
      indexes.push_back({x.oid, &e, x.Fillfactor()});
  }
  Status st = ExactTableBloat(s, snap.pgstattuple_schema, tables, bs);
  if (!st.ok()) run->plan.notes.push_back("--exact: pgstattuple_approx failed: " + st.message());
  st = ExactIndexBloat(s, snap.pgstattuple_schema, indexes, bs);
  if (!st.ok()) run->plan.notes.push_back("--exact: pgstatindex failed: " + st.message());
  run->plan.notes.push_back("--exact: measured " + std::to_string(tables.size()) + " tables and " +
                            std::to_string(indexes.size()) + " indexes with pgstattuple");
  return Status::Ok();
}

// The window rates are judged over (maintenance/window.h). --observe reads
// the snapshot twice; --baseline reads a file a previous run saved. Either
// way `run->counters` keeps the cumulative counters for --save-baseline.
Status ChooseWindow(Session& s, const MaintainOptions& opts, MaintainRun* run) {
  if (opts.observe_s > 0) {
    CounterBaseline first = CountersOf(run->snapshot, std::time(nullptr));
    auto t0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(opts.observe_s));
    HealthSnapshot second;
    Status st = CollectSnapshot(s, &second);
    if (!st.ok()) return st;
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    run->snapshot = std::move(second);
    run->counters = CountersOf(run->snapshot, std::time(nullptr));
    return ApplyWindow(first, elapsed, "observed over " + maint::Span(elapsed), &run->snapshot);
  }
  run->counters = CountersOf(run->snapshot, std::time(nullptr));
  if (opts.baseline.empty()) return Status::Ok();
  CounterBaseline base;
  Status st = ReadBaseline(opts.baseline, &base);
  if (!st.ok()) return st;
  double elapsed = std::difftime(run->counters.taken_at, base.taken_at);
  char when[32];
  std::tm tm{};
  gmtime_r(&base.taken_at, &tm);
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);
  st = ApplyWindow(base, elapsed,
                   "since the baseline of " + std::string(when) + " (" + maint::Span(elapsed) + ")",
                   &run->snapshot);
  if (!st.ok()) return Status::InvalidInput(opts.baseline + ": " + st.message());
  return Status::Ok();
}

// Rate rules with too short a window stay quiet (rules_autovacuum.cc); the
// plan says once what they would need.
void WindowNote(const HealthSnapshot& snap, const RuleBook& rules, const MaintainOptions& opts,
                MaintenancePlan* plan) {
  if (snap.window_chosen) {
    plan->notes.push_back("write rates are " + snap.window_source);
    return;
  }
  std::vector<std::string> quiet;
  double need_h = 0;
  for (const char* id : {"autovacuum-vacuum-settings", "autovacuum-insert-settings"}) {
    const Rule* r = rules.Enabled(id);
    if (!r || !RuleSelected(opts, id, "autovacuum")) continue;
    double h = r->Threshold("min_window_hours");
    if (snap.stats_age_s >= h * 3600) continue;
    quiet.push_back(id);
    need_h = std::max(need_h, h);
  }
  if (quiet.empty()) return;
  std::string ids = quiet[0] + (quiet.size() > 1 ? ", " + quiet[1] : "");
  plan->notes.push_back(
      ids + ": write rates not judged: the counters cover " + maint::Span(snap.stats_age_s) + " (" +
      snap.window_source + "), under the " + maint::Span(need_h * 3600) +
      " these rules need, so a recent bulk load would look like a permanent workload. Judge a "
      "real window with --observe DURATION, or save counters with --save-baseline FILE and "
      "run the next time with --baseline FILE");
}

// On a hot standby most rules see nothing: say so before "Nothing to do".
const char* kStandbyNote =
    "this server is a hot standby (pg_is_in_recovery() is true). Cumulative statistics are "
    "per server: dead tuples, modifications since ANALYZE, last (auto)vacuum/analyze times and "
    "index scans here count only this standby's activity, so vacuum, statistics, bloat and "
    "unused-index findings are missing; run maintain on the primary for those. Wraparound ages "
    "come from the primary's replicated catalog and are current. --apply cannot run here: a "
    "standby is read-only";

}  // namespace

Status BuildMaintenancePlan(Session& s, const RuleBook& rules, const MaintainOptions& opts,
                            MaintainRun* out) {
  MaintainRun run;
  const int64_t q0 = s.query_count();
  // The health snapshot: a fixed number of queries, whatever the table count.
  auto t0 = std::chrono::steady_clock::now();
  Status st = CollectSnapshot(s, &run.snapshot);
  if (!st.ok()) return st;
  st = ChooseWindow(s, opts, &run);
  if (!st.ok()) return st;
  run.plan.snapshot_ms = MsSince(t0);
  // Bloat estimates for every table and index, shared by both bloat rules.
  auto t1 = std::chrono::steady_clock::now();
  EstimateBloat(&run);
  // Exact figures only where asked and only for what the estimate flags.
  if (opts.exact && RuleSelected(opts, "table-bloat", "bloat")) {
    st = ExactBloat(s, rules, &run);
    if (!st.ok()) return st;
  }
  // Every enabled rule over the snapshot, then the most urgent first.
  run.plan.items = RunRules(run.snapshot, rules, opts, &run.table_bloat, &run.index_bloat);
  OrderPlan(&run.plan.items);
  run.plan.rules_ms = MsSince(t1);

  const HealthSnapshot& snap = run.snapshot;
  run.plan.database = snap.database;
  run.plan.standby = snap.in_recovery;
  if (snap.in_recovery) run.plan.notes.insert(run.plan.notes.begin(), kStandbyNote);
  run.plan.server_version = snap.server_version;
  run.plan.tables = snap.tables.size();
  run.plan.indexes = snap.indexes.size();
  run.plan.snapshot_queries = snap.queries;
  run.plan.total_queries = s.query_count() - q0;
  if (opts.memory_bytes <= 0 && RuleSelected(opts, "server-settings", "settings"))
    run.plan.notes.push_back(
        "settings: give --memory (and --cpus, --storage, --workload) to size "
        "server settings");
  int locked = 0;
  for (const auto& t : snap.tables) locked += t.locked;
  if (locked > 0)
    run.plan.notes.push_back(
        std::to_string(locked) +
        " table(s) ACCESS EXCLUSIVE locked while reading: their sizes come from "
        "pg_class (as of the last VACUUM/ANALYZE)");
  WindowNote(snap, rules, opts, &run.plan);
  const Rule* unused = rules.Enabled("unused-index");
  if (unused && RuleSelected(opts, "unused-index", "health") &&
      snap.stats_age_s < unused->Threshold("min_stats_hours") * 3600)
    run.plan.notes.push_back(
        "unused-index: statistics cover only " +
        std::to_string(static_cast<int>(snap.stats_age_s / 3600)) +
        " h; unused indexes are judged after " +
        std::to_string(static_cast<int>(unused->Threshold("min_stats_hours"))) + " h");
  // Retention is a choice pgvise cannot guess: only pg_partman's records it.
  if (!snap.partitions.tables.empty() && !snap.partitions.has_partman &&
      rules.Enabled("partition-retention-due") &&
      RuleSelected(opts, "partition-retention-due", "partitions"))
    run.plan.notes.push_back(
        "partition-retention-due: pg_partman is not installed, so no retention is recorded for "
        "the " +
        std::to_string(snap.partitions.tables.size()) +
        " partitioned table(s); old partitions are not judged (drop them with DETACH PARTITION "
        "... CONCURRENTLY, then DROP TABLE)");
  if (!snap.partitions.partman_error.empty())
    run.plan.notes.push_back(
        "partition-retention-due: pg_partman's part_config could not be read (" +
        snap.partitions.partman_error + "); retention is not judged");
  *out = std::move(run);
  return Status::Ok();
}

}  // namespace pgvise
