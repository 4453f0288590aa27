#include "analyzer/sql/pg_tree.h"

// libpg_query's public header first, for its version: the server headers
// below define the same macros for the PostgreSQL they come from.
#include <pg_query.h>
constexpr int kPgQueryVersionNum = PG_VERSION_NUM;
#undef PG_VERSION
#undef PG_VERSION_NUM
#undef PG_MAJORVERSION

// postgres.h must come first.
// clang-format off
extern "C" {
#include "postgres.h"
#include "nodes/lockoptions.h"
#include "nodes/parsenodes.h"
#include "nodes/pg_list.h"
#include "nodes/primnodes.h"
#include "nodes/value.h"
}
// clang-format on
// port.h maps the printf family to PostgreSQL's own; this file wants libc's.
#undef snprintf
#undef vsnprintf
#undef sprintf
#undef printf
#undef fprintf

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <vector>

// The node layouts below are the server headers'; libpg_query was built from
// the same PostgreSQL major version or the tree would be misread.
static_assert(kPgQueryVersionNum / 10000 == PG_VERSION_NUM / 10000,
              "libpg_query and the PostgreSQL server headers are different major versions");

// libpg_query's entry points below its JSON/protobuf printers
// (pg_query_internal.h, which needs PostgreSQL's headers in C mode).
extern "C" {
struct PgQueryRawParseResult {
  List* tree;
  char* stderr_buffer;
  PgQueryError* error;
};
PgQueryRawParseResult pg_query_raw_parse(const char* input);
MemoryContext pg_query_enter_memory_context();
void pg_query_exit_memory_context(MemoryContext ctx);
void pg_query_free_error(PgQueryError* error);
}

namespace pgvise::pgtree {

enum class FieldKind : uint8_t {
  kSkip,       // a member the JSON view does not show (Bitmapset*, Oid lists...)
  kNodePtr,    // Node* / Expr*: a wrapped node
  kStructPtr,  // RangeVar* etc.: the body alone
  kList,       // List*: an array
  kCString,
  kChar,
  kBool,
  kInt,
  kUInt,
  kEnum,
  kDouble,
  kConstValue,  // A_Const.val: named after the value's type, absent when isnull
  kListItems,   // a List node's "items"
};

struct FieldDesc {
  const char* name;
  uint8_t name_len;
  FieldKind kind;
  uint8_t size;  // of integer members
  uint16_t offset;
  const char* (*enum_name)(int);
  uint32_t sig;  // length, first and last byte of the name: at_key compares this first
};

constexpr uint32_t NameSig(const char* name, size_t len) {
  return len == 0 ? 0
                  : static_cast<uint32_t>(len) |
                        static_cast<uint32_t>(static_cast<uint8_t>(name[0])) << 8 |
                        static_cast<uint32_t>(static_cast<uint8_t>(name[len - 1])) << 16;
}

struct TypeDesc {
  const char* name = nullptr;  // "SelectStmt"
  std::string_view type;       // the same, measured once (unwrap is on every step)
  const FieldDesc* fields = nullptr;
  int count = 0;
  std::vector<uint8_t> children;  // indices of members that can hold a node or a list
  // Member index + 1 by name signature, open addressing: at_key looks up
  // instead of scanning (a node has up to ~30 members; "location" is last).
  static constexpr int kSlots = 64;
  uint8_t slots[kSlots] = {};
  int const_value = -1;  // A_Const's value member, named after its type
};

// Names whose signatures matched (same length, first and last byte): the
// bytes between. Inline: a libc memcmp call cost more than the lookup.
inline bool SameName(const char* name, std::string_view key) {
  for (size_t i = 1; i + 1 < key.size(); ++i)
    if (name[i] != key[i]) return false;
  return true;
}

inline int SlotOf(uint32_t sig) { return static_cast<int>((sig * 2654435761u) >> 26); }

namespace {

// pg_nodes.inc (generated, see scripts/gen_pg_nodes.py) is included once per
// table below; each includer defines only the PGV_* macros it needs, the rest
// expand to nothing, and the file undefines them all at its end.

// --- enum names: one overload per enum of the headers ---
template <typename E>
const char* EnumName(E) {
  return nullptr;
}
#define PGV_ENUM_BEGIN(E)                      \
  [[maybe_unused]] const char* EnumName(E e) { \
    switch (static_cast<int>(e)) {
#define PGV_ENUM_VALUE(V, N) \
  case N:                    \
    return #V;
#define PGV_ENUM_END \
  }                  \
  return nullptr;    \
  }
#include "pg_nodes.inc"

template <typename E>
const char* EnumThunk(int v) {
  return EnumName(static_cast<E>(v));
}

// --- which structs are nodes (a pointer to one is shown as its body) ---
template <typename T>
struct IsNode : std::false_type {};
#define PGV_TYPE_BEGIN(S) \
  template <>             \
  struct IsNode<S> : std::true_type {};
#include "pg_nodes.inc"

template <typename T>
constexpr FieldDesc MakeField(const char* name, size_t offset) {
  const size_t len = std::char_traits<char>::length(name);
  FieldDesc f{name,
              static_cast<uint8_t>(len),
              FieldKind::kSkip,
              static_cast<uint8_t>(sizeof(T)),
              static_cast<uint16_t>(offset),
              nullptr,
              NameSig(name, len)};
  if constexpr (std::is_same_v<T, bool>) {
    f.kind = FieldKind::kBool;
  } else if constexpr (std::is_same_v<T, char>) {
    f.kind = FieldKind::kChar;
  } else if constexpr (std::is_enum_v<T>) {
    f.kind = FieldKind::kEnum;
    f.enum_name = &EnumThunk<T>;
  } else if constexpr (std::is_integral_v<T>) {
    f.kind = std::is_signed_v<T> ? FieldKind::kInt : FieldKind::kUInt;
  } else if constexpr (std::is_floating_point_v<T>) {
    f.kind = FieldKind::kDouble;
  } else if constexpr (std::is_same_v<T, char*>) {
    f.kind = FieldKind::kCString;
  } else if constexpr (std::is_same_v<T, Node*> || std::is_same_v<T, Expr*>) {
    f.kind = FieldKind::kNodePtr;
  } else if constexpr (std::is_same_v<T, List*>) {
    f.kind = FieldKind::kList;
  } else if constexpr (std::is_pointer_v<T> && IsNode<std::remove_pointer_t<T>>::value) {
    f.kind = FieldKind::kStructPtr;
  }
  return f;
}

// --- per-struct member tables (a sentinel keeps empty ones legal) ---
#define PGV_TYPE_BEGIN(S) const FieldDesc kFields_##S[] = {
#define PGV_FIELD(S, f) MakeField<decltype(S::f)>(#f, offsetof(S, f)),
#define PGV_TYPE_END(S)                              \
  { nullptr, 0, FieldKind::kSkip, 0, 0, nullptr, 0 } \
  }                                                  \
  ;
#include "pg_nodes.inc"

const FieldDesc kAConstFields[] = {
    {"val", 3, FieldKind::kConstValue, 0, static_cast<uint16_t>(offsetof(A_Const, val)), nullptr,
     0},
    MakeField<bool>("isnull", offsetof(A_Const, isnull)),
    MakeField<int>("location", offsetof(A_Const, location)),
};
const FieldDesc kListFields[] = {
    {"items", 5, FieldKind::kListItems, 0, 0, nullptr, NameSig("items", 5)}};

// Type descriptors by NodeTag.
std::vector<TypeDesc> BuildTypes() {
  std::vector<TypeDesc> t(1024);
  auto put = [&](int tag, const char* name, const FieldDesc* fields, int count) {
    if (tag < 0 || tag >= static_cast<int>(t.size())) return;
    TypeDesc d{name, std::string_view(name), fields, count, {}};
    for (int i = 0; i < count; ++i) {
      if (fields[i].kind == FieldKind::kConstValue) {
        d.const_value = i;
      } else if (count < TypeDesc::kSlots) {  // else at_key scans (no such node in PG 15)
        int slot = SlotOf(fields[i].sig);
        while (d.slots[slot]) slot = (slot + 1) % TypeDesc::kSlots;
        d.slots[slot] = static_cast<uint8_t>(i + 1);
      }
      switch (fields[i].kind) {
        case FieldKind::kNodePtr:
        case FieldKind::kStructPtr:
        case FieldKind::kList:
        case FieldKind::kConstValue:
        case FieldKind::kListItems:
          d.children.push_back(static_cast<uint8_t>(i));
          break;
        default:
          break;
      }
    }
    t[tag] = std::move(d);
  };
#define PGV_TYPE_END(S) put(T_##S, #S, kFields_##S, static_cast<int>(std::size(kFields_##S)) - 1);
#define PGV_TAG(T) \
  if (!t[T_##T].name) put(T_##T, #T, nullptr, 0);
#include "pg_nodes.inc"
  put(T_A_Const, "A_Const", kAConstFields, static_cast<int>(std::size(kAConstFields)));
  put(T_List, "List", kListFields, 1);
  put(T_IntList, "IntList", kListFields, 1);
  put(T_OidList, "OidList", kListFields, 1);
  return t;
}

// Built once at start-up (the member tables are constants): TypeOf is on
// every step of every walk, so no lazy-initialisation guard there.
const std::vector<TypeDesc> kTypes = BuildTypes();
const TypeDesc kNoType;

inline const TypeDesc& TypeOf(const void* node) {
  const unsigned tag = static_cast<unsigned>(nodeTag(node));
  return tag < kTypes.size() ? kTypes[tag] : kNoType;
}

const char* ConstValueName(const A_Const* c) {
  switch (nodeTag(&c->val)) {
    case T_Integer:
      return "ival";
    case T_Float:
      return "fval";
    case T_Boolean:
      return "boolval";
    case T_String:
      return "sval";
    case T_BitString:
      return "bsval";
    default:
      return nullptr;
  }
}

}  // namespace

// The value of member `f` of `node`; *present is false when JSON would omit it.
// Always inlined: it is the body of every lookup and iteration step.
[[gnu::always_inline]] inline element ReadField(const void* node, const FieldDesc& f,
                                                bool* present) {
  const char* at = static_cast<const char*>(node) + f.offset;
  element e;
  *present = false;
  switch (f.kind) {
    case FieldKind::kSkip:
      return e;
    case FieldKind::kNodePtr:
    case FieldKind::kStructPtr:
    case FieldKind::kList: {
      const void* p;
      std::memcpy(&p, at, sizeof p);
      if (!p) return e;
      *present = true;
      e.kind_ = f.kind == FieldKind::kNodePtr     ? element::Kind::kWrapped
                : f.kind == FieldKind::kStructPtr ? element::Kind::kBody
                                                  : element::Kind::kArray;
      e.ptr_ = p;
      return e;
    }
    case FieldKind::kCString: {
      const char* s;
      std::memcpy(&s, at, sizeof s);
      if (!s) return e;
      *present = true;
      e.kind_ = element::Kind::kString;
      e.ptr_ = s;
      e.len_ = element::kUnknownLength;  // measured when read: most are only passed over
      return e;
    }
    case FieldKind::kChar:
      if (*at == 0) return e;
      *present = true;
      e.kind_ = element::Kind::kString;
      e.ptr_ = at;
      e.len_ = 1;
      return e;
    case FieldKind::kBool:
      if (!*reinterpret_cast<const bool*>(at)) return e;
      *present = true;
      e.kind_ = element::Kind::kBool;
      e.bool_ = true;
      return e;
    case FieldKind::kInt:
    case FieldKind::kUInt: {
      int64_t v = 0;
      if (f.size == 1) {
        v = f.kind == FieldKind::kInt ? *reinterpret_cast<const int8_t*>(at)
                                      : *reinterpret_cast<const uint8_t*>(at);
      } else if (f.size == 2) {
        int16_t s16;
        uint16_t u16;
        std::memcpy(&s16, at, 2);
        std::memcpy(&u16, at, 2);
        v = f.kind == FieldKind::kInt ? s16 : u16;
      } else if (f.size == 4) {
        int32_t s32;
        uint32_t u32;
        std::memcpy(&s32, at, 4);
        std::memcpy(&u32, at, 4);
        v = f.kind == FieldKind::kInt ? s32 : static_cast<int64_t>(u32);
      } else {
        std::memcpy(&v, at, 8);
      }
      if (v == 0) return e;
      *present = true;
      e.kind_ = element::Kind::kInt;
      e.int_ = v;
      return e;
    }
    case FieldKind::kEnum: {
      int v;
      std::memcpy(&v, at, sizeof v);
      const char* name = f.enum_name ? f.enum_name(v) : nullptr;
      *present = true;
      if (name) {
        e.kind_ = element::Kind::kString;
        e.ptr_ = name;
        e.len_ = static_cast<uint32_t>(std::strlen(name));
      } else {
        e.kind_ = element::Kind::kInt;
        e.int_ = v;
      }
      return e;
    }
    case FieldKind::kDouble: {
      double d;
      std::memcpy(&d, at, sizeof d);
      if (d == 0) return e;
      *present = true;
      e.kind_ = element::Kind::kDouble;
      e.double_ = d;
      return e;
    }
    case FieldKind::kConstValue: {
      const auto* c = static_cast<const A_Const*>(node);
      if (c->isnull || !ConstValueName(c)) return e;
      *present = true;
      e.kind_ = element::Kind::kBody;
      e.ptr_ = &c->val;
      return e;
    }
    case FieldKind::kListItems:
      *present = true;
      e.kind_ = element::Kind::kArray;
      e.ptr_ = node;
      return e;
  }
  return e;
}

namespace {

std::string_view FieldName(const void* node, const FieldDesc& f) {
  if (f.kind == FieldKind::kConstValue) {
    const char* n = ConstValueName(static_cast<const A_Const*>(node));
    return n ? std::string_view(n) : std::string_view();
  }
  return std::string_view(f.name, f.name_len);
}

}  // namespace

// --- element ---

error_code element::get(object& out) const {
  if (kind_ != Kind::kWrapped && kind_ != Kind::kBody) return INCORRECT_TYPE;
  out.node_ = ptr_;
  out.wrapper_ = kind_ == Kind::kWrapped;
  return SUCCESS;
}

error_code element::get(array& out) const {
  if (kind_ != Kind::kArray) return INCORRECT_TYPE;
  out.list_ = ptr_;
  return SUCCESS;
}

error_code element::get(std::string_view& out) const {
  if (kind_ != Kind::kString) return INCORRECT_TYPE;
  const char* s = static_cast<const char*>(ptr_);
  out = len_ == kUnknownLength ? std::string_view(s) : std::string_view(s, len_);
  return SUCCESS;
}

error_code element::get(int64_t& out) const {
  if (kind_ != Kind::kInt) return INCORRECT_TYPE;
  out = int_;
  return SUCCESS;
}

error_code element::get(bool& out) const {
  if (kind_ != Kind::kBool) return INCORRECT_TYPE;
  out = bool_;
  return SUCCESS;
}

error_code element::get(double& out) const {
  if (kind_ == Kind::kDouble) {
    out = double_;
  } else if (kind_ == Kind::kInt) {
    out = static_cast<double>(int_);
  } else {
    return INCORRECT_TYPE;
  }
  return SUCCESS;
}

// --- object ---

result object::at_key(std::string_view key) const {
  result r;
  if (!node_) return r;
  const TypeDesc& t = TypeOf(node_);
  if (wrapper_) {
    if (t.name && key == t.type) {
      r.value_ = element(element::Kind::kBody, node_);
      r.error_ = SUCCESS;
    }
    return r;
  }
  const FieldDesc* f = nullptr;
  if (t.const_value >= 0 && FieldName(node_, t.fields[t.const_value]) == key) {
    f = &t.fields[t.const_value];
  } else {
    const uint32_t sig = NameSig(key.data(), key.size());
    if (t.count < TypeDesc::kSlots) {
      for (int slot = SlotOf(sig); t.slots[slot]; slot = (slot + 1) % TypeDesc::kSlots) {
        const FieldDesc& c = t.fields[t.slots[slot] - 1];
        if (c.sig == sig && SameName(c.name, key)) {
          f = &c;
          break;
        }
      }
    } else {
      for (int i = 0; i < t.count && !f; ++i)
        if (t.fields[i].sig == sig && SameName(t.fields[i].name, key)) f = &t.fields[i];
    }
  }
  if (!f) return r;
  bool present;
  element v = ReadField(node_, *f, &present);
  if (present) {
    r.value_ = v;
    r.error_ = SUCCESS;
  }
  return r;
}

bool element::unwrap(std::string_view* type, object* body) const {
  if (kind_ != Kind::kWrapped || !ptr_) return false;
  const TypeDesc& t = TypeOf(ptr_);
  if (!t.name) return false;
  *type = t.type;
  body->node_ = ptr_;
  body->wrapper_ = false;
  return true;
}

size_t object::size() const {
  if (wrapper_) return node_ && TypeOf(node_).name ? 1 : 0;
  size_t n = 0;
  for (iterator it = begin(), e = end(); it != e; ++it) ++n;
  return n;
}

object::iterator object::begin() const {
  iterator it;
  it.obj_ = this;
  it.index_ = 0;
  it.Settle();
  return it;
}

object::iterator object::end() const {
  iterator it;
  it.obj_ = this;
  if (!node_) {
    it.index_ = 0;
  } else if (wrapper_) {
    it.index_ = TypeOf(node_).name ? 1 : 0;
  } else {
    it.index_ = TypeOf(node_).count;
  }
  return it;
}

object::iterator& object::iterator::operator++() {
  ++index_;
  Settle();
  return *this;
}

void object::iterator::Settle() {
  const void* node = obj_->node_;
  if (!node) return;
  const TypeDesc& t = TypeOf(node);
  if (obj_->wrapper_) {
    if (index_ == 0 && t.name) current_ = {t.type, element(element::Kind::kBody, node)};
    return;
  }
  for (; index_ < t.count; ++index_) {
    bool present;
    element v = ReadField(node, t.fields[index_], &present);
    if (present) {
      current_ = {FieldName(node, t.fields[index_]), v};
      return;
    }
  }
}

object::child_range::iterator object::child_range::begin() const {
  iterator it;
  if (!node_) return it;
  const TypeDesc& t = TypeOf(node_);
  it.node_ = node_;
  it.at_ = t.children.data();
  it.end_ = t.children.data() + t.children.size();
  it.Settle();
  return it;
}

object::child_range::iterator object::child_range::end() const {
  iterator it;
  if (!node_) return it;
  const TypeDesc& t = TypeOf(node_);
  it.at_ = it.end_ = t.children.data() + t.children.size();
  return it;
}

void object::child_range::iterator::Settle() {
  const TypeDesc& t = TypeOf(node_);
  for (; at_ != end_; ++at_) {
    bool present;
    ReadField(node_, t.fields[*at_], &present);
    if (present) return;
  }
}

element object::child_range::iterator::operator*() const {
  bool present;
  return ReadField(node_, TypeOf(node_).fields[*at_], &present);
}

// --- array ---

size_t array::size() const {
  return static_cast<size_t>(list_length(static_cast<const List*>(list_)));
}

array::iterator array::begin() const {
  iterator it;
  it.list_ = list_;
  return it;
}

array::iterator array::end() const {
  iterator it;
  it.list_ = list_;
  it.index_ = static_cast<int>(size());
  return it;
}

element array::iterator::operator*() const {
  const List* l = static_cast<const List*>(list_);
  element e;
  if (IsA(l, IntList) || IsA(l, OidList)) {
    e.kind_ = element::Kind::kInt;
    e.int_ =
        IsA(l, IntList) ? list_nth_int(l, index_) : static_cast<int64_t>(list_nth_oid(l, index_));
    return e;
  }
  return element::Wrapped(list_nth(l, index_));
}

// --- PgTree ---

PgTree::PgTree(const std::string& sql) {
  MemoryContext ctx = pg_query_enter_memory_context();
  context_ = ctx;
  PgQueryRawParseResult r = pg_query_raw_parse(sql.c_str());
  if (r.error) {
    message_ = r.error->message ? r.error->message : "parse error";
    cursor_ = r.error->cursorpos > 0 ? static_cast<size_t>(r.error->cursorpos - 1) : 0;
    pg_query_free_error(r.error);
  } else {
    ok_ = true;
    tree_ = r.tree;
  }
  std::free(r.stderr_buffer);
}

PgTree::~PgTree() { pg_query_exit_memory_context(static_cast<MemoryContext>(context_)); }

int PgTree::size() const { return list_length(static_cast<const List*>(tree_)); }

element PgTree::raw_statement(int i) const {
  return element::Wrapped(list_nth(static_cast<const List*>(tree_), i));
}

element PgTree::statement(int i) const {
  const auto* rs = static_cast<const RawStmt*>(list_nth(static_cast<const List*>(tree_), i));
  return element::Wrapped(rs->stmt);
}

int PgTree::MaxDepth() const {
  int depth = 0;
  for (int i = 0, n = size(); i < n; ++i) depth = std::max(depth, NestingDepth(statement(i)));
  return depth;
}

// --- nesting depth ---

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
