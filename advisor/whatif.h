// WhatIf: what-if costing with HypoPG, and the cost cache in front of it.
// The third step of `pgvise advise`: candidates in, planner costs out.
//
// To cost statement S under a configuration C (a set of candidate indexes),
// the hypothetical indexes HypoPG holds are changed to exactly the members of
// C that are relevant to S (candidates on S's tables whose leading key S can
// use), S is planned with EXPLAIN and the plan's total cost and the indexes
// it uses are kept. A statement with `$n` parameters is costed as the
// weighted mean of custom plans over its representative value sets
// (advisor/parameters.h) when it has some, else as a generic plan (through
// analyzer/explain_runner). The cache key is (S, relevant part of
// C): a configuration that differs only on other tables is the same question
// and is never asked twice. Beyond the key, index-usage inference answers
// some questions never asked (whatif_infer.cc has the argument): a plan
// under C that uses only U of C's indexes is also the plan under every C'
// with U <= C' <= C, so such a C' costs what C did, without an EXPLAIN.
//
// Hypothetical indexes are created when a configuration needs them and
// dropped as soon as the next one doesn't, so a long run holds only a handful
// (HypoPG's OID pool is finite: dexter#49). Everything here runs in a READ
// ONLY session; HypoPG keeps its indexes in the backend's memory.
//
// Batches and scale-out. The selection announces what it is about to ask
// (CostOracle::Prefetch: a move's statements under the next configuration),
// and CostMany sends those EXPLAINs together: grouped by the part of the
// configuration relevant to each, a group in one pipeline (ExplainBatch,
// one round trip per 64 statements instead of one each). With --jobs N /
// --replica URI the groups are cut into one chunk per connection; HypoPG
// state is per backend, so each connection ("worker") creates its own
// hypothetical indexes. Before the selection, the workers also fill the
// cache with the what-if matrix, every statement under each single
// candidate relevant to it (PrefetchMatrix). Tasks go to the connections as
// they become free, and the cache is filled on the main thread after the
// join. A cached cost is the same number whichever connection computed it
// (the same planner, statistics and HypoPG size estimate; with several
// hypothetical indexes an exact tie may be broken by another index on
// another connection, at the same cost), so the
// selection, which then reads the cache sequentially, makes exactly the
// choices it makes with one connection. The connections may be hot
// standbys: HypoPG works there, and a standby's pg_statistic is the
// primary's, replicated.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "advisor/candidates.h"
#include "advisor/index_size.h"
#include "advisor/parameters.h"
#include "advisor/workload.h"
#include "catalog/catalog.h"
#include "core/session.h"

namespace pgvise {

// What a plan says, reduced to what the advisor needs.
struct PlanCost {
  bool ok = false;
  double cost = 0;                // top node Total Cost (custom plans: their weighted mean)
  std::vector<double> set_costs;  // custom plans: each value set's cost
  std::vector<double>
      set_rows;  // custom plans: the rows each set's plan expects to return or change
  std::set<std::string> indexes;  // index names scanned (real ones)
  std::set<int> candidates;       // hypothetical candidates scanned
  std::string error;
  std::string sqlstate;  // of the failure: 57014 statement_timeout, 55P03 lock_timeout, ...
};

// Reads Total Cost and every "Index Name" from EXPLAIN (FORMAT JSON) text,
// and the rows the statement returns or changes (what pg_stat_statements
// counts): the top node's Plan Rows, a ModifyTable's from the node that
// feeds it (an UPDATE without RETURNING plans 0 rows of output).
Status ReadPlanCost(const std::string& plan_json, double* total_cost,
                    std::set<std::string>* index_names, double* rows = nullptr);

// One what-if connection's share of the work (--jobs / --replica spread it).
struct WhatIfConnectionStats {
  std::string connection;  // "job 1" (the one that also runs the selection), "job 2", ...
  std::string server;      // "primary", or "replica 1", "replica 2" in --replica order; no URI
  int64_t whatif_calls = 0;
};

struct WhatIfStats {
  int64_t whatif_calls = 0;  // EXPLAINs sent, over every connection
  int64_t cache_hits = 0;    // inferred answers included
  int64_t inferred = 0;      // answered by index-usage inference (whatif_infer.cc)
  int64_t hypo_creates = 0;
  int64_t hypo_drops = 0;
  double explain_ms = 0;  // time in EXPLAIN round trips
  double hypo_ms = 0;     // time creating/dropping/sizing hypothetical indexes
  std::vector<WhatIfConnectionStats> by_connection;  // stats(): one per connection, in order
  // What-ifs (a configuration, not the baseline) that failed, e.g. on
  // statement_timeout: the oracle counts them as "no change", and the report
  // says so instead of presenting their costs as known.
  int64_t failed_calls = 0;
  std::string first_failure;
};

// Index-usage inference (whatif_infer.cc has the argument): per statement,
// the EXPLAINed configurations of two or more candidates with their answers
// (PlanCost::candidates: what the plan used), in the order they were costed.
class UsageInference {
 public:
  // `pc` must outlive this (WhatIf points into its cache). Ignored unless
  // ok and `config` (sorted) has two or more members.
  void Remember(int s, const std::vector<int>& config, const PlanCost* pc);
  // An answer for `config` (sorted): the first remembered C with
  // config <= C whose plan used only members of `config`; else null.
  const PlanCost* Infer(int s, const std::vector<int>& config) const;
  void Forget(int s);

 private:
  struct Costed {
    std::vector<int> config;
    const PlanCost* pc;
  };
  std::vector<std::vector<Costed>> costed_;
};

class WhatIf {
 public:
  WhatIf(Session& s, const Workload& w, CandidateSet* cs, const Catalog& cat);
  ~WhatIf();

  // More connections for the Prefetch steps (--jobs / --replica), each a
  // READ ONLY session on the same database or a hot standby of it; call
  // before Init. The caller owns them and keeps them open for the run.
  void AddWorkers(const std::vector<Session*>& sessions);
  int connections() const { return static_cast<int>(backends_.size()); }
  // Names the servers in the statistics: a connection to `primary_conninfo`
  // is "primary", the others "replica 1", "replica 2"... in the order their
  // conninfo first appears. Unnamed, every server reads "primary".
  void NameServers(const std::string& primary_conninfo);

  // Checks HypoPG (installed, version), clears leftovers. Fails with a clear
  // message when HypoPG is missing.
  Status Init();
  const std::string& hypopg_version() const { return hypopg_version_; }
  bool can_hide_indexes() const { return can_hide_; }

  // How each statement is costed (custom plans over value sets, or generic).
  // Set before the first Cost(); statements without an entry are generic.
  void SetParameters(std::vector<StatementParams> params);
  const StatementParams& parameters(int s) const;
  // Refits the weights of `s`'s value sets to the rows per call the server
  // recorded (WorkloadStatement::rows; FitWeightsToRows in parameters.h),
  // from the sets' rows in its baseline plans, and recosts what is cached
  // for it. Call after the baseline (Cost(s, {})); false when nothing
  // changed (no record, rows that can't tell the sets apart, a LIMIT $n).
  bool FitToRecordedRows(int s);
  // Back to the generic plan for `s` (its custom plans failed), forgetting
  // what was cached for it.
  void UseGenericPlan(int s, const std::string& why);
  // The generic plan with no hypothetical index: the check beside custom plans.
  PlanCost GenericBaseline(int s);
  // `s` under `config` planned afresh, its current text, the cache neither
  // read nor filled: a statement costed in another form (advise's rewrites)
  // asked for its written form.
  PlanCost CostUncached(int s, const std::vector<int>& config);

  // Cost (and plan facts) of statement `s` under `config` (candidate ids;
  // those irrelevant to `s` are ignored). Cached.
  const PlanCost& Cost(int s, const std::vector<int>& config);
  // Cost(s, config) for every s in `statements`, asked together: those Cost
  // would EXPLAIN (not cached, not inferred) go grouped by the part of
  // `config` relevant to each, every group in one pipeline per connection,
  // spread over the connections (--jobs, --replica). Afterwards Cost answers
  // them from the cache with exactly what it would have computed itself.
  void CostMany(const std::vector<int>& statements, const std::vector<int>& config);
  void CostAll(const std::vector<int>& config);  // CostMany of every statement
  // Same with real indexes hidden (HypoPG 1.4+ only; otherwise !ok).
  PlanCost CostHiding(int s, const std::vector<int>& config,
                      const std::vector<uint32_t>& hidden_oids);
  // On-disk size estimate of a candidate: HypoPG's, corrected for B-tree
  // deduplication with pg_stats, and with the distinct counts of physically
  // ordered key columns measured where ANALYZE's err small
  // (advisor/index_size.h). Cached.
  int64_t Size(int c);
  // What Size measured: (schema, table) -> column -> distinct values (only
  // the columns whose count it raised).
  using TableKey = std::pair<std::string, std::string>;
  const std::map<TableKey, MeasuredDistinct>& measured_distinct() const { return measured_; }
  int64_t HypopgSize(int c);  // uncorrected

  // With more than one connection, costs in parallel what the selection will
  // ask first (a no-op with one: then nothing is costed that the lazy
  // selection would not ask): every statement under each single candidate
  // relevant to it, and each candidate's size; call once the costing method
  // of every statement is final (SetParameters / UseGenericPlan). The
  // baseline is CostMany(every statement, {}).
  void PrefetchMatrix();

  // The relevant part of `config` for statement `s`, sorted.
  std::vector<int> Relevant(int s, const std::vector<int>& config) const;
  // Drops every hypothetical index (end of run; the destructor does it too).
  void Reset();

  const WhatIfStats& stats() const;
  CandidateSet& candidates() { return *cs_; }
  const Workload& workload() const { return w_; }
  const Catalog& catalog() const { return cat_; }

 private:
  // One server connection and the hypothetical indexes it holds.
  struct Backend {
    Session* session = nullptr;
    std::map<int, uint32_t> live;  // candidate -> hypothetical oid
    std::map<uint32_t, int> oid_to_candidate;
    WhatIfStats stats;
    std::string server = "primary";
  };
  // One unit of prefetch work: a configuration, the statements to cost
  // under it, and whether to read its (single) candidate's size.
  struct Task {
    std::vector<int> config;
    std::vector<int> statements;
    int size_of = -1;
    std::vector<PlanCost> costs;  // filled by the worker, per statement
    int64_t hypo_size = 0;
  };
  Status StartBackend(Backend& b);
  void Prefetch(std::vector<Task> tasks);
  void RunTask(Backend& b, Task& t);
  std::string Key(int s, const std::vector<int>& relevant) const;
  Status Materialize(Backend& b, const std::vector<int>& config);
  Status CreateHypo(Backend& b, int c);
  Status DropHypo(Backend& b, int c);
  int64_t ReadHypoSize(Backend& b, int c);
  const MeasuredDistinct& Measured(const TableInfo& t);  // measured_[t], measured the first time
  PlanCost Explain(Backend& b, int s);
  // `statements` under what `b` holds now, in one pipeline; `generic`: one
  // generic plan each even where value sets exist.
  std::vector<PlanCost> ExplainMany(Backend& b, const std::vector<int>& statements, bool generic);
  void ReadNames(const Backend& b, const std::set<std::string>& names, PlanCost* pc) const;

  Backend& main() { return backends_[0]; }
  Session& s_;
  const Workload& w_;
  CandidateSet* cs_;
  const Catalog& cat_;
  std::string hypopg_version_;
  bool can_hide_ = false;
  bool ready_ = false;
  std::map<std::string, PlanCost> cache_;
  UsageInference usage_;           // answers into cache_
  std::vector<Backend> backends_;  // [0]: `s_`; then the workers
  std::map<int, int64_t> size_, hypo_size_;
  std::map<TableKey, MeasuredDistinct> measured_;  // per table, measured once (Size)
  std::vector<std::set<int>> relevant_;            // per statement
  std::vector<StatementParams> params_;            // per statement; empty: all generic
  // Per statement: its text when Init parsed it, and its $n count (-1: did
  // not parse). Read-only once Init is done, so workers can read it.
  std::vector<std::pair<std::string, int>> param_count_;
  WhatIfStats stats_;           // cache hits and failures; the rest per backend
  mutable WhatIfStats merged_;  // stats(): every connection's, summed
};

// --jobs N / --replica URI: opens the what-if connections, like `main`
// (read-only, its timeouts) but N of them (at least one per replica), round
// robin over the replicas, or on main's server without replicas. Leaves
// `out` empty when one connection to the main server does it all.
Status OpenWhatIfSessions(const SessionOptions& main, int jobs,
                          const std::vector<std::string>& replicas,
                          std::vector<std::unique_ptr<Session>>* out);

}  // namespace pgvise
