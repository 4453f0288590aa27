// The range grid of a partitioned table, shared by the partition rules
// (rules_partitions.cc, rules_partitions_upkeep.cc); rules_partitions_grid.cc
// says how bounds and names are computed. Internal to maintenance.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "maintenance/rules_internal.h"

namespace pgvise::maint::partition_grid {

// One partition's width: calendar months and days plus clock seconds for
// a date/time key, a plain number for an integer key.
struct Step {
  int months = 0, days = 0;
  double seconds = 0;
  double number = 0;
  bool ok() const { return months > 0 || days > 0 || seconds > 0 || number > 0; }
  bool SubDaily() const { return months == 0 && days == 0 && seconds > 0; }
};

// "1 year 2 mons 3 days 04:00:00" (age()'s output) or "1000" (integer).
Step ParseStep(const std::string& span, bool integer_key);

// A range partition pgvise proposes.
struct NewRange {
  std::string name, lower, upper;  // bound literals, unquoted
  double lower_num = 0, upper_num = 0;
};

// The i-th range after (i > 0) or before (i <= 0) the anchor partition:
// i = 1 is the one starting at the newest partition's upper bound.
// `newest` anchors names and the grid; false when its bounds do not parse.
bool RangeAt(const PartitionedTable& t, const PartitionInfo& newest, const Step& step, int i,
             NewRange* out);

// A name cut to PostgreSQL's 63 bytes, keeping its distinguishing end.
std::string Clip63(std::string name);
std::string Q(const std::string& literal);  // a quoted literal
std::string InSchema(const PartitionedTable& t, const std::string& name);

// The RANGE partitions with numeric bounds (no MINVALUE/MAXVALUE, no default),
// in bound order; `catch_all` when one of them ends at MAXVALUE.
std::vector<const PartitionInfo*> Ranged(const PartitionedTable& t, bool* catch_all);
// RANGE on one date/time or integer column: the grid the rules can extend.
bool Supported(const PartitionedTable& t);
// Rows of a partition now: the table's live count when the snapshot has it.
double PartitionRows(const HealthSnapshot& snap, const PartitionInfo& p);
int64_t PartitionBytes(const HealthSnapshot& snap, const PartitionInfo& p);
std::string Describe(const PartitionInfo& p);  // "[lower, upper)"
// "in 3 days" / "2 hours ago" from the snapshot's now().
std::string When(const HealthSnapshot& snap, double epoch);

}  // namespace pgvise::maint::partition_grid
