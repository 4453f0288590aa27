// ExplainCheck: `pgvise explain`'s pipeline below the CLI — read a plan (a
// file, or EXPLAIN run on a live server per statement of a SQL file), run the
// plan checks (plan_rules.h) and put findings, notes and each plan's tree into
// the report model (core/report.h). cli/cmd_explain.cc parses options, opens
// the READ ONLY session, calls these and renders.
//
//   CheckPlanFile      EXPLAIN (FORMAT JSON) output in any pasted shape
//   ReadExplainSql     the SQL file, refused before connecting when a
//                      statement does not parse or --analyze would execute
//                      a statement that writes
//   CheckSqlFile       EXPLAIN [ANALYZE, BUFFERS] per query statement
//                      (explain_runner.h: each in a rolled-back READ ONLY
//                      transaction), then the same checks
//
// Input problems throw Error with exit 2; a failed EXPLAIN throws exit 3 for
// a database error, 2 for a statement the server rejects.
#pragma once

#include <string>

#include "analyzer/sql/statement.h"
#include "core/report.h"
#include "core/rule.h"
#include "core/session.h"

namespace pgvise {

struct ExplainCheckOptions {
  bool analyze = false;  // EXPLAIN ANALYZE: executes each (read-only) query
  bool buffers = false;  // with analyze: BUFFERS
};

void CheckPlanFile(const std::string& path, const RuleBook& book, Report* report);

SqlFile ReadExplainSql(const std::string& path, bool analyze);

void CheckSqlFile(Session& session, const SqlFile& file, const ExplainCheckOptions& o,
                  const RuleBook& book, Report* report);

}  // namespace pgvise
