// Usage rules: how the server is used, read from counters and settings the
// seed documents ask a DBA to check — buffer cache hit ratio per table and
// index (pg_statio), connections against max_connections (pooler sizing),
// and whether slow statements are logged at all.
//
// Each rule needs traffic before it judges: a fresh database has a poor hit
// ratio (a bulk load and an index build read every block once, from outside
// shared buffers), a handful of connections and no slow statements, and it
// must get nothing. So the cache rule asks for many passes over the object
// and many blocks read, the connection rule for a minimum number of
// sessions, the logging rule for a minimum number of transactions. All are
// advice (never run by --apply): the fix is memory, a pooler or log volume,
// each a DBA's call.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "maintenance/rules_internal.h"

namespace pgvise::maint {

namespace {

// One relation's buffer traffic, table or index.
struct CacheUse {
  std::string object, what;  // "public.orders", "table" | "index"
  double bytes = 0, pages = 0, hit = 0, read = 0;
};

void JudgeCache(const RuleInput& in, const CacheUse& c, std::vector<PlanItem>* out) {
  const double min_ratio = in.rule.Threshold("min_hit_ratio");
  const double min_read = in.rule.Threshold("min_blocks_read");
  const double min_passes = in.rule.Threshold("min_passes");
  const double fetched = c.hit + c.read;
  if (c.read < min_read || fetched <= 0) return;
  // A load and an index build read each block once or twice: judge only
  // traffic many times the object's size.
  if (fetched < min_passes * std::max(1.0, c.pages)) return;
  const double ratio = c.hit / fetched;
  if (ratio >= min_ratio) return;
  const double sb = in.snap.Setting("shared_buffers");
  PlanItem it = NewItem(in, RecommendationKind::kConfig, c.object);
  it.executable = false;
  std::ostringstream why, sql;
  why << c.what << " buffer cache hit ratio " << Num(std::round(ratio * 1000) / 10)
      << "%: " << Count(c.read) << " of " << Count(fetched)
      << " block reads came from outside shared_buffers (the OS cache or disk) over "
      << Span(in.snap.stats_age_s) << "; it is " << Bytes(c.bytes) << " against shared_buffers "
      << Bytes(sb);
  if (c.bytes > sb) {
    why << ". It does not fit: if these reads are sequential scans, an index for the queries that "
           "filter it reads far fewer blocks (pgvise advise); otherwise only more memory helps";
    sql << "-- find the statements that read it: pgvise advise (pg_stat_statements)\n"
        << "-- or, memory allowing (about 25% of RAM): ALTER SYSTEM SET shared_buffers = '"
        << Bytes(std::pow(2, std::ceil(std::log2(std::max(c.bytes, sb) * 1.25)))) << "';";
  } else {
    why << ". It fits, yet is evicted: scans of larger objects push it out; more shared_buffers "
           "keeps it, or indexes for those scans";
    sql << "-- memory allowing (about 25% of RAM): ALTER SYSTEM SET shared_buffers = '"
        << Bytes(std::pow(2, std::ceil(std::log2(sb * 2)))) << "';  -- restart";
  }
  std::string s = sql.str();
  it.rec.sql = s;
  it.rec.lock = "none (advice)";
  it.rec.reason = why.str();
  it.rec.Add("hit_ratio", std::round(ratio * 1000) / 1000)
      .Add("blocks_read", std::round(c.read))
      .Add("blocks_hit", std::round(c.hit))
      .Add("bytes", std::round(c.bytes))
      .Add("shared_buffers", std::round(sb));
  it.rec.priority = static_cast<int>(std::min(999.0, c.read / 1e4));
  out->push_back(std::move(it));
}

}  // namespace

void CacheHitRatio(const RuleInput& in, std::vector<PlanItem>* out) {
  const double bs = std::max(1.0, in.snap.Setting("block_size"));
  for (const auto& t : in.snap.tables) {
    if (!in.table_selected(t.schema, t.name)) continue;
    JudgeCache(in,
               {t.Display(), "table", static_cast<double>(t.heap_bytes),
                static_cast<double>(t.heap_bytes) / bs, static_cast<double>(t.heap_blks_hit),
                static_cast<double>(t.heap_blks_read)},
               out);
  }
  for (const auto& x : in.snap.indexes) {
    if (!in.table_selected(x.schema, x.table)) continue;
    JudgeCache(
        in,
        {x.Display(), "index", static_cast<double>(x.bytes), static_cast<double>(x.bytes) / bs,
         static_cast<double>(x.idx_blks_hit), static_cast<double>(x.idx_blks_read)},
        out);
  }
}

void ConnectionUsage(const RuleInput& in, std::vector<PlanItem>* out) {
  const double min_sessions = in.rule.Threshold("min_sessions");
  const double warn_ratio = in.rule.Threshold("warn_used_ratio");
  const double idle_share = in.rule.Threshold("pooler_idle_share");
  double total = 1, active = 0, idle = 0, idle_tx = 0;  // 1: this session
  for (const auto& b : in.snap.backends) {
    if (!b.backend_type.empty() && b.backend_type != "client backend") continue;
    ++total;
    if (b.state == "active")
      ++active;
    else if (b.state == "idle")
      ++idle;
    else if (b.state.rfind("idle in transaction", 0) == 0)
      ++idle_tx;
  }
  if (total < min_sessions) return;
  const double max_conn = in.snap.Setting("max_connections");
  const double reserved = in.snap.Setting("superuser_reserved_connections");
  const double usable = std::max(1.0, max_conn - reserved);
  const double used = total / usable;
  const bool near_limit = used >= warn_ratio;
  const bool mostly_idle = idle >= idle_share * total;
  if (!near_limit && !mostly_idle) return;
  PlanItem it = NewItem(in, RecommendationKind::kConfig, "connections");
  it.executable = false;
  if (!near_limit) it.severity = Severity::kInfo;
  // A transaction pooler needs about as many server connections as there
  // are transactions running at once: the active sessions now (at least 2
  // per CPU when --cpus is given), with headroom.
  const double cpus = in.opts.cpus;
  const double pool = std::max({10.0, std::ceil(active * 1.5), cpus * 2});
  std::ostringstream why;
  why << Num(total) << " of " << Num(usable) << " usable connections in use ("
      << Num(std::round(used * 100)) << "%; max_connections " << Num(max_conn) << " less "
      << Num(reserved) << " reserved): " << Num(active) << " active, " << Num(idle) << " idle, "
      << Num(idle_tx) << " idle in transaction";
  if (near_limit) why << ". New connections fail with \"too many clients\" at the limit";
  why << ". Idle connections each hold a backend's memory; a transaction pooler (PgBouncer, "
         "pool_mode = transaction) serves these clients with about "
      << Num(pool) << " server connections";
  it.rec.sql =
      "-- pgbouncer.ini: pool_mode = transaction, default_pool_size = " + Num(pool) +
      ", max_client_conn = " + Num(std::max(total * 2, 100.0)) +
      "\n-- then point the applications at the pooler; max_connections can come down after";
  it.rec.lock = "none (advice)";
  it.rec.reason = why.str();
  it.rec.Add("connections", total)
      .Add("usable", usable)
      .Add("active", active)
      .Add("idle", idle)
      .Add("idle_in_transaction", idle_tx)
      .Add("pool_size", pool);
  it.rec.priority = static_cast<int>(std::min(999.0, used * 100));
  out->push_back(std::move(it));
}

void SlowQueryLogging(const RuleInput& in, std::vector<PlanItem>* out) {
  const double min_xacts = in.rule.Threshold("min_transactions");
  const double suggest_ms = in.rule.Threshold("suggested_min_duration_ms");
  // A fresh or idle database has no slow statements worth logging.
  if (static_cast<double>(in.snap.xact_total) < min_xacts) return;
  const std::string lmds = in.snap.SettingText("log_min_duration_statement");
  const double lmd = lmds.empty() ? -1 : in.snap.Setting("log_min_duration_statement");
  const std::string preload = in.snap.SettingText("shared_preload_libraries");
  const bool ae_loaded = preload.find("auto_explain") != std::string::npos ||
                         !in.snap.SettingText("auto_explain.log_min_duration").empty();
  const std::string ae_text = in.snap.SettingText("auto_explain.log_min_duration");
  const double ae_min = ae_text.empty() ? -1 : in.snap.Setting("auto_explain.log_min_duration");
  auto emit = [&](const std::string& object, Severity sev, const std::string& sql,
                  const std::string& why) {
    PlanItem it = NewItem(in, RecommendationKind::kConfig, object);
    it.executable = false;
    it.severity = sev;
    it.rec.sql = sql;
    it.rec.lock = "none; takes effect on reload";
    it.rec.reason = why;
    it.rec.Add("log_min_duration_statement_ms", lmd)
        .Add("auto_explain_loaded", ae_loaded)
        .Add("auto_explain_log_min_duration_ms", ae_min)
        .Add("transactions", in.snap.xact_total);
    out->push_back(std::move(it));
  };
  const std::string set = "ALTER SYSTEM SET log_min_duration_statement = '" + Num(suggest_ms) +
                          "ms';\nSELECT pg_reload_conf();";
  if (lmd < 0 && !(ae_loaded && ae_min >= 0)) {
    emit("log_min_duration_statement", in.rule.severity, set,
         "slow statements are not logged (log_min_duration_statement = -1" +
             std::string(ae_loaded ? ", auto_explain loaded but off" : "") + ") after " +
             Count(static_cast<double>(in.snap.xact_total)) +
             " transactions: when a query turns slow nobody sees which. Log those over " +
             Num(suggest_ms) + " ms");
  } else if (lmd == 0) {
    emit("log_min_duration_statement", Severity::kWarning, set,
         "log_min_duration_statement = 0 logs every statement (" +
             Count(static_cast<double>(in.snap.xact_total)) +
             " transactions so far): the log volume costs I/O and hides the slow ones. Log "
             "those over " +
             Num(suggest_ms) + " ms");
  }
  if (ae_loaded && ae_min < 0 && lmd >= 0)
    emit("auto_explain.log_min_duration", Severity::kInfo,
         "ALTER SYSTEM SET auto_explain.log_min_duration = '" + Num(suggest_ms) +
             "ms';\nSELECT pg_reload_conf();",
         "auto_explain is in shared_preload_libraries but off (auto_explain.log_min_duration = "
         "-1): slow statements are logged without their plans");
  if (ae_loaded && ae_min >= 0 && ae_min < suggest_ms &&
      in.snap.SettingText("auto_explain.log_analyze") == "on" &&
      in.snap.SettingText("auto_explain.log_timing") != "off")
    emit("auto_explain.log_analyze", Severity::kWarning,
         "ALTER SYSTEM SET auto_explain.log_timing = off;\nSELECT pg_reload_conf();",
         "auto_explain.log_analyze with log_timing on instruments every statement (not only "
         "the logged ones) with per-node clock reads, and log_min_duration is only " +
             Num(ae_min) + " ms: that overhead is paid on every query");
}

}  // namespace pgvise::maint
