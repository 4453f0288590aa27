#include "core/rule.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace pgvise {

double Rule::Threshold(const std::string& name) const {
  auto it = thresholds.find(name);
  if (it == thresholds.end())
    throw std::logic_error("rule " + id + (path.empty() ? "" : " (" + path + ")") +
                           ": no threshold '" + name + "' in its YAML");
  return it->second;
}

namespace {

std::string YamlWhere(const std::string& path, const YAML::Mark& m) {
  return path + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

std::string Scalar(const YAML::Node& n, const char* key) {
  const YAML::Node v = n[key];
  return v && v.IsScalar() ? v.as<std::string>() : std::string();
}

}  // namespace

// yaml-cpp throws; this is the one adapter where its exceptions are caught.
Status ParseRule(const std::string& text, const std::string& path, Rule* out) {
  try {
    YAML::Node n = YAML::Load(text);
    if (!n.IsMap()) return Status::InvalidInput(path + ": a rule file must be a YAML mapping");
    Rule r;
    r.path = path;
    r.id = Scalar(n, "id");
    r.area = Scalar(n, "area");
    if (r.id.empty()) return Status::InvalidInput(path + ": rule has no 'id'");
    std::string stem = fs::path(path).stem().string();
    if (!path.empty() && stem != r.id)
      return Status::InvalidInput(path + ": id '" + r.id + "' does not match the file name");
    std::string sev = Scalar(n, "severity");
    auto s = ParseSeverity(sev);
    if (!s)
      return Status::InvalidInput(YamlWhere(path, n["severity"].Mark()) +
                                  ": severity must be error|warning|info");
    r.severity = *s;
    if (n["enabled"]) r.enabled = n["enabled"].as<bool>();
    r.summary = Scalar(n, "summary");
    r.rationale = Scalar(n, "rationale");
    r.fix = Scalar(n, "fix");
    if (const YAML::Node t = n["thresholds"]) {
      for (const auto& kv : t) {
        std::string key = kv.first.as<std::string>();
        try {
          r.thresholds[key] = kv.second.as<double>();
        } catch (const YAML::Exception&) {
          r.options[key] = kv.second.as<std::string>();
        }
      }
    }
    if (const YAML::Node ex = n["examples"]) {
      if (!ex.IsSequence())
        return Status::InvalidInput(YamlWhere(path, ex.Mark()) + ": 'examples' must be a list");
      int i = 0;
      for (const auto& e : ex) {
        RuleExample x;
        std::string kind = Scalar(e, "kind");
        if (kind != "bad" && kind != "good")
          return Status::InvalidInput(YamlWhere(path, e.Mark()) +
                                      ": example kind must be bad|good");
        x.bad = kind == "bad";
        x.name = kind + "-" + std::to_string(++i);
        x.text = Scalar(e, "text");
        if (const YAML::Node c = e["context"])
          for (const auto& kv : c)
            x.context[kv.first.as<std::string>()] = kv.second.as<std::string>();
        r.examples.push_back(std::move(x));
      }
    }
    *out = std::move(r);
    return Status::Ok();
  } catch (const YAML::Exception& e) {
    return Status::InvalidInput(YamlWhere(path, e.mark) + ": " + e.msg);
  }
}

Status RuleBook::LoadDir(const std::string& dir, RuleBook* out) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::NotFound(dir + ": not a directory");
  RuleBook book;
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec))
    if (e.is_regular_file() && e.path().extension() == ".yaml") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& p : files) {
    std::ifstream f(p);
    std::stringstream ss;
    ss << f.rdbuf();
    Rule r;
    Status st = ParseRule(ss.str(), p.string(), &r);
    if (!st.ok()) return st;
    std::string area_dir = p.parent_path().filename().string();
    if (r.area.empty()) r.area = area_dir;
    if (r.area != area_dir)
      return Status::InvalidInput(p.string() + ": area '" + r.area + "' but file is in " +
                                  area_dir + "/");
    if (book.rules_.count(r.id))
      return Status::InvalidInput(p.string() + ": duplicate rule id '" + r.id + "'");
    book.rules_[r.id] = std::move(r);
  }
  if (book.rules_.empty()) return Status::NotFound(dir + ": no rule files");
  *out = std::move(book);
  return Status::Ok();
}

Status RuleBook::LoadDefault(const std::string& explicit_dir, const std::string& argv0,
                             RuleBook* out) {
  std::vector<std::string> tried;
  auto attempt = [&](const std::string& dir) -> std::optional<Status> {
    if (dir.empty()) return std::nullopt;
    tried.push_back(dir);
    Status st = LoadDir(dir, out);
    if (st.ok() || st.code() != Status::Code::kNotFound) return st;
    return std::nullopt;
  };
  if (!explicit_dir.empty()) {
    Status st = LoadDir(explicit_dir, out);
    if (!st.ok()) return Status::InvalidInput("--rules " + st.message());
    return st;
  }
  if (const char* env = std::getenv("PGVISE_RULES"))
    if (auto st = attempt(env)) return *st;
  if (!argv0.empty()) {
    std::error_code ec;
    fs::path exe = fs::canonical("/proc/self/exe", ec);
    if (ec) exe = fs::absolute(argv0, ec);
    if (auto st = attempt((exe.parent_path().parent_path() / "share/pgvise/rules").string()))
      return *st;
  }
  if (auto st = attempt(std::string(PGVISE_SOURCE_DIR) + "/rules")) return *st;
  std::string list;
  for (const auto& t : tried) list += (list.empty() ? "" : ", ") + t;
  return Status::InvalidInput("no rules found; tried: " + list);
}

Status RuleBook::ApplyConfig(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::InvalidInput(path + ": cannot open config file");
  std::string text;
  try {
    text.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  } catch (const std::ios_base::failure&) {
    // A directory opens but does not read (libstdc++ throws from the read).
    return Status::InvalidInput(path + ": cannot read config file");
  }
  return ApplyConfigText(text, path);
}

Status RuleBook::ApplyConfigText(const std::string& text, const std::string& path) {
  try {
    YAML::Node n = YAML::Load(text);
    if (!n) return Status::Ok();
    if (!n.IsMap()) return Status::InvalidInput(path + ": config must be a YAML mapping");
    // A typo'd key or a wrong shape would otherwise be ignored in silence
    // and the rule the user meant to change would run unchanged.
    for (const auto& kv : n) {
      const std::string key = kv.first.as<std::string>();
      if (key != "disable" && key != "enable" && key != "rules")
        return Status::InvalidInput(YamlWhere(path, kv.first.Mark()) + ": unknown key '" + key +
                                    "' (expected disable, enable, rules)");
      const bool ok = key == "rules" ? kv.second.IsMap() || kv.second.IsNull()
                                     : kv.second.IsSequence() || kv.second.IsNull();
      if (!ok)
        return Status::InvalidInput(
            YamlWhere(path, kv.second.Mark()) + ": '" + key +
            (key == "rules" ? "' must be a mapping of rule ids" : "' must be a list of rule ids"));
    }
    if (const YAML::Node d = n["disable"]) {
      for (const auto& id : d) {
        Rule* r = Mutable(id.as<std::string>());
        if (!r)
          return Status::InvalidInput(YamlWhere(path, id.Mark()) + ": unknown rule '" +
                                      id.as<std::string>() + "'");
        r->enabled = false;
      }
    }
    if (const YAML::Node e = n["enable"]) {
      for (const auto& id : e) {
        Rule* r = Mutable(id.as<std::string>());
        if (!r)
          return Status::InvalidInput(YamlWhere(path, id.Mark()) + ": unknown rule '" +
                                      id.as<std::string>() + "'");
        r->enabled = true;
      }
    }
    if (const YAML::Node rules = n["rules"]) {
      for (const auto& kv : rules) {
        std::string id = kv.first.as<std::string>();
        Rule* r = Mutable(id);
        if (!r)
          return Status::InvalidInput(YamlWhere(path, kv.first.Mark()) + ": unknown rule '" + id +
                                      "'");
        const YAML::Node body = kv.second;
        if (!body.IsMap())
          return Status::InvalidInput(
              YamlWhere(path, body.Mark()) + ": rule '" + id +
              "' settings must be a mapping (enabled, severity, thresholds)");
        if (body["enabled"]) r->enabled = body["enabled"].as<bool>();
        if (body["severity"]) {
          auto s = ParseSeverity(body["severity"].as<std::string>());
          if (!s)
            return Status::InvalidInput(YamlWhere(path, body["severity"].Mark()) +
                                        ": severity must be error|warning|info");
          r->severity = *s;
        }
        if (const YAML::Node t = body["thresholds"]) {
          for (const auto& tv : t) {
            std::string key = tv.first.as<std::string>();
            if (!r->thresholds.count(key) && !r->options.count(key))
              return Status::InvalidInput(YamlWhere(path, tv.first.Mark()) + ": rule '" + id +
                                          "' has no threshold '" + key + "'");
            if (r->thresholds.count(key))
              r->thresholds[key] = tv.second.as<double>();
            else
              r->options[key] = tv.second.as<std::string>();
          }
        }
      }
    }
    return Status::Ok();
  } catch (const YAML::Exception& e) {
    return Status::InvalidInput(YamlWhere(path, e.mark) + ": " + e.msg);
  }
}

const Rule* RuleBook::Find(const std::string& id) const {
  auto it = rules_.find(id);
  return it == rules_.end() ? nullptr : &it->second;
}

const Rule* RuleBook::Enabled(const std::string& id) const {
  const Rule* r = Find(id);
  return r && r->enabled ? r : nullptr;
}

Rule* RuleBook::Mutable(const std::string& id) {
  auto it = rules_.find(id);
  return it == rules_.end() ? nullptr : &it->second;
}

std::vector<const Rule*> RuleBook::InArea(const std::string& area) const {
  std::vector<const Rule*> out;
  for (const auto& [id, r] : rules_)
    if (r.area == area) out.push_back(&r);
  return out;
}

Status RuleBook::CheckHandlers(const std::set<std::string>& areas,
                               const std::set<std::string>& handler_ids) const {
  for (const auto& id : handler_ids)
    if (!rules_.count(id)) return Status::Internal("rule handler '" + id + "' has no YAML file");
  for (const auto& [id, r] : rules_)
    if (areas.count(r.area) && !handler_ids.count(id))
      return Status::Internal(r.path + ": rule '" + id + "' has no handler");
  return Status::Ok();
}

}  // namespace pgvise
