// advisor/partition_internal: the pieces of the partition advisor, each a
// function that can be tested without a server. advisor/partition.cc strings
// them together (and talks to the database); these files hold the decisions:
//
//   partition_candidates.cc  which table, which strategy, which key
//   partition_interval.cc    the interval and count, and pruning per statement
//   partition_report.cc      its section of the advise report
//   partition_cost.cc        the dry run's cost of a plan after pruning
//   partition_sql.cc         the migration script, its revert, pg_partman's config
//   partition_verify.cc      --verify: a sampled copy, measured
#pragma once

#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "advisor/advisor.h"
#include "advisor/workload.h"
#include "analyzer/plan/plan.h"
#include "catalog/catalog.h"
#include "catalog/table_dependents.h"

namespace pgvise {

// A number for the partition reports and notes: "%.1f" unless told.
inline std::string Fmt(double v, int prec = 1) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", prec, v);
  return buf;
}

// --- candidates ------------------------------------------------------------

// How the workload filters one column of one table.
struct ColumnUse {
  std::string column;
  double range_calls = 0;       // calls of statements with a range predicate on it
  double equality_calls = 0;    // = / IN / = ANY
  double retention_calls = 0;   // DELETE ... WHERE col < x (or <=)
  std::vector<int> statements;  // workload indices filtering it
};

// The workload of one table: the statements that read or change its rows.
struct TableUse {
  const TableInfo* table = nullptr;
  double filtered_calls = 0;  // SELECT / UPDATE / DELETE calls reading it (the denominator)
  double insert_calls = 0;
  std::vector<int> statements;  // every statement touching it (workload indices)
  std::map<std::string, ColumnUse> columns;
};

// Groups the workload by table (every query level; a statement is counted
// once per table it touches).
std::vector<TableUse> GroupByTable(const Catalog& catalog, const Workload& workload);

enum class PartitionStrategy { kRange, kList };
const char* PartitionStrategyName(PartitionStrategy s);

struct PartitionCandidate {
  const TableInfo* table = nullptr;
  PartitionStrategy strategy = PartitionStrategy::kRange;
  std::string key;
  bool time_key = false;                 // date / timestamp / timestamptz (else a number)
  double share = 0;                      // of the table's filtered calls, those that filter the key
  bool retention = false;                // the workload deletes old rows by the key
  std::vector<std::string> list_values;  // LIST: the values (from pg_stats MCVs)
  std::string reason;
};

// The decision for one table (see partition_candidates.cc). nullopt: no
// partitioning, and *why says why (for -v).
std::optional<PartitionCandidate> ChooseCandidate(const TableUse& use, const PartitionOptions& o,
                                                  std::string* why);

// --- interval and count ----------------------------------------------------

struct IntervalInput {
  bool time_key = true;
  double lo = 0, hi = 0;    // the key's data span (histogram first and last bound; epoch seconds)
  int64_t table_bytes = 0;  // heap + toast
  int64_t index_bytes = 0;  // all indexes of the table
  int64_t shared_buffers_bytes = 128LL << 20;
  int max_locks_per_transaction = 64;
  int indexes = 1;  // indexes per partition (each is locked with it)
};

struct IntervalChoice {
  std::string interval;        // "1 day" (time) or "100000" (number)
  std::string trunc_unit;      // date_trunc unit: hour | day | week | month | year ("" for numbers)
  double step = 0;             // seconds (time) or key units
  int partitions = 0;          // over the data span
  int premake = 0;             // future partitions made ahead
  double partition_bytes = 0;  // table + index bytes of one partition, on average
  std::vector<std::string> why;  // each rule that decided, in words
};

IntervalChoice ChooseInterval(const IntervalInput& in, const PartitionOptions& o);

// What pruning leaves of one statement: the key's range it asks for
// ([lo, hi), either side open when absent) against partitions of `step`
// from `first` (aligned) covering the data [data_lo, data_hi].
struct PruneResult {
  int scanned = 0, total = 0;
  double row_fraction = 1;  // share of the rows in the surviving partitions (histogram)
};
PruneResult Prune(std::optional<double> lo, std::optional<double> hi, double first, double step,
                  int total, const std::vector<double>& histogram);

// Share of the rows with key in [lo, hi) from equal-frequency bounds.
double HistogramFraction(const std::vector<double>& bounds, double lo, double hi);

// --- the dry-run cost after partitioning ----------------------------------

// The total cost of `root` (a plan of the table unpartitioned) with `table`
// partitioned by `key`, `scanned` partitions surviving pruning and holding
// `row_fraction` of the rows: Seq Scans scale by the fraction, index scans
// pay a descent per surviving partition and scale only when the key is not
// in their condition (partition_cost.cc says why).
double CostAfterPruning(const PlanNode& root, const std::string& table, const std::string& key,
                        int scanned, double row_fraction);

// --- migration -------------------------------------------------------------

struct MigrationInput {
  const TableInfo* table = nullptr;
  PartitionCandidate cand;
  IntervalChoice interval;
  std::string key_type;                    // format_type of the key column
  std::string history_bound;               // literal (key type): the old table holds keys below it
  std::vector<std::string> future_bounds;  // literals: future partitions' lower bounds, + 1 end
  TableDependents deps;
  PartitionSettings settings;
  int retention_intervals = 0;  // pg_partman retention (0: none known)
  // CREATE INDEX statements recommended for the table by this run: made on
  // the parent as well, so new partitions get them.
  std::vector<std::string> extra_indexes;
};

struct Migration {
  std::string sql;                       // the script, statements separated by ";\n"
  std::string revert;                    // its undo
  bool executable = true;                // false: advice to read (blockers listed)
  std::vector<std::string> blockers;     // why it is not executable as is
  std::vector<std::string> constraints;  // what changes: PK/unique, FKs, indexes, ANALYZE
  std::vector<std::pair<std::string, std::string>> steps;  // step -> lock and duration
  std::string partman;  // pg_partman create_parent alternative ("" when not installed)
  std::string partitioned_name, history_name;
};

Migration BuildMigration(const MigrationInput& in);

}  // namespace pgvise
