// Internals of PgTree (analyzer/sql/pg_tree.h), shared by its parts and by
// nothing else: the only header that sees the PostgreSQL server headers.
//
// The view reads each node through a table of its members: name, offset, and
// how the member shows in libpg_query's JSON (a wrapped node, a body, an
// array, a scalar...). Those tables are built once at start-up from the server
// headers (pg_tree_nodes.cc); ReadField below turns one member of one node into
// an element, and is the body of every at_key, every iteration step and every
// child visit (pg_tree.cc), so it stays inline here. NestingDepth
// (pg_tree_depth.cc) reads the same tables on the raw tree.
//
// A file including this one needs the build properties pg_tree.cc has in the
// top-level CMakeLists.txt (the server headers' include path).
#pragma once

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

#include <cstring>
#include <string_view>
#include <vector>

// The node layouts below are the server headers'; libpg_query was built from
// the same PostgreSQL major version or the tree would be misread.
static_assert(kPgQueryVersionNum / 10000 == PG_VERSION_NUM / 10000,
              "libpg_query and the PostgreSQL server headers are different major versions");

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

// NodeTags below this have a descriptor (PostgreSQL 15 has ~450).
constexpr unsigned kTagLimit = 1024;

// Type descriptors by NodeTag (pg_tree_nodes.cc). Built once at start-up
// (the member tables are constants): TypeOf is on every step of every walk,
// so no lazy-initialisation guard there.
extern const std::vector<TypeDesc> kTypes;
extern const TypeDesc kNoType;

inline const TypeDesc& TypeOf(const void* node) {
  const unsigned tag = static_cast<unsigned>(nodeTag(node));
  return tag < kTypes.size() ? kTypes[tag] : kNoType;
}

// The name A_Const's value member takes in the JSON ("ival", "sval"...), after
// the value's type; nullptr for a type the JSON does not show.
inline const char* ConstValueName(const A_Const* c) {
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

}  // namespace pgvise::pgtree
