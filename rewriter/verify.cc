#include "rewriter/verify.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace pgvise {

namespace {

// Counts SubPlans, and notes whether any reads through an index (an Index,
// Index Only or Bitmap Index Scan below a SubPlan).
void CountSubPlans(const nlohmann::json& node, int* n, bool in_subplan, bool* index_path) {
  if (!node.is_object()) return;
  auto rel = node.find("Parent Relationship");
  if (rel != node.end() && rel->is_string() && *rel == "SubPlan") {
    ++*n;
    in_subplan = true;
  }
  if (in_subplan) {
    const std::string type = node.value("Node Type", "");
    if (type == "Index Scan" || type == "Index Only Scan" || type == "Bitmap Index Scan")
      *index_path = true;
  }
  auto plans = node.find("Plans");
  if (plans != node.end() && plans->is_array())
    for (const auto& p : *plans) CountSubPlans(p, n, in_subplan, index_path);
}

Status Explain(Session& s, const std::string& sql, double* cost, int* subplans, bool* index_path,
               std::string* err) {
  Rows rows;
  // Planning can run user code (IMMUTABLE functions of constants): its own
  // rolled-back READ ONLY transaction, like every statement run here.
  Status st = s.QueryRolledBack("EXPLAIN (FORMAT JSON) " + sql, &rows);
  if (!st.ok()) {
    *err = st.message();
    return st;
  }
  auto j = nlohmann::json::parse(rows.Text(0, 0), nullptr, false);
  if (j.is_discarded() || !j.is_array() || j.empty() || !j[0].contains("Plan")) {
    *err = "unexpected EXPLAIN output";
    return Status::Internal(*err);
  }
  const auto& plan = j[0]["Plan"];
  *cost = plan.value("Total Cost", 0.0);
  *subplans = 0;
  *index_path = false;
  CountSubPlans(plan, subplans, false, index_path);
  return Status::Ok();
}

using Multiset = std::vector<std::vector<std::optional<std::string>>>;

// Runs `sql` in its own READ ONLY transaction, always rolled back (so no
// setting it changes reaches the next statement); false with *timed_out when
// statement_timeout cancelled it. A lost connection ends the command in
// Session (exit 3) instead of becoming a "failed to run" note.
bool Run(Session& s, const std::string& sql, Multiset* rows, double* ms, bool* timed_out,
         std::string* err) {
  Rows r;
  auto t0 = std::chrono::steady_clock::now();
  Status st = s.QueryRolledBack(sql, &r);
  *ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (!st.ok()) {
    *timed_out = s.last_sqlstate() == "57014";
    *err = st.message();
    return false;
  }
  *rows = std::move(r.rows_);
  std::sort(rows->begin(), rows->end());
  return true;
}

}  // namespace

Status VerifyRewrite(Session& session, const std::string& original, const std::string& rewritten,
                     const VerifyOptions& o, VerifyResult* out) {
  *out = VerifyResult();
  std::string err;
  bool after_index = false;
  if (!Explain(session, original, &out->cost_before, &out->subplans_before,
               &out->subplan_index_before, &err)
           .ok()) {
    out->note = "EXPLAIN of the original failed: " + err;
    return Status::Ok();
  }
  if (!Explain(session, rewritten, &out->cost_after, &out->subplans_after, &after_index, &err)
           .ok()) {
    out->note = "EXPLAIN of the rewrite failed: " + err;
    return Status::Ok();
  }
  bool cheaper = out->cost_after < out->cost_before;
  if (o.execute) {
    Multiset a, b;
    std::string e1, e2;
    bool ok1 = Run(session, original, &a, &out->ms_before, &out->before_timed_out, &e1);
    if (!ok1 && !out->before_timed_out) {
      out->note = "the original failed to run: " + e1;
      return Status::Ok();
    }
    bool ok2 = Run(session, rewritten, &b, &out->ms_after, &out->after_timed_out, &e2);
    if (!ok2 && !out->after_timed_out) {
      out->note = "the rewrite failed to run: " + e2;
      return Status::Ok();
    }
    out->executed = ok1 && ok2;
    out->rows_before = static_cast<int64_t>(a.size());
    out->rows_after = static_cast<int64_t>(b.size());
    if (out->executed) {
      out->results_equal = a == b;
      if (!out->results_equal) {
        out->note = "results differ (" + std::to_string(a.size()) + " vs " +
                    std::to_string(b.size()) + " rows): not proposed";
        return Status::Ok();
      }
    } else if (out->after_timed_out) {
      out->note = "the rewrite timed out: not proposed";
      return Status::Ok();
    } else {
      out->note = "the original timed out, so results could not be compared";
    }
  }
  if (!cheaper) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "not cheaper by estimate (cost %.1f -> %.1f): not proposed",
                  out->cost_before, out->cost_after);
    out->note = (out->note.empty() ? "" : out->note + "; ") + buf;
    return Status::Ok();
  }
  out->proposed = true;
  return Status::Ok();
}

}  // namespace pgvise
