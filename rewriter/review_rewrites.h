// ReviewRewrites: `pgvise review`'s RewriteProposer (analyzer/review/review.h).
//
// A correlated subquery (static rule) or a SubPlan run per outer row (plan
// check) is exactly what `pgvise rewrite` decorrelates, so the finding carries
// the rewritten statement, or the pass that refused and its reason — the
// author sees the fix, or why there is no safe mechanical one, in the review.
// Example: `SELECT u.id FROM users u WHERE (SELECT count(*) FROM orders o
// WHERE o.user_id = u.id) > 10` gets the suggestion "... rewritten by pgvise
// rewrite (decorrelate-scalar-where): SELECT u.id FROM users u JOIN (SELECT
// ... GROUP BY o.user_id) ..." and the evidence rewrite_passes =
// "decorrelate-scalar-where". The rewrite is proposed, never applied; with
// --db the catalog proves NOT NULL, key types and function volatility.

#pragma once

#include <memory>

#include "analyzer/review/review.h"
#include "core/session.h"
#include "rewriter/pg_catalog.h"

namespace pgvise {

class ReviewRewrites : public RewriteProposer {
 public:
  // `session`: the --db session (not owned), or nullptr.
  explicit ReviewRewrites(Session* session) : session_(session) {}
  void Propose(const SqlFile& file, const Catalog* catalog, std::vector<Finding>::iterator begin,
               std::vector<Finding>::iterator end) override;

 private:
  Session* session_;
  // Over the review's snapshot, + batched pg_proc; made on first use so its
  // function look-ups are shared by every file.
  std::unique_ptr<SessionCatalog> catalog_;
};

}  // namespace pgvise
