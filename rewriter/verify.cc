#include "rewriter/verify.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "analyzer/plan/explain_runner.h"
#include "analyzer/sql/edit_tree.h"
#include "rewriter/dml.h"

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

bool HasIndexScan(const nlohmann::json& node) {
  if (!node.is_object()) return false;
  const std::string type = node.value("Node Type", "");
  if (type == "Index Scan" || type == "Index Only Scan" || type == "Bitmap Index Scan") return true;
  auto plans = node.find("Plans");
  if (plans != node.end() && plans->is_array())
    for (const auto& p : *plans)
      if (HasIndexScan(p)) return true;
  return false;
}

// Counts the LATERAL top-N probes through an index: a Limit on the inner
// side of a Nested Loop (rescanned once per outer row with the outer row's
// values) with an index scan below it. `inner`: below a Nested Loop's inner
// side already.
void CountLateralIndexProbes(const nlohmann::json& node, bool inner, int* n) {
  if (!node.is_object()) return;
  const std::string type = node.value("Node Type", "");
  if (inner && type == "Limit" && HasIndexScan(node)) {
    ++*n;
    return;
  }
  auto plans = node.find("Plans");
  if (plans == node.end() || !plans->is_array()) return;
  for (const auto& p : *plans)
    CountLateralIndexProbes(
        p, inner || (type == "Nested Loop" && p.value("Parent Relationship", "") == "Inner"), n);
}

struct PlanFacts {
  double cost = 0;
  int subplans = 0;
  bool subplan_index = false;
  int lateral_index_probes = 0;
};

Status Explain(Session& s, const std::string& sql, PlanFacts* f, std::string* err) {
  // Through the one EXPLAIN path (analyzer/plan/explain_runner.h): planning
  // can run user code (IMMUTABLE functions of constants), so it runs in its
  // own rolled-back READ ONLY transaction; and a statement with `$n` (from
  // pg_stat_statements, or an application's) gets its generic plan, both
  // forms alike, where a bare EXPLAIN fails for want of values.
  std::string text;
  Status st = ExplainStatement(s, sql, ExplainOptions(), &text);
  if (!st.ok()) {
    *err = st.message();
    return st;
  }
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_array() || j.empty() || !j[0].contains("Plan")) {
    *err = "unexpected EXPLAIN output";
    return Status::Internal(*err);
  }
  const auto& plan = j[0]["Plan"];
  *f = PlanFacts();
  f->cost = plan.value("Total Cost", 0.0);
  CountSubPlans(plan, &f->subplans, false, &f->subplan_index);
  CountLateralIndexProbes(plan, false, &f->lateral_index_probes);
  return Status::Ok();
}

using Multiset = std::vector<std::vector<std::optional<std::string>>>;

// Runs `sql` in its own READ ONLY transaction, always rolled back (so no
// setting it changes reaches the next statement); false with *timed_out when
// statement_timeout cancelled it. A lost connection ends the command in
// Session (exit 3) instead of becoming a "failed to run" note. `rows` null:
// timed only (the rows still cross the wire, as they do for the original).
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
  if (rows) {
    *rows = std::move(r.rows_);
    std::sort(rows->begin(), rows->end());
  }
  return true;
}

// What --verify runs for `sql`. A DML statement is never run, not even in a
// rolled-back transaction (triggers, sequences and foreign writes escape a
// rollback): for INSERT ... SELECT the rows it would insert are exactly its
// SELECT's rows, so the SELECT alone is run read-only and compared; for
// UPDATE / DELETE the SELECT of the target rows (tableoid, ctid) and the new
// values (rewriter/dml.h). "" when a DML statement has no such form (MERGE):
// never run. Anything else is returned as given. *dml names the kind
// ("INSERT", "UPDATE", "DELETE", "MERGE"), empty for a query.
std::string ReadOnlyForm(const std::string& sql, std::string* dml) {
  dml->clear();
  std::unique_ptr<rw::Tree> t;
  if (!rw::Tree::Parse(sql, &t).ok() || t->root()->n_stmts != 1) return sql;
  PgQuery__Node* stmt = t->root()->stmts[0]->stmt;
  if (stmt && (stmt->node_case == PG_QUERY__NODE__NODE_UPDATE_STMT ||
               stmt->node_case == PG_QUERY__NODE__NODE_DELETE_STMT)) {
    *dml = stmt->node_case == PG_QUERY__NODE__NODE_UPDATE_STMT ? "UPDATE" : "DELETE";
    return DmlReadOnlyForm(sql);
  }
  if (stmt && stmt->node_case == PG_QUERY__NODE__NODE_MERGE_STMT) {
    *dml = "MERGE";  // no read-only form built: never run (the READ ONLY
    return {};       // transaction would refuse it anyway; this says why)
  }
  if (!stmt || stmt->node_case != PG_QUERY__NODE__NODE_INSERT_STMT) return sql;
  PgQuery__Node* sel = stmt->insert_stmt->select_stmt;
  *dml = "INSERT";
  if (!sel || sel->node_case != PG_QUERY__NODE__NODE_SELECT_STMT) return std::string();
  t->root()->stmts[0]->stmt = sel;
  std::string out;
  if (!t->Deparse(&out).ok()) return std::string();
  return out;
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Median absolute deviation: the typical distance of a run from its median,
// robust to the one run a busy machine stalls.
double Mad(const std::vector<double>& v) {
  double m = Median(v);
  std::vector<double> d;
  d.reserve(v.size());
  for (double x : v) d.push_back(std::fabs(x - m));
  return Median(d);
}

std::string Fmt(const char* f, double a, double b) {
  char buf[96];
  std::snprintf(buf, sizeof buf, f, a, b);
  return buf;
}

// "median 12.1 ms -> 31.8 ms over 5 runs each (noise margin 3.2 ms)"
std::string Timings(const SpeedCheck& s) {
  return Fmt("median %.1f ms -> %.1f ms", s.median_before, s.median_after) + " over " +
         std::to_string(s.runs) + (s.runs == 1 ? " run" : " runs") +
         " each after a warm-up, interleaved" + Fmt(" (noise margin %.1f ms)", s.margin_ms, 0);
}

std::string Costs(const VerifyResult& v) {
  return Fmt("cost %.1f -> %.1f", v.cost_before, v.cost_after);
}

}  // namespace

const char* SpeedVerdictName(SpeedVerdict v) {
  switch (v) {
    case SpeedVerdict::kUnmeasured:
      return "unmeasured";
    case SpeedVerdict::kFaster:
      return "faster";
    case SpeedVerdict::kWithinNoise:
      return "within noise";
    case SpeedVerdict::kSlower:
      return "slower";
  }
  return "unmeasured";
}

SpeedCheck DecideSpeed(const std::vector<double>& before_ms, const std::vector<double>& after_ms,
                       const MeasureOptions& o) {
  SpeedCheck s;
  if (before_ms.empty() || after_ms.empty()) return s;
  s.runs = static_cast<int>(std::min(before_ms.size(), after_ms.size()));
  s.median_before = Median(before_ms);
  s.median_after = Median(after_ms);
  s.margin_ms = std::max({o.margin_ratio * s.median_before, o.margin_min_ms,
                          o.spread_factor * std::max(Mad(before_ms), Mad(after_ms))});
  if (s.median_after > s.median_before + s.margin_ms)
    s.verdict = SpeedVerdict::kSlower;
  else if (s.median_after < s.median_before - s.margin_ms)
    s.verdict = SpeedVerdict::kFaster;
  else
    s.verdict = SpeedVerdict::kWithinNoise;
  return s;
}

std::string MisleadingEstimate(const VerifyResult& v) {
  if (v.subplan_index_before)
    return "the original's SubPlan looks up an index once per outer row and the planner prices "
           "every lookup as a cold read, overstating the original";
  if (v.lateral_index_probes_before > v.lateral_index_probes_after)
    return "the original's LATERAL top-N probes an index once per outer row and the planner "
           "prices every probe as a cold read, overstating the original";
  return "";
}

void DecideProposal(bool measured, VerifyResult* v) {
  v->proposed = false;
  if (!v->explained) {
    v->decided_by = "explain";
    v->note = v->failure;
    return;
  }
  if (measured) {
    v->decided_by = "results";
    if (v->results_failed) {
      v->note = v->failure;
      return;
    }
    if (v->after_timed_out) {
      v->note = "the rewrite timed out (> statement_timeout): not proposed";
      return;
    }
    if (v->executed && !v->results_equal) {
      v->note = "results differ (" + std::to_string(v->rows_before) + " vs " +
                std::to_string(v->rows_after) + " rows): not proposed";
      return;
    }
  }
  const bool cheaper = v->cost_after < v->cost_before;
  const SpeedCheck& s = v->speed;
  std::string measured_part;
  if (measured && s.verdict != SpeedVerdict::kUnmeasured)
    measured_part = std::string("measured ") + SpeedVerdictName(s.verdict) + ": " + Timings(s);
  if (!cheaper) {
    v->decided_by = "estimate";
    v->note = "not cheaper by estimate (" + Costs(*v) + "): not proposed" +
              (measured_part.empty() ? "" : "; " + measured_part);
    return;
  }
  if (!measured) {
    v->decided_by = "estimate";
    // Cheaper by an estimate known to overstate the original here: not a
    // proof of a gain, so the statement stays as written until measured.
    if (std::string why = MisleadingEstimate(*v); !why.empty()) {
      v->note = "not proposed: cheaper by estimate (" + Costs(*v) +
                "), but the estimate is known to mislead for this shape (" + why +
                "): run with --verify to measure";
      return;
    }
    v->proposed = true;
    v->note = "proposed: cheaper by estimate";
    return;
  }
  v->decided_by = "measurement";
  if (v->before_timed_out) {
    // The rewrite finished where the original hit statement_timeout: faster
    // beyond any margin, but its rows could not be compared.
    v->proposed = true;
    v->note = "the original timed out (> statement_timeout), the rewrite ran in " +
              Fmt("%.1f ms", v->ms_after, 0) +
              ", so results could not be compared; proposed: cheaper by estimate";
    return;
  }
  if (s.verdict == SpeedVerdict::kSlower) {
    v->note = measured_part + ": not proposed (cheaper by estimate, " + Costs(*v) +
              ", but the measurement overrules it)";
    return;
  }
  if (s.verdict == SpeedVerdict::kUnmeasured) {
    v->decided_by = "results";
    v->note = "the forms could not be timed: not proposed";
    return;
  }
  v->proposed = true;
  v->note = "proposed: cheaper by estimate (" + Costs(*v) + ") and " + measured_part;
}

Status ExplainCost(Session& session, const std::string& sql, double* cost) {
  PlanFacts f;
  std::string err;
  Status st = Explain(session, sql, &f, &err);
  if (st.ok()) *cost = f.cost;
  return st;
}

Status VerifyRewrite(Session& session, const std::string& original_sql,
                     const std::string& rewritten_sql, const VerifyOptions& o, VerifyResult* out) {
  *out = VerifyResult();
  std::string err;
  PlanFacts before, after;
  if (!Explain(session, original_sql, &before, &err).ok()) {
    out->failure = "EXPLAIN of the original failed: " + err;
  } else if (!Explain(session, rewritten_sql, &after, &err).ok()) {
    out->failure = "EXPLAIN of the rewrite failed: " + err;
  } else {
    out->explained = true;
  }
  out->cost_before = before.cost;
  out->subplans_before = before.subplans;
  out->subplan_index_before = before.subplan_index;
  out->lateral_index_probes_before = before.lateral_index_probes;
  out->cost_after = after.cost;
  out->subplans_after = after.subplans;
  out->lateral_index_probes_after = after.lateral_index_probes;
  // EXPLAIN (never run) costs the statements as written; the runs below use
  // their read-only forms.
  std::string dml_before, dml_after;
  const std::string original_ro = ReadOnlyForm(original_sql, &dml_before);
  const std::string rewritten_ro = ReadOnlyForm(rewritten_sql, &dml_after);
  const std::string& original = original_ro;
  const std::string& rewritten = rewritten_ro;
  if (out->explained && o.execute && (original.empty() || rewritten.empty())) {
    out->failure =
        "a data-changing statement without a SELECT to compare is never run: not verified";
    out->explained = false;
  }
  // A `$n` statement has no values to run with (pg_stat_statements text):
  // EXPLAIN costs its generic plans, and --verify decides by that estimate,
  // saying so, instead of sending a statement the server cannot bind.
  int params = 0;
  const bool no_values = o.execute && CountParams(original_sql, &params).ok() && params > 0;
  if (out->explained && o.execute && !no_values) {
    // Warm-up: one run of each, whose rows are the ones compared.
    Multiset a, b;
    std::string e1, e2;
    bool ok1 = Run(session, original, &a, &out->ms_before, &out->before_timed_out, &e1);
    bool ok2 = ok1 || out->before_timed_out
                   ? Run(session, rewritten, &b, &out->ms_after, &out->after_timed_out, &e2)
                   : false;
    if (!ok1 && !out->before_timed_out) {
      out->results_failed = true;
      out->failure = "the original failed to run: " + e1 + ": not proposed";
    } else if (!ok2 && !out->after_timed_out) {
      out->results_failed = true;
      out->failure = "the rewrite failed to run: " + e2 + ": not proposed";
    }
    out->executed = ok1 && ok2;
    out->rows_before = static_cast<int64_t>(a.size());
    out->rows_after = static_cast<int64_t>(b.size());
    out->results_equal = out->executed && a == b;
    if (out->results_equal) {
      // Timed runs, interleaved and alternating which form goes first, as
      // many as fit the budget (the warm-ups say how long a pair takes).
      const MeasureOptions& m = o.measure;
      const double pair = out->ms_before + out->ms_after;
      // A pair slower than the whole budget gets no timed run: the warm-ups
      // decide (one sample each, the margin still applies).
      int n = std::max(1, m.runs);
      if (pair > 0 && m.budget_ms > 0) n = std::clamp(static_cast<int>(m.budget_ms / pair), 0, n);
      for (int i = 0; i < n; ++i) {
        double tb = 0, ta = 0;
        bool tob = false, toa = false;
        std::string e;
        bool ok;
        if (i % 2 == 0) {
          ok = Run(session, original, nullptr, &tb, &tob, &e) &&
               Run(session, rewritten, nullptr, &ta, &toa, &e);
        } else {
          ok = Run(session, rewritten, nullptr, &ta, &toa, &e) &&
               Run(session, original, nullptr, &tb, &tob, &e);
        }
        if (!ok) break;  // a run that timed out this time: decide on the pairs so far
        out->runs_before.push_back(tb);
        out->runs_after.push_back(ta);
      }
      if (out->runs_before.empty()) {  // decide on the warm-up alone
        out->runs_before.push_back(out->ms_before);
        out->runs_after.push_back(out->ms_after);
      }
      out->speed = DecideSpeed(out->runs_before, out->runs_after, m);
      out->ms_before = out->speed.median_before;
      out->ms_after = out->speed.median_after;
    }
  }
  DecideProposal(o.execute && !no_values, out);
  if (no_values)
    out->note += " (not run: its $" + std::to_string(params) +
                 " parameter(s) have no values to run it with; decided on the generic plans' "
                 "estimate)";
  const std::string& kind = dml_before.empty() ? dml_after : dml_before;
  if (o.execute && out->executed && kind == "INSERT")
    out->note +=
        " (INSERT ... SELECT: its SELECT, the rows it would insert, was run read-only "
        "and compared; the INSERT itself was only EXPLAINed)";
  else if (o.execute && out->executed && kind == "UPDATE")
    out->note +=
        " (UPDATE: a SELECT of the rows it would change (tableoid, ctid) with the new value of "
        "each SET item was run read-only and compared as a multiset; the UPDATE itself was only "
        "EXPLAINed)";
  else if (o.execute && out->executed && kind == "DELETE")
    out->note +=
        " (DELETE: a SELECT of the distinct rows it would delete (tableoid, ctid) was run "
        "read-only and compared as a multiset; the DELETE itself was only EXPLAINed)";
  return Status::Ok();
}

}  // namespace pgvise
