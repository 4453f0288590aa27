// The view advisor: which materialized views pay for themselves, costed in
// the dry run (read-only) and measured by --verify.
//
// Steps (AdviseViews):
//   1. candidates: costed read statements whose calls x cost (with the
//      recommended indexes, StatementOutcome::cost_after) is at least
//      ViewOptions::min_statement_share of the workload;
//   2. matching (advisor/matview_match.h): statements grouped into views and
//      rewritten on the parse tree; what can't be proven is refused;
//   3. estimates, each named one in the report: the view's rows, width and
//      build cost from EXPLAIN of its definition (rows capped by the product
//      of the keys' pg_stats n_distinct); its size in pages; each rewrite
//      costed as a sequential read of a relation that size (pages x
//      seq_page_cost + rows x cpu_tuple_cost, + rows x cpu_operator_cost per
//      residual conjunct and, for a rollup, per key and aggregate); a
//      refresh as the definition's cost plus reading the old contents twice
//      and sorting both by the key (REFRESH CONCURRENTLY diffs old and new);
//   4. refresh cadence: none while the base tables are not written; else at
//      most one per changed row and at least every --mv-max-staleness
//      seconds over the period (pg_stat_statements' period, or
//      ViewOptions::file_period_s for SQL files);
//   5. net benefit = sum over served statements of calls x (cost - rewrite
//      cost) - refreshes x refresh cost; a view that does not pay is not
//      proposed (with -v, a note says why); the survivors, best first, take
//      storage from what the indexes left of the budget.
//
// Worked example: a dashboard statement of cost 60,000 called 500 times over
// a day, served by a 4,000-row view (cost 45 to read): saves 500 x 59,955.
// The base tables take 1,000 writes a day and the staleness is an hour: 24
// refreshes of cost ~61,000: net ~28.5 M, proposed. The same statement over
// a table written all day and called 20 times: saves 1.2 M, refreshes cost
// 1.46 M: not proposed.
#include "advisor/matview.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "advisor/matview_match.h"
#include "advisor/report.h"
#include "analyzer/sql/edit_tree.h"
#include "core/sql_text.h"

namespace pgvise {

namespace {

using json = nlohmann::ordered_json;

struct PlannerCosts {
  double seq_page = 1.0, cpu_tuple = 0.01, cpu_operator = 0.0025;
  int64_t block = 8192;
};

PlannerCosts ReadCosts(Session& s) {
  PlannerCosts pc;
  Rows r;
  if (s.Query("SELECT current_setting('seq_page_cost')::float8, "
              "current_setting('cpu_tuple_cost')::float8, "
              "current_setting('cpu_operator_cost')::float8, "
              "current_setting('block_size')::int8",
              &r)
          .ok() &&
      r.size() == 1) {
    pc.seq_page = r.Double(0, 0, pc.seq_page);
    pc.cpu_tuple = r.Double(0, 1, pc.cpu_tuple);
    pc.cpu_operator = r.Double(0, 2, pc.cpu_operator);
    pc.block = r.Int(0, 3, pc.block);
  }
  return pc;
}

std::string Fmt0(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
}

const EvidenceValue* Find(const Recommendation& r, const std::string& key) {
  for (const auto& e : r.evidence)
    if (e.key == key) return &e.value;
  return nullptr;
}
std::string EvString(const Recommendation& r, const std::string& key) {
  const EvidenceValue* v = Find(r, key);
  const std::string* s = v ? std::get_if<std::string>(v) : nullptr;
  return s ? *s : "";
}
double EvDouble(const Recommendation& r, const std::string& key) {
  const EvidenceValue* v = Find(r, key);
  if (!v) return 0;
  if (auto d = std::get_if<double>(v)) return *d;
  if (auto i = std::get_if<int64_t>(v)) return static_cast<double>(*i);
  return 0;
}
void Set(Recommendation& r, const std::string& key, EvidenceValue v) {
  for (auto& e : r.evidence)
    if (e.key == key) {
      e.value = std::move(v);
      return;
    }
  r.Add(key, std::move(v));
}

// The view's name: pgvise_mv_<tables>, free in its schema.
std::string ViewName(Session& session, const Catalog& catalog, const mv::ViewDefinition& def,
                     std::set<std::string>* taken) {
  std::string base = "pgvise_mv";
  for (const auto& t : def.tables) base += "_" + t.name;
  for (auto& ch : base)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_') ch = '_';
  base = base.substr(0, 48);
  const std::string schema = def.tables[0].schema;
  std::set<std::string> wanted;
  for (int n = 1; n <= 20; ++n)
    wanted.insert(schema + "." + (n == 1 ? base : base + "_" + std::to_string(n)));
  std::set<std::string> existing;
  ExistingRelationNames(session, wanted, &existing);
  for (int n = 1; n <= 20; ++n) {
    const std::string name = n == 1 ? base : base + "_" + std::to_string(n);
    const std::string q = schema + "." + name;
    if (existing.count(q) || taken->count(q) || catalog.FindTable(schema, name) ||
        taken->count(q + "_key") || existing.count(q + "_key"))
      continue;
    taken->insert(q);
    return name;
  }
  return "";
}

// Everything the dry run knows about one proposed view.
struct Proposal {
  mv::ViewDefinition def;
  std::string schema, name;
  double rows = 0, width = 0, build_cost = 0, explain_rows = 0, ndistinct_rows = -1;
  double pages = 0, view_scan = 0, refresh_cost = 0;
  int64_t heap_bytes = 0, index_bytes = 0;
  double writes = 0, refreshes = 0, period_s = 0;
  double saved = 0, net = 0;
  struct Served {
    int statement;
    std::string query, rewritten;
    bool rollup = false;
    double calls = 0, cost_before = 0, cost_after = 0;
  };
  std::vector<Served> served;
  std::string Qualified() const { return QuoteIdent(schema) + "." + QuoteIdent(name); }
  std::string IndexSql() const {
    std::string cols;
    for (const auto& k : def.KeyNames()) cols += (cols.empty() ? "" : ", ") + QuoteIdent(k);
    return "CREATE UNIQUE INDEX " + QuoteIdent(name + "_key") + " ON " + Qualified() + " (" + cols +
           ")";
  }
};

// The view columns' types (a rollup casts sums back to them): the definition
// outer-joined to one row, so its LIMIT 0 still gives one row of NULLs whose
// pg_typeof is the column's type.
Status ReadTypes(Session& s, mv::ViewDefinition* def) {
  std::string sel;
  for (const auto* cols : {&def->keys, &def->aggs})
    for (const auto& c : *cols)
      sel +=
          (sel.empty() ? "" : ", ") + std::string("pg_typeof(v.") + QuoteIdent(c.name) + ")::text";
  Rows r;
  Status st = s.QueryRolledBack(
      "SELECT " + sel + " FROM (SELECT 1) d LEFT JOIN (" + def->Sql() + " LIMIT 0) v ON true", &r);
  if (!st.ok()) return st;
  if (r.size() != 1) return Status::Internal("no row from the type query");
  size_t i = 0;
  for (auto* cols : {&def->keys, &def->aggs})
    for (auto& c : *cols) c.type = r.Text(0, i++);
  return Status::Ok();
}

Status ExplainDefinition(Session& s, const std::string& sql, double* cost, double* rows,
                         double* width) {
  Rows r;
  Status st = s.QueryRolledBack("EXPLAIN (FORMAT JSON) " + sql, &r);
  if (!st.ok()) return st;
  auto j = nlohmann::json::parse(r.Text(0, 0), nullptr, false);
  if (j.is_discarded() || !j.is_array() || j.empty())
    return Status::Internal("unreadable EXPLAIN output");
  const auto& plan = j[0]["Plan"];
  *cost = plan.value("Total Cost", 0.0);
  *rows = plan.value("Plan Rows", 0.0);
  *width = plan.value("Plan Width", 0.0);
  return Status::Ok();
}

// Seconds per date_trunc unit (a month and longer: their average length).
double UnitSeconds(const std::string& unit) {
  static const std::map<std::string, double> k = {{"second", 1},
                                                  {"minute", 60},
                                                  {"hour", 3600},
                                                  {"day", 86400},
                                                  {"week", 604800},
                                                  {"month", 2629746},
                                                  {"quarter", 7889238},
                                                  {"year", 31556952},
                                                  {"decade", 315569520},
                                                  {"century", 3155695200},
                                                  {"millennium", 31556952000}};
  auto it = k.find(unit);
  return it == k.end() ? 0 : it->second;
}

// Distinct values of one key: pg_stats n_distinct for a column; for
// date_trunc(unit, col), at most the column's distinct values and at most
// the number of units between its histogram's first and last bound (the
// planner has no statistics for the expression and guesses). -1 unknown.
double KeyDistinct(Session& session, const Catalog& catalog, const mv::ViewDefinition& def,
                   const std::string& expr, double* width) {
  std::string e = expr, unit;
  const bool trunc = e.rfind("date_trunc('", 0) == 0;
  if (trunc) {
    const size_t q = e.find('\'', 12);
    const size_t comma = e.find(", ", q);
    if (q == std::string::npos || comma == std::string::npos || e.back() != ')') return -1;
    unit = e.substr(12, q - 12);
    e = e.substr(comma + 2, e.size() - comma - 3);
  }
  const auto dot = e.find('.');
  if (e.find('(') != std::string::npos || dot == std::string::npos) return -1;
  const std::string alias = e.substr(0, dot);
  std::string col = e.substr(dot + 1);
  if (col.size() > 1 && col.front() == '"') col = col.substr(1, col.size() - 2);
  const TableInfo* ti = nullptr;
  for (const auto& t : def.tables)
    if (t.alias == alias) ti = catalog.FindTable(t.schema, t.name);
  const ColumnInfo* ci = ti ? ti->Column(col) : nullptr;
  if (!ci) return -1;
  if (ci->avg_width > 0) *width = trunc ? 8 : ci->avg_width;
  if (!ci->has_stats) return -1;
  double d = std::max(1.0, ci->DistinctValues(ti->Rows()));
  if (!trunc) return d;
  const double unit_s = UnitSeconds(unit);
  if (unit_s <= 0) return d;
  Rows r;
  Status st = session.Query(
      "SELECT extract(epoch FROM h[array_upper(h, 1)] - h[1])::float8 FROM (SELECT "
      "histogram_bounds::text::timestamp[] AS h FROM pg_stats WHERE schemaname = $1 AND "
      "tablename = $2 AND attname = $3 AND histogram_bounds IS NOT NULL) s",
      {ti->schema, ti->name, col}, &r);
  if (st.ok() && r.size() == 1 && !r.IsNull(0, 0))
    d = std::min(d, std::floor(r.Double(0, 0) / unit_s) + 2);  // partial units at both ends
  return d;
}

// Product of the keys' distinct counts, -1 when one is unknown.
double DistinctProduct(Session& session, const Catalog& catalog, const mv::ViewDefinition& def,
                       double* key_width) {
  double product = 1;
  bool known = true;
  *key_width = 0;
  for (const auto& k : def.keys) {
    double width = 8;
    const double d = KeyDistinct(session, catalog, def, k.expr, &width);
    *key_width += width;
    if (d < 0)
      known = false;
    else
      product *= d;
  }
  return known ? product : -1;
}

// Costs one plan; false with *why when it does not pay (or can't be costed).
bool Evaluate(Session& session, const Catalog& catalog, const AdviseOptions& opts,
              const WhatIfOracle& oracle, const AdviseReport& rep, const PlannerCosts& pc,
              double period_s, mv::ViewPlan plan, std::set<std::string>* taken, Proposal* p,
              std::string* why) {
  p->def = std::move(plan.def);
  Status st = ReadTypes(session, &p->def);
  if (!st.ok()) return *why = "its column types could not be read: " + st.message(), false;
  p->schema = p->def.tables[0].schema;
  p->name = ViewName(session, catalog, p->def, taken);
  if (p->name.empty()) return *why = "no free name in " + p->schema, false;
  st = ExplainDefinition(session, p->def.Sql(), &p->build_cost, &p->explain_rows, &p->width);
  if (!st.ok()) return *why = "EXPLAIN of its definition failed: " + st.message(), false;
  double key_width = 0;
  p->ndistinct_rows = DistinctProduct(session, catalog, p->def, &key_width);
  p->rows = std::max(
      1.0, p->ndistinct_rows > 0 ? std::min(p->explain_rows, p->ndistinct_rows) : p->explain_rows);
  // Heap: 24-byte tuple header + 4-byte line pointer per row; B-tree leaf
  // tuples: key + 8-byte header + 4-byte pointer, pages 90% full.
  const double usable = static_cast<double>(pc.block - 24);
  p->pages = std::ceil(p->rows * (p->width + 28) / usable);
  p->heap_bytes = static_cast<int64_t>(p->pages) * pc.block;
  p->index_bytes =
      (static_cast<int64_t>(std::ceil(p->rows * (key_width + 12) / (0.9 * usable))) + 1) * pc.block;
  p->view_scan = p->pages * pc.seq_page + p->rows * pc.cpu_tuple;
  p->refresh_cost = p->build_cost + 2 * p->view_scan +
                    2 * p->rows * pc.cpu_operator * std::log2(p->rows + 1) *
                        static_cast<double>(p->def.keys.size());
  for (const auto& t : p->def.tables) p->writes += oracle.TableWrites(t.schema, t.name);
  p->period_s = period_s;
  p->refreshes =
      p->writes > 0 ? std::min(p->writes, std::ceil(period_s / opts.views.max_staleness_s)) : 0;

  std::vector<std::string> dropped;
  for (int s : plan.served) {
    const StatementOutcome& so = rep.statements[static_cast<size_t>(s)];
    Proposal::Served sv;
    sv.statement = s;
    sv.query = so.sql;
    sv.calls = so.calls;
    sv.cost_before = so.cost_after;  // with the recommended indexes
    st = mv::Rewrite(catalog, so.sql, p->def, p->Qualified(), &sv.rewritten, &sv.rollup);
    mv::RewriteShape rs;
    if (st.ok()) st = mv::DescribeRewrite(catalog, so.sql, p->def, &rs);
    if (!st.ok()) {
      dropped.push_back("statement " + std::to_string(s + 1) + ": " + st.message());
      continue;
    }
    sv.cost_after = p->view_scan + p->rows * pc.cpu_operator * rs.residual_quals +
                    (rs.rollup ? p->rows * pc.cpu_operator * (rs.rollup_keys + rs.aggregates) : 0);
    if (sv.cost_after >= sv.cost_before) {
      dropped.push_back("statement " + std::to_string(s + 1) + ": reading the view (est. " +
                        Fmt0(sv.cost_after) + ") costs no less than the statement (" +
                        Fmt0(sv.cost_before) + ")");
      continue;
    }
    p->saved += sv.calls * (sv.cost_before - sv.cost_after);
    p->served.push_back(std::move(sv));
  }
  if (p->served.empty()) {
    *why = "no statement reads it for less";
    for (const auto& d : dropped) *why += "; " + d;
    return false;
  }
  p->net = p->saved - p->refreshes * p->refresh_cost;
  if (p->net <= 0) {
    *why = "its refreshes cost more than it saves: " + Fmt0(p->refreshes) + " refreshes x " +
           Fmt0(p->refresh_cost) + " (est.) over " + Fmt0(period_s) + " s against " +
           Fmt0(p->saved) + " saved (" + Fmt0(p->writes) + " row changes on its tables)";
    return false;
  }
  return true;
}

Recommendation ToRecommendation(const Proposal& p, const AdviseOptions& opts) {
  Recommendation r;
  r.kind = RecommendationKind::kMaterializedView;
  r.object = p.schema + "." + p.name;
  r.sql = "CREATE MATERIALIZED VIEW " + p.Qualified() + " AS " + p.def.Sql() + ";\n" + p.IndexSql();
  r.revert = "DROP MATERIALIZED VIEW IF EXISTS " + p.Qualified() + ";";
  r.lock = "ACCESS SHARE on the base tables while it is built";
  r.size_bytes = p.heap_bytes + p.index_bytes;
  r.write_overhead = p.refreshes * p.refresh_cost;
  r.confidence = Confidence::kMedium;
  std::string refresh =
      p.refreshes > 0 ? "REFRESH MATERIALIZED VIEW CONCURRENTLY " + p.Qualified() + " every " +
                            Fmt0(opts.views.max_staleness_s) + " s while its tables change (" +
                            Fmt0(p.refreshes) + " per " + Fmt0(p.period_s) + " s)"
                      : "REFRESH MATERIALIZED VIEW CONCURRENTLY " + p.Qualified() +
                            " after its tables change (the workload does not write them)";
  r.reason = "serves " + std::to_string(p.served.size()) + " statement(s) over " +
             std::to_string(p.def.tables.size()) + " table(s); net benefit " + Fmt0(p.net) +
             " cost units per period (est.): saves " + Fmt0(p.saved) + ", refreshes cost " +
             Fmt0(p.refreshes * p.refresh_cost);
  json rewrites = json::array();
  for (const auto& s : p.served) {
    QueryBenefit qb;
    qb.query = s.query;
    qb.calls = s.calls;
    qb.cost_before = s.cost_before;
    qb.cost_after = s.cost_after;
    r.benefit.push_back(qb);
    rewrites.push_back({{"statement", s.statement + 1},
                        {"query", s.query},
                        {"rewritten", s.rewritten},
                        {"rollup", s.rollup},
                        {"calls", s.calls},
                        {"cost_before", s.cost_before},
                        {"cost_after_estimate", s.cost_after}});
  }
  std::string tables;
  for (const auto& t : p.def.QualifiedTables()) tables += (tables.empty() ? "" : ", ") + t;
  r.Add("view", p.Qualified())
      .Add("definition", p.def.Sql())
      .Add("unique_index", p.IndexSql())
      .Add("base_tables", tables)
      .Add("refresh", refresh)
      .Add("refreshes_per_period", p.refreshes)
      .Add("period_s", p.period_s)
      .Add("max_staleness_s", opts.views.max_staleness_s)
      .Add("table_writes", p.writes)
      .Add("rows", p.rows)
      .Add("rows_explain", p.explain_rows)
      .Add("rows_ndistinct", p.ndistinct_rows)
      .Add("width", p.width)
      .Add("build_cost", p.build_cost)
      .Add("refresh_cost", p.refresh_cost)
      .Add("view_read_cost", p.view_scan)
      .Add("saved_cost", p.saved)
      .Add("net_benefit", p.net)
      .Add("estimated", true)
      .Add("rewrites", rewrites.dump());
  return r;
}

}  // namespace

void AdviseViews(Session& session, const Catalog& catalog, const Workload& workload,
                 const AdviseOptions& opts, const WhatIfOracle& writes, AdviseReport* rep) {
  double total = 0;
  for (const auto& st : rep->statements)
    if (st.costed) total += st.calls * st.cost_after;
  std::vector<mv::Candidate> cands;
  for (const auto& st : rep->statements) {
    const double w = st.calls * st.cost_after;
    if (!st.costed || w <= 0 || w < opts.views.min_statement_share * total) continue;
    cands.push_back({st.index, st.sql, w});
  }
  if (cands.empty()) return;
  mv::MatchResult m = mv::PlanViews(catalog, cands);
  if (opts.verbose)
    for (const auto& r : m.refused) rep->notes.push_back("materialized views: " + r);
  if (m.plans.empty()) return;
  const PlannerCosts pc = ReadCosts(session);
  const double period_s =
      workload.pgss_period_s > 0 ? workload.pgss_period_s : opts.views.file_period_s;
  std::set<std::string> taken;
  std::vector<Proposal> props;
  for (auto& plan : m.plans) {
    Proposal p;
    std::string why;
    const std::string tables = [&] {
      std::string t;
      for (const auto& q : plan.def.QualifiedTables()) t += (t.empty() ? "" : ", ") + q;
      return t;
    }();
    if (Evaluate(session, catalog, opts, writes, *rep, pc, period_s, std::move(plan), &taken, &p,
                 &why))
      props.push_back(std::move(p));
    else if (opts.verbose)
      rep->notes.push_back("materialized views: no view over " + tables + ": " + why);
  }
  std::stable_sort(props.begin(), props.end(),
                   [](const Proposal& a, const Proposal& b) { return a.net > b.net; });
  // One storage budget: views take what the indexes left.
  for (const auto& p : props) {
    const int64_t bytes = p.heap_bytes + p.index_bytes;
    if (rep->budget_bytes >= 0 && rep->bytes_added + bytes > rep->budget_bytes) {
      if (opts.verbose)
        rep->notes.push_back("materialized views: " + p.schema + "." + p.name + " (est. " +
                             std::to_string(bytes) +
                             " bytes) does not fit what the indexes left "
                             "of the storage budget");
      continue;
    }
    rep->bytes_added += bytes;
    Recommendation r = ToRecommendation(p, opts);
    r.priority = static_cast<int>(props.size() - rep->views.size());
    rep->views.push_back(std::move(r));
  }
}

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

namespace {

using Clock = std::chrono::steady_clock;

// The rows of `sql` as a sorted multiset of rows (each a \x1f-joined line,
// NULL as \x1e), and the fastest of `runs` runs in milliseconds.
Status RunMeasured(Session& s, const std::string& sql, int runs, std::vector<std::string>* rows,
                   double* ms) {
  *ms = -1;
  for (int i = 0; i < runs; ++i) {
    Rows r;
    const auto t0 = Clock::now();
    Status st = s.Query(sql, &r);
    const double t = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (!st.ok()) return st;
    if (*ms < 0 || t < *ms) *ms = t;
    if (i > 0) continue;
    rows->clear();
    for (size_t row = 0; row < r.size(); ++row) {
      std::string line;
      for (size_t c = 0; c < r.columns(); ++c)
        line += (c ? "\x1f" : "") + (r.IsNull(row, c) ? std::string("\x1e") : r.Text(row, c));
      rows->push_back(std::move(line));
    }
    std::sort(rows->begin(), rows->end());
  }
  return Status::Ok();
}

bool HasParams(const std::string& sql) {
  for (size_t i = 0; i + 1 < sql.size(); ++i)
    if (sql[i] == '$' && std::isdigit(static_cast<unsigned char>(sql[i + 1]))) return true;
  return false;
}

// Values for a statement's `$n`, read from the view: each `$n` must be
// compared with a view column in the rewrite (`mv.region = $1`); the values
// are one row of the view, so the statement returns rows. Text literals:
// EXECUTE coerces them to the parameters' types.
bool ParamValues(Session& w, const std::string& rewritten, const std::string& view,
                 std::vector<std::string>* values) {
  std::unique_ptr<rw::Tree> t;
  if (!rw::Tree::Parse(rewritten, &t).ok()) return false;
  std::map<int, std::string> column_of;
  int max_param = 0;
  rw::VisitSlots(reinterpret_cast<ProtobufCMessage*>(t->root()), [&](rw::Node** slot) {
    rw::Node* n = *slot;
    if (n->node_case == PG_QUERY__NODE__NODE_PARAM_REF)
      max_param = std::max(max_param, n->param_ref->number);
    if (n->node_case != PG_QUERY__NODE__NODE_A_EXPR ||
        n->a_expr->kind != PG_QUERY__A__EXPR__KIND__AEXPR_OP || !n->a_expr->lexpr ||
        !n->a_expr->rexpr)
      return true;
    rw::Node* l = n->a_expr->lexpr;
    rw::Node* r = n->a_expr->rexpr;
    if (l->node_case == PG_QUERY__NODE__NODE_PARAM_REF) std::swap(l, r);
    if (l->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && l->column_ref->n_fields == 2 &&
        r->node_case == PG_QUERY__NODE__NODE_PARAM_REF)
      column_of[r->param_ref->number] = rw::StrVal(l->column_ref->fields[1]);
    return true;
  });
  if (max_param == 0 || static_cast<int>(column_of.size()) != max_param) return false;
  std::string sel, where;
  for (const auto& [k, col] : column_of) {
    sel += (sel.empty() ? "" : ", ") + QuoteIdent(col) + "::text";
    where += (where.empty() ? " WHERE " : " AND ") + QuoteIdent(col) + " IS NOT NULL";
  }
  Rows r;
  if (!w.Query("SELECT " + sel + " FROM " + view + where + " LIMIT 1", &r).ok() || r.size() != 1)
    return false;
  values->clear();
  for (size_t i = 0; i < r.columns(); ++i) values->push_back(QuoteLiteral(r.Text(0, i)));
  return true;
}

// PREPAREs `sql`, measures EXECUTE with `values`, DEALLOCATEs.
Status RunPrepared(Session& s, const std::string& name, const std::string& sql,
                   const std::vector<std::string>& values, std::vector<std::string>* rows,
                   double* ms) {
  Status st = s.Exec("PREPARE " + name + " AS " + sql);
  if (!st.ok()) return st;
  std::string args;
  for (const auto& v : values) args += (args.empty() ? "" : ", ") + v;
  st = RunMeasured(s, "EXECUTE " + name + "(" + args + ")", 3, rows, ms);
  s.Exec("DEALLOCATE " + name);
  return st;
}

void ReplaceAll(std::string* s, const std::string& from, const std::string& to) {
  for (size_t at = s->find(from); at != std::string::npos; at = s->find(from, at + to.size()))
    s->replace(at, from.size(), to);
}

// Builds one view in `scratch`, measures it and its rewrites; false when a
// rewrite returned other rows (the rewrite is dropped from *rec, and the view
// with it when none is left).
Status VerifyOne(Session& w, const std::string& scratch, Recommendation* rec,
                 std::vector<std::string>* notes, bool* keep) {
  *keep = true;
  const std::string view = EvString(*rec, "view");
  const std::string name = rec->object.substr(rec->object.find('.') + 1);
  const std::string tmp = scratch + "." + QuoteIdent(name);
  std::string index = EvString(*rec, "unique_index");
  ReplaceAll(&index, view, tmp);
  auto t0 = Clock::now();
  Status st = w.Exec("CREATE MATERIALIZED VIEW " + tmp + " AS " + EvString(*rec, "definition"));
  if (!st.ok()) return st;
  const double build_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  st = w.Exec(index);
  if (!st.ok()) return st;
  st = w.Exec("ANALYZE " + tmp);
  if (!st.ok()) return st;
  t0 = Clock::now();
  st = w.Exec("REFRESH MATERIALIZED VIEW CONCURRENTLY " + tmp);
  if (!st.ok()) return st;
  const double refresh_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  Rows size;
  st = w.Query("SELECT pg_total_relation_size(" + QuoteLiteral(tmp) + "::regclass)", &size);
  if (!st.ok()) return st;

  auto rw = json::parse(EvString(*rec, "rewrites"), nullptr, false);
  if (!rw.is_array()) return Status::Internal("rewrites evidence unreadable");
  json kept = json::array();
  std::vector<QueryBenefit> benefit;
  double before_ms = 0, after_ms = 0, saved_ms = 0;
  int verified = 0;
  for (auto& x : rw) {
    const std::string query = x.value("query", "");
    std::string rewritten = x.value("rewritten", "");
    ReplaceAll(&rewritten, view, tmp);
    std::vector<std::string> a, b, values;
    double ma = 0, mb = 0;
    if (HasParams(query)) {
      if (!ParamValues(w, rewritten, tmp, &values)) {
        x["verified"] = false;
        x["not_verified_because"] =
            "a $n parameter is not compared with a view column (no value to run it with)";
        kept.push_back(x);
        continue;
      }
      st = RunPrepared(w, "pgvise_mv_original", query, values, &a, &ma);
      if (st.ok()) st = RunPrepared(w, "pgvise_mv_rewrite", rewritten, values, &b, &mb);
      std::string v;
      for (const auto& s : values) v += (v.empty() ? "" : ", ") + s;
      x["parameters"] = v;
    } else {
      st = RunMeasured(w, query, 3, &a, &ma);
      if (st.ok()) st = RunMeasured(w, rewritten, 3, &b, &mb);
    }
    if (!st.ok()) return st;
    if (a != b) {
      notes->push_back("--verify: the rewrite of statement " +
                       std::to_string(x.value("statement", 0)) + " onto " + rec->object +
                       " returned " + std::to_string(b.size()) + " rows against the statement's " +
                       std::to_string(a.size()) + " (or other values): not proposed");
      continue;
    }
    ++verified;
    x["verified"] = true;
    x["rows"] = a.size();
    x["measured_ms_before"] = ma;
    x["measured_ms_after"] = mb;
    before_ms += ma;
    after_ms += mb;
    saved_ms += x.value("calls", 0.0) * (ma - mb);
    kept.push_back(x);
  }
  for (const auto& q : rec->benefit)
    for (const auto& x : kept)
      if (x.value("query", "") == q.query) benefit.push_back(q);
  rec->benefit = benefit;
  if (kept.empty()) {
    *keep = false;
    return Status::Ok();
  }
  const double refreshes = EvDouble(*rec, "refreshes_per_period");
  Set(*rec, "rewrites", kept.dump());
  Set(*rec, "measured_build_ms", build_ms);
  Set(*rec, "measured_refresh_ms", refresh_ms);
  Set(*rec, "measured_size_bytes", size.Int(0, 0));
  Set(*rec, "measured_ms_before", before_ms);
  Set(*rec, "measured_ms_after", after_ms);
  Set(*rec, "measured_net_benefit_ms", saved_ms - refreshes * refresh_ms);
  Set(*rec, "statements_verified", static_cast<int64_t>(verified));
  if (verified > 0) rec->confidence = Confidence::kMeasured;
  return Status::Ok();
}

}  // namespace

Status VerifyViews(Session& writable, const AdviseOptions&, AdviseReport* rep) {
  if (rep->views.empty()) return Status::Ok();
  const std::string scratch = "pgvise_verify_mv";
  // A scratch schema of its own: dropped with everything in it at the end.
  Status st = writable.Exec("CREATE SCHEMA " + scratch);
  if (!st.ok()) {  // left over by a run that was killed
    writable.Exec("DROP SCHEMA IF EXISTS " + scratch + " CASCADE");
    st = writable.Exec("CREATE SCHEMA " + scratch);
  }
  if (!st.ok()) return st;
  std::vector<Recommendation> kept;
  for (auto& rec : rep->views) {
    bool keep = true;
    st = VerifyOne(writable, scratch, &rec, &rep->notes, &keep);
    writable.Exec("DROP MATERIALIZED VIEW IF EXISTS " + scratch + "." +
                  QuoteIdent(rec.object.substr(rec.object.find('.') + 1)) + " CASCADE");
    if (!st.ok()) {
      rep->notes.push_back("--verify could not measure " + rec.object + ": " + st.message() +
                           "; its estimates stand");
      kept.push_back(std::move(rec));
      continue;
    }
    if (keep)
      kept.push_back(std::move(rec));
    else
      rep->bytes_added -= rec.size_bytes;
  }
  rep->views = std::move(kept);
  writable.Exec("DROP SCHEMA IF EXISTS " + scratch + " CASCADE");
  return Status::Ok();
}

}  // namespace pgvise
