#include "advisor/whatif.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "advisor/index_size.h"
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
                    std::set<std::string>* index_names, double* rows) {
  auto j = nlohmann::json::parse(plan_json, nullptr, false);
  if (j.is_discarded() || !j.is_array() || j.empty() || !j[0].contains("Plan"))
    return Status::InvalidInput("EXPLAIN output is not a JSON plan");
  const auto& plan = j[0]["Plan"];
  if (!plan.contains("Total Cost") || !plan["Total Cost"].is_number())
    return Status::InvalidInput("EXPLAIN output: Plan has no Total Cost");
  *total_cost = plan["Total Cost"].get<double>();
  if (index_names) CollectIndexNames(plan, index_names);
  if (rows) {
    const auto* counted = &plan;
    if (plan.value("Node Type", "") == "ModifyTable" && plan.contains("Plans") &&
        plan["Plans"].is_array() && !plan["Plans"].empty())
      counted = &plan["Plans"][0];
    *rows = counted->contains("Plan Rows") && (*counted)["Plan Rows"].is_number()
                ? (*counted)["Plan Rows"].get<double>()
                : 0;
  }
  return Status::Ok();
}

WhatIf::WhatIf(Session& s, const Workload& w, CandidateSet* cs, const Catalog& cat)
    : s_(s), w_(w), cs_(cs), cat_(cat) {
  backends_.emplace_back();
  backends_[0].session = &s_;
}

WhatIf::~WhatIf() { Reset(); }

void WhatIf::AddWorkers(const std::vector<Session*>& sessions) {
  for (Session* s : sessions) {
    if (s == nullptr || s == &s_) continue;
    backends_.emplace_back();
    backends_.back().session = s;
  }
}

void WhatIf::NameServers(const std::string& primary_conninfo) {
  std::vector<std::string> replicas;  // conninfo, in order of appearance
  for (auto& b : backends_) {
    const std::string& conninfo = b.session->options().conninfo;
    if (conninfo == primary_conninfo) {
      b.server = "primary";
      continue;
    }
    auto it = std::find(replicas.begin(), replicas.end(), conninfo);
    if (it == replicas.end()) it = replicas.insert(replicas.end(), conninfo);
    b.server = "replica " + std::to_string(it - replicas.begin() + 1);
  }
}

const WhatIfStats& WhatIf::stats() const {
  merged_ = stats_;
  merged_.whatif_calls = merged_.hypo_creates = merged_.hypo_drops = 0;
  merged_.explain_ms = merged_.hypo_ms = 0;
  merged_.by_connection.clear();
  for (const auto& b : backends_) {
    merged_.by_connection.push_back({"job " + std::to_string(merged_.by_connection.size() + 1),
                                     b.server, b.stats.whatif_calls});
    merged_.whatif_calls += b.stats.whatif_calls;
    merged_.hypo_creates += b.stats.hypo_creates;
    merged_.hypo_drops += b.stats.hypo_drops;
    merged_.explain_ms += b.stats.explain_ms;
    merged_.hypo_ms += b.stats.hypo_ms;
  }
  return merged_;
}

// Every connection starts with no hypothetical index, and without
// pg_qualstats recording the values pgvise plans with: they must not come
// back as "the application's constants" on the next run (a user-level
// setting; harmless when it is not loaded).
Status WhatIf::StartBackend(Backend& b) {
  Status st = b.session->Exec("SELECT hypopg_reset()");
  if (!st.ok()) return st;
  b.session->Exec("SELECT set_config('pg_qualstats.enabled', 'off', false)");
  return Status::Ok();
}

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
  for (auto& b : backends_) {
    st = StartBackend(b);
    if (!st.ok()) return Status::Database(b.session->masked_conninfo() + ": " + st.message());
  }
  param_count_.clear();
  for (const auto& ws : w_.statements) {
    int n = -1;
    if (!CountParams(ws.sql, &n).ok()) n = -1;  // ExplainBatch reports the error
    param_count_.push_back({ws.sql, n});
  }
  relevant_.assign(w_.statements.size(), {});
  for (size_t i = 0; i < cs_->relevant.size() && i < relevant_.size(); ++i)
    relevant_[i] = std::set<int>(cs_->relevant[i].begin(), cs_->relevant[i].end());
  ready_ = true;
  return Status::Ok();
}

void WhatIf::Reset() {
  if (!ready_) return;
  for (auto& b : backends_) {
    b.session->Exec("SELECT hypopg_reset()");
    b.live.clear();
    b.oid_to_candidate.clear();
  }
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

std::string WhatIf::Key(int s, const std::vector<int>& relevant) const {
  std::string key = std::to_string(s) + ":";
  for (int c : relevant) key += std::to_string(c) + ",";
  return key;
}

Status WhatIf::CreateHypo(Backend& b, int c) {
  const IndexCandidate& cand = cs_->candidates[static_cast<size_t>(c)];
  if (!cand.whatif_supported) return Status::Unsupported("HypoPG cannot simulate " + cand.method);
  auto t0 = Clock::now();
  Rows r;
  Status st = b.session->Query("SELECT indexrelid FROM hypopg_create_index($1)",
                               {cand.Ddl("", false, false)}, &r);
  b.stats.hypo_ms += MsSince(t0);
  if (!st.ok()) return st;
  if (r.empty()) return Status::Internal("hypopg_create_index returned nothing");
  uint32_t oid = static_cast<uint32_t>(r.Int(0, 0));
  b.live[c] = oid;
  b.oid_to_candidate[oid] = c;
  ++b.stats.hypo_creates;
  return Status::Ok();
}

Status WhatIf::DropHypo(Backend& b, int c) {
  auto it = b.live.find(c);
  if (it == b.live.end()) return Status::Ok();
  auto t0 = Clock::now();
  Rows ignored;
  Status st =
      b.session->Query("SELECT hypopg_drop_index($1)", {std::to_string(it->second)}, &ignored);
  b.stats.hypo_ms += MsSince(t0);
  b.oid_to_candidate.erase(it->second);
  b.live.erase(it);
  ++b.stats.hypo_drops;
  return st;
}

// The drops and creates go out in one pipeline (a matrix step swaps one
// hypothetical index for another: two round trips become one); a single
// change takes the plain path.
Status WhatIf::Materialize(Backend& b, const std::vector<int>& config) {
  std::vector<int> drop, create;
  for (const auto& [c, oid] : b.live)
    if (std::find(config.begin(), config.end(), c) == config.end()) drop.push_back(c);
  for (int c : config)
    if (!b.live.count(c)) create.push_back(c);
  if (drop.size() + create.size() <= 1) {
    for (int c : drop) {
      Status st = DropHypo(b, c);
      if (!st.ok()) return st;
    }
    for (int c : create) {
      Status st = CreateHypo(b, c);
      if (!st.ok()) return st;
    }
    return Status::Ok();
  }
  for (int c : create)
    if (!cs_->candidates[static_cast<size_t>(c)].whatif_supported)
      return CreateHypo(b, c);  // its Unsupported message
  std::vector<Session::Step> steps;
  for (int c : drop) {
    Session::Step st;
    st.sql = "SELECT hypopg_drop_index(" + std::to_string(b.live.at(c)) + ")";
    st.own_transaction = false;
    steps.push_back(std::move(st));
  }
  for (int c : create) {
    Session::Step st;
    st.sql = "SELECT indexrelid FROM hypopg_create_index(" +
             QuoteLiteral(cs_->candidates[static_cast<size_t>(c)].Ddl("", false, false)) + ")";
    st.own_transaction = false;
    steps.push_back(std::move(st));
  }
  auto t0 = Clock::now();
  Status sent = b.session->Pipeline(&steps);
  b.stats.hypo_ms += MsSince(t0);
  if (!sent.ok()) return sent;
  Status first = Status::Ok();
  std::string first_sqlstate;
  for (size_t i = 0; i < drop.size(); ++i) {
    const uint32_t oid = b.live.at(drop[i]);
    b.oid_to_candidate.erase(oid);
    b.live.erase(drop[i]);
    ++b.stats.hypo_drops;
    if (first.ok() && !steps[i].status.ok()) {
      first = steps[i].status;
      first_sqlstate = steps[i].sqlstate;
    }
  }
  for (size_t i = 0; i < create.size(); ++i) {
    const Session::Step& st = steps[drop.size() + i];
    if (!st.status.ok() || st.rows.empty()) {
      if (first.ok())
        first =
            st.status.ok() ? Status::Internal("hypopg_create_index returned nothing") : st.status;
      continue;
    }
    const uint32_t oid = static_cast<uint32_t>(st.rows.Int(0, 0));
    b.live[create[i]] = oid;
    b.oid_to_candidate[oid] = create[i];
    ++b.stats.hypo_creates;
  }
  b.session->set_last_sqlstate(first_sqlstate);  // what the callers report
  return first;
}

void WhatIf::ReadNames(const Backend& b, const std::set<std::string>& names, PlanCost* pc) const {
  for (const auto& n : names) {
    // HypoPG names its indexes "<oid>btree_table_col".
    if (n.size() > 2 && n[0] == '<') {
      uint32_t oid = static_cast<uint32_t>(std::strtoul(n.c_str() + 1, nullptr, 10));
      if (auto it = b.oid_to_candidate.find(oid); it != b.oid_to_candidate.end())
        pc->candidates.insert(it->second);
    } else {
      pc->indexes.insert(n);
    }
  }
}

PlanCost WhatIf::Explain(Backend& b, int s) { return ExplainMany(b, {s}, false)[0]; }

// One pipeline for the lot (ExplainBatch): a statement with value sets is
// the weighted mean of its custom plans, and the indexes any of them uses
// count as used (the index serves those calls); the others one plan, as
// written or generic. A statement that could not be planned is not ok, with
// its error and SQLSTATE (not a lost connection: Session ends the command
// for that), e.g. statement_timeout (57014) or a table locked past
// lock_timeout (55P03); the run goes on without it.
std::vector<PlanCost> WhatIf::ExplainMany(Backend& b, const std::vector<int>& statements,
                                          bool generic) {
  std::vector<ExplainJob> jobs;
  jobs.reserve(statements.size());
  for (int s : statements) {
    const WorkloadStatement& ws = w_.statements[static_cast<size_t>(s)];
    // The $n count parsed once in Init, unless the text changed since.
    int params = static_cast<size_t>(s) < param_count_.size() &&
                         param_count_[static_cast<size_t>(s)].first == ws.sql
                     ? param_count_[static_cast<size_t>(s)].second
                     : -1;
    if (!generic && parameters(s).custom()) {
      jobs.push_back(CustomPlansJob(ws.sql, params, parameters(s).sets));
    } else {
      ExplainJob job;
      job.sql = ws.sql;
      job.params = params;
      jobs.push_back(std::move(job));
    }
  }
  auto t0 = Clock::now();
  Status sent = ExplainBatch(*b.session, ExplainOptions{}, &jobs);
  b.stats.explain_ms += MsSince(t0);
  std::vector<PlanCost> out(statements.size());
  for (size_t i = 0; i < jobs.size(); ++i) {
    const ExplainJob& job = jobs[i];
    PlanCost& pc = out[i];
    b.stats.whatif_calls += static_cast<int64_t>(std::max<size_t>(job.value_sets.size(), 1));
    if (!sent.ok() || !job.status.ok()) {
      pc.error = sent.ok() ? job.status.message() : sent.message();
      pc.sqlstate = job.sqlstate;
      continue;
    }
    const auto* sets = job.value_sets.empty() ? nullptr : &parameters(statements[i]).sets;
    for (size_t k = 0; k < job.plans.size(); ++k) {
      double cost = 0, rows = 0;
      std::set<std::string> names;
      Status st = ReadPlanCost(job.plans[k], &cost, &names, &rows);
      if (!st.ok()) {
        pc.error = st.message();
        break;
      }
      if (sets) {
        pc.set_costs.push_back(cost);
        pc.set_rows.push_back(rows);
        pc.cost += (*sets)[k].weight * cost;
      } else {
        pc.cost = cost;
      }
      ReadNames(b, names, &pc);
    }
    pc.ok = pc.error.empty();
  }
  return out;
}

void WhatIf::SetParameters(std::vector<StatementParams> params) { params_ = std::move(params); }

const StatementParams& WhatIf::parameters(int s) const {
  static const StatementParams kGeneric;
  return static_cast<size_t>(s) < params_.size() ? params_[static_cast<size_t>(s)] : kGeneric;
}

bool WhatIf::FitToRecordedRows(int s) {
  if (static_cast<size_t>(s) >= params_.size()) return false;
  StatementParams& p = params_[static_cast<size_t>(s)];
  const double recorded = w_.statements[static_cast<size_t>(s)].rows;
  auto base = cache_.find(Key(s, {}));
  if (!p.custom() || recorded <= 0 || base == cache_.end() || !base->second.ok) return false;
  if (!FitWeightsToRows(base->second.set_rows, recorded, &p)) return false;
  // Every cached answer of `s` is the weighted mean of its sets' costs:
  // recomputed with the new weights, no EXPLAIN again.
  const std::string prefix = std::to_string(s) + ":";
  for (auto it = cache_.lower_bound(prefix); it != cache_.end() && it->first.rfind(prefix, 0) == 0;
       ++it) {
    PlanCost& pc = it->second;
    if (!pc.ok || pc.set_costs.size() != p.sets.size()) continue;
    pc.cost = 0;
    for (size_t k = 0; k < p.sets.size(); ++k) pc.cost += p.sets[k].weight * pc.set_costs[k];
  }
  return true;
}

void WhatIf::UseGenericPlan(int s, const std::string& why) {
  if (static_cast<size_t>(s) >= params_.size()) return;
  auto& p = params_[static_cast<size_t>(s)];
  p.sets.clear();
  p.generic_reason = why;
  const std::string prefix = std::to_string(s) + ":";
  for (auto it = cache_.lower_bound(prefix); it != cache_.end() && it->first.rfind(prefix, 0) == 0;)
    it = cache_.erase(it);
  usage_.Forget(s);
}

PlanCost WhatIf::GenericBaseline(int s) {
  PlanCost pc;
  Status st = Materialize(main(), {});
  if (!st.ok()) {
    pc.error = st.message();
    return pc;
  }
  return ExplainMany(main(), {s}, true)[0];
}

PlanCost WhatIf::CostUncached(int s, const std::vector<int>& config) {
  PlanCost pc;
  Status st = Materialize(main(), Relevant(s, config));
  if (!st.ok()) {
    pc.error = st.message();
    return pc;
  }
  return Explain(main(), s);
}

const PlanCost& WhatIf::Cost(int s, const std::vector<int>& config) {
  std::vector<int> rel = Relevant(s, config);
  std::string key = Key(s, rel);
  if (auto it = cache_.find(key); it != cache_.end()) {
    ++stats_.cache_hits;
    return it->second;
  }
  if (const PlanCost* known = usage_.Infer(s, rel)) {
    ++stats_.cache_hits;
    ++stats_.inferred;
    return cache_[key] = *known;
  }
  PlanCost pc;
  Status st = Materialize(main(), rel);
  if (!st.ok()) {
    pc.error = st.message();
    pc.sqlstate = s_.last_sqlstate();
  } else {
    pc = Explain(main(), s);
  }
  if (!pc.ok && !rel.empty()) {
    ++stats_.failed_calls;
    if (stats_.first_failure.empty()) stats_.first_failure = pc.error;
  }
  const PlanCost& stored = cache_[key] = std::move(pc);
  usage_.Remember(s, rel, &stored);
  return stored;
}

// A worker's unit: materialize the configuration once, then every
// statement in one pipeline.
void WhatIf::RunTask(Backend& b, Task& t) {
  Status st = Materialize(b, t.config);
  if (st.ok()) {
    t.costs = ExplainMany(b, t.statements, false);
  } else {
    PlanCost pc;
    pc.error = st.message();
    pc.sqlstate = b.session->last_sqlstate();
    t.costs.assign(t.statements.size(), pc);
  }
  if (t.size_of >= 0 && st.ok()) t.hypo_size = ReadHypoSize(b, t.size_of);
}

// Tasks go to the connections as they become free (an atomic cursor); each
// thread writes only its own Backend and the tasks it took, and the cache is
// filled on this thread after the join, in task order, so nothing about the
// result depends on which connection ran what. A lost connection ends the
// command (Session throws); the first such error is rethrown here.
void WhatIf::Prefetch(std::vector<Task> tasks) {
  if (tasks.empty()) return;
  std::atomic<size_t> next{0};
  std::exception_ptr failure;
  std::mutex failure_mu;
  auto work = [&](Backend& b) {
    try {
      for (size_t i = next++; i < tasks.size(); i = next++) RunTask(b, tasks[i]);
    } catch (...) {
      std::lock_guard<std::mutex> lock(failure_mu);
      if (!failure) failure = std::current_exception();
      next = tasks.size();
    }
  };
  std::vector<std::thread> threads;  // none for a single task: it runs here
  for (size_t k = 1; k < backends_.size() && tasks.size() > 1; ++k)
    threads.emplace_back(work, std::ref(backends_[k]));
  work(main());
  for (auto& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);
  for (auto& t : tasks) {
    for (size_t i = 0; i < t.statements.size(); ++i) {
      const int s = t.statements[i];
      PlanCost& pc = t.costs[i];
      if (!pc.ok && !t.config.empty()) {
        ++stats_.failed_calls;
        if (stats_.first_failure.empty()) stats_.first_failure = pc.error;
      }
      auto [it, fresh] = cache_.emplace(Key(s, t.config), std::move(pc));
      if (fresh) usage_.Remember(s, t.config, &it->second);  // as Cost does
    }
    if (t.size_of >= 0 && !hypo_size_.count(t.size_of)) hypo_size_[t.size_of] = t.hypo_size;
  }
}

// Cost's own steps (the cache, then inference) decide what still needs an
// EXPLAIN; what does is grouped by its relevant configuration. A group is
// cut into one chunk per connection (at least kMinChunk statements each, so
// a chunk pays for materializing its configuration), and the chunks go out
// as Prefetch tasks: one pipeline each, the cache filled after the join.
void WhatIf::CostAll(const std::vector<int>& config) {
  std::vector<int> all(w_.statements.size());
  for (size_t s = 0; s < all.size(); ++s) all[s] = static_cast<int>(s);
  CostMany(all, config);
}

void WhatIf::CostMany(const std::vector<int>& statements, const std::vector<int>& config) {
  constexpr size_t kMinChunk = 4;
  std::map<std::vector<int>, std::vector<int>> groups;  // relevant config -> statements
  std::set<std::string> asked;
  for (int s : statements) {
    std::vector<int> rel = Relevant(s, config);
    std::string key = Key(s, rel);
    if (cache_.count(key) || !asked.insert(key).second) continue;
    if (usage_.Infer(s, rel)) continue;  // Cost answers it without an EXPLAIN
    groups[rel].push_back(s);
  }
  size_t pending = 0;
  for (const auto& [rel, stmts] : groups) pending += stmts.size();
  if (pending == 0) return;
  std::vector<Task> tasks;
  for (auto& [rel, stmts] : groups) {
    const size_t chunks = std::max<size_t>(1, std::min(backends_.size(), stmts.size() / kMinChunk));
    const size_t per = (stmts.size() + chunks - 1) / chunks;
    for (size_t i = 0; i < stmts.size(); i += per) {
      Task t;
      t.config = rel;
      t.statements.assign(
          stmts.begin() + static_cast<std::ptrdiff_t>(i),
          stmts.begin() + static_cast<std::ptrdiff_t>(std::min(stmts.size(), i + per)));
      tasks.push_back(std::move(t));
    }
  }
  Prefetch(std::move(tasks));
}

void WhatIf::PrefetchMatrix() {
  if (backends_.size() < 2) return;
  std::map<int, std::vector<int>> by_candidate;  // candidate -> statements it is relevant to
  for (int s = 0; s < static_cast<int>(relevant_.size()); ++s) {
    // A statement that cannot be planned as it is gets no what-if (the
    // selection leaves it out too).
    auto base = cache_.find(Key(s, {}));
    if (base == cache_.end() || !base->second.ok) continue;
    for (int c : relevant_[static_cast<size_t>(s)]) {
      if (!cs_->candidates[static_cast<size_t>(c)].whatif_supported) continue;
      if (!cache_.count(Key(s, {c}))) by_candidate[c].push_back(s);
    }
  }
  std::vector<Task> tasks;
  for (auto& [c, statements] : by_candidate) {
    Task t;
    t.config = {c};
    t.statements = std::move(statements);
    if (!hypo_size_.count(c)) t.size_of = c;
    tasks.push_back(std::move(t));
  }
  Prefetch(std::move(tasks));
}

PlanCost WhatIf::CostHiding(int s, const std::vector<int>& config,
                            const std::vector<uint32_t>& hidden) {
  PlanCost pc;
  if (!can_hide_) {
    pc.error = "HypoPG " + hypopg_version_ + " has no hypopg_hide_index (1.4+)";
    return pc;
  }
  Status st = Materialize(main(), Relevant(s, config));
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
  pc = Explain(main(), s);
  for (uint32_t oid : hidden) s_.Query("SELECT hypopg_unhide_index($1)", {std::to_string(oid)}, &r);
  return pc;
}

// hypopg_relation_size of a candidate the backend holds (0 if it does not).
int64_t WhatIf::ReadHypoSize(Backend& b, int c) {
  auto it = b.live.find(c);
  if (it == b.live.end()) return 0;
  auto t0 = Clock::now();
  Rows r;
  int64_t bytes = 0;
  if (b.session->Query("SELECT hypopg_relation_size($1)", {std::to_string(it->second)}, &r).ok() &&
      !r.empty())
    bytes = r.Int(0, 0);
  b.stats.hypo_ms += MsSince(t0);
  return bytes;
}

int64_t WhatIf::HypopgSize(int c) {
  if (auto it = hypo_size_.find(c); it != hypo_size_.end()) return it->second;
  const IndexCandidate& cand = cs_->candidates[static_cast<size_t>(c)];
  int64_t bytes = 0;
  if (cand.whatif_supported) {
    bool created = false;
    if (!main().live.count(c)) created = CreateHypo(main(), c).ok();
    bytes = ReadHypoSize(main(), c);
    if (created) DropHypo(main(), c);
  }
  hypo_size_[c] = bytes;
  return bytes;
}

int64_t WhatIf::Size(int c) {
  if (auto it = size_.find(c); it != size_.end()) return it->second;
  const IndexCandidate& cand = cs_->candidates[static_cast<size_t>(c)];
  int64_t raw = HypopgSize(c);
  const TableInfo* t = cat_.FindTable(cand.schema, cand.table);
  // HypoPG's B-tree size is 1.4-2.6x the built one (advisor/index_size.h
  // says why); the budget is spent in built bytes.
  int64_t bytes = t ? EstimateIndexBytes(*t, cand, raw, cat_.block_size(), &Measured(*t)) : raw;
  return size_[c] = std::max<int64_t>(bytes, cat_.block_size());  // one page: no index is free
}

const MeasuredDistinct& WhatIf::Measured(const TableInfo& t) {
  const TableKey key{t.schema, t.name};
  if (auto it = measured_.find(key); it != measured_.end()) return it->second;
  std::set<std::string> keys;  // the B-tree key columns of the table's candidates
  for (const auto& c : cs_->candidates)
    if (c.method == "btree" && c.schema == t.schema && c.table == t.name)
      for (const auto& k : c.keys)
        if (!k.column.empty()) keys.insert(k.column);
  MeasuredDistinct m;
  // A failure (statement_timeout, a permission) keeps pg_stats' counts.
  if (!MeasureClusteredDistinct(s_, t, keys, cat_.block_size(), &m).ok()) m.clear();
  return measured_[key] = std::move(m);
}

Status OpenWhatIfSessions(const SessionOptions& main, int jobs,
                          const std::vector<std::string>& replicas,
                          std::vector<std::unique_ptr<Session>>* out) {
  out->clear();
  if (jobs < 1)
    return Status::InvalidInput("--jobs " + std::to_string(jobs) +
                                ": expected at least 1 connection");
  const int n = std::max(jobs, static_cast<int>(replicas.size()));
  if (n == 1 && replicas.empty()) return Status::Ok();
  for (int i = 0; i < n; ++i) {
    SessionOptions so = main;
    so.read_only = true;
    if (!replicas.empty()) so.conninfo = replicas[static_cast<size_t>(i) % replicas.size()];
    std::unique_ptr<Session> s;
    Status st = Session::Connect(so, &s);
    if (!st.ok()) return st;
    out->push_back(std::move(s));
  }
  return Status::Ok();
}

}  // namespace pgvise
