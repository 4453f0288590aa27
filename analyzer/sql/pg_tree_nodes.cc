// PgTree's member tables: for every parse-node struct of the PostgreSQL
// server headers, its JSON name and, member by member, the name, the offset
// and how the member shows in libpg_query's JSON. This is what lets the view
// (pg_tree.cc) read the C tree in place and show it exactly as that JSON would.
//
// The struct and member names come from the headers at build time
// (scripts/gen_pg_nodes.py writes pg_nodes.inc); what each member is (a node,
// a list, an enum, an integer of which size...) the compiler decides here from
// its declared type, so a member that changes type between PostgreSQL
// versions cannot be misread. Example: SelectStmt's `List *targetList` becomes
// {"targetList", kList, offsetof(SelectStmt, targetList)}, its
// `SetOperation op` {"op", kEnum, ..., the names of SetOperation's values}.
//
// Everything here is constant once built; BuildTypes runs once, at start-up.
#include <iterator>
#include <type_traits>
#include <vector>

#include "analyzer/sql/pg_tree_internal.h"

namespace pgvise::pgtree {

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
  std::vector<TypeDesc> t(kTagLimit);
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

}  // namespace

const std::vector<TypeDesc> kTypes = BuildTypes();
const TypeDesc kNoType;

}  // namespace pgvise::pgtree
