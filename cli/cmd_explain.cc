// pgvise explain — check an EXPLAIN plan for what will hurt.
//
//   pgvise explain plan.json            a plan file: EXPLAIN (FORMAT JSON) output,
//   pgvise explain -                    an array, a bare object, or psql's output as-is
//   pgvise explain --db URI --sql q.sql [--analyze]
//                                       EXPLAIN each statement of q.sql itself, in a
//                                       READ ONLY session, each statement in its own
//                                       READ ONLY transaction that is rolled back
//                                       (analyzer/plan/explain_runner.h), and check those plans
//
// Here: options, rules (rules/plan/*.yaml + .pgvise.yaml), the session, the
// render and the exit code from --fail-on; the pipeline between (read the
// plan or EXPLAIN each statement, run the checks, build the report) is
// analyzer/plan/explain_check.h.

#include <CLI/CLI.hpp>

#include "analyzer/plan/explain_check.h"
#include "analyzer/plan/plan_rules.h"
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

RuleBook LoadPlanRules(const CommonOptions& c) {
  RuleBook book = LoadRules(c);
  Status st = book.CheckHandlers({"plan"}, PlanRuleIds());
  if (!st.ok()) throw Error(ExitCode::kInputError, st.message());
  return book;
}

int RunExplain(const CommonOptions& c, const ExplainCliOptions& o) {
  if (o.sql_file.empty() == o.plan_file.empty())
    throw Error(ExitCode::kInputError,
                "give a plan file (or - for stdin), or --sql FILE with --db to EXPLAIN it");
  if (o.analyze && o.sql_file.empty())
    throw Error(ExitCode::kInputError, "--analyze needs --sql FILE and --db");
  const RuleBook book = LoadPlanRules(c);
  Report r;
  if (!o.plan_file.empty()) {
    CheckPlanFile(o.plan_file, book, &r);
  } else {
    const SqlFile file = ReadExplainSql(o.sql_file, o.analyze);
    std::unique_ptr<Session> session = OpenSession(c);  // READ ONLY, timeouts; throws exit 3
    CheckSqlFile(*session, file, {o.analyze, !o.no_buffers}, book, &r);
  }

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
  app.add_option("--format", common->format, "text | json | sarif | gitlab | markdown | html")
      ->check(CLI::IsMember({"text", "json", "sarif", "gitlab", "markdown", "html"}))
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
