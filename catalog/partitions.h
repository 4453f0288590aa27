// Partitions: the partitioned tables of a database as `pgvise maintain` sees
// them — each parent's strategy and key, when it was last ANALYZEd (autovacuum
// never analyzes a partitioned parent), and its partitions with their bounds
// (pg_get_expr(relpartbound)), which one is the default, and for a RANGE key of
// one date/time or integer column, each bound as a number and the span it
// covers — plus pg_partman's configuration when the extension is installed.
//
// Part of the catalog module, next to LoadStorage (storage.h): maintenance's
// HealthSnapshot carries what this reads, and the partition rules
// (maintenance/rules_partitions.cc) decide from it. Sizes and row counts of
// the partitions are not read here: a partition is an ordinary table, so
// LoadStorage already has them (join on the oid).
//
// One query for the partitioned tables and their partitions, one more for
// pg_partman's part_config when it is installed; never one per table. Like
// LoadStorage it never waits behind an ACCESS EXCLUSIVE lock: pg_get_expr
// opens the relation, so a locked partition's bound is not read (`locked`).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/session.h"
#include "core/status.h"

namespace pgvise {

// One partition (pg_inherits child of a partitioned table).
struct PartitionInfo {
  uint32_t oid = 0;
  std::string schema, name;
  char relkind = 'r';       // 'r' table, 'p' itself partitioned, 'f' foreign
  bool is_default = false;  // pg_partitioned_table.partdefid
  bool locked = false;      // ACCESS EXCLUSIVE held: bound not read
  std::string bound;        // "FOR VALUES FROM (...) TO (...)", "FOR VALUES IN (...)", "DEFAULT"
  // RANGE on one column: the bound values as pg_get_expr prints them,
  // unquoted ("2026-11-01 00:00:00+00", "1000"), or MINVALUE / MAXVALUE.
  std::string lower, upper;
  // The same as numbers when the key is a date/time (epoch seconds, in the
  // session's TimeZone for timestamp/date) or an integer; has_numbers false
  // for MINVALUE/MAXVALUE and other key types.
  bool has_numbers = false;
  double lower_num = 0, upper_num = 0;
  // What one partition spans: age(upper, lower) for date/time keys ("1 mon",
  // "7 days", "01:00:00"), upper - lower for integer keys.
  std::string span;
  // The default partition only, from its pg_stats (as of its last ANALYZE):
  // the smallest and largest key value seen (histogram bounds and most
  // common values; as numbers like lower_num when the key is a date/time or
  // an integer), and the most common values as SQL literals ("'de', 'fr'").
  bool has_key_stats = false;
  std::string stats_min, stats_max;
  bool stats_numbers = false;
  double stats_min_num = 0, stats_max_num = 0;
  std::string stats_values_sql;
  double relpages = 0;    // pg_class, as of the last VACUUM/ANALYZE
  double reltuples = -1;  // -1: never vacuumed or analyzed

  std::string Qualified() const;  // quoted schema.name
  std::string Display() const { return schema + "." + name; }
};

// A partitioned table (pg_partitioned_table) with its direct partitions.
struct PartitionedTable {
  uint32_t oid = 0;
  std::string schema, name;
  char strategy = 'r';                   // 'r' range, 'l' list, 'h' hash
  std::vector<std::string> key_columns;  // "" for an expression key
  // The single key column's type as format_type prints it ("timestamp with
  // time zone", "date", "bigint"), the base type for a domain; empty for
  // multi-column or expression keys.
  std::string key_type;
  bool is_partition = false;  // itself a partition of another (sub-partitioned)
  bool locked = false;
  // What the parent's last ANALYZE saw: reltuples summed over every
  // partition (-1: never analyzed), and how long ago (-1: never).
  double reltuples = -1;
  double since_analyze_s = -1;
  std::vector<PartitionInfo> partitions;  // RANGE: by lower bound; others by name

  std::string Qualified() const;
  std::string Display() const { return schema + "." + name; }
  // The key is one date, timestamp or timestamptz column.
  bool TimeKey() const;
  // The key is one smallint, integer or bigint column.
  bool IntegerKey() const;
  const PartitionInfo* Default() const;
};

// One row of pg_partman's part_config (4.x and 5.x share these columns).
struct PartmanConfig {
  std::string parent_table;  // "schema.table" as pg_partman stores it
  std::string control;       // the partition key column
  std::string partition_interval;
  int premake = 4;
  std::string retention;     // "" = none; an interval ("3 months") or a number
  double retention_num = 0;  // the retention as seconds (interval) or as a number
  bool retention_keep_table = true;
  bool automatic_maintenance = true;  // 'on': run_maintenance() handles this parent
};

struct PartitionCatalog {
  std::vector<PartitionedTable> tables;  // sorted by oid
  bool has_partman = false;
  std::string partman_schema;
  std::vector<PartmanConfig> partman;
  std::string partman_error;  // part_config could not be read: why
  double now_epoch = 0;       // the server's now() as epoch seconds
  int64_t queries = 0;        // round trips taken
};

// Reads every partitioned table outside pg_catalog / information_schema.
Status LoadPartitions(Session& session, PartitionCatalog* out);

}  // namespace pgvise
