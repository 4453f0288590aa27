// advisor/partition: partition advice: which tables to partition, by which key and
// interval, with the estimated pruning per statement and a migration that
// never blocks (issue 11). Filled in by the partition advisor.
//
// Where it sits: a step of RunAdvisor (advisor.cc) after the index selection;
// its recommendations land in AdviseReport and are rendered by advisor/report.cc
// through AddPartitionReport.
#pragma once

#include "advisor/advisor.h"
#include "advisor/workload.h"
#include "catalog/catalog.h"
#include "core/report.h"
#include "core/session.h"
#include "core/status.h"

namespace pgvise {

// The RunAdvisor step: reads only (dry run); fills its part of *rep.
void AdvisePartitions(Session& session, const Catalog& catalog, const Workload& workload,
                      const AdviseOptions& opts, AdviseReport* rep);

// Its part of the advise report (body blocks and script actions).
void AddPartitionReport(const AdviseReport& r, Report* report);

// advise --verify on a writable test database: measures what the dry run
// estimated, replacing the estimates in *rep.
Status VerifyPartitions(Session& writable, const AdviseOptions& opts, AdviseReport* rep);

}  // namespace pgvise
