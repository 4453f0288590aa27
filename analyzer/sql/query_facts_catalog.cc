// Unqualified columns resolved with the catalog (ResolveColumns).
//
// Facts come from the parse tree alone, so in a statement over several
// relations a column written without its alias has no known owner:
//
//   SELECT o.id FROM shop.orders o JOIN shop.users u ON u.id = o.user_id
//   WHERE status = 'open' AND country = 'DE'
//
// leaves `status` and `country` with an empty relation, and the advisor, which
// groups predicates by relation, could not index them. With the catalog at
// hand the owner is the one relation of that query level whose table has a
// column of that name: orders for status, users for country — PostgreSQL's own
// rule, which rejects the statement as ambiguous when two relations have it.
// Nothing is guessed: a level with a relation the catalog does not know (a
// CTE, a derived table, a function, a view) resolves nothing, because that
// relation's columns are unknown and might hold the name. A subquery's column
// that none of its own relations has belongs to an outer level (a
// correlation) and stays as it is.
#include "analyzer/sql/query_facts.h"
#include "catalog/catalog.h"

namespace pgvise {
namespace {

class Resolver {
 public:
  Resolver(const Catalog& catalog, const std::vector<RelationRef>& relations) {
    for (const RelationRef& r : relations) {
      const TableInfo* t = r.is_cte           ? nullptr
                           : r.schema.empty() ? catalog.FindTable(r.name)
                                              : catalog.FindTable(r.schema, r.name);
      if (!t) {
        complete_ = false;
        return;
      }
      known_.push_back({&r, t});
    }
  }

  // The relation owning `column`, or nullptr when it is not exactly one.
  const RelationRef* Owner(const std::string& column) const {
    if (!complete_ || column.empty()) return nullptr;
    const RelationRef* owner = nullptr;
    for (const auto& [rel, table] : known_) {
      if (!table->Column(column)) continue;
      if (owner) return nullptr;  // ambiguous: PostgreSQL would refuse it too
      owner = rel;
    }
    return owner;
  }

 private:
  bool complete_ = true;
  std::vector<std::pair<const RelationRef*, const TableInfo*>> known_;
};

int ResolveLevel(const Resolver& r, std::vector<Predicate>* preds,
                 std::vector<JoinCondition>* joins, std::vector<SortKey>* keys1,
                 std::vector<SortKey>* keys2) {
  int n = 0;
  for (Predicate& p : *preds) {
    if (!p.relation.empty()) continue;
    if (const RelationRef* o = r.Owner(p.column)) {
      p.relation = o->alias;
      p.table = o->QualifiedName();
      ++n;
    }
  }
  for (JoinCondition& j : *joins) {
    if (j.left_relation.empty()) {
      if (const RelationRef* o = r.Owner(j.left_column)) {
        j.left_relation = o->alias;
        j.left_table = o->QualifiedName();
        ++n;
      }
    }
    if (j.right_relation.empty()) {
      if (const RelationRef* o = r.Owner(j.right_column)) {
        j.right_relation = o->alias;
        j.right_table = o->QualifiedName();
        ++n;
      }
    }
  }
  for (auto* keys : {keys1, keys2}) {
    if (!keys) continue;
    for (SortKey& k : *keys) {
      if (!k.relation.empty() || k.column.empty()) continue;
      if (const RelationRef* o = r.Owner(k.column)) {
        k.relation = o->alias;
        k.table = o->QualifiedName();
        ++n;
      }
    }
  }
  return n;
}

}  // namespace

int ResolveColumns(const Catalog& catalog, QueryFacts* f) {
  if (f->relations.size() < 2 && f->subqueries.empty()) return 0;  // facts resolved those already
  const Resolver top(catalog, f->relations);
  int n = ResolveLevel(top, &f->predicates, &f->joins, &f->order_by, &f->group_by);
  // Columns read without an owner: move each to the relation that has it.
  auto unowned = f->read_columns.find("");
  if (unowned != f->read_columns.end()) {
    std::set<std::string> left;
    for (const std::string& c : unowned->second) {
      if (const RelationRef* o = top.Owner(c)) {
        f->read_columns[o->alias].insert(c);
        ++n;
      } else {
        left.insert(c);
      }
    }
    // `unowned` is still valid: std::map insertions do not invalidate it.
    if (left.empty()) {
      f->read_columns.erase(unowned);
    } else {
      unowned->second = std::move(left);
    }
  }
  for (SubqueryFacts& s : f->subqueries) {
    const Resolver inner(catalog, s.relations);
    n += ResolveLevel(inner, &s.predicates, &s.joins, nullptr, nullptr);
  }
  return n;
}

}  // namespace pgvise
