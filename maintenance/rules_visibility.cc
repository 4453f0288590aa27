// visibility-map-stale: an insert-mostly table whose visibility map is mostly
// empty, and that autovacuum will not visit soon, gets a VACUUM now.
//
// Why it matters: an index-only scan skips the heap only on pages the
// visibility map marks all-visible. Only VACUUM sets those bits (COPY FREEZE
// aside); inserts and updates clear them. On an append-only table no dead
// tuple ever triggers autovacuum, so before PostgreSQL 13 — or with insert
// vacuums turned off, or with autovacuum disabled on the table for a bulk
// load and never turned back on — the map stays empty and every
// "index-only" scan reads a heap page for every row it returns.
//
// The judgement uses facts, not rates: relallvisible / relpages (both as of
// the last VACUUM or ANALYZE; pages added since are not all-visible anyway,
// so the current page count is the denominator), the insert share of the
// table's writes, and whether autovacuum's insert trigger
// (autovacuum_vacuum_insert_threshold + insert_scale_factor x reltuples)
// has been reached. A table just bulk-loaded with autovacuum on is past that
// trigger: autovacuum will set the map at its next naptime, so the rule says
// nothing. Worked example: events, 200k rows in 1,480 pages, 0 all-visible,
// autovacuum_enabled = false: all-visible 0% < 50%, 100% of writes are
// inserts, autovacuum is off -> VACUUM events, and turn autovacuum back on.
//
// The evidence adds what the table's index scans fetched from the heap
// (idx_tup_fetch) against the entries they returned (idx_tup_read): for
// index-only scans that is their heap visits.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "maintenance/rules_internal.h"

namespace pgvise::maint {

void VisibilityMapStale(const RuleInput& in, std::vector<PlanItem>* out) {
  const double min_pages = in.rule.Threshold("min_pages");
  const double max_visible = in.rule.Threshold("max_all_visible_fraction");
  const double min_insert_share = in.rule.Threshold("min_insert_share");
  const double bs = std::max(1.0, in.snap.Setting("block_size"));
  for (const auto& t : in.snap.tables) {
    if (!t.has_stats || t.relkind != 'r' || !in.table_selected(t.schema, t.name)) continue;
    const double pages =
        std::max(static_cast<double>(t.relpages), static_cast<double>(t.heap_bytes) / bs);
    if (pages < min_pages) continue;
    const double visible = std::min(1.0, static_cast<double>(t.relallvisible) / pages);
    if (visible >= max_visible) continue;
    // Insert-mostly: updates and deletes clear the map as fast as VACUUM
    // sets it, and dead tuples bring autovacuum by themselves (vacuum-overdue).
    const double writes = static_cast<double>(t.n_tup_ins + t.n_tup_upd + t.n_tup_del);
    if (writes <= 0 || static_cast<double>(t.n_tup_ins) < min_insert_share * writes) continue;
    // Autovacuum will come by itself when its insert trigger is reached: quiet.
    const bool off = AutovacuumOff(in.snap, t);
    const double ins_threshold = TableParam(in.snap, t, "autovacuum_vacuum_insert_threshold");
    const double ins_trigger =
        ins_threshold + TableParam(in.snap, t, "autovacuum_vacuum_insert_scale_factor") *
                            std::max(0.0, t.reltuples);
    const bool insert_vacuum_off = ins_threshold < 0 || in.snap.server_version < 130000;
    if (!off && !insert_vacuum_off && static_cast<double>(t.n_ins_since_vacuum) >= ins_trigger)
      continue;
    int64_t idx_read = 0, idx_fetch = 0;
    for (const auto& x : in.snap.indexes)
      if (x.table_oid == t.oid) {
        idx_read += x.idx_tup_read;
        idx_fetch += x.idx_tup_fetch;
      }
    PlanItem it = NewItem(in, RecommendationKind::kVacuum, t.Display());
    // A plain VACUUM sets the all-visible bits; FREEZE would rewrite every
    // page's tuple headers and WAL-log them, which this does not need.
    it.rec.sql = "VACUUM " + t.Qualified() + ";";
    it.rec.lock = "SHARE UPDATE EXCLUSIVE (reads and writes go on; blocks DDL and other vacuums)";
    std::ostringstream why;
    why << Num(std::round(visible * 1000) / 10) << "% of its " << Count(pages)
        << " pages are all-visible (relallvisible " << Count(static_cast<double>(t.relallvisible))
        << "): index-only scans read the heap for the rest; "
        << Num(std::round(100 * static_cast<double>(t.n_tup_ins) / writes))
        << "% of its writes are inserts, so no dead tuples bring autovacuum";
    if (off)
      why << ", and autovacuum is "
          << (in.snap.Setting("autovacuum") == 0
                  ? "off for the server"
                  : "disabled on this table (autovacuum_enabled = false)");
    else if (insert_vacuum_off)
      why << ", and insert-triggered vacuums are off for it";
    else
      why << "; " << Count(static_cast<double>(t.n_ins_since_vacuum))
          << " inserts since the last vacuum, under the insert trigger of " << Count(ins_trigger);
    if (idx_read > 0)
      why << "; its index scans fetched " << Count(static_cast<double>(idx_fetch))
          << " heap rows for " << Count(static_cast<double>(idx_read)) << " index entries";
    it.rec.reason = why.str();
    it.rec.Add("all_visible_fraction", std::round(visible * 1000) / 1000)
        .Add("relallvisible", t.relallvisible)
        .Add("pages", std::round(pages))
        .Add("insert_share", std::round(1000 * static_cast<double>(t.n_tup_ins) / writes) / 1000)
        .Add("n_ins_since_vacuum", t.n_ins_since_vacuum)
        .Add("insert_vacuum_trigger", std::round(ins_trigger))
        .Add("autovacuum_enabled", !off)
        .Add("idx_tup_read", idx_read)
        .Add("idx_tup_fetch", idx_fetch);
    it.rec.priority = static_cast<int>(std::min(999.0, (1 - visible) * 100 + pages / 1e4));
    const int priority = it.rec.priority;
    out->push_back(std::move(it));
    // Never leave autovacuum disabled behind the VACUUM (issue 13 item 3):
    // the map would empty again with the next inserts. The server-wide
    // setting is a DBA's decision and is only named above.
    auto opt = t.reloptions.find("autovacuum_enabled");
    if (opt != t.reloptions.end() && (opt->second == "false" || opt->second == "off") &&
        in.snap.Setting("autovacuum") != 0) {
      PlanItem on = NewItem(in, RecommendationKind::kAutovacuum, t.Display());
      on.rec.sql = "ALTER TABLE " + t.Qualified() + " SET (autovacuum_enabled = true);";
      on.rec.revert = "ALTER TABLE " + t.Qualified() + " SET (autovacuum_enabled = false);";
      on.rec.lock = "SHARE UPDATE EXCLUSIVE (brief; reads and writes go on)";
      on.rec.reason =
          "autovacuum is disabled on this table (autovacuum_enabled = false): its insert "
          "vacuums would keep the visibility map current; a VACUUM now does not. If it was "
          "turned off for a bulk load, the load is over";
      on.rec.Add("reenable_autovacuum", true).Add("all_visible_fraction", visible);
      on.rec.priority = priority;
      out->push_back(std::move(on));
    }
  }
}

}  // namespace pgvise::maint
