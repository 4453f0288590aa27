#include "rewriter/pg_catalog.h"

#include "catalog/functions.h"
#include "rewriter/verify.h"

namespace pgvise {

namespace {

// format_type() with the type modifier ("numeric(10,2)", "character
// varying(20)", "timestamp(3) without time zone") less the modifier, which
// is what the key-type check compares: numeric(10,2) = numeric(12,4) joins
// without a cast, numeric = double precision does not.
std::string WithoutTypmod(const std::string& type) {
  std::string out;
  int depth = 0;
  for (char c : type) {
    if (c == '(') {
      ++depth;
    } else if (c == ')') {
      if (depth > 0) --depth;
    } else if (depth == 0) {
      out += c;
    }
  }
  return out;
}

// The columns of a unique index that proves "at most one row per key
// value": valid and ready, no predicate (a partial index says nothing of the
// rows outside it), plain columns (no expression) with their default
// operator class (whose equality is the type's `=`), and not backing a
// DEFERRABLE constraint (which may hold duplicates until commit). A
// partitioned table's unique index covers every partition (it must include
// the partition key); a plain inheritance parent's does not (caller).
bool UniqueColumns(const TableInfo& t, const IndexInfo& idx, std::vector<std::string>* cols) {
  if (!idx.unique || !idx.valid || !idx.ready || !idx.predicate.empty() || idx.keys.empty())
    return false;
  if (!idx.constraint.empty()) {
    const ConstraintInfo* con = nullptr;
    for (const auto& c : t.constraints)
      if (c.name == idx.constraint) con = &c;
    // Unread (a locked table) counts as possibly deferrable.
    if (!con || con->definition.empty() || con->definition.find("DEFERRABLE") != std::string::npos)
      return false;
  }
  for (const auto& k : idx.keys) {
    if (k.column.empty() || !k.default_opclass) return false;
    cols->push_back(k.column);
  }
  return true;
}

}  // namespace

SessionCatalog::SessionCatalog(Session* session, const Catalog* snapshot)
    : session_(session), snapshot_(snapshot) {}

const Catalog* SessionCatalog::Snapshot() const {
  if (snapshot_) return snapshot_;
  if (own_snapshot_) return own_snapshot_.get();
  // A failed snapshot is not retried: every table is then unknown and the
  // passes refuse what they cannot prove, as without --db.
  if (snapshot_failed_ || !session_) return nullptr;
  auto c = std::make_unique<Catalog>();
  CatalogOptions opts;
  opts.with_stats = false;  // the passes need no statistics; MCV lists can be large
  Status st = Catalog::Load(*session_, opts, c.get());
  queries_ += c->queries_used();
  if (!st.ok()) {
    snapshot_failed_ = true;
    return nullptr;
  }
  own_snapshot_ = std::move(c);
  return own_snapshot_.get();
}

const RewriteCatalog::Table* SessionCatalog::FindTable(const std::string& schema,
                                                       const std::string& name) const {
  std::string key = schema + "." + name;
  auto it = tables_.find(key);
  if (it != tables_.end()) return it->second.get();
  std::unique_ptr<Table> t;
  const Catalog* cat = Snapshot();
  if (const TableInfo* info = cat ? cat->FindTable(schema, name) : nullptr) {
    t = std::make_unique<Table>();
    for (const auto& c : info->columns) {
      t->not_null[c.name] = c.not_null;
      t->types[c.name] = WithoutTypmod(c.type);
    }
    for (const auto& idx : info->indexes)
      if (idx.primary)
        for (const auto& k : idx.keys) t->primary_key.push_back(k.column);
    if (info->kind == 'p' || !info->has_children)
      for (const auto& idx : info->indexes)
        if (std::vector<std::string> cols; UniqueColumns(*info, idx, &cols))
          t->unique_keys.push_back(std::move(cols));
  }
  const Table* out = t.get();
  tables_[key] = std::move(t);
  return out;
}

void SessionCatalog::Prefetch(const std::set<std::string>& function_names) const {
  std::set<std::string> missing;
  for (const auto& n : function_names)
    if (!functions_.count(n)) missing.insert(n);
  if (missing.empty() || !session_) return;
  FunctionCatalog found;
  Status st = LoadFunctions(*session_, missing, &found, &queries_);
  // A failed query leaves the names unknown (built-in lists decide), and is
  // not retried name by name.
  for (const auto& n : missing) functions_[n] = Function();
  if (!st.ok()) return;
  // Any overload decides: a name is volatile, set-returning or an aggregate
  // when one of its overloads is (the passes do not resolve overloads).
  for (const auto& [name, info] : found.by_name) {
    Function& f = functions_[name];
    f.known = true;
    f.is_volatile |= info.volatility == 'v';
    f.returns_set |= info.returns_set;
    f.is_aggregate |= info.kind == 'a';
  }
}

void SessionCatalog::PrefetchFunctions(const std::vector<std::string>& sqls) const {
  std::set<std::string> names;
  for (const auto& sql : sqls) {
    std::set<std::string> one;
    if (FunctionNames(sql, &one).ok()) names.insert(one.begin(), one.end());
  }
  Prefetch(names);
}

double SessionCatalog::EstimateCost(const std::string& sql) const {
  double cost = -1;
  if (!session_ || !ExplainCost(*session_, sql, &cost).ok()) return -1;
  return cost;
}

RewriteCatalog::Function SessionCatalog::FindFunction(const std::string& name) const {
  auto it = functions_.find(name);
  if (it != functions_.end()) return it->second;
  // Only reached when the caller did not announce the name (RewriteSql
  // always does): a batch of one.
  Prefetch({name});
  return functions_[name];
}

}  // namespace pgvise
