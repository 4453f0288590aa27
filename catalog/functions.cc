#include "catalog/functions.h"

namespace pgvise {

std::string TextArrayLiteral(const std::set<std::string>& names) {
  std::string out = "{";
  for (const auto& n : names) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (char ch : n) {
      if (ch == '"' || ch == '\\') out += '\\';
      out += ch;
    }
    out += '"';
  }
  return out + "}";
}

Status LoadFunctions(Session& s, const std::set<std::string>& names, FunctionCatalog* out,
                     int* queries) {
  if (names.empty()) return Status::Ok();
  // PostgreSQL 14+ keeps a SQL-standard body (RETURN / BEGIN ATOMIC) parsed,
  // with an empty prosrc; pg_get_function_sqlbody prints it.
  const std::string body = s.server_version() >= 140000 ? "CASE WHEN p.prosrc <> '' THEN p.prosrc "
                                                          "ELSE pg_get_function_sqlbody(p.oid) END"
                                                        : "p.prosrc";
  Rows rows;
  if (queries) ++*queries;
  Status st = s.Query(
      "SELECT n.nspname, p.proname, p.provolatile, pg_get_function_identity_arguments(p.oid), "
      "p.proargtypes::text, p.pronargs, p.pronargdefaults, p.provariadic <> 0, "
      "coalesce(array_position(current_schemas(true), n.nspname), 0), "
      // inline_function's preconditions; the body is read only for those.
      "l.lanname = 'sql' AND p.prokind = 'f' AND NOT p.prosecdef AND NOT p.proretset "
      "AND NOT p.proisstrict AND p.proconfig IS NULL AND p.prorettype <> 'record'::regtype, "
      "CASE WHEN l.lanname = 'sql' THEN " +
          body +
          " END, p.prokind, p.proretset "
          "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
          "JOIN pg_language l ON l.oid = p.prolang "
          "WHERE p.proname = ANY($1::text[])",
      {TextArrayLiteral(names)}, &rows);
  if (!st.ok()) return st;
  for (size_t i = 0; i < rows.size(); ++i) {
    FunctionInfo fn;
    fn.schema = rows.Text(i, 0);
    fn.name = rows.Text(i, 1);
    fn.volatility = rows.Text(i, 2).empty() ? 'v' : rows.Text(i, 2)[0];
    fn.identity_args = rows.Text(i, 3);
    fn.arg_types = rows.Text(i, 4);
    fn.nargs = static_cast<int>(rows.Int(i, 5));
    fn.nargdefaults = static_cast<int>(rows.Int(i, 6));
    fn.variadic = rows.Bool(i, 7);
    fn.path_position = static_cast<int>(rows.Int(i, 8));
    fn.inlinable_sql = rows.Bool(i, 9);
    if (fn.inlinable_sql) fn.body = rows.Text(i, 10);
    fn.kind = rows.Text(i, 11).empty() ? 'f' : rows.Text(i, 11)[0];
    fn.returns_set = rows.Bool(i, 12);
    out->by_name.emplace(fn.name, std::move(fn));
  }
  return Status::Ok();
}

Status LoadTypes(Session& s, const std::set<std::string>& names, TypeCatalog* out, int* queries) {
  if (names.empty()) return Status::Ok();
  Rows rows;
  if (queries) ++*queries;
  Status st = s.Query(
      "WITH RECURSIVE chain(top, cur, depth) AS ("
      " SELECT t.oid, t.oid, 0 FROM pg_type t"
      " WHERE t.typname = ANY($1::text[]) AND t.typtype = 'd'"
      " UNION ALL"
      " SELECT c.top, d.typbasetype, c.depth + 1 FROM chain c JOIN pg_type d ON d.oid = c.cur"
      " WHERE d.typtype = 'd' AND c.depth < 64), "
      "doms AS (SELECT c.top, c.depth, d.* FROM chain c JOIN pg_type d ON d.oid = c.cur"
      " WHERE d.typtype = 'd') "
      "SELECT n.nspname, t.typname, t.typtype, "
      "coalesce(array_position(current_schemas(true), n.nspname), 0), "
      "(SELECT format_type(x.typbasetype, x.typtypmod) FROM doms x WHERE x.top = t.oid"
      " ORDER BY x.depth DESC LIMIT 1), "
      "(SELECT string_agg(s.what, '; ' ORDER BY s.depth, s.what) FROM ("
      "  SELECT x.depth, format_type(x.oid, NULL) || ': NOT NULL' AS what FROM doms x"
      "  WHERE x.top = t.oid AND x.typnotnull"
      "  UNION ALL"
      "  SELECT x.depth, format_type(x.oid, NULL) || ': ' || pg_get_constraintdef(k.oid)"
      "  FROM doms x JOIN pg_constraint k ON k.contypid = x.oid"
      "  WHERE x.top = t.oid AND k.contype = 'c') s), "
      "EXISTS (SELECT 1 FROM doms x WHERE x.top = t.oid AND x.typdefault IS NOT NULL) "
      "FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
      "WHERE t.typname = ANY($1::text[])",
      {TextArrayLiteral(names)}, &rows);
  if (!st.ok()) return st;
  for (size_t i = 0; i < rows.size(); ++i) {
    TypeInfo t;
    t.schema = rows.Text(i, 0);
    t.name = rows.Text(i, 1);
    t.kind = rows.Text(i, 2).empty() ? 'b' : rows.Text(i, 2)[0];
    t.path_position = static_cast<int>(rows.Int(i, 3));
    t.base = rows.Text(i, 4);
    t.constraints = rows.Text(i, 5);
    t.has_default = rows.Bool(i, 6);
    out->by_name.emplace(t.name, std::move(t));
  }
  return Status::Ok();
}

}  // namespace pgvise
