// Workload patterns: the handlers of rules/workload/*.yaml and the advise step
// that feeds them (see patterns.h for what each reads and a worked example).
//
// Every handler follows one discipline:
//   - it fires on counters pg_stat_statements measured (calls, rows, time,
//     buffers) and on the statement's parsed shape, never on the text alone;
//   - thresholds come from its YAML (Rule::Threshold), nothing numeric is
//     decided here;
//   - what it cannot measure in a read-only run (the time a rewrite would
//     save) is an estimate, and its evidence key says so (`*_estimate`), with
//     the assumption it rests on beside it (`round_trip_ms_assumed`);
//   - each finding carries the window its rates came from (`window_s`,
//     `window_source`) and the pg_stat_statements evictions since the reset
//     (`dealloc`), so a reader can judge the numbers.
#include "advisor/patterns.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

#include "advisor/parameters.h"
#include "advisor/patterns_internal.h"
#include "analyzer/plan/explain_runner.h"
#include "analyzer/plan/plan.h"
#include "core/source.h"

namespace pgvise {

namespace {

using namespace patterns_detail;  // NOLINT: this file is the other half of the pattern advisor

// The number behind a finding's rank: the execution time at stake.
double Stake(const Finding& f) {
  for (const auto& e : f.evidence)
    if (e.key == "total_exec_ms")
      if (const double* d = std::get_if<double>(&e.value)) return *d;
  return 0;
}

std::string EvidenceText(const EvidenceValue& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return Num(static_cast<double>(*i));
  if (const auto* d = std::get_if<double>(&v)) return Num(*d);
  if (const auto* b = std::get_if<bool>(&v)) return *b ? "yes" : "no";
  return std::get<std::string>(v);
}

}  // namespace

std::set<std::string> PatternRuleIds() {
  std::set<std::string> ids;
  for (const auto& [id, fn] : Handlers()) ids.insert(id);
  return ids;
}

std::vector<PatternStatement> PatternStatements(const std::vector<StatementCounters>& counters,
                                                const Catalog& catalog) {
  std::vector<PatternStatement> out;
  for (const auto& c : counters) {
    PatternStatement s;
    s.counters = c;
    size_t err = 0;
    s.parsed = ParseStatementFacts(c.query, &s.facts, &err).ok();
    if (!s.parsed) continue;
    std::set<std::string> seen;
    auto add = [&](const RelationRef& r) {
      if (IsSystemName(r)) return;
      std::string name = Resolve(catalog, r);
      if (seen.insert(name).second) s.tables.push_back(name);
    };
    for (const auto& r : s.facts.relations) add(r);
    for (const auto& sq : s.facts.subqueries)
      for (const auto& r : sq.relations) add(r);
    if (s.tables.empty()) continue;  // system catalogs only: not the application's
    if (!CountParams(c.query, &s.params).ok()) s.params = 0;
    out.push_back(std::move(s));
  }
  return out;
}

void FindPatterns(const PatternInput& in, const RuleBook& rules, std::vector<Finding>* out,
                  std::vector<std::string>* notes) {
  std::vector<Finding> found;
  std::vector<std::string> too_short;
  double need_min = 0;
  for (const auto& [id, handler] : Handlers()) {
    const Rule* rule = rules.Enabled(id);
    if (!rule) continue;
    // Rates need a window long enough to describe the workload.
    if (rule->thresholds.count("min_window_minutes")) {
      if (in.statements.empty()) continue;
      const double need = rule->Threshold("min_window_minutes") * 60;
      if (!in.window.known || in.window.seconds < need) {
        too_short.push_back(id);
        need_min = std::max(need_min, need);
        continue;
      }
    }
    handler(Call{in, *rule}, &found);
  }
  if (!too_short.empty()) {
    std::string ids;
    for (const auto& id : too_short) ids += (ids.empty() ? "" : ", ") + id;
    notes->push_back(
        (in.window.known ? "pg_stat_statements' counters cover " + Duration(in.window.seconds) +
                               " (" + in.window_source + ")"
                         : std::string("the window pg_stat_statements' counters cover is "
                                       "unknown (pg_stat_statements_info needs PostgreSQL 14)")) +
        "; workload patterns " + ids + " need at least " + Duration(need_min) +
        " and were not judged (run advise later, or lower min_window_minutes in .pgvise.yaml)");
  }
  if (in.window.dealloc > 0 && !found.empty())
    notes->push_back("pg_stat_statements evicted " + Num(static_cast<double>(in.window.dealloc)) +
                     " entries since its reset (pg_stat_statements.max " +
                     Num(static_cast<double>(in.window.max_entries)) +
                     "): re-created entries count from their return, so rates are lower bounds");
  std::stable_sort(found.begin(), found.end(), [](const Finding& a, const Finding& b) {
    if (a.severity != b.severity) return a.severity > b.severity;
    return Stake(a) > Stake(b);
  });
  for (auto& f : found) out->push_back(std::move(f));
}

void AdvisePatterns(Session& session, const Catalog& catalog, const Workload& workload,
                    const AdviseOptions& opts, AdviseReport* rep) {
  RuleBook own;
  const RuleBook* rules = opts.patterns.rules;
  if (!rules) {
    Status st = RuleBook::LoadDefault("", "", &own);
    if (!st.ok()) {
      rep->notes.push_back("workload patterns not judged: " + st.message());
      return;
    }
    rules = &own;
  }
  Status st = rules->CheckHandlers({"workload"}, PatternRuleIds());
  if (!st.ok()) {
    rep->notes.push_back("workload patterns not judged: " + st.message());
    return;
  }
  PatternInput in;
  in.catalog = &catalog;
  in.advice = rep;
  // Counters are read only when the workload came from pg_stat_statements: a
  // run on SQL files is about those files.
  if (workload.from_pg_stat_statements) {
    std::vector<StatementCounters> counters;
    st = ReadStatementCounters(session, opts.patterns.limit, &counters);
    if (!st.ok()) {
      rep->notes.push_back("workload patterns: " + st.message());
    } else {
      in.statements = PatternStatements(counters, catalog);
      ReadStatementWindow(session, &in.window);
      in.window_source = "since pg_stat_statements_info.stats_reset " + in.window.stats_reset;
      if (opts.patterns.window_s > 0) {
        in.window.known = true;
        in.window.seconds = opts.patterns.window_s;
        in.window_source = "given by the caller";
      }
    }
  } else if (opts.verbose) {
    rep->notes.push_back(
        "workload patterns read pg_stat_statements; this workload came from SQL files "
        "(--from both adds it), so only generic-plan traps were looked for");
  }
  if (const Rule* trap = rules->Enabled("generic-plan-trap"))
    AskPlanShapes(session, catalog, workload, opts, *trap, *rep, &in.shapes);
  std::vector<std::string> notes;
  FindPatterns(in, *rules, &rep->patterns, &notes);
  for (auto& n : notes) rep->notes.push_back(std::move(n));
}

void AddPatternReport(const AdviseReport& r, Report* report) {
  if (r.patterns.empty()) return;
  auto& b = report->body;
  b.push_back(ReportBlock::Heading("Workload patterns"));
  b.push_back(ReportBlock::Paragraph(
      "From pg_stat_statements and the advise run's costing; each is a rule (`pgvise rules "
      "ID`). Figures named *_estimate are estimates, not measurements."));
  for (const Finding& f : r.patterns) {
    b.push_back(ReportBlock::Heading(f.rule + ": " + f.message, 3));
    std::vector<std::pair<std::string, std::string>> kv;
    for (const auto& e : f.evidence)
      if (e.key != "query") kv.emplace_back(e.key, EvidenceText(e.value));
    b.push_back(ReportBlock::KeyValues(std::move(kv)));
    if (!f.suggestion.empty()) b.push_back(ReportBlock::Paragraph("Fix: " + f.suggestion));
    report->findings.push_back(f);
  }
}

}  // namespace pgvise
