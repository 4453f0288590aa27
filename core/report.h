// Report: the one document every pgvise command produces, and the one set of
// renderers that turn it into text, JSON, SARIF, Markdown, HTML or SQL.
//
// Analysis never prints. Each command ends by filling a Report — its
// findings ("this will hurt"), its actions (recommendations, each either SQL
// to run or advice to read), notes said once, run statistics, and a body of
// blocks that lays those out for a person — and hands it to RenderReport with
// the format the user asked for:
//
//   review / explain ──┐                       ┌─► text      (blocks, for a terminal)
//   advise           ──┤                       ├─► markdown  (blocks, for a ticket)
//   rewrite          ──┼─► Report ─► Render ───┼─► html      (blocks, self-contained page)
//   maintain         ──┘                       ├─► json      (the command's contract document)
//                                              ├─► sarif     (findings, for code scanning)
//                                              └─► sql       (actions, a script psql runs)
//
// The body is a list of generic blocks (headings, paragraphs, key/value
// lists, tables with optional bar columns, code, findings, trees) so a new
// command or a new kind of advice gets every human format at once; the JSON
// document stays each command's own (docs/contracts.md), built by the command
// because scripts depend on its exact shape.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/finding.h"
#include "core/rule.h"

namespace pgvise {

enum class ReportFormat { kText, kJson, kSarif, kGitlab, kMarkdown, kHtml, kSql };

// "text" | "json" | "sarif" | "gitlab" | "markdown" | "html" | "sql"
const char* ReportFormatName(ReportFormat f);
std::optional<ReportFormat> ParseReportFormat(std::string_view name);

// One recommendation as the report shows it: executable actions are run by
// an SQL script as printed; advice is shown commented out (it needs a
// person's decision: pg_repack, terminating a session, a rewrite to review).
struct ReportAction {
  Recommendation rec;
  bool executable = true;
  std::string heading;  // one line naming the action, e.g. "index on shop.orders (user_id)"
};

// A number (or word) about the run itself: how long, how many queries.
struct ReportStat {
  std::string label;  // "what-if calls"
  std::string value;  // "1,803"
};

// A table cell. A bar cell also carries the value a bar is drawn for
// (HTML draws it; text and Markdown show `text`).
struct ReportCell {
  std::string text;
  std::optional<double> bar;  // value on the column's scale
};

struct ReportTable {
  std::vector<std::string> header;
  std::vector<bool> numeric;  // right-aligned columns (may be shorter than header)
  std::vector<std::vector<ReportCell>> rows;
  bool log_scale = false;  // bars on a log10 scale (costs that span decades)
  // The top of a linear scale when it is not the largest value: 100 for
  // percentages (a table at 5% dead tuples must not draw a full bar).
  std::optional<double> bar_max;
};

// A node of a tree block (an EXPLAIN plan): a label, its figures, a bar
// value (time or cost) and the indices of findings pinned on it.
struct ReportTreeNode {
  std::string label;                                         // "Hash Join"
  std::string detail;                                        // "on orders o"
  std::vector<std::pair<std::string, std::string>> figures;  // {"rows", "1,204 est 20"}
  std::optional<double> bar;                                 // self time or cost
  std::vector<size_t> findings;                              // into Report::findings
  std::vector<ReportTreeNode> children;
};

struct ReportBlock {
  enum class Kind {
    kHeading,    // text; level 1..3
    kParagraph,  // text (may hold newlines)
    kKeyValues,  // pairs
    kTable,      // table (+ text as caption)
    kCode,       // text: SQL shown in full, copyable
    kFindings,   // the report's findings, grouped by file, with source lines
    kTree,       // tree (+ text as caption)
    kNotes,      // the report's notes
  };
  Kind kind = Kind::kParagraph;
  int level = 2;
  std::string text;
  std::vector<std::pair<std::string, std::string>> pairs;
  ReportTable table;
  ReportTreeNode tree;
  std::string tone;  // "", "good", "warn", "bad": a hint for HTML colouring
  // Drawn only in HTML: a picture (a plan tree, a chart) whose content the
  // text formats already say in their own words.
  bool html_only = false;

  static ReportBlock Heading(std::string t, int level = 2);
  static ReportBlock Paragraph(std::string t, std::string tone = "");
  static ReportBlock KeyValues(std::vector<std::pair<std::string, std::string>> kv);
  static ReportBlock Table(ReportTable t, std::string caption = "");
  static ReportBlock Code(std::string sql, std::string caption = "");
  static ReportBlock Findings();
  static ReportBlock Tree(ReportTreeNode root, std::string caption = "");
  static ReportBlock Notes();
};

// The source line a finding points at, shown under it in HTML and Markdown
// (review: "findings per file with the source lines they point at").
struct SourceExcerpt {
  std::string file;
  int line = 0;
  std::string text;
};

struct Report {
  std::string command;   // "review" | "explain" | "advise" | "rewrite" | "maintain"
  std::string title;     // first line of every human format
  std::string database;  // masked connection string, "" when offline
  std::vector<std::string> inputs;
  std::vector<Finding> findings;
  std::vector<ReportAction> actions;
  std::vector<std::string> notes;
  std::vector<ReportStat> stats;
  std::vector<ReportBlock> body;  // empty: a default body (findings, actions, notes)
  std::vector<SourceExcerpt> excerpts;
  // The command's JSON document (docs/contracts.md). Null: a default one.
  nlohmann::ordered_json json;
  // SQL script: lines said first (as comments) and statements run first
  // (SET lock_timeout ...; a psql meta-command such as \set ON_ERROR_STOP
  // off is written without ";"). Empty: the format is not offered.
  std::vector<std::string> sql_header;
  std::vector<std::string> sql_prologue;
  std::vector<std::string> sql_footer;  // comment lines at the end (e.g. a revert script)
  // What the SQL script says when there are no actions ("" = "nothing to do").
  std::string sql_empty;
  // Formats whose document the command writes itself, printed as is: scripts
  // psql runs rather than pages (rewrite's SQL and its commented-SQL text).
  // Every other format still comes from the blocks.
  std::vector<std::pair<ReportFormat, std::string>> documents;
  std::vector<ReportFormat> formats;  // what this command offers; empty: every format

  void Note(const std::string& n);  // once
  bool Offers(ReportFormat f) const;
};

struct ReportRenderOptions {
  ReportFormat format = ReportFormat::kText;
  const RuleBook* rules = nullptr;  // rule metadata for SARIF and Markdown
  bool color = false;               // ANSI colour in text (cli decides)
};

// Renders `r`; a format the report does not offer is the caller's error
// (cli validates --format against Report::formats before analysis starts).
std::string RenderReport(const Report& r, const ReportRenderOptions& o);

// One renderer per format (core/report_<format>.cc).
std::string RenderReportText(const Report& r, const ReportRenderOptions& o);
std::string RenderReportMarkdown(const Report& r, const ReportRenderOptions& o);
std::string RenderReportHtml(const Report& r, const ReportRenderOptions& o);
std::string RenderReportSql(const Report& r);
std::string RenderReportJson(const Report& r);

// Escapes text for HTML element content and attribute values.
std::string HtmlEscape(std::string_view s);

// A count as people read it in every format: rounded, digits grouped by
// thousands ("1,204,331", "-2,000").
std::string Thousands(double n);

}  // namespace pgvise
