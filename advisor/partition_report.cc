// The partition advisor's section of the advise report (text, markdown,
// html; JSON and SQL come from the recommendation itself): per recommended
// table its strategy and interval, the dry-run estimate per statement, what
// changes, the migration's steps and locks, and pg_partman's alternative.
// It reads only the recommendation's evidence (partition.cc writes it), so
// the report and the JSON cannot disagree.
#include <cstdio>

#include "advisor/partition.h"
#include "advisor/partition_internal.h"
#include "core/sql_text.h"

namespace pgvise {

namespace {

const EvidenceValue* FindEv(const Recommendation& r, const std::string& key) {
  for (const auto& e : r.evidence)
    if (e.key == key) return &e.value;
  return nullptr;
}

std::string EvString(const Recommendation& r, const std::string& key) {
  const EvidenceValue* v = FindEv(r, key);
  if (!v) return "";
  if (auto s = std::get_if<std::string>(v)) return *s;
  if (auto i = std::get_if<int64_t>(v)) return std::to_string(*i);
  if (auto d = std::get_if<double>(v)) return Fmt(*d, 2);
  if (auto b = std::get_if<bool>(v)) return *b ? "yes" : "no";
  if (auto l = std::get_if<std::vector<std::string>>(v)) {
    std::string s;
    for (const auto& x : *l) s += (s.empty() ? "" : ", ") + x;
    return s;
  }
  return "";
}

double EvDouble(const Recommendation& r, const std::string& key) {
  const EvidenceValue* v = FindEv(r, key);
  if (!v) return 0;
  if (auto d = std::get_if<double>(v)) return *d;
  if (auto i = std::get_if<int64_t>(v)) return static_cast<double>(*i);
  return 0;
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

}  // namespace

void AddPartitionReport(const AdviseReport& r, Report* report) {
  if (r.partitions.empty()) return;
  auto& b = report->body;
  b.push_back(ReportBlock::Heading("Partitioning"));
  int n = 0;
  for (const auto& rec : r.partitions) {
    const bool executable = EvString(rec, "migration_executable") == "yes";
    b.push_back(ReportBlock::Heading(std::to_string(++n) + ". " + rec.object, 3));
    b.push_back(ReportBlock::Paragraph(rec.reason, "good"));
    std::vector<std::pair<std::string, std::string>> kv = {
        {"strategy", EvString(rec, "strategy") + " (" + EvString(rec, "key") + ")"}};
    if (!EvString(rec, "interval").empty())
      kv.push_back({"interval", EvString(rec, "interval") + ", " + EvString(rec, "partitions") +
                                    " partitions (" + EvString(rec, "partitions_over_data") +
                                    " over the data, " + EvString(rec, "premake") +
                                    " ahead); no default partition"});
    else
      kv.push_back({"values", EvString(rec, "values") + " + a default partition"});
    for (const auto& w : Split(EvString(rec, "interval_reasoning"), '\n'))
      kv.push_back({"sizing", w});
    kv.push_back({"workload cost", Fmt(EvDouble(rec, "workload_cost_before"), 0) + " -> " +
                                       Fmt(EvDouble(rec, "workload_cost_after"), 0) + " (" +
                                       EvString(rec, "cost_method") + ")"});
    if (EvString(rec, "retention_delete") == "yes")
      kv.push_back({"retention", "the DELETE (cost " +
                                     Fmt(EvDouble(rec, "retention_delete_cost"), 0) + ", ~" +
                                     Fmt(EvDouble(rec, "retention_rows_per_run"), 0) +
                                     " rows a run) becomes " + EvString(rec, "retention_after")});
    if (!EvString(rec, "verify_summary").empty())
      kv.push_back({"--verify", EvString(rec, "verify_summary")});
    kv.push_back({"lock", rec.lock});
    kv.push_back({"confidence", ConfidenceName(rec.confidence)});
    b.push_back(ReportBlock::KeyValues(std::move(kv)));

    ReportTable t;
    t.header = {"statement", "calls", "cost before", "cost after", "partitions scanned"};
    t.numeric = {false, true, true, true, true};
    t.log_scale = true;
    const auto scanned = Split(EvString(rec, "partitions_scanned"), ',');
    for (size_t i = 0; i < rec.benefit.size(); ++i) {
      const auto& q = rec.benefit[i];
      t.rows.push_back(
          {{ShortSql(q.query, 120), {}},
           {Fmt(q.calls, 0), {}},
           {Fmt(q.cost_before, 1), q.cost_before},
           {Fmt(q.cost_after, 1), q.cost_after},
           {(i < scanned.size() ? scanned[i] : "?") + " of " + EvString(rec, "partitions"), {}}});
    }
    b.push_back(
        ReportBlock::Table(std::move(t), "statements on " + rec.object + " (dry-run estimate)"));
    b.push_back(ReportBlock::Paragraph(
        "What changes:\n" + EvString(rec, "constraints") +
        "\nStatements whose plans change: " + EvString(rec, "statements_changing_plans")));
    if (!EvString(rec, "migration_blockers").empty())
      b.push_back(ReportBlock::Paragraph(
          "The migration is advice, not run as is:\n" + EvString(rec, "migration_blockers"),
          "warn"));
    b.push_back(ReportBlock::Paragraph("Migration steps and their locks:\n" +
                                       EvString(rec, "migration_steps")));
    b.push_back(ReportBlock::Code(rec.sql, "migration (in --format sql)"));
    if (!EvString(rec, "pg_partman").empty())
      b.push_back(ReportBlock::Code(EvString(rec, "pg_partman"), "pg_partman alternative"));

    ReportAction a{rec, executable, "partition " + rec.object};
    report->actions.push_back(std::move(a));
  }
}

}  // namespace pgvise
