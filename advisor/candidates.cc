#include "advisor/candidates.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <deque>

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

// Everything the generator knows about one table reference in one statement.
struct TableUse {
  const TableInfo* table = nullptr;
  std::string alias;
  std::vector<KeyUse> eq, range, join;
  std::vector<CandidateKey> order;  // ORDER BY keys, all on this table
  bool order_complete = false;      // every ORDER BY key is on this table
  std::vector<const Predicate*> gin;
  std::vector<const Predicate*> is_null, rare_eq;
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
          u.eq.push_back(k);
          if (p.kind == PredicateKind::kEquality && p.value_kind == ValueKind::kConstant &&
              p.constants.size() == 1 && col && p.expression.empty()) {
            // A partial index pays off for a status-like column (few values)
            // queried for one of its rare values; on a column of many even
            // values every constant is "rare" and a partial index per value
            // is the wrong tool.
            auto freq = col->ValueFrequency(Unquote(p.constants[0]));
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
      if (!sk.expression.empty() && sk.expression.find("random") != std::string::npos) {
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
    }
    for (auto& c : composites) {
      if (c.keys.size() >= 2) Emit(c);
      EmitCovering(u, c, f);
    }

    // Partial: a rare constant or IS NULL becomes the predicate; the other
    // keys (or the ORDER BY) index the rows that remain.
    auto partial_keys = [&](const std::string& skip_col) {
      std::vector<CandidateKey> keys;
      for (const auto& k : u.eq)
        if (k.key.column != skip_col || !k.key.expression.empty()) Append(&keys, k.key, max);
      if (!u.range.empty())
        Append(&keys, u.range[0].key, max);
      else if (u.order_complete)
        for (const auto& k : u.order) Append(&keys, k, max);
      return keys;
    };
    for (const Predicate* p : u.rare_eq) {
      IndexCandidate c = proto;
      c.keys = partial_keys(p->column);
      if (c.keys.empty()) {
        // Nothing else to key on: key the primary key so the index is small
        // and still returns the rare rows.
        for (const auto& con : u.table->constraints)
          if (con.type == 'p' && !con.columns.empty()) c.keys = {CandidateKey{con.columns[0]}};
        if (c.keys.empty()) c.keys = {CandidateKey{p->column}};
      }
      c.predicate = QuoteIdent(p->column) + " = " + p->constants[0];
      c.origin = "partial (rare value)";
      Emit(c);
      EmitCovering(u, c, f);
    }
    for (const Predicate* p : u.is_null) {
      IndexCandidate c = proto;
      c.keys = partial_keys(p->column);
      if (c.keys.empty()) continue;
      c.predicate = QuoteIdent(p->column) + " IS NULL";
      c.origin = "partial (IS NULL)";
      Emit(c);
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
        bool implied = false;
        for (const auto& k : u.eq)
          if (k.pred && k.key.expression.empty()) {
            std::string p =
                k.kind == PredicateKind::kIsNull
                    ? QuoteIdent(k.key.column) + " IS NULL"
                    : (k.pred->constants.size() == 1 && k.pred->value_kind == ValueKind::kConstant
                           ? QuoteIdent(k.key.column) + " = " + k.pred->constants[0]
                           : "");
            implied |= p == cand.predicate;
          }
        if (!implied) continue;
        usable = usable || true;  // the predicate alone lets the planner scan it
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
  std::deque<QueryFacts> subs_;  // subquery facts the TableUses point into
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
