#include "advisor/index_size.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>
#include <vector>

namespace pgvise {
namespace {

constexpr double kMaxAlign = 8;
constexpr double kPageHeader = 24;            // SizeOfPageHeaderData
constexpr double kBtreeSpecial = 16;          // BTPageOpaqueData
constexpr double kLinePointer = 4;            // ItemIdData
constexpr double kTupleHeader = 8;            // IndexTupleData
constexpr double kNullHeader = 16;            // IndexTupleData + null bitmap, MAXALIGNed
constexpr double kHeapTid = 6;                // one ItemPointerData in a posting list
constexpr double kLeafFillfactor = 0.90;      // BTREE_DEFAULT_FILLFACTOR
constexpr double kInternalFillfactor = 0.70;  // BTREE_NONLEAF_FILLFACTOR

double AlignUp(double v, double a) { return std::ceil(v / a) * a; }

// One column as stored in an index tuple.
struct Slot {
  double width = 8;
  double align = 8;
  double null_frac = 0;
  double distinct = 1;      // non-null values (rows for "unique")
  bool equal_image = true;  // may be deduplicated (btequalimage)
};

// Storage of a type by its format_type() spelling: fixed length and
// alignment for the built-in fixed types; varlena otherwise, stored with a
// 1-byte header and unaligned when short (pg_stats.avg_width includes the
// header), 4-byte aligned when long.
Slot TypeSlot(const std::string& type, double avg_width) {
  struct Fixed {
    const char* prefix;
    double len, align;
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
  Slot s;
  bool fixed = false;
  if (type.find("[]") == std::string::npos) {  // integer[] is a varlena
    for (const auto& f : kFixed) {
      if (type.rfind(f.prefix, 0) != 0) continue;
      s.width = f.len;
      s.align = f.align;
      fixed = true;
      break;
    }
  }
  if (!fixed) {
    // pg_stats.avg_width is the mean truncated to an integer (analyze.c
    // stores it in an int4): on average half a byte short per column.
    // Alignment turns that into whole words: TPC-H's lineitem (l_shipdate,
    // l_suppkey) INCLUDE (l_discount, l_extendedprice, l_partkey,
    // l_quantity) has numerics of 4.82 and 8.65 bytes read as 4 and 8, and
    // its 41-byte tuples (48 with MAXALIGN) were estimated at 37 (40):
    // 281.5 MB against 322.4 MB built, the SF 1 500 MB set 8% over budget.
    s.width = avg_width > 0 ? avg_width + 0.5 : 8;
    s.align = s.width >= 127 ? 4 : 1;
  }
  // Types whose B-tree operator class has no equal-image support function:
  // equal values may differ in their bytes, so nbtree never deduplicates
  // them. char(n) is measured (PostgreSQL 15, bt_metap().allequalimage is
  // false for a bpchar key), the others are documented.
  s.equal_image =
      !(type.rfind("numeric", 0) == 0 || type == "jsonb" || type == "real" ||
        type == "double precision" || type.rfind("character(", 0) == 0 || type == "character" ||
        type == "bpchar" || type == "interval" || type.find("[]") != std::string::npos ||
        type.find("range") != std::string::npos);
  return s;
}

std::string Lower(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

// pg_stats' distinct count of `col`, or the measured one when larger.
double Distinct(const ColumnInfo& col, double rows, const MeasuredDistinct* measured) {
  double d = col.DistinctValues(rows);
  if (measured)
    if (auto it = measured->find(col.name); it != measured->end()) d = std::max(d, it->second);
  return d;
}

// An expression key: typed as the column inside it (lower(email) is text
// as wide as email), except date_trunc (a timestamp) and casts to date. It
// has no more distinct values than that column (a function of one column
// cannot invent values), which keeps the deduplication estimate on the
// cautious side.
Slot ExpressionSlot(const TableInfo& t, const CandidateKey& k, double rows,
                    const MeasuredDistinct* measured) {
  const std::string e = Lower(k.expression);
  const ColumnInfo* col = k.column.empty() ? nullptr : t.Column(k.column);
  Slot s = col ? TypeSlot(col->type, col->avg_width) : TypeSlot("", 0);
  if (e.find("date_trunc") != std::string::npos) {
    s = TypeSlot("timestamp", 8);
  } else if (e.find("::date") != std::string::npos) {
    s = TypeSlot("date", 4);
  }
  if (col) {
    s.null_frac = col->null_frac;
    s.distinct = Distinct(*col, rows, measured);
  } else {
    s.distinct = rows;  // unknown: assume unique, no deduplication
  }
  return s;
}

Slot ColumnSlot(const TableInfo& t, const std::string& name, double rows,
                const MeasuredDistinct* measured, bool* known) {
  const ColumnInfo* col = t.Column(name);
  if (!col) {
    *known = false;
    return Slot{};
  }
  Slot s = TypeSlot(col->type, col->avg_width);
  s.null_frac = col->null_frac;
  s.distinct = Distinct(*col, rows, measured);
  return s;
}

// Bytes of a tuple's data area with each column at its alignment, counting a
// column that is NULL in a fraction of the rows by its expected width.
double DataWidth(const std::vector<Slot>& slots, double header) {
  double off = header;
  for (const auto& s : slots) off = AlignUp(off, s.align) + s.width * (1 - s.null_frac);
  return off;
}

// HypoPG's per-row bytes for the same index (hypo_estimate_index): its
// column widths are get_attavgwidth(), 50 for an expression other than
// lower/upper of a column; 8 bytes of header and 4 of line pointer per
// column; times (200 - fillfactor + 20) / 100.
double HypopgRowBytes(const TableInfo& t, const IndexCandidate& c) {
  double width = 0;
  int n = 0;
  for (const auto& k : c.keys) {
    ++n;
    const ColumnInfo* col = k.column.empty() ? nullptr : t.Column(k.column);
    std::string e = Lower(k.expression);
    bool plain = e.empty() || ((e.rfind("lower(", 0) == 0 || e.rfind("upper(", 0) == 0) &&
                               e.find("::") == std::string::npos);
    width += plain && col ? col->avg_width : 50;
  }
  for (const auto& inc : c.include) {
    ++n;
    const ColumnInfo* col = t.Column(inc);
    width += col ? col->avg_width : 0;
  }
  return (width + kTupleHeader * n + AlignUp(kLinePointer * n, kMaxAlign)) * 1.3;
}

}  // namespace

int64_t EstimateIndexBytes(const TableInfo& t, const IndexCandidate& c, int64_t hypopg_bytes,
                           int block_size, const MeasuredDistinct* measured) {
  const double block = block_size > 0 ? block_size : 8192;
  if (c.method != "btree" || c.keys.empty()) return std::max<int64_t>(hypopg_bytes, block_size);
  const double table_rows = t.Rows();
  if (table_rows <= 0) return std::max<int64_t>(hypopg_bytes, block_size);

  // Rows in the index: the table's, or for a partial index what HypoPG's
  // predicate selectivity gave it, read back through its own formula.
  double rows = table_rows;
  if (!c.predicate.empty()) {
    const double usable = block - kPageHeader - kBtreeSpecial;
    if (hypopg_bytes <= 0) return std::max<int64_t>(hypopg_bytes, block_size);
    rows = std::min(table_rows, static_cast<double>(hypopg_bytes) / block * usable /
                                    std::max(HypopgRowBytes(t, c), 1.0));
  }
  rows = std::max(rows, 1.0);

  bool known = true;
  std::vector<Slot> key_slots, all_slots;
  for (const auto& k : c.keys)
    key_slots.push_back(k.expression.empty() ? ColumnSlot(t, k.column, table_rows, measured, &known)
                                             : ExpressionSlot(t, k, table_rows, measured));
  all_slots = key_slots;
  for (const auto& inc : c.include)
    all_slots.push_back(ColumnSlot(t, inc, table_rows, measured, &known));
  if (!known) return std::max<int64_t>(hypopg_bytes, block_size);  // a column we can't see

  double not_null = 1;
  for (const auto& s : all_slots) not_null *= 1 - std::clamp(s.null_frac, 0.0, 1.0);
  // A plain leaf tuple (line pointer apart); a NULL anywhere adds the bitmap.
  const double plain_nn = AlignUp(DataWidth(all_slots, kTupleHeader), kMaxAlign);
  const double plain_null = AlignUp(DataWidth(all_slots, kNullHeader), kMaxAlign);

  // Bytes of `n` rows falling into `groups` runs of equal keys, each run a
  // posting list when deduplication applies.
  bool dedup = c.include.empty();
  for (const auto& s : key_slots) dedup &= s.equal_image;
  // A posting-list tuple takes at most half of BTMaxItemSize (a third of
  // the page after MAXALIGN(header + 3 line pointers) = 40 and the special
  // space, less one MAXALIGNed TID; nbtsort.c):
  // 1,352 bytes on 8 kB pages, ~220 heap TIDs.
  const double max_item = std::floor((block - 40 - 16) / 3 / kMaxAlign) * kMaxAlign - kMaxAlign;
  const double max_posting = max_item / 2;
  auto run_bytes = [&](double n, double groups, double plain) {
    if (n <= 0) return 0.0;
    groups = std::clamp(groups, 1.0, n);
    const double per_group = n / groups;
    if (!dedup || per_group < 1.5) return n * (plain + kLinePointer);
    const double tids_per_tuple = std::max(1.0, std::floor((max_posting - plain) / kHeapTid));
    const double tuples = groups * std::ceil(per_group / tids_per_tuple);
    return tuples * (plain + kLinePointer) + n * kHeapTid + tuples * kMaxAlign / 2;
  };
  // Runs among rows without NULL keys: the product of the keys' distinct
  // counts; rows with a NULL key group apart (NULLs are equal to nbtree).
  double groups_nn = 1, groups_all = 1;
  for (const auto& s : key_slots) {
    groups_nn *= std::max(s.distinct, 1.0);
    groups_all *= std::max(s.distinct, 1.0) + (s.null_frac > 0 ? 1 : 0);
  }
  const double rows_nn = rows * not_null, rows_null = rows - rows_nn;
  double leaf_bytes = run_bytes(rows_nn, std::min(groups_nn, rows_nn), plain_nn) +
                      run_bytes(rows_null, std::min(groups_all - groups_nn, rows_null), plain_null);

  // A leaf is closed once less than 10% of the block is free; on average it
  // holds half a tuple more than that.
  const double usable = block - kPageHeader - kBtreeSpecial;
  const double leaf_fill = usable - block * (1 - kLeafFillfactor) + std::min(plain_nn, 800.0) / 2;
  const double leaves = std::max(1.0, std::ceil(leaf_bytes / leaf_fill));
  // Upper levels: one pivot (the keys, suffix-truncated; here whole) per page below.
  const double pivot = AlignUp(DataWidth(key_slots, kTupleHeader), kMaxAlign) + kLinePointer;
  const double per_internal = std::max(2.0, std::floor(usable * kInternalFillfactor / pivot));
  double pages = 1 + leaves;  // metapage
  for (double level = leaves; level > 1;) {
    level = std::ceil(level / per_internal);
    pages += level;
  }
  return static_cast<int64_t>(pages * block);
}

// The block-sample distinct count (the header's essay): one query over
// about kSampleBlocks blocks, grouped by block, each column's distinct
// values per block; runs that start in a block = its distinct values - 1.
Status MeasureClusteredDistinct(Session& s, const TableInfo& t,
                                const std::set<std::string>& columns, int block_size,
                                MeasuredDistinct* out) {
  constexpr double kMinCorrelation = 0.9;
  // ANALYZE samples 300 x default_statistics_target (100) = 30,000 rows:
  // below that its n_distinct comes from every row, and not far above it
  // the sample is most of the table.
  constexpr double kMinRows = 100000;
  constexpr double kSampleBlocks = 3000;
  out->clear();
  const double rows = t.Rows();
  if (t.locked || t.kind != 'r' || rows < kMinRows) return Status::Ok();
  std::vector<const ColumnInfo*> cols;
  for (const auto& name : columns) {
    const ColumnInfo* c = t.Column(name);
    if (!c || !c->has_stats || !c->correlation || std::fabs(*c->correlation) < kMinCorrelation)
      continue;
    if (c->DistinctValues(rows) >= rows * (1 - c->null_frac) * 0.99) continue;  // unique already
    cols.push_back(c);
  }
  if (cols.empty()) return Status::Ok();
  const double pages =
      t.relpages > 0 ? static_cast<double>(t.relpages)
                     : static_cast<double>(t.heap_bytes) / (block_size > 0 ? block_size : 8192);
  const std::string table = QuoteIdent(t.schema) + "." + QuoteIdent(t.name);
  std::string from = table;
  if (pages > kSampleBlocks)
    from += " TABLESAMPLE SYSTEM (" +
            std::to_string(std::min(100.0, 100.0 * kSampleBlocks / pages)) + ") REPEATABLE (1)";
  std::string inner = "SELECT count(*) AS n", outer = "SELECT sum(n)";
  for (size_t i = 0; i < cols.size(); ++i) {
    const std::string d = "d" + std::to_string(i);
    inner += ", count(DISTINCT " + QuoteIdent(cols[i]->name) + ") AS " + d;
    outer += ", sum(greatest(" + d + " - 1, 0))";
  }
  const std::string sql =
      outer + " FROM (" + inner + " FROM " + from + " GROUP BY (ctid::text::point)[0]) AS blocks";
  Rows r;
  Status st = s.QueryRolledBack(sql, &r);
  if (!st.ok()) return st;
  if (r.empty() || r.IsNull(0, 0)) return Status::Ok();
  const double sampled = r.Double(0, 0);
  if (sampled <= 0) return Status::Ok();
  for (size_t i = 0; i < cols.size(); ++i) {
    const double runs = r.Double(0, i + 1) * rows / sampled;
    const double d = std::min(runs, rows * (1 - cols[i]->null_frac));
    if (d > cols[i]->DistinctValues(rows)) (*out)[cols[i]->name] = d;
  }
  return Status::Ok();
}

}  // namespace pgvise
