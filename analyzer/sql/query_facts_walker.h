// The extraction walker behind ExtractFacts (analyzer/sql/query_facts.cc): one
// pass over the parse tree (analyzer/sql/pg_tree.h) with a stack of query levels. Internal to
// the facts module; split over query_facts.cc (statements, DML),
// query_facts_select.cc (scopes, FROM, SELECT shape) and
// query_facts_predicates.cc (conditions, predicates, subquery links).
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "analyzer/sql/query_facts.h"
#include "analyzer/sql/query_facts_internal.h"

namespace pgvise::facts {

struct ScopeEntry {
  std::string alias;
  std::string table;  // qualified table name; empty for derived tables / functions
  bool is_cte = false;
};

// What a condition sits under while it is walked.
struct Ctx {
  Clause clause = Clause::kWhere;
  SubqueryPlacement placement = SubqueryPlacement::kWhere;
  bool under_or = false;
  bool negated = false;
  // Views of literals or of the parse tree's strings (live for the whole
  // extraction): Ctx is copied at every node, so no owned strings here.
  std::string_view join_type;   // for ON conditions
  std::string_view compare_op;  // for a scalar subquery being compared
};

struct Level {
  std::vector<ScopeEntry> scope;
  std::vector<RelationRef> relations;
  std::vector<Predicate> predicates;
  std::vector<JoinCondition> joins;
  std::set<std::string> correlated;
  std::set<std::string> ctes;  // CTE names visible here
  int sub_index = -1;          // index in QueryFacts::subqueries; -1 for the statement
  bool has_aggregate = false, has_window = false, has_volatile = false;
};

// A column reference resolved against the level stack.
struct Ref {
  std::string alias;   // relation alias ("" when unresolved)
  std::string column;  // "*" for t.*
  int level = -1;      // index in the stack; -1 unresolved
  int location = -1;
};

// An A_Expr's fields, read in one pass.
struct AExpr {
  std::string_view kind, op;
  dom::element l, r;
  bool has_l = false, has_r = false;
  int location = -1;
};
AExpr ReadAExpr(dom::object a);

class Extractor {
 public:
  explicit Extractor(QueryFacts* out) : out_(out) {}

  void Statement(Node n);

 private:
  // --- levels ---
  Level& Cur() { return *stack_.back(); }
  int CurIndex() const { return static_cast<int>(stack_.size()) - 1; }
  const ScopeEntry* FindAlias(const Level& l, std::string_view alias) const;
  Ref Resolve(dom::object column_ref);
  void NoteRef(const Ref& r);

  // --- query shapes ---
  void Select(dom::object s, bool top);
  void With(dom::object s);
  void FromItem(dom::element e, std::vector<std::string>* aliases);
  void AddRelation(dom::object range_var, bool in_scope);
  int Subquery(dom::element select, SubqueryKind kind, const Ctx& ctx, std::string alias,
               int location, bool lateral);
  void TargetList(dom::object s, std::string_view key);
  void SortKeys(dom::object s, std::string_view key, dom::object select, std::vector<SortKey>* out);
  void Limit(dom::object s);

  // --- expressions ---
  void Condition(dom::element e, Ctx ctx);
  void Expr(dom::element e, const Ctx& ctx);
  void ExprNode(Node n, const Ctx& ctx);
  void SubLink(dom::object s, const Ctx& ctx);
  bool TryPredicate(const AExpr& a, const Ctx& ctx);
  void CollectRefs(dom::element e, std::vector<Ref>* refs);
  void BoolColumn(dom::object column_ref, const Ctx& ctx);

  // --- DML ---
  void Insert(dom::object s);
  void Update(dom::object s);
  void Delete(dom::object s);
  void DmlTarget(dom::object s);
  void WhereAndReturning(dom::object s);

  QueryFacts* out_;
  std::vector<Level*> stack_;
};

}  // namespace pgvise::facts
