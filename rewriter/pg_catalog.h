// SessionCatalog: the RewriteCatalog answered by a live database.
//
// The passes ask for a table's columns, their types and NOT NULL constraints
// (to resolve unqualified columns, to check key types and to prove NOT IN
// safe) and for a function's volatility, set-returning-ness and kind.
//
// Tables come from the shared snapshot (catalog/catalog.h, four queries
// whatever the schema size): the caller's, when it already took one, else one
// taken on first use without pg_stats. Functions are read in one batched
// pg_proc query (catalog/functions.h) for all the names a statement (or a whole file, see
// PrefetchFunctions) calls: RewriteSql announces the names through Prefetch()
// before any pass asks, so the number of queries does not grow with the
// number of functions.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "core/session.h"
#include "rewriter/rewriter.h"

namespace pgvise {

class SessionCatalog : public RewriteCatalog {
 public:
  // `snapshot` is not owned and must outlive this object; nullptr: a snapshot
  // is taken from `session` the first time a table is asked for.
  explicit SessionCatalog(Session* session, const Catalog* snapshot = nullptr);
  const Table* FindTable(const std::string& schema, const std::string& name) const override;
  Function FindFunction(const std::string& name) const override;
  // Reads every name not yet known in one query.
  void Prefetch(const std::set<std::string>& function_names) const override;
  // Prefetch for the function names of several statements at once (e.g. a
  // whole file before it is rewritten statement by statement).
  void PrefetchFunctions(const std::vector<std::string>& sqls) const;
  // EXPLAIN of `sql`, read-only and rolled back; -1 when it does not plan.
  // Not counted in queries(): it is a cost question, not a catalog read.
  double EstimateCost(const std::string& sql) const override;
  // Catalog queries sent so far (snapshot + function batches).
  int queries() const { return queries_; }

 private:
  const Catalog* Snapshot() const;

  Session* session_;
  const Catalog* snapshot_;
  mutable std::unique_ptr<Catalog> own_snapshot_;
  mutable bool snapshot_failed_ = false;
  mutable std::map<std::string, std::unique_ptr<Table>> tables_;  // nullptr: no such table
  mutable std::map<std::string, Function> functions_;             // known=false: no such function
  mutable int queries_ = 0;
};

}  // namespace pgvise
