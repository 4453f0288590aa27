#include "advisor/index_size.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>
#include <vector>

#include "catalog/stored_size.h"

namespace pgvise {
namespace {

constexpr double kMaxAlign = 8;
constexpr double kPageHeader = 24;    // SizeOfPageHeaderData
constexpr double kBtreeSpecial = 16;  // BTPageOpaqueData
constexpr double kLinePointer = 4;    // ItemIdData
constexpr double kTupleHeader = 8;    // IndexTupleData

double AlignUp(double v, double a) { return std::ceil(v / a) * a; }

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
stored::Column ExpressionColumn(const TableInfo& t, const CandidateKey& k, double rows,
                                const MeasuredDistinct* measured) {
  const std::string e = Lower(k.expression);
  const ColumnInfo* col = k.column.empty() ? nullptr : t.Column(k.column);
  stored::Column s = stored::FromTypeName(col ? col->type : "", col ? col->avg_width : 0);
  if (e.find("date_trunc") != std::string::npos) {
    s = stored::FromTypeName("timestamp", 8);
  } else if (e.find("::date") != std::string::npos) {
    s = stored::FromTypeName("date", 4);
  }
  if (col) {
    s.null_frac = col->null_frac;
    s.distinct = Distinct(*col, rows, measured);
  } else {
    s.distinct = rows;  // unknown: assume unique, no deduplication
  }
  return s;
}

stored::Column PlainColumn(const TableInfo& t, const std::string& name, double rows,
                           const MeasuredDistinct* measured, bool* known) {
  const ColumnInfo* col = t.Column(name);
  if (!col) {
    *known = false;
    return stored::Column{};
  }
  stored::Column s = stored::FromTypeName(col->type, col->avg_width);
  s.null_frac = col->null_frac;
  s.distinct = Distinct(*col, rows, measured);
  return s;
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
  stored::Btree b;
  b.rows = rows;
  b.block_size = static_cast<int>(block);
  for (const auto& k : c.keys)
    b.keys.push_back(k.expression.empty() ? PlainColumn(t, k.column, table_rows, measured, &known)
                                          : ExpressionColumn(t, k, table_rows, measured));
  for (const auto& inc : c.include)
    b.include.push_back(PlainColumn(t, inc, table_rows, measured, &known));
  if (!known) return std::max<int64_t>(hypopg_bytes, block_size);  // a column we can't see
  return static_cast<int64_t>(stored::EstimateBtree(b).pages * block);
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
