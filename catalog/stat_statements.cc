#include "catalog/stat_statements.h"

namespace pgvise {

Status ReadStatementCounters(Session& s, int limit, std::vector<StatementCounters>* out) {
  out->clear();
  if (!s.HasExtension("pg_stat_statements"))
    return Status::NotFound("pg_stat_statements is not installed in this database");
  // Two top-N lists in one query; UNION drops the entries both hold.
  static const char* kColumns =
      "queryid::text AS queryid, query, calls, rows, total_exec_time, mean_exec_time, plans, "
      "total_plan_time, shared_blks_hit, shared_blks_read";
  const std::string where =
      " FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = "
      "current_database()) AND toplevel AND calls > 0";
  const std::string sql = std::string("(SELECT ") + kColumns + where +
                          " ORDER BY calls DESC LIMIT $1) UNION (SELECT " + kColumns + where +
                          " ORDER BY total_exec_time DESC LIMIT $1) ORDER BY calls DESC";
  Rows r;
  Status st = s.Query(sql, {std::to_string(limit)}, &r);
  if (!st.ok()) return Status::Database("pg_stat_statements: " + st.message());
  for (size_t i = 0; i < r.size(); ++i) {
    StatementCounters c;
    c.queryid = r.Text(i, "queryid");
    c.query = r.Text(i, "query");
    c.calls = r.Double(i, "calls");
    c.rows = r.Double(i, "rows");
    c.total_exec_ms = r.Double(i, "total_exec_time");
    c.mean_exec_ms = r.Double(i, "mean_exec_time");
    c.plans = r.Double(i, "plans");
    c.total_plan_ms = r.Double(i, "total_plan_time");
    c.shared_blks_hit = r.Double(i, "shared_blks_hit");
    c.shared_blks_read = r.Double(i, "shared_blks_read");
    out->push_back(std::move(c));
  }
  return Status::Ok();
}

Status ReadStatementWindow(Session& s, StatementWindow* out) {
  *out = {};
  Rows r;
  // pg_stat_statements_info exists from PostgreSQL 14 (extension 1.9).
  if (!s.Query("SELECT EXTRACT(epoch FROM now() - stats_reset) AS seconds, stats_reset::text AS "
               "stats_reset, dealloc, current_setting('pg_stat_statements.max', true) AS max "
               "FROM pg_stat_statements_info",
               &r)
           .ok() ||
      r.empty())
    return Status::Ok();
  out->known = true;
  out->seconds = r.Double(0, "seconds");
  out->stats_reset = r.Text(0, "stats_reset");
  out->dealloc = r.Int(0, "dealloc");
  out->max_entries = r.Int(0, "max");
  return Status::Ok();
}

}  // namespace pgvise
