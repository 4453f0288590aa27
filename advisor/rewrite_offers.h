// Rewrite offers: `pgvise advise` says when a statement's best gain is a
// rewrite, not an index (issue 14). A correlated aggregate subquery runs once
// per outer row (a SubPlan); when no index makes that cheap, the rewriter's
// grouped join does.
//
// The advisor does not depend on the rewriter (core <- analyzer <- advisor,
// rewriter <- cli): it asks a RewriteProvider, which the command wires to the
// rewriter (cli/cmd_advise.cc, through rewriter/propose.h, the code path of
// `pgvise rewrite --db`). Its gate decides what is proven: the rewriter
// changed the statement, the rewrite is cheaper by EXPLAIN, and the estimate
// is not one known to mislead (rewriter/verify.h, MisleadingEstimate). It
// never runs the statements: the proof by execution is `pgvise rewrite
// --verify`, which the report points at.
//
// In the run (advisor/advisor_rewrite.cc):
//   CostRewrittenForms  before the candidates: each workload SELECT with a
//                       proven rewrite is costed in its rewritten form by the
//                       index selection (its written text kept, as for writes
//                       costed through their SELECT)
//   OfferRewrites       after the selection: the original form costed again
//                       under no new index and under the chosen ones; a
//                       `rewrite` recommendation only when the rewritten
//                       form is cheaper under the chosen indexes too (an
//                       index did not already fix it); the text restored
//                       with the writes' before the advisors beyond indexes
//
// Example: `SELECT u.id FROM users u WHERE (SELECT count(*) FROM orders o
// WHERE o.note_id = u.id) > 3` with orders.note_id not indexed: 12.4 M ->
// 2,140 by estimate, no new index changes that; offered with the grouped join.
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace pgvise {

struct AdviseReport;
struct Report;

// What the rewriter says about one statement.
struct RewriteOffer {
  // The gate passed (changed, cheaper by estimate, estimate not known to
  // mislead). false: changed but withheld; `decision` says why.
  bool proven = false;
  std::string rewritten_sql;
  std::string passes;    // the passes applied, comma-separated
  std::string safety;    // each applied pass's safety argument, one per line
  std::string decision;  // the gate's sentence, with its numbers
  double est_cost_before = 0, est_cost_after = 0;  // EXPLAIN of both forms, no new index
  int subplans_before = 0, subplans_after = 0;
};

// nullopt: the rewriter left the statement unchanged (or could not parse it).
using RewriteProvider = std::function<std::optional<RewriteOffer>(const std::string& sql)>;

struct RewriteOfferOptions {  // docs/advise.md, "Rewrites"
  bool enabled = true;        // --no-rewrites
  RewriteProvider provider;   // null: no rewrites are offered
};

// The report's "Rewrites" section and its script steps (commented out: an
// application change to review, not DDL); advisor/advisor_rewrite.cc.
void AddRewriteReport(const AdviseReport& r, Report* report);

}  // namespace pgvise
