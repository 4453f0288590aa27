// Reading one EXPLAIN plan node (and, recursively, its children) into a
// PlanNode: the hot loop of ReadPlan (analyzer/plan/plan.cc reads the query
// level around it). Every field of every node goes through one switch on a
// Key found in a small open-addressing table, so each JSON key is compared
// once; a key the table does not hold is kept as raw JSON in PlanNode::extra,
// never an error. A value of the wrong JSON type is an error that names the
// node's path and key (`[0].Plan.Plans[1].Plan Rows: unexpected string`).
#include <simdjson.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "analyzer/plan/plan_reader.h"

namespace pgvise::plan_reader {

namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

enum class Key {
  kNodeType,
  kParentRelationship,
  kSubplanName,
  kStrategy,
  kJoinType,
  kPartialMode,
  kParallelAware,
  kDisabled,
  kRelationName,
  kSchema,
  kAlias,
  kIndexName,
  kFunctionName,
  kCteName,
  kScanDirection,
  kFilter,
  kIndexCond,
  kRecheckCond,
  kJoinFilter,
  kHashCond,
  kMergeCond,
  kSortKey,
  kGroupKey,
  kOutput,
  kStartupCost,
  kTotalCost,
  kPlanRows,
  kPlanWidth,
  kActualStartup,
  kActualTotal,
  kActualRows,
  kActualLoops,
  kRemovedFilter,
  kRemovedJoinFilter,
  kRemovedRecheck,
  kHeapFetches,
  kIndexSearches,
  kExactBlocks,
  kLossyBlocks,
  kSortMethod,
  kSortSpaceType,
  kSortSpaceUsed,
  kHashBuckets,
  kOrigHashBuckets,
  kHashBatches,
  kOrigHashBatches,
  kPeakMemory,
  kPlannedPartitions,
  kHashAggBatches,
  kDiskUsage,
  kWorkersPlanned,
  kWorkersLaunched,
  kSubplansRemoved,
  kPlans,
  kWalRecords,
  kWalFpi,
  kWalBytes,
  kAsyncCapable,
  kInnerUnique,
  kSharedHit,
  kSharedRead,
  kSharedDirtied,
  kSharedWritten,
  kLocalHit,
  kLocalRead,
  kLocalDirtied,
  kLocalWritten,
  kTempRead,
  kTempWritten,
  kIoRead,
  kIoWrite,
};

// Key dispatch on every field of every node is the reader's hot loop: a
// small open-addressing table hashed on length and three characters beats
// std::unordered_map (no full-string hash) and a chain of compares.
struct KeyTable {
  static constexpr size_t kSlots = 512;
  struct Slot {
    std::string_view name;
    Key key{};
  };
  Slot slots[kSlots];
  static size_t Hash(std::string_view k) {
    size_t n = k.size();
    return (n * 131 + static_cast<unsigned char>(k[0]) * 31 +
            static_cast<unsigned char>(k[n / 2]) * 7 + static_cast<unsigned char>(k[n - 1])) &
           (kSlots - 1);
  }
  void Add(std::string_view name, Key key) {
    size_t i = Hash(name);
    while (!slots[i].name.empty()) i = (i + 1) & (kSlots - 1);
    slots[i] = {name, key};
  }
  bool Find(std::string_view k, Key* out) const {
    if (k.empty()) return false;
    for (size_t i = Hash(k);; i = (i + 1) & (kSlots - 1)) {
      if (slots[i].name.empty()) return false;
      if (slots[i].name == k) {
        *out = slots[i].key;
        return true;
      }
    }
  }
};

static const KeyTable& Keys() {
  static const KeyTable kTable = [] {
    static const std::pair<std::string_view, Key> kKeys[] = {
        {"Node Type", Key::kNodeType},
        {"Parent Relationship", Key::kParentRelationship},
        {"Subplan Name", Key::kSubplanName},
        {"Strategy", Key::kStrategy},
        {"Join Type", Key::kJoinType},
        {"Partial Mode", Key::kPartialMode},
        {"Parallel Aware", Key::kParallelAware},
        {"Disabled", Key::kDisabled},
        {"Relation Name", Key::kRelationName},
        {"Schema", Key::kSchema},
        {"Alias", Key::kAlias},
        {"Index Name", Key::kIndexName},
        {"Function Name", Key::kFunctionName},
        {"CTE Name", Key::kCteName},
        {"Scan Direction", Key::kScanDirection},
        {"Filter", Key::kFilter},
        {"Index Cond", Key::kIndexCond},
        {"Recheck Cond", Key::kRecheckCond},
        {"Join Filter", Key::kJoinFilter},
        {"Hash Cond", Key::kHashCond},
        {"Merge Cond", Key::kMergeCond},
        {"Sort Key", Key::kSortKey},
        {"Group Key", Key::kGroupKey},
        {"Output", Key::kOutput},
        {"Startup Cost", Key::kStartupCost},
        {"Total Cost", Key::kTotalCost},
        {"Plan Rows", Key::kPlanRows},
        {"Plan Width", Key::kPlanWidth},
        {"Actual Startup Time", Key::kActualStartup},
        {"Actual Total Time", Key::kActualTotal},
        {"Actual Rows", Key::kActualRows},
        {"Actual Loops", Key::kActualLoops},
        {"Rows Removed by Filter", Key::kRemovedFilter},
        {"Rows Removed by Join Filter", Key::kRemovedJoinFilter},
        {"Rows Removed by Index Recheck", Key::kRemovedRecheck},
        {"Heap Fetches", Key::kHeapFetches},
        {"Index Searches", Key::kIndexSearches},
        {"Exact Heap Blocks", Key::kExactBlocks},
        {"Lossy Heap Blocks", Key::kLossyBlocks},
        {"Sort Method", Key::kSortMethod},
        {"Sort Space Type", Key::kSortSpaceType},
        {"Sort Space Used", Key::kSortSpaceUsed},
        {"Hash Buckets", Key::kHashBuckets},
        {"Original Hash Buckets", Key::kOrigHashBuckets},
        {"Hash Batches", Key::kHashBatches},
        {"Original Hash Batches", Key::kOrigHashBatches},
        {"Peak Memory Usage", Key::kPeakMemory},
        {"Planned Partitions", Key::kPlannedPartitions},
        {"HashAgg Batches", Key::kHashAggBatches},
        {"Disk Usage", Key::kDiskUsage},
        {"Workers Planned", Key::kWorkersPlanned},
        {"Workers Launched", Key::kWorkersLaunched},
        {"Subplans Removed", Key::kSubplansRemoved},
        {"Plans", Key::kPlans},
        {"WAL Records", Key::kWalRecords},
        {"WAL FPI", Key::kWalFpi},
        {"WAL Bytes", Key::kWalBytes},
        {"Async Capable", Key::kAsyncCapable},
        {"Inner Unique", Key::kInnerUnique},
        {"Shared Hit Blocks", Key::kSharedHit},
        {"Shared Read Blocks", Key::kSharedRead},
        {"Shared Dirtied Blocks", Key::kSharedDirtied},
        {"Shared Written Blocks", Key::kSharedWritten},
        {"Local Hit Blocks", Key::kLocalHit},
        {"Local Read Blocks", Key::kLocalRead},
        {"Local Dirtied Blocks", Key::kLocalDirtied},
        {"Local Written Blocks", Key::kLocalWritten},
        {"Temp Read Blocks", Key::kTempRead},
        {"Temp Written Blocks", Key::kTempWritten},
        {"I/O Read Time", Key::kIoRead},
        {"Shared I/O Read Time", Key::kIoRead},
        {"I/O Write Time", Key::kIoWrite},
        {"Shared I/O Write Time", Key::kIoWrite},
    };
    KeyTable t;
    for (const auto& [name, key] : kKeys) t.Add(name, key);
    return t;
  }();
  return kTable;
}

}  // namespace

Status Reader::ReadNode(element v, const std::string& path, PlanNode* n, int depth) {
  object o;
  const std::string full = plan_->root_path_prefix + path;
  if (v.get_object().get(o) != simdjson::SUCCESS)
    return Structural(full, "a plan node must be an object, found " + TypeName(v));
  ++plan_->node_count;
  n->path = path;
  bool has_type = false;
  const auto& keys = Keys();
  for (auto f : o) {
    std::string_view k = f.key;
    element x = f.value;
    Key key;
    if (!keys.Find(k, &key)) {
      n->extra.push_back({std::string(k), simdjson::minify(x)});
      continue;
    }
    bool ok = true;
    switch (key) {
      case Key::kNodeType:
        ok = Str(x, &n->node_type);
        has_type = ok;
        break;
      case Key::kParentRelationship:
        ok = Str(x, &n->parent_relationship);
        break;
      case Key::kSubplanName:
        ok = Str(x, &n->subplan_name);
        break;
      case Key::kStrategy:
        ok = Str(x, &n->strategy);
        break;
      case Key::kJoinType:
        ok = Str(x, &n->join_type);
        break;
      case Key::kPartialMode:
        ok = Str(x, &n->partial_mode);
        break;
      case Key::kParallelAware:
        ok = x.get_bool().get(n->parallel_aware) == simdjson::SUCCESS;
        break;
      case Key::kDisabled:
        ok = x.get_bool().get(n->disabled) == simdjson::SUCCESS;
        break;
      case Key::kRelationName:
        ok = Str(x, &n->relation);
        break;
      case Key::kSchema:
        ok = Str(x, &n->schema);
        break;
      case Key::kAlias:
        ok = Str(x, &n->alias);
        break;
      case Key::kIndexName:
        ok = Str(x, &n->index_name);
        break;
      case Key::kFunctionName:
        ok = Str(x, &n->function_name);
        break;
      case Key::kCteName:
        ok = Str(x, &n->cte_name);
        break;
      case Key::kScanDirection:
        ok = Str(x, &n->scan_direction);
        break;
      case Key::kFilter:
        ok = Str(x, &n->filter);
        break;
      case Key::kIndexCond:
        ok = Str(x, &n->index_cond);
        break;
      case Key::kRecheckCond:
        ok = Str(x, &n->recheck_cond);
        break;
      case Key::kJoinFilter:
        ok = Str(x, &n->join_filter);
        break;
      case Key::kHashCond:
        ok = Str(x, &n->hash_cond);
        break;
      case Key::kMergeCond:
        ok = Str(x, &n->merge_cond);
        break;
      case Key::kSortKey:
        ok = StrList(x, &n->sort_key);
        break;
      case Key::kGroupKey:
        ok = StrList(x, &n->group_key);
        break;
      case Key::kOutput:
        ok = StrList(x, &n->output);
        break;
      case Key::kStartupCost:
        ok = Num(x, &n->startup_cost);
        break;
      case Key::kTotalCost:
        ok = Num(x, &n->total_cost);
        break;
      case Key::kPlanRows:
        ok = Num(x, &n->plan_rows);
        break;
      case Key::kPlanWidth:
        ok = Int(x, &n->plan_width);
        break;
      case Key::kActualStartup:
        ok = Num(x, &n->actual_startup_ms);
        n->has_timing = true;
        break;
      case Key::kActualTotal:
        ok = Num(x, &n->actual_total_ms);
        n->has_timing = true;
        break;
      case Key::kActualRows:
        ok = Num(x, &n->actual_rows);
        n->has_actual = true;
        break;
      case Key::kActualLoops:
        ok = Num(x, &n->actual_loops);
        n->has_actual = true;
        break;
      case Key::kRemovedFilter:
        ok = Num(x, &n->rows_removed_by_filter);
        break;
      case Key::kRemovedJoinFilter:
        ok = Num(x, &n->rows_removed_by_join_filter);
        break;
      case Key::kRemovedRecheck:
        ok = Num(x, &n->rows_removed_by_index_recheck);
        break;
      case Key::kHeapFetches:
        ok = Int(x, &n->heap_fetches);
        break;
      case Key::kIndexSearches:
        ok = Int(x, &n->index_searches);
        break;
      case Key::kExactBlocks:
        ok = Int(x, &n->exact_heap_blocks);
        break;
      case Key::kLossyBlocks:
        ok = Int(x, &n->lossy_heap_blocks);
        break;
      case Key::kSortMethod:
        ok = Str(x, &n->sort_method);
        break;
      case Key::kSortSpaceType:
        ok = Str(x, &n->sort_space_type);
        break;
      case Key::kSortSpaceUsed:
        ok = Int(x, &n->sort_space_kb);
        break;
      case Key::kHashBuckets:
        ok = Int(x, &n->hash_buckets);
        break;
      case Key::kOrigHashBuckets:
        ok = Int(x, &n->original_hash_buckets);
        break;
      case Key::kHashBatches:
        ok = Int(x, &n->hash_batches);
        break;
      case Key::kOrigHashBatches:
        ok = Int(x, &n->original_hash_batches);
        break;
      case Key::kPeakMemory:
        ok = Int(x, &n->peak_memory_kb);
        break;
      case Key::kPlannedPartitions:
        ok = Int(x, &n->planned_partitions);
        break;
      case Key::kHashAggBatches:
        ok = Int(x, &n->hashagg_batches);
        break;
      case Key::kDiskUsage:
        ok = Int(x, &n->disk_usage_kb);
        break;
      case Key::kWorkersPlanned:
        ok = Int(x, &n->workers_planned);
        break;
      case Key::kWorkersLaunched:
        ok = Int(x, &n->workers_launched);
        break;
      case Key::kSubplansRemoved:
        ok = Int(x, &n->subplans_removed);
        break;
      case Key::kWalRecords:
        ok = Int(x, &n->wal.records);
        n->wal.present = plan_->has_wal = true;
        break;
      case Key::kWalFpi:
        ok = Int(x, &n->wal.fpi);
        n->wal.present = plan_->has_wal = true;
        break;
      case Key::kWalBytes:
        ok = Int(x, &n->wal.bytes);
        n->wal.present = plan_->has_wal = true;
        break;
      case Key::kAsyncCapable:
        ok = x.get_bool().get(n->async_capable) == simdjson::SUCCESS;
        break;
      case Key::kInnerUnique:
        ok = x.get_bool().get(n->inner_unique) == simdjson::SUCCESS;
        break;
      case Key::kSharedHit:
        ok = Buf(x, &n->buffers, &n->buffers.shared_hit);
        break;
      case Key::kSharedRead:
        ok = Buf(x, &n->buffers, &n->buffers.shared_read);
        break;
      case Key::kSharedDirtied:
        ok = Buf(x, &n->buffers, &n->buffers.shared_dirtied);
        break;
      case Key::kSharedWritten:
        ok = Buf(x, &n->buffers, &n->buffers.shared_written);
        break;
      case Key::kLocalHit:
        ok = Buf(x, &n->buffers, &n->buffers.local_hit);
        break;
      case Key::kLocalRead:
        ok = Buf(x, &n->buffers, &n->buffers.local_read);
        break;
      case Key::kLocalDirtied:
        ok = Buf(x, &n->buffers, &n->buffers.local_dirtied);
        break;
      case Key::kLocalWritten:
        ok = Buf(x, &n->buffers, &n->buffers.local_written);
        break;
      case Key::kTempRead:
        ok = Buf(x, &n->buffers, &n->buffers.temp_read);
        break;
      case Key::kTempWritten:
        ok = Buf(x, &n->buffers, &n->buffers.temp_written);
        break;
      case Key::kIoRead:
        ok = Num(x, &n->buffers.io_read_ms);
        n->buffers.present = plan_->has_buffers = true;
        break;
      case Key::kIoWrite:
        ok = Num(x, &n->buffers.io_write_ms);
        n->buffers.present = plan_->has_buffers = true;
        break;
      case Key::kPlans: {
        array a;
        if (x.get_array().get(a) != simdjson::SUCCESS)
          return Structural(full + ".Plans",
                            "must be an array of plan nodes, found " + TypeName(x));
        n->children.resize(a.size());
        size_t i = 0;
        for (element c : a) {
          std::string cpath = path + ".Plans[" + std::to_string(i) + "]";
          Status st = ReadNode(c, cpath, &n->children[i], depth + 1);
          if (!st.ok()) return st;
          ++i;
        }
        break;
      }
    }
    if (!ok)
      return Structural(full + "." + std::string(k),
                        "unexpected " + TypeName(x) + " for \"" + std::string(k) + "\"");
  }
  if (!has_type) return Structural(full, "plan node has no \"Node Type\"");
  if (n->has_actual) plan_->analyzed = true;
  if (n->has_timing) plan_->has_timing = true;
  return Status::Ok();
}

}  // namespace pgvise::plan_reader
