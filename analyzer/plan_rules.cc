// Runs the plan checks (analyzer/plan_checks.cc) over a Plan: builds a flat
// list of nodes with their parents once, asks each enabled rule's handler to
// look, and orders what they found worst first. Also reads plan conditions
// (AnalyzeCondition) so a finding can name the index or the extended
// statistics that would help.
#include "analyzer/plan_rules.h"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <mutex>

#include "analyzer/plan_checks.h"
#include "analyzer/statement.h"

namespace pgvise {

using plan_checks::NodeRef;
using plan_checks::ScoredFinding;

namespace plan_checks {

Finding& CheckEnv::Emit(const PlanNode& node, double impact, std::string message, std::string fix) {
  ScoredFinding sf;
  sf.impact = impact;
  Finding& f = sf.finding;
  f.rule = rule_.id;
  f.severity = severity_;
  f.message = std::move(message);
  f.suggestion = std::move(fix);
  f.location.file = file_;
  f.location.plan_path = node.path;
  f.location.node_type = node.node_type;
  f.location.object = RelationOf(node);
  out_->push_back(std::move(sf));
  return out_->back().finding;
}

std::string RelationOf(const PlanNode& n) {
  if (!n.relation.empty()) return n.QualifiedRelation();
  for (const auto& c : n.children) {
    // Sub-plans and init-plans belong to the expression, not to this node's rows.
    if (c.parent_relationship == "SubPlan" || c.parent_relationship == "InitPlan") continue;
    std::string r = RelationOf(c);
    if (!r.empty()) return r;
  }
  return "";
}

std::string Count(double v) {
  if (!std::isfinite(v)) return "?";
  char buf[64];
  if (std::fabs(v - std::round(v)) > 1e-9 && std::fabs(v) < 100) {
    std::snprintf(buf, sizeof buf, "%.2f", v);
    return buf;
  }
  std::snprintf(buf, sizeof buf, "%.0f", v);
  std::string s = buf;
  std::string out;
  size_t start = s[0] == '-' ? 1 : 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i > start && (s.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(s[i]);
  }
  return out;
}

std::string Ms(double ms) {
  char buf[64];
  if (ms >= 1000)
    std::snprintf(buf, sizeof buf, "%.2f s", ms / 1000);
  else
    std::snprintf(buf, sizeof buf, "%.*f ms", ms < 0.1 ? 4 : ms < 10 ? 2 : 1, ms);
  return buf;
}

std::string Percent(double fraction) {
  char buf[32];
  double pct = fraction * 100;
  if (pct > 99.995 && pct < 100) return ">99.99%";  // never round a remainder away
  std::snprintf(buf, sizeof buf, pct >= 99.5 && pct < 100 ? "%.2f%%" : "%.0f%%", pct);
  return buf;
}

std::string Kb(double kb) {
  char buf[64];
  if (kb >= 1024 * 1024)
    std::snprintf(buf, sizeof buf, "%.1f GB", kb / (1024 * 1024));
  else if (kb >= 1024)
    std::snprintf(buf, sizeof buf, "%.1f MB", kb / 1024);
  else
    std::snprintf(buf, sizeof buf, "%.0f kB", kb);
  return buf;
}

std::string WorkMemFor(double kb) {
  if (!(kb > 0)) return "4MB";
  double mb = std::ceil(kb / 1024);
  // Round up to a power of two: settings people can read, with headroom.
  double p = 1;
  while (p < mb && p < 1024 * 1024) p *= 2;
  if (p >= 1024 && std::fmod(p, 1024) == 0) return Count(p / 1024) + "GB";
  return Count(p) + "MB";
}

}  // namespace plan_checks

namespace {

void Flatten(const PlanNode& n, const PlanNode* parent, bool under_limit,
             std::vector<NodeRef>* out) {
  out->push_back({&n, parent, under_limit});
  bool limit = under_limit || n.node_type == "Limit";
  for (const auto& c : n.children) {
    // An InitPlan/SubPlan under a Limit is not cut short by it.
    bool sub = c.parent_relationship == "SubPlan" || c.parent_relationship == "InitPlan";
    Flatten(c, &n, limit && !sub, out);
  }
}

const Rule& DefaultRule(const char* id) {
  // Rules without a RuleBook: thresholds fall back to the handler defaults.
  static std::map<std::string, Rule> defaults;
  static std::once_flag once;
  std::call_once(once, [] {
    for (const auto& c : plan_checks::Checks()) {
      Rule r;
      r.id = c.id;
      r.area = "plan";
      r.severity = c.severity;
      defaults[c.id] = r;
    }
  });
  return defaults.at(id);
}

bool CanRun(const plan_checks::PlanCheck& c, const Plan& p) {
  if (c.needs_analyze && !p.analyzed) return false;
  if (c.needs_buffers && !p.has_buffers) return false;
  if (c.needs_timing && !p.has_timing) return false;
  return true;
}

// ---- AnalyzeCondition: a walk over libpg_query's JSON parse tree.

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

// The column a ColumnRef names (last field), "" if `e` is not one. Casts
// around a column ("(status)::text") still name the column.
std::string ColumnName(element e) {
  object o;
  if (e.get_object().get(o) != simdjson::SUCCESS) return "";
  element inner;
  if (o["TypeCast"].get(inner) == simdjson::SUCCESS) {
    element arg;
    return inner["arg"].get(arg) == simdjson::SUCCESS ? ColumnName(arg) : "";
  }
  if (o["ColumnRef"].get(inner) != simdjson::SUCCESS) return "";
  array fields;
  if (inner["fields"].get_array().get(fields) != simdjson::SUCCESS) return "";
  std::string name;
  for (element f : fields) {
    std::string_view sv;
    if (f["String"]["sval"].get_string().get(sv) == simdjson::SUCCESS ||
        f["String"]["str"].get_string().get(sv) == simdjson::SUCCESS)
      name = std::string(sv);
  }
  return name;
}

void CollectColumns(element e, std::vector<std::string>* out) {
  array a;
  if (e.get_array().get(a) == simdjson::SUCCESS) {
    for (element c : a) CollectColumns(c, out);
    return;
  }
  object o;
  if (e.get_object().get(o) != simdjson::SUCCESS) return;
  std::string col = ColumnName(e);
  if (!col.empty()) {
    if (std::find(out->begin(), out->end(), col) == out->end()) out->push_back(col);
    return;
  }
  for (auto f : o) CollectColumns(f.value, out);
}

std::string ConstString(element e) {
  element c;
  if (e["TypeCast"]["arg"].get(c) == simdjson::SUCCESS) return ConstString(c);
  std::string_view sv;
  if (e["A_Const"]["sval"]["sval"].get_string().get(sv) == simdjson::SUCCESS)
    return std::string(sv);
  return "";
}

void AddUnique(std::vector<std::string>* v, const std::string& s) {
  if (!s.empty() && std::find(v->begin(), v->end(), s) == v->end()) v->push_back(s);
}

void ClassifyTerm(element term, ConditionColumns* out) {
  element ae;
  if (term["NullTest"].get(ae) == simdjson::SUCCESS) {
    element arg;
    if (ae["arg"].get(arg) == simdjson::SUCCESS) AddUnique(&out->equality, ColumnName(arg));
    return;
  }
  if (term["A_Expr"].get(ae) != simdjson::SUCCESS) return;
  std::string_view kind, op;
  if (ae["kind"].get_string().get(kind) != simdjson::SUCCESS) return;
  array name;
  if (ae["name"].get_array().get(name) == simdjson::SUCCESS)
    for (element n : name)
      if (n["String"]["sval"].get_string().get(op) != simdjson::SUCCESS) op = {};
  element l, r;
  std::string lc, rc;
  if (ae["lexpr"].get(l) == simdjson::SUCCESS) lc = ColumnName(l);
  if (ae["rexpr"].get(r) == simdjson::SUCCESS) rc = ColumnName(r);
  const std::string col = !lc.empty() ? lc : rc;
  if (col.empty()) return;
  if (kind == "AEXPR_IN" || (kind == "AEXPR_OP_ANY" && op == "=")) {
    AddUnique(&out->equality, col);
  } else if (kind == "AEXPR_BETWEEN") {
    AddUnique(&out->range, col);
  } else if (kind == "AEXPR_OP" && op == "=") {
    AddUnique(&out->equality, col);
  } else if (kind == "AEXPR_OP" && (op == "<" || op == ">" || op == "<=" || op == ">=")) {
    AddUnique(&out->range, col);
  } else if ((kind == "AEXPR_OP" && op == "~~") || kind == "AEXPR_LIKE") {
    // PostgreSQL deparses LIKE as ~~. A constant prefix is a B-tree range.
    std::string pat = !lc.empty() && r.is_object() ? ConstString(r) : "";
    if (!pat.empty() && pat[0] != '%' && pat[0] != '_') {
      AddUnique(&out->range, col);
      AddUnique(&out->like_prefix, col);
    } else {
      AddUnique(&out->unindexable, col);
    }
  } else {
    AddUnique(&out->unindexable, col);
  }
}

}  // namespace

ConditionColumns AnalyzeCondition(const std::string& condition) {
  ConditionColumns out;
  if (condition.empty()) return out;
  std::string json;
  size_t pos = 0;
  // The deparsed expression is parsed as the WHERE clause of a query: no
  // pattern matching on SQL. Plan-only notation (SubPlan 1) does not parse.
  if (!ParseSqlToJson("SELECT WHERE " + condition, &json, &pos).ok()) return out;
  simdjson::dom::parser parser;
  element doc, where;
  if (parser.parse(json).get(doc) != simdjson::SUCCESS) return out;
  array stmts;
  if (doc["stmts"].get_array().get(stmts) != simdjson::SUCCESS || stmts.size() != 1) return out;
  element first;
  if (stmts.at(0).get(first) != simdjson::SUCCESS ||
      first["stmt"]["SelectStmt"]["whereClause"].get(where) != simdjson::SUCCESS)
    return out;
  out.parsed = true;
  CollectColumns(where, &out.all);
  element bool_expr;
  std::string_view boolop;
  array args;
  if (where["BoolExpr"].get(bool_expr) == simdjson::SUCCESS &&
      bool_expr["boolop"].get_string().get(boolop) == simdjson::SUCCESS && boolop == "AND_EXPR" &&
      bool_expr["args"].get_array().get(args) == simdjson::SUCCESS) {
    out.and_terms = static_cast<int>(args.size());
    for (element t : args) ClassifyTerm(t, &out);
  } else {
    out.and_terms = 1;
    ClassifyTerm(where, &out);
  }
  return out;
}

std::vector<Finding> CheckPlan(const Plan& plan, const PlanCheckContext& ctx) {
  std::vector<NodeRef> nodes;
  nodes.reserve(plan.node_count ? plan.node_count : 16);
  Flatten(plan.root, nullptr, false, &nodes);
  std::vector<ScoredFinding> scored;
  for (const auto& check : plan_checks::Checks()) {
    const Rule* rule = &DefaultRule(check.id);
    if (ctx.rules) {
      rule = ctx.rules->Enabled(check.id);
      if (!rule) continue;  // disabled by the user, or its YAML is missing
    }
    if (!CanRun(check, plan)) continue;
    plan_checks::CheckEnv env(plan, nodes, *rule, rule->severity, ctx.file, &scored);
    check.run(env);
  }
  // Worst first: severity, then what is at stake (ms or rows), then the
  // tree order for a stable output.
  std::stable_sort(scored.begin(), scored.end(),
                   [](const ScoredFinding& a, const ScoredFinding& b) {
                     if (a.finding.severity != b.finding.severity)
                       return a.finding.severity > b.finding.severity;
                     return a.impact > b.impact;
                   });
  std::vector<Finding> out;
  out.reserve(scored.size());
  for (auto& s : scored) out.push_back(std::move(s.finding));
  return out;
}

std::vector<std::string> PlanCheckNotes(const Plan& plan, const PlanCheckContext& ctx) {
  std::vector<std::string> notes;
  auto skipped = [&](auto pred) {
    std::string ids;
    for (const auto& c : plan_checks::Checks()) {
      if (ctx.rules && !ctx.rules->Enabled(c.id)) continue;
      if (pred(c)) ids += (ids.empty() ? "" : ", ") + std::string(c.id);
    }
    return ids;
  };
  if (!plan.analyzed) {
    std::string ran = skipped([](const plan_checks::PlanCheck& c) { return !c.needs_analyze; });
    notes.push_back(
        "plan has no ANALYZE data (estimates only): ran only the checks estimates support (" + ran +
        "); run EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) for row misestimates, "
        "spills, loops, buffer reads and timing");
    return notes;
  }
  if (!plan.has_buffers) {
    std::string ids = skipped([](const plan_checks::PlanCheck& c) { return c.needs_buffers; });
    if (!ids.empty()) notes.push_back("plan has no BUFFERS data: skipped " + ids);
  }
  if (!plan.has_timing) {
    std::string ids = skipped([](const plan_checks::PlanCheck& c) { return c.needs_timing; });
    if (!ids.empty()) notes.push_back("plan was run with TIMING OFF: skipped " + ids);
  }
  return notes;
}

std::set<std::string> PlanRuleIds() {
  std::set<std::string> ids;
  for (const auto& c : plan_checks::Checks()) ids.insert(c.id);
  return ids;
}

}  // namespace pgvise
