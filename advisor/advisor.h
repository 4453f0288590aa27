// The index advisor: `pgvise advise` from workload to recommendations.
//
// The run is a list of named steps (advisor.cc, RunAdvisor; the steps by
// concept in advisor_select.cc and advisor_explain.cc, advisor_internal.h):
//   PrepareWorkload      columns resolved, pg_qualstats' rare constants applied
//   GenerateCandidates   QueryFacts + Catalog -> candidate indexes
//   StartWhatIf          HypoPG checked (the run fails without it)
//   DeriveValues         representative `$n` values (advisor/parameters.h)
//   CostBaseline         every statement planned as the database is now:
//                        custom plans over its value sets, or a generic plan
//   SelectUnderBudget    Extend-style greedy over HypoPG what-if costs
//                        (WhatIfOracle, whatif_oracle.cc), then notes on a
//                        binding --max-indexes or write overhead
//   RecordStatements     per statement: cost before -> after, how costed
//   Explain              per recommendation: the queries it helps with cost
//                        before -> after, its size, its write overhead, a
//                        name no relation holds; GIN candidates apart
//   ReviewExisting       unused / duplicate / redundant / invalid indexes,
//                        each drop shown not to raise the workload cost
//   BeyondIndexes        partitions, materialized views, extended
//                        statistics, workload patterns
// Rewrites (advisor/rewrite_offers.h) wrap the selection: a SELECT with a
// proven rewrite is costed in its rewritten form, and offered after it.
// Nothing here writes to the database: hypothetical indexes live in the
// session's memory. `--verify` (advisor/verify.h) is the only part that
// builds real indexes, on a database the user says is a test copy.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "advisor/candidates.h"
#include "advisor/parameters.h"
#include "advisor/rewrite_offers.h"
#include "advisor/selection.h"
#include "advisor/whatif.h"
#include "advisor/workload.h"
#include "catalog/catalog.h"
#include "core/finding.h"
#include "core/rule.h"
#include "core/session.h"

namespace pgvise {

// Beyond indexes: each advisor below runs after the index selection (see
// RunAdvisor) and owns its own file; these are their command-line knobs.
struct PartitionOptions {               // advisor/partition.h
  bool enabled = true;                  // --no-partitions turns it off
  int64_t min_size_bytes = 20LL << 30;  // --partition-min-size (docs/advise-partitions.md)
  // The decision's thresholds (docs/advise-partitions.md says why each).
  double min_key_share = 0.5;       // of the table's read calls that must filter the key
  int list_max_values = 32;         // LIST: at most this many distinct values ...
  double list_min_coverage = 0.99;  // ... whose MCVs cover this share of the rows
  double buffer_fraction = 0.25;  // the active partition's indexes in this share of shared_buffers
  int min_partitions = 8;         // over the data span, so pruning has something to prune
  int max_partitions = 200;       // over the data span: planning and lock cost
  int premake = 4;                // future partitions made ahead
  int64_t verify_sample_rows = 1000000;  // --verify: rows of the TABLESAMPLE copy
};
struct ViewOptions {              // advisor/matview.h, docs/advise-views.md
  bool enabled = true;            // --no-views
  double max_staleness_s = 3600;  // --mv-max-staleness: a view is refreshed at least this often
                                  // while its base tables change
  // The period a SQL file's calls and writes cover (pg_stat_statements
  // says its own): refreshes are counted over it.
  double file_period_s = 86400;
  // Statements below this share of the workload's cost seed no view.
  double min_statement_share = 0.01;
};
struct StatisticsOptions {  // advisor/ext_statistics.h (docs/advise-statistics.md)
  bool enabled = true;      // --no-statistics
  // Recommend only when the planner's estimate for the group is off by this
  // factor (q-error) AND the sample shows the columns are dependent by it.
  double min_q_error = 4;
  int64_t sample_rows = 30000;    // rows read from a TABLESAMPLE per probe (capped)
  double min_table_rows = 10000;  // smaller tables: a misestimate costs little
  int max_groups = 20;            // probes per run, heaviest groups first
};
struct PatternOptions {  // advisor/patterns.h
  bool enabled = true;   // --no-patterns
  // The rules of area `workload` with the user's .pgvise.yaml applied (the
  // command's LoadRules); null: loaded from the default place, unconfigured.
  const RuleBook* rules = nullptr;
  // Seconds pg_stat_statements' counters cover, when the caller knows better
  // than pg_stat_statements_info (it reset this database's entries itself);
  // <= 0: now() - stats_reset.
  double window_s = -1;
  int limit = 500;  // most-called and most time-consuming statements read, each
};

struct AdviseOptions {
  // The selection's own options, set directly: --budget in bytes
  // (budget_bytes), --max-indexes (unset: the budget governs), --time-limit,
  // --min-gain, --no-local-search, and the progress callback every step uses.
  SelectionOptions selection;
  double budget_percent = -1;  // --budget 20%: of the tables' data size; overrides budget_bytes
  // --generic-plans: cost every `$n` statement once as a generic plan (the
  // behaviour before representative values, advisor/parameters.h).
  bool generic_plans = false;
  ParameterOptions parameters;
  bool review_existing = true;
  // Write overhead: cost units per row change per index. Counted from the
  // workload's own INSERT/UPDATE/DELETE (calls x rows) or, for a
  // pg_stat_statements workload, from pg_stat_user_tables counters.
  double write_cost_per_row = 1.0;
  std::string write_source = "auto";            // auto | workload | stats | none
  double unused_min_stats_age_s = 7 * 86400.0;  // "unused" needs counters this old
  CandidateOptions candidates;
  PartitionOptions partitions;
  ViewOptions views;
  StatisticsOptions statistics;
  PatternOptions patterns;
  RewriteOfferOptions rewrites;  // kind "rewrite" (advisor/rewrite_offers.h)
  bool verbose = false;          // -v: also say why a table or statement got nothing
  // --jobs N / --replica URI: the connections HypoPG what-if costing runs on
  // (advisor/whatif.h), opened and owned by the caller; the first one also
  // takes the selection's sequential EXPLAINs. Empty: the main session.
  std::vector<Session*> whatif_sessions;
};

// One value set of a statement costed with custom plans.
struct ValueSetOutcome {
  std::string label;  // "tenant_id = 7 (8.0%); enqueued_at newest 1.0%"
  double weight = 0;
  double cost_before = 0, cost_after = 0;
};

// One workload statement in the report.
struct StatementOutcome {
  int index = 0;
  std::string sql, fingerprint, source;
  double calls = 0;
  double cost_before = 0, cost_after = 0;
  bool costed = false;
  std::string error;                       // why it could not be planned
  std::vector<std::string> indexes_after;  // recommended index names its plan uses
  // How it was costed: "custom plans over 4 value sets from pg_stats",
  // "generic plan (...)", "plan with the statement's own values".
  std::string costing;
  // The SELECT the plans were for, when not the statement itself (a write
  // the role may not EXPLAIN, costed through its row-finding SELECT).
  std::string costed_sql;
  bool custom_plans = false;
  std::string values_source;        // pg_stats | pg_qualstats | ... (custom plans only)
  double generic_cost_before = -1;  // the generic plan beside custom plans (-1: not asked)
  std::vector<ValueSetOutcome> value_sets;
};

struct AdviseReport {
  std::vector<Recommendation> indexes;     // kind "index", ranked by benefit
  std::vector<Recommendation> drops;       // kind "drop-index"
  std::vector<Recommendation> unverified;  // GIN: HypoPG can't cost them
  std::vector<Recommendation> partitions;  // kind "partition" (advisor/partition.h)
  std::vector<Recommendation> views;       // kind "materialized-view" (advisor/matview.h)
  std::vector<Recommendation> statistics;  // kind "statistics" (advisor/ext_statistics.h)
  std::vector<Finding> patterns;           // workload patterns (advisor/patterns.h)
  std::vector<Recommendation> rewrites;    // kind "rewrite" (advisor/rewrite_offers.h)
  std::vector<StatementOutcome> statements;
  double workload_cost_before = 0;  // sum calls * cost, as the database is now
  double workload_cost_after = 0;   // with recommendations (and drops)
  double write_overhead_added = 0, write_overhead_saved = 0;
  int64_t bytes_added = 0, bytes_freed = 0;
  int64_t budget_bytes = -1;
  int candidates = 0, candidates_skipped_existing = 0, predicates_unusable = 0;
  int statements_costed = 0, statements_failed = 0;
  int statements_custom = 0;         // costed with custom plans over value sets
  int statements_generic = 0;        // `$n` statements costed with a generic plan
  int max_indexes = -1;              // --max-indexes when given, else -1
  bool max_indexes_binding = false;  // the cap kept out an index that would still have paid
  int skipped_utility = 0, skipped_unparsable = 0, skipped_other = 0, merged_duplicates = 0;
  WhatIfStats whatif;
  double wall_ms = 0;
  int selection_steps = 0;
  int local_moves = 0;  // swaps / drops / additions the local search kept
  bool timed_out = false;
  std::string hypopg_version;
  std::vector<std::string> notes;
  std::vector<std::string> selection_log;
};

// The CostOracle over live what-if costs.
class WhatIfOracle : public CostOracle {
 public:
  WhatIfOracle(WhatIf& wi, const AdviseOptions& o);  // costs every statement's baseline
  int num_statements() const override;
  int num_candidates() const override;
  double Calls(int s) const override;
  std::vector<int> StatementsFor(int c) const override;
  double Cost(int s, const std::vector<int>& config) override;
  void Prefetch(const std::vector<int>& statements, const std::vector<int>& config) override;
  int64_t Size(int c) override;
  double WriteOverhead(int c) override;
  std::vector<int> Extensions(int c) override;
  int KeyWidth(int c) const override;
  bool IsSingleColumnPredicateIndex(int c) const override;
  bool Costed(int s) const;  // its base plan succeeded
  // Row changes on a table over the workload's period (see write_source).
  double TableWrites(const std::string& schema, const std::string& table) const;

 private:
  WhatIf& wi_;
  const AdviseOptions& o_;
  std::vector<std::vector<int>> statements_for_;
  std::vector<bool> base_ok_;
};

// Runs the whole pipeline. `session` must be a read-only analysis session on
// the database the catalog came from. Fails (Status) when HypoPG is missing.
Status RunAdvisor(Session& session, const Catalog& catalog, const Workload& workload,
                  const AdviseOptions& opts, AdviseReport* out);

// Parses "500MB", "2GB", "123456" (bytes) or "20%" for --budget
// (advise_options.cc).
Status ParseBudget(const std::string& text, int64_t* bytes, double* percent);

// The selection's limits as the command line gives them: --budget text
// (ParseBudget), --max-indexes (0: unset, the budget governs; negative is
// refused), --min-gain in percent, --time-limit ("auto": 60 s or 10x the
// what-if matrix's time when longer; seconds; 0: none). InvalidInput names
// the flag.
Status SetSelectionLimits(const std::string& budget, int max_indexes, double min_gain_percent,
                          const std::string& time_limit, AdviseOptions* opts);

// --format: advise writes text, json, markdown, html or sql; InvalidInput
// for the others.
Status CheckAdviseFormat(const std::string& format);

// What --verify tells the user before it writes to `database` (masked
// conninfo): one line, newline-terminated.
std::string VerifyNotice(int top, const std::string& database);

}  // namespace pgvise
