#include "catalog/storage.h"

#include <algorithm>
#include <cstdlib>
#include <sstream>

namespace pgvise {

namespace {

std::string Quote2(const std::string& schema, const std::string& name) {
  return QuoteIdent(schema) + "." + QuoteIdent(name);
}

// "{fillfactor=70,autovacuum_enabled=false}" -> map
std::map<std::string, std::string> ParseOptions(const std::string& text) {
  std::map<std::string, std::string> out;
  if (text.size() < 2) return out;
  std::string body = text.substr(1, text.size() - 2);
  std::stringstream ss(body);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty() && item.front() == '"') item = item.substr(1, item.size() - 2);
    size_t eq = item.find('=');
    if (eq == std::string::npos) continue;
    out[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return out;
}

// User tables and materialized views with their counters; the TOAST table's
// counters come along for the TOAST-heavy case.
// pg_relation_size (and pg_get_indexdef, which opens the table to name its
// columns) take ACCESS SHARE on the relation: behind an ACCESS EXCLUSIVE lock
// (held or queued) they would wait, and the whole snapshot would time out.
// Those relations' sizes come from pg_class instead. So do the sizes of
// tables not modified since their last ANALYZE or VACUUM (which set relpages
// of the table and its indexes to the size on disk): pg_relation_size opens
// and locks every relation, 70 us each, most of the snapshot's time on a
// database of 10,000 mostly quiet tables.
//
// Counters come from the pg_stat_get_* functions directly: the
// pg_stat_user_tables / pg_stat_all_tables views aggregate over every index
// per row, which costs seconds on 10,000 tables.
const char* kTablesSql = R"SQL(
WITH xl AS MATERIALIZED (
  SELECT DISTINCT relation FROM pg_locks
  WHERE locktype = 'relation' AND mode = 'AccessExclusiveLock'
    AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))
SELECT c.oid, n.nspname, c.relname, c.relkind, c.relpages, c.relallvisible, c.reltuples, c.reloptions,
       xl.relation IS NOT NULL AS locked,
       CASE WHEN xl.relation IS NULL AND NOT (c.reltuples >= 0 AND pg_stat_get_mod_since_analyze(c.oid) = 0)
            THEN pg_relation_size(c.oid)
            ELSE c.relpages::bigint * current_setting('block_size')::int END AS heap_bytes,
       CASE WHEN c.reltoastrelid = 0 THEN 0
            WHEN xl.relation IS NULL AND (pg_stat_get_ins_since_vacuum(c.reltoastrelid) > 0
                                          OR pg_stat_get_dead_tuples(c.reltoastrelid) > 0)
            THEN pg_relation_size(c.reltoastrelid)
            ELSE (SELECT relpages::bigint * current_setting('block_size')::int FROM pg_class
                  WHERE oid = c.reltoastrelid) END AS toast_bytes,
       age(c.relfrozenxid) AS xid_age, mxid_age(c.relminmxid) AS mxid_age,
       pg_stat_get_live_tuples(c.oid) AS n_live_tup,
       pg_stat_get_dead_tuples(c.oid) AS n_dead_tup,
       pg_stat_get_tuples_inserted(c.oid) AS n_tup_ins,
       pg_stat_get_tuples_updated(c.oid) AS n_tup_upd,
       pg_stat_get_tuples_hot_updated(c.oid) AS n_tup_hot_upd,
       pg_stat_get_tuples_deleted(c.oid) AS n_tup_del,
       pg_stat_get_mod_since_analyze(c.oid) AS n_mod_since_analyze,
       pg_stat_get_ins_since_vacuum(c.oid) AS n_ins_since_vacuum,
       pg_stat_get_vacuum_count(c.oid) AS vacuum_count,
       pg_stat_get_autovacuum_count(c.oid) AS autovacuum_count,
       pg_stat_get_analyze_count(c.oid) AS analyze_count,
       pg_stat_get_autoanalyze_count(c.oid) AS autoanalyze_count,
       extract(epoch FROM now() - greatest(pg_stat_get_last_vacuum_time(c.oid),
                                           pg_stat_get_last_autovacuum_time(c.oid))) AS since_vacuum_s,
       extract(epoch FROM now() - pg_stat_get_last_autovacuum_time(c.oid)) AS since_autovacuum_s,
       extract(epoch FROM now() - greatest(pg_stat_get_last_analyze_time(c.oid),
                                           pg_stat_get_last_autoanalyze_time(c.oid))) AS since_analyze_s,
       extract(epoch FROM now() - pg_stat_get_last_autoanalyze_time(c.oid)) AS since_autoanalyze_s,
       pg_stat_get_blocks_fetched(c.oid) - pg_stat_get_blocks_hit(c.oid) AS heap_blks_read,
       pg_stat_get_blocks_hit(c.oid) AS heap_blks_hit,
       CASE WHEN c.reltoastrelid <> 0 THEN pg_stat_get_live_tuples(c.reltoastrelid) END AS toast_live,
       CASE WHEN c.reltoastrelid <> 0 THEN pg_stat_get_dead_tuples(c.reltoastrelid) END AS toast_dead
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN xl ON xl.relation = c.oid
WHERE c.relkind IN ('r', 'm') AND c.relpersistence <> 't'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
ORDER BY c.oid
)SQL";

// Every attribute of those tables and of their indexes, with its statistics.
// Expression-index columns have their statistics under the index. pg_stats
// checks column privileges row by row; a role that may read pg_statistic
// (superuser) reads it directly, 5x faster on large catalogs.
const char* kColumnsSql = R"SQL(
SELECT a.attrelid, a.attnum, a.attname, a.attisdropped, a.attlen, a.attalign, a.attnotnull,
       t.typname, st.avg_width, st.null_frac, st.n_distinct
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_stats st ON st.schemaname = n.nspname AND st.tablename = c.relname
                     AND st.attname = a.attname AND NOT st.inherited
WHERE a.attnum > 0 AND c.relkind IN ('r', 'm', 'i') AND c.relpersistence <> 't'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
ORDER BY a.attrelid, a.attnum
)SQL";

const char* kColumnsPrivilegedSql = R"SQL(
SELECT a.attrelid, a.attnum, a.attname, a.attisdropped, a.attlen, a.attalign, a.attnotnull,
       t.typname, st.stawidth AS avg_width, st.stanullfrac AS null_frac,
       st.stadistinct AS n_distinct
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_statistic st ON st.starelid = a.attrelid AND st.staattnum = a.attnum
                         AND NOT st.stainherit
WHERE a.attnum > 0 AND c.relkind IN ('r', 'm', 'i') AND c.relpersistence <> 't'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
ORDER BY a.attrelid, a.attnum
)SQL";

// The definition is only needed for indexes a rule may act on (invalid, or
// never scanned and not enforcing a constraint): pg_get_indexdef costs a
// catalog walk per index.
const char* kIndexesSql = R"SQL(
WITH xl AS MATERIALIZED (
  SELECT DISTINCT relation FROM pg_locks
  WHERE locktype = 'relation' AND mode = 'AccessExclusiveLock'
    AND database = (SELECT oid FROM pg_database WHERE datname = current_database())),
building AS MATERIALIZED (SELECT index_relid FROM pg_stat_progress_create_index),
cons AS MATERIALIZED (SELECT conindid FROM pg_constraint WHERE contype IN ('p', 'u', 'x'))
SELECT i.indexrelid, i.indrelid, n.nspname, ic.relname, tc.relname AS table_name, am.amname,
       i.indisvalid, i.indisready, i.indisunique, i.indisprimary, i.indisexclusion,
       i.indexrelid IN (SELECT conindid FROM cons) AS backs_constraint,
       i.indpred IS NOT NULL AS partial, i.indexprs IS NOT NULL AS has_expressions,
       i.indnkeyatts, i.indnatts, i.indkey::text AS indkey,
       ic.relpages, ic.reltuples,
       CASE WHEN NOT EXISTS (SELECT 1 FROM xl WHERE xl.relation IN (i.indexrelid, i.indrelid))
             AND NOT (tc.reltuples >= 0 AND pg_stat_get_mod_since_analyze(tc.oid) = 0)
            THEN pg_relation_size(i.indexrelid)
            ELSE ic.relpages::bigint * current_setting('block_size')::int END AS bytes,
       ic.reloptions, i.indexrelid IN (SELECT index_relid FROM building) AS building,
       pg_stat_get_numscans(i.indexrelid) AS idx_scan,
       pg_stat_get_tuples_returned(i.indexrelid) AS idx_tup_read,
       pg_stat_get_tuples_fetched(i.indexrelid) AS idx_tup_fetch,
       pg_stat_get_blocks_fetched(i.indexrelid) - pg_stat_get_blocks_hit(i.indexrelid) AS idx_blks_read,
       pg_stat_get_blocks_hit(i.indexrelid) AS idx_blks_hit,
       CASE WHEN (NOT i.indisvalid OR (pg_stat_get_numscans(i.indexrelid) = 0 AND NOT i.indisunique))
             AND NOT EXISTS (SELECT 1 FROM xl WHERE xl.relation IN (i.indexrelid, i.indrelid))
            THEN pg_get_indexdef(i.indexrelid) END AS definition
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class tc ON tc.oid = i.indrelid
JOIN pg_namespace n ON n.oid = ic.relnamespace
JOIN pg_am am ON am.oid = ic.relam
WHERE tc.relkind IN ('r', 'm') AND tc.relpersistence <> 't'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
ORDER BY i.indexrelid
)SQL";

double Secs(const Rows& r, size_t i, const char* col) {
  return r.IsNull(i, col) ? -1 : r.Double(i, col);
}

TableHealth* TableByOid(std::vector<TableHealth>& tables, uint32_t oid) {
  auto it = std::lower_bound(tables.begin(), tables.end(), oid,
                             [](const TableHealth& t, uint32_t o) { return t.oid < o; });
  if (it != tables.end() && it->oid == oid) return &*it;
  for (auto& t : tables)
    if (t.oid == oid) return &t;
  return nullptr;
}

}  // namespace

std::vector<int> ParseIntList(const std::string& text) {
  // int2vector prints "1 2", arrays print "{1,2}".
  std::vector<int> out;
  std::string cur;
  for (char c : text) {
    if (c == '-' || (c >= '0' && c <= '9')) {
      cur += c;
    } else if (!cur.empty()) {
      out.push_back(std::atoi(cur.c_str()));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::atoi(cur.c_str()));
  return out;
}

std::string TableHealth::Qualified() const { return Quote2(schema, name); }
std::string IndexHealth::Qualified() const { return Quote2(schema, name); }

double TableHealth::Rows() const {
  if (has_stats && (n_live_tup > 0 || reltuples <= 0)) return static_cast<double>(n_live_tup);
  return reltuples < 0 ? 0 : reltuples;
}

int TableHealth::Fillfactor() const { return static_cast<int>(Option("fillfactor", 100)); }

double TableHealth::Option(const std::string& key, double fallback) const {
  auto it = reloptions.find(key);
  if (it == reloptions.end()) return fallback;
  char* end = nullptr;
  double v = std::strtod(it->second.c_str(), &end);
  return end == it->second.c_str() ? fallback : v;
}

int IndexHealth::Fillfactor() const {
  auto it = reloptions.find("fillfactor");
  if (it != reloptions.end()) return std::atoi(it->second.c_str());
  return am == "btree" ? 90 : 100;
}

Status LoadStorage(Session& s, const StorageOptions& o, std::vector<TableHealth>* tables,
                   std::vector<IndexHealth>* indexes) {
  Rows r;
  Status st;
  const bool read_statistic = o.read_statistic;
  const bool track_counts = o.track_counts;
  // 4. tables. A lock queued between the CTE and the size call can still
  // make it wait: one retry sees the new lock and reads pg_class instead.
  if (!(st = s.Query(kTablesSql, &r)).ok() &&
      (s.last_sqlstate() != "55P03" || !(st = s.Query(kTablesSql, &r)).ok()))
    return st;
  tables->reserve(r.size());
  for (size_t i = 0; i < r.size(); ++i) {
    TableHealth t;
    t.oid = static_cast<uint32_t>(r.Int(i, "oid"));
    t.schema = r.Text(i, "nspname");
    t.name = r.Text(i, "relname");
    t.relkind = r.Text(i, "relkind").empty() ? 'r' : r.Text(i, "relkind")[0];
    t.relpages = r.Int(i, "relpages");
    t.relallvisible = r.Int(i, "relallvisible");
    t.reltuples = r.Double(i, "reltuples", -1);
    t.reloptions = ParseOptions(r.Text(i, "reloptions"));
    t.heap_bytes = r.Int(i, "heap_bytes");
    t.locked = r.Bool(i, "locked");
    t.toast_bytes = r.Int(i, "toast_bytes");
    t.xid_age = r.Int(i, "xid_age");
    t.mxid_age = r.Int(i, "mxid_age");
    t.has_stats = track_counts;
    t.n_live_tup = r.Int(i, "n_live_tup");
    t.n_dead_tup = r.Int(i, "n_dead_tup");
    t.n_tup_ins = r.Int(i, "n_tup_ins");
    t.n_tup_upd = r.Int(i, "n_tup_upd");
    t.n_tup_hot_upd = r.Int(i, "n_tup_hot_upd");
    t.n_tup_del = r.Int(i, "n_tup_del");
    t.n_mod_since_analyze = r.Int(i, "n_mod_since_analyze");
    t.n_ins_since_vacuum = r.Int(i, "n_ins_since_vacuum");
    t.vacuum_count = r.Int(i, "vacuum_count");
    t.autovacuum_count = r.Int(i, "autovacuum_count");
    t.analyze_count = r.Int(i, "analyze_count");
    t.autoanalyze_count = r.Int(i, "autoanalyze_count");
    t.since_vacuum_s = Secs(r, i, "since_vacuum_s");
    t.since_autovacuum_s = Secs(r, i, "since_autovacuum_s");
    t.since_analyze_s = Secs(r, i, "since_analyze_s");
    t.since_autoanalyze_s = Secs(r, i, "since_autoanalyze_s");
    t.heap_blks_read = r.Int(i, "heap_blks_read");
    t.heap_blks_hit = r.Int(i, "heap_blks_hit");
    t.toast_live = r.Int(i, "toast_live");
    t.toast_dead = r.Int(i, "toast_dead");
    tables->push_back(std::move(t));
  }

  // 6 before 5: columns are attached to tables and indexes by oid.
  if (!(st = s.Query(kIndexesSql, &r)).ok() &&
      (s.last_sqlstate() != "55P03" || !(st = s.Query(kIndexesSql, &r)).ok()))
    return st;
  indexes->reserve(r.size());
  for (size_t i = 0; i < r.size(); ++i) {
    IndexHealth x;
    x.oid = static_cast<uint32_t>(r.Int(i, "indexrelid"));
    x.table_oid = static_cast<uint32_t>(r.Int(i, "indrelid"));
    x.schema = r.Text(i, "nspname");
    x.name = r.Text(i, "relname");
    x.table = r.Text(i, "table_name");
    x.am = r.Text(i, "amname");
    x.valid = r.Bool(i, "indisvalid", true);
    x.ready = r.Bool(i, "indisready", true);
    x.unique = r.Bool(i, "indisunique");
    x.primary = r.Bool(i, "indisprimary");
    x.exclusion = r.Bool(i, "indisexclusion");
    x.backs_constraint = r.Bool(i, "backs_constraint");
    x.partial = r.Bool(i, "partial");
    x.has_expressions = r.Bool(i, "has_expressions");
    x.nkeyatts = static_cast<int>(r.Int(i, "indnkeyatts"));
    x.natts = static_cast<int>(r.Int(i, "indnatts"));
    x.attnums = ParseIntList(r.Text(i, "indkey"));
    x.relpages = r.Int(i, "relpages");
    x.reltuples = r.Double(i, "reltuples", -1);
    x.bytes = r.Int(i, "bytes");
    x.building = r.Bool(i, "building");
    x.reloptions = ParseOptions(r.Text(i, "reloptions"));
    x.idx_scan = r.Int(i, "idx_scan");
    x.idx_tup_read = r.Int(i, "idx_tup_read");
    x.idx_tup_fetch = r.Int(i, "idx_tup_fetch");
    x.idx_blks_read = r.Int(i, "idx_blks_read");
    x.idx_blks_hit = r.Int(i, "idx_blks_hit");
    x.definition = r.Text(i, "definition");
    indexes->push_back(std::move(x));
  }
  std::sort(indexes->begin(), indexes->end(),
            [](const IndexHealth& a, const IndexHealth& b) { return a.oid < b.oid; });
  for (auto& x : *indexes)
    if (TableHealth* t = TableByOid(*tables, x.table_oid)) t->index_bytes += x.bytes;

  // 5. columns.
  if (!(st = s.Query(read_statistic ? kColumnsPrivilegedSql : kColumnsSql, &r)).ok()) return st;
  auto index_by_oid = [&](uint32_t oid) -> IndexHealth* {
    auto it = std::lower_bound(indexes->begin(), indexes->end(), oid,
                               [](const IndexHealth& a, uint32_t o) { return a.oid < o; });
    return it != indexes->end() && it->oid == oid ? &*it : nullptr;
  };
  for (size_t i = 0; i < r.size(); ++i) {
    ColumnHealth c;
    uint32_t rel = static_cast<uint32_t>(r.Int(i, "attrelid"));
    c.attnum = static_cast<int>(r.Int(i, "attnum"));
    c.name = r.Text(i, "attname");
    c.dropped = r.Bool(i, "attisdropped");
    c.typlen = static_cast<int>(r.Int(i, "attlen", -1));
    c.typalign = r.Text(i, "attalign").empty() ? 'i' : r.Text(i, "attalign")[0];
    c.notnull = r.Bool(i, "attnotnull");
    c.type = r.Text(i, "typname");
    c.has_stats = !r.IsNull(i, "avg_width");
    c.avg_width = r.Double(i, "avg_width");
    c.null_frac = r.Double(i, "null_frac");
    c.n_distinct = r.Double(i, "n_distinct");
    if (TableHealth* t = TableByOid(*tables, rel))
      t->columns.push_back(std::move(c));
    else if (IndexHealth* x = index_by_oid(rel))
      x->columns.push_back(std::move(c));
  }

  return Status::Ok();
}

}  // namespace pgvise
