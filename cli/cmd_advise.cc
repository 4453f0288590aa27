// pgvise advise [SQL FILES] --db URI — recommend indexes (and drops) for a
// workload, each proven with HypoPG what-if costs. The pipeline:
//
//   Connect           READ ONLY session (statement/lock timeouts, pgvise name)
//   SnapshotCatalog   tables, columns + pg_stats, indexes, constraints
//   CollectWorkload   SQL files (-- pgvise: calls=N) and/or pg_stat_statements,
//                     plus pg_qualstats constants when installed
//   RewriteOffers     the rewriter as the advisor's rewrite provider, run as
//                     `rewrite --db` runs it (cli/advise_rewrites.h)
//   RunAdvisor        candidates -> what-if costs -> selection -> drops
//   Verify            only with --verify: builds, measures, drops (writable)
//   Report            text | json | markdown | html | sql (+ revert script)
//
// Exit codes: 0 done (whether or not something is recommended; also when
// --verify skipped an item for a lock another session held: the item says
// verify_skipped, see docs/contracts.md), 2 bad input, 3 database error
// (connect, HypoPG missing, permission, timeout).
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "advisor/advisor.h"
#include "advisor/report.h"
#include "advisor/verify.h"
#include "advisor/workload.h"
#include "catalog/catalog.h"
#include "cli/advise_rewrites.h"
#include "cli/command.h"
#include "cli/progress.h"
#include "maintenance/window.h"

namespace pgvise {

namespace {

// What only the command line has; the advisor's own options (AdviseOptions,
// SelectionOptions inside it) are bound to their flags directly.
struct AdviseCliOptions {
  WorkloadSource source;  // files, --from, --top, --min-calls
  std::vector<std::string> workload_files;
  std::string budget;   // parsed into bytes or a percentage
  int max_indexes = 0;  // 0: unset, the budget governs
  double min_gain_percent = 0.5;
  std::string time_limit = "auto";  // --time-limit: seconds, 0 or auto
  std::string revert_file;
  bool verify = false;
  int verify_top = 5;
  int script_lock_timeout_ms = 5000;
  bool quiet = false;
  int jobs = 1;                       // --jobs: what-if connections
  std::vector<std::string> replicas;  // --replica: hot standbys they go to
};

// A module's Status as the command's end: bad input exits 2, the rest 3.
[[noreturn]] void Fail(const Status& st) {
  throw Error(
      st.code() == Status::Code::kInvalidInput ? ExitCode::kInputError : ExitCode::kDatabaseError,
      st.message());
}

int RunAdvise(const CommonOptions& common, const AdviseCliOptions& o, AdviseOptions ao) {
  // --format, and the flags whose command-line form differs from the option's.
  Status st = CheckAdviseFormat(common.format);
  if (st.ok())
    st = SetSelectionLimits(o.budget, o.max_indexes, o.min_gain_percent, o.time_limit, &ao);
  if (!st.ok()) Fail(st);
  ao.verbose = common.verbose;
  // The workload-pattern rules, with --rules and .pgvise.yaml applied.
  const RuleBook pattern_rules = ao.patterns.enabled ? LoadRules(common) : RuleBook();
  ao.patterns.rules = ao.patterns.enabled ? &pattern_rules : nullptr;

  // Connect + SnapshotCatalog + CollectWorkload.
  std::unique_ptr<Session> session = OpenSession(common);
  if (o.verify) st = CheckCanVerify(*session);  // before the analysis, not at the first build
  if (!st.ok()) throw Error(ExitCode::kDatabaseError, st.message());
  Catalog catalog;
  st = Catalog::Load(*session, {}, &catalog);
  if (!st.ok()) throw Error(ExitCode::kDatabaseError, st.message());
  WorkloadSource source = o.source;
  source.files.insert(source.files.end(), o.workload_files.begin(), o.workload_files.end());
  Workload w;
  st = CollectWorkload(*session, source, &w);
  if (!st.ok()) Fail(st);

  // RewriteOffers (cli/advise_rewrites.h).
  if (ao.rewrites.enabled) ao.rewrites.provider = RewriteOffers(*session, catalog, w);

  // RunAdvisor.
  Progress progress(!o.quiet && isatty(2));
  ao.selection.progress = [&](const std::string& m) {
    progress(m);
    if (common.verbose) std::fprintf(stderr, "pgvise advise: %s\n", m.c_str());
  };
  std::vector<std::unique_ptr<Session>> whatif;  // --jobs, --replica
  st = OpenWhatIfSessions(session->options(), o.jobs, o.replicas, &whatif);
  if (!st.ok()) Fail(st);
  for (auto& w : whatif) ao.whatif_sessions.push_back(w.get());
  AdviseReport report;
  st = RunAdvisor(*session, catalog, w, ao, &report);
  if (!st.ok()) Fail(st);

  // Verify: the one writable step, only when asked.
  if (o.verify) {
    std::fputs(VerifyNotice(o.verify_top, session->masked_conninfo()).c_str(), stderr);
    CommonOptions wc = common;
    wc.statement_timeout_ms = std::max(common.statement_timeout_ms, 600000);
    std::unique_ptr<Session> writable = OpenSession(wc, /*read_only=*/false);
    VerifyOptions vo;
    vo.top = o.verify_top;
    vo.query_timeout_ms = common.statement_timeout_ms;
    for (const auto& ws : w.statements) vo.workload_sql.push_back(ws.sql);
    st = VerifyAdvice(*writable, ao, vo, &report);
    if (!st.ok()) throw Error(ExitCode::kDatabaseError, st.message());
  }

  // Report.
  AdviceRenderOptions ro;
  ro.format = common.format;
  ro.database = session->masked_conninfo();
  ro.lock_timeout_ms = o.script_lock_timeout_ms;
  ro.include_revert = common.format == "sql" && o.revert_file.empty();
  WriteOutput(common, RenderAdvice(report, ro));
  if (!o.revert_file.empty()) {
    std::ofstream f(o.revert_file, std::ios::binary);
    if (!f) throw Error(ExitCode::kInputError, o.revert_file + ": cannot write");
    f << RenderRevertSql(report, ro);
  }
  return static_cast<int>(ExitCode::kOk);
}

}  // namespace

RunFn SetupAdvise(CLI::App& app, std::shared_ptr<CommonOptions> common) {
  AddCommonOptions(app, common.get(), true, false);
  auto o = std::make_shared<AdviseCliOptions>();
  auto ao = std::make_shared<AdviseOptions>();
  app.add_option("files", o->source.files,
                 "SQL files with the workload (-- pgvise: calls=N weights a statement)");
  app.add_option("-w,--workload", o->workload_files,
                 "a workload SQL file (repeatable; same as a positional file)");
  app.add_option("--format", common->format, "text | json | markdown | html | sql")
      ->capture_default_str();
  app.add_option("--from", o->source.from,
                 "workload source: auto (files if given, else pg_stat_statements) | files | "
                 "pg_stat_statements | both")
      ->check(CLI::IsMember({"auto", "files", "pg_stat_statements", "both"}))
      ->capture_default_str();
  app.add_option("--budget", o->budget,
                 "storage for new indexes: bytes (500MB, 2GB) or % of table data (20%)");
  app.add_option("--max-indexes", o->max_indexes,
                 "at most this many new indexes (default: no cap, the budget governs)");
  app.add_flag("--generic-plans", ao->generic_plans,
               "cost `$n` statements with one generic plan each instead of custom plans over "
               "representative values from pg_stats / pg_qualstats");
  app.add_option("--time-limit", o->time_limit,
                 "seconds for the selection after the what-if matrix (returns the best so far); "
                 "auto: 60, or 10x the matrix's time when longer; 0: no limit")
      ->capture_default_str();
  AddOffFlag(app, "--no-local-search", &ao->selection.local_search,
             "greedy selection only: fewer what-if EXPLAINs, can land further from the optimum");
  app.add_option("--min-gain", o->min_gain_percent,
                 "a new index must save this % of the workload cost")
      ->capture_default_str();
  app.add_option("--top", o->source.options.pgss_limit,
                 "pg_stat_statements: the top N statements by total time")
      ->capture_default_str();
  app.add_option("--min-calls", o->source.options.pgss_min_calls,
                 "pg_stat_statements: ignore statements called fewer times")
      ->capture_default_str();
  AddOffFlag(app, "--no-drops", &ao->review_existing, "do not review existing indexes");
  app.add_option(
         "--write-source", ao->write_source,
         "where write rates come from: auto | workload | stats (pg_stat_user_tables) | none")
      ->check(CLI::IsMember({"auto", "workload", "stats", "none"}))
      ->capture_default_str();
  app.add_option("--write-cost", ao->write_cost_per_row, "cost units per row change per index")
      ->capture_default_str();
  app.add_option("--revert-file", o->revert_file, "write the revert script to FILE");
  app.add_option("--script-lock-timeout", o->script_lock_timeout_ms,
                 "lock_timeout (ms) the SQL script sets")
      ->capture_default_str();
  app.add_flag("--verify", o->verify,
               "TEST/STAGING ONLY: build the top recommendations for real, EXPLAIN ANALYZE the "
               "queries they help "
               "before and after, then drop them (needs a writable session)");
  app.add_option("--verify-top", o->verify_top, "how many recommendations --verify builds")
      ->capture_default_str();
  app.add_flag("-q,--quiet", o->quiet, "no progress on stderr");
  app.add_option("--jobs", o->jobs,
                 "what-if connections: cost the workload under each candidate over N server "
                 "connections in parallel (same result as 1)")
      ->capture_default_str();
  app.add_option("--replica", o->replicas,
                 "URI of a hot standby to run the what-if costing on (repeatable; the workload "
                 "and catalog are still read from --db)");
  AddOffFlag(app, "--no-partitions", &ao->partitions.enabled, "do not advise partitioning");
  AddSizeOption(
      app, "--partition-min-size", &ao->partitions.min_size_bytes,
      "partition only tables at least this large (default 20GB; docs/advise-partitions.md)");
  AddOffFlag(app, "--no-views", &ao->views.enabled, "do not advise materialized views");
  AddDurationOption(
      app, "--mv-max-staleness", &ao->views.max_staleness_s,
      "how stale a materialized view may get between refreshes (default 1h): 30m, 6h, 1d");
  AddOffFlag(app, "--no-statistics", &ao->statistics.enabled,
             "do not advise extended statistics (CREATE STATISTICS)");
  AddOffFlag(app, "--no-patterns", &ao->patterns.enabled,
             "do not report workload patterns (N+1, single-row INSERTs, ...)");
  AddOffFlag(app, "--no-rewrites", &ao->rewrites.enabled,
             "do not offer query rewrites (a per-row subquery as a join, proven cheaper by "
             "EXPLAIN; docs/advise.md)");
  return [common, o, ao]() -> int { return RunAdvise(*common, *o, *ao); };
}

}  // namespace pgvise
