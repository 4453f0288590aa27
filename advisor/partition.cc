// The partition advisor's RunAdvisor step and its report section.
//
// For each table the workload reads: the candidate (partition_candidates.cc),
// the interval (partition_interval.cc), then the evidence, read only:
//   - every statement touching the table is planned as the database is now
//     (custom plans over its representative values when it has `$n`);
//   - its key predicates' values (constants, expressions such as
//     `now() - interval '7 days'` evaluated by the server, or the
//     representative values) give the key range it asks for, hence the
//     partitions that survive pruning (Prune);
//   - the estimate after (CostAfterPruning, partition_cost.cc): each Seq
//     Scan of the table in its plan costs the share of the rows its
//     surviving partitions hold (from the key's histogram); each index scan
//     pays one descent per surviving partition, and scales by that share
//     only when the key is not in its index condition. This is an estimate,
//     named so in the report; --verify measures it.
//   - a retention DELETE (`DELETE ... WHERE ts < x`) becomes DETACH
//     PARTITION CONCURRENTLY + DROP TABLE: catalog work, no dead tuples, no
//     vacuum; its cost after is 0 and the rows it no longer deletes are said.
// Then the migration (partition_sql.cc). Nothing here writes. The report
// section is partition_report.cc.
#include "advisor/partition.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "advisor/parameters.h"
#include "advisor/partition_internal.h"
#include "advisor/whatif.h"
#include "analyzer/plan/explain_runner.h"
#include "analyzer/plan/plan.h"
#include "core/source.h"
#include "core/sql_text.h"

namespace pgvise {

namespace {

std::string HumanSize(int64_t b) {
  double v = static_cast<double>(b);
  const char* u[] = {"B", "kB", "MB", "GB", "TB"};
  int i = 0;
  while (v >= 1024 && i < 4) v /= 1024, ++i;
  return Fmt(v, i == 0 ? 0 : 1) + " " + u[i];
}

// The key's type cast applied to a value expression, as epoch seconds (time)
// or a number.
std::string ToNumberSql(const std::string& expr, const std::string& type, bool time) {
  return time ? "extract(epoch FROM (" + expr + ")::" + type + ")::float8"
              : "((" + expr + ")::" + type + ")::float8";
}

// Evaluates one value expression to a number on the server, read only.
std::optional<double> Evaluate(Session& s, const std::string& expr, const std::string& type,
                               bool time) {
  Rows r;
  if (!s.QueryRolledBack("SELECT " + ToNumberSql(expr, type, time), &r).ok() || r.empty() ||
      r.IsNull(0, 0))
    return std::nullopt;
  return r.Double(0, 0);
}

// The key range one plan of a statement asks for.
struct KeyRange {
  std::optional<double> lo, hi;
  bool any = false;  // a key predicate was found
};

KeyRange RangeOf(Session& s, const WorkloadStatement& ws, const TableInfo& t,
                 const std::string& key, const std::string& type, bool time, const ParamSet* set,
                 std::map<std::string, std::optional<double>>* memo) {
  KeyRange kr;
  auto value = [&](const Predicate& p, size_t i) -> std::optional<double> {
    std::string expr;
    if (p.value_kind == ValueKind::kParameter) {
      if (!set || p.param <= 0 || static_cast<size_t>(p.param) > set->values.size() ||
          !set->values[static_cast<size_t>(p.param - 1)])
        return std::nullopt;
      expr = QuoteLiteral(*set->values[static_cast<size_t>(p.param - 1)]);
    } else if (i < p.constants.size()) {
      expr = p.constants[i];
    } else {
      return std::nullopt;
    }
    auto it = memo->find(expr);
    if (it != memo->end()) return it->second;
    auto v = Evaluate(s, expr, type, time);
    (*memo)[expr] = v;
    return v;
  };
  constexpr double kEps = 1e-6;
  auto level = [&](const std::vector<RelationRef>& rels, const std::vector<Predicate>& preds) {
    for (const auto& rel : rels) {
      if (rel.is_cte) continue;
      // Same table by name (the catalog resolved it in GroupByTable).
      if (rel.name != t.name || (!rel.schema.empty() && rel.schema != t.schema)) continue;
      for (const auto& p : preds) {
        if (p.relation != rel.alias || p.column != key || !p.expression.empty() || p.under_or ||
            p.negated || p.clause != Clause::kWhere)
          continue;
        if (p.value_kind == ValueKind::kColumn || p.value_kind == ValueKind::kSubquery) continue;
        auto lower = [&](std::optional<double> v) {
          if (v && (!kr.lo || *v > *kr.lo)) kr.lo = v;
        };
        auto upper = [&](std::optional<double> v) {
          if (v && (!kr.hi || *v < *kr.hi)) kr.hi = v;
        };
        if (p.op == "BETWEEN") {
          lower(value(p, 0));
          auto h = value(p, 1);
          if (h) upper(*h + kEps);
          kr.any = true;
        } else if (p.op == ">" || p.op == ">=") {
          lower(value(p, 0));
          kr.any = true;
        } else if (p.op == "<") {
          upper(value(p, 0));
          kr.any = true;
        } else if (p.op == "<=") {
          auto h = value(p, 0);
          if (h) upper(*h + kEps);
          kr.any = true;
        } else if (p.kind == PredicateKind::kEquality && p.constants.size() <= 1) {
          auto v = value(p, 0);
          if (v) {
            lower(v);
            upper(*v + kEps);
          }
          kr.any = true;
        }
      }
    }
  };
  level(ws.facts.relations, ws.facts.predicates);
  for (const auto& sq : ws.facts.subqueries) level(sq.relations, sq.predicates);
  return kr;
}

struct Planned {
  bool ok = false;
  std::string error;
  std::vector<double> weights;
  std::vector<Plan> plans;
  std::vector<const ParamSet*> sets;
};

Planned PlanStatement(Session& s, const WorkloadStatement& ws, const Catalog& catalog,
                      const Workload& w, const AdviseOptions& opts, StatementParams* params) {
  Planned out;
  *params = DeriveParameters(ws, catalog, w.qual_constants, opts.parameters);
  std::vector<std::string> texts;
  if (params->custom() && !opts.generic_plans) {
    Status st = ExplainCustomPlans(s, ws.sql, params->sets, &texts);
    if (st.ok()) {
      for (const auto& set : params->sets) {
        out.weights.push_back(set.weight);
        out.sets.push_back(&set);
      }
    } else {
      texts.clear();
    }
  }
  if (texts.empty()) {
    std::string j;
    Status st = ExplainStatement(s, ws.sql, {}, &j);
    if (!st.ok()) {
      out.error = st.message();
      return out;
    }
    texts.push_back(j);
    out.weights = {1.0};
    out.sets = {nullptr};
  }
  for (const auto& text : texts) {
    Plan p;
    if (!ReadPlan(SourceText("plan", text), &p).ok()) {
      out.error = "unreadable plan";
      return out;
    }
    out.plans.push_back(std::move(p));
  }
  // The rows per call the server recorded fit the sets' weights, as for the
  // index selection (FitWeightsToRows): these are the baseline plans.
  if (out.sets[0] != nullptr) {
    std::vector<double> rows(texts.size());
    double cost = 0;
    for (size_t i = 0; i < texts.size(); ++i)
      (void)ReadPlanCost(texts[i], &cost, nullptr, &rows[i]);
    if (FitWeightsToRows(rows, ws.rows, params))
      for (size_t i = 0; i < params->sets.size(); ++i) out.weights[i] = params->sets[i].weight;
  }
  out.ok = true;
  return out;
}

}  // namespace

void AdvisePartitions(Session& session, const Catalog& catalog, const Workload& workload,
                      const AdviseOptions& opts, AdviseReport* rep) {
  const PartitionOptions& po = opts.partitions;
  std::vector<TableUse> uses = GroupByTable(catalog, workload);
  std::optional<PartitionSettings> settings;
  for (const TableUse& use : uses) {
    const TableInfo& t = *use.table;
    std::string why;
    std::optional<PartitionCandidate> cand = ChooseCandidate(use, po, &why);
    if (!cand) {
      if (opts.verbose) {
        if (why == "below --partition-min-size")
          why = HumanSize(t.total_bytes) + ", below --partition-min-size " +
                HumanSize(po.min_size_bytes);
        rep->notes.push_back("partitioning " + t.QualifiedName() + ": none — " + why);
      }
      continue;
    }
    if (!settings) {
      settings.emplace();
      if (!ReadPartitionSettings(session, &*settings).ok())
        rep->notes.push_back("partitioning: server settings unreadable; sized for defaults");
    }
    const ColumnInfo* kc = t.Column(cand->key);
    if (!kc) continue;
    const std::string type = kc->type;
    const bool time = cand->time_key;

    Recommendation r;
    r.kind = RecommendationKind::kPartition;
    r.object = t.QualifiedName();
    r.Add("strategy", std::string(PartitionStrategyName(cand->strategy)))
        .Add("key",
             std::vector<std::string>{cand->key})  // a list: the contract allows multi-column keys
        .Add("table_sql", QuoteIdent(t.schema) + "." + QuoteIdent(t.name))  // for --verify
        .Add("key_type", type)
        .Add("key_base_type", kc->BaseType())  // the type under its domains, if any
        .Add("key_share_of_calls", cand->share)
        .Add("retention_delete", cand->retention)
        .Add("table_bytes", t.total_bytes)
        .Add("min_size_bytes", po.min_size_bytes);

    // Interval and count from the key's histogram (RANGE).
    std::vector<double> hist;
    IntervalChoice ic;
    double first = 0;
    std::string history_bound, first_bound;
    std::vector<std::string> future;
    if (cand->strategy == PartitionStrategy::kRange) {
      std::vector<std::string> bounds = kc->histogram_bounds;
      if (bounds.size() < 2) {
        rep->notes.push_back("partitioning " + t.QualifiedName() + ": " + cand->key +
                             " has no histogram (ANALYZE " + t.QualifiedName() +
                             "): interval not sized, no recommendation");
        continue;
      }
      nlohmann::json arr = bounds;
      Rows hr;
      Status st = session.Query("SELECT " + ToNumberSql("v #>> '{}'", type, time) +
                                    " FROM json_array_elements($1::json) v",
                                {arr.dump()}, &hr);
      if (!st.ok()) {
        rep->notes.push_back("partitioning " + t.QualifiedName() + ": " + st.message());
        continue;
      }
      for (size_t i = 0; i < hr.size(); ++i) hist.push_back(hr.Double(i, 0));
      IntervalInput ii;
      ii.time_key = time;
      ii.lo = hist.front();
      ii.hi = hist.back();
      ii.table_bytes = t.heap_bytes + t.toast_bytes;
      ii.index_bytes = t.index_bytes;
      ii.shared_buffers_bytes = settings->shared_buffers_bytes;
      ii.max_locks_per_transaction = settings->max_locks_per_transaction;
      ii.indexes = std::max<int>(1, static_cast<int>(t.indexes.size()));
      ic = ChooseInterval(ii, po);
      if (kc->BaseType() == "date" && ic.trunc_unit == "hour") {
        ic.interval = "1 day", ic.trunc_unit = "day", ic.step = 86400;
        ic.why.push_back("a date key: at least 1 day");
      }
      // Aligned bounds, computed by the server in the key's type: the first
      // partition's start, the history bound B (the start of the interval
      // after the data and now, at least a day ahead), and the future
      // partitions from B.
      Rows br;
      if (time) {
        const std::string unit = QuoteLiteral(ic.trunc_unit);
        const std::string iv = "interval " + QuoteLiteral(ic.interval);
        st = session.QueryRolledBack(
            "WITH b AS (SELECT date_trunc(" + unit + ", " + QuoteLiteral(bounds.front()) +
                "::" + type + ") AS first, (SELECT g FROM generate_series(date_trunc(" + unit +
                ", greatest(" + QuoteLiteral(bounds.back()) + "::" + type + ", now()::" + type +
                ")) + " + iv + ", date_trunc(" + unit + ", greatest(" +
                QuoteLiteral(bounds.back()) + "::" + type + ", now()::" + type + ")) + 1000 * " +
                iv + ", " + iv + ") g WHERE g >= now() + interval '1 day' LIMIT 1) AS hb) " +
                "SELECT first::" + type + "::text, extract(epoch FROM first)::float8, k, (hb + " +
                iv + " * k)::" + type + "::text FROM b, generate_series(0, " +
                std::to_string(ic.premake) + ") k ORDER BY k",
            &br);
        if (!st.ok() || br.empty()) {
          rep->notes.push_back("partitioning " + t.QualifiedName() +
                               ": bounds not computed: " + st.message());
          continue;
        }
        first_bound = br.Text(0, 0);
        first = br.Double(0, 1);
        for (size_t i = 0; i < br.size(); ++i) future.push_back(br.Text(i, 3));
        history_bound = future.front();
      } else {
        first = std::floor(hist.front() / ic.step) * ic.step;
        const double hb = (std::floor(hist.back() / ic.step) + 2) * ic.step;
        first_bound = Fmt(first, 0);
        for (int k = 0; k <= ic.premake; ++k) future.push_back(Fmt(hb + k * ic.step, 0));
        history_bound = future.front();
      }
      r.Add("interval", ic.interval)
          .Add("partitions", static_cast<int64_t>(ic.partitions + ic.premake))
          .Add("partitions_over_data", static_cast<int64_t>(ic.partitions))
          .Add("premake", static_cast<int64_t>(ic.premake))
          .Add("first_bound", first_bound)
          .Add("history_bound", history_bound)
          .Add("partition_bytes_estimate", static_cast<int64_t>(ic.partition_bytes))
          .Add("shared_buffers_bytes", settings->shared_buffers_bytes)
          .Add("max_locks_per_transaction",
               static_cast<int64_t>(settings->max_locks_per_transaction))
          .Add("default_partition", false);
      std::string why_iv;
      for (const auto& w : ic.why) why_iv += (why_iv.empty() ? "" : "\n") + w;
      r.Add("interval_reasoning", why_iv);
    } else {
      std::string vals;
      for (const auto& v : cand->list_values) vals += (vals.empty() ? "" : ", ") + v;
      r.Add("values", vals)
          .Add("partitions", static_cast<int64_t>(cand->list_values.size() + 1))
          .Add("default_partition", true)
          .Add("default_reason", std::string("a value not in pg_stats' list must not fail the "
                                             "insert; pgvise maintain watches its row count"));
    }

    // Evidence per statement.
    const int total = cand->strategy == PartitionStrategy::kRange
                          ? ic.partitions + ic.premake
                          : static_cast<int>(cand->list_values.size()) + 1;
    std::map<std::string, std::optional<double>> memo;
    std::string scanned_list, changed;
    double before_sum = 0, after_sum = 0;
    double retention_cost = 0, retention_rows = 0;
    int unplanned = 0;
    std::string unplanned_error;  // the first, for the note when none was planned
    int inserts = 0;
    for (int si : use.statements) {
      const WorkloadStatement& ws = workload.statements[static_cast<size_t>(si)];
      if (ws.facts.kind == StatementKind::kInsert) {
        // Routed to one partition: neither pruned nor slower in a way the
        // cost model sees (tuple routing is a few comparisons).
        ++inserts;
        continue;
      }
      StatementParams params;
      Planned pl = PlanStatement(session, ws, catalog, workload, opts, &params);
      if (!pl.ok) {
        ++unplanned;
        if (unplanned_error.empty()) unplanned_error = pl.error;
        continue;
      }
      double before = 0, after = 0, scanned = 0;
      const bool is_insert = ws.facts.kind == StatementKind::kInsert;
      const bool is_retention = ws.facts.kind == StatementKind::kDelete && cand->retention;
      bool pruned_any = false;
      for (size_t i = 0; i < pl.plans.size(); ++i) {
        const double w = pl.weights[i];
        const double cb = pl.plans[i].root.total_cost;
        double ca = cb, sc = total;
        if (is_insert) {
          sc = 1;
        } else if (cand->strategy == PartitionStrategy::kRange) {
          KeyRange kr = RangeOf(session, ws, t, cand->key, type, time, pl.sets[i], &memo);
          if (kr.any) {
            PruneResult pr = Prune(kr.lo, kr.hi, first, ic.step, total, hist);
            // A `$n` without a value is pruned at run time: one partition's
            // worth is a guess, so only constants and representative values count.
            if (kr.lo || kr.hi) {
              sc = pr.scanned;
              ca = CostAfterPruning(pl.plans[i].root, t.name, cand->key, pr.scanned,
                                    pr.row_fraction);
              pruned_any = true;
            }
          }
        } else {
          // LIST: an equality on the key leaves one partition.
          for (const auto& p : ws.facts.predicates)
            if (p.column == cand->key && p.kind == PredicateKind::kEquality && !p.under_or) {
              double share = 1.0 / std::max<double>(1, total);
              const ColumnInfo* c = kc;
              if (p.value_kind == ValueKind::kConstant && !p.constants.empty()) {
                std::string v = p.constants[0];
                if (v.size() >= 2 && v.front() == '\'') v = v.substr(1, v.size() - 2);
                if (auto f = c->ValueFrequency(v)) share = *f;
              }
              sc = 1;
              ca = CostAfterPruning(pl.plans[i].root, t.name, cand->key, 1, share);
              pruned_any = true;
              break;
            }
        }
        if (is_retention) {
          retention_cost += w * cb;
          for (const auto& n : {pl.plans[i].root}) retention_rows += w * n.plan_rows;
          ForEachNode(pl.plans[i].root, [&](const PlanNode& n) {
            if (n.relation == t.name) retention_rows = std::max(retention_rows, w * n.plan_rows);
          });
          ca = 0;
          sc = 0;
        }
        before += w * cb;
        after += w * std::max(ca, 0.0);
        scanned += w * sc;
      }
      QueryBenefit qb;
      qb.fingerprint = ws.fingerprint;
      qb.query = ws.sql;
      qb.calls = ws.calls;
      qb.cost_before = before;
      qb.cost_after = after;
      r.benefit.push_back(qb);
      scanned_list += (scanned_list.empty() ? "" : ",") + Fmt(scanned, 0);
      before_sum += ws.calls * before;
      after_sum += ws.calls * after;
      if (!is_insert && !is_retention && !pruned_any)
        changed += (changed.empty() ? "" : "\n") + ShortSql(ws.sql, 100) +
                   " — reads every partition (an Append over " + std::to_string(total) + ")";
    }
    if (r.benefit.empty()) {
      if (unplanned > 0)
        rep->notes.push_back("partitioning " + t.QualifiedName() +
                             ": no recommendation — none of " + std::to_string(unplanned) +
                             " statement(s) reading it could be planned: " + unplanned_error);
      continue;
    }
    // Writes: the workload's INSERT/UPDATE/DELETE rows (INSERT ... VALUES
    // statements are not planned by the advisor; their rows are counted).
    double written = 0;
    for (const auto& [name, rows] : workload.table_writes)
      if (catalog.FindTable(name) == &t) written += rows;
    if (inserts > 0 || written > 0)
      r.Add("rows_written", written)
          .Add("writes",
               Fmt(written, 0) +
                   " row change(s) in the workload: each inserted row is routed to the one "
                   "partition of its key (the newest); routing costs a few comparisons");
    r.Add("partitions_scanned", scanned_list);
    r.Add("cost_method",
          std::string("estimate: each Seq Scan of the table scaled by the share of rows in the "
                      "partitions that survive pruning (key histogram); each index scan pays one "
                      "index descent per surviving partition, and scales by that share only "
                      "when the key is not in its index condition; an Append over them; a "
                      "retention DELETE becomes DETACH PARTITION CONCURRENTLY + DROP TABLE"));
    r.Add("workload_cost_before", before_sum).Add("workload_cost_after", after_sum);
    if (unplanned > 0) r.Add("statements_not_planned", static_cast<int64_t>(unplanned));
    if (cand->retention) {
      r.Add("retention_delete_cost", retention_cost)
          .Add("retention_rows_per_run", retention_rows)
          .Add("retention_after",
               std::string("DETACH PARTITION ... CONCURRENTLY (SHARE UPDATE EXCLUSIVE on the "
                           "parent, waits for running queries, blocks none) + DROP TABLE: no "
                           "row is deleted, so no dead tuples, no WAL per row, no VACUUM"));
    }
    r.Add("statements_changing_plans", changed.empty() ? std::string("none") : changed);

    // Constraints and the migration.
    MigrationInput mi;
    mi.table = &t;
    mi.cand = *cand;
    mi.interval = ic;
    mi.key_type = type;
    mi.history_bound = history_bound;
    mi.future_bounds = future;
    mi.settings = *settings;
    // Indexes this run recommends for the table go on the partitioned table
    // too (the script creates them on the old table first).
    for (const auto& ix : rep->indexes)
      if (ix.object == t.QualifiedName()) mi.extra_indexes.push_back(ix.sql);
    if (!ReadTableDependents(session, t.schema, t.name, &mi.deps).ok())
      rep->notes.push_back("partitioning " + t.QualifiedName() +
                           ": dependent objects unreadable; the migration is advice only");
    Migration m = BuildMigration(mi);
    r.sql = m.sql;
    r.revert = m.revert;
    r.lock =
        "ACCESS EXCLUSIVE for milliseconds (catalog steps and the swap, each with "
        "lock_timeout); SHARE UPDATE EXCLUSIVE while VALIDATE scans (reads and writes go "
        "on)";
    std::string cons, steps, blockers;
    for (const auto& c : m.constraints) cons += (cons.empty() ? "" : "\n") + c;
    for (size_t i = 0; i < m.steps.size(); ++i)
      steps += (i ? "\n" : "") + std::to_string(i + 1) + ". " + m.steps[i].first + " [" +
               m.steps[i].second + "]";
    for (const auto& b : m.blockers) blockers += (blockers.empty() ? "" : "\n") + b;
    r.Add("constraints", cons)
        .Add("migration_steps", steps)
        .Add("migration_executable", m.executable);
    if (!blockers.empty()) r.Add("migration_blockers", blockers);
    if (!m.partman.empty()) r.Add("pg_partman", m.partman);
    r.Add("partitioned_name", m.partitioned_name).Add("history_name", m.history_name);
    r.confidence = m.executable ? Confidence::kMedium : Confidence::kLow;
    r.reason =
        std::string(PartitionStrategyName(cand->strategy)) == std::string("range")
            ? "partition " + t.QualifiedName() + " by RANGE (" + cand->key + ") every " +
                  ic.interval + ": " + cand->reason
            : "partition " + t.QualifiedName() + " by LIST (" + cand->key + "): " + cand->reason;
    r.priority = static_cast<int>(rep->partitions.size()) + 1;
    rep->partitions.push_back(std::move(r));
  }
}

}  // namespace pgvise
