// Query rules (area `query`): statement shapes that are slow at any data size
// or quietly wrong, judged from QueryFacts alone (no database needed).
//
// Worked example:
//   SELECT u.id FROM users u
//   WHERE (SELECT count(*) FROM orders o WHERE o.user_id = u.id) > 10
//     AND lower(u.email) LIKE '%@example.com'
// - correlated-subquery at "(SELECT": the subquery is correlated on u.id and
//   sits in WHERE, so PostgreSQL runs it once per users row (a SubPlan);
//   `pgvise rewrite` turns it into a join to a grouped derived table.
// - function-on-indexed-column at "lower": an index on users.email cannot
//   serve lower(email); an expression index can.
// - leading-wildcard-like at "'%@example.com'": no B-tree serves it; a
//   pg_trgm GIN index can.

#include <cstdlib>

#include "analyzer/review/sql_rules_internal.h"
#include "core/session.h"

namespace pgvise::sqlrules {

namespace {

bool IsQuery(const QueryFacts& f) {
  switch (f.kind) {
    case StatementKind::kSelect:
    case StatementKind::kInsert:
    case StatementKind::kUpdate:
    case StatementKind::kDelete:
    case StatementKind::kMerge:
    case StatementKind::kCreateTableAs:
    case StatementKind::kExplain:
      return true;
    default:
      return false;
  }
}

// Every predicate of the statement and of its subqueries.
template <typename Fn>
void ForEachPredicate(const QueryFacts& f, Fn&& fn) {
  for (const Predicate& p : f.predicates) fn(p);
  for (const SubqueryFacts& s : f.subqueries)
    for (const Predicate& p : s.predicates) fn(p);
}

std::string ColumnName(const Predicate& p) {
  return p.relation.empty() ? p.column : p.relation + "." + p.column;
}

std::string TableOf(const Predicate& p) { return p.table.empty() ? p.relation : p.table; }

// The predicate's table as SQL for a printed fix (each part quoted as
// needed): from the statement's relation of that alias, which keeps schema
// and name apart; else the name split at its last dot.
std::string TableSql(const Call& c, const Predicate& p) {
  auto from = [&](const std::vector<RelationRef>& rels) -> std::string {
    for (const auto& r : rels)
      if (!r.is_cte && r.alias == p.relation)
        return (r.schema.empty() ? "" : QuoteIdent(r.schema) + ".") + QuoteIdent(r.name);
    return "";
  };
  std::string sql = from(c.facts.relations);
  for (const auto& s : c.facts.subqueries)
    if (sql.empty()) sql = from(s.relations);
  if (!sql.empty()) return sql;
  const std::string t = TableOf(p);
  const size_t dot = t.rfind('.');
  return dot == std::string::npos
             ? QuoteIdent(t)
             : QuoteIdent(t.substr(0, dot)) + "." + QuoteIdent(t.substr(dot + 1));
}

void NotInSubquery(const Call& c, std::vector<Finding>* out) {
  if (!IsQuery(c.facts)) return;
  for (const SubqueryFacts& s : c.facts.subqueries) {
    if (s.kind != SubqueryKind::kIn || !s.negated) continue;
    Finding f = c.Make(s.location,
                       "NOT IN (subquery) returns no rows at all if the subquery yields a "
                       "single NULL, and PostgreSQL cannot turn it into an anti-join: it runs "
                       "as a hashed or, worse, a per-row SubPlan");
    f.Add("subquery_tables", [&] {
      std::string t;
      for (const auto& x : s.tables) t += (t.empty() ? "" : ",") + x;
      return t;
    }());
    f.suggestion =
        "WHERE NOT EXISTS (SELECT 1 FROM <subquery table> s WHERE s.<column> = <outer column>) "
        "— same result when neither side is NULL, and it plans as an anti-join; "
        "`pgvise rewrite` can do it and says when NULLs make it unsafe.";
    out->push_back(std::move(f));
  }
}

void CorrelatedSubquery(const Call& c, std::vector<Finding>* out) {
  if (!IsQuery(c.facts)) return;
  for (const SubqueryFacts& s : c.facts.subqueries) {
    bool placed = s.placement == SubqueryPlacement::kWhere ||
                  s.placement == SubqueryPlacement::kSelectList ||
                  s.placement == SubqueryPlacement::kHaving;
    bool scalar = s.kind == SubqueryKind::kScalar || s.kind == SubqueryKind::kArray;
    // EXISTS / IN are pulled up into semi/anti joins by the planner; only
    // scalar (and ARRAY) subqueries stay a SubPlan run per outer row.
    if (!placed || !scalar || s.correlated_on.empty()) continue;
    std::string corr;
    for (const auto& x : s.correlated_on) corr += (corr.empty() ? "" : ", ") + x;
    std::string where = s.placement == SubqueryPlacement::kSelectList ? "select list"
                        : s.placement == SubqueryPlacement::kHaving   ? "HAVING"
                                                                      : "WHERE";
    Finding f = c.Make(s.location, "correlated subquery in the " + where + " (on " + corr +
                                       ") runs once per outer row as a SubPlan" +
                                       (s.has_aggregate ? " and aggregates each time" : ""));
    f.Add("correlated_on", corr).Add("placement", where).Add("depth", int64_t{s.depth});
    f.suggestion =
        "join a derived table grouped by the correlation column(s) instead "
        "(LEFT JOIN + COALESCE(count, 0) when an outer row may have no match); "
        "`pgvise rewrite` can decorrelate it and verify the result.";
    out->push_back(std::move(f));
  }
}

void LeadingWildcardLike(const Call& c, std::vector<Finding>* out) {
  if (!IsQuery(c.facts)) return;
  ForEachPredicate(c.facts, [&](const Predicate& p) {
    if (p.op != "LIKE" && p.op != "ILIKE") return;
    if (p.value_kind != ValueKind::kConstant || p.constants.empty()) return;
    const std::string& lit = p.constants[0];
    if (lit.size() < 2 || (lit[1] != '%' && lit[1] != '_')) return;  // 'abc%' is fine
    Finding f = c.Make(p.value_location, p.op + " " + lit + " on " + ColumnName(p) +
                                             " starts with a wildcard: no B-tree index can "
                                             "serve it, so every row is read");
    f.Add("column", ColumnName(p)).Add("pattern", lit);
    std::string col = p.expression.empty() ? QuoteIdent(p.column) : "(" + p.expression + ")";
    f.suggestion = "CREATE EXTENSION IF NOT EXISTS pg_trgm;\nCREATE INDEX CONCURRENTLY ON " +
                   TableSql(c, p) + " USING gin (" + col +
                   " gin_trgm_ops);  -- serves LIKE/ILIKE '%...%'";
    out->push_back(std::move(f));
  });
}

void FunctionOnIndexedColumn(const Call& c, std::vector<Finding>* out) {
  if (!IsQuery(c.facts)) return;
  ForEachPredicate(c.facts, [&](const Predicate& p) {
    if (p.expression.empty() || p.clause == Clause::kHaving) return;
    if (p.value_kind == ValueKind::kNone) return;
    Finding f = c.Make(p.location, p.expression + " wraps column " + ColumnName(p) +
                                       " in a predicate: a plain index on " + p.column +
                                       " cannot serve it");
    f.Add("column", ColumnName(p)).Add("expression", p.expression);
    std::string idx = p.expression.find('(') == 0 || p.expression.find("::") != std::string::npos ||
                              p.expression.rfind("EXTRACT(", 0) == 0
                          ? "(" + p.expression + ")"
                          : p.expression;
    f.suggestion = "compare the bare column (e.g. a range on " + p.column +
                   " instead of a function of it), or index the expression: CREATE INDEX "
                   "CONCURRENTLY ON " +
                   TableSql(c, p) + " (" + idx + ");";
    out->push_back(std::move(f));
  });
}

void LargeOffsetPagination(const Call& c, std::vector<Finding>* out) {
  if (!IsQuery(c.facts) || !c.facts.offset) return;
  double limit = c.rule.Threshold("max_offset");
  if (static_cast<double>(*c.facts.offset) < limit) return;
  Finding f = c.Make(c.facts.offset_location,
                     "OFFSET " + std::to_string(*c.facts.offset) + " reads and throws away " +
                         std::to_string(*c.facts.offset) +
                         " rows before returning any: each page is slower than the last");
  f.Add("offset", *c.facts.offset).Add("max_offset", static_cast<int64_t>(limit));
  std::string key = "<sort key>";
  bool desc = false;
  if (!c.facts.order_by.empty()) {
    const SortKey& k = c.facts.order_by[0];
    key = k.column.empty() ? k.expression : k.column;
    desc = k.descending;
  }
  f.suggestion = "keyset pagination: remember the last " + key +
                 " of the previous page and ask for WHERE " + key + (desc ? " < " : " > ") +
                 "$last ORDER BY " + key + (desc ? " DESC" : "") +
                 " LIMIT n (add a unique tie-breaker such as id to both when " + key +
                 " repeats; an index on it serves every page at the same cost)";
  out->push_back(std::move(f));
}

void WithoutWhere(const Call& c, std::vector<Finding>* out, StatementKind kind, const char* verb) {
  if (c.facts.kind != kind || c.facts.has_where) return;
  std::string table = c.facts.relations.empty() ? "" : c.facts.relations[0].QualifiedName();
  Finding f = c.Make(0, std::string(verb) + " without WHERE touches every row of " +
                            c.Describe(table) + " (ROW EXCLUSIVE, and a row lock on each row)");
  f.Add("lock", "ROW EXCLUSIVE");
  c.AboutTable(table, &f);
  if (kind == StatementKind::kDelete)
    f.suggestion = "add the WHERE clause you meant; to empty the table on purpose use TRUNCATE " +
                   table +
                   " (ACCESS EXCLUSIVE, but instant) or mark it with "
                   "`-- pgvise-ignore: delete-without-where`";
  else
    f.suggestion =
        "add the WHERE clause you meant; for an intended full-table update, batch it "
        "by key range (UPDATE ... WHERE id BETWEEN $1 AND $2) and mark it with "
        "`-- pgvise-ignore: update-without-where`";
  out->push_back(std::move(f));
}

void UpdateWithoutWhere(const Call& c, std::vector<Finding>* out) {
  WithoutWhere(c, out, StatementKind::kUpdate, "UPDATE");
}

void DeleteWithoutWhere(const Call& c, std::vector<Finding>* out) {
  WithoutWhere(c, out, StatementKind::kDelete, "DELETE");
}

void OrderByRandom(const Call& c, std::vector<Finding>* out) {
  if (!IsQuery(c.facts)) return;
  for (const SortKey& k : c.facts.order_by) {
    if (k.expression != "random()") continue;
    Finding f = c.Make(k.location,
                       "ORDER BY random() reads and sorts every qualifying row to return a few");
    if (c.facts.limit) f.Add("limit", *c.facts.limit);
    f.suggestion =
        "sample instead: FROM <table> TABLESAMPLE SYSTEM_ROWS(n) (tsm_system_rows) "
        "or TABLESAMPLE BERNOULLI(p), or pick random keys: WHERE id >= (SELECT "
        "floor(random() * max(id)) FROM <table>) ORDER BY id LIMIT n";
    out->push_back(std::move(f));
  }
}

void ImplicitCrossJoin(const Call& c, std::vector<Finding>* out) {
  const QueryFacts& q = c.facts;
  if (!IsQuery(q) || q.from_items.size() < 2) return;
  // Union-find over comma-separated FROM items, joined by any condition that
  // links an alias of one item with an alias of another.
  size_t n = q.from_items.size();
  std::vector<size_t> parent(n);
  for (size_t i = 0; i < n; ++i) parent[i] = i;
  auto find = [&](size_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  auto item_of = [&](const std::string& alias) -> int {
    for (size_t i = 0; i < n; ++i)
      for (const auto& a : q.from_items[i])
        if (a == alias) return static_cast<int>(i);
    return -1;
  };
  for (const JoinCondition& j : q.joins) {
    int a = item_of(j.left_relation), b = item_of(j.right_relation);
    if (a >= 0 && b >= 0) parent[find(a)] = find(b);
  }
  // Items that are not plain relations (functions, derived tables) may be
  // LATERAL and so constrained by the items before them: leave them alone.
  auto plain = [&](size_t i) {
    for (const auto& a : q.from_items[i])
      if (!q.Relation(a)) return false;
    return true;
  };
  for (size_t i = 1; i < n; ++i) {
    if (!plain(i)) continue;
    bool linked = false;
    for (size_t k = 0; k < i && !linked; ++k) linked = plain(k) ? find(k) == find(i) : true;
    if (linked) continue;
    std::string left, right;
    for (size_t k = 0; k < i; ++k)
      for (const auto& a : q.from_items[k]) left += (left.empty() ? "" : ", ") + a;
    for (const auto& a : q.from_items[i]) right += (right.empty() ? "" : ", ") + a;
    Finding f = c.Make(q.from_item_locations[i],
                       "FROM ..., " + right + " has no join condition with " + left +
                           ": every row is paired with every row (a cross join)");
    f.Add("relations", left + " x " + right);
    f.suggestion = "write the join explicitly: ... JOIN " + right +
                   " ON <condition>; or, if "
                   "the product is intended, say so with CROSS JOIN " +
                   right;
    out->push_back(std::move(f));
    break;  // one finding per statement says it
  }
}

void SelectStar(const Call& c, std::vector<Finding>* out) {
  if (!IsQuery(c.facts) || !c.facts.select_star) return;
  Finding f = c.Make(c.facts.select_star_location,
                     "SELECT * returns every column: it breaks when columns are added or "
                     "reordered, ships unused data, and rules out index-only scans");
  f.suggestion = "name the columns the code uses";
  out->push_back(std::move(f));
}

}  // namespace

const std::vector<HandlerEntry>& QueryHandlers() {
  static const std::vector<HandlerEntry> kHandlers = {
      {"not-in-subquery", NotInSubquery},
      {"correlated-subquery", CorrelatedSubquery},
      {"leading-wildcard-like", LeadingWildcardLike},
      {"function-on-indexed-column", FunctionOnIndexedColumn},
      {"large-offset-pagination", LargeOffsetPagination},
      {"update-without-where", UpdateWithoutWhere},
      {"delete-without-where", DeleteWithoutWhere},
      {"order-by-random", OrderByRandom},
      {"implicit-cross-join", ImplicitCrossJoin},
      {"select-star", SelectStar},
  };
  return kHandlers;
}

}  // namespace pgvise::sqlrules
