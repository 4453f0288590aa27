// ProposeRewrite: one statement through the rewriter and the gates that
// decide whether its rewrite is proposed, as `pgvise rewrite` runs them.
//
// `rewrite` (cli/cmd_rewrite.cc) calls it per statement of a file; `advise`
// (cli/cmd_advise.cc) calls it per workload SELECT to offer the rewrites the
// estimate proves (advisor/rewrite_offers.h). One code path, so the two
// commands never disagree on what is proven:
//
//   RewriteSql      the passes (rewriter/rewriter.h), with the database's
//                   facts when a catalog is given (OpenRewriteCatalog)
//   VerifyRewrite   with a session and a changed statement: EXPLAIN both
//                   forms (and with VerifyOptions::execute run both); the
//                   rewrite is proposed only when VerifyResult::proposed
//                   (rewriter/verify.h: cheaper by estimate and the estimate
//                   not known to mislead, or measured)
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "core/session.h"
#include "rewriter/pg_catalog.h"
#include "rewriter/report.h"
#include "rewriter/verify.h"

namespace pgvise {

// The database-backed catalog the passes read (`snapshot` may be null: one
// is taken on first use), with the functions every statement of `sqls`
// calls read in one query.
std::unique_ptr<SessionCatalog> OpenRewriteCatalog(Session& session, const Catalog* snapshot,
                                                   const std::vector<std::string>& sqls);

// Fills r->result, check, verify and proposed (not stmt or output).
// `session` null: no gate, a changed statement is proposed unchecked.
// InvalidInput when `sql` does not parse (*error_pos: its byte offset);
// Database when the session broke during the check.
Status ProposeRewrite(const std::string& sql, const RewriteOptions& ro, Session* session,
                      const VerifyOptions& vo, StatementRewrite* r, size_t* error_pos);

// The passes applied, comma-separated ("decorrelate-scalar-count"), and
// their safety arguments, one line each ("pass: why the result is kept").
std::string AppliedPasses(const RewriteResult& r);
std::string SafetyArgument(const RewriteResult& r);

}  // namespace pgvise
