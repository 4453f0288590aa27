// Rendering a rewrite run: the last step of `pgvise rewrite`. Each statement
// (its passes, the check of its costs, the SQL proposed) becomes the one
// report model (core/report.h):
//   sql       the SQL only: statements separated by ";" and a blank line
//   text      the same SQL with `--` comments per statement (passes applied,
//             refused or left, with file:line:col; the cost check) — still a
//             script psql runs, so every comment goes through SqlComment
//   json      {"statements": [...]} (docs/rewrite.md)
//   markdown, html
//             a page per run: per statement the original and the rewritten
//             SQL, each pass with its safety argument or its reason to refuse,
//             the costs (EXPLAIN, and with --verify the timings) with bars
// sql, text and json are the command's own documents (Report::documents):
// scripts and a contract that must not change with the page layout.
#pragma once

#include <string>
#include <vector>

#include "analyzer/sql/statement.h"
#include "core/report.h"
#include "rewriter/rewriter.h"
#include "rewriter/verify.h"

namespace pgvise {

// How a rewrite's cost was checked before it was proposed.
enum class RewriteCheck {
  kNone,      // no --db: proposed unchecked
  kEstimate,  // --db: EXPLAIN of both forms, proposed only when cheaper and the
              // estimate is not known to mislead (MisleadingEstimate)
  kMeasured,  // --db --verify: also run both, results compared, timed
};

struct StatementRewrite {
  const Statement* stmt = nullptr;
  RewriteResult result;
  RewriteCheck check = RewriteCheck::kNone;
  VerifyResult verify;  // meaningful when check != kNone
  std::string output;   // SQL printed for this statement (rewrite or original), no ";"
  bool proposed = false;
};

struct RewriteReportOptions {
  std::string database;  // masked connection string, "" without --db
};

Report RewriteReport(const SqlFile& file, const std::vector<StatementRewrite>& statements,
                     const RewriteReportOptions& o);

// What the cost check says about one statement, one line ("" when there
// was nothing to check): both costs and the decision; where the estimate is
// known to mislead (MisleadingEstimate), why, and, with --db alone, that
// the rewrite is withheld until --verify measures it.
std::string CheckSummary(const StatementRewrite& s);

// The method that settled the statement ("estimate: ...", "measurement:
// ...", "results: ..."), "" when nothing was checked.
std::string DecidedBy(const StatementRewrite& s);

}  // namespace pgvise
