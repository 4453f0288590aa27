// The plan checks, one handler per rule in rules/plan/<id>.yaml, registered
// in the table at the bottom (kChecks) under the rule's id. Each reads its
// thresholds from its rule (the second argument to T() is the default, the
// same as in the YAML) and reports the node, the numbers and the fix.
//
// The numbers EXPLAIN gives are per loop: "Actual Rows" 10 with "Actual
// Loops" 2000 is 20,000 rows, and "Actual Total Time" is per loop too, so
// the time a node cost is total time x loops. Every handler works in those
// totals. Example, from a real PG 15 plan (subplan-per-row.json):
//
//   Index Scan on users           rows 2,000, loops 1
//     SubPlan 1: Aggregate        rows 1, loops 2,000, 0.02 ms per loop
//
// subplan-per-outer-row fires: the sub-query ran 2,000 times (40 ms in all),
// once per outer row, and the fix is to decorrelate it (`pgvise rewrite`).
//
// Guards say why a node is left alone: a node under a Limit stops early by
// design, so fewer rows than estimated is not a misestimate there; a hashed
// SubPlan runs once, not per row.
#include "analyzer/plan/plan_checks.h"

#include <algorithm>
#include <cmath>

#include "analyzer/plan/plan_rules.h"
#include "core/session.h"

namespace pgvise::plan_checks {

namespace {

bool IsScan(const PlanNode& n) { return !n.relation.empty(); }

double NodeTotalMs(const PlanNode& n) { return n.actual_total_ms * std::max(1.0, n.actual_loops); }

std::string NodeLabel(const PlanNode& n) {
  std::string r = RelationOf(n);
  return r.empty() ? n.node_type : n.node_type + " on " + r;
}

std::string Join(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string Current(const Plan& p, const char* setting) {
  auto it = p.settings.find(setting);
  return it == p.settings.end() ? "" : " (now " + it->second + ")";
}

// A relation as RelationOf names it ("orders", "shop.orders") written as SQL:
// each part quoted when it must be ("Order Items", user). Fixes are run as
// they are, so a name that folds to another table would be a wrong fix.
std::string SqlRelation(const std::string& rel) {
  size_t dot = rel.find('.');
  if (dot == std::string::npos) return QuoteIdent(rel);
  return QuoteIdent(rel.substr(0, dot)) + "." + QuoteIdent(rel.substr(dot + 1));
}

std::string SqlColumns(const std::vector<std::string>& cols) {
  std::vector<std::string> quoted;
  for (const auto& c : cols) quoted.push_back(QuoteIdent(c));
  return Join(quoted);
}

std::string SqlRelations(const std::vector<std::string>& rels) {
  std::vector<std::string> quoted;
  for (const auto& r : rels) quoted.push_back(SqlRelation(r));
  return Join(quoted);
}

// The index that would serve `cond` on `rel`: equality columns first, then
// one range column (a B-tree can use only the first range column well).
std::string IndexFor(const std::string& rel, const ConditionColumns& cc) {
  std::vector<std::string> cols;
  for (const auto& c : cc.equality) cols.push_back(QuoteIdent(c));
  if (!cc.range.empty()) {
    const std::string& r = cc.range.front();
    bool prefix =
        std::find(cc.like_prefix.begin(), cc.like_prefix.end(), r) != cc.like_prefix.end();
    cols.push_back(QuoteIdent(r) + (prefix ? " text_pattern_ops" : ""));
  }
  if (cols.empty() || rel.empty()) return "";
  return "CREATE INDEX CONCURRENTLY ON " + SqlRelation(rel) + " (" + Join(cols) + ");";
}

// ------------------------------------------------------------ row-misestimate

bool IsBitmapNode(const PlanNode& n) {
  return n.node_type == "BitmapAnd" || n.node_type == "Bitmap Index Scan";
}

// The relation of the Bitmap Heap Scan above a bitmap node.
std::string HeapOf(const std::vector<NodeRef>& nodes, const PlanNode& n) {
  const PlanNode* cur = &n;
  for (int depth = 0; cur && depth < 3; ++depth) {
    if (!cur->relation.empty()) return cur->QualifiedRelation();
    const PlanNode* parent = nullptr;
    for (const auto& ref : nodes)
      if (ref.node == cur) parent = ref.parent;
    cur = parent;
  }
  return "";
}

// The columns a node's own conditions test against values, over every
// condition it applies (Index Cond, Recheck Cond, Filter; a BitmapAnd's
// index scans), when they are all ANDed: the terms the planner multiplied.
struct FilterColumns {
  std::vector<std::string> columns;  // equality and range columns, first seen first
  bool equality = false, range = false;
  bool all_anded = true;  // no condition is an OR (or anything not parsed)
};

void AddConditions(const PlanNode& n, FilterColumns* out) {
  for (const std::string* c : {&n.index_cond, &n.recheck_cond, &n.filter}) {
    if (c->empty()) continue;
    ConditionColumns cc = AnalyzeCondition(*c);
    if (!cc.parsed || (cc.and_terms == 1 && cc.equality.empty() && cc.range.empty())) {
      out->all_anded = false;  // an OR, a function, something not a plain test
      continue;
    }
    for (const auto* list : {&cc.equality, &cc.range})
      for (const auto& col : *list)
        if (std::find(out->columns.begin(), out->columns.end(), col) == out->columns.end())
          out->columns.push_back(col);
    out->equality |= !cc.equality.empty();
    out->range |= !cc.range.empty();
  }
}

FilterColumns NodeFilterColumns(const PlanNode& n) {
  FilterColumns out;
  AddConditions(n, &out);
  if (n.node_type == "BitmapAnd")
    for (const auto& c : n.children) AddConditions(c, &out);
  return out;
}

// "shop.orders_city_zip_stats" (quoted as needed; at most 63 bytes), in the
// table's schema when the plan names it.
std::string StatisticsName(const std::string& rel, const std::vector<std::string>& cols) {
  size_t dot = rel.find('.');
  std::string schema = dot == std::string::npos ? "" : rel.substr(0, dot);
  std::string table = dot == std::string::npos ? rel : rel.substr(dot + 1);
  std::string name = table + "_" + Join(cols, "_");
  if (name.size() > 57) name.resize(57);
  while (!name.empty() && (static_cast<unsigned char>(name.back()) & 0x80)) name.pop_back();
  name += "_stats";
  return (schema.empty() ? "" : QuoteIdent(schema) + ".") + QuoteIdent(name);
}

double MisestimateFactor(const PlanNode& n) {
  double est = std::max(n.plan_rows, 1.0), act = std::max(n.actual_rows, 1.0);
  return std::max(est, act) / std::min(est, act);
}

void RowMisestimate(CheckEnv& env) {
  const double factor = env.T("factor");
  const double min_rows = env.T("min_rows");
  const size_t max_findings = static_cast<size_t>(env.T("max_findings"));
  struct Hit {
    const PlanNode* node;
    double factor;
  };
  std::vector<Hit> hits;
  auto misestimated = [&](const PlanNode& n) {
    if (!n.has_actual || n.actual_loops <= 0) return false;  // never executed
    if (std::max(n.plan_rows, n.actual_rows) * std::max(1.0, n.actual_loops) < min_rows)
      return false;
    return MisestimateFactor(n) >= factor;
  };
  for (const auto& ref : env.nodes) {
    const PlanNode& n = *ref.node;
    if (!misestimated(n)) continue;
    // Under a Limit a node stops once enough rows came: fewer than estimated is by design.
    if (ref.under_limit && n.actual_rows < n.plan_rows) continue;
    // Report where the error starts: a child wrong in the same direction
    // explains this node's error, and is reported itself.
    bool over = n.plan_rows > n.actual_rows;
    bool inherited = false;
    for (const auto& c : n.children)
      if (c.parent_relationship != "SubPlan" && c.parent_relationship != "InitPlan" &&
          misestimated(c) && (c.plan_rows > c.actual_rows) == over)
        inherited = true;
    if (inherited) continue;
    hits.push_back({&n, MisestimateFactor(n)});
  }
  std::stable_sort(hits.begin(), hits.end(),
                   [](const Hit& a, const Hit& b) { return a.factor > b.factor; });
  if (hits.size() > max_findings) hits.resize(max_findings);
  for (const auto& h : hits) {
    const PlanNode& n = *h.node;
    bool under = n.actual_rows > n.plan_rows;
    // The table a bitmap node filters is its Bitmap Heap Scan's.
    std::string rel = RelationOf(n);
    if (rel.empty() && IsBitmapNode(n)) rel = HeapOf(env.nodes, n);
    std::string cond = !n.filter.empty()       ? n.filter
                       : !n.index_cond.empty() ? n.index_cond
                                               : n.recheck_cond;
    if (cond.empty() && n.node_type == "BitmapAnd") {
      for (const auto& c : n.children)
        if (!c.index_cond.empty()) cond += (cond.empty() ? "" : " AND ") + c.index_cond;
    }
    ConditionColumns cc = AnalyzeCondition(cond);
    const FilterColumns fc = NodeFilterColumns(n);
    std::string cause, fix, statistics_sql;
    std::vector<std::string> cols = fc.columns;
    if ((IsScan(n) || IsBitmapNode(n)) && !rel.empty() && under && fc.all_anded &&
        cols.size() >= 2) {
      // Several predicates on one table, together far more selective in the
      // estimate than in the data: the planner multiplied selectivities of
      // columns that are correlated. Equality: functional dependencies
      // (an MCV list is only right when the combinations fit in one, and a
      // value missing from it falls back to independence); a range: an MCV
      // list, the only kind that serves ranges.
      std::string kinds = fc.range ? (fc.equality ? "dependencies, mcv" : "mcv") : "dependencies";
      std::string stats = StatisticsName(rel, cols);
      cause = "likely cause: correlated columns " + Join(cols) + " of " + rel +
              ", ANDed in this node's condition (the planner multiplies their selectivities as "
              "if independent)";
      fix = "CREATE STATISTICS " + stats + " (" + kinds + ") ON " + SqlColumns(cols) + " FROM " +
            SqlRelation(rel) + ";\nANALYZE " + SqlRelation(rel) + ";";
      if (!fc.range)
        fix +=
            "\n-- (mcv) instead when the columns have few value combinations; `pgvise advise` "
            "measures the q-error before and after";
      statistics_sql = fix.substr(0, fix.find(";\n"));
    } else if (!rel.empty() && IsScan(n)) {
      cause = "likely cause: stale or too coarse statistics on " + rel;
      // The second step is conditional, so it is a comment: running the
      // whole suggestion must not change settings nobody asked for yet.
      fix = "ANALYZE " + SqlRelation(rel) + ";\n-- if the estimate stays wrong, sample more values";
      if (cc.all.empty()) {
        fix += " of the filtered columns, then ANALYZE again:\n-- ALTER TABLE " + SqlRelation(rel) +
               " ALTER COLUMN <column> SET STATISTICS 1000;";
      } else {
        fix += ", then ANALYZE again:";
        for (const auto& col : cc.all)
          fix += "\n-- ALTER TABLE " + SqlRelation(rel) + " ALTER COLUMN " + QuoteIdent(col) +
                 " SET STATISTICS 1000;";
      }
    } else {
      cause =
          "likely cause: the estimates of its inputs combine badly (join or grouping selectivity)";
      std::vector<std::string> below = RelationsBelow(n);
      fix = below.empty() ? std::string("-- ANALYZE the tables below this node")
                          : "ANALYZE " + SqlRelations(below) + ";";
      fix += "\n-- for joins on several correlated columns, CREATE STATISTICS on those columns";
    }
    std::string msg =
        "row estimate off by " + Count(std::round(h.factor)) + "x (" + (under ? "under" : "over") +
        "estimate): planned " + Count(n.plan_rows) + " rows, got " + Count(n.actual_rows) +
        (n.actual_loops > 1 ? " per loop x " + Count(n.actual_loops) + " loops" : "") +
        (cond.empty() ? "" : " for " + cond) + "; " + cause +
        "; a wrong estimate makes the planner pick join methods and orders for the wrong size";
    Finding& f = env.Emit(n, h.factor, msg, fix);
    f.Add("plan_rows", n.plan_rows)
        .Add("actual_rows", n.actual_rows)
        .Add("loops", n.actual_loops)
        .Add("factor", std::round(h.factor * 10) / 10)
        .Add("direction", std::string(under ? "under" : "over"));
    if (!cond.empty()) f.Add("condition", cond);
    if (!cols.empty()) f.Add("columns", cols);
    if (!statistics_sql.empty()) f.Add("statistics", statistics_sql);
  }
}

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

// -------------------------------------------- parallel-workers-not-launched

void ParallelNotLaunched(CheckEnv& env) {
  for (const auto& ref : env.nodes) {
    const PlanNode& n = *ref.node;
    if (n.workers_planned <= 0 || n.workers_launched < 0 || n.workers_launched >= n.workers_planned)
      continue;
    std::string msg = Count(n.workers_planned) + " parallel workers planned, " +
                      Count(n.workers_launched) + " launched: the query ran with " +
                      (n.workers_launched == 0 ? std::string("the leader alone")
                                               : "fewer workers than its plan assumed") +
                      " (no background worker slots free)" +
                      Current(env.plan, "max_parallel_workers");
    std::string fix =
        "-- raise max_parallel_workers (and max_worker_processes, which needs a restart) above "
        "what concurrent queries use,\n-- or lower max_parallel_workers_per_gather so plans "
        "assume what they will get";
    Finding& f = env.Emit(n, n.has_timing ? NodeTotalMs(n) : 0, msg, fix);
    env.GradeByShare(f, n);
    f.Add("workers_planned", n.workers_planned).Add("workers_launched", n.workers_launched);
  }
}

// --------------------------------------------------- subplan-per-outer-row

void SubplanPerRow(CheckEnv& env) {
  const double min_loops = env.T("min_loops");
  for (const auto& ref : env.nodes) {
    const PlanNode& n = *ref.node;
    if (n.parent_relationship != "SubPlan") continue;
    // A hashed SubPlan is run once into a hash table, not once per row.
    if (n.subplan_name.rfind("hashed", 0) == 0) continue;
    bool estimated = !n.has_actual;
    double loops = estimated ? (ref.parent ? ref.parent->plan_rows : 0) : n.actual_loops;
    if (loops < min_loops) continue;
    double total_ms = n.has_timing ? NodeTotalMs(n) : -1;
    std::string name = n.subplan_name.empty() ? "a SubPlan" : n.subplan_name;
    std::string msg =
        name + " (" + NodeLabel(n) + ") " +
        (estimated ? "will run once per outer row, about " : "ran ") + Count(loops) + " times" +
        (total_ms >= 0 ? ", " + Ms(total_ms) + " in all (" + Ms(n.actual_total_ms) + " per row)"
                       : "") +
        ": a correlated subquery that PostgreSQL does not turn into a join";
    std::string fix =
        "-- rewrite it as a join (a LEFT JOIN to a grouped derived table, COALESCE for count):\n"
        "-- `pgvise rewrite FILE` does this and states why the rewrite is equivalent";
    Finding& f = env.Emit(n, total_ms >= 0 ? total_ms : loops / 1e3, msg, fix);
    f.Add("subplan", name).Add("loops", loops).Add("estimated", estimated);
    if (total_ms >= 0) f.Add("total_ms", total_ms);
  }
}

// ---------------------------------------------------- jit-dominates-runtime

void JitDominates(CheckEnv& env) {
  const JitInfo& j = env.plan.jit;
  if (!j.present || j.total_ms < 0 || env.plan.execution_ms <= 0) return;
  const double min_ms = env.T("min_jit_ms");
  const double min_fraction = env.T("min_fraction");
  double frac = j.total_ms / env.plan.execution_ms;
  if (j.total_ms < min_ms || frac < min_fraction) return;
  double cost = env.plan.root.total_cost;
  std::string msg = "JIT compilation took " + Ms(j.total_ms) + " of the " +
                    Ms(env.plan.execution_ms) + " execution (" + Count(std::round(frac * 100)) +
                    "%): " + Count(j.functions) + " functions; inlining " +
                    Ms(std::max(j.inlining_ms, 0.0)) + ", optimization " +
                    Ms(std::max(j.optimization_ms, 0.0)) + ", emission " +
                    Ms(std::max(j.emission_ms, 0.0)) + "; the plan's cost " + Count(cost) +
                    " crossed jit_above_cost, but the query is too short to repay it";
  // Suggest a threshold above this plan's cost, and never below PostgreSQL's
  // default (100000): a lower value would JIT more queries, not fewer.
  double above = std::min(
      1e15, std::max(100000.0, std::pow(10, std::ceil(std::log10(std::max(cost, 1.0)) + 0.001))));
  std::string fix = "SET jit_above_cost = " + std::to_string(static_cast<int64_t>(above)) +
                    ";  -- above this plan's cost, so it is not compiled\n"
                    "-- or, for a short-query workload, turn JIT off for its role: ALTER ROLE app "
                    "SET jit = off;";
  Finding& f = env.Emit(env.plan.root, j.total_ms, msg, fix);
  f.Add("jit_total_ms", j.total_ms)
      .Add("execution_ms", env.plan.execution_ms)
      .Add("functions", j.functions)
      .Add("plan_cost", cost);
  f.location.plan_path = "JIT";
  f.location.node_type = "";
  f.location.object = "";
}

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

// --------------------------------------------------- planning-time-dominates

void PlanningDominates(CheckEnv& env) {
  const Plan& p = env.plan;
  if (p.planning_ms < 0 || p.execution_ms < 0) return;
  const double ratio = env.T("ratio");
  const double min_ms = env.T("min_planning_ms");
  if (p.planning_ms < min_ms || p.planning_ms < ratio * std::max(p.execution_ms, 0.001)) return;
  int64_t scans = 0;
  for (const auto& ref : env.nodes)
    if (IsScan(*ref.node)) ++scans;
  std::string msg = "planning took " + Ms(p.planning_ms) + ", " +
                    Count(std::round(p.planning_ms / std::max(p.execution_ms, 0.001))) + "x the " +
                    Ms(p.execution_ms) + " execution (" + Count(static_cast<double>(p.node_count)) +
                    " plan nodes, " + Count(static_cast<double>(scans)) + " relation scans)";
  std::string fix =
      "-- plan once, run many times: a prepared statement (PREPARE, or the driver's server-side "
      "prepare) reuses the plan;\n-- for many-way joins, lower join_collapse_limit / "
      "from_collapse_limit;\n-- for many partitions, prune at plan time with constant "
      "partition-key predicates";
  Finding& f = env.Emit(p.root, p.planning_ms, msg, fix);
  f.Add("planning_ms", p.planning_ms)
      .Add("execution_ms", p.execution_ms)
      .Add("plan_nodes", static_cast<int64_t>(p.node_count));
  f.location.plan_path = "Planning";
  f.location.node_type = "";
  f.location.object = "";
}

}  // namespace

const std::vector<PlanCheck>& Checks() {
  //                 id                                   default severity    analyze buffers timing
  //                 handler
  static const std::vector<PlanCheck> kChecks = {
      {"row-misestimate", Severity::kWarning, true, false, false, RowMisestimate},
      {"sort-spills-to-disk", Severity::kWarning, true, false, false, SortSpills},
      {"hash-join-multiple-batches", Severity::kWarning, true, false, false, HashJoinBatches},
      {"hash-aggregate-spills", Severity::kWarning, false, false, false, HashAggSpills},
      {"seq-scan-filters-most-rows", Severity::kWarning, true, false, false, SeqScanFilter},
      {"nested-loop-many-inner-loops", Severity::kWarning, false, false, false, NestedLoopLoops},
      {"index-only-scan-heap-fetches", Severity::kInfo, true, false, false, IndexOnlyHeapFetches},
      {"bitmap-heap-scan-lossy", Severity::kInfo, true, false, false, BitmapLossy},
      {"parallel-workers-not-launched", Severity::kInfo, true, false, false, ParallelNotLaunched},
      {"subplan-per-outer-row", Severity::kWarning, false, false, false, SubplanPerRow},
      {"jit-dominates-runtime", Severity::kWarning, true, false, true, JitDominates},
      {"partitioned-append-without-pruning", Severity::kWarning, false, false, false,
       AppendWithoutPruning},
      {"reads-mostly-from-disk", Severity::kInfo, true, true, false, ReadsFromDisk},
      {"planning-time-dominates", Severity::kInfo, true, false, false, PlanningDominates},
  };
  return kChecks;
}

}  // namespace pgvise::plan_checks
