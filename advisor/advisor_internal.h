// The advise run as steps over one shared state (AdviseRun). RunAdvisor
// (advisor.cc) calls them in order; they live by concept:
//
//   advisor.cc          the list, and the steps around the costing: the
//                       workload prepared, candidates generated, HypoPG
//                       started, `$n` values derived, the advisors beyond
//                       indexes, the what-if statistics
//   advisor_select.cc   what the what-if costs decide: the baseline, the
//                       selection under the budget, the notes on what kept
//                       candidates out, the review of existing indexes
//   advisor_explain.cc  what the report says about it: per statement before
//                       and after, one recommendation per chosen index with
//                       a name no relation holds, the GIN candidates apart
//   advisor_rewrite.cc  rewrites: proven ones costed rewritten, then offered
//                       where they still beat the original under the chosen
//                       indexes (advisor/rewrite_offers.h)
//
// Each step is a function of AdviseRun with one comment saying why it is
// there. Internal to the advisor module.
#pragma once

#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "advisor/advisor.h"

namespace pgvise::advise_steps {

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
  // CostRewrittenForms: statement -> what the rewriter offered for it.
  std::map<int, RewriteOffer> rewrites;
  AdviseReport rep;

  void Say(const std::string& m) const {
    if (selection.progress) selection.progress(m);
  }
};

// Cost units in reasons and notes: two decimals.
inline std::string Fmt2(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

// advisor_select.cc
void CostBaseline(AdviseRun& run);
void SelectUnderBudget(AdviseRun& run);
void NoteBindingCap(AdviseRun& run);
void NoteWriteBlocked(AdviseRun& run);
void ReviewExisting(AdviseRun& run);

// advisor_explain.cc
void RecordStatements(AdviseRun& run);
void ReserveTakenNames(AdviseRun& run);
void ExplainRecommendations(AdviseRun& run);
void ReportUnverifiable(AdviseRun& run);

// advisor_rewrite.cc (advisor/rewrite_offers.h)
void CostRewrittenForms(AdviseRun& run);
void OfferRewrites(AdviseRun& run);

}  // namespace pgvise::advise_steps
