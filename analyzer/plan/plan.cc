// Reading EXPLAIN JSON: psql decoration is peeled off first (keeping a map
// back to the original lines for error messages), then simdjson parses the
// JSON into its DOM (bench/plan.md: ~20x faster than nlohmann::json on real
// plans) and one pass over the DOM fills the typed tree, dispatching on each
// key once through a hash table. simdjson's DOM keeps no positions: when
// reading fails, analyzer/plan/plan_json.h scans the (rare) failed text again to
// say where, as file:line:col.
#include "analyzer/plan/plan.h"

#include <simdjson.h>

#include <cstdint>
#include <string_view>

#include "analyzer/plan/plan_json.h"

namespace pgvise {

namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

// A JSON number as an int64 counter; out-of-range values saturate (a cast
// would be undefined behaviour, and plans come from users).
int64_t ToInt64(double d) {
  if (!(d > -9.2e18)) return d != d ? 0 : INT64_MIN;
  if (d > 9.2e18) return INT64_MAX;
  return static_cast<int64_t>(d);
}

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}
std::string_view TrimLeft(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

// "(1 row)", "(12 rows)".
bool IsRowCountFooter(std::string_view line) {
  line = TrimRight(TrimLeft(line));
  if (line.size() < 7 || line.front() != '(' || line.back() != ')') return false;
  size_t i = 1;
  while (i < line.size() && line[i] >= '0' && line[i] <= '9') ++i;
  if (i == 1) return false;
  std::string_view rest = line.substr(i);
  return rest == " row)" || rest == " rows)";
}

bool IsDashes(std::string_view line) {
  line = TrimRight(line);
  if (line.empty()) return false;
  for (char c : line)
    if (c != '-' && c != '+') return false;
  return true;
}

}  // namespace

bool UnwrapPsqlOutput(const std::string& text, std::string* json,
                      std::vector<std::pair<int, int>>* line_map) {
  // Fast path: JSON as EXPLAIN prints it starts with '[' or '{'; only psql
  // output needs the line split below.
  size_t lead = text.find_first_not_of(" \t\r\n");
  if (lead == std::string::npos || text[lead] == '[' || text[lead] == '{') return false;
  std::vector<std::string_view> lines;
  {
    std::string_view all(text);
    size_t start = 0;
    while (start <= all.size()) {
      size_t nl = all.find('\n', start);
      if (nl == std::string_view::npos) nl = all.size();
      lines.push_back(all.substr(start, nl - start));
      start = nl + 1;
    }
  }
  size_t i = 0;
  while (i < lines.size() && TrimRight(TrimLeft(lines[i])).empty()) ++i;
  if (i == lines.size()) return false;
  std::string_view first = TrimRight(TrimLeft(lines[i]));
  if (first.front() == '[' || first.front() == '{') return false;

  json->clear();
  line_map->clear();
  auto emit = [&](size_t line_index, std::string_view body, size_t col_offset) {
    body = TrimRight(body);
    if (!body.empty() && body.back() == '+') body = TrimRight(body.substr(0, body.size() - 1));
    json->append(body);
    json->push_back('\n');
    line_map->push_back({static_cast<int>(line_index + 1), static_cast<int>(col_offset)});
  };

  // Expanded display (\x): "-[ RECORD 1 ]---", then "QUERY PLAN | [ +" and
  // "           |   { +" lines.
  if (first.substr(0, 9) == "-[ RECORD") {
    ++i;
    if (i >= lines.size()) return false;
    size_t bar = lines[i].find("| ");
    if (bar == std::string_view::npos || TrimRight(lines[i].substr(0, bar)) != "QUERY PLAN")
      return false;
    for (; i < lines.size(); ++i) {
      std::string_view l = lines[i];
      if (l.substr(0, 9) == "-[ RECORD" || IsRowCountFooter(l)) break;
      if (TrimRight(l).empty()) continue;
      if (l.size() < bar + 1 || l[bar] != '|') return false;
      emit(i, l.substr(std::min(l.size(), bar + 2)), bar + 2);
    }
    return !json->empty();
  }

  // Aligned (default) or unaligned (-A): a "QUERY PLAN" header line, a dashes
  // line (aligned only), the value with "+" continuations, "(1 row)".
  if (first.substr(0, 10) != "QUERY PLAN") return false;
  ++i;
  bool aligned = i < lines.size() && IsDashes(lines[i]);
  if (aligned) ++i;
  for (; i < lines.size(); ++i) {
    std::string_view l = lines[i];
    if (IsRowCountFooter(l)) break;
    size_t off = 0;
    if (aligned && !l.empty() && l.front() == ' ') off = 1;
    emit(i, l.substr(off), off);
  }
  return !json->empty();
}

namespace {

// Where byte `offset` of `json` is in the text the user gave: the same place
// when `json` is that text, else through psql's line map (original line,
// column offset of the unwrapped line). Columns count UTF-8 code points.
LineCol PositionIn(const SourceText& src, const std::string& json,
                   const std::vector<std::pair<int, int>>* map, size_t offset) {
  if (!map) return src.At(offset);
  int line = 0;
  size_t line_start = 0;
  for (size_t i = 0; i < offset && i < json.size(); ++i)
    if (json[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  int chars = 0;
  for (size_t i = line_start; i < offset && i < json.size(); ++i)
    if ((static_cast<unsigned char>(json[i]) & 0xC0) != 0x80) ++chars;
  bool mapped = line < static_cast<int>(map->size());
  LineCol lc;
  lc.line = mapped ? (*map)[line].first : line + 1;
  lc.column = chars + (mapped ? (*map)[line].second : 0) + 1;
  return lc;
}

class Reader {
 public:
  Reader(const SourceText& src, const std::string* json,
         const std::vector<std::pair<int, int>>* map)
      : src_(src), json_(json), map_(map) {}

  std::string WhereByte(size_t offset) const {
    LineCol lc = PositionIn(src_, *json_, map_, offset);
    return src_.path() + ":" + std::to_string(lc.line) + ":" + std::to_string(lc.column);
  }

  // simdjson says only that the text is malformed; FindJsonSyntaxError
  // (analyzer/plan/plan_json.h) finds where: just after the last complete value
  // when a token is missing, at the token when a wrong one is there.
  Status SyntaxError(simdjson::error_code code) const {
    JsonSyntaxError e = FindJsonSyntaxError(*json_);
    // Errors the scanner does not model (invalid UTF-8, a number out of
    // range): simdjson's own words, without a position rather than a wrong one.
    if (!e.found)
      return Status::InvalidInput(src_.path() +
                                  ": invalid EXPLAIN JSON: " + simdjson::error_message(code));
    return Status::InvalidInput(WhereByte(e.offset) + ": invalid EXPLAIN JSON: " + e.message);
  }

  // JSON that parses but is not a plan: the path says which value, and the
  // position of that value in the text says where to look.
  Status Structural(const std::string& path, const std::string& what) const {
    size_t at = FindJsonPath(*json_, path);
    std::string where = at == std::string::npos ? src_.path() : WhereByte(at);
    return Status::InvalidInput(where + ": " + (path.empty() ? "<root>" : path) + ": " + what);
  }

  Status ReadTop(element doc, Plan* out) {
    object query;
    std::string prefix;
    array arr;
    if (doc.get_array().get(arr) == simdjson::SUCCESS) {
      if (arr.size() == 0) return Structural("[]", "empty array: no plan in it");
      element first;
      if (arr.at(0).get(first) != simdjson::SUCCESS ||
          first.get_object().get(query) != simdjson::SUCCESS)
        return Structural("[0]",
                          "expected an object with a \"Plan\" key, found " + TypeName(first));
      prefix = "[0].";
    } else if (doc.get_object().get(query) != simdjson::SUCCESS) {
      return Structural("", "expected EXPLAIN (FORMAT JSON) output, found a JSON " + TypeName(doc));
    }
    out->root_path_prefix = prefix;
    element plan_el;
    if (query["Plan"].get(plan_el) != simdjson::SUCCESS)
      return Structural(
          prefix.empty() ? "" : "[0]",
          "not an EXPLAIN plan: no \"Plan\" key (is this EXPLAIN (FORMAT JSON) output?)");
    plan_ = out;
    for (auto field : query) {
      std::string_view k = field.key;
      element v = field.value;
      std::string kpath = prefix + std::string(k);
      if (k == "Plan") {
        Status st = ReadNode(v, "Plan", &out->root, 0);
        if (!st.ok()) return st;
      } else if (k == "Planning Time") {
        if (!Num(v, &out->planning_ms)) return Structural(kpath, "must be a number");
      } else if (k == "Execution Time") {
        if (!Num(v, &out->execution_ms)) return Structural(kpath, "must be a number");
      } else if (k == "Planning") {
        object po;
        if (v.get_object().get(po) != simdjson::SUCCESS)
          return Structural(kpath, "must be an object");
        for (auto pf : po) {
          double d;
          if (Num(pf.value, &d) && ApplyBuffer(pf.key, d, &out->planning_buffers)) continue;
          out->extra.push_back({"Planning." + std::string(pf.key), simdjson::minify(pf.value)});
        }
      } else if (k == "Triggers") {
        Status st = ReadTriggers(v, kpath, out);
        if (!st.ok()) return st;
      } else if (k == "JIT") {
        Status st = ReadJit(v, kpath, out);
        if (!st.ok()) return st;
      } else if (k == "Settings") {
        object so;
        if (v.get_object().get(so) != simdjson::SUCCESS)
          return Structural(kpath, "must be an object");
        for (auto sf : so) {
          std::string_view sv;
          out->settings[std::string(sf.key)] = sf.value.get_string().get(sv) == simdjson::SUCCESS
                                                   ? std::string(sv)
                                                   : simdjson::minify(sf.value);
        }
      } else {
        out->extra.push_back({std::string(k), simdjson::minify(v)});
      }
    }
    out->has_buffers = out->has_buffers || out->planning_buffers.present;
    return Status::Ok();
  }

 private:
  static std::string TypeName(element e) {
    switch (e.type()) {
      case simdjson::dom::element_type::ARRAY:
        return "array";
      case simdjson::dom::element_type::OBJECT:
        return "object";
      case simdjson::dom::element_type::STRING:
        return "string";
      case simdjson::dom::element_type::BOOL:
        return "boolean";
      case simdjson::dom::element_type::NULL_VALUE:
        return "null";
      default:
        return "number";
    }
  }

  static bool Num(element e, double* out) { return e.get_double().get(*out) == simdjson::SUCCESS; }
  static bool Int(element e, int64_t* out) {
    if (e.get_int64().get(*out) == simdjson::SUCCESS) return true;
    double d;
    if (e.get_double().get(d) != simdjson::SUCCESS) return false;
    *out = ToInt64(d);
    return true;
  }
  static bool Str(element e, std::string* out) {
    std::string_view sv;
    if (e.get_string().get(sv) != simdjson::SUCCESS) return false;
    out->assign(sv);
    return true;
  }
  static bool StrList(element e, std::vector<std::string>* out) {
    array a;
    if (e.get_array().get(a) != simdjson::SUCCESS) return false;
    for (element x : a) {
      std::string_view sv;
      if (x.get_string().get(sv) != simdjson::SUCCESS) return false;
      out->emplace_back(sv);
    }
    return true;
  }

  bool Buf(element e, Buffers* b, int64_t* out) {
    b->present = true;
    plan_->has_buffers = true;
    return Int(e, out);
  }

  static bool ApplyBuffer(std::string_view k, double d, Buffers* b) {
    int64_t v = ToInt64(d);
    if (k == "Shared Hit Blocks")
      b->shared_hit = v;
    else if (k == "Shared Read Blocks")
      b->shared_read = v;
    else if (k == "Shared Dirtied Blocks")
      b->shared_dirtied = v;
    else if (k == "Shared Written Blocks")
      b->shared_written = v;
    else if (k == "Local Hit Blocks")
      b->local_hit = v;
    else if (k == "Local Read Blocks")
      b->local_read = v;
    else if (k == "Local Dirtied Blocks")
      b->local_dirtied = v;
    else if (k == "Local Written Blocks")
      b->local_written = v;
    else if (k == "Temp Read Blocks")
      b->temp_read = v;
    else if (k == "Temp Written Blocks")
      b->temp_written = v;
    else if (k == "I/O Read Time" || k == "Shared I/O Read Time")
      b->io_read_ms = d;
    else if (k == "I/O Write Time" || k == "Shared I/O Write Time")
      b->io_write_ms = d;
    else
      return false;
    b->present = true;
    return true;
  }

  Status ReadTriggers(element v, const std::string& path, Plan* out) {
    array a;
    if (v.get_array().get(a) != simdjson::SUCCESS) return Structural(path, "must be an array");
    size_t i = 0;
    for (element t : a) {
      object o;
      std::string tpath = path + "[" + std::to_string(i++) + "]";
      if (t.get_object().get(o) != simdjson::SUCCESS) return Structural(tpath, "must be an object");
      Trigger tr;
      for (auto f : o) {
        if (f.key == "Trigger Name")
          Str(f.value, &tr.name);
        else if (f.key == "Constraint Name")
          Str(f.value, &tr.constraint_name);
        else if (f.key == "Relation")
          Str(f.value, &tr.relation);
        else if (f.key == "Time")
          Num(f.value, &tr.time_ms);
        else if (f.key == "Calls")
          Num(f.value, &tr.calls);
      }
      out->triggers.push_back(std::move(tr));
    }
    return Status::Ok();
  }

  // PG17 turned "Generation" into {"Deform": x, "Total": y}; older versions
  // give a number.
  static double JitTime(element e) {
    double d = -1;
    if (Num(e, &d)) return d;
    object o;
    if (e.get_object().get(o) == simdjson::SUCCESS) {
      element t;
      if (o["Total"].get(t) == simdjson::SUCCESS && Num(t, &d)) return d;
    }
    return -1;
  }

  Status ReadJit(element v, const std::string& path, Plan* out) {
    object o;
    if (v.get_object().get(o) != simdjson::SUCCESS) return Structural(path, "must be an object");
    out->jit.present = true;
    for (auto f : o) {
      if (f.key == "Functions") {
        Int(f.value, &out->jit.functions);
      } else if (f.key == "Options") {
        object opts;
        if (f.value.get_object().get(opts) == simdjson::SUCCESS)
          for (auto of : opts) {
            bool b = false;
            if (of.value.get_bool().get(b) == simdjson::SUCCESS)
              out->jit.options[std::string(of.key)] = b;
          }
      } else if (f.key == "Timing") {
        object tim;
        if (f.value.get_object().get(tim) != simdjson::SUCCESS)
          return Structural(path + ".Timing", "must be an object");
        for (auto tf : tim) {
          double d = JitTime(tf.value);
          if (tf.key == "Generation")
            out->jit.generation_ms = d;
          else if (tf.key == "Inlining")
            out->jit.inlining_ms = d;
          else if (tf.key == "Optimization")
            out->jit.optimization_ms = d;
          else if (tf.key == "Emission")
            out->jit.emission_ms = d;
          else if (tf.key == "Total")
            out->jit.total_ms = d;
        }
      }
    }
    return Status::Ok();
  }

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

  Status ReadNode(element v, const std::string& path, PlanNode* n, int depth) {
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

  const SourceText& src_;
  const std::string* json_;
  const std::vector<std::pair<int, int>>* map_;
  Plan* plan_ = nullptr;
};

}  // namespace

Status ReadPlan(const SourceText& src, Plan* out) {
  const std::string& text = src.text();
  std::string unwrapped;
  std::vector<std::pair<int, int>> line_map;
  bool psql = UnwrapPsqlOutput(text, &unwrapped, &line_map);
  const std::string& json = psql ? unwrapped : text;

  size_t first = json.find_first_not_of(" \t\r\n");
  if (first == std::string::npos)
    return Status::InvalidInput(src.path() + ": empty input: no EXPLAIN plan");
  Reader reader(src, &json, psql ? &line_map : nullptr);
  if (json[first] != '[' && json[first] != '{')
    return Status::InvalidInput(reader.WhereByte(first) +
                                ": not EXPLAIN (FORMAT JSON) output: expected '[' or '{'");

  // The parser keeps its buffers between calls (one per thread): reading many
  // plans, as review --db does, then costs no allocation per plan.
  thread_local simdjson::dom::parser parser;
  element doc;
  simdjson::error_code err = parser.parse(json).get(doc);
  if (err != simdjson::SUCCESS) return reader.SyntaxError(err);
  *out = Plan();
  return reader.ReadTop(doc, out);
}

bool LocatePlanNode(const SourceText& src, const std::string& node_path, LineCol* out) {
  std::string unwrapped;
  std::vector<std::pair<int, int>> line_map;
  bool psql = UnwrapPsqlOutput(src.text(), &unwrapped, &line_map);
  const std::string& json = psql ? unwrapped : src.text();
  size_t first = json.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return false;
  const std::string path = (json[first] == '[' ? "[0]." : "") + node_path;
  // The node's type is what a reader looks for on that line; the node's
  // opening brace is the fallback (a node without "Node Type" is not read).
  size_t at = FindJsonPath(json, path + ".Node Type");
  if (at == std::string::npos) at = FindJsonPath(json, path);
  if (at == std::string::npos) return false;
  *out = PositionIn(src, json, psql ? &line_map : nullptr, at);
  return true;
}

}  // namespace pgvise
