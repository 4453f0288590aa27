#include "analyzer/sql/edit_tree.h"

#include <sanitizer/asan_interface.h>  // the poisoning macros are no-ops without ASan

#include <cstddef>
#include <cstdlib>
#include <cstring>

#if defined(__SANITIZE_ADDRESS__)
#define PGVISE_ARENA_REDZONE 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PGVISE_ARENA_REDZONE 1
#endif
#endif

namespace pgvise::rw {

namespace {

// Why blocks: protobuf-c asks for one message, array or string at a time, so
// one statement's tree is hundreds of small allocations, and a pass that
// clones or restores a tree makes hundreds more. Under ASan every malloc
// records a stack, and its allocator was about a third of the rewrite
// fuzzer's time (libpg_query's own allocations included). They are carved
// from 16 KB blocks instead: the fuzzer ran 1.12x faster per input
// (bench/fuzz.md). Blocks are zeroed by calloc and never reused, so every
// allocation still starts zeroed, as protobuf-c and Strdup expect.
//
// Under ASan each allocation is followed by a poisoned gap and the rest of a
// block stays poisoned until carved, so reading or writing past a message is
// still reported, as it was with a calloc each.
constexpr size_t kBlockSize = 16 * 1024;
constexpr size_t kAlign = alignof(std::max_align_t);
#ifdef PGVISE_ARENA_REDZONE
constexpr size_t kRedzone = kAlign;
#else
constexpr size_t kRedzone = 0;
#endif

void* ArenaAlloc(void* data, size_t n) { return static_cast<Arena*>(data)->Alloc(n); }
// Arena memory is released all at once with the Tree; protobuf-c's frees are no-ops.
void ArenaFree(void*, void*) {}

}  // namespace

Arena::Arena() { allocator_ = ProtobufCAllocator{ArenaAlloc, ArenaFree, this}; }

Arena::~Arena() {
  for (void* b : blocks_) std::free(b);
}

void* Arena::Alloc(size_t n) {
  if (n == 0) n = 1;
  const size_t step = (n + kAlign - 1) / kAlign * kAlign + kRedzone;
  if (step > kBlockSize / 4) {  // large (a long string or array): a block of its own
    void* p = std::calloc(1, n);
    if (!p) throw std::bad_alloc();
    blocks_.push_back(p);
    return p;
  }
  if (step > left_) {
    next_ = static_cast<char*>(std::calloc(1, kBlockSize));
    if (!next_) throw std::bad_alloc();
    blocks_.push_back(next_);
    left_ = kBlockSize;
    ASAN_POISON_MEMORY_REGION(next_, kBlockSize);
  }
  char* p = next_;
  next_ += step;
  left_ -= step;
  ASAN_UNPOISON_MEMORY_REGION(p, n);
  return p;
}

char* Arena::Strdup(const std::string& s) {
  char* p = static_cast<char*>(Alloc(s.size() + 1));
  std::memcpy(p, s.data(), s.size());
  return p;
}

Status Tree::Parse(const std::string& sql, std::unique_ptr<Tree>* out, size_t* error_pos) {
  PgQueryProtobufParseResult r = pg_query_parse_protobuf(sql.c_str());
  if (r.error) {
    if (error_pos)
      *error_pos = r.error->cursorpos > 0 ? static_cast<size_t>(r.error->cursorpos - 1) : 0;
    Status st = Status::InvalidInput(r.error->message ? r.error->message : "syntax error");
    pg_query_free_protobuf_parse_result(r);
    return st;
  }
  std::unique_ptr<Tree> t(new Tree());
  t->root_ = pg_query__parse_result__unpack(t->arena_.allocator(), r.parse_tree.len,
                                            reinterpret_cast<const uint8_t*>(r.parse_tree.data));
  pg_query_free_protobuf_parse_result(r);
  if (!t->root_) return Status::Internal("cannot unpack libpg_query's protobuf parse tree");
  *out = std::move(t);
  return Status::Ok();
}

std::string Tree::Pack() const {
  std::string buf(pg_query__parse_result__get_packed_size(root_), '\0');
  pg_query__parse_result__pack(root_, reinterpret_cast<uint8_t*>(buf.data()));
  return buf;
}

Status Tree::Restore(const std::string& packed) {
  auto* r = pg_query__parse_result__unpack(arena_.allocator(), packed.size(),
                                           reinterpret_cast<const uint8_t*>(packed.data()));
  if (!r) return Status::Internal("cannot restore the parse tree");
  root_ = r;
  return Status::Ok();
}

namespace {

Status DeparseResult(const PgQuery__ParseResult* root, std::string* sql) {
  std::string buf(pg_query__parse_result__get_packed_size(root), '\0');
  pg_query__parse_result__pack(root, reinterpret_cast<uint8_t*>(buf.data()));
  PgQueryProtobuf pb{buf.size(), buf.data()};
  PgQueryDeparseResult d = pg_query_deparse_protobuf(pb);
  Status st;
  if (d.error) {
    st = Status::Internal(std::string("deparse failed: ") +
                          (d.error->message ? d.error->message : "?"));
  } else {
    *sql = d.query ? d.query : "";
  }
  pg_query_free_deparse_result(d);
  return st;
}

}  // namespace

Status Tree::Deparse(std::string* sql) const { return DeparseResult(root_, sql); }

Node* Tree::Clone(const Node* n) {
  if (!n) return nullptr;
  const auto* m = reinterpret_cast<const ProtobufCMessage*>(n);
  std::string buf(protobuf_c_message_get_packed_size(m), '\0');
  protobuf_c_message_pack(m, reinterpret_cast<uint8_t*>(buf.data()));
  return reinterpret_cast<Node*>(
      protobuf_c_message_unpack(&pg_query__node__descriptor, arena_.allocator(), buf.size(),
                                reinterpret_cast<const uint8_t*>(buf.data())));
}

Node* Tree::Wrap(PgQuery__Node__NodeCase c, void* msg) {
  PgQuery__Node init = PG_QUERY__NODE__INIT;
  Node* n = New(init);
  n->node_case = c;
  // Every member of the union is a pointer; writing one writes them all.
  n->alias = static_cast<PgQuery__Alias*>(msg);
  return n;
}

Node* Tree::String(const std::string& s) {
  PgQuery__String init = PG_QUERY__STRING__INIT;
  auto* m = New(init);
  m->sval = arena_.Strdup(s);
  return Wrap(PG_QUERY__NODE__NODE_STRING, m);
}

Node* Tree::ColumnRef(const std::vector<std::string>& fields) {
  PgQuery__ColumnRef init = PG_QUERY__COLUMN_REF__INIT;
  auto* m = New(init);
  for (const auto& f : fields) Append(&m->n_fields, &m->fields, String(f));
  m->location = -1;
  return Wrap(PG_QUERY__NODE__NODE_COLUMN_REF, m);
}

Node* Tree::IntConst(int v) {
  PgQuery__Integer iinit = PG_QUERY__INTEGER__INIT;
  auto* i = New(iinit);
  i->ival = v;
  PgQuery__AConst init = PG_QUERY__A__CONST__INIT;
  auto* m = New(init);
  m->val_case = PG_QUERY__A__CONST__VAL_IVAL;
  m->ival = i;
  m->location = -1;
  return Wrap(PG_QUERY__NODE__NODE_A_CONST, m);
}

Node* Tree::BoolConst(bool v) {
  PgQuery__Boolean binit = PG_QUERY__BOOLEAN__INIT;
  auto* b = New(binit);
  b->boolval = v;
  PgQuery__AConst init = PG_QUERY__A__CONST__INIT;
  auto* m = New(init);
  m->val_case = PG_QUERY__A__CONST__VAL_BOOLVAL;
  m->boolval = b;
  m->location = -1;
  return Wrap(PG_QUERY__NODE__NODE_A_CONST, m);
}

Node* Tree::Op(const std::string& op, Node* l, Node* r) {
  PgQuery__AExpr init = PG_QUERY__A__EXPR__INIT;
  auto* m = New(init);
  m->kind = PG_QUERY__A__EXPR__KIND__AEXPR_OP;
  Append(&m->n_name, &m->name, String(op));
  m->lexpr = l;
  m->rexpr = r;
  m->location = -1;
  return Wrap(PG_QUERY__NODE__NODE_A_EXPR, m);
}

Node* Tree::And(std::vector<Node*> args) {
  return Bool(PG_QUERY__BOOL_EXPR_TYPE__AND_EXPR, std::move(args));
}

Node* Tree::Or(std::vector<Node*> args) {
  return Bool(PG_QUERY__BOOL_EXPR_TYPE__OR_EXPR, std::move(args));
}

// AND / OR of `args`, nested ones of the same kind flattened, nulls skipped.
Node* Tree::Bool(PgQuery__BoolExprType op, std::vector<Node*> args) {
  std::vector<Node*> flat;
  for (Node* a : args) {
    if (!a) continue;
    if (a->node_case == PG_QUERY__NODE__NODE_BOOL_EXPR && a->bool_expr->boolop == op) {
      for (size_t i = 0; i < a->bool_expr->n_args; ++i) flat.push_back(a->bool_expr->args[i]);
    } else {
      flat.push_back(a);
    }
  }
  if (flat.empty()) return nullptr;
  if (flat.size() == 1) return flat[0];
  PgQuery__BoolExpr init = PG_QUERY__BOOL_EXPR__INIT;
  auto* m = New(init);
  m->boolop = op;
  for (Node* a : flat) Append(&m->n_args, &m->args, a);
  m->location = -1;
  return Wrap(PG_QUERY__NODE__NODE_BOOL_EXPR, m);
}

Node* Tree::Not(Node* arg) {
  PgQuery__BoolExpr init = PG_QUERY__BOOL_EXPR__INIT;
  auto* m = New(init);
  m->boolop = PG_QUERY__BOOL_EXPR_TYPE__NOT_EXPR;
  Append(&m->n_args, &m->args, arg);
  m->location = -1;
  return Wrap(PG_QUERY__NODE__NODE_BOOL_EXPR, m);
}

Node* Tree::NullTest(Node* arg, bool is_null) {
  PgQuery__NullTest init = PG_QUERY__NULL_TEST__INIT;
  auto* m = New(init);
  m->arg = arg;
  m->nulltesttype =
      is_null ? PG_QUERY__NULL_TEST_TYPE__IS_NULL : PG_QUERY__NULL_TEST_TYPE__IS_NOT_NULL;
  m->location = -1;
  return Wrap(PG_QUERY__NODE__NODE_NULL_TEST, m);
}

Node* Tree::Coalesce(std::vector<Node*> args) {
  PgQuery__CoalesceExpr init = PG_QUERY__COALESCE_EXPR__INIT;
  auto* m = New(init);
  for (Node* a : args) Append(&m->n_args, &m->args, a);
  m->location = -1;
  return Wrap(PG_QUERY__NODE__NODE_COALESCE_EXPR, m);
}

Node* Tree::Case(Node* when, Node* then, Node* otherwise) {
  PgQuery__CaseWhen winit = PG_QUERY__CASE_WHEN__INIT;
  auto* w = New(winit);
  w->expr = when;
  w->result = then;
  w->location = -1;
  PgQuery__CaseExpr init = PG_QUERY__CASE_EXPR__INIT;
  auto* m = New(init);
  Append(&m->n_args, &m->args, Wrap(PG_QUERY__NODE__NODE_CASE_WHEN, w));
  m->defresult = otherwise;
  m->location = -1;
  return Wrap(PG_QUERY__NODE__NODE_CASE_EXPR, m);
}

Node* Tree::FuncCall(const std::string& name, std::vector<Node*> args, bool star) {
  PgQuery__FuncCall init = PG_QUERY__FUNC_CALL__INIT;
  auto* m = New(init);
  Append(&m->n_funcname, &m->funcname, String(name));
  for (Node* a : args) Append(&m->n_args, &m->args, a);
  m->agg_star = star;
  m->funcformat = PG_QUERY__COERCION_FORM__COERCE_EXPLICIT_CALL;
  m->location = -1;
  return Wrap(PG_QUERY__NODE__NODE_FUNC_CALL, m);
}

Node* Tree::ResTarget(Node* val, const std::string& name) {
  PgQuery__ResTarget init = PG_QUERY__RES_TARGET__INIT;
  auto* m = New(init);
  m->val = val;
  if (!name.empty()) m->name = arena_.Strdup(name);
  m->location = -1;
  return Wrap(PG_QUERY__NODE__NODE_RES_TARGET, m);
}

PgQuery__SelectStmt* Tree::EmptySelect() {
  PgQuery__SelectStmt init = PG_QUERY__SELECT_STMT__INIT;
  auto* s = New(init);
  s->limit_option = PG_QUERY__LIMIT_OPTION__LIMIT_OPTION_DEFAULT;
  s->op = PG_QUERY__SET_OPERATION__SETOP_NONE;
  return s;
}

Node* Tree::SelectNode(PgQuery__SelectStmt* s) { return Wrap(PG_QUERY__NODE__NODE_SELECT_STMT, s); }

Node* Tree::RangeSubselect(PgQuery__SelectStmt* s, const std::string& alias) {
  PgQuery__Alias ainit = PG_QUERY__ALIAS__INIT;
  auto* a = New(ainit);
  a->aliasname = arena_.Strdup(alias);
  PgQuery__RangeSubselect init = PG_QUERY__RANGE_SUBSELECT__INIT;
  auto* m = New(init);
  m->subquery = SelectNode(s);
  m->alias = a;
  return Wrap(PG_QUERY__NODE__NODE_RANGE_SUBSELECT, m);
}

Node* Tree::Join(PgQuery__JoinType type, Node* l, Node* r, Node* quals) {
  PgQuery__JoinExpr init = PG_QUERY__JOIN_EXPR__INIT;
  auto* m = New(init);
  m->jointype = type;
  m->larg = l;
  m->rarg = r;
  m->quals = quals;
  return Wrap(PG_QUERY__NODE__NODE_JOIN_EXPR, m);
}

Node* Tree::SubLink(PgQuery__SubLinkType type, PgQuery__SelectStmt* s, Node* testexpr) {
  PgQuery__SubLink init = PG_QUERY__SUB_LINK__INIT;
  auto* m = New(init);
  m->sub_link_type = type;
  m->subselect = SelectNode(s);
  m->testexpr = testexpr;
  m->location = -1;
  return Wrap(PG_QUERY__NODE__NODE_SUB_LINK, m);
}

void Tree::Append(size_t* n, Node*** items, Node* item) {
  auto** grown = static_cast<Node**>(arena_.Alloc(sizeof(Node*) * (*n + 1)));
  for (size_t i = 0; i < *n; ++i) grown[i] = (*items)[i];
  grown[*n] = item;
  *items = grown;
  ++*n;
}

namespace {

bool IsNodeDescriptor(const ProtobufCMessageDescriptor* d) {
  return d == &pg_query__node__descriptor;
}

bool FieldPresent(const ProtobufCMessage* msg, const ProtobufCFieldDescriptor* f) {
  if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)) return true;
  const char* base = reinterpret_cast<const char*>(msg);
  return *reinterpret_cast<const uint32_t*>(base + f->quantifier_offset) == f->id;
}

void VisitChild(ProtobufCMessage** slot, const ProtobufCMessageDescriptor* d,
                const SlotVisitor& fn) {
  if (!*slot) return;
  if (IsNodeDescriptor(d)) {
    VisitSlots(reinterpret_cast<Node**>(slot), fn);
  } else {
    VisitSlots(*slot, fn);
  }
}

}  // namespace

void VisitSlots(Node** slot, const SlotVisitor& fn) {
  if (!*slot) return;
  if (!fn(slot)) return;
  if (*slot) VisitSlots(reinterpret_cast<ProtobufCMessage*>(*slot), fn);
}

void VisitSlots(ProtobufCMessage* msg, const SlotVisitor& fn) {
  if (!msg) return;
  const ProtobufCMessageDescriptor* d = msg->descriptor;
  char* base = reinterpret_cast<char*>(msg);
  if (IsNodeDescriptor(d)) {
    // A Node is a oneof of ~250 message fields with at most one set. Going
    // straight to the field numbered node_case visits the same child as
    // testing all of them for presence, which was a fifth of the rewriter's
    // time (bench/fuzz.md, rewrite_fuzz's profile).
    const auto* node = reinterpret_cast<const Node*>(msg);
    if (node->node_case == PG_QUERY__NODE__NODE__NOT_SET) return;
    const ProtobufCFieldDescriptor* f =
        protobuf_c_message_descriptor_get_field(d, static_cast<unsigned>(node->node_case));
    if (!f || f->type != PROTOBUF_C_TYPE_MESSAGE) return;
    VisitChild(reinterpret_cast<ProtobufCMessage**>(base + f->offset),
               static_cast<const ProtobufCMessageDescriptor*>(f->descriptor), fn);
    return;
  }
  for (unsigned i = 0; i < d->n_fields; ++i) {
    const ProtobufCFieldDescriptor* f = &d->fields[i];
    if (f->type != PROTOBUF_C_TYPE_MESSAGE || !FieldPresent(msg, f)) continue;
    auto* fd = static_cast<const ProtobufCMessageDescriptor*>(f->descriptor);
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
      size_t n = *reinterpret_cast<size_t*>(base + f->quantifier_offset);
      auto** arr = *reinterpret_cast<ProtobufCMessage***>(base + f->offset);
      for (size_t j = 0; j < n; ++j) VisitChild(&arr[j], fd, fn);
    } else {
      VisitChild(reinterpret_cast<ProtobufCMessage**>(base + f->offset), fd, fn);
    }
  }
}

namespace {

size_t ScalarSize(ProtobufCType t) {
  switch (t) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
      return 8;
    default:
      return 4;
  }
}

bool ValueEqual(const ProtobufCFieldDescriptor* f, const void* a, const void* b) {
  switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: {
      const char* x = *static_cast<const char* const*>(a);
      const char* y = *static_cast<const char* const*>(b);
      return std::strcmp(x ? x : "", y ? y : "") == 0;
    }
    case PROTOBUF_C_TYPE_BYTES: {
      auto* x = static_cast<const ProtobufCBinaryData*>(a);
      auto* y = static_cast<const ProtobufCBinaryData*>(b);
      return x->len == y->len && (x->len == 0 || std::memcmp(x->data, y->data, x->len) == 0);
    }
    case PROTOBUF_C_TYPE_MESSAGE:
      return NodeEqual(*static_cast<const ProtobufCMessage* const*>(a),
                       *static_cast<const ProtobufCMessage* const*>(b));
    default:
      return std::memcmp(a, b, ScalarSize(f->type)) == 0;
  }
}

size_t ElementSize(const ProtobufCFieldDescriptor* f) {
  switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_MESSAGE:
      return sizeof(void*);
    case PROTOBUF_C_TYPE_BYTES:
      return sizeof(ProtobufCBinaryData);
    default:
      return ScalarSize(f->type);
  }
}

}  // namespace

bool NodeEqual(const ProtobufCMessage* a, const ProtobufCMessage* b) {
  if (!a || !b) return a == b;
  if (a->descriptor != b->descriptor) return false;
  const ProtobufCMessageDescriptor* d = a->descriptor;
  const char* pa = reinterpret_cast<const char*>(a);
  const char* pb = reinterpret_cast<const char*>(b);
  for (unsigned i = 0; i < d->n_fields; ++i) {
    const ProtobufCFieldDescriptor* f = &d->fields[i];
    if (std::strcmp(f->name, "location") == 0) continue;
    bool ha = FieldPresent(a, f), hb = FieldPresent(b, f);
    if (ha != hb) return false;
    if (!ha) continue;
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
      size_t na = *reinterpret_cast<const size_t*>(pa + f->quantifier_offset);
      size_t nb = *reinterpret_cast<const size_t*>(pb + f->quantifier_offset);
      if (na != nb) return false;
      const char* ea = *reinterpret_cast<const char* const*>(pa + f->offset);
      const char* eb = *reinterpret_cast<const char* const*>(pb + f->offset);
      size_t sz = ElementSize(f);
      for (size_t j = 0; j < na; ++j)
        if (!ValueEqual(f, ea + j * sz, eb + j * sz)) return false;
    } else {
      if (!ValueEqual(f, pa + f->offset, pb + f->offset)) return false;
    }
  }
  return true;
}

bool NodeEqual(const Node* a, const Node* b) {
  return NodeEqual(reinterpret_cast<const ProtobufCMessage*>(a),
                   reinterpret_cast<const ProtobufCMessage*>(b));
}

namespace {

// Deparses a SELECT built around borrowed nodes; nothing here is freed
// because nothing is allocated beyond the stack.
std::string DeparseSelect(PgQuery__SelectStmt* s) {
  PgQuery__Node node = PG_QUERY__NODE__INIT;
  node.node_case = PG_QUERY__NODE__NODE_SELECT_STMT;
  node.select_stmt = s;
  PgQuery__RawStmt raw = PG_QUERY__RAW_STMT__INIT;
  raw.stmt = &node;
  PgQuery__RawStmt* raws[1] = {&raw};
  PgQuery__ParseResult pr = PG_QUERY__PARSE_RESULT__INIT;
  pr.version = PG_VERSION_NUM;
  pr.n_stmts = 1;
  pr.stmts = raws;
  std::string sql;
  if (!DeparseResult(&pr, &sql).ok()) return "?";
  return sql;
}

}  // namespace

std::string SelectSql(const PgQuery__SelectStmt* s) {
  return DeparseSelect(const_cast<PgQuery__SelectStmt*>(s));
}

std::string ExprSql(const Node* n) {
  if (!n) return "";
  PgQuery__ResTarget rt = PG_QUERY__RES_TARGET__INIT;
  rt.val = const_cast<Node*>(n);
  PgQuery__Node rtn = PG_QUERY__NODE__INIT;
  rtn.node_case = PG_QUERY__NODE__NODE_RES_TARGET;
  rtn.res_target = &rt;
  PgQuery__Node* tl[1] = {&rtn};
  PgQuery__SelectStmt s = PG_QUERY__SELECT_STMT__INIT;
  s.limit_option = PG_QUERY__LIMIT_OPTION__LIMIT_OPTION_DEFAULT;
  s.op = PG_QUERY__SET_OPERATION__SETOP_NONE;
  s.n_target_list = 1;
  s.target_list = tl;
  std::string sql = DeparseSelect(&s);
  if (sql.rfind("SELECT ", 0) == 0) return sql.substr(7);
  return sql;
}

std::string StrVal(const Node* n) {
  if (n && n->node_case == PG_QUERY__NODE__NODE_STRING && n->string->sval) return n->string->sval;
  return "";
}

std::string OpName(const PgQuery__AExpr* e) {
  if (!e || e->n_name == 0) return "";
  return StrVal(e->name[e->n_name - 1]);
}

std::string FuncName(const PgQuery__FuncCall* f) {
  if (!f || f->n_funcname == 0) return "";
  // The parser already folded unquoted names to lower case; a quoted
  // "COUNT" is another function and must stay distinct.
  return StrVal(f->funcname[f->n_funcname - 1]);
}

}  // namespace pgvise::rw
