// The statistical bloat estimator.
//
// What it computes. The size a relation would have if rewritten now, from the
// number of live rows and the average stored size of one row; bloat is the
// difference to the size on disk. pg_stats gives each column's average
// stored width (avg_width is measured on the on-disk datum: a short varlena's
// 1-byte header is counted, a TOASTed value counts as its 18-byte pointer)
// and null fraction; pg_attribute gives length and alignment.
//
// Why the usual query is off. The widely used estimate adds avg_width over
// columns and rounds the sum up to MAXALIGN once. A heap tuple pads *each*
// column to its own alignment: `(a bool, b bigint, c bool, d bigint)` stores
// 1 + 7 (pad) + 8 + 1 + 7 (pad) + 8 = 32 data bytes, not 18. On such
// alignment-heavy rows the summed width is 40% short, the expected size too
// small, and the reported bloat 8-12 points too high. We lay the row out
// column by column instead:
//   - fixed-width columns are aligned to typalign (c=1, s=2, i=4, d=8);
//   - varlena values under 127 bytes use the 1-byte header and are never
//     aligned; longer ones (4-byte header) align to typalign;
//   - a column that is NULL takes no space and no padding, so the padding
//     before a later column depends on which earlier columns are present.
//     We carry, column by column, the distribution of the offset's residue
//     mod MAXALIGN (8 states, each with its probability and mean offset):
//     a column with null fraction p moves a row's offset with probability
//     1-p (pad to its alignment, add its width) and leaves it with p. That
//     is the exact expectation over all 2^k present/absent combinations of
//     k nullable columns (assuming independent NULLs and each varlena at its
//     avg_width), in 8 states per column instead of 2^k. The tuple's final
//     MAXALIGN padding comes from the same distribution, not an average.
//     A varlena moves the offset by its avg_width (a fractional width by
//     its floor or ceiling, in proportion): values of varying length
//     really spread the residue, but avg_width cannot say how, and the
//     point estimate measured closer on every bench shape than spreading
//     it uniformly (wide rows: 1.6 -> 0.4 points);
//   - the header is t_hoff = MAXALIGN(23 + bitmap); only rows with a NULL
//     carry the ceil(natts/8)-byte bitmap, so t_hoff is 24 without and 24
//     (natts <= 8) or 32 (up to 72 columns) with one. The fraction of rows
//     with any NULL lies between max(p_i) and min(1, sum(p_i)); nothing in
//     pg_stats says where (its `correlation` is about physical order, not
//     between columns), so we take independence, 1 - prod(1 - p_i), which
//     is always within those bounds. For <= 8 columns it does not matter.
//
// Worked example of the NULL model: (id int8, a int4 30% NULL, b text of 33
// stored bytes 30% NULL, c int8), no other NULLs. Data offsets:
//   both present      8 + 4 = 12, +33 = 45, c at 48 -> 56       (p .49)
//   a NULL, b present 8 + 33 = 41, c at 48 -> 56                (p .21)
//   a present, b NULL 8 + 4 = 12, c at 16 -> 24                 (p .21)
//   both NULL         8, c at 8 -> 16                           (p .09)
// E[data] = .49*56 + .21*56 + .21*24 + .09*16 = 45.68; each case is already
// a multiple of 8, so E[MAXALIGN(data)] = 45.68 and the row is 24 + 45.68 =
// 69.68 bytes. The previous model averaged instead — (1-p) of each aligned
// width, 3.5 bytes of padding wherever the offset was uncertain and 3.5 for
// the final MAXALIGN: 24 + 45.4 + 3.5 = 72.9 bytes, 4.6% too many, because
// every combination here happens to end on a multiple of 8. On the bench's
// nullable shape that averaging was 5.7 points off.
//
// A page holds floor((BLCKSZ - 24 - reserve) / (MAXALIGN(tuple) + 4)) tuples
// (24 = page header, 4 = line pointer, reserve = BLCKSZ*(100-fillfactor)/100
// for heap inserts), capped at 291; variable-width rows leave half a tuple
// unused at the end of a page on average.
//
// Worked example: (a bool, b bigint, c bool, d bigint), no NULLs, 1M rows.
// Header 24, data 32 -> tuple 56, stored 60 with its line pointer;
// floor(8168 / 60) = 136 rows per page -> 7,353 pages = 57.4 MiB packed.
// The summed-width method says tuple = 24 + MAXALIGN(18) = 48, 52 stored,
// 157 per page, 6,370 pages: 13% smaller, so a table with no bloat at all is
// reported 13% bloated.
//
// B-tree indexes. An index tuple is an 8-byte header (+4 bytes of null
// bitmap, MAXALIGNed, when a key is NULL) plus its keys laid out as above,
// MAXALIGNed, plus a 4-byte line pointer. REINDEX fills leaf pages to the
// index fillfactor (90) and internal pages to 70%. Since PG 13 a non-unique
// index without INCLUDE columns on types whose equality is bitwise
// ("equalimage": integers, text with deterministic collation, timestamps,
// uuid... not numeric or float) is deduplicated at build: each run of equal
// keys becomes posting-list tuples of MAXALIGN(key + 6 bytes per heap TID),
// each at most 812 bytes. With d rows per distinct key (from n_distinct) an
// index on a 10-value status column shrinks by ~3x; ignoring this (as the
// usual index query does) reports such indexes as 60-70% bloated right after
// a REINDEX — check_pgactivity#264.
//
// What it refuses. Tables never analyzed (no widths: reltuples = -1) and
// tables or indexes under 10 pages are not estimated; columns without
// statistics fall back to their type length (or 32 bytes for varlena) and
// mark the estimate approximate. Only the main fork is estimated: TOAST
// tables are reported by their dead-tuple counters, not their size.
#include "maintenance/bloat.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace pgvise {

namespace {

constexpr double kMaxAlign = 8;
constexpr double kPageHeader = 24;
constexpr double kItemId = 4;
constexpr double kHeapHeader = 23;
constexpr double kMaxHeapTuplesPerPage = 291;
constexpr double kBtreeSpecial = 16;
constexpr double kIndexHeader = 8;
constexpr double kMinPages = 10;

double AlignUp(double off, double a) { return std::ceil(off / a) * a; }

double AlignOf(char typalign) {
  switch (typalign) {
    case 'c':
      return 1;
    case 's':
      return 2;
    case 'd':
      return 8;
    default:
      return 4;
  }
}

// Lays out the data area of one tuple (heap or index) column by column and
// returns expectations over rows (see the opening comment: the offset's
// residue mod MAXALIGN is carried as a distribution, so padding is exact for
// every combination of present and NULL columns rather than averaged).
struct Layout {
  double data = 0;          // E[data bytes], before the tuple's MAXALIGN
  double data_aligned = 0;  // E[MAXALIGN(data bytes)]
  double p_no_nulls = 1;    // probability that a tuple has no NULL (independence)
  double max_null = 0;      // largest single null fraction (lower bound of P(any NULL))
  double sum_null = 0;      // sum of null fractions (upper bound of P(any NULL))
  bool any_dropped = false;
  bool variable = false;  // row length varies between rows
  bool missing_stats = false;
};

Layout LayOut(const std::vector<const ColumnHealth*>& cols) {
  constexpr int kRes = static_cast<int>(kMaxAlign);
  Layout l;
  // prob[r]: probability that the offset so far is = r (mod 8); sum[r]: the
  // probability-weighted offset of those rows (so sum[r] / prob[r] is their
  // mean offset). All rows start at offset 0 of a MAXALIGNed data area.
  double prob[kRes] = {1, 0, 0, 0, 0, 0, 0, 0};
  double sum[kRes] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (const ColumnHealth* c : cols) {
    if (c->dropped) {
      // New tuples store a dropped column as NULL: the bitmap is always there.
      l.any_dropped = true;
      continue;
    }
    double width;
    if (c->typlen > 0) {
      width = c->typlen;  // fixed width is exact whatever avg_width says
    } else if (c->has_stats) {
      width = c->avg_width;
    } else {
      width = 32;
    }
    if (!c->has_stats) l.missing_stats = true;
    double nf = c->has_stats ? std::clamp(c->null_frac, 0.0, 1.0) : 0.0;
    bool varlena = c->typlen < 0;
    int align = static_cast<int>(AlignOf(c->typalign));
    // Short varlenas (1-byte header, < 127 bytes) and TOAST pointers are unaligned.
    if (varlena && width < 127) align = 1;
    // A width that is not a whole number (fixtures, guesses) is a mix of its
    // floor and ceiling, so the expected bytes stay exactly `width`.
    int w_lo = static_cast<int>(std::floor(width));
    double frac = width - w_lo;
    double next_prob[kRes] = {}, next_sum[kRes] = {};
    for (int r = 0; r < kRes; ++r) {
      if (prob[r] == 0) continue;
      // Absent (NULL): no bytes, no padding, the residue stays.
      next_prob[r] += nf * prob[r];
      next_sum[r] += nf * sum[r];
      // Present: pad to the column's alignment, then its bytes.
      int pad = (align - r % align) % align;
      for (int k = 0; k < 2; ++k) {
        double pw = (1 - nf) * (k == 0 ? 1 - frac : frac);
        if (pw == 0) continue;
        int w = w_lo + k;
        int nr = (r + pad + w) % kRes;
        next_prob[nr] += pw * prob[r];
        next_sum[nr] += pw * (sum[r] + prob[r] * (pad + w));
      }
    }
    std::copy(next_prob, next_prob + kRes, prob);
    std::copy(next_sum, next_sum + kRes, sum);
    if (nf > 0) {
      l.p_no_nulls *= 1 - nf;
      l.max_null = std::max(l.max_null, nf);
      l.sum_null += nf;
      l.variable = true;
    }
    if (varlena) l.variable = true;
  }
  for (int r = 0; r < kRes; ++r) {
    l.data += sum[r];
    l.data_aligned += sum[r] + prob[r] * ((kRes - r) % kRes);
  }
  return l;
}

// Probability that a tuple carries a NULL bitmap. Independence gives
// 1 - prod(1 - p_i); whatever the correlation, the truth lies between
// max(p_i) (NULLs always coincide) and min(1, sum(p_i)) (they never do).
// pg_stats cannot tell where in that range a table sits — its `correlation`
// is between one column's values and the physical row order, not between
// columns — and extended statistics (CREATE STATISTICS) are not read, so the
// independence value is used; it is always inside the bounds. Rows with a
// dropped column always carry the bitmap.
double AnyNullFraction(const Layout& l) {
  if (l.any_dropped) return 1;
  double indep = 1 - l.p_no_nulls;
  return std::clamp(indep, l.max_null, std::min(1.0, l.sum_null));
}

void Finish(BloatEstimate* e, int64_t actual, double expected) {
  e->actual_bytes = actual;
  e->expected_bytes = static_cast<int64_t>(expected);
  e->wasted_bytes = std::max<int64_t>(0, actual - e->expected_bytes);
  e->ratio = actual > 0 ? static_cast<double>(e->wasted_bytes) / static_cast<double>(actual) : 0;
}

// Types whose B-tree opclass is "equalimage" (dedup-safe) in PG 13+.
bool DedupSafeType(const std::string& t) {
  static const std::set<std::string> kSafe = {
      "int2",    "int4",      "int8",      "oid",         "bool",     "char",  "date",
      "time",    "timetz",    "timestamp", "timestamptz", "uuid",     "bytea", "text",
      "varchar", "bpchar",    "name",      "macaddr",     "macaddr8", "money", "xid8",
      "pg_lsn",  "oidvector", "inet",      "cidr"};
  return kSafe.count(t) > 0;
}

double Distinct(const ColumnHealth& c, double rows) {
  if (!c.has_stats || c.n_distinct == 0) return rows;  // unknown: assume unique
  double nd = c.n_distinct > 0 ? c.n_distinct : -c.n_distinct * rows;
  // NULLs form one more group of equal keys.
  if (c.null_frac > 0) nd += 1;
  return std::max(1.0, nd);
}

}  // namespace

HeapRowLayout ExpectedHeapRow(const std::vector<ColumnHealth>& columns) {
  std::vector<const ColumnHealth*> cols;
  for (const auto& c : columns) cols.push_back(&c);
  Layout l = LayOut(cols);
  HeapRowLayout r;
  r.p_any_null = AnyNullFraction(l);
  // t_hoff = MAXALIGN(23 + bitmap): 24 without a bitmap; with one,
  // ceil(natts / 8) bytes more — still 24 up to 8 columns, 32 up to 72.
  double natts = static_cast<double>(columns.size());
  double hoff_plain = AlignUp(kHeapHeader, kMaxAlign);
  double hoff_nulls = AlignUp(kHeapHeader + std::ceil(natts / 8), kMaxAlign);
  r.header = (1 - r.p_any_null) * hoff_plain + r.p_any_null * hoff_nulls;
  r.data = l.data;
  // t_hoff is a multiple of MAXALIGN, so MAXALIGN(t_hoff + data) =
  // t_hoff + MAXALIGN(data), and expectations add whatever the correlation
  // between the bitmap and the data.
  r.tuple = r.header + l.data_aligned;
  r.variable = l.variable;
  r.missing_stats = l.missing_stats;
  return r;
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
  std::vector<const ColumnHealth*> cols;
  for (const auto& c : t.columns) {
    cols.push_back(&c);
    any_stats |= c.has_stats;
  }
  if (!any_stats) {
    e.why = "no column statistics (run ANALYZE)";
    return e;
  }
  HeapRowLayout row = ExpectedHeapRow(t.columns);
  double tuple = row.tuple + kItemId;
  bool variable = row.variable;
  double reserve = std::floor(bs * (100 - t.Fillfactor()) / 100);
  double space = bs - kPageHeader - reserve;
  double per_page = variable ? space / tuple - 0.5 : std::floor(space / tuple);
  per_page = std::clamp(per_page, 1.0, kMaxHeapTuplesPerPage);
  double rows = t.Rows();
  double pages = std::ceil(rows / per_page);
  e.estimated = true;
  e.rows = rows;
  e.row_bytes = tuple;
  e.per_page = per_page;
  if (row.missing_stats) e.why = "some columns have no statistics; widths guessed";
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
  double rows = x.partial ? x.reltuples : t.Rows();
  if (rows < 0 || (t.reltuples < 0 && !t.has_stats)) {
    e.why = "table never vacuumed or analyzed";
    return e;
  }
  // Key columns: the table's columns by attnum; expressions use the index's
  // own attribute (its type, and pg_stats under the index's name).
  std::vector<const ColumnHealth*> cols;
  std::vector<ColumnHealth> expr_cols;
  expr_cols.reserve(x.attnums.size());
  for (size_t i = 0; i < x.attnums.size(); ++i) {
    int att = x.attnums[i];
    const ColumnHealth* c = nullptr;
    if (att > 0) {
      for (const auto& tc : t.columns)
        if (tc.attnum == att) c = &tc;
    } else if (i < x.columns.size()) {
      c = &x.columns[i];
    }
    if (!c) {
      ColumnHealth guess;
      guess.typlen = 8;
      guess.typalign = 'd';
      expr_cols.push_back(guess);
      c = &expr_cols.back();
    }
    cols.push_back(c);
  }
  if (cols.empty()) {
    e.why = "index has no columns in the snapshot";
    return e;
  }
  Layout l = LayOut(cols);
  // Index tuple header: 8 bytes, 16 with the (fixed 4-byte) NULL bitmap;
  // both are multiples of MAXALIGN, so as for the heap the tuple is the
  // header plus the MAXALIGNed data.
  double p_null = AnyNullFraction(l);
  double hdr = (1 - p_null) * kIndexHeader + p_null * AlignUp(kIndexHeader + 4, kMaxAlign);
  double key = hdr + l.data_aligned;

  // Deduplication at build time (PG 13+): non-unique, no INCLUDE, all keys
  // equalimage, deduplicate_items not turned off.
  bool dedup = server_version >= 130000 && !x.unique && x.nkeyatts == x.natts;
  auto opt = x.reloptions.find("deduplicate_items");
  if (opt != x.reloptions.end() && (opt->second == "off" || opt->second == "false")) dedup = false;
  // NULL keys of a single-column index form one run of equal keys of their
  // own (a third of the rows can be one group); the rest spread over
  // n_distinct values. Multi-column: distinct combinations = product of the
  // columns' n_distinct (independence), capped at rows.
  double null_rows = 0;
  double groups = rows;
  if (dedup) {
    for (const ColumnHealth* c : cols)
      if (!DedupSafeType(c->type)) dedup = false;
    if (cols.size() == 1 && cols[0]->has_stats) {
      const ColumnHealth& c = *cols[0];
      null_rows = rows * std::clamp(c.null_frac, 0.0, 1.0);
      groups = c.n_distinct == 0  ? rows - null_rows
               : c.n_distinct > 0 ? c.n_distinct
                                  : -c.n_distinct * rows;
    } else {
      groups = 1;
      for (const ColumnHealth* c : cols) groups = std::min(groups * Distinct(*c, rows), rows);
    }
  }
  const double max_posting = 816 - kItemId;  // MAXALIGN_DOWN(BLCKSZ/10) - ItemId
  // Leaf bytes (line pointers included) of `n` rows in `g` runs of equal keys
  // of `k` bytes each.
  auto leaf_bytes = [&](double n, double g, double k) {
    if (n <= 0) return 0.0;
    g = std::clamp(g, 1.0, n);
    double dups = n / g;
    if (!dedup || dups <= 1.05) return n * (k + kItemId);
    e.deduplicated = true;
    double per_posting = std::max(1.0, std::floor((max_posting - 4 - k) / 6));
    double tuples_per_group = std::ceil(dups / per_posting);
    // Each run: its posting tuples (key + 6 bytes per heap TID, MAXALIGNed).
    return g * (tuples_per_group * (k + kItemId + (kMaxAlign - 1) / 2) + 6 * dups);
  };
  double total;
  if (null_rows > 0) {
    ColumnHealth present = *cols[0];
    present.null_frac = 0;
    Layout pl0 = LayOut({&present});
    double key_present = kIndexHeader + pl0.data_aligned;
    double key_null = AlignUp(kIndexHeader + 4, kMaxAlign);  // header + null bitmap, no data
    total = leaf_bytes(rows - null_rows, groups, key_present) + leaf_bytes(null_rows, 1, key_null);
  } else {
    total = leaf_bytes(rows, groups, key);
  }
  double entry_bytes = rows > 0 ? total / rows : key + kItemId;
  // Leaf pages as REINDEX fills them: to fillfactor, plus one high key each.
  double usable = bs - kPageHeader - kBtreeSpecial;
  double leaf_space = usable - std::floor(bs * (100 - x.Fillfactor()) / 100) - (key + kItemId);
  double per_leaf = std::max(1.0, leaf_space / entry_bytes);
  double leaf = std::ceil(rows / per_leaf);
  // Internal levels: one pivot per child; pivots are suffix-truncated, so the
  // first key column's width is a fair size.
  std::vector<const ColumnHealth*> first(cols.begin(), cols.begin() + 1);
  Layout pl = LayOut(first);
  double pivot = kIndexHeader + pl.data_aligned + kItemId;
  double per_internal = std::max(2.0, std::floor(usable * 0.70 / pivot));
  double internal = 0;
  for (double level = leaf; level > 1;) {
    level = std::ceil(level / per_internal);
    internal += level;
  }
  double pages = leaf + internal + 1;  // + metapage
  e.estimated = true;
  e.rows = rows;
  e.row_bytes = entry_bytes;
  e.per_page = per_leaf;
  if (l.missing_stats) e.why = "some key columns have no statistics; widths guessed";
  Finish(&e, x.bytes, pages * bs);
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
