// Extended statistics advice, from the workload's column groups to measured
// q-errors.
//
// PostgreSQL estimates `WHERE city = 'Lyon' AND zip = '69001'` as
// sel(city) x sel(zip): it assumes columns are independent. When they are
// not (a zip code determines its city), the product is far too small, and
// the plan built on it (a nested loop over "12 rows" that are 1,500) is slow.
// CREATE STATISTICS teaches the planner the dependency (functional
// dependencies, a multi-column MCV list) or the real number of distinct
// combinations (ndistinct, for GROUP BY). Each object costs ANALYZE time and
// a little catalog space, so it is only worth creating where the workload
// filters or groups on those columns together and the planner is wrong.
//
// The method, step by step:
//   1. Groups (FindColumnGroups): per statement and per relation of it, the
//      columns ANDed in WHERE / ON with equality, IN, = ANY or a range
//      against a constant or `$n` (not under OR / NOT, no expressions), and
//      the columns grouped together. Two or more columns of one table make a
//      group; the same set from several statements is one group (calls add
//      up). A group an existing statistics object already covers, with the
//      kinds it needs, is skipped.
//   2. The probe: the heaviest statement's own conditions on those columns,
//      `$n` replaced by its most frequent representative value set
//      (advisor/parameters.h), e.g. `city = 'Lyon' AND zip = '69001'`.
//   3. Evidence, read-only: the planner's rows for `SELECT 1 FROM t WHERE
//      <probe>` (EXPLAIN) against the rows a TABLESAMPLE SYSTEM of about
//      sample_rows rows finds (count(*) over the sample, scaled to the
//      table); q-error = max(est/act, act/est). The same sample counts each
//      column's condition alone, so the advisor can tell correlation (the
//      combined fraction differs from the product of the single fractions:
//      "dependence") from stale single-column statistics (then ANALYZE, not
//      CREATE STATISTICS, is the fix). For a GROUP BY group: the planner's
//      group count against PostgreSQL's own Duj1 estimate of the distinct
//      combinations in the sample.
//   4. Recommend when q-error and dependence both reach min_q_error
//      (default 4): `CREATE STATISTICS (dependencies, mcv)` for equality
//      filters (dependencies need equality; the MCV list also serves IN and
//      ranges), `(mcv)` for range-only filters, `(ndistinct)` for GROUP BY.
//   5. Attribution: the same sample counts each pair of the probe's
//      conditions together; the pairs whose joint fraction is min_q_error off
//      the product of their single fractions are the correlated columns that
//      cause the misestimate (evidence `correlated_columns`/`_pairs`). For
//      `city = .. AND zip = .. AND kind = ..` with kind independent, the
//      pair is (city, zip), and a filter-only group's object covers just
//      that pair: kind's own selectivity already multiplies in correctly.
//
// Worked example (tests/ext_statistics_pg_test.cc): 200,000 addresses, 1,000
// zips each in one of 100 cities; `WHERE city = 'c7' AND zip = 'z7'`. The
// planner: 1% x 0.1% x 200,000 = 2 rows. The 30,000-row sample: 31 matches,
// i.e. ~207 rows; q-error ~100, dependence ~100 -> CREATE STATISTICS
// (dependencies, mcv) ON city, zip. --verify creates it, ANALYZEs and the
// estimate becomes ~200 rows (q-error ~1). A table whose two columns are
// drawn independently gets q-error ~1 and no recommendation.
//
// --verify runs the whole experiment inside one transaction on the test
// database (ANALYZE, plans, CREATE STATISTICS, ANALYZE, plans again) and
// rolls it back, so the statistics object and the refreshed column
// statistics vanish with it; only pg_class.reltuples, which ANALYZE updates
// in place, keeps the fresh count.
#include "advisor/ext_statistics.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "advisor/ext_statistics_internal.h"
#include "advisor/parameters.h"
#include "catalog/ext_stats.h"

namespace pgvise {

namespace {

using extstats::ColumnsSql;
using extstats::EstimateRows;
using extstats::EvidenceAs;
using extstats::EvidenceNumber;
using extstats::FillFromData;
using extstats::FindEvidence;
using extstats::Fmt;
using extstats::Join;
using extstats::Measure;
using extstats::MeasureFilter;
using extstats::MeasureGroups;
using extstats::QualifiedSql;
using extstats::Round2;
using extstats::SetEvidence;

// A statistics object name: <table>_<col>_<col>_stats, at most 63 bytes,
// not taken in its schema.
std::string StatisticsName(const ColumnGroup& g, std::set<std::string>* taken) {
  std::string base = g.table + "_" + Join(g.columns, "_");
  auto fit = [](std::string s, size_t max) {
    if (s.size() <= max) return s;
    s.resize(max);
    while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80) s.pop_back();
    if (!s.empty() && static_cast<unsigned char>(s.back()) >= 0xC0) s.pop_back();
    return s;
  };
  for (int n = 0;; ++n) {
    std::string suffix = n == 0 ? "_stats" : "_stats" + std::to_string(n);
    std::string name = fit(base, 63 - suffix.size()) + suffix;
    if (taken->insert(g.schema + "." + name).second) return name;
  }
}

}  // namespace

void AdviseStatistics(Session& session, const Catalog& catalog, const Workload& workload,
                      const AdviseOptions& opts, AdviseReport* rep) {
  const StatisticsOptions& o = opts.statistics;
  auto say = [&](const std::string& m) {
    if (opts.selection.progress) opts.selection.progress(m);
  };
  auto verbose = [&](const std::string& m) {
    if (opts.verbose) rep->notes.push_back("statistics: " + m);
  };
  std::vector<ColumnGroup> groups = FindColumnGroups(catalog, workload, opts.parameters);
  if (groups.empty()) return;
  std::vector<ExtStatInfo> existing;
  Status st = LoadExtendedStatistics(session, &existing);
  if (!st.ok())
    rep->notes.push_back("statistics: existing statistics objects not read (" + st.message() +
                         "); groups they cover may be proposed again");
  std::set<std::string> taken;
  for (const auto& e : existing) taken.insert(e.schema + "." + e.name);
  double mcv_items = 100;  // default_statistics_target: the MCV list's length
  Rows target;
  if (session.Query("SELECT current_setting('default_statistics_target')", &target).ok() &&
      !target.empty())
    mcv_items = target.Double(0, 0, 100);

  say("extended statistics: " + std::to_string(groups.size()) + " column group(s)");
  int probed = 0, covered = 0, small = 0;
  std::vector<Recommendation> recs;
  std::vector<ColumnGroup> chosen;
  for (auto& g : groups) {
    const std::string what = g.schema + "." + g.table + " (" + Join(g.columns) + ")";
    for (const auto& e : existing)
      if (e.table_schema == g.schema && e.table == g.table &&
          e.Covers(g.columns, g.group_by, false, false) && (!g.filter || e.dependencies || e.mcv)) {
        g.covered = true;
        g.covered_by = e.QualifiedName();
      }
    if (g.covered) {
      ++covered;
      verbose(what + ": covered by statistics object " + g.covered_by);
      continue;
    }
    const TableInfo* t = catalog.FindTable(g.schema, g.table);
    if (!t || t->Rows() < o.min_table_rows) {
      ++small;
      verbose(what + ": table has fewer than " + Thousands(o.min_table_rows) +
              " rows; a misestimate costs little there");
      continue;
    }
    double combos = 1;
    for (const auto& c : g.columns)
      if (const ColumnInfo* ci = t->Column(c))
        combos *= std::max(1.0, ci->DistinctValues(t->Rows()));
    g.mcv_fits = std::min(combos, t->Rows()) <= mcv_items;
    if (probed >= o.max_groups) {
      verbose(what + ": not probed (max " + std::to_string(o.max_groups) + " groups per run)");
      continue;
    }
    ++probed;
    Measure mf, mg;
    bool want_filter = false, want_groups = false;
    if (g.filter && g.probe.empty() && !g.probe_terms.empty()) {
      st = FillFromData(session, &g, t->Rows(), o.sample_rows);
      if (!st.ok()) verbose(what + ": no values to probe with (" + st.message() + ")");
    }
    if (g.filter && !g.probe.empty()) {
      st = MeasureFilter(session, g, o, &mf);
      if (!st.ok()) {
        verbose(what + ": not measured (" + st.message() + ")");
      } else if (mf.q >= o.min_q_error && mf.dependence >= o.min_q_error) {
        want_filter = true;
      } else if (mf.q >= o.min_q_error) {
        verbose(what + ": estimate off by " + Fmt(mf.q) + "x for " + g.probe +
                ", but the columns look independent in the sample (dependence " +
                Fmt(mf.dependence) + "x): stale column statistics? ANALYZE " + g.schema + "." +
                g.table);
      } else {
        verbose(what + ": no statistics needed for " + g.probe + ": estimate " +
                Thousands(mf.est_rows) + " rows vs " +
                (mf.matched == 0 ? "fewer than " + Thousands(mf.act_rows) + " (none in the sample)"
                                 : Thousands(mf.act_rows) + " in the sample") +
                " (q-error " + Fmt(mf.q) + " < " + Fmt(o.min_q_error) + ")");
      }
    } else if (g.filter) {
      verbose(what + ": no values to probe the filter with (generic `$n` statement)");
    }
    if (g.group_by) {
      st = MeasureGroups(session, g, o, &mg);
      if (!st.ok()) {
        verbose(what + ": GROUP BY not measured (" + st.message() + ")");
      } else if (mg.q_groups >= o.min_q_error) {
        want_groups = true;
      } else {
        verbose(what + ": GROUP BY estimate " + Thousands(mg.est_groups) + " groups vs about " +
                Thousands(mg.act_groups) + " (q-error " + Fmt(mg.q_groups) + " < " +
                Fmt(o.min_q_error) + ")");
      }
    }
    if (!want_filter && !want_groups) continue;
    ColumnGroup cg = g;
    // The sample's distinct combinations are a lower bound: more than one
    // MCV list holds in the sample means more in the table.
    if (want_filter) cg.mcv_fits = cg.mcv_fits || mf.combinations <= mcv_items;
    if (want_filter && mf.combinations > mcv_items) cg.mcv_fits = false;
    cg.filter = want_filter;
    cg.group_by = want_groups;
    // The attribution: which pairs of the filter are correlated (an
    // independent column ANDed to them is in none), and which way the
    // estimate is off (independence underestimates values that go together
    // and overestimates combinations that never occur). When they are a
    // part of a filter-only group, the object covers that part: a column
    // independent of the others teaches the planner nothing and adds to
    // ANALYZE's work (its selectivity multiplies in correctly without it).
    std::vector<std::string> correlated, pairs;
    if (want_filter) extstats::CorrelatedColumns(g, mf, o.min_q_error, &correlated, &pairs);
    const bool narrowed = want_filter && !want_groups && correlated.size() >= 2 &&
                          correlated.size() < g.columns.size();
    if (narrowed) cg.columns = correlated;
    const std::string name = StatisticsName(cg, &taken);
    const std::string table_sql = QualifiedSql(g.schema, g.table);
    Recommendation r;
    r.kind = RecommendationKind::kStatistics;
    r.object = g.schema + "." + g.table;
    r.sql = "CREATE STATISTICS " + QualifiedSql(g.schema, name) + " (" + StatisticsKinds(cg) +
            ") ON " + ColumnsSql(cg.columns) + " FROM " + table_sql + ";\nANALYZE " + table_sql;
    r.revert = "DROP STATISTICS IF EXISTS " + QualifiedSql(g.schema, name) + ";";
    r.lock = "SHARE UPDATE EXCLUSIVE";
    r.confidence = Confidence::kMedium;
    const double q = std::max(want_filter ? mf.q : 1.0, want_groups ? mg.q_groups : 1.0);
    std::string reason = Join(g.columns) + " of " + r.object + " are ";
    if (want_filter)
      reason += "filtered together (" + g.probe + "): the planner estimates " +
                Thousands(mf.est_rows) + " rows, " +
                (mf.exact ? "the table has " : "a sample says ") + Thousands(mf.act_rows) +
                " (q-error " + Fmt(q) + "x; the columns are dependent: the combination is " +
                Fmt(mf.dependence) + "x off what independence predicts)";
    if (want_groups)
      reason += std::string(want_filter ? "; and " : "") +
                "grouped together: the planner expects " + Thousands(mg.est_groups) +
                " groups, about " + Thousands(mg.act_groups) + " exist (q-error " +
                Fmt(mg.q_groups) + "x)";
    if (!pairs.empty())
      reason += "; the correlated column pair" + std::string(pairs.size() > 1 ? "s: " : ": ") +
                Join(pairs, "; ") + " (each pair's joint fraction in the sample against " +
                "the product of its single fractions)" +
                (narrowed ? ", so the statistics cover " + Join(cg.columns) + " only" : "");
    r.reason = reason;
    r.Add("columns", cg.columns).Add("kinds", StatisticsKinds(cg)).Add("q_error_before", Round2(q));
    if (want_filter)
      r.Add("probe", g.probe)
          .Add("probe_values", std::string(g.probe_from_data ? "sample" : "statement"))
          .Add("estimated_rows", mf.est_rows)
          .Add("sampled_rows", Round2(mf.act_rows))
          .Add("sample_size", mf.sampled)
          .Add("sample_exact", mf.exact)
          .Add("dependence", Round2(mf.dependence))
          .Add("q_error_filter", Round2(mf.q))
          .Add("misestimate", std::string(mf.est_rows > mf.act_rows ? "over" : "under"))
          .Add("correlated_columns", correlated)
          .Add("correlated_pairs", pairs);
    if (narrowed) r.Add("filter_columns", g.columns);
    if (want_groups)
      r.Add("group_by", true)
          .Add("estimated_groups", mg.est_groups)
          .Add("sampled_groups", std::round(mg.act_groups))
          .Add("q_error_group_by", Round2(mg.q_groups));
    r.Add("name", name).Add("statements", static_cast<int64_t>(g.statements.size()));
    for (int s : g.statements) {
      const WorkloadStatement& ws = workload.statements[static_cast<size_t>(s)];
      QueryBenefit b;
      b.fingerprint = ws.fingerprint;
      b.query = ws.sql;
      b.calls = ws.calls;
      if (static_cast<size_t>(s) < rep->statements.size())
        b.cost_before = b.cost_after = rep->statements[static_cast<size_t>(s)].cost_after;
      r.benefit.push_back(b);
    }
    r.priority = static_cast<int>(std::min(q, 1e6));
    recs.push_back(std::move(r));
    chosen.push_back(std::move(cg));
  }
  // A group inside a larger chosen one on the same table, with the same or
  // fewer kinds, is served by it (the planner applies an object to any two
  // or more of its columns).
  std::vector<bool> drop(recs.size(), false);
  for (size_t i = 0; i < chosen.size(); ++i)
    for (size_t j = 0; j < chosen.size(); ++j) {
      // The same columns twice (two filters narrowed to one correlated
      // pair): the later one goes.
      if (i == j || drop[j] || chosen[i].schema != chosen[j].schema ||
          chosen[i].table != chosen[j].table ||
          chosen[i].columns.size() > chosen[j].columns.size() ||
          (chosen[i].columns.size() == chosen[j].columns.size() && i < j))
        continue;
      const auto& big = chosen[j].columns;
      bool subset = std::all_of(
          chosen[i].columns.begin(), chosen[i].columns.end(),
          [&](const std::string& c) { return std::find(big.begin(), big.end(), c) != big.end(); });
      bool kinds = (!chosen[i].group_by || chosen[j].group_by) &&
                   (!chosen[i].filter || chosen[j].filter) &&
                   (!chosen[i].equality || !chosen[i].filter || chosen[j].equality);
      if (subset && kinds) {
        drop[i] = true;
        verbose(chosen[i].schema + "." + chosen[i].table + " (" + Join(chosen[i].columns) +
                "): served by the statistics on (" + Join(big) + ")");
      }
    }
  for (size_t i = 0; i < recs.size(); ++i)
    if (!drop[i]) rep->statistics.push_back(std::move(recs[i]));
  std::stable_sort(
      rep->statistics.begin(), rep->statistics.end(),
      [](const Recommendation& a, const Recommendation& b) { return a.priority > b.priority; });
  if (rep->statistics.empty() && probed > 0)
    rep->notes.push_back("statistics: " + std::to_string(probed) +
                         " column group(s) measured; none misestimated by " + Fmt(o.min_q_error) +
                         "x or more with dependent columns (-v says why per group)");
  (void)covered;
  (void)small;
}

void AddStatisticsReport(const AdviseReport& r, Report* report) {
  if (r.statistics.empty()) return;
  auto& b = report->body;
  b.push_back(ReportBlock::Heading("Extended statistics"));
  int n = 0;
  for (const auto& rec : r.statistics) {
    std::vector<std::string> cols;
    if (const auto* c = EvidenceAs<std::vector<std::string>>(rec, "columns")) cols = *c;
    const std::string title = rec.object + " (" + Join(cols) + ")";
    b.push_back(ReportBlock::Heading(std::to_string(++n) + ". " + title, 3));
    b.push_back(ReportBlock::Code(rec.sql + ";"));
    std::vector<std::pair<std::string, std::string>> kv;
    kv.push_back({"q-error before", Fmt(EvidenceNumber(rec, "q_error_before")) + "x"});
    if (FindEvidence(rec, "q_error_after"))
      kv.push_back({"q-error after (--verify)", Fmt(EvidenceNumber(rec, "q_error_after")) + "x"});
    if (const auto* p = EvidenceAs<std::string>(rec, "probe"))
      kv.push_back(
          {"probe", *p + ": estimated " + Thousands(EvidenceNumber(rec, "estimated_rows")) +
                        " rows, sample " + Thousands(EvidenceNumber(rec, "sampled_rows"))});
    if (const auto* c = EvidenceAs<std::vector<std::string>>(rec, "correlated_pairs");
        c && !c->empty())
      kv.push_back({"correlated", Join(*c, "; ")});
    if (FindEvidence(rec, "estimated_groups"))
      kv.push_back({"GROUP BY", "estimated " + Thousands(EvidenceNumber(rec, "estimated_groups")) +
                                    " groups, sample " +
                                    Thousands(EvidenceNumber(rec, "sampled_groups"))});
    if (FindEvidence(rec, "plans_changed"))
      kv.push_back({"plans changed (--verify)",
                    Thousands(EvidenceNumber(rec, "plans_changed")) + " of " +
                        Thousands(EvidenceNumber(rec, "plans_checked")) + " statement(s)"});
    kv.push_back({"confidence", ConfidenceName(rec.confidence)});
    b.push_back(ReportBlock::KeyValues(std::move(kv)));
    b.push_back(ReportBlock::Paragraph(rec.reason));
    ReportAction a{rec, true, "statistics on " + title};
    report->actions.push_back(std::move(a));
  }
}

}  // namespace pgvise
