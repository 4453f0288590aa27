// Rendering a maintenance run: the last step of `pgvise maintain`. The plan
// (and, after --apply, what happened to each item) becomes the one report
// model (core/report.h), which every format is rendered from:
//   text      header, notes, the plan most urgent first (SQL, why, lock,
//             undo), table health at a glance, --apply's outcomes
//   markdown  the same, for a ticket
//   html      the same as a page: the plan as a table and as items with
//             urgency, lock and the numbers behind each (evidence), table
//             health with bars (dead tuples, bloat, freeze age against
//             autovacuum_freeze_max_age)
//   json      the maintain contract (docs/contracts.md), byte for byte
//   sql       a reviewable script: every free text through SqlComment
// Analysis is done before this runs; these functions only read.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/finding.h"
#include "core/report.h"
#include "maintenance/apply.h"
#include "maintenance/bloat.h"
#include "maintenance/maintain.h"
#include "maintenance/plan.h"
#include "maintenance/snapshot.h"

namespace pgvise {

struct MaintainReportOptions {
  // The SQL script's SET lock_timeout / statement_timeout (the per-item ones
  // --apply would use).
  int lock_timeout_ms = 2000;
  int statement_timeout_ms = 3600000;
  // Table health at a glance: shown when the snapshot is given.
  const HealthSnapshot* snapshot = nullptr;
  const std::vector<BloatEstimate>* table_bloat = nullptr;  // indexed like snapshot->tables
  size_t health_rows = 20;  // the tables most in need, at most this many
  // --apply's outcomes (text/markdown/html) and their JSON (json).
  const ApplyResult* applied = nullptr;
  const nlohmann::ordered_json* apply_json = nullptr;
};

Report MaintenanceReport(const MaintenancePlan& plan, const MaintainReportOptions& o);

// The report of one `pgvise maintain` run: its plan with table health, and
// --apply's outcomes when `applied` is given. The CLI wires, this renders.
Report MaintainRunReport(const MaintainRun& run, const ApplyResult* applied, int lock_timeout_ms,
                         int statement_timeout_ms);

// -v's cost line: snapshot queries and time, rule time, queries in all.
std::string RunCostLine(const MaintenancePlan& plan);

// --apply's progress on stderr: each line stamped with the UTC time, so a
// cron log shows when each item ran. `sink` receives whole lines.
std::function<void(const std::string&)> StampedApplyLog(
    std::function<void(const std::string&)> sink);
std::string ApplyStartLine(const MaintenancePlan& plan, const std::string& masked_conninfo);
std::string ApplyDoneLine(const ApplyResult& applied);

// One severity per plan item, for the exit code (--fail-on).
std::vector<Finding> PlanItemSeverities(const MaintenancePlan& plan);

// The maintain JSON document (docs/contracts.md); `apply` may be null.
nlohmann::ordered_json PlanToJson(const MaintenancePlan& plan, const nlohmann::ordered_json* apply);

// One format each, through MaintenanceReport (tests and the benchmark).
std::string RenderPlanText(const MaintenancePlan& plan);
std::string RenderPlanJson(const MaintenancePlan& plan, const nlohmann::ordered_json* apply);
std::string RenderPlanSql(const MaintenancePlan& plan, int lock_timeout_ms,
                          int statement_timeout_ms);

// Human units for text: "3 h 20 min", "2.1 days"; "12,345".
std::string HumanDuration(double seconds);
std::string Thousands(double n);

}  // namespace pgvise
