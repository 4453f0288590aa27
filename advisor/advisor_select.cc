// The steps of an advise run that decide with the what-if costs
// (advisor_internal.h lists where the others live):
//
//   CostBaseline       every statement planned as the database is now,
//                      then under each single candidate (--jobs: in
//                      parallel); the CostOracle the selection asks
//   SelectUnderBudget  Extend over the whole workload (advisor/selection.h)
//   NoteBindingCap     --max-indexes, not the budget, kept a paying index out
//   NoteWriteBlocked   write overhead, not the budget, kept candidates out
//   ReviewExisting     drops of existing indexes, each shown not to raise the
//                      workload cost (advisor/existing.h)
//
// The notes exist because a short list of recommendations reads as "nothing
// more would help" unless the report says which limit cut it.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <vector>

#include "advisor/advisor_internal.h"
#include "advisor/existing.h"

namespace pgvise::advise_steps {

// Every statement as the database is now. A statement whose custom plans
// fail falls back to its generic plan; beside custom plans the generic plan
// is asked once too, as a check the report shows.
void CostBaseline(AdviseRun& run) {
  WhatIf& wi = *run.wi;
  run.selection.started = std::chrono::steady_clock::now();  // --time-limit auto scales from here
  int fell_back = 0;
  wi.CostAll({});  // one pipeline per connection
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
  // The rows each statement really returned per call (pg_stat_statements)
  // correct the guessed weights of its value sets (parameters.cc).
  int fitted = 0;
  for (int s = 0; s < static_cast<int>(run.workload.statements.size()); ++s)
    fitted += wi.FitToRecordedRows(s) ? 1 : 0;
  if (fitted > 0)
    run.rep.notes.push_back(std::to_string(fitted) +
                            " statement(s) costed with value-set weights fitted to the rows per "
                            "call pg_stat_statements recorded (see the statements section)");
  size_t matrix = 0;
  for (const auto& rel : wi.candidates().relevant) matrix += rel.size();
  run.Say("what-if matrix: " + std::to_string(matrix) +
          " (statement, candidate) pairs at most, before the lazy selection skips");
  wi.PrefetchMatrix();  // --jobs: every statement under each single candidate
  run.oracle = std::make_unique<WhatIfOracle>(wi, run.opts);
}

// Extend over the whole workload, weighted by calls, within the budget.
void SelectUnderBudget(AdviseRun& run) {
  // -v: each step with the what-ifs spent so far (where the EXPLAINs go).
  SelectionOptions opts = run.selection;
  if (opts.progress)
    opts.progress = [&run](const std::string& m) {
      run.Say(m + " [" + std::to_string(run.wi->stats().whatif_calls) + " what-ifs]");
    };
  SelectionResult sel = SelectExtend(*run.oracle, opts);
  AdviseReport& rep = run.rep;
  rep.selection_steps = sel.steps;
  rep.local_moves = sel.local_moves;
  rep.timed_out = sel.timed_out;
  rep.selection_log = sel.log;
  if (sel.timed_out)
    rep.notes.push_back("--time-limit reached (" + std::to_string(std::llround(sel.time_limit_s)) +
                        " s after the what-if matrix): the recommendations are the best found "
                        "so far");
  else if (run.selection.time_limit_rounds > 0 && sel.time_limit_s > run.selection.time_limit_s)
    run.Say("time limit " + std::to_string(std::llround(sel.time_limit_s)) + " s (" +
            Fmt2(run.selection.time_limit_rounds) + "x the what-if matrix's time), not reached");
  run.chosen = sel.chosen;
  // Sizes (the budget's unit) that rest on a measured distinct count, not
  // pg_stats' (advisor/index_size.h): the report names the columns.
  std::string measured;
  int n = 0;
  for (const auto& [table, cols] : run.wi->measured_distinct()) {
    const TableInfo* t = run.catalog.FindTable(table.first, table.second);
    if (!t) continue;
    for (const auto& [col, d] : cols) {
      const ColumnInfo* ci = t->Column(col);
      measured += std::string(n++ ? ", " : "") + t->QualifiedName() + "." + col + " " +
                  std::to_string(std::llround(d));
      if (ci)
        measured +=
            " (pg_stats " + std::to_string(std::llround(ci->DistinctValues(t->Rows()))) + ")";
    }
  }
  if (n > 0) {
    rep.notes.push_back(
        "index sizes use distinct counts measured on a block sample for " + std::to_string(n) +
        " physically ordered column(s) where ANALYZE's sample counted too few: " + measured);
    run.Say(rep.notes.back());
  }
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
    // Without write overhead nothing was blocked, and pricing the candidate
    // would spend a what-if per statement on a note (at a small budget most
    // candidates were never priced: they do not fit).
    const double w = o.WriteOverhead(c);
    if (w <= 0) continue;
    double gain = 0;
    for (int s : o.StatementsFor(c)) gain += o.Calls(s) * (o.Cost(s, {}) - o.Cost(s, {c}));
    if (gain > 0 && gain <= w) ++blocked;
  }
  if (blocked > 0)
    run.rep.notes.push_back(
        std::to_string(blocked) +
        " candidate(s) would lower read cost but less than their write overhead "
        "(--write-source " +
        run.opts.write_source + ", --write-cost " + Fmt2(run.opts.write_cost_per_row) +
        "); after a bulk load, --write-source none ignores the load's writes");
}

// Drops, each shown not to raise the workload cost.
void ReviewExisting(AdviseRun& run) {
  if (!run.opts.review_existing) return;
  run.Say("reviewing existing indexes");
  ReviewExistingIndexes(*run.wi, *run.oracle, run.chosen, run.opts, &run.rep);
}

}  // namespace pgvise::advise_steps
