// Plan: an EXPLAIN (FORMAT JSON) plan read into a typed tree. It is where
// `pgvise explain` starts, and what `pgvise review --db`, the advisor and the
// rewriter's --verify read after analyzer/plan/explain_runner.h has fetched a plan
// from the server; analyzer/plan/plan_rules.h then checks it.
//
// ReadPlan accepts what PostgreSQL 13-18 emit with or without ANALYZE,
// BUFFERS, VERBOSE, SETTINGS, WAL, TIMING OFF, GENERIC_PLAN, SERIALIZE and
// MEMORY: the `[ {...} ]` array, a bare `{...}` object, and psql's aligned,
// unaligned or expanded output pasted as-is (the `QUERY PLAN` header, the
// dashes line, `+` continuations and the `(1 row)` footer). Version
// differences it absorbs: PG13+ WAL counters and the Planning section with
// buffers; PG16 I/O timing keys split per buffer kind in PG17 ("Shared I/O Read
// Time"); PG17's JIT "Generation" as an object with "Deform" and "Total";
// PG17's Serialization and planning Memory sections; PG18's fractional
// "Actual Rows", "Disabled" and "Index Searches". Keys it does not know are
// kept as raw JSON text in `extra`, never an error.
//
// Errors are one line and say where, as `file:line:col` in the file given
// (through psql's decoration): for malformed JSON, just after the last
// complete value when a ',' ':' or bracket is missing, at the token when a
// wrong one is there (analyzer/plan/plan_json.h); for JSON that is not a plan, the
// position of the offending value and its JSON path
// (`plan.json:13:20: [0].Plan.Plan Rows: unexpected string for "Plan Rows"`).
// All are Status::InvalidInput (exit code 2).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/source.h"
#include "core/status.h"

namespace pgvise {

// BUFFERS counters (blocks) and I/O timing (ms). Cumulative: a node's
// counters include its children's.
struct Buffers {
  bool present = false;
  int64_t shared_hit = 0, shared_read = 0, shared_dirtied = 0, shared_written = 0;
  int64_t local_hit = 0, local_read = 0, local_dirtied = 0, local_written = 0;
  int64_t temp_read = 0, temp_written = 0;
  double io_read_ms = 0, io_write_ms = 0;  // shared (PG13-16 "I/O Read Time")
};

// WAL counters (EXPLAIN (ANALYZE, WAL), PG13+).
struct WalUsage {
  bool present = false;
  int64_t records = 0, fpi = 0, bytes = 0;
};

struct PlanNode {
  std::string node_type;            // "Seq Scan", "Hash Join", "Aggregate", ...
  std::string path;                 // "Plan", "Plan.Plans[1].Plans[0]"
  std::string parent_relationship;  // Outer | Inner | Member | SubPlan | InitPlan | ...
  std::string subplan_name;         // "SubPlan 1", "hashed SubPlan 1", "CTE x"
  std::string strategy;             // Aggregate: Plain | Sorted | Hashed | Mixed
  std::string join_type;            // Inner | Left | Semi | Anti | ...
  std::string partial_mode;         // Simple | Partial | Finalize
  bool parallel_aware = false;
  bool disabled = false;       // PG18 "Disabled": true
  bool async_capable = false;  // PG14+
  bool inner_unique = false;   // joins, VERBOSE

  // What the node reads.
  std::string relation;  // "Relation Name"
  std::string schema;    // "Schema" (VERBOSE)
  std::string alias;     // "Alias"
  std::string index_name;
  std::string function_name, cte_name;
  std::string scan_direction;

  // Conditions, as PostgreSQL deparses them.
  std::string filter, index_cond, recheck_cond, join_filter, hash_cond, merge_cond;
  std::vector<std::string> sort_key, group_key, output;

  // Estimates.
  double startup_cost = 0, total_cost = 0, plan_rows = 0;
  int64_t plan_width = 0;

  // ANALYZE (per loop, as EXPLAIN prints them; `has_actual` false without ANALYZE).
  bool has_actual = false;
  bool has_timing = false;  // false under TIMING OFF
  double actual_startup_ms = 0, actual_total_ms = 0, actual_rows = 0, actual_loops = 0;
  double rows_removed_by_filter = 0, rows_removed_by_join_filter = 0;
  double rows_removed_by_index_recheck = 0;
  int64_t heap_fetches = -1;                               // Index Only Scan; -1 = not shown
  int64_t index_searches = -1;                             // PG18
  int64_t exact_heap_blocks = -1, lossy_heap_blocks = -1;  // Bitmap Heap Scan

  // Sort.
  std::string sort_method;      // "quicksort", "external merge", "top-N heapsort"
  std::string sort_space_type;  // "Memory" | "Disk"
  int64_t sort_space_kb = -1;
  // Hash (the Hash node under a Hash Join).
  int64_t hash_buckets = -1, original_hash_buckets = -1;
  int64_t hash_batches = -1, original_hash_batches = -1;
  int64_t peak_memory_kb = -1;  // Hash and HashAgg
  // HashAgg (PG13+).
  int64_t planned_partitions = -1, hashagg_batches = -1, disk_usage_kb = -1;
  // Gather / Gather Merge.
  int64_t workers_planned = -1, workers_launched = -1;
  // Append / Merge Append with run-time pruning.
  int64_t subplans_removed = -1;

  Buffers buffers;
  WalUsage wal;

  std::vector<PlanNode> children;  // "Plans"
  // Keys this reader does not model, with their raw JSON text (minified).
  std::vector<std::pair<std::string, std::string>> extra;

  // Rows over all loops (actual_rows is per loop).
  double TotalActualRows() const { return actual_rows * actual_loops; }
  // The relation as "schema.name" when VERBOSE gave the schema.
  std::string QualifiedRelation() const {
    return schema.empty() || relation.empty() ? relation : schema + "." + relation;
  }
};

struct Trigger {
  std::string name, relation, constraint_name;
  double time_ms = 0;
  double calls = 0;
};

struct JitInfo {
  bool present = false;
  int64_t functions = 0;
  std::map<std::string, bool> options;  // Inlining, Optimization, Expressions, Deforming
  double generation_ms = -1, inlining_ms = -1, optimization_ms = -1, emission_ms = -1;
  double total_ms = -1;  // -1: no timing (EXPLAIN without ANALYZE)
};

struct Plan {
  PlanNode root;
  // What the EXPLAIN carried (decides which checks can run).
  bool analyzed = false;     // ANALYZE: actual rows and loops
  bool has_timing = false;   // ANALYZE with TIMING (the default)
  bool has_buffers = false;  // BUFFERS on any node
  bool has_wal = false;
  double planning_ms = -1;   // "Planning Time"; -1 when absent
  double execution_ms = -1;  // "Execution Time"; -1 when absent
  Buffers planning_buffers;  // "Planning": {...} (PG13+ with BUFFERS)
  std::vector<Trigger> triggers;
  JitInfo jit;
  std::map<std::string, std::string> settings;             // SETTINGS: non-default planner settings
  std::vector<std::pair<std::string, std::string>> extra;  // unknown top-level keys, raw JSON
  std::string root_path_prefix;  // "[0]." when the input was an array, "" for a bare object
  size_t node_count = 0;
};

// Reads EXPLAIN JSON text from `src` (see the header comment for the accepted
// shapes). On error *out is unspecified.
Status ReadPlan(const SourceText& src, Plan* out);

// Calls `fn(node)` for every node, parents before children.
template <typename Fn>
void ForEachNode(const PlanNode& n, Fn&& fn) {
  fn(n);
  for (const auto& c : n.children) ForEachNode(c, fn);
}

// Where the member `path` of the plan read from `src` is in src's text:
// for a node path ("Plan.Plans[1]") the value of its "Node Type", for a
// top-level member ("JIT", "Planning Time") its value; line:col of the text
// the user gave (through psql's decoration). False when src has no such
// member. For findings' positions: ReadPlan keeps none (simdjson's DOM has no
// offsets), so this scans the text once per call.
bool LocatePlanNode(const SourceText& src, const std::string& path, LineCol* out);

// If `text` is psql output around a JSON plan, returns the JSON with psql's
// decoration removed, and in *line_map the original 1-based line and column
// offset of each output line; returns false when `text` is not psql output.
bool UnwrapPsqlOutput(const std::string& text, std::string* json,
                      std::vector<std::pair<int, int>>* line_map);

}  // namespace pgvise
