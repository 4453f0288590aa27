// Shared by the maintenance rule handlers (rules_*.cc): the handler
// declarations the table in plan.cc lists, and small helpers to build items.
#pragma once

#include <string>
#include <vector>

#include "maintenance/plan.h"

namespace pgvise::maint {

// autovacuum group (rules_autovacuum.cc)
void VacuumOverdue(const RuleInput& in, std::vector<PlanItem>* out);
void AutovacuumVacuumSettings(const RuleInput& in, std::vector<PlanItem>* out);
void AutovacuumInsertSettings(const RuleInput& in, std::vector<PlanItem>* out);
void AutovacuumLargeTableCost(const RuleInput& in, std::vector<PlanItem>* out);
void StaleStatistics(const RuleInput& in, std::vector<PlanItem>* out);
// visibility map (rules_visibility.cc)
void VisibilityMapStale(const RuleInput& in, std::vector<PlanItem>* out);
// bloat (rules_bloat.cc)
void TableBloat(const RuleInput& in, std::vector<PlanItem>* out);
void IndexBloat(const RuleInput& in, std::vector<PlanItem>* out);
// wraparound (rules_wraparound.cc)
void XidWraparound(const RuleInput& in, std::vector<PlanItem>* out);
void MultixactWraparound(const RuleInput& in, std::vector<PlanItem>* out);
// health (rules_health.cc)
void LongRunningTransaction(const RuleInput& in, std::vector<PlanItem>* out);
void IdleInTransaction(const RuleInput& in, std::vector<PlanItem>* out);
void BlockingLockChain(const RuleInput& in, std::vector<PlanItem>* out);
void OldPreparedTransaction(const RuleInput& in, std::vector<PlanItem>* out);
void ReplicationSlotHoldingXmin(const RuleInput& in, std::vector<PlanItem>* out);
void InvalidIndex(const RuleInput& in, std::vector<PlanItem>* out);
void UnusedIndex(const RuleInput& in, std::vector<PlanItem>* out);
void SequenceExhaustion(const RuleInput& in, std::vector<PlanItem>* out);
// usage (rules_usage.cc)
void CacheHitRatio(const RuleInput& in, std::vector<PlanItem>* out);
void ConnectionUsage(const RuleInput& in, std::vector<PlanItem>* out);
void SlowQueryLogging(const RuleInput& in, std::vector<PlanItem>* out);
// settings (rules_settings.cc)
void ServerSettings(const RuleInput& in, std::vector<PlanItem>* out);
// partitioned tables (rules_partitions.cc, rules_partitions_upkeep.cc)
void PartitionFutureMissing(const RuleInput& in, std::vector<PlanItem>* out);
void PartitionDefaultFilling(const RuleInput& in, std::vector<PlanItem>* out);
void PartitionedParentNotAnalyzed(const RuleInput& in, std::vector<PlanItem>* out);
void PartitionRetentionDue(const RuleInput& in, std::vector<PlanItem>* out);

// A new item for `in.rule` with the rule's severity.
PlanItem NewItem(const RuleInput& in, RecommendationKind kind, const std::string& object);
// "0.05" / "1000" / "2.5e+06" without trailing zeros.
std::string Num(double v);
// Hours the activity counters cover (>= 1 minute).
double StatsHours(const HealthSnapshot& snap);
// A duration for people: "45 s", "12 min", "3.5 h", "4.2 days".
std::string Span(double seconds);
// Effective per-table autovacuum parameter: reloption, else the setting.
double TableParam(const HealthSnapshot& snap, const TableHealth& t, const std::string& name);
// Autovacuum is off for this table (globally or by reloption).
bool AutovacuumOff(const HealthSnapshot& snap, const TableHealth& t);

}  // namespace pgvise::maint
