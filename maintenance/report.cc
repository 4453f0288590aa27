// A maintenance plan as the report model (core/report.h).
//
// The body, block by block (text shows all but the HTML-only pictures):
//
//   pgvise maintain: database "shop" (PostgreSQL 15.18): 12 tables, ...   heading
//   note: ...                                                              notes
//   Plan: 3 items, most urgent first (2 run by --apply, 1 advice)         heading
//   [#, urgency, area, rule, object, lock, --apply]                        table (HTML only)
//   1. [error] xid-wraparound  public.events                               heading per item
//      (each rule's first 20 items; the rest of a rule share one section)
//       VACUUM (FREEZE, VERBOSE) public.events;                            code
//     why   relfrozenxid age 1.6B ... / lock ... / undo ...                key/values
//     [the rule's evidence in human units]                                 key/values (HTML only)
//   Table health (the 20 tables most in need of 120)                       heading
//     table  size  live rows  dead tuples  bloat  freeze age  vacuumed ... table, bars on 0..100%
//   Applied (after --apply)                                                paragraph + table
//
// The urgency order is the plan's (OrderPlan). Table health ranks tables by
// their worst share: dead tuples of all tuples, estimated bloat of the heap,
// and relfrozenxid's age against autovacuum_freeze_max_age (the table's own
// when set) — the age at which autovacuum forces an anti-wraparound vacuum.
// The bars of that table share one scale from 0 to 100%, so 5% dead tuples
// is a sliver, never a full bar.
//
// JSON keeps its contract byte for byte (PlanToJson); the SQL script is the
// shared renderer's (core/report_sql.cc): every name, reason and note goes
// through SqlComment, statements are printed as the rules built them.
#include "maintenance/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <sstream>

#include "core/json.h"
#include "core/report.h"

namespace pgvise {

std::string HumanDuration(double s) {
  if (s < 0) return "never";
  char buf[48];
  if (s < 1)
    std::snprintf(buf, sizeof buf, "%.0f ms", s * 1000);
  else if (s < 60)
    std::snprintf(buf, sizeof buf, "%.0f s", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%.0f min", s / 60);
  else if (s < 48 * 3600)
    std::snprintf(buf, sizeof buf, "%.0f h %.0f min", std::floor(s / 3600),
                  std::floor(std::fmod(s, 3600) / 60));
  else
    std::snprintf(buf, sizeof buf, "%.1f days", s / 86400);
  return buf;
}

namespace {

std::string Pct(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, fraction < 0.1 && fraction > 0 ? "%.1f%%" : "%.0f%%",
                100 * fraction);
  return buf;
}

std::string Header(const MaintenancePlan& plan) {
  std::ostringstream os;
  os << "pgvise maintain: database \"" << plan.database << "\" (PostgreSQL "
     << plan.server_version / 10000 << "." << plan.server_version % 100 << "): " << plan.tables
     << " tables, " << plan.indexes << " indexes; snapshot in " << plan.snapshot_queries
     << " queries";
  if (plan.total_queries > plan.snapshot_queries)
    os << " (+" << plan.total_queries - plan.snapshot_queries << " for --exact)";
  char ms[64];
  std::snprintf(ms, sizeof ms, " in %.0f ms", plan.snapshot_ms);
  os << ms;
  return os.str();
}

bool EndsWith(const std::string& s, const char* suffix) { return s.ends_with(suffix); }

// One evidence value in the unit its key names: *_bytes sizes, *_s and
// *_hours durations, *_per_hour rates, ratios and shares as percentages,
// other counts with thousands separators (ages in transactions get M/B).
std::string EvidenceText(const std::string& key, const EvidenceValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* b = std::get_if<bool>(&v)) return *b ? "yes" : "no";
  const double x = std::holds_alternative<double>(v) ? std::get<double>(v)
                                                     : static_cast<double>(std::get<int64_t>(v));
  if (key == "bytes" || EndsWith(key, "_bytes")) return Bytes(x);
  if (EndsWith(key, "_s")) return HumanDuration(x);
  if (EndsWith(key, "_ms")) return Thousands(x) + " ms";
  if (EndsWith(key, "_hours_now") || EndsWith(key, "_hours_new") || EndsWith(key, "_hours"))
    return HumanDuration(x * 3600);
  if (EndsWith(key, "_per_hour")) return Count(x) + "/h";
  if (key.find("ratio") != std::string::npos || key.find("share") != std::string::npos ||
      key.find("fraction") != std::string::npos)
    return x <= 1.5 ? Pct(x) : Count(x);
  if (key == "age" || EndsWith(key, "_age")) return Count(x) + " (" + Thousands(x) + ")";
  if (x != std::floor(x)) {
    std::ostringstream os;
    os << x;
    return os.str();
  }
  return Thousands(x);
}

std::string KeyLabel(std::string k) {
  std::replace(k.begin(), k.end(), '_', ' ');
  return k;
}

std::string SeverityTone(Severity s) {
  return s == Severity::kError ? "bad" : s == Severity::kWarning ? "warn" : "";
}

std::string ItemHeading(size_t i, const PlanItem& it) {
  return std::to_string(i + 1) + ". [" + SeverityName(it.severity) + "] " + it.rule + "  " +
         it.rec.object + (it.executable ? "" : "  (advice, not run by --apply)");
}

// Seconds since the last (auto)vacuum or (auto)analyze; -1 = never.
double Since(double manual, double automatic) {
  if (manual < 0) return automatic;
  if (automatic < 0) return manual;
  return std::min(manual, automatic);
}

struct TableRow {
  const TableHealth* t = nullptr;
  const BloatEstimate* bloat = nullptr;
  double dead = 0, bloat_ratio = 0, freeze = 0, freeze_limit = 0;
  double Worst() const { return std::max({dead, bloat_ratio, freeze}); }
};

void AddHealth(const HealthSnapshot& snap, const std::vector<BloatEstimate>* bloat, size_t limit,
               std::vector<ReportBlock>* b) {
  const double freeze_default = snap.Setting("autovacuum_freeze_max_age");
  std::vector<TableRow> rows;
  double dead_total = 0, tuples_total = 0, wasted = 0, heap = 0;
  int64_t oldest = 0;
  for (size_t i = 0; i < snap.tables.size(); ++i) {
    const TableHealth& t = snap.tables[i];
    TableRow r;
    r.t = &t;
    if (bloat && i < bloat->size()) r.bloat = &(*bloat)[i];
    const double tuples = static_cast<double>(t.n_live_tup + t.n_dead_tup);
    r.dead = tuples > 0 ? static_cast<double>(t.n_dead_tup) / tuples : 0;
    if (r.bloat && r.bloat->estimated) {
      r.bloat_ratio = r.bloat->ratio;
      wasted += static_cast<double>(r.bloat->wasted_bytes);
    }
    r.freeze_limit = t.Option("autovacuum_freeze_max_age", freeze_default);
    r.freeze = r.freeze_limit > 0 ? static_cast<double>(t.xid_age) / r.freeze_limit : 0;
    dead_total += static_cast<double>(t.n_dead_tup);
    tuples_total += tuples;
    heap += static_cast<double>(t.heap_bytes);
    oldest = std::max(oldest, t.xid_age);
    rows.push_back(r);
  }
  int64_t oldest_db = 0;
  for (const auto& d : snap.databases) oldest_db = std::max(oldest_db, d.xid_age);

  b->push_back(ReportBlock::Heading("Table health"));
  std::vector<std::pair<std::string, std::string>> kv = {
      {"tables",
       Thousands(static_cast<double>(snap.tables.size())) + " (" + Bytes(heap) + " of heap)"},
      {"dead tuples", Count(dead_total) + " (" +
                          Pct(tuples_total > 0 ? dead_total / tuples_total : 0) +
                          " of all tuples)"},
      {"estimated bloat", Bytes(wasted) + " (" + Pct(heap > 0 ? wasted / heap : 0) + " of heap)"},
      {"oldest table XID age",
       Count(static_cast<double>(oldest)) + " (" +
           Pct(freeze_default > 0 ? static_cast<double>(oldest) / freeze_default : 0) +
           " of autovacuum_freeze_max_age " + Count(freeze_default) + ")"}};
  if (oldest_db > 0)
    kv.push_back({"oldest database XID age",
                  Count(static_cast<double>(oldest_db)) + " (" +
                      Pct(static_cast<double>(oldest_db) / std::max(freeze_default, 1.0)) + ")"});
  kv.push_back({"statistics cover", HumanDuration(snap.stats_age_s)});
  b->push_back(ReportBlock::KeyValues(std::move(kv)));
  if (rows.empty()) return;

  std::stable_sort(rows.begin(), rows.end(), [](const TableRow& a, const TableRow& c) {
    if (a.Worst() != c.Worst()) return a.Worst() > c.Worst();
    return a.t->heap_bytes > c.t->heap_bytes;
  });
  const size_t shown = std::min(limit, rows.size());
  ReportTable tab;
  tab.header = {"table",        "size",       "live rows",   "dead tuples",
                "bloat (est.)", "freeze age", "last vacuum", "last analyze"};
  tab.numeric = {false, true, true, true, true, true, true, true};
  tab.bar_max = 100;
  for (size_t i = 0; i < shown; ++i) {
    const TableRow& r = rows[i];
    const TableHealth& t = *r.t;
    std::vector<ReportCell> row;
    row.push_back({t.Display(), {}});
    row.push_back({Bytes(static_cast<double>(t.heap_bytes + t.toast_bytes)), {}});
    row.push_back({Count(t.Rows() < 0 ? 0 : t.Rows()), {}});
    row.push_back(
        {Count(static_cast<double>(t.n_dead_tup)) + " (" + Pct(r.dead) + ")", 100 * r.dead});
    if (r.bloat && r.bloat->estimated)
      row.push_back(
          {Bytes(static_cast<double>(r.bloat->wasted_bytes)) + " (" + Pct(r.bloat_ratio) + ")",
           100 * r.bloat_ratio});
    else
      row.push_back({"not estimated", {}});
    row.push_back({Count(static_cast<double>(t.xid_age)) + " (" + Pct(r.freeze) + " of " +
                       Count(r.freeze_limit) + ")",
                   100 * std::min(r.freeze, 1.0)});
    const double vac = Since(t.since_vacuum_s, t.since_autovacuum_s);
    const double ana = Since(t.since_analyze_s, t.since_autoanalyze_s);
    row.push_back({vac < 0 ? "never" : HumanDuration(vac) + " ago", {}});
    row.push_back({ana < 0 ? "never" : HumanDuration(ana) + " ago", {}});
    tab.rows.push_back(std::move(row));
  }
  std::string caption = shown < rows.size()
                            ? "the " + std::to_string(shown) + " tables most in need, of " +
                                  std::to_string(rows.size())
                            : "every table, most in need first";
  caption +=
      ": dead tuples and bloat as a share of the table, freeze age as a share of the table's "
      "autovacuum_freeze_max_age";
  b->push_back(ReportBlock::Table(std::move(tab), caption));
}

void AddApplied(const MaintenancePlan& plan, const ApplyResult& a, std::vector<ReportBlock>* b) {
  b->push_back(ReportBlock::Heading("Applied"));
  b->push_back(ReportBlock::Paragraph("Applied: " + std::to_string(a.applied) +
                                          ", failed: " + std::to_string(a.failed) +
                                          ", advice (not run): " + std::to_string(a.advice),
                                      a.failed ? "bad" : "good"));
  ReportTable t;
  t.header = {"#", "item", "status", "attempts", "time", "message"};
  t.numeric = {true, false, false, true, true, false};
  for (const auto& oc : a.outcomes) {
    if (oc.status == "advice") continue;
    std::string item = oc.item < plan.items.size()
                           ? plan.items[oc.item].rule + " " + plan.items[oc.item].rec.object
                           : "";
    std::string msg = oc.message;
    if (!oc.cleanup.empty())
      msg += (msg.empty() ? "" : "; ") + std::string("dropped ") + oc.cleanup;
    t.rows.push_back({{std::to_string(oc.item + 1), {}},
                      {item, {}},
                      {oc.status, {}},
                      {std::to_string(oc.attempts), {}},
                      {HumanDuration(oc.seconds), {}},
                      {msg, {}}});
  }
  if (!t.rows.empty()) b->push_back(ReportBlock::Table(std::move(t)));
}

}  // namespace

nlohmann::ordered_json PlanToJson(const MaintenancePlan& plan,
                                  const nlohmann::ordered_json* apply) {
  nlohmann::ordered_json j;
  j["command"] = "maintain";
  j["database"] = plan.database;
  j["server_version"] = plan.server_version;
  j["standby"] = plan.standby;
  j["snapshot"] = {{"tables", plan.tables},
                   {"indexes", plan.indexes},
                   {"queries", plan.snapshot_queries},
                   {"total_queries", plan.total_queries},
                   {"snapshot_ms", std::round(plan.snapshot_ms * 10) / 10},
                   {"rules_ms", std::round(plan.rules_ms * 10) / 10}};
  j["notes"] = plan.notes;
  auto items = nlohmann::ordered_json::array();
  for (size_t i = 0; i < plan.items.size(); ++i) {
    const PlanItem& it = plan.items[i];
    nlohmann::ordered_json x;
    x["order"] = i + 1;
    x["rule"] = it.rule;
    x["group"] = it.group;
    x["severity"] = SeverityName(it.severity);
    x["executable"] = it.executable;
    x["outside_transaction"] = it.concurrently;
    x["recommendation"] = ToJson(it.rec);
    items.push_back(std::move(x));
  }
  j["plan"] = std::move(items);
  if (apply) j["apply"] = *apply;
  return j;
}

Report MaintenanceReport(const MaintenancePlan& plan, const MaintainReportOptions& o) {
  Report r;
  r.command = "maintain";
  r.title = Header(plan);
  r.notes = plan.notes;
  r.formats = {ReportFormat::kText, ReportFormat::kJson, ReportFormat::kMarkdown,
               ReportFormat::kHtml, ReportFormat::kSql};
  r.json = PlanToJson(plan, o.apply_json);
  char ms[64];
  std::snprintf(ms, sizeof ms, "%.0f ms", plan.rules_ms);
  r.stats = {{"snapshot", std::to_string(plan.snapshot_queries) + " queries, " +
                              std::to_string(plan.total_queries) + " in all"},
             {"rules", ms}};

  // The SQL script.
  r.sql_header = {"Review, then run with psql in autocommit mode (never -1/--single-transaction):",
                  "VACUUM and CONCURRENTLY statements cannot run inside a transaction block.",
                  "Advice items are commented out: they need a person's decision."};
  r.sql_prologue = {"\\set ON_ERROR_STOP off",
                    "SET lock_timeout = '" + std::to_string(o.lock_timeout_ms) + "ms'",
                    "SET statement_timeout = '" + std::to_string(o.statement_timeout_ms) + "ms'"};
  const std::string nothing = plan.standby
                                  ? "Nothing found that a standby can see (see the note above)."
                                  : "Nothing to do: every rule passed.";
  r.sql_empty = nothing;
  for (const auto& it : plan.items) {
    ReportAction a{
        it.rec, it.executable,
        "[" + std::string(SeverityName(it.severity)) + "] " + it.rule + ": " + it.rec.object};
    a.rec.reason = "why: " + it.rec.reason;
    r.actions.push_back(std::move(a));
  }

  // The body.
  auto& b = r.body;
  b.push_back(ReportBlock::Heading(r.title, 1));
  if (!r.notes.empty()) b.push_back(ReportBlock::Notes());
  if (plan.items.empty()) {
    b.push_back(ReportBlock::Paragraph(nothing, plan.standby ? "warn" : "good"));
  } else {
    int runnable = 0;
    for (const auto& it : plan.items) runnable += it.executable;
    b.push_back(ReportBlock::Heading(
        "Plan: " + std::to_string(plan.items.size()) + " items, most urgent first (" +
        std::to_string(runnable) + " run by --apply, " +
        std::to_string(static_cast<int>(plan.items.size()) - runnable) + " advice)"));
    // A fresh restore can flag every table (never analyzed): the plan then
    // has one item per table. The overview shows the first kOverviewRows and
    // each rule's first kDetailPerRule items get their own section; the rest
    // of a rule share one (their SQL in one block) — a 10,000-item plan stays
    // a page a browser lays out in a second, and the JSON and SQL formats
    // still carry every item.
    constexpr size_t kOverviewRows = 200;
    constexpr int kDetailPerRule = 20;
    ReportTable overview;
    overview.header = {"#", "urgency", "area", "rule", "object", "lock", "--apply"};
    overview.numeric = {true};
    for (size_t i = 0; i < plan.items.size() && i < kOverviewRows; ++i) {
      const PlanItem& it = plan.items[i];
      overview.rows.push_back(
          {{std::to_string(i + 1), {}},
           {SeverityName(it.severity), {}},
           {it.group, {}},
           {it.rule, {}},
           {it.rec.object, {}},
           {it.rec.lock.empty() ? "-" : it.rec.lock.substr(0, it.rec.lock.find(" (")), {}},
           {it.executable ? "runs" : "advice", {}}});
    }
    if (plan.items.size() > kOverviewRows)
      overview.rows.push_back({{"", {}},
                               {"", {}},
                               {"", {}},
                               {"...", {}},
                               {Thousands(static_cast<double>(plan.items.size() - kOverviewRows)) +
                                    " more (every item is in --format json and sql)",
                                {}},
                               {"", {}},
                               {"", {}}});
    ReportBlock ob = ReportBlock::Table(std::move(overview), "the plan at a glance");
    ob.html_only = true;
    b.push_back(std::move(ob));
    std::map<std::string, int> shown;                    // rule -> items given a section
    std::map<std::string, std::vector<size_t>> grouped;  // rule -> the rest, in plan order
    std::vector<std::string> grouped_order;
    for (size_t i = 0; i < plan.items.size(); ++i) {
      const PlanItem& it = plan.items[i];
      if (++shown[it.rule] > kDetailPerRule) {
        if (grouped[it.rule].empty()) grouped_order.push_back(it.rule);
        grouped[it.rule].push_back(i);
        continue;
      }
      ReportBlock h = ReportBlock::Heading(ItemHeading(i, it), 3);
      h.tone = SeverityTone(it.severity);
      b.push_back(std::move(h));
      if (!it.rec.sql.empty())
        b.push_back(ReportBlock::Code(
            it.rec.sql, it.executable
                            ? (it.concurrently ? "runs with --apply, outside a transaction"
                                               : "runs with --apply")
                            : "advice: shown, never run"));
      std::vector<std::pair<std::string, std::string>> kv = {{"why", it.rec.reason}};
      if (!it.rec.lock.empty()) kv.push_back({"lock", it.rec.lock});
      if (!it.rec.revert.empty()) kv.push_back({"undo", it.rec.revert});
      b.push_back(ReportBlock::KeyValues(std::move(kv)));
      if (!it.rec.evidence.empty()) {
        std::vector<std::pair<std::string, std::string>> ev;
        for (const auto& e : it.rec.evidence)
          ev.push_back({KeyLabel(e.key), EvidenceText(e.key, e.value)});
        if (it.rec.size_bytes > 0)
          ev.push_back({"size", Bytes(static_cast<double>(it.rec.size_bytes))});
        ReportBlock eb = ReportBlock::KeyValues(std::move(ev));
        eb.html_only = true;
        b.push_back(std::move(eb));
      }
    }
    for (const auto& rule : grouped_order) {
      const std::vector<size_t>& rest = grouped[rule];
      const PlanItem& first = plan.items[rest.front()];
      ReportBlock h = ReportBlock::Heading(
          Thousands(static_cast<double>(rest.size())) + " more " + rule + " items (#" +
              std::to_string(rest.front() + 1) + " onwards), the same check as above",
          3);
      h.tone = SeverityTone(first.severity);
      b.push_back(std::move(h));
      std::string sql, why;
      for (size_t i : rest) {
        const PlanItem& it = plan.items[i];
        if (!it.rec.sql.empty()) sql += it.rec.sql + "\n";
        why += it.rec.object + ": " + it.rec.reason + "\n";
      }
      if (!sql.empty())
        b.push_back(ReportBlock::Code(
            sql, first.executable ? "run with --apply" : "advice: shown, never run"));
      b.push_back(ReportBlock::Paragraph(why));
    }
  }
  if (o.snapshot) AddHealth(*o.snapshot, o.table_bloat, o.health_rows, &b);
  if (o.applied) AddApplied(plan, *o.applied, &b);
  return r;
}

std::string RenderPlanText(const MaintenancePlan& plan) {
  ReportRenderOptions ro;
  ro.format = ReportFormat::kText;
  return RenderReport(MaintenanceReport(plan, {}), ro);
}

std::string RenderPlanJson(const MaintenancePlan& plan, const nlohmann::ordered_json* apply) {
  MaintainReportOptions o;
  o.apply_json = apply;
  ReportRenderOptions ro;
  ro.format = ReportFormat::kJson;
  return RenderReport(MaintenanceReport(plan, o), ro);
}

std::string RenderPlanSql(const MaintenancePlan& plan, int lock_timeout_ms,
                          int statement_timeout_ms) {
  MaintainReportOptions o;
  o.lock_timeout_ms = lock_timeout_ms;
  o.statement_timeout_ms = statement_timeout_ms;
  ReportRenderOptions ro;
  ro.format = ReportFormat::kSql;
  return RenderReport(MaintenanceReport(plan, o), ro);
}

Report MaintainRunReport(const MaintainRun& run, const ApplyResult* applied, int lock_timeout_ms,
                         int statement_timeout_ms) {
  MaintainReportOptions ro;
  ro.lock_timeout_ms = lock_timeout_ms;
  ro.statement_timeout_ms = statement_timeout_ms;
  ro.snapshot = &run.snapshot;
  ro.table_bloat = &run.table_bloat;
  // MaintenanceReport copies everything it shows, so these locals may go.
  nlohmann::ordered_json apply_json;
  if (applied) {
    apply_json = applied->ToJson(run.plan);
    ro.applied = applied;
    ro.apply_json = &apply_json;
  }
  return MaintenanceReport(run.plan, ro);
}

std::string RunCostLine(const MaintenancePlan& plan) {
  std::ostringstream out;
  out << "pgvise: snapshot " << plan.snapshot_queries << " queries, "
      << static_cast<int>(plan.snapshot_ms) << " ms; rules " << static_cast<int>(plan.rules_ms)
      << " ms; " << plan.total_queries << " queries in all";
  return out.str();
}

std::function<void(const std::string&)> StampedApplyLog(
    std::function<void(const std::string&)> sink) {
  return [sink = std::move(sink)](const std::string& line) {
    std::time_t now = std::time(nullptr);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    sink(std::string(buf) + " pgvise apply: " + line);
  };
}

std::string ApplyStartLine(const MaintenancePlan& plan, const std::string& masked_conninfo) {
  return std::to_string(plan.items.size()) + " plan items on " + masked_conninfo;
}

std::string ApplyDoneLine(const ApplyResult& applied) {
  return "done: " + std::to_string(applied.applied) + " applied, " +
         std::to_string(applied.failed) + " failed, " + std::to_string(applied.advice) +
         " advice (not run)";
}

std::vector<Finding> PlanItemSeverities(const MaintenancePlan& plan) {
  std::vector<Finding> out;
  for (const auto& it : plan.items) {
    Finding fd;
    fd.severity = it.severity;
    out.push_back(fd);
  }
  return out;
}

}  // namespace pgvise
