#include "catalog/table_dependents.h"

#include <nlohmann/json.hpp>

namespace pgvise {

namespace {

std::vector<std::string> Strings(const std::string& text) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_array()) return out;
  for (const auto& v : j)
    if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

}  // namespace

Status ReadTableDependents(Session& s, const std::string& schema, const std::string& table,
                           TableDependents* out) {
  *out = {};
  // One round trip: each list as a JSON array of text. Objects that depend
  // on the table through pg_depend: views via their rewrite rule, serial
  // sequences via the 'a' (auto) dependency on a column.
  static const char* kSql = R"sql(
WITH t AS (
  SELECT c.oid, c.relrowsecurity, pg_get_userbyid(c.relowner) AS owner
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = $1 AND c.relname = $2)
SELECT t.relrowsecurity, t.owner,
  (SELECT coalesce(json_agg(json_build_array(fc.conrelid::regclass::text, fc.conname,
                                             pg_get_constraintdef(fc.oid))), '[]')
     FROM pg_constraint fc WHERE fc.contype = 'f' AND fc.confrelid = t.oid
       AND fc.conrelid <> t.oid) AS fks,
  (SELECT coalesce(json_agg(DISTINCT v.oid::regclass::text), '[]')
     FROM pg_depend d JOIN pg_rewrite rw ON rw.oid = d.objid
     JOIN pg_class v ON v.oid = rw.ev_class
     WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = t.oid AND v.oid <> t.oid) AS views,
  (SELECT coalesce(json_agg(json_build_array(a.attname, sq.oid::regclass::text)), '[]')
     FROM pg_depend d JOIN pg_class sq ON sq.oid = d.objid AND sq.relkind = 'S'
     JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
     WHERE d.classid = 'pg_class'::regclass AND d.refobjid = t.oid AND d.deptype = 'a')
     AS sequences,
  (SELECT coalesce(json_agg(a.attname), '[]') FROM pg_attribute a
     WHERE a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
       AND a.attidentity <> '') AS identity,
  (SELECT coalesce(json_agg(a.attname), '[]') FROM pg_attribute a
     WHERE a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
       AND a.attgenerated <> '') AS generated,
  (SELECT coalesce(json_agg(tg.tgname), '[]') FROM pg_trigger tg
     WHERE tg.tgrelid = t.oid AND NOT tg.tgisinternal) AS triggers,
  (SELECT coalesce(json_agg(format('GRANT %s ON TABLE %%s TO %s', g.privilege_type,
                                   CASE WHEN g.grantee = 'PUBLIC' THEN 'PUBLIC'
                                        ELSE quote_ident(g.grantee) END)), '[]')
     FROM information_schema.role_table_grants g
     WHERE g.table_schema = $1 AND g.table_name = $2 AND g.grantee <> t.owner) AS grants,
  EXISTS (SELECT 1 FROM pg_publication_rel pr WHERE pr.prrelid = t.oid)
    OR EXISTS (SELECT 1 FROM pg_publication p WHERE p.puballtables) AS published
FROM t)sql";
  Rows r;
  Status st = s.Query(kSql, {schema, table}, &r);
  if (!st.ok()) return st;
  if (r.empty()) return Status::Ok();
  out->row_security = r.Bool(0, "relrowsecurity");
  out->owner = r.Text(0, "owner");
  out->in_publication = r.Bool(0, "published");
  auto fks = nlohmann::json::parse(r.Text(0, "fks"), nullptr, false);
  if (fks.is_array())
    for (const auto& f : fks)
      if (f.is_array() && f.size() == 3)
        out->referencing_fks.push_back(
            {f[0].get<std::string>(), f[1].get<std::string>(), f[2].get<std::string>()});
  auto seqs = nlohmann::json::parse(r.Text(0, "sequences"), nullptr, false);
  if (seqs.is_array())
    for (const auto& q : seqs)
      if (q.is_array() && q.size() == 2)
        out->owned_sequences.push_back({q[0].get<std::string>(), q[1].get<std::string>()});
  out->views = Strings(r.Text(0, "views"));
  out->identity_columns = Strings(r.Text(0, "identity"));
  out->generated_columns = Strings(r.Text(0, "generated"));
  out->triggers = Strings(r.Text(0, "triggers"));
  out->grants = Strings(r.Text(0, "grants"));
  return Status::Ok();
}

Status ReadPartitionSettings(Session& s, PartitionSettings* out) {
  *out = {};
  Rows r;
  Status st = s.Query(
      "SELECT pg_size_bytes(current_setting('shared_buffers')) AS sb, "
      "current_setting('max_locks_per_transaction')::int AS locks, "
      "current_setting('max_connections')::int AS conns, "
      "(SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
      " WHERE e.extname = 'pg_partman') AS partman, "
      "EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_partman') AS available",
      &r);
  if (!st.ok()) return st;
  if (r.empty()) return Status::Ok();
  out->shared_buffers_bytes = r.Int(0, "sb", out->shared_buffers_bytes);
  out->max_locks_per_transaction = static_cast<int>(r.Int(0, "locks", 64));
  out->max_connections = static_cast<int>(r.Int(0, "conns", 100));
  out->pg_partman = !r.IsNull(0, "partman");
  out->partman_schema = r.Text(0, "partman");
  out->partman_available = r.Bool(0, "available");
  return Status::Ok();
}

}  // namespace pgvise
