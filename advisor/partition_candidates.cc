// Which table to partition, by which strategy and key.
//
// Partitioning pays only where the planner can prune: a statement that
// names the key with a constant (or a parameter, pruned at run time) reads
// the partitions that can hold its rows and skips the rest. So the decision
// starts from the workload, not the table: for each table large enough
// (--partition-min-size), every SELECT / UPDATE / DELETE reading it is
// weighed by its calls, and each column gets the share of those calls that
// filter it by a range (`ts >= x`, BETWEEN) and by equality (`=`, IN,
// `= ANY`). INSERTs do not count either way: they route to one partition,
// neither pruned nor hurt. A `DELETE ... WHERE ts < x` is retention: with
// RANGE partitions on ts it becomes DETACH + DROP, which removes rows without
// writing a dead tuple, so it counts on its own (a table whose reads do not
// prune may still be worth partitioning for it).
//
//   RANGE  on a date/timestamp column (or an integer whose physical order
//          follows its values, correlation >= 0.9: an id from a sequence)
//          filtered by range in at least min_key_share of the calls, or
//          deleted by in a retention DELETE;
//   LIST   on a column filtered by equality in at least min_key_share of
//          the calls whose values are few (<= list_max_values) and stable
//          (pg_stats' MCVs cover list_min_coverage of the rows: no long tail
//          of new values that would each need a partition or land in DEFAULT);
//   HASH   never: it prunes only `key = x`, which a B-tree index already
//          answers in a few page reads, and it gives no retention. Without a
//          measured reason (none this advisor can measure read-only) it is
//          not recommended; docs/advise-partitions.md says so.
//   nothing otherwise, with the reason (-v): a table read by primary key
//          lookups gets "id: equality in 100% of calls, 1,000,000 distinct
//          values: an index finds the row; partitions would not prune".
//
// Worked example: events(ts timestamptz, kind text, id bigint PK), 30 GB.
// Workload: `SELECT ... WHERE ts >= now() - '1 day'` 900 calls, `SELECT ...
// WHERE id = $1` 100 calls, `DELETE FROM events WHERE ts < now() - '90
// days'` 1 call. Reads: 1,001 calls; ts: range 901 (90%), retention 1; id:
// equality 100 (10%). ts qualifies for RANGE (90% >= 50%, and retention),
// id fails both LIST (1,000,000 distinct) and the share. -> RANGE (ts).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "advisor/partition_internal.h"

namespace pgvise {

const char* PartitionStrategyName(PartitionStrategy s) {
  return s == PartitionStrategy::kRange ? "range" : "list";
}

namespace {

// The base type decides (a domain over timestamptz is a timestamptz key):
// a date or a timestamp, with or without time zone. Not time / timetz, which
// share pg_type's 'D' category: a time of day repeats every day, so ranges
// of it are no history to detach.
bool IsTimeType(const ColumnInfo& col) {
  const std::string& base = col.BaseType();
  return base == "date" || base.rfind("timestamp", 0) == 0;
}
bool IsIntegerType(const ColumnInfo& col) {
  const std::string& base = col.BaseType();
  return base == "integer" || base == "bigint" || base == "smallint";
}

std::string Pct(double f) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f%%", 100 * f);
  return buf;
}

// The predicates of one relation (outer level or a subquery) on table t.
void CollectLevel(const std::vector<RelationRef>& rels, const std::vector<Predicate>& preds,
                  StatementKind kind, double calls, int s, const Catalog& catalog,
                  std::map<const TableInfo*, TableUse>* uses, std::set<const TableInfo*>* seen) {
  for (const auto& rel : rels) {
    if (rel.is_cte) continue;
    const TableInfo* t = catalog.FindTable(rel.QualifiedName());
    if (!t) continue;
    TableUse& u = (*uses)[t];
    u.table = t;
    const bool first = seen->insert(t).second;
    if (first) {
      u.statements.push_back(s);
      if (kind == StatementKind::kInsert)
        u.insert_calls += calls;
      else
        u.filtered_calls += calls;
    }
    if (kind == StatementKind::kInsert) continue;
    std::set<std::string> range_cols, eq_cols, retention_cols;
    for (const auto& p : preds) {
      if (p.relation != rel.alias || p.column.empty() || !p.expression.empty()) continue;
      if (p.under_or || p.negated || p.clause != Clause::kWhere) continue;
      if (p.value_kind == ValueKind::kColumn || p.value_kind == ValueKind::kSubquery) continue;
      if (p.kind == PredicateKind::kRange) {
        range_cols.insert(p.column);
        if (kind == StatementKind::kDelete && (p.op == "<" || p.op == "<="))
          retention_cols.insert(p.column);
      } else if (p.kind == PredicateKind::kEquality || p.kind == PredicateKind::kInList ||
                 p.kind == PredicateKind::kAnyArray) {
        eq_cols.insert(p.column);
      }
    }
    auto touch = [&](const std::string& c) -> ColumnUse& {
      ColumnUse& cu = u.columns[c];
      cu.column = c;
      if (std::find(cu.statements.begin(), cu.statements.end(), s) == cu.statements.end())
        cu.statements.push_back(s);
      return cu;
    };
    for (const auto& c : range_cols) touch(c).range_calls += calls;
    for (const auto& c : eq_cols) touch(c).equality_calls += calls;
    for (const auto& c : retention_cols) touch(c).retention_calls += calls;
  }
}

}  // namespace

std::vector<TableUse> GroupByTable(const Catalog& catalog, const Workload& workload) {
  std::map<const TableInfo*, TableUse> uses;
  for (size_t i = 0; i < workload.statements.size(); ++i) {
    const auto& ws = workload.statements[i];
    const QueryFacts& f = ws.facts;
    std::set<const TableInfo*> seen;
    const int s = static_cast<int>(i);
    CollectLevel(f.relations, f.predicates, f.kind, ws.calls, s, catalog, &uses, &seen);
    for (const auto& sq : f.subqueries)
      CollectLevel(sq.relations, sq.predicates, StatementKind::kSelect, ws.calls, s, catalog, &uses,
                   &seen);
  }
  std::vector<TableUse> out;
  for (auto& [t, u] : uses) out.push_back(std::move(u));
  std::sort(out.begin(), out.end(), [](const TableUse& a, const TableUse& b) {
    return a.table->QualifiedName() < b.table->QualifiedName();
  });
  return out;
}

std::optional<PartitionCandidate> ChooseCandidate(const TableUse& use, const PartitionOptions& o,
                                                  std::string* why) {
  const TableInfo& t = *use.table;
  why->clear();
  if (t.kind != 'r') {
    *why = t.kind == 'p' ? "already partitioned" : "not a plain table";
    return std::nullopt;
  }
  if (t.total_bytes < o.min_size_bytes) {
    *why = "below --partition-min-size";
    return std::nullopt;
  }
  if (use.filtered_calls <= 0) {
    *why = "the workload only inserts into it: nothing to prune";
    return std::nullopt;
  }
  const double rows = t.Rows();
  std::optional<PartitionCandidate> range, list;
  double range_score = 0;
  std::vector<std::string> rejected;
  for (const auto& [name, cu] : use.columns) {
    const ColumnInfo* col = t.Column(name);
    if (!col) continue;
    const double range_share = cu.range_calls / use.filtered_calls;
    const double eq_share = cu.equality_calls / use.filtered_calls;
    const bool time = IsTimeType(*col);
    const bool monotonic =
        IsIntegerType(*col) && col->correlation.has_value() && *col->correlation >= 0.9;
    if (cu.range_calls > 0 || cu.retention_calls > 0) {
      if (!time && !monotonic) {
        rejected.push_back(name + ": range in " + Pct(range_share) + " of calls, but " + col->type +
                           " is neither a date/time nor an integer in insert order");
      } else if (range_share >= o.min_key_share || cu.retention_calls > 0) {
        const double score = cu.range_calls + cu.retention_calls;
        if (!range || score > range_score) {
          range_score = score;
          PartitionCandidate c;
          c.table = &t;
          c.strategy = PartitionStrategy::kRange;
          c.key = name;
          c.time_key = time;
          c.share = range_share;
          c.retention = cu.retention_calls > 0;
          c.reason = Pct(range_share) + " of the calls reading " + t.QualifiedName() + " filter " +
                     name + " by range";
          if (c.retention) c.reason += ", and the workload deletes old rows by it (retention)";
          range = c;
        }
      } else {
        rejected.push_back(name + ": range in only " + Pct(range_share) + " of calls (needs " +
                           Pct(o.min_key_share) + ")");
      }
    }
    if (cu.equality_calls > 0) {
      const double distinct = col->DistinctValues(rows);
      double covered = 0;
      for (double f : col->most_common_freqs) covered += f;
      const double non_null = 1 - col->null_frac;
      const bool few = col->has_stats && !col->most_common_vals.empty() &&
                       static_cast<int>(col->most_common_vals.size()) <= o.list_max_values &&
                       col->most_common_vals.size() >= 2 &&
                       covered >= o.list_min_coverage * non_null;
      if (eq_share < o.min_key_share) {
        rejected.push_back(name + ": equality in only " + Pct(eq_share) + " of calls (needs " +
                           Pct(o.min_key_share) + ")");
      } else if (!few) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.0f", distinct);
        rejected.push_back(name + ": equality in " + Pct(eq_share) + " of calls, but " + buf +
                           " distinct values: an index finds the rows; LIST needs a few stable "
                           "values, and HASH would prune no better than that index");
      } else if (!list || eq_share > list->share) {
        PartitionCandidate c;
        c.table = &t;
        c.strategy = PartitionStrategy::kList;
        c.key = name;
        c.share = eq_share;
        c.list_values = col->most_common_vals;
        c.reason = Pct(eq_share) + " of the calls reading " + t.QualifiedName() + " filter " +
                   name + " by equality, and it has " +
                   std::to_string(col->most_common_vals.size()) + " values covering " +
                   Pct(covered / std::max(non_null, 1e-9)) + " of the rows";
        list = c;
      }
    }
  }
  if (range && (range->retention || !list || range->share >= list->share)) return range;
  if (list) return list;
  if (rejected.empty())
    *why =
        "its statements filter no column by range or equality (primary-key lookups through "
        "joins, or full scans): partitions would not prune";
  else {
    *why = "no key would prune: ";
    for (size_t i = 0; i < rejected.size(); ++i) *why += (i ? "; " : "") + rejected[i];
  }
  return std::nullopt;
}

}  // namespace pgvise
