// RewriteOffers: the rewriter wired into `pgvise advise` as the advisor's
// RewriteProvider (advisor/rewrite_offers.h). Its own file because the
// rewriter's and the advisor's verify headers both name a VerifyOptions.
#pragma once

#include "advisor/rewrite_offers.h"
#include "advisor/workload.h"
#include "catalog/catalog.h"
#include "core/session.h"

namespace pgvise {

// The passes with the database's facts (the advise snapshot `catalog`, the
// functions the workload's SELECTs call read in one query) and the estimate
// gate of `pgvise rewrite --db` (rewriter/propose.h), on `session`. Execution
// stays off: advise is read-only and never runs the workload's statements;
// `pgvise rewrite --verify` is the proof the report points at. `session` and
// `catalog` must outlive the provider.
RewriteProvider RewriteOffers(Session& session, const Catalog& catalog, const Workload& workload);

}  // namespace pgvise
