// Decorrelation building blocks shared by the passes (rewriter/pass_*.cc).
//
// Every pass that unnests a subquery does the same three things:
//  1. AnalyzeCorrelation: split the subquery's WHERE into equalities between
//     a subquery expression and an outer expression (the correlation keys)
//     and predicates on the subquery alone; refuse any other use of an outer
//     column (in the select list, GROUP BY, HAVING, FROM, a non-equality, two
//     levels deep), because a derived table grouped on the keys can only
//     stand in for a subquery whose outer references are key equalities.
//  2. BuildDerived: the subquery, uncorrelated, grouped on its key
//     expressions and exposing them as pgv_k1..n next to its value pgv_v.
//  3. Attach the derived table to the outer query: an inner join (a new FROM
//     item and key equalities in WHERE) when rows without a group may be
//     dropped, otherwise a LEFT JOIN around the FROM item holding the outer
//     key columns, which keeps every outer row exactly once (the derived table
//     has one row per key, so it never multiplies rows).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "analyzer/sql/edit_tree.h"
#include "rewriter/rewriter.h"
#include "rewriter/scope.h"

namespace pgvise::rw {

struct PassContext {
  Tree* tree = nullptr;
  const RewriteOptions* opts = nullptr;
  const RewriteCatalog* cat = nullptr;
  std::vector<PassOutcome>* outcomes = nullptr;
  std::set<std::string> used_names;
  std::set<const void*> seen;  // SubLinks this pass already reported on
  // SubLinks the passes build themselves carry location -1; the passes skip
  // them (they are uncorrelated by construction), so reports name only
  // subqueries the user wrote.
  bool applied_any = false;
  int alternatives = 0;  // subqueries that had a second correct form (RewriteResult)

  std::string FreshName(const std::string& prefix);
  void Report(const std::string& pass, const PgQuery__SubLink* sl, bool applied,
              const std::string& reason);
};

struct Correlation {
  std::vector<Node*> inner_keys;   // subquery side of each key equality
  std::vector<Node*> outer_keys;   // outer side
  std::vector<Node*> local_preds;  // WHERE conjuncts that stay in the derived table
  std::set<int> outer_rels;        // outer scope relations the keys read
  bool assumed_local = false;      // an unqualified column was assumed to be the subquery's
};

enum class CorrelationResult { kCorrelated, kUncorrelated, kRefused };

// `outer` ends with the scope of the query holding the SubLink.
CorrelationResult AnalyzeCorrelation(PgQuery__SelectStmt* sub, const Stack& outer,
                                     const RewriteCatalog* cat, Correlation* c, std::string* why);

// empty_value.cc: value of an aggregate expression over no rows, as far as can be told:
// kNull for SUM/AVG/MIN/MAX... (and strict expressions of them), kZero for a
// bare COUNT, kOther otherwise.
enum class EmptyValue { kNull, kZero, kOther };
EmptyValue EmptyValueOf(const Node* e, const RewriteCatalog* cat);

// Truth of predicate `conj` when the value in `*slot` (inside it) is the empty
// value: 1 true, 0 false or NULL, -1 cannot tell.
int TruthOnEmpty(Node* conj, Node* const* slot, EmptyValue ev);

// Builds `SELECT k1 AS pgv_k1, ..., [value AS pgv_v] FROM ... WHERE local
// GROUP BY k1, ..., extra_group` from the subquery (its nodes are moved).
PgQuery__SelectStmt* BuildDerived(PassContext& ctx, PgQuery__SelectStmt* sub, const Correlation& c,
                                  Node* value, const std::vector<Node*>& extra_group, Node* having);

// Equalities pgv_kN = outer key N, qualified with the derived table's name.
Node* KeyJoinCondition(PassContext& ctx, const std::string& dname, const Correlation& c);

// The loop each decorrelating pass runs over one query level: take the first
// SubLink of `s` that this run has not seen, that the passes did not build
// themselves (location -1), whose subquery is a plain SELECT and that
// `wanted` accepts; mark it seen and hand its site to `rewrite`; then collect
// the sites again (a rewrite changes the tree) until none is left.
void ForEachNewSublink(PassContext& ctx, PgQuery__SelectStmt* s,
                       const std::function<bool(const Site&, const PgQuery__SubLink&)>& wanted,
                       const std::function<void(const Site&)>& rewrite);

// Replaces a bare `*` in the select list by each FROM item's `name.*`, so a
// joined derived table adds no output columns. False (with why) when some
// item has no name or joins with USING / NATURAL.
bool ExpandStar(PassContext& ctx, PgQuery__SelectStmt* s, std::string* why);

// LEFT JOINs `derived` to the FROM item holding all of `rels` (merging items
// into one CROSS JOIN chain when they span several).
void AttachLeft(PassContext& ctx, PgQuery__SelectStmt* s, const Scope& scope,
                const std::set<int>& rels, Node* derived, Node* on);

// Semi-join reduction ("magic set"): when the outer keys come from one
// table and the outer WHERE filters that table, the derived table only needs
// groups for keys that pass those filters; an output row's key always does
// (or is NULL, matching no group either way). Adds
// `inner_key IN (SELECT outer_key FROM <that table> WHERE <its filters>)`
// to the derived table, so a selective outer query does not aggregate the
// whole inner table. `skip` is the conjunct holding the subquery. Returns a
// note for the outcome, "" when nothing was added.
std::string ReduceToOuterKeys(PassContext& ctx, PgQuery__SelectStmt* d, PgQuery__SelectStmt* s,
                              const Scope& scope, const Stack& outer, const Correlation& c,
                              Node* skip);

// True when the query level groups (GROUP BY, HAVING or aggregates).
bool IsGrouped(PgQuery__SelectStmt* s, const RewriteCatalog* cat);

}  // namespace pgvise::rw
