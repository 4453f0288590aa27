#include "analyzer/plan/explain_runner.h"

#include <atomic>
#include <cstdint>
#include <vector>

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
  std::vector<ExplainJob> jobs(1);
  jobs[0].sql = sql;
  Status st = ExplainBatch(s, o, &jobs);
  if (!st.ok()) return st;
  if (!jobs[0].status.ok()) {
    s.set_last_sqlstate(jobs[0].sqlstate);
    return jobs[0].status;
  }
  *plan_json = std::move(jobs[0].plans[0]);
  return Status::Ok();
}

// Each job becomes its steps in one Session::Pipeline, and the steps'
// outcomes are read back into the job:
//   as written   EXPLAIN (...) sql
//   PG 16+ $n    EXPLAIN (..., GENERIC_PLAN) sql
//   PG 13-15 $n  PREPARE p AS sql; [plan_cache_mode = force_generic_plan]
//                EXPLAIN (...) EXECUTE p(NULL, ...); DEALLOCATE p
//   values       PREPARE p AS sql; per value set [plan_cache_mode =
//                force_custom_plan] EXPLAIN (...) EXECUTE p(v1, ...); DEALLOCATE p
// The bracketed setting lives only in that EXPLAIN's rolled-back
// transaction. DEALLOCATE always runs: a prepared statement keeps its
// cached generic plan when hypothetical indexes change (see header).
Status ExplainBatch(Session& s, const ExplainOptions& o, std::vector<ExplainJob>* jobs) {
  static std::atomic<int64_t> counter{0};
  struct Span {
    size_t prepare = SIZE_MAX, first = 0, count = 0, deallocate = SIZE_MAX;
  };
  std::vector<Span> spans(jobs->size());
  std::vector<Session::Step> steps;
  auto step = [&](std::string sql, bool own, const char* mode) {
    Session::Step st;
    st.sql = std::move(sql);
    st.own_transaction = own;
    if (mode) {
      st.setting = "plan_cache_mode";
      st.setting_value = mode;
    }
    steps.push_back(std::move(st));
    return steps.size() - 1;
  };
  for (size_t j = 0; j < jobs->size(); ++j) {
    ExplainJob& job = (*jobs)[j];
    job.status = Status::Ok();
    job.sqlstate.clear();
    job.plans.clear();
    if (job.params < 0) {
      job.status = CountParams(job.sql, &job.params);
      if (!job.status.ok()) continue;
    }
    const bool custom = !job.value_sets.empty();
    const bool generic = !custom && (job.params > 0 || o.costs_only_generic);
    Span& sp = spans[j];
    sp.first = steps.size();
    if (!custom && !generic) {
      step("EXPLAIN (" + ExplainOptionList(o, false) + ") " + job.sql, true, nullptr);
      sp.count = 1;
      continue;
    }
    // ANALYZE executes the statement, and $n has no value to execute with.
    if (generic && o.analyze && job.params > 0) {
      job.status = Status::InvalidInput(
          "cannot EXPLAIN ANALYZE a statement with $" + std::to_string(job.params) +
          " parameters: give values, or explain without ANALYZE (a generic plan)");
      continue;
    }
    ExplainOptions plain = o;
    if (generic) plain.analyze = false;
    if (generic && s.server_version() >= 160000) {
      step("EXPLAIN (" + ExplainOptionList(plain, true) + ") " + job.sql, true, nullptr);
      sp.count = 1;
      continue;
    }
    const std::string name = "pgvise_explain_" + std::to_string(++counter);
    sp.prepare = step("PREPARE " + name + " AS " + job.sql, false, nullptr);
    sp.first = steps.size();
    const std::string head = "EXPLAIN (" + ExplainOptionList(plain, false) + ") EXECUTE " + name;
    if (generic) {
      std::string args;
      for (int i = 0; i < job.params; ++i) args += i ? ", NULL" : "NULL";
      step(head + (args.empty() ? "" : "(" + args + ")"), true, "force_generic_plan");
    } else {
      for (const auto& set : job.value_sets) {
        std::string args;
        for (size_t v = 0; v < set.size(); ++v) {
          if (v) args += ", ";
          args += set[v] ? QuoteLiteral(*set[v]) : "NULL";
        }
        step(head + (args.empty() ? "" : "(" + args + ")"), true, "force_custom_plan");
      }
    }
    sp.count = steps.size() - sp.first;
    sp.deallocate = step("DEALLOCATE " + name, false, nullptr);
  }
  Status st = s.Pipeline(&steps);
  if (!st.ok()) return st;
  for (size_t j = 0; j < jobs->size(); ++j) {
    ExplainJob& job = (*jobs)[j];
    const Span& sp = spans[j];
    if (!job.status.ok() || sp.count == 0) continue;
    auto fail = [&](const Session::Step& failed) {
      job.status = failed.status;
      job.sqlstate = failed.sqlstate;
      job.plans.clear();
    };
    if (sp.prepare != SIZE_MAX && !steps[sp.prepare].status.ok()) {
      fail(steps[sp.prepare]);
      continue;
    }
    for (size_t k = sp.first; k < sp.first + sp.count; ++k) {
      const Session::Step& e = steps[k];
      std::string json;
      Status read = e.status.ok() ? FirstValue(e.rows, &json) : e.status;
      if (!read.ok()) {
        fail(e);
        job.status = read;
        break;
      }
      job.plans.push_back(std::move(json));
    }
    if (job.status.ok() && sp.deallocate != SIZE_MAX && !steps[sp.deallocate].status.ok())
      fail(steps[sp.deallocate]);
  }
  return Status::Ok();
}

}  // namespace pgvise
