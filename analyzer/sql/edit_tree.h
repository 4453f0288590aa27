// Tree (analyzer/edit_tree): libpg_query's protobuf parse tree of one SQL statement,
// held so a caller (the rewriter, the view advisor) can reshape it freely and deparse
// it back to SQL. Namespace `rw` for the rewriting tree; it sits in analyzer so
// both advisor and rewriter can build on it.
//
// Ownership is one arena. The tree is unpacked with an allocator that hands
// out arena memory and never frees, so nodes the passes build (with the
// protobuf-c INIT macros) and nodes the passes detach from the tree live and
// die together when the Tree is destroyed; no node is ever freed twice or
// leaked, however the passes splice the tree. The helpers here build the few
// node kinds a rewrite needs, walk any node generically through protobuf-c's
// descriptors, deep-copy (pack + unpack into the arena) and compare nodes
// ignoring source locations.
#pragma once

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace pgvise::rw {

using Node = PgQuery__Node;

class Arena {
 public:
  Arena();
  ~Arena();
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  void* Alloc(size_t n);
  char* Strdup(const std::string& s);
  ProtobufCAllocator* allocator() { return &allocator_; }

 private:
  std::vector<void*> blocks_;  // every block, freed with the arena
  char* next_ = nullptr;       // where the next allocation is carved from
  size_t left_ = 0;            // bytes left after next_ in its block
  ProtobufCAllocator allocator_;
};

class Tree {
 public:
  // Parses `sql` (one or more statements). On a syntax error returns
  // InvalidInput and sets *error_pos (0-based byte offset) when given.
  static Status Parse(const std::string& sql, std::unique_ptr<Tree>* out,
                      size_t* error_pos = nullptr);

  PgQuery__ParseResult* root() { return root_; }
  Arena& arena() { return arena_; }
  // Deparses the whole tree (statements joined by "; ").
  Status Deparse(std::string* sql) const;
  // Serialises the tree (a snapshot to restore when a pass must be undone).
  std::string Pack() const;
  // Replaces the tree with a snapshot from Pack().
  Status Restore(const std::string& packed);

  template <class T>
  T* New(const T& init) {
    T* p = static_cast<T*>(arena_.Alloc(sizeof(T)));
    *p = init;
    return p;
  }
  // Deep copy of `n` into this tree's arena.
  Node* Clone(const Node* n);

  // Node builders (location -1: "no source position").
  Node* Wrap(PgQuery__Node__NodeCase c, void* msg);
  Node* String(const std::string& s);
  Node* ColumnRef(const std::vector<std::string>& fields);
  Node* IntConst(int v);
  Node* BoolConst(bool v);
  Node* Op(const std::string& op, Node* l, Node* r);
  Node* And(std::vector<Node*> args);  // one arg: returned as is
  Node* Or(std::vector<Node*> args);   // likewise
  Node* Not(Node* arg);
  Node* NullTest(Node* arg, bool is_null);
  Node* Coalesce(std::vector<Node*> args);
  Node* Case(Node* when, Node* then, Node* otherwise);
  Node* FuncCall(const std::string& name, std::vector<Node*> args, bool star = false);
  Node* ResTarget(Node* val, const std::string& name);
  Node* SelectNode(PgQuery__SelectStmt* s);
  PgQuery__SelectStmt* EmptySelect();
  Node* RangeSubselect(PgQuery__SelectStmt* s, const std::string& alias);
  Node* Join(PgQuery__JoinType type, Node* l, Node* r, Node* quals);
  Node* SubLink(PgQuery__SubLinkType type, PgQuery__SelectStmt* s, Node* testexpr = nullptr);

  // Array helpers: repeated fields are (size_t n, Node** items) pairs.
  void Append(size_t* n, Node*** items, Node* item);

 private:
  Tree() = default;
  Arena arena_;
  Node* Bool(PgQuery__BoolExprType op, std::vector<Node*> args);
  PgQuery__ParseResult* root_ = nullptr;
};

// Visits every Node reachable from `msg` (pre-order). The callback receives
// the slot holding the node so it may replace it; returning false skips the
// node's children.
using SlotVisitor = std::function<bool(Node** slot)>;
void VisitSlots(ProtobufCMessage* msg, const SlotVisitor& fn);
void VisitSlots(Node** slot, const SlotVisitor& fn);

// Structural equality ignoring `location` fields.
bool NodeEqual(const ProtobufCMessage* a, const ProtobufCMessage* b);
bool NodeEqual(const Node* a, const Node* b);

// Deparses one expression as SQL text (for messages): "o.user_id = u.id".
std::string ExprSql(const Node* n);
// Deparses a whole SELECT statement node.
std::string SelectSql(const PgQuery__SelectStmt* s);

// String value of a String node ("" otherwise).
std::string StrVal(const Node* n);
// Operator name of an A_Expr (last element of its name list).
std::string OpName(const PgQuery__AExpr* e);
// Function name of a FuncCall, schema dropped ("count", "max").
std::string FuncName(const PgQuery__FuncCall* f);

}  // namespace pgvise::rw
