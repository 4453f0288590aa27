// Reading EXPLAIN JSON, the query level: ReadPlan peels psql's decoration off
// first (analyzer/plan/plan_psql.cc, keeping a map back to the original lines
// for error messages), then simdjson parses the JSON into its DOM
// (bench/plan.md: ~20x faster than nlohmann::json on real plans) and one pass
// over the DOM fills the typed tree: this file reads the top-level keys
// (Planning, Triggers, JIT, Settings) and says where an error is;
// analyzer/plan/plan_node_reader.cc reads each plan node, dispatching on each
// key once through a hash table. simdjson's DOM keeps no positions: when
// reading fails, analyzer/plan/plan_json.h scans the (rare) failed text again
// to say where, as file:line:col.
#include "analyzer/plan/plan.h"

#include <simdjson.h>

#include <string_view>

#include "analyzer/plan/plan_json.h"
#include "analyzer/plan/plan_reader.h"

namespace pgvise::plan_reader {

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

std::string Reader::WhereByte(size_t offset) const {
  LineCol lc = PositionIn(src_, *json_, map_, offset);
  return src_.path() + ":" + std::to_string(lc.line) + ":" + std::to_string(lc.column);
}

// simdjson says only that the text is malformed; FindJsonSyntaxError
// (analyzer/plan/plan_json.h) finds where: just after the last complete value
// when a token is missing, at the token when a wrong one is there.
Status Reader::SyntaxError(simdjson::error_code code) const {
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
Status Reader::Structural(const std::string& path, const std::string& what) const {
  size_t at = FindJsonPath(*json_, path);
  std::string where = at == std::string::npos ? src_.path() : WhereByte(at);
  return Status::InvalidInput(where + ": " + (path.empty() ? "<root>" : path) + ": " + what);
}

Status Reader::ReadTop(element doc, Plan* out) {
  object query;
  std::string prefix;
  array arr;
  if (doc.get_array().get(arr) == simdjson::SUCCESS) {
    if (arr.size() == 0) return Structural("[]", "empty array: no plan in it");
    element first;
    if (arr.at(0).get(first) != simdjson::SUCCESS ||
        first.get_object().get(query) != simdjson::SUCCESS)
      return Structural("[0]", "expected an object with a \"Plan\" key, found " + TypeName(first));
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

std::string Reader::TypeName(element e) {
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

bool Reader::ApplyBuffer(std::string_view k, double d, Buffers* b) {
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

Status Reader::ReadTriggers(element v, const std::string& path, Plan* out) {
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
double Reader::JitTime(element e) {
  double d = -1;
  if (Num(e, &d)) return d;
  object o;
  if (e.get_object().get(o) == simdjson::SUCCESS) {
    element t;
    if (o["Total"].get(t) == simdjson::SUCCESS && Num(t, &d)) return d;
  }
  return -1;
}

Status Reader::ReadJit(element v, const std::string& path, Plan* out) {
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

}  // namespace pgvise::plan_reader

namespace pgvise {

using plan_reader::PositionIn;
using plan_reader::Reader;
using simdjson::dom::element;

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