// PgTree: PostgreSQL's raw parse tree, read in place through a JSON-shaped view.
//
// QueryFacts (analyzer/query_facts*.cc) is extracted from the parse tree of
// each statement. libpg_query offers that tree as JSON text, but printing the
// JSON costs 1.6x the parse itself (bench/review.md: pg_query_parse 4.8 ms vs
// the raw parse 1.8 ms per 1,000 statements), and reading it back costs more.
// So the facts walker reads the C tree the parser built, where it lies, and
// sees it exactly as that JSON would show it:
//
//   {"SelectStmt": {"targetList": [{"ResTarget": {...}}], "limitOption":
//    "LIMIT_OPTION_DEFAULT", "op": "SETOP_NONE"}}
//
// - a Node* is a one-key object naming its type, whose value is its body;
// - a member that points to a specific node struct (RangeVar *relation) is the
//   body alone, a List* is an array, a List node is {"List": {"items": [...]}};
// - members holding their default (false, 0, NULL) are absent; enums always
//   appear, by the name of their C enumerator;
// - A_Const's value is {"ival": {"ival": 5}}, {"sval": {"sval": "x"}}, ...
//
// Member names and positions come from the PostgreSQL server headers at build
// time (scripts/gen_pg_nodes.py); member types are classified by the compiler.
// analyzer/sql/pg_tree_test.cc checks this view against libpg_query's own JSON,
// byte for byte, on every statement of the test corpora.
//
// The API is the subset of simdjson's DOM the walker used (element, object,
// array, at_key, get, iteration), so the walker did not change shape. A view
// is valid while its PgTree lives.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace pgvise::pgtree {

enum error_code { SUCCESS = 0, NO_SUCH_FIELD, INCORRECT_TYPE };

class object;
class array;
struct key_value_pair;
struct FieldDesc;

class element {
 public:
  enum class Kind : uint8_t { kNone, kWrapped, kBody, kArray, kString, kInt, kBool, kDouble };

  element() = default;
  static element Wrapped(const void* node) { return element(Kind::kWrapped, node); }

  error_code get(object& out) const;
  error_code get(array& out) const;
  error_code get(std::string_view& out) const;
  error_code get(int64_t& out) const;
  error_code get(bool& out) const;
  error_code get(double& out) const;
  error_code get(element& out) const {
    out = *this;
    return SUCCESS;
  }
  bool is_object() const { return kind_ == Kind::kWrapped || kind_ == Kind::kBody; }
  // For a wrapped node: its type name and body (the one key and its value).
  bool unwrap(std::string_view* type, object* body) const;
  bool is_array() const { return kind_ == Kind::kArray; }
  Kind kind() const { return kind_; }

 private:
  friend class object;
  friend class array;
  friend element ReadField(const void* node, const FieldDesc& f, bool* present);
  friend int NestingDepth(element e);
  element(Kind k, const void* p) : kind_(k), ptr_(p) {}

  static constexpr uint32_t kUnknownLength = UINT32_MAX;
  Kind kind_ = Kind::kNone;
  uint32_t len_ = 0;  // kString; kUnknownLength: NUL-terminated
  union {
    const void* ptr_ = nullptr;  // kWrapped/kBody: the node; kArray: the List; kString: chars
    int64_t int_;
    double double_;
    bool bool_;
  };
};

// What at_key returns: an element or why there is none.
struct result {
  element value_;
  error_code error_ = NO_SUCH_FIELD;
  template <typename T>
  error_code get(T& out) const {
    return error_ != SUCCESS ? error_ : value_.get(out);
  }
  element value() const { return value_; }
};

struct key_value_pair {
  std::string_view key;
  element value;
};

// A node seen as an object: either the one-key wrapper {"Type": body} or a
// body whose keys are the node's members that hold a non-default value.
class object {
 public:
  class iterator {
   public:
    key_value_pair operator*() const { return current_; }
    iterator& operator++();
    bool operator!=(const iterator& o) const { return index_ != o.index_; }

   private:
    friend class object;
    void Settle();  // moves to the first present member at or after index_
    const object* obj_ = nullptr;
    int index_ = 0;
    key_value_pair current_;
  };

  // The members of a body that hold a node, a list or a node body and are
  // present: what a generic walk descends into. Skipping scalars unread made
  // the walks that look for column references or function calls ~2x faster.
  class child_range {
   public:
    class iterator {
     public:
      element operator*() const;
      iterator& operator++() {
        ++at_;
        Settle();
        return *this;
      }
      bool operator!=(const iterator& o) const { return at_ != o.at_; }

     private:
      friend class child_range;
      void Settle();  // skips absent members
      const void* node_ = nullptr;
      const uint8_t* at_ = nullptr;
      const uint8_t* end_ = nullptr;
    };
    iterator begin() const;
    iterator end() const;

   private:
    friend class object;
    const void* node_ = nullptr;
  };

  object() = default;
  result at_key(std::string_view key) const;
  // The same for a key written as a string literal (at_key("location")), the
  // walkers' usual case: a literal never changes and never moves, so which
  // member it names is found once per node type and then recalled by the
  // literal's address (pg_tree.cc), not looked up by name on every call. The
  // name lookup was ~14% of parsing a statement and extracting its facts.
  // Only for literals: a char array whose address could later hold other
  // text must go through the string_view overload.
  template <size_t N>
  result at_key(const char (&key)[N]) const {
    return AtLiteralKey(key, N - 1);
  }
  size_t size() const;  // keys present
  iterator begin() const;
  iterator end() const;
  // {"Type": body} rather than a body.
  bool is_wrapper() const { return wrapper_; }
  // A body's child members (none for a wrapper: its one value is the body).
  child_range children() const {
    child_range r;
    if (!wrapper_) r.node_ = node_;
    return r;
  }

 private:
  friend class element;
  result AtLiteralKey(const char* key, size_t len) const;
  result AtNewLiteralKey(const char* key, size_t len) const;
  const void* node_ = nullptr;
  bool wrapper_ = false;
};

class array {
 public:
  class iterator {
   public:
    element operator*() const;
    iterator& operator++() {
      ++index_;
      return *this;
    }
    bool operator!=(const iterator& o) const { return index_ != o.index_; }
    bool operator==(const iterator& o) const { return index_ == o.index_; }

   private:
    friend class array;
    const void* list_ = nullptr;
    int index_ = 0;
  };

  array() = default;
  size_t size() const;
  iterator begin() const;
  iterator end() const;

 private:
  friend class element;
  const void* list_ = nullptr;
};

// One statement parsed by libpg_query into a private memory context, freed
// with the object. ok() false: message() and cursor() (0-based byte offset)
// say what the parser rejected.
class PgTree {
 public:
  explicit PgTree(const std::string& sql);
  ~PgTree();
  PgTree(const PgTree&) = delete;
  PgTree& operator=(const PgTree&) = delete;

  bool ok() const { return ok_; }
  const std::string& message() const { return message_; }
  size_t cursor() const { return cursor_; }
  // The number of statements, and the i-th statement as a wrapped node.
  int size() const;
  element statement(int i) const;
  // The i-th RawStmt itself, wrapped ({"RawStmt": {"stmt": .., "stmt_len": ..}}).
  element raw_statement(int i) const;
  // The deepest nesting of any statement: NestingDepth of each statement(i).
  int MaxDepth() const;

 private:
  void* context_ = nullptr;
  void* tree_ = nullptr;  // List of RawStmt
  bool ok_ = false;
  std::string message_;
  size_t cursor_ = 0;
};

// How deeply `e` nests, counted as its JSON shows it: every object (a node's
// {"Type": ..} wrapper and its body) and every array (a List) is one level;
// scalars add none. `SELECT 1` is 6 ({"SelectStmt": {"targetList": [{"ResTarget":
// {"val": {"A_Const": {"ival": {..}}}}}]}} counted from the SelectStmt
// wrapper); each term of `1+1+..` adds 2 (an A_Expr wrapper and body), each
// UNION ALL branch 1 (larg is a SelectStmt body).
// Iterative (an explicit stack): it measures trees whose recursive walks would
// overflow the thread's stack, so that callers can refuse them first. One
// visit of every node, reading only the members that hold nodes or lists
// (5-10% of parsing and extracting facts, measured on bench/review_bench.cc
// statements; see kShortStatementBytes for how most statements skip it).
int NestingDepth(element e);

// The JSON text of a view, in libpg_query's member order and notation (for
// tests: it must equal pg_query_parse's output for the same statement).
std::string ToJson(element e);

}  // namespace pgvise::pgtree
