#include "analyzer/plan/explain_check.h"

#include <cstdio>

#include "analyzer/plan/explain_runner.h"
#include "analyzer/plan/plan.h"
#include "analyzer/plan/plan_report.h"
#include "analyzer/plan/plan_rules.h"
#include "analyzer/sql/query_facts.h"
#include "core/source.h"
#include "core/status.h"

namespace pgvise {

namespace {

// `title` names the plan in the HTML report (the statement's position, or
// the plan file); `source_line` is what the findings' excerpt shows.
void CheckOnePlan(const Plan& plan, const PlanCheckContext& ctx, const Statement* stmt,
                  const std::string& title, const std::string& source_line, Report* report) {
  for (const auto& n : PlanCheckNotes(plan, ctx)) report->Note(n);
  std::vector<Finding> found;
  for (Finding f : CheckPlan(plan, ctx)) {
    if (stmt) {
      if (stmt->Ignores(f.rule)) continue;
      f.location.line = stmt->pos.line;
      f.location.column = stmt->pos.column;
    }
    found.push_back(std::move(f));
  }
  Report& r = *report;
  // The tree pins this plan's findings; their indices are where they land
  // in the report's list.
  ReportTreeNode tree = PlanTree(plan, found);
  const size_t offset = r.findings.size();
  std::vector<ReportTreeNode*> todo = {&tree};
  while (!todo.empty()) {
    ReportTreeNode* n = todo.back();
    todo.pop_back();
    for (size_t& i : n->findings) i += offset;
    for (auto& c : n->children) todo.push_back(&c);
  }
  ReportBlock heading = ReportBlock::Heading(title, 2);
  heading.html_only = true;
  r.body.push_back(std::move(heading));
  std::string caption = plan.analyzed && plan.has_timing
                            ? "bars: time spent in the node itself"
                            : "bars: the node's own share of the estimated cost";
  if (plan.execution_ms >= 0) {
    char ms[64];
    std::snprintf(ms, sizeof ms, "; execution %.3f ms", plan.execution_ms);
    caption += ms;
  }
  ReportBlock block = ReportBlock::Tree(std::move(tree), caption);
  block.html_only = true;
  r.body.push_back(std::move(block));
  if (stmt && !source_line.empty()) r.excerpts.push_back({ctx.file, stmt->pos.line, source_line});
  for (auto& f : found) r.findings.push_back(std::move(f));
}

// The first line of a statement, for the excerpt under its findings.
std::string FirstLine(const std::string& sql) {
  size_t start = sql.find_first_not_of(" \t\r\n");
  if (start == std::string::npos) return "";
  size_t end = sql.find_first_of("\r\n", start);
  return sql.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// A plan file: read, check. Every input problem ends the command with exit 2.
}  // namespace

void CheckPlanFile(const std::string& path, const RuleBook& book, Report* report) {
  SourceText src;
  Status st = SourceText::Read(path, &src);
  if (!st.ok()) throw Error(ExitCode::kInputError, st.message());
  Plan plan;
  st = ReadPlan(src, &plan);
  if (!st.ok()) throw Error(ExitCode::kInputError, st.message());
  PlanCheckContext ctx;
  ctx.rules = &book;
  ctx.file = path;
  ctx.source = &src;  // findings point at their node's line in the plan file
  CheckOnePlan(plan, ctx, nullptr, path, "", report);
  report->inputs.push_back(path);
}

namespace {

// Only statements that run a query have a plan.
bool Explainable(StatementKind k) {
  return k == StatementKind::kSelect || k == StatementKind::kInsert ||
         k == StatementKind::kUpdate || k == StatementKind::kDelete ||
         k == StatementKind::kCreateTableAs;
}

}  // namespace

SqlFile ReadExplainSql(const std::string& path, bool analyze) {
  SourceText src;
  Status st = SourceText::Read(path, &src);
  if (!st.ok()) throw Error(ExitCode::kInputError, st.message());
  SqlFile file;
  st = ParseSqlFile(std::move(src), &file);
  if (!st.ok()) throw Error(ExitCode::kInputError, st.message());
  // Refused before connecting: a bad file is a usage error, not a database one.
  for (size_t i = 0; i < file.statements.size(); ++i) {
    const Statement& s = file.statements[i];
    if (!s.parsed)
      throw Error(ExitCode::kInputError,
                  file.source.Where(s.error_offset) + ": syntax error: " + s.error);
    if (analyze && Explainable(FactsOf(s).kind) && FactsOf(s).kind != StatementKind::kSelect)
      throw Error(ExitCode::kInputError,
                  file.Where(s) + ": --analyze executes the statement and this one writes (" +
                      StatementKindName(FactsOf(s).kind) +
                      "); pgvise runs READ ONLY: explain it without --analyze");
  }
  return file;
}

void CheckSqlFile(Session& session, const SqlFile& file, const ExplainCheckOptions& o,
                  const RuleBook& book, Report* report) {
  ExplainOptions eo;
  eo.analyze = o.analyze;
  eo.buffers = o.analyze && o.buffers;
  // VERBOSE gives each relation its schema: the DDL a finding suggests must
  // name the table the same way whatever the user's search_path is.
  eo.verbose = true;
  PlanCheckContext ctx;
  ctx.rules = &book;
  ctx.file = file.source.path();
  int explained = 0;
  for (size_t i = 0; i < file.statements.size(); ++i) {
    const Statement& s = file.statements[i];
    if (!Explainable(FactsOf(s).kind)) {
      report->Note(file.Where(s) + ": a " + StatementKindName(FactsOf(s).kind) +
                   " statement has no plan; skipped");
      continue;
    }
    std::string json;
    Status st = ExplainStatement(session, s.sql, eo, &json);
    if (!st.ok()) {
      ExitCode code =
          st.code() == Status::Code::kDatabase ? ExitCode::kDatabaseError : ExitCode::kInputError;
      throw Error(code, file.Where(s) + ": EXPLAIN failed: " + st.message());
    }
    Plan plan;
    st = ReadPlan(SourceText(file.Where(s) + " (EXPLAIN)", json), &plan);
    if (!st.ok()) throw Error(ExitCode::kInputError, st.message());
    CheckOnePlan(plan, ctx, &s, file.Where(s), FirstLine(s.sql), report);
    ++explained;
  }
  if (explained == 0) report->Note(file.source.path() + ": no query statement to EXPLAIN");
  report->inputs.push_back(file.source.path());
}

}  // namespace pgvise
