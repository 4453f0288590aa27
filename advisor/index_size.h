// Index size: the on-disk size a candidate B-tree will have once built with
// CREATE INDEX, from the catalog's statistics. The budget is spent in these
// bytes (WhatIf::Size), so an estimate twice the real size leaves half a
// budget unused.
//
// Why not HypoPG's hypopg_relation_size alone: its B-tree formula counts an
// IndexTupleData header (8 bytes) and a line pointer (4 bytes) per *column*
// rather than per tuple, multiplies by a fixed 1.3 (fillfactor 90 plus 20%
// "bloat"), aligns nothing and ignores deduplication (PG13+). For a
// (3 keys) INCLUDE (3 columns) index on lineitem that is 103 bytes per row
// times 1.3, where the built index takes 44: 2.6x. HypoPG stays the source
// for what only the planner knows — how many rows a partial index's
// predicate keeps (clauselist_selectivity) — and for methods other than
// B-tree.
//
// The model is catalog/stored_size.h's, the one maintenance measures bloat
// with: tuples laid out column by column at their alignment, posting lists
// as CREATE INDEX builds them, leaves to the fillfactor. This file turns a
// candidate into its columns (types from format_type(), distinct counts
// from pg_stats or measured, an expression typed as the column inside it)
// and its row count (a partial index's from HypoPG).
//
// What it cannot see: correlated key columns (a (partkey, suppkey) pair
// determined by one another has far fewer distinct pairs than the product;
// the estimate then misses deduplication and errs large), and the type of
// an expression key, taken from the column inside it.
//
// A wrong n_distinct it measures where it is known to err. ANALYZE
// estimates n_distinct from a sample, and on a physically ordered column
// with few rows per value it can be far too low (TPC-H SF 1
// lineitem.l_orderkey, correlation 1.0, 4 rows per order: n_distinct
// 437,393 against 1,500,000): runs look 3.4x longer than they are, and
// (l_orderkey) was estimated at 52 MB where it builds to 78 MB, so a set
// chosen for a 100 MB budget built to 125 MB. Such a column's equal values
// sit side by side on disk, which makes its distinct count cheap to
// measure: in a block sample (TABLESAMPLE SYSTEM, a few thousand blocks),
// every block holds whole runs plus the tail of the one before, so each
// block's distinct values minus one are the runs that start in it;
// summed and scaled to the table's rows, that counts the runs — the
// distinct values. Example: 55 rows per block, 4 rows per order: 14.75
// distinct per block, 13.75 new, times 112,000 blocks = 1.54M (real
// 1.50M). MeasureClusteredDistinct does it for the key columns with
// |correlation| >= 0.9 on tables past ANALYZE's full-read size, and the
// estimate takes the larger of pg_stats' and the measured count (the
// measurement only corrects towards a larger index).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "advisor/candidates.h"
#include "catalog/catalog.h"
#include "core/session.h"
#include "core/status.h"

namespace pgvise {

// Column name -> distinct non-null values, measured (MeasureClusteredDistinct).
using MeasuredDistinct = std::map<std::string, double>;

// Of `columns` of `t`, those physically ordered by value (|pg_stats
// correlation| >= 0.9) on a table ANALYZE only sampled: their distinct
// counts from one block-sample query (read-only, a few thousand blocks),
// into `out` where above pg_stats'. Nothing for a locked table or when no
// column qualifies; an error leaves `out` empty and is returned.
Status MeasureClusteredDistinct(Session& s, const TableInfo& t,
                                const std::set<std::string>& columns, int block_size,
                                MeasuredDistinct* out);

// The built size in bytes of B-tree candidate `c` on table `t`, given
// HypoPG's estimate for it (used for the row count of a partial index and
// returned unchanged for other methods or when `t` lacks statistics to do
// better). `measured`: distinct counts that replace pg_stats' (when larger).
// Never below one block.
int64_t EstimateIndexBytes(const TableInfo& t, const IndexCandidate& c, int64_t hypopg_bytes,
                           int block_size, const MeasuredDistinct* measured = nullptr);

}  // namespace pgvise
