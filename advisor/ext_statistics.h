// advisor/ext_statistics: extended-statistics advice: CREATE STATISTICS on column groups
// the workload filters or groups together whose combined selectivity the
// planner misestimates (q-error from a sample, issue 12).
//
// Where it sits: a step of RunAdvisor (advisor.cc) after the index selection;
// its recommendations land in AdviseReport and are rendered by advisor/report.cc
// through AddStatisticsReport. Existing statistics objects come from
// catalog/ext_stats.h. The method and the JSON contract: docs/advise-statistics.md.
#pragma once

#include <string>
#include <vector>

#include "advisor/advisor.h"
#include "advisor/workload.h"
#include "catalog/catalog.h"
#include "core/report.h"
#include "core/session.h"
#include "core/status.h"

namespace pgvise {

// The RunAdvisor step: reads only (dry run); fills its part of *rep.
void AdviseStatistics(Session& session, const Catalog& catalog, const Workload& workload,
                      const AdviseOptions& opts, AdviseReport* rep);

// Its part of the advise report (body blocks and script actions).
void AddStatisticsReport(const AdviseReport& r, Report* report);

// advise --verify on a writable test database: measures what the dry run
// estimated, replacing the estimates in *rep.
Status VerifyStatistics(Session& writable, const AdviseOptions& opts, AdviseReport* rep);

// ---- The pieces, exposed for tests (advisor/ext_statistics_test.cc).

// A set of columns of one table that the workload filters or groups on together.
struct ColumnGroup {
  std::string schema, table;
  std::vector<std::string> columns;  // catalogued names, in attnum order (at most 8)
  bool filter = false;               // ANDed in a WHERE/ON (equality, IN, range)
  bool group_by = false;             // GROUP BY together
  bool equality = false;             // some filter on it is equality / IN (dependencies help)
  bool has_range = false;            // some filter on it is a range (only an MCV list helps)
  double calls = 0;                  // calls of the statements that use it
  std::vector<int> statements;       // workload statement indices
  // The combined predicate to probe with: the heaviest statement's own
  // conditions on these columns, `$n` replaced by representative values
  // ("city = 'Paris' AND zip = '75001'"); empty when no statement gave values.
  std::string probe;
  // Per column, its part of `probe`; "" for `col = $n`, whose value
  // AdviseStatistics takes from the data (the most frequent combination in
  // a sample), so `probe` is empty until then.
  std::vector<std::string> probe_terms;
  bool probe_from_data = false;
  int probe_statement = -1;
  // The distinct combinations fit in one MCV list (default_statistics_target
  // items): only then does an MCV list estimate any value. A value missing
  // from the list falls back to independence, and the planner does not apply
  // dependencies to clauses the MCV list already estimated, so an MCV list on
  // many combinations would undo the dependencies.
  bool mcv_fits = false;
  bool covered = false;  // an existing statistics object covers it
  std::string covered_by;
};

// Column groups of the workload (one per table and column set). Reads no
// database: values come from the statements and their parameters
// (advisor/parameters.h).
std::vector<ColumnGroup> FindColumnGroups(const Catalog& catalog, const Workload& workload,
                                          const ParameterOptions& params);

// q-error of an estimate against an actual row count, both floored at one
// row: max(est/act, act/est) >= 1.
double QError(double estimated_rows, double actual_rows);

// PostgreSQL's own ndistinct estimator (Haas & Stokes' Duj1, as ANALYZE
// uses): n sampled rows, d distinct values in them, f1 seen exactly once,
// total_rows in the table.
double Duj1Distinct(double n, double d, double f1, double total_rows);

// The kinds a group needs: ndistinct for GROUP BY; for filters dependencies
// (equality) and an MCV list when the combinations fit in one (mcv_fits) or
// the filter has ranges (dependencies do not serve ranges).
std::string StatisticsKinds(const ColumnGroup& g);  // "dependencies, mcv"

}  // namespace pgvise
