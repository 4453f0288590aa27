// Candidate generation, step two: the shapes. Run walks every statement
// (and each subquery, whose predicates filter its own tables), collects
// each table's use (candidates_collect.cc) and GenerateFor turns it into
// candidates: single-column atoms, the multi-column B-tree (equality
// columns by selectivity, then one range or the ORDER BY), join shapes,
// covering variants, partial indexes on rare constants, IN lists and IS
// NULL, BRIN on physically ordered columns and GIN (unverified: HypoPG cannot
// cost it). What an existing index already provides is never emitted. Then
// merging and relevance (candidates_merge.cc).
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "advisor/candidates_internal.h"

namespace pgvise::candidates {

void Generator::Run() {
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

IndexCandidate Generator::Base(const TableUse& u) {
  IndexCandidate c;
  c.schema = u.table->schema;
  c.table = u.table->name;
  return c;
}

void Generator::Emit(IndexCandidate c) {
  if (c.keys.empty()) return;
  const TableInfo* t = cat_.FindTable(c.schema, c.table);
  if (t && ExistingIndexProvides(*t, c)) {
    ++out_->skipped_existing;
    return;
  }
  out_->Add(std::move(c));
}

void Generator::EmitCovering(const TableUse& u, const IndexCandidate& base, const QueryFacts& f) {
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

void Generator::GenerateFor(size_t s, const TableUse& u) {
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

}  // namespace pgvise::candidates
