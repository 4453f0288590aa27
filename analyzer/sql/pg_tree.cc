// PgTree's view of the C parse tree: element, object and array, shaped like
// libpg_query's JSON (pg_tree.h says how), read through the member tables
// built in pg_tree_nodes.cc; and PgTree itself, which runs libpg_query's raw
// parse into a memory context of its own. The view is split from the tables
// and from the depth walk (pg_tree_depth.cc) because it is the part the facts
// walker runs through on every step: what is here is what its speed is.
#include "analyzer/sql/pg_tree.h"

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

}  // namespace pgvise::pgtree
