// HealthSnapshot from a JSON fixture (SnapshotFromJson): the rule examples
// and unit tests describe a database in the snapshot's own field names
// instead of building it on a server. Each struct lists its fields once; an
// unknown key is an error naming its JSON path, so a typo in a fixture fails
// loudly instead of silently testing nothing. The live reader is snapshot.cc.
#include <algorithm>
#include <functional>
#include <limits>
#include <type_traits>

#include "maintenance/snapshot.h"

namespace pgvise {

namespace {

using json = nlohmann::json;

struct Reader {
  const json& j;
  std::string path;
  std::vector<std::string> known;
  Status status;

  template <typename T>
  void Field(const char* key, T* v) {
    known.push_back(key);
    if (!status.ok() || !j.contains(key)) return;
    try {
      const json& x = j.at(key);
      if constexpr (std::is_same_v<T, char>) {
        *v = x.get<std::string>().empty() ? 'i' : x.get<std::string>()[0];
      } else if constexpr (std::is_same_v<T, std::map<std::string, std::string>>) {
        for (auto it = x.begin(); it != x.end(); ++it)
          (*v)[it.key()] = it->is_string() ? it->get<std::string>() : it->dump();
      } else {
        *v = x.get<T>();
      }
    } catch (const json::exception& e) {
      status = Status::InvalidInput(path + "." + key + ": " + e.what());
    }
  }
  Status Done() const {
    if (!status.ok()) return status;
    if (!j.is_object()) return Status::InvalidInput(path + ": expected an object");
    for (auto it = j.begin(); it != j.end(); ++it)
      if (std::find(known.begin(), known.end(), it.key()) == known.end())
        return Status::InvalidInput(path + "." + it.key() + ": unknown field");
    return Status::Ok();
  }
};

Status Read(const json& j, const std::string& path, ColumnHealth* c) {
  Reader r{j, path, {}, {}};
  r.Field("attnum", &c->attnum);
  r.Field("name", &c->name);
  r.Field("type", &c->type);
  r.Field("typlen", &c->typlen);
  r.Field("typalign", &c->typalign);
  r.Field("notnull", &c->notnull);
  r.Field("dropped", &c->dropped);
  r.Field("has_stats", &c->has_stats);
  r.Field("avg_width", &c->avg_width);
  r.Field("null_frac", &c->null_frac);
  r.Field("n_distinct", &c->n_distinct);
  if (j.contains("avg_width") && !j.contains("has_stats")) c->has_stats = true;
  return r.Done();
}

template <typename T>
Status ReadList(const json& j, const std::string& path, std::vector<T>* out,
                const std::function<Status(const json&, const std::string&, T*)>& one) {
  if (!j.is_array()) return Status::InvalidInput(path + ": expected a list");
  for (size_t i = 0; i < j.size(); ++i) {
    T v;
    Status st = one(j[i], path + "[" + std::to_string(i) + "]", &v);
    if (!st.ok()) return st;
    out->push_back(std::move(v));
  }
  return Status::Ok();
}

Status Read(const json& j, const std::string& path, TableHealth* t) {
  Reader r{j, path, {}, {}};
  r.Field("oid", &t->oid);
  r.Field("schema", &t->schema);
  r.Field("name", &t->name);
  r.Field("relkind", &t->relkind);
  r.Field("relpages", &t->relpages);
  r.Field("relallvisible", &t->relallvisible);
  r.Field("reltuples", &t->reltuples);
  r.Field("heap_bytes", &t->heap_bytes);
  r.Field("toast_bytes", &t->toast_bytes);
  r.Field("locked", &t->locked);
  r.Field("index_bytes", &t->index_bytes);
  r.Field("reloptions", &t->reloptions);
  r.Field("xid_age", &t->xid_age);
  r.Field("mxid_age", &t->mxid_age);
  r.Field("has_stats", &t->has_stats);
  r.Field("n_live_tup", &t->n_live_tup);
  r.Field("n_dead_tup", &t->n_dead_tup);
  r.Field("n_tup_ins", &t->n_tup_ins);
  r.Field("n_tup_upd", &t->n_tup_upd);
  r.Field("n_tup_hot_upd", &t->n_tup_hot_upd);
  r.Field("n_tup_del", &t->n_tup_del);
  r.Field("n_mod_since_analyze", &t->n_mod_since_analyze);
  r.Field("n_ins_since_vacuum", &t->n_ins_since_vacuum);
  r.Field("vacuum_count", &t->vacuum_count);
  r.Field("autovacuum_count", &t->autovacuum_count);
  r.Field("analyze_count", &t->analyze_count);
  r.Field("autoanalyze_count", &t->autoanalyze_count);
  r.Field("since_vacuum_s", &t->since_vacuum_s);
  r.Field("since_autovacuum_s", &t->since_autovacuum_s);
  r.Field("since_analyze_s", &t->since_analyze_s);
  r.Field("since_autoanalyze_s", &t->since_autoanalyze_s);
  r.Field("heap_blks_read", &t->heap_blks_read);
  r.Field("heap_blks_hit", &t->heap_blks_hit);
  r.Field("toast_live", &t->toast_live);
  r.Field("toast_dead", &t->toast_dead);
  r.known.push_back("columns");
  Status st = r.Done();
  if (!st.ok()) return st;
  if (t->schema.empty()) t->schema = "public";
  if (j.contains("n_live_tup") || j.contains("n_tup_ins") || j.contains("n_dead_tup"))
    if (!j.contains("has_stats")) t->has_stats = true;
  if (j.contains("columns"))
    return ReadList<ColumnHealth>(
        j["columns"], path + ".columns", &t->columns,
        [](const json& x, const std::string& p, ColumnHealth* c) { return Read(x, p, c); });
  return Status::Ok();
}

Status Read(const json& j, const std::string& path, IndexHealth* x) {
  Reader r{j, path, {}, {}};
  r.Field("oid", &x->oid);
  r.Field("table_oid", &x->table_oid);
  r.Field("schema", &x->schema);
  r.Field("name", &x->name);
  r.Field("table", &x->table);
  r.Field("am", &x->am);
  r.Field("valid", &x->valid);
  r.Field("ready", &x->ready);
  r.Field("building", &x->building);
  r.Field("unique", &x->unique);
  r.Field("primary", &x->primary);
  r.Field("exclusion", &x->exclusion);
  r.Field("backs_constraint", &x->backs_constraint);
  r.Field("partial", &x->partial);
  r.Field("has_expressions", &x->has_expressions);
  r.Field("nkeyatts", &x->nkeyatts);
  r.Field("natts", &x->natts);
  r.Field("attnums", &x->attnums);
  r.Field("relpages", &x->relpages);
  r.Field("reltuples", &x->reltuples);
  r.Field("bytes", &x->bytes);
  r.Field("reloptions", &x->reloptions);
  r.Field("idx_scan", &x->idx_scan);
  r.Field("idx_tup_read", &x->idx_tup_read);
  r.Field("idx_tup_fetch", &x->idx_tup_fetch);
  r.Field("idx_blks_read", &x->idx_blks_read);
  r.Field("idx_blks_hit", &x->idx_blks_hit);
  r.Field("definition", &x->definition);
  r.known.push_back("columns");
  Status st = r.Done();
  if (!st.ok()) return st;
  if (x->schema.empty()) x->schema = "public";
  if (x->am.empty()) x->am = "btree";
  if (x->natts == 0) x->natts = static_cast<int>(x->attnums.size());
  if (x->nkeyatts == 0) x->nkeyatts = x->natts;
  if (j.contains("columns"))
    return ReadList<ColumnHealth>(
        j["columns"], path + ".columns", &x->columns,
        [](const json& y, const std::string& p, ColumnHealth* c) { return Read(y, p, c); });
  return Status::Ok();
}

Status Read(const json& j, const std::string& path, BackendHealth* b) {
  Reader r{j, path, {}, {}};
  r.Field("pid", &b->pid);
  r.Field("database", &b->database);
  r.Field("user", &b->user);
  r.Field("application", &b->application);
  r.Field("backend_type", &b->backend_type);
  r.Field("state", &b->state);
  r.Field("xmin_age", &b->xmin_age);
  r.Field("xid_age", &b->xid_age);
  r.Field("xact_age_s", &b->xact_age_s);
  r.Field("state_age_s", &b->state_age_s);
  r.Field("query_age_s", &b->query_age_s);
  r.Field("wait_event_type", &b->wait_event_type);
  r.Field("wait_event", &b->wait_event);
  r.Field("query", &b->query);
  r.Field("blocked_by", &b->blocked_by);
  r.Field("waiting_for", &b->waiting_for);
  r.Field("waiting_mode", &b->waiting_mode);
  r.Field("locks_held", &b->locks_held);
  r.Field("strongest_lock", &b->strongest_lock);
  r.Field("vacuum_blocked_on", &b->vacuum_blocked_on);
  if (b->backend_type.empty()) b->backend_type = "client backend";
  return r.Done();
}

Status Read(const json& j, const std::string& path, PreparedXactHealth* p) {
  Reader r{j, path, {}, {}};
  r.Field("gid", &p->gid);
  r.Field("database", &p->database);
  r.Field("owner", &p->owner);
  r.Field("xid_age", &p->xid_age);
  r.Field("age_s", &p->age_s);
  return r.Done();
}

Status Read(const json& j, const std::string& path, SlotHealth* s) {
  Reader r{j, path, {}, {}};
  r.Field("name", &s->name);
  r.Field("type", &s->type);
  r.Field("database", &s->database);
  r.Field("active", &s->active);
  r.Field("xmin_age", &s->xmin_age);
  r.Field("catalog_xmin_age", &s->catalog_xmin_age);
  r.Field("retained_wal_bytes", &s->retained_wal_bytes);
  return r.Done();
}

Status Read(const json& j, const std::string& path, DatabaseHealth* d) {
  Reader r{j, path, {}, {}};
  r.Field("name", &d->name);
  r.Field("xid_age", &d->xid_age);
  r.Field("mxid_age", &d->mxid_age);
  r.Field("allow_connections", &d->allow_connections);
  return r.Done();
}

Status Read(const json& j, const std::string& path, SequenceHealth* q) {
  Reader r{j, path, {}, {}};
  r.Field("schema", &q->schema);
  r.Field("name", &q->name);
  r.Field("data_type", &q->data_type);
  r.Field("readable", &q->readable);
  r.Field("called", &q->called);
  r.Field("last_value", &q->last_value);
  r.Field("min_value", &q->min_value);
  r.Field("max_value", &q->max_value);
  r.Field("increment", &q->increment);
  r.Field("cycle", &q->cycle);
  r.Field("column_table", &q->column_table);
  r.Field("column_table_sql", &q->column_table_sql);
  r.Field("column_name", &q->column_name);
  r.Field("column_type", &q->column_type);
  if (q->schema.empty()) q->schema = "public";
  if (j.contains("last_value") && !j.contains("called")) q->called = true;
  if (q->max_value == 0) {
    q->max_value = q->data_type == "smallint"  ? 32767
                   : q->data_type == "integer" ? 2147483647
                                               : std::numeric_limits<int64_t>::max();
  }
  return r.Done();
}

Status Read(const json& j, const std::string& path, PartitionInfo* p) {
  Reader r{j, path, {}, {}};
  r.Field("oid", &p->oid);
  r.Field("schema", &p->schema);
  r.Field("name", &p->name);
  r.Field("relkind", &p->relkind);
  r.Field("is_default", &p->is_default);
  r.Field("locked", &p->locked);
  r.Field("bound", &p->bound);
  r.Field("lower", &p->lower);
  r.Field("upper", &p->upper);
  r.Field("lower_num", &p->lower_num);
  r.Field("upper_num", &p->upper_num);
  r.Field("span", &p->span);
  r.Field("relpages", &p->relpages);
  r.Field("reltuples", &p->reltuples);
  if (p->schema.empty()) p->schema = "public";
  p->has_numbers = j.contains("lower_num") && j.contains("upper_num");
  if (p->is_default && p->bound.empty()) p->bound = "DEFAULT";
  return r.Done();
}

Status Read(const json& j, const std::string& path, PartitionedTable* t) {
  Reader r{j, path, {}, {}};
  r.Field("oid", &t->oid);
  r.Field("schema", &t->schema);
  r.Field("name", &t->name);
  r.Field("strategy", &t->strategy);
  r.Field("key_columns", &t->key_columns);
  r.Field("key_type", &t->key_type);
  r.Field("is_partition", &t->is_partition);
  r.Field("locked", &t->locked);
  r.Field("reltuples", &t->reltuples);
  r.Field("since_analyze_s", &t->since_analyze_s);
  r.known.push_back("partitions");
  Status st = r.Done();
  if (!st.ok()) return st;
  if (t->schema.empty()) t->schema = "public";
  if (j.contains("partitions"))
    return ReadList<PartitionInfo>(
        j["partitions"], path + ".partitions", &t->partitions,
        [](const json& x, const std::string& p, PartitionInfo* v) { return Read(x, p, v); });
  return Status::Ok();
}

Status Read(const json& j, const std::string& path, PartmanConfig* c) {
  Reader r{j, path, {}, {}};
  r.Field("parent_table", &c->parent_table);
  r.Field("control", &c->control);
  r.Field("partition_interval", &c->partition_interval);
  r.Field("premake", &c->premake);
  r.Field("retention", &c->retention);
  r.Field("retention_num", &c->retention_num);
  r.Field("retention_keep_table", &c->retention_keep_table);
  r.Field("automatic_maintenance", &c->automatic_maintenance);
  return r.Done();
}

}  // namespace

Status SnapshotFromJson(const json& j, HealthSnapshot* out) {
  HealthSnapshot snap;
  Reader r{j, "snapshot", {}, {}};
  r.Field("server_version", &snap.server_version);
  r.Field("database", &snap.database);
  r.Field("stats_age_s", &snap.stats_age_s);
  r.Field("xact_total", &snap.xact_total);
  r.Field("in_recovery", &snap.in_recovery);
  r.Field("has_pgstattuple", &snap.has_pgstattuple);
  r.Field("settings", &snap.settings);
  r.Field("now_epoch", &snap.partitions.now_epoch);
  r.Field("has_partman", &snap.partitions.has_partman);
  r.Field("partman_schema", &snap.partitions.partman_schema);
  for (const char* k : {"tables", "indexes", "backends", "prepared", "slots", "databases",
                        "sequences", "partitioned", "partman"})
    r.known.push_back(k);
  Status st = r.Done();
  if (!st.ok()) return st;
  auto list = [&](const char* key, auto* vec) -> Status {
    using T = typename std::remove_pointer_t<decltype(vec)>::value_type;
    if (!j.contains(key)) return Status::Ok();
    return ReadList<T>(j[key], std::string("snapshot.") + key, vec,
                       [](const json& x, const std::string& p, T* v) { return Read(x, p, v); });
  };
  if (!(st = list("tables", &snap.tables)).ok()) return st;
  if (!(st = list("indexes", &snap.indexes)).ok()) return st;
  if (!(st = list("backends", &snap.backends)).ok()) return st;
  if (!(st = list("prepared", &snap.prepared)).ok()) return st;
  if (!(st = list("slots", &snap.slots)).ok()) return st;
  if (!(st = list("databases", &snap.databases)).ok()) return st;
  if (!(st = list("sequences", &snap.sequences)).ok()) return st;
  if (!(st = list("partitioned", &snap.partitions.tables)).ok()) return st;
  if (!(st = list("partman", &snap.partitions.partman)).ok()) return st;
  if (!snap.partitions.partman.empty() && snap.partitions.partman_schema.empty())
    snap.partitions.partman_schema = "partman";
  // Fixture conveniences: oids and names default so examples stay short.
  uint32_t next = 16384;
  for (auto& t : snap.tables)
    if (t.oid == 0) t.oid = next++;
  for (auto& x : snap.indexes) {
    if (x.oid == 0) x.oid = next++;
    if (x.table_oid == 0 && !x.table.empty())
      for (const auto& t : snap.tables)
        if (t.name == x.table) x.table_oid = t.oid;
    if (TableHealth* t = const_cast<TableHealth*>(snap.Table(x.table_oid))) {
      t->index_bytes += x.bytes;
      if (x.table.empty()) x.table = t->name;
    }
  }
  // Partitions are tables too: a fixture partition named like a fixture
  // table takes its oid, so its size and rows come from there.
  for (auto& pt : snap.partitions.tables) {
    if (pt.oid == 0) pt.oid = next++;
    for (auto& p : pt.partitions) {
      for (const auto& t : snap.tables)
        if (p.oid == 0 && t.name == p.name && t.schema == p.schema) p.oid = t.oid;
      if (p.oid == 0) p.oid = next++;
    }
  }
  if (!snap.partitions.partman.empty()) snap.partitions.has_partman = true;
  std::sort(snap.tables.begin(), snap.tables.end(),
            [](const TableHealth& a, const TableHealth& b) { return a.oid < b.oid; });
  *out = std::move(snap);
  return Status::Ok();
}

}  // namespace pgvise
