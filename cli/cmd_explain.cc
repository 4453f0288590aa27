// pgvise explain — check an EXPLAIN plan for what will hurt.
//
//   pgvise explain plan.json            a plan file: EXPLAIN (FORMAT JSON) output,
//   pgvise explain -                    an array, a bare object, or psql's output as-is
//   pgvise explain --db URI --sql q.sql [--analyze]
//                                       EXPLAIN each statement of q.sql itself, in a
//                                       READ ONLY session, each statement in its own
//                                       READ ONLY transaction that is rolled back
//                                       (analyzer/explain_runner.h), and check those plans
//
// The pipeline, top to bottom:
//   LoadRules          rules/plan/*.yaml + .pgvise.yaml (disable, severity, thresholds)
//   ReadInputs         the plan file, or EXPLAIN (FORMAT JSON[, ANALYZE, BUFFERS]) per statement
//   CheckPlan          analyzer/plan_rules.h: findings worst first, notes on what could not run
//   Render             --format text|json|sarif|markdown; exit code from --fail-on
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>

#include "analyzer/explain_runner.h"
#include "analyzer/plan.h"
#include "analyzer/plan_report.h"
#include "analyzer/plan_rules.h"
#include "analyzer/query_facts.h"
#include "analyzer/statement.h"
#include "cli/command.h"
#include "core/report.h"

namespace pgvise {

namespace {

struct ExplainCliOptions {
  std::string plan_file;  // positional: FILE or -
  std::string sql_file;   // --sql: statements to EXPLAIN on --db
  bool analyze = false;   // --analyze: EXPLAIN ANALYZE (executes the query)
  bool no_buffers = false;
};

// What the run found, as the report model (core/report.h): findings, notes,
// inputs, and per plan a heading and its tree (drawn in HTML only: the text
// formats say the same in their findings, as they always have).
struct ExplainRun {
  Report report;
  void Note(const std::string& n) { report.Note(n); }
};

RuleBook LoadPlanRules(const CommonOptions& c) {
  RuleBook book = LoadRules(c);
  Status st = book.CheckHandlers({"plan"}, PlanRuleIds());
  if (!st.ok()) throw Error(ExitCode::kInputError, st.message());
  return book;
}

// `title` names the plan in the HTML report (the statement's position, or
// the plan file); `source_line` is what the findings' excerpt shows.
void CheckOnePlan(const Plan& plan, const PlanCheckContext& ctx, const Statement* stmt,
                  const std::string& title, const std::string& source_line, ExplainRun* run) {
  for (const auto& n : PlanCheckNotes(plan, ctx)) run->Note(n);
  std::vector<Finding> found;
  for (Finding f : CheckPlan(plan, ctx)) {
    if (stmt) {
      if (stmt->Ignores(f.rule)) continue;
      f.location.line = stmt->pos.line;
      f.location.column = stmt->pos.column;
    }
    found.push_back(std::move(f));
  }
  Report& r = run->report;
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
void ExplainPlanFile(const std::string& path, const RuleBook& book, ExplainRun* run) {
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
  CheckOnePlan(plan, ctx, nullptr, path, "", run);
  run->report.inputs.push_back(path);
}

// Only statements that run a query have a plan.
bool Explainable(StatementKind k) {
  return k == StatementKind::kSelect || k == StatementKind::kInsert ||
         k == StatementKind::kUpdate || k == StatementKind::kDelete ||
         k == StatementKind::kCreateTableAs;
}

// --sql on --db: EXPLAIN every query statement of the file (READ ONLY session).
void ExplainSqlFile(const CommonOptions& c, const ExplainCliOptions& o, const RuleBook& book,
                    ExplainRun* run) {
  SourceText src;
  Status st = SourceText::Read(o.sql_file, &src);
  if (!st.ok()) throw Error(ExitCode::kInputError, st.message());
  SqlFile file;
  st = ParseSqlFile(std::move(src), &file);
  if (!st.ok()) throw Error(ExitCode::kInputError, st.message());
  // Refuse before connecting: a bad file is a usage error, not a database one.
  for (size_t i = 0; i < file.statements.size(); ++i) {
    const Statement& s = file.statements[i];
    if (!s.parsed)
      throw Error(ExitCode::kInputError,
                  file.source.Where(s.error_offset) + ": syntax error: " + s.error);
    if (o.analyze && Explainable(FactsOf(s).kind) && FactsOf(s).kind != StatementKind::kSelect)
      throw Error(ExitCode::kInputError,
                  file.Where(s) + ": --analyze executes the statement and this one writes (" +
                      StatementKindName(FactsOf(s).kind) +
                      "); pgvise runs READ ONLY: explain it without --analyze");
  }
  std::unique_ptr<Session> session = OpenSession(c);  // READ ONLY, timeouts; throws exit 3
  ExplainOptions eo;
  eo.analyze = o.analyze;
  eo.buffers = o.analyze && !o.no_buffers;
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
      run->Note(file.Where(s) + ": a " + StatementKindName(FactsOf(s).kind) +
                " statement has no plan; skipped");
      continue;
    }
    std::string json;
    st = ExplainStatement(*session, s.sql, eo, &json);
    if (!st.ok()) {
      ExitCode code =
          st.code() == Status::Code::kDatabase ? ExitCode::kDatabaseError : ExitCode::kInputError;
      throw Error(code, file.Where(s) + ": EXPLAIN failed: " + st.message());
    }
    Plan plan;
    st = ReadPlan(SourceText(file.Where(s) + " (EXPLAIN)", json), &plan);
    if (!st.ok()) throw Error(ExitCode::kInputError, st.message());
    CheckOnePlan(plan, ctx, &s, file.Where(s), FirstLine(s.sql), run);
    ++explained;
  }
  if (explained == 0) run->Note(o.sql_file + ": no query statement to EXPLAIN");
  run->report.inputs.push_back(o.sql_file);
}

int RunExplain(const CommonOptions& c, const ExplainCliOptions& o) {
  if (o.sql_file.empty() == o.plan_file.empty())
    throw Error(ExitCode::kInputError,
                "give a plan file (or - for stdin), or --sql FILE with --db to EXPLAIN it");
  if (o.analyze && o.sql_file.empty())
    throw Error(ExitCode::kInputError, "--analyze needs --sql FILE and --db");
  const RuleBook book = LoadPlanRules(c);
  ExplainRun run;
  if (!o.plan_file.empty())
    ExplainPlanFile(o.plan_file, book, &run);
  else
    ExplainSqlFile(c, o, book, &run);

  Report& r = run.report;
  r.command = "explain";
  r.title = "pgvise explain";
  r.body.push_back(ReportBlock::Findings());
  WriteReport(c, &book, r);
  return static_cast<int>(ExitFor(r.findings, c.fail_on));
}

}  // namespace

RunFn SetupExplain(CLI::App& app, std::shared_ptr<CommonOptions> common) {
  auto opts = std::make_shared<ExplainCliOptions>();
  app.description(
      "Check an EXPLAIN (FORMAT JSON) plan: row misestimates, spills, loops, lossy bitmaps, "
      "missed pruning, JIT and planning overhead. Give a plan file (an array, a bare object, or "
      "psql's output pasted as-is), or --sql FILE with --db to have pgvise run EXPLAIN (FORMAT "
      "JSON) itself in a READ ONLY session. Exit: 0 clean, 1 findings at or above --fail-on, "
      "2 bad input, 3 database error.");
  AddCommonOptions(app, common.get(), true, true);
  app.add_option("--format", common->format, "text | json | sarif | markdown | html")
      ->check(CLI::IsMember({"text", "json", "sarif", "markdown", "html"}))
      ->capture_default_str();
  app.add_option("plan", opts->plan_file, "EXPLAIN (FORMAT JSON) output file, or - for stdin");
  app.add_option("--sql", opts->sql_file,
                 "SQL file whose query statements pgvise EXPLAINs on --db ($n parameters get a "
                 "generic plan)");
  app.add_flag("--analyze", opts->analyze,
               "EXPLAIN (ANALYZE, BUFFERS): EXECUTES each query to measure it (it takes as long "
               "as the query; each runs in a READ ONLY transaction that is rolled back, so "
               "statements that write are refused)");
  app.add_flag("--no-buffers", opts->no_buffers, "with --analyze, leave out BUFFERS");
  return [common, opts]() -> int { return RunExplain(*common, *opts); };
}

}  // namespace pgvise
