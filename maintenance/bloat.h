// Bloat estimate: how much smaller a table's heap or a B-tree index would be
// if it were rewritten now (VACUUM FULL / pg_repack / REINDEX), computed from
// the snapshot alone — pg_class, pg_stats and the catalog's type layout — so
// every table of a database is estimated in microseconds with no extra query.
// With --exact, pgstattuple_approx / pgstatindex replace the estimate for the
// tables and indexes the estimate flags (one query each for all of them).
//
// The model is in bloat.cc's opening comment. The rules table-bloat and
// index-bloat read these numbers; bench/maintain.md measures their error
// against pgstattuple per table shape.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "catalog/stored_size.h"
#include "core/session.h"
#include "maintenance/snapshot.h"

namespace pgvise {

struct BloatEstimate {
  bool estimated = false;  // false: not enough to go on (see `why`)
  bool exact = false;      // from pgstattuple rather than statistics
  std::string why;         // why not estimated, or what makes it approximate
  double rows = 0;         // live rows the estimate packs
  double row_bytes = 0;    // average stored bytes per row/entry incl. line pointer
  double per_page = 0;     // rows (or entries) per page when packed
  int64_t actual_bytes = 0;
  int64_t expected_bytes = 0;  // size if rewritten now
  double ratio = 0;            // wasted / actual, 0..1
  int64_t wasted_bytes = 0;
  bool deduplicated = false;  // B-tree: PG13+ deduplication assumed at build
};

// Expected stored size of one heap row of these columns, from their
// statistics (the model is catalog/stored_size.h's). Line pointer not included.
using HeapRowLayout = stored::HeapRow;
HeapRowLayout ExpectedHeapRow(const std::vector<ColumnHealth>& columns);

// Heap (main fork) estimate of one table. `block_size` from the snapshot.
BloatEstimate EstimateTableBloat(const TableHealth& t, int block_size = kDefaultBlockSize);

// B-tree estimate; other access methods come back not estimated.
BloatEstimate EstimateIndexBloat(const IndexHealth& x, const TableHealth& t, int server_version,
                                 int block_size = kDefaultBlockSize);

// Replaces estimates with pgstattuple's figures (--exact): one query for all
// `tables` (pgstattuple_approx) and one for all `indexes` (pgstatindex).
// Entries are matched by oid; a relation the extension cannot read keeps its
// statistical estimate and says why.
struct ExactTarget {
  uint32_t oid = 0;
  BloatEstimate* estimate = nullptr;
  int fillfactor = 100;  // tables: heap fillfactor; indexes: leaf fillfactor
};
Status ExactTableBloat(Session& s, const std::string& ext_schema,
                       const std::vector<ExactTarget>& tables, int block_size);
Status ExactIndexBloat(Session& s, const std::string& ext_schema,
                       const std::vector<ExactTarget>& indexes, int block_size);

}  // namespace pgvise
