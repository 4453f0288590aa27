#include "catalog/catalog.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

namespace pgvise {

namespace {

// The relations a snapshot covers. System schemas are left out unless asked:
// nobody indexes pg_catalog, and it would triple the column query.
std::string RelationFilter(const CatalogOptions& o, const char* cls, const char* nsp) {
  std::string f = std::string(cls) + ".relkind IN ('r','p','m') AND " + nsp +
                  ".nspname NOT LIKE 'pg_toast%' AND " + nsp + ".nspname NOT LIKE 'pg_temp%'";
  if (!o.include_system)
    f += std::string(" AND ") + nsp + ".nspname NOT IN ('pg_catalog','information_schema')";
  return f;
}

std::vector<std::string> JsonTextArray(const std::string& text) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_array()) return out;
  for (const auto& e : j) {
    if (e.is_string())
      out.push_back(e.get<std::string>());
    else if (e.is_null())
      out.push_back("");
    else
      out.push_back(e.dump());
  }
  return out;
}

std::vector<double> JsonDoubleArray(const std::string& text) {
  std::vector<double> out;
  if (text.empty()) return out;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_array()) return out;
  for (const auto& e : j) out.push_back(e.is_number() ? e.get<double>() : 0.0);
  return out;
}

// Tables another session holds or waits for ACCESS EXCLUSIVE on (a queued
// request blocks our ACCESS SHARE as much as a granted one), directly or
// through their TOAST table or one of their indexes (pg_indexes_size opens
// every index). pg_total_relation_size, pg_relation_size, pg_indexes_size,
// pg_get_indexdef, pg_get_expr and pg_get_constraintdef all open the table
// (or index) and would wait behind that lock until lock_timeout failed the
// snapshot, so for these tables the queries below read pg_class only. Same
// approach as catalog/storage.cc's kTablesSql. MATERIALIZED: evaluated
// once, before any size function runs.
const char* kLockedCte =
    "WITH xl AS MATERIALIZED (SELECT DISTINCT relation FROM pg_locks"
    "   WHERE locktype = 'relation' AND mode = 'AccessExclusiveLock' AND pid <> pg_backend_pid()"
    "   AND database = (SELECT oid FROM pg_database WHERE datname = current_database())),"
    " locked AS MATERIALIZED ("
    "   SELECT c.oid FROM pg_class c WHERE c.oid IN (SELECT relation FROM xl)"
    "     OR (c.reltoastrelid <> 0 AND c.reltoastrelid IN (SELECT relation FROM xl))"
    "   UNION SELECT i.indrelid FROM pg_index i WHERE i.indexrelid IN (SELECT relation FROM xl)) ";

// Bytes of a relation from pg_class alone (`rel` is an oid expression).
std::string PagesBytes(const std::string& rel) {
  return "COALESCE((SELECT greatest(pc.relpages, 0)::bigint * current_setting('block_size')::int"
         " FROM pg_class pc WHERE pc.oid = " +
         rel + "), 0)";
}

// Runs a snapshot query; a lock queued between the locked CTE and a size
// call still makes it wait (55P03 lock_not_available after lock_timeout):
// one retry sees the new lock and reads pg_class instead.
Status QueryOnce(Session& s, const std::string& sql, Rows* r, int* queries) {
  ++*queries;
  Status st = s.Query(sql, r);
  if (st.ok() || s.last_sqlstate() != "55P03") return st;
  ++*queries;
  return s.Query(sql, r);
}

struct Key {
  uint32_t oid;
  bool operator<(const Key& o) const { return oid < o.oid; }
};

}  // namespace

double ColumnInfo::DistinctValues(double rows) const {
  if (n_distinct > 0) return n_distinct;
  if (n_distinct < 0) return std::max(1.0, -n_distinct * rows);
  // No statistics: the planner assumes 200 distinct values (DEFAULT_NUM_DISTINCT).
  return std::min(std::max(rows, 1.0), 200.0);
}

double ColumnInfo::EqualitySelectivity(double rows) const {
  double nd = DistinctValues(rows);
  if (most_common_freqs.empty()) return (1.0 - null_frac) / std::max(nd, 1.0);
  // For a value that is not among the MCVs, PostgreSQL spreads what the MCVs
  // leave over the remaining distinct values; for an unknown value, the
  // average over all values is a fair middle.
  double mcv_sum = 0;
  for (double f : most_common_freqs) mcv_sum += f * f;
  double rest = std::max(0.0, 1.0 - null_frac);
  for (double f : most_common_freqs) rest -= f;
  double others = std::max(nd - static_cast<double>(most_common_freqs.size()), 1.0);
  double other_sel = std::max(rest, 0.0) / others;
  // Expected selectivity of an equality with a value drawn like the rows.
  return mcv_sum + std::max(rest, 0.0) * other_sel;
}

std::optional<double> ColumnInfo::ValueFrequency(const std::string& value) const {
  for (size_t i = 0; i < most_common_vals.size() && i < most_common_freqs.size(); ++i)
    if (most_common_vals[i] == value) return most_common_freqs[i];
  return std::nullopt;
}

bool IndexInfo::HasExpression() const {
  for (const auto& k : keys)
    if (k.column.empty()) return true;
  return false;
}

const ColumnInfo* TableInfo::Column(const std::string& col) const {
  for (const auto& c : columns)
    if (c.name == col) return &c;
  return nullptr;
}

const IndexInfo* TableInfo::Index(const std::string& idx) const {
  for (const auto& i : indexes)
    if (i.name == idx) return &i;
  return nullptr;
}

double TableInfo::Rows() const {
  if (reltuples > 0) return reltuples;
  return static_cast<double>(std::max<int64_t>(n_live_tup, 0));
}

const TableInfo* Catalog::FindTable(const std::string& schema, const std::string& name) const {
  if (schema.empty()) {
    for (const auto& s : search_path_)
      for (const auto& t : tables_)
        if (t.schema == s && t.name == name) return &t;
    return nullptr;
  }
  for (const auto& t : tables_)
    if (t.schema == schema && t.name == name) return &t;
  return nullptr;
}

const TableInfo* Catalog::FindTable(const std::string& name) const {
  // Names come unquoted (QueryFacts' form), so a '.' is ambiguous only for
  // the odd table whose name contains one: try the bare name first, then each
  // split point.
  if (const TableInfo* t = FindTable("", name)) return t;
  for (size_t dot = name.find('.'); dot != std::string::npos; dot = name.find('.', dot + 1))
    if (const TableInfo* t = FindTable(name.substr(0, dot), name.substr(dot + 1))) return t;
  return nullptr;
}

const IndexInfo* Catalog::FindIndex(const std::string& name) const {
  for (const auto& t : tables_)
    for (const auto& i : t.indexes)
      if (i.name == name || i.QualifiedName() == name) return &i;
  return nullptr;
}

int64_t Catalog::TotalTableBytes() const {
  int64_t sum = 0;
  for (const auto& t : tables_) sum += t.heap_bytes + t.toast_bytes;
  return sum;
}

void SplitQualifiedName(const std::string& q, std::string* schema, std::string* name) {
  std::vector<std::string> parts(1);
  bool quoted = false;
  for (size_t i = 0; i < q.size(); ++i) {
    char c = q[i];
    if (c == '"') {
      if (quoted && i + 1 < q.size() && q[i + 1] == '"') {
        parts.back() += '"';
        ++i;
      } else {
        quoted = !quoted;
      }
    } else if (c == '.' && !quoted) {
      parts.emplace_back();
    } else {
      parts.back() += quoted ? c : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  *name = parts.back();
  *schema = parts.size() > 1 ? parts[parts.size() - 2] : "";
}

Status Catalog::Load(Session& s, const CatalogOptions& o, Catalog* out) {
  Catalog cat;
  cat.server_version_ = s.server_version();
  std::map<Key, size_t> by_oid;
  Rows r;

  // 1. Tables, sizes and pg_stat_user_tables counters, plus the search path
  //    and the age of the statistics counters (one row each).
  //    A locked table's sizes are relpages * block_size of the table, its
  //    indexes and its TOAST table (see kLockedCte).
  const std::string index_pages =
      "COALESCE((SELECT sum(greatest(ip.relpages, 0))::bigint * current_setting('block_size')::int"
      " FROM pg_index ii JOIN pg_class ip ON ip.oid = ii.indexrelid WHERE ii.indrelid = c.oid), 0)";
  std::string q1 =
      std::string(kLockedCte) +
      "SELECT c.oid, n.nspname, c.relname, c.relkind, c.reltuples, c.relpages,"
      " c.relhassubclass, lk.oid IS NOT NULL AS locked,"
      " CASE WHEN lk.oid IS NULL THEN pg_total_relation_size(c.oid) ELSE " +
      PagesBytes("c.oid") + " + " + index_pages + " + " + PagesBytes("c.reltoastrelid") +
      " END AS total_bytes,"
      " CASE WHEN lk.oid IS NULL THEN pg_relation_size(c.oid) ELSE " +
      PagesBytes("c.oid") +
      " END AS heap_bytes,"
      " CASE WHEN lk.oid IS NULL THEN pg_indexes_size(c.oid) ELSE " +
      index_pages +
      " END AS index_bytes,"
      " CASE WHEN lk.oid IS NULL THEN COALESCE(pg_total_relation_size(NULLIF(c.reltoastrelid, 0)),"
      " 0) ELSE " +
      PagesBytes("c.reltoastrelid") +
      " END AS toast_bytes,"
      " s.n_tup_ins, s.n_tup_upd, s.n_tup_del, s.n_tup_hot_upd, s.n_live_tup, s.n_dead_tup,"
      " s.n_mod_since_analyze, s.n_ins_since_vacuum, s.seq_scan, s.seq_tup_read, s.idx_scan,"
      " s.last_vacuum, s.last_autovacuum, s.last_analyze, s.last_autoanalyze,"
      " s.vacuum_count, s.autovacuum_count, s.analyze_count, s.autoanalyze_count,"
      " CASE WHEN c.relkind IN ('r','m') THEN age(c.relfrozenxid) ELSE 0 END AS xid_age,"
      " array_to_json(c.reloptions) AS reloptions,"
      " EXTRACT(epoch FROM now() - COALESCE((SELECT d.stats_reset FROM pg_stat_database d"
      "   WHERE d.datname = current_database()), pg_postmaster_start_time())) AS stats_age,"
      " array_to_json(current_schemas(false)) AS search_path,"
      " current_setting('block_size')::int AS block_size"
      " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
      " LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid"
      " LEFT JOIN locked lk ON lk.oid = c.oid"
      " WHERE " +
      RelationFilter(o, "c", "n") + " ORDER BY n.nspname, c.relname";
  Status st = QueryOnce(s, q1, &r, &cat.queries_used_);
  if (!st.ok()) return Status::Database("catalog (tables): " + st.message());
  for (size_t i = 0; i < r.size(); ++i) {
    TableInfo t;
    t.oid = static_cast<uint32_t>(r.Int(i, "oid"));
    t.schema = r.Text(i, "nspname");
    t.name = r.Text(i, "relname");
    t.kind = r.Text(i, "relkind").empty() ? 'r' : r.Text(i, "relkind")[0];
    t.reltuples = std::max(0.0, r.Double(i, "reltuples"));
    t.relpages = r.Int(i, "relpages");
    t.total_bytes = r.Int(i, "total_bytes");
    t.heap_bytes = r.Int(i, "heap_bytes");
    t.index_bytes = r.Int(i, "index_bytes");
    t.toast_bytes = r.Int(i, "toast_bytes");
    t.n_tup_ins = r.Int(i, "n_tup_ins");
    t.n_tup_upd = r.Int(i, "n_tup_upd");
    t.n_tup_del = r.Int(i, "n_tup_del");
    t.n_tup_hot_upd = r.Int(i, "n_tup_hot_upd");
    t.n_live_tup = r.Int(i, "n_live_tup");
    t.n_dead_tup = r.Int(i, "n_dead_tup");
    t.n_mod_since_analyze = r.Int(i, "n_mod_since_analyze");
    t.n_ins_since_vacuum = r.Int(i, "n_ins_since_vacuum");
    t.seq_scan = r.Int(i, "seq_scan");
    t.seq_tup_read = r.Int(i, "seq_tup_read");
    t.idx_scan = r.Int(i, "idx_scan");
    t.last_vacuum = r.Text(i, "last_vacuum");
    t.last_autovacuum = r.Text(i, "last_autovacuum");
    t.last_analyze = r.Text(i, "last_analyze");
    t.last_autoanalyze = r.Text(i, "last_autoanalyze");
    t.vacuum_count = r.Int(i, "vacuum_count");
    t.autovacuum_count = r.Int(i, "autovacuum_count");
    t.analyze_count = r.Int(i, "analyze_count");
    t.autoanalyze_count = r.Int(i, "autoanalyze_count");
    t.xid_age = r.Int(i, "xid_age");
    t.reloptions = JsonTextArray(r.Text(i, "reloptions"));
    t.stats_age_s = r.Double(i, "stats_age");
    t.locked = r.Bool(i, "locked");
    t.has_children = r.Bool(i, "relhassubclass");
    if (t.locked)
      cat.notes_.push_back(t.QualifiedName() +
                           " is locked ACCESS EXCLUSIVE by another session: sizes from pg_class "
                           "(as of its last VACUUM/ANALYZE), its index and constraint definitions "
                           "not read, and statements on it cannot be planned until it is released");
    if (cat.search_path_.empty()) {
      cat.search_path_ = JsonTextArray(r.Text(i, "search_path"));
      cat.block_size_ = static_cast<int>(r.Int(i, "block_size"));
    }
    by_oid[{t.oid}] = cat.tables_.size();
    cat.tables_.push_back(std::move(t));
  }
  if (cat.search_path_.empty()) {
    Rows sp;
    if (s.Query("SELECT array_to_json(current_schemas(false)), current_setting('block_size')::int",
                &sp)
            .ok() &&
        !sp.empty()) {
      cat.search_path_ = JsonTextArray(sp.Text(0, 0));
      cat.block_size_ = static_cast<int>(sp.Int(0, 1));
    }
    ++cat.queries_used_;
  }

  // 2. Columns with their statistics. MCV arrays are anyarray: their text
  //    form re-reads as text[] whatever the element type.
  std::string q2 =
      "SELECT a.attrelid, a.attname, a.attnum, format_type(a.atttypid, a.atttypmod) AS type,"
      " t.typcategory, a.attnotnull,"
      // The base type under a domain (over a domain...): followed in this
      // query, for domain columns only.
      " CASE WHEN t.typtype = 'd' THEN (WITH RECURSIVE b(oid, depth) AS ("
      "   SELECT t.typbasetype, 1 UNION ALL SELECT d.typbasetype, b.depth + 1"
      "   FROM b JOIN pg_type d ON d.oid = b.oid WHERE d.typtype = 'd' AND b.depth < 64)"
      "  SELECT format_type(b.oid, NULL) FROM b ORDER BY b.depth DESC LIMIT 1)"
      " ELSE format_type(a.atttypid, NULL) END AS base_type,"
      " st.avg_width, st.n_distinct, st.null_frac, st.correlation," +
      std::string(o.with_stats ? " array_to_json(st.most_common_vals::text::text[]) AS mcv,"
                                 " array_to_json(st.most_common_freqs) AS mcf,"
                                 " array_to_json(st.histogram_bounds::text::text[]) AS hist,"
                               : " NULL AS mcv, NULL AS mcf, NULL AS hist,") +
      " st.attname IS NOT NULL AS has_stats"
      " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
      " JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid"
      " LEFT JOIN pg_stats st ON st.schemaname = n.nspname AND st.tablename = c.relname"
      "   AND st.attname = a.attname AND NOT st.inherited"
      " WHERE a.attnum > 0 AND NOT a.attisdropped AND " +
      RelationFilter(o, "c", "n") + " ORDER BY a.attrelid, a.attnum";
  st = s.Query(q2, &r);
  ++cat.queries_used_;
  if (!st.ok()) return Status::Database("catalog (columns): " + st.message());
  for (size_t i = 0; i < r.size(); ++i) {
    auto it = by_oid.find({static_cast<uint32_t>(r.Int(i, "attrelid"))});
    if (it == by_oid.end()) continue;
    ColumnInfo c;
    c.name = r.Text(i, "attname");
    c.attnum = static_cast<int>(r.Int(i, "attnum"));
    c.type = r.Text(i, "type");
    c.base_type = r.Text(i, "base_type");
    c.type_category = r.Text(i, "typcategory").empty() ? 'U' : r.Text(i, "typcategory")[0];
    c.not_null = r.Bool(i, "attnotnull");
    c.has_stats = r.Bool(i, "has_stats");
    c.avg_width = r.Double(i, "avg_width");
    c.n_distinct = r.Double(i, "n_distinct");
    c.null_frac = r.Double(i, "null_frac");
    if (!r.IsNull(i, "correlation")) c.correlation = r.Double(i, "correlation");
    c.most_common_vals = JsonTextArray(r.Text(i, "mcv"));
    c.most_common_freqs = JsonDoubleArray(r.Text(i, "mcf"));
    c.histogram_bounds = JsonTextArray(r.Text(i, "hist"));
    cat.tables_[it->second].columns.push_back(std::move(c));
  }

  // 3. Indexes: definition, keys (with direction and operator class),
  //    INCLUDE columns, predicate, the constraint they back, size and usage.
  //    On a locked table (kLockedCte) nothing that opens it: no definition,
  //    a placeholder predicate, column keys by name (what pg_get_indexdef
  //    would print for them), and sizes from pg_class.
  std::string q3 =
      std::string(kLockedCte) +
      "SELECT i.indrelid, ic.oid, n.nspname, ic.relname, tn.nspname AS table_schema, tc.relname AS "
      "table_name,"
      " am.amname, CASE WHEN lk.oid IS NULL THEN pg_get_indexdef(i.indexrelid) END AS def,"
      " i.indnkeyatts, i.indnatts, i.indisunique, i.indisprimary, i.indisvalid, i.indisready,"
      " CASE WHEN i.indpred IS NULL THEN NULL"
      "      WHEN lk.oid IS NULL THEN pg_get_expr(i.indpred, i.indrelid, true)"
      "      ELSE " +
      QuoteLiteral(kUnreadPredicate) +
      " END AS pred,"
      " CASE WHEN lk.oid IS NULL THEN pg_relation_size(ic.oid) ELSE " +
      PagesBytes("ic.oid") +
      " END AS size,"
      " COALESCE(su.idx_scan, 0) AS idx_scan, COALESCE(su.idx_tup_read, 0) AS idx_tup_read,"
      " COALESCE(su.idx_tup_fetch, 0) AS idx_tup_fetch, con.conname, con.contype,"
      " (SELECT json_agg(json_build_array(a.attname,"
      "    CASE WHEN lk.oid IS NULL THEN pg_get_indexdef(i.indexrelid, k, true)"
      "         ELSE quote_ident(a.attname) END,"
      "    i.indoption[k - 1], oc.opcname, oc.opcdefault) ORDER BY k)"
      "  FROM generate_series(1, i.indnatts) k"
      "  LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[k - 1]"
      "  LEFT JOIN pg_opclass oc ON oc.oid = i.indclass[k - 1]) AS keys"
      " FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid"
      " JOIN pg_namespace n ON n.oid = ic.relnamespace JOIN pg_class tc ON tc.oid = i.indrelid"
      " JOIN pg_namespace tn ON tn.oid = tc.relnamespace JOIN pg_am am ON am.oid = ic.relam"
      " LEFT JOIN pg_stat_all_indexes su ON su.indexrelid = i.indexrelid"
      " LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.contype IN ('p','u','x')"
      " LEFT JOIN locked lk ON lk.oid = i.indrelid"
      " WHERE " +
      RelationFilter(o, "tc", "tn") + " ORDER BY i.indrelid, ic.relname";
  st = QueryOnce(s, q3, &r, &cat.queries_used_);
  if (!st.ok()) return Status::Database("catalog (indexes): " + st.message());
  for (size_t i = 0; i < r.size(); ++i) {
    auto it = by_oid.find({static_cast<uint32_t>(r.Int(i, "indrelid"))});
    if (it == by_oid.end()) continue;
    IndexInfo x;
    x.oid = static_cast<uint32_t>(r.Int(i, "oid"));
    x.schema = r.Text(i, "nspname");
    x.name = r.Text(i, "relname");
    x.table_schema = r.Text(i, "table_schema");
    x.table = r.Text(i, "table_name");
    x.method = r.Text(i, "amname");
    x.definition = r.Text(i, "def");
    x.predicate = r.Text(i, "pred");
    x.unique = r.Bool(i, "indisunique");
    x.primary = r.Bool(i, "indisprimary");
    x.valid = r.Bool(i, "indisvalid");
    x.ready = r.Bool(i, "indisready");
    x.size_bytes = r.Int(i, "size");
    x.idx_scan = r.Int(i, "idx_scan");
    x.idx_tup_read = r.Int(i, "idx_tup_read");
    x.idx_tup_fetch = r.Int(i, "idx_tup_fetch");
    x.constraint = r.Text(i, "conname");
    x.constraint_type = r.Text(i, "contype").empty() ? 0 : r.Text(i, "contype")[0];
    int64_t nkey = r.Int(i, "indnkeyatts");
    auto keys = nlohmann::json::parse(r.Text(i, "keys"), nullptr, false);
    if (keys.is_array()) {
      int64_t k = 0;
      for (const auto& e : keys) {
        IndexKey key;
        if (e.size() >= 5) {
          if (e[0].is_string()) key.column = e[0].get<std::string>();
          if (e[1].is_string()) key.expression = e[1].get<std::string>();
          int opt = e[2].is_number() ? e[2].get<int>() : 0;
          key.descending = opt & 1;   // INDOPTION_DESC
          key.nulls_first = opt & 2;  // INDOPTION_NULLS_FIRST
          if (e[3].is_string()) key.opclass = e[3].get<std::string>();
          key.default_opclass = e[4].is_boolean() ? e[4].get<bool>() : true;
        }
        (k++ < nkey ? x.keys : x.include).push_back(std::move(key));
      }
    }
    cat.tables_[it->second].indexes.push_back(std::move(x));
  }

  // 4. Constraints (NOT NULL lives on the column; these are the others).
  //    pg_get_constraintdef opens the constrained table: not for a locked one.
  std::string q4 =
      std::string(kLockedCte) +
      "SELECT con.conrelid, con.conname, con.contype,"
      " CASE WHEN lk.oid IS NULL THEN pg_get_constraintdef(con.oid, true) END AS def,"
      " con.convalidated, ic.relname AS index_name,"
      " (SELECT json_agg(a.attname ORDER BY k.n) FROM unnest(con.conkey) WITH ORDINALITY k(attnum, "
      "n)"
      "   JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum) AS cols,"
      " CASE WHEN con.confrelid <> 0 THEN (SELECT fn.nspname || '.' || fc.relname FROM pg_class fc"
      "   JOIN pg_namespace fn ON fn.oid = fc.relnamespace WHERE fc.oid = con.confrelid) END AS "
      "ref_table,"
      " (SELECT json_agg(a.attname ORDER BY k.n) FROM unnest(con.confkey) WITH ORDINALITY "
      "k(attnum, n)"
      "   JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum) AS ref_cols"
      " FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid"
      " JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_class ic ON ic.oid = "
      "con.conindid"
      " LEFT JOIN locked lk ON lk.oid = con.conrelid"
      " WHERE " +
      RelationFilter(o, "c", "n") + " ORDER BY con.conrelid, con.conname";
  st = QueryOnce(s, q4, &r, &cat.queries_used_);
  if (!st.ok()) return Status::Database("catalog (constraints): " + st.message());
  for (size_t i = 0; i < r.size(); ++i) {
    auto it = by_oid.find({static_cast<uint32_t>(r.Int(i, "conrelid"))});
    if (it == by_oid.end()) continue;
    ConstraintInfo c;
    c.name = r.Text(i, "conname");
    c.type = r.Text(i, "contype").empty() ? 0 : r.Text(i, "contype")[0];
    c.definition = r.Text(i, "def");
    c.validated = r.Bool(i, "convalidated", true);
    c.index = r.Text(i, "index_name");
    c.columns = JsonTextArray(r.Text(i, "cols"));
    c.referenced_table = r.Text(i, "ref_table");
    c.referenced_columns = JsonTextArray(r.Text(i, "ref_cols"));
    cat.tables_[it->second].constraints.push_back(std::move(c));
  }

  *out = std::move(cat);
  return Status::Ok();
}

}  // namespace pgvise
