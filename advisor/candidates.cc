#include "advisor/candidates.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <deque>
#include <optional>

#include "core/session.h"

namespace pgvise {

std::string CandidateKey::Sql() const {
  std::string s = expression.empty() ? QuoteIdent(column) : "(" + expression + ")";
  if (!opclass.empty()) s += " " + opclass;
  if (descending) s += " DESC";
  // Defaults: ASC NULLS LAST, DESC NULLS FIRST. Only a departure is written.
  if (descending && !nulls_first) s += " NULLS LAST";
  if (!descending && nulls_first) s += " NULLS FIRST";
  return s;
}

std::string IndexCandidate::QualifiedTable() const {
  return QuoteIdent(schema) + "." + QuoteIdent(table);
}

std::string IndexCandidate::Id() const {
  std::string id = schema + "." + table + "|" + method + "|";
  for (const auto& k : keys) id += k.Sql() + ",";
  id += "|";
  for (const auto& c : include) id += c + ",";
  return id + "|" + predicate;
}

std::string IndexCandidate::Ddl(const std::string& name, bool concurrently,
                                bool if_not_exists) const {
  std::string s = "CREATE INDEX ";
  if (concurrently) s += "CONCURRENTLY ";
  if (if_not_exists && !name.empty()) s += "IF NOT EXISTS ";
  if (!name.empty()) s += QuoteIdent(name) + " ";
  s += "ON " + QualifiedTable();
  if (method != "btree") s += " USING " + method;
  s += " (";
  for (size_t i = 0; i < keys.size(); ++i) s += (i ? ", " : "") + keys[i].Sql();
  s += ")";
  if (!include.empty()) {
    s += " INCLUDE (";
    for (size_t i = 0; i < include.size(); ++i) s += (i ? ", " : "") + QuoteIdent(include[i]);
    s += ")";
  }
  if (!predicate.empty()) s += " WHERE " + predicate;
  return s;
}

namespace {

// Lower-case alphanumerics and single underscores: a name that needs no
// quoting whatever the column names were.
std::string NamePart(const std::string& s) {
  std::string out;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u))
      out += static_cast<char>(std::tolower(u));
    else if (!out.empty() && out.back() != '_')
      out += '_';
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

}  // namespace

std::string IndexCandidate::SuggestedName() const {
  std::string name = NamePart(table);
  if (name.empty()) name = "t";
  for (const auto& k : keys) {
    std::string p = NamePart(k.expression.empty() ? k.column : k.expression);
    if (!p.empty()) name += "_" + p;
  }
  if (!predicate.empty()) name += "_partial";
  if (!include.empty()) name += "_incl";
  std::string suffix = method == "btree" ? "_idx" : "_" + method;
  if (name.size() + suffix.size() > 63) name.resize(63 - suffix.size());
  while (!name.empty() && name.back() == '_') name.pop_back();
  if (!name.empty() && std::isdigit(static_cast<unsigned char>(name[0]))) name = "i" + name;
  return name + suffix;
}

int CandidateSet::Add(IndexCandidate c) {
  std::string id = c.Id();
  if (auto it = by_id_.find(id); it != by_id_.end()) return it->second;
  int n = static_cast<int>(candidates.size());
  by_id_[id] = n;
  candidates.push_back(std::move(c));
  return n;
}

int CandidateSet::Find(const std::string& id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? -1 : it->second;
}

namespace {

std::string Compact(const std::string& s) {
  std::string out;
  for (char c : s)
    if (!std::isspace(static_cast<unsigned char>(c)) && c != '"')
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool SameKey(const IndexKey& e, const CandidateKey& c) {
  if (!c.expression.empty())
    return e.column.empty() && Compact(e.expression) == Compact(c.expression);
  return e.column == c.column && (c.opclass.empty() ? e.default_opclass : e.opclass == c.opclass);
}

}  // namespace

bool ExistingIndexProvides(const TableInfo& t, const IndexCandidate& c) {
  for (const auto& ix : t.indexes) {
    if (!ix.valid || ix.method != c.method) continue;
    // A partial index serves only statements that imply its predicate; we
    // don't try to prove implication, so it never "provides" a candidate.
    if (!ix.predicate.empty()) continue;
    if (c.keys.size() > ix.keys.size()) continue;
    bool keys_match = true, same_dir = true, reversed_dir = true;
    for (size_t i = 0; i < c.keys.size(); ++i) {
      if (!SameKey(ix.keys[i], c.keys[i])) {
        keys_match = false;
        break;
      }
      if (ix.keys[i].descending != c.keys[i].descending) same_dir = false;
      if (ix.keys[i].descending == c.keys[i].descending) reversed_dir = false;
    }
    if (!keys_match) continue;
    // A B-tree is scanned backwards as easily as forwards: (a DESC, b DESC)
    // provides (a, b), but (a, b DESC) does not.
    if (c.method == "btree" && !same_dir && !reversed_dir) continue;
    bool covered = true;
    for (const auto& inc : c.include) {
      bool found = false;
      for (const auto& k : ix.keys) found |= k.column == inc;
      for (const auto& k : ix.include) found |= k.column == inc;
      covered &= found;
    }
    if (covered) return true;
  }
  return false;
}

namespace {

constexpr double kExpressionSelectivity = 0.005;  // the planner's default for an unknown expression

struct KeyUse {
  CandidateKey key;
  double selectivity = 1;  // lower is more selective
  PredicateKind kind = PredicateKind::kOther;
  const Predicate* pred = nullptr;
};

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

// A partial-index predicate the generator wrote: `column = c`, `column IN
// (c1, c2)` (constants sorted, so the order a statement lists them in does
// not make two candidates) or `column IS NULL`.
struct PartialPredicate {
  std::string column;
  std::set<std::string> constants;  // empty for IS NULL
  bool is_null = false;
  std::string Sql() const {
    if (is_null) return QuoteIdent(column) + " IS NULL";
    if (constants.size() == 1) return QuoteIdent(column) + " = " + *constants.begin();
    std::string s = QuoteIdent(column) + " IN (";
    bool first = true;
    for (const auto& c : constants) {
      s += (first ? "" : ", ") + c;
      first = false;
    }
    return s + ")";
  }
};

// Everything the generator knows about one table reference in one statement.
struct TableUse {
  const TableInfo* table = nullptr;
  std::string alias;
  std::vector<KeyUse> eq, range, join;
  std::vector<CandidateKey> order;  // ORDER BY keys, all on this table
  bool order_complete = false;      // every ORDER BY key is on this table
  std::vector<const Predicate*> gin;
  std::vector<const Predicate*> is_null, rare_eq;
  std::vector<const Predicate*> rare_in;  // `col IN ('a', 'b')` of rare constants
};

bool HasKey(const std::vector<CandidateKey>& keys, const CandidateKey& k) {
  for (const auto& x : keys)
    if (x.column == k.column && x.expression == k.expression) return true;
  return false;
}

void Append(std::vector<CandidateKey>* keys, const CandidateKey& k, size_t max) {
  if (keys->size() < max && !HasKey(*keys, k)) keys->push_back(k);
}

class Generator {
 public:
  Generator(const Workload& w, const Catalog& cat, const CandidateOptions& o, CandidateSet* out)
      : w_(w), cat_(cat), o_(o), out_(out) {}

  void Run() {
    out_->relevant.assign(w_.statements.size(), {});
    for (size_t s = 0; s < w_.statements.size(); ++s) {
      const auto& f = w_.statements[s].facts;
      for (const auto& rel : f.relations) {
        if (rel.is_cte) continue;
        const TableInfo* t = cat_.FindTable(rel.QualifiedName());
        if (!t) continue;
        TableUse u = Collect(f, rel, *t);
        uses_.push_back({static_cast<int>(s), u});
        GenerateFor(s, u);
      }
      // A subquery filters its own tables: `(SELECT count(*) FROM orders o
      // WHERE o.user_id = u.id)` wants orders(user_id) as much as a WHERE
      // does. Its facts become a statement of their own for generation.
      for (const auto& sq : f.subqueries) {
        subs_.emplace_back();
        QueryFacts& sub = subs_.back();
        sub.relations = sq.relations;
        sub.predicates = sq.predicates;
        sub.joins = sq.joins;
        for (const auto& rel : sub.relations) {
          if (rel.is_cte) continue;
          const TableInfo* t = cat_.FindTable(rel.QualifiedName());
          if (!t) continue;
          TableUse u = Collect(sub, rel, *t);
          uses_.push_back({static_cast<int>(s), u});
          GenerateFor(s, u);
        }
      }
    }
    // Relevance is decided after every statement contributed candidates:
    // statement A's candidate may serve statement B.
    Merge();
    for (const auto& [s, u] : uses_) MarkRelevant(s, u);
    // Subqueries: their predicates are not in the outer facts, so any
    // candidate on a table a subquery reads may change the plan (the
    // correlated `(SELECT count(*) FROM orders o WHERE o.user_id = u.id)`
    // runs once per outer row and is where an index on orders pays most).
    for (size_t s = 0; s < w_.statements.size(); ++s) {
      auto& rel = out_->relevant[s];
      for (const auto& sq : w_.statements[s].facts.subqueries)
        for (const auto& name : sq.tables) {
          const TableInfo* t = cat_.FindTable(name);
          if (!t) continue;
          for (size_t c = 0; c < out_->candidates.size(); ++c) {
            const auto& cand = out_->candidates[c];
            if (cand.schema == t->schema && cand.table == t->name && cand.predicate.empty() &&
                std::find(rel.begin(), rel.end(), static_cast<int>(c)) == rel.end())
              rel.push_back(static_cast<int>(c));
          }
        }
    }
  }

 private:
  TableUse Collect(const QueryFacts& f, const RelationRef& rel, const TableInfo& t) {
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

  IndexCandidate Base(const TableUse& u) {
    IndexCandidate c;
    c.schema = u.table->schema;
    c.table = u.table->name;
    return c;
  }

  void Emit(IndexCandidate c) {
    if (c.keys.empty()) return;
    const TableInfo* t = cat_.FindTable(c.schema, c.table);
    if (t && ExistingIndexProvides(*t, c)) {
      ++out_->skipped_existing;
      return;
    }
    out_->Add(std::move(c));
  }

  // Covering variant: INCLUDE what else the statement reads from this table.
  void EmitCovering(const TableUse& u, const IndexCandidate& base, const QueryFacts& f) {
    auto it = f.read_columns.find(u.alias);
    if (it == f.read_columns.end() || it->second.count("*") || it->second.empty()) return;
    std::vector<std::string> inc;
    double width = 0;
    for (const auto& col : it->second) {
      bool in_key = false;
      for (const auto& k : base.keys) in_key |= (k.expression.empty() && k.column == col);
      // A column the partial predicate fixes is not needed for an
      // index-only scan: the predicate implies its value.
      for (const Predicate* p : u.rare_eq) in_key |= (!base.predicate.empty() && p->column == col);
      if (in_key) continue;
      const ColumnInfo* ci = u.table->Column(col);
      if (!ci) return;  // unknown column: don't guess
      width += ci->avg_width > 0 ? ci->avg_width : 8;
      inc.push_back(col);
    }
    if (inc.empty() || static_cast<int>(inc.size()) > o_.covering_max_columns ||
        width > o_.covering_max_width)
      return;
    IndexCandidate c = base;
    c.include = inc;
    c.origin = base.origin + "+covering";
    Emit(c);
  }

  void GenerateFor(size_t s, const TableUse& u) {
    const QueryFacts& f = w_.statements[s].facts;
    size_t max = static_cast<size_t>(o_.max_key_columns);
    IndexCandidate proto = Base(u);

    // Atoms: one column each (what Extend starts from and extends).
    auto atom = [&](const CandidateKey& k, const char* origin) {
      IndexCandidate c = proto;
      CandidateKey key = k;
      c.keys = {key};
      c.origin = origin;
      Emit(c);
    };
    for (const auto& k : u.eq) atom(k.key, "equality");
    for (const auto& k : u.range) atom(k.key, "range");
    for (const auto& k : u.join) atom(k.key, "join");
    if (u.order_complete && !u.order.empty()) atom(u.order[0], "order-by");

    // Multi-column: equality columns by selectivity, then range or order.
    std::vector<CandidateKey> eq;
    for (const auto& k : u.eq) Append(&eq, k.key, max);
    std::vector<IndexCandidate> composites;
    if (!u.range.empty()) {
      IndexCandidate c = proto;
      c.keys = eq;
      Append(&c.keys, u.range[0].key, max);
      c.origin = "equality+range";
      composites.push_back(c);
    }
    if (u.order_complete && !u.order.empty()) {
      IndexCandidate c = proto;
      c.keys = eq;
      for (const auto& k : u.order) Append(&c.keys, k, max);
      c.origin = "equality+order-by";
      composites.push_back(c);
    }
    if (eq.size() >= 2 || (composites.empty() && !eq.empty())) {
      IndexCandidate c = proto;
      c.keys = eq;
      c.origin = "equality";
      composites.push_back(c);
    }
    if (!u.join.empty()) {
      // The inner side of a nested loop probes by the join column and can
      // filter by the constants at the same time.
      IndexCandidate c = proto;
      c.keys = {u.join[0].key};
      for (const auto& k : eq) Append(&c.keys, k, max);
      c.origin = "join+equality";
      if (c.keys.size() >= 2) composites.push_back(c);
      // ... and by its own range after the constants: the jobs of the
      // tenants a filter on the *other* table picked, in the last week.
      if (!u.range.empty()) {
        c.keys = {u.join[0].key};
        for (const auto& k : eq) Append(&c.keys, k, max);
        Append(&c.keys, u.range[0].key, max);
        c.origin = "join+equality+range";
        if (c.keys.size() >= 2) composites.push_back(c);
      }
      // The table the filter is on, when it is the other side of the join
      // (a label filter on a link table joined to the main table): the
      // filter columns, then the join column as a key. The scan returns the
      // join keys of the matching rows without the heap, in order for a
      // merge join, and the main table is reached by its own key.
      if (!eq.empty()) {
        c.keys = eq;
        Append(&c.keys, u.join[0].key, max);
        c.origin = "equality+join";
        if (c.keys.size() >= 2) composites.push_back(c);
      }
    }
    for (auto& c : composites) {
      if (c.keys.size() >= 2) Emit(c);
      EmitCovering(u, c, f);
    }

    // Partial: a rare constant, a rare IN list or IS NULL becomes the
    // predicate; the parameter (and other) columns, then the range or the
    // ORDER BY with its directions, key the rows that remain. `tenant_id =
    // $1 AND state = 'queued' ORDER BY priority DESC, enqueued_at LIMIT 50`
    // gives (tenant_id, priority DESC, enqueued_at) WHERE state = 'queued':
    // the queued rows of one tenant, already in the order asked, the first
    // 50 read and nothing else. With both a range and an ORDER BY, both
    // variants (the selection decides).
    auto partial_keys = [&](const std::string& skip_col) {
      std::vector<std::vector<CandidateKey>> variants;
      std::vector<CandidateKey> keys;
      for (const auto& k : u.eq)
        if (k.key.column != skip_col || !k.key.expression.empty()) Append(&keys, k.key, max);
      if (!u.range.empty()) {
        std::vector<CandidateKey> v = keys;
        Append(&v, u.range[0].key, max);
        variants.push_back(v);
      }
      if (u.order_complete && !u.order.empty()) {
        std::vector<CandidateKey> v = keys;
        for (const auto& k : u.order) Append(&v, k, max);
        variants.push_back(v);
      }
      if (variants.empty()) variants.push_back(keys);
      return variants;
    };
    auto emit_partial = [&](const PartialPredicate& pp, const char* origin, bool pk_fallback) {
      for (auto& keys : partial_keys(pp.column)) {
        IndexCandidate c = proto;
        c.keys = keys;
        if (c.keys.empty()) {
          if (!pk_fallback) continue;
          // Nothing else to key on: key the primary key so the index is
          // small and still returns the rare rows.
          for (const auto& con : u.table->constraints)
            if (con.type == 'p' && !con.columns.empty()) c.keys = {CandidateKey{con.columns[0]}};
          if (c.keys.empty()) c.keys = {CandidateKey{pp.column}};
        }
        c.predicate = pp.Sql();
        c.origin = origin;
        partials_[c.predicate] = pp;
        Emit(c);
        EmitCovering(u, c, f);
      }
    };
    for (const Predicate* p : u.rare_eq) {
      PartialPredicate pp;
      pp.column = p->column;
      pp.constants = {p->constants[0]};
      emit_partial(pp, "partial (rare value)", true);
    }
    for (const Predicate* p : u.rare_in) {
      PartialPredicate pp;
      pp.column = p->column;
      pp.constants.insert(p->constants.begin(), p->constants.end());
      emit_partial(pp, "partial (rare IN list)", true);
    }
    for (const Predicate* p : u.is_null) {
      PartialPredicate pp;
      pp.column = p->column;
      pp.is_null = true;
      for (auto& keys : partial_keys(p->column)) {
        if (keys.empty()) continue;
        IndexCandidate c = proto;
        c.keys = keys;
        c.predicate = pp.Sql();
        c.origin = "partial (IS NULL)";
        partials_[c.predicate] = pp;
        Emit(c);
      }
    }

    // BRIN: tiny, and as good as a B-tree for range scans when the table is
    // physically ordered by the column (append-only timestamps, serials).
    if (u.table->Rows() >= o_.brin_min_rows)
      for (const auto& k : u.range) {
        if (!k.key.expression.empty() || !k.key.opclass.empty()) continue;
        const ColumnInfo* col = u.table->Column(k.key.column);
        if (!col || !col->correlation || std::fabs(*col->correlation) < o_.brin_min_correlation)
          continue;
        IndexCandidate c = proto;
        c.method = "brin";
        c.keys = {CandidateKey{k.key.column}};
        c.origin = "brin (correlation " + std::to_string(*col->correlation).substr(0, 5) + ")";
        Emit(c);
      }

    // GIN: HypoPG can't simulate it; report it unverified.
    for (const Predicate* p : u.gin) {
      IndexCandidate c = proto;
      c.method = "gin";
      c.whatif_supported = false;
      CandidateKey k;
      k.column = p->column;
      k.expression = p->expression;
      const ColumnInfo* col = u.table->Column(p->column);
      if (p->expression.empty() && !col) continue;
      if (p->kind == PredicateKind::kFullText && p->expression.empty() && col && !col->IsTsvector())
        continue;
      if ((p->kind == PredicateKind::kContains || p->kind == PredicateKind::kKeyExists) &&
          p->expression.empty() && col && !col->IsJsonb() && !col->IsArray())
        continue;
      c.keys = {k};
      c.origin = std::string("gin (") + PredicateKindName(p->kind) + ")";
      if (ExistingIndexProvides(*u.table, c)) {
        ++out_->skipped_existing;
        continue;
      }
      std::string id = c.Id();
      int found = -1;
      for (size_t i = 0; i < out_->unverifiable.size(); ++i)
        if (out_->unverifiable[i].Id() == id) found = static_cast<int>(i);
      if (found < 0) {
        found = static_cast<int>(out_->unverifiable.size());
        out_->unverifiable.push_back(c);
        out_->unverifiable_for.emplace_back();
      }
      auto& v = out_->unverifiable_for[static_cast<size_t>(found)];
      if (std::find(v.begin(), v.end(), static_cast<int>(s)) == v.end())
        v.push_back(static_cast<int>(s));
    }
  }

  // Candidate merging (Chaudhuri & Narasayya's index merging, kept to what
  // the planner can use as written). Two B-tree candidates on one table with
  // the same partial predicate, generated for different statements:
  //   - prefix-compatible (A's keys are B's first keys, directions equal):
  //     B with INCLUDE of both, when either covers — one index serving both
  //     statements index-only, where two would hold the same keys twice;
  //   - same leading key, neither a prefix of the other: A's keys then B's
  //     missing ones (at most max_key_columns), INCLUDE of both — serves A's
  //     statement as A does and B's through the leading key.
  // Example: (tenant_id, kind) INCLUDE (id) for `... WHERE tenant_id = $1
  // AND kind = $2` and (tenant_id, kind, enqueued_at) INCLUDE (priority) for
  // the same with `enqueued_at >= $3` give (tenant_id, kind, enqueued_at)
  // INCLUDE (id, priority). Merged candidates are candidates like the
  // others: relevance by leading key, and the selection keeps one only when
  // it wins per byte. At most max_merges_per_table per table, in generation
  // order, so a wide workload does not square its candidate count.
  void Merge() {
    const size_t n = out_->candidates.size();
    const size_t max = static_cast<size_t>(o_.max_key_columns);
    std::map<std::string, int> per_table;
    auto mergeable = [&](const IndexCandidate& c) {
      return c.method == "btree" && c.whatif_supported &&
             (c.keys.size() >= 2 || !c.include.empty());
    };
    auto same_key = [](const CandidateKey& a, const CandidateKey& b) { return a == b; };
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = 0; j < n; ++j) {
        if (i == j) continue;
        const IndexCandidate a = out_->candidates[i];
        const IndexCandidate b = out_->candidates[j];
        if (!mergeable(a) || !mergeable(b) || a.schema != b.schema || a.table != b.table ||
            a.predicate != b.predicate || a.keys.empty() || b.keys.empty() ||
            !same_key(a.keys[0], b.keys[0]))
          continue;
        const std::string table = a.schema + "." + a.table;
        if (per_table[table] >= o_.max_merges_per_table) continue;
        bool prefix = a.keys.size() <= b.keys.size();
        for (size_t k = 0; prefix && k < a.keys.size(); ++k)
          prefix = same_key(a.keys[k], b.keys[k]);
        IndexCandidate m = a;
        if (prefix) {
          if (a.include.empty()) continue;  // B alone already serves A's statement
          m.keys = b.keys;
        } else {
          if (i > j) continue;  // the unordered pair once: A is the earlier
          for (const auto& k : b.keys)
            if (!HasKey(m.keys, k)) {
              if (m.keys.size() >= max) {
                m.keys.clear();
                break;
              }
              m.keys.push_back(k);
            }
          if (m.keys.empty()) continue;
        }
        // INCLUDE: both lists, minus what became a key.
        std::vector<std::string> inc;
        for (const auto* list : {&a.include, &b.include})
          for (const auto& col : *list) {
            bool key = false;
            for (const auto& k : m.keys) key |= k.expression.empty() && k.column == col;
            if (!key && std::find(inc.begin(), inc.end(), col) == inc.end()) inc.push_back(col);
          }
        const TableInfo* t = cat_.FindTable(a.schema, a.table);
        double width = 0;
        for (const auto& col : inc) {
          const ColumnInfo* ci = t ? t->Column(col) : nullptr;
          width += ci && ci->avg_width > 0 ? ci->avg_width : 8;
        }
        if (static_cast<int>(inc.size()) > o_.covering_max_columns + 1 ||
            width > o_.covering_max_width * 1.5)
          continue;
        m.include = inc;
        m.origin = "merged (" + a.origin + " + " + b.origin + ")";
        if (out_->Find(m.Id()) >= 0) continue;
        if (t && ExistingIndexProvides(*t, m)) continue;
        out_->Add(std::move(m));
        ++per_table[table];
        ++out_->merged;
      }
    }
  }

  // True when the statement's own predicates on this table imply the
  // partial predicate the way PostgreSQL's predicate prover sees it: the same
  // IS NULL, an equality with one of the listed constants, or an IN list of
  // a subset of them.
  bool Implies(const TableUse& u, const std::string& predicate) const {
    auto it = partials_.find(predicate);
    if (it == partials_.end()) return false;
    const PartialPredicate& pp = it->second;
    for (const auto& k : u.eq) {
      const Predicate* p = k.pred;
      if (!p || !p->expression.empty() || p->column != pp.column) continue;
      if (pp.is_null) {
        if (p->kind == PredicateKind::kIsNull) return true;
        continue;
      }
      if (p->value_kind != ValueKind::kConstant || p->constants.empty()) continue;
      if (p->kind != PredicateKind::kEquality && p->kind != PredicateKind::kInList) continue;
      bool subset = true;
      for (const auto& c : p->constants) subset &= pp.constants.count(c) > 0;
      if (subset) return true;
    }
    return false;
  }

  void MarkRelevant(int s, const TableUse& u) {
    std::set<std::string> leading;  // keys the statement can use to enter an index
    std::set<std::string> pred_cols;
    auto id = [](const CandidateKey& k) {
      return k.expression.empty() ? k.column : "(" + k.expression + ")";
    };
    for (const auto& k : u.eq) leading.insert(id(k.key));
    for (const auto& k : u.range) leading.insert(id(k.key));
    for (const auto& k : u.join) leading.insert(id(k.key));
    if (u.order_complete && !u.order.empty()) leading.insert(id(u.order[0]));
    for (const auto& k : u.eq) pred_cols.insert(k.key.column);
    auto& rel = out_->relevant[static_cast<size_t>(s)];
    for (size_t c = 0; c < out_->candidates.size(); ++c) {
      const auto& cand = out_->candidates[c];
      if (cand.schema != u.table->schema || cand.table != u.table->name) continue;
      bool usable = leading.count(id(cand.keys[0])) > 0;
      // A partial index needs the statement to imply its predicate.
      if (!cand.predicate.empty()) {
        if (!Implies(u, cand.predicate)) continue;
        usable = true;  // the predicate alone lets the planner scan it
      }
      if (usable && std::find(rel.begin(), rel.end(), static_cast<int>(c)) == rel.end())
        rel.push_back(static_cast<int>(c));
    }
  }

  const Workload& w_;
  const Catalog& cat_;
  const CandidateOptions& o_;
  CandidateSet* out_;
  std::vector<std::pair<int, TableUse>> uses_;
  std::deque<QueryFacts> subs_;                       // subquery facts the TableUses point into
  std::map<std::string, PartialPredicate> partials_;  // by Sql(): what each predicate means
};

}  // namespace

CandidateSet GenerateCandidates(const Workload& w, const Catalog& cat, const CandidateOptions& o) {
  CandidateSet out;
  Generator g(w, cat, o, &out);
  g.Run();
  return out;
}

int64_t DedupCorrectedSize(const TableInfo& t, const IndexCandidate& c, int64_t hypopg_bytes) {
  // Deduplication (PG13+) stores one key per run of equal keys plus a 6-byte
  // heap TID per row. It does not apply to INCLUDE indexes, and only B-trees.
  if (c.method != "btree" || !c.include.empty() || hypopg_bytes <= 0) return hypopg_bytes;
  double rows = std::max(t.Rows(), 1.0);
  double distinct = 1, key_width = 0;
  for (const auto& k : c.keys) {
    const ColumnInfo* col = k.expression.empty() ? t.Column(k.column) : nullptr;
    if (!col) return hypopg_bytes;  // expressions: no statistics to correct with
    // numeric, jsonb and float keys can't be deduplicated (equal values may
    // differ in their binary form).
    if (col->type.rfind("numeric", 0) == 0 || col->type == "jsonb" || col->type == "real" ||
        col->type == "double precision")
      return hypopg_bytes;
    distinct *= col->DistinctValues(rows);
    key_width += col->avg_width > 0 ? col->avg_width : 8;
  }
  distinct = std::min(distinct, rows);
  if (distinct >= rows * 0.5) return hypopg_bytes;  // mostly unique: nothing to save
  auto align8 = [](double b) { return std::ceil(b / 8) * 8; };
  double plain_tuple = align8(8 + key_width) + 4;  // IndexTupleData + key, plus line pointer
  // A posting list tuple holds at most ~200 TIDs (it must fit 1/3 of a page
  // with room to split), so very common values take several tuples.
  double per_tuple = std::min(rows / distinct, 200.0);
  double dedup_tuple = align8(8 + key_width + 6 * per_tuple) + 4;
  double ratio = (rows / per_tuple * dedup_tuple) / (rows * plain_tuple);
  ratio = std::clamp(ratio, 0.1, 1.0);
  return static_cast<int64_t>(static_cast<double>(hypopg_bytes) * ratio);
}

}  // namespace pgvise
