// Storage: the tables, indexes and columns of a database as maintenance sees
// them — physical layout (relpages, sizes, attlen/attalign, fillfactor),
// activity counters (pg_stat_get_*), statistics ANALYZE measured (pg_stats or
// pg_statistic) — read in three queries however many tables there are.
//
// Part of the catalog module: maintenance's HealthSnapshot (maintenance/
// snapshot.h) is built on it and adds only health-only views. Like
// Catalog::Load it never waits behind another session's ACCESS EXCLUSIVE
// lock: a locked relation's sizes come from pg_class and its definition is
// not read. Unlike Catalog it keeps dropped columns (they still take room in
// the rows, which bloat estimates need) and each index's own attributes.
//
// Why two readers of pg_class / pg_attribute / pg_index and not one query
// set: they overlap in the relations but not in what each column of the
// answer costs. Catalog (catalog.h) is the planner's view, for a command that
// plans statements on a few tables: pg_stats MCV lists and histograms,
// format_type names, index keys with direction and operator class,
// predicates, constraints, partitioned parents, exact sizes
// (pg_total_relation_size). Storage is maintenance's view of the whole
// database, which must stay fast at 10,000 tables: no MCVs, sizes from
// relpages when the table is unmodified since ANALYZE (pg_relation_size
// locks each relation, ~70 us each), counters from pg_stat_get_* rather than
// the views (which aggregate over indexes per row), attlen/attalign and
// dropped columns, pg_statistic for a superuser. One merged query would make
// maintain pay for MCVs and definitions or advise read sizes from relpages.
// Where they overlap they must agree: CatalogTest.
// CatalogAndStorageAgreeOnTheFactsTheyShare (catalog_pg_test.cc) checks
// tables, oids, sizes, counters, columns and indexes side by side.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/session.h"
#include "core/status.h"

namespace pgvise {

// One column of a table or index, with what ANALYZE measured about it.
struct ColumnHealth {
  int attnum = 0;
  std::string name;
  std::string type;     // pg_type.typname
  int typlen = -1;      // -1 varlena, -2 cstring, else fixed bytes
  char typalign = 'i';  // c s i d
  bool notnull = false;
  bool dropped = false;
  bool has_stats = false;  // pg_stats has a row for it
  double avg_width = 0;    // pg_stats.avg_width (on-disk bytes, TOAST pointer when toasted)
  double null_frac = 0;
  double n_distinct = 0;  // pg_stats convention: < 0 means -fraction of rows
};

struct TableHealth {
  uint32_t oid = 0;
  std::string schema;
  std::string name;
  char relkind = 'r';
  int64_t relpages = 0;
  // Pages the visibility map marks all-visible, as of the last VACUUM or
  // ANALYZE (like relpages): index-only scans skip the heap only on those.
  int64_t relallvisible = 0;
  double reltuples = -1;  // -1: never vacuumed or analyzed
  // Main fork, now: pg_relation_size, or relpages when that is provably
  // current (no modification since ANALYZE/VACUUM) or when `locked`.
  int64_t heap_bytes = 0;
  bool locked = false;  // ACCESS EXCLUSIVE held or queued: sizes from pg_class
  int64_t toast_bytes = 0;
  int64_t index_bytes = 0;  // filled from the indexes
  std::map<std::string, std::string> reloptions;
  int64_t xid_age = 0;   // age(relfrozenxid)
  int64_t mxid_age = 0;  // mxid_age(relminmxid)
  // pg_stat_user_tables (counters since the last stats reset)
  bool has_stats = false;
  int64_t n_live_tup = 0, n_dead_tup = 0;
  int64_t n_tup_ins = 0, n_tup_upd = 0, n_tup_hot_upd = 0, n_tup_del = 0;
  int64_t n_mod_since_analyze = 0, n_ins_since_vacuum = 0;
  int64_t vacuum_count = 0, autovacuum_count = 0, analyze_count = 0, autoanalyze_count = 0;
  // Seconds since the event; -1 = never.
  double since_vacuum_s = -1, since_autovacuum_s = -1, since_analyze_s = -1,
         since_autoanalyze_s = -1;
  int64_t heap_blks_read = 0, heap_blks_hit = 0;  // pg_statio_user_tables
  int64_t toast_live = 0, toast_dead = 0;         // the TOAST table's tuple counters
  std::vector<ColumnHealth> columns;              // attnum order, dropped included

  std::string Qualified() const;  // quoted schema.name, ready for SQL
  std::string Display() const { return schema + "." + name; }
  // Best current row count: the live counter when stats exist, else reltuples.
  double Rows() const;
  int Fillfactor() const;
  // A per-table storage parameter as a number (fallback when unset).
  double Option(const std::string& key, double fallback) const;
  bool HasOption(const std::string& key) const { return reloptions.count(key) > 0; }
};

struct IndexHealth {
  uint32_t oid = 0;
  uint32_t table_oid = 0;
  std::string schema;
  std::string name;
  std::string table;  // table name (same schema)
  std::string am;     // btree, gin, ...
  bool valid = true, ready = true, unique = false, primary = false, exclusion = false;
  bool building = false;          // CREATE INDEX (CONCURRENTLY) in progress
  bool backs_constraint = false;  // primary key / unique / exclusion constraint
  bool partial = false, has_expressions = false;
  int nkeyatts = 0, natts = 0;
  std::vector<int> attnums;  // table attnum per index column, 0 = expression
  int64_t relpages = 0;
  double reltuples = -1;
  int64_t bytes = 0;
  std::map<std::string, std::string> reloptions;
  // idx_tup_read: entries the scans returned; idx_tup_fetch: heap rows they
  // then fetched (for an index-only scan, its heap visits).
  int64_t idx_scan = 0, idx_tup_read = 0, idx_tup_fetch = 0;
  int64_t idx_blks_read = 0, idx_blks_hit = 0;
  std::vector<ColumnHealth> columns;  // the index's own attributes (types of expressions)
  std::string definition;             // pg_get_indexdef

  std::string Qualified() const;
  std::string Display() const { return schema + "." + name; }
  int Fillfactor() const;
};

struct StorageOptions {
  // The role may read pg_statistic (superuser): read it directly, 5x faster
  // than pg_stats on large catalogs.
  bool read_statistic = false;
  bool track_counts = true;  // activity counters are collected (TableHealth::has_stats)
};

// Tables (sorted by oid) and indexes (sorted by oid) with their columns;
// TableHealth::index_bytes sums the table's indexes.
Status LoadStorage(Session& session, const StorageOptions& options,
                   std::vector<TableHealth>* tables, std::vector<IndexHealth>* indexes);

// int2vector ("1 2") or array ("{1,2}") text as numbers.
std::vector<int> ParseIntList(const std::string& text);

}  // namespace pgvise
