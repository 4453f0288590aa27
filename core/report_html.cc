// The HTML renderer of a Report: one self-contained page (inline CSS, no
// script, no font or image fetched from anywhere), readable on a phone and a
// wide screen, printable.
//
// Layout choices, and why:
//   - Nothing may scroll the page sideways on a phone: code wraps
//     (pre-wrap, break anywhere) and wide tables scroll inside their own box.
//   - DDL is shown in full and selects as a whole on click (user-select:
//     all), so copying it needs no script.
//   - Bars share one scale per table; a log scale when the table asks (costs
//     that span decades would otherwise leave every small bar a sliver). The
//     number is always printed beside its bar: the bar is a glance, the
//     number is the evidence.
//   - Plan trees are nested <details> (collapsible without script), open by
//     default and forced open in print.
//   - Findings are grouped by file with the source line they point at.
#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "core/report.h"

namespace pgvise {

std::string HtmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

constexpr const char* kStyle = R"CSS(
:root{--fg:#1f2328;--muted:#59636e;--bg:#fff;--panel:#f6f8fa;--line:#d1d9e0;--accent:#0969da;
--good:#1a7f37;--warn:#9a6700;--bad:#cf222e;--bar:#54aeff;--bar2:#4ac26b}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--bg:#0d1117;--panel:#151b23;
--line:#3d444d;--accent:#4493f8;--good:#3fb950;--warn:#d29922;--bad:#f85149;--bar:#1f6feb;--bar2:#238636}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",
Roboto,"Helvetica Neue",Arial,sans-serif;overflow-wrap:anywhere}
main{max-width:1100px;margin:0 auto;padding:16px}
h1{font-size:1.5em;margin:.2em 0 .6em}h2{font-size:1.25em;margin:1.4em 0 .5em;padding-bottom:.2em;
border-bottom:1px solid var(--line)}h3{font-size:1.05em;margin:1.2em 0 .4em}
p{margin:.4em 0}.muted,figcaption,caption{color:var(--muted)}
.tone-good{color:var(--good)}.tone-warn{color:var(--warn)}.tone-bad{color:var(--bad)}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:.5em 0}
dl.kv dt{color:var(--muted)}dl.kv dd{margin:0;font-variant-numeric:tabular-nums}
.tablebox{overflow-x:auto;max-width:100%;margin:.5em 0}
table{border-collapse:collapse;width:100%;font-size:.93em;overflow-wrap:normal;word-break:normal}
td:not(.num){min-width:12em}td:first-child.num{min-width:0}
th,td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{background:var(--panel);font-weight:600}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;
white-space:nowrap}
.bar{display:inline-block;height:.7em;background:var(--bar);border-radius:2px;margin-right:6px;
vertical-align:middle;min-width:1px;print-color-adjust:exact;-webkit-print-color-adjust:exact}
td.barcell{min-width:9em}td.barcell .track{display:inline-block;width:6em;vertical-align:middle}
pre{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:8px 10px;
white-space:pre-wrap;word-break:break-word;overflow-wrap:anywhere;margin:.4em 0;
font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre.sql{user-select:all}figure{margin:.6em 0}
.finding{border-left:4px solid var(--line);padding:4px 10px;margin:.6em 0}
.finding.error{border-color:var(--bad)}.finding.warning{border-color:var(--warn)}
.finding.info{border-color:var(--accent)}
.badge{display:inline-block;font-size:.8em;font-weight:600;padding:0 6px;border-radius:10px;
border:1px solid currentColor;margin-right:6px}
.badge.error{color:var(--bad)}.badge.warning{color:var(--warn)}.badge.info{color:var(--accent)}
code.rule{color:var(--muted);font-size:.85em}
pre.src .ln{color:var(--muted);user-select:none}
ul.tree,ul.tree ul{list-style:none;margin:0;padding-left:18px;border-left:1px dotted var(--line)}
ul.tree{padding-left:0;border:0}ul.tree li{margin:2px 0}
ul.tree summary{cursor:pointer}
.node-head{display:flex;flex-wrap:wrap;gap:2px 10px;align-items:baseline}
.node-name{flex:0 0 18em;min-width:0}.node-metrics{flex:1 1 20em}
.node-metrics .track{display:inline-block;width:8em;vertical-align:middle}
summary.node-head::-webkit-details-marker{display:none}
summary.node-head .node-name::before{content:"▾ ";color:var(--muted)}
details:not([open])>summary.node-head .node-name::before{content:"▸ "}
.node-label{font-weight:600}.fig{color:var(--muted);font-size:.88em;margin-left:8px;
font-variant-numeric:tabular-nums}
.pin{color:var(--bad);font-size:.85em;margin-left:6px}
aside.note{background:var(--panel);border-left:4px solid var(--accent);padding:4px 10px;margin:.4em 0}
footer{color:var(--muted);font-size:.85em;margin-top:2em;border-top:1px solid var(--line);padding-top:.5em}
@media (max-width:600px){main{padding:10px}body{font-size:14px}td.barcell .track{width:3.5em}
.node-name{flex-basis:100%}}
@media print{details{display:block}details>summary{list-style:none}main{max-width:none}
.tablebox{overflow:visible}}
)CSS";

// Scale of one table's bars: linear from 0, or log10 from a decade below the
// smallest positive value to the largest (bars never vanish: 2% at the bottom).
struct BarScale {
  double lo = 0, hi = 0;
  bool log = false;
  double Percent(double v) const {
    if (hi <= 0 || v <= 0) return 0;
    if (!log || lo <= 0 || hi <= lo) return std::clamp(100.0 * v / hi, 1.0, 100.0);
    const double t = (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo));
    return 2.0 + 98.0 * std::clamp(t, 0.0, 1.0);
  }
};

std::string Bar(double percent, bool second) {
  std::ostringstream s;
  s.precision(3);
  s << "<span class=\"bar\" style=\"width:" << percent << "%"
    << (second ? ";background:var(--bar2)" : "") << "\"></span>";
  return s.str();
}

void HtmlTable(const ReportBlock& b, std::ostream& out) {
  const ReportTable& t = b.table;
  BarScale scale;
  scale.log = t.log_scale;
  scale.lo = 0;
  for (const auto& row : t.rows)
    for (const auto& cell : row)
      if (cell.bar && *cell.bar > 0) {
        scale.hi = std::max(scale.hi, *cell.bar);
        scale.lo = scale.lo == 0 ? *cell.bar : std::min(scale.lo, *cell.bar);
      }
  // A decade below the smallest value, so the smallest bar still shows its
  // size relative to the others instead of sitting at the floor.
  scale.lo /= 10;
  if (t.bar_max && *t.bar_max > 0 && !t.log_scale) scale.hi = std::max(scale.hi, *t.bar_max);
  auto numeric = [&](size_t c) { return c < t.numeric.size() && t.numeric[c]; };
  out << "<div class=\"tablebox\"><table>";
  if (!b.text.empty())
    out << "<caption>" << HtmlEscape(b.text) << (t.log_scale ? " (bars on a log scale)" : "")
        << "</caption>";
  out << "<thead><tr>";
  for (size_t c = 0; c < t.header.size(); ++c)
    out << "<th" << (numeric(c) ? " class=\"num\"" : "") << ">" << HtmlEscape(t.header[c])
        << "</th>";
  out << "</tr></thead><tbody>";
  for (const auto& row : t.rows) {
    out << "<tr>";
    int bars_in_row = 0;
    for (size_t c = 0; c < row.size(); ++c) {
      const ReportCell& cell = row[c];
      if (cell.bar) {
        out << "<td class=\"num barcell\"><span class=\"track\">"
            << Bar(scale.Percent(*cell.bar), bars_in_row++ % 2 == 1) << "</span>"
            << HtmlEscape(cell.text) << "</td>";
      } else {
        out << "<td" << (numeric(c) ? " class=\"num\"" : "") << ">" << HtmlEscape(cell.text)
            << "</td>";
      }
    }
    out << "</tr>";
  }
  out << "</tbody></table></div>\n";
}

const SourceExcerpt* ExcerptFor(const Report& r, const Finding& f) {
  for (const auto& e : r.excerpts)
    if (e.file == f.location.file && e.line == f.location.line) return &e;
  return nullptr;
}

void HtmlFinding(const Report& r, const Finding& f, std::ostream& out) {
  const char* sev = SeverityName(f.severity);
  out << "<div class=\"finding " << sev << "\"><span class=\"badge " << sev << "\">" << sev
      << "</span>";
  std::string where;
  if (f.location.line > 0) {
    where = "line " + std::to_string(f.location.line);
    if (f.location.column > 0) where += ":" + std::to_string(f.location.column);
  }
  if (!f.location.node_type.empty())
    where += (where.empty() ? "" : ", ") +
             (f.location.plan_path.empty() ? "plan" : f.location.plan_path) + " (" +
             f.location.node_type + ")";
  if (where.empty()) where = f.location.object;
  if (!where.empty()) out << "<span class=\"muted\">" << HtmlEscape(where) << "</span> ";
  out << HtmlEscape(f.message) << " <code class=\"rule\">" << HtmlEscape(f.rule) << "</code>";
  if (const SourceExcerpt* e = ExcerptFor(r, f))
    out << "<pre class=\"src\"><span class=\"ln\">" << e->line << " │ </span>"
        << HtmlEscape(e->text) << "</pre>";
  if (!f.suggestion.empty())
    out << "<figure><figcaption>fix</figcaption><pre class=\"sql\">" << HtmlEscape(f.suggestion)
        << "</pre></figure>";
  if (!f.evidence.empty()) {
    out << "<dl class=\"kv\">";
    for (const auto& ev : f.evidence) {
      std::string v = std::visit(
          [](const auto& x) -> std::string {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, std::string>) {
              return x;
            } else if constexpr (std::is_same_v<T, bool>) {
              return x ? "true" : "false";
            } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
              std::string joined;
              for (const auto& item : x) joined += (joined.empty() ? "" : ", ") + item;
              return joined;
            } else {
              std::ostringstream s;
              s << x;
              return s.str();
            }
          },
          ev.value);
      out << "<dt>" << HtmlEscape(ev.key) << "</dt><dd>" << HtmlEscape(v) << "</dd>";
    }
    out << "</dl>";
  }
  out << "</div>\n";
}

void HtmlFindings(const Report& r, std::ostream& out) {
  if (r.findings.empty()) {
    out << "<p class=\"tone-good\">No findings.</p>\n";
    return;
  }
  std::vector<std::string> order;
  std::map<std::string, std::vector<const Finding*>> groups;
  for (const auto& f : r.findings) {
    if (!groups.count(f.location.file)) order.push_back(f.location.file);
    groups[f.location.file].push_back(&f);
  }
  for (const auto& file : order) {
    out << "<section class=\"file\"><h3>" << (file.empty() ? "Other findings" : HtmlEscape(file))
        << "</h3>\n";
    for (const Finding* f : groups[file]) HtmlFinding(r, *f, out);
    out << "</section>\n";
  }
}

double MaxBar(const ReportTreeNode& n) {
  double m = n.bar.value_or(0);
  for (const auto& c : n.children) m = std::max(m, MaxBar(c));
  return m;
}

void HtmlTreeNode(const ReportTreeNode& n, const Report& r, double max_bar, std::ostream& out) {
  // Name on the left, then the measures in a fixed order: the bar first so
  // bars line up whatever the name's length (the name column has a fixed
  // share of the width on wide screens and wraps above on a phone).
  std::ostringstream head;
  head << "<span class=\"node-name\"><span class=\"node-label\">" << HtmlEscape(n.label)
       << "</span>";
  if (!n.detail.empty()) head << " " << HtmlEscape(n.detail);
  head << "</span><span class=\"node-metrics\">";
  if (n.bar && max_bar > 0) {
    BarScale s;
    s.hi = max_bar;
    head << "<span class=\"track\">" << Bar(s.Percent(*n.bar), false) << "</span>";
  }
  for (const auto& [k, v] : n.figures)
    head << "<span class=\"fig\">" << HtmlEscape(k) << " " << HtmlEscape(v) << "</span>";
  for (size_t f : n.findings)
    if (f < r.findings.size())
      head << "<span class=\"pin\" title=\"" << HtmlEscape(r.findings[f].message) << "\">⚠ "
           << HtmlEscape(r.findings[f].rule) << "</span>";
  head << "</span>";
  out << "<li>";
  if (n.children.empty()) {
    out << "<span class=\"leaf node-head\">" << head.str() << "</span>";
  } else {
    out << "<details open><summary class=\"node-head\">" << head.str() << "</summary><ul>";
    for (const auto& c : n.children) HtmlTreeNode(c, r, max_bar, out);
    out << "</ul></details>";
  }
  out << "</li>";
}

}  // namespace

std::string RenderReportHtml(const Report& r, const ReportRenderOptions&) {
  std::vector<ReportBlock> body = r.body;
  if (body.empty()) {
    body.push_back(ReportBlock::Findings());
    for (const auto& a : r.actions) {
      body.push_back(ReportBlock::Heading(
          a.heading.empty() ? std::string(RecommendationKindName(a.rec.kind)) : a.heading, 3));
      if (!a.rec.reason.empty()) body.push_back(ReportBlock::Paragraph(a.rec.reason));
      if (!a.rec.sql.empty()) body.push_back(ReportBlock::Code(a.rec.sql));
    }
    if (!r.notes.empty()) body.push_back(ReportBlock::Notes());
  }
  const std::string title = r.title.empty() ? "pgvise " + r.command : r.title;
  std::ostringstream out;
  out << "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
         "<meta name=\"generator\" content=\"pgvise\"><title>"
      << HtmlEscape(title) << "</title><style>" << kStyle << "</style></head><body><main>\n";
  out << "<h1>" << HtmlEscape(title) << "</h1>\n";
  if (!r.database.empty() || !r.inputs.empty()) {
    out << "<p class=\"muted\">";
    if (!r.database.empty()) out << "database " << HtmlEscape(r.database);
    if (!r.inputs.empty()) {
      out << (r.database.empty() ? "" : " · ") << "inputs ";
      for (size_t i = 0; i < r.inputs.size(); ++i)
        out << (i ? ", " : "") << HtmlEscape(r.inputs[i]);
    }
    out << "</p>\n";
  }
  for (const auto& b : body) {
    const std::string tone = b.tone.empty() ? "" : " class=\"tone-" + HtmlEscape(b.tone) + "\"";
    switch (b.kind) {
      case ReportBlock::Kind::kHeading:
        if (b.level == 1 && b.text == title) break;  // already the page title
        out << "<h" << b.level + 1 << tone << ">" << HtmlEscape(b.text) << "</h" << b.level + 1
            << ">\n";
        break;
      case ReportBlock::Kind::kParagraph: {
        std::istringstream lines(b.text);
        std::string line;
        out << "<p" << tone << ">";
        bool first = true;
        while (std::getline(lines, line)) {
          out << (first ? "" : "<br>") << HtmlEscape(line);
          first = false;
        }
        out << "</p>\n";
        break;
      }
      case ReportBlock::Kind::kKeyValues:
        out << "<dl class=\"kv\">";
        for (const auto& [k, v] : b.pairs)
          out << "<dt>" << HtmlEscape(k) << "</dt><dd>" << HtmlEscape(v) << "</dd>";
        out << "</dl>\n";
        break;
      case ReportBlock::Kind::kTable:
        HtmlTable(b, out);
        break;
      case ReportBlock::Kind::kCode: {
        const std::string caption = b.pairs.empty() ? "" : b.pairs[0].second;
        out << "<figure>";
        if (!caption.empty()) out << "<figcaption>" << HtmlEscape(caption) << "</figcaption>";
        out << "<pre class=\"sql\">" << HtmlEscape(b.text) << "</pre></figure>\n";
        break;
      }
      case ReportBlock::Kind::kFindings:
        HtmlFindings(r, out);
        break;
      case ReportBlock::Kind::kTree:
        if (!b.text.empty()) out << "<p class=\"muted\">" << HtmlEscape(b.text) << "</p>";
        out << "<ul class=\"tree\">";
        HtmlTreeNode(b.tree, r, MaxBar(b.tree), out);
        out << "</ul>\n";
        break;
      case ReportBlock::Kind::kNotes:
        for (const auto& n : r.notes)
          out << "<aside class=\"note\">" << HtmlEscape(n) << "</aside>\n";
        break;
    }
  }
  if (!r.stats.empty()) {
    out << "<footer>";
    for (size_t i = 0; i < r.stats.size(); ++i)
      out << (i ? " · " : "") << HtmlEscape(r.stats[i].label) << " "
          << HtmlEscape(r.stats[i].value);
    out << "</footer>\n";
  }
  out << "</main></body></html>\n";
  return out.str();
}

}  // namespace pgvise
