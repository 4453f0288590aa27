// The plans behind generic-plan-trap: what AdvisePatterns asks the server
// for the `$n` statements whose costs alone suggest a trap, either side.
//
// The rare-value side needs only shapes: the generic plan, and each value
// set's custom plan (node types with relations and indexes), because its
// costs are already in the advise run's costing.
//
// The common-value side needs one more number: what the generic plan costs
// when it runs with the common value. EXPLAIN of a generic plan is costed at
// the average selectivity, never at a value, and PostgreSQL has no way to
// plan a given shape for given values. What it does have is enable_*: with
// the node types the value's custom plan chose kept off (enable_seqscan =
// off when the custom plan is a Seq Scan and the generic plan is not), the
// planner's next-best plan for that value is costed with that value. When
// that plan has the generic plan's shape, its cost is the generic plan's
// cost at the common value; when it has yet another shape, the node types
// that differ are kept off as well and the planner is asked again (a few
// rounds). When no setting reaches the generic shape, nothing is claimed.
//
// Worked example (advisor/patterns_pg_test.cc, PostgreSQL 15): 60,000 orders
// of 800-byte rows, half of them for customer 0, the rest over 30,000
// customers. The generic plan of `customer_id = $1` assumes 4 rows: Index
// Scan using orders_customer, cost 20. The other customers' own plans are the
// same Index Scan, so the generic plan is kept. Customer 0's own plan is a
// Seq Scan, cost 7,417. With enable_seqscan off the planner offers a Bitmap
// Heap Scan (7,482: yet another shape); with enable_bitmapscan off as well,
// the Index Scan, cost 25,925: every call for customer 0 runs a plan the
// planner prices at 3.5x its own. (Estimates: on that table, cached, the two
// ran in 33 and 36 ms; the random reads the planner charges for are real on
// a table that is not in memory.)
//
// Nothing here writes: PREPARE / EXPLAIN EXECUTE in rolled-back read-only
// transactions (ExplainCustomPlans), the settings restored after each ask,
// also after a failure.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "advisor/parameters.h"
#include "advisor/patterns_internal.h"
#include "analyzer/plan/explain_runner.h"
#include "analyzer/plan/plan.h"
#include "core/source.h"

namespace pgvise::patterns_detail {

namespace {

bool Read(const std::string& plan_json, Plan* plan) {
  return ReadPlan(SourceText("plan", plan_json), plan).ok();
}

std::string Shape(const Plan& plan) {
  std::string out;
  ForEachNode(plan.root, [&](const PlanNode& n) {
    out += (out.empty() ? "" : ", ") + n.node_type;
    if (!n.index_name.empty()) out += " using " + n.index_name;
    if (!n.relation.empty()) out += " on " + n.relation;
  });
  return out;
}

std::string Shape(const std::string& plan_json) {
  Plan plan;
  return Read(plan_json, &plan) ? Shape(plan) : "";
}

std::set<std::string> NodeTypes(const Plan& plan) {
  std::set<std::string> out;
  ForEachNode(plan.root, [&](const PlanNode& n) { out.insert(n.node_type); });
  return out;
}

// The setting that keeps the planner off a node type ("" for a type no
// setting governs: then the generic shape cannot be forced).
std::string SettingOff(const std::string& node_type) {
  static const std::map<std::string, std::string> kOff = {
      {"Seq Scan", "enable_seqscan"},
      {"Index Scan", "enable_indexscan"},
      {"Index Only Scan", "enable_indexonlyscan"},
      {"Bitmap Heap Scan", "enable_bitmapscan"},
      {"Bitmap Index Scan", "enable_bitmapscan"},
      {"Tid Scan", "enable_tidscan"},
      {"Nested Loop", "enable_nestloop"},
      {"Hash Join", "enable_hashjoin"},
      {"Merge Join", "enable_mergejoin"},
      {"Sort", "enable_sort"},
      {"Incremental Sort", "enable_incremental_sort"},
      {"Material", "enable_material"},
      {"Memoize", "enable_memoize"},
      {"Gather", "max_parallel_workers_per_gather"},
      {"Gather Merge", "max_parallel_workers_per_gather"},
  };
  auto it = kOff.find(node_type);
  return it == kOff.end() ? "" : it->second;
}

// Adds the settings that keep `have` types off the generic plan's types.
// False when one of them has no setting.
bool KeepOff(const std::set<std::string>& have, const std::set<std::string>& generic,
             std::set<std::string>* settings) {
  for (const auto& t : have) {
    if (generic.count(t)) continue;
    const std::string s = SettingOff(t);
    if (s.empty()) return false;
    settings->insert(s);
  }
  return true;
}

// One custom plan of `sql` for `set` with `settings` off, then every setting
// put back as it was.
Status ExplainWith(Session& session, const std::string& sql, const ParamSet& set,
                   const std::set<std::string>& settings, Plan* plan) {
  std::vector<std::pair<std::string, std::string>> old;
  Status st = Status::Ok();
  for (const auto& name : settings) {
    Rows r;
    st = session.Query("SELECT current_setting(" + QuoteLiteral(name) + ")", &r);
    if (!st.ok() || r.empty()) break;
    old.emplace_back(name, r.Text(0, 0));
    const std::string off = name == "max_parallel_workers_per_gather" ? "0" : "off";
    st = session.Exec("SELECT set_config(" + QuoteLiteral(name) + ", " + QuoteLiteral(off) +
                      ", false)");
    if (!st.ok()) break;
  }
  std::vector<std::string> plans;
  if (st.ok()) st = ExplainCustomPlans(session, sql, {set}, &plans);
  for (const auto& [name, value] : old) {
    Status restore = session.Exec("SELECT set_config(" + QuoteLiteral(name) + ", " +
                                  QuoteLiteral(value) + ", false)");
    if (st.ok() && !restore.ok()) st = restore;
  }
  if (!st.ok()) return st;
  if (plans.empty() || !Read(plans.front(), plan)) return Status::Database("no plan read");
  return Status::Ok();
}

// The generic plan's shape costed with `set`'s values (see the top of the
// file), or -1.
double ForcedGenericCost(Session& session, const std::string& sql, const ParamSet& set,
                         const Plan& generic, const Plan& custom) {
  const std::set<std::string> generic_types = NodeTypes(generic);
  const std::string want = Shape(generic);
  std::set<std::string> settings;
  if (!KeepOff(NodeTypes(custom), generic_types, &settings)) return -1;
  constexpr int kRounds = 4;  // each round keeps at least one more type off
  for (int round = 0; round < kRounds && !settings.empty(); ++round) {
    Plan forced;
    if (!ExplainWith(session, sql, set, settings, &forced).ok()) return -1;
    if (Shape(forced) == want) return forced.root.total_cost;
    const size_t before = settings.size();
    if (!KeepOff(NodeTypes(forced), generic_types, &settings) || settings.size() == before)
      return -1;  // another shape the settings cannot steer away from
  }
  return -1;
}

}  // namespace

void AskPlanShapes(Session& session, const Catalog& catalog, const Workload& workload,
                   const AdviseOptions& opts, const Rule& rule, const AdviseReport& rep,
                   std::map<int, PlanShapes>* out) {
  for (const StatementOutcome& st : rep.statements) {
    const std::vector<size_t> common = CommonTrapCandidates(st, rule);
    if (TrapCandidate(st, rule) < 0 && common.empty()) continue;
    if (st.index < 0 || static_cast<size_t>(st.index) >= workload.statements.size()) continue;
    const WorkloadStatement& ws = workload.statements[static_cast<size_t>(st.index)];
    const StatementParams params =
        DeriveParameters(ws, catalog, workload.qual_constants, opts.parameters);
    if (params.sets.size() != st.value_sets.size()) continue;
    std::string generic_json;
    std::vector<std::string> plans;
    if (!ExplainStatement(session, ws.sql, ExplainOptions{}, &generic_json).ok()) continue;
    if (!ExplainCustomPlans(session, ws.sql, params.sets, &plans).ok()) continue;
    Plan generic;
    if (!Read(generic_json, &generic)) continue;
    PlanShapes sh;
    sh.generic = Shape(generic);
    for (const auto& p : plans) sh.custom.push_back(Shape(p));
    sh.generic_cost_at.assign(plans.size(), -1);
    for (size_t i : common) {
      Plan custom;
      if (i >= plans.size() || !Read(plans[i], &custom) || sh.custom[i] == sh.generic) continue;
      sh.generic_cost_at[i] = ForcedGenericCost(session, ws.sql, params.sets[i], generic, custom);
    }
    if (!sh.generic.empty()) (*out)[st.index] = std::move(sh);
  }
}

}  // namespace pgvise::patterns_detail
