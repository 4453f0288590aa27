// The migration handlers (area `migration`) that live outside
// sql_rule_migration.cc, by theme. sql_rule_migration.cc registers every
// migration handler in one table (MigrationHandlers, the order rules run
// in); each function below is the handler of the rule id it is named after.
// Internal to analyzer/sql_rule_migration*.cc.
#pragma once

#include <vector>

#include "analyzer/review/sql_rules_internal.h"

namespace pgvise::sqlrules {

// sql_rule_migration_rewrites.cc: column changes that may rewrite the table.
void AddingFieldWithVolatileDefault(const Call& c, std::vector<Finding>* out);
void ChangingColumnType(const Call& c, std::vector<Finding>* out);
void AddingColumnWithConstrainedDomain(const Call& c, std::vector<Finding>* out);

// sql_rule_migration_constraints.cc: adding or tightening constraints.
void SettingNotNullWithoutCheck(const Call& c, std::vector<Finding>* out);
void AddingForeignKeyWithoutNotValid(const Call& c, std::vector<Finding>* out);
void AddingCheckWithoutNotValid(const Call& c, std::vector<Finding>* out);
void AddingUniqueWithoutIndex(const Call& c, std::vector<Finding>* out);
void AddingNotNullColumnWithoutDefault(const Call& c, std::vector<Finding>* out);

// sql_rule_migration_partitions.cc: partitioned tables.
void CreateIndexOnPartitionedTable(const Call& c, std::vector<Finding>* out);
void AttachPartitionWithoutCheck(const Call& c, std::vector<Finding>* out);
// Whether `table` is partitioned: the catalog (--db) or this file says so.
bool KnownPartitioned(const Call& c, const std::string& table);

}  // namespace pgvise::sqlrules
