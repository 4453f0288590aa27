// HealthSnapshot: everything `pgvise maintain` knows about a database, read in
// a small fixed number of queries however many tables there are.
//
// It is the first step of a maintenance run (snapshot -> rules -> plan ->
// apply). Every decision in maintenance/ reads only this struct, never the
// database, so a rule can be tested on a live cluster or on a JSON fixture of
// the same shape (SnapshotFromJson), and a database with 10,000 tables costs
// the same eleven round trips as one with ten.
//
// Units: sizes in bytes, ages in transactions (XID / MultiXact) or seconds,
// settings normalised to bytes (memory) and milliseconds (time).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

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
  int64_t idx_scan = 0, idx_tup_read = 0;
  int64_t idx_blks_read = 0, idx_blks_hit = 0;
  std::vector<ColumnHealth> columns;  // the index's own attributes (types of expressions)
  std::string definition;             // pg_get_indexdef

  std::string Qualified() const;
  std::string Display() const { return schema + "." + name; }
  int Fillfactor() const;
};

struct BackendHealth {
  int pid = 0;
  std::string database, user, application, backend_type, state;
  int64_t xmin_age = 0;  // age(backend_xmin); 0 = holds none
  double xact_age_s = -1, state_age_s = -1, query_age_s = -1;
  std::string wait_event_type, wait_event, query;
  std::vector<int> blocked_by;  // pg_blocking_pids
  std::string waiting_for;      // relation named by its ungranted lock, if any
  std::string waiting_mode;
};

struct PreparedXactHealth {
  std::string gid, database, owner;
  int64_t xid_age = 0;
  double age_s = 0;
};

struct SlotHealth {
  std::string name, type, database;
  bool active = false;
  int64_t xmin_age = 0, catalog_xmin_age = 0;
  int64_t retained_wal_bytes = 0;
};

struct DatabaseHealth {
  std::string name;
  int64_t xid_age = 0, mxid_age = 0;
  bool allow_connections = true;
};

struct SequenceHealth {
  std::string schema, name, data_type;  // int2 | int4 | int8 (as format_type says)
  bool readable = true;                 // last_value visible to us
  bool called = false;                  // last_value is not null
  int64_t last_value = 0, min_value = 1, max_value = 0, increment = 1;
  bool cycle = false;
  // The narrowest column that takes its values (owned-by, identity or DEFAULT nextval).
  std::string column_table, column_name, column_type;
  // The largest value any consumer can hold: min(sequence max, column type max).
  int64_t Limit() const;
  std::string Qualified() const;
};

struct HealthSnapshot {
  int server_version = 150000;
  std::string database;
  double stats_age_s = 3600;  // seconds the activity counters cover
  bool in_recovery = false;   // pg_is_in_recovery(): a (hot) standby
  bool has_pgstattuple = false;
  std::string pgstattuple_schema;
  std::map<std::string, std::string> settings;  // memory in bytes, time in ms
  std::vector<TableHealth> tables;
  std::vector<IndexHealth> indexes;
  std::vector<BackendHealth> backends;
  std::vector<PreparedXactHealth> prepared;
  std::vector<SlotHealth> slots;
  std::vector<DatabaseHealth> databases;
  std::vector<SequenceHealth> sequences;
  int64_t queries = 0;  // statements the snapshot took

  // A setting as a number (bytes / ms / plain); PG 15's default when absent.
  double Setting(const std::string& name) const;
  std::string SettingText(const std::string& name) const;
  const TableHealth* Table(uint32_t oid) const;
};

// Reads the snapshot in a fixed number of queries (see snapshot.cc).
Status CollectSnapshot(Session& session, HealthSnapshot* out);

// Builds a snapshot from a JSON fixture of the same field names (rule
// examples and unit tests). Unknown keys are errors, so a typo in a fixture
// fails loudly instead of silently testing nothing.
Status SnapshotFromJson(const nlohmann::json& j, HealthSnapshot* out);

}  // namespace pgvise
