// Autovacuum, vacuum and statistics rules: per-table settings derived from
// each table's size and write rates, VACUUMs that are overdue, ANALYZEs of
// stale or missing statistics.
//
// The triggers they reason about (PG 15, per table, reltuples = rows):
//   vacuum  when dead tuples      > autovacuum_vacuum_threshold (50)
//                                   + autovacuum_vacuum_scale_factor (0.2) * rows
//   vacuum  when inserted tuples  > autovacuum_vacuum_insert_threshold (1000)
//                                   + autovacuum_vacuum_insert_scale_factor (0.2) * rows
//   analyze when modified tuples  > autovacuum_analyze_threshold (50)
//                                   + autovacuum_analyze_scale_factor (0.1) * rows
// A 10M-row table waits for 2M dead tuples by default. The rules size the
// trigger to a target fraction of the table (thresholds: target_dead_ratio),
// capped at a number of tuples (max_dead_tuples) so a huge table is vacuumed
// in bounded steps, and propose a change only when the default waits at
// least `min_gain` times longer. Dead-tuple growth is measured from the
// counters: updates - HOT updates + deletes, per hour since the stats reset.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "maintenance/rules_internal.h"

namespace pgvise::maint {

PlanItem NewItem(const RuleInput& in, RecommendationKind kind, const std::string& object) {
  PlanItem it;
  it.severity = in.rule.severity;
  it.rec.kind = kind;
  it.rec.object = object;
  it.rec.confidence = Confidence::kHigh;
  return it;
}

std::string Num(double v) {
  char buf[32];
  if (std::fabs(v - std::round(v)) < 1e-9 && std::fabs(v) < 1e15)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

// "45 s", "12 min", "3.5 h", "4.2 days"
std::string Span(double s) {
  if (s < 120) return Num(std::round(s)) + " s";
  if (s < 7200) return Num(std::round(s / 60)) + " min";
  if (s < 172800) return Num(std::round(s / 360) / 10) + " h";
  return Num(std::round(s / 8640) / 10) + " days";
}

double StatsHours(const HealthSnapshot& snap) { return std::max(snap.stats_age_s, 60.0) / 3600; }

double TableParam(const HealthSnapshot& snap, const TableHealth& t, const std::string& name) {
  if (t.HasOption(name)) return t.Option(name, 0);
  return snap.Setting(name);
}

bool AutovacuumOff(const HealthSnapshot& snap, const TableHealth& t) {
  if (snap.Setting("autovacuum") == 0) return true;
  auto it = t.reloptions.find("autovacuum_enabled");
  return it != t.reloptions.end() && (it->second == "false" || it->second == "off");
}

namespace {

bool TableOff(const TableHealth& t) {
  auto it = t.reloptions.find("autovacuum_enabled");
  return it != t.reloptions.end() && (it->second == "false" || it->second == "off");
}

struct Rates {
  double hours = 1;
  double dead_per_hour = 0;  // (upd - hot + del) / h
  double ins_per_hour = 0;
  double writes = 0;  // ins + upd + del
};

// Rates need a window that means something (maintenance/window.h): one the
// operator chose (--observe, --baseline), or counters old enough
// (`min_window_hours`). Otherwise the rule stays quiet; maintain.cc notes why.
bool WindowLongEnough(const RuleInput& in) {
  return in.snap.window_chosen ||
         in.snap.stats_age_s >= in.rule.Threshold("min_window_hours") * 3600;
}

Rates RatesOf(const HealthSnapshot& snap, const TableHealth& t) {
  Rates r;
  r.hours = StatsHours(snap);
  double dead = static_cast<double>(t.n_tup_upd - t.n_tup_hot_upd + t.n_tup_del);
  r.dead_per_hour = std::max(0.0, dead) / r.hours;
  r.ins_per_hour = static_cast<double>(t.n_tup_ins) / r.hours;
  r.writes = static_cast<double>(t.n_tup_ins + t.n_tup_upd + t.n_tup_del);
  return r;
}

std::string Per(double n) { return Count(n) + "/h"; }

std::string SetClause(const std::vector<std::pair<std::string, std::string>>& kv) {
  std::string s;
  for (size_t i = 0; i < kv.size(); ++i) s += (i ? ", " : "") + kv[i].first + " = " + kv[i].second;
  return s;
}

std::string ResetClause(const std::vector<std::pair<std::string, std::string>>& kv) {
  std::string s;
  for (size_t i = 0; i < kv.size(); ++i) s += (i ? ", " : "") + kv[i].first;
  return s;
}

// Ratio + threshold that make the trigger `target` tuples on `rows`:
// fraction of the table when that stays under the cap, else a fixed number.
std::pair<double, double> TriggerSettings(double rows, double ratio, double cap, double floor_thr) {
  if (rows * ratio <= cap) return {ratio, floor_thr};
  return {0.0, cap};
}

}  // namespace

// vacuum-overdue: dead tuples well past the trigger — autovacuum is off for
// the table, or it fell behind. VACUUM (ANALYZE) now.
void VacuumOverdue(const RuleInput& in, std::vector<PlanItem>* out) {
  const double min_dead = in.rule.Threshold("min_dead_tuples");
  const double min_ratio = in.rule.Threshold("min_dead_ratio");
  const double behind = in.rule.Threshold("behind_factor");
  for (const auto& t : in.snap.tables) {
    if (!t.has_stats || !in.table_selected(t.schema, t.name)) continue;
    double dead = static_cast<double>(t.n_dead_tup);
    double live = static_cast<double>(t.n_live_tup);
    // Too few dead tuples to matter, or a small share of the table.
    if (dead < min_dead || dead < min_ratio * (live + dead)) continue;
    double rows = std::max(t.reltuples, 0.0);
    double trigger = TableParam(in.snap, t, "autovacuum_vacuum_threshold") +
                     TableParam(in.snap, t, "autovacuum_vacuum_scale_factor") * rows;
    bool off = AutovacuumOff(in.snap, t);
    // With autovacuum on, a table just over its trigger is picked up at the
    // next naptime: only call it overdue when it is far past.
    if (!off && dead < behind * trigger) continue;
    PlanItem it = NewItem(in, RecommendationKind::kVacuum, t.Display());
    it.rec.sql = "VACUUM (ANALYZE) " + t.Qualified() + ";";
    it.rec.lock = "SHARE UPDATE EXCLUSIVE (reads and writes go on; blocks DDL and other vacuums)";
    std::ostringstream why;
    why << Count(dead) << " dead tuples ("
        << Num(std::round(100 * dead / std::max(1.0, live + dead))) << "% of the table)";
    if (off)
      why << "; autovacuum is "
          << (in.snap.Setting("autovacuum") == 0
                  ? "off for the server"
                  : "disabled on this table (autovacuum_enabled = false)");
    else
      why << ", " << Num(std::round(dead / std::max(1.0, trigger) * 10) / 10)
          << "x its autovacuum trigger of " << Count(trigger) << ": autovacuum fell behind";
    if (t.since_vacuum_s < 0)
      why << "; never vacuumed";
    else
      why << "; last vacuum " << Num(std::round(t.since_vacuum_s / 3600)) << " h ago";
    it.rec.reason = why.str();
    it.rec.Add("n_dead_tup", t.n_dead_tup)
        .Add("n_live_tup", t.n_live_tup)
        .Add("vacuum_trigger", trigger)
        .Add("autovacuum_enabled", !off)
        .Add("autovacuum_count", t.autovacuum_count);
    it.rec.priority = static_cast<int>(std::min(999.0, 100 * dead / std::max(1.0, live + dead)));
    const int it_priority = it.rec.priority;
    out->push_back(std::move(it));
    // Never leave a disabled autovacuum behind a manual VACUUM: the dead
    // tuples would pile up again. Turned off on the table (the server's
    // setting is a DBA's decision, said above), it is turned back on here; the
    // insert and churn rules size its triggers when they can judge the rates,
    // and OrderPlan keeps their ALTER instead of this one then.
    if (off && TableOff(t) && in.snap.Setting("autovacuum") != 0) {
      PlanItem on = NewItem(in, RecommendationKind::kAutovacuum, t.Display());
      on.rec.sql = "ALTER TABLE " + t.Qualified() + " SET (autovacuum_enabled = true);";
      on.rec.revert = "ALTER TABLE " + t.Qualified() + " SET (autovacuum_enabled = false);";
      on.rec.lock = "SHARE UPDATE EXCLUSIVE (brief; reads and writes go on)";
      on.rec.reason =
          "autovacuum is disabled on this table (autovacuum_enabled = false) and it "
          "holds " +
          Count(dead) +
          " dead tuples: a VACUUM now does not keep them from "
          "piling up again. If it was turned off for a bulk load, the load is over";
      on.rec.Add("reenable_autovacuum", true).Add("n_dead_tup", t.n_dead_tup);
      on.rec.priority = it_priority;
      out->push_back(std::move(on));
    }
  }
}

// autovacuum-vacuum-settings: tables whose dead tuples grow fast enough that
// the default 20% trigger lets them bloat. Sets the vacuum (and analyze)
// scale factor / threshold per table; re-enables autovacuum where it is off.
void AutovacuumVacuumSettings(const RuleInput& in, std::vector<PlanItem>* out) {
  const double min_rows = in.rule.Threshold("min_rows");
  const double min_dead_per_hour = in.rule.Threshold("min_dead_per_hour");
  const double min_daily_churn = in.rule.Threshold("min_daily_churn");
  const double target = in.rule.Threshold("target_dead_ratio");
  const double cap = in.rule.Threshold("max_dead_tuples");
  const double min_gain = in.rule.Threshold("min_gain");
  if (!WindowLongEnough(in)) return;
  for (const auto& t : in.snap.tables) {
    if (!t.has_stats || !in.table_selected(t.schema, t.name)) continue;
    double rows = t.Rows();
    // Small tables: the default trigger is a few hundred tuples anyway.
    if (rows < min_rows) continue;
    Rates r = RatesOf(in.snap, t);
    // Little churn: dead tuples accumulate slowly, the default is fine.
    if (r.dead_per_hour < min_dead_per_hour || r.dead_per_hour * 24 < min_daily_churn * rows)
      continue;
    double sf = TableParam(in.snap, t, "autovacuum_vacuum_scale_factor");
    double thr = TableParam(in.snap, t, "autovacuum_vacuum_threshold");
    double current = thr + sf * rows;
    auto [new_sf, new_thr] = TriggerSettings(rows, target, cap, 50);
    double wanted = new_thr + new_sf * rows;
    bool off = TableOff(t) && in.snap.Setting("autovacuum") != 0;
    // The current trigger is already close to the target: nothing to gain.
    if (current < min_gain * wanted && !off) continue;
    std::vector<std::pair<std::string, std::string>> kv;
    if (off) kv.push_back({"autovacuum_enabled", "true"});
    if (current >= min_gain * wanted) {
      kv.push_back({"autovacuum_vacuum_scale_factor", Num(new_sf)});
      kv.push_back({"autovacuum_vacuum_threshold", Num(new_thr)});
      double asf = TableParam(in.snap, t, "autovacuum_analyze_scale_factor");
      double athr = TableParam(in.snap, t, "autovacuum_analyze_threshold");
      double a_new_sf = new_sf / 2, a_new_thr = new_sf > 0 ? 50 : new_thr / 2;
      if (athr + asf * rows >= min_gain * (a_new_thr + a_new_sf * rows)) {
        kv.push_back({"autovacuum_analyze_scale_factor", Num(a_new_sf)});
        kv.push_back({"autovacuum_analyze_threshold", Num(a_new_thr)});
      }
    }
    PlanItem it = NewItem(in, RecommendationKind::kAutovacuum, t.Display());
    it.rec.sql = "ALTER TABLE " + t.Qualified() + " SET (" + SetClause(kv) + ");";
    it.rec.revert = "ALTER TABLE " + t.Qualified() + " RESET (" + ResetClause(kv) + ");";
    it.rec.lock = "SHARE UPDATE EXCLUSIVE (brief; reads and writes go on)";
    std::ostringstream why;
    why << "dead tuples grow " << Per(r.dead_per_hour) << " (updates " << Count(t.n_tup_upd)
        << " - HOT " << Count(t.n_tup_hot_upd) << " + deletes " << Count(t.n_tup_del) << " over "
        << Span(r.hours * 3600) << ") on " << Count(rows) << " rows";
    if (off) why << "; autovacuum is disabled on this table";
    if (current >= min_gain * wanted)
      why << "; the trigger " << Num(thr) << " + " << Num(sf) << " x rows = " << Count(current)
          << " dead tuples (" << Num(std::round(100 * current / rows)) << "% of the table, "
          << Span(current / r.dead_per_hour * 3600) << " of churn) becomes " << Count(wanted)
          << " (" << Num(std::round(1000 * wanted / rows) / 10) << "%)";
    why << "; autovacuum ran " << t.autovacuum_count << "x, " << Count(t.n_dead_tup) << " dead now";
    it.rec.reason = why.str();
    it.rec.Add("rows", rows)
        .Add("dead_per_hour", std::round(r.dead_per_hour))
        .Add("current_trigger", std::round(current))
        .Add("new_trigger", std::round(wanted))
        .Add("autovacuum_count", t.autovacuum_count)
        .Add("n_dead_tup", t.n_dead_tup);
    it.rec.priority = static_cast<int>(std::min(999.0, 10 * std::log10(1 + r.dead_per_hour)));
    out->push_back(std::move(it));
  }
}

// autovacuum-insert-settings: append-mostly tables. Insert-driven vacuums
// (PG 13+) set visibility-map bits (index-only scans) and freeze; by default
// they wait for 20% new rows. Append-only tables also get
// autovacuum_freeze_min_age = 0 so those vacuums freeze what they visit and
// the table never needs a whole-table anti-wraparound scan.
void AutovacuumInsertSettings(const RuleInput& in, std::vector<PlanItem>* out) {
  const double min_rows = in.rule.Threshold("min_rows");
  const double min_ins_per_hour = in.rule.Threshold("min_inserts_per_hour");
  const double min_share = in.rule.Threshold("min_insert_share");
  const double append_only_share = in.rule.Threshold("append_only_share");
  const double target = in.rule.Threshold("target_insert_ratio");
  const double cap = in.rule.Threshold("max_insert_tuples");
  const double min_gain = in.rule.Threshold("min_gain");
  if (in.snap.server_version < 130000) return;  // no insert-driven autovacuum before PG 13
  if (!WindowLongEnough(in)) return;
  for (const auto& t : in.snap.tables) {
    if (!t.has_stats || !in.table_selected(t.schema, t.name)) continue;
    double rows = t.Rows();
    if (rows < min_rows) continue;
    Rates r = RatesOf(in.snap, t);
    if (r.ins_per_hour < min_ins_per_hour || r.writes <= 0) continue;
    double share = static_cast<double>(t.n_tup_ins) / r.writes;
    // Updates and deletes matter here: dead-tuple vacuums already come often.
    if (share < min_share) continue;
    double sf = TableParam(in.snap, t, "autovacuum_vacuum_insert_scale_factor");
    double thr = TableParam(in.snap, t, "autovacuum_vacuum_insert_threshold");
    double current = thr + sf * rows;
    auto [new_sf, new_thr] = TriggerSettings(rows, target, cap, 1000);
    double wanted = new_thr + new_sf * rows;
    bool append_only = share >= append_only_share;
    bool freeze = append_only && !t.HasOption("autovacuum_freeze_min_age");
    std::vector<std::pair<std::string, std::string>> kv;
    if (current >= min_gain * wanted) {
      kv.push_back({"autovacuum_vacuum_insert_scale_factor", Num(new_sf)});
      kv.push_back({"autovacuum_vacuum_insert_threshold", Num(new_thr)});
    }
    if (freeze) kv.push_back({"autovacuum_freeze_min_age", "0"});
    // Already tuned: the trigger is near the target and the freeze age is set.
    if (kv.empty()) continue;
    PlanItem it = NewItem(in, RecommendationKind::kAutovacuum, t.Display());
    it.rec.sql = "ALTER TABLE " + t.Qualified() + " SET (" + SetClause(kv) + ");";
    it.rec.revert = "ALTER TABLE " + t.Qualified() + " RESET (" + ResetClause(kv) + ");";
    it.rec.lock = "SHARE UPDATE EXCLUSIVE (brief; reads and writes go on)";
    std::ostringstream why;
    why << (append_only ? "append-only" : "append-mostly")
        << " table: " << Num(std::round(share * 1000) / 10) << "% of " << Count(r.writes)
        << " writes are inserts, " << Per(r.ins_per_hour) << " on " << Count(rows) << " rows";
    if (current >= min_gain * wanted)
      why << "; insert-driven vacuum waits for " << Count(current) << " new rows (" << Num(thr)
          << " + " << Num(sf) << " x rows), now " << Count(wanted)
          << " so the visibility map stays current for index-only scans";
    if (freeze)
      why << "; freeze_min_age 0 makes those vacuums freeze rows that will never change, "
             "avoiding a whole-table anti-wraparound scan later";
    it.rec.reason = why.str();
    it.rec.Add("rows", rows)
        .Add("inserts_per_hour", std::round(r.ins_per_hour))
        .Add("insert_share", share)
        .Add("current_insert_trigger", std::round(current))
        .Add("new_insert_trigger", std::round(wanted))
        .Add("n_ins_since_vacuum", t.n_ins_since_vacuum);
    it.rec.priority = static_cast<int>(std::min(999.0, 10 * std::log10(1 + r.ins_per_hour)));
    out->push_back(std::move(it));
  }
}

// autovacuum-large-table-cost: on a very large table one autovacuum run at
// the default budget (200 cost units per 2 ms, shared by all workers) takes
// hours; a per-table cost limit gives its worker its own, larger budget.
void AutovacuumLargeTableCost(const RuleInput& in, std::vector<PlanItem>* out) {
  const double large = in.rule.Threshold("large_table_bytes");
  const double ssd_limit = in.rule.Threshold("ssd_cost_limit");
  const double hdd_limit = in.rule.Threshold("hdd_cost_limit");
  const double ssd_delay = in.rule.Threshold("ssd_cost_delay_ms");
  const double hdd_delay = in.rule.Threshold("hdd_cost_delay_ms");
  bool hdd = in.opts.storage == "hdd";
  double want_limit = hdd ? hdd_limit : ssd_limit;
  double want_delay = hdd ? hdd_delay : ssd_delay;
  double global_limit = in.snap.Setting("autovacuum_vacuum_cost_limit");
  if (global_limit <= 0) global_limit = in.snap.Setting("vacuum_cost_limit");
  double global_delay = in.snap.Setting("autovacuum_vacuum_cost_delay");
  if (global_delay < 0) global_delay = in.snap.Setting("vacuum_cost_delay");
  for (const auto& t : in.snap.tables) {
    if (!in.table_selected(t.schema, t.name)) continue;
    if (static_cast<double>(t.heap_bytes) < large) continue;
    // Already tuned for this table, or the server budget is already generous.
    if (t.HasOption("autovacuum_vacuum_cost_limit") || t.HasOption("autovacuum_vacuum_cost_delay"))
      continue;
    double rate = global_delay > 0 ? global_limit / global_delay : 1e12;  // units per ms
    if (rate >= want_limit / want_delay) continue;
    double pages = static_cast<double>(t.heap_bytes) / in.snap.Setting("block_size");
    // Worst case: every page read from disk (2 units) and dirtied (20 units).
    double hours_now = pages * 22 / rate / 3.6e6;
    double hours_new = pages * 22 / (want_limit / want_delay) / 3.6e6;
    PlanItem it = NewItem(in, RecommendationKind::kAutovacuum, t.Display());
    std::vector<std::pair<std::string, std::string>> kv = {
        {"autovacuum_vacuum_cost_limit", Num(want_limit)},
        {"autovacuum_vacuum_cost_delay", Num(want_delay)}};
    it.rec.sql = "ALTER TABLE " + t.Qualified() + " SET (" + SetClause(kv) + ");";
    it.rec.revert = "ALTER TABLE " + t.Qualified() + " RESET (" + ResetClause(kv) + ");";
    it.rec.lock = "SHARE UPDATE EXCLUSIVE (brief; reads and writes go on)";
    std::ostringstream why;
    why << Bytes(static_cast<double>(t.heap_bytes)) << " heap; at the budget of "
        << Num(global_limit) << " units per " << Num(global_delay)
        << " ms a vacuum that dirties every page takes up to "
        << Num(std::round(hours_now * 10) / 10) << " h; " << Num(want_limit) << " per "
        << Num(want_delay) << " ms (" << in.opts.storage << ") brings it to "
        << Num(std::round(hours_new * 10) / 10)
        << " h; a per-table limit is not shared with other workers";
    if (t.n_dead_tup > 0) why << "; " << Count(t.n_dead_tup) << " dead tuples now";
    it.rec.reason = why.str();
    it.rec.Add("heap_bytes", t.heap_bytes)
        .Add("cost_limit", global_limit)
        .Add("cost_delay_ms", global_delay)
        .Add("worst_case_hours_now", std::round(hours_now * 10) / 10)
        .Add("worst_case_hours_new", std::round(hours_new * 10) / 10);
    it.rec.priority =
        static_cast<int>(std::min(999.0, static_cast<double>(t.heap_bytes) / (1LL << 30)));
    out->push_back(std::move(it));
  }
}

// stale-statistics: tables never analyzed, or modified far past their
// analyze trigger (autoanalyze off or behind). ANALYZE.
void StaleStatistics(const RuleInput& in, std::vector<PlanItem>* out) {
  const double min_rows_never = in.rule.Threshold("min_rows_never_analyzed");
  const double min_mods = in.rule.Threshold("min_modifications");
  const double behind = in.rule.Threshold("behind_factor");
  for (const auto& t : in.snap.tables) {
    if (!t.has_stats || !in.table_selected(t.schema, t.name)) continue;
    double rows = std::max(t.reltuples, 0.0);
    double mods = static_cast<double>(t.n_mod_since_analyze);
    bool never = t.since_analyze_s < 0;
    double trigger = TableParam(in.snap, t, "autovacuum_analyze_threshold") +
                     TableParam(in.snap, t, "autovacuum_analyze_scale_factor") * rows;
    std::ostringstream why;
    if (never) {
      double live = std::max(static_cast<double>(t.n_live_tup), static_cast<double>(t.n_tup_ins));
      // An empty table has nothing to measure.
      if (live < min_rows_never) continue;
      why << "never analyzed: the planner guesses row counts and selectivity for " << Count(live)
          << " rows";
    } else {
      if (mods < min_mods || mods < behind * trigger) continue;
      why << Count(mods) << " rows modified since the last analyze "
          << Num(std::round(t.since_analyze_s / 3600)) << " h ago, "
          << Num(std::round(mods / std::max(1.0, trigger) * 10) / 10) << "x the analyze trigger of "
          << Count(trigger);
    }
    if (AutovacuumOff(in.snap, t)) why << "; autovacuum (and so autoanalyze) is off for it";
    PlanItem it = NewItem(in, RecommendationKind::kAnalyze, t.Display());
    it.rec.sql = "ANALYZE " + t.Qualified() + ";";
    it.rec.lock = "SHARE UPDATE EXCLUSIVE (reads and writes go on)";
    it.rec.reason = why.str();
    it.rec.Add("n_mod_since_analyze", t.n_mod_since_analyze)
        .Add("analyze_trigger", std::round(trigger))
        .Add("never_analyzed", never);
    it.rec.priority =
        never ? 999 : static_cast<int>(std::min(998.0, mods / std::max(1.0, trigger)));
    out->push_back(std::move(it));
  }
}

}  // namespace pgvise::maint
