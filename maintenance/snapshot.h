// HealthSnapshot: everything `pgvise maintain` knows about a database, read in
// a small fixed number of queries however many tables there are. The tables,
// their columns and indexes come from the catalog module (catalog/storage.h);
// what is read here is health-only: settings, databases (wraparound),
// sessions and locks, prepared transactions, replication slots, sequences.
// Partitioned tables, their partitions and bounds and pg_partman's
// configuration come from the catalog module too (catalog/partitions.h).
//
// It is the first step of a maintenance run (snapshot -> rules -> plan ->
// apply). Every decision in maintenance/ reads only this struct, never the
// database, so a rule can be tested on a live cluster or on a JSON fixture of
// the same shape (SnapshotFromJson), and a database with 10,000 tables costs
// the same twelve round trips as one with ten (thirteen with pg_partman).
//
// Units: sizes in bytes, ages in transactions (XID / MultiXact) or seconds,
// settings normalised to bytes (memory) and milliseconds (time).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "catalog/partitions.h"
#include "catalog/storage.h"
#include "core/session.h"
#include "core/status.h"

namespace pgvise {

struct BackendHealth {
  int pid = 0;
  std::string database, user, application, backend_type, state;
  int64_t xmin_age = 0;  // age(backend_xmin); 0 = holds none
  int64_t xid_age = 0;   // age(backend_xid): its own XID once it wrote; 0 = none
  double xact_age_s = -1, state_age_s = -1, query_age_s = -1;
  std::string wait_event_type, wait_event, query;
  std::vector<int> blocked_by;  // pg_blocking_pids
  std::string waiting_for;      // relation named by its ungranted lock, if any
  std::string waiting_mode;
  // Locks it holds (granted): how many, the strongest relation lock mode, and
  // the relations it holds at SHARE UPDATE EXCLUSIVE or stronger — the modes
  // VACUUM (and autovacuum) must wait behind.
  int locks_held = 0;
  std::string strongest_lock;                  // e.g. "RowExclusiveLock"; empty = none
  std::vector<std::string> vacuum_blocked_on;  // relation names

  // How far back it holds the xmin horizon: its snapshot or its own XID.
  int64_t HorizonAge() const { return xmin_age > xid_age ? xmin_age : xid_age; }
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
  // column_table is "schema.table" as the catalog spells the names (for
  // messages and --table matching), column_table_sql the same quoted as SQL
  // (quote_ident per part); column_type is the base type under any domains.
  std::string column_table, column_name, column_type, column_table_sql;
  // The largest value any consumer can hold: min(sequence max, column type max).
  int64_t Limit() const;
  std::string Qualified() const;
};

struct HealthSnapshot {
  int server_version = 150000;
  std::string database;
  double stats_age_s = 3600;  // seconds the activity counters cover
  // This database's committed + rolled back transactions since the reset
  // (pg_stat_database): the traffic rules need before judging logging.
  int64_t xact_total = 0;
  // Where that window comes from (maintenance/window.h): the statistics
  // reset, or a span the operator chose (--observe, --baseline), which the
  // rate rules then trust whatever its length.
  std::string window_source = "since the statistics reset";
  bool window_chosen = false;
  bool in_recovery = false;  // pg_is_in_recovery(): a (hot) standby
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
  // Partitioned tables with their partitions (leaf partitions are also in
  // `tables`, by oid), pg_partman's part_config, and the server's now().
  PartitionCatalog partitions;
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
