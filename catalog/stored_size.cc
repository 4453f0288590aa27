// The stored-size model (the reason for one model is in stored_size.h).
//
// Columns. pg_attribute gives length and alignment; pg_stats gives each
// column's average stored width (measured on the on-disk datum: a short
// varlena's 1-byte header is counted, a TOASTed value counts as its 18-byte
// pointer) and null fraction. avg_width is the mean truncated to an integer
// (analyze.c stores it in an int4), so a varlena is on average half a byte
// wider than it says; alignment turns that into whole words. TPC-H's
// lineitem (l_shipdate, l_suppkey) INCLUDE (l_discount, l_extendedprice,
// l_partkey, l_quantity) has numerics of 4.82 and 8.65 bytes read as 4 and
// 8: its 41-byte tuples (48 with MAXALIGN) were estimated at 37 (40), 281.5
// MB against 322.4 MB built. Fixed-width columns take their length whatever
// avg_width says.
//
// Laying a tuple out. The widely used estimate adds avg_width over columns
// and rounds the sum up to MAXALIGN once. A tuple pads *each* column to its
// own alignment: `(a bool, b bigint, c bool, d bigint)` stores 1 + 7 (pad) +
// 8 + 1 + 7 (pad) + 8 = 32 data bytes, not 18. We lay the row out column by
// column instead:
//   - fixed-width columns are aligned to typalign (c=1, s=2, i=4, d=8);
//   - varlena values under 127 bytes use the 1-byte header and are never
//     aligned; longer ones (4-byte header) align to typalign;
//   - a column that is NULL takes no space and no padding, so the padding
//     before a later column depends on which earlier columns are present.
//     We carry, column by column, the distribution of the offset's residue
//     mod MAXALIGN (8 states, each with its probability and mean offset): a
//     column with null fraction p moves a row's offset with probability 1-p
//     (pad to its alignment, add its width) and leaves it with p. That is
//     the exact expectation over all 2^k present/absent combinations of k
//     nullable columns (assuming independent NULLs and each varlena at its
//     width), in 8 states per column instead of 2^k. The tuple's final
//     MAXALIGN padding comes from the same distribution, not an average. A
//     fractional width moves the offset by its floor or its ceiling, in
//     proportion, so the expected bytes stay exactly the width.
//   - the fraction of rows with any NULL (they carry the bitmap) lies
//     between max(p_i) and min(1, sum(p_i)); pg_stats cannot say where (its
//     `correlation` is about physical order, not between columns), so we
//     take independence, 1 - prod(1 - p_i), always within those bounds.
//
// Worked example of the NULL model: (id int8, a int4 30% NULL, b text of 33
// stored bytes 30% NULL, c int8). Data offsets:
//   both present      8 + 4 = 12, +33 = 45, c at 48 -> 56       (p .49)
//   a NULL, b present 8 + 33 = 41, c at 48 -> 56                (p .21)
//   a present, b NULL 8 + 4 = 12, c at 16 -> 24                 (p .21)
//   both NULL         8, c at 8 -> 16                           (p .09)
// E[data] = 45.68; each case is already a multiple of 8, so E[MAXALIGN(data)]
// = 45.68 and the heap row is 24 + 45.68 = 69.68 bytes. Averaging instead
// ((1-p) of each aligned width, 3.5 bytes of padding wherever the offset was
// uncertain and 3.5 for the final MAXALIGN) says 72.9, 4.6% too many.
//
// Heap. t_hoff = MAXALIGN(23 + bitmap): 24 without a bitmap; with one,
// ceil(natts/8) bytes more (still 24 up to 8 columns, 32 up to 72); a
// dropped column is stored as NULL, so every row has the bitmap. A page holds
// floor((BLCKSZ - 24 - reserve) / (MAXALIGN(tuple) + 4)) tuples (reserve =
// BLCKSZ*(100-fillfactor)/100 for heap inserts), capped at 291;
// variable-width rows leave half a tuple unused at the end of a page on
// average. (a bool, b bigint, c bool, d bigint), 1M rows: header 24, data
// 32 -> tuple 56, 60 with its line pointer, 136 rows a page, 7,353 pages
// (the summed-width method says 157 a page: 13% smaller, so a table with no
// bloat at all reads 13% bloated).
//
// B-tree (nbtsort.c, PostgreSQL 13+). A leaf tuple is an 8-byte
// IndexTupleData (16 with the NULL bitmap, in the rows that have a NULL) plus
// its keys and INCLUDE columns laid out as above, MAXALIGNed, plus a 4-byte
// line pointer.
//   dedup   = with no INCLUDE, not unique, and every key type having an
//             "equal image" (not numeric, float, jsonb, char(n), interval,
//             ranges, arrays...), each run of equal keys is posting-list
//             tuples of MAXALIGN(tuple + 6 bytes per row). CREATE INDEX caps
//             a posting list at a tenth of the page less a line pointer (812
//             bytes on 8 kB pages, 132 TIDs of a 16-byte key), not at half
//             the largest item as later insertions do. A run's rows spread
//             evenly over its tuples, MAXALIGNed exactly when the runs are
//             of one length, by half a word on average when their lengths
//             vary. Runs are estimated from the distinct
//             counts (their product over the keys, capped at the row count);
//             rows with a NULL key are runs of their own. A run of fewer than
//             1.5 rows on average stays plain tuples.
//   leaf    = a page (8,148 bytes for items once the high key's line
//             pointer is taken) takes items while the next fits with 8 bytes
//             to spare and 819 bytes (fillfactor 90) stay free, counting what
//             truncating its last item would give back (its posting list);
//             then the last item moves on to the next page and its truncated
//             keys stay as the high key. 20-byte tuples: 367 added, 366
//             kept; 740-byte posting lists (120 rows of a date): 11 fit, 10
//             kept, 7,400 bytes — the fillfactor does not bind there, the
//             item size does (a continuous "819 free" model said 7,700 or
//             7,000 depending on the side it rounded to, 3-11% off);
//   upper   = one pivot (the first key, suffix-truncated) per page below,
//             internal pages filled to 70%, plus the metapage.
// Example, 300,000 rows, (shipdate date, suppkey int, discount numeric)
// INCLUDE (price numeric, qty numeric, partkey int): data 4 + 4, the three
// numerics ~18.5 bytes with their half bytes (26.5), partkey aligned to 28,
// 32; tuple 8 + 32 = 40, 44 with its line pointer; floor((8,148 - 823) / 44)
// = 166 items a leaf: 1,808 leaves + 8 internal + 1 meta = 1,817 pages,
// 14.88 MB (built: 14.92 MB; HypoPG: 38.8 MB; IndexSizePg.MultiColumnInclude).
#include "catalog/stored_size.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

namespace pgvise::stored {
namespace {

constexpr double kMaxAlign = 8;
constexpr double kPageHeader = 24;       // SizeOfPageHeaderData
constexpr double kItemId = 4;            // ItemIdData, the line pointer
constexpr double kHeapHeader = 23;       // HeapTupleHeaderData before the bitmap
constexpr double kMaxHeapTuples = 291;   // MaxHeapTuplesPerPage on 8 kB pages
constexpr double kBtreeSpecial = 16;     // BTPageOpaqueData
constexpr double kIndexHeader = 8;       // IndexTupleData
constexpr double kIndexNullHeader = 16;  // IndexTupleData + null bitmap, MAXALIGNed
constexpr double kHeapTid = 6;           // ItemPointerData in a posting list
constexpr double kInternalFill = 0.70;   // BTREE_NONLEAF_FILLFACTOR

double AlignUp(double v, double a) { return std::ceil(v / a) * a; }

int AlignOf(char typalign) {
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

}  // namespace

Column FromPgType(const std::string& typname, int typlen, char typalign, bool has_stats,
                  double avg_width, double null_frac) {
  Column c;
  c.varlena = typlen < 0;
  c.align = AlignOf(typalign);
  if (typlen > 0) {
    c.width = typlen;  // fixed width is exact whatever avg_width says
  } else if (has_stats) {
    c.width = avg_width + 0.5;  // the half byte pg_stats' integer average truncates
  } else {
    c.width = 32;
    c.guessed = true;
  }
  // Short varlenas (1-byte header, < 127 bytes) and TOAST pointers are unaligned.
  if (c.varlena && c.width < 127) c.align = 1;
  c.null_frac = has_stats ? std::clamp(null_frac, 0.0, 1.0) : 0.0;
  // Types whose B-tree operator class declares an equal image (PG 13+).
  // bpchar is not among them: PostgreSQL 15's bt_metap().allequalimage is
  // false for a char(n) key (measured, IndexSizePg.LowCardinalityCharIsNot...).
  static const std::set<std::string> kEqualImage = {
      "int2",    "int4",      "int8",        "oid",  "bool",   "char",      "date",    "time",
      "timetz",  "timestamp", "timestamptz", "uuid", "bytea",  "text",      "varchar", "name",
      "macaddr", "macaddr8",  "money",       "xid8", "pg_lsn", "oidvector", "inet",    "cidr"};
  c.equal_image = kEqualImage.count(typname) > 0;
  return c;
}

Column FromTypeName(const std::string& type, double avg_width) {
  struct Fixed {
    const char* prefix;
    double len;
    int align;
  };
  static const Fixed kFixed[] = {
      {"smallint", 2, 2},
      {"integer", 4, 4},
      {"bigint", 8, 8},
      {"date", 4, 4},
      {"real", 4, 4},
      {"double precision", 8, 8},
      {"oid", 4, 4},
      {"boolean", 1, 1},
      {"\"char\"", 1, 1},
      {"uuid", 16, 1},
      {"money", 8, 8},
      {"timestamp", 8, 8},
      {"time with time zone", 12, 8},
      {"time", 8, 8},
      {"interval", 16, 8},
      {"macaddr8", 8, 1},
      {"macaddr", 6, 1},
  };
  Column c;
  bool fixed = false;
  if (type.find("[]") == std::string::npos) {  // integer[] is a varlena
    for (const auto& f : kFixed) {
      if (type.rfind(f.prefix, 0) != 0) continue;
      c.width = f.len;
      c.align = f.align;
      fixed = true;
      break;
    }
  }
  if (!fixed) {
    c.varlena = true;
    c.guessed = avg_width <= 0;
    c.width = avg_width > 0 ? avg_width + 0.5 : 8;
    c.align = c.width >= 127 ? 4 : 1;
  }
  // No equal image: equal values may differ in their bytes, so nbtree never
  // deduplicates them (char(n): measured, see FromPgType).
  c.equal_image =
      !(type.rfind("numeric", 0) == 0 || type == "jsonb" || type == "real" ||
        type == "double precision" || type.rfind("character(", 0) == 0 || type == "character" ||
        type == "bpchar" || type == "interval" || type.find("[]") != std::string::npos ||
        type.find("range") != std::string::npos);
  return c;
}

Layout LayOut(const std::vector<Column>& cols) {
  constexpr int kRes = static_cast<int>(kMaxAlign);
  Layout l;
  // prob[r]: probability that the offset so far is = r (mod 8); sum[r]: the
  // probability-weighted offset of those rows (so sum[r] / prob[r] is their
  // mean offset). All rows start at offset 0 of a MAXALIGNed data area.
  double prob[kRes] = {1, 0, 0, 0, 0, 0, 0, 0};
  double sum[kRes] = {0, 0, 0, 0, 0, 0, 0, 0};
  double p_no_nulls = 1, max_null = 0, sum_null = 0;
  for (const Column& c : cols) {
    if (c.dropped) {
      l.any_dropped = true;
      continue;
    }
    l.guessed |= c.guessed;
    const double nf = std::clamp(c.null_frac, 0.0, 1.0);
    const int align = std::max(1, c.align);
    const int w_lo = static_cast<int>(std::floor(c.width));
    const double frac = c.width - w_lo;
    double next_prob[kRes] = {}, next_sum[kRes] = {};
    for (int r = 0; r < kRes; ++r) {
      if (prob[r] == 0) continue;
      // Absent (NULL): no bytes, no padding, the residue stays.
      next_prob[r] += nf * prob[r];
      next_sum[r] += nf * sum[r];
      // Present: pad to the column's alignment, then its bytes.
      const int pad = (align - r % align) % align;
      for (int k = 0; k < 2; ++k) {
        const double pw = (1 - nf) * (k == 0 ? 1 - frac : frac);
        if (pw == 0) continue;
        const int nr = (r + pad + w_lo + k) % kRes;
        next_prob[nr] += pw * prob[r];
        next_sum[nr] += pw * (sum[r] + prob[r] * (pad + w_lo + k));
      }
    }
    std::copy(next_prob, next_prob + kRes, prob);
    std::copy(next_sum, next_sum + kRes, sum);
    if (nf > 0) {
      p_no_nulls *= 1 - nf;
      max_null = std::max(max_null, nf);
      sum_null += nf;
      l.variable = true;
    }
    if (c.varlena) l.variable = true;
  }
  for (int r = 0; r < kRes; ++r) {
    l.data += sum[r];
    l.data_aligned += sum[r] + prob[r] * ((kRes - r) % kRes);
  }
  l.p_any_null =
      l.any_dropped ? 1.0 : std::clamp(1 - p_no_nulls, max_null, std::min(1.0, sum_null));
  return l;
}

HeapRow ExpectedHeapRow(const std::vector<Column>& cols) {
  const Layout l = LayOut(cols);
  HeapRow r;
  r.p_any_null = l.p_any_null;
  const double natts = static_cast<double>(cols.size());
  const double hoff_plain = AlignUp(kHeapHeader, kMaxAlign);
  const double hoff_nulls = AlignUp(kHeapHeader + std::ceil(natts / 8), kMaxAlign);
  r.header = (1 - r.p_any_null) * hoff_plain + r.p_any_null * hoff_nulls;
  r.data = l.data;
  // t_hoff is a multiple of MAXALIGN, so MAXALIGN(t_hoff + data) = t_hoff +
  // MAXALIGN(data), and expectations add whatever the correlation between
  // the bitmap and the data.
  r.tuple = r.header + l.data_aligned;
  r.variable = l.variable;
  r.guessed = l.guessed;
  return r;
}

double HeapRowsPerPage(const HeapRow& row, int fillfactor, int block_size) {
  const double bs = block_size > 0 ? block_size : 8192;
  const double tuple = row.tuple + kItemId;
  const double reserve = std::floor(bs * (100 - fillfactor) / 100);
  const double space = bs - kPageHeader - reserve;
  const double per_page = row.variable ? space / tuple - 0.5 : std::floor(space / tuple);
  return std::clamp(per_page, 1.0, kMaxHeapTuples);
}

BtreeSize EstimateBtree(const Btree& b) {
  BtreeSize out;
  const double block = b.block_size > 0 ? b.block_size : 8192;
  const double rows = std::max(b.rows, 1.0);
  std::vector<Column> all = b.keys;
  all.insert(all.end(), b.include.begin(), b.include.end());
  const Layout l = LayOut(all);
  out.guessed = l.guessed;
  // The tuple without its line pointer: header (16 with the bitmap) plus
  // the MAXALIGNed data; both headers are multiples of MAXALIGN.
  const double tuple =
      (1 - l.p_any_null) * kIndexHeader + l.p_any_null * kIndexNullHeader + l.data_aligned;

  bool dedup = b.may_deduplicate && b.include.empty() && !b.keys.empty();
  for (const auto& k : b.keys) dedup &= k.equal_image;
  // CREATE INDEX's posting-list cap (nbtsort.c): MAXALIGN_DOWN(BLCKSZ / 10)
  // less a line pointer.
  const double max_posting = std::floor(block / 10 / kMaxAlign) * kMaxAlign - kItemId;
  // Leaf bytes (line pointers included) and item count of `n` rows in
  // `groups` runs of equal keys.
  double items = 0, posting = 0;  // leaf items; bytes of their posting lists
  auto run_bytes = [&](double n, double groups) {
    if (n <= 0) return 0.0;
    groups = std::clamp(groups, 1.0, n);
    const double per_group = n / groups;
    if (!dedup || per_group < 1.5) {
      items += n;
      return n * (tuple + kItemId);
    }
    out.deduplicated = true;
    const double tids = std::max(1.0, std::floor((max_posting - tuple) / kHeapTid));
    const double per_tuple = std::ceil(per_group / tids);  // posting tuples a run takes
    // A run's rows spread evenly over its tuples, each MAXALIGNed: exactly
    // when the runs are of one length (120 rows of each date), by half a
    // word on average when they vary (TPC-H's 1 to 7 lines per order:
    // aligning the mean run of 4.07 rows says 48 bytes a tuple, where the
    // runs take 16 to 64, 42 on average).
    const double tids_each = kHeapTid * per_group / per_tuple;
    const bool even = std::fabs(per_group - std::round(per_group)) < 0.05;
    const double bytes =
        even ? AlignUp(tuple + tids_each, kMaxAlign) : tuple + tids_each + (kMaxAlign - 1) / 2;
    const double tuples = groups * per_tuple;
    items += tuples;
    posting += tuples * (bytes - tuple);
    return tuples * (bytes + kItemId);
  };
  // Runs among rows without NULL keys: the product of the keys' distinct
  // counts; rows with a NULL key group apart (NULLs are equal to nbtree).
  double not_null = 1, groups_nn = 1, groups_all = 1;
  for (const auto& k : b.keys) {
    const double nf = std::clamp(k.null_frac, 0.0, 1.0);
    const double d = k.distinct > 0 ? k.distinct : rows;
    not_null *= 1 - nf;
    groups_nn = std::min(groups_nn * std::max(d, 1.0), rows);
    groups_all = std::min(groups_all * (std::max(d, 1.0) + (nf > 0 ? 1 : 0)), 2 * rows);
  }
  const double rows_nn = rows * not_null, rows_null = rows - rows_nn;
  const double leaf_bytes = run_bytes(rows_nn, std::min(groups_nn, rows_nn)) +
                            run_bytes(rows_null, std::min(groups_all - groups_nn, rows_null));

  // Items per leaf (nbtsort.c's _bt_buildadd): a leaf starts with the high
  // key's line pointer taken and takes items while the next fits with room
  // to spare and BLCKSZ*(100-fillfactor)/100 stays free, counting the bytes
  // truncating the last item would give back (its posting list); then its
  // last item moves on and its truncated keys stay as the high key.
  const double usable = block - kPageHeader - kBtreeSpecial - kItemId;
  const double keep_free = std::floor(block * (100 - b.fillfactor) / 100);
  const double item = items > 0 ? leaf_bytes / items : tuple + kItemId;
  const double give_back = items > 0 ? posting / items : 0;
  const double last_at = std::max(item + kMaxAlign, keep_free + kItemId - give_back);
  const double per_leaf_items = std::max(1.0, std::floor((usable - last_at) / item));
  const double leaf_fill = per_leaf_items * item;
  // Pivots (the first key, suffix-truncated) in the internal pages.
  const double first_key = b.keys.empty() ? 0 : LayOut({b.keys.front()}).data_aligned;
  const double pivot = kIndexHeader + first_key + kItemId;
  const double leaves = std::max(1.0, std::ceil(leaf_bytes / leaf_fill));
  const double per_internal = std::max(2.0, std::floor(usable * kInternalFill / pivot));
  double pages = 1 + leaves;  // the metapage
  for (double level = leaves; level > 1;) {
    level = std::ceil(level / per_internal);
    pages += level;
  }
  out.pages = pages;
  out.leaf_pages = leaves;
  out.entry_bytes = leaf_bytes / rows;
  out.per_leaf = rows / leaves;
  return out;
}

}  // namespace pgvise::stored
