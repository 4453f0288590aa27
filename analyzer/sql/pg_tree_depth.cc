// NestingDepth: how deeply a parse tree nests, measured before anything
// recursive walks it.
//
// Every walk of a parse tree after the parse recurses (the facts walker,
// libpg_query's printers, protobuf-c, the rewriter), so a statement nested deep
// enough overflows the thread's stack. ParseSqlFile and ParseStatementFacts
// measure each long statement here first, without recursion, and refuse one
// deeper than kMaxNestingDepth (analyzer/sql/statement.h says how deep the
// walkers go before they fall). The count is the JSON nesting libpg_query
// would print (pg_tree.h has the worked example), so tests can check it
// against that JSON.
#include <algorithm>
#include <cstring>
#include <vector>

#include "analyzer/sql/pg_tree_internal.h"

namespace pgvise::pgtree {

int PgTree::MaxDepth() const {
  int depth = 0;
  for (int i = 0, n = size(); i < n; ++i) depth = std::max(depth, NestingDepth(statement(i)));
  return depth;
}

// On the raw tree rather than through element/object: it runs on every
// statement, and the generic view (a ReadField per member to settle, another
// to read) cost twice as much. Leaves (nodes without node members, A_Const's
// value) are counted where they are found, not pushed.
int NestingDepth(element root) {
  enum class As : uint8_t { kWrapped, kBody, kArray };
  struct Pending {
    const void* p;
    As as;
    int level;  // of p's first object or array
  };
  std::vector<Pending> stack;
  stack.reserve(64);
  switch (root.kind_) {
    case element::Kind::kWrapped:
      stack.push_back({root.ptr_, As::kWrapped, 1});
      break;
    case element::Kind::kBody:
      stack.push_back({root.ptr_, As::kBody, 1});
      break;
    case element::Kind::kArray:
      stack.push_back({root.ptr_, As::kArray, 1});
      break;
    default:
      return 0;
  }
  int deepest = 0;
  // A node body at `level`: counts it, queues its node and list members.
  auto body = [&](const void* node, int level) {
    const TypeDesc& t = TypeOf(node);
    if (!t.name) return;  // a type the view does not show
    deepest = std::max(deepest, level);
    for (uint8_t i : t.children) {
      const FieldDesc& f = t.fields[i];
      switch (f.kind) {
        case FieldKind::kNodePtr:
        case FieldKind::kStructPtr:
        case FieldKind::kList: {
          const void* c;
          std::memcpy(&c, static_cast<const char*>(node) + f.offset, sizeof c);
          if (!c) break;
          const As as = f.kind == FieldKind::kNodePtr     ? As::kWrapped
                        : f.kind == FieldKind::kStructPtr ? As::kBody
                                                          : As::kArray;
          stack.push_back({c, as, level + 1});
          break;
        }
        case FieldKind::kConstValue: {
          // {"ival": {"ival": 5}}: one object more, nothing inside.
          const auto* k = static_cast<const A_Const*>(node);
          if (!k->isnull && ConstValueName(k)) deepest = std::max(deepest, level + 1);
          break;
        }
        case FieldKind::kListItems:  // a List node's "items": the array itself
          stack.push_back({node, As::kArray, level + 1});
          break;
        default:
          break;
      }
    }
  };
  while (!stack.empty()) {
    const Pending p = stack.back();
    stack.pop_back();
    switch (p.as) {
      case As::kWrapped:  // {"Type": body}: the body is one level further in
        body(p.p, p.level + 1);
        break;
      case As::kBody:
        body(p.p, p.level);
        break;
      case As::kArray: {
        const List* l = static_cast<const List*>(p.p);
        deepest = std::max(deepest, p.level);
        if (IsA(l, IntList) || IsA(l, OidList)) break;  // numbers: no level
        for (int i = 0, n = list_length(l); i < n; ++i) {
          const void* c = list_nth(l, i);
          if (!c) continue;
          // A leaf (no node members) is counted here instead of queued.
          const TypeDesc& t = TypeOf(c);
          if (t.name && t.children.empty())
            deepest = std::max(deepest, p.level + 2);
          else
            stack.push_back({c, As::kWrapped, p.level + 1});
        }
        break;
      }
    }
  }
  return deepest;
}

}  // namespace pgvise::pgtree
