// pgvise rewrite FILE|- : rewrites slow subquery shapes into equivalent joins.
//
// Steps: read and split the file (analyzer/sql/statement.h) -> open the
// read-only session when --db is given (its catalog resolves columns, NOT
// NULL and function volatility) -> ProposeRewrite per statement (rewriter/propose.h):
// RewriteSql, then with --db EXPLAIN both forms (rewriter/verify.h) and keep a rewrite only when
// its estimated cost is lower and the estimate is not one known to mislead for its shape (a
// per-row SubPlan or LATERAL probe through an index: those wait for --verify; the estimate
// gate); with --verify also run both, keep it only when
// the results match and it is not measured slower beyond the noise margin (the measurement gate: a
// warm-up, then --verify-runs interleaved timed runs each, medians compared) -> RewriteReport
// (rewriter/report.h) -> WriteReport: sql | text | json | markdown | html. Unparsable statements
// are reported with file:line:col and make the exit code 2; the others are
// still rewritten.
#include <CLI/CLI.hpp>

#include <iostream>
#include <sstream>

#include "analyzer/sql/statement.h"
#include "cli/command.h"
#include "rewriter/pg_catalog.h"
#include "rewriter/propose.h"
#include "rewriter/report.h"
#include "rewriter/rewriter.h"
#include "rewriter/verify.h"

namespace pgvise {

namespace {

struct RewriteArgs {
  std::string file = "-";
  std::string format = "sql";
  std::vector<std::string> disable;
  bool verify = false;
  int verify_runs = MeasureOptions().runs;
  bool no_pretty = false;
  bool list_passes = false;
};

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == ';')) s.pop_back();
  return s;
}

std::string Fixed(double v, int prec = 1) {
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(prec);
  o << v;
  return o.str();
}

int Run(const RewriteArgs& a, const CommonOptions& common) {
  if (a.list_passes) {
    std::ostringstream o;
    for (const auto& p : Passes()) o << p.name << "\t" << p.summary << "\n";
    WriteOutput(common, o.str());
    return 0;
  }
  std::set<std::string> known;
  for (const auto& p : Passes()) known.insert(p.name);
  RewriteOptions ro;
  for (const auto& d : a.disable) {
    if (!known.count(d))
      throw Error(ExitCode::kInputError, "--disable: unknown pass '" + d + "' (see --list-passes)");
    ro.disabled_passes.insert(d);
  }
  ro.pretty = !a.no_pretty;
  if (a.verify && common.db.empty()) throw Error(ExitCode::kInputError, "--verify needs --db");

  SourceText src;
  Status st = SourceText::Read(a.file, &src);
  if (!st.ok()) throw Error(ExitCode::kInputError, st.message());
  SqlFile file;
  st = ParseSqlFile(std::move(src), &file);
  if (!st.ok()) throw Error(ExitCode::kInputError, st.message());

  std::unique_ptr<Session> session;
  std::unique_ptr<SessionCatalog> catalog;
  if (!common.db.empty()) {
    session = OpenSession(common);
    std::vector<std::string> sqls;
    for (const auto& stmt : file.statements)
      if (stmt.parsed) sqls.push_back(stmt.sql);
    catalog = OpenRewriteCatalog(*session, nullptr, sqls);
    ro.catalog = catalog.get();
  }
  VerifyOptions vo;
  vo.execute = a.verify;
  vo.measure.runs = a.verify_runs;

  bool bad_input = false;
  std::vector<StatementRewrite> reps;
  for (const auto& stmt : file.statements) {
    if (!stmt.parsed) {
      std::cerr << file.source.Where(stmt.error_offset) << ": " << stmt.error << "\n";
      bad_input = true;
      continue;
    }
    StatementRewrite r;
    r.stmt = &stmt;
    size_t pos = 0;
    // The passes, then with --db the gates (rewriter/propose.h).
    st = ProposeRewrite(stmt.sql, ro, session.get(), vo, &r, &pos);
    if (st.code() == Status::Code::kDatabase) throw Error(ExitCode::kDatabaseError, st.message());
    if (!st.ok()) {
      std::cerr << file.Where(stmt, pos) << ": " << st.message() << "\n";
      bad_input = true;
      continue;
    }
    r.output = r.proposed ? Trimmed(r.result.sql) : Trimmed(stmt.sql);
    if (common.verbose) {
      for (const auto& t : r.result.timings)
        std::cerr << "pgvise: " << file.Where(stmt) << ": pass " << t.pass << " " << Fixed(t.ms, 3)
                  << " ms" << (t.verified ? "" : " (undone: output did not parse)") << "\n";
    }
    reps.push_back(std::move(r));
  }
  if (common.verbose && catalog)
    std::cerr << "pgvise: catalog queries: " << catalog->queries() << "\n";

  RewriteReportOptions rro;
  if (session) rro.database = session->masked_conninfo();
  CommonOptions out = common;
  out.format = a.format;
  WriteReport(out, nullptr, RewriteReport(file, reps, rro));
  return static_cast<int>(bad_input ? ExitCode::kInputError : ExitCode::kOk);
}

}  // namespace

RunFn SetupRewrite(CLI::App& app, std::shared_ptr<CommonOptions> common) {
  AddCommonOptions(app, common.get(), true, false);
  auto a = std::make_shared<RewriteArgs>();
  app.add_option("file", a->file, "SQL file to rewrite ('-' = stdin)")->capture_default_str();
  app.add_option("--format", a->format,
                 "sql: the rewritten SQL; text: SQL with the passes' reasons as comments; json; "
                 "markdown | html: a page with original vs rewritten SQL, passes and costs")
      ->check(CLI::IsMember({"sql", "text", "json", "markdown", "html"}))
      ->capture_default_str();
  app.add_option("--disable", a->disable, "disable a pass by name (repeatable)");
  app.add_flag("--verify", a->verify,
               "run both forms on --db too (read-only): compare results and time them; a "
               "rewrite measured slower is withheld; without it --db still compares EXPLAIN "
               "costs and proposes only cheaper rewrites, except where the estimate is known "
               "to mislead (a per-row index probe), which wait for --verify");
  app.add_option("--verify-runs", a->verify_runs,
                 "timed runs of each form after a warm-up under --verify (medians compared; "
                 "fewer when they would take over 10 s)")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app.add_flag("--no-pretty", a->no_pretty, "print the rewrite on one line");
  app.add_flag("--list-passes", a->list_passes, "list the passes in the order they run");
  return [a, common]() -> int { return Run(*a, *common); };
}

}  // namespace pgvise
