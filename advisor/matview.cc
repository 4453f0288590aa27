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
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "advisor/matview_internal.h"
#include "advisor/matview_match.h"
#include "advisor/report.h"
#include "core/sql_text.h"

namespace pgvise {

namespace {

using json = nlohmann::ordered_json;
using mv::advice::DistinctProduct;
using mv::advice::ExplainDefinition;
using mv::advice::Fmt0;
using mv::advice::ReadTypes;

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
      .Add("view_name", p.name)  // unquoted, without its schema (which may hold a '.')
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

}  // namespace pgvise
