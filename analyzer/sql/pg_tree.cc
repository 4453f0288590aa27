// PgTree's view of the C parse tree: element, object and array, shaped like
// libpg_query's JSON (pg_tree.h says how), read through the member tables
// built in pg_tree_nodes.cc; and PgTree itself, which runs libpg_query's raw
// parse into a memory context of its own. The view is split from the tables
// and from the depth walk (pg_tree_depth.cc) because it is the part the facts
// walker runs through on every step: what is here is what its speed is.
#include "analyzer/sql/pg_tree.h"

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "analyzer/sql/pg_tree_internal.h"

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

namespace {

// The index in t.fields of the member named `key`, or -1 (A_Const's value,
// named after its content, is not looked for here).
int FindField(const TypeDesc& t, std::string_view key) {
  const uint32_t sig = NameSig(key.data(), key.size());
  if (t.count < TypeDesc::kSlots) {
    for (int slot = SlotOf(sig); t.slots[slot]; slot = (slot + 1) % TypeDesc::kSlots) {
      const int i = t.slots[slot] - 1;
      if (t.fields[i].sig == sig && SameName(t.fields[i].name, key)) return i;
    }
    return -1;
  }
  for (int i = 0; i < t.count; ++i)
    if (t.fields[i].sig == sig && SameName(t.fields[i].name, key)) return i;
  return -1;
}

[[gnu::always_inline]] inline result Read(const void* node, const FieldDesc& f) {
  result r;
  bool present;
  element v = ReadField(node, f, &present);
  if (present) {
    r.value_ = v;
    r.error_ = SUCCESS;
  }
  return r;
}

// Which member a string literal names, per node type: 32 entries (four
// cache lines; a SelectStmt is read with ~20 different literals) per tag, each the literal's
// address shifted left by 8 and the member index + 1 in the low byte (0: no such member). An entry
// is valid only for the address it holds, so two literals that share a slot just evict each other.
// Relaxed atomics because walkers on several threads (advise --jobs) fill it at once: an entry is
// one store, read whole or not at all, and any entry read means what it says.
struct alignas(64) LiteralMembers {
  std::atomic<uint64_t> entry[32];
};
LiteralMembers g_literal_members[kTagLimit];

inline std::atomic<uint64_t>& LiteralSlot(unsigned tag, uintptr_t p) {
  return g_literal_members[tag].entry[(p * 0x9E3779B97F4A7C15ull) >> 59];  // 5 bits of a hash
}

}  // namespace

result object::at_key(std::string_view key) const {
  if (!node_) return result();
  const TypeDesc& t = TypeOf(node_);
  if (wrapper_) {
    result r;
    if (t.name && key == t.type) {
      r.value_ = element(element::Kind::kBody, node_);
      r.error_ = SUCCESS;
    }
    return r;
  }
  if (t.const_value >= 0 && FieldName(node_, t.fields[t.const_value]) == key)
    return Read(node_, t.fields[t.const_value]);
  const int i = FindField(t, key);
  return i < 0 ? result() : Read(node_, t.fields[i]);
}

// A key not yet recalled for this node type: found by name, then remembered.
[[gnu::noinline]] result object::AtNewLiteralKey(const char* key, size_t len) const {
  const auto p = reinterpret_cast<uintptr_t>(key);
  const unsigned tag = node_ ? static_cast<unsigned>(nodeTag(node_)) : kTagLimit;
  // A wrapper's one key is its type name: compared, not remembered.
  if (wrapper_ || tag >= kTagLimit || p >> 56) return at_key(std::string_view(key, len));
  const TypeDesc& t = kTypes[tag];
  const int found = FindField(t, std::string_view(key, len));
  // A_Const's value member is named after the value ("ival", "sval"), so a
  // key that names no other member may still name it on some node: such a
  // key is looked up by name every time (at_key), never remembered absent.
  if (found < 0 && t.const_value >= 0) return at_key(std::string_view(key, len));
  if (found < 0xFF)  // else no room in the low byte: found by name every time
    LiteralSlot(tag, p).store(static_cast<uint64_t>(p) << 8 | static_cast<uint64_t>(found + 1),
                              std::memory_order_relaxed);
  return found < 0 ? result() : Read(node_, t.fields[found]);
}

// The hit path stays small (no call, no spills): what every literal lookup
// after the first per type and key runs.
result object::AtLiteralKey(const char* key, size_t len) const {
  if (node_ && !wrapper_) {
    const unsigned tag = static_cast<unsigned>(nodeTag(node_));
    const auto p = reinterpret_cast<uintptr_t>(key);
    if (tag < kTagLimit) {
      const uint64_t e = LiteralSlot(tag, p).load(std::memory_order_relaxed);
      if (e >> 8 == p) {
        const int i = static_cast<int>(e & 0xFF) - 1;
        return i < 0 ? result() : Read(node_, kTypes[tag].fields[i]);
      }
    }
  }
  return AtNewLiteralKey(key, len);
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

}  // namespace pgvise::pgtree
