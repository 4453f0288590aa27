// The steps of an advise run that offer rewrites (advisor/rewrite_offers.h
// has the concept; advisor_internal.h lists where the other steps live):
//
//   CostRewrittenForms  before the candidates: a workload SELECT whose
//                       rewrite the rewriter's gate proves is costed by the
//                       index selection in its rewritten form
//   OfferRewrites       after the selection: both forms under no new index
//                       and under the chosen indexes; a `rewrite`
//                       recommendation where the rewritten form still wins
//
// Why the selection costs the rewritten form: the statement will run
// rewritten once the rewrite is taken, and an index chosen for its per-row
// SubPlan would be an index bought for a plan that no longer exists. Why the
// offer is checked again after it: an index chosen for the rest of the
// workload may already make the original's SubPlan cheap (an index lookup
// per row); then the rewrite gains nothing and is not offered. Example:
//
//   SELECT u.id FROM users u
//   WHERE (SELECT count(*) FROM orders o WHERE o.note_id = u.id) > 3
//
// with orders.note_id not indexed: a SubPlan scanning orders per user, 12 M
// by estimate; the grouped join 2,100; an index on orders(note_id) brings the
// original to 40 k and the rewrite stays at 2,100: offered, the evidence
// saying what the index alone would do.
//
// Refused (the statement is costed as written): statements other than
// SELECT (a write's rewrite is not offered here), statements already costed
// in another form (a write through its SELECT), and rewrites the gate
// withholds (not cheaper, or an estimate known to mislead: a note says so and
// points at `pgvise rewrite --verify`).
//
// A `$n` statement (pg_stat_statements text) goes through the same gate on
// the generic plans of both forms (the rewriter EXPLAINs through
// analyzer/plan/explain_runner.h); the selection then costs its rewritten
// form with representative values like any `$n` statement, and the offer is
// decided on those costs.
#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "advisor/advisor_internal.h"

namespace pgvise::advise_steps {

// The rewrites the rewriter's gate proves become the statements' costed
// text (`written_sql` keeps the original: RestoreWrittenText puts it back
// for the advisors after the selection, as for writes costed through their
// SELECT). Before GenerateCandidates: nothing hypothetical exists yet on the
// session the provider's EXPLAINs run on.
void CostRewrittenForms(AdviseRun& run) {
  const RewriteOfferOptions& o = run.opts.rewrites;
  if (!o.enabled || !o.provider) return;
  auto& statements = run.workload.statements;
  int withheld = 0;
  std::string first_withheld;
  for (size_t s = 0; s < statements.size(); ++s) {
    WorkloadStatement& ws = statements[s];
    // A query's rewrite only: a write keeps the form it changes rows with.
    if (ws.facts.kind != StatementKind::kSelect) continue;
    // Already costed in another form.
    if (!ws.written_sql.empty()) continue;
    std::optional<RewriteOffer> offer = o.provider(ws.sql);
    if (!offer) continue;
    if (!offer->proven) {
      if (withheld++ == 0)
        first_withheld = "statement " + std::to_string(s + 1) + ": " + offer->decision;
      continue;
    }
    ws.written_sql = std::exchange(ws.sql, offer->rewritten_sql);
    run.rewrites[static_cast<int>(s)] = std::move(*offer);
  }
  if (!run.rewrites.empty())
    run.rep.notes.push_back(
        std::to_string(run.rewrites.size()) +
        " SELECT statement(s) costed in their rewritten form (pgvise rewrite's passes, proven "
        "cheaper by EXPLAIN): the workload cost before and after counts them rewritten; each "
        "rewrite recommendation carries the rewrite's own gain");
  if (withheld > 0)
    run.rep.notes.push_back(std::to_string(withheld) +
                            " SELECT statement(s) have a rewrite the estimate alone does not "
                            "prove, not offered (first: " +
                            first_withheld +
                            "); pgvise rewrite --verify measures them on a copy of the database");
}

namespace {

struct Costs {
  double written_none = 0, written_chosen = 0;      // the original form
  double rewritten_none = 0, rewritten_chosen = 0;  // the rewritten form
};

// Both forms under no new index and under the chosen ones. The rewritten
// form's costs come from the selection's cache; the written form is planned
// afresh (CostUncached: the cache holds the rewritten form's costs).
std::optional<Costs> CostBothForms(AdviseRun& run, int s, std::string* error) {
  WhatIf& wi = *run.wi;
  WorkloadStatement& ws = run.workload.statements[static_cast<size_t>(s)];
  const PlanCost rn = wi.Cost(s, {});
  const PlanCost rc = wi.Cost(s, run.chosen);
  std::swap(ws.sql, ws.written_sql);
  const PlanCost wn = wi.CostUncached(s, {});
  const PlanCost wc = run.chosen.empty() ? wn : wi.CostUncached(s, run.chosen);
  std::swap(ws.sql, ws.written_sql);
  for (const PlanCost* pc : {&rn, &rc, &wn, &wc})
    if (!pc->ok) {
      *error = pc->error;
      return std::nullopt;
    }
  return Costs{wn.cost, wc.cost, rn.cost, rc.cost};
}

// The statement back to its written form in the report: its rewrite is not
// offered, so the workload is not counted rewritten.
void CountAsWritten(AdviseRun& run, int s, const Costs& c) {
  StatementOutcome& out = run.rep.statements[static_cast<size_t>(s)];
  const double calls = out.calls;
  run.rep.workload_cost_before += calls * (c.written_none - out.cost_before);
  run.rep.workload_cost_after += calls * (c.written_chosen - out.cost_after);
  out.cost_before = c.written_none;
  out.cost_after = c.written_chosen;
  out.costed_sql.clear();
}

Recommendation RewriteRecommendation(const WorkloadStatement& ws, int s, const RewriteOffer& offer,
                                     const Costs& c) {
  Recommendation rec;
  rec.kind = RecommendationKind::kRewrite;
  rec.object =
      "statement " + std::to_string(s + 1) + (ws.source.empty() ? "" : " (" + ws.source + ")");
  rec.sql = offer.rewritten_sql;
  while (!rec.sql.empty() &&
         (rec.sql.back() == ';' || rec.sql.back() == '\n' || rec.sql.back() == ' '))
    rec.sql.pop_back();
  const bool index_lowers = c.written_chosen < c.written_none;
  rec.reason =
      "the rewritten form costs " + Fmt2(c.rewritten_none) + " instead of " + Fmt2(c.written_none) +
      " by estimate without new indexes (SubPlans " + std::to_string(offer.subplans_before) +
      " -> " + std::to_string(offer.subplans_after) + "); " +
      (index_lowers
           ? "the recommended indexes lower the original only to " + Fmt2(c.written_chosen) +
                 ", the rewritten form costs " + Fmt2(c.rewritten_chosen) + " under them"
           : "no recommended index lowers the original's cost") +
      ". An estimate: prove it with `pgvise rewrite --verify` on a copy of the "
      "database, then change the application's query";
  rec.benefit.push_back(
      {ws.fingerprint, ws.written_sql, ws.calls, c.written_chosen, c.rewritten_chosen});
  rec.confidence = Confidence::kUnverified;
  rec.Add("statement", static_cast<int64_t>(s + 1))
      .Add("calls", ws.calls)
      .Add("cost_before", c.written_none)
      .Add("cost_after", c.rewritten_none)
      .Add("cost_before_with_indexes", c.written_chosen)
      .Add("cost_after_with_indexes", c.rewritten_chosen)
      .Add("indexes_lower_original", index_lowers)
      .Add("workload_cost_gained", ws.calls * (c.written_chosen - c.rewritten_chosen))
      .Add("subplans_before", static_cast<int64_t>(offer.subplans_before))
      .Add("subplans_after", static_cast<int64_t>(offer.subplans_after))
      .Add("passes", offer.passes)
      .Add("safety", offer.safety)
      .Add("method", std::string("estimate (EXPLAIN of both forms)"))
      .Add("verify_with", std::string("pgvise rewrite --verify"));
  return rec;
}

}  // namespace

// A rewrite is offered where it still wins under the chosen indexes; the
// others are counted as written again and said in a note. Before Finish: the
// written form is costed with the chosen hypothetical indexes.
void OfferRewrites(AdviseRun& run) {
  if (run.rewrites.empty()) return;
  AdviseReport& rep = run.rep;
  std::vector<std::pair<double, Recommendation>> offers;
  int fixed = 0, failed = 0;
  std::string first_fixed, first_failure;
  for (const auto& [s, offer] : run.rewrites) {
    const WorkloadStatement& ws = run.workload.statements[static_cast<size_t>(s)];
    std::string error;
    std::optional<Costs> c = CostBothForms(run, s, &error);
    if (!c) {
      if (failed++ == 0) first_failure = "statement " + std::to_string(s + 1) + ": " + error;
      continue;
    }
    // An index already fixed it: the rewrite gains nothing under the
    // configuration the report recommends.
    if (c->rewritten_chosen >= c->written_chosen) {
      CountAsWritten(run, s, *c);
      if (fixed++ == 0)
        first_fixed = "statement " + std::to_string(s + 1) + ": " + Fmt2(c->written_chosen) +
                      " as written, " + Fmt2(c->rewritten_chosen) + " rewritten";
      continue;
    }
    StatementOutcome& out = rep.statements[static_cast<size_t>(s)];
    out.costing = run.wi->parameters(s).Describe() +
                  ", in its rewritten form (see the rewrite recommendation)";
    Recommendation rec = RewriteRecommendation(ws, s, offer, *c);
    const double gained = ws.calls * (c->written_chosen - c->rewritten_chosen);
    offers.emplace_back(gained, std::move(rec));
  }
  std::stable_sort(offers.begin(), offers.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  // The share of the workload's cost, with the recommended indexes and the
  // statements as written, that each rewrite removes.
  double total = rep.workload_cost_after;
  for (const auto& [gained, _] : offers) total += gained;
  for (auto& [gained, rec] : offers) {
    rec.Add("workload_share", total > 0 ? gained / total : 0.0);
    rep.rewrites.push_back(std::move(rec));
  }
  if (fixed > 0)
    rep.notes.push_back(std::to_string(fixed) +
                        " rewrite(s) cheaper by estimate not offered: under the recommended "
                        "indexes the statement as written is as cheap (first: " +
                        first_fixed + ")");
  if (failed > 0)
    rep.notes.push_back(std::to_string(failed) +
                        " rewrite(s) not offered: a form could not be planned with the "
                        "recommended indexes (first: " +
                        first_failure + ")");
}

}  // namespace pgvise::advise_steps
