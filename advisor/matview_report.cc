// The view advisor's part of the advise report: per view its definition,
// unique index, refresh, estimates (or --verify's measurements) and the
// rewritten statements; script actions for the view and, apart, for the
// rewrites (an application change); the JSON "rewrites" array moved out of
// the evidence beside it (docs/advise-views.md).
#include <nlohmann/json.hpp>

#include "advisor/matview.h"
#include "advisor/matview_internal.h"
#include "advisor/report.h"
#include "core/sql_text.h"

namespace pgvise {

namespace {
using json = nlohmann::ordered_json;
using mv::advice::EvDouble;
using mv::advice::EvString;
using mv::advice::Find;
using mv::advice::Fmt0;
}  // namespace

void AddViewReport(const AdviseReport& r, Report* report) {
  if (r.views.empty()) return;
  auto& b = report->body;
  b.push_back(ReportBlock::Heading("Recommended materialized views"));
  b.push_back(ReportBlock::Paragraph(
      "PostgreSQL does not rewrite queries onto materialized views: each view comes with the "
      "statements rewritten to read it, which the application must run instead. Costs are "
      "estimates (EXPLAIN of the definition, a sequential read of the view) unless --verify "
      "measured them."));
  int n = 0;
  for (const auto& rec : r.views) {
    b.push_back(ReportBlock::Heading(std::to_string(++n) + ". " + rec.object, 3));
    b.push_back(ReportBlock::Code(rec.sql + ";"));
    std::vector<std::pair<std::string, std::string>> kv = {
        {"benefit", rec.reason},
        {"refresh", EvString(rec, "refresh")},
        {"rows", Fmt0(EvDouble(rec, "rows")) + " (est.), ~" + HumanBytes(rec.size_bytes) +
                     " with its unique index"},
        {"refresh cost", Fmt0(EvDouble(rec, "refresh_cost")) + " cost units per refresh (est.)"},
        {"confidence", ConfidenceName(rec.confidence)}};
    if (Find(rec, "measured_refresh_ms"))
      kv.push_back(
          {"--verify", "measured: statements " + Fmt0(EvDouble(rec, "measured_ms_before")) +
                           " ms -> " + Fmt0(EvDouble(rec, "measured_ms_after")) +
                           " ms per run of each once; refresh " +
                           Fmt0(EvDouble(rec, "measured_refresh_ms")) + " ms; " +
                           HumanBytes(static_cast<int64_t>(EvDouble(rec, "measured_size_bytes")))});
    b.push_back(ReportBlock::KeyValues(std::move(kv)));
    auto rw = json::parse(EvString(rec, "rewrites"), nullptr, false);
    if (!rw.is_array()) continue;
    for (const auto& x : rw)
      b.push_back(ReportBlock::Code(x.value("rewritten", "") + ";",
                                    "statement " + std::to_string(x.value("statement", 0)) +
                                        " rewritten" +
                                        (x.value("rollup", false) ? " (rollup)" : "")));
  }
  for (const auto& rec : r.views) {
    ReportAction a{rec, true, "materialized view " + rec.object};
    a.rec.reason = rec.reason + "\nrefresh: " + EvString(rec, "refresh");
    report->actions.push_back(std::move(a));
    auto rw = json::parse(EvString(rec, "rewrites"), nullptr, false);
    if (!rw.is_array()) continue;
    Recommendation advice = rec;
    advice.sql.clear();
    advice.revert.clear();
    advice.lock.clear();
    for (const auto& x : rw)
      advice.sql += SqlComment("statement " + std::to_string(x.value("statement", 0)) + ":", "") +
                    x.value("rewritten", "") + ";\n";
    advice.reason = "run these instead of the statements they replace (application change)";
    report->actions.push_back({advice, false, "rewrites onto " + rec.object});
  }
  // JSON: "rewrites" as an array beside the evidence (docs/advise-views.md).
  if (report->json.contains("recommendations"))
    for (auto& j : report->json["recommendations"]) {
      if (j.value("kind", "") != "materialized-view" || !j.contains("evidence")) continue;
      auto& ev = j["evidence"];
      if (!ev.is_object() || !ev.contains("rewrites") || !ev["rewrites"].is_string()) continue;
      auto rw = json::parse(ev["rewrites"].get<std::string>(), nullptr, false);
      ev.erase("rewrites");
      j["rewrites"] = rw.is_discarded() ? json::array() : rw;
    }
}

}  // namespace pgvise
