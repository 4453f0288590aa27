#include "cli/advise_rewrites.h"

#include <memory>
#include <string>
#include <vector>

#include "rewriter/propose.h"

namespace pgvise {

RewriteProvider RewriteOffers(Session& session, const Catalog& catalog, const Workload& workload) {
  std::vector<std::string> sqls;
  for (const auto& ws : workload.statements)
    if (ws.facts.kind == StatementKind::kSelect) sqls.push_back(ws.sql);
  std::shared_ptr<SessionCatalog> rc = OpenRewriteCatalog(session, &catalog, sqls);
  return [&session, rc](const std::string& sql) -> std::optional<RewriteOffer> {
    RewriteOptions ro;
    ro.catalog = rc.get();
    VerifyOptions vo;
    vo.execute = false;
    StatementRewrite r;
    size_t pos = 0;
    Status st = ProposeRewrite(sql, ro, &session, vo, &r, &pos);
    if (st.code() == Status::Code::kDatabase) throw Error(ExitCode::kDatabaseError, st.message());
    if (!st.ok() || !r.result.changed) return std::nullopt;
    RewriteOffer o;
    o.proven = r.proposed;
    o.rewritten_sql = r.result.sql;
    o.passes = AppliedPasses(r.result);
    o.safety = SafetyArgument(r.result);
    o.decision = r.verify.note;
    o.est_cost_before = r.verify.cost_before;
    o.est_cost_after = r.verify.cost_after;
    o.subplans_before = r.verify.subplans_before;
    o.subplans_after = r.verify.subplans_after;
    return o;
  };
}

}  // namespace pgvise
