// The statistical bloat estimator.
//
// What it computes. The size a relation would have if rewritten now, from the
// number of live rows and the average stored size of one row; bloat is the
// difference to the size on disk. pg_stats gives each column's average
// stored width (avg_width is measured on the on-disk datum: a short varlena's
// 1-byte header is counted, a TOASTed value counts as its 18-byte pointer)
// and null fraction; pg_attribute gives length and alignment.
//
// The model — tuples laid out column by column at their alignment, NULLs
// and their bitmap as an exact expectation, pages filled to the fillfactor,
// B-tree posting lists as REINDEX builds them — is catalog/stored_size.h's,
// shared with the index advisor's candidate sizes. Why it matters here: the
// widely used estimate adds avg_width over columns and rounds once, so on
// alignment-heavy rows the expected size is 13% too small and a table with
// no bloat at all reads 13% bloated; and ignoring deduplication reports a
// freshly rebuilt index on a 10-value status column as 60-70% bloated
// (check_pgactivity#264).
//
// What it refuses. Tables never analyzed (no widths: reltuples = -1) and
// tables or indexes under 10 pages are not estimated; columns without
// statistics fall back to their type length (or 32 bytes for varlena) and
// mark the estimate approximate. Only the main fork is estimated: TOAST
// tables are reported by their dead-tuple counters, not their size.
#include "maintenance/bloat.h"

#include <algorithm>
#include <cmath>

#include "catalog/stored_size.h"

namespace pgvise {

namespace {

constexpr double kMinPages = 10;

stored::Column Stored(const ColumnHealth& c) {
  stored::Column s =
      stored::FromPgType(c.type, c.typlen, c.typalign, c.has_stats, c.avg_width, c.null_frac);
  s.dropped = c.dropped;
  return s;
}

std::vector<stored::Column> Stored(const std::vector<ColumnHealth>& columns) {
  std::vector<stored::Column> out;
  out.reserve(columns.size());
  for (const auto& c : columns) out.push_back(Stored(c));
  return out;
}

void Finish(BloatEstimate* e, int64_t actual, double expected) {
  e->actual_bytes = actual;
  e->expected_bytes = static_cast<int64_t>(expected);
  e->wasted_bytes = std::max<int64_t>(0, actual - e->expected_bytes);
  e->ratio = actual > 0 ? static_cast<double>(e->wasted_bytes) / static_cast<double>(actual) : 0;
}

}  // namespace

HeapRowLayout ExpectedHeapRow(const std::vector<ColumnHealth>& columns) {
  return stored::ExpectedHeapRow(Stored(columns));
}

BloatEstimate EstimateTableBloat(const TableHealth& t, int block_size) {
  BloatEstimate e;
  e.actual_bytes = t.heap_bytes;
  const double bs = block_size;
  if (t.reltuples < 0 && !t.has_stats) {
    e.why = "never vacuumed or analyzed";
    return e;
  }
  if (t.heap_bytes < kMinPages * bs) {
    e.why = "under 10 pages";
    return e;
  }
  bool any_stats = false;
  for (const auto& c : t.columns) any_stats |= c.has_stats;
  if (!any_stats) {
    e.why = "no column statistics (run ANALYZE)";
    return e;
  }
  const HeapRowLayout row = ExpectedHeapRow(t.columns);
  const double rows = t.Rows();
  const double per_page = stored::HeapRowsPerPage(row, t.Fillfactor(), block_size);
  const double pages = std::ceil(rows / per_page);
  e.estimated = true;
  e.rows = rows;
  e.row_bytes = row.tuple + 4;  // with its line pointer
  e.per_page = per_page;
  if (row.guessed) e.why = "some columns have no statistics; widths guessed";
  Finish(&e, t.heap_bytes, pages * bs);
  return e;
}

BloatEstimate EstimateIndexBloat(const IndexHealth& x, const TableHealth& t, int server_version,
                                 int block_size) {
  BloatEstimate e;
  e.actual_bytes = x.bytes;
  const double bs = block_size;
  if (x.am != "btree") {
    e.why = "only B-tree indexes are estimated";
    return e;
  }
  if (x.bytes < kMinPages * bs) {
    e.why = "under 10 pages";
    return e;
  }
  // Rows in the index: the table's live rows, unless the index is partial.
  const double rows = x.partial ? x.reltuples : t.Rows();
  if (rows < 0 || (t.reltuples < 0 && !t.has_stats)) {
    e.why = "table never vacuumed or analyzed";
    return e;
  }
  if (x.attnums.empty()) {
    e.why = "index has no columns in the snapshot";
    return e;
  }
  // Columns: the table's by attnum; an expression is the index's own
  // attribute (its type, and pg_stats under the index's name); one the
  // snapshot lacks is taken as 8 bytes.
  stored::Btree b;
  b.rows = rows;
  b.fillfactor = x.Fillfactor();
  b.block_size = block_size;
  auto opt = x.reloptions.find("deduplicate_items");
  b.may_deduplicate =
      server_version >= 130000 && !x.unique &&
      !(opt != x.reloptions.end() && (opt->second == "off" || opt->second == "false"));
  for (size_t i = 0; i < x.attnums.size(); ++i) {
    const int att = x.attnums[i];
    const ColumnHealth* c = nullptr;
    if (att > 0) {
      for (const auto& tc : t.columns)
        if (tc.attnum == att) c = &tc;
    } else if (i < x.columns.size()) {
      c = &x.columns[i];
    }
    stored::Column col;
    if (c) {
      col = Stored(*c);
      if (c->has_stats && c->n_distinct != 0)
        col.distinct = c->n_distinct > 0 ? c->n_distinct : -c->n_distinct * rows;
    } else {
      col = stored::FromPgType("", 8, 'd', true, 8, 0);
    }
    (static_cast<int>(i) < x.nkeyatts ? b.keys : b.include).push_back(col);
  }
  const stored::BtreeSize size = stored::EstimateBtree(b);
  e.estimated = true;
  e.rows = rows;
  e.row_bytes = size.entry_bytes;
  e.per_page = size.per_leaf;
  e.deduplicated = size.deduplicated;
  if (size.guessed) e.why = "some key columns have no statistics; widths guessed";
  Finish(&e, x.bytes, size.pages * bs);
  return e;
}

namespace {

std::string OidArray(const std::vector<ExactTarget>& v) {
  std::string s = "{";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i].oid);
  return s + "}";
}

}  // namespace

Status ExactTableBloat(Session& s, const std::string& ext_schema,
                       const std::vector<ExactTarget>& tables, int block_size) {
  if (tables.empty()) return Status::Ok();
  // pgstattuple_approx skips all-visible pages (counted as free per the
  // visibility map), so it is cheap after a VACUUM and exact before one.
  // Packing bytes = live tuples plus what the packed table cannot avoid:
  // we keep our own per-row layout and replace the row count and free space.
  std::string fn = QuoteIdent(ext_schema) + ".pgstattuple_approx";
  std::string sql =
      "SELECT r.oid, a.table_len, a.approx_tuple_count, a.approx_tuple_len, a.dead_tuple_len, "
      "a.approx_free_space FROM unnest($1::oid[]) AS r(oid), LATERAL " +
      fn + "(r.oid) a";
  Rows rows;
  Status st = s.Query(sql, {OidArray(tables)}, &rows);
  if (!st.ok()) return st;
  for (size_t i = 0; i < rows.size(); ++i) {
    uint32_t oid = static_cast<uint32_t>(rows.Int(i, "oid"));
    for (const auto& t : tables) {
      if (t.oid != oid) continue;
      BloatEstimate* e = t.estimate;
      double len = rows.Double(i, "table_len");
      double count = rows.Double(i, "approx_tuple_count");
      double free = rows.Double(i, "approx_free_space");
      double dead = rows.Double(i, "dead_tuple_len");
      // Waste = free space + dead tuples, less what a packed table keeps free
      // too: the fillfactor reserve and, on average, half a row at the end of
      // each page (row size from the statistical layout).
      double pages = len / block_size;
      double slack = std::floor(block_size * (100 - t.fillfactor) / 100.0) +
                     (e->row_bytes > 0 ? e->row_bytes / 2 : 0);
      double wasted = std::max(0.0, free + dead - pages * slack);
      e->exact = true;
      e->estimated = true;
      e->rows = count;
      e->why = "pgstattuple_approx";
      Finish(e, static_cast<int64_t>(len), len - wasted);
    }
  }
  return Status::Ok();
}

Status ExactIndexBloat(Session& s, const std::string& ext_schema,
                       const std::vector<ExactTarget>& indexes, int block_size) {
  if (indexes.empty()) return Status::Ok();
  // pgstatindex's avg_leaf_density is the fraction of leaf space in use; a
  // freshly built index sits at its fillfactor (90%). Expected size scales
  // the leaf pages by density/fillfactor.
  std::string fn = QuoteIdent(ext_schema) + ".pgstatindex";
  std::string sql =
      "SELECT r.oid, a.index_size, a.leaf_pages, a.internal_pages, a.avg_leaf_density "
      "FROM unnest($1::oid[]) AS r(oid), LATERAL " +
      fn + "(r.oid::regclass) a";
  Rows rows;
  Status st = s.Query(sql, {OidArray(indexes)}, &rows);
  if (!st.ok()) return st;
  for (size_t i = 0; i < rows.size(); ++i) {
    uint32_t oid = static_cast<uint32_t>(rows.Int(i, "oid"));
    for (const auto& t : indexes) {
      if (t.oid != oid) continue;
      BloatEstimate* e = t.estimate;
      double size = rows.Double(i, "index_size");
      double leaf = rows.Double(i, "leaf_pages");
      double internal = rows.Double(i, "internal_pages");
      double density = rows.Double(i, "avg_leaf_density") / 100.0;
      if (std::isnan(density) || density <= 0) continue;
      double fill = std::min(1.0, density / (t.fillfactor / 100.0));
      double packed = std::ceil(leaf * fill) + std::ceil(internal * fill) + 1;
      e->exact = true;
      e->estimated = true;
      e->why = "pgstatindex";
      Finish(e, static_cast<int64_t>(size), packed * block_size);
    }
  }
  return Status::Ok();
}

}  // namespace pgvise
