// pgvise rules [ID] — what the rule book holds after --rules and the config
// file are applied: a table of every rule (area, severity, enabled, summary),
// or one rule in full (rationale, fix, thresholds, examples). It shows the
// effective settings, so it is also how a user checks their .pgvise.yaml.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <iomanip>
#include <sstream>

#include "cli/command.h"
#include "core/json.h"

namespace pgvise {

namespace {

struct RulesOptions {
  std::string id;
};

std::string FormatNumber(double v) {
  std::ostringstream s;
  // Thresholds are mostly byte counts and row counts: print them whole.
  if (v == static_cast<double>(static_cast<int64_t>(v)))
    s << static_cast<int64_t>(v);
  else
    s << v;
  return s.str();
}

std::vector<const Rule*> Sorted(const RuleBook& book) {
  std::vector<const Rule*> v;
  for (const auto& [id, r] : book.all()) v.push_back(&r);
  std::stable_sort(v.begin(), v.end(), [](const Rule* a, const Rule* b) {
    return std::tie(a->area, a->id) < std::tie(b->area, b->id);
  });
  return v;
}

nlohmann::ordered_json RuleJson(const Rule& r, bool full) {
  nlohmann::ordered_json j;
  j["id"] = r.id;
  j["area"] = r.area;
  j["severity"] = SeverityName(r.severity);
  j["enabled"] = r.enabled;
  j["summary"] = r.summary;
  if (!full) return j;
  j["rationale"] = r.rationale;
  j["fix"] = r.fix;
  j["thresholds"] = r.thresholds;
  j["options"] = r.options;
  auto ex = nlohmann::ordered_json::array();
  for (const auto& e : r.examples)
    ex.push_back({{"kind", e.bad ? "bad" : "good"}, {"text", e.text}, {"context", e.context}});
  j["examples"] = ex;
  j["path"] = r.path;
  return j;
}

std::string ListText(const RuleBook& book) {
  const auto rules = Sorted(book);
  size_t id_w = 2, area_w = 4;
  for (const Rule* r : rules) {
    id_w = std::max(id_w, r->id.size());
    area_w = std::max(area_w, r->area.size());
  }
  std::ostringstream out;
  out << std::left << std::setw(static_cast<int>(id_w)) << "ID"
      << "  " << std::setw(static_cast<int>(area_w)) << "AREA"
      << "  " << std::setw(8) << "SEVERITY"
      << "  " << std::setw(7) << "ENABLED"
      << "  SUMMARY\n";
  for (const Rule* r : rules)
    out << std::setw(static_cast<int>(id_w)) << r->id << "  " << std::setw(static_cast<int>(area_w))
        << r->area << "  " << std::setw(8) << SeverityName(r->severity) << "  " << std::setw(7)
        << (r->enabled ? "yes" : "no") << "  " << r->summary << "\n";
  out << rules.size() << (rules.size() == 1 ? " rule\n" : " rules\n");
  return out.str();
}

void Indented(std::ostringstream& out, const std::string& text, const char* pad) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) out << pad << line << "\n";
}

std::string OneText(const Rule& r) {
  std::ostringstream out;
  out << r.id << "\n";
  out << "  area:      " << r.area << "\n";
  out << "  severity:  " << SeverityName(r.severity) << "\n";
  out << "  enabled:   " << (r.enabled ? "yes" : "no") << "\n";
  out << "  file:      " << r.path << "\n\n";
  out << "summary:\n";
  Indented(out, r.summary, "  ");
  if (!r.rationale.empty()) {
    out << "\nrationale:\n";
    Indented(out, r.rationale, "  ");
  }
  if (!r.fix.empty()) {
    out << "\nfix:\n";
    Indented(out, r.fix, "  ");
  }
  if (!r.thresholds.empty() || !r.options.empty()) {
    out << "\nthresholds:\n";
    for (const auto& [k, v] : r.thresholds) out << "  " << k << ": " << FormatNumber(v) << "\n";
    for (const auto& [k, v] : r.options) out << "  " << k << ": " << v << "\n";
  }
  for (const auto& e : r.examples) {
    out << "\nexample (" << (e.bad ? "bad: fires" : "good: does not fire") << "):\n";
    Indented(out, e.text, "  ");
  }
  return out.str();
}

}  // namespace

RunFn SetupRules(CLI::App& app, std::shared_ptr<CommonOptions> common) {
  auto opts = std::make_shared<RulesOptions>();
  AddCommonOptions(app, common.get(), false, false);
  app.add_option("--format", common->format, "text | json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app.add_option("id", opts->id, "show this rule in full");
  return [common, opts]() -> int {
    const RuleBook book = LoadRules(*common);
    const Rule* one = nullptr;
    if (!opts->id.empty()) {
      one = book.Find(opts->id);
      if (!one)
        throw Error(ExitCode::kInputError,
                    "unknown rule '" + opts->id + "' (`pgvise rules` lists every rule)");
    }
    std::string text;
    if (common->format == "json") {
      nlohmann::ordered_json j;
      if (one) {
        j = RuleJson(*one, true);
      } else {
        j = nlohmann::ordered_json::array();
        for (const Rule* r : Sorted(book)) j.push_back(RuleJson(*r, false));
      }
      text = j.dump(2) + "\n";
    } else {
      text = one ? OneText(*one) : ListText(book);
    }
    WriteOutput(*common, text);
    return static_cast<int>(ExitCode::kOk);
  };
}

}  // namespace pgvise
