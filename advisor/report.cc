#include "advisor/report.h"

#include "advisor/ext_statistics.h"
#include "advisor/matview.h"
#include "advisor/partition.h"
#include "advisor/patterns.h"
#include "advisor/rewrite_offers.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/json.h"
#include "core/sql_text.h"

namespace pgvise {

using json = nlohmann::ordered_json;

std::string HumanBytes(int64_t bytes) {
  double b = std::fabs(static_cast<double>(bytes));
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  int u = 0;
  while (b >= 1024 && u < 4) b /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%s%.0f %s" : "%s%.1f %s", bytes < 0 ? "-" : "", b,
                units[u]);
  return buf;
}

namespace {

std::string Num(double v, int prec = 2) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", prec, v);
  return buf;
}

const EvidenceValue* Find(const Recommendation& r, const std::string& key) {
  for (const auto& e : r.evidence)
    if (e.key == key) return &e.value;
  return nullptr;
}

double EvidenceDouble(const Recommendation& r, const std::string& key, double fallback = 0) {
  const EvidenceValue* v = Find(r, key);
  if (!v) return fallback;
  if (auto d = std::get_if<double>(v)) return *d;
  if (auto i = std::get_if<int64_t>(v)) return static_cast<double>(*i);
  return fallback;
}

// "at least " when a query hit the timeout before the index existed.
std::string LowerBound(const Recommendation& r) {
  const EvidenceValue* v = Find(r, "speedup_is_lower_bound");
  const bool* b = v ? std::get_if<bool>(v) : nullptr;
  return b && *b ? "at least " : "";
}

double Reduction(const AdviseReport& r) {
  return r.workload_cost_before > 0 ? 1.0 - r.workload_cost_after / r.workload_cost_before : 0;
}

// Planner cost units span decades: 12.4, 8,310, 1.16 M, 83.3 G.
std::string Cost(double v) {
  const double a = std::fabs(v);
  char buf[64];
  if (a >= 1e9)
    std::snprintf(buf, sizeof buf, "%.3g G", v / 1e9);
  else if (a >= 1e6)
    std::snprintf(buf, sizeof buf, "%.3g M", v / 1e6);
  else if (a >= 1e4)
    std::snprintf(buf, sizeof buf, "%.0f k", v / 1e3);
  else if (a >= 100)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string Percent(double fraction) { return Num(100 * fraction, 1) + "%"; }

// "2 new indexes, 1 partitioning and 1 drop": each kind of change the report
// makes, counted, the kinds it does not make left out.
std::string ChangeCounts(const AdviseReport& r) {
  std::vector<std::string> parts;
  auto add = [&](size_t n, const char* one, const char* many) {
    if (n > 0) parts.push_back(std::to_string(n) + " " + (n == 1 ? one : many));
  };
  add(r.indexes.size(), "new index", "new indexes");
  add(r.unverified.size(), "unverified index", "unverified indexes");
  add(r.partitions.size(), "partitioning", "partitionings");
  add(r.views.size(), "materialized view", "materialized views");
  add(r.statistics.size(), "statistics object", "statistics objects");
  add(r.rewrites.size(), "rewrite", "rewrites");
  add(r.drops.size(), "drop", "drops");
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i)
    out += (i == 0 ? "" : i + 1 == parts.size() ? " and " : ", ") + parts[i];
  return out;
}

std::string Summary(const AdviseReport& r) {
  std::ostringstream s;
  s << r.statements.size() << " statements (" << r.statements_costed << " costed";
  if (r.statements_failed) s << ", " << r.statements_failed << " not plannable";
  s << "; skipped " << r.skipped_utility << " utility/DDL, " << r.skipped_unparsable
    << " unparsable, " << r.skipped_other << " other; " << r.merged_duplicates
    << " duplicates merged), " << r.candidates << " candidates (" << r.candidates_skipped_existing
    << " already provided by existing indexes)";
  return s.str();
}

// How the `$n` statements were costed, in one line.
std::string Costing(const AdviseReport& r) {
  if (r.statements_custom == 0 && r.statements_generic == 0) return "no `$n` statements";
  return std::to_string(r.statements_custom) +
         " `$n` statement(s) costed as the weighted mean of custom plans over representative "
         "values (pg_stats / pg_qualstats), " +
         std::to_string(r.statements_generic) + " with a generic plan (see each statement)";
}

std::vector<ReportStat> Stats(const AdviseReport& r) {
  const double asked = static_cast<double>(r.whatif.whatif_calls + r.whatif.cache_hits);
  const double hit = asked > 0 ? 100.0 * static_cast<double>(r.whatif.cache_hits) / asked : 0;
  // --jobs / --replica: each connection's share ("job 2 (replica 1) 310").
  std::string shares;
  if (r.whatif.by_connection.size() > 1)
    for (const auto& c : r.whatif.by_connection)
      shares += (shares.empty() ? "" : ", ") + c.connection + " (" + c.server + ") " +
                std::to_string(c.whatif_calls);
  std::vector<ReportStat> out = {
      {"greedy steps", std::to_string(r.selection_steps)},
      {"local-search moves", std::to_string(r.local_moves)},
      {"what-if EXPLAINs", std::to_string(r.whatif.whatif_calls)},
      {"cache hits", std::to_string(r.whatif.cache_hits) + " (" + Num(hit, 1) + "%)"},
      {"hypothetical indexes", std::to_string(r.whatif.hypo_creates)},
      {"time",
       Num(r.wall_ms / 1000.0, 2) + " s (EXPLAIN " + Num(r.whatif.explain_ms / 1000.0, 2) + " s)"},
      {"HypoPG", r.hypopg_version}};
  if (!shares.empty()) out.insert(out.begin() + 3, {"what-ifs per connection", shares});
  return out;
}

// What one index does for the workload, in words a reader can check against
// the table under it: the statements it serves and the share of the
// workload's cost it removes (its marginal benefit: the workload with every
// other recommendation, with and without this one).
std::string Benefit(const AdviseReport& r, const Recommendation& rec) {
  double before = 0, after = 0;
  for (const auto& b : rec.benefit) {
    before += b.calls * b.cost_before;
    after += b.calls * b.cost_after;
  }
  std::string s = "serves " + std::to_string(rec.benefit.size()) + " statement" +
                  (rec.benefit.size() == 1 ? "" : "s") + " making up " +
                  Percent(r.workload_cost_before > 0 ? before / r.workload_cost_before : 0) +
                  " of the workload's cost";
  if (before > 0) s += "; their cost falls " + Percent(1 - after / before);
  const double marginal = EvidenceDouble(rec, "marginal_benefit");
  if (marginal > 0 && r.workload_cost_before > 0)
    s += "; without this index the recommended set would leave the workload " +
         Percent(marginal / r.workload_cost_before) + " costlier";
  return s;
}

std::string Speedup(const Recommendation& rec) {
  if (auto v = Find(rec, "measured_speedup"))
    if (auto d = std::get_if<double>(v)) return LowerBound(rec) + Num(*d, 1) + "x faster";
  return "";
}

// The per-statement table of one recommendation.
ReportTable BenefitTable(const Recommendation& rec) {
  ReportTable t;
  t.header = {"statement", "calls", "cost before", "cost after", "faster"};
  t.numeric = {false, true, true, true, true};
  t.log_scale = true;
  for (const auto& b : rec.benefit) {
    const double x = b.cost_after > 0 ? b.cost_before / b.cost_after : 0;
    t.rows.push_back({{ShortSql(b.query, 160), {}},
                      {Num(b.calls, 0), {}},
                      {Cost(b.cost_before), b.cost_before},
                      {Cost(b.cost_after), b.cost_after},
                      {x > 0 ? Num(x, 1) + "x" : "", {}}});
  }
  return t;
}

// Every statement of the workload: cost before and after (log scale: they
// span decades), its share of the workload's cost before and after, and how
// it was costed.
ReportTable StatementTable(const AdviseReport& r) {
  ReportTable t;
  t.header = {"#",          "statement",    "calls",       "cost before",
              "cost after", "share before", "share after", "costed"};
  t.numeric = {true, false, true, true, true, true, true, false};
  t.log_scale = true;
  std::vector<const StatementOutcome*> order;
  for (const auto& st : r.statements) order.push_back(&st);
  std::stable_sort(order.begin(), order.end(), [](const auto* a, const auto* b) {
    return a->calls * a->cost_before > b->calls * b->cost_before;
  });
  for (const StatementOutcome* st : order) {
    const double wb = st->calls * st->cost_before, wa = st->calls * st->cost_after;
    std::vector<ReportCell> row = {
        {std::to_string(st->index + 1), {}}, {ShortSql(st->sql, 160), {}}, {Num(st->calls, 0), {}}};
    if (st->costed) {
      row.push_back({Cost(st->cost_before), st->cost_before});
      row.push_back({Cost(st->cost_after), st->cost_after});
      row.push_back({r.workload_cost_before > 0 ? Percent(wb / r.workload_cost_before) : "", {}});
      row.push_back({r.workload_cost_after > 0 ? Percent(wa / r.workload_cost_after) : "", {}});
      row.push_back({st->costing + std::string(st->source.empty() ? "" : ", " + st->source), {}});
    } else {
      row.insert(row.end(),
                 {{"", {}}, {"", {}}, {"", {}}, {"", {}}, {"not costed: " + st->error, {}}});
    }
    t.rows.push_back(std::move(row));
  }
  return t;
}

}  // namespace

Report AdviceReport(const AdviseReport& r, const AdviceRenderOptions& o) {
  Report rep;
  rep.command = "advise";
  rep.title = "pgvise advise: schema changes for the workload";
  rep.database = o.database;
  rep.notes = r.notes;
  rep.stats = Stats(r);
  rep.json = AdviceToJson(r);

  // The SQL script: what it runs and how to run it.
  rep.sql_header = {
      "workload cost " + Cost(r.workload_cost_before) + " -> " + Cost(r.workload_cost_after) +
          " (" + Percent(Reduction(r)) + " lower, HypoPG what-if estimates)",
      "Run with psql outside a transaction block: CONCURRENTLY can't run inside one.",
      "If a statement times out waiting for a lock, run it again later; IF [NOT] EXISTS makes "
      "re-runs safe.",
      "A failed CREATE INDEX CONCURRENTLY leaves an INVALID index: drop it and re-run."};
  rep.sql_prologue = {"SET lock_timeout = '" + std::to_string(o.lock_timeout_ms) + "ms'",
                      "SET statement_timeout = 0"};
  if (o.include_revert) {
    rep.sql_footer.push_back("---------------------------------------------------------------");
    rep.sql_footer.push_back("Revert script");
    std::istringstream rev(RenderRevertSql(r, o));
    std::string line;
    while (std::getline(rev, line)) rep.sql_footer.push_back(line);
  }
  for (const auto& rec : r.indexes) {
    ReportAction a{rec, true, "index on " + rec.object};
    a.rec.reason = rec.reason + "\nsize ~" + HumanBytes(rec.size_bytes) + ", confidence " +
                   ConfidenceName(rec.confidence);
    rep.actions.push_back(std::move(a));
  }
  for (const auto& rec : r.unverified)
    rep.actions.push_back({rec, true, "index on " + rec.object + " (not verifiable by what-if)"});
  for (const auto& rec : r.drops) {
    ReportAction a{rec, true, "drop " + rec.object};
    a.rec.reason = rec.reason + "\nfrees " + HumanBytes(-rec.size_bytes);
    rep.actions.push_back(std::move(a));
  }

  // The body: summary, the statements, each recommendation with its evidence.
  auto& b = rep.body;
  b.push_back(ReportBlock::Heading(rep.title, 1));
  const bool changes = !r.indexes.empty() || !r.drops.empty() || !r.unverified.empty() ||
                       !r.partitions.empty() || !r.views.empty() || !r.statistics.empty() ||
                       !r.rewrites.empty();
  b.push_back(ReportBlock::Paragraph(
      changes
          ? "Workload cost " + Cost(r.workload_cost_before) + " -> " + Cost(r.workload_cost_after) +
                " (" + Percent(Reduction(r)) + " lower) with " + ChangeCounts(r) + "."
          : "No change would lower the workload's cost enough.",
      changes ? "good" : ""));
  std::vector<std::pair<std::string, std::string>> kv = {
      {"workload cost", Cost(r.workload_cost_before) + " -> " + Cost(r.workload_cost_after) + " (" +
                            Percent(Reduction(r)) + " lower)"},
      {"storage added",
       HumanBytes(r.bytes_added) +
           (r.budget_bytes >= 0
                ? " of a " + HumanBytes(r.budget_bytes) + " budget (" +
                      Percent(r.budget_bytes > 0 ? static_cast<double>(r.bytes_added) /
                                                       static_cast<double>(r.budget_bytes)
                                                 : 0) +
                      ")"
                : " (no budget)")},
      {"storage freed", HumanBytes(r.bytes_freed)},
      {"write overhead", "+" + Cost(r.write_overhead_added) + " / -" +
                             Cost(r.write_overhead_saved) + " cost units per second of writes"},
      {"statements", Summary(r)},
      {"method", "each statement EXPLAINed with hypothetical indexes (HypoPG " + r.hypopg_version +
                     "); B-tree sizes as CREATE INDEX builds them (from pg_stats)"},
      {"parameters", Costing(r)}};
  if (r.max_indexes >= 0)
    kv.push_back({"max indexes", std::to_string(r.max_indexes) +
                                     (r.max_indexes_binding
                                          ? " (binding: the cap, not the budget, ended the choice)"
                                          : " (not binding)")});
  if (r.timed_out) kv.push_back({"time limit", "reached: the choice is the best found so far"});
  b.push_back(ReportBlock::Heading("Summary"));
  b.push_back(ReportBlock::KeyValues(std::move(kv)));
  if (r.budget_bytes > 0) {
    ReportTable storage;
    storage.header = {"storage", "bytes"};
    storage.numeric = {false, true};
    storage.rows.push_back(
        {{"budget", {}}, {HumanBytes(r.budget_bytes), static_cast<double>(r.budget_bytes)}});
    storage.rows.push_back(
        {{"new indexes", {}}, {HumanBytes(r.bytes_added), static_cast<double>(r.bytes_added)}});
    ReportBlock sb = ReportBlock::Table(storage, "storage used against the budget");
    sb.html_only = true;
    b.push_back(std::move(sb));
  }

  b.push_back(ReportBlock::Heading("Recommended indexes"));
  if (r.indexes.empty())
    b.push_back(ReportBlock::Paragraph("None: no new index lowers the workload's cost enough."));
  int n = 0;
  for (const auto& rec : r.indexes) {
    b.push_back(ReportBlock::Heading(std::to_string(++n) + ". " + rec.object, 3));
    b.push_back(ReportBlock::Code(rec.sql + ";"));
    std::vector<std::pair<std::string, std::string>> ev = {
        {"benefit", Benefit(r, rec)},
        {"size", "~" + HumanBytes(rec.size_bytes)},
        {"write overhead", Cost(rec.write_overhead) + " cost units per second of writes"},
        {"confidence", ConfidenceName(rec.confidence)}};
    if (const EvidenceValue* origin = Find(rec, "origin"))
      if (const auto* o = std::get_if<std::string>(origin))
        ev.insert(ev.begin(), {"kind", *o + " index"});
    if (std::string sp = Speedup(rec); !sp.empty()) ev.push_back({"--verify", "measured " + sp});
    b.push_back(ReportBlock::KeyValues(std::move(ev)));
    if (!rec.benefit.empty())
      b.push_back(ReportBlock::Table(BenefitTable(rec), "statements it serves"));
  }
  if (!r.unverified.empty()) {
    b.push_back(ReportBlock::Heading("Not verifiable by what-if (GIN)"));
    for (const auto& rec : r.unverified) {
      b.push_back(ReportBlock::Code(rec.sql + ";"));
      b.push_back(ReportBlock::Paragraph(rec.reason));
      if (std::string sp = Speedup(rec); !sp.empty())
        b.push_back(ReportBlock::Paragraph("--verify: measured " + sp));
    }
  }
  b.push_back(ReportBlock::Heading("Indexes to drop"));
  if (r.drops.empty()) b.push_back(ReportBlock::Paragraph("None."));
  for (const auto& rec : r.drops) {
    b.push_back(ReportBlock::Code(rec.sql + ";"));
    b.push_back(ReportBlock::Paragraph("Frees " + HumanBytes(-rec.size_bytes) + ". " + rec.reason));
  }
  // Beyond indexes: each advisor renders its own section and script steps.
  AddPartitionReport(r, &rep);
  AddViewReport(r, &rep);
  AddStatisticsReport(r, &rep);
  AddRewriteReport(r, &rep);
  AddPatternReport(r, &rep);
  if (!r.statements.empty()) {
    b.push_back(ReportBlock::Heading("Statements"));
    b.push_back(ReportBlock::Table(StatementTable(r), "cost per statement, before and after"));
  }
  if (!r.notes.empty()) {
    b.push_back(ReportBlock::Heading("Notes"));
    b.push_back(ReportBlock::Notes());
  }
  return rep;
}

namespace {

json StatementJson(const StatementOutcome& st) {
  json j;
  j["index"] = st.index + 1;
  j["source"] = st.source;
  j["fingerprint"] = st.fingerprint;
  j["query"] = st.sql;
  j["calls"] = st.calls;
  j["costed"] = st.costed;
  if (st.costed) {
    j["cost_before"] = st.cost_before;
    j["cost_after"] = st.cost_after;
  } else {
    j["error"] = st.error;
  }
  j["indexes_after"] = st.indexes_after;
  // How it was costed: "custom" (weighted mean of custom plans over value
  // sets), "generic" (a `$n` statement with one generic plan) or "constants"
  // (no `$n`: planned with its own values).
  json c;
  c["method"] = st.custom_plans                       ? "custom"
                : st.costing.rfind("generic", 0) == 0 ? "generic"
                                                      : "constants";
  c["description"] = st.costing;
  if (!st.costed_sql.empty()) c["costed_sql"] = st.costed_sql;
  if (st.custom_plans) {
    c["values_source"] = st.values_source;
    if (st.generic_cost_before >= 0) c["generic_cost_before"] = st.generic_cost_before;
    json sets = json::array();
    for (const auto& v : st.value_sets)
      sets.push_back({{"values", v.label},
                      {"weight", v.weight},
                      {"cost_before", v.cost_before},
                      {"cost_after", v.cost_after}});
    c["value_sets"] = sets;
  }
  j["costing"] = c;
  return j;
}

}  // namespace

json AdviceToJson(const AdviseReport& r) {
  json j;
  j["command"] = "advise";
  json sum;
  sum["statements"] = r.statements.size();
  sum["statements_costed"] = r.statements_costed;
  sum["statements_failed"] = r.statements_failed;
  sum["skipped_utility"] = r.skipped_utility;
  sum["skipped_unparsable"] = r.skipped_unparsable;
  sum["skipped_other"] = r.skipped_other;
  sum["merged_duplicates"] = r.merged_duplicates;
  sum["candidates"] = r.candidates;
  sum["candidates_skipped_existing"] = r.candidates_skipped_existing;
  sum["workload_cost_before"] = r.workload_cost_before;
  sum["workload_cost_after"] = r.workload_cost_after;
  sum["relative_cost"] =
      r.workload_cost_before > 0 ? r.workload_cost_after / r.workload_cost_before : 1.0;
  sum["bytes_added"] = r.bytes_added;
  sum["bytes_freed"] = r.bytes_freed;
  sum["budget_bytes"] = r.budget_bytes;
  sum["write_overhead_added"] = r.write_overhead_added;
  sum["write_overhead_saved"] = r.write_overhead_saved;
  sum["whatif_calls"] = r.whatif.whatif_calls;
  // Added: the what-ifs each connection ran (--jobs / --replica); they sum
  // to whatif_calls.
  json by_connection = json::array();
  for (const auto& c : r.whatif.by_connection)
    by_connection.push_back(
        {{"connection", c.connection}, {"server", c.server}, {"whatif_calls", c.whatif_calls}});
  sum["whatif_by_connection"] = by_connection;
  sum["cache_hits"] = r.whatif.cache_hits;
  sum["hypothetical_indexes_created"] = r.whatif.hypo_creates;
  sum["explain_ms"] = r.whatif.explain_ms;
  sum["wall_ms"] = r.wall_ms;
  sum["selection_steps"] = r.selection_steps;
  sum["local_moves"] = r.local_moves;
  sum["timed_out"] = r.timed_out;
  sum["hypopg_version"] = r.hypopg_version;
  sum["statements_custom_plans"] = r.statements_custom;
  sum["statements_generic_plans"] = r.statements_generic;
  sum["max_indexes"] = r.max_indexes >= 0 ? json(r.max_indexes) : json(nullptr);
  sum["max_indexes_binding"] = r.max_indexes_binding;
  // How many of each kind of change the report makes (the lists themselves
  // are below; these are for dashboards that read the summary only).
  sum["indexes"] = r.indexes.size();
  sum["drops"] = r.drops.size();
  sum["partitions"] = r.partitions.size();
  sum["views"] = r.views.size();
  sum["statistics"] = r.statistics.size();
  sum["rewrites"] = r.rewrites.size();
  j["summary"] = sum;
  json recs = json::array();
  for (const auto& x : r.indexes) recs.push_back(ToJson(x));
  for (const auto* kind : {&r.partitions, &r.views, &r.statistics, &r.rewrites})
    for (const auto& x : *kind) recs.push_back(ToJson(x));
  j["recommendations"] = recs;
  json patterns = json::array();
  for (const auto& f : r.patterns) patterns.push_back(ToJson(f));
  j["patterns"] = patterns;
  json unv = json::array();
  for (const auto& x : r.unverified) unv.push_back(ToJson(x));
  j["unverified"] = unv;
  json drops = json::array();
  for (const auto& x : r.drops) drops.push_back(ToJson(x));
  j["drops"] = drops;
  json sts = json::array();
  for (const auto& x : r.statements) sts.push_back(StatementJson(x));
  j["statements"] = sts;
  j["notes"] = r.notes;
  return j;
}

std::string RenderRevertSql(const AdviseReport& r, const AdviceRenderOptions& o) {
  std::ostringstream s;
  s << "-- pgvise advise: revert script (undoes the index changes, newest first)\n";
  s << "SET lock_timeout = '" << o.lock_timeout_ms << "ms';\nSET statement_timeout = 0;\n\n";
  for (const auto* kind : {&r.statistics, &r.views, &r.partitions})
    for (auto it = kind->rbegin(); it != kind->rend(); ++it)
      if (!it->revert.empty()) s << SqlComment("undo " + it->object) << it->revert << "\n\n";
  for (auto it = r.drops.rbegin(); it != r.drops.rend(); ++it)
    s << SqlComment("re-create " + it->object) << it->revert << ";\n\n";
  for (auto it = r.unverified.rbegin(); it != r.unverified.rend(); ++it) s << it->revert << ";\n";
  for (auto it = r.indexes.rbegin(); it != r.indexes.rend(); ++it) s << it->revert << ";\n";
  return s.str();
}

std::string RenderAdvice(const AdviseReport& r, const AdviceRenderOptions& o) {
  ReportRenderOptions ro;
  ro.format = ParseReportFormat(o.format).value_or(ReportFormat::kText);
  return RenderReport(AdviceReport(r, o), ro);
}

}  // namespace pgvise
