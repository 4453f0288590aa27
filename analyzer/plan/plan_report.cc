#include "analyzer/plan/plan_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace pgvise {

namespace {

std::string Num(double v) {
  char buf[48];
  if (std::fabs(v) >= 100 || v == std::floor(v))
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%.2f", v);
  // Thousands separators for readability: 1204331 -> 1,204,331.
  std::string s = buf, out;
  size_t dot = s.find('.');
  size_t int_end = dot == std::string::npos ? s.size() : dot;
  size_t start = (s[0] == '-') ? 1 : 0;
  for (size_t i = 0; i < s.size(); ++i) {
    out += s[i];
    if (i >= start && i + 1 < int_end && (int_end - i - 1) % 3 == 0) out += ',';
  }
  return out;
}

std::string Label(const PlanNode& n) {
  std::string l = n.node_type;
  if (!n.join_type.empty() && n.join_type != "Inner" && l.find("Join") != std::string::npos)
    l = n.join_type + " " + l;
  if (!n.strategy.empty() && n.node_type == "Aggregate" && n.strategy != "Plain")
    l = n.strategy + " " + l;
  if (!n.partial_mode.empty() && n.partial_mode != "Simple") l = n.partial_mode + " " + l;
  return l;
}

std::string Detail(const PlanNode& n) {
  std::string d;
  if (!n.index_name.empty()) d = "using " + n.index_name;
  if (!n.relation.empty()) {
    d += (d.empty() ? "on " : " on ") + n.QualifiedRelation();
    if (!n.alias.empty() && n.alias != n.relation) d += " " + n.alias;
  } else if (!n.cte_name.empty()) {
    d += "on CTE " + n.cte_name;
  } else if (!n.function_name.empty()) {
    d += "on " + n.function_name + "()";
  }
  if (!n.subplan_name.empty())
    d += (d.empty() ? "" : " ") + std::string("(") + n.subplan_name + ")";
  return d;
}

bool Pinned(const Finding& f, const Plan& plan, const PlanNode& n) {
  return f.location.plan_path == n.path || f.location.plan_path == plan.root_path_prefix + n.path;
}

std::string Share(double part, double whole) {
  if (whole <= 0) return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, " (%.0f%%)", 100.0 * part / whole);
  return buf;
}

// `whole`: the plan's total time (ms) or cost, for each node's share.
ReportTreeNode Build(const Plan& plan, const PlanNode& n, const std::vector<Finding>& findings,
                     double whole) {
  ReportTreeNode t;
  t.label = Label(n);
  t.detail = Detail(n);
  if (n.has_actual && n.has_timing) {
    const double self = PlanNodeSelfTimeMs(n);
    t.bar = self;
    t.figures.push_back({"self", Num(self) + " ms" + Share(self, whole)});
  } else {
    const double self = PlanNodeSelfCost(n);
    t.bar = self;
    t.figures.push_back({"cost", Num(n.total_cost) + ", self " + Num(self) + Share(self, whole)});
  }
  if (n.has_actual) {
    std::string rows = Num(n.actual_rows) + " of est " + Num(n.plan_rows);
    const double a = std::max(n.actual_rows, 1.0), e = std::max(n.plan_rows, 1.0);
    const double off = std::max(a / e, e / a);
    if (off >= 10) rows += " (" + Num(off) + "x " + (a > e ? "under" : "over") + ")";
    t.figures.push_back({"rows", rows});
    if (n.actual_loops > 1) t.figures.push_back({"loops", Num(n.actual_loops)});
  } else {
    t.figures.push_back({"rows", "est " + Num(n.plan_rows)});
  }
  if (n.buffers.present) {
    t.figures.push_back({"buffers", "hit " + Num(static_cast<double>(n.buffers.shared_hit)) +
                                        " read " +
                                        Num(static_cast<double>(n.buffers.shared_read))});
    if (n.buffers.temp_written > 0)
      t.figures.push_back({"temp written", Num(static_cast<double>(n.buffers.temp_written))});
  }
  for (size_t i = 0; i < findings.size(); ++i)
    if (Pinned(findings[i], plan, n)) t.findings.push_back(i);
  for (const auto& c : n.children) t.children.push_back(Build(plan, c, findings, whole));
  return t;
}

}  // namespace

double PlanNodeSelfTimeMs(const PlanNode& n) {
  double self = n.actual_total_ms * std::max(n.actual_loops, 1.0);
  for (const auto& c : n.children)
    if (c.parent_relationship != "InitPlan")
      self -= c.actual_total_ms * std::max(c.actual_loops, 1.0);
  return std::max(self, 0.0);
}

double PlanNodeSelfCost(const PlanNode& n) {
  double self = n.total_cost;
  for (const auto& c : n.children)
    if (c.parent_relationship != "InitPlan" && c.parent_relationship != "SubPlan")
      self -= c.total_cost;
  return std::max(self, 0.0);
}

ReportTreeNode PlanTree(const Plan& plan, const std::vector<Finding>& findings) {
  const PlanNode& root = plan.root;
  const double whole = root.has_actual && root.has_timing
                           ? root.actual_total_ms * std::max(root.actual_loops, 1.0)
                           : root.total_cost;
  return Build(plan, root, findings, whole);
}

}  // namespace pgvise
