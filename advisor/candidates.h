// Index candidates: the indexes worth costing for a workload, generated from
// each statement's QueryFacts and the Catalog's statistics. The second step
// of `pgvise advise`, between the workload and what-if costing.
//
// Per statement and table, from the predicates the planner can use as
// written (not under OR, not negated, not `LIKE '%x'`, not `<>`):
//   - single-column indexes on every usable column (the atoms Extend starts
//     from and extends);
//   - a multi-column B-tree: equality columns first, most selective first
//     (pg_stats), then one range column — or, when the statement has an
//     ORDER BY on this table, the ORDER BY columns with their directions (an
//     index that returns rows in order lets `ORDER BY ... LIMIT n` stop after
//     n rows, which is worth more than any filter);
//   - covering: the same keys with INCLUDE of the other columns the
//     statement reads, when that makes an index-only scan possible and they
//     are narrow;
//   - partial: keys WHERE col = 'rare constant' (rare per pg_stats MCVs, a
//     value rarer than the MCV list keeps counting as rarest, or
//     pg_qualstats), WHERE col IN ('a', 'b') when the values together are
//     rare, and WHERE col IS NULL (the soft-delete shape); keyed on the
//     parameter columns, then the range or the ORDER BY with its directions:
//     `tenant_id = $1 AND state = 'queued' ORDER BY priority DESC,
//     enqueued_at LIMIT 50` -> (tenant_id, priority DESC, enqueued_at)
//     WHERE state = 'queued';
//   - expression: the exact expression the query wraps the column in
//     (`date_trunc('week', ts AT TIME ZONE 'UTC')`, after the equality
//     columns); never one PostgreSQL refuses as a key (a timestamptz
//     expression without AT TIME ZONE is STABLE);
//   - joins: the join column then the constants (and the range) for the
//     inner side of a nested loop; the filter columns then the join column
//     for the other table (a label filter on a link table joined to the
//     main table);
//   - merged: two candidates on one table whose keys are prefix-compatible
//     become one serving both (see Merge() in candidates_merge.cc); the selection
//     keeps it only when it wins per byte;
//   - GIN for jsonb containment/key existence, array operators and full
//     text (HypoPG cannot cost them: they are reported unverified);
//   - BRIN for a large table whose range-filtered column has physical
//     correlation near +-1.
// A candidate an existing index already provides (same method, predicate
// and leading keys) is never generated.
//
// Example: `SELECT id, total FROM orders WHERE user_id = $1 AND status = $2
// ORDER BY created_at DESC LIMIT 20`, user_id 100k distinct values, status 5:
//   (user_id), (status), (created_at DESC),
//   (user_id, status, created_at DESC),
//   (user_id, status, created_at DESC) INCLUDE (total)
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "advisor/workload.h"
#include "catalog/catalog.h"

namespace pgvise {

struct CandidateKey {
  CandidateKey() = default;
  explicit CandidateKey(std::string col) : column(std::move(col)) {}
  std::string column;      // base column (also set for expressions: the column inside)
  std::string expression;  // non-empty for an expression key: "lower(email)"
  bool descending = false;
  bool nulls_first = false;  // only written when it differs from the default for the direction
  std::string opclass;       // non-default operator class, e.g. text_pattern_ops
  bool operator==(const CandidateKey& o) const {
    return column == o.column && expression == o.expression && descending == o.descending &&
           nulls_first == o.nulls_first && opclass == o.opclass;
  }
  // The key as SQL: quoted column, or the expression in parentheses.
  std::string Sql() const;
};

struct IndexCandidate {
  std::string schema, table;  // the table (catalog spelling)
  std::string method = "btree";
  std::vector<CandidateKey> keys;
  std::vector<std::string> include;
  std::string predicate;         // partial-index WHERE (SQL), empty if none
  std::string origin;            // why it was generated: "equality+order", "covering", ...
  bool whatif_supported = true;  // false for GIN: HypoPG can't build it

  // Canonical identity (method, keys, include, predicate): dedups candidates.
  std::string Id() const;
  std::string QualifiedTable() const;
  // `CREATE INDEX [CONCURRENTLY] [IF NOT EXISTS] name ON tbl USING m (...) ...`.
  // With an empty name the statement has none (HypoPG names it itself).
  std::string Ddl(const std::string& name, bool concurrently, bool if_not_exists) const;
  // A readable, valid name: orders_user_id_created_at_idx (<= 63 bytes).
  std::string SuggestedName() const;
  size_t width() const { return keys.size(); }
};

// Which candidates matter for which statement: a candidate is relevant to a
// statement when its leading key is a column the statement filters, joins
// or orders that table by (the only way the planner can pick it up).
struct CandidateSet {
  std::vector<IndexCandidate> candidates;
  std::vector<std::vector<int>> relevant;          // per statement: candidate ids
  std::vector<IndexCandidate> unverifiable;        // GIN: reported, not costed
  std::vector<std::vector<int>> unverifiable_for;  // per unverifiable: statements
  int skipped_existing = 0;                        // already provided by an existing index
  int skipped_unusable = 0;                        // predicates no index can serve as written
  int merged = 0;  // candidates made by merging two others (candidates_merge.cc)
  std::vector<std::string> notes;

  // Adds (or finds) a candidate; returns its id.
  int Add(IndexCandidate c);
  int Find(const std::string& id) const;

 private:
  std::map<std::string, int> by_id_;
};

struct CandidateOptions {
  int max_key_columns = 4;
  double covering_max_width = 64;  // bytes of INCLUDE columns (avg_width sum)
  int covering_max_columns = 4;
  double rare_value_frequency = 0.2;  // partial index when a constant matches < 20% of rows
  double partial_max_distinct = 20;   // ... of a column with at most this many values
  double brin_min_rows = 100000;
  double brin_min_correlation = 0.9;
  int max_merges_per_table = 24;  // merged candidates per table (candidate merging)
};

// Generates candidates for every statement of the workload.
CandidateSet GenerateCandidates(const Workload& w, const Catalog& cat, const CandidateOptions& o);

// True when an existing index already provides `c`: same method and
// predicate, and `c`'s keys are a prefix of the index's keys (directions
// equal or all reversed), and INCLUDE columns covered.
bool ExistingIndexProvides(const TableInfo& t, const IndexCandidate& c);

}  // namespace pgvise
