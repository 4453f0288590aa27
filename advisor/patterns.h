// advisor/patterns: workload patterns found in pg_stat_statements (N+1, single-row
// INSERTs at a high rate, OFFSET pagination, ...) as findings with rule ids
// (issue 12).
//
// Where it sits: a step of RunAdvisor (advisor.cc) after the index selection;
// its recommendations land in AdviseReport and are rendered by advisor/report.cc
// through AddPatternReport.
#pragma once

#include "advisor/advisor.h"
#include "advisor/workload.h"
#include "catalog/catalog.h"
#include "core/report.h"
#include "core/session.h"
#include "core/status.h"

namespace pgvise {

// The RunAdvisor step: reads only (dry run); fills its part of *rep.
void AdvisePatterns(Session& session, const Catalog& catalog, const Workload& workload,
                    const AdviseOptions& opts, AdviseReport* rep);

// Its part of the advise report (body blocks and script actions).
void AddPatternReport(const AdviseReport& r, Report* report);

}  // namespace pgvise
