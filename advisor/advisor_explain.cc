// The steps of an advise run that write its report (advisor_internal.h
// lists where the others live):
//
//   RecordStatements        per statement: cost before and after the chosen
//                           indexes, how it was costed (custom plans over
//                           value sets, or one generic plan), and why the
//                           ones that could not be planned failed
//   ReserveTakenNames       which names the DDL may print are taken
//   ExplainRecommendations  one recommendation per chosen index, ranked by
//                           what the workload would lose without it
//   ReportUnverifiable      GIN candidates HypoPG cannot cost, apart
//
// Names: an index's name is its SuggestedName, then _2, _3 ... within 63
// bytes, skipping every relation name in the schema (tables, views and
// sequences share the namespace with indexes). A taken name would make the
// script's CREATE INDEX IF NOT EXISTS skip the build with only a NOTICE.
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "advisor/advisor_internal.h"
#include "catalog/lookups.h"

namespace pgvise::advise_steps {

namespace {

// The n-th choice of name: the suggested one, then with _2, _3 ... kept
// within PostgreSQL's 63 bytes (the suggested name is plain ASCII).
constexpr int kNameTries = 9;
std::string NumberedName(const std::string& base, int n) {
  if (n == 1) return base;
  std::string stem = base.substr(0, std::min<size_t>(base.size(), 60));
  while (!stem.empty() && stem.back() == '_') stem.pop_back();
  return stem + "_" + std::to_string(n);
}

// Unique, readable index names, free of every relation name known taken.
std::string UniqueName(const Catalog& cat, const IndexCandidate& c, std::set<std::string>* taken) {
  std::string base = c.SuggestedName();
  for (int n = 1;; ++n) {
    std::string name = NumberedName(base, n);
    bool exists = taken->count(c.schema + "." + name) > 0;
    for (const auto& t : cat.tables())
      for (const auto& i : t.indexes) exists |= (i.schema == c.schema && i.name == name);
    if (!exists) {
      taken->insert(c.schema + "." + name);
      return name;
    }
  }
}

// A new index's recommendation before its evidence: a name nobody holds,
// the CONCURRENTLY DDL, its revert and its lock (and the name, if asked).
Recommendation NewIndexRecommendation(AdviseRun& run, const IndexCandidate& cand,
                                      std::string* name_out = nullptr) {
  Recommendation r;
  r.kind = RecommendationKind::kIndex;
  const std::string name = UniqueName(run.catalog, cand, &run.names_taken);
  if (name_out != nullptr) *name_out = name;
  r.sql = cand.Ddl(name, true, true);
  r.revert =
      "DROP INDEX CONCURRENTLY IF EXISTS " + QuoteIdent(cand.schema) + "." + QuoteIdent(name);
  r.object = cand.schema + "." + cand.table;
  r.lock = "SHARE UPDATE EXCLUSIVE";
  return r;
}

}  // namespace

// Per statement: cost before and after, and how it was costed.
void RecordStatements(AdviseRun& run) {
  WhatIf& wi = *run.wi;
  WhatIfOracle& o = *run.oracle;
  AdviseReport& rep = run.rep;
  for (int s = 0; s < o.num_statements(); ++s) {
    const auto& ws = run.workload.statements[static_cast<size_t>(s)];
    const StatementParams& params = wi.parameters(s);
    StatementOutcome out;
    out.index = s;
    out.sql = ws.written_sql.empty() ? ws.sql : ws.written_sql;
    out.fingerprint = ws.fingerprint;
    out.source = ws.source;
    out.calls = ws.calls;
    out.costing = params.Describe();
    if (!ws.written_sql.empty()) {
      out.costed_sql = ws.sql;
      out.costing += ", through its row-finding SELECT (the role may not EXPLAIN the write)";
    }
    out.custom_plans = params.custom();
    const PlanCost& b = wi.Cost(s, {});
    out.costed = b.ok;
    if (!b.ok) {
      out.error = b.error;
      ++rep.statements_failed;
    } else {
      ++rep.statements_costed;
      out.cost_before = b.cost;
      out.cost_after = o.Cost(s, run.chosen);
      if (params.custom()) {
        ++rep.statements_custom;
        out.values_source = params.source;
        const PlanCost& a = wi.Cost(s, run.chosen);
        for (size_t i = 0; i < params.sets.size(); ++i) {
          ValueSetOutcome v;
          v.label = params.sets[i].label;
          v.weight = params.sets[i].weight;
          v.cost_before = i < b.set_costs.size() ? b.set_costs[i] : 0;
          v.cost_after = a.ok && i < a.set_costs.size() ? a.set_costs[i] : v.cost_before;
          out.value_sets.push_back(std::move(v));
        }
        const PlanCost g = wi.GenericBaseline(s);
        if (g.ok) out.generic_cost_before = g.cost;
      } else if (params.params > 0) {
        ++rep.statements_generic;
      }
    }
    rep.workload_cost_before += ws.calls * out.cost_before;
    rep.workload_cost_after += ws.calls * out.cost_after;
    rep.statements.push_back(std::move(out));
  }
  if (rep.statements_failed == 0) return;
  // Say why when it is a limit the user can change, not a bad statement.
  int timed_out = 0, locked = 0;
  for (int s = 0; s < o.num_statements(); ++s) {
    const PlanCost& b = wi.Cost(s, {});
    if (b.ok) continue;
    timed_out += b.sqlstate == "57014";
    locked += b.sqlstate == "55P03";
  }
  std::string why;
  if (timed_out > 0)
    why += "; " + std::to_string(timed_out) + " hit statement_timeout (" +
           std::to_string(run.session.options().statement_timeout_ms) +
           " ms; raise --statement-timeout to cost them)";
  if (locked > 0)
    why += "; " + std::to_string(locked) + " waited longer than lock_timeout (" +
           std::to_string(run.session.options().lock_timeout_ms) +
           " ms) for a table another session holds locked";
  rep.notes.push_back(std::to_string(rep.statements_failed) +
                      " statement(s) could not be planned and are not costed (see the "
                      "statements section); they are left out of the workload cost" +
                      why);
}

// Index names share the schema's namespace with tables, views and
// sequences, which the catalog snapshot does not list: ask once which of the
// names UniqueName could pick are taken, so none collides (a collision would
// make the script's IF NOT EXISTS skip the build with only a NOTICE).
void ReserveTakenNames(AdviseRun& run) {
  std::set<std::string> wanted;
  auto add = [&](const IndexCandidate& c) {
    std::string base = c.SuggestedName();
    for (int n = 1; n <= kNameTries; ++n) wanted.insert(c.schema + "." + NumberedName(base, n));
  };
  for (int c : run.chosen) add(run.cs.candidates[static_cast<size_t>(c)]);
  for (const auto& c : run.cs.unverifiable) add(c);
  std::set<std::string> existing;
  if (ExistingRelationNames(run.session, wanted, &existing).ok())
    run.names_taken.insert(existing.begin(), existing.end());
}

// One recommendation per chosen index, ranked by how much the workload would
// lose without it.
void ExplainRecommendations(AdviseRun& run) {
  WhatIf& wi = *run.wi;
  WhatIfOracle& oracle = *run.oracle;
  AdviseReport& rep = run.rep;
  const std::vector<int>& final_config = run.chosen;
  struct Ranked {
    double marginal;
    Recommendation rec;
  };
  std::vector<Ranked> ranked;
  for (int c : final_config) {
    const IndexCandidate& cand = run.cs.candidates[static_cast<size_t>(c)];
    std::vector<int> without;
    for (int x : final_config)
      if (x != c) without.push_back(x);
    double marginal = 0, helped_base = 0;
    std::string name;
    Recommendation r = NewIndexRecommendation(run, cand, &name);
    for (int s : oracle.StatementsFor(c)) {
      marginal += oracle.Calls(s) * (oracle.Cost(s, without) - oracle.Cost(s, final_config));
      const PlanCost& pc = wi.Cost(s, final_config);
      if (!pc.candidates.count(c)) continue;
      const StatementOutcome& st = rep.statements[static_cast<size_t>(s)];
      QueryBenefit qb;
      qb.fingerprint = st.fingerprint;
      qb.query = st.sql;
      qb.calls = oracle.Calls(s);
      qb.cost_before = st.cost_before;
      qb.cost_after = st.cost_after;
      helped_base += qb.calls * qb.cost_before;
      r.benefit.push_back(qb);
      rep.statements[static_cast<size_t>(s)].indexes_after.push_back(name);
    }
    bool qualstats_constant = false;
    for (int s : oracle.StatementsFor(c))
      qualstats_constant |=
          wi.Cost(s, final_config).candidates.count(c) &&
          !run.workload.statements[static_cast<size_t>(s)].constant_source.empty();
    std::sort(r.benefit.begin(), r.benefit.end(), [](const QueryBenefit& a, const QueryBenefit& b) {
      return a.calls * (a.cost_before - a.cost_after) > b.calls * (b.cost_before - b.cost_after);
    });
    r.size_bytes = oracle.Size(c);
    r.write_overhead = oracle.WriteOverhead(c);
    rep.bytes_added += r.size_bytes;
    rep.write_overhead_added += r.write_overhead;
    bool big_wins = !r.benefit.empty();
    for (const auto& b : r.benefit) big_wins &= b.cost_after <= 0.7 * b.cost_before;
    r.confidence = big_wins ? Confidence::kHigh : Confidence::kMedium;
    r.reason = cand.origin + " index on " + r.object + ": used by " +
               std::to_string(r.benefit.size()) + " workload statement(s); the workload costs " +
               Fmt2(marginal) + " units more without it";
    r.Add("marginal_benefit", marginal)
        .Add("share_of_workload",
             rep.workload_cost_before > 0 ? helped_base / rep.workload_cost_before : 0.0)
        .Add("hypopg_size_bytes", wi.HypopgSize(c))
        // How size_bytes was estimated: the B-tree build model (advisor/
        // index_size.h), or HypoPG's own estimate for other methods.
        .Add("size_method", std::string(cand.method == "btree" ? "btree-build-model" : "hypopg"))
        .Add("origin", cand.origin)
        .Add("whatif_verified", true);
    // The plan was costed with a constant pg_qualstats recorded, not one the
    // statement text carries: say so.
    if (qualstats_constant && !cand.predicate.empty())
      r.Add("constant_source", std::string("pg_qualstats"));
    ranked.push_back({marginal, std::move(r)});
  }
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const Ranked& a, const Ranked& b) { return a.marginal > b.marginal; });
  int prio = static_cast<int>(ranked.size());
  for (auto& x : ranked) {
    x.rec.priority = prio--;
    rep.indexes.push_back(std::move(x.rec));
  }
}

// GIN candidates: HypoPG can't build them, so they are reported apart.
void ReportUnverifiable(AdviseRun& run) {
  const CandidateSet& cs = run.cs;
  for (size_t i = 0; i < cs.unverifiable.size(); ++i) {
    const IndexCandidate& cand = cs.unverifiable[i];
    Recommendation r = NewIndexRecommendation(run, cand);
    r.confidence = Confidence::kUnverified;
    r.reason = cand.origin + " index on " + r.object +
               ": HypoPG cannot simulate GIN indexes, so its benefit is not costed; --verify "
               "builds it on a test "
               "database and measures it";
    for (int s : cs.unverifiable_for[i]) {
      const StatementOutcome& st = run.rep.statements[static_cast<size_t>(s)];
      QueryBenefit qb;
      qb.fingerprint = st.fingerprint;
      qb.query = st.sql;
      qb.calls = st.calls;
      qb.cost_before = qb.cost_after = st.cost_before;
      r.benefit.push_back(qb);
    }
    r.Add("whatif_verified", false).Add("origin", cand.origin);
    run.rep.unverified.push_back(std::move(r));
  }
}

}  // namespace pgvise::advise_steps
