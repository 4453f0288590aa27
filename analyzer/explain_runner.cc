#include "analyzer/explain_runner.h"

#include <simdjson.h>

#include <atomic>

#include "analyzer/statement.h"

namespace pgvise {

namespace {

// Walks libpg_query's JSON parse tree and records the largest ParamRef number.
void MaxParam(simdjson::dom::element e, int* max) {
  simdjson::dom::array arr;
  if (e.get_array().get(arr) == simdjson::SUCCESS) {
    for (simdjson::dom::element c : arr) MaxParam(c, max);
    return;
  }
  simdjson::dom::object obj;
  if (e.get_object().get(obj) != simdjson::SUCCESS) return;
  for (auto field : obj) {
    if (field.key == "ParamRef") {
      int64_t n = 0;
      if (field.value["number"].get_int64().get(n) == simdjson::SUCCESS && n > *max)
        *max = static_cast<int>(n);
      continue;
    }
    MaxParam(field.value, max);
  }
}

std::string ExplainOptionList(const ExplainOptions& o, bool generic) {
  std::string opts = "FORMAT JSON";
  if (o.analyze) opts += ", ANALYZE";
  if (o.buffers) opts += ", BUFFERS";
  if (o.verbose) opts += ", VERBOSE";
  if (o.settings) opts += ", SETTINGS";
  if (generic) opts += ", GENERIC_PLAN";
  return opts;
}

Status FirstValue(const Rows& rows, std::string* out) {
  if (rows.empty() || rows.columns() == 0) return Status::Database("EXPLAIN returned no rows");
  // EXPLAIN (FORMAT JSON) returns one row; be tolerant of a split result.
  out->clear();
  for (size_t i = 0; i < rows.size(); ++i) *out += rows.Text(i, 0);
  return Status::Ok();
}

}  // namespace

Status CountParams(const std::string& sql, int* count) {
  std::string json;
  size_t pos = 0;
  Status st = ParseSqlToJson(sql, &json, &pos);
  if (!st.ok()) return Status::InvalidInput("at byte " + std::to_string(pos) + ": " + st.message());
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json).get(doc) != simdjson::SUCCESS)
    return Status::Internal("cannot read libpg_query parse tree");
  simdjson::dom::array stmts;
  if (doc["stmts"].get_array().get(stmts) != simdjson::SUCCESS || stmts.size() == 0)
    return Status::InvalidInput("no SQL statement to explain");
  if (stmts.size() > 1)
    return Status::InvalidInput("EXPLAIN takes one statement; got " + std::to_string(stmts.size()));
  int max = 0;
  MaxParam(doc, &max);
  *count = max;
  return Status::Ok();
}

Status ExplainStatement(Session& s, const std::string& sql, const ExplainOptions& o,
                        std::string* plan_json) {
  int params = 0;
  Status st = CountParams(sql, &params);
  if (!st.ok()) return st;
  bool generic = params > 0 || o.costs_only_generic;
  Rows rows;
  // Every EXPLAIN may execute user code: ANALYZE runs the statement, and the
  // planner runs IMMUTABLE functions of constants even without it. So each
  // runs in its own READ ONLY transaction, always rolled back (see header).
  if (!generic) {
    st = s.QueryRolledBack("EXPLAIN (" + ExplainOptionList(o, false) + ") " + sql, &rows);
    if (!st.ok()) return st;
    return FirstValue(rows, plan_json);
  }
  // Guard: ANALYZE executes the statement, and $n has no value to execute with.
  if (o.analyze && params > 0)
    return Status::InvalidInput("cannot EXPLAIN ANALYZE a statement with $" +
                                std::to_string(params) +
                                " parameters: give values, or explain without ANALYZE "
                                "(a generic plan)");
  ExplainOptions plain = o;
  plain.analyze = false;
  if (s.server_version() >= 160000) {
    st = s.QueryRolledBack("EXPLAIN (" + ExplainOptionList(plain, true) + ") " + sql, &rows);
    if (!st.ok()) return st;
    return FirstValue(rows, plan_json);
  }

  // PG 13-15: a prepared statement forced to its generic plan.
  static std::atomic<int64_t> counter{0};
  const std::string name = "pgvise_explain_" + std::to_string(++counter);
  Rows old;
  st = s.Query("SELECT current_setting('plan_cache_mode')", &old);
  if (!st.ok()) return st;
  const std::string old_mode = old.empty() ? "auto" : old.Text(0, 0);
  st = s.Exec("PREPARE " + name + " AS " + sql);
  if (!st.ok()) return st;
  Status explain = s.Exec("SET plan_cache_mode = force_generic_plan");
  if (explain.ok()) {
    std::string args;
    for (int i = 0; i < params; ++i) args += i ? ", NULL" : "NULL";
    std::string exec = "EXECUTE " + name + (params ? "(" + args + ")" : "");
    explain = s.QueryRolledBack("EXPLAIN (" + ExplainOptionList(plain, false) + ") " + exec, &rows);
  }
  // Always undo, even after a failure: the cached generic plan must not
  // outlive this call (see header), nor the forced plan_cache_mode.
  Status restore =
      s.Exec("SELECT set_config('plan_cache_mode', " + QuoteLiteral(old_mode) + ", false)");
  Status dealloc = s.Exec("DEALLOCATE " + name);
  if (!explain.ok()) return explain;
  if (!restore.ok()) return restore;
  if (!dealloc.ok()) return dealloc;
  return FirstValue(rows, plan_json);
}

}  // namespace pgvise
