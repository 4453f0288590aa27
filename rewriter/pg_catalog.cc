#include "rewriter/pg_catalog.h"

namespace pgvise {

const RewriteCatalog::Table* SessionCatalog::FindTable(const std::string& schema,
                                                       const std::string& name) const {
  std::string key = schema.empty() ? QuoteIdent(name) : QuoteIdent(schema) + "." + QuoteIdent(name);
  auto it = tables_.find(key);
  if (it != tables_.end()) return it->second.get();
  Rows rows;
  ++queries_;
  Status st = session_->Query(
      "SELECT a.attname, a.attnotnull, format_type(a.atttypid, NULL) FROM pg_attribute a "
      "WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped",
      {key}, &rows);
  std::unique_ptr<Table> t;
  if (st.ok() && !rows.empty()) {
    t = std::make_unique<Table>();
    for (size_t i = 0; i < rows.size(); ++i) {
      t->not_null[rows.Text(i, 0)] = rows.Bool(i, 1);
      t->types[rows.Text(i, 0)] = rows.Text(i, 2);
    }
  }
  const Table* out = t.get();
  tables_[key] = std::move(t);
  return out;
}

RewriteCatalog::Function SessionCatalog::FindFunction(const std::string& name) const {
  auto it = functions_.find(name);
  if (it != functions_.end()) return it->second;
  Rows rows;
  ++queries_;
  Status st = session_->Query(
      "SELECT count(*), coalesce(bool_or(provolatile = 'v'), false), coalesce(bool_or(proretset), "
      "false), "
      "coalesce(bool_or(prokind = 'a'), false) FROM pg_proc WHERE proname = $1",
      {name}, &rows);
  Function f;
  if (st.ok() && rows.size() == 1 && rows.Int(0, 0) > 0) {
    f.known = true;
    f.is_volatile = rows.Bool(0, 1);
    f.returns_set = rows.Bool(0, 2);
    f.is_aggregate = rows.Bool(0, 3);
  }
  functions_[name] = f;
  return f;
}

}  // namespace pgvise
