// advise --verify for materialized views, on a writable test database:
// each proposed view is built in a scratch schema (pgvise_verify_mv) with
// its unique index, refreshed CONCURRENTLY once (timed), and every rewrite
// is run beside its statement: the two must return the same multiset of
// rows, or the rewrite is dropped (and the view with it when none is left).
// Statements with `$n` run as PREPARE / EXECUTE with values read from the
// view. The measured times replace the estimates; the schema is dropped.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <nlohmann/json.hpp>

#include "advisor/matview.h"
#include "advisor/matview_internal.h"
#include "analyzer/sql/edit_tree.h"

namespace pgvise {

namespace {

using json = nlohmann::ordered_json;
using mv::advice::EvDouble;
using mv::advice::EvString;
using mv::advice::Set;

using Clock = std::chrono::steady_clock;

// The rows of `sql` as a sorted multiset of rows (each a \x1f-joined line,
// NULL as \x1e), and the fastest of `runs` runs in milliseconds.
Status RunMeasured(Session& s, const std::string& sql, int runs, std::vector<std::string>* rows,
                   double* ms) {
  *ms = -1;
  for (int i = 0; i < runs; ++i) {
    Rows r;
    const auto t0 = Clock::now();
    Status st = s.Query(sql, &r);
    const double t = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (!st.ok()) return st;
    if (*ms < 0 || t < *ms) *ms = t;
    if (i > 0) continue;
    rows->clear();
    for (size_t row = 0; row < r.size(); ++row) {
      std::string line;
      for (size_t c = 0; c < r.columns(); ++c)
        line += (c ? "\x1f" : "") + (r.IsNull(row, c) ? std::string("\x1e") : r.Text(row, c));
      rows->push_back(std::move(line));
    }
    std::sort(rows->begin(), rows->end());
  }
  return Status::Ok();
}

bool HasParams(const std::string& sql) {
  for (size_t i = 0; i + 1 < sql.size(); ++i)
    if (sql[i] == '$' && std::isdigit(static_cast<unsigned char>(sql[i + 1]))) return true;
  return false;
}

// Values for a statement's `$n`, read from the view: each `$n` must be
// compared with a view column in the rewrite (`mv.region = $1`); the values
// are one row of the view, so the statement returns rows. Text literals:
// EXECUTE coerces them to the parameters' types.
bool ParamValues(Session& w, const std::string& rewritten, const std::string& view,
                 std::vector<std::string>* values) {
  std::unique_ptr<rw::Tree> t;
  if (!rw::Tree::Parse(rewritten, &t).ok()) return false;
  std::map<int, std::string> column_of;
  int max_param = 0;
  rw::VisitSlots(reinterpret_cast<ProtobufCMessage*>(t->root()), [&](rw::Node** slot) {
    rw::Node* n = *slot;
    if (n->node_case == PG_QUERY__NODE__NODE_PARAM_REF)
      max_param = std::max(max_param, n->param_ref->number);
    if (n->node_case != PG_QUERY__NODE__NODE_A_EXPR ||
        n->a_expr->kind != PG_QUERY__A__EXPR__KIND__AEXPR_OP || !n->a_expr->lexpr ||
        !n->a_expr->rexpr)
      return true;
    rw::Node* l = n->a_expr->lexpr;
    rw::Node* r = n->a_expr->rexpr;
    if (l->node_case == PG_QUERY__NODE__NODE_PARAM_REF) std::swap(l, r);
    if (l->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && l->column_ref->n_fields == 2 &&
        r->node_case == PG_QUERY__NODE__NODE_PARAM_REF)
      column_of[r->param_ref->number] = rw::StrVal(l->column_ref->fields[1]);
    return true;
  });
  if (max_param == 0 || static_cast<int>(column_of.size()) != max_param) return false;
  std::string sel, where;
  for (const auto& [k, col] : column_of) {
    sel += (sel.empty() ? "" : ", ") + QuoteIdent(col) + "::text";
    where += (where.empty() ? " WHERE " : " AND ") + QuoteIdent(col) + " IS NOT NULL";
  }
  Rows r;
  if (!w.Query("SELECT " + sel + " FROM " + view + where + " LIMIT 1", &r).ok() || r.size() != 1)
    return false;
  values->clear();
  for (size_t i = 0; i < r.columns(); ++i) values->push_back(QuoteLiteral(r.Text(0, i)));
  return true;
}

// PREPAREs `sql`, measures EXECUTE with `values`, DEALLOCATEs.
Status RunPrepared(Session& s, const std::string& name, const std::string& sql,
                   const std::vector<std::string>& values, std::vector<std::string>* rows,
                   double* ms) {
  Status st = s.Exec("PREPARE " + name + " AS " + sql);
  if (!st.ok()) return st;
  std::string args;
  for (const auto& v : values) args += (args.empty() ? "" : ", ") + v;
  st = RunMeasured(s, "EXECUTE " + name + "(" + args + ")", 3, rows, ms);
  const std::string sqlstate = s.last_sqlstate();
  s.Exec("DEALLOCATE " + name);
  s.set_last_sqlstate(sqlstate);  // the caller tells a lock wait from a real error
  return st;
}

void ReplaceAll(std::string* s, const std::string& from, const std::string& to) {
  for (size_t at = s->find(from); at != std::string::npos; at = s->find(from, at + to.size()))
    s->replace(at, from.size(), to);
}

// Builds one view in `scratch`, measures it and its rewrites; false when a
// rewrite returned other rows (the rewrite is dropped from *rec, and the view
// with it when none is left).
Status VerifyOne(Session& w, const std::string& scratch, Recommendation* rec,
                 std::vector<std::string>* notes, bool* keep) {
  *keep = true;
  const std::string view = EvString(*rec, "view");
  const std::string tmp = scratch + "." + QuoteIdent(EvString(*rec, "view_name"));
  std::string index = EvString(*rec, "unique_index");
  ReplaceAll(&index, view, tmp);
  auto t0 = Clock::now();
  Status st = w.Exec("CREATE MATERIALIZED VIEW " + tmp + " AS " + EvString(*rec, "definition"));
  if (!st.ok()) return st;
  const double build_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  st = w.Exec(index);
  if (!st.ok()) return st;
  st = w.Exec("ANALYZE " + tmp);
  if (!st.ok()) return st;
  t0 = Clock::now();
  st = w.Exec("REFRESH MATERIALIZED VIEW CONCURRENTLY " + tmp);
  if (!st.ok()) return st;
  const double refresh_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  Rows size;
  st = w.Query("SELECT pg_total_relation_size(" + QuoteLiteral(tmp) + "::regclass)", &size);
  if (!st.ok()) return st;

  auto rw = json::parse(EvString(*rec, "rewrites"), nullptr, false);
  if (!rw.is_array()) return Status::Internal("rewrites evidence unreadable");
  json kept = json::array();
  std::vector<QueryBenefit> benefit;
  double before_ms = 0, after_ms = 0, saved_ms = 0;
  int verified = 0;
  for (auto& x : rw) {
    const std::string query = x.value("query", "");
    std::string rewritten = x.value("rewritten", "");
    ReplaceAll(&rewritten, view, tmp);
    std::vector<std::string> a, b, values;
    double ma = 0, mb = 0;
    if (HasParams(query)) {
      if (!ParamValues(w, rewritten, tmp, &values)) {
        x["verified"] = false;
        x["not_verified_because"] =
            "a $n parameter is not compared with a view column (no value to run it with)";
        kept.push_back(x);
        continue;
      }
      st = RunPrepared(w, "pgvise_mv_original", query, values, &a, &ma);
      if (st.ok()) st = RunPrepared(w, "pgvise_mv_rewrite", rewritten, values, &b, &mb);
      std::string v;
      for (const auto& s : values) v += (v.empty() ? "" : ", ") + s;
      x["parameters"] = v;
    } else {
      st = RunMeasured(w, query, 3, &a, &ma);
      if (st.ok()) st = RunMeasured(w, rewritten, 3, &b, &mb);
    }
    if (!st.ok()) return st;
    if (a != b) {
      notes->push_back("--verify: the rewrite of statement " +
                       std::to_string(x.value("statement", 0)) + " onto " + rec->object +
                       " returned " + std::to_string(b.size()) + " rows against the statement's " +
                       std::to_string(a.size()) + " (or other values): not proposed");
      continue;
    }
    ++verified;
    x["verified"] = true;
    x["rows"] = a.size();
    x["measured_ms_before"] = ma;
    x["measured_ms_after"] = mb;
    before_ms += ma;
    after_ms += mb;
    saved_ms += x.value("calls", 0.0) * (ma - mb);
    kept.push_back(x);
  }
  for (const auto& q : rec->benefit)
    for (const auto& x : kept)
      if (x.value("query", "") == q.query) benefit.push_back(q);
  rec->benefit = benefit;
  if (kept.empty()) {
    *keep = false;
    return Status::Ok();
  }
  const double refreshes = EvDouble(*rec, "refreshes_per_period");
  Set(*rec, "rewrites", kept.dump());
  Set(*rec, "measured_build_ms", build_ms);
  Set(*rec, "measured_refresh_ms", refresh_ms);
  Set(*rec, "measured_size_bytes", size.Int(0, 0));
  Set(*rec, "measured_ms_before", before_ms);
  Set(*rec, "measured_ms_after", after_ms);
  Set(*rec, "measured_net_benefit_ms", saved_ms - refreshes * refresh_ms);
  Set(*rec, "statements_verified", static_cast<int64_t>(verified));
  if (verified > 0) rec->confidence = Confidence::kMeasured;
  return Status::Ok();
}

}  // namespace

Status VerifyViews(Session& writable, const AdviseOptions&, AdviseReport* rep) {
  if (rep->views.empty()) return Status::Ok();
  // Building a view reads its base tables (ACCESS SHARE), which an ACCESS
  // EXCLUSIVE another session holds (a migration, VACUUM FULL, LOCK TABLE)
  // blocks. The scratch work never waits for it past lock_timeout, whatever
  // the session was left with (0 would wait for ever): the session's own,
  // else 1 s; it is put back at the end.
  const int lock_ms =
      writable.options().lock_timeout_ms > 0 ? writable.options().lock_timeout_ms : 1000;
  writable.Exec("SET lock_timeout = " + std::to_string(lock_ms));
  struct RestoreLockTimeout {
    Session& s;
    ~RestoreLockTimeout() {
      s.Exec("SET lock_timeout = " + std::to_string(std::max(0, s.options().lock_timeout_ms)));
    }
  } restore{writable};
  const std::string scratch = "pgvise_verify_mv";
  // A scratch schema of its own: dropped with everything in it at the end.
  Status st = writable.Exec("CREATE SCHEMA " + scratch);
  if (!st.ok()) {  // left over by a run that was killed
    writable.Exec("DROP SCHEMA IF EXISTS " + scratch + " CASCADE");
    st = writable.Exec("CREATE SCHEMA " + scratch);
  }
  if (!st.ok()) return st;
  std::vector<Recommendation> kept;
  for (auto& rec : rep->views) {
    bool keep = true;
    st = VerifyOne(writable, scratch, &rec, &rep->notes, &keep);
    // Read before the DROP below replaces it: 55P03 is a lock wait.
    const bool lock_wait = !st.ok() && writable.last_sqlstate() == "55P03";
    writable.Exec("DROP MATERIALIZED VIEW IF EXISTS " + scratch + "." +
                  QuoteIdent(EvString(rec, "view_name")) + " CASCADE");
    if (lock_wait) {
      // A lock another session holds is a fact about the database at this
      // moment, not a failure of the run: the view is reported as not
      // measured, with the reason in its evidence, and keeps its estimate.
      const std::string why =
          "lock timeout: building or reading it waited longer than "
          "lock_timeout (" +
          std::to_string(lock_ms) + " ms) behind a lock another session holds on a base table";
      rec.Add("verify_skipped", std::string("lock_timeout"))
          .Add("verify_summary", "not verified: " + why + "; its estimates stand");
      rep->notes.push_back("--verify did not measure " + rec.object + ": " + why +
                           "; its estimates stand");
      kept.push_back(std::move(rec));
      continue;
    }
    if (!st.ok()) {
      rep->notes.push_back("--verify could not measure " + rec.object + ": " + st.message() +
                           "; its estimates stand");
      kept.push_back(std::move(rec));
      continue;
    }
    if (keep)
      kept.push_back(std::move(rec));
    else
      rep->bytes_added -= rec.size_bytes;
  }
  rep->views = std::move(kept);
  writable.Exec("DROP SCHEMA IF EXISTS " + scratch + " CASCADE");
  return Status::Ok();
}

}  // namespace pgvise