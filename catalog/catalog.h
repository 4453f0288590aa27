// Catalog: one snapshot of what the live database holds — tables with their
// sizes and write rates, columns with their pg_stats statistics, existing
// indexes with their definitions and usage counters, and constraints.
//
// Every command that reads a live database starts here (after opening a
// Session): the advisor sizes candidate indexes and orders their columns by
// selectivity, the review rules learn table sizes and NOT NULL constraints,
// maintenance reads write rates. The snapshot takes a small fixed number of
// queries (four) whatever the schema size, so a database with 10,000 tables
// costs four round trips, not 10,000.
//
// A snapshot never waits behind another session's ACCESS EXCLUSIVE lock
// (a migration's ALTER TABLE, a VACUUM FULL, a LOCK TABLE): size functions
// and pg_get_indexdef/pg_get_expr/pg_get_constraintdef open the relation and
// would queue behind it until lock_timeout failed the whole command. A locked
// table is read from pg_class alone and noted (TableInfo::locked) — the same
// approach as LoadStorage (catalog/storage.h, which says why it is a second
// reader of the same catalogs and not a second copy).
//
// Names are stored as PostgreSQL spells them (unquoted, case preserved), the
// way QueryFacts resolves them. FindTable() accepts "schema.table" or a bare
// name that is visible through the session's search_path.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/session.h"
#include "core/status.h"

namespace pgvise {

// One column with the planner's statistics for it (from pg_stats; `has_stats`
// is false when the table was never analysed or the user can't read them).
struct ColumnInfo {
  std::string name;
  int attnum = 0;
  std::string type;  // format_type(): "integer", "character varying(20)", "jsonb", "text[]"
  // What the value is underneath its domains: format_type() of the base type
  // without a typmod ("timestamp with time zone" for a domain over a domain
  // over timestamptz(3)); the type itself when it is no domain. Empty when
  // not read from a live catalog (tests that build a ColumnInfo by hand):
  // BaseType() then falls back to `type`.
  std::string base_type;
  char type_category =
      'U';  // pg_type.typcategory: 'A' array, 'N' numeric, 'S' string, 'D' datetime...
  bool not_null = false;
  bool has_stats = false;
  double avg_width = 0;   // bytes
  double n_distinct = 0;  // pg_stats convention: > 0 a count, < 0 minus a fraction of rows
  double null_frac = 0;
  std::optional<double> correlation;          // physical order vs. value order, -1..1
  std::vector<std::string> most_common_vals;  // as text
  std::vector<double> most_common_freqs;
  // Equal-frequency bucket bounds of the values that are not MCVs, as text
  // (pg_stats.histogram_bounds): representative values for `$n` parameters.
  std::vector<std::string> histogram_bounds;

  // Estimated number of distinct non-null values for a table of `rows` rows.
  double DistinctValues(double rows) const;
  // Fraction of rows an equality with an unknown value matches (the planner's
  // 1/ndistinct, skewed values excluded the way the planner does).
  double EqualitySelectivity(double rows) const;
  // Frequency of `value` (text form, unquoted) when it is a most common value.
  std::optional<double> ValueFrequency(const std::string& value) const;
  const std::string& BaseType() const { return base_type.empty() ? type : base_type; }
  bool IsJsonb() const { return type == "jsonb"; }
  bool IsArray() const { return type_category == 'A'; }
  bool IsTsvector() const { return type == "tsvector"; }
};

// One key (or INCLUDE) column of an index.
struct IndexKey {
  std::string column;  // base column name; empty for an expression
  std::string
      expression;  // pg_get_indexdef() text of the key: column (quoted if needed) or expression
  bool descending = false;
  bool nulls_first = false;
  std::string opclass;  // operator class name
  bool default_opclass = true;
};

struct IndexInfo {
  std::string schema, name;
  uint32_t oid = 0;
  std::string table_schema, table;  // the indexed table
  std::string method;               // btree | hash | gin | gist | brin | spgist ...
  std::string definition;           // pg_get_indexdef(): a runnable CREATE INDEX
  std::vector<IndexKey> keys;       // key columns in order
  std::vector<IndexKey> include;    // INCLUDE columns
  std::string predicate;            // partial index WHERE clause (deparsed), empty if none
  bool unique = false, primary = false;
  bool valid = true, ready = true;
  std::string constraint;    // name of the constraint it backs (PK/UNIQUE/EXCLUDE), empty if none
  char constraint_type = 0;  // 'p' | 'u' | 'x' | 0
  int64_t size_bytes = 0;
  int64_t idx_scan = 0, idx_tup_read = 0, idx_tup_fetch = 0;

  std::string QualifiedName() const { return schema + "." + name; }
  bool BacksConstraint() const { return !constraint.empty() || primary || unique; }
  bool HasExpression() const;
};

struct ConstraintInfo {
  std::string name;
  char type =
      0;  // 'p' primary, 'u' unique, 'f' foreign key, 'c' check, 'x' exclusion, 'n' not null
  std::vector<std::string> columns;  // constrained columns in order
  std::string definition;            // pg_get_constraintdef()
  std::string referenced_table;      // schema.table for foreign keys
  std::vector<std::string> referenced_columns;
  std::string index;  // supporting index name (p/u/x), empty otherwise
  bool validated = true;
};

struct TableInfo {
  std::string schema, name;
  uint32_t oid = 0;
  char kind = 'r';       // 'r' table, 'p' partitioned, 'm' materialized view
  double reltuples = 0;  // planner's row estimate (-1 never analysed on PG14+, stored as 0)
  int64_t relpages = 0;
  // relhassubclass: inheritance children or partitions (may stay true after
  // the last child is dropped). A scan of the table reads its children too,
  // so a unique index on the parent alone does not make its rows unique.
  bool has_children = false;
  int64_t total_bytes = 0, heap_bytes = 0, index_bytes = 0, toast_bytes = 0;
  // pg_stat_user_tables counters since the last stats reset.
  int64_t n_tup_ins = 0, n_tup_upd = 0, n_tup_del = 0, n_tup_hot_upd = 0;
  int64_t n_live_tup = 0, n_dead_tup = 0, n_mod_since_analyze = 0, n_ins_since_vacuum = 0;
  int64_t seq_scan = 0, seq_tup_read = 0, idx_scan = 0;
  std::string last_vacuum, last_autovacuum, last_analyze, last_autoanalyze;  // timestamps or ""
  int64_t vacuum_count = 0, autovacuum_count = 0, analyze_count = 0, autoanalyze_count = 0;
  int64_t xid_age = 0;                  // age(relfrozenxid)
  std::vector<std::string> reloptions;  // "autovacuum_vacuum_scale_factor=0.01", ...
  double stats_age_s = 0;  // seconds the counters cover (since the database's stats reset)
  // Another session holds (or waits for) ACCESS EXCLUSIVE on the table, its
  // TOAST table or one of its indexes. Reading it would wait behind that lock,
  // so its sizes come from pg_class (relpages, as of the last VACUUM/ANALYZE)
  // and its index, predicate and constraint definitions are not read:
  // IndexInfo::definition and ConstraintInfo::definition are empty, an
  // expression key has neither column nor expression, and a partial index's
  // predicate is kUnreadPredicate. Catalog::notes() says so.
  bool locked = false;
  std::vector<ColumnInfo> columns;
  std::vector<IndexInfo> indexes;
  std::vector<ConstraintInfo> constraints;

  std::string QualifiedName() const { return schema + "." + name; }
  const ColumnInfo* Column(const std::string& name) const;
  const IndexInfo* Index(const std::string& name) const;
  // Rows the planner believes the table has (reltuples, falling back to live tuples).
  double Rows() const;
};

// The predicate of a partial index on a locked table (see TableInfo::locked):
// not empty, so the index is never taken to serve every row.
// PostgreSQL's default page size (BLCKSZ): used only where there is no server
// to ask (fixtures, offline input); with one, Catalog::block_size() says.
inline constexpr int kDefaultBlockSize = 8192;

inline constexpr const char* kUnreadPredicate = "(predicate not read: table locked)";

struct CatalogOptions {
  bool include_system = false;  // pg_catalog / information_schema tables
  bool with_stats = true;       // read pg_stats (MCVs can be large)
};

class Catalog {
 public:
  // Takes the snapshot in a fixed number of queries.
  static Status Load(Session& session, const CatalogOptions& opts, Catalog* out);

  const std::vector<TableInfo>& tables() const { return tables_; }
  std::vector<TableInfo>& mutable_tables() { return tables_; }
  // "schema.table" exactly, or a bare name resolved through the search_path.
  const TableInfo* FindTable(const std::string& name) const;
  const TableInfo* FindTable(const std::string& schema, const std::string& name) const;
  // Any index by (optionally schema-qualified) name.
  const IndexInfo* FindIndex(const std::string& name) const;
  const std::vector<std::string>& search_path() const { return search_path_; }
  int queries_used() const { return queries_used_; }
  int server_version() const { return server_version_; }
  // The server's page size (SHOW block_size), read with the tables.
  int block_size() const { return block_size_; }
  int64_t TotalTableBytes() const;  // heap + toast of every table (for % budgets)
  // What the snapshot could not read as usual, one line each (locked tables).
  const std::vector<std::string>& notes() const { return notes_; }

  // Adds a table by hand (tests and offline use).
  void AddTable(TableInfo t) { tables_.push_back(std::move(t)); }
  void set_search_path(std::vector<std::string> p) { search_path_ = std::move(p); }
  void set_block_size(int b) { block_size_ = b; }

 private:
  std::vector<TableInfo> tables_;
  std::vector<std::string> search_path_;
  std::vector<std::string> notes_;
  int queries_used_ = 0;
  int server_version_ = 0;
  int block_size_ = kDefaultBlockSize;
};

// Splits "schema.name" (honouring double quotes) into its parts; a bare name
// gives an empty schema. Quoted parts are unquoted, unquoted parts lower-cased.
void SplitQualifiedName(const std::string& qualified, std::string* schema, std::string* name);

}  // namespace pgvise
