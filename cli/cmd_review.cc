// pgvise review [FILES | DIRS | -] — lint SQL files and migrations before they
// deploy. The pipeline is analyzer/review/review.h's RunReview; this file wires it:
//
//   LoadRules          rule YAML + .pgvise.yaml; YAML and handlers must agree
//   OpenSession        --db: READ ONLY session, statement and lock timeouts
//   RunReview          inputs -> parse -> catalog -> rules, plans, rewrites
//                      (the rewriter's ReviewRewrites proposes the rewrites)
//   Report             sort, render in --format (html through the Report
//                      model), exit code: 2 when an input did not parse,
//                      else from --fail-on
#include <CLI/CLI.hpp>

#include <memory>

#include "analyzer/review/review.h"
#include "cli/command.h"
#include "core/render.h"
#include "rewriter/review_rewrites.h"

namespace pgvise {

namespace {

// HTML is drawn from the one report model (core/report.h): findings per file
// with the source lines they point at. text, json, sarif and markdown keep
// the finding renderers their golden files were written with.
Report AsReport(ReviewResult r, Session* session) {
  Report rep;
  rep.command = "review";
  rep.title = "pgvise review";
  if (session) rep.database = session->masked_conninfo();
  rep.inputs = std::move(r.files);
  rep.findings = std::move(r.findings);
  rep.notes = std::move(r.notes);
  rep.excerpts = std::move(r.excerpts);
  rep.body.push_back(ReportBlock::Findings());
  rep.body.push_back(ReportBlock::Notes());
  return rep;
}

int Review(const CommonOptions& c, const std::vector<std::string>& inputs) {
  const RuleBook book = LoadRules(c);
  CheckReviewRules(book);
  const std::vector<std::string> paths = CollectReviewInputs(inputs);  // exit 2 before connecting
  std::unique_ptr<Session> session;
  if (!c.db.empty()) session = OpenSession(c);  // READ ONLY, timeouts set; throws exit 3
  ReviewRewrites rewrites(session.get());

  ReviewOptions o;
  o.inputs = paths;
  o.rules = &book;
  o.session = session.get();
  o.rewrites = &rewrites;
  o.verbose = c.verbose;
  ReviewResult r = RunReview(o);
  const ExitCode exit = r.input_error ? ExitCode::kInputError : ExitFor(r.findings, c.fail_on);

  SortFindings(&r.findings);
  if (c.format == "html") {
    WriteReport(c, &book, AsReport(std::move(r), session.get()));
    return static_cast<int>(exit);
  }
  WriteFindings(c, book, "review", r.findings, r.notes, r.files);
  return static_cast<int>(exit);
}

}  // namespace

RunFn SetupReview(CLI::App& app, std::shared_ptr<CommonOptions> common) {
  auto inputs = std::make_shared<std::vector<std::string>>();
  AddCommonOptions(app, common.get(), true, true);
  app.add_option("--format", common->format, "text | json | sarif | gitlab | markdown | html")
      ->check(CLI::IsMember({"text", "json", "sarif", "gitlab", "markdown", "html"}))
      ->capture_default_str();
  app.add_option("inputs", *inputs, "SQL files, directories of *.sql files, or - for stdin");
  return [common, inputs]() -> int { return Review(*common, *inputs); };
}

}  // namespace pgvise
