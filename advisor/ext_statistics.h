// advisor/ext_statistics: extended-statistics advice: CREATE STATISTICS on column groups
// the workload filters or groups together whose combined selectivity the
// planner misestimates (q-error from a sample, issue 12).
//
// Where it sits: a step of RunAdvisor (advisor.cc) after the index selection;
// its recommendations land in AdviseReport and are rendered by advisor/report.cc
// through AddStatisticsReport.
#pragma once

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

}  // namespace pgvise
