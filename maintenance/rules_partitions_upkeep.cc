// The partition rules that keep a partitioned table's upkeep honest rather
// than its grid (rules_partitions.cc has the essay on all four):
//
//   partitioned-parent-not-analyzed  autovacuum analyzes partitions but never
//       a partitioned parent; its rows are counted here through
//       sub-partitions, and the parent's reltuples compared to them.
//   partition-retention-due  pg_partman's part_config retention against the
//       partitions still attached: a cutoff from now() for a time key, from
//       the highest partition holding rows for an id key.
#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <sstream>

#include "core/sql_text.h"
#include "maintenance/rules_internal.h"
#include "maintenance/rules_partitions_grid.h"

namespace pgvise::maint {

using namespace partition_grid;

void PartitionedParentNotAnalyzed(const RuleInput& in, std::vector<PlanItem>* out) {
  const double min_rows = in.rule.Threshold("min_rows");
  const double changed_ratio = in.rule.Threshold("changed_ratio");
  const HealthSnapshot& snap = in.snap;
  std::map<uint32_t, const PartitionedTable*> by_oid;
  for (const auto& t : snap.partitions.tables) by_oid[t.oid] = &t;
  // Rows under a parent now: leaf partitions' counts, through sub-partitions.
  std::function<double(const PartitionedTable&, int)> rows_under = [&](const PartitionedTable& t,
                                                                       int depth) {
    double n = 0;
    for (const auto& p : t.partitions) {
      auto sub = by_oid.find(p.oid);
      if (p.relkind == 'p' && sub != by_oid.end() && depth < 32)
        n += rows_under(*sub->second, depth + 1);
      else
        n += PartitionRows(snap, p);
    }
    return n;
  };
  for (const auto& t : snap.partitions.tables) {
    if (!in.table_selected(t.schema, t.name)) continue;
    const double now_rows = rows_under(t, 0);
    if (now_rows < min_rows) continue;
    const bool never = t.since_analyze_s < 0 || t.reltuples < 0;
    double change = 0;
    if (!never) {
      change = std::fabs(now_rows - t.reltuples) / std::max(1.0, t.reltuples);
      if (change < changed_ratio) continue;
    }
    PlanItem it = NewItem(in, RecommendationKind::kAnalyze, t.Display());
    it.rec.sql = "ANALYZE " + t.Qualified() + ";";
    std::ostringstream why;
    why << "partitioned table with " << Count(now_rows) << " rows in its partitions, ";
    if (never)
      why << "never analyzed";
    else
      why << "last analyzed " << Span(t.since_analyze_s) << " ago when it had "
          << Count(t.reltuples) << " rows (" << Num(std::round(change * 100)) << "% off)";
    why << ": autovacuum analyzes the partitions but never the partitioned parent, so the "
           "planner's whole-table statistics (joins, GROUP BY and estimates over several "
           "partitions) are "
        << (never ? "missing" : "stale")
        << "; ANALYZE samples every partition (and analyzes them too). Schedule it after bulk "
           "loads or each new partition";
    it.rec.reason = why.str();
    it.rec.lock = "SHARE UPDATE EXCLUSIVE on the table and its partitions (reads and writes go on)";
    it.rec.Add("rows", now_rows)
        .Add("reltuples", t.reltuples)
        .Add("since_analyze_s", t.since_analyze_s)
        .Add("partitions", static_cast<int64_t>(t.partitions.size()));
    it.rec.confidence = Confidence::kHigh;
    it.rec.priority = static_cast<int>(std::min(500.0, std::log10(1 + now_rows) * 40));
    out->push_back(std::move(it));
  }
}

void PartitionRetentionDue(const RuleInput& in, std::vector<PlanItem>* out) {
  const int min_due = static_cast<int>(in.rule.Threshold("min_due_partitions"));
  const HealthSnapshot& snap = in.snap;
  // Without pg_partman there is no retention to read (maintain.cc says so).
  if (!snap.partitions.has_partman) return;
  for (const auto& cfg : snap.partitions.partman) {
    if (cfg.retention.empty() || cfg.retention_num <= 0) continue;
    const PartitionedTable* t = nullptr;
    for (const auto& x : snap.partitions.tables)
      if (x.schema + "." + x.name == cfg.parent_table) t = &x;
    if (!t || !in.table_selected(t->schema, t->name)) continue;
    bool catch_all = false;
    std::vector<const PartitionInfo*> ranged = Ranged(*t, &catch_all);
    if (ranged.empty()) continue;
    double cutoff;
    if (t->TimeKey()) {
      cutoff = snap.partitions.now_epoch - cfg.retention_num;
    } else {
      // pg_partman's id retention: older than the highest id minus retention;
      // the highest id is at least the lower bound of the top partition with rows.
      double top = -1e300;
      for (const PartitionInfo* p : ranged)
        if (PartitionRows(snap, *p) > 0) top = std::max(top, p->lower_num);
      if (top <= -1e300) continue;
      cutoff = top - cfg.retention_num;
    }
    std::vector<const PartitionInfo*> due;
    for (const PartitionInfo* p : ranged)
      if (p->upper_num <= cutoff) due.push_back(p);
    if (static_cast<int>(due.size()) < min_due) continue;
    PlanItem it = NewItem(in, RecommendationKind::kPartition, t->Display());
    it.executable = false;
    const bool has_default = t->Default() != nullptr;
    std::string sql = "CALL " + QuoteIdent(snap.partitions.partman_schema) +
                      ".run_maintenance_proc();  -- pg_partman applies its retention\n"
                      "-- or by hand, per partition:\n";
    int64_t bytes = 0;
    for (const PartitionInfo* p : due) {
      bytes += PartitionBytes(snap, *p);
      sql += "ALTER TABLE " + t->Qualified() + " DETACH PARTITION " + p->Qualified() +
             (has_default ? ";  -- ACCESS EXCLUSIVE (CONCURRENTLY is refused with a default "
                            "partition)\n"
                          : " CONCURRENTLY;\n");
      if (!cfg.retention_keep_table) sql += "DROP TABLE " + p->Qualified() + ";\n";
    }
    sql.pop_back();
    it.rec.sql = SqlComment("advice: dropping data is a person's decision") + sql;
    std::ostringstream why;
    why << "pg_partman keeps " << cfg.retention << " of " << t->Display() << " but " << due.size()
        << " partition(s) end before the cutoff (oldest " << due.front()->Display() << " "
        << Describe(*due.front()) << ", " << Bytes(static_cast<double>(bytes))
        << " in all): its maintenance is not running"
        << (cfg.automatic_maintenance ? " (no pg_partman_bgw or cron job calling run_maintenance)"
                                      : " (automatic_maintenance is off for this table)")
        << (cfg.retention_keep_table ? "; retention_keep_table is on: partitions are detached, "
                                       "not dropped"
                                     : "");
    it.rec.reason = why.str();
    it.rec.lock = has_default ? "DETACH: ACCESS EXCLUSIVE on the parent and the partition"
                              : "DETACH CONCURRENTLY: SHARE UPDATE EXCLUSIVE on the parent";
    it.rec.size_bytes = -bytes;
    it.rec.Add("retention", cfg.retention)
        .Add("due_partitions", static_cast<int64_t>(due.size()))
        .Add("bytes", bytes);
    it.rec.priority = static_cast<int>(std::min(400.0, 50.0 * static_cast<double>(due.size())));
    out->push_back(std::move(it));
  }
}

}  // namespace pgvise::maint
