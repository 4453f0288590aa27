#include "catalog/ext_stats.h"

#include <algorithm>

namespace pgvise {

bool ExtStatInfo::Covers(const std::vector<std::string>& cols, bool need_ndistinct,
                         bool need_dependencies, bool need_mcv) const {
  for (const auto& c : cols)
    if (std::find(columns.begin(), columns.end(), c) == columns.end()) return false;
  return (!need_ndistinct || ndistinct) && (!need_dependencies || dependencies) &&
         (!need_mcv || mcv);
}

Status LoadExtendedStatistics(Session& s, std::vector<ExtStatInfo>* out) {
  out->clear();
  // stxkeys is an int2vector: unnest it with its ordinality and name the
  // columns from pg_attribute. stxexprs exists from PG14 on.
  const bool exprs = s.server_version() >= 140000;
  const std::string sql = std::string(R"sql(
    SELECT sn.nspname AS schema, x.stxname AS name, tn.nspname AS table_schema,
           c.relname AS table_name,
           coalesce((SELECT array_to_string(array_agg(a.attname ORDER BY a.attnum), E'\x1f')
                       FROM pg_attribute a
                      WHERE a.attrelid = x.stxrelid AND a.attnum = ANY (x.stxkeys::int2[])), '')
             AS columns,
           )sql") + (exprs ? "x.stxexprs IS NOT NULL" : "false") +
                          R"sql( AS has_expressions,
           'd' = ANY (x.stxkind) AS nd, 'f' = ANY (x.stxkind) AS dep, 'm' = ANY (x.stxkind) AS mcv,
           EXISTS (SELECT 1 FROM pg_statistic_ext_data d WHERE d.stxoid = x.oid) AS built
      FROM pg_statistic_ext x
      JOIN pg_namespace sn ON sn.oid = x.stxnamespace
      JOIN pg_class c ON c.oid = x.stxrelid
      JOIN pg_namespace tn ON tn.oid = c.relnamespace
     WHERE tn.nspname NOT IN ('pg_catalog', 'information_schema')
     ORDER BY 1, 2)sql";
  Rows r;
  Status st = s.Query(sql, &r);
  if (!st.ok()) return st;
  for (size_t i = 0; i < r.size(); ++i) {
    ExtStatInfo e;
    e.schema = r.Text(i, "schema");
    e.name = r.Text(i, "name");
    e.table_schema = r.Text(i, "table_schema");
    e.table = r.Text(i, "table_name");
    const std::string& cols = r.Text(i, "columns");
    size_t start = 0;
    while (!cols.empty() && start <= cols.size()) {
      size_t end = cols.find('\x1f', start);
      if (end == std::string::npos) end = cols.size();
      e.columns.push_back(cols.substr(start, end - start));
      start = end + 1;
    }
    e.has_expressions = r.Bool(i, "has_expressions");
    e.ndistinct = r.Bool(i, "nd");
    e.dependencies = r.Bool(i, "dep");
    e.mcv = r.Bool(i, "mcv");
    e.built = r.Bool(i, "built");
    out->push_back(std::move(e));
  }
  return Status::Ok();
}

}  // namespace pgvise
