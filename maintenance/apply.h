// --apply: carries out a maintenance plan on a separate writable session,
// item by item, without ever blocking the application for long.
//
// For each executable item, in plan order:
//   SET lock_timeout / statement_timeout (per item), then the item's one
//   statement in autocommit (VACUUM and CONCURRENTLY cannot run inside a
//   transaction block). An item that times out waiting for a lock (SQLSTATE
//   55P03) is skipped, reported, and retried after the rest of the plan, at
//   most `retries` times. Any other error fails the item and the run goes on.
//   A failed REINDEX INDEX CONCURRENTLY can leave an invalid `<name>_ccnew`
//   copy behind. The copies our attempt created (invalid indexes on the table
//   named *_ccnew[N] that did not exist before it) are dropped with DROP INDEX
//   CONCURRENTLY IF EXISTS, under their own lock timeout, a few times. If a
//   copy cannot be dropped (the blocker that stopped the rebuild usually
//   stops the drop too), the item is NOT retried — every retry would pile up
//   another copy — it fails, and the copy's name and the SQL to drop it are
//   reported.
// Nothing outside the plan runs: only the timeouts, the items' own SQL, a
// catalog look-up of invalid copies before and after each rebuild, and that
// clean-up. Every outcome is logged (to `log`) and returned.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/session.h"
#include "maintenance/plan.h"

namespace pgvise {

struct ApplyOptions {
  int lock_timeout_ms = 1000;                   // per item: give way to the application
  int statement_timeout_ms = 3600000;           // per item: 1 h
  int retries = 2;                              // extra attempts after a lock timeout
  int retry_pause_ms = 500;                     // pause before a retry round
  int cleanup_lock_timeout_ms = 2000;           // per DROP of a failed rebuild's copy
  int cleanup_attempts = 3;                     // DROPs tried per copy before giving up
  std::function<void(const std::string&)> log;  // one line per event; may be empty
};

struct ItemOutcome {
  size_t item = 0;     // index into plan.items
  std::string status;  // applied | failed | lock-timeout | advice
  int attempts = 0;
  std::string sqlstate;  // of the last failure
  std::string message;
  double seconds = 0;
  std::string cleanup;       // what was dropped after a failed REINDEX CONCURRENTLY
  std::string leftover;      // invalid copies we could not drop ("" = none); the item failed
  std::string leftover_sql;  // the statements that drop them, for a person to run
};

struct ApplyResult {
  std::vector<ItemOutcome> outcomes;  // one per plan item, in plan order
  int applied = 0, failed = 0, advice = 0;
  bool ok() const { return failed == 0; }
  nlohmann::ordered_json ToJson(const MaintenancePlan& plan) const;
};

ApplyResult ApplyPlan(Session& writable, const MaintenancePlan& plan, const ApplyOptions& opts);

}  // namespace pgvise
