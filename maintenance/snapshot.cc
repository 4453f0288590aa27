// The snapshot's queries. Each reads one catalog area for the whole database
// in one round trip; none is issued per table. The list (and so the query
// count a run prints) is fixed:
//   1 settings  2 database facts  3 databases  4 tables  5 columns
//   6 indexes   7 backends        8 ungranted locks  9 prepared xacts
//   10 replication slots          11 sequences
//   12 partitioned tables and their partitions (13: pg_partman's part_config,
//      only where the extension is installed)
#include "maintenance/snapshot.h"

#include "catalog/catalog.h"

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <limits>
#include <sstream>

namespace pgvise {

namespace {

// PG 15 defaults for the settings rules read, in snapshot units. A fixture
// that leaves a setting out means "the default".
const std::map<std::string, std::string>& Defaults() {
  static const std::map<std::string, std::string> kDefaults = {
      {"autovacuum", "on"},
      {"autovacuum_vacuum_threshold", "50"},
      {"autovacuum_vacuum_scale_factor", "0.2"},
      {"autovacuum_vacuum_insert_threshold", "1000"},
      {"autovacuum_vacuum_insert_scale_factor", "0.2"},
      {"autovacuum_analyze_threshold", "50"},
      {"autovacuum_analyze_scale_factor", "0.1"},
      {"autovacuum_freeze_max_age", "200000000"},
      {"autovacuum_multixact_freeze_max_age", "400000000"},
      {"autovacuum_vacuum_cost_limit", "-1"},
      {"autovacuum_vacuum_cost_delay", "2"},
      {"autovacuum_max_workers", "3"},
      {"autovacuum_naptime", "60000"},
      {"autovacuum_work_mem", "-1"},
      {"vacuum_cost_limit", "200"},
      {"vacuum_cost_delay", "0"},
      {"vacuum_freeze_min_age", "50000000"},
      {"vacuum_freeze_table_age", "150000000"},
      {"vacuum_failsafe_age", "1600000000"},
      {"vacuum_multixact_failsafe_age", "1600000000"},
      {"shared_buffers", "134217728"},
      {"effective_cache_size", "4294967296"},
      {"work_mem", "4194304"},
      {"maintenance_work_mem", "67108864"},
      {"random_page_cost", "4"},
      {"seq_page_cost", "1"},
      {"effective_io_concurrency", "1"},
      {"max_connections", "100"},
      {"superuser_reserved_connections", "3"},
      {"log_min_duration_statement", "-1"},
      {"max_worker_processes", "8"},
      {"max_parallel_workers", "8"},
      {"max_parallel_workers_per_gather", "2"},
      {"max_parallel_maintenance_workers", "2"},
      {"wal_buffers", "-1"},
      {"min_wal_size", "83886080"},
      {"max_wal_size", "1073741824"},
      {"checkpoint_completion_target", "0.9"},
      {"default_statistics_target", "100"},
      {"huge_pages", "try"},
      {"block_size", std::to_string(kDefaultBlockSize)},  // fixtures: no server
      {"track_counts", "on"},
      {"old_snapshot_threshold", "-1"},
  };
  return kDefaults;
}

// Multiplier from a pg_settings unit to bytes or milliseconds.
double UnitFactor(const std::string& unit) {
  if (unit == "B") return 1;
  if (unit == "kB") return 1024;
  if (unit == "8kB") return 8192;
  if (unit == "MB") return 1048576;
  if (unit == "16MB") return 16.0 * 1048576;
  if (unit == "GB") return 1073741824.0;
  if (unit == "ms") return 1;
  if (unit == "s") return 1000;
  if (unit == "min") return 60000;
  if (unit == "h") return 3600000;
  if (unit == "d") return 86400000;
  return 1;
}

std::string Quote2(const std::string& schema, const std::string& name) {
  return QuoteIdent(schema) + "." + QuoteIdent(name);
}

const char* kSettingsSql = R"SQL(
SELECT name, setting, unit, vartype FROM pg_settings
)SQL";

const char* kFactsSql = R"SQL(
SELECT current_database() AS db,
       extract(epoch FROM now() - coalesce(
         (SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()),
         pg_postmaster_start_time())) AS stats_age_s,
       (SELECT extnamespace::regnamespace::text FROM pg_extension
         WHERE extname = 'pgstattuple') AS pgstattuple_schema,
       has_table_privilege('pg_catalog.pg_statistic', 'SELECT') AS read_statistic,
       current_setting('track_counts')::bool AS track_counts,
       pg_is_in_recovery() AS in_recovery,
       (SELECT xact_commit + xact_rollback FROM pg_stat_database
         WHERE datname = current_database()) AS xact_total
)SQL";

const char* kDatabasesSql = R"SQL(
SELECT datname, age(datfrozenxid) AS xid_age, mxid_age(datminmxid) AS mxid_age, datallowconn
FROM pg_database WHERE NOT datistemplate OR datallowconn
)SQL";

const char* kBackendsSql = R"SQL(
SELECT pid, datname, usename, application_name, backend_type, state,
       CASE WHEN backend_xmin IS NULL THEN 0 ELSE age(backend_xmin) END AS xmin_age,
       CASE WHEN backend_xid IS NULL THEN 0 ELSE age(backend_xid) END AS xid_age,
       extract(epoch FROM now() - xact_start) AS xact_age_s,
       extract(epoch FROM now() - state_change) AS state_age_s,
       extract(epoch FROM now() - query_start) AS query_age_s,
       wait_event_type, wait_event, left(query, 300) AS query,
       pg_blocking_pids(pid)::text AS blocked_by
FROM pg_stat_activity
WHERE pid <> pg_backend_pid()
)SQL";

// Every lock of every other session, one row per (pid, granted, mode,
// object): the waiters' target and each holder's count, strongest mode and
// the relations whose VACUUM it holds up.
const char* kLocksSql = R"SQL(
SELECT l.pid, l.granted, l.mode,
       CASE WHEN l.relation IS NOT NULL THEN l.relation::regclass::text
            ELSE l.locktype END AS what,
       l.relation IS NOT NULL AS is_relation, count(*) AS n
FROM pg_locks l WHERE l.pid IS NOT NULL AND l.pid <> pg_backend_pid()
GROUP BY 1, 2, 3, 4, 5
)SQL";

// Table-lock modes, weakest first (the lock manager's order).
int LockStrength(const std::string& mode) {
  static const char* kModes[] = {
      "AccessShareLock", "RowShareLock",          "RowExclusiveLock", "ShareUpdateExclusiveLock",
      "ShareLock",       "ShareRowExclusiveLock", "ExclusiveLock",    "AccessExclusiveLock"};
  for (int i = 0; i < 8; ++i)
    if (mode == kModes[i]) return i + 1;
  return 0;
}

const char* kPreparedSql = R"SQL(
SELECT gid, database, owner, age(transaction) AS xid_age,
       extract(epoch FROM now() - prepared) AS age_s
FROM pg_prepared_xacts
)SQL";

const char* kSlotsSql = R"SQL(
SELECT slot_name, slot_type, database, active,
       CASE WHEN xmin IS NULL THEN 0 ELSE age(xmin) END AS xmin_age,
       CASE WHEN catalog_xmin IS NULL THEN 0 ELSE age(catalog_xmin) END AS catalog_xmin_age,
       CASE WHEN restart_lsn IS NULL THEN 0
            WHEN pg_is_in_recovery() THEN pg_wal_lsn_diff(pg_last_wal_replay_lsn(), restart_lsn)
            ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn) END AS retained_wal_bytes
FROM pg_replication_slots
)SQL";

// Sequences and the narrowest column fed by each: OWNED BY / identity
// (pg_depend from the sequence) or a DEFAULT nextval() (pg_depend from the
// column default). last_value only where we may read it.
const char* kSequencesSql = R"SQL(
SELECT n.nspname, c.relname, format_type(q.seqtypid, NULL) AS data_type,
       has_sequence_privilege(c.oid, 'SELECT,USAGE') AS readable,
       CASE WHEN has_sequence_privilege(c.oid, 'SELECT,USAGE')
            THEN pg_sequence_last_value(c.oid) END AS last_value,
       q.seqmin, q.seqmax, q.seqincrement, q.seqcycle,
       col.table_name, col.table_sql, col.column_name, col.column_type
FROM pg_sequence q
JOIN pg_class c ON c.oid = q.seqrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN LATERAL (
  SELECT tn.nspname || '.' || tc.relname AS table_name,
         quote_ident(tn.nspname) || '.' || quote_ident(tc.relname) AS table_sql,
         a.attname AS column_name, format_type(bt.oid, NULL) AS column_type
  FROM (
    SELECT d.refobjid AS relid, d.refobjsubid AS attnum FROM pg_depend d
     WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
       AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0
    UNION
    SELECT ad.adrelid, ad.adnum FROM pg_depend d JOIN pg_attrdef ad ON ad.oid = d.objid
     WHERE d.classid = 'pg_attrdef'::regclass AND d.refclassid = 'pg_class'::regclass
       AND d.refobjid = c.oid
  ) u
  JOIN pg_attribute a ON a.attrelid = u.relid AND a.attnum = u.attnum
  JOIN pg_class tc ON tc.oid = u.relid
  JOIN pg_namespace tn ON tn.oid = tc.relnamespace
  -- The base type under any domains: a domain over integer holds integers.
  CROSS JOIN LATERAL (
    WITH RECURSIVE b(oid, depth) AS (
      SELECT a.atttypid, 0
      UNION ALL
      SELECT d.typbasetype, b.depth + 1 FROM b JOIN pg_type d ON d.oid = b.oid
       WHERE d.typtype = 'd' AND b.depth < 64)
    SELECT b.oid FROM b ORDER BY b.depth DESC LIMIT 1) bt
  ORDER BY CASE format_type(bt.oid, NULL) WHEN 'smallint' THEN 0 WHEN 'integer' THEN 1 ELSE 2 END
  LIMIT 1
) col ON true
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
)SQL";

double Secs(const Rows& r, size_t i, const char* col) {
  return r.IsNull(i, col) ? -1 : r.Double(i, col);
}

}  // namespace

std::string SequenceHealth::Qualified() const { return Quote2(schema, name); }

int64_t SequenceHealth::Limit() const {
  int64_t lim = max_value;
  if (increment < 0) lim = -min_value;  // descending: distance to min
  if (column_type == "smallint") lim = std::min<int64_t>(lim, 32767);
  if (column_type == "integer") lim = std::min<int64_t>(lim, 2147483647);
  return lim;
}

double HealthSnapshot::Setting(const std::string& name) const {
  auto it = settings.find(name);
  const std::string* v = nullptr;
  if (it != settings.end()) {
    v = &it->second;
  } else {
    auto d = Defaults().find(name);
    if (d == Defaults().end()) return 0;
    v = &d->second;
  }
  if (*v == "on" || *v == "true") return 1;
  if (*v == "off" || *v == "false") return 0;
  return std::strtod(v->c_str(), nullptr);
}

std::string HealthSnapshot::SettingText(const std::string& name) const {
  auto it = settings.find(name);
  if (it != settings.end()) return it->second;
  auto d = Defaults().find(name);
  return d == Defaults().end() ? "" : d->second;
}

const TableHealth* HealthSnapshot::Table(uint32_t oid) const {
  auto it = std::lower_bound(tables.begin(), tables.end(), oid,
                             [](const TableHealth& t, uint32_t o) { return t.oid < o; });
  if (it != tables.end() && it->oid == oid) return &*it;
  for (const auto& t : tables)  // fixtures need not be sorted
    if (t.oid == oid) return &t;
  return nullptr;
}

Status CollectSnapshot(Session& s, HealthSnapshot* out) {
  HealthSnapshot snap;
  const int64_t q0 = s.query_count();
  snap.server_version = s.server_version();
  Rows r;
  Status st;

  // 1. settings, normalised to bytes / ms so rules compare plain numbers.
  if (!(st = s.Query(kSettingsSql, &r)).ok()) return st;
  for (size_t i = 0; i < r.size(); ++i) {
    std::string v = r.Text(i, "setting");
    const std::string& unit = r.Text(i, "unit");
    const std::string& type = r.Text(i, "vartype");
    if (!unit.empty() && (type == "integer" || type == "real")) {
      double x = std::strtod(v.c_str(), nullptr);
      if (x > 0) {
        std::ostringstream os;
        os.precision(17);
        os << x * UnitFactor(unit);
        v = os.str();
      }
    }
    snap.settings[r.Text(i, "name")] = v;
  }

  // 2. facts about this database.
  if (!(st = s.Query(kFactsSql, &r)).ok()) return st;
  snap.database = r.Text(0, "db");
  snap.stats_age_s = std::max(60.0, r.Double(0, "stats_age_s", 3600));
  snap.in_recovery = r.Bool(0, "in_recovery");
  snap.xact_total = r.Int(0, "xact_total");
  snap.has_pgstattuple = !r.IsNull(0, "pgstattuple_schema");
  snap.pgstattuple_schema = r.Text(0, "pgstattuple_schema");
  const bool read_statistic = r.Bool(0, "read_statistic");
  const bool track_counts = r.Bool(0, "track_counts", true);

  // 3. databases (wraparound is per cluster).
  if (!(st = s.Query(kDatabasesSql, &r)).ok()) return st;
  for (size_t i = 0; i < r.size(); ++i) {
    DatabaseHealth d;
    d.name = r.Text(i, "datname");
    d.xid_age = r.Int(i, "xid_age");
    d.mxid_age = r.Int(i, "mxid_age");
    d.allow_connections = r.Bool(i, "datallowconn", true);
    snap.databases.push_back(std::move(d));
  }

  // 4-6. tables, indexes and their columns: the catalog module.
  StorageOptions so;
  so.read_statistic = read_statistic;
  so.track_counts = track_counts;
  if (!(st = LoadStorage(s, so, &snap.tables, &snap.indexes)).ok()) return st;

  // 7 + 8. backends and what the waiting ones wait for.
  if (!(st = s.Query(kBackendsSql, &r)).ok()) return st;
  for (size_t i = 0; i < r.size(); ++i) {
    BackendHealth b;
    b.pid = static_cast<int>(r.Int(i, "pid"));
    b.database = r.Text(i, "datname");
    b.user = r.Text(i, "usename");
    b.application = r.Text(i, "application_name");
    b.backend_type = r.Text(i, "backend_type");
    b.state = r.Text(i, "state");
    b.xmin_age = r.Int(i, "xmin_age");
    b.xid_age = r.Int(i, "xid_age");
    b.xact_age_s = Secs(r, i, "xact_age_s");
    b.state_age_s = Secs(r, i, "state_age_s");
    b.query_age_s = Secs(r, i, "query_age_s");
    b.wait_event_type = r.Text(i, "wait_event_type");
    b.wait_event = r.Text(i, "wait_event");
    b.query = r.Text(i, "query");
    b.blocked_by = ParseIntList(r.Text(i, "blocked_by"));
    snap.backends.push_back(std::move(b));
  }
  if (!(st = s.Query(kLocksSql, &r)).ok()) return st;
  std::map<int, BackendHealth*> by_pid;
  for (auto& b : snap.backends) by_pid[b.pid] = &b;
  for (size_t i = 0; i < r.size(); ++i) {
    auto it = by_pid.find(static_cast<int>(r.Int(i, "pid")));
    if (it == by_pid.end()) continue;
    BackendHealth& b = *it->second;
    const std::string& mode = r.Text(i, "mode");
    if (!r.Bool(i, "granted")) {
      if (b.waiting_for.empty()) {
        b.waiting_for = r.Text(i, "what");
        b.waiting_mode = mode;
      }
      continue;
    }
    b.locks_held += static_cast<int>(r.Int(i, "n"));
    if (!r.Bool(i, "is_relation")) continue;
    const int strength = LockStrength(mode);
    if (strength > LockStrength(b.strongest_lock)) b.strongest_lock = mode;
    // VACUUM takes SHARE UPDATE EXCLUSIVE: it waits behind that mode and stronger.
    if (strength >= LockStrength("ShareUpdateExclusiveLock"))
      b.vacuum_blocked_on.push_back(r.Text(i, "what"));
  }

  // 9. prepared transactions.
  if (!(st = s.Query(kPreparedSql, &r)).ok()) return st;
  for (size_t i = 0; i < r.size(); ++i) {
    PreparedXactHealth p;
    p.gid = r.Text(i, "gid");
    p.database = r.Text(i, "database");
    p.owner = r.Text(i, "owner");
    p.xid_age = r.Int(i, "xid_age");
    p.age_s = r.Double(i, "age_s");
    snap.prepared.push_back(std::move(p));
  }

  // 10. replication slots.
  if (!(st = s.Query(kSlotsSql, &r)).ok()) return st;
  for (size_t i = 0; i < r.size(); ++i) {
    SlotHealth sl;
    sl.name = r.Text(i, "slot_name");
    sl.type = r.Text(i, "slot_type");
    sl.database = r.Text(i, "database");
    sl.active = r.Bool(i, "active");
    sl.xmin_age = r.Int(i, "xmin_age");
    sl.catalog_xmin_age = r.Int(i, "catalog_xmin_age");
    sl.retained_wal_bytes = r.Int(i, "retained_wal_bytes");
    snap.slots.push_back(std::move(sl));
  }

  // 11. sequences.
  if (!(st = s.Query(kSequencesSql, &r)).ok()) return st;
  for (size_t i = 0; i < r.size(); ++i) {
    SequenceHealth q;
    q.schema = r.Text(i, "nspname");
    q.name = r.Text(i, "relname");
    q.data_type = r.Text(i, "data_type");
    q.readable = r.Bool(i, "readable", true);
    q.called = !r.IsNull(i, "last_value");
    q.last_value = r.Int(i, "last_value");
    q.min_value = r.Int(i, "seqmin");
    q.max_value = r.Int(i, "seqmax");
    q.increment = r.Int(i, "seqincrement", 1);
    q.cycle = r.Bool(i, "seqcycle");
    q.column_table = r.Text(i, "table_name");
    q.column_table_sql = r.Text(i, "table_sql");
    q.column_name = r.Text(i, "column_name");
    q.column_type = r.Text(i, "column_type");
    snap.sequences.push_back(std::move(q));
  }

  // 12 (+13). partitioned tables, their partitions, pg_partman: the catalog module.
  if (!(st = LoadPartitions(s, &snap.partitions)).ok()) return st;

  snap.queries = s.query_count() - q0;
  *out = std::move(snap);
  return Status::Ok();
}

}  // namespace pgvise
