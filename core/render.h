// Renderers for findings: the one place that turns Findings into text,
// JSON, SARIF 2.1.0, GitLab Code Quality (Code Climate JSON) or Markdown. `pgvise review` and
// `pgvise explain` (and any command that reports findings) call RenderFindings; analysis never
// prints.
#pragma once

#include <string>
#include <vector>

#include "core/finding.h"
#include "core/rule.h"

namespace pgvise {

struct RenderOptions {
  std::string format = "text";      // text | json | sarif | gitlab | markdown
  std::string command;              // "review", "explain" — named in JSON/SARIF/Markdown output
  const RuleBook* rules = nullptr;  // rule metadata for SARIF and Markdown (may be null)
  bool color = false;               // ANSI colour in text (cli decides: TTY and no NO_COLOR)
  std::vector<std::string> notes;   // lines said once, e.g. "plan has no ANALYZE data: ..."
  std::vector<std::string> inputs;  // files analysed (SARIF artifacts, summaries)
};

// Renders findings; unknown formats are the caller's error (cli validates).
std::string RenderFindings(const std::vector<Finding>& findings, const RenderOptions& opts);

// Sorts findings by file, line, column, then severity (errors first), so output is stable.
void SortFindings(std::vector<Finding>* findings);

}  // namespace pgvise
