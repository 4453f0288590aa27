// Rule and RuleBook: the metadata half of every check. A rule is one YAML file
// `rules/<area>/<id>.yaml` (id, area, severity, summary, rationale, fix,
// thresholds, examples); its logic is a C++ handler registered under the same
// id in its area's handler table (analyzer/review/sql_rules.cc, analyzer/plan/plan_rules.cc,
// maintenance/..., advisor/patterns.cc for `workload`, each a plain table like
// ninja's kTools[]). The RuleBook loads every YAML file, applies the user's
// `.pgvise.yaml` (disable a rule, change its severity or thresholds), and
// checks that YAML and handlers match one to one: start-up fails if either
// lacks the other.
//
// Rules are found at run time by: --rules DIR, then $PGVISE_RULES, then
// <exe>/../share/pgvise/rules, then the source tree; when none loads, the
// error lists every path tried.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/finding.h"
#include "core/status.h"

namespace pgvise {

struct RuleExample {
  std::string name;  // "bad", "good", or "bad-2" ...
  bool bad = false;  // a bad example must fire the rule, a good one must not
  std::string text;  // SQL, EXPLAIN JSON, ... as the area's handler expects
  std::map<std::string, std::string> context;  // e.g. {"setup": "CREATE TABLE ..."}
};

struct Rule {
  std::string id;
  std::string area;  // migration | query | plan | maintenance | workload | ...
  Severity severity = Severity::kWarning;
  bool enabled = true;
  std::string summary;
  std::string rationale;
  std::string fix;
  std::map<std::string, double> thresholds;
  std::map<std::string, std::string> options;  // non-numeric settings
  std::vector<RuleExample> examples;
  std::string path;  // YAML file it came from

  // A threshold's value. Defaults live only in the rule's YAML (a user's
  // .pgvise.yaml may override them), so a name the YAML lacks is a bug in
  // pgvise, not bad input: it throws std::logic_error, which ends the command
  // as an internal error (exit 5). core/rule_test.cc checks every handler's
  // names against the shipped YAML.
  double Threshold(const std::string& name) const;
};

class RuleBook {
 public:
  // Loads every rules/<area>/<id>.yaml under `dir`.
  static Status LoadDir(const std::string& dir, RuleBook* out);
  // Finds the rules directory (see header comment) and loads it. `explicit_dir`
  // is --rules; `argv0` locates <exe>/../share/pgvise/rules.
  static Status LoadDefault(const std::string& explicit_dir, const std::string& argv0,
                            RuleBook* out);

  // Applies a `.pgvise.yaml` config file: see docs/configuration.md.
  Status ApplyConfig(const std::string& config_path);
  // The same for the file's text, already read; `path` is for messages.
  // ApplyConfig reads the file and calls this (fuzz/config_fuzz.cc calls it
  // directly).
  Status ApplyConfigText(const std::string& yaml_text, const std::string& path);

  const Rule* Find(const std::string& id) const;
  // The rule if it exists and is enabled; nullptr otherwise.
  const Rule* Enabled(const std::string& id) const;
  std::vector<const Rule*> InArea(const std::string& area) const;
  const std::map<std::string, Rule>& all() const { return rules_; }
  Rule* Mutable(const std::string& id);
  void Add(Rule r) { rules_[r.id] = std::move(r); }

  // Fails when a handler has no YAML or a YAML (in `areas`) has no handler.
  Status CheckHandlers(const std::set<std::string>& areas,
                       const std::set<std::string>& handler_ids) const;

 private:
  std::map<std::string, Rule> rules_;
};

// Parses a rule from YAML text (used by LoadDir and tests). `path` is for messages.
Status ParseRule(const std::string& yaml_text, const std::string& path, Rule* out);

}  // namespace pgvise
