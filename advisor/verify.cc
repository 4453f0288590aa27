#include "advisor/verify.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "advisor/ext_statistics.h"
#include "advisor/matview.h"
#include "advisor/partition.h"
#include "analyzer/plan/explain_runner.h"
#include "catalog/lookups.h"

namespace pgvise {

namespace {

// A lock another session holds (55P03 lock_not_available, raised when
// lock_timeout runs out) is a fact about the test database at this moment,
// not a failure of the run: the recommendation is reported as not measured,
// with the reason, and --verify goes on with the next one.
bool IsLockTimeout(const Session& s) { return s.last_sqlstate() == "55P03"; }

std::string LockNote(const Session& s, const std::string& name, const std::string& step) {
  return "--verify did not measure " + name + ": " + step + " waited longer than lock_timeout (" +
         std::to_string(s.options().lock_timeout_ms) +
         " ms) behind a lock another session holds; its estimate stands unmeasured";
}

// One EXPLAIN ANALYZE inside a rolled-back transaction: execution time and
// whether the plan scans `index_name`.
Status Measure(Session& s, const std::string& sql, const std::string& index_name, int timeout_ms,
               double* ms, bool* used, bool* timed_out) {
  *timed_out = false;
  Status st = s.Exec("BEGIN");
  if (!st.ok()) return st;
  s.Exec("SET LOCAL statement_timeout = " + std::to_string(timeout_ms));
  ExplainOptions eo;
  eo.analyze = true;
  std::string plan;
  st = ExplainStatement(s, sql, eo, &plan);
  std::string sqlstate = s.last_sqlstate();
  s.Exec("ROLLBACK");
  s.set_last_sqlstate(sqlstate);          // the caller tells a lock wait from a real error
  if (!st.ok() && sqlstate == "57014") {  // query_canceled: statement_timeout
    *timed_out = true;
    *ms = timeout_ms;
    *used = false;
    return Status::Ok();
  }
  if (!st.ok()) return st;
  auto j = nlohmann::json::parse(plan, nullptr, false);
  if (!j.is_array() || j.empty() || !j[0].contains("Execution Time"))
    return Status::InvalidInput("EXPLAIN ANALYZE output has no Execution Time");
  *ms = j[0]["Execution Time"].get<double>();
  *used = !index_name.empty() &&
          plan.find("\"Index Name\": \"" + index_name + "\"") != std::string::npos;
  return Status::Ok();
}

// One run of a workload INSERT under EXPLAIN ANALYZE, in a transaction that
// is rolled back (the test database keeps its rows): execution time and the
// rows it inserted (the ModifyTable node's input).
Status MeasureInsert(Session& s, const std::string& sql, int timeout_ms, double* ms, double* rows) {
  Status st = s.Exec("BEGIN");
  if (!st.ok()) return st;
  s.Exec("SET LOCAL statement_timeout = " + std::to_string(timeout_ms));
  Rows out;
  st = s.Query("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, &out);
  const std::string sqlstate = s.last_sqlstate();
  s.Exec("ROLLBACK");
  s.set_last_sqlstate(sqlstate);
  if (!st.ok()) return st;
  std::string plan;
  for (size_t i = 0; i < out.size(); ++i) plan += out.Text(i, 0);
  auto j = nlohmann::json::parse(plan, nullptr, false);
  if (!j.is_array() || j.empty() || !j[0].contains("Execution Time") || !j[0].contains("Plan"))
    return Status::InvalidInput("EXPLAIN ANALYZE output has no Execution Time");
  *ms = j[0]["Execution Time"].get<double>();
  const auto& top = j[0]["Plan"];
  *rows = 0;
  if (top.contains("Plans") && top["Plans"].is_array() && !top["Plans"].empty())
    *rows = top["Plans"][0].value("Actual Rows", 0.0) * top["Plans"][0].value("Actual Loops", 1.0);
  return Status::Ok();
}

std::string Lower(std::string t) {
  for (char& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return t;
}

// The workload's INSERTs into the index's table that can run as written (no
// $n): the writes whose cost the index adds to. The target is read from the
// text ("INSERT INTO name" with name bare or schema-qualified, unquoted); a
// quoted target is not matched and the write cost then stays unmeasured.
std::vector<std::string> InsertsInto(const std::vector<std::string>& statements,
                                     const std::string& object) {
  std::vector<std::string> out;
  const std::string table = Lower(object.substr(object.find('.') + 1));
  const std::string qualified = Lower(object);
  for (const std::string& sql : statements) {
    std::string t = Lower(sql);
    size_t b = t.find_first_not_of(" \t\r\n");
    if (b == std::string::npos || t.compare(b, 12, "insert into ") != 0) continue;
    size_t n = t.find_first_not_of(' ', b + 12);
    if (n == std::string::npos) continue;
    size_t e = n;
    while (e < t.size() && (std::isalnum(static_cast<unsigned char>(t[e])) || t[e] == '_' ||
                            t[e] == '.' || t[e] == '$'))
      ++e;
    const std::string target = t.substr(n, e - n);
    if (target != table && target != qualified) continue;
    int params = 0;
    if (!CountParams(sql, &params).ok() || params > 0) continue;
    if (std::find(out.begin(), out.end(), sql) == out.end()) out.push_back(sql);
  }
  return out;
}

std::string IndexNameOf(const Recommendation& r) {
  // The revert is "DROP INDEX CONCURRENTLY IF EXISTS schema.name"; the plan
  // shows the bare name, unquoted.
  std::string ref = r.revert.substr(r.revert.rfind(' ') + 1);
  size_t dot = ref.find('.');
  std::string name = dot == std::string::npos ? ref : ref.substr(dot + 1);
  if (name.size() >= 2 && name.front() == '"') {
    std::string out;
    for (size_t i = 1; i + 1 < name.size(); ++i) {
      out += name[i];
      if (name[i] == '"') ++i;
    }
    name = out;
  }
  return name;
}

Status VerifyOne(Session& s, const VerifyOptions& o, Recommendation* r,
                 std::vector<std::string>* notes) {
  std::string name = IndexNameOf(*r);
  // The write side: the first INSERT into the table the workload runs, timed
  // before and after the build (best of o.runs each), per inserted row.
  const std::vector<std::string> inserts = InsertsInto(o.workload_sql, r->object);
  double insert_rows = 0;
  auto time_insert = [&](double* best) -> Status {
    *best = -1;
    for (int k = 0; k < std::max(o.runs, 1); ++k) {
      double ms = 0;
      Status st = MeasureInsert(s, inserts[0], o.query_timeout_ms, &ms, &insert_rows);
      if (!st.ok()) return st;
      *best = *best < 0 ? ms : std::min(*best, ms);
    }
    return Status::Ok();
  };
  std::vector<std::string> queries;
  for (const auto& b : r->benefit) {
    int params = 0;
    if (!CountParams(b.query, &params).ok() || params > 0) {
      notes->push_back("--verify skipped a query with $n parameters for " + name +
                       " (no values to run it with)");
      continue;
    }
    queries.push_back(b.query);
  }
  if (queries.empty()) return Status::Ok();
  bool bound = false;
  bool* lower_bound = &bound;
  auto run_all = [&](double* total, bool* any_used) -> Status {
    *total = 0;
    *any_used = false;
    for (const auto& q : queries) {
      double best = -1;
      for (int k = 0; k < std::max(o.runs, 1); ++k) {
        double ms = 0;
        bool used = false;
        bool timed_out = false;
        Status st = Measure(s, q, name, o.query_timeout_ms, &ms, &used, &timed_out);
        if (!st.ok()) return st;
        if (timed_out) {
          *lower_bound = true;
          best = ms;
          break;  // don't wait for it twice
        }
        best = best < 0 ? ms : std::min(best, ms);
        *any_used |= used;
      }
      *total += best;
    }
    return Status::Ok();
  };
  double before = 0, after = 0;
  bool used_before = false, used_after = false;
  Status st = run_all(&before, &used_before);
  if (!st.ok() && IsLockTimeout(s)) {
    notes->push_back(LockNote(s, name, "running its queries"));
    r->Add("verify_skipped", std::string("lock_timeout"));
    return Status::Ok();
  }
  if (!st.ok()) return st;
  double insert_before = -1, insert_after = -1;
  if (!inserts.empty() && !time_insert(&insert_before).ok()) {
    notes->push_back("--verify could not time the INSERT into " + r->object + " for " + name +
                     ": " + s.last_sqlstate());
    insert_before = -1;
  }
  // A plain build: this is a test database and CONCURRENTLY would double the time.
  std::string ddl = r->sql;
  const std::string conc = "CREATE INDEX CONCURRENTLY ";
  if (ddl.rfind(conc, 0) == 0) ddl = "CREATE INDEX " + ddl.substr(conc.size());
  st = s.Exec(ddl);
  if (!st.ok() && IsLockTimeout(s)) {
    // CREATE INDEX takes SHARE: an open write transaction on the table holds
    // ROW EXCLUSIVE and would make the build wait for as long as it lasts.
    notes->push_back(LockNote(s, name, "building it"));
    r->Add("verify_skipped", std::string("lock_timeout"));
    return Status::Ok();
  }
  if (!st.ok()) return Status::Database("--verify could not build " + name + ": " + st.message());
  st = run_all(&after, &used_after);
  if (st.ok() && insert_before >= 0 && !time_insert(&insert_after).ok()) insert_after = -1;
  const bool after_lock_timeout = !st.ok() && IsLockTimeout(s);
  std::string drop = r->revert;
  const std::string dconc = "DROP INDEX CONCURRENTLY ";
  if (drop.rfind(dconc, 0) == 0) drop = "DROP INDEX " + drop.substr(dconc.size());
  Status dropped = s.Exec(drop);
  if (after_lock_timeout && dropped.ok()) {
    notes->push_back(LockNote(s, name, "running its queries with the index built"));
    r->Add("verify_skipped", std::string("lock_timeout"));
    return Status::Ok();
  }
  if (!st.ok()) return st;
  if (!dropped.ok())
    return Status::Database("--verify could not drop " + name + ": " + dropped.message());
  r->Add("measured_ms_before", before)
      .Add("measured_ms_after", after)
      .Add("measured_speedup", after > 0 ? before / after : 0.0)
      .Add("used_by_plan", used_after)
      .Add("speedup_is_lower_bound", bound);
  if (insert_before >= 0 && insert_after >= 0 && insert_rows > 0) {
    // Measured, one statement's wall time each side: noisy for small
    // INSERTs, so the per-row figure is given with its two timings.
    r->Add("insert_measured", inserts[0])
        .Add("insert_rows", insert_rows)
        .Add("insert_ms_before", insert_before)
        .Add("insert_ms_after", insert_after)
        .Add("insert_overhead_us_per_row", (insert_after - insert_before) * 1000.0 / insert_rows);
  }
  if (r->confidence == Confidence::kUnverified)
    r->confidence = used_after && after < before ? Confidence::kMeasured : Confidence::kLow;
  return Status::Ok();
}

}  // namespace

Status CheckCanVerify(Session& s) {
  bool standby = false;
  Status st = InRecovery(s, &standby);
  if (!st.ok()) return st;
  if (!standby) return Status::Ok();
  return Status::Database(
      "--verify builds indexes, views and copies, and this server is a hot standby "
      "(read-only): point --verify at a test database, or drop it for the dry run");
}

Status VerifyRecommendations(Session& s, const VerifyOptions& o, AdviseReport* rep) {
  int n = 0;
  for (auto& r : rep->indexes) {
    if (n++ >= o.top) break;
    Status st = VerifyOne(s, o, &r, &rep->notes);
    if (!st.ok()) return st;
  }
  for (auto& r : rep->unverified) {
    Status st = VerifyOne(s, o, &r, &rep->notes);
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

Status VerifyAdvice(Session& writable, const AdviseOptions& ao, const VerifyOptions& o,
                    AdviseReport* rep) {
  Status st = VerifyRecommendations(writable, o, rep);
  if (!st.ok()) return st;
  for (auto verify : {VerifyPartitions, VerifyViews, VerifyStatistics}) {
    st = verify(writable, ao, rep);
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

}  // namespace pgvise
