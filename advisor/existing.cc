#include "advisor/existing.h"

#include <algorithm>
#include <set>

#include "core/session.h"

namespace pgvise {

namespace {

bool SameKeys(const IndexKey& a, const IndexKey& b) {
  return a.column == b.column && a.expression == b.expression && a.opclass == b.opclass;
}

std::set<std::string> Covered(const IndexInfo& i) {
  std::set<std::string> s;
  for (const auto& k : i.keys) s.insert(k.expression);
  for (const auto& k : i.include) s.insert(k.expression);
  return s;
}

// a's keys are exactly b's (duplicate) or a leading prefix of them.
bool PrefixOf(const IndexInfo& a, const IndexInfo& b, bool* exact) {
  if (a.method != b.method || a.predicate != b.predicate || a.keys.size() > b.keys.size())
    return false;
  bool same = true, reversed = true;
  for (size_t i = 0; i < a.keys.size(); ++i) {
    if (!SameKeys(a.keys[i], b.keys[i])) return false;
    bool dir_eq = a.keys[i].descending == b.keys[i].descending &&
                  a.keys[i].nulls_first == b.keys[i].nulls_first;
    if (!dir_eq) same = false;
    if (dir_eq) reversed = false;
  }
  if (a.method == "btree" && !same && !(reversed && a.keys.size() > 0)) return false;
  if (a.method != "btree" && !same) return false;
  std::set<std::string> cov = Covered(b);
  for (const auto& k : a.include)
    if (!cov.count(k.expression)) return false;
  *exact = a.keys.size() == b.keys.size() && a.include.size() == b.include.size() && same;
  return true;
}

std::string Revert(const IndexInfo& i) {
  // pg_get_indexdef gives "CREATE [UNIQUE] INDEX name ON ..."; the revert
  // must not block writes either.
  std::string def = i.definition;
  for (const char* p : {"CREATE UNIQUE INDEX ", "CREATE INDEX "}) {
    std::string prefix = p;
    if (def.rfind(prefix, 0) == 0)
      return prefix + "CONCURRENTLY IF NOT EXISTS " + def.substr(prefix.size());
  }
  return def;
}

}  // namespace

void ReviewExistingIndexes(WhatIf& wi, WhatIfOracle& oracle, const std::vector<int>& final_config,
                           const AdviseOptions& opts, AdviseReport* rep) {
  const Catalog& cat = wi.catalog();
  const Workload& w = wi.workload();

  // Which real indexes do the workload's plans use, now and after?
  std::map<std::string, std::vector<int>> used_by;  // "schema.name" and bare name -> statements
  for (int s = 0; s < oracle.num_statements(); ++s) {
    if (!oracle.Costed(s)) continue;
    for (const auto* pc : {&wi.Cost(s, {}), &wi.Cost(s, final_config)})
      for (const auto& n : pc->indexes) used_by[n].push_back(s);
  }
  auto uses = [&](const IndexInfo& i) -> std::vector<int> {
    std::vector<int> out;
    for (const auto& key : {i.name, i.QualifiedName()})
      if (auto it = used_by.find(key); it != used_by.end())
        out.insert(out.end(), it->second.begin(), it->second.end());
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  };
  // Statements that read the table (the ones a hidden index could affect).
  auto statements_on = [&](const TableInfo& t) {
    std::vector<int> out;
    for (int s = 0; s < oracle.num_statements(); ++s) {
      if (!oracle.Costed(s)) continue;
      for (const auto& r : w.statements[static_cast<size_t>(s)].facts.relations)
        if (!r.is_cte && cat.FindTable(r.QualifiedName()) == &t) {
          out.push_back(s);
          break;
        }
    }
    return out;
  };

  std::set<uint32_t> dropping, keepers;
  for (const auto& t : cat.tables()) {
    // A locked table's index definitions were not read (no revert script)
    // and its statements cannot be planned (no proof): no drop advice.
    if (t.locked) continue;
    for (const auto& ix : t.indexes) {
      if (ix.BacksConstraint()) continue;   // it is the constraint: never dropped
      if (keepers.count(ix.oid)) continue;  // another drop relies on it
      std::string why, kind;
      const IndexInfo* other = nullptr;
      if (!ix.valid) {
        kind = "invalid";
        why = "invalid (a CREATE INDEX CONCURRENTLY that failed): the planner never uses it";
      }
      if (kind.empty()) {
        for (const auto& o : t.indexes) {
          if (&o == &ix || !o.valid || dropping.count(o.oid)) continue;
          bool exact = false;
          if (!PrefixOf(ix, o, &exact)) continue;
          // Of two duplicates keep the one backing a constraint, else the older.
          if (exact && !o.BacksConstraint() && o.oid > ix.oid) continue;
          if (!exact && ix.unique)
            continue;  // uniqueness on fewer columns is a rule the wider index lacks
          other = &o;
          kind = exact ? "duplicate" : "redundant";
          why = exact ? "duplicate of " + o.name + " (same method, keys, INCLUDE and predicate)"
                      : "redundant: its keys are a leading prefix of " + o.name + " (" +
                            o.definition + ")";
          break;
        }
      }
      if (kind.empty() && ix.idx_scan == 0 && t.stats_age_s >= opts.unused_min_stats_age_s) {
        kind = "unused";
        why = "unused: no index scan in " +
              std::to_string(static_cast<int64_t>(t.stats_age_s / 86400)) + " days of statistics";
      }
      if (kind.empty()) continue;

      // The proof that the workload does not need it.
      std::vector<int> users = uses(ix);
      std::string proof;
      double cost_increase = 0;
      double write_saved = oracle.TableWrites(t.schema, t.name) * opts.write_cost_per_row;
      if (kind == "invalid") {
        proof = "the planner ignores invalid indexes";
      } else if (wi.can_hide_indexes() && ix.oid != 0) {
        bool ok = true;
        for (int s : statements_on(t)) {
          PlanCost hidden = wi.CostHiding(s, final_config, {ix.oid});
          if (!hidden.ok) {
            ok = false;
            break;
          }
          cost_increase += oracle.Calls(s) * (hidden.cost - oracle.Cost(s, final_config));
        }
        if (!ok ||
            cost_increase > write_saved + opts.selection.min_gain * rep->workload_cost_before) {
          rep->notes.push_back("kept " + ix.QualifiedName() + " (" + kind +
                               "): hiding it raises the workload cost by " +
                               std::to_string(static_cast<int64_t>(cost_increase)));
          continue;
        }
        proof = "hidden with hypopg_hide_index, the workload cost changes by " +
                std::to_string(static_cast<int64_t>(cost_increase)) + " units";
      } else {
        if (!users.empty() && kind == "duplicate") {
          // An identical index costs the same in every plan: the planner
          // takes the twin.
          proof = "plans that use it can use " + other->name + ", which is identical";
        } else if (!users.empty()) {
          rep->notes.push_back(
              "kept " + ix.QualifiedName() + " (" + kind + "): the plan of workload statement #" +
              std::to_string(users[0] + 1) + " uses it, and HypoPG " + wi.hypopg_version() +
              " cannot hide an index to cost the plan without it (1.4+ can)");
          continue;
        } else {
          proof = "no workload statement's plan uses it (before or after the recommendations)";
        }
      }
      dropping.insert(ix.oid);
      if (other) keepers.insert(other->oid);
      Recommendation r;
      r.kind = RecommendationKind::kDropIndex;
      r.sql =
          "DROP INDEX CONCURRENTLY IF EXISTS " + QuoteIdent(ix.schema) + "." + QuoteIdent(ix.name);
      r.revert = Revert(ix);
      r.object = ix.QualifiedName();
      r.reason = ix.name + " is " + why + "; " + proof;
      r.size_bytes = -ix.size_bytes;
      r.write_overhead = -write_saved;
      r.lock = "SHARE UPDATE EXCLUSIVE";
      r.confidence = kind == "unused" ? Confidence::kMedium : Confidence::kHigh;
      r.Add("kind", kind)
          .Add("idx_scan", ix.idx_scan)
          .Add("cost_increase", cost_increase)
          .Add("proof", proof);
      if (other) r.Add("kept_index", other->QualifiedName());
      rep->bytes_freed += ix.size_bytes;
      rep->write_overhead_saved += write_saved;
      rep->drops.push_back(std::move(r));
    }
  }
}

}  // namespace pgvise
