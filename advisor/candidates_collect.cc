// Candidate generation, step one: what one statement asks of one table.
// Collect sorts each predicate on the table into the role an index key
// could play — equality (with IN lists and IS NULL), range (with LIKE
// 'abc%' and its pattern operator class), join column, ORDER BY key, GIN
// operator — with the selectivity pg_stats gives it, and notes the rare
// constants and IN lists a partial index could be WHERE'd on. A predicate no
// index can serve as written (under OR, negated, in HAVING, LIKE '%x', <>,
// an expression PostgreSQL would refuse as a key) is counted, not used.
#include <algorithm>
#include <cctype>
#include <optional>
#include <string>

#include "advisor/candidates_internal.h"

namespace pgvise::candidates {

namespace {

constexpr double kExpressionSelectivity = 0.005;  // the planner's default for an unknown expression

bool IsTextType(const ColumnInfo* c) {
  return c && (c->type == "text" || c->type.rfind("character varying", 0) == 0 ||
               c->type.rfind("character", 0) == 0);
}

std::string Unquote(const std::string& lit) {
  if (lit.size() >= 2 && lit.front() == '\'' && lit.back() == '\'') {
    std::string out;
    for (size_t i = 1; i + 1 < lit.size(); ++i) {
      out += lit[i];
      if (lit[i] == '\'' && i + 2 < lit.size() && lit[i + 1] == '\'') ++i;
    }
    return out;
  }
  return lit;
}

// Share of rows holding `value`: its MCV frequency, else what the planner
// assumes of a value not in the list, the rows the MCVs leave spread over the
// distinct values they leave. A value rarer than pg_stats keeps in the list
// is the rarest of all, not an unknown. nullopt without statistics.
std::optional<double> RowShare(const ColumnInfo& col, const std::string& value, double rows) {
  if (auto f = col.ValueFrequency(value)) return f;
  if (col.most_common_vals.empty()) return std::nullopt;
  double mcv = 0;
  for (double f : col.most_common_freqs) mcv += f;
  double rest = std::max(0.0, 1.0 - mcv - col.null_frac);
  double others = col.DistinctValues(rows) - static_cast<double>(col.most_common_vals.size());
  return others >= 1 ? rest / others : rest;
}

// Expressions PostgreSQL refuses as index keys ("functions in index
// expression must be marked IMMUTABLE"): anything computed from a
// timestamptz without AT TIME ZONE reads the session's TimeZone
// (date_trunc('week', ts), ts::date, EXTRACT(... FROM ts), ts + interval),
// so it is STABLE. `date_trunc('week', ts AT TIME ZONE 'UTC')` is not.
// (A word test over the table's timestamptz columns: ORDER BY expressions
// don't name their column.)
bool ExpressionIndexable(const std::string& expression, const TableInfo& t) {
  if (expression.empty() || expression.find("AT TIME ZONE") != std::string::npos) return true;
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (const auto& col : t.columns) {
    if (col.type != "timestamp with time zone") continue;
    for (size_t at = expression.find(col.name); at != std::string::npos;
         at = expression.find(col.name, at + 1)) {
      size_t end = at + col.name.size();
      if ((at == 0 || !word(expression[at - 1])) &&
          (end >= expression.size() || !word(expression[end])))
        return false;
    }
  }
  return true;
}

}  // namespace

TableUse Generator::Collect(const QueryFacts& f, const RelationRef& rel, const TableInfo& t) {
  TableUse u;
  u.table = &t;
  u.alias = rel.alias;
  double rows = t.Rows();
  for (const auto& p : f.predicates) {
    if (p.relation != rel.alias) continue;
    if (p.under_or || p.negated || p.clause == Clause::kHaving) {
      ++out_->skipped_unusable;
      continue;
    }
    const ColumnInfo* col = t.Column(p.column);
    if (!col && p.expression.empty()) continue;  // not a column of this table
    KeyUse k;
    k.pred = &p;
    k.kind = p.kind;
    k.key.column = p.column;
    k.key.expression = p.expression;
    k.selectivity =
        p.expression.empty() && col ? col->EqualitySelectivity(rows) : kExpressionSelectivity;
    switch (p.kind) {
      case PredicateKind::kEquality:
      case PredicateKind::kInList:
      case PredicateKind::kAnyArray:
        if (p.value_kind == ValueKind::kSubquery) {
          ++out_->skipped_unusable;
          break;
        }
        if (p.kind == PredicateKind::kInList)
          k.selectivity *= std::max<size_t>(1, p.constants.size());
        if (!ExpressionIndexable(p.expression, t)) {
          ++out_->skipped_unusable;
          break;
        }
        u.eq.push_back(k);
        if (p.kind == PredicateKind::kInList && p.value_kind == ValueKind::kConstant &&
            p.constants.size() >= 2 && col && p.expression.empty() &&
            col->DistinctValues(rows) <= o_.partial_max_distinct) {
          // `state IN ('queued', 'running')`: a partial index on the list
          // when the values together are rare (the planner proves `state
          // IN (...)` and `state = 'queued'` imply it).
          double share = 0;
          bool known = true;
          for (const auto& c : p.constants) {
            auto f = RowShare(*col, Unquote(c), rows);
            known &= f.has_value();
            share += f.value_or(1);
          }
          if (known && share < o_.rare_value_frequency) u.rare_in.push_back(&p);
        }
        if (p.kind == PredicateKind::kEquality && p.value_kind == ValueKind::kConstant &&
            p.constants.size() == 1 && col && p.expression.empty()) {
          // A partial index pays off for a status-like column (few values)
          // queried for one of its rare values; on a column of many even
          // values every constant is "rare" and a partial index per value
          // is the wrong tool.
          auto freq = RowShare(*col, Unquote(p.constants[0]), rows);
          if (freq && *freq < o_.rare_value_frequency &&
              col->DistinctValues(rows) <= o_.partial_max_distinct)
            u.rare_eq.push_back(&p);
        }
        break;
      case PredicateKind::kIsNull:
        if (col) k.selectivity = std::max(col->null_frac, 1e-6);
        u.eq.push_back(k);
        if (p.expression.empty()) u.is_null.push_back(&p);
        break;
      case PredicateKind::kRange:
        k.selectivity = 0.33;
        if (!ExpressionIndexable(p.expression, t)) {
          ++out_->skipped_unusable;
          break;
        }
        u.range.push_back(k);
        break;
      case PredicateKind::kLikePrefix:
        k.selectivity = 0.05;
        // A B-tree serves LIKE 'abc%' only with the pattern operator class
        // (outside the C collation, which we can't assume).
        if (IsTextType(col) && p.expression.empty())
          k.key.opclass = col->type == "text" ? "text_pattern_ops" : "varchar_pattern_ops";
        u.range.push_back(k);
        break;
      case PredicateKind::kContains:
      case PredicateKind::kKeyExists:
      case PredicateKind::kOverlap:
      case PredicateKind::kFullText:
        u.gin.push_back(&p);
        break;
      default:
        // LIKE '%x', <>, IS NOT NULL and unknown operators: no index
        // serves them as written.
        ++out_->skipped_unusable;
        break;
    }
  }
  for (const auto& j : f.joins) {
    for (int side = 0; side < 2; ++side) {
      const std::string& r = side ? j.right_relation : j.left_relation;
      const std::string& c = side ? j.right_column : j.left_column;
      if (r != rel.alias || c.empty() || j.op != "=") continue;
      const ColumnInfo* col = t.Column(c);
      if (!col) continue;
      KeyUse k;
      k.key.column = c;
      k.kind = PredicateKind::kEquality;
      k.selectivity = col->EqualitySelectivity(rows);
      u.join.push_back(k);
    }
  }
  u.order_complete = !f.order_by.empty();
  for (const auto& sk : f.order_by) {
    if (sk.relation != rel.alias && !(sk.relation.empty() && f.relations.size() == 1)) {
      u.order_complete = false;
      continue;
    }
    if (sk.column.empty() && sk.expression.empty()) {
      u.order_complete = false;
      continue;
    }
    if (!sk.expression.empty() && (sk.expression.find("random") != std::string::npos ||
                                   !ExpressionIndexable(sk.expression, t))) {
      u.order_complete = false;
      continue;
    }
    CandidateKey k;
    k.column = sk.column;
    k.expression = sk.expression;
    if (k.expression.empty() && !t.Column(k.column)) {
      u.order_complete = false;
      continue;
    }
    k.descending = sk.descending;
    if (sk.nulls == SortKey::Nulls::kFirst) k.nulls_first = true;
    if (sk.nulls == SortKey::Nulls::kLast) k.nulls_first = false;
    if (sk.nulls == SortKey::Nulls::kDefault) k.nulls_first = sk.descending;
    u.order.push_back(k);
  }
  auto by_sel = [](const KeyUse& a, const KeyUse& b) { return a.selectivity < b.selectivity; };
  std::stable_sort(u.eq.begin(), u.eq.end(), by_sel);
  std::stable_sort(u.join.begin(), u.join.end(), by_sel);
  std::stable_sort(u.range.begin(), u.range.end(), by_sel);
  return u;
}

}  // namespace pgvise::candidates
