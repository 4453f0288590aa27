#include "advisor/workload.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <memory>

#include "analyzer/plan/explain_runner.h"
#include "analyzer/sql/server_text.h"
#include "core/source.h"

namespace pgvise {

namespace {

// Only statements the planner plans can gain from an index.
bool IsPlannable(StatementKind k) {
  return k == StatementKind::kSelect || k == StatementKind::kInsert ||
         k == StatementKind::kUpdate || k == StatementKind::kDelete || k == StatementKind::kMerge;
}

// Statements about the system catalogs (monitoring tools, pgvise itself)
// are not the application's workload. The tables of every query level count:
// `SELECT ... FROM (SELECT ... FROM lineitem ...) AS shipping` reads lineitem
// though its outer FROM holds only a derived table (TPC-H Q7, Q8, Q9, Q13,
// Q22), and so do CTEs, UNION branches and subqueries at any depth.
bool IsApplicationTable(const RelationRef& r) {
  if (r.is_cte) return false;
  if (r.schema == "pg_catalog" || r.schema == "information_schema") return false;
  if (r.schema.empty() && r.name.rfind("pg_", 0) == 0) return false;
  return !r.name.empty();
}

bool TouchesOnlySystem(const QueryFacts& f) {
  for (const auto& r : f.relations)
    if (IsApplicationTable(r)) return false;
  for (const auto& sq : f.subqueries)
    for (const auto& r : sq.relations)
      if (IsApplicationTable(r)) return false;
  return true;
}

// 'it''s' -> it's; numbers as they are.
std::string UnquoteLiteral(const std::string& lit) {
  if (lit.size() < 2 || lit.front() != '\'' || lit.back() != '\'') return lit;
  std::string out;
  for (size_t i = 1; i + 1 < lit.size(); ++i) {
    out += lit[i];
    if (lit[i] == '\'' && i + 2 < lit.size() && lit[i + 1] == '\'') ++i;
  }
  return out;
}

// Only plain literals go into SQL text: a quoted string or a number.
bool IsPlainLiteral(const std::string& v) {
  if (v.size() >= 2 && v.front() == '\'' && v.back() == '\'') return true;
  if (v.empty()) return false;
  for (char ch : v)
    if (!std::isdigit(static_cast<unsigned char>(ch)) && ch != '.' && ch != '-') return false;
  return true;
}

}  // namespace

int ApplyQualConstants(const Catalog& catalog, double rare_frequency, double max_distinct,
                       Workload* w) {
  if (w->qual_constants.empty()) return 0;
  int changed = 0;
  for (auto& ws : w->statements) {
    if (!ws.has_params) continue;  // constants as written are used as they are
    int max_param = 0;
    if (!CountParams(ws.sql, &max_param).ok() || max_param == 0) continue;
    for (const Predicate& p : ws.facts.predicates) {
      if (p.kind != PredicateKind::kEquality || p.value_kind != ValueKind::kParameter) continue;
      if (p.under_or || p.negated || !p.expression.empty() || p.clause != Clause::kWhere) continue;
      // Removing a middle $n would leave a gap PREPARE can't type.
      if (p.param != max_param) continue;
      const TableInfo* t = catalog.FindTable(p.table);
      if (!t) continue;
      const ColumnInfo* col = t->Column(p.column);
      if (!col || col->DistinctValues(t->Rows()) > max_distinct) continue;
      // The constant pg_qualstats saw most often for this table.column.
      const QualConstant* best = nullptr;
      for (const auto& q : w->qual_constants)
        if (q.op == "=" && q.schema == t->schema && q.table == t->name && q.column == p.column &&
            IsPlainLiteral(q.value) && (!best || q.occurrences > best->occurrences))
          best = &q;
      if (!best) continue;
      // Only a rare value makes a partial index worth it (the same rule as
      // for constants written in SQL files).
      auto freq = col->ValueFrequency(UnquoteLiteral(best->value));
      if (!freq || *freq >= rare_frequency) continue;
      // value_location points at the `$n` token; check before replacing.
      std::string token = "$" + std::to_string(p.param);
      if (p.value_location < 0 ||
          ws.sql.compare(static_cast<size_t>(p.value_location), token.size(), token) != 0)
        continue;
      size_t after = static_cast<size_t>(p.value_location) + token.size();
      if (after < ws.sql.size() && std::isdigit(static_cast<unsigned char>(ws.sql[after])))
        continue;
      std::string sql = ws.sql;
      sql.replace(static_cast<size_t>(p.value_location), token.size(), best->value);
      QueryFacts facts;
      size_t err = 0;
      if (!ParseStatementFacts(sql, &facts, &err).ok()) continue;
      if (ws.normalized_sql.empty()) ws.normalized_sql = ws.sql;
      ws.sql = std::move(sql);
      ws.facts = std::move(facts);
      int left = 0;
      ws.has_params = CountParams(ws.sql, &left).ok() && left > 0;
      ws.constant_source = "pg_qualstats";
      ++changed;
      break;  // facts were rebuilt: predicate references are stale
    }
  }
  if (changed > 0)
    w->notes.push_back(std::to_string(changed) +
                       " normalised statement(s) costed with the rare constant pg_qualstats "
                       "recorded (partial-index candidates need the constant)");
  return changed;
}

bool AddStatement(const Statement& stmt, const std::string& source, double calls, Workload* w,
                  double rows_per_call) {
  if (!stmt.parsed) {
    ++w->skipped_unparsable;
    // Valid SQL left out: say why (analyzer/sql/statement.h, kMaxNestingDepth).
    if (stmt.too_deep) w->notes.push_back(source + ": skipped: " + stmt.error);
    return false;
  }
  WorkloadStatement ws;
  Status st = ExtractFacts(stmt, &ws.facts);
  if (!st.ok()) {
    ++w->skipped_unparsable;
    return false;
  }
  if (!IsPlannable(ws.facts.kind)) {
    ++w->skipped_utility;
    return false;
  }
  // Writes are counted before any filtering: every index on the target
  // table pays for them.
  if (ws.facts.kind != StatementKind::kSelect && !ws.facts.relations.empty() &&
      !ws.facts.relations[0].is_cte)
    w->table_writes[ws.facts.relations[0].QualifiedName()] += calls * std::max(rows_per_call, 1.0);
  // INSERT ... VALUES reads nothing an index could speed up; it still counts
  // as a write (the table's write rate), which the catalog already knows.
  if (ws.facts.kind == StatementKind::kInsert && ws.facts.predicates.empty() &&
      ws.facts.joins.empty() && ws.facts.relations.size() <= 1) {
    ++w->skipped_other;
    return false;
  }
  if (TouchesOnlySystem(ws.facts)) {
    ++w->skipped_other;
    return false;
  }
  ws.sql = stmt.sql;
  ws.fingerprint = Fingerprint(stmt.sql);
  ws.source = source;
  ws.calls = calls;
  ws.rows = rows_per_call;
  int nparams = 0;
  ws.has_params = CountParams(stmt.sql, &nparams).ok() && nparams > 0;
  for (auto& e : w->statements) {
    if (!ws.fingerprint.empty() && e.fingerprint == ws.fingerprint) {
      // Rows per call: the calls' mean where both sides know it.
      if (e.rows > 0 && ws.rows > 0)
        e.rows = (e.rows * e.calls + ws.rows * ws.calls) / std::max(e.calls + ws.calls, 1e-9);
      else
        e.rows = std::max(e.rows, ws.rows);
      e.calls += ws.calls;
      e.total_time_ms += ws.total_time_ms;
      ++w->merged_duplicates;
      return true;
    }
  }
  w->statements.push_back(std::move(ws));
  return true;
}

Status AddSqlText(const std::string& name, const std::string& text, Workload* w) {
  SqlFile file;
  Status st = ParseSqlFile(SourceText(name, text), &file);
  if (!st.ok()) return st;
  for (const auto& s : file.statements) {
    // `-- pgvise: calls=500 rows=12.5`: how often it runs and the rows per
    // call, as pg_stat_statements would say (calls and rows / calls).
    double counts[2] = {1, 0};
    const char* keys[2] = {"calls", "rows"};
    for (int k = 0; k < 2; ++k) {
      auto it = s.annotations.find(keys[k]);
      if (it == s.annotations.end()) continue;
      char* end = nullptr;
      counts[k] = std::strtod(it->second.c_str(), &end);
      if (end == it->second.c_str() || *end != '\0' || !(counts[k] >= 0) ||
          !std::isfinite(counts[k]))
        return Status::InvalidInput(file.Where(s) + ": pgvise: " + keys[k] + "=" + it->second +
                                    " is not a number");
    }
    AddStatement(s, file.Where(s), counts[0], w, counts[1]);
  }
  return Status::Ok();
}

Status AddSqlFile(const std::string& path, Workload* w) {
  SourceText src;
  Status st = SourceText::Read(path, &src);
  if (!st.ok()) return st;
  return AddSqlText(path, src.text(), w);
}

Status AddPgStatStatements(Session& s, const WorkloadOptions& o, Workload* w) {
  if (!s.HasExtension("pg_stat_statements"))
    return Status::NotFound(
        "pg_stat_statements is not installed in this database (CREATE EXTENSION "
        "pg_stat_statements, "
        "and shared_preload_libraries), or give SQL files");
  Rows r;
  // Top statements of this database by total time: the ones worth indexing for.
  Status st = s.Query(
      "SELECT query, calls, total_exec_time, mean_exec_time, rows FROM pg_stat_statements"
      " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
      "   AND calls >= $1 AND toplevel"
      " ORDER BY total_exec_time DESC LIMIT $2",
      {std::to_string(static_cast<long long>(o.pgss_min_calls)), std::to_string(o.pgss_limit)}, &r);
  if (!st.ok()) return Status::Database("pg_stat_statements: " + st.message());
  w->from_pg_stat_statements = true;
  // Its counters and pg_stat_user_tables' may cover different periods; the
  // write overhead is scaled by the ratio (PG14+ has pg_stat_statements_info).
  Rows info;
  if (s.Query("SELECT EXTRACT(epoch FROM now() - stats_reset) FROM pg_stat_statements_info", &info)
          .ok() &&
      !info.empty())
    w->pgss_period_s = info.Double(0, 0);
  std::vector<std::string> adapted;
  for (size_t i = 0; i < r.size(); ++i) {
    Statement stmt;
    // Normalized text the server can't plan as it is (`interval $2`,
    // `$1 % $2`) is adapted first (analyzer/sql/server_text.h).
    std::vector<std::string> changes;
    stmt.sql = ServerPlannableText(r.Text(i, "query"), &changes);
    if (!changes.empty()) adapted.push_back(changes.front());
    size_t err = 0;
    auto facts = std::make_shared<QueryFacts>();
    const Status parsed = ParseStatementFacts(stmt.sql, facts.get(), &err);
    stmt.parsed = parsed.ok();
    stmt.too_deep = parsed.code() == Status::Code::kUnsupported;
    stmt.error = parsed.message();
    if (stmt.parsed) stmt.facts = std::move(facts);  // parsed once, read by AddStatement
    double calls = r.Double(i, "calls", 1);
    size_t before = w->statements.size();
    double rows = calls > 0 ? r.Double(i, "rows") / calls : 0;
    if (!AddStatement(stmt, "pg_stat_statements", calls, w, rows)) continue;
    if (w->statements.size() > before) {
      auto& ws = w->statements.back();
      ws.total_time_ms = r.Double(i, "total_exec_time");
      ws.mean_time_ms = r.Double(i, "mean_exec_time");
    }
  }
  if (!adapted.empty())
    w->notes.push_back(std::to_string(adapted.size()) +
                       " pg_stat_statements text(s) adapted so the server can plan them, e.g. " +
                       adapted.front() +
                       " (a typed literal's constant became $n; untyped arithmetic on $n is "
                       "planned as bigint)");
  return Status::Ok();
}

Status AddQualstats(Session& s, Workload* w) {
  if (!s.HasExtension("pg_qualstats")) return Status::Ok();
  Status st = LoadQualConstants(s, &w->qual_constants);
  if (!st.ok()) {
    w->notes.push_back("pg_qualstats could not be read (" + st.message() +
                       "); partial indexes need constants");
  }
  return Status::Ok();
}

Status CollectWorkload(Session& s, const WorkloadSource& src, Workload* w) {
  for (const auto& f : src.files) {
    Status st = AddSqlFile(f, w);
    if (!st.ok()) return st;
  }
  bool use_pgss = src.from == "pg_stat_statements" || src.from == "both" ||
                  (src.from == "auto" && src.files.empty());
  if (use_pgss) {
    Status st = AddPgStatStatements(s, src.options, w);
    // The extension missing is the user's input to fix (exit 2); only an
    // unreadable view is a database error.
    if (!st.ok() && st.code() != Status::Code::kDatabase) return Status::InvalidInput(st.message());
    if (!st.ok()) return st;
  }
  if (src.options.use_qualstats) AddQualstats(s, w);
  // A workload that only writes is still a workload: it has nothing to
  // speed up, and every index would slow it (said in the report, exit 0).
  if (w->statements.empty() && w->table_writes.empty())
    return Status::InvalidInput("no plannable statements in the workload (" +
                                std::to_string(w->skipped_utility) + " utility/DDL, " +
                                std::to_string(w->skipped_unparsable) + " unparsable skipped)");
  return Status::Ok();
}

}  // namespace pgvise
