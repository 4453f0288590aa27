// Scope: what the rewriter knows about names in one query level, and the
// shared analysis every decorrelation pass starts from.
//
// A SELECT's FROM clause exposes relations (tables, CTE references, derived
// tables, functions); a column reference resolves to the innermost level that
// exposes it, exactly as PostgreSQL's parser does. Qualified references
// (`o.user_id`) resolve by exposed name alone. Unqualified ones need the
// columns of each relation: known for derived tables and CTEs from their
// select lists, and for tables only with a RewriteCatalog. When a reference
// cannot be resolved the passes either refuse, or (top-level statement only)
// assume it belongs to the level where it is written: if that guess is wrong
// the rewritten SQL fails with "column does not exist" rather than returning
// different rows, because the derived tables the passes build are not
// LATERAL and the top level has no enclosing query to bind to.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "analyzer/sql/edit_tree.h"
#include "rewriter/rewriter.h"

namespace pgvise::rw {

struct Relation {
  std::string name;  // exposed name: alias, or table / function name
  std::string schema, table;
  bool base_table = false;  // a table reference (not a CTE, subquery or function)
  bool nullable = false;    // on the nullable side of an outer join
  bool columns_known = false;
  std::map<std::string, bool> columns;       // column -> NOT NULL (false when unknown)
  std::map<std::string, std::string> types;  // column -> type name, when the catalog knows
  int from_item = -1;                        // index of the top-level FROM item holding it
};

struct Scope {
  PgQuery__SelectStmt* select = nullptr;
  std::vector<Relation> rels;
  std::map<std::string, std::vector<std::string>> ctes;  // name -> columns ("" entry: unknown)
};

// Scopes from the outermost level (index 0) to the innermost.
using Stack = std::vector<const Scope*>;

Scope BuildScope(PgQuery__SelectStmt* s, const Stack& outer, const RewriteCatalog* cat);

struct Resolution {
  int level = -1;  // index into the stack; -1 when unresolved
  int rel = -1;    // index into that scope's rels (-1: an output column / unknown)
  bool unknown = false;
};
Resolution Resolve(const PgQuery__ColumnRef* c, const Stack& stack);

struct Ref {
  const PgQuery__ColumnRef* col = nullptr;
  int occurs_at = 0;  // the level the reference is written in
  Resolution res;
};
// Column references under `n`, which is evaluated in the innermost scope of
// `stack`; nested SELECTs push their own scopes.
void CollectRefs(Node* n, const Stack& stack, const RewriteCatalog* cat, std::vector<Ref>* out);
void CollectRefsSelect(PgQuery__SelectStmt* s, const Stack& stack, const RewriteCatalog* cat,
                       std::vector<Ref>* out);
// References in the FROM clause of `s` (join conditions, functions, LATERAL subqueries).
void CollectFromRefs(PgQuery__SelectStmt* s, const Stack& outer, const Stack& inner,
                     const RewriteCatalog* cat, std::vector<Ref>* out);

// Function facts: built-in lists, overridden by the catalog when it knows.
RewriteCatalog::Function ClassifyFunction(const PgQuery__FuncCall* f, const RewriteCatalog* cat);
bool IsAggregateCall(const PgQuery__FuncCall* f, const RewriteCatalog* cat);
// First volatile / set-returning function under `n` (nested SELECTs included), "" if none.
std::string FindVolatile(Node* n, const RewriteCatalog* cat);
std::string FindSetReturning(Node* n, const RewriteCatalog* cat);
// Aggregate / window calls of this level (not inside nested SELECTs).
bool HasAggregate(Node* n, const RewriteCatalog* cat);
bool HasWindow(Node* n);
bool HasSublink(Node* n);
bool SelectHasAggregate(PgQuery__SelectStmt* s, const RewriteCatalog* cat);

enum class SiteClause { kWhere, kHaving, kTarget, kJoinOn, kOther };
// Where a SubLink sits in its query level.
struct Site {
  Node** slot = nullptr;  // the slot holding the SubLink node
  SiteClause clause = SiteClause::kOther;
  Node** conjunct = nullptr;  // the top-level AND conjunct of WHERE/HAVING containing it
  bool in_aggregate = false;  // inside an aggregate call of this level
  int target = -1;            // select-list index for kTarget
};
std::vector<Site> CollectSites(PgQuery__SelectStmt* s, const RewriteCatalog* cat);

// Visits every SELECT of a statement bottom-up with the scopes enclosing it.
using SelectFn = std::function<void(PgQuery__SelectStmt*, const Stack&)>;
void WalkSelects(PgQuery__SelectStmt* s, Stack* stack, const RewriteCatalog* cat,
                 const SelectFn& fn);

// The output column name PostgreSQL gives an expression (FigureColname).
std::string FigureColname(const Node* n);

// The names of the columns a SELECT outputs; false when any is unknown
// (a * or a VALUES list).
bool OutputColumns(PgQuery__SelectStmt* s, std::vector<std::string>* out);
// SQL text shortened for messages.
std::string Shorten(const std::string& sql, size_t max = 160);
// AND conjuncts of a WHERE clause (the clause itself when not an AND).
std::vector<Node*> Conjuncts(Node* where);
// Every identifier used as a relation or alias name in the tree (to name new ones).
std::set<std::string> UsedNames(ProtobufCMessage* root);

}  // namespace pgvise::rw
