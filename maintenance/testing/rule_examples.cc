#include "maintenance/testing/rule_examples.h"

#include <sstream>

namespace pgvise {

bool IsLiveExample(const RuleExample& ex) { return ex.context.count("setup") > 0; }

MaintainOptions ExampleOptions(const RuleExample& ex) {
  MaintainOptions o;
  auto it = ex.context.find("options");
  if (it == ex.context.end()) return o;
  std::istringstream ss(it->second);
  std::string kv;
  while (ss >> kv) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos) continue;
    std::string k = kv.substr(0, eq), v = kv.substr(eq + 1);
    if (k == "memory") o.memory_bytes = ParseMemorySize(v);
    if (k == "cpus") o.cpus = std::stoi(v);
    if (k == "storage") o.storage = v;
    if (k == "workload") o.workload = v;
    if (k == "exact") o.exact = v == "true";
  }
  return o;
}

bool JudgeExample(const HealthSnapshot& snap, const Rule& rule, const RuleExample& ex,
                  std::string* detail) {
  std::vector<PlanItem> items = RunRule(snap, rule, ExampleOptions(ex));
  auto obj = ex.context.find("object");
  bool fired = false;
  std::string d;
  for (const auto& it : items) {
    d += "  " + it.rec.object + ": " + it.rec.sql + " -- " + it.rec.reason + "\n";
    if (obj == ex.context.end() || it.rec.object == obj->second) fired = true;
  }
  if (detail) *detail = d.empty() ? "  (no items)\n" : d;
  return fired;
}

Status RunFixtureExample(const Rule& rule, const RuleExample& ex, bool* fired,
                         std::string* detail) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(ex.text);
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidInput(rule.path + ": example " + ex.name + ": " + e.what());
  }
  HealthSnapshot snap;
  Status st = SnapshotFromJson(j, &snap);
  if (!st.ok())
    return Status::InvalidInput(rule.path + ": example " + ex.name + ": " + st.message());
  *fired = JudgeExample(snap, rule, ex, detail);
  return Status::Ok();
}

}  // namespace pgvise
