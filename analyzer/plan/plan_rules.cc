// Runs the plan checks (analyzer/plan/plan_checks.cc) over a Plan: builds a flat
// list of nodes with their parents once, asks each enabled rule's handler to
// look, and orders what they found worst first. Also reads plan conditions
// (AnalyzeCondition) so a finding can name the index or the extended
// statistics that would help.
#include "analyzer/plan/plan_rules.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <stdexcept>

#include "analyzer/plan/plan_checks.h"
#include "analyzer/sql/pg_tree.h"
#include "analyzer/sql/statement.h"
#include "core/report.h"

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

void CheckEnv::GradeByShare(Finding& f, const PlanNode& node) const {
  double share = -1;
  const char* of = "";
  if (plan.has_timing && plan.execution_ms > 0 && node.has_timing) {
    share = node.actual_total_ms * std::max(1.0, node.actual_loops) / plan.execution_ms;
    of = "of the query's time";
  } else if (plan.root.total_cost > 0) {
    share = node.total_cost / plan.root.total_cost;
    of = "of the plan's total cost";
  }
  if (share < 0) return;  // nothing to weigh it against: the YAML's severity stands
  share = std::min(share, 1.0);
  f.severity = share >= T("warning_share") ? Severity::kWarning : Severity::kInfo;
  f.message += " (" + std::to_string(static_cast<int>(share * 100 + 0.5)) + "% " + of + ")";
  f.Add("share", share);
}

namespace {

// Relation scans under `n` (itself included), in tree order: the scans whose
// rows flow into n. Sub-plans and init-plans belong to an expression of
// their parent, not to its rows.
void CollectScans(const PlanNode& n, std::vector<const PlanNode*>* out) {
  if (!n.relation.empty()) out->push_back(&n);
  for (const auto& c : n.children) {
    if (c.parent_relationship == "SubPlan" || c.parent_relationship == "InitPlan") continue;
    CollectScans(c, out);
  }
}

// The range-table aliases the deparsed sort or group keys qualify their
// columns with ("o.note DESC" -> o). Each key is parsed with libpg_query as an
// ORDER BY item (which also takes DESC, NULLS FIRST and USING). False when a
// key does not parse or names a column without a qualifier: then which table
// it belongs to is not known. PostgreSQL qualifies every column once the
// query has more than one range-table entry, so unqualified columns occur
// only where every scan reads the same relation.
bool KeyAliases(const std::vector<std::string>& keys, std::set<std::string>* aliases);

}  // namespace

std::vector<std::string> RelationsBelow(const PlanNode& n) {
  std::vector<const PlanNode*> scans;
  CollectScans(n, &scans);
  std::vector<std::string> out;
  for (const PlanNode* s : scans) {
    std::string r = s->QualifiedRelation();
    if (std::find(out.begin(), out.end(), r) == out.end()) out.push_back(r);
  }
  return out;
}

std::string RelationOf(const PlanNode& n) {
  if (!n.relation.empty()) return n.QualifiedRelation();
  std::vector<const PlanNode*> scans;
  CollectScans(n, &scans);
  // Every row comes from one relation (a Hash or Sort over one scan, an
  // Aggregate over a self-join): the node is about that relation.
  std::vector<std::string> relations = RelationsBelow(n);
  if (relations.size() == 1) return relations.front();
  if (relations.empty()) return "";
  // Above a join the rows mix several relations. A Sort or an Aggregate
  // whose keys all name one alias is about that alias's relation (a sort by
  // o.note sorts by a column of orders); anything else names none, rather
  // than the first relation that happens to be scanned below it.
  std::vector<std::string> keys = n.sort_key;
  keys.insert(keys.end(), n.group_key.begin(), n.group_key.end());
  std::set<std::string> aliases;
  if (keys.empty() || !KeyAliases(keys, &aliases) || aliases.size() != 1) return "";
  std::string found;
  for (const PlanNode* s : scans) {
    const std::string& alias = s->alias.empty() ? s->relation : s->alias;
    if (alias != *aliases.begin()) continue;
    // The same alias in two sub-queries over different tables: ambiguous.
    if (!found.empty() && found != s->QualifiedRelation()) return "";
    found = s->QualifiedRelation();
  }
  return found;
}

std::string Count(double v) {
  if (!std::isfinite(v)) return "?";
  char buf[64];
  if (std::fabs(v - std::round(v)) > 1e-9 && std::fabs(v) < 100) {
    std::snprintf(buf, sizeof buf, "%.2f", v);
    return buf;
  }
  return Thousands(v);
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

bool CanRun(const plan_checks::PlanCheck& c, const Plan& p) {
  if (c.needs_analyze && !p.analyzed) return false;
  if (c.needs_buffers && !p.has_buffers) return false;
  if (c.needs_timing && !p.has_timing) return false;
  return true;
}

// ---- AnalyzeCondition: a walk over the parse tree (PgTree, analyzer/sql/pg_tree.h).

using pgtree::array;
using pgtree::element;
using pgtree::object;

// `e`'s member `key` (a wrapper's key is its node type), in *out.
bool Member(element e, std::string_view key, element* out) {
  object o;
  return e.get(o) == pgtree::SUCCESS && o.at_key(key).get(*out) == pgtree::SUCCESS;
}

// The text of a String node ({"String": {"sval": ..}}), "" for anything else.
std::string_view StringValue(element e) {
  element body;
  std::string_view sv;
  if (Member(e, "String", &body) && Member(body, "sval", &body) && body.get(sv) == pgtree::SUCCESS)
    return sv;
  return {};
}

// Parses `sql` into *tree and returns its one statement's member `clause` of
// the SelectStmt, refusing a tree nested deeper than the analyzer walks
// (kMaxNestingDepth: the walks below recurse once per level).
bool SelectClause(const pgtree::PgTree& tree, const std::string& sql, std::string_view clause,
                  element* out) {
  if (!tree.ok() || tree.size() != 1) return false;
  if (sql.size() > kShortStatementBytes && tree.MaxDepth() > kMaxNestingDepth) return false;
  element stmt;
  return Member(tree.statement(0), "SelectStmt", &stmt) && Member(stmt, clause, out);
}

// The column a ColumnRef names (last field), "" if `e` is not one. Casts
// around a column ("(status)::text") still name the column.
std::string ColumnName(element e) {
  element inner;
  if (Member(e, "TypeCast", &inner)) {
    element arg;
    return Member(inner, "arg", &arg) ? ColumnName(arg) : "";
  }
  if (!Member(e, "ColumnRef", &inner)) return "";
  element fields_el;
  array fields;
  if (!Member(inner, "fields", &fields_el) || fields_el.get(fields) != pgtree::SUCCESS) return "";
  std::string name;
  for (element f : fields) {
    std::string_view sv = StringValue(f);
    if (!sv.empty()) name = std::string(sv);
  }
  return name;
}

void CollectColumns(element e, std::vector<std::string>* out) {
  array a;
  if (e.get(a) == pgtree::SUCCESS) {
    for (element c : a) CollectColumns(c, out);
    return;
  }
  object o;
  if (e.get(o) != pgtree::SUCCESS) return;
  if (!o.is_wrapper()) {
    for (element c : o.children()) CollectColumns(c, out);
    return;
  }
  std::string col = ColumnName(e);
  if (!col.empty()) {
    if (std::find(out->begin(), out->end(), col) == out->end()) out->push_back(col);
    return;
  }
  for (auto f : o) CollectColumns(f.value, out);
}

std::string ConstString(element e) {
  element c;
  if (Member(e, "TypeCast", &c) && Member(c, "arg", &c)) return ConstString(c);
  std::string_view sv;
  if (Member(e, "A_Const", &c) && Member(c, "sval", &c) && Member(c, "sval", &c) &&
      c.get(sv) == pgtree::SUCCESS)
    return std::string(sv);
  return "";
}

void AddUnique(std::vector<std::string>* v, const std::string& s) {
  if (!s.empty() && std::find(v->begin(), v->end(), s) == v->end()) v->push_back(s);
}

void ClassifyTerm(element term, ConditionColumns* out) {
  element ae;
  if (Member(term, "NullTest", &ae)) {
    element arg;
    if (Member(ae, "arg", &arg)) AddUnique(&out->equality, ColumnName(arg));
    return;
  }
  if (!Member(term, "A_Expr", &ae)) return;
  element kind_el;
  std::string_view kind, op;
  if (!Member(ae, "kind", &kind_el) || kind_el.get(kind) != pgtree::SUCCESS) return;
  element name_el;
  array name;
  if (Member(ae, "name", &name_el) && name_el.get(name) == pgtree::SUCCESS)
    for (element n : name) op = StringValue(n);
  element l, r;
  std::string lc, rc;
  const bool has_r = Member(ae, "rexpr", &r);
  if (Member(ae, "lexpr", &l)) lc = ColumnName(l);
  if (has_r) rc = ColumnName(r);
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
    std::string pat = !lc.empty() && has_r && r.is_object() ? ConstString(r) : "";
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

// Adds the qualifier of every ColumnRef under `e` to *aliases; sets
// *unqualified when a column has none.
void CollectQualifiers(element e, std::set<std::string>* aliases, bool* unqualified) {
  array a;
  if (e.get(a) == pgtree::SUCCESS) {
    for (element c : a) CollectQualifiers(c, aliases, unqualified);
    return;
  }
  object o;
  if (e.get(o) != pgtree::SUCCESS) return;
  if (!o.is_wrapper()) {
    for (element c : o.children()) CollectQualifiers(c, aliases, unqualified);
    return;
  }
  element ref;
  if (Member(e, "ColumnRef", &ref)) {
    element fields_el;
    array fields;
    if (!Member(ref, "fields", &fields_el) || fields_el.get(fields) != pgtree::SUCCESS) return;
    std::vector<std::string> names;
    for (element f : fields) {
      std::string_view sv = StringValue(f);
      names.emplace_back(sv.empty() ? std::string_view("*") : sv);
    }
    if (names.size() >= 2)
      aliases->insert(names[names.size() - 2]);
    else
      *unqualified = true;
    return;
  }
  for (auto f : o) CollectQualifiers(f.value, aliases, unqualified);
}

}  // namespace

namespace plan_checks {
namespace {

bool KeyAliases(const std::vector<std::string>& keys, std::set<std::string>* aliases) {
  for (const auto& key : keys) {
    const std::string sql = "SELECT 1 ORDER BY " + key;
    pgtree::PgTree tree(sql);
    element sort;
    if (!SelectClause(tree, sql, "sortClause", &sort)) return false;
    bool unqualified = false;
    CollectQualifiers(sort, aliases, &unqualified);
    if (unqualified) return false;
  }
  return true;
}

}  // namespace
}  // namespace plan_checks

ConditionColumns AnalyzeCondition(const std::string& condition) {
  ConditionColumns out;
  if (condition.empty()) return out;
  // The deparsed expression is parsed as the WHERE clause of a query: no
  // pattern matching on SQL. Plan-only notation (SubPlan 1) does not parse.
  const std::string sql = "SELECT WHERE " + condition;
  pgtree::PgTree tree(sql);
  element where;
  if (!SelectClause(tree, sql, "whereClause", &where)) return out;
  out.parsed = true;
  CollectColumns(where, &out.all);
  element bool_expr, boolop_el, args_el;
  std::string_view boolop;
  array args;
  if (Member(where, "BoolExpr", &bool_expr) && Member(bool_expr, "boolop", &boolop_el) &&
      boolop_el.get(boolop) == pgtree::SUCCESS && boolop == "AND_EXPR" &&
      Member(bool_expr, "args", &args_el) && args_el.get(args) == pgtree::SUCCESS) {
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
  // Thresholds live only in the rules' YAML, so there is nothing to check
  // with without them: a caller that forgot the rule book is a bug.
  if (!ctx.rules) throw std::logic_error("CheckPlan: no rule book (thresholds live in the YAML)");
  std::vector<ScoredFinding> scored;
  for (const auto& check : plan_checks::Checks()) {
    const Rule* rule = ctx.rules->Enabled(check.id);
    if (!rule) continue;  // disabled by the user, or its YAML is missing
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
  if (ctx.source) {
    // A finding in a plan file points at its node's line, so an editor or a
    // code-scanning annotation lands on it. Whole-query findings point at the
    // member they read.
    for (Finding& f : out) {
      std::string member =
          f.location.plan_path == "Planning" ? "Planning Time" : f.location.plan_path;
      LineCol lc;
      if (member.empty() || !LocatePlanNode(*ctx.source, member, &lc)) continue;
      f.location.line = lc.line;
      f.location.column = lc.column;
    }
  }
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
