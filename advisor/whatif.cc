#include "advisor/whatif.h"

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "analyzer/plan/explain_runner.h"

namespace pgvise {

namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

void CollectIndexNames(const nlohmann::json& node, std::set<std::string>* out) {
  if (!node.is_object()) return;
  if (auto it = node.find("Index Name"); it != node.end() && it->is_string())
    out->insert(it->get<std::string>());
  if (auto it = node.find("Plans"); it != node.end() && it->is_array())
    for (const auto& c : *it) CollectIndexNames(c, out);
}

// "1.3.1" -> 10301
int VersionNumber(const std::string& v) {
  int parts[3] = {0, 0, 0};
  size_t i = 0;
  for (int k = 0; k < 3 && i < v.size(); ++k) {
    parts[k] = std::atoi(v.c_str() + i);
    i = v.find('.', i);
    if (i == std::string::npos) break;
    ++i;
  }
  return parts[0] * 10000 + parts[1] * 100 + parts[2];
}

}  // namespace

Status ReadPlanCost(const std::string& plan_json, double* total_cost,
                    std::set<std::string>* index_names) {
  auto j = nlohmann::json::parse(plan_json, nullptr, false);
  if (j.is_discarded() || !j.is_array() || j.empty() || !j[0].contains("Plan"))
    return Status::InvalidInput("EXPLAIN output is not a JSON plan");
  const auto& plan = j[0]["Plan"];
  if (!plan.contains("Total Cost") || !plan["Total Cost"].is_number())
    return Status::InvalidInput("EXPLAIN output: Plan has no Total Cost");
  *total_cost = plan["Total Cost"].get<double>();
  if (index_names) CollectIndexNames(plan, index_names);
  return Status::Ok();
}

WhatIf::WhatIf(Session& s, const Workload& w, CandidateSet* cs, const Catalog& cat)
    : s_(s), w_(w), cs_(cs), cat_(cat) {}

WhatIf::~WhatIf() { Reset(); }

Status WhatIf::Init() {
  Rows r;
  Status st = s_.Query("SELECT extversion FROM pg_extension WHERE extname = 'hypopg'", &r);
  if (!st.ok()) return st;
  if (r.empty())
    return Status::NotFound(
        "HypoPG is not installed in this database: run CREATE EXTENSION hypopg (the package is "
        "postgresql-15-hypopg on Debian); pgvise needs it to cost indexes without building them");
  hypopg_version_ = r.Text(0, 0);
  can_hide_ = VersionNumber(hypopg_version_) >= 10400;
  st = s_.Exec("SELECT hypopg_reset()");
  if (!st.ok()) return st;
  // pg_qualstats records the quals of EXPLAINed statements too: the values
  // pgvise plans with must not come back as "the application's constants"
  // on the next run. A user-level setting; harmless when it is not loaded.
  s_.Exec("SELECT set_config('pg_qualstats.enabled', 'off', false)");
  relevant_.assign(w_.statements.size(), {});
  for (size_t i = 0; i < cs_->relevant.size() && i < relevant_.size(); ++i)
    relevant_[i] = std::set<int>(cs_->relevant[i].begin(), cs_->relevant[i].end());
  ready_ = true;
  return Status::Ok();
}

void WhatIf::Reset() {
  if (!ready_) return;
  s_.Exec("SELECT hypopg_reset()");
  live_.clear();
  oid_to_candidate_.clear();
}

std::vector<int> WhatIf::Relevant(int s, const std::vector<int>& config) const {
  std::vector<int> out;
  const auto& rel = relevant_[static_cast<size_t>(s)];
  // Candidates added after Init (extensions) are relevant through CandidateSet.
  const auto& rel2 = cs_->relevant[static_cast<size_t>(s)];
  for (int c : config)
    if (rel.count(c) || std::find(rel2.begin(), rel2.end(), c) != rel2.end()) out.push_back(c);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Status WhatIf::CreateHypo(int c) {
  const IndexCandidate& cand = cs_->candidates[static_cast<size_t>(c)];
  if (!cand.whatif_supported) return Status::Unsupported("HypoPG cannot simulate " + cand.method);
  auto t0 = Clock::now();
  Rows r;
  Status st =
      s_.Query("SELECT indexrelid FROM hypopg_create_index($1)", {cand.Ddl("", false, false)}, &r);
  stats_.hypo_ms += MsSince(t0);
  if (!st.ok()) return st;
  if (r.empty()) return Status::Internal("hypopg_create_index returned nothing");
  uint32_t oid = static_cast<uint32_t>(r.Int(0, 0));
  live_[c] = oid;
  oid_to_candidate_[oid] = c;
  ++stats_.hypo_creates;
  return Status::Ok();
}

Status WhatIf::DropHypo(int c) {
  auto it = live_.find(c);
  if (it == live_.end()) return Status::Ok();
  auto t0 = Clock::now();
  Rows ignored;
  Status st = s_.Query("SELECT hypopg_drop_index($1)", {std::to_string(it->second)}, &ignored);
  stats_.hypo_ms += MsSince(t0);
  oid_to_candidate_.erase(it->second);
  live_.erase(it);
  ++stats_.hypo_drops;
  return st;
}

Status WhatIf::Materialize(const std::vector<int>& config) {
  std::vector<int> drop;
  for (const auto& [c, oid] : live_)
    if (std::find(config.begin(), config.end(), c) == config.end()) drop.push_back(c);
  for (int c : drop) {
    Status st = DropHypo(c);
    if (!st.ok()) return st;
  }
  for (int c : config) {
    if (live_.count(c)) continue;
    Status st = CreateHypo(c);
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

void WhatIf::ReadNames(const std::set<std::string>& names, PlanCost* pc) const {
  for (const auto& n : names) {
    // HypoPG names its indexes "<oid>btree_table_col".
    if (n.size() > 2 && n[0] == '<') {
      uint32_t oid = static_cast<uint32_t>(std::strtoul(n.c_str() + 1, nullptr, 10));
      if (auto it = oid_to_candidate_.find(oid); it != oid_to_candidate_.end())
        pc->candidates.insert(it->second);
    } else {
      pc->indexes.insert(n);
    }
  }
}

PlanCost WhatIf::Explain(int s) {
  if (parameters(s).custom()) return ExplainCustom(s);
  return ExplainGeneric(s);
}

PlanCost WhatIf::ExplainGeneric(int s) {
  PlanCost pc;
  std::string json;
  auto t0 = Clock::now();
  Status st =
      ExplainStatement(s_, w_.statements[static_cast<size_t>(s)].sql, ExplainOptions{}, &json);
  stats_.explain_ms += MsSince(t0);
  ++stats_.whatif_calls;
  if (!st.ok()) {
    // Not a lost connection (Session ends the command for that): this one
    // statement could not be planned, e.g. statement_timeout (57014) or a
    // table locked past lock_timeout (55P03). The run goes on without it.
    pc.error = st.message();
    pc.sqlstate = s_.last_sqlstate();
    return pc;
  }
  std::set<std::string> names;
  st = ReadPlanCost(json, &pc.cost, &names);
  if (!st.ok()) {
    pc.error = st.message();
    return pc;
  }
  ReadNames(names, &pc);
  pc.ok = true;
  return pc;
}

// The weighted mean of the custom plans over the statement's value sets;
// the indexes any of them uses count as used (the index serves those calls).
PlanCost WhatIf::ExplainCustom(int s) {
  PlanCost pc;
  const auto& sets = parameters(s).sets;
  std::vector<std::string> plans;
  auto t0 = Clock::now();
  Status st = ExplainCustomPlans(s_, w_.statements[static_cast<size_t>(s)].sql, sets, &plans);
  stats_.explain_ms += MsSince(t0);
  stats_.whatif_calls += static_cast<int64_t>(std::max<size_t>(plans.size(), 1));
  if (!st.ok()) {
    pc.error = st.message();
    pc.sqlstate = s_.last_sqlstate();
    return pc;
  }
  for (size_t i = 0; i < plans.size(); ++i) {
    double cost = 0;
    std::set<std::string> names;
    st = ReadPlanCost(plans[i], &cost, &names);
    if (!st.ok()) {
      pc.error = st.message();
      return pc;
    }
    pc.set_costs.push_back(cost);
    pc.cost += sets[i].weight * cost;
    ReadNames(names, &pc);
  }
  pc.ok = true;
  return pc;
}

void WhatIf::SetParameters(std::vector<StatementParams> params) { params_ = std::move(params); }

const StatementParams& WhatIf::parameters(int s) const {
  static const StatementParams kGeneric;
  return static_cast<size_t>(s) < params_.size() ? params_[static_cast<size_t>(s)] : kGeneric;
}

void WhatIf::UseGenericPlan(int s, const std::string& why) {
  if (static_cast<size_t>(s) >= params_.size()) return;
  auto& p = params_[static_cast<size_t>(s)];
  p.sets.clear();
  p.generic_reason = why;
  const std::string prefix = std::to_string(s) + ":";
  for (auto it = cache_.lower_bound(prefix); it != cache_.end() && it->first.rfind(prefix, 0) == 0;)
    it = cache_.erase(it);
}

PlanCost WhatIf::GenericBaseline(int s) {
  PlanCost pc;
  Status st = Materialize({});
  if (!st.ok()) {
    pc.error = st.message();
    return pc;
  }
  return ExplainGeneric(s);
}

const PlanCost& WhatIf::Cost(int s, const std::vector<int>& config) {
  std::vector<int> rel = Relevant(s, config);
  std::string key = std::to_string(s) + ":";
  for (int c : rel) key += std::to_string(c) + ",";
  if (auto it = cache_.find(key); it != cache_.end()) {
    ++stats_.cache_hits;
    return it->second;
  }
  PlanCost pc;
  Status st = Materialize(rel);
  if (!st.ok()) {
    pc.error = st.message();
    pc.sqlstate = s_.last_sqlstate();
  } else {
    pc = Explain(s);
  }
  if (!pc.ok && !rel.empty()) {
    ++stats_.failed_calls;
    if (stats_.first_failure.empty()) stats_.first_failure = pc.error;
  }
  return cache_[key] = pc;
}

PlanCost WhatIf::CostHiding(int s, const std::vector<int>& config,
                            const std::vector<uint32_t>& hidden) {
  PlanCost pc;
  if (!can_hide_) {
    pc.error = "HypoPG " + hypopg_version_ + " has no hypopg_hide_index (1.4+)";
    return pc;
  }
  Status st = Materialize(Relevant(s, config));
  if (!st.ok()) {
    pc.error = st.message();
    return pc;
  }
  Rows r;
  for (uint32_t oid : hidden) {
    // A plan with the index still visible would be costed as if hidden.
    st = s_.Query("SELECT hypopg_hide_index($1)", {std::to_string(oid)}, &r);
    if (!st.ok()) {
      pc.error = "cannot hide index " + std::to_string(oid) + ": " + st.message();
      pc.sqlstate = s_.last_sqlstate();
      for (uint32_t o : hidden) s_.Query("SELECT hypopg_unhide_index($1)", {std::to_string(o)}, &r);
      return pc;
    }
  }
  pc = Explain(s);
  for (uint32_t oid : hidden) s_.Query("SELECT hypopg_unhide_index($1)", {std::to_string(oid)}, &r);
  return pc;
}

int64_t WhatIf::HypopgSize(int c) {
  if (auto it = hypo_size_.find(c); it != hypo_size_.end()) return it->second;
  const IndexCandidate& cand = cs_->candidates[static_cast<size_t>(c)];
  int64_t bytes = 0;
  if (cand.whatif_supported) {
    bool created = false;
    if (!live_.count(c)) {
      created = CreateHypo(c).ok();
    }
    if (auto it = live_.find(c); it != live_.end()) {
      auto t0 = Clock::now();
      Rows r;
      if (s_.Query("SELECT hypopg_relation_size($1)", {std::to_string(it->second)}, &r).ok() &&
          !r.empty())
        bytes = r.Int(0, 0);
      stats_.hypo_ms += MsSince(t0);
    }
    if (created) DropHypo(c);
  }
  hypo_size_[c] = bytes;
  return bytes;
}

int64_t WhatIf::Size(int c) {
  if (auto it = size_.find(c); it != size_.end()) return it->second;
  const IndexCandidate& cand = cs_->candidates[static_cast<size_t>(c)];
  int64_t raw = HypopgSize(c);
  const TableInfo* t = cat_.FindTable(cand.schema, cand.table);
  int64_t bytes = t ? DedupCorrectedSize(*t, cand, raw) : raw;
  return size_[c] = std::max<int64_t>(bytes, cat_.block_size());  // one page: no index is free
}

}  // namespace pgvise
