// The SQL review driver: runs the migration and query handler tables over a
// file's statements in order, carrying the file state each rule needs, and
// builds findings with exact locations. The rules themselves are in
// sql_rule_migration.cc and sql_rule_query.cc.
#include "analyzer/review/sql_rules.h"

#include <pg_query.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

#include "analyzer/review/function_volatility.h"
#include "analyzer/review/sql_rule_tree.h"
#include "analyzer/review/sql_rules_internal.h"
#include "analyzer/review/user_types.h"
#include "catalog/catalog.h"
#include "core/session.h"

namespace pgvise {

namespace sqlrules {

namespace {

std::string Bare(const std::string& name) {
  size_t dot = name.rfind('.');
  return dot == std::string::npos ? name : name.substr(dot + 1);
}

// SET TIME ZONE values whose UTC offset is zero all year: PostgreSQL skips
// the timestamp <-> timestamptz rewrite only when the session's offset is 0.
bool IsUtcZone(const std::string& value) {
  std::string v;
  for (char ch : value)
    v.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
  if (v.rfind("etc/", 0) == 0) v = v.substr(4);
  static const char* const kUtc[] = {"utc",       "gmt",  "uct",   "zulu",  "universal",
                                     "greenwich", "gmt0", "gmt+0", "gmt-0", "0",
                                     "+0",        "-0",   "z"};
  for (const char* z : kUtc)
    if (v == z) return true;
  return false;
}

// Folds what statement `stmt` (facts `f`) establishes into the state later
// statements see.
// The schemas of a SET search_path value as the facts give it ("app, public",
// quotes already removed by the parser); "$user" and pg_temp name no schema
// a catalog lookup can use.
std::vector<std::string> SearchPathList(const std::string& value) {
  std::vector<std::string> out;
  size_t from = 0;
  while (from <= value.size()) {
    size_t comma = value.find(',', from);
    if (comma == std::string::npos) comma = value.size();
    std::string s = value.substr(from, comma - from);
    s.erase(0, s.find_first_not_of(" \t"));
    s.erase(s.find_last_not_of(" \t") + 1);
    if (!s.empty() && s != "$user" && s != "pg_temp") out.push_back(s);
    from = comma + 1;
  }
  return out;
}

// `c` with every entry's path position recomputed for `path` — PostgreSQL
// searches pg_catalog first unless the path places it — and 0 (not visible)
// for schemas off it.
template <typename Catalog>
Catalog OnPath(const Catalog& c, const std::vector<std::string>& path) {
  std::vector<std::string> effective;
  if (std::find(path.begin(), path.end(), "pg_catalog") == path.end())
    effective.push_back("pg_catalog");
  effective.insert(effective.end(), path.begin(), path.end());
  Catalog out;
  for (const auto& [name, entry] : c.by_name) {
    auto copy = entry;
    auto at = std::find(effective.begin(), effective.end(), copy.schema);
    copy.path_position = at == effective.end() ? 0 : static_cast<int>(at - effective.begin()) + 1;
    out.by_name.emplace(name, std::move(copy));
  }
  return out;
}

void Update(const Statement& stmt, const QueryFacts& f, const SqlTypeCatalog* db_types,
            FileState* s) {
  const DdlFacts& d = f.ddl;
  UpdatePartitionState(stmt, f, s);  // sql_rule_migration_partitions.cc
  for (const auto& t : d.created_tables) s->created_tables.insert(t);
  if (f.kind == StatementKind::kSet && d.setting == "lock_timeout") {
    // 0 means "wait forever": the protection is gone.
    const std::string& v = d.setting_value;
    s->lock_timeout_set = !(v.empty() || v == "0" || v == "DEFAULT" || v == "0s" || v == "0ms");
    s->lock_timeout_local = s->lock_timeout_set && d.local;
  }
  if (f.kind == StatementKind::kSet && d.setting == "timezone") {
    s->session_utc = IsUtcZone(d.setting_value);
    s->session_utc_local = s->session_utc && d.local;
  }
  if (f.kind == StatementKind::kSet && d.setting == "search_path") {
    s->search_path_set = d.setting_value != "DEFAULT";
    s->search_path_local = s->search_path_set && d.local;
    s->search_path =
        s->search_path_set ? SearchPathList(d.setting_value) : std::vector<std::string>{};
  }
  if (f.kind == StatementKind::kTransaction && !d.actions.empty() &&
      (d.actions[0] == "commit" || d.actions[0] == "rollback")) {
    if (s->lock_timeout_local) s->lock_timeout_set = s->lock_timeout_local = false;
    if (s->session_utc_local) s->session_utc = s->session_utc_local = false;
    if (s->search_path_local) s->search_path_set = s->search_path_local = false;
  }
  SqlFunction created;
  if ((f.kind == StatementKind::kOtherDdl || f.kind == StatementKind::kOtherUtility) &&
      ParseCreateFunction(stmt.sql, &created)) {
    // CREATE OR REPLACE: the latest definition of a signature counts.
    auto range = s->created_functions.by_name.equal_range(created.name);
    for (auto it = range.first; it != range.second;) {
      if (it->second.schema == created.schema && it->second.arg_types == created.arg_types)
        it = s->created_functions.by_name.erase(it);
      else
        ++it;
    }
    s->created_functions.by_name.emplace(created.name, std::move(created));
    s->created_functions.inlined.clear();  // keyed by address: erased entries may be reused
  }
  SqlType type;
  if ((f.kind == StatementKind::kOtherDdl || f.kind == StatementKind::kOtherUtility) &&
      (ParseCreateType(stmt.sql, &s->created_types, db_types, &type) ||
       ParseAlterDomain(stmt.sql, &s->created_types, db_types, &type))) {
    // The latest definition of a name counts (ALTER DOMAIN adds to it).
    auto range = s->created_types.by_name.equal_range(type.name);
    for (auto it = range.first; it != range.second;) {
      if (it->second.schema == type.schema)
        it = s->created_types.by_name.erase(it);
      else
        ++it;
    }
    s->created_types.by_name.emplace(type.name, std::move(type));
  }
  if (f.kind == StatementKind::kAlterTable) {
    for (const DdlAction& a : d.items) {
      // The catalog snapshot predates the file: a later ALTER COLUMN TYPE
      // starts from the type this file gave the column.
      if ((a.action == "alter-column-type" || a.action == "add-column") && !a.column.empty() &&
          !a.new_type.empty())
        s->column_types[Bare(d.object) + "." + a.column] = a.new_type;
      if (a.action == "add-constraint-check" && !a.check_not_null_column.empty()) {
        std::string key = a.constraint_name.empty() ? d.object + "#" + a.check_not_null_column
                                                    : a.constraint_name;
        s->not_null_checks[key] = {d.object, a.check_not_null_column, !a.not_valid};
      }
      if (a.action == "validate-constraint") {
        auto it = s->not_null_checks.find(a.constraint_name);
        if (it != s->not_null_checks.end()) it->second.validated = true;
      }
    }
  }
}

Rule DefaultRule(const char* id) {
  Rule r;
  r.id = id;
  r.severity = Severity::kWarning;
  return r;
}

}  // namespace

bool FileState::IsNew(const std::string& table) const {
  if (created_tables.count(table)) return true;
  for (const auto& t : created_tables)
    if (Bare(t) == Bare(table)) return true;
  return false;
}

bool FileState::HasValidatedNotNullCheck(const std::string& table,
                                         const std::string& column) const {
  for (const auto& [name, c] : not_null_checks)
    if (c.validated && c.column == column && Bare(c.table) == Bare(table)) return true;
  return false;
}

Finding Call::Make(int rel_location, std::string message) const {
  Finding f;
  f.rule = rule.id;
  f.severity = rule.severity;
  f.message = std::move(message);
  size_t offset = stmt.offset + static_cast<size_t>(rel_location < 0 ? 0 : rel_location);
  LineCol lc = file.source.At(offset);
  f.location.file = file.source.path();
  f.location.line = lc.line;
  f.location.column = lc.column;
  return f;
}

const SqlTableInfo* Call::Table(const std::string& name) const {
  if (!ctx.tables || name.empty()) return nullptr;
  auto it = ctx.tables->find(name);
  if (it == ctx.tables->end()) it = ctx.tables->find(Bare(name));
  return it == ctx.tables->end() ? nullptr : &it->second;
}

std::string Call::Describe(const std::string& table) const {
  const SqlTableInfo* t = Table(table);
  if (!t) return table;
  return table + " (" + PrettyBytes(t->total_bytes) + ", " + PrettyRows(t->rows) + ")";
}

void Call::AboutTable(const std::string& table, Finding* f) const {
  f->location.object = table;
  f->Add("table", table);
  const SqlTableInfo* t = Table(table);
  if (!t) return;
  f->Add("table_bytes", t->total_bytes);
  f->Add("table_rows", static_cast<int64_t>(std::llround(t->rows)));
  double limit = rule.Threshold("large_table_bytes");
  if (static_cast<double>(t->total_bytes) >= limit && f->severity == Severity::kWarning) {
    f->severity = Severity::kError;
    f->Add("severity_raised", "table is at least large_table_bytes (" +
                                  PrettyBytes(static_cast<int64_t>(limit)) + ")");
  }
}

std::string Call::TargetSql() const {
  OneStatement one(stmt.sql);
  for (const char* type : {"AlterTableStmt", "IndexStmt", "RenameStmt", "ClusterStmt"}) {
    dom::object body, rv;
    if (!one.stmt(type, &body) || !Obj(body, "relation", &rv)) continue;
    const std::string_view schema = Str(rv, "schemaname"), name = Str(rv, "relname");
    if (name.empty()) break;
    return (schema.empty() ? "" : QuoteIdent(schema) + ".") + QuoteIdent(name);
  }
  // No relation in the tree (not expected for the statements fixes are
  // printed for): the name as the facts hold it, split at its last dot.
  const std::string& t =
      facts.kind == StatementKind::kCreateIndex ? facts.ddl.index_table : facts.ddl.object;
  const size_t dot = t.rfind('.');
  return dot == std::string::npos
             ? QuoteIdent(t)
             : QuoteIdent(t.substr(0, dot)) + "." + QuoteIdent(t.substr(dot + 1));
}

int FindKeyword(const std::string& sql, std::string_view keyword) {
  // Just enough of PostgreSQL's lexical rules to see words only where the
  // scanner would: not in comments (-- and nested /* */), quoted strings
  // ('..' with '' doubled, E'..' with backslash escapes, $tag$..$tag$),
  // quoted identifiers, or numbers ("1e5"). A keyword is never written
  // another way, so the first bare word equal to it is its token.
  const size_t n = sql.size();
  auto ident_start = [](unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
  };
  auto ident_cont = [&](unsigned char c) {
    return ident_start(c) || (c >= '0' && c <= '9') || c == '$';
  };
  auto skip_quoted = [&](size_t i, char q, bool backslash) {
    for (++i; i < n; ++i) {
      if (backslash && sql[i] == '\\') {
        ++i;
      } else if (sql[i] == q) {
        if (i + 1 < n && sql[i + 1] == q) {
          ++i;
        } else {
          return i + 1;
        }
      }
    }
    return n;
  };
  size_t i = 0;
  while (i < n) {
    const unsigned char c = static_cast<unsigned char>(sql[i]);
    if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
      while (i < n && sql[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
      int depth = 0;
      while (i < n) {
        if (sql.compare(i, 2, "/*") == 0) {
          ++depth;
          i += 2;
        } else if (sql.compare(i, 2, "*/") == 0) {
          i += 2;
          if (--depth == 0) break;
        } else {
          ++i;
        }
      }
    } else if (c == '\'' || c == '"') {
      i = skip_quoted(i, static_cast<char>(c), false);
    } else if (c == '$') {
      size_t j = i + 1;
      if (j < n && ident_start(static_cast<unsigned char>(sql[j])))
        while (j < n && sql[j] != '$' && ident_cont(static_cast<unsigned char>(sql[j]))) ++j;
      if (j < n && sql[j] == '$') {
        const size_t close = sql.find(sql.substr(i, j - i + 1), j + 1);
        i = close == std::string::npos ? n : close + (j - i + 1);
      } else {
        i = j;
      }
    } else if (ident_start(c)) {
      const size_t start = i;
      while (i < n && ident_cont(static_cast<unsigned char>(sql[i]))) ++i;
      const std::string_view w(sql.data() + start, i - start);
      if (i < n && sql[i] == '\'' && (w == "e" || w == "E")) {
        i = skip_quoted(i, '\'', true);
        continue;
      }
      if (w.size() == keyword.size() &&
          std::equal(w.begin(), w.end(), keyword.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) == b;
          }))
        return static_cast<int>(start);
    } else if (c >= '0' && c <= '9') {
      while (i < n && (ident_cont(static_cast<unsigned char>(sql[i])) || sql[i] == '.')) ++i;
    } else {
      ++i;
    }
  }
  return -1;
}

}  // namespace sqlrules

std::vector<Finding> ReviewSqlFile(const SqlFile& file, const SqlReviewContext& ctx) {
  using namespace sqlrules;  // NOLINT
  FileState state;
  std::vector<Finding> out;
  const std::vector<HandlerEntry>* tables[] = {&MigrationHandlers(), &QueryHandlers()};
  // After a SET search_path in the file, the server's function and type
  // catalogs are consulted through the file's path (rebuilt when it changes).
  SqlReviewContext on_path = ctx;
  SqlFunctionCatalog functions_on_path;
  SqlTypeCatalog types_on_path;
  std::vector<std::string> built_for;
  bool built = false;
  for (size_t i = 0; i < file.statements.size(); ++i) {
    const Statement& stmt = file.statements[i];
    if (!stmt.parsed) continue;  // reported as a syntax error by the caller
    if (state.search_path_set && (!built || built_for != state.search_path)) {
      if (ctx.functions) functions_on_path = OnPath(*ctx.functions, state.search_path);
      if (ctx.types) types_on_path = OnPath(*ctx.types, state.search_path);
      on_path.functions = ctx.functions ? &functions_on_path : nullptr;
      on_path.types = ctx.types ? &types_on_path : nullptr;
      built_for = state.search_path;
      built = true;
    }
    const SqlReviewContext& use = state.search_path_set ? on_path : ctx;
    for (const auto* table : tables) {
      for (const HandlerEntry& h : *table) {
        Rule fallback;
        const Rule* rule = nullptr;
        if (ctx.rules) {
          rule = ctx.rules->Enabled(h.id);
        } else if (std::string(h.id) != "select-star") {  // off by default
          fallback = DefaultRule(h.id);
          rule = &fallback;
        }
        if (!rule || stmt.Ignores(h.id)) continue;
        Call call{file, stmt, FactsOf(stmt), state, *rule, use};
        h.fn(call, &out);
      }
    }
    Update(stmt, FactsOf(stmt), ctx.types, &state);
  }
  return out;
}

std::set<std::string> SqlRuleIds() {
  std::set<std::string> ids;
  for (const auto& h : sqlrules::MigrationHandlers()) ids.insert(h.id);
  for (const auto& h : sqlrules::QueryHandlers()) ids.insert(h.id);
  return ids;
}

namespace {

SqlTableInfo FromCatalogTable(const TableInfo& t) {
  SqlTableInfo out;
  out.name = t.QualifiedName();
  out.total_bytes = t.total_bytes;
  out.rows = t.Rows();
  for (const ColumnInfo& c : t.columns) out.column_types[c.name] = c.type;
  out.partitioned = t.kind == 'p';
  for (const ConstraintInfo& k : t.constraints)
    if (k.type == 'c' && k.validated && !k.definition.empty()) out.checks.push_back(k.definition);
  for (const IndexInfo& ix : t.indexes) {
    for (const IndexKey& k : ix.keys)
      if (!k.column.empty()) out.indexed_columns.insert(k.column);
    for (const IndexKey& k : ix.include)
      if (!k.column.empty()) out.indexed_columns.insert(k.column);
  }
  return out;
}

}  // namespace

std::map<std::string, SqlTableInfo> SqlTablesFromCatalog(const Catalog& catalog) {
  std::map<std::string, SqlTableInfo> out;
  for (const TableInfo& t : catalog.tables()) out[t.schema + "." + t.name] = FromCatalogTable(t);
  // Bare names as the search_path resolves them: the first schema wins.
  for (const std::string& schema : catalog.search_path())
    for (const TableInfo& t : catalog.tables())
      if (t.schema == schema && !out.count(t.name)) out.emplace(t.name, FromCatalogTable(t));
  for (auto& [name, t] : out) t.block_size = catalog.block_size();
  return out;
}

std::string PrettyBytes(int64_t bytes) {
  // pg_size_pretty: switch unit once the value reaches 10240 of the smaller one.
  static const char* const kUnits[] = {"bytes", "kB", "MB", "GB", "TB", "PB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (std::fabs(v) >= 10240 && u < 5) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.0f %s", v, kUnits[u]);
  return buf;
}

std::string PrettyRows(double rows) {
  char buf[32];
  if (rows >= 1e9)
    std::snprintf(buf, sizeof(buf), "%.1fB rows", rows / 1e9);
  else if (rows >= 1e6)
    std::snprintf(buf, sizeof(buf), "%.0fM rows", rows / 1e6);
  else if (rows >= 1e4)
    std::snprintf(buf, sizeof(buf), "%.0fk rows", rows / 1e3);
  else
    std::snprintf(buf, sizeof(buf), "%.0f rows", rows);
  return buf;
}

}  // namespace pgvise
