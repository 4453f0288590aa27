// Partition rules: what a partitioned table needs that PostgreSQL does not do
// by itself. Four rules, each reading the snapshot's PartitionCatalog
// (catalog/partitions.h) and, for a partition's size and rows, the same
// partition in snap.tables (partitions are ordinary tables):
//
//   partition-future-missing   RANGE on a date/time or integer key whose
//       newest partition ends at (or near) now / the highest key in use: the
//       next inserts fail ("no partition of relation ... found for row") or
//       land in the default partition. The interval is inferred from the
//       newest partition (the server's own age(upper, lower): "1 mon",
//       "7 days", "01:00:00"; upper - lower for integers), and the plan
//       creates the next partitions with CREATE TABLE ... PARTITION OF.
//   partition-default-filling  rows in the default partition: which key
//       range they cover (from its pg_stats: histogram bounds and most common
//       values, as of its last ANALYZE), the partitions that would take them,
//       and the recipe that never scans under a long lock: the new partition
//       as a standalone table with a CHECK, rows moved with DELETE ...
//       RETURNING, ATTACH (which scans the default partition under ACCESS
//       EXCLUSIVE unless a validated CHECK on it excludes the range).
//   partitioned-parent-not-analyzed  autovacuum analyzes partitions but never
//       a partitioned parent, so the parent's statistics (used for joins,
//       GROUP BY and any estimate over the whole table) are whatever the last
//       manual ANALYZE left: missing, or describing a table of another size.
//   partition-retention-due    pg_partman's part_config says how long to keep
//       partitions; partitions older than that are still attached (its
//       maintenance is not running). Without pg_partman, pgvise cannot know
//       what you keep, and says so once (maintain.cc).
//
//
// The range grid these rules extend (bounds on the calendar, names that
// continue the newest partition's pattern) is rules_partitions_grid.h;
// partitioned-parent-not-analyzed and partition-retention-due are in
// rules_partitions_upkeep.cc.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/sql_text.h"
#include "maintenance/rules_internal.h"
#include "maintenance/rules_partitions_grid.h"

namespace pgvise::maint {

using namespace partition_grid;

void PartitionFutureMissing(const RuleInput& in, std::vector<PlanItem>* out) {
  const int min_future = static_cast<int>(in.rule.Threshold("min_future_partitions"));
  const int create = static_cast<int>(in.rule.Threshold("create_partitions"));
  const int max_create = static_cast<int>(in.rule.Threshold("max_partitions"));
  const HealthSnapshot& snap = in.snap;
  for (const auto& t : snap.partitions.tables) {
    if (!Supported(t) || !in.table_selected(t.schema, t.name)) continue;
    bool catch_all = false;
    std::vector<const PartitionInfo*> ranged = Ranged(t, &catch_all);
    // A MAXVALUE partition takes every future row: nothing is missing.
    if (catch_all || ranged.empty()) continue;
    const PartitionInfo& newest = *ranged.back();
    Step step = ParseStep(newest.span, t.IntegerKey());
    if (!step.ok()) continue;
    // Where inserts arrive now: now() for a time key; for an integer key,
    // the highest partition that holds rows (nothing to judge without one).
    double frontier = 0;
    std::string frontier_text;
    if (t.TimeKey()) {
      frontier = snap.partitions.now_epoch;
      frontier_text = "now()";
    } else {
      const PartitionInfo* top = nullptr;
      for (const PartitionInfo* p : ranged)
        if (PartitionRows(snap, *p) > 0) top = p;
      if (!top) continue;
      frontier = top->lower_num;
      frontier_text = "the highest partition holding rows (" + top->Display() + ")";
    }
    int future = 0;
    for (const PartitionInfo* p : ranged) future += p->lower_num > frontier;
    if (future >= min_future) continue;
    // A default partition holding rows of a range blocks creating that
    // range (the CREATE fails); those ranges are partition-default-filling's.
    const PartitionInfo* def = t.Default();
    double default_min = 1e300, default_max = -1e300;
    if (def && def->has_key_stats && def->stats_numbers && PartitionRows(snap, *def) > 0) {
      default_min = def->stats_min_num;
      default_max = def->stats_max_num;
    }
    std::vector<NewRange> ranges;
    int have_future = future;
    // A table far behind starts at the interval holding now(): the past
    // intervals in between hold no rows (or their rows sit in the default),
    // and making them all would be a long list of empty tables.
    int skipped_past = 0, held_by_default = 0;
    for (int i = 1;
         i <= 100000 && static_cast<int>(ranges.size()) < max_create && have_future < create; ++i) {
      NewRange r;
      if (!RangeAt(t, newest, step, i, &r)) break;
      if (r.upper_num > default_min && r.lower_num <= default_max) {
        ++held_by_default;
        continue;
      }
      if (t.TimeKey() && r.upper_num <= frontier) {
        ++skipped_past;
        continue;
      }
      ranges.push_back(r);
      if (r.lower_num > frontier) ++have_future;
    }
    if (ranges.empty()) continue;
    PlanItem it = NewItem(in, RecommendationKind::kPartition, t.Display());
    const bool behind = newest.upper_num <= frontier;
    if (behind) it.severity = Severity::kError;
    std::string sql;
    for (const auto& r : ranges)
      sql += "CREATE TABLE IF NOT EXISTS " + InSchema(t, r.name) + " PARTITION OF " +
             t.Qualified() + "\n  FOR VALUES FROM (" + Q(r.lower) + ") TO (" + Q(r.upper) + ");\n";
    sql.pop_back();
    it.rec.sql = sql;
    std::ostringstream why;
    why << "RANGE (" << t.key_columns[0] << ") by " << newest.span << ": the newest partition "
        << newest.Display() << " ends at " << newest.upper;
    if (t.TimeKey()) why << " (" << When(snap, newest.upper_num) << ")";
    why << ", and " << future << " partition(s) lie ahead of " << frontier_text << " (fewer than "
        << min_future << "); ";
    if (behind)
      why << (def ? "rows past it already land in the default partition " + def->Display() +
                        ", which grows and makes every later partition harder to add"
                  : "inserts past it fail now: no partition of the table is found for the row");
    else
      why << (def ? "once it fills, rows land in the default partition " + def->Display()
                  : "once it fills, inserts fail: no partition of the table is found for the "
                    "row");
    why << ". Creating the next " << ranges.size() << " (" << ranges.front().lower << " to "
        << ranges.back().upper << ")";
    if (held_by_default > 0)
      why << "; " << held_by_default
          << " interval(s) whose rows sit in the default partition are left out (creating them "
             "would fail: see partition-default-filling)";
    if (skipped_past > 0)
      why << "; the " << skipped_past << " interval(s) between " << newest.upper << " and "
          << ranges.front().lower << " are left out (past: inserts for them still fail"
          << (def ? " or go to the default" : "") << ")";
    it.rec.reason = why.str();
    it.rec.lock = "ACCESS EXCLUSIVE on " + t.Display() +
                  " for each CREATE (catalog only: milliseconds, behind lock_timeout)";
    if (def)
      it.rec.lock += "; it also scans the default partition " + def->Display() + " (" +
                     Count(PartitionRows(snap, *def)) +
                     " rows) under ACCESS EXCLUSIVE to prove none of its rows belong to the new "
                     "range, and fails if some do";
    it.rec.revert = "";
    for (const auto& r : ranges)
      it.rec.revert += "DROP TABLE IF EXISTS " + InSchema(t, r.name) + ";\n";
    it.rec.revert.pop_back();
    it.rec.Add("strategy", std::string("range"))
        .Add("key", t.key_columns[0])
        .Add("interval", newest.span)
        .Add("newest_partition", newest.Display())
        .Add("newest_upper_bound", newest.upper)
        .Add("future_partitions", static_cast<int64_t>(future))
        .Add("partitions_created", static_cast<int64_t>(ranges.size()))
        .Add("past_intervals_left_out", static_cast<int64_t>(skipped_past));
    it.rec.confidence = Confidence::kHigh;
    it.rec.priority = behind ? 900 : 600 - future;
    out->push_back(std::move(it));
  }
}

void PartitionDefaultFilling(const RuleInput& in, std::vector<PlanItem>* out) {
  const double min_rows = in.rule.Threshold("min_rows");
  const double min_bytes = in.rule.Threshold("min_bytes");
  const int max_listed = static_cast<int>(in.rule.Threshold("max_partitions"));
  const HealthSnapshot& snap = in.snap;
  for (const auto& t : snap.partitions.tables) {
    if (!in.table_selected(t.schema, t.name)) continue;
    const PartitionInfo* def = t.Default();
    if (!def) continue;
    const double rows = PartitionRows(snap, *def);
    const int64_t bytes = PartitionBytes(snap, *def);
    if (rows < min_rows && static_cast<double>(bytes) < min_bytes) continue;
    if (rows <= 0) continue;  // pages left by deleted rows are vacuum's business
    PlanItem it = NewItem(in, RecommendationKind::kPartition, def->Display());
    it.executable = false;
    std::ostringstream why;
    why << "default partition of " << t.Display() << " holds " << Count(rows) << " rows ("
        << Bytes(static_cast<double>(bytes)) << "): rows no partition takes. Every query that "
        << "cannot rule the default out scans it, and each new partition must first prove none "
           "of these rows belong to it (a scan under ACCESS EXCLUSIVE; it fails if some do)";
    // Which ranges the rows cover, from the default partition's statistics.
    std::vector<NewRange> ranges;
    std::string key = t.key_columns.size() == 1 ? t.key_columns[0] : "";
    bool catch_all = false;
    std::vector<const PartitionInfo*> ranged = Ranged(t, &catch_all);
    if (!def->has_key_stats) {
      why << "; its key values are unknown: ANALYZE " << def->Display() << " to see them";
    } else {
      why << "; key " << key << " from " << def->stats_min << " to " << def->stats_max
          << " (its statistics)";
      if (Supported(t) && def->stats_numbers && !ranged.empty()) {
        const PartitionInfo& newest = *ranged.back();
        const PartitionInfo& oldest = *ranged.front();
        Step step = ParseStep(newest.span, t.IntegerKey());
        if (step.ok()) {
          // Above the newest partition, then below the oldest, on the grid
          // the existing partitions set.
          for (int i = 1; static_cast<int>(ranges.size()) < max_listed && i <= 10000; ++i) {
            NewRange r;
            if (!RangeAt(t, newest, step, i, &r) || r.lower_num > def->stats_max_num) break;
            if (r.upper_num > def->stats_min_num) ranges.push_back(r);
          }
          if (def->stats_min_num < oldest.lower_num) {
            // RangeAt counts from the newest partition's upper bound: the
            // range just below the oldest is i = 1 - (partitions spanned).
            int back = 0;
            for (int i = 0; i > -10000; --i) {
              NewRange r;
              if (!RangeAt(t, newest, step, i, &r)) break;
              if (r.upper_num <= oldest.lower_num) {
                if (r.upper_num <= def->stats_min_num) break;
                if (static_cast<int>(ranges.size()) >= max_listed) break;
                ranges.push_back(r);
                ++back;
              }
            }
            (void)back;
          }
        }
      }
    }
    // The recipe: one standalone table per range, rows moved, ATTACH.
    std::vector<std::string> cols;
    if (const TableHealth* th = snap.Table(def->oid))
      for (const auto& c : th->columns)
        if (!c.dropped) cols.push_back(QuoteIdent(c.name));
    std::string col_list;
    for (size_t i = 0; i < cols.size(); ++i) col_list += (i ? ", " : "") + cols[i];
    std::string sql;
    auto recipe = [&](const std::string& name, const std::string& bound, const std::string& where) {
      std::string part = InSchema(t, name);
      std::string con = QuoteIdent(Clip63(name + "_bound"));
      std::string excl = QuoteIdent(Clip63(def->name + "_not_" + name));
      std::string move = "WITH moved AS (DELETE FROM " + def->Qualified() + " WHERE " + where +
                         " RETURNING *)\nINSERT INTO " + part +
                         (col_list.empty() ? "" : " (" + col_list + ")") + " SELECT " +
                         (col_list.empty() ? "*" : col_list) + " FROM moved;";
      // Comment lines carry names: through SqlComment, so no name can end one.
      sql += SqlComment(part + " " + bound);
      sql += SqlComment("1. the partition as a standalone table (no lock on " + t.Display() +
                        "), with a CHECK so ATTACH need not scan it:");
      sql += "CREATE TABLE " + part + " (LIKE " + t.Qualified() + " INCLUDING ALL);\n";
      sql += "ALTER TABLE " + part + " ADD CONSTRAINT " + con + " CHECK (" + where + ");\n";
      sql += SqlComment(
          "2. move the rows (ROW EXCLUSIVE: reads and writes go on; batch it by key range when "
          "there are many):");
      sql += move + "\n";
      sql += SqlComment("3. ATTACH scans " + def->Display() +
                        " under ACCESS EXCLUSIVE to prove no row of the range is left there,\n"
                        "unless it has a validated CHECK excluding the range. For a large default "
                        "add one first\n(from then on inserts into this range fail until the "
                        "ATTACH, so do it right before):");
      sql += SqlComment("ALTER TABLE " + def->Qualified() + " ADD CONSTRAINT " + excl +
                            " CHECK (NOT (" + where + ")) NOT VALID;\nALTER TABLE " +
                            def->Qualified() + " VALIDATE CONSTRAINT " + excl +
                            ";  -- SHARE UPDATE EXCLUSIVE",
                        "--    ");
      sql += "SET lock_timeout = '2s';\nBEGIN;\n" + move + "\n";
      sql += "ALTER TABLE " + t.Qualified() + " ATTACH PARTITION " + part + " " + bound + ";\n";
      sql += "COMMIT;\n";
      sql += "ALTER TABLE " + part + " DROP CONSTRAINT " + con + ";\n";
      sql += SqlComment(
          "the partition constraint holds it now; the default's CHECK, if added, "
          "can go too:\nALTER TABLE " +
          def->Qualified() + " DROP CONSTRAINT IF EXISTS " + excl + ";");
    };
    if (!ranges.empty()) {
      std::sort(ranges.begin(), ranges.end(),
                [](const NewRange& a, const NewRange& b) { return a.lower_num < b.lower_num; });
      why << "; they belong in " << ranges.size() << " missing partition(s) from "
          << ranges.front().lower << " to " << ranges.back().upper;
      for (const auto& r : ranges) {
        std::string k = QuoteIdent(key);
        recipe(r.name, "FOR VALUES FROM (" + Q(r.lower) + ") TO (" + Q(r.upper) + ")",
               k + " >= " + Q(r.lower) + " AND " + k + " < " + Q(r.upper));
      }
      it.rec.Add("ranges", static_cast<int64_t>(ranges.size()));
    } else if (t.strategy == 'l' && !def->stats_values_sql.empty() && !key.empty()) {
      why << "; most common values " << def->stats_values_sql;
      std::string name = Clip63(t.name + "_more");
      recipe(name, "FOR VALUES IN (" + def->stats_values_sql + ")",
             QuoteIdent(key) + " IN (" + def->stats_values_sql + ")");
    } else {
      std::string k = key.empty() ? "<key>" : QuoteIdent(key);
      recipe(t.name + "_new", "FOR VALUES FROM ('<lower>') TO ('<upper>')",
             k + " >= '<lower>' AND " + k + " < '<upper>'");
    }
    it.rec.sql = SqlComment("advice: run by hand, step by step") + sql;
    while (!it.rec.sql.empty() && it.rec.sql.back() == '\n') it.rec.sql.pop_back();
    it.rec.reason = why.str();
    it.rec.lock =
        "ROW EXCLUSIVE while rows move; ATTACH: SHARE UPDATE EXCLUSIVE on the parent, ACCESS "
        "EXCLUSIVE on the new partition and the default partition (a scan of the default unless "
        "a validated CHECK excludes the range)";
    it.rec.Add("default_partition", def->Display())
        .Add("rows", rows)
        .Add("bytes", bytes)
        .Add("key_min", def->stats_min)
        .Add("key_max", def->stats_max);
    it.rec.size_bytes = bytes;
    it.rec.priority = static_cast<int>(std::min(800.0, 100 + std::log10(1 + rows) * 50));
    out->push_back(std::move(it));
  }
}

}  // namespace pgvise::maint
