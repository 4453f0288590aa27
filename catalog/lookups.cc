#include "catalog/lookups.h"

#include "catalog/functions.h"

namespace pgvise {

Status LoadQualConstants(Session& s, std::vector<QualConstant>* out) {
  Rows r;
  // Constants of simple `column op constant` quals, most frequent first.
  Status st = s.Query(
      "SELECT n.nspname, c.relname, a.attname, o.oprname, q.constvalue,"
      " sum(q.occurences) AS occ,"
      " CASE WHEN sum(q.nbfiltered + q.execution_count) > 0"
      "  THEN 1 - sum(q.nbfiltered)::float8 / sum(q.nbfiltered + q.execution_count) END AS sel"
      " FROM pg_qualstats() q JOIN pg_class c ON c.oid = q.lrelid"
      " JOIN pg_namespace n ON n.oid = c.relnamespace"
      " JOIN pg_attribute a ON a.attrelid = q.lrelid AND a.attnum = q.lattnum"
      " JOIN pg_operator o ON o.oid = q.opno"
      " WHERE q.constvalue IS NOT NULL AND q.dbid = (SELECT oid FROM pg_database WHERE datname = "
      "current_database())"
      " GROUP BY 1, 2, 3, 4, 5 ORDER BY occ DESC LIMIT 500",
      &r);
  if (!st.ok()) return st;
  for (size_t i = 0; i < r.size(); ++i) {
    QualConstant q;
    q.schema = r.Text(i, "nspname");
    q.table = r.Text(i, "relname");
    q.column = r.Text(i, "attname");
    q.op = r.Text(i, "oprname");
    q.value = r.Text(i, "constvalue");
    // pg_qualstats prints constants as typed literals: 'open'::text.
    if (size_t cast = q.value.rfind("::");
        cast != std::string::npos && cast > 0 && q.value[cast - 1] == '\'')
      q.value = q.value.substr(0, cast);
    q.occurrences = r.Double(i, "occ");
    q.selectivity = r.IsNull(i, "sel") ? -1 : r.Double(i, "sel");
    out->push_back(std::move(q));
  }
  return Status::Ok();
}

Status InvalidIndexCopies(Session& s, const std::string& index,
                          std::map<std::string, std::string>* out) {
  Rows r;
  Status st = s.Query(
      "SELECT c.oid::text AS oid, quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name "
      "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
      "JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE i.indrelid = (SELECT indrelid FROM pg_index WHERE indexrelid = $1::regclass) "
      "AND i.indexrelid <> $1::regclass AND NOT i.indisvalid "
      "AND c.relname ~ '_ccnew[0-9]*$'",
      {index}, &r);
  if (!st.ok()) return st;
  out->clear();
  for (size_t i = 0; i < r.size(); ++i) (*out)[r.Text(i, "oid")] = r.Text(i, "name");
  return Status::Ok();
}

Status ExistingRelationNames(Session& s, const std::set<std::string>& qualified,
                             std::set<std::string>* existing) {
  existing->clear();
  if (qualified.empty()) return Status::Ok();
  Rows r;
  Status st = s.Query(
      "SELECT n.nspname || '.' || c.relname FROM pg_class c "
      "JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE n.nspname || '.' || c.relname = ANY($1::text[])",
      {TextArrayLiteral(qualified)}, &r);
  if (!st.ok()) return st;
  for (size_t i = 0; i < r.size(); ++i) existing->insert(r.Text(i, 0));
  return Status::Ok();
}

Status HistogramSpanSeconds(Session& s, const std::string& schema, const std::string& table,
                            const std::string& column, double* seconds) {
  *seconds = -1;
  Rows r;
  Status st = s.Query(
      "SELECT extract(epoch FROM h[array_upper(h, 1)] - h[1])::float8 FROM (SELECT "
      "histogram_bounds::text::timestamp[] AS h FROM pg_stats WHERE schemaname = $1 AND "
      "tablename = $2 AND attname = $3 AND histogram_bounds IS NOT NULL) s",
      {schema, table, column}, &r);
  if (!st.ok()) return st;
  if (r.size() == 1 && !r.IsNull(0, 0)) *seconds = r.Double(0, 0);
  return Status::Ok();
}

Status RelationRowEstimate(Session& s, const std::string& relation, double* rows) {
  Rows r;
  Status st =
      s.Query("SELECT greatest(reltuples, 1)::float8 FROM pg_class WHERE oid = $1::regclass",
              {relation}, &r);
  if (!st.ok()) return st;
  if (r.empty()) return Status::NotFound("no pg_class row for " + relation);
  *rows = r.Double(0, 0);
  return Status::Ok();
}

Status ValidIndexDefinitions(Session& s, const std::string& relation,
                             std::vector<std::string>* defs) {
  defs->clear();
  Rows r;
  Status st = s.Query(
      "SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = $1::regclass AND "
      "indisvalid",
      {relation}, &r);
  if (!st.ok()) return st;
  for (size_t i = 0; i < r.size(); ++i) defs->push_back(r.Text(i, 0));
  return Status::Ok();
}

Status InRecovery(Session& s, bool* in_recovery) {
  Rows r;
  Status st = s.Query("SELECT pg_is_in_recovery()", {}, &r);
  if (!st.ok()) return st;
  *in_recovery = !r.empty() && r.Bool(0, 0);
  return Status::Ok();
}

Status LackingTablePrivileges(Session& s, const std::set<std::string>& wanted,
                              std::set<std::string>* lacking) {
  lacking->clear();
  if (wanted.empty()) return Status::Ok();
  Rows r;
  Status st = s.Query(
      "SELECT w FROM unnest($1::text[]) AS w, "
      "LATERAL (SELECT split_part(w, ':', 1) AS priv, "
      "to_regclass(substr(w, strpos(w, ':') + 1)) AS rel) x "
      "WHERE rel IS NOT NULL AND NOT has_table_privilege(rel, priv)",
      {TextArrayLiteral(wanted)}, &r);
  if (!st.ok()) return st;
  for (size_t i = 0; i < r.size(); ++i) lacking->insert(r.Text(i, 0));
  return Status::Ok();
}

}  // namespace pgvise
