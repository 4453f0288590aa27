// Internal to candidate generation (advisor/candidates.h has the essay): what
// the generator knows about one table in one statement (TableUse), and the
// Generator itself, whose steps live by concept — candidates_collect.cc
// reads a statement's facts into TableUses, candidates_generate.cc turns each
// into candidate shapes (atoms, composites, covering, partial, BRIN, GIN),
// candidates_merge.cc merges candidates across statements and decides which
// statements each can serve. Not for other files: they call
// GenerateCandidates.
#pragma once

#include <cstddef>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "advisor/candidates.h"
#include "advisor/workload.h"
#include "catalog/catalog.h"
#include "core/session.h"

namespace pgvise::candidates {

struct KeyUse {
  CandidateKey key;
  double selectivity = 1;  // lower is more selective
  PredicateKind kind = PredicateKind::kOther;
  const Predicate* pred = nullptr;
};

// A partial-index predicate the generator wrote: `column = c`, `column IN
// (c1, c2)` (constants sorted, so the order a statement lists them in does
// not make two candidates) or `column IS NULL`.
struct PartialPredicate {
  std::string column;
  std::set<std::string> constants;  // empty for IS NULL
  bool is_null = false;
  std::string Sql() const {
    if (is_null) return QuoteIdent(column) + " IS NULL";
    if (constants.size() == 1) return QuoteIdent(column) + " = " + *constants.begin();
    std::string s = QuoteIdent(column) + " IN (";
    bool first = true;
    for (const auto& c : constants) {
      s += (first ? "" : ", ") + c;
      first = false;
    }
    return s + ")";
  }
};

// Everything the generator knows about one table reference in one statement.
struct TableUse {
  const TableInfo* table = nullptr;
  std::string alias;
  std::vector<KeyUse> eq, range, join;
  std::vector<CandidateKey> order;  // ORDER BY keys, all on this table
  bool order_complete = false;      // every ORDER BY key is on this table
  std::vector<const Predicate*> gin;
  std::vector<const Predicate*> is_null, rare_eq;
  std::vector<const Predicate*> rare_in;  // `col IN ('a', 'b')` of rare constants
};

inline bool HasKey(const std::vector<CandidateKey>& keys, const CandidateKey& k) {
  for (const auto& x : keys)
    if (x.column == k.column && x.expression == k.expression) return true;
  return false;
}
inline void Append(std::vector<CandidateKey>* keys, const CandidateKey& k, size_t max) {
  if (keys->size() < max && !HasKey(*keys, k)) keys->push_back(k);
}

class Generator {
 public:
  Generator(const Workload& w, const Catalog& cat, const CandidateOptions& o, CandidateSet* out)
      : w_(w), cat_(cat), o_(o), out_(out) {}

  // Every statement, then merging, then relevance (candidates_generate.cc).
  void Run();

 private:
  // candidates_collect.cc: the predicates, joins and ORDER BY keys of `f`
  // on `rel`, sorted most selective first.
  TableUse Collect(const QueryFacts& f, const RelationRef& rel, const TableInfo& t);
  // candidates_generate.cc
  IndexCandidate Base(const TableUse& u);
  // Adds `c` unless an existing index already provides it.
  void Emit(IndexCandidate c);
  // Covering variant: INCLUDE what else the statement reads from this table.
  void EmitCovering(const TableUse& u, const IndexCandidate& base, const QueryFacts& f);
  void GenerateFor(size_t s, const TableUse& u);
  // candidates_merge.cc
  void Merge();
  bool Implies(const TableUse& u, const std::string& predicate) const;
  void MarkRelevant(int s, const TableUse& u);

  const Workload& w_;
  const Catalog& cat_;
  const CandidateOptions& o_;
  CandidateSet* out_;
  std::vector<std::pair<int, TableUse>> uses_;
  std::deque<QueryFacts> subs_;                       // subquery facts the TableUses point into
  std::map<std::string, PartialPredicate> partials_;  // by Sql(): what each predicate means
};

}  // namespace pgvise::candidates
