#include "maintenance/apply.h"

#include <chrono>
#include <thread>

namespace pgvise {

namespace {

constexpr const char* kLockNotAvailable = "55P03";

double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The object name of a `REINDEX INDEX CONCURRENTLY <name>;` item, or "".
bool IsReindexConcurrently(const PlanItem& it) {
  return it.rec.kind == "reindex" && it.rec.sql.rfind("REINDEX INDEX CONCURRENTLY ", 0) == 0;
}

// After a failed REINDEX CONCURRENTLY the new copy stays behind, invalid,
// named <index>_ccnew[N] on the same table. Drop it (concurrently) so no
// invalid index outlives the run. Returns what was dropped.
std::string DropLeftovers(Session& s, const PlanItem& it, const ApplyOptions& opts) {
  std::string target = it.rec.sql.substr(std::string("REINDEX INDEX CONCURRENTLY ").size());
  while (!target.empty() && (target.back() == ';' || target.back() == ' ')) target.pop_back();
  Rows r;
  // The leftover's name is the original's (truncated to fit 63 bytes) plus
  // _ccnew and an optional number.
  Status st = s.Query(
      "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name "
      "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
      "JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE i.indrelid = (SELECT indrelid FROM pg_index WHERE indexrelid = $1::regclass) "
      "AND NOT i.indisvalid "
      "AND c.relname LIKE left((SELECT relname FROM pg_class WHERE oid = $1::regclass), 57) "
      "|| '\\_ccnew%'",
      {target}, &r);
  if (!st.ok()) return "clean-up query failed: " + st.message();
  std::string dropped;
  for (size_t i = 0; i < r.size(); ++i) {
    std::string name = r.Text(i, "name");
    // A leftover can only be dropped once nothing holds its table; retry a few times.
    bool ok = false;
    for (int attempt = 0; attempt <= opts.retries && !ok; ++attempt) {
      ok = s.Exec("DROP INDEX CONCURRENTLY IF EXISTS " + name).ok();
      if (!ok) std::this_thread::sleep_for(std::chrono::milliseconds(opts.retry_pause_ms));
    }
    dropped += (dropped.empty() ? "" : ", ") + name +
               (ok ? "" : " (drop failed: " + s.last_sqlstate() + ")");
    if (opts.log) opts.log("  cleanup: " + std::string(ok ? "dropped " : "could not drop ") + name);
  }
  return dropped;
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
      Status st = s.Exec(set_timeouts);
      if (st.ok()) st = s.Exec(it.rec.sql);
      o.seconds += Since(t0);
      std::string prefix =
          "item " + std::to_string(idx + 1) + " [" + it.rule + "] " + it.rec.object;
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
      if (IsReindexConcurrently(it)) o.cleanup = DropLeftovers(s, it, opts);
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
    x["seconds"] = o.seconds;
    list.push_back(std::move(x));
  }
  j["outcomes"] = std::move(list);
  return j;
}

}  // namespace pgvise
