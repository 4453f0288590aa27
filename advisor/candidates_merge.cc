// Candidate generation, step three: merging candidates across statements
// (one index serving two, where two would hold the same keys twice) and
// relevance — which statements each candidate can change the plan of: its
// leading key is a column the statement filters, joins or orders the table
// by, and, for a partial index, the statement implies its predicate the way
// PostgreSQL's predicate prover does. Relevance is what the what-if costing
// re-plans, so a candidate marked relevant to too few statements is never
// seen to help them.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "advisor/candidates_internal.h"

namespace pgvise::candidates {

// Candidate merging (Chaudhuri & Narasayya's index merging, kept to what
// the planner can use as written). Two B-tree candidates on one table with
// the same partial predicate, generated for different statements:
//   - prefix-compatible (A's keys are B's first keys, directions equal):
//     B with INCLUDE of both, when either covers — one index serving both
//     statements index-only, where two would hold the same keys twice;
//   - same leading key, neither a prefix of the other: A's keys then B's
//     missing ones (at most max_key_columns), INCLUDE of both — serves A's
//     statement as A does and B's through the leading key.
// Example: (tenant_id, kind) INCLUDE (id) for `... WHERE tenant_id = $1
// AND kind = $2` and (tenant_id, kind, enqueued_at) INCLUDE (priority) for
// the same with `enqueued_at >= $3` give (tenant_id, kind, enqueued_at)
// INCLUDE (id, priority). Merged candidates are candidates like the
// others: relevance by leading key, and the selection keeps one only when
// it wins per byte. At most max_merges_per_table per table, in generation
// order, so a wide workload does not square its candidate count.
void Generator::Merge() {
  const size_t n = out_->candidates.size();
  const size_t max = static_cast<size_t>(o_.max_key_columns);
  std::map<std::string, int> per_table;
  auto mergeable = [&](const IndexCandidate& c) {
    return c.method == "btree" && c.whatif_supported && (c.keys.size() >= 2 || !c.include.empty());
  };
  auto same_key = [](const CandidateKey& a, const CandidateKey& b) { return a == b; };
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < n; ++j) {
      if (i == j) continue;
      const IndexCandidate a = out_->candidates[i];
      const IndexCandidate b = out_->candidates[j];
      if (!mergeable(a) || !mergeable(b) || a.schema != b.schema || a.table != b.table ||
          a.predicate != b.predicate || a.keys.empty() || b.keys.empty() ||
          !same_key(a.keys[0], b.keys[0]))
        continue;
      const std::string table = a.schema + "." + a.table;
      if (per_table[table] >= o_.max_merges_per_table) continue;
      bool prefix = a.keys.size() <= b.keys.size();
      for (size_t k = 0; prefix && k < a.keys.size(); ++k) prefix = same_key(a.keys[k], b.keys[k]);
      IndexCandidate m = a;
      if (prefix) {
        if (a.include.empty()) continue;  // B alone already serves A's statement
        m.keys = b.keys;
      } else {
        if (i > j) continue;  // the unordered pair once: A is the earlier
        for (const auto& k : b.keys)
          if (!HasKey(m.keys, k)) {
            if (m.keys.size() >= max) {
              m.keys.clear();
              break;
            }
            m.keys.push_back(k);
          }
        if (m.keys.empty()) continue;
      }
      // INCLUDE: both lists, minus what became a key.
      std::vector<std::string> inc;
      for (const auto* list : {&a.include, &b.include})
        for (const auto& col : *list) {
          bool key = false;
          for (const auto& k : m.keys) key |= k.expression.empty() && k.column == col;
          if (!key && std::find(inc.begin(), inc.end(), col) == inc.end()) inc.push_back(col);
        }
      const TableInfo* t = cat_.FindTable(a.schema, a.table);
      double width = 0;
      for (const auto& col : inc) {
        const ColumnInfo* ci = t ? t->Column(col) : nullptr;
        width += ci && ci->avg_width > 0 ? ci->avg_width : 8;
      }
      if (static_cast<int>(inc.size()) > o_.covering_max_columns + 1 ||
          width > o_.covering_max_width * 1.5)
        continue;
      m.include = inc;
      m.origin = "merged (" + a.origin + " + " + b.origin + ")";
      if (out_->Find(m.Id()) >= 0) continue;
      if (t && ExistingIndexProvides(*t, m)) continue;
      out_->Add(std::move(m));
      ++per_table[table];
      ++out_->merged;
    }
  }
}

// True when the statement's own predicates on this table imply the
// partial predicate the way PostgreSQL's predicate prover sees it: the same
// IS NULL, an equality with one of the listed constants, or an IN list of
// a subset of them.
bool Generator::Implies(const TableUse& u, const std::string& predicate) const {
  auto it = partials_.find(predicate);
  if (it == partials_.end()) return false;
  const PartialPredicate& pp = it->second;
  for (const auto& k : u.eq) {
    const Predicate* p = k.pred;
    if (!p || !p->expression.empty() || p->column != pp.column) continue;
    if (pp.is_null) {
      if (p->kind == PredicateKind::kIsNull) return true;
      continue;
    }
    if (p->value_kind != ValueKind::kConstant || p->constants.empty()) continue;
    if (p->kind != PredicateKind::kEquality && p->kind != PredicateKind::kInList) continue;
    bool subset = true;
    for (const auto& c : p->constants) subset &= pp.constants.count(c) > 0;
    if (subset) return true;
  }
  return false;
}

void Generator::MarkRelevant(int s, const TableUse& u) {
  std::set<std::string> leading;  // keys the statement can use to enter an index
  std::set<std::string> pred_cols;
  auto id = [](const CandidateKey& k) {
    return k.expression.empty() ? k.column : "(" + k.expression + ")";
  };
  for (const auto& k : u.eq) leading.insert(id(k.key));
  for (const auto& k : u.range) leading.insert(id(k.key));
  for (const auto& k : u.join) leading.insert(id(k.key));
  if (u.order_complete && !u.order.empty()) leading.insert(id(u.order[0]));
  for (const auto& k : u.eq) pred_cols.insert(k.key.column);
  auto& rel = out_->relevant[static_cast<size_t>(s)];
  for (size_t c = 0; c < out_->candidates.size(); ++c) {
    const auto& cand = out_->candidates[c];
    if (cand.schema != u.table->schema || cand.table != u.table->name) continue;
    bool usable = leading.count(id(cand.keys[0])) > 0;
    // A partial index needs the statement to imply its predicate.
    if (!cand.predicate.empty()) {
      if (!Implies(u, cand.predicate)) continue;
      usable = true;  // the predicate alone lets the planner scan it
    }
    if (usable && std::find(rel.begin(), rel.end(), static_cast<int>(c)) == rel.end())
      rel.push_back(static_cast<int>(c));
  }
}

}  // namespace pgvise::candidates
