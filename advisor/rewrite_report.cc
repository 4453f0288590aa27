// The rewrites' part of the advise report (advisor/rewrite_offers.h): per
// statement the rewritten SQL, its costs with and without the recommended
// indexes, the passes and their safety argument; in the SQL script a step
// commented out (an application change to prove with `pgvise rewrite
// --verify`, not DDL to run). JSON: the recommendation as every other kind.
#include <cstdio>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "advisor/advisor.h"
#include "advisor/report.h"
#include "advisor/rewrite_offers.h"
#include "core/report.h"

namespace pgvise {

namespace {

std::string EvString(const Recommendation& r, const std::string& key) {
  for (const auto& e : r.evidence)
    if (e.key == key)
      if (const auto* s = std::get_if<std::string>(&e.value)) return *s;
  return "";
}

double EvDouble(const Recommendation& r, const std::string& key) {
  for (const auto& e : r.evidence)
    if (e.key == key) {
      if (const auto* d = std::get_if<double>(&e.value)) return *d;
      if (const auto* i = std::get_if<int64_t>(&e.value)) return static_cast<double>(*i);
    }
  return 0;
}

std::string Percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100 * fraction);
  return buf;
}

}  // namespace

void AddRewriteReport(const AdviseReport& r, Report* report) {
  if (r.rewrites.empty()) return;
  auto& b = report->body;
  b.push_back(ReportBlock::Heading("Rewrites"));
  b.push_back(ReportBlock::Paragraph(
      "These statements gain more from a rewrite than from any index: a subquery PostgreSQL runs "
      "once per row becomes a join (pgvise rewrite's passes). The index selection above costed "
      "them rewritten. Costs are EXPLAIN estimates; prove each with `pgvise rewrite --verify` "
      "on a copy of the database (it runs both forms and compares their rows), then change the "
      "application's query."));
  int n = 0;
  for (const auto& rec : r.rewrites) {
    b.push_back(ReportBlock::Heading(std::to_string(++n) + ". " + rec.object, 3));
    b.push_back(ReportBlock::Code(rec.sql + ";", "rewritten"));
    std::vector<std::pair<std::string, std::string>> kv = {
        {"benefit", "saves " + Percent(EvDouble(rec, "workload_share")) +
                        " of the workload's cost with the recommended indexes"},
        {"why", rec.reason},
        {"passes", EvString(rec, "passes")},
        {"safety", EvString(rec, "safety")},
        {"method", EvString(rec, "method")},
        {"confidence", ConfidenceName(rec.confidence)}};
    b.push_back(ReportBlock::KeyValues(std::move(kv)));
  }
  for (const auto& rec : r.rewrites) {
    ReportAction a{rec, false, "rewrite of " + rec.object};
    a.rec.reason = rec.reason + "\n" + EvString(rec, "safety");
    report->actions.push_back(std::move(a));
  }
}

}  // namespace pgvise
