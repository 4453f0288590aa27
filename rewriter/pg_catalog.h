// SessionCatalog: the RewriteCatalog answered by a live database.
//
// The passes ask for a table's columns and their NOT NULL constraints (to
// resolve unqualified columns and to prove NOT IN safe) and for a function's
// volatility, set-returning-ness and kind. Each distinct table or function
// name costs one catalog query, asked lazily and cached; the session is the
// command's read-only analysis session.
// (Kept rewriter-private until analyzer/catalog.h offers the same facts.)
#pragma once

#include <map>
#include <memory>
#include <string>

#include "core/session.h"
#include "rewriter/rewriter.h"

namespace pgvise {

class SessionCatalog : public RewriteCatalog {
 public:
  explicit SessionCatalog(Session* session) : session_(session) {}
  const Table* FindTable(const std::string& schema, const std::string& name) const override;
  Function FindFunction(const std::string& name) const override;
  int queries() const { return queries_; }

 private:
  Session* session_;
  mutable std::map<std::string, std::unique_ptr<Table>> tables_;  // nullptr: no such table
  mutable std::map<std::string, Function> functions_;
  mutable int queries_ = 0;
};

}  // namespace pgvise
