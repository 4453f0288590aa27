// The plan checks about how rows are reached: seq-scan-filters-most-rows,
// nested-loop-many-inner-loops, index-only-scan-heap-fetches,
// partitioned-append-without-pruning and reads-mostly-from-disk. Their fixes
// are an index (written by IndexFor: equality columns first, then one range
// column), a VACUUM that sets the visibility map, a predicate on the
// partition key, or the join condition a cross join lacks. Run from the
// table in plan_checks.cc.
#include "analyzer/plan/plan_checks.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "analyzer/plan/plan_rules.h"
#include "core/session.h"

namespace pgvise::plan_checks {

// ------------------------------------------------- seq-scan-filters-most-rows

void SeqScanFilter(CheckEnv& env) {
  const double min_scanned = env.T("min_rows_scanned");
  const double min_removed = env.T("min_removed_fraction");
  for (const auto& ref : env.nodes) {
    const PlanNode& n = *ref.node;
    if (n.node_type != "Seq Scan" && n.node_type != "Parallel Seq Scan") continue;
    if (n.filter.empty() || !n.has_actual || n.actual_loops <= 0) continue;
    double loops = n.actual_loops;
    double kept = n.actual_rows * loops, removed = n.rows_removed_by_filter * loops;
    double scanned = kept + removed;
    if (scanned < min_scanned || removed / scanned < min_removed) continue;
    std::string rel = n.QualifiedRelation();
    ConditionColumns cc = AnalyzeCondition(n.filter);
    std::string ddl = IndexFor(rel, cc);
    std::string msg = "sequential scan of " + rel + " read " + Count(scanned) + " rows to keep " +
                      Count(kept) + " (filter " + n.filter + " removed " +
                      Percent(removed / scanned) + ")" +
                      (loops > 1 ? ", over " + Count(loops) + " loops" : "");
    std::string fix;
    if (!ddl.empty()) {
      std::string served;
      if (!cc.equality.empty()) served = "equality on " + Join(cc.equality);
      if (!cc.range.empty())
        served += (served.empty() ? "" : ", then ") + std::string("range on ") + cc.range.front();
      fix = ddl + "\n-- serves " + served + " (equality columns first, then one range column)";
      if (!cc.unindexable.empty())
        fix += "; " + Join(cc.unindexable) + " cannot use a B-tree as written";
    } else if (!cc.unindexable.empty()) {
      // Which operator made the column unindexable is not kept, and a trigram
      // index serves only LIKE/ILIKE: the index is a commented option.
      fix = "-- the filter on " + Join(cc.unindexable) +
            " cannot use a B-tree as written (leading-wildcard LIKE, <>, a function of the "
            "column)\n-- for LIKE '%x%', a pg_trgm GIN index serves it:\n"
            "-- CREATE INDEX CONCURRENTLY ON " +
            SqlRelation(rel) + " USING gin (" + QuoteIdent(cc.unindexable.front()) +
            " gin_trgm_ops);\n-- otherwise rewrite the predicate to compare the bare column";
    } else {
      fix = "-- index the filtered column(s) of " + rel + ", or run `pgvise advise` for this query";
    }
    Finding& f = env.Emit(n, n.has_timing ? NodeTotalMs(n) : scanned / 1e4, msg, fix);
    f.Add("rows_scanned", scanned)
        .Add("rows_kept", kept)
        .Add("rows_removed", removed)
        .Add("removed_fraction", std::round(removed / scanned * 1000) / 1000)
        .Add("filter", n.filter);
    if (!ddl.empty()) f.Add("index", ddl);
  }
}

// ----------------------------------------------- nested-loop-many-inner-loops

void NestedLoopLoops(CheckEnv& env) {
  const double min_loops = env.T("min_loops");
  const double min_inner_ms = env.T("min_inner_ms");
  for (const auto& ref : env.nodes) {
    const PlanNode& n = *ref.node;
    if (n.node_type != "Nested Loop" || n.children.size() < 2) continue;
    const PlanNode* outer = &n.children[0];
    const PlanNode* inner = &n.children[1];
    for (const auto& c : n.children) {
      if (c.parent_relationship == "Outer") outer = &c;
      if (c.parent_relationship == "Inner") inner = &c;
    }
    double loops;
    bool estimated = !inner->has_actual;
    if (estimated) {
      loops = outer->plan_rows;
    } else {
      loops = inner->actual_loops;
    }
    if (loops < min_loops) continue;
    double inner_ms = inner->has_timing ? NodeTotalMs(*inner) : -1;
    // A cheap inner side (a cached Memoize probe, a 1-row index lookup) run
    // many times can be fine; with timing, only flag it when it adds up.
    if (inner_ms >= 0 && inner_ms < min_inner_ms) continue;
    std::string inner_label = NodeLabel(*inner);
    std::string cond = !inner->index_cond.empty() ? inner->index_cond
                       : !n.join_filter.empty()   ? n.join_filter
                       : !inner->filter.empty()   ? inner->filter
                                                  : "";
    std::string msg = "nested loop " + std::string(estimated ? "is planned to run" : "ran") +
                      " its inner side (" + inner_label + ") " + Count(loops) + " times" +
                      (inner_ms >= 0 ? ", " + Ms(inner_ms) + " in all (" +
                                           Ms(inner->actual_total_ms) + " per loop)"
                                     : "") +
                      (cond.empty() ? "" : "; join condition " + cond);
    if (!estimated && outer->has_actual && outer->plan_rows > 0 &&
        outer->TotalActualRows() > outer->plan_rows * 10)
      msg += "; the planner expected only " + Count(outer->plan_rows) + " outer rows";
    std::string fix;
    std::string inner_rel = RelationOf(*inner);
    // A materialized inner side with no join filter returns the same rows on
    // every loop: nothing joins the two sides, it is a cross join.
    bool cross = inner->node_type == "Materialize" && n.join_filter.empty() && cond.empty();
    if (cross) {
      msg += "; nothing relates the two sides: a cross join producing every pair of rows";
      fix = "-- add the missing join condition between " +
            (RelationOf(*outer).empty() ? std::string("the outer side") : RelationOf(*outer)) +
            " and " + (inner_rel.empty() ? std::string("the inner side") : inner_rel) +
            " (JOIN ... ON ...);\n-- if every pair is really wanted, write CROSS JOIN to say so";
    } else if (inner->node_type.find("Seq Scan") != std::string::npos && !inner_rel.empty()) {
      ConditionColumns cc = AnalyzeCondition(cond);
      std::string ddl = IndexFor(inner_rel, cc);
      fix = ddl.empty()
                ? "-- index the join column of " + inner_rel + " so each loop is an index lookup"
                : ddl + "  -- each loop becomes an index lookup";
    } else {
      std::vector<std::string> outer_rels = RelationsBelow(*outer);
      fix =
          "-- with this many outer rows a hash or merge join is usually cheaper: fix the outer "
          "row estimate\n" +
          (outer_rels.empty() ? std::string("-- ANALYZE the outer side's tables")
                              : "ANALYZE " + SqlRelations(outer_rels) + ";") +
          "\n-- and CREATE STATISTICS for correlated predicates; check enable_hashjoin / "
          "enable_mergejoin are on";
    }
    Finding& f = env.Emit(n, inner_ms >= 0 ? inner_ms : loops / 1e3, msg, fix);
    f.Add("inner_loops", loops).Add("estimated", estimated).Add("inner_node", inner_label);
    if (inner_ms >= 0) f.Add("inner_total_ms", inner_ms);
  }
}

// ---------------------------------------------- index-only-scan-heap-fetches

void IndexOnlyHeapFetches(CheckEnv& env) {
  const double min_fetches = env.T("min_heap_fetches");
  const double min_fraction = env.T("min_fetch_fraction");
  for (const auto& ref : env.nodes) {
    const PlanNode& n = *ref.node;
    if (n.node_type != "Index Only Scan" || n.heap_fetches < 0) continue;
    double fetches = static_cast<double>(n.heap_fetches);  // already a total over loops
    double rows = n.TotalActualRows();
    if (fetches < min_fetches || fetches / std::max(rows, 1.0) < min_fraction) continue;
    std::string rel = n.QualifiedRelation();
    std::string msg = "index-only scan using " + n.index_name + " visited the heap " +
                      Count(fetches) + " times for " + Count(rows) +
                      " rows: pages not marked all-visible in the visibility map, so the index "
                      "alone could not answer";
    std::string fix =
        "VACUUM (ANALYZE) " + SqlRelation(rel) +
        ";\n-- for insert-heavy tables, make autovacuum visit sooner:\n-- ALTER TABLE " +
        SqlRelation(rel) +
        " SET (autovacuum_vacuum_insert_scale_factor = 0.02, "
        "autovacuum_vacuum_scale_factor = 0.02);";
    Finding& f = env.Emit(n, n.has_timing ? NodeTotalMs(n) : fetches / 1e3, msg, fix);
    env.GradeByShare(f, n);
    f.Add("heap_fetches", fetches).Add("rows", rows).Add("index", n.index_name);
  }
}

namespace {

// ------------------------------------------ partitioned-append-without-pruning

// The parent alias of a partition scan: PostgreSQL names partition children
// "<alias>_<n>" (events_1, e_2 ...).
std::string PartitionBase(const PlanNode& n) {
  const std::string& a = n.alias;
  size_t us = a.rfind('_');
  if (us == std::string::npos || us == 0 || us + 1 >= a.size()) return "";
  for (size_t i = us + 1; i < a.size(); ++i)
    if (a[i] < '0' || a[i] > '9') return "";
  return a.substr(0, us);
}

}  // namespace

void AppendWithoutPruning(CheckEnv& env) {
  const double min_partitions = env.T("min_partitions");
  for (const auto& ref : env.nodes) {
    const PlanNode& n = *ref.node;
    if (n.node_type != "Append" && n.node_type != "Merge Append" &&
        n.node_type != "Parallel Append")
      continue;
    if (n.subplans_removed > 0) continue;  // run-time pruning did remove some
    std::string base;
    int partitions = 0;
    bool filtered = false;
    std::string filter;
    for (const auto& c : n.children) {
      const PlanNode* s = &c;
      // Parallel or bitmap plans put the scan one level down.
      while (s->relation.empty() && s->children.size() == 1) s = &s->children[0];
      std::string b = PartitionBase(*s);
      if (b.empty()) continue;
      if (base.empty()) base = b;
      if (b != base) continue;
      ++partitions;
      const std::string& cond = !s->filter.empty()       ? s->filter
                                : !s->index_cond.empty() ? s->index_cond
                                                         : s->recheck_cond;
      if (!cond.empty()) {
        filtered = true;
        if (filter.empty()) filter = cond;
      }
    }
    // Guard: a scan of every partition is expected when the query has no
    // predicate at all; only a filtered scan could have been pruned.
    if (partitions < min_partitions || !filtered) continue;
    std::string msg = "scanned all " + Count(partitions) + " partitions of " + base +
                      ": the filter " + filter +
                      " does not restrict the partition key, so nothing was pruned" +
                      (n.has_actual ? " (" + Count(n.TotalActualRows()) + " rows)" : "");
    std::string fix =
        "-- add a predicate on the partition key (a constant, or a parameter for run-time "
        "pruning) so only the partitions that can match are scanned;\n-- if queries filter on " +
        filter +
        " rather than on the key, the key may be the wrong one (check enable_partition_pruning "
        "is on)";
    Finding& f = env.Emit(n, n.has_timing ? NodeTotalMs(n) : n.total_cost / 1e3, msg, fix);
    f.Add("partitions_scanned", static_cast<int64_t>(partitions))
        .Add("subplans_removed", n.subplans_removed)
        .Add("filter", filter);
    f.location.object = base;
  }
}

// ----------------------------------------------------- reads-mostly-from-disk

void ReadsFromDisk(CheckEnv& env) {
  const PlanNode& root = env.plan.root;
  const double min_read = env.T("min_read_blocks");
  const double min_fraction = env.T("min_read_fraction");
  // Counters are cumulative: the root holds the whole query's buffer use.
  const int64_t read = root.buffers.shared_read, hit = root.buffers.shared_hit;
  double total = static_cast<double>(read + hit);
  if (read < min_read || total <= 0 || read / total < min_fraction) return;
  // The node that read most by itself (its counters minus its children's).
  const PlanNode* worst = &root;
  int64_t worst_own = -1;
  for (const auto& ref : env.nodes) {
    int64_t own = ref.node->buffers.shared_read;
    for (const auto& c : ref.node->children) own -= c.buffers.shared_read;
    if (own > worst_own) {
      worst_own = own;
      worst = ref.node;
    }
  }
  std::string msg =
      Count(static_cast<double>(read)) + " of " + Count(total) + " shared blocks (" +
      Count(std::round(read / total * 100)) + "%, " + Kb(read * 8.0) +
      ") came from outside shared_buffers (disk or OS cache); most by " + worst->path + " (" +
      NodeLabel(*worst) + ", " + Count(static_cast<double>(worst_own)) + " blocks)" +
      (root.buffers.io_read_ms > 0 ? "; I/O read time " + Ms(root.buffers.io_read_ms) : "") +
      Current(env.plan, "shared_buffers");
  // A sequential scan with a filter has an index to name; other nodes get the advice.
  std::string ddl = IsScan(*worst) && worst->node_type.find("Seq Scan") != std::string::npos
                        ? IndexFor(worst->QualifiedRelation(), AnalyzeCondition(worst->filter))
                        : "";
  std::string fix =
      (ddl.empty()
           ? "-- read less: an index for " + NodeLabel(*worst) +
                 (worst->filter.empty() ? std::string() : " (filter " + worst->filter + ")") +
                 " so it touches fewer pages"
           : ddl + "  -- read less: only the rows the filter keeps") +
      "\n-- if this data is the hot working set, shared_buffers may be too small for it;\n"
      "-- measure what the reads cost with track_io_timing = on";
  Finding& f = env.Emit(*worst, static_cast<double>(read) / 100, msg, fix);
  env.GradeByShare(f, *worst);
  f.Add("shared_read_blocks", read).Add("shared_hit_blocks", hit).Add("read_mb", read * 8.0 / 1024);
  if (root.buffers.io_read_ms > 0) f.Add("io_read_ms", root.buffers.io_read_ms);
}

}  // namespace pgvise::plan_checks
