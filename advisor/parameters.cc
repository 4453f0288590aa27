// Representative parameter values for `$n` statements.
//
// Why. pg_stat_statements hands the workload over as `WHERE tenant_id = $1
// AND enqueued_at >= $2`. A generic plan costs that with the planner's
// default selectivities: `tenant_id = $1` matches rows/ndistinct whatever the
// tenant, `enqueued_at >= $2` a third of the table. The workload never runs
// with "unknown" values: $1 is a tenant owning 0.02% or 8% of the rows, $2 is
// usually last week. An index choice costed on generic plans optimises for a
// workload nobody runs (a range index looks worthless at 33%, a composite
// looks as good for the big tenant as for the small ones). So each `$n`
// statement is costed as the weighted mean of a handful of custom plans,
// one per representative parameter set.
//
// Where the values come from. Each parameter is attributed to the column it
// is compared with (QueryFacts predicates, subqueries included):
//   - equality / IN: pg_qualstats' constants for that column with their
//     occurrence counts when the extension recorded some (the values the
//     application really sent); else pg_stats: the most common values with
//     their frequencies, and for the rows the MCVs leave over one histogram
//     value (every non-MCV value gets the same estimate from the planner, so
//     one stands for all of them) carrying that remaining weight. How often
//     each value is *asked for* pg_stats does not say. Weighting by row
//     frequency alone assumes calls follow the rows — right for tenants
//     (the big tenant has the most users), wrong for a status column, where
//     the application polls the rare 'queued' and 'failed', not the 78%
//     'done'. So half the calls (ParameterOptions::row_weight) are taken
//     to follow the rows and half to spread evenly over the distinct values;
//     pg_qualstats, when installed, replaces the guess with the record;
//   - range (`>`, `>=`, `<`, `<=`, BETWEEN): histogram bounds (for a
//     numeric column of few values, quantiles of its MCVs), read as
//     "recent": `ts >= $1` starts at the bound leaving the newest 1% / 10%
//     of rows, a window `ts >= $1 AND ts < $2` is the newest slice up to the
//     last bound; `ts < $1` alone is read both ways from two strata on (a
//     cleanup's "older than the retention", the oldest 5%, and a stuck-job
//     scan's "older than a moment ago", all but the newest 5%);
//   - LIMIT $n gets ParameterOptions::limit (a page), OFFSET $n 0;
//   - a `$n` outside WHERE / ON / HAVING / LIMIT (an UPDATE's SET value, a
//     select-list value) does not change the plan's shape: it is sent NULL.
// A `$n` in a filter that can't be attributed (an expression, `<> $1`,
// LIKE $1, `= ANY($1)`, a column without statistics, a derived table's column
// that is not one table's column of the same name) leaves the statement on
// its generic plan, and the report says why.
//
// The sample. Parameters on the same column and kind form a group whose
// values are drawn together (a window's two bounds). Each group is split
// into k strata: an equality group's k-1 heaviest values each alone, the rest
// one stratum represented by the member whose row share is nearest the
// stratum's mean (for tenants "a typical non-MCV value"; for the rare states
// left after 'done', the rare one, not the 6% 'failed'); a range group into
// k slices of equal weight. The sets are
// the product of the groups' strata, weight = product of stratum weights
// (independence, as the planner assumes), so the weights sum to 1. The k are
// chosen so the product stays within max_sets: every group starts at 1
// stratum and the skewed equality groups (heaviest MCV first) get more,
// then ranges, while the product fits. The weighted mean over strata is an
// unbiased estimate of the expected cost when calls are spread like the
// rows (pg_stats) or like the recorded constants (pg_qualstats).
//
// Worked example. jobs(tenant_id, state, enqueued_at), 1M rows; tenant 1
// owns 8%, 2 and 3 own 1% each, the other 9,000 tenants share 90%.
//   SELECT * FROM jobs WHERE tenant_id = $1 AND enqueued_at >= $2
// $1: equality group, MCVs {1: .08, 2: .01, 3: .01}, rest .90 with a
// histogram value, say 4711 (row_weight 1 here, for round numbers). $2: range group (lower bound).
// max_sets 4: $1 gets 2 strata {1: .08, 4711: .92}, then $2 gets 2 {newest 1%, newest 10%: .5
// each}; 2 x 2 = 4 sets:
//   ($1=1,    $2=<99th pct>) .04    ($1=1,    $2=<90th pct>) .04
//   ($1=4711, $2=<99th pct>) .46    ($1=4711, $2=<90th pct>) .46
// Cost = sum of weight x custom-plan total cost. The generic plan would have
// costed tenant_id at 1/9,003 of the rows and the range at a third.
//
// What the server recorded corrects the weights. pg_stats says how the rows
// are spread, not which values the application asks for; the half-and-half
// mix above is a guess. pg_stat_statements records one thing that is no
// guess: the rows each statement returned or changed, per call. Once the
// baseline has planned every set (no new index), set i is known to return
// r_i rows, and the weights should make the mean sum w_i r_i equal the
// recorded rows per call R. Of all weightings that do, FitWeightsToRows
// takes the one that moves least from the derived weights p (least
// Kullback-Leibler divergence, the maximum-entropy answer): an exponential
// tilt, w_i = p_i exp(t x_i) / Z with x_i = (r_i - r_min) / (r_max - r_min),
// t found by bisection (the mean rises with t). An R outside [r_min, r_max]
// takes the nearest end (t bounded at +-50: all but all weight on the
// fewest- or most-rows sets). It is left alone when rows can't tell the
// sets apart: every r_i within 1.5x (a count(*) returns one row whatever
// the values); a LIMIT $n / OFFSET $n, costed with a page of our choosing
// (its rows say how big the application's page is, not which values it
// filters on); GROUP BY, DISTINCT, aggregates and set operations (their
// rows are groups, and the planner's group counts are guesses: on the
// bench, `state = $1 GROUP BY tenant_id` fitted its 6,250 groups a call
// to the rare states, though a sixth of its calls scan the 92% 'done');
// and pg_qualstats' constants are already a record.
//
// Worked example. `SELECT id FROM jobs WHERE state = $1`, 1M rows, 'done'
// owns 92%: the sets are state = 'done' (weight .6, planned 920,000 rows)
// and state = 'queued' standing for the rest (.4, 10,000 rows). Their mean,
// 556,000 rows a call, is what the guess implies; pg_stat_statements says
// 100,000. With two sets the record alone fixes the weights: w_done x
// 920,000 + (1 - w_done) x 10,000 = 100,000, w_done = .099, w_queued = .901.
// The statement is now costed mostly as the poll for rare states it is, and
// an index on (state) that the guess found worth little is worth a lot.
// With more sets than one equation can pin, the tilt keeps their relative
// weights where the record says nothing: sets of equal rows keep their
// ratio.
//
// Refused: anything where a made-up value could mislead, listed above; and
// values are only ever sent as EXECUTE arguments (quoted literals typed by
// the prepared statement), never spliced into the SQL text.
#include "advisor/parameters.h"

#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "analyzer/plan/explain_runner.h"
#include "analyzer/sql/statement.h"
#include "core/report.h"

namespace pgvise {

namespace {

enum class Place { kOther, kFilter, kLimit, kOffset };

// Where each $n appears, from the parse tree: a filter (WHERE, ON, HAVING),
// LIMIT, OFFSET, or elsewhere (SET values, the select list).
void WalkParams(simdjson::dom::element e, Place place, std::map<int, std::vector<Place>>* out) {
  simdjson::dom::array arr;
  if (e.get_array().get(arr) == simdjson::SUCCESS) {
    for (simdjson::dom::element c : arr) WalkParams(c, place, out);
    return;
  }
  simdjson::dom::object obj;
  if (e.get_object().get(obj) != simdjson::SUCCESS) return;
  for (auto field : obj) {
    if (field.key == "ParamRef") {
      int64_t n = 0;
      if (field.value["number"].get_int64().get(n) == simdjson::SUCCESS && n > 0)
        (*out)[static_cast<int>(n)].push_back(place);
      continue;
    }
    Place next = place;
    if (field.key == "whereClause" || field.key == "havingClause" || field.key == "quals")
      next = Place::kFilter;
    else if (field.key == "limitCount")
      next = Place::kLimit;
    else if (field.key == "limitOffset")
      next = Place::kOffset;
    WalkParams(field.value, next, out);
  }
}

Status ParamPlaces(const std::string& sql, std::map<int, std::vector<Place>>* out) {
  std::string json;
  size_t pos = 0;
  Status st = ParseSqlToJson(sql, &json, &pos);
  if (!st.ok()) return st;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json).get(doc) != simdjson::SUCCESS)
    return Status::Internal("cannot read libpg_query parse tree");
  WalkParams(doc, Place::kOther, out);
  return Status::Ok();
}

// "$3" -> 3; anything else 0.
int ParamNumber(const std::string& text) {
  if (text.size() < 2 || text[0] != '$') return 0;
  for (size_t i = 1; i < text.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return 0;
  return std::atoi(text.c_str() + 1);
}

std::string Pct(double f) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100 * f);
  return buf;
}

// pg_qualstats prints constants as typed literals: 'open'::text -> open,
// 42::integer -> 42 (EXECUTE wants the bare text; the prepared statement
// types it).
std::string LiteralText(const std::string& v) {
  if (!v.empty() && v.front() == '\'') {
    std::string out;
    for (size_t i = 1; i < v.size(); ++i) {
      if (v[i] == '\'') {
        if (i + 1 < v.size() && v[i + 1] == '\'') {
          out += '\'';
          ++i;
          continue;
        }
        return out;  // the closing quote; a cast may follow
      }
      out += v[i];
    }
    return out;
  }
  return v.substr(0, v.find("::"));
}

// 101 equal-frequency bounds of a numeric column's MCV distribution.
std::vector<std::string> QuantilesFromMcvs(const ColumnInfo& col) {
  std::vector<std::pair<double, size_t>> v;  // numeric value, index
  double total = 0;
  for (size_t i = 0; i < col.most_common_vals.size() && i < col.most_common_freqs.size(); ++i) {
    char* end = nullptr;
    const double x = std::strtod(col.most_common_vals[i].c_str(), &end);
    if (end == col.most_common_vals[i].c_str() || *end != '\0') return {};
    v.push_back({x, i});
    total += col.most_common_freqs[i];
  }
  if (v.size() < 2 || total <= 0) return {};
  std::sort(v.begin(), v.end());
  std::vector<std::string> out;
  for (int q = 0; q <= 100; ++q) {
    double cum = 0;
    for (const auto& [x, i] : v) {
      cum += col.most_common_freqs[i] / total;
      if (cum + 1e-12 >= q / 100.0) {
        out.push_back(col.most_common_vals[i]);
        break;
      }
    }
    if (static_cast<int>(out.size()) <= q) out.push_back(col.most_common_vals[v.back().second]);
  }
  return out;
}

struct Stratum {
  std::map<int, std::string> values;  // $n -> value
  double weight = 0;
  std::string label;
};

// The parameters compared with one column in one way, drawn together.
struct Group {
  std::string column;  // table.column for labels
  bool range = false;
  std::vector<int> eq, lower, upper;  // parameter numbers
  // Equality: candidate values, heaviest first, and the rest's stand-in.
  std::vector<std::pair<std::string, double>> values;
  std::string rest_value;
  double rest_weight = 0;
  // pg_stats: each value's share of the rows (and a non-MCV value's), to
  // pick the rest stratum's stand-in; empty for pg_qualstats.
  std::map<std::string, double> freq;
  double rest_freq = 0;
  std::vector<std::string> bounds;  // range: histogram bounds
  std::string source;
  double priority = 0;  // higher gets strata first

  // A value stands alone only when it carries at least 1% of the calls: the
  // thousandth tenant's plan is the typical tenant's plan.
  int MaxStrata() const {
    if (range) return 4;
    int heavy = 0;
    for (const auto& v : values) heavy += v.second >= 0.01;
    const bool rest = rest_weight > 0 || heavy < static_cast<int>(values.size());
    return heavy + (rest ? 1 : 0);
  }

  std::vector<Stratum> Strata(int k) const {
    std::vector<Stratum> out;
    if (range) {
      const size_t ki = static_cast<size_t>(std::clamp(k, 1, 4) - 1);
      const double n = static_cast<double>(bounds.size() - 1);
      auto at = [&](double q) {
        return bounds[static_cast<size_t>(std::lround(std::clamp(q, 0.0, 1.0) * n))];
      };
      if (!lower.empty()) {  // `ts >= $1`, a window: the newest slice
        static const std::vector<std::vector<double>> kNewest = {
            {0.05}, {0.01, 0.1}, {0.01, 0.05, 0.25}, {0.01, 0.05, 0.1, 0.25}};
        for (double f : kNewest[ki]) {
          Stratum s;
          s.weight = 1.0 / static_cast<double>(kNewest[ki].size());
          for (int p : lower) s.values[p] = at(1 - f);
          for (int p : upper) s.values[p] = bounds.back();
          s.label = column + " newest " + Pct(f);
          out.push_back(std::move(s));
        }
        return out;
      }
      // `ts < $1` alone is as often "older than a moment ago" (stuck jobs:
      // state = 'running' AND started_at < now() - 1 hour: most rows) as
      // "older than the retention" (a cleanup: the oldest few). From two
      // strata on, half read it each way: the oldest f of the rows, or all
      // but the newest f. Read only as the oldest, bench/advise_bench part 3
      // chose at 194 MB a set under which its stuck-jobs query judged 7.7x
      // what the generic plan's choice gave it (0.027 against 0.019).
      struct Cut {
        double f;
        bool recent;  // all but the newest f, not the oldest f
      };
      static const std::vector<std::vector<Cut>> kOlder = {
          {{0.05, false}},
          {{0.05, false}, {0.05, true}},
          {{0.01, false}, {0.1, false}, {0.05, true}},
          {{0.01, false}, {0.1, false}, {0.01, true}, {0.1, true}}};
      for (const Cut& c : kOlder[ki]) {
        Stratum s;
        s.weight = 1.0 / static_cast<double>(kOlder[ki].size());
        for (int p : upper) s.values[p] = at(c.recent ? 1 - c.f : c.f);
        s.label = column + (c.recent ? " all but the newest " : " oldest ") + Pct(c.f);
        out.push_back(std::move(s));
      }
      return out;
    }
    // Equality: the k-1 heaviest alone, the rest as one stratum.
    const size_t alone = std::min(values.size(), static_cast<size_t>(std::max(k - 1, 0)));
    for (size_t i = 0; i < alone; ++i) {
      Stratum s;
      for (int p : eq) s.values[p] = values[i].first;
      s.weight = values[i].second;
      s.label = column + " = " + values[i].first + " (" + Pct(values[i].second) + ")";
      out.push_back(std::move(s));
    }
    // The rest's stand-in: the member whose row share is nearest the
    // stratum's call-weighted mean share (costs grow with the rows a value
    // matches, so this is the member whose plan is nearest the stratum's
    // typical plan); without row shares (pg_qualstats), the heaviest.
    double rest = rest_weight, mean = rest_weight * rest_freq;
    for (size_t i = alone; i < values.size(); ++i) {
      rest += values[i].second;
      if (auto it = freq.find(values[i].first); it != freq.end())
        mean += values[i].second * it->second;
    }
    if (rest > 0) mean /= rest;
    std::string stand_in = rest_weight > 0 ? rest_value : "";
    double best = rest_weight > 0 ? std::fabs(rest_freq - mean) : 0;
    double heaviest = rest_weight;
    for (size_t i = alone; i < values.size(); ++i) {
      if (!freq.empty()) {
        const double d = std::fabs(freq.at(values[i].first) - mean);
        if (stand_in.empty() || d < best) best = d, stand_in = values[i].first;
      } else if (values[i].second > heaviest || stand_in.empty()) {
        heaviest = values[i].second;
        stand_in = values[i].first;
      }
    }
    if (rest > 0 && !stand_in.empty()) {
      Stratum s;
      for (int p : eq) s.values[p] = stand_in;
      s.weight = rest;
      s.label = column + " = " + stand_in + " (standing for " + Pct(rest) + ")";
      out.push_back(std::move(s));
    }
    return out;
  }
};

// A filter on a CTE's or derived table's column (`WITH recent AS (SELECT
// tenant_id FROM jobs ...) ... WHERE tenant_id = $2`): the table it reads
// when it reads one table that has a column of that name (a renamed column
// is not followed: no values rather than another column's).
const TableInfo* ThroughDerived(const QueryFacts& f, const Catalog& catalog,
                                const std::string& relation, const std::string& column) {
  for (const auto& sq : f.subqueries) {
    if (sq.alias.empty() || sq.alias != relation) continue;
    const TableInfo* found = nullptr;
    int tables = 0;
    for (const auto& r : sq.relations) {
      if (r.is_cte) continue;
      ++tables;
      found = catalog.FindTable(r.QualifiedName());
    }
    if (tables == 1 && found && found->Column(column)) return found;
  }
  return nullptr;
}

}  // namespace

std::string StatementParams::Describe() const {
  if (custom())
    return "custom plans over " + std::to_string(sets.size()) + " value set" +
           (sets.size() == 1 ? "" : "s") + " from " + source +
           (fitted.empty() ? "" : ", weights " + fitted);
  if (params == 0) return "plan with the statement's own values";
  return "generic plan" + (generic_reason.empty() ? "" : " (" + generic_reason + ")");
}

StatementParams DeriveParameters(const WorkloadStatement& ws, const Catalog& catalog,
                                 const std::vector<QualConstant>& qual_constants,
                                 const ParameterOptions& o) {
  StatementParams out;
  if (!CountParams(ws.sql, &out.params).ok() || out.params == 0) return out;
  std::map<int, std::vector<Place>> places;
  if (!ParamPlaces(ws.sql, &places).ok()) {
    out.generic_reason = "parameters could not be located";
    return out;
  }

  // Attribute filter parameters to groups (table.column, kind).
  std::map<std::string, Group> groups;
  std::map<int, std::string> why_not;  // $n -> reason it has no value
  auto attribute = [&](const Predicate& p) {
    std::vector<int> params;
    if (p.param > 0) params.push_back(p.param);
    for (const auto& c : p.constants)
      if (int n = ParamNumber(c);
          n > 0 && std::find(params.begin(), params.end(), n) == params.end())
        params.push_back(n);
    if (params.empty()) return;
    auto refuse = [&](const std::string& why) {
      for (int n : params)
        if (!why_not.count(n)) why_not[n] = why;
    };
    const bool eq = (p.kind == PredicateKind::kEquality && p.op == "=") ||
                    (p.kind == PredicateKind::kInList && p.value_kind == ValueKind::kParameter);
    const bool range = p.kind == PredicateKind::kRange;
    if (!eq && !range) return refuse("$" + std::to_string(params[0]) + " in `" + p.op + "`");
    if (!p.expression.empty())
      return refuse("$" + std::to_string(params[0]) + " compared with an expression");
    const TableInfo* t = catalog.FindTable(p.table);
    if (!t) t = ThroughDerived(ws.facts, catalog, p.table, p.column);
    const ColumnInfo* col = t ? t->Column(p.column) : nullptr;
    if (!col) return refuse("$" + std::to_string(params[0]) + ": column not in the catalog");
    const std::string name = t->name + "." + p.column;
    Group& g = groups[name + (range ? "/range" : "/eq")];
    g.column = p.column;
    g.range = range;
    if (eq) {
      for (int n : params)
        if (std::find(g.eq.begin(), g.eq.end(), n) == g.eq.end()) g.eq.push_back(n);
    } else if (p.op == "BETWEEN" && p.constants.size() == 2) {
      if (int n = ParamNumber(p.constants[0])) g.lower.push_back(n);
      if (int n = ParamNumber(p.constants[1])) g.upper.push_back(n);
    } else if (p.op == ">" || p.op == ">=") {
      g.lower.push_back(params[0]);
    } else if (p.op == "<" || p.op == "<=") {
      g.upper.push_back(params[0]);
    } else {
      return refuse("$" + std::to_string(params[0]) + " in `" + p.op + "`");
    }
    if (!g.source.empty()) return;  // values already read for this group
    if (range) {
      g.bounds = col->histogram_bounds;
      // A numeric column of few values (priority 0..9) has MCVs and no
      // histogram: read its quantiles from the MCVs, in numeric order.
      if (g.bounds.size() < 2 && col->type_category == 'N' && col->most_common_vals.size() >= 2)
        g.bounds = QuantilesFromMcvs(*col);
      if (g.bounds.size() < 2) {
        groups.erase(name + "/range");
        return refuse("$" + std::to_string(params[0]) + ": " + name + " has no histogram");
      }
      g.source = "pg_stats";
      g.priority = 1;
      return;
    }
    // Equality: pg_qualstats' constants when it recorded some for the column.
    double total = 0;
    for (const auto& q : qual_constants)
      if (q.op == "=" && q.schema == t->schema && q.table == t->name && q.column == p.column &&
          q.occurrences > 0) {
        g.values.push_back({LiteralText(q.value), q.occurrences});
        total += q.occurrences;
      }
    if (!g.values.empty()) {
      for (auto& v : g.values) v.second /= total;
      g.source = "pg_qualstats";
    } else {
      const double non_null = std::max(0.0, 1.0 - col->null_frac);
      double mcv = 0;
      for (size_t i = 0; i < col->most_common_vals.size() && i < col->most_common_freqs.size();
           ++i) {
        g.values.push_back({col->most_common_vals[i], col->most_common_freqs[i]});
        mcv += col->most_common_freqs[i];
      }
      if (!col->histogram_bounds.empty() && non_null - mcv > 1e-9) {
        g.rest_value = col->histogram_bounds[col->histogram_bounds.size() / 2];
        g.rest_weight = non_null - mcv;
      }
      if (g.values.empty() && g.rest_weight <= 0) {
        groups.erase(name + "/eq");
        return refuse("$" + std::to_string(params[0]) + ": " + name +
                      " has no statistics (ANALYZE it)");
      }
      // Normalise over the non-null rows: `= $1` never matches NULL. Then
      // mix with an even spread over the distinct values (see the essay):
      // a share row_weight of the calls follows the rows, the rest asks
      // for each distinct value equally.
      const double sum = mcv + g.rest_weight;
      const double nd =
          std::max(col->DistinctValues(t->Rows()), static_cast<double>(g.values.size()));
      const double rw = std::clamp(o.row_weight, 0.0, 1.0);
      for (auto& v : g.values) {
        g.freq[v.first] = v.second / sum;
        v.second = rw * v.second / sum + (1 - rw) / nd;
      }
      g.rest_freq = g.rest_weight / sum / std::max(nd - static_cast<double>(g.values.size()), 1.0);
      if (g.rest_weight > 0)
        g.rest_weight =
            rw * g.rest_weight / sum + (1 - rw) * (nd - static_cast<double>(g.values.size())) / nd;
      g.source = "pg_stats";
    }
    std::stable_sort(g.values.begin(), g.values.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    // A skewed column gains most from more strata: its heaviest value first.
    g.priority = 2 + (g.values.empty() ? 0 : g.values[0].second);
  };
  for (const auto& p : ws.facts.predicates) attribute(p);
  for (const auto& sq : ws.facts.subqueries)
    for (const auto& p : sq.predicates) attribute(p);

  // Every filter parameter needs a value; the others get theirs by place.
  std::map<int, std::string> fixed;  // $n -> value for LIMIT / OFFSET
  std::vector<int> nulls;
  for (int n = 1; n <= out.params; ++n) {
    bool grouped = false;
    for (const auto& [k, g] : groups)
      for (const auto* v : {&g.eq, &g.lower, &g.upper})
        grouped |= std::find(v->begin(), v->end(), n) != v->end();
    const auto& pl = places[n];
    auto has = [&](Place x) { return std::find(pl.begin(), pl.end(), x) != pl.end(); };
    if (grouped) continue;
    if (has(Place::kFilter)) {
      out.generic_reason = why_not.count(n) ? "no value for " + why_not[n]
                                            : "no value for $" + std::to_string(n) +
                                                  " (not a plain column comparison)";
      return out;
    }
    if (has(Place::kLimit))
      fixed[n] = o.limit;
    else if (has(Place::kOffset))
      fixed[n] = o.offset;
    else
      nulls.push_back(n);
    out.rows_not_matched |= has(Place::kLimit) || has(Place::kOffset);
  }

  const QueryFacts& f = ws.facts;
  out.rows_not_matched |=
      !f.group_by.empty() || f.distinct || f.has_aggregate || f.set_operation || f.has_having;

  // Strata per group: one each, then more for the skewed ones while the
  // product fits in max_sets.
  std::vector<Group*> order;
  for (auto& [k, g] : groups) order.push_back(&g);
  std::stable_sort(order.begin(), order.end(),
                   [](const Group* a, const Group* b) { return a->priority > b->priority; });
  std::map<const Group*, int> k;
  for (const Group* g : order) k[g] = 1;
  for (bool grew = true; grew;) {
    grew = false;
    for (const Group* g : order) {
      int product = 1;
      for (const auto& [x, n] : k) product *= (x == g ? n + 1 : n);
      if (k[g] < g->MaxStrata() && product <= o.max_sets) {
        ++k[g];
        grew = true;
      }
    }
  }

  // The product of the groups' strata.
  std::vector<Stratum> sets = {Stratum{{}, 1.0, ""}};
  std::vector<std::string> sources;
  for (const Group* g : order) {
    std::vector<Stratum> next;
    for (const Stratum& a : sets)
      for (const Stratum& b : g->Strata(k[g])) {
        Stratum c = a;
        c.values.insert(b.values.begin(), b.values.end());
        c.weight *= b.weight;
        c.label += (c.label.empty() ? "" : "; ") + b.label;
        next.push_back(std::move(c));
      }
    sets = std::move(next);
    if (std::find(sources.begin(), sources.end(), g->source) == sources.end())
      sources.push_back(g->source);
  }
  if (sources.empty()) sources.push_back("LIMIT/OFFSET defaults");
  double total = 0;
  for (const auto& s : sets) total += s.weight;
  for (const auto& s : sets) {
    if (s.weight <= 0) continue;
    ParamSet ps;
    ps.values.assign(static_cast<size_t>(out.params), std::nullopt);
    for (const auto& [n, v] : s.values) ps.values[static_cast<size_t>(n - 1)] = v;
    for (const auto& [n, v] : fixed) ps.values[static_cast<size_t>(n - 1)] = v;
    ps.weight = s.weight / total;
    ps.label = s.label;
    out.sets.push_back(std::move(ps));
  }
  out.source = sources[0];
  for (size_t i = 1; i < sources.size(); ++i) out.source += " + " + sources[i];
  return out;
}

bool FitWeightsToRows(const std::vector<double>& set_rows, double recorded_rows,
                      StatementParams* params) {
  std::vector<ParamSet>& sets = params->sets;
  const size_t n = sets.size();
  if (n < 2 || set_rows.size() != n || recorded_rows <= 0 || params->rows_not_matched ||
      params->source == "pg_qualstats")
    return false;
  std::vector<double> r(n);
  for (size_t i = 0; i < n; ++i) r[i] = std::max(set_rows[i], 1.0);  // the planner's floor
  const double lo = *std::min_element(r.begin(), r.end());
  const double hi = *std::max_element(r.begin(), r.end());
  if (hi < 1.5 * lo) return false;
  std::vector<double> x(n), p(n), w(n);
  double prior_rows = 0;
  for (size_t i = 0; i < n; ++i) {
    x[i] = (r[i] - lo) / (hi - lo);
    p[i] = sets[i].weight;
    prior_rows += p[i] * r[i];
  }
  // The tilt with parameter t, and its mean of x (increasing in t).
  auto tilt = [&](double t) {
    double z = 0, mean = 0;
    for (size_t i = 0; i < n; ++i) {
      w[i] = p[i] * std::exp(t * x[i]);
      z += w[i];
    }
    for (size_t i = 0; i < n; ++i) {
      w[i] /= z;
      mean += w[i] * x[i];
    }
    return mean;
  };
  const double target = (std::clamp(recorded_rows, lo, hi) - lo) / (hi - lo);
  double a = -50, b = 50;
  if (tilt(a) >= target) {
    b = a;
  } else if (tilt(b) <= target) {
    a = b;
  } else {
    for (int it = 0; it < 100; ++it) {
      const double mid = (a + b) / 2;
      (tilt(mid) < target ? a : b) = mid;
    }
  }
  tilt((a + b) / 2);
  double moved = 0;
  for (size_t i = 0; i < n; ++i) moved = std::max(moved, std::fabs(w[i] - p[i]));
  if (moved < 0.02) return false;
  for (size_t i = 0; i < n; ++i) sets[i].weight = w[i];
  params->fitted = "fitted to " + Thousands(recorded_rows) +
                   " rows per call recorded (the derived weights implied " + Thousands(prior_rows) +
                   ")";
  return true;
}

Status ExplainCustomPlans(Session& s, const std::string& sql, const std::vector<ParamSet>& sets,
                          std::vector<std::string>* plans) {
  std::vector<ExplainJob> jobs(1);
  jobs[0] = CustomPlansJob(sql, -1, sets);
  Status st = ExplainBatch(s, ExplainOptions{}, &jobs);
  if (!st.ok()) return st;
  if (!jobs[0].status.ok()) {
    s.set_last_sqlstate(jobs[0].sqlstate);
    return jobs[0].status;
  }
  *plans = std::move(jobs[0].plans);
  return Status::Ok();
}

ExplainJob CustomPlansJob(const std::string& sql, int params, const std::vector<ParamSet>& sets) {
  ExplainJob job;
  job.sql = sql;
  job.params = params;
  for (const auto& set : sets) job.value_sets.push_back(set.values);
  return job;
}

}  // namespace pgvise
