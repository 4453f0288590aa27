// The maintenance plan: what `pgvise maintain` decided, most urgent first.
//
// A run is a short pipeline (maintenance/maintain.cc):
//   CollectSnapshot -> (--exact: ExactBloat) -> RunRules -> OrderPlan -> render | Apply
// Each rule in rules/maintenance/<id>.yaml has a handler here with the same
// id (maintenance/rules_*.cc); a handler reads only the snapshot and its
// rule's thresholds and appends PlanItems. An item is either executable (one
// SQL statement --apply may run) or advice (SQL shown commented, never run:
// terminating a session, pg_repack, dropping an index, altering a column).
#pragma once

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "core/finding.h"
#include "core/rule.h"
#include "maintenance/bloat.h"
#include "maintenance/snapshot.h"

namespace pgvise {

// What the operator asked for. Plain struct; defaults documented per field.
struct MaintainOptions {
  // --only / --exclude: groups (autovacuum, vacuum, bloat, wraparound,
  // statistics, health, settings, partitions) or rule ids. Empty `only` = everything.
  std::set<std::string> only, exclude;
  // --tables: glob patterns on "schema.table" or "table"; empty = all.
  // Table and index items are filtered; cluster-wide items are not.
  std::vector<std::string> tables;
  bool exact = false;  // --exact: pgstattuple for flagged relations
  // Server sizing for the settings rule (it runs only when memory is given).
  int64_t memory_bytes = 0;        // --memory
  int cpus = 0;                    // --cpus (0 = not given)
  std::string storage = "ssd";     // --storage ssd|hdd|san|nvme
  std::string workload = "mixed";  // --workload web|oltp|dw (olap)|desktop|mixed
  // The window write rates are judged over (maintenance/window.h):
  double observe_s = 0;  // --observe: two snapshots this many seconds apart
  std::string baseline;  // --baseline FILE: counters a previous run saved
};

struct PlanItem {
  std::string rule;   // rule id (also the handler id)
  std::string group;  // autovacuum | vacuum | bloat | wraparound | statistics | health | settings
                      // | partitions
  Severity severity = Severity::kWarning;
  bool executable = true;     // false: advice, rendered commented, never run
  bool concurrently = false;  // must run outside a transaction block
  Recommendation rec;         // kind, sql, reason, lock, evidence, priority
};

struct MaintenancePlan {
  std::string database;
  int server_version = 0;
  bool standby = false;  // the server is in recovery: see StandbyNote() in maintain.cc
  size_t tables = 0, indexes = 0;
  int64_t snapshot_queries = 0;  // round trips the snapshot took
  int64_t total_queries = 0;     // all analysis round trips (snapshot + --exact)
  double snapshot_ms = 0, rules_ms = 0;
  std::vector<PlanItem> items;
  std::vector<std::string> notes;  // said once: "settings: --memory not given", ...
};

// A rule's logic. `emit` adds an item (the caller fills rule/group).
struct RuleInput {
  const HealthSnapshot& snap;
  const Rule& rule;
  const MaintainOptions& opts;
  // Table / index filter from --tables.
  std::function<bool(const std::string& schema, const std::string& table)> table_selected;
  // Estimates computed once per run (indexed like snap.tables / snap.indexes).
  const std::vector<BloatEstimate>* table_bloat = nullptr;
  const std::vector<BloatEstimate>* index_bloat = nullptr;
};
using RuleFn = void (*)(const RuleInput& in, std::vector<PlanItem>* out);

struct MaintenanceHandler {
  const char* id;
  const char* group;
  RuleFn fn;
};

// Every handler, one table (the YAML files must match it one to one).
const std::vector<MaintenanceHandler>& MaintenanceHandlers();
std::set<std::string> MaintenanceHandlerIds();
// The group names --only/--exclude accept besides rule ids.
const std::set<std::string>& MaintenanceGroups();

// Whether --only/--exclude select this rule.
bool RuleSelected(const MaintainOptions& o, const std::string& id, const std::string& group);
// Glob match of --tables patterns ("*" and "?"), on schema.table or table.
bool TableMatches(const std::vector<std::string>& patterns, const std::string& schema,
                  const std::string& table);

// Runs every enabled, selected rule over the snapshot. `table_bloat` and
// `index_bloat` may be null (computed here); returns the items unordered.
std::vector<PlanItem> RunRules(const HealthSnapshot& snap, const RuleBook& book,
                               const MaintainOptions& opts,
                               const std::vector<BloatEstimate>* table_bloat = nullptr,
                               const std::vector<BloatEstimate>* index_bloat = nullptr);
// Runs one rule (rule examples use this).
std::vector<PlanItem> RunRule(const HealthSnapshot& snap, const Rule& rule,
                              const MaintainOptions& opts);

// Merges duplicates (an ANALYZE made redundant by a VACUUM (ANALYZE) of the
// same table) and sorts: severity, then group urgency, then priority.
void OrderPlan(std::vector<PlanItem>* items);

// Rendering (text, markdown, html, json, sql) is maintenance/report.h.

// "16GB", "512MB", "64G", "1TiB" (no unit = GB) -> bytes; 0 when unparsable.
int64_t ParseMemorySize(const std::string& s);

// Human-readable sizes and counts used in reasons ("1.2 GiB", "3.4M").
std::string Bytes(double b);
std::string Count(double n);

}  // namespace pgvise
