// The plan checks about work_mem: nodes whose memory ran out and went to
// disk or lost precision — sort-spills-to-disk, hash-join-multiple-batches,
// hash-aggregate-spills and bitmap-heap-scan-lossy. Each says how much memory
// the node needed, from EXPLAIN's own numbers, and gives the SET LOCAL
// work_mem that holds it (scoped to the query's transaction: raising it for
// every session multiplies by every sort of every connection). Run from the
// table in plan_checks.cc.
#include "analyzer/plan/plan_checks.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "analyzer/plan/plan_rules.h"
#include "core/session.h"

namespace pgvise::plan_checks {

// ---------------------------------------------------------- sort-spills-to-disk

void SortSpills(CheckEnv& env) {
  const double min_kb = env.T("min_disk_kb");
  const double mem_factor = env.T("memory_per_disk");
  for (const auto& ref : env.nodes) {
    const PlanNode& n = *ref.node;
    if (n.sort_space_type != "Disk" || n.sort_space_kb < min_kb) continue;
    double need_kb = n.sort_space_kb * mem_factor;
    std::string keys = Join(n.sort_key);
    std::string msg = "sort spilled " + Kb(n.sort_space_kb) + " to disk (" + n.sort_method + ", " +
                      Count(n.TotalActualRows()) + " rows" + (keys.empty() ? "" : ", by " + keys) +
                      "); an in-memory sort needs about " + Kb(need_kb) + " of work_mem" +
                      Current(env.plan, "work_mem");
    std::string fix = "SET LOCAL work_mem = '" + WorkMemFor(need_kb) +
                      "';  -- in this query's transaction (or ALTER ROLE ... SET work_mem)\n"
                      "-- or avoid the sort: an index on the sort keys" +
                      (keys.empty() ? std::string() : " (" + keys + ")") +
                      ", or a LIMIT so a top-N heapsort fits in memory";
    Finding& f = env.Emit(n, NodeTotalMs(n) + n.sort_space_kb / 1024.0, msg, fix);
    f.Add("sort_method", n.sort_method)
        .Add("disk_kb", n.sort_space_kb)
        .Add("rows", n.TotalActualRows())
        .Add("suggested_work_mem", WorkMemFor(need_kb));
  }
}

// ---------------------------------------------------- hash-join-multiple-batches

void HashJoinBatches(CheckEnv& env) {
  const double min_batches = env.T("min_batches");
  for (const auto& ref : env.nodes) {
    const PlanNode& n = *ref.node;
    if (n.node_type != "Hash" || n.hash_batches < min_batches) continue;
    double need_kb = static_cast<double>(std::max<int64_t>(n.peak_memory_kb, 1)) * n.hash_batches;
    bool grew = n.original_hash_batches > 0 && n.original_hash_batches < n.hash_batches;
    std::string msg = "hash table split into " + Count(n.hash_batches) + " batches" +
                      (grew ? " (planned " + Count(n.original_hash_batches) +
                                  ": the build side was bigger than estimated)"
                            : "") +
                      ", so both join inputs were written to temporary files and read back; " +
                      Count(n.TotalActualRows()) + " build rows, " + Kb(n.peak_memory_kb) +
                      " per batch in memory, about " + Kb(need_kb) + " in one batch" +
                      Current(env.plan, "work_mem");
    std::string fix = "SET LOCAL work_mem = '" + WorkMemFor(need_kb) +
                      "';  -- for this query, so the hash fits in one batch (or raise "
                      "hash_mem_multiplier)";
    if (grew) {
      std::vector<std::string> build = RelationsBelow(n);
      fix += build.empty() ? std::string("\n-- ANALYZE the build-side tables")
                           : "\nANALYZE " + SqlRelations(build) + ";";
      fix += "  -- the build side was bigger than estimated: let the planner size the hash";
    }
    fix += "\n-- or make the build side smaller (filter it earlier, select fewer columns)";
    Finding& f = env.Emit(n, ref.parent ? NodeTotalMs(*ref.parent) : NodeTotalMs(n), msg, fix);
    f.Add("hash_batches", n.hash_batches)
        .Add("original_hash_batches", n.original_hash_batches)
        .Add("peak_memory_kb", n.peak_memory_kb)
        .Add("build_rows", n.TotalActualRows())
        .Add("suggested_work_mem", WorkMemFor(need_kb));
  }
}

// ------------------------------------------------------- hash-aggregate-spills

void HashAggSpills(CheckEnv& env) {
  for (const auto& ref : env.nodes) {
    const PlanNode& n = *ref.node;
    if (n.node_type != "Aggregate" || (n.strategy != "Hashed" && n.strategy != "Mixed")) continue;
    std::string keys = Join(n.group_key);
    if (n.has_actual) {
      bool spilled = n.hashagg_batches > 1 || n.disk_usage_kb > 0;
      if (!spilled) continue;
      double need_kb = static_cast<double>(std::max<int64_t>(n.peak_memory_kb, 0) +
                                           std::max<int64_t>(n.disk_usage_kb, 0));
      std::string msg = "hash aggregate spilled to disk: " + Count(n.hashagg_batches) +
                        " batches, " + Kb(static_cast<double>(n.disk_usage_kb)) + " written, " +
                        Kb(static_cast<double>(n.peak_memory_kb)) + " in memory, " +
                        Count(n.TotalActualRows()) + " groups" +
                        (keys.empty() ? "" : " by " + keys) + Current(env.plan, "work_mem");
      std::string fix = "SET LOCAL work_mem = '" + WorkMemFor(need_kb) +
                        "';  -- for this query, so all groups fit in memory (or raise "
                        "hash_mem_multiplier)\n-- or group fewer rows (filter before grouping)";
      Finding& f = env.Emit(n, NodeTotalMs(n), msg, fix);
      f.Add("hashagg_batches", n.hashagg_batches)
          .Add("disk_kb", n.disk_usage_kb)
          .Add("peak_memory_kb", n.peak_memory_kb)
          .Add("groups", n.TotalActualRows())
          .Add("suggested_work_mem", WorkMemFor(need_kb));
    } else if (n.planned_partitions > 0) {
      std::string msg = "hash aggregate is planned to spill: " + Count(n.planned_partitions) +
                        " partitions for an estimated " + Count(n.plan_rows) + " groups" +
                        (keys.empty() ? "" : " by " + keys) + Current(env.plan, "work_mem");
      std::string fix =
          "-- raise work_mem (or hash_mem_multiplier) for this query (SET LOCAL work_mem = ...),\n"
          "-- then confirm with EXPLAIN (ANALYZE, BUFFERS), which shows the memory it used";
      Finding& f = env.Emit(n, n.total_cost, msg, fix);
      f.Add("planned_partitions", n.planned_partitions).Add("estimated_groups", n.plan_rows);
    }
  }
}

// --------------------------------------------------- bitmap-heap-scan-lossy

void BitmapLossy(CheckEnv& env) {
  const double min_lossy = env.T("min_lossy_blocks");
  for (const auto& ref : env.nodes) {
    const PlanNode& n = *ref.node;
    if (n.node_type != "Bitmap Heap Scan" || n.lossy_heap_blocks < min_lossy) continue;
    double pages =
        static_cast<double>(std::max<int64_t>(n.exact_heap_blocks, 0) + n.lossy_heap_blocks);
    // An exact bitmap needs roughly 64 bytes per heap page in work_mem (one
    // tidbitmap page entry with its hash overhead).
    double need_kb = pages * 64 / 1024;
    std::string msg =
        "bitmap heap scan on " + n.QualifiedRelation() +
        " went lossy: " + Count(n.lossy_heap_blocks) + " of " + Count(pages) +
        " heap pages were tracked per page, not per row, so every row on them was rechecked (" +
        Count(n.rows_removed_by_index_recheck * std::max(1.0, n.actual_loops)) +
        " rows removed by recheck" + (n.recheck_cond.empty() ? "" : " of " + n.recheck_cond) + ")" +
        Current(env.plan, "work_mem");
    std::string fix = "SET LOCAL work_mem = '" + WorkMemFor(std::max(need_kb * 2, 1024.0)) +
                      "';  -- for this query, so the bitmap stays exact (about " + Kb(need_kb) +
                      " needed)\n-- or a more selective index so fewer pages match";
    Finding& f = env.Emit(n, n.has_timing ? NodeTotalMs(n) : pages / 1e3, msg, fix);
    env.GradeByShare(f, n);
    f.Add("lossy_blocks", n.lossy_heap_blocks)
        .Add("exact_blocks", n.exact_heap_blocks)
        .Add("rows_removed_by_recheck", n.rows_removed_by_index_recheck);
  }
}

}  // namespace pgvise::plan_checks
