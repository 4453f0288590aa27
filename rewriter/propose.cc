#include "rewriter/propose.h"

namespace pgvise {

std::unique_ptr<SessionCatalog> OpenRewriteCatalog(Session& session, const Catalog* snapshot,
                                                   const std::vector<std::string>& sqls) {
  auto catalog = std::make_unique<SessionCatalog>(&session, snapshot);
  // One pg_proc query for every function the statements call, instead of
  // one per statement.
  catalog->PrefetchFunctions(sqls);
  return catalog;
}

Status ProposeRewrite(const std::string& sql, const RewriteOptions& ro, Session* session,
                      const VerifyOptions& vo, StatementRewrite* r, size_t* error_pos) {
  Status st = RewriteSql(sql, ro, &r->result, error_pos);
  if (!st.ok()) return st;
  r->proposed = r->result.changed;
  // Never slower: with a session a rewrite is proposed only when the planner
  // says it is cheaper (EXPLAIN of both forms, read-only, rolled back);
  // vo.execute also runs both and compares their results.
  if (!r->proposed || !session) return Status::Ok();
  r->check = vo.execute ? RewriteCheck::kMeasured : RewriteCheck::kEstimate;
  st = VerifyRewrite(*session, sql, r->result.sql, vo, &r->verify);
  if (!st.ok()) return Status::Database(st.message());
  r->proposed = r->verify.proposed;
  return Status::Ok();
}

std::string AppliedPasses(const RewriteResult& r) {
  std::string out;
  for (const auto& oc : r.outcomes)
    if (oc.applied) out += (out.empty() ? "" : ", ") + oc.pass;
  return out;
}

std::string SafetyArgument(const RewriteResult& r) {
  std::string out;
  for (const auto& oc : r.outcomes)
    if (oc.applied) out += (out.empty() ? "" : "\n") + oc.pass + ": " + oc.reason;
  return out;
}

}  // namespace pgvise
