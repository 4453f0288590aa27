#include "core/json.h"

namespace pgvise {

using json = nlohmann::ordered_json;

json ToJson(const Location& l) {
  json j = json::object();
  // docs/contracts.md: positions are 1-based and absent when unknown (a plan
  // file's findings name a node, not a line), never 0.
  if (!l.file.empty()) {
    j["file"] = l.file;
    if (l.line > 0) {
      j["line"] = l.line;
      if (l.column > 0) j["column"] = l.column;
      if (l.end_line > 0) {
        j["end_line"] = l.end_line;
        if (l.end_column > 0) j["end_column"] = l.end_column;
      }
    }
  }
  if (!l.plan_path.empty()) j["plan_path"] = l.plan_path;
  if (!l.node_type.empty()) j["node_type"] = l.node_type;
  if (!l.object.empty()) j["object"] = l.object;
  return j;
}

json ToJson(const std::vector<Evidence>& ev) {
  json j = json::object();
  for (const auto& e : ev) std::visit([&](const auto& v) { j[e.key] = v; }, e.value);
  return j;
}

json ToJson(const Finding& f) {
  json j;
  j["rule"] = f.rule;
  j["severity"] = SeverityName(f.severity);
  j["message"] = f.message;
  j["location"] = ToJson(f.location);
  j["evidence"] = ToJson(f.evidence);
  j["suggestion"] = f.suggestion;
  return j;
}

json ToJson(const QueryBenefit& b) {
  json j;
  j["fingerprint"] = b.fingerprint;
  j["query"] = b.query;
  j["calls"] = b.calls;
  j["cost_before"] = b.cost_before;
  j["cost_after"] = b.cost_after;
  return j;
}

json ToJson(const Recommendation& r) {
  json j;
  j["kind"] = RecommendationKindName(r.kind);
  j["sql"] = r.sql;
  if (!r.revert.empty()) j["revert"] = r.revert;
  if (!r.object.empty()) j["object"] = r.object;
  j["reason"] = r.reason;
  json benefit = json::array();
  for (const auto& b : r.benefit) benefit.push_back(ToJson(b));
  j["benefit"] = benefit;
  j["cost"] = {
      {"size_bytes", r.size_bytes}, {"write_overhead", r.write_overhead}, {"lock", r.lock}};
  j["confidence"] = ConfidenceName(r.confidence);
  j["evidence"] = ToJson(r.evidence);
  return j;
}

}  // namespace pgvise
