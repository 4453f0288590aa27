// Stored size: the bytes a heap row and a B-tree index take on disk, from
// what the catalog knows about their columns — length and alignment,
// pg_stats' average width, null fraction and distinct count.
//
// One model, two readers. The index advisor sizes a candidate as CREATE
// INDEX will build it (advisor/index_size.h: the budget is spent in these
// bytes); maintenance sizes a table or an index as a rewrite would pack it
// (maintenance/bloat.h: bloat is what is on disk beyond that). Both used to
// carry a B-tree model of their own, and they disagreed: the advisor's let a
// posting list grow to half a page's largest item (1,352 bytes) where
// CREATE INDEX stops at a tenth of the page (812), and its heap-side twin
// read pg_stats' integer-truncated widths as exact. It sits in catalog: it
// needs nothing but what a snapshot holds, and both catalog readers (the
// advisor's Catalog, maintenance's Storage) describe a column to it as a
// StoredColumn. The model and its worked examples are in stored_size.cc.
#pragma once

#include <string>
#include <vector>

namespace pgvise::stored {

// One column as it is stored in a tuple.
struct Column {
  double width = 8;  // expected bytes when present
  int align = 8;     // alignment as stored (a short varlena is unaligned: 1)
  double null_frac = 0;
  double distinct = 0;      // distinct non-NULL values; 0 = not known (taken as unique)
  bool equal_image = true;  // nbtree may deduplicate equal values (btequalimage)
  bool varlena = false;
  bool dropped = false;  // heap only: a dropped column, stored as NULL
  bool guessed = false;  // no statistics: the width is a guess
};

// A column from pg_type (typname, typlen, typalign) and pg_stats. Fixed
// widths are exact; a varlena's avg_width gets back the half byte pg_stats'
// integer average truncates; with no statistics a varlena is taken at 32
// bytes and marked guessed.
Column FromPgType(const std::string& typname, int typlen, char typalign, bool has_stats,
                  double avg_width, double null_frac);

// A column from format_type()'s spelling ("integer", "numeric(15,2)",
// "timestamp with time zone"), for the built-in types; anything else is
// taken as a varlena of `avg_width` (0: not known, 8 bytes guessed).
Column FromTypeName(const std::string& format_type, double avg_width);

// The data area of one tuple, laid out column by column: expectations over
// rows, with each combination of present and NULL columns padded exactly.
struct Layout {
  double data = 0;          // E[data bytes], before the tuple's MAXALIGN
  double data_aligned = 0;  // E[MAXALIGN(data bytes)]
  double p_any_null = 0;    // fraction of rows with a NULL (independence, within its bounds)
  bool variable = false;    // the length varies between rows
  bool guessed = false;     // some width is a guess
  bool any_dropped = false;
};
Layout LayOut(const std::vector<Column>& cols);

// One heap row: t_hoff (with the NULL bitmap in the rows that have a NULL)
// plus the MAXALIGNed data. Line pointer not included.
struct HeapRow {
  double p_any_null = 0;
  double header = 0;  // E[t_hoff]
  double data = 0;    // E[data bytes] before MAXALIGN
  double tuple = 0;   // E[MAXALIGN(t_hoff + data)]
  bool variable = false;
  bool guessed = false;
};
HeapRow ExpectedHeapRow(const std::vector<Column>& cols);

// Rows of `row` a heap page holds when packed at `fillfactor` (line
// pointers included; half a row less when rows vary in length).
double HeapRowsPerPage(const HeapRow& row, int fillfactor, int block_size);

// A B-tree as CREATE INDEX / REINDEX builds it.
struct Btree {
  double rows = 0;              // entries (a partial index: the rows it keeps)
  std::vector<Column> keys;     // key columns, in order
  std::vector<Column> include;  // INCLUDE columns
  bool may_deduplicate = true;  // PostgreSQL 13+, not unique, deduplicate_items on
  int fillfactor = 90;          // leaf fillfactor
  int block_size = 8192;
};
struct BtreeSize {
  double pages = 0;  // metapage, internal and leaf pages
  double leaf_pages = 0;
  double entry_bytes = 0;  // leaf bytes per row: tuple, line pointer, posting-list share
  double per_leaf = 0;     // rows per leaf page
  bool deduplicated = false;
  bool guessed = false;
};
BtreeSize EstimateBtree(const Btree& b);

}  // namespace pgvise::stored
