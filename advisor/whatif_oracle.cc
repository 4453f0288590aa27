// WhatIfOracle: the selection's CostOracle (advisor/selection.h) answered
// by live HypoPG what-if costs (advisor/whatif.h). Beside plain costs it
// owns the two judgements the selection delegates: how much writing a
// candidate adds (write_source: the workload's own writes, or
// pg_stat_user_tables counters scaled to pg_stat_statements' period), and
// which wider indexes extend a chosen one (Extensions: the keys of
// candidates serving the same statements, appended).
#include <algorithm>
#include <string>
#include <vector>

#include "advisor/advisor.h"
#include "advisor/existing.h"

namespace pgvise {

WhatIfOracle::WhatIfOracle(WhatIf& wi, const AdviseOptions& o) : wi_(wi), o_(o) {
  base_ok_.assign(wi_.workload().statements.size(), false);
  wi_.CostAll({});
  for (int s = 0; s < num_statements(); ++s) base_ok_[static_cast<size_t>(s)] = wi_.Cost(s, {}).ok;
}

int WhatIfOracle::num_statements() const {
  return static_cast<int>(wi_.workload().statements.size());
}
int WhatIfOracle::num_candidates() const {
  return static_cast<int>(wi_.candidates().candidates.size());
}
double WhatIfOracle::Calls(int s) const {
  return wi_.workload().statements[static_cast<size_t>(s)].calls;
}
bool WhatIfOracle::Costed(int s) const { return base_ok_[static_cast<size_t>(s)]; }

std::vector<int> WhatIfOracle::StatementsFor(int c) const {
  std::vector<int> out;
  const auto& rel = wi_.candidates().relevant;
  for (size_t s = 0; s < rel.size(); ++s)
    if (base_ok_[s] && std::find(rel[s].begin(), rel[s].end(), c) != rel[s].end())
      out.push_back(static_cast<int>(s));
  return out;
}

double WhatIfOracle::Cost(int s, const std::vector<int>& config) {
  if (!base_ok_[static_cast<size_t>(s)]) return 0;  // not plannable: out of the sums
  const PlanCost& pc = wi_.Cost(s, config);
  if (pc.ok) return pc.cost;
  return wi_.Cost(s, {}).cost;  // the configuration could not be built: no change
}

void WhatIfOracle::Prefetch(const std::vector<int>& statements, const std::vector<int>& config) {
  std::vector<int> asked;
  for (int s : statements)
    if (base_ok_[static_cast<size_t>(s)]) asked.push_back(s);  // Cost asks nothing for the others
  wi_.CostMany(asked, config);
}

int64_t WhatIfOracle::Size(int c) { return wi_.Size(c); }

double WhatIfOracle::TableWrites(const std::string& schema, const std::string& table) const {
  std::string source = o_.write_source;
  const Workload& w = wi_.workload();
  if (source == "none") return 0;
  if (source == "auto") source = w.from_pg_stat_statements ? "stats" : "workload";
  const TableInfo* t = wi_.catalog().FindTable(schema, table);
  if (source == "stats") {
    // Counters since the table statistics' reset, scaled to the period
    // pg_stat_statements' calls cover when both are known.
    if (!t) return 0;
    double rows = static_cast<double>(
        std::max<int64_t>(t->n_tup_ins + t->n_tup_upd - t->n_tup_hot_upd + t->n_tup_del, 0));
    if (w.pgss_period_s > 0 && t->stats_age_s > 0)
      rows *= std::min(1.0, w.pgss_period_s / t->stats_age_s);
    return rows;
  }
  double sum = 0;
  for (const auto& [name, rows] : w.table_writes)
    if (wi_.catalog().FindTable(name) == t) sum += rows;
  return sum;
}

double WhatIfOracle::WriteOverhead(int c) {
  const IndexCandidate& cand = wi_.candidates().candidates[static_cast<size_t>(c)];
  double per_row = o_.write_cost_per_row;
  // BRIN summarises page ranges: an insert rarely touches it. A partial
  // index sees only the rows its predicate keeps (unknown: assume half).
  if (cand.method == "brin") per_row *= 0.05;
  if (!cand.predicate.empty()) per_row *= 0.5;
  return TableWrites(cand.schema, cand.table) * per_row;
}

int WhatIfOracle::KeyWidth(int c) const {
  return static_cast<int>(wi_.candidates().candidates[static_cast<size_t>(c)].keys.size());
}

bool WhatIfOracle::IsSingleColumnPredicateIndex(int c) const {
  const IndexCandidate& cand = wi_.candidates().candidates[static_cast<size_t>(c)];
  return cand.method == "btree" && cand.keys.size() == 1 && cand.include.empty() &&
         cand.predicate.empty() && cand.keys[0].expression.empty() &&
         cand.keys[0].opclass.empty() &&
         (cand.origin == "equality" || cand.origin == "range" || cand.origin == "join");
}

std::vector<int> WhatIfOracle::Extensions(int c) {
  CandidateSet& cs = wi_.candidates();
  IndexCandidate base = cs.candidates[static_cast<size_t>(c)];
  if (base.method != "btree" || static_cast<int>(base.keys.size()) >= o_.candidates.max_key_columns)
    return {};
  std::vector<int> stmts = StatementsFor(c);
  // The columns worth appending: keys of candidates for the same table that
  // serve the statements this index serves.
  std::vector<CandidateKey> pool;
  for (int s : stmts)
    for (int d : cs.relevant[static_cast<size_t>(s)]) {
      const IndexCandidate& other = cs.candidates[static_cast<size_t>(d)];
      if (other.schema != base.schema || other.table != base.table || other.method != "btree")
        continue;
      for (const auto& k : other.keys) {
        bool have = false;
        for (const auto& x : base.keys)
          have |= (x.column == k.column && x.expression == k.expression);
        for (const auto& x : pool) have |= (x == k);
        if (!have) pool.push_back(k);
      }
    }
  std::vector<int> out;
  // Richer candidates already generated: same predicate, c's keys as their
  // prefix (a covering variant, or a longer composite the generator built).
  for (int s : stmts)
    for (int d : cs.relevant[static_cast<size_t>(s)]) {
      if (d == c || std::find(out.begin(), out.end(), d) != out.end()) continue;
      const IndexCandidate& other = cs.candidates[static_cast<size_t>(d)];
      if (other.schema != base.schema || other.table != base.table || other.method != base.method ||
          other.predicate != base.predicate || other.keys.size() < base.keys.size())
        continue;
      if (!std::equal(base.keys.begin(), base.keys.end(), other.keys.begin())) continue;
      if (other.keys.size() == base.keys.size() && other.include.size() <= base.include.size())
        continue;
      out.push_back(d);
    }
  const TableInfo* t = wi_.catalog().FindTable(base.schema, base.table);
  for (const auto& k : pool) {
    IndexCandidate ext = base;
    ext.keys.push_back(k);
    if (k.expression.empty())
      ext.include.erase(std::remove(ext.include.begin(), ext.include.end(), k.column),
                        ext.include.end());
    ext.origin = base.origin + "+extended";
    if (t && ExistingIndexProvides(*t, ext)) continue;
    size_t before = cs.candidates.size();
    int id = cs.Add(ext);
    if (cs.candidates.size() > before) {
      // Same leading key: the same statements can use it.
      for (int s : stmts) cs.relevant[static_cast<size_t>(s)].push_back(id);
    }
    if (id != c && std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  }
  return out;
}

}  // namespace pgvise
