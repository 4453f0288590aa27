// Internal to the EXPLAIN reader: the one pass over simdjson's DOM that fills
// a Plan, split by level — analyzer/plan/plan.cc reads the query level
// (Planning, Triggers, JIT, Settings) and places errors, analyzer/plan/
// plan_node_reader.cc reads the plan nodes. Not for other files: they call
// ReadPlan (analyzer/plan/plan.h).
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "analyzer/plan/plan.h"
#include "core/source.h"
#include "core/status.h"

namespace pgvise::plan_reader {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

// A JSON number as an int64 counter; out-of-range values saturate (a cast
// would be undefined behaviour, and plans come from users).
inline int64_t ToInt64(double d) {
  if (!(d > -9.2e18)) return d != d ? 0 : INT64_MIN;
  if (d > 9.2e18) return INT64_MAX;
  return static_cast<int64_t>(d);
}

// Where byte `offset` of `json` is in the text the user gave: the same place
// when `json` is that text, else through psql's line map (original line,
// column offset of the unwrapped line). Columns count UTF-8 code points.
LineCol PositionIn(const SourceText& src, const std::string& json,
                   const std::vector<std::pair<int, int>>* map, size_t offset);

class Reader {
 public:
  Reader(const SourceText& src, const std::string* json,
         const std::vector<std::pair<int, int>>* map)
      : src_(src), json_(json), map_(map) {}

  std::string WhereByte(size_t offset) const;
  // simdjson says only that the text is malformed; this says where.
  Status SyntaxError(simdjson::error_code code) const;
  // JSON that parses but is not a plan: the path says which value.
  Status Structural(const std::string& path, const std::string& what) const;
  // The query-level object (plan.cc).
  Status ReadTop(element doc, Plan* out);
  // One plan node and its children (plan_node_reader.cc).
  Status ReadNode(element v, const std::string& path, PlanNode* n, int depth);

 private:
  static std::string TypeName(element e);

  // The value readers, inline: the node reader calls them for every field.
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

  static bool ApplyBuffer(std::string_view k, double d, Buffers* b);
  Status ReadTriggers(element v, const std::string& path, Plan* out);
  static double JitTime(element e);
  Status ReadJit(element v, const std::string& path, Plan* out);

  const SourceText& src_;
  const std::string* json_;
  const std::vector<std::pair<int, int>>* map_;
  Plan* plan_ = nullptr;
};

}  // namespace pgvise::plan_reader
