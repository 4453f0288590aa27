// Text and Markdown renderers of a Report's body: a terminal summary and a
// ticket/wiki page, block by block. A findings block is rendered by
// core/render.cc, so review and explain read exactly as they always have.
//
// Text, for a body of [heading, key/values, table, code]:
//
//   pgvise advise: schema changes for the workload
//
//   Summary
//   -------
//     workload cost   1.2e+07 -> 3.1e+05 (-97.4%)
//     storage         41 MB of 2 GB
//
//   statement            calls   before    after
//   orders by user        5000   8,310.2     12.4
//
//       CREATE INDEX CONCURRENTLY ...
#include <algorithm>
#include <sstream>

#include "core/render.h"
#include "core/report.h"

namespace pgvise {

namespace {

// Display width in characters (UTF-8 continuation bytes do not count).
size_t Width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

std::string Pad(const std::string& s, size_t width, bool right) {
  const size_t w = Width(s);
  if (w >= width) return s;
  std::string fill(width - w, ' ');
  return right ? fill + s : s + fill;
}

// Cells and key/values are one line: a name with a newline must not break
// the layout (nor start a line that looks like something else).
std::string Flat(const std::string& s) {
  std::string out;
  for (char c : s) out.push_back(c == '\n' || c == '\r' || c == '\t' ? ' ' : c);
  return out;
}

bool HasNotesBlock(const std::vector<ReportBlock>& body) {
  return std::any_of(body.begin(), body.end(),
                     [](const ReportBlock& b) { return b.kind == ReportBlock::Kind::kNotes; });
}

std::string FindingsWith(const Report& r, const ReportRenderOptions& o, const char* format,
                         bool with_notes) {
  RenderOptions ro;
  ro.format = format;
  ro.command = r.command;
  ro.rules = o.rules;
  ro.color = o.color && std::string(format) == "text";
  if (with_notes) ro.notes = r.notes;
  ro.inputs = r.inputs;
  return RenderFindings(r.findings, ro);
}

// The default body: findings, then actions, then notes.
std::vector<ReportBlock> DefaultBody(const Report& r) {
  std::vector<ReportBlock> body;
  if (!r.title.empty()) body.push_back(ReportBlock::Heading(r.title, 1));
  if (!r.findings.empty() || r.actions.empty()) body.push_back(ReportBlock::Findings());
  for (const auto& a : r.actions) {
    body.push_back(ReportBlock::Heading(
        a.heading.empty() ? std::string(RecommendationKindName(a.rec.kind)) : a.heading, 3));
    if (!a.rec.reason.empty()) body.push_back(ReportBlock::Paragraph(a.rec.reason));
    if (!a.rec.sql.empty()) body.push_back(ReportBlock::Code(a.rec.sql));
  }
  if (!r.notes.empty() && !r.actions.empty()) body.push_back(ReportBlock::Notes());
  return body;
}

void TextTable(const ReportTable& t, std::ostream& out) {
  std::vector<size_t> width(t.header.size(), 0);
  for (size_t c = 0; c < t.header.size(); ++c) width[c] = Width(t.header[c]);
  for (const auto& row : t.rows)
    for (size_t c = 0; c < row.size() && c < width.size(); ++c)
      width[c] = std::max(width[c], Width(Flat(row[c].text)));
  auto numeric = [&](size_t c) { return c < t.numeric.size() && t.numeric[c]; };
  std::string line = "  ";
  for (size_t c = 0; c < t.header.size(); ++c)
    line += (c ? "  " : "") + Pad(t.header[c], width[c], numeric(c));
  while (!line.empty() && line.back() == ' ') line.pop_back();
  out << line << "\n";
  for (const auto& row : t.rows) {
    line = "  ";
    for (size_t c = 0; c < row.size() && c < width.size(); ++c)
      line += (c ? "  " : "") + Pad(Flat(row[c].text), width[c], numeric(c));
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << "\n";
  }
}

void TextTree(const ReportTreeNode& n, const Report& r, int depth, std::ostream& out) {
  std::string pad(static_cast<size_t>(depth) * 3, ' ');
  out << "  " << pad << (depth ? "-> " : "") << Flat(n.label);
  if (!n.detail.empty()) out << " " << Flat(n.detail);
  if (!n.figures.empty()) {
    out << "  (";
    for (size_t i = 0; i < n.figures.size(); ++i)
      out << (i ? ", " : "") << n.figures[i].first << " " << Flat(n.figures[i].second);
    out << ")";
  }
  out << "\n";
  for (size_t f : n.findings)
    if (f < r.findings.size())
      out << "  " << pad << "   ! " << SeverityName(r.findings[f].severity) << ": "
          << Flat(r.findings[f].message) << " [" << r.findings[f].rule << "]\n";
  for (const auto& c : n.children) TextTree(c, r, depth + 1, out);
}

void MdTree(const ReportTreeNode& n, const Report& r, int depth, std::ostream& out) {
  out << std::string(static_cast<size_t>(depth) * 2, ' ') << "- **" << Flat(n.label) << "**";
  if (!n.detail.empty()) out << " " << Flat(n.detail);
  for (const auto& [k, v] : n.figures) out << " · " << k << " " << Flat(v);
  for (size_t f : n.findings)
    if (f < r.findings.size()) out << " ⚠️ `" << r.findings[f].rule << "`";
  out << "\n";
  for (const auto& c : n.children) MdTree(c, r, depth + 1, out);
}

std::string MdCell(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n')
      out += "<br>";
    else if (c != '\r')
      out.push_back(c);
  }
  return out;
}

// A fence longer than any run of backticks in the code, so the code cannot
// close it.
std::string Fence(const std::string& code) {
  size_t longest = 0, run = 0;
  for (char c : code) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  return std::string(std::max<size_t>(3, longest + 1), '`');
}

// The body as the text formats show it: the default one, or the command's
// without its HTML-only pictures.
std::vector<ReportBlock> TextBody(const Report& r) {
  if (r.body.empty()) return DefaultBody(r);
  std::vector<ReportBlock> body;
  for (const auto& b : r.body)
    if (!b.html_only) body.push_back(b);
  return body;
}

}  // namespace

std::string RenderReportText(const Report& r, const ReportRenderOptions& o) {
  const std::vector<ReportBlock> body = TextBody(r);
  const bool notes_block = HasNotesBlock(body);
  std::ostringstream out;
  bool first = true;
  for (const auto& b : body) {
    if (!first && b.kind != ReportBlock::Kind::kCode) out << "\n";
    first = false;
    switch (b.kind) {
      case ReportBlock::Kind::kHeading:
        out << Flat(b.text) << "\n";
        if (b.level == 2) out << std::string(Width(Flat(b.text)), '-') << "\n";
        break;
      case ReportBlock::Kind::kParagraph:
        out << b.text << "\n";
        break;
      case ReportBlock::Kind::kKeyValues: {
        size_t w = 0;
        for (const auto& kv : b.pairs) w = std::max(w, Width(kv.first));
        for (const auto& [k, v] : b.pairs)
          out << "  " << Pad(k, w, false) << "  " << Flat(v) << "\n";
        break;
      }
      case ReportBlock::Kind::kTable:
        if (!b.text.empty()) out << Flat(b.text) << "\n";
        TextTable(b.table, out);
        break;
      case ReportBlock::Kind::kCode: {
        std::istringstream lines(b.text);
        std::string line;
        while (std::getline(lines, line)) out << "    " << line << "\n";
        break;
      }
      case ReportBlock::Kind::kFindings:
        // Review and explain print only this block: their output is the
        // findings renderer's, notes and summary line included.
        out << FindingsWith(r, o, "text", !notes_block);
        break;
      case ReportBlock::Kind::kTree:
        if (!b.text.empty()) out << Flat(b.text) << "\n";
        TextTree(b.tree, r, 0, out);
        break;
      case ReportBlock::Kind::kNotes:
        for (const auto& n : r.notes) out << "note: " << Flat(n) << "\n";
        break;
    }
  }
  std::string s = out.str();
  // A body that is only findings must print what RenderFindings prints.
  if (body.size() == 1 && body[0].kind == ReportBlock::Kind::kFindings) return s;
  if (!r.stats.empty()) {
    s += "\n";
    for (size_t i = 0; i < r.stats.size(); ++i)
      s += (i ? ", " : "") + r.stats[i].label + " " + r.stats[i].value;
    s += "\n";
  }
  return s;
}

std::string RenderReportMarkdown(const Report& r, const ReportRenderOptions& o) {
  const std::vector<ReportBlock> body = TextBody(r);
  if (body.size() == 1 && body[0].kind == ReportBlock::Kind::kFindings)
    return FindingsWith(r, o, "markdown", true);
  const bool notes_block = HasNotesBlock(body);
  std::ostringstream out;
  for (const auto& b : body) {
    switch (b.kind) {
      case ReportBlock::Kind::kHeading:
        out << std::string(static_cast<size_t>(b.level) + 1, '#') << " " << Flat(b.text) << "\n\n";
        break;
      case ReportBlock::Kind::kParagraph:
        out << b.text << "\n\n";
        break;
      case ReportBlock::Kind::kKeyValues:
        for (const auto& [k, v] : b.pairs)
          out << "- **" << MdCell(k) << "**: " << MdCell(v) << "\n";
        out << "\n";
        break;
      case ReportBlock::Kind::kTable: {
        if (!b.text.empty()) out << "*" << MdCell(b.text) << "*\n\n";
        const auto& t = b.table;
        out << "|";
        for (const auto& h : t.header) out << " " << MdCell(h) << " |";
        out << "\n|";
        for (size_t c = 0; c < t.header.size(); ++c)
          out << (c < t.numeric.size() && t.numeric[c] ? "---:|" : "---|");
        out << "\n";
        for (const auto& row : t.rows) {
          out << "|";
          for (const auto& cell : row) out << " " << MdCell(cell.text) << " |";
          out << "\n";
        }
        out << "\n";
        break;
      }
      case ReportBlock::Kind::kCode: {
        const std::string fence = Fence(b.text);
        out << fence << "sql\n"
            << b.text << (b.text.ends_with("\n") ? "" : "\n") << fence << "\n\n";
        break;
      }
      case ReportBlock::Kind::kFindings:
        out << FindingsWith(r, o, "markdown", !notes_block) << "\n";
        break;
      case ReportBlock::Kind::kTree:
        if (!b.text.empty()) out << "*" << MdCell(b.text) << "*\n\n";
        MdTree(b.tree, r, 0, out);
        out << "\n";
        break;
      case ReportBlock::Kind::kNotes:
        for (const auto& n : r.notes) out << "> " << MdCell(n) << "\n>\n";
        out << "\n";
        break;
    }
  }
  if (!r.stats.empty()) {
    out << "<sub>";
    for (size_t i = 0; i < r.stats.size(); ++i)
      out << (i ? " · " : "") << MdCell(r.stats[i].label) << " " << MdCell(r.stats[i].value);
    out << "</sub>\n";
  }
  return out.str();
}

}  // namespace pgvise
