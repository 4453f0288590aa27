// advisor/patterns: workload patterns found in pg_stat_statements (N+1, single-row
// INSERTs at a high rate, OFFSET pagination, ...) as findings with rule ids
// (issue 12).
//
// Where it sits: a step of RunAdvisor (advisor.cc) after the index selection;
// its findings land in AdviseReport::patterns and are rendered by
// advisor/report.cc through AddPatternReport (JSON: "patterns", each a
// Finding in core/json.h's shape). docs/advise-patterns.md has every pattern,
// its numbers and its JSON.
//
// Each pattern is a rule of area `workload`: one YAML in rules/workload/<id>.yaml
// (summary, rationale, fix, thresholds, examples that run as tests in
// advisor/patterns_pg_test.cc) and one handler in patterns.cc's table with the
// same id. The handlers read:
//   - pg_stat_statements' counters of every top-level statement of the
//     database (catalog/stat_statements.h: calls, rows, exec and plan time,
//     buffers), each statement parsed again for its facts (tables, the
//     equality key, OFFSET, ORDER BY random());
//   - the window the counters cover: now() - pg_stat_statements_info.stats_reset
//     (or PatternOptions::window_s). A rule with a `min_window_minutes`
//     threshold judges nothing on a shorter window: rates over a few minutes
//     after a reset describe a deploy or a batch job, not the workload. The
//     report then carries one note saying so instead of findings;
//   - the catalog (foreign keys link an N+1 lookup to the list driving it;
//     pg_stat_user_tables' row changes say whether data changes rarely);
//   - the advise run's own costing (AdviseReport::statements: custom plans over
//     representative values beside the generic plan) for generic-plan traps.
// Everything here reads; nothing is built or run on the server.
//
// Worked example (the N+1 rule): pg_stat_statements holds
//   SELECT id, customer_id, total FROM orders WHERE id > $1 ORDER BY id LIMIT $2   40 calls
//   SELECT name FROM customers WHERE id = $1                 2,000 calls, 2,000 rows
// orders.customer_id references customers, so the list is the lookup's
// sibling; 2,000 / 40 = 50 >= min_calls_ratio 20 and 1.0 row per call <= 1.5:
// an N+1 keyed on customers.id. Batched (`WHERE id = ANY($1)`, one call per
// list call) it would take 40 calls instead of 2,000: 1,960 round trips saved,
// 0.6 s at the assumed 0.3 ms each, named as an estimate in the evidence.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "advisor/advisor.h"
#include "advisor/workload.h"
#include "analyzer/sql/query_facts.h"
#include "catalog/catalog.h"
#include "catalog/stat_statements.h"
#include "core/report.h"
#include "core/rule.h"
#include "core/session.h"
#include "core/status.h"

namespace pgvise {

// The RunAdvisor step: reads only (dry run); fills rep->patterns and notes.
void AdvisePatterns(Session& session, const Catalog& catalog, const Workload& workload,
                    const AdviseOptions& opts, AdviseReport* rep);

// Its part of the advise report (a section of the body; findings for SARIF).
void AddPatternReport(const AdviseReport& r, Report* report);

// One pg_stat_statements entry as the workload rules read it.
struct PatternStatement {
  StatementCounters counters;
  bool parsed = false;
  QueryFacts facts;
  // Tables it reads or writes at any query level, as the catalog names them
  // (schema.table) when it knows them, else as written.
  std::vector<std::string> tables;
  int params = 0;  // highest $n in the text (0: every call is the same statement)
};

// The plans of one `$n` statement of the advise run: its generic plan and
// the custom plan of each of its value sets, each as a shape ("Aggregate,
// Seq Scan on tickets"): node types with the relation and index they read.
struct PlanShapes {
  std::string generic;
  std::vector<std::string> custom;  // [i]: StatementOutcome::value_sets[i]
  // [i]: the generic plan's own shape costed with value set i's values (the
  // planner kept off the node types that set's custom plan chose instead),
  // for the common-value side of the trap; -1 when not asked or when that
  // shape could not be reproduced.
  std::vector<double> generic_cost_at;
};

// What the rules judge.
struct PatternInput {
  std::vector<PatternStatement> statements;
  StatementWindow window;     // window.seconds divides counts into rates
  std::string window_source;  // "pg_stat_statements_info.stats_reset ..." or "given"
  const Catalog* catalog = nullptr;
  const AdviseReport* advice = nullptr;  // the advise run's costing (may be null)
  // By StatementOutcome::index: the plan shapes AdvisePatterns asked for
  // where the costs alone suggest a generic-plan trap.
  std::map<int, PlanShapes> shapes;
};

// Parses each entry and resolves its tables; statements on system catalogs
// only (pgvise's own queries, monitoring) are left out.
std::vector<PatternStatement> PatternStatements(const std::vector<StatementCounters>& counters,
                                                const Catalog& catalog);

// Runs every enabled workload rule. Findings worst first (severity, then the
// time at stake); `notes` gets what could not be judged and why (the window).
void FindPatterns(const PatternInput& in, const RuleBook& rules, std::vector<Finding>* out,
                  std::vector<std::string>* notes);

// The ids of every workload handler (for RuleBook::CheckHandlers).
std::set<std::string> PatternRuleIds();

}  // namespace pgvise
