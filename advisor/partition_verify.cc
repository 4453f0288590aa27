// advise --verify for partitioning, on a database the user says is a test
// copy: what the dry run estimated, measured on a sample.
//
// For each RANGE recommendation:
//   1. two scratch schemas, pgvise_pv_<pid>_flat and _part; in each a table
//      with the advised table's name: the flat one a TABLESAMPLE SYSTEM copy
//      (up to verify_sample_rows rows), the partitioned one the same rows in
//      partitions of the advised interval over the advised bounds (plus a
//      MINVALUE and a MAXVALUE partition for rows outside them, so no row is
//      refused);
//   2. the same indexes on both (the table's own, from pg_get_indexdef,
//      non-unique: a unique index without the key cannot exist on the
//      partitioned side, and the comparison must be like for like); ANALYZE
//      both (the partitioned parent explicitly: autovacuum never does);
//   3. each statement of the recommendation's benefit list, against either
//      table through search_path (a schema-qualified name is re-pointed):
//      with constants, EXPLAIN (ANALYZE) in a rolled-back transaction —
//      execution and planning time measured; with `$n`, the generic plan
//      (run-time pruning keeps every partition in the plan) — planning time
//      and the partitions it holds, not an execution;
//   4. the scratch schemas dropped, also after a failure.
// The measured ratio (partitioned / flat execution time, weighted by calls)
// replaces the estimate's confidence: measured when below 1, low otherwise.
//
// Example: a 5M-row readings table sampled to 1M rows, 9 weekly partitions;
// "last day" read: flat 38.2 ms, partitioned 4.1 ms (ratio 0.11), planning
// 0.2 -> 0.6 ms.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "advisor/partition.h"
#include "analyzer/plan/explain_runner.h"
#include "analyzer/sql/query_facts.h"
#include "catalog/lookups.h"

namespace pgvise {

namespace {

std::string Ev(const Recommendation& r, const std::string& key) {
  for (const auto& e : r.evidence)
    if (e.key == key) {
      if (auto s = std::get_if<std::string>(&e.value)) return *s;
      if (auto i = std::get_if<int64_t>(&e.value)) return std::to_string(*i);
      // evidence.key is a list (one column today).
      if (auto l = std::get_if<std::vector<std::string>>(&e.value))
        return l->empty() ? "" : l->front();
    }
  return "";
}

std::string Fmt(double v, int prec = 2) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", prec, v);
  return buf;
}

void ReplaceAll(std::string* s, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  for (size_t at = s->find(from); at != std::string::npos; at = s->find(from, at + to.size()))
    s->replace(at, from.size(), to);
}

struct Timing {
  bool ok = false;
  double exec_ms = 0, plan_ms = 0;
  int partitions = 0;  // scans in the plan
  std::string error;
};

// One statement's run is cut at this (or the session's statement_timeout
// when lower): a measurement, not a workload to wait for.
constexpr int kMeasureTimeoutMs = 60000;

Timing RunOnce(Session& s, const std::string& schema, const std::string& sql, bool analyze) {
  Timing t;
  if (!s.Exec("BEGIN").ok()) return t;
  s.Exec("SET LOCAL search_path = " + QuoteIdent(schema) + ", public");
  const int limit = s.options().statement_timeout_ms > 0
                        ? std::min(s.options().statement_timeout_ms, kMeasureTimeoutMs)
                        : kMeasureTimeoutMs;
  s.Exec("SET LOCAL statement_timeout = " + std::to_string(limit));
  ExplainOptions eo;
  eo.analyze = analyze;
  std::string plan;
  Status st = ExplainStatement(s, sql, eo, &plan);
  const std::string sqlstate = s.last_sqlstate();
  s.Exec("ROLLBACK");
  if (!st.ok()) {
    t.error =
        sqlstate == "57014" ? "statement timeout (" + std::to_string(limit) + " ms)" : st.message();
    return t;
  }
  auto j = nlohmann::json::parse(plan, nullptr, false);
  if (!j.is_array() || j.empty()) return t;
  t.exec_ms = j[0].value("Execution Time", 0.0);
  t.plan_ms = j[0].value("Planning Time", 0.0);
  size_t at = 0;
  while ((at = plan.find("\"Relation Name\"", at)) != std::string::npos) ++t.partitions, ++at;
  t.ok = true;
  return t;
}

// One warm-up (hint bits, caches), then the median of three.
Timing Run(Session& s, const std::string& schema, const std::string& sql, bool analyze) {
  Timing first = RunOnce(s, schema, sql, analyze);
  if (!first.ok || !analyze) return first;
  std::vector<Timing> runs;
  for (int i = 0; i < 3; ++i) {
    Timing t = RunOnce(s, schema, sql, analyze);
    if (!t.ok) return t;
    runs.push_back(t);
  }
  std::sort(runs.begin(), runs.end(),
            [](const Timing& a, const Timing& b) { return a.exec_ms < b.exec_ms; });
  return runs[1];
}

// Retention on the partitioned copy: DETACH + DROP of every partition whose
// rows all match the DELETE's WHERE, timed around those statements only, in
// a rolled-back transaction. *rows: the rows those partitions held.
bool TimeDetachDrop(Session& s, const std::string& parent, const std::string& where, double* ms,
                    double* rows, std::string* error) {
  if (!s.Exec("BEGIN").ok()) return false;
  const std::string body =
      "DO $pgvise$ DECLARE p regclass; old boolean; n bigint; total bigint := 0; "
      "ms float8 := 0; t0 timestamptz; BEGIN "
      "FOR p IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = " +
      QuoteLiteral(parent) +
      "::regclass LOOP "
      "EXECUTE format('SELECT count(*), count(*) > 0 AND bool_and(%s) FROM %s', " +
      QuoteLiteral(where) +
      ", p) INTO n, old; "
      "IF old THEN t0 := clock_timestamp(); "
      "EXECUTE format('ALTER TABLE %s DETACH PARTITION %s', " +
      QuoteLiteral(parent) +
      ", p); EXECUTE format('DROP TABLE %s', p); "
      "ms := ms + 1000 * extract(epoch FROM clock_timestamp() - t0); total := total + n; "
      "END IF; END LOOP; "
      "PERFORM set_config('pgvise.detach_ms', ms::text, true); "
      "PERFORM set_config('pgvise.detach_rows', total::text, true); END $pgvise$";
  Status st = s.Exec(body);
  bool ok = st.ok();
  if (!ok) *error = st.message();
  Rows r;
  if (ok)
    ok = s.Query(
              "SELECT current_setting('pgvise.detach_ms')::float8, "
              "current_setting('pgvise.detach_rows')::float8",
              &r)
             .ok() &&
         !r.empty();
  if (ok) {
    *ms = r.Double(0, 0);
    *rows = r.Double(0, 1);
  }
  s.Exec("ROLLBACK");
  return ok;
}

}  // namespace

Status VerifyPartitions(Session& s, const AdviseOptions& opts, AdviseReport* rep) {
  // The sampled copy reads the advised table (ACCESS SHARE: CREATE TABLE AS,
  // LIKE), which an ACCESS EXCLUSIVE another session holds blocks. The
  // scratch work never waits for it past lock_timeout, whatever the session
  // was left with (0 would wait for ever): the session's own, else 1 s; it
  // is put back at the end.
  const int lock_ms = s.options().lock_timeout_ms > 0 ? s.options().lock_timeout_ms : 1000;
  s.Exec("SET lock_timeout = " + std::to_string(lock_ms));
  struct RestoreLockTimeout {
    Session& s;
    ~RestoreLockTimeout() {
      s.Exec("SET lock_timeout = " + std::to_string(std::max(0, s.options().lock_timeout_ms)));
    }
  } restore{s};
  for (auto& rec : rep->partitions) {
    if (Ev(rec, "strategy") != "range") continue;
    std::string schema, table;
    // The name as SQL (object is the display form: "Sch \"q\".t" is ambiguous).
    const std::string table_sql = Ev(rec, "table_sql");
    SplitQualifiedName(table_sql.empty() ? rec.object : table_sql, &schema, &table);
    const std::string key = Ev(rec, "key"), type = Ev(rec, "key_type");
    // A domain key is measured as its base type says (key_type, the
    // domain's name, is what the casts below use).
    const std::string base = Ev(rec, "key_base_type").empty() ? type : Ev(rec, "key_base_type");
    const std::string interval = Ev(rec, "interval"), first = Ev(rec, "first_bound");
    const std::string hb = Ev(rec, "history_bound");
    const int premake = std::atoi(Ev(rec, "premake").c_str());
    const std::string qt = QuoteIdent(schema) + "." + QuoteIdent(table);
    if (base != "date" && base.rfind("timestamp", 0) != 0) {
      rep->notes.push_back("--verify measures time keys only; " + rec.object + " (" + key + ", " +
                           type + ") keeps its estimate");
      continue;
    }
    const std::string tag = "pgvise_pv_" + std::to_string(getpid());
    const std::string flat = tag + "_flat", part = tag + "_part";
    auto cleanup = [&] {
      s.Exec("DROP SCHEMA IF EXISTS " + QuoteIdent(flat) + " CASCADE");
      s.Exec("DROP SCHEMA IF EXISTS " + QuoteIdent(part) + " CASCADE");
    };
    // A lock another session holds (55P03) or a step cut by
    // statement_timeout (57014) is a fact about the database at this
    // moment: the recommendation says "not verified" and why, in its
    // evidence, and keeps its estimate.
    auto fail = [&](const std::string& step, const Status& st) {
      const std::string sqlstate = s.last_sqlstate();
      cleanup();
      std::string why;
      if (sqlstate == "55P03")
        why = "lock timeout: " + step + " waited longer than lock_timeout (" +
              std::to_string(lock_ms) + " ms) behind a lock another session holds on " + rec.object;
      else if (sqlstate == "57014")
        why = "statement timeout: " + step + " ran longer than statement_timeout (" +
              std::to_string(s.options().statement_timeout_ms) + " ms)";
      if (!why.empty()) {
        rec.Add("verify_skipped", sqlstate == "55P03" ? std::string("lock_timeout")
                                                      : std::string("statement_timeout"))
            .Add("verify_summary", "not verified: " + why + "; the dry-run estimate stands");
      }
      rep->notes.push_back("--verify did not measure the partitioning of " + rec.object + ": " +
                           (why.empty() ? step + ": " + st.message() : why));
    };
    double reltuples = 1;
    Status st = RelationRowEstimate(s, qt, &reltuples);
    if (!st.ok()) {
      fail("reading its size", st);
      continue;
    }
    const double pct = std::min(
        100.0, 100.0 * static_cast<double>(opts.partitions.verify_sample_rows) / reltuples);
    const std::string fq = QuoteIdent(flat) + "." + QuoteIdent(table);
    const std::string pq = QuoteIdent(part) + "." + QuoteIdent(table);
    const std::string lit_first = QuoteLiteral(first) + "::" + type;
    const std::string lit_end = "(" + QuoteLiteral(hb) + "::" + type + " + " +
                                std::to_string(premake) + " * interval " + QuoteLiteral(interval) +
                                ")";
    std::vector<std::string> setup = {
        "CREATE SCHEMA " + QuoteIdent(flat),
        "CREATE SCHEMA " + QuoteIdent(part),
        "CREATE TABLE " + fq + " AS SELECT * FROM " + qt + " TABLESAMPLE SYSTEM (" + Fmt(pct, 4) +
            ") REPEATABLE (1)",
        "CREATE TABLE " + pq + " (LIKE " + qt + " INCLUDING DEFAULTS) PARTITION BY RANGE (" +
            QuoteIdent(key) + ")",
        "CREATE TABLE " + QuoteIdent(part) + "." + QuoteIdent(table + "_pmin") + " PARTITION OF " +
            pq + " FOR VALUES FROM (MINVALUE) TO (" + lit_first + ")",
        "DO $pgvise$ DECLARE b timestamptz; n int := 0; BEGIN FOR b IN SELECT g FROM "
        "generate_series(" +
            lit_first + ", " + lit_end + " - interval " + QuoteLiteral(interval) + ", interval " +
            QuoteLiteral(interval) +
            ") g LOOP n := n + 1; EXECUTE format('CREATE "
            "TABLE %I.%I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)', " +
            QuoteLiteral(part) + ", " + QuoteLiteral(table) + " || '_p' || n, " + QuoteLiteral(pq) +
            ", b::" + type + ", (b + interval " + QuoteLiteral(interval) + ")::" + type +
            "); END LOOP; END $pgvise$",
        "CREATE TABLE " + QuoteIdent(part) + "." + QuoteIdent(table + "_pmax") + " PARTITION OF " +
            pq + " FOR VALUES FROM (" + lit_end + ") TO (MAXVALUE)",
        "INSERT INTO " + pq + " SELECT * FROM " + fq,
    };
    bool ok = true;
    for (const auto& q : setup) {
      st = s.Exec(q);
      if (!st.ok()) {
        fail("building the sampled copies", st);
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    // The same indexes on both.
    std::vector<std::string> index_defs;
    st = ValidIndexDefinitions(s, qt, &index_defs);
    if (!st.ok()) {
      fail("reading its indexes", st);
      continue;
    }
    int n = 0;
    for (size_t i = 0; i < index_defs.size() && ok; ++i) {
      const std::string& def = index_defs[i];
      const std::string on = " ON " + qt + " ";
      const size_t at = def.find(on);
      if (at == std::string::npos) continue;
      const std::string rest = def.substr(at + on.size());
      ++n;
      for (const auto& [sch, q] : {std::pair{flat, fq}, std::pair{part, pq}}) {
        st = s.Exec("CREATE INDEX " + QuoteIdent(table + "_v" + std::to_string(n)) + " ON " + q +
                    " " + rest);
        if (!st.ok()) {
          fail("copying index " + def, st);
          ok = false;
          break;
        }
      }
    }
    if (!ok) continue;
    // VACUUM too: fresh rows have no hint bits and no visibility map, and
    // whichever copy is read first would pay for setting them.
    if (!s.Exec("VACUUM ANALYZE " + fq).ok() || !s.Exec("VACUUM ANALYZE " + pq).ok()) {
      fail("ANALYZE", Status::Database("ANALYZE failed"));
      continue;
    }
    // Each statement against both.
    double wflat = 0, wpart = 0, pflat = 0, ppart = 0;
    int measured = 0;
    std::string lines;
    for (const auto& b : rec.benefit) {
      int params = 0;
      CountParams(b.query, &params);
      std::string sql = b.query;
      // A schema-qualified reference goes to the scratch table too.
      ReplaceAll(&sql, schema + "." + table, table);
      ReplaceAll(&sql, QuoteIdent(schema) + "." + QuoteIdent(table), QuoteIdent(table));
      const bool analyze = params == 0;
      Timing tf = Run(s, flat, sql, analyze);
      Timing tp = Run(s, part, sql, analyze);
      if (!tf.ok || !tp.ok) {
        lines += (lines.empty() ? "" : "\n") + b.query.substr(0, 80) +
                 ": not measured: " + (tf.ok ? tp.error : tf.error);
        continue;
      }
      // Retention: the DELETE on the flat copy against DETACH + DROP of the
      // partitions it would empty.
      std::string retention;
      if (analyze && sql.rfind("DELETE", 0) == 0) {
        QueryFacts f;
        size_t pos = 0;
        double dms = 0, drows = 0;
        if (ParseStatementFacts(sql, &f, &pos).ok() && f.where_location >= 0) {
          // where_location is the clause's first expression's token (an
          // operator's, for `ts < x`): the clause starts after the last
          // WHERE keyword before it.
          std::string lower = sql;
          for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          const size_t kw = lower.rfind("where", static_cast<size_t>(f.where_location));
          std::string where = kw == std::string::npos ? "" : sql.substr(kw + 5);
          while (!where.empty() &&
                 (where.back() == ';' || where.back() == ' ' || where.back() == '\n'))
            where.pop_back();
          std::string err;
          if (!TimeDetachDrop(s, pq, where, &dms, &drows, &err)) {
            retention = "; DETACH + DROP not timed: " + err;
          } else {
            retention = "; the same DELETE on the partitioned copy " + Fmt(tp.exec_ms) +
                        " ms; instead DETACH + DROP of the partitions it empties (" +
                        Fmt(drows, 0) + " rows): " + Fmt(dms) + " ms";
            rec.Add("verify_detach_drop_ms", dms).Add("verify_delete_ms", tf.exec_ms);
            tp.exec_ms = dms;  // what the partitioned table runs instead of the DELETE
          }
        }
      }
      if (analyze) {
        ++measured;
        wflat += b.calls * tf.exec_ms;
        wpart += b.calls * tp.exec_ms;
      }
      pflat += b.calls * tf.plan_ms;
      ppart += b.calls * tp.plan_ms;
      lines += (lines.empty() ? "" : "\n") + b.query.substr(0, 80) + ": " +
               (analyze ? "execution " + Fmt(tf.exec_ms) + " -> " + Fmt(tp.exec_ms) + " ms, "
                        : "generic plan (run-time pruning), ") +
               "planning " + Fmt(tf.plan_ms) + " -> " + Fmt(tp.plan_ms) + " ms, " +
               std::to_string(tp.partitions) + " partition scan(s) in the plan" + retention;
    }
    cleanup();
    rec.Add("verify_sample_percent", pct)
        .Add("verify_statements", lines)
        .Add("verify_planning_ms_flat", pflat)
        .Add("verify_planning_ms_partitioned", ppart);
    if (measured > 0 && wflat > 0) {
      const double ratio = wpart / wflat;
      rec.Add("measured_ratio", ratio)
          .Add("verify_summary",
               "measured on a " + Fmt(pct, 1) + "% TABLESAMPLE copy: execution time x" +
                   Fmt(ratio, 2) + " partitioned vs flat over " + std::to_string(measured) +
                   " statement(s) with constants (calls-weighted); planning " + Fmt(pflat, 1) +
                   " -> " + Fmt(ppart, 1) + " ms (calls-weighted sum)");
      rec.confidence = ratio < 1 ? Confidence::kMeasured : Confidence::kLow;
    } else {
      rec.Add("verify_summary", "no statement with constants to execute; generic plans only");
    }
  }
  return Status::Ok();
}

}  // namespace pgvise
