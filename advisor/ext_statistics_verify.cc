// advise --verify for extended statistics, on a writable test database: the
// whole experiment (ANALYZE, the statements' plans, CREATE STATISTICS,
// ANALYZE, the estimate and the plans again) runs in one transaction that is
// rolled back, so the object and the refreshed column statistics vanish;
// only pg_class.reltuples, which ANALYZE updates in place, keeps the fresh
// count. Reports the q-error after and whether any plan changed.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "advisor/ext_statistics_internal.h"
#include "advisor/parameters.h"

namespace pgvise {

namespace {

using json = nlohmann::json;
using extstats::ColumnsSql;
using extstats::EstimateRows;
using extstats::EvidenceAs;
using extstats::EvidenceNumber;
using extstats::FillFromData;
using extstats::FindEvidence;
using extstats::Fmt;
using extstats::Join;
using extstats::Measure;
using extstats::MeasureFilter;
using extstats::MeasureGroups;
using extstats::QualifiedSql;
using extstats::Round2;
using extstats::SetEvidence;

// The shape of a plan: node types, relations, indexes and join types, in
// tree order (costs and row counts left out).
void Shape(const json& node, std::string* out) {
  *out += "(" + node.value("Node Type", std::string());
  for (const char* key : {"Relation Name", "Index Name", "Join Type", "Strategy"})
    if (node.contains(key) && node[key].is_string()) *out += " " + node[key].get<std::string>();
  if (node.contains("Plans"))
    for (const auto& c : node["Plans"]) Shape(c, out);
  *out += ")";
}

struct PlanOutcome {
  bool ok = false;
  std::string shape;
  double cost = 0;
};

// The statement planned as it would run: its own constants, or custom plans
// over representative values from the test database's pg_stats.
PlanOutcome PlanStatement(Session& s, const Catalog& catalog, const std::string& sql,
                          const AdviseOptions& opts) {
  PlanOutcome out;
  Workload w;
  if (!AddSqlText("verify", sql, &w).ok() || w.statements.empty()) return out;
  const WorkloadStatement& ws = w.statements[0];
  std::vector<std::string> plans;
  std::vector<double> weights;
  if (ws.has_params) {
    StatementParams sp = DeriveParameters(ws, catalog, {}, opts.parameters);
    if (!sp.custom() || !ExplainCustomPlans(s, ws.sql, sp.sets, &plans).ok()) return out;
    for (const auto& set : sp.sets) weights.push_back(set.weight);
  } else {
    Rows r;
    if (!s.Query("EXPLAIN (FORMAT JSON) " + ws.sql, &r).ok()) return out;
    std::string text;
    for (size_t i = 0; i < r.size(); ++i) text += r.Text(i, 0);
    plans.push_back(text);
    weights.push_back(1);
  }
  for (size_t i = 0; i < plans.size(); ++i) {
    json j = json::parse(plans[i], nullptr, false);
    if (j.is_discarded() || !j.is_array() || j.empty() || !j[0].contains("Plan")) return out;
    Shape(j[0]["Plan"], &out.shape);
    out.cost += weights[i] * j[0]["Plan"].value("Total Cost", 0.0);
  }
  out.ok = true;
  return out;
}

}  // namespace

Status VerifyStatistics(Session& writable, const AdviseOptions& opts, AdviseReport* rep) {
  if (rep->statistics.empty()) return Status::Ok();
  Catalog catalog;
  Status st = Catalog::Load(writable, {}, &catalog);
  if (!st.ok()) return st;
  for (auto& rec : rep->statistics) {
    const auto* cols = EvidenceAs<std::vector<std::string>>(rec, "columns");
    const auto* name = EvidenceAs<std::string>(rec, "name");
    const TableInfo* t = catalog.FindTable(rec.object);
    if (!cols || !name || !t) {
      rep->notes.push_back("statistics --verify: " + rec.object +
                           " not found on the test database");
      continue;
    }
    ColumnGroup g;
    g.schema = t->schema;
    g.table = t->name;
    g.columns = *cols;
    if (const auto* p = EvidenceAs<std::string>(rec, "probe")) g.probe = *p, g.filter = true;
    g.group_by = FindEvidence(rec, "group_by") != nullptr;
    const std::string table_sql = QualifiedSql(g.schema, g.table);
    // Actual rows / groups on this database, outside the experiment.
    Measure actual_f, actual_g;
    if (g.filter && !(st = MeasureFilter(writable, g, opts.statistics, &actual_f)).ok()) {
      rep->notes.push_back("statistics --verify: " + rec.object + ": " + st.message());
      continue;
    }
    if (g.group_by && !(st = MeasureGroups(writable, g, opts.statistics, &actual_g)).ok()) {
      rep->notes.push_back("statistics --verify: " + rec.object + ": " + st.message());
      continue;
    }
    // The experiment, in one transaction rolled back at the end.
    std::vector<PlanOutcome> before, after;
    double est_before = 0, est_after = 0, groups_before = 0, groups_after = 0;
    auto estimate = [&](double* rows, double* groups) -> Status {
      Status s1 = Status::Ok();
      if (g.filter)
        s1 = EstimateRows(writable, "SELECT 1 FROM " + table_sql + " WHERE " + g.probe, rows);
      if (s1.ok() && g.group_by)
        s1 = EstimateRows(
            writable, "SELECT 1 FROM " + table_sql + " GROUP BY " + ColumnsSql(g.columns), groups);
      return s1;
    };
    auto plans = [&](std::vector<PlanOutcome>* out) {
      for (const auto& b : rec.benefit)
        out->push_back(PlanStatement(writable, catalog, b.query, opts));
    };
    const auto t0 = std::chrono::steady_clock::now();
    st = writable.Exec("BEGIN");
    if (st.ok()) st = writable.Exec("ANALYZE " + table_sql);
    if (st.ok()) st = estimate(&est_before, &groups_before);
    if (st.ok()) plans(&before);
    if (st.ok()) {
      // rec.sql is "CREATE STATISTICS ...;\nANALYZE t": run both.
      const std::string create = rec.sql.substr(0, rec.sql.find(";\n"));
      st = writable.Exec(create);
    }
    if (st.ok()) st = writable.Exec("ANALYZE " + table_sql);
    if (st.ok()) st = estimate(&est_after, &groups_after);
    if (st.ok()) plans(&after);
    const std::string sqlstate = writable.last_sqlstate();  // the ROLLBACK clears it
    Status rollback = writable.Exec("ROLLBACK");
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (!st.ok() && sqlstate == "55P03") {
      // ANALYZE and CREATE STATISTICS take SHARE UPDATE EXCLUSIVE: another
      // session's VACUUM, ANALYZE or DDL on the table is a fact about this
      // moment, said the way the other --verify steps say it.
      const std::string why = "lock timeout: waited longer than lock_timeout (" +
                              std::to_string(writable.options().lock_timeout_ms) +
                              " ms) behind a lock another session holds on " + rec.object;
      rec.Add("verify_skipped", std::string("lock_timeout"))
          .Add("verify_summary", "not verified: " + why + "; the estimate stands");
      rep->notes.push_back("statistics --verify did not measure " + rec.object + ": " + why);
      if (!rollback.ok()) return rollback;
      continue;
    }
    if (!st.ok()) {
      rep->notes.push_back("statistics --verify: " + rec.object + ": " + st.message());
      if (!rollback.ok()) return rollback;
      continue;
    }
    if (!rollback.ok()) return rollback;
    double q_before = 1, q_after = 1;
    if (g.filter) {
      q_before = QError(est_before, actual_f.act_rows);
      q_after = QError(est_after, actual_f.act_rows);
      SetEvidence(&rec, "estimated_rows_after", est_after);
      SetEvidence(&rec, "q_error_filter_after", Round2(q_after));
    }
    if (g.group_by) {
      double qb = QError(groups_before, actual_g.act_groups);
      double qa = QError(groups_after, actual_g.act_groups);
      SetEvidence(&rec, "estimated_groups_after", groups_after);
      SetEvidence(&rec, "q_error_group_by_after", Round2(qa));
      q_before = std::max(q_before, qb);
      q_after = std::max(q_after, qa);
    }
    int changed = 0, checked = 0;
    for (size_t i = 0; i < rec.benefit.size() && i < before.size() && i < after.size(); ++i) {
      if (!before[i].ok || !after[i].ok) continue;
      ++checked;
      changed += before[i].shape != after[i].shape;
      rec.benefit[i].cost_before = before[i].cost;
      rec.benefit[i].cost_after = after[i].cost;
    }
    SetEvidence(&rec, "q_error_before_analyzed", Round2(q_before));
    SetEvidence(&rec, "q_error_after", Round2(q_after));
    SetEvidence(&rec, "plans_checked", static_cast<int64_t>(checked));
    SetEvidence(&rec, "plans_changed", static_cast<int64_t>(changed));
    SetEvidence(&rec, "verify_ms", std::round(ms));
    rec.confidence = q_after < q_before ? Confidence::kMeasured : Confidence::kLow;
    rec.reason += "\n--verify: after CREATE STATISTICS and ANALYZE the q-error is " + Fmt(q_after) +
                  "x (" + Fmt(q_before) + "x after a plain ANALYZE); " + std::to_string(changed) +
                  " of " + std::to_string(checked) + " statement plan(s) changed; rolled back";
  }
  return Status::Ok();
}

}  // namespace pgvise