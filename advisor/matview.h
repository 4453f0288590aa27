// advisor/matview: materialized-view advice: views chosen from the workload's
// repeated joins and aggregates, with the rewritten statements, the refresh
// cadence and its cost (issue 12). Filled in by the view advisor.
//
// Where it sits: a step of RunAdvisor (advisor.cc) after the index selection;
// its recommendations land in AdviseReport and are rendered by advisor/report.cc
// through AddViewReport.
#pragma once

#include "advisor/advisor.h"
#include "advisor/workload.h"
#include "catalog/catalog.h"
#include "core/report.h"
#include "core/session.h"
#include "core/status.h"

namespace pgvise {

// The RunAdvisor step: reads only (dry run); fills its part of *rep. The
// oracle says how many rows the workload writes to each base table (the
// index advisor's own count, see WhatIfOracle::TableWrites).
void AdviseViews(Session& session, const Catalog& catalog, const Workload& workload,
                 const AdviseOptions& opts, const WhatIfOracle& writes, AdviseReport* rep);

// Its part of the advise report (body blocks and script actions).
void AddViewReport(const AdviseReport& r, Report* report);

// advise --verify on a writable test database: measures what the dry run
// estimated, replacing the estimates in *rep.
Status VerifyViews(Session& writable, const AdviseOptions& opts, AdviseReport* rep);

}  // namespace pgvise
