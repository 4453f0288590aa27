#include "analyzer/plan/explain_runner.h"

#include <atomic>

#include "analyzer/sql/pg_tree.h"
#include "analyzer/sql/statement.h"

namespace pgvise {

namespace {

// Records the largest ParamRef number under `e` (the parse tree, PgTree).
// Recursive: callers check the tree's depth first (kMaxNestingDepth).
void MaxParam(pgtree::element e, int* max) {
  pgtree::array arr;
  if (e.get(arr) == pgtree::SUCCESS) {
    for (pgtree::element c : arr) MaxParam(c, max);
    return;
  }
  pgtree::object obj;
  if (e.get(obj) != pgtree::SUCCESS) return;
  if (!obj.is_wrapper()) {
    for (pgtree::element c : obj.children()) MaxParam(c, max);
    return;
  }
  for (auto field : obj) {
    if (field.key == "ParamRef") {
      pgtree::object ref;
      int64_t n = 0;
      if (field.value.get(ref) == pgtree::SUCCESS &&
          ref.at_key("number").get(n) == pgtree::SUCCESS && n > *max)
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
  pgtree::PgTree tree(sql);
  if (!tree.ok())
    return Status::InvalidInput("at byte " + std::to_string(tree.cursor()) + ": " + tree.message());
  if (tree.size() == 0) return Status::InvalidInput("no SQL statement to explain");
  if (tree.size() > 1)
    return Status::InvalidInput("EXPLAIN takes one statement; got " + std::to_string(tree.size()));
  if (sql.size() > kShortStatementBytes) {
    const int depth = tree.MaxDepth();
    if (depth > kMaxNestingDepth) return Status::Unsupported(TooDeepMessage(depth));
  }
  int max = 0;
  MaxParam(tree.statement(0), &max);
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
