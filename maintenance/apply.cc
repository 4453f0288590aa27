#include "maintenance/apply.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <thread>

#include "catalog/lookups.h"

namespace pgvise {

namespace {

constexpr const char* kLockNotAvailable = "55P03";

double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

bool IsReindexConcurrently(const PlanItem& it) {
  return it.rec.kind == RecommendationKind::kReindex &&
         it.rec.sql.rfind("REINDEX INDEX CONCURRENTLY ", 0) == 0;
}

// The (quoted) index a `REINDEX INDEX CONCURRENTLY <name>;` item rebuilds.
std::string ReindexTarget(const PlanItem& it) {
  std::string target = it.rec.sql.substr(std::string("REINDEX INDEX CONCURRENTLY ").size());
  while (!target.empty() && (target.back() == ';' || target.back() == ' ')) target.pop_back();
  return target;
}

struct Cleanup {
  std::string dropped;   // names dropped, comma-separated
  std::string left;      // names still there, comma-separated
  std::string left_sql;  // DROP statements for them
  bool sure = true;      // false: we could not even look
};

// After a failed REINDEX CONCURRENTLY: drop the invalid copies this attempt
// created (those not in `before`), each with DROP INDEX CONCURRENTLY IF
// EXISTS under its own lock timeout, `cleanup_attempts` times at most. A copy
// can only go once nothing holds its table, so the blocker that stopped the
// rebuild often stops this too: then it is reported, not retried for ever.
Cleanup DropNewCopies(Session& s, const PlanItem& it,
                      const std::map<std::string, std::string>& before, const ApplyOptions& opts) {
  Cleanup c;
  std::map<std::string, std::string> now;
  Status st = InvalidIndexCopies(s, ReindexTarget(it), &now);
  if (!st.ok()) {
    c.sure = false;
    c.left = "(the look-up failed: " + st.message() + ")";
    c.left_sql = kListInvalidIndexesSql;
    return c;
  }
  const std::string timeouts =
      "SET lock_timeout = " + std::to_string(opts.cleanup_lock_timeout_ms) +
      "; SET statement_timeout = " + std::to_string(opts.statement_timeout_ms);
  for (const auto& [oid, name] : now) {
    if (before.count(oid)) continue;  // not ours: older leftovers have their own plan items
    const std::string drop = "DROP INDEX CONCURRENTLY IF EXISTS " + name + ";";
    bool ok = false;
    for (int attempt = 0; attempt < std::max(1, opts.cleanup_attempts) && !ok; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(opts.retry_pause_ms));
      ok = s.Exec(timeouts).ok() && s.Exec(drop).ok();
    }
    std::string& list = ok ? c.dropped : c.left;
    list += (list.empty() ? "" : ", ") + name;
    if (!ok) c.left_sql += (c.left_sql.empty() ? "" : " ") + drop;
    if (opts.log)
      opts.log("  cleanup: " + (ok ? "dropped " + name
                                   : "could not drop " + name + " (" + s.last_sqlstate() +
                                         "); drop it with: " + drop));
  }
  return c;
}

}  // namespace

ApplyResult ApplyPlan(Session& s, const MaintenancePlan& plan, const ApplyOptions& opts) {
  ApplyResult res;
  res.outcomes.resize(plan.items.size());
  std::vector<size_t> queue;
  for (size_t i = 0; i < plan.items.size(); ++i) {
    res.outcomes[i].item = i;
    if (plan.items[i].executable)
      queue.push_back(i);
    else
      res.outcomes[i].status = "advice";
  }
  auto log = [&](const std::string& line) {
    if (opts.log) opts.log(line);
  };
  // Timeouts are set once per item, right before it, so nothing the item
  // does (or a previous item did) can leave a longer wait in place.
  const std::string set_timeouts =
      "SET lock_timeout = " + std::to_string(opts.lock_timeout_ms) +
      "; SET statement_timeout = " + std::to_string(opts.statement_timeout_ms);
  for (int round = 0; round <= opts.retries && !queue.empty(); ++round) {
    if (round > 0) {
      log("retry round " + std::to_string(round) + ": " + std::to_string(queue.size()) +
          " item(s) that timed out on a lock");
      std::this_thread::sleep_for(std::chrono::milliseconds(opts.retry_pause_ms));
    }
    std::vector<size_t> again;
    for (size_t idx : queue) {
      const PlanItem& it = plan.items[idx];
      ItemOutcome& o = res.outcomes[idx];
      ++o.attempts;
      auto t0 = std::chrono::steady_clock::now();
      // What invalid copies already exist, so a failure drops only its own.
      const bool rebuild = IsReindexConcurrently(it);
      std::map<std::string, std::string> before;
      if (rebuild) (void)InvalidIndexCopies(s, ReindexTarget(it), &before);
      const std::string prefix =
          "item " + std::to_string(idx + 1) + " [" + it.rule + "] " + it.rec.object;
      // Said before it runs: if the connection dies during a long VACUUM or
      // REINDEX, the last line on stderr names the item that was running.
      log(prefix + ": running: " + it.rec.sql);
      Status st = s.Exec(set_timeouts);
      if (st.ok()) st = s.Exec(it.rec.sql);
      o.seconds += Since(t0);
      if (st.ok()) {
        o.status = "applied";
        o.sqlstate.clear();
        o.message.clear();
        log(prefix + ": applied in " + std::to_string(static_cast<int>(o.seconds * 1000)) +
            " ms: " + it.rec.sql);
        continue;
      }
      o.sqlstate = s.last_sqlstate();
      o.message = st.message();
      if (rebuild) {
        Cleanup c = DropNewCopies(s, it, before, opts);
        if (!c.dropped.empty()) o.cleanup += (o.cleanup.empty() ? "" : ", ") + c.dropped;
        if (!c.left.empty()) {
          // Retrying would leave another invalid copy: stop here and say
          // exactly what is left and how to drop it.
          o.status = "failed";
          o.leftover = c.left;
          o.leftover_sql = c.left_sql;
          o.message += c.sure ? "; the failed rebuild left invalid index " + c.left +
                                    " that could not be dropped (not retried); drop it once "
                                    "nothing holds the table: " +
                                    c.left_sql
                              : "; not retried: could not look for an invalid copy the failed "
                                "rebuild may have left " +
                                    c.left + "; list invalid indexes with: " + c.left_sql;
          log(prefix + ": failed (" + o.sqlstate + ") and left invalid index " + c.left +
              "; not retried; drop it with: " + c.left_sql);
          continue;
        }
      }
      if (o.sqlstate == kLockNotAvailable) {
        o.status = "lock-timeout";
        bool last = round == opts.retries;
        log(prefix + ": lock not available within " + std::to_string(opts.lock_timeout_ms) +
            " ms (attempt " + std::to_string(o.attempts) + ")" +
            (last ? ", giving up" : ", skipped; will retry after the rest"));
        if (!last) again.push_back(idx);
        continue;
      }
      o.status = "failed";
      log(prefix + ": failed (" + o.sqlstate + "): " + o.message);
    }
    queue = std::move(again);
  }
  for (const auto& o : res.outcomes) {
    if (o.status == "applied")
      ++res.applied;
    else if (o.status == "advice")
      ++res.advice;
    else
      ++res.failed;
  }
  return res;
}

nlohmann::ordered_json ApplyResult::ToJson(const MaintenancePlan& plan) const {
  nlohmann::ordered_json j;
  j["applied"] = applied;
  j["failed"] = failed;
  j["advice"] = advice;
  auto list = nlohmann::ordered_json::array();
  for (const auto& o : outcomes) {
    nlohmann::ordered_json x;
    x["order"] = o.item + 1;
    x["rule"] = plan.items[o.item].rule;
    x["object"] = plan.items[o.item].rec.object;
    x["status"] = o.status;
    x["attempts"] = o.attempts;
    if (!o.sqlstate.empty()) x["sqlstate"] = o.sqlstate;
    if (!o.message.empty()) x["message"] = o.message;
    if (!o.cleanup.empty()) x["cleanup"] = o.cleanup;
    if (!o.leftover.empty()) {
      x["leftover"] = o.leftover;
      x["leftover_sql"] = o.leftover_sql;
    }
    x["seconds"] = o.seconds;
    list.push_back(std::move(x));
  }
  j["outcomes"] = std::move(list);
  return j;
}

}  // namespace pgvise
