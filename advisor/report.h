// Rendering an AdviseReport: the last step of `pgvise advise`. Analysis is
// done; these functions only read the report.
//   text      a terminal summary
//   json      {summary, recommendations[], drops[], unverified[], statements[]}
//             with each recommendation in core/json.h's Recommendation shape
//   markdown  a report for a ticket or a wiki
//   html      the same, self-contained (inline CSS, bars on a log scale,
//             no script, no network), for a browser
//   sql       a ready-to-run script: SET lock_timeout, CREATE INDEX
//             CONCURRENTLY IF NOT EXISTS / DROP INDEX CONCURRENTLY, each with
//             a comment saying why; RenderRevertSql() undoes it.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "advisor/advisor.h"
#include "core/report.h"

namespace pgvise {

struct AdviceRenderOptions {
  std::string format = "text";
  std::string database;         // masked connection string, for the header
  int lock_timeout_ms = 5000;   // for the SQL script
  bool include_revert = false;  // sql: append the revert script as a commented section
};

// The advice as the report model (core/report.h): the JSON contract, the
// SQL script's actions, and a body of blocks for text, Markdown and HTML.
Report AdviceReport(const AdviseReport& r, const AdviceRenderOptions& o);
std::string RenderAdvice(const AdviseReport& r, const AdviceRenderOptions& o);
std::string RenderRevertSql(const AdviseReport& r, const AdviceRenderOptions& o);
nlohmann::ordered_json AdviceToJson(const AdviseReport& r);

// "1.5 MB", "820 kB", "12 GB"
std::string HumanBytes(int64_t bytes);

}  // namespace pgvise
