// The partition queries (see partitions.h). The first query always returns
// at least one row (now() and pg_partman's schema) so the caller learns both
// even on a database without partitioned tables; a partitioned table without
// partitions comes back once with NULL partition columns.
//
// Range bounds are parsed by the server, not here: pg_get_expr prints them
// in the session's DateStyle and TimeZone, and casting them back to the key's
// type in the same session reads them the way they were printed. Only a key
// of one column is parsed (a multi-column bound has commas inside the
// parentheses and no single "next" value).
#include "catalog/partitions.h"

#include <algorithm>
#include <cstdlib>
#include <sstream>

namespace pgvise {

namespace {

const char* kPartitionsSql = R"SQL(
WITH xl AS MATERIALIZED (
  SELECT DISTINCT relation FROM pg_locks
  WHERE locktype = 'relation' AND mode = 'AccessExclusiveLock'
    AND database = (SELECT oid FROM pg_database WHERE datname = current_database())),
parents AS (
  SELECT p.partrelid, p.partstrat, p.partdefid, p.partnatts, n.nspname, c.relname, c.reltuples,
         c.relispartition, xl.relation IS NOT NULL AS locked,
         (SELECT string_agg(coalesce(a.attname, ''), ',' ORDER BY k.ord)
            FROM unnest(p.partattrs::int2[]) WITH ORDINALITY k(attnum, ord)
            LEFT JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = k.attnum
           ) AS key_columns,
         CASE WHEN p.partnatts = 1 AND p.partattrs[0] > 0 THEN
           -- the base type under any domains: what the bounds are parsed as
           (WITH RECURSIVE b(oid, depth) AS (
              SELECT a.atttypid, 0 FROM pg_attribute a
               WHERE a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
              UNION ALL
              SELECT d.typbasetype, b.depth + 1 FROM b JOIN pg_type d ON d.oid = b.oid
               WHERE d.typtype = 'd' AND b.depth < 64)
            SELECT format_type(b.oid, NULL) FROM b ORDER BY b.depth DESC LIMIT 1) END AS key_type,
         extract(epoch FROM now() - greatest(pg_stat_get_last_analyze_time(c.oid),
                                             pg_stat_get_last_autoanalyze_time(c.oid))) AS since_analyze_s
  FROM pg_partitioned_table p
  JOIN pg_class c ON c.oid = p.partrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN xl ON xl.relation = c.oid
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND c.relpersistence <> 't'),
kids AS (
  SELECT i.inhparent, k.oid AS kid_oid, kn.nspname AS kid_schema, k.relname AS kid_name,
         k.relkind AS kid_relkind, k.relpages AS kid_relpages, k.reltuples AS kid_reltuples,
         kxl.relation IS NOT NULL AS kid_locked,
         CASE WHEN kxl.relation IS NULL THEN pg_get_expr(k.relpartbound, k.oid) END AS bound
  FROM pg_inherits i
  JOIN pg_class k ON k.oid = i.inhrelid
  JOIN pg_namespace kn ON kn.oid = k.relnamespace
  LEFT JOIN xl kxl ON kxl.relation = k.oid
  WHERE i.inhparent IN (SELECT partrelid FROM parents) AND k.relispartition),
ranged AS (
  SELECT p.*, kids.*, v.lo, v.hi, ds.vals AS def_vals, ds.mcv_sql AS def_values_sql
  FROM parents p
  LEFT JOIN kids ON kids.inhparent = p.partrelid
  LEFT JOIN LATERAL (
    SELECT btrim(m[1], '''') AS lo, btrim(m[2], '''') AS hi
    FROM regexp_match(kids.bound, '^FOR VALUES FROM \((.+)\) TO \((.+)\)$') m
    WHERE p.partstrat = 'r' AND p.partnatts = 1) v ON true
  LEFT JOIN LATERAL (
    SELECT coalesce(st.histogram_bounds::text::text[], '{}')
             || coalesce(st.most_common_vals::text::text[], '{}') AS vals,
           (SELECT string_agg(quote_literal(x), ', ')
              FROM unnest(st.most_common_vals::text::text[]) x) AS mcv_sql
    FROM pg_stats st
    WHERE kids.kid_oid = p.partdefid AND p.partnatts = 1 AND st.schemaname = kids.kid_schema
      AND st.tablename = kids.kid_name AND st.attname = p.key_columns
      AND NOT st.inherited) ds ON true),
keyed AS (
  -- The default partition's smallest and largest value, ordered by the
  -- key's own type (text order for other types).
  SELECT r.*, s.sort_min, s.min_v, s.sort_max, s.max_v
  FROM ranged r
  LEFT JOIN LATERAL (
    SELECT (array_agg(k ORDER BY k))[1] AS sort_min, (array_agg(x ORDER BY k, x))[1] AS min_v,
           (array_agg(k ORDER BY k DESC))[1] AS sort_max,
           (array_agg(x ORDER BY k DESC, x DESC))[1] AS max_v
    FROM unnest(r.def_vals) x,
         LATERAL (SELECT CASE
           WHEN r.key_type = 'date' THEN extract(epoch FROM x::date::timestamptz)
           WHEN r.key_type LIKE 'timestamp%with time zone' THEN extract(epoch FROM x::timestamptz)
           WHEN r.key_type LIKE 'timestamp%' THEN extract(epoch FROM x::timestamp::timestamptz)
           WHEN r.key_type IN ('smallint', 'integer', 'bigint') THEN x::numeric END AS k) kk
    WHERE r.def_vals IS NOT NULL
    HAVING count(*) > 0) s ON true)
SELECT h.now_epoch, h.partman_schema, r.*,
       CASE WHEN r.lo IN ('MINVALUE', 'MAXVALUE') OR r.hi IN ('MINVALUE', 'MAXVALUE') THEN NULL
            WHEN r.key_type = 'date' THEN extract(epoch FROM r.lo::date::timestamptz)
            WHEN r.key_type LIKE 'timestamp%with time zone' THEN extract(epoch FROM r.lo::timestamptz)
            WHEN r.key_type LIKE 'timestamp%' THEN extract(epoch FROM r.lo::timestamp::timestamptz)
            WHEN r.key_type IN ('smallint', 'integer', 'bigint') THEN r.lo::numeric END AS lo_num,
       CASE WHEN r.lo IN ('MINVALUE', 'MAXVALUE') OR r.hi IN ('MINVALUE', 'MAXVALUE') THEN NULL
            WHEN r.key_type = 'date' THEN extract(epoch FROM r.hi::date::timestamptz)
            WHEN r.key_type LIKE 'timestamp%with time zone' THEN extract(epoch FROM r.hi::timestamptz)
            WHEN r.key_type LIKE 'timestamp%' THEN extract(epoch FROM r.hi::timestamp::timestamptz)
            WHEN r.key_type IN ('smallint', 'integer', 'bigint') THEN r.hi::numeric END AS hi_num,
       CASE WHEN r.lo IN ('MINVALUE', 'MAXVALUE') OR r.hi IN ('MINVALUE', 'MAXVALUE') THEN NULL
            WHEN r.key_type = 'date' THEN age(r.hi::date, r.lo::date)::text
            WHEN r.key_type LIKE 'timestamp%with time zone' THEN age(r.hi::timestamptz, r.lo::timestamptz)::text
            WHEN r.key_type LIKE 'timestamp%' THEN age(r.hi::timestamp, r.lo::timestamp)::text
            WHEN r.key_type IN ('smallint', 'integer', 'bigint') THEN (r.hi::numeric - r.lo::numeric)::text
       END AS span
FROM (SELECT extract(epoch FROM now()) AS now_epoch,
             (SELECT extnamespace::regnamespace::text FROM pg_extension
               WHERE extname = 'pg_partman') AS partman_schema) h
LEFT JOIN keyed r ON true
ORDER BY r.partrelid, r.kid_oid
)SQL";

// pg_partman's configuration (4.x and 5.x). The retention is read as
// seconds when it is an interval, as a number for an id-based parent.
const char* kPartmanSql = R"SQL(
SELECT parent_table, control, partition_interval, premake, retention, retention_keep_table,
       automatic_maintenance,
       CASE WHEN retention IS NULL THEN NULL
            WHEN retention ~ '^\s*[0-9]+\s*$' THEN retention::numeric
            ELSE extract(epoch FROM retention::interval) END AS retention_num
FROM %s.part_config
)SQL";

std::vector<std::string> SplitCommas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(item);
  if (!s.empty() && s.back() == ',') out.push_back("");
  return out;
}

}  // namespace

std::string PartitionInfo::Qualified() const { return QuoteIdent(schema) + "." + QuoteIdent(name); }

std::string PartitionedTable::Qualified() const {
  return QuoteIdent(schema) + "." + QuoteIdent(name);
}

bool PartitionedTable::TimeKey() const {
  return key_type == "date" || key_type.rfind("timestamp", 0) == 0;
}

bool PartitionedTable::IntegerKey() const {
  return key_type == "smallint" || key_type == "integer" || key_type == "bigint";
}

const PartitionInfo* PartitionedTable::Default() const {
  for (const auto& p : partitions)
    if (p.is_default) return &p;
  return nullptr;
}

Status LoadPartitions(Session& s, PartitionCatalog* out) {
  PartitionCatalog cat;
  const int64_t q0 = s.query_count();
  Rows r;
  Status st = s.Query(kPartitionsSql, &r);
  if (!st.ok()) return st;
  for (size_t i = 0; i < r.size(); ++i) {
    if (i == 0) {
      cat.now_epoch = r.Double(i, "now_epoch");
      cat.has_partman = !r.IsNull(i, "partman_schema");
      cat.partman_schema = r.Text(i, "partman_schema");
    }
    if (r.IsNull(i, "partrelid")) continue;
    uint32_t oid = static_cast<uint32_t>(r.Int(i, "partrelid"));
    if (cat.tables.empty() || cat.tables.back().oid != oid) {
      PartitionedTable t;
      t.oid = oid;
      t.schema = r.Text(i, "nspname");
      t.name = r.Text(i, "relname");
      t.strategy = r.Text(i, "partstrat").empty() ? 'r' : r.Text(i, "partstrat")[0];
      t.key_columns = SplitCommas(r.Text(i, "key_columns"));
      // An expression key has no name: "" per expression column.
      t.key_columns.resize(
          std::max<size_t>(t.key_columns.size(), static_cast<size_t>(r.Int(i, "partnatts"))));
      t.key_type = r.Text(i, "key_type");
      t.is_partition = r.Bool(i, "relispartition");
      t.locked = r.Bool(i, "locked");
      t.reltuples = r.Double(i, "reltuples", -1);
      t.since_analyze_s = r.IsNull(i, "since_analyze_s") ? -1 : r.Double(i, "since_analyze_s");
      cat.tables.push_back(std::move(t));
    }
    if (r.IsNull(i, "kid_oid")) continue;
    PartitionInfo p;
    p.oid = static_cast<uint32_t>(r.Int(i, "kid_oid"));
    p.schema = r.Text(i, "kid_schema");
    p.name = r.Text(i, "kid_name");
    p.relkind = r.Text(i, "kid_relkind").empty() ? 'r' : r.Text(i, "kid_relkind")[0];
    p.is_default = r.Int(i, "partdefid") == static_cast<int64_t>(p.oid);
    p.locked = r.Bool(i, "kid_locked");
    p.bound = p.is_default ? "DEFAULT" : r.Text(i, "bound");
    p.lower = r.Text(i, "lo");
    p.upper = r.Text(i, "hi");
    p.has_numbers = !r.IsNull(i, "lo_num") && !r.IsNull(i, "hi_num");
    p.lower_num = r.Double(i, "lo_num");
    p.upper_num = r.Double(i, "hi_num");
    p.span = r.Text(i, "span");
    // The default partition's key range: from its pg_stats (min_v), or its
    // values list alone when it has no statistics yet.
    if (p.is_default && (!r.IsNull(i, "def_vals") || !r.IsNull(i, "min_v"))) {
      p.has_key_stats = !r.IsNull(i, "min_v");
      p.stats_min = r.Text(i, "min_v");
      p.stats_max = r.Text(i, "max_v");
      p.stats_numbers = !r.IsNull(i, "sort_min");
      p.stats_min_num = r.Double(i, "sort_min");
      p.stats_max_num = r.Double(i, "sort_max");
      p.stats_values_sql = r.Text(i, "def_values_sql");
    }
    p.relpages = r.Double(i, "kid_relpages");
    p.reltuples = r.Double(i, "kid_reltuples", -1);
    cat.tables.back().partitions.push_back(std::move(p));
  }
  // RANGE partitions in bound order (the newest last), the rest by name.
  for (auto& t : cat.tables)
    std::stable_sort(t.partitions.begin(), t.partitions.end(),
                     [](const PartitionInfo& a, const PartitionInfo& b) {
                       if (a.is_default != b.is_default) return b.is_default;
                       if (a.has_numbers != b.has_numbers) return b.has_numbers;
                       if (a.has_numbers && a.lower_num != b.lower_num)
                         return a.lower_num < b.lower_num;
                       return a.name < b.name;
                     });

  if (cat.has_partman) {
    // The schema name comes from pg_extension and is quoted here.
    std::string sql = kPartmanSql;
    sql.replace(sql.find("%s"), 2, QuoteIdent(cat.partman_schema));
    // A pg_partman version whose part_config lacks a column read here (or a
    // role that may not read it) costs the retention rule, not the snapshot.
    st = s.Query(sql, &r);
    if (!st.ok()) {
      cat.partman_error = st.message();
      r = Rows();
    }
    for (size_t i = 0; i < r.size(); ++i) {
      PartmanConfig c;
      c.parent_table = r.Text(i, "parent_table");
      c.control = r.Text(i, "control");
      c.partition_interval = r.Text(i, "partition_interval");
      c.premake = static_cast<int>(r.Int(i, "premake", 4));
      c.retention = r.Text(i, "retention");
      c.retention_num = r.Double(i, "retention_num");
      c.retention_keep_table = r.Bool(i, "retention_keep_table", true);
      c.automatic_maintenance = r.Text(i, "automatic_maintenance") != "off";
      cat.partman.push_back(std::move(c));
    }
  }
  cat.queries = s.query_count() - q0;
  *out = std::move(cat);
  return Status::Ok();
}

}  // namespace pgvise
