// Extended statistics, step 1: the workload's column groups. Per statement
// and per relation of it, the columns ANDed in WHERE / ON with equality, IN,
// = ANY or a range against a constant or `$n`, and the columns grouped
// together; two or more columns of one table make a group, and the same set
// from several statements is one group. Each group carries the probe its
// evidence will be measured with: the heaviest statement's own conditions
// on those columns, `$n` replaced by representative values (see the essay
// in ext_statistics.cc). Reads no database.
#include <algorithm>
#include <map>
#include <set>

#include "advisor/ext_statistics_internal.h"
#include "advisor/parameters.h"

namespace pgvise {

namespace {

using extstats::Join;

constexpr size_t kMaxStatisticsColumns = 8;  // PostgreSQL's STATS_MAX_DIMENSIONS

// A predicate the extended statistics can sharpen: equality, IN, = ANY or a
// range, on a plain column, ANDed with the rest of the clause.
bool UsableFilter(const Predicate& p) {
  if (p.under_or || p.negated || !p.expression.empty() || p.column.empty()) return false;
  if (p.clause != Clause::kWhere && p.clause != Clause::kJoinOn) return false;
  switch (p.kind) {
    case PredicateKind::kEquality:
    case PredicateKind::kInList:
    case PredicateKind::kAnyArray:
    case PredicateKind::kRange:
      break;
    default:
      return false;
  }
  if (p.value_kind == ValueKind::kConstant || p.value_kind == ValueKind::kParameter) return true;
  return p.kind == PredicateKind::kRange && p.value_kind == ValueKind::kExpression &&
         !p.constants.empty();
}

bool ParamNumber(const std::string& t, size_t* n) {
  if (t.size() < 2 || t[0] != '$') return false;
  size_t v = 0;
  for (size_t i = 1; i < t.size(); ++i) {
    if (t[i] < '0' || t[i] > '9') return false;
    v = v * 10 + static_cast<size_t>(t[i] - '0');
  }
  *n = v;
  return v > 0;
}

// One predicate as SQL on the bare table, `$n` replaced from `set`; false
// when a value is missing (no set, or NULL: `= NULL` matches nothing).
bool RenderPredicate(const Predicate& p, const std::string& column, const ParamSet* set,
                     std::string* out) {
  std::vector<std::string> v;
  for (const auto& c : p.constants) {
    size_t n = 0;
    if (ParamNumber(c, &n)) {
      if (!set || n > set->values.size() || !set->values[n - 1]) return false;
      v.push_back(QuoteLiteral(*set->values[n - 1]));
    } else {
      v.push_back(c);
    }
  }
  if (v.empty()) return false;
  const std::string col = QuoteIdent(column);
  switch (p.kind) {
    case PredicateKind::kEquality:
      *out = col + " = " + v[0];
      return true;
    case PredicateKind::kInList:
      *out = col + " IN (" + Join(v) + ")";
      return true;
    case PredicateKind::kAnyArray:
      *out = v.size() == 1 && p.value_kind == ValueKind::kParameter ? col + " = ANY (" + v[0] + ")"
                                                                    : col + " IN (" + Join(v) + ")";
      return true;
    case PredicateKind::kRange:
      if (p.op == "BETWEEN") {
        if (v.size() != 2) return false;
        *out = col + " BETWEEN " + v[0] + " AND " + v[1];
      } else {
        *out = col + " " + p.op + " " + v[0];
      }
      return true;
    default:
      return false;
  }
}

// The predicates and group keys of one query level.
struct Level {
  const std::vector<RelationRef>* relations;
  const std::vector<Predicate>* predicates;
  const std::vector<SortKey>* group_by;  // null in a subquery (QueryFacts keeps the outer one)
};

struct Builder {
  const Catalog& catalog;
  const Workload& workload;
  const ParameterOptions& params;
  std::map<std::string, ColumnGroup> groups;  // key: schema.table|col,col
  std::map<int, std::optional<ParamSet>> sets;

  // The most frequent value set of statement s (nullopt: it has no `$n`, or none derived).
  const ParamSet* SetFor(int s) {
    auto it = sets.find(s);
    if (it == sets.end()) {
      std::optional<ParamSet> best;
      const WorkloadStatement& ws = workload.statements[static_cast<size_t>(s)];
      if (ws.has_params) {
        StatementParams sp = DeriveParameters(ws, catalog, workload.qual_constants, params);
        for (const auto& set : sp.sets)
          if (!best || set.weight > best->weight) best = set;
      }
      it = sets.emplace(s, std::move(best)).first;
    }
    return it->second ? &*it->second : nullptr;
  }

  // Sorts catalogued column names by attnum and caps them at 8.
  static std::vector<std::string> Ordered(const TableInfo& t, std::set<std::string> cols) {
    std::vector<std::pair<int, std::string>> v;
    for (const auto& c : cols)
      if (const ColumnInfo* ci = t.Column(c)) v.push_back({ci->attnum, ci->name});
    std::sort(v.begin(), v.end());
    std::vector<std::string> out;
    for (const auto& [n, name] : v)
      if (out.size() < kMaxStatisticsColumns) out.push_back(name);
    return out;
  }

  ColumnGroup& Group(const TableInfo& t, const std::vector<std::string>& cols) {
    const std::string key = t.QualifiedName() + "|" + Join(cols, ",");
    auto [it, inserted] = groups.try_emplace(key);
    if (inserted) {
      it->second.schema = t.schema;
      it->second.table = t.name;
      it->second.columns = cols;
    }
    return it->second;
  }

  static void AddStatement(ColumnGroup& g, int s, double calls) {
    if (std::find(g.statements.begin(), g.statements.end(), s) != g.statements.end()) return;
    g.statements.push_back(s);
    g.calls += calls;
  }

  void Visit(int s, const Level& lv, bool single_relation) {
    const WorkloadStatement& ws = workload.statements[static_cast<size_t>(s)];
    for (const auto& rel : *lv.relations) {
      if (rel.is_cte) continue;
      const TableInfo* t = catalog.FindTable(rel.QualifiedName());
      if (!t) continue;
      // Filters: column -> its usable predicates.
      std::map<std::string, std::vector<const Predicate*>> by_col;
      bool equality = false, range = false;
      for (const auto& p : *lv.predicates) {
        if (p.relation != rel.alias || !UsableFilter(p)) continue;
        const ColumnInfo* ci = t->Column(p.column);
        if (!ci) continue;
        by_col[ci->name].push_back(&p);
        if (p.kind == PredicateKind::kRange)
          range = true;
        else
          equality = true;
      }
      if (by_col.size() >= 2) {
        std::set<std::string> names;
        for (const auto& [c, ps] : by_col) names.insert(c);
        std::vector<std::string> cols = Ordered(*t, names);
        ColumnGroup& g = Group(*t, cols);
        g.filter = true;
        g.equality |= equality;
        g.has_range |= range;
        AddStatement(g, s, ws.calls);
        // The probe from the heaviest statement that yields values for all.
        const bool heavier =
            g.probe_statement < 0 ||
            ws.calls > workload.statements[static_cast<size_t>(g.probe_statement)].calls;
        if (heavier) {
          const ParamSet* set = SetFor(s);
          std::vector<std::string> per_column;
          bool ok = true;
          for (const auto& c : cols) {
            std::vector<std::string> terms;
            // `col = $n`: the value comes from the data (FillFromData), so
            // that the columns' values are a combination that exists.
            const auto& ps = by_col[c];
            if (ps.size() == 1 && ps[0]->kind == PredicateKind::kEquality &&
                ps[0]->value_kind == ValueKind::kParameter) {
              per_column.push_back("");
              continue;
            }
            for (const Predicate* p : ps) {
              std::string term;
              if (!RenderPredicate(*p, c, set, &term)) {
                ok = false;
                break;
              }
              terms.push_back(term);
            }
            if (!ok) break;
            per_column.push_back(Join(terms, " AND "));
          }
          if (ok) {
            const bool complete =
                std::none_of(per_column.begin(), per_column.end(),
                             [](const std::string& term) { return term.empty(); });
            g.probe = complete ? Join(per_column, " AND ") : "";
            g.probe_terms = per_column;
            g.probe_statement = s;
          }
        }
      }
      // GROUP BY columns of this relation.
      if (!lv.group_by) continue;
      std::set<std::string> keys;
      for (const auto& sk : *lv.group_by) {
        if (sk.column.empty() || !sk.expression.empty()) continue;
        if (sk.relation != rel.alias && !(sk.relation.empty() && single_relation)) continue;
        if (const ColumnInfo* ci = t->Column(sk.column)) keys.insert(ci->name);
      }
      if (keys.size() >= 2) {
        ColumnGroup& g = Group(*t, Ordered(*t, keys));
        g.group_by = true;
        AddStatement(g, s, ws.calls);
      }
    }
  }
};

}  // namespace

std::string StatisticsKinds(const ColumnGroup& g) {
  std::vector<std::string> k;
  if (g.group_by) k.push_back("ndistinct");
  if (g.filter && g.equality) k.push_back("dependencies");
  if (g.filter && (g.mcv_fits || !g.equality || g.has_range)) k.push_back("mcv");
  return Join(k);
}

std::vector<ColumnGroup> FindColumnGroups(const Catalog& catalog, const Workload& workload,
                                          const ParameterOptions& params) {
  Builder b{catalog, workload, params, {}, {}};
  for (size_t s = 0; s < workload.statements.size(); ++s) {
    const QueryFacts& f = workload.statements[s].facts;
    b.Visit(static_cast<int>(s), {&f.relations, &f.predicates, &f.group_by},
            f.relations.size() == 1);
    for (const auto& sq : f.subqueries)
      b.Visit(static_cast<int>(s), {&sq.relations, &sq.predicates, nullptr}, false);
  }
  std::vector<ColumnGroup> out;
  for (auto& [key, g] : b.groups) out.push_back(std::move(g));
  std::stable_sort(out.begin(), out.end(),
                   [](const ColumnGroup& a, const ColumnGroup& b) { return a.calls > b.calls; });
  return out;
}

}  // namespace pgvise
