// RunAdvisor: the advise run as a list of named steps, in order, over one
// shared state (advisor_internal.h says where each step lives). The steps
// in this file are the ones around the costing: the workload prepared,
// candidates generated, HypoPG started, the `$n` values derived, and at the
// end the what-if statistics and the advisors beyond indexes.
#include "advisor/advisor.h"

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "advisor/advisor_internal.h"
#include "advisor/ext_statistics.h"
#include "advisor/matview.h"
#include "advisor/partition.h"
#include "advisor/patterns.h"
#include "analyzer/sql/write_as_read.h"
#include "catalog/lookups.h"

namespace pgvise {

namespace advise_steps {
namespace {

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

// PostgreSQL checks a write's privileges even for a plain EXPLAIN, so a
// role that may read a table but not change it (the usual advise role,
// pg_read_all_data) can't plan the UPDATEs and DELETEs that dominate many
// write-heavy workloads, and they would be left uncosted. An index helps a
// write only by finding its rows, which its row-finding SELECT plans among
// the same paths (its cost differs only by the projections, a few percent): that SELECT is costed
// in its place (the write overhead still comes from the write's own facts), and the report says so.
// One catalog query over every write target.
void CostWritesAsReads(AdviseRun& run) {
  std::map<std::string, std::vector<size_t>> by_privilege;  // "UPDATE:rel" -> statements
  auto& statements = run.workload.statements;
  for (size_t s = 0; s < statements.size(); ++s) {
    const QueryFacts& f = statements[s].facts;
    if (f.kind != StatementKind::kUpdate && f.kind != StatementKind::kDelete) continue;
    for (const RelationRef& r : f.relations) {
      if (r.location != f.keyword_location || r.is_cte) continue;
      const std::string rel =
          r.schema.empty() ? QuoteIdent(r.name) : QuoteIdent(r.schema) + "." + QuoteIdent(r.name);
      by_privilege[(f.kind == StatementKind::kUpdate ? "UPDATE:" : "DELETE:") + rel].push_back(s);
      break;
    }
  }
  if (by_privilege.empty()) return;
  std::set<std::string> wanted, lacking;
  for (const auto& [key, _] : by_privilege) wanted.insert(key);
  Status st = LackingTablePrivileges(run.session, wanted, &lacking);
  if (!st.ok()) {
    run.rep.notes.push_back("write privileges could not be checked (" + st.message() +
                            "); writes were planned as written");
    return;
  }
  int swapped = 0, refused = 0;
  std::string first_refusal;
  for (const std::string& key : lacking)
    for (size_t s : by_privilege[key]) {
      WorkloadStatement& ws = statements[s];
      std::string select;
      Status rs = RowFindingSelect(ws.sql, &select);
      if (!rs.ok()) {
        if (refused++ == 0) first_refusal = rs.message();
        continue;
      }
      ws.written_sql = ws.sql;
      ws.sql = select;
      ++swapped;
    }
  if (swapped > 0)
    run.rep.notes.push_back(
        std::to_string(swapped) +
        " UPDATE/DELETE statement(s) costed through their row-finding SELECT: the role lacks "
        "the write privilege PostgreSQL checks even for EXPLAIN (the statements section "
        "shows each)");
  if (refused > 0)
    run.rep.notes.push_back(std::to_string(refused) +
                            " UPDATE/DELETE statement(s) the role may not EXPLAIN have no "
                            "row-finding SELECT form (first: " +
                            first_refusal + "); they are reported as not costed");
}

// The original text of the writes costed through their SELECT, for the
// advisors after the index selection, which read statements as written.
void RestoreWrittenText(AdviseRun& run) {
  for (auto& ws : run.workload.statements)
    if (!ws.written_sql.empty()) ws.sql = std::exchange(ws.written_sql, std::string());
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
  run.wi->NameServers(run.session.options().conninfo);
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

// Beyond indexes: each advisor reads the workload and the catalog again and
// adds its own kind of recommendation (their files say how). The view
// advisor costs its rewrites with the same what-if oracle.
void BeyondIndexes(AdviseRun& run) {
  const AdviseOptions& opts = run.opts;
  if (opts.partitions.enabled)
    AdvisePartitions(run.session, run.catalog, run.workload, opts, &run.rep);
  if (opts.views.enabled)
    AdviseViews(run.session, run.catalog, run.workload, opts, *run.oracle, &run.rep);
  if (opts.statistics.enabled)
    AdviseStatistics(run.session, run.catalog, run.workload, opts, &run.rep);
  if (opts.patterns.enabled) AdvisePatterns(run.session, run.catalog, run.workload, opts, &run.rep);
}

}  // namespace
}  // namespace advise_steps

Status RunAdvisor(Session& session, const Catalog& catalog, const Workload& workload,
                  const AdviseOptions& opts, AdviseReport* out) {
  using namespace advise_steps;
  const auto t0 = std::chrono::steady_clock::now();
  AdviseRun run(session, catalog, workload, opts);
  PrepareWorkload(run);
  CostWritesAsReads(run);
  CostRewrittenForms(run);
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
  OfferRewrites(run);
  Finish(run);
  RestoreWrittenText(run);
  BeyondIndexes(run);
  run.rep.wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  *out = std::move(run.rep);
  return Status::Ok();
}

}  // namespace pgvise
