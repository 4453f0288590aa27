// The report model's shared parts: format names, block constructors, the
// default body and JSON document, and the dispatch to one renderer per format
// (core/report_text.cc, report_markdown.cc, report_html.cc, report_sql.cc;
// findings-only formats reuse core/render.cc).
#include "core/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/json.h"
#include "core/render.h"

namespace pgvise {

namespace {
constexpr struct {
  ReportFormat format;
  const char* name;
} kFormats[] = {
    {ReportFormat::kText, "text"},         {ReportFormat::kJson, "json"},
    {ReportFormat::kSarif, "sarif"},       {ReportFormat::kGitlab, "gitlab"},
    {ReportFormat::kMarkdown, "markdown"}, {ReportFormat::kHtml, "html"},
    {ReportFormat::kSql, "sql"},
};
}  // namespace

std::string Thousands(double n) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.0f", std::fabs(n));
  std::string digits = buf, out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return (n <= -0.5 ? "-" : "") + out;
}

const char* ReportFormatName(ReportFormat f) {
  for (const auto& x : kFormats)
    if (x.format == f) return x.name;
  return "text";
}

std::optional<ReportFormat> ParseReportFormat(std::string_view name) {
  for (const auto& x : kFormats)
    if (name == x.name) return x.format;
  return std::nullopt;
}

ReportBlock ReportBlock::Heading(std::string t, int level) {
  ReportBlock b;
  b.kind = Kind::kHeading;
  b.text = std::move(t);
  b.level = std::clamp(level, 1, 3);
  return b;
}
ReportBlock ReportBlock::Paragraph(std::string t, std::string tone) {
  ReportBlock b;
  b.kind = Kind::kParagraph;
  b.text = std::move(t);
  b.tone = std::move(tone);
  return b;
}
ReportBlock ReportBlock::KeyValues(std::vector<std::pair<std::string, std::string>> kv) {
  ReportBlock b;
  b.kind = Kind::kKeyValues;
  b.pairs = std::move(kv);
  return b;
}
ReportBlock ReportBlock::Table(ReportTable t, std::string caption) {
  ReportBlock b;
  b.kind = Kind::kTable;
  b.table = std::move(t);
  b.text = std::move(caption);
  return b;
}
ReportBlock ReportBlock::Code(std::string sql, std::string caption) {
  ReportBlock b;
  b.kind = Kind::kCode;
  b.text = std::move(sql);
  b.pairs = {{"caption", std::move(caption)}};
  return b;
}
ReportBlock ReportBlock::Findings() {
  ReportBlock b;
  b.kind = Kind::kFindings;
  return b;
}
ReportBlock ReportBlock::Tree(ReportTreeNode root, std::string caption) {
  ReportBlock b;
  b.kind = Kind::kTree;
  b.tree = std::move(root);
  b.text = std::move(caption);
  return b;
}
ReportBlock ReportBlock::Notes() {
  ReportBlock b;
  b.kind = Kind::kNotes;
  return b;
}

void Report::Note(const std::string& n) {
  if (std::find(notes.begin(), notes.end(), n) == notes.end()) notes.push_back(n);
}

bool Report::Offers(ReportFormat f) const {
  if (f == ReportFormat::kSql && actions.empty() && sql_header.empty()) return false;
  return formats.empty() || std::find(formats.begin(), formats.end(), f) != formats.end();
}

std::string RenderReportJson(const Report& r) {
  if (!r.json.is_null()) return r.json.dump(2) + "\n";
  // A findings report (review, explain) keeps the findings contract.
  if (r.actions.empty()) {
    RenderOptions ro;
    ro.format = "json";
    ro.command = r.command;
    ro.notes = r.notes;
    ro.inputs = r.inputs;
    return RenderFindings(r.findings, ro);
  }
  // The default document for a report with actions.
  nlohmann::ordered_json doc;
  doc["tool"] = "pgvise";
  doc["command"] = r.command;
  doc["inputs"] = r.inputs;
  doc["notes"] = r.notes;
  auto findings = nlohmann::ordered_json::array();
  for (const auto& f : r.findings) findings.push_back(ToJson(f));
  doc["findings"] = std::move(findings);
  auto recs = nlohmann::ordered_json::array();
  for (const auto& a : r.actions) {
    auto j = ToJson(a.rec);
    j["executable"] = a.executable;
    recs.push_back(std::move(j));
  }
  doc["recommendations"] = std::move(recs);
  auto stats = nlohmann::ordered_json::object();
  for (const auto& s : r.stats) stats[s.label] = s.value;
  doc["stats"] = std::move(stats);
  return doc.dump(2) + "\n";
}

std::string RenderReport(const Report& r, const ReportRenderOptions& o) {
  for (const auto& [format, document] : r.documents)
    if (format == o.format) return document;
  switch (o.format) {
    case ReportFormat::kText:
      return RenderReportText(r, o);
    case ReportFormat::kMarkdown:
      return RenderReportMarkdown(r, o);
    case ReportFormat::kHtml:
      return RenderReportHtml(r, o);
    case ReportFormat::kSql:
      return RenderReportSql(r);
    case ReportFormat::kJson:
      return RenderReportJson(r);
    case ReportFormat::kSarif:
    case ReportFormat::kGitlab: {
      RenderOptions ro;
      ro.format = ReportFormatName(o.format);
      ro.command = r.command;
      ro.rules = o.rules;
      ro.notes = r.notes;
      ro.inputs = r.inputs;
      return RenderFindings(r.findings, ro);
    }
  }
  return RenderReportText(r, o);
}

}  // namespace pgvise
