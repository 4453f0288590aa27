// pgvise review [FILES | DIRS | -] — lint SQL files and migrations before they
// deploy. The pipeline is analyzer/review.h's RunReview; this file wires it:
//
//   LoadRules          rule YAML + .pgvise.yaml; YAML and handlers must agree
//   OpenSession        --db: READ ONLY session, statement and lock timeouts
//   RunReview          inputs -> parse -> catalog -> rules, plans, rewrites
//                      (the rewriter's ReviewRewrites proposes the rewrites)
//   Report             sort, render in --format, exit code: 2 when an input
//                      did not parse, else from --fail-on
#include <CLI/CLI.hpp>

#include <memory>

#include "analyzer/review.h"
#include "cli/command.h"
#include "core/render.h"
#include "rewriter/review_rewrites.h"

namespace pgvise {

namespace {

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

  SortFindings(&r.findings);
  WriteFindings(c, book, "review", r.findings, r.notes, r.files);
  if (r.input_error) return static_cast<int>(ExitCode::kInputError);
  return static_cast<int>(ExitFor(r.findings, c.fail_on));
}

}  // namespace

RunFn SetupReview(CLI::App& app, std::shared_ptr<CommonOptions> common) {
  auto inputs = std::make_shared<std::vector<std::string>>();
  AddCommonOptions(app, common.get(), true, true);
  app.add_option("--format", common->format, "text | json | sarif | markdown")
      ->check(CLI::IsMember({"text", "json", "sarif", "markdown"}))
      ->capture_default_str();
  app.add_option("inputs", *inputs, "SQL files, directories of *.sql files, or - for stdin");
  return [common, inputs]() -> int { return Review(*common, *inputs); };
}

}  // namespace pgvise
