#include "advisor/advisor.h"

#include "advisor/ext_statistics.h"
#include "advisor/matview.h"
#include "advisor/partition.h"
#include "advisor/patterns.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>

#include "advisor/existing.h"
#include "catalog/lookups.h"
#include "core/session.h"

namespace pgvise {

Status ParseBudget(const std::string& text, int64_t* bytes, double* percent) {
  *bytes = -1;
  *percent = -1;
  if (text.empty()) return Status::Ok();
  const std::string forms =
      "expected a size in bytes (123456) or with a unit B, kB, MB, GB, TB (500MB, 2GB), or a "
      "percentage of the tables' data (20%)";
  // Only a plain decimal number (strtod would also read "inf", "nan", hex
  // and leading blanks), then the unit.
  size_t n = 0;
  while (n < text.size() && (std::isdigit(static_cast<unsigned char>(text[n])) || text[n] == '.'))
    ++n;
  if (n > 0 && n < text.size() && (text[n] == 'e' || text[n] == 'E')) {
    size_t m = n + 1;
    if (m < text.size() && (text[m] == '+' || text[m] == '-')) ++m;
    if (m < text.size() && std::isdigit(static_cast<unsigned char>(text[m]))) {
      n = m;
      while (n < text.size() && std::isdigit(static_cast<unsigned char>(text[n]))) ++n;
    }
  }
  const std::string number = text.substr(0, n);
  char* end = nullptr;
  double v = std::strtod(number.c_str(), &end);
  if (n == 0 || end != number.c_str() + n || !std::isfinite(v) || v < 0)
    return Status::InvalidInput("--budget " + text + ": " + forms +
                                (text[0] == '-' ? "; a budget cannot be negative" : ""));
  std::string unit = text.substr(n);
  for (auto& ch : unit) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (unit == "%") {
    *percent = v;
    return Status::Ok();
  }
  static const std::map<std::string, double> kUnits = {{"", 1},
                                                       {"B", 1},
                                                       {"KB", 1024.0},
                                                       {"K", 1024.0},
                                                       {"MB", 1048576.0},
                                                       {"M", 1048576.0},
                                                       {"GB", 1073741824.0},
                                                       {"G", 1073741824.0},
                                                       {"TB", 1099511627776.0},
                                                       {"KIB", 1024.0},
                                                       {"MIB", 1048576.0},
                                                       {"GIB", 1073741824.0}};
  auto it = kUnits.find(unit);
  if (it == kUnits.end())
    return Status::InvalidInput("--budget " + text + ": unknown unit '" + text.substr(n) + "'; " +
                                forms);
  // A double holds int64's largest value only approximately: compare below
  // 2^63 (exactly representable) so the cast below cannot overflow.
  const double b = v * it->second;
  if (!std::isfinite(b) || b >= 9223372036854775808.0)
    return Status::InvalidInput("--budget " + text +
                                ": too large (the most is 8 EB, 2^63 - 1 bytes); " + forms);
  *bytes = static_cast<int64_t>(b);
  return Status::Ok();
}

// --- WhatIfOracle ----------------------------------------------------------

WhatIfOracle::WhatIfOracle(WhatIf& wi, const AdviseOptions& o) : wi_(wi), o_(o) {
  base_ok_.assign(wi_.workload().statements.size(), false);
  for (int s = 0; s < num_statements(); ++s) base_ok_[static_cast<size_t>(s)] = wi_.Cost(s, {}).ok;
}

int WhatIfOracle::num_statements() const {
  return static_cast<int>(wi_.workload().statements.size());
}
int WhatIfOracle::num_candidates() const {
  return static_cast<int>(wi_.candidates().candidates.size());
}
double WhatIfOracle::Calls(int s) const {
  return wi_.workload().statements[static_cast<size_t>(s)].calls;
}
bool WhatIfOracle::Costed(int s) const { return base_ok_[static_cast<size_t>(s)]; }

std::vector<int> WhatIfOracle::StatementsFor(int c) const {
  std::vector<int> out;
  const auto& rel = wi_.candidates().relevant;
  for (size_t s = 0; s < rel.size(); ++s)
    if (base_ok_[s] && std::find(rel[s].begin(), rel[s].end(), c) != rel[s].end())
      out.push_back(static_cast<int>(s));
  return out;
}

double WhatIfOracle::Cost(int s, const std::vector<int>& config) {
  if (!base_ok_[static_cast<size_t>(s)]) return 0;  // not plannable: out of the sums
  const PlanCost& pc = wi_.Cost(s, config);
  if (pc.ok) return pc.cost;
  return wi_.Cost(s, {}).cost;  // the configuration could not be built: no change
}

int64_t WhatIfOracle::Size(int c) { return wi_.Size(c); }

double WhatIfOracle::TableWrites(const std::string& schema, const std::string& table) const {
  std::string source = o_.write_source;
  const Workload& w = wi_.workload();
  if (source == "none") return 0;
  if (source == "auto") source = w.from_pg_stat_statements ? "stats" : "workload";
  const TableInfo* t = wi_.catalog().FindTable(schema, table);
  if (source == "stats") {
    // Counters since the table statistics' reset, scaled to the period
    // pg_stat_statements' calls cover when both are known.
    if (!t) return 0;
    double rows = static_cast<double>(
        std::max<int64_t>(t->n_tup_ins + t->n_tup_upd - t->n_tup_hot_upd + t->n_tup_del, 0));
    if (w.pgss_period_s > 0 && t->stats_age_s > 0)
      rows *= std::min(1.0, w.pgss_period_s / t->stats_age_s);
    return rows;
  }
  double sum = 0;
  for (const auto& [name, rows] : w.table_writes)
    if (wi_.catalog().FindTable(name) == t) sum += rows;
  return sum;
}

double WhatIfOracle::WriteOverhead(int c) {
  const IndexCandidate& cand = wi_.candidates().candidates[static_cast<size_t>(c)];
  double per_row = o_.write_cost_per_row;
  // BRIN summarises page ranges: an insert rarely touches it. A partial
  // index sees only the rows its predicate keeps (unknown: assume half).
  if (cand.method == "brin") per_row *= 0.05;
  if (!cand.predicate.empty()) per_row *= 0.5;
  return TableWrites(cand.schema, cand.table) * per_row;
}

int WhatIfOracle::KeyWidth(int c) const {
  return static_cast<int>(wi_.candidates().candidates[static_cast<size_t>(c)].keys.size());
}

bool WhatIfOracle::IsSingleColumnPredicateIndex(int c) const {
  const IndexCandidate& cand = wi_.candidates().candidates[static_cast<size_t>(c)];
  return cand.method == "btree" && cand.keys.size() == 1 && cand.include.empty() &&
         cand.predicate.empty() && cand.keys[0].expression.empty() &&
         cand.keys[0].opclass.empty() &&
         (cand.origin == "equality" || cand.origin == "range" || cand.origin == "join");
}

std::vector<int> WhatIfOracle::Extensions(int c) {
  CandidateSet& cs = wi_.candidates();
  IndexCandidate base = cs.candidates[static_cast<size_t>(c)];
  if (base.method != "btree" || static_cast<int>(base.keys.size()) >= o_.candidates.max_key_columns)
    return {};
  std::vector<int> stmts = StatementsFor(c);
  // The columns worth appending: keys of candidates for the same table that
  // serve the statements this index serves.
  std::vector<CandidateKey> pool;
  for (int s : stmts)
    for (int d : cs.relevant[static_cast<size_t>(s)]) {
      const IndexCandidate& other = cs.candidates[static_cast<size_t>(d)];
      if (other.schema != base.schema || other.table != base.table || other.method != "btree")
        continue;
      for (const auto& k : other.keys) {
        bool have = false;
        for (const auto& x : base.keys)
          have |= (x.column == k.column && x.expression == k.expression);
        for (const auto& x : pool) have |= (x == k);
        if (!have) pool.push_back(k);
      }
    }
  std::vector<int> out;
  // Richer candidates already generated: same predicate, c's keys as their
  // prefix (a covering variant, or a longer composite the generator built).
  for (int s : stmts)
    for (int d : cs.relevant[static_cast<size_t>(s)]) {
      if (d == c || std::find(out.begin(), out.end(), d) != out.end()) continue;
      const IndexCandidate& other = cs.candidates[static_cast<size_t>(d)];
      if (other.schema != base.schema || other.table != base.table || other.method != base.method ||
          other.predicate != base.predicate || other.keys.size() < base.keys.size())
        continue;
      if (!std::equal(base.keys.begin(), base.keys.end(), other.keys.begin())) continue;
      if (other.keys.size() == base.keys.size() && other.include.size() <= base.include.size())
        continue;
      out.push_back(d);
    }
  const TableInfo* t = wi_.catalog().FindTable(base.schema, base.table);
  for (const auto& k : pool) {
    IndexCandidate ext = base;
    ext.keys.push_back(k);
    if (k.expression.empty())
      ext.include.erase(std::remove(ext.include.begin(), ext.include.end(), k.column),
                        ext.include.end());
    ext.origin = base.origin + "+extended";
    if (t && ExistingIndexProvides(*t, ext)) continue;
    size_t before = cs.candidates.size();
    int id = cs.Add(ext);
    if (cs.candidates.size() > before) {
      // Same leading key: the same statements can use it.
      for (int s : stmts) cs.relevant[static_cast<size_t>(s)].push_back(id);
    }
    if (id != c && std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  }
  return out;
}

// --- the pipeline ----------------------------------------------------------
//
// RunAdvisor is the list of steps below, in order; each step is a function
// of the run's shared state (AdviseRun) with one comment saying why it is
// there.

namespace {

using Clock = std::chrono::steady_clock;

std::string Fmt(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

// The n-th choice of name: the suggested one, then with _2, _3 ... kept
// within PostgreSQL's 63 bytes (the suggested name is plain ASCII).
constexpr int kNameTries = 9;
std::string NumberedName(const std::string& base, int n) {
  if (n == 1) return base;
  std::string stem = base.substr(0, std::min<size_t>(base.size(), 60));
  while (!stem.empty() && stem.back() == '_') stem.pop_back();
  return stem + "_" + std::to_string(n);
}

// Unique, readable index names, free of every relation name known taken.
std::string UniqueName(const Catalog& cat, const IndexCandidate& c, std::set<std::string>* taken) {
  std::string base = c.SuggestedName();
  for (int n = 1;; ++n) {
    std::string name = NumberedName(base, n);
    bool exists = taken->count(c.schema + "." + name) > 0;
    for (const auto& t : cat.tables())
      for (const auto& i : t.indexes) exists |= (i.schema == c.schema && i.name == name);
    if (!exists) {
      taken->insert(c.schema + "." + name);
      return name;
    }
  }
}

// What the steps share.
struct AdviseRun {
  AdviseRun(Session& s, const Catalog& c, const Workload& w, const AdviseOptions& o)
      : session(s), catalog(c), workload(w), opts(o), selection(o.selection) {}
  Session& session;
  const Catalog& catalog;
  Workload workload;  // a copy: PrepareWorkload edits it
  const AdviseOptions& opts;
  SelectionOptions selection;  // opts.selection with --budget N% resolved
  CandidateSet cs;
  std::unique_ptr<WhatIf> wi;
  std::unique_ptr<WhatIfOracle> oracle;
  std::vector<int> chosen;
  std::set<std::string> names_taken;
  AdviseReport rep;

  void Say(const std::string& m) const {
    if (selection.progress) selection.progress(m);
  }
};

// Columns written without their alias in a multi-table statement get their
// relation from the catalog, or their predicates could not become candidates
// (before the constants step, which matches by table and column, and again
// after it for the statements it re-parsed). pg_stat_statements normalises
// constants away; where pg_qualstats saw a rare one, the statement is costed
// with it so a partial index can count.
void PrepareWorkload(AdviseRun& run) {
  Workload& w = run.workload;
  const CandidateOptions& co = run.opts.candidates;
  int resolved = 0;
  for (auto& ws : w.statements) resolved += ResolveColumns(run.catalog, &ws.facts);
  ApplyQualConstants(run.catalog, co.rare_value_frequency, co.partial_max_distinct, &w);
  for (auto& ws : w.statements) resolved += ResolveColumns(run.catalog, &ws.facts);
  if (resolved > 0)
    w.notes.push_back(std::to_string(resolved) +
                      " unqualified column reference(s) in multi-table statements "
                      "resolved to their table through the catalog");
  AdviseReport& rep = run.rep;
  rep.skipped_utility = w.skipped_utility;
  rep.skipped_unparsable = w.skipped_unparsable;
  rep.skipped_other = w.skipped_other;
  rep.merged_duplicates = w.merged_duplicates;
  rep.notes = w.notes;
  // Tables another session holds locked: read from pg_class, not silently used.
  rep.notes.insert(rep.notes.end(), run.catalog.notes().begin(), run.catalog.notes().end());
  if (run.opts.budget_percent >= 0)
    run.selection.budget_bytes = static_cast<int64_t>(
        static_cast<double>(run.catalog.TotalTableBytes()) * run.opts.budget_percent / 100.0);
  rep.budget_bytes = run.selection.budget_bytes;
  if (run.selection.max_indexes != SelectionOptions::kNoLimit)
    rep.max_indexes = run.selection.max_indexes;
}

// What could help, from the statements' facts (every query level).
void GenerateCandidatesStep(AdviseRun& run) {
  run.cs = GenerateCandidates(run.workload, run.catalog, run.opts.candidates);
  run.rep.candidates = static_cast<int>(run.cs.candidates.size());
  run.rep.candidates_skipped_existing = run.cs.skipped_existing;
  run.rep.predicates_unusable = run.cs.skipped_unusable;
  run.Say("candidates: " + std::to_string(run.cs.candidates.size()) + " for " +
          std::to_string(run.workload.statements.size()) + " statements");
}

// HypoPG, checked and cleared; fails the run when it is missing.
Status StartWhatIf(AdviseRun& run) {
  const auto& more = run.opts.whatif_sessions;
  run.wi = std::make_unique<WhatIf>(more.empty() ? run.session : *more[0], run.workload, &run.cs,
                                    run.catalog);
  run.wi->AddWorkers(more);
  Status st = run.wi->Init();
  if (!st.ok()) return st;
  run.rep.hypopg_version = run.wi->hypopg_version();
  return Status::Ok();
}

// The values each `$n` statement is costed with (advisor/parameters.h):
// the workload does not run with "unknown" values.
void DeriveValues(AdviseRun& run) {
  std::vector<StatementParams> params;
  for (const auto& ws : run.workload.statements) {
    StatementParams p =
        DeriveParameters(ws, run.catalog, run.workload.qual_constants, run.opts.parameters);
    if (run.opts.generic_plans && p.custom()) {
      p.sets.clear();
      p.generic_reason = "--generic-plans";
    }
    params.push_back(std::move(p));
  }
  run.wi->SetParameters(std::move(params));
}

// Every statement as the database is now. A statement whose custom plans
// fail falls back to its generic plan; beside custom plans the generic plan
// is asked once too, as a check the report shows.
void CostBaseline(AdviseRun& run) {
  WhatIf& wi = *run.wi;
  int fell_back = 0;
  wi.PrefetchBaseline();  // --jobs: over every connection
  for (int s = 0; s < static_cast<int>(run.workload.statements.size()); ++s) {
    if (!wi.parameters(s).custom()) continue;
    const PlanCost& pc = wi.Cost(s, {});
    if (pc.ok) continue;
    wi.UseGenericPlan(s, "custom plans failed: " + pc.error);
    ++fell_back;
  }
  if (fell_back > 0)
    run.rep.notes.push_back(std::to_string(fell_back) +
                            " statement(s) fell back to a generic plan: planning them with "
                            "representative values failed (see the statements section)");
  wi.PrefetchMatrix();  // --jobs: every statement under each single candidate
  run.oracle = std::make_unique<WhatIfOracle>(wi, run.opts);
}

// Extend over the whole workload, weighted by calls, within the budget.
void SelectUnderBudget(AdviseRun& run) {
  SelectionResult sel = SelectExtend(*run.oracle, run.selection);
  AdviseReport& rep = run.rep;
  rep.selection_steps = sel.steps;
  rep.local_moves = sel.local_moves;
  rep.timed_out = sel.timed_out;
  rep.selection_log = sel.log;
  if (sel.timed_out)
    rep.notes.push_back("--time-limit reached: the recommendations are the best found so far");
  run.chosen = sel.chosen;
}

// --max-indexes is a cap the user chose; when it, and not the budget, kept
// out an index that would still have paid for itself, say so.
void NoteBindingCap(AdviseRun& run) {
  const int cap = run.selection.max_indexes;
  if (cap == SelectionOptions::kNoLimit || static_cast<int>(run.chosen.size()) < cap) return;
  WhatIfOracle& o = *run.oracle;
  int64_t used = 0;
  for (int c : run.chosen) used += o.Size(c);
  const double base = WorkloadCost(o, {});
  const double now = WorkloadCost(o, run.chosen);
  for (int c = 0; c < o.num_candidates(); ++c) {
    if (std::find(run.chosen.begin(), run.chosen.end(), c) != run.chosen.end()) continue;
    if (run.selection.budget_bytes >= 0 && used + o.Size(c) > run.selection.budget_bytes) continue;
    std::vector<int> more = run.chosen;
    more.push_back(c);
    if (now - WorkloadCost(o, more) >= run.selection.min_gain * base) {
      run.rep.max_indexes_binding = true;
      run.rep.notes.push_back("--max-indexes " + std::to_string(cap) +
                              " is binding: more indexes would fit the storage budget and still "
                              "lower the workload cost; without the cap the budget governs");
      return;
    }
  }
}

// Say when write overhead is what kept candidates out: right after a bulk
// load the table counters make every table look write-hot.
void NoteWriteBlocked(AdviseRun& run) {
  WhatIfOracle& o = *run.oracle;
  int blocked = 0;
  for (int c = 0; c < o.num_candidates(); ++c) {
    if (std::find(run.chosen.begin(), run.chosen.end(), c) != run.chosen.end()) continue;
    double gain = 0;
    for (int s : o.StatementsFor(c)) gain += o.Calls(s) * (o.Cost(s, {}) - o.Cost(s, {c}));
    double w = o.WriteOverhead(c);
    if (gain > 0 && w > 0 && gain <= w) ++blocked;
  }
  if (blocked > 0)
    run.rep.notes.push_back(
        std::to_string(blocked) +
        " candidate(s) would lower read cost but less than their write overhead "
        "(--write-source " +
        run.opts.write_source + ", --write-cost " + Fmt(run.opts.write_cost_per_row) +
        "); after a bulk load, --write-source none ignores the load's writes");
}

// Per statement: cost before and after, and how it was costed.
void RecordStatements(AdviseRun& run) {
  WhatIf& wi = *run.wi;
  WhatIfOracle& o = *run.oracle;
  AdviseReport& rep = run.rep;
  for (int s = 0; s < o.num_statements(); ++s) {
    const auto& ws = run.workload.statements[static_cast<size_t>(s)];
    const StatementParams& params = wi.parameters(s);
    StatementOutcome out;
    out.index = s;
    out.sql = ws.sql;
    out.fingerprint = ws.fingerprint;
    out.source = ws.source;
    out.calls = ws.calls;
    out.costing = params.Describe();
    out.custom_plans = params.custom();
    const PlanCost& b = wi.Cost(s, {});
    out.costed = b.ok;
    if (!b.ok) {
      out.error = b.error;
      ++rep.statements_failed;
    } else {
      ++rep.statements_costed;
      out.cost_before = b.cost;
      out.cost_after = o.Cost(s, run.chosen);
      if (params.custom()) {
        ++rep.statements_custom;
        out.values_source = params.source;
        const PlanCost& a = wi.Cost(s, run.chosen);
        for (size_t i = 0; i < params.sets.size(); ++i) {
          ValueSetOutcome v;
          v.label = params.sets[i].label;
          v.weight = params.sets[i].weight;
          v.cost_before = i < b.set_costs.size() ? b.set_costs[i] : 0;
          v.cost_after = a.ok && i < a.set_costs.size() ? a.set_costs[i] : v.cost_before;
          out.value_sets.push_back(std::move(v));
        }
        const PlanCost g = wi.GenericBaseline(s);
        if (g.ok) out.generic_cost_before = g.cost;
      } else if (params.params > 0) {
        ++rep.statements_generic;
      }
    }
    rep.workload_cost_before += ws.calls * out.cost_before;
    rep.workload_cost_after += ws.calls * out.cost_after;
    rep.statements.push_back(std::move(out));
  }
  if (rep.statements_failed == 0) return;
  // Say why when it is a limit the user can change, not a bad statement.
  int timed_out = 0, locked = 0;
  for (int s = 0; s < o.num_statements(); ++s) {
    const PlanCost& b = wi.Cost(s, {});
    if (b.ok) continue;
    timed_out += b.sqlstate == "57014";
    locked += b.sqlstate == "55P03";
  }
  std::string why;
  if (timed_out > 0)
    why += "; " + std::to_string(timed_out) + " hit statement_timeout (" +
           std::to_string(run.session.options().statement_timeout_ms) +
           " ms; raise --statement-timeout to cost them)";
  if (locked > 0)
    why += "; " + std::to_string(locked) + " waited longer than lock_timeout (" +
           std::to_string(run.session.options().lock_timeout_ms) +
           " ms) for a table another session holds locked";
  rep.notes.push_back(std::to_string(rep.statements_failed) +
                      " statement(s) could not be planned and are not costed (see the "
                      "statements section); they are left out of the workload cost" +
                      why);
}

// One recommendation per chosen index, ranked by how much the workload would
// lose without it.
void ExplainRecommendations(AdviseRun& run) {
  WhatIf& wi = *run.wi;
  WhatIfOracle& oracle = *run.oracle;
  AdviseReport& rep = run.rep;
  const std::vector<int>& final_config = run.chosen;
  struct Ranked {
    double marginal;
    Recommendation rec;
  };
  std::vector<Ranked> ranked;
  for (int c : final_config) {
    const IndexCandidate& cand = run.cs.candidates[static_cast<size_t>(c)];
    std::vector<int> without;
    for (int x : final_config)
      if (x != c) without.push_back(x);
    double marginal = 0, helped_base = 0;
    Recommendation r;
    r.kind = RecommendationKind::kIndex;
    std::string name = UniqueName(run.catalog, cand, &run.names_taken);
    r.sql = cand.Ddl(name, true, true);
    r.revert =
        "DROP INDEX CONCURRENTLY IF EXISTS " + QuoteIdent(cand.schema) + "." + QuoteIdent(name);
    r.object = cand.schema + "." + cand.table;
    r.lock = "SHARE UPDATE EXCLUSIVE";
    for (int s : oracle.StatementsFor(c)) {
      marginal += oracle.Calls(s) * (oracle.Cost(s, without) - oracle.Cost(s, final_config));
      const PlanCost& pc = wi.Cost(s, final_config);
      if (!pc.candidates.count(c)) continue;
      const StatementOutcome& st = rep.statements[static_cast<size_t>(s)];
      QueryBenefit qb;
      qb.fingerprint = st.fingerprint;
      qb.query = st.sql;
      qb.calls = oracle.Calls(s);
      qb.cost_before = st.cost_before;
      qb.cost_after = st.cost_after;
      helped_base += qb.calls * qb.cost_before;
      r.benefit.push_back(qb);
      rep.statements[static_cast<size_t>(s)].indexes_after.push_back(name);
    }
    bool qualstats_constant = false;
    for (int s : oracle.StatementsFor(c))
      qualstats_constant |=
          wi.Cost(s, final_config).candidates.count(c) &&
          !run.workload.statements[static_cast<size_t>(s)].constant_source.empty();
    std::sort(r.benefit.begin(), r.benefit.end(), [](const QueryBenefit& a, const QueryBenefit& b) {
      return a.calls * (a.cost_before - a.cost_after) > b.calls * (b.cost_before - b.cost_after);
    });
    r.size_bytes = oracle.Size(c);
    r.write_overhead = oracle.WriteOverhead(c);
    rep.bytes_added += r.size_bytes;
    rep.write_overhead_added += r.write_overhead;
    bool big_wins = !r.benefit.empty();
    for (const auto& b : r.benefit) big_wins &= b.cost_after <= 0.7 * b.cost_before;
    r.confidence = big_wins ? Confidence::kHigh : Confidence::kMedium;
    r.reason = cand.origin + " index on " + r.object + ": used by " +
               std::to_string(r.benefit.size()) + " workload statement(s); the workload costs " +
               Fmt(marginal) + " units more without it";
    r.Add("marginal_benefit", marginal)
        .Add("share_of_workload",
             rep.workload_cost_before > 0 ? helped_base / rep.workload_cost_before : 0.0)
        .Add("hypopg_size_bytes", wi.HypopgSize(c))
        .Add("size_dedup_corrected", cand.method == "btree" && cand.include.empty())
        .Add("origin", cand.origin)
        .Add("whatif_verified", true);
    // The plan was costed with a constant pg_qualstats recorded, not one the
    // statement text carries: say so.
    if (qualstats_constant && !cand.predicate.empty())
      r.Add("constant_source", std::string("pg_qualstats"));
    ranked.push_back({marginal, std::move(r)});
  }
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const Ranked& a, const Ranked& b) { return a.marginal > b.marginal; });
  int prio = static_cast<int>(ranked.size());
  for (auto& x : ranked) {
    x.rec.priority = prio--;
    rep.indexes.push_back(std::move(x.rec));
  }
}

// GIN candidates: HypoPG can't build them, so they are reported apart.
// Index names share the schema's namespace with tables, views and
// sequences, which the catalog snapshot does not list: ask once which of the
// names UniqueName could pick are taken, so none collides (a collision would
// make the script's IF NOT EXISTS skip the build with only a NOTICE).
void ReserveTakenNames(AdviseRun& run) {
  std::set<std::string> wanted;
  auto add = [&](const IndexCandidate& c) {
    std::string base = c.SuggestedName();
    for (int n = 1; n <= kNameTries; ++n) wanted.insert(c.schema + "." + NumberedName(base, n));
  };
  for (int c : run.chosen) add(run.cs.candidates[static_cast<size_t>(c)]);
  for (const auto& c : run.cs.unverifiable) add(c);
  std::set<std::string> existing;
  if (ExistingRelationNames(run.session, wanted, &existing).ok())
    run.names_taken.insert(existing.begin(), existing.end());
}

void ReportUnverifiable(AdviseRun& run) {
  const CandidateSet& cs = run.cs;
  for (size_t i = 0; i < cs.unverifiable.size(); ++i) {
    const IndexCandidate& cand = cs.unverifiable[i];
    Recommendation r;
    r.kind = RecommendationKind::kIndex;
    std::string name = UniqueName(run.catalog, cand, &run.names_taken);
    r.sql = cand.Ddl(name, true, true);
    r.revert =
        "DROP INDEX CONCURRENTLY IF EXISTS " + QuoteIdent(cand.schema) + "." + QuoteIdent(name);
    r.object = cand.schema + "." + cand.table;
    r.lock = "SHARE UPDATE EXCLUSIVE";
    r.confidence = Confidence::kUnverified;
    r.reason = cand.origin + " index on " + r.object +
               ": HypoPG cannot simulate GIN indexes, so its benefit is not costed; --verify "
               "builds it on a test "
               "database and measures it";
    for (int s : cs.unverifiable_for[i]) {
      const StatementOutcome& st = run.rep.statements[static_cast<size_t>(s)];
      QueryBenefit qb;
      qb.fingerprint = st.fingerprint;
      qb.query = st.sql;
      qb.calls = st.calls;
      qb.cost_before = qb.cost_after = st.cost_before;
      r.benefit.push_back(qb);
    }
    r.Add("whatif_verified", false).Add("origin", cand.origin);
    run.rep.unverified.push_back(std::move(r));
  }
}

// Drops, each shown not to raise the workload cost.
void ReviewExisting(AdviseRun& run) {
  if (!run.opts.review_existing) return;
  run.Say("reviewing existing indexes");
  ReviewExistingIndexes(*run.wi, *run.oracle, run.chosen, run.opts, &run.rep);
}

// What-if statistics, and the hypothetical indexes dropped.
void Finish(AdviseRun& run) {
  AdviseReport& rep = run.rep;
  rep.whatif = run.wi->stats();
  if (rep.whatif.failed_calls > 0)
    rep.notes.push_back(
        std::to_string(rep.whatif.failed_calls) +
        " what-if plan(s) with candidate indexes failed (first: " + rep.whatif.first_failure +
        "); those configurations were counted as no improvement");
  run.wi->Reset();
}

}  // namespace

Status RunAdvisor(Session& session, const Catalog& catalog, const Workload& workload,
                  const AdviseOptions& opts, AdviseReport* out) {
  const auto t0 = Clock::now();
  AdviseRun run(session, catalog, workload, opts);
  PrepareWorkload(run);
  GenerateCandidatesStep(run);
  Status st = StartWhatIf(run);
  if (!st.ok()) return st;
  DeriveValues(run);
  CostBaseline(run);
  SelectUnderBudget(run);
  NoteBindingCap(run);
  NoteWriteBlocked(run);
  RecordStatements(run);
  ReserveTakenNames(run);
  ExplainRecommendations(run);
  ReportUnverifiable(run);
  ReviewExisting(run);
  Finish(run);
  // Beyond indexes: each advisor reads the workload and the catalog again and
  // adds its own kind of recommendation (their files say how).
  if (opts.partitions.enabled) AdvisePartitions(session, catalog, run.workload, opts, &run.rep);
  if (opts.views.enabled) AdviseViews(session, catalog, run.workload, opts, *run.oracle, &run.rep);
  if (opts.statistics.enabled) AdviseStatistics(session, catalog, run.workload, opts, &run.rep);
  if (opts.patterns.enabled) AdvisePatterns(session, catalog, run.workload, opts, &run.rep);
  run.rep.wall_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  *out = std::move(run.rep);
  return Status::Ok();
}

}  // namespace pgvise
