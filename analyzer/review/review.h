// Review: the `pgvise review` pipeline — lint SQL files and migrations before
// they deploy — as one entry point, RunReview(options) -> ReviewResult, the
// way maintenance has BuildMaintenancePlan. cli/cmd_review.cc parses options,
// opens the session, calls it, renders the result and maps it to an exit
// code; everything between is here. One named step each:
//
//   CollectInputs      a directory means its *.sql files (recursively, sorted)
//   LoadFile           read (SourceText) -> split + parse -> syntax errors as
//                      findings, for every input before any rule runs
//   ReadCatalog        --db: one table snapshot (sizes, row counts, columns),
//                      one pg_proc query for every function called in an ADD
//                      COLUMN DEFAULT of any file (volatility decides whether
//                      the table is rewritten), one pg_type query for every
//                      type an ADD COLUMN or ALTER COLUMN TYPE names (a
//                      domain's base type and constraints decide); all in
//                      catalog/
//   ReviewFile         static rules -> with --db, EXPLAIN every query
//                      statement and run the plan checks on it -> the
//                      RewriteProposer (the rewriter's, wired by the CLI): a
//                      correlated-subquery or subplan-per-outer-row finding
//                      gets `pgvise rewrite`'s rewrite of its statement (or
//                      why it was refused)
//
// Input that cannot be read at all (missing file, binary, over the size limit)
// ends the command: RunReview throws Error (exit 2) before anything is
// printed. A statement that does not parse is expected in a file of many: it
// is reported as a `syntax-error` finding at its file:line:col, the rest of the
// file is still analysed, and ReviewResult::input_error says so.
#pragma once

#include <string>
#include <vector>

#include "analyzer/sql/statement.h"
#include "catalog/catalog.h"
#include "core/finding.h"
#include "core/report.h"
#include "core/rule.h"
#include "core/session.h"

namespace pgvise {

// Attaches proposed rewrites to the findings of one file that ask for one.
// Declared here, implemented by the rewriter (rewriter/review_rewrites.h): the
// analyzer sits below the rewriter and does not call it.
class RewriteProposer {
 public:
  virtual ~RewriteProposer() = default;
  // [begin, end) are the findings of `file` (static and plan); `catalog` is
  // the --db snapshot or nullptr.
  virtual void Propose(const SqlFile& file, const Catalog* catalog,
                       std::vector<Finding>::iterator begin,
                       std::vector<Finding>::iterator end) = 0;
};

struct ReviewOptions {
  std::vector<std::string> inputs;      // what CollectReviewInputs returned
  const RuleBook* rules = nullptr;      // checked with CheckReviewRules
  Session* session = nullptr;           // --db: READ ONLY, timeouts set; nullptr without
  RewriteProposer* rewrites = nullptr;  // nullptr: findings keep their own suggestion
  bool verbose = false;                 // -v: each step's time on stderr
};

struct ReviewResult {
  std::vector<Finding> findings;   // in file order, not sorted
  std::vector<std::string> files;  // every file analysed, in order
  std::vector<std::string> notes;
  bool input_error = false;  // a statement or file did not parse (exit 2)
  int explained = 0;         // statements EXPLAINed (--db)
  // The source line each finding points at (one per file:line), for the
  // formats that show it (HTML).
  std::vector<SourceExcerpt> excerpts;
};

// The guarantee that every migration, query and plan rule has both its YAML
// and its handler: throws Error (exit 2) when they disagree.
void CheckReviewRules(const RuleBook& book);

// A directory stands for the .sql files under it, sorted; an explicit file is
// taken whatever its extension; stdin is `-`. Throws Error (exit 2) for no
// input, a directory without .sql files, or stdin twice.
std::vector<std::string> CollectReviewInputs(const std::vector<std::string>& args);

// Runs the pipeline. Throws Error for what ends the command (unreadable
// input: exit 2; the database failing: exit 3).
ReviewResult RunReview(const ReviewOptions& options);

}  // namespace pgvise
