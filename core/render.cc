// Renderers for findings (see core/render.h): text for a terminal, a JSON
// document for scripts, SARIF 2.1.0 for code-scanning services, Markdown for
// a pull-request comment. Every format reads the same sorted findings and
// says the same thing; they differ only in shape.
//
// Text, compiler style (one finding, then its suggestion indented):
//
//   migrations/001.sql:3:1: error: CREATE INDEX without CONCURRENTLY ...
//   [require-concurrent-index-creation]
//       fix: CREATE INDEX CONCURRENTLY ...
//
// A plan finding names its node instead of (or after) a file position:
//
//   q.sql:1:1: warning: Plan.Plans[0] (Seq Scan on orders): ... [seq-scan-large-filter]
//
// SARIF columns are Unicode code points, as SourceText counts them, so the run
// declares columnKind "unicodeCodePoints"; relative paths are relative to
// %SRCROOT% (the checkout), which is what code-scanning uploads expect.
#include "core/render.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "core/json.h"

namespace pgvise {

namespace {

using json = nlohmann::ordered_json;

constexpr const char* kToolName = "pgvise";
constexpr const char* kToolVersion = "0.1.0";
constexpr const char* kInformationUri = "https://github.com/pgvise/pgvise";
constexpr const char* kSarifSchema = "https://json.schemastore.org/sarif-2.1.0.json";

struct Counts {
  int errors = 0, warnings = 0, infos = 0;
};

Counts Count(const std::vector<Finding>& findings) {
  Counts c;
  for (const auto& f : findings) {
    switch (f.severity) {
      case Severity::kError:
        ++c.errors;
        break;
      case Severity::kWarning:
        ++c.warnings;
        break;
      case Severity::kInfo:
        ++c.infos;
        break;
    }
  }
  return c;
}

std::string Plural(int n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string SummaryLine(const Counts& c) {
  return Plural(c.errors, "error", "errors") + ", " + Plural(c.warnings, "warning", "warnings") +
         ", " + Plural(c.infos, "info", "infos");
}

std::string FilesPhrase(size_t n) {
  return Plural(static_cast<int>(n), "file", "files") + " checked";
}

// "Plan.Plans[0] (Seq Scan on orders)", "Plan (Sort)", or "" for a non-plan finding.
std::string PlanNodeLabel(const Location& l) {
  if (l.plan_path.empty() && l.node_type.empty()) return "";
  std::string out = l.plan_path.empty() ? "plan" : l.plan_path;
  if (!l.node_type.empty()) {
    out += " (" + l.node_type;
    if (!l.object.empty()) out += " on " + l.object;
    out += ")";
  }
  return out;
}

std::string FilePosition(const Location& l) {
  if (l.file.empty()) return "";
  std::string out = l.file;
  if (l.line > 0) {
    out += ":" + std::to_string(l.line);
    if (l.column > 0) out += ":" + std::to_string(l.column);
  }
  return out;
}

// One line per message: renderers that need a single line (text, Markdown
// table cells) flatten embedded newlines rather than break the layout.
std::string OneLine(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) out.push_back(c == '\n' || c == '\r' ? ' ' : c);
  return out;
}

// ---------------------------------------------------------------- text

struct Palette {
  bool on = false;
  std::string Wrap(const char* code, const std::string& s) const {
    return on ? std::string("\033[") + code + "m" + s + "\033[0m" : s;
  }
  std::string Bold(const std::string& s) const { return Wrap("1", s); }
  std::string Dim(const std::string& s) const { return Wrap("2", s); }
  std::string Sev(Severity sev) const {
    switch (sev) {
      case Severity::kError:
        return Wrap("1;31", "error");
      case Severity::kWarning:
        return Wrap("1;33", "warning");
      case Severity::kInfo:
        return Wrap("1;36", "info");
    }
    return "warning";
  }
};

std::string RenderText(const std::vector<Finding>& findings, const RenderOptions& opts) {
  Palette p{opts.color};
  std::ostringstream out;
  for (const auto& note : opts.notes) out << p.Bold("note") << ": " << OneLine(note) << "\n";
  for (const auto& f : findings) {
    const std::string pos = FilePosition(f.location);
    const std::string node = PlanNodeLabel(f.location);
    // The anchor a reader looks for first: the file position, else the plan
    // node, else the database object the finding is about.
    std::string anchor = pos;
    std::string node_prefix;
    if (anchor.empty()) {
      anchor = node.empty() ? f.location.object : node;
    } else if (!node.empty()) {
      node_prefix = node + ": ";
    }
    if (!anchor.empty()) out << p.Bold(anchor) << ": ";
    out << p.Sev(f.severity) << ": " << node_prefix << OneLine(f.message) << " "
        << p.Dim("[" + f.rule + "]") << "\n";
    if (!f.suggestion.empty()) {
      std::istringstream lines(f.suggestion);
      std::string line;
      bool first = true;
      while (std::getline(lines, line)) {
        out << "    " << (first ? p.Wrap("32", "fix") + ": " : std::string("     ")) << line
            << "\n";
        first = false;
      }
    }
  }
  const Counts c = Count(findings);
  if (findings.empty()) {
    out << "no findings";
  } else {
    out << SummaryLine(c);
  }
  if (!opts.inputs.empty()) out << " (" << FilesPhrase(opts.inputs.size()) << ")";
  out << "\n";
  return out.str();
}

// ---------------------------------------------------------------- json

std::string RenderJson(const std::vector<Finding>& findings, const RenderOptions& opts) {
  json doc;
  doc["tool"] = kToolName;
  doc["version"] = kToolVersion;
  doc["command"] = opts.command;
  doc["inputs"] = opts.inputs;
  doc["notes"] = opts.notes;
  json list = json::array();
  for (const auto& f : findings) list.push_back(ToJson(f));
  doc["findings"] = std::move(list);
  const Counts c = Count(findings);
  doc["summary"] = {{"errors", c.errors}, {"warnings", c.warnings}, {"infos", c.infos}};
  return doc.dump(2) + "\n";
}

// ---------------------------------------------------------------- sarif

const char* SarifLevel(Severity s) {
  switch (s) {
    case Severity::kError:
      return "error";
    case Severity::kWarning:
      return "warning";
    case Severity::kInfo:
      return "note";
  }
  return "warning";
}

// Percent-encodes a path for a URI reference, keeping '/' and RFC 3986
// unreserved characters; absolute paths become file:// URIs.
std::string PathToUri(const std::string& path) {
  std::string out;
  if (!path.empty() && path[0] == '/') out = "file://";
  static const char* kHex = "0123456789ABCDEF";
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

json SarifArtifactLocation(const std::string& file) {
  // stdin has no path a code-scanning service could open; name it plainly.
  const std::string path = file == "-" ? "stdin" : file;
  json a;
  a["uri"] = PathToUri(path);
  if (path.empty() || path[0] != '/') a["uriBaseId"] = "%SRCROOT%";
  return a;
}

json SarifRule(const std::string& id, const Rule* r) {
  json d;
  d["id"] = id;
  if (r) {
    d["name"] = id;
    d["shortDescription"] = {{"text", r->summary.empty() ? id : r->summary}};
    d["fullDescription"] = {{"text", r->rationale.empty() ? r->summary : r->rationale}};
    std::string help = r->fix.empty() ? r->summary : r->fix;
    d["help"] = {{"text", help}};
    d["defaultConfiguration"] = {{"level", SarifLevel(r->severity)}};
    d["properties"] = {{"tags", json::array({r->area})}};
  } else if (id == "syntax-error") {
    // Not a rule file: the parser's own verdict, reported so the run is complete.
    d["name"] = id;
    d["shortDescription"] = {{"text", "The statement does not parse."}};
    d["fullDescription"] = {{"text",
                             "PostgreSQL's parser (libpg_query) rejected the statement; no "
                             "other rule could check it."}};
    d["help"] = {{"text", "Fix the SQL at the reported position."}};
    d["defaultConfiguration"] = {{"level", "error"}};
  } else {
    d["shortDescription"] = {{"text", id}};
  }
  return d;
}

std::string RenderSarif(const std::vector<Finding>& findings, const RenderOptions& opts) {
  // driver.rules lists the rules this run reports on, in id order, so that
  // ruleIndex is stable; metadata comes from the RuleBook.
  std::set<std::string> ids;
  for (const auto& f : findings) ids.insert(f.rule);
  std::map<std::string, int> index;
  json rules = json::array();
  for (const auto& id : ids) {
    index[id] = static_cast<int>(rules.size());
    rules.push_back(SarifRule(id, opts.rules ? opts.rules->Find(id) : nullptr));
  }

  json driver;
  driver["name"] = kToolName;
  driver["version"] = kToolVersion;
  driver["semanticVersion"] = kToolVersion;
  driver["informationUri"] = kInformationUri;
  driver["rules"] = std::move(rules);

  json results = json::array();
  for (const auto& f : findings) {
    json r;
    r["ruleId"] = f.rule;
    r["ruleIndex"] = index[f.rule];
    r["level"] = SarifLevel(f.severity);
    std::string text = f.message;
    if (const std::string node = PlanNodeLabel(f.location); !node.empty())
      text = node + ": " + text;
    r["message"] = {{"text", text}};
    json loc = json::object();
    if (!f.location.file.empty()) {
      json phys;
      phys["artifactLocation"] = SarifArtifactLocation(f.location.file);
      // A region needs startLine >= 1: without a line (a finding about a
      // node of a plan file) the file alone is the physical location and the
      // node is the logical one. Unknown columns are left out, not set to 1.
      if (f.location.line > 0) {
        json region;
        region["startLine"] = f.location.line;
        if (f.location.column > 0) region["startColumn"] = f.location.column;
        if (f.location.end_line > 0) {
          region["endLine"] = f.location.end_line;
          if (f.location.end_column > 0) region["endColumn"] = f.location.end_column;
        }
        phys["region"] = std::move(region);
      }
      loc["physicalLocation"] = std::move(phys);
    }
    if (!f.location.plan_path.empty() || !f.location.object.empty()) {
      json logical;
      if (!f.location.plan_path.empty()) {
        logical["fullyQualifiedName"] = f.location.plan_path;
        logical["kind"] = "element";
      } else {
        logical["fullyQualifiedName"] = f.location.object;
        logical["kind"] = "object";
      }
      loc["logicalLocations"] = json::array({logical});
    }
    if (!loc.empty()) r["locations"] = json::array({loc});
    json props = json::object();
    if (!f.evidence.empty()) props["evidence"] = ToJson(f.evidence);
    if (!f.suggestion.empty()) props["suggestion"] = f.suggestion;
    if (!f.location.node_type.empty()) props["nodeType"] = f.location.node_type;
    if (!props.empty()) r["properties"] = std::move(props);
    results.push_back(std::move(r));
  }

  json run;
  run["tool"] = {{"driver", std::move(driver)}};
  if (!opts.inputs.empty()) {
    json artifacts = json::array();
    for (const auto& in : opts.inputs)
      artifacts.push_back({{"location", SarifArtifactLocation(in)}});
    run["artifacts"] = std::move(artifacts);
  }
  run["columnKind"] = "unicodeCodePoints";
  run["results"] = std::move(results);
  if (!opts.notes.empty()) {
    json notifications = json::array();
    for (const auto& n : opts.notes)
      notifications.push_back({{"level", "note"}, {"message", {{"text", n}}}});
    run["invocations"] = json::array(
        {{{"executionSuccessful", true}, {"toolExecutionNotifications", notifications}}});
  }
  json doc;
  doc["$schema"] = kSarifSchema;
  doc["version"] = "2.1.0";
  doc["runs"] = json::array({std::move(run)});
  return doc.dump(2) + "\n";
}

// ------------------------------------------------------- GitLab Code Quality
//
// GitLab's merge-request widget reads the Code Climate issue format: a JSON
// array of {description, check_name, fingerprint, severity, location}. The
// fingerprint tells GitLab that a finding on the target branch and one on
// the merge request are the same issue (so only new ones are shown as new):
// it is a hash of what identifies the finding but not of its line, so that
// a finding moved by an edit above it is not reported as new. Two identical
// findings in one file get their occurrence number hashed in as well.

// FNV-1a, 64 bits: stable across platforms and builds (std::hash is not).
std::string Fingerprint(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

const char* CodeQualitySeverity(Severity s) {
  switch (s) {
    case Severity::kError:
      return "critical";
    case Severity::kWarning:
      return "major";
    case Severity::kInfo:
      break;
  }
  return "info";
}

std::string RenderCodeQuality(const std::vector<Finding>& findings) {
  json issues = json::array();
  std::map<std::string, int> seen;
  for (const auto& f : findings) {
    const std::string path =
        f.location.file.empty() ? "" : (f.location.file == "-" ? "stdin" : f.location.file);
    std::string text = f.message;
    if (const std::string node = PlanNodeLabel(f.location); !node.empty())
      text = node + ": " + text;
    const std::string identity = f.rule + '\x1f' + path + '\x1f' + f.location.object + '\x1f' +
                                 f.location.plan_path + '\x1f' + text;
    const int occurrence = seen[identity]++;
    json issue;
    issue["type"] = "issue";
    issue["check_name"] = f.rule;
    issue["description"] = text;
    issue["severity"] = CodeQualitySeverity(f.severity);
    issue["fingerprint"] = Fingerprint(identity + '\x1f' + std::to_string(occurrence));
    json loc;
    loc["path"] = path;
    loc["lines"] = {{"begin", std::max(f.location.line, 1)}};
    issue["location"] = std::move(loc);
    if (!f.suggestion.empty()) issue["content"] = {{"body", f.suggestion}};
    issues.push_back(std::move(issue));
  }
  return issues.dump(2) + "\n";
}

// ---------------------------------------------------------------- markdown

// Table cells: a '|' would end the cell and a newline the row.
std::string MdCell(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n') {
      out += "<br>";
    } else if (c != '\r') {
      out.push_back(c);
    }
  }
  return out;
}

const char* MdBadge(Severity s) {
  switch (s) {
    case Severity::kError:
      return "🔴 error";
    case Severity::kWarning:
      return "🟡 warning";
    case Severity::kInfo:
      return "🔵 info";
  }
  return "warning";
}

std::string RenderMarkdown(const std::vector<Finding>& findings, const RenderOptions& opts) {
  std::ostringstream out;
  const Counts c = Count(findings);
  const std::string title = "pgvise" + (opts.command.empty() ? "" : " " + opts.command);
  out << "### " << (c.errors ? "❌" : c.warnings ? "⚠️" : "✅") << " " << title << ": ";
  out << (findings.empty() ? "no findings" : SummaryLine(c));
  if (!opts.inputs.empty()) out << " (" << FilesPhrase(opts.inputs.size()) << ")";
  out << "\n";
  for (const auto& n : opts.notes) out << "\n> " << OneLine(n) << "\n";

  // Grouped by file in sorted order; findings without a file (a plan given
  // on its own, a database object) form the last group.
  std::vector<std::string> order;
  std::map<std::string, std::vector<const Finding*>> groups;
  for (const auto& f : findings) {
    if (!groups.count(f.location.file)) order.push_back(f.location.file);
    groups[f.location.file].push_back(&f);
  }
  std::stable_partition(order.begin(), order.end(),
                        [](const std::string& f) { return !f.empty(); });
  for (const auto& file : order) {
    const auto& list = groups[file];
    out << "\n#### " << (file.empty() ? "Other findings" : "`" + file + "`") << "\n\n";
    out << "| Severity | Where | Rule | Finding |\n|---|---|---|---|\n";
    for (const Finding* f : list) {
      std::string where;
      if (f->location.line > 0) {
        where = std::to_string(f->location.line);
        if (f->location.column > 0) where += ":" + std::to_string(f->location.column);
      }
      if (const std::string node = PlanNodeLabel(f->location); !node.empty())
        where += (where.empty() ? "" : " ") + node;
      else if (where.empty())
        where = f->location.object;
      std::string body = MdCell(f->message);
      if (!f->suggestion.empty()) body += "<br>**Fix:** " + MdCell(f->suggestion);
      out << "| " << MdBadge(f->severity) << " | " << MdCell(where) << " | `" << f->rule << "` | "
          << body << " |\n";
    }
  }
  return out.str();
}

}  // namespace

std::string RenderFindings(const std::vector<Finding>& findings, const RenderOptions& opts) {
  if (opts.format == "json") return RenderJson(findings, opts);
  if (opts.format == "sarif") return RenderSarif(findings, opts);
  if (opts.format == "gitlab") return RenderCodeQuality(findings);
  if (opts.format == "markdown") return RenderMarkdown(findings, opts);
  return RenderText(findings, opts);
}

void SortFindings(std::vector<Finding>* findings) {
  std::stable_sort(findings->begin(), findings->end(), [](const Finding& a, const Finding& b) {
    // Errors first at one position: negate the severity so larger sorts earlier.
    return std::forward_as_tuple(a.location.file, a.location.line, a.location.column,
                                 -static_cast<int>(a.severity), a.location.plan_path, a.rule,
                                 a.message) <
           std::forward_as_tuple(b.location.file, b.location.line, b.location.column,
                                 -static_cast<int>(b.severity), b.location.plan_path, b.rule,
                                 b.message);
  });
}

}  // namespace pgvise
