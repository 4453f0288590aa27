// Migration rules (area `migration`): schema changes that block production
// traffic or break running code. Each handler reads DdlFacts (the lock each
// action takes, whether it rewrites the table) and the file state, and its
// finding names the lock, the table (with its size under --db) and the safe
// sequence of statements to run instead.
//
// Worked example, `ALTER TABLE orders ADD COLUMN token uuid DEFAULT
// gen_random_uuid()` on a 38 GB table:
//   adding-field-with-volatile-default fires at "ADD COLUMN": the volatile
//   default is evaluated once per existing row, so PostgreSQL rewrites all
//   38 GB while holding ACCESS EXCLUSIVE (no reads, no writes);
//   require-lock-timeout fires too unless `SET lock_timeout` came earlier,
//   because even waiting for that lock queues every later query behind it.
// The suggestion: add the column without a default, set the default for new
// rows, backfill old rows in batches.
#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

#include <cctype>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "analyzer/sql_rules_internal.h"
#include "core/session.h"

namespace pgvise::sqlrules {

namespace {

// The one statement of `sql` as libpg_query's protobuf tree, freed with the
// object; stmt(kind) is null unless the SQL parses to exactly one statement
// of that node kind. The rules below read what the facts do not carry (a
// DEFAULT's calls, USING, COLLATE, a function body) from it.
class OneStatement {
 public:
  explicit OneStatement(const std::string& sql) : r_(pg_query_parse_protobuf(sql.c_str())) {
    if (!r_.error)
      tree_ = pg_query__parse_result__unpack(nullptr, r_.parse_tree.len,
                                             reinterpret_cast<const uint8_t*>(r_.parse_tree.data));
  }
  ~OneStatement() {
    if (tree_) pg_query__parse_result__free_unpacked(tree_, nullptr);
    pg_query_free_protobuf_parse_result(r_);
  }
  OneStatement(const OneStatement&) = delete;
  OneStatement& operator=(const OneStatement&) = delete;

  const PgQuery__Node* stmt(PgQuery__Node__NodeCase kind) const {
    if (!tree_ || tree_->n_stmts != 1 || !tree_->stmts[0]->stmt) return nullptr;
    return tree_->stmts[0]->stmt->node_case == kind ? tree_->stmts[0]->stmt : nullptr;
  }

 private:
  PgQueryProtobufParseResult r_;
  PgQuery__ParseResult* tree_ = nullptr;
};

// Calls fn(cmd, column_def) for each ALTER TABLE subcommand of `sql` of type
// `subtype` that defines a column (ADD COLUMN, ALTER COLUMN TYPE).
template <typename Fn>
void ForEachColumnCmd(const std::string& sql, PgQuery__AlterTableType subtype, Fn&& fn) {
  OneStatement one(sql);
  const PgQuery__Node* s = one.stmt(PG_QUERY__NODE__NODE_ALTER_TABLE_STMT);
  if (!s) return;
  const PgQuery__AlterTableStmt* at = s->alter_table_stmt;
  for (size_t i = 0; i < at->n_cmds; ++i) {
    const PgQuery__Node* n = at->cmds[i];
    if (n->node_case != PG_QUERY__NODE__NODE_ALTER_TABLE_CMD) continue;
    const PgQuery__AlterTableCmd* cmd = n->alter_table_cmd;
    if (cmd->subtype != subtype || !cmd->def ||
        cmd->def->node_case != PG_QUERY__NODE__NODE_COLUMN_DEF)
      continue;
    fn(*cmd, *cmd->def->column_def);
  }
}

// SQL words for an action in messages: "create-index" -> "CREATE INDEX".
std::string ActionWords(const std::string& action) {
  std::string out;
  for (char ch : action) out.push_back(ch == '-' ? ' ' : static_cast<char>(std::toupper(ch)));
  return out;
}

// CREATE INDEX without CONCURRENTLY on a table that exists before this file.
void RequireConcurrentIndexCreation(const Call& c, std::vector<Finding>* out) {
  const DdlFacts& d = c.facts.ddl;
  if (c.facts.kind != StatementKind::kCreateIndex || d.concurrently) return;
  // A table created earlier in this file is empty and unseen by the
  // application: a plain CREATE INDEX on it blocks nobody.
  if (c.state.IsNew(d.index_table)) return;
  Finding f = c.Make(0, "CREATE INDEX on " + c.Describe(d.index_table) +
                            " without CONCURRENTLY takes a SHARE lock: every INSERT, UPDATE "
                            "and DELETE on the table waits until the index is built");
  f.Add("lock", d.lock);
  c.AboutTable(d.index_table, &f);
  std::string sql = c.stmt.sql;
  int at = FindToken(sql, PG_QUERY__TOKEN__INDEX);
  if (at >= 0) sql.insert(static_cast<size_t>(at) + 5, " CONCURRENTLY");
  f.suggestion = sql +
                 ";  -- SHARE UPDATE EXCLUSIVE: reads and writes go on. Run it outside a "
                 "transaction block; if it fails, DROP INDEX CONCURRENTLY the INVALID index and "
                 "retry.";
  out->push_back(std::move(f));
}

}  // namespace

// ---- adding-field-with-volatile-default: is the DEFAULT volatile? --------
//
// PostgreSQL 11+ (tablecmds.c ATExecAddColumn -> heap.c StoreAttrDefault,
// read, not copied) plans the DEFAULT of ADD COLUMN and asks
// contain_volatile_functions. A default without volatile functions is
// evaluated ONCE and stored in pg_attribute.attmissingval: existing rows are
// not touched, the table keeps its relfilenode. That holds for immutable AND
// stable functions: DEFAULT now() stores the one timestamp of the ALTER's
// transaction as the value every existing row reads. A volatile default must
// give each row its own value, so the table is rewritten (new relfilenode,
// every index rebuilt) under ACCESS EXCLUSIVE. serial / identity columns draw
// from a sequence for each row: a rewrite as well. (A domain type with
// constraints also forces a rewrite, even with a constant default or none:
// adding-column-with-constrained-domain reports that.)
//
// contain_volatile_functions runs on the PLANNED expression, after
// inline_function (clauses.c) has replaced a LANGUAGE sql function whose body
// is one `SELECT <expression>` (or `RETURN <expression>`) by that expression.
// Declared volatility does not stop inlining a VOLATILE function, so
// `CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$ SELECT 'p' $$`
// (VOLATILE by omission) does not rewrite: the server keeps the relfilenode.
// Such a body is judged by its own calls; STRICT, SECURITY DEFINER, SET,
// SETOF and non-SQL functions are never inlined here.
//
// Without --db, volatility comes from QueryFacts' list of known volatile
// built-ins (random(), gen_random_uuid(), clock_timestamp(), nextval()...):
// a user-defined function is never on it. With --db every function a DEFAULT
// calls is looked up in pg_proc (one query per review run, cmd_review.cc) and
// resolved the way the parser would: a schema as written, else the schemas of
// current_schemas(true) in order, an earlier schema hiding the same signature
// in a later one, argument counts compatible. Argument types are not
// resolved, so overloads that disagree make the verdict VOLATILE and the
// message says so. A function created by a CREATE FUNCTION earlier in the
// file is judged by what that statement declares (VOLATILE when it says
// nothing). A name neither knows (another search_path, an extension the
// database lacks) falls back to the list.
//
// Worked example: my_schema.make_code() is VOLATILE in pg_proc;
// `ALTER TABLE t ADD COLUMN c text DEFAULT my_schema.make_code()` fires with
// "my_schema.make_code() is VOLATILE in pg_proc (...); every existing row is
// rewritten with its own value ...". `DEFAULT my_schema.fixed_code()` with an
// IMMUTABLE (or STABLE) function does not fire: one value, no rewrite.

namespace {

const char* VolatilityWord(char v) {
  return v == 'i' ? "IMMUTABLE" : v == 's' ? "STABLE" : "VOLATILE";
}

int VolatilityRank(char v) { return v == 'i' ? 0 : v == 's' ? 1 : 2; }

// Calls `fn` for every message in the protobuf-c tree under `m` (pre-order),
// through the descriptors, so no node type is missed. Only the active member
// of a oneof (PgQuery__Node) is followed.
template <typename Fn>
void WalkMessages(const ProtobufCMessage* m, const Fn& fn) {
  if (!m) return;
  fn(m);
  const ProtobufCMessageDescriptor* d = m->descriptor;
  const char* base = reinterpret_cast<const char*>(m);
  for (unsigned i = 0; i < d->n_fields; ++i) {
    const ProtobufCFieldDescriptor& fd = d->fields[i];
    if (fd.type != PROTOBUF_C_TYPE_MESSAGE) continue;
    if (fd.label == PROTOBUF_C_LABEL_REPEATED) {
      size_t n = *reinterpret_cast<const size_t*>(base + fd.quantifier_offset);
      auto items = *reinterpret_cast<ProtobufCMessage* const* const*>(base + fd.offset);
      for (size_t k = 0; k < n; ++k) WalkMessages(items[k], fn);
      continue;
    }
    if ((fd.flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
        *reinterpret_cast<const uint32_t*>(base + fd.quantifier_offset) != fd.id)
      continue;
    WalkMessages(*reinterpret_cast<ProtobufCMessage* const*>(base + fd.offset), fn);
  }
}

const char* StringOf(const PgQuery__Node* n) {
  return n && n->node_case == PG_QUERY__NODE__NODE_STRING && n->string ? n->string->sval : nullptr;
}

std::vector<FunctionCall> CallsIn(const PgQuery__Node* expr) {
  std::vector<FunctionCall> out;
  WalkMessages(&expr->base, [&](const ProtobufCMessage* m) {
    if (m->descriptor != &pg_query__func_call__descriptor) return;
    const auto* fc = reinterpret_cast<const PgQuery__FuncCall*>(m);
    if (fc->n_funcname == 0) return;
    FunctionCall call;
    const char* name = StringOf(fc->funcname[fc->n_funcname - 1]);
    if (!name) return;
    call.name = name;
    // catalog.schema.name: the database part is the current one.
    if (fc->n_funcname >= 2)
      if (const char* schema = StringOf(fc->funcname[fc->n_funcname - 2])) call.schema = schema;
    call.nargs = static_cast<int>(fc->n_args);
    call.location = fc->location;
    out.push_back(std::move(call));
  });
  return out;
}

// Whether a function with these parameters accepts `nargs` positional
// arguments (FuncnameGetCandidates: defaults fill the tail, VARIADIC takes
// any number from pronargs - 1).
bool AcceptsArgCount(const SqlFunction& f, int nargs) {
  if (nargs == f.nargs) return true;
  if (f.variadic && nargs >= f.nargs - 1) return true;
  return nargs < f.nargs && nargs >= f.nargs - f.nargdefaults;
}

}  // namespace

std::vector<AddColumnDefault> AddColumnDefaults(const std::string& sql) {
  std::vector<AddColumnDefault> out;
  ForEachColumnCmd(sql, PG_QUERY__ALTER_TABLE_TYPE__AT_AddColumn,
                   [&](const PgQuery__AlterTableCmd&, const PgQuery__ColumnDef& cd) {
                     AddColumnDefault d;
                     d.column = cd.colname ? cd.colname : "";
                     const PgQuery__Node* expr = cd.raw_default;
                     for (size_t k = 0; !expr && k < cd.n_constraints; ++k) {
                       const PgQuery__Node* c = cd.constraints[k];
                       if (c->node_case == PG_QUERY__NODE__NODE_CONSTRAINT &&
                           c->constraint->contype == PG_QUERY__CONSTR_TYPE__CONSTR_DEFAULT)
                         expr = c->constraint->raw_expr;
                     }
                     if (expr) {
                       d.has_default = true;
                       d.calls = CallsIn(expr);
                     }
                     out.push_back(std::move(d));
                   });
  return out;
}

namespace {

// The calls of a LANGUAGE sql body the planner can inline: exactly
// `SELECT <one expression>` with no FROM, WHERE, GROUP BY, HAVING, ORDER BY,
// LIMIT, DISTINCT, WITH, set operation or sub-select (inline_function's
// conditions). false: not such a body, so the call stays a function call.
// A SQL-standard body as pg_get_function_sqlbody prints it ("RETURN expr",
// "BEGIN ATOMIC stmt; END") becomes the query the planner would inline.
std::string BodyAsQuery(std::string b) {
  auto lower_prefix = [&](const char* p) {
    size_t n = std::char_traits<char>::length(p);
    if (b.size() < n) return false;
    for (size_t i = 0; i < n; ++i)
      if (std::tolower(static_cast<unsigned char>(b[i])) != p[i]) return false;
    return true;
  };
  auto trim = [&]() {
    while (!b.empty() && (std::isspace(static_cast<unsigned char>(b.back())) || b.back() == ';'))
      b.pop_back();
    size_t start = 0;
    while (start < b.size() && std::isspace(static_cast<unsigned char>(b[start]))) ++start;
    b.erase(0, start);
  };
  trim();
  if (lower_prefix("return") && b.size() > 6 && std::isspace(static_cast<unsigned char>(b[6])))
    return "SELECT " + b.substr(7);
  if (lower_prefix("begin atomic") && b.size() >= 15) {
    std::string tail = b.substr(b.size() - 3);
    for (char& ch : tail) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (tail == "end") {
      b = b.substr(12, b.size() - 15);
      trim();
    }
  }
  return b;
}

bool InlinableBodyCalls(const std::string& body, std::vector<FunctionCall>* calls) {
  OneStatement one(BodyAsQuery(body));
  const PgQuery__Node* s = one.stmt(PG_QUERY__NODE__NODE_SELECT_STMT);
  if (!s) return false;
  const PgQuery__SelectStmt* sel = s->select_stmt;
  bool ok = sel->n_target_list == 1 && sel->n_from_clause == 0 && !sel->where_clause &&
            sel->n_group_clause == 0 && !sel->having_clause && sel->n_sort_clause == 0 &&
            !sel->limit_count && !sel->limit_offset && sel->n_distinct_clause == 0 &&
            !sel->with_clause && sel->n_values_lists == 0 && sel->n_window_clause == 0 &&
            sel->op == PG_QUERY__SET_OPERATION__SETOP_NONE && !sel->into_clause;
  if (!ok) return false;
  const PgQuery__Node* target = sel->target_list[0];
  WalkMessages(&target->base, [&](const ProtobufCMessage* m) {
    if (m->descriptor == &pg_query__sub_link__descriptor) ok = false;
  });
  if (ok) *calls = CallsIn(target);
  return ok;
}

// Whether QueryFacts' list of volatile built-ins has this name (the list
// decides for a name pg_proc was not asked about), through the facts of a
// probe statement: the list itself is private to the facts module.
bool OnBuiltinVolatileList(const std::string& name) {
  QueryFacts f;
  size_t pos = 0;
  Status st = ParseStatementFacts(
      "ALTER TABLE pgvise_probe ADD COLUMN c int DEFAULT " + QuoteIdent(name) + "()", &f, &pos);
  return st.ok() && f.ddl.default_volatile;
}

// The volatility a VOLATILE inlinable LANGUAGE sql function has once the
// planner replaces it by its body; `note` says why, for the message.
char InlinedVolatility(const SqlFunctionCatalog& catalog, const SqlFunction& f, int depth,
                       std::string* note) {
  std::vector<FunctionCall> calls;
  if (depth > 3 || !InlinableBodyCalls(f.body, &calls)) return 'v';
  char worst = 'i';
  std::string volatile_calls, unknown;
  for (const FunctionCall& call : calls) {
    CallVolatility cv = ResolveVolatility(catalog, call, depth + 1);
    char v = cv.found ? cv.volatility : OnBuiltinVolatileList(call.name) ? 'v' : '?';
    if (v == '?') {
      unknown += (unknown.empty() ? "" : ", ") + call.Text();
      v = 'v';
    } else if (v == 'v') {
      volatile_calls += (volatile_calls.empty() ? "" : ", ") + call.Text();
    }
    if (VolatilityRank(v) > VolatilityRank(worst)) worst = v;
  }
  if (!volatile_calls.empty())
    *note = ", and its LANGUAGE sql body, which PostgreSQL inlines, calls " + volatile_calls +
            " (VOLATILE)";
  else if (!unknown.empty())
    *note = "; PostgreSQL inlines its LANGUAGE sql body, which calls " + unknown +
            ", not looked up in pg_proc: assumed VOLATILE";
  else
    *note = ", but PostgreSQL inlines its LANGUAGE sql body, which calls no volatile function";
  return worst;
}

}  // namespace

CallVolatility ResolveVolatility(const SqlFunctionCatalog& catalog, const FunctionCall& call,
                                 int depth) {
  CallVolatility v;
  // signature -> candidate; for an unqualified name the earliest schema on
  // the path wins (a later schema's function with the same argument types is
  // hidden, as in FuncnameGetCandidates).
  std::map<std::string, const SqlFunction*> by_signature;
  auto range = catalog.by_name.equal_range(call.name);
  for (auto it = range.first; it != range.second; ++it) {
    const SqlFunction& f = it->second;
    if (!AcceptsArgCount(f, call.nargs)) continue;
    if (!call.schema.empty()) {
      if (f.schema != call.schema) continue;
    } else if (f.path_position <= 0) {
      continue;
    }
    const SqlFunction*& slot = by_signature[f.arg_types];
    if (!slot || (call.schema.empty() && f.path_position < slot->path_position)) slot = &f;
  }
  for (const auto& [sig, f] : by_signature) {
    std::string note;
    char eff = f->volatility;
    if (f->volatility == 'v' && f->inlinable_sql) {
      auto cached = catalog.inlined.find(f);
      if (cached == catalog.inlined.end()) {
        eff = InlinedVolatility(catalog, *f, depth, &note);
        catalog.inlined[f] = {eff, note};
      } else {
        std::tie(eff, note) = cached->second;
      }
    }
    if (v.found && eff != v.volatility) v.disagree = true;
    if (!v.found || VolatilityRank(eff) > VolatilityRank(v.volatility)) v.volatility = eff;
    v.found = true;
    v.candidates.push_back(*f);
    v.effective.push_back(eff);
    v.notes.push_back(note);
  }
  return v;
}

std::string CallVolatility::Describe(const FunctionCall& call, const std::string& where) const {
  auto sig = [](const SqlFunction& f) {
    return (f.schema.empty() ? "" : f.schema + ".") + f.name + "(" + f.identity_args + ")";
  };
  if (!found) return call.Text() + " is not in " + where;
  if (disagree) {
    std::string list;
    for (size_t i = 0; i < candidates.size(); ++i) {
      list += (list.empty() ? "" : ", ") + sig(candidates[i]) + " " +
              VolatilityWord(candidates[i].volatility);
      if (effective[i] != candidates[i].volatility)
        list += std::string(" (") + VolatilityWord(effective[i]) + " once inlined)";
    }
    return call.Text() + " has overloads in " + where + " that disagree (" + list +
           "); pgvise does not resolve argument types, so it assumes VOLATILE";
  }
  std::string which = candidates.size() == 1
                          ? sig(candidates[0])
                          : std::to_string(candidates.size()) + " overloads, all the same";
  return call.Text() + " is " + VolatilityWord(candidates[0].volatility) + " in " + where + " (" +
         which + ")" + notes[0];
}

bool ParseCreateFunction(const std::string& sql, SqlFunction* out) {
  OneStatement one(sql);
  const PgQuery__Node* s = one.stmt(PG_QUERY__NODE__NODE_CREATE_FUNCTION_STMT);
  if (!s || s->create_function_stmt->is_procedure) return false;
  const PgQuery__CreateFunctionStmt* cf = s->create_function_stmt;
  SqlFunction f;
  if (cf->n_funcname > 0)
    if (const char* name = StringOf(cf->funcname[cf->n_funcname - 1])) f.name = name;
  if (cf->n_funcname > 1)
    if (const char* schema = StringOf(cf->funcname[cf->n_funcname - 2])) f.schema = schema;
  f.path_position = 1;  // created where the file's search_path puts it: assume first
  for (size_t i = 0; i < cf->n_parameters; ++i) {
    const PgQuery__Node* n = cf->parameters[i];
    if (n->node_case != PG_QUERY__NODE__NODE_FUNCTION_PARAMETER) continue;
    const PgQuery__FunctionParameter* p = n->function_parameter;
    if (p->mode == PG_QUERY__FUNCTION_PARAMETER_MODE__FUNC_PARAM_OUT ||
        p->mode == PG_QUERY__FUNCTION_PARAMETER_MODE__FUNC_PARAM_TABLE)
      continue;
    ++f.nargs;
    if (p->defexpr) ++f.nargdefaults;
    if (p->mode == PG_QUERY__FUNCTION_PARAMETER_MODE__FUNC_PARAM_VARIADIC) f.variadic = true;
    // The type's last name (and [] for arrays): enough to tell this
    // file's overloads apart for CREATE OR REPLACE.
    std::string type = "?";
    if (p->arg_type && p->arg_type->n_names > 0)
      if (const char* t = StringOf(p->arg_type->names[p->arg_type->n_names - 1]))
        type = std::string(t) + (p->arg_type->n_array_bounds > 0 ? "[]" : "");
    f.arg_types += (f.arg_types.empty() ? "" : ",") + type;
    f.identity_args += (f.identity_args.empty() ? "" : ", ") + type;
  }
  bool sql_language = false, inline_blocked = cf->return_type && cf->return_type->setof;
  for (size_t i = 0; i < cf->n_options; ++i) {
    const PgQuery__Node* n = cf->options[i];
    if (n->node_case != PG_QUERY__NODE__NODE_DEF_ELEM) continue;
    const PgQuery__DefElem* d = n->def_elem;
    std::string opt = d->defname ? d->defname : "";
    const PgQuery__Node* arg = d->arg;
    bool on = arg && arg->node_case == PG_QUERY__NODE__NODE_BOOLEAN && arg->boolean->boolval;
    if (opt == "volatility") {
      const char* v = StringOf(arg);
      if (v) f.volatility = v[0] == 'i' ? 'i' : v[0] == 's' ? 's' : 'v';
    } else if (opt == "language") {
      const char* l = StringOf(arg);
      sql_language = l && std::string(l) == "sql";
    } else if ((opt == "strict" || opt == "security") && on) {
      inline_blocked = true;
    } else if (opt == "set") {
      inline_blocked = true;
    } else if (opt == "as" && arg && arg->node_case == PG_QUERY__NODE__NODE_LIST &&
               arg->list->n_items > 0) {
      if (const char* body = StringOf(arg->list->items[0])) f.body = body;
    }
  }
  // A SQL-standard body (RETURN expr / BEGIN ATOMIC ... END): its text
  // from the RETURN or BEGIN keyword on, as pg_get_function_sqlbody
  // would print it.
  if (f.body.empty() && cf->sql_body) {
    int at = FindToken(sql, PG_QUERY__TOKEN__RETURN);
    if (at < 0) at = FindToken(sql, PG_QUERY__TOKEN__BEGIN_P);
    if (at >= 0) f.body = sql.substr(static_cast<size_t>(at));
  }
  f.inlinable_sql = sql_language && !inline_blocked && !f.body.empty();
  if (!f.inlinable_sql) f.body.clear();
  if (f.name.empty()) return false;
  *out = std::move(f);
  return true;
}

namespace {

// The verdict for one ADD COLUMN: rewrites or not, and why (for the message).
struct DefaultVerdict {
  bool rewrites = false;
  std::string why;     // "my_schema.make_code() is VOLATILE in pg_proc (...)"
  std::string source;  // "pg_proc" | "pg_proc: overloads disagree" | "built-in list"
  std::string function;
};

DefaultVerdict JudgeDefault(const Call& c, const DdlAction& a, const AddColumnDefault* parsed) {
  DefaultVerdict v;
  // Runs without --db: the facts' verdict (the list of known volatile
  // built-ins). serial / identity (no DEFAULT expression): a sequence value
  // per row.
  if (!c.ctx.functions || !parsed || !parsed->has_default) {
    v.rewrites = a.default_volatile;
    v.source = c.ctx.functions && parsed ? "sequence" : "built-in list";
    return v;
  }
  std::string unknown;
  for (const FunctionCall& call : parsed->calls) {
    // A function this file creates earlier replaces what pg_proc has (or
    // adds what it lacks): the file runs before the ALTER.
    std::string where = "this file's CREATE FUNCTION";
    CallVolatility cv = ResolveVolatility(c.state.created_functions, call);
    if (!cv.found) {
      where = "pg_proc";
      cv = ResolveVolatility(*c.ctx.functions, call);
    }
    if (!cv.found) {
      unknown += (unknown.empty() ? "" : ", ") + call.Text();
      continue;
    }
    if (cv.volatility == 'v' && !v.rewrites) {
      v.rewrites = true;
      v.why = cv.Describe(call, where);
      v.source = where + (cv.disagree ? ": overloads disagree" : "");
      v.function = call.Text();
    }
  }
  if (v.rewrites || unknown.empty()) return v;
  // Only names pg_proc does not know remain: the list decides for them.
  v.rewrites = a.default_volatile;
  v.source = "built-in list";
  v.why = unknown + (unknown.find(',') == std::string::npos ? " is" : " are") +
          " not in pg_proc; pgvise's list of known volatile functions decides";
  return v;
}

void AddingFieldWithVolatileDefault(const Call& c, std::vector<Finding>* out) {
  const DdlFacts& d = c.facts.ddl;
  if (c.facts.kind != StatementKind::kAlterTable || c.state.IsNew(d.object)) return;
  std::vector<AddColumnDefault> defaults;
  bool parsed = false;
  size_t nth = 0;
  for (const DdlAction& a : d.items) {
    if (a.action != "add-column") continue;
    size_t index = nth++;
    const AddColumnDefault* def = nullptr;
    if (c.ctx.functions) {  // the parse is needed only to ask pg_proc
      if (!parsed) defaults = AddColumnDefaults(c.stmt.sql);
      parsed = true;
      if (index < defaults.size() && defaults[index].column == a.column) def = &defaults[index];
    }
    DefaultVerdict v = JudgeDefault(c, a, def);
    if (!v.rewrites) continue;
    // Overloads that disagree: the parser may pick a non-volatile one.
    const char* verb =
        v.source.find("disagree") != std::string::npos ? " may rewrite table " : " rewrites table ";
    std::string message =
        v.why.empty() || v.source == "built-in list"
            ? "ADD COLUMN " + a.column + " with volatile default " + a.default_expr +
                  " rewrites table " + c.Describe(d.object) +
                  " under ACCESS EXCLUSIVE: the default is computed for every existing row "
                  "while all reads and writes wait"
            : "ADD COLUMN " + a.column + " with default " + a.default_expr + verb +
                  c.Describe(d.object) + ": " + v.why +
                  "; every existing row is rewritten with its own value under ACCESS EXCLUSIVE "
                  "while all reads and writes wait";
    if (v.source == "built-in list" && !v.why.empty()) message += " (" + v.why + ")";
    Finding f = c.Make(a.location, message);
    f.Add("lock", "ACCESS EXCLUSIVE").Add("column", a.column).Add("default", a.default_expr);
    if (c.ctx.functions) {
      f.Add("volatility_source", v.source);
      if (!v.function.empty()) f.Add("function", v.function);
    }
    c.AboutTable(d.object, &f);
    std::string type = a.new_type.empty() ? "<type>" : a.new_type;
    std::string def_sql =
        a.default_expr == "nextval(...)" ? "nextval('<sequence>')" : a.default_expr;
    f.suggestion = "ALTER TABLE " + d.object + " ADD COLUMN " + a.column + " " + type +
                   ";\nALTER TABLE " + d.object + " ALTER COLUMN " + a.column + " SET DEFAULT " +
                   def_sql +
                   ";  -- new rows only, no rewrite\n-- then backfill existing rows in "
                   "batches: UPDATE " +
                   d.object + " SET " + a.column + " = " + def_sql + " WHERE <key range> AND " +
                   a.column + " IS NULL;";
    out->push_back(std::move(f));
  }
}

// ---- changing-column-type: does PostgreSQL rewrite the table? -------------
//
// The model follows PostgreSQL 15's source (read, not copied):
// - tablecmds.c, ATPrepAlterColumnType builds the expression that turns the
//   old value into the new one (the USING expression, or the column itself
//   coerced to the new type), runs it through expression_planner, and asks
//   ATColumnChangeRequiresRewrite. That function walks down the expression
//   and answers "no rewrite" only when it reaches the column itself through
//   nothing but RelabelType (a binary-coercible cast, pg_cast.castmethod =
//   'b'), coercions to domains without constraints, and — since PG 12 — the
//   timestamp <-> timestamptz conversion functions when the session TimeZone
//   has a zero UTC offset (TimestampTimestampTzRequiresRewrite). Any other
//   function call means every row is converted: a new relfilenode, every
//   index rebuilt, all under ACCESS EXCLUSIVE.
// - The length-coercion functions varchar(), numeric(), varbit(),
//   timestamp()/timestamptz()/time()/timetz() and interval() have planner
//   support functions (varchar_support in varchar.c, numeric_support in
//   numeric.c, varbit_support, TemporalSimplify in datetime.c,
//   interval_support) that replace a call which can only widen the limit by a
//   RelabelType, so the walk above sees no function: varchar(n) -> varchar(m)
//   with m >= n or no limit; numeric(p,s) -> numeric(p2,s) with p2 >= p (same
//   scale), or to unconstrained numeric; time/timestamp precision raised or
//   dropped. bpchar() has no support function: char(n) -> char(m) rewrites.
//   A binary-coercible cast loses the source's modifier (the RelabelType has
//   typmod -1), so text -> varchar(20) still calls varchar() and rewrites.
// - Without a rewrite, ATPostAlterTypeParse/TryReuseIndex keep an index's
//   storage only when its operator class is unchanged (CheckIndexCompatible):
//   varchar -> text and cidr -> inet keep btree indexes (text_ops/inet_ops
//   serve both), text -> bpchar, int4 -> oid, bit -> varbit and timestamp <->
//   timestamptz rebuild them, still under ACCESS EXCLUSIVE.
// - Arrays go through ArrayCoerceExpr, which the walk does not look into:
//   varchar(20)[] -> text[] rewrites.
// tests/review_cli_pg_test.cc checks every no-rewrite claim against a real
// server by comparing pg_class.relfilenode before and after the ALTER.
//
// Worked example: users.name is character varying(20) in the catalog;
// `ALTER TABLE users ALTER COLUMN name TYPE varchar(40)` parses to
// {varchar, {40}} from {varchar, {20}}: same type, limit widened ->
// kCatalogOnly, no finding (require-lock-timeout still reports the brief
// ACCESS EXCLUSIVE lock when no lock_timeout is set). `TYPE bigint` on an
// integer column is kRewrite: "changes public.users.id from integer to bigint:
// rewrites table users (38 GB, 120M rows) ...".

}  // namespace

namespace {

std::string Lower(const std::string& s) {
  std::string out;
  for (char ch : s) out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
  return out;
}

// SQL and format_type() spellings -> internal type names the model knows.
const std::map<std::string, std::string>& TypeAliases() {
  static const std::map<std::string, std::string> kAliases = {
      {"character varying", "varchar"},
      {"varchar", "varchar"},
      {"character", "bpchar"},
      {"char", "bpchar"},
      {"bpchar", "bpchar"},
      {"text", "text"},
      {"numeric", "numeric"},
      {"decimal", "numeric"},
      {"integer", "int4"},
      {"int", "int4"},
      {"int4", "int4"},
      {"bigint", "int8"},
      {"int8", "int8"},
      {"smallint", "int2"},
      {"int2", "int2"},
      {"bit varying", "varbit"},
      {"varbit", "varbit"},
      {"bit", "bit"},
      {"timestamp without time zone", "timestamp"},
      {"timestamp", "timestamp"},
      {"timestamp with time zone", "timestamptz"},
      {"timestamptz", "timestamptz"},
      {"time without time zone", "time"},
      {"time", "time"},
      {"time with time zone", "timetz"},
      {"timetz", "timetz"},
      {"interval", "interval"},
      {"cidr", "cidr"},
      {"inet", "inet"},
      {"oid", "oid"},
      {"xml", "xml"},
      {"boolean", "bool"},
      {"bool", "bool"},
      {"real", "float4"},
      {"float4", "float4"},
      {"double precision", "float8"},
      {"float8", "float8"},
      {"date", "date"},
      {"json", "json"},
      {"jsonb", "jsonb"},
      {"uuid", "uuid"},
      {"bytea", "bytea"},
      {"money", "money"},
  };
  return kAliases;
}

// Built-in casts with pg_cast.castmethod = 'b' (PostgreSQL 15, queried from
// pg_cast): a RelabelType, no function call.
bool BinaryCoercible(const std::string& from, const std::string& to) {
  static const std::pair<const char*, const char*> kPairs[] = {
      {"varchar", "text"}, {"text", "varchar"}, {"text", "bpchar"}, {"varchar", "bpchar"},
      {"bit", "varbit"},   {"varbit", "bit"},   {"cidr", "inet"},   {"int4", "oid"},
      {"oid", "int4"},     {"xml", "text"},     {"xml", "varchar"}, {"xml", "bpchar"},
  };
  for (const auto& [f, t] : kPairs)
    if (from == f && to == t) return true;
  return false;
}

// The type whose default btree operator class serves this one: an index
// keeps its storage across a change only when this stays the same.
std::string OpclassType(const std::string& name) {
  if (name == "varchar") return "text";
  if (name == "cidr") return "inet";
  return name;
}

bool IsTemporal(const std::string& n) {
  return n == "timestamp" || n == "timestamptz" || n == "time" || n == "timetz";
}

// Whether the length-coercion function's support function turns the call
// into a no-op for these modifiers (same type on both sides).
bool WideningNoOp(const ColumnType& from, const ColumnType& to) {
  const std::string& n = to.name;
  if (to.mods.empty() && to.fields.empty()) return true;  // no limit: no length coercion
  if (n == "varchar" || n == "varbit")
    return !from.mods.empty() && !to.mods.empty() && to.mods[0] >= from.mods[0];
  if (n == "numeric") {
    if (from.mods.empty()) return false;  // 1E-1001 fits only unconstrained numeric
    int fs = from.mods.size() > 1 ? from.mods[1] : 0, ts = to.mods.size() > 1 ? to.mods[1] : 0;
    return fs == ts && to.mods[0] >= from.mods[0];
  }
  if (IsTemporal(n) || n == "interval") {
    if (!to.fields.empty() || !from.fields.empty()) return false;  // interval ranges: not modelled
    // An unspecified precision equals the highest one (6).
    return to.mods[0] >= 6 || (!from.mods.empty() && to.mods[0] >= from.mods[0]);
  }
  return false;  // bpchar(), bit(): no support function, the call runs per row
}

}  // namespace

ColumnType ParseColumnType(const std::string& text) {
  ColumnType t;
  t.text = text;
  std::string s = text;
  // Trailing [] (any number of dimensions).
  while (s.size() >= 2 && s.compare(s.size() - 2, 2, "[]") == 0) {
    t.array = true;
    s.resize(s.size() - 2);
    while (!s.empty() && s.back() == ' ') s.pop_back();
  }
  if (!s.empty() && s[0] == '"') {  // quoted: a user type (or the internal "char")
    t.name = s;
    return t;
  }
  s = Lower(s);
  if (s.rfind("pg_catalog.", 0) == 0) s = s.substr(11);
  // The modifier group may sit mid-name: "timestamp(3) without time zone".
  size_t open = s.find('(');
  if (open != std::string::npos) {
    size_t close = s.find(')', open);
    if (close == std::string::npos) return t;
    std::string inner = s.substr(open + 1, close - open - 1);
    size_t pos = 0;
    while (pos < inner.size()) {
      size_t comma = inner.find(',', pos);
      std::string part =
          inner.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
      try {
        t.mods.push_back(std::stoi(part));
      } catch (...) {
        return t;  // not a number: unknown
      }
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
    s = s.substr(0, open) + s.substr(close + 1);
  }
  // Collapse spaces.
  std::string words;
  for (char ch : s) {
    if (ch == ' ' && (words.empty() || words.back() == ' ')) continue;
    words.push_back(ch);
  }
  while (!words.empty() && words.back() == ' ') words.pop_back();
  if (words.rfind("interval", 0) == 0) {
    t.name = "interval";
    t.fields = words.size() > 8 ? words.substr(9) : "";
    // As written in SQL the grammar gives (range mask[, precision]); a range
    // of 32767 is INTERVAL_FULL_RANGE. format_type prints only the precision.
    if (t.mods.size() == 2) {
      if (t.mods[0] != 32767) t.fields = "range " + std::to_string(t.mods[0]);
      t.mods = {t.mods[1]};
    } else if (t.mods.size() == 1 && t.mods[0] > 6) {
      if (t.mods[0] != 32767) t.fields = "range " + std::to_string(t.mods[0]);
      t.mods.clear();
    }
    t.known = true;
    return t;
  }
  auto it = TypeAliases().find(words);
  if (it == TypeAliases().end()) {
    t.name = words;
    return t;
  }
  t.name = it->second;
  t.known = true;
  return t;
}

TypeChangeVerdict ClassifyTypeChange(const ColumnType& from, const ColumnType& to,
                                     bool session_utc) {
  auto same = [](const ColumnType& a, const ColumnType& b) {
    return a.name == b.name && a.mods == b.mods && a.fields == b.fields && a.array == b.array;
  };
  if (same(from, to)) return {TypeChange::kSame, "the type does not change"};
  if (!from.known || !to.known)
    return {TypeChange::kUnknown,
            "pgvise cannot prove this change is binary-coercible (a domain, enum or extension "
            "type), so it assumes every row is converted"};
  if (from.array || to.array)
    return {TypeChange::kRewrite, "array elements are converted one by one (ArrayCoerceExpr)"};
  if (from.name == to.name) {
    if (WideningNoOp(from, to))
      return {TypeChange::kCatalogOnly, "only the limit is widened: a catalog-only change"};
    if (to.name == "bpchar")
      return {TypeChange::kRewrite,
              "char(n) values are stored blank-padded to n: every row is "
              "re-padded or checked"};
    return {TypeChange::kRewrite, "a narrower or different limit checks or converts every value"};
  }
  if ((from.name == "timestamp" && to.name == "timestamptz") ||
      (from.name == "timestamptz" && to.name == "timestamp")) {
    bool widening = to.mods.empty() || to.mods[0] >= 6;
    if (!widening) return {TypeChange::kRewrite, "the new precision limit converts every value"};
    if (session_utc)
      return {TypeChange::kIndexesRebuilt,
              "the session TimeZone is UTC, so the stored values stay the same"};
    return {TypeChange::kRewriteUnlessUtc, "the values are converted through the session TimeZone"};
  }
  if (BinaryCoercible(from.name, to.name)) {
    // The relabelled value has no modifier: a limited target still calls
    // the length-coercion function.
    if (!to.mods.empty())
      return {TypeChange::kRewrite, "the new length limit is checked on every value"};
    if (OpclassType(from.name) == OpclassType(to.name))
      return {TypeChange::kCatalogOnly, "the types are binary-coercible: a catalog-only change"};
    return {TypeChange::kIndexesRebuilt,
            "the types are binary-coercible, but indexes change operator class"};
  }
  if (from.name == "bpchar" && (to.name == "text" || to.name == "varchar"))
    return {TypeChange::kRewrite,
            "char(n) values lose their trailing blanks: every value is "
            "converted"};
  return {TypeChange::kRewrite, "every value is converted by a cast function"};
}

namespace {

// A type name of the parse tree as a TypeRef (defined with the domain model
// below).
TypeRef TypeRefOfName(const PgQuery__TypeName* tn);

// What the parse tree says about each ALTER COLUMN ... TYPE of a statement
// (QueryFacts does not carry the USING expression or COLLATE).
struct AlterTypeClause {
  std::string column;
  bool has_to = false;
  ColumnType to;             // the new type from the parse tree
  TypeRef to_ref;            // ... as a name pg_type may know (a domain, an enum)
  bool using_other = false;  // USING computes something other than the column (cast to `to`)
  bool collate = false;      // COLLATE given: indexes on the column may change collation
};

ColumnType FromTypeName(const PgQuery__TypeName* tn) {
  std::string text;
  if (tn && tn->n_names > 0) {
    const char* last = StringOf(tn->names[tn->n_names - 1]);
    text = last ? last : "";
    if (tn->n_names > 1) {
      const char* schema = StringOf(tn->names[0]);
      if (schema && std::string(schema) != "pg_catalog") text = std::string(schema) + "." + text;
    }
    std::string mods;
    for (size_t i = 0; i < tn->n_typmods; ++i) {
      const PgQuery__Node* m = tn->typmods[i];
      if (m->node_case != PG_QUERY__NODE__NODE_A_CONST || !m->a_const ||
          m->a_const->val_case != PG_QUERY__A__CONST__VAL_IVAL)
        return ParseColumnType(text + "(?)");  // a non-integer modifier: unknown
      mods += (mods.empty() ? "" : ",") + std::to_string(m->a_const->ival->ival);
    }
    if (!mods.empty()) text += "(" + mods + ")";
    if (tn->n_array_bounds > 0) text += "[]";
  }
  return ParseColumnType(text);
}

// USING col, or USING col::<the new type>, is what PostgreSQL does anyway.
bool UsingIsTheColumn(const PgQuery__Node* e, const std::string& column, const ColumnType& to) {
  if (!e) return true;
  if (e->node_case == PG_QUERY__NODE__NODE_TYPE_CAST && e->type_cast) {
    ColumnType cast = FromTypeName(e->type_cast->type_name);
    if (cast.name != to.name || cast.mods != to.mods || cast.array != to.array) return false;
    e = e->type_cast->arg;
  }
  if (!e || e->node_case != PG_QUERY__NODE__NODE_COLUMN_REF || !e->column_ref ||
      e->column_ref->n_fields == 0)
    return false;
  const char* last = StringOf(e->column_ref->fields[e->column_ref->n_fields - 1]);
  return last && column == last;
}

std::vector<AlterTypeClause> AlterTypeClauses(const std::string& sql) {
  std::vector<AlterTypeClause> out;
  ForEachColumnCmd(sql, PG_QUERY__ALTER_TABLE_TYPE__AT_AlterColumnType,
                   [&](const PgQuery__AlterTableCmd& cmd, const PgQuery__ColumnDef& cd) {
                     AlterTypeClause c;
                     c.column = cmd.name ? cmd.name : "";
                     c.has_to = cd.type_name != nullptr;
                     c.to = FromTypeName(cd.type_name);
                     c.to_ref = TypeRefOfName(cd.type_name);
                     c.using_other = !UsingIsTheColumn(cd.raw_default, c.column, c.to);
                     c.collate = cd.coll_clause != nullptr;
                     out.push_back(std::move(c));
                   });
  return out;
}

}  // namespace

// ---- domains and enums: what pg_type (or the file) says a type is ---------
//
// PostgreSQL 15 (tablecmds.c, read, not copied) looks through a domain in two
// places. ATExecAddColumn asks DomainHasConstraints(type) for the new
// column: when the domain, or any domain it is built on, has a CHECK or NOT
// NULL constraint, the table is rewritten so every existing row's value
// (the default, or NULL) is checked — even for `DEFAULT 1` or no default.
// ATColumnChangeRequiresRewrite (ALTER COLUMN TYPE) walks the conversion
// expression and stops with "rewrite" at a CoerceToDomain whose domain has
// constraints; a domain without constraints is looked through, and a domain
// as the OLD type is relabelled to its base type first, so `d_text -> text`
// changes only the catalog. An array of such a domain is neither: ADD COLUMN
// of d_check[] keeps the table (the array type has no constraints), ALTER
// COLUMN TYPE to any other array rewrites (ArrayCoerceExpr). Measured on PG
// 15 by pg_class.relfilenode before/after and pg_stat_user_tables.seq_tup_read
// (tests/review_cli_pg_test.cc): every constrained case got a new relfilenode
// and read every row; none was a scan without rewrite.
//
// Worked example: `CREATE DOMAIN positive AS int CHECK (VALUE > 0)`, then
// `ALTER TABLE t ADD COLUMN p positive DEFAULT 1` fires
// adding-column-with-constrained-domain ("rewrites table t ...: domain
// positive has constraints (positive: CHECK ((VALUE > 0)))"), and
// `ALTER TABLE t ALTER COLUMN name TYPE short_text` with an unconstrained
// domain over text stays silent in changing-column-type (text -> text).

namespace {

// Reads `"a"."b"` / a.b / "x""y": the dot-separated identifiers of `s`,
// unquoted (format_type quotes names that need it).
std::vector<std::string> SplitQualified(const std::string& s) {
  std::vector<std::string> parts(1);
  bool quoted = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char ch = s[i];
    if (ch == '"') {
      if (quoted && i + 1 < s.size() && s[i + 1] == '"') {
        parts.back().push_back('"');
        ++i;
      } else {
        quoted = !quoted;
      }
    } else if (ch == '.' && !quoted) {
      parts.emplace_back();
    } else {
      parts.back().push_back(
          quoted ? ch : static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
    }
  }
  return parts;
}

TypeRef TypeRefOfName(const PgQuery__TypeName* tn) {
  TypeRef r;
  if (!tn || tn->n_names == 0) return r;
  const char* last = StringOf(tn->names[tn->n_names - 1]);
  r.name = last ? last : "";
  if (tn->n_names > 1)
    if (const char* schema = StringOf(tn->names[tn->n_names - 2])) r.schema = schema;
  r.array = tn->n_array_bounds > 0;
  if (r.schema.empty() || r.schema == "pg_catalog") {
    r.builtin = ParseColumnType(r.name).known || r.name == "serial" || r.name == "bigserial" ||
                r.name == "smallserial";
    if (r.schema == "pg_catalog") r.builtin = true;
  }
  return r;
}

const SqlType* FindIn(const SqlTypeCatalog& c, const TypeRef& ref, bool created) {
  const SqlType* best = nullptr;
  auto range = c.by_name.equal_range(ref.name);
  for (auto it = range.first; it != range.second; ++it) {
    const SqlType& t = it->second;
    if (!ref.schema.empty()) {
      // A type the file created unqualified lands in the first schema of the
      // path: a qualified reference to it cannot be told apart, so it counts.
      if (t.schema == ref.schema || (created && t.schema.empty())) return &t;
      continue;
    }
    if (created) {
      if (!best || t.schema.empty()) best = &t;
      continue;
    }
    if (t.path_position > 0 && (!best || t.path_position < best->path_position)) best = &t;
  }
  return best;
}

// The source text of a domain constraint from its location: its words up to
// the parenthesis that closes its expression ("CHECK (VALUE > 0)").
std::string ConstraintText(const std::string& sql, int location) {
  if (location < 0 || static_cast<size_t>(location) >= sql.size()) return "CHECK";
  int depth = 0;
  bool in_string = false, opened = false;
  size_t i = static_cast<size_t>(location);
  for (; i < sql.size(); ++i) {
    char ch = sql[i];
    if (in_string) {
      in_string = ch != '\'';
      continue;
    }
    if (ch == '\'') in_string = true;
    if (ch == '(') {
      ++depth;
      opened = true;
    }
    if (ch == ')' && --depth == 0 && opened) break;
  }
  std::string text = sql.substr(static_cast<size_t>(location),
                                i - static_cast<size_t>(location) + (i < sql.size() ? 1 : 0));
  std::string out;
  for (char ch : text) {  // one line in messages
    bool space = std::isspace(static_cast<unsigned char>(ch)) != 0;
    if (space && (out.empty() || out.back() == ' ')) continue;
    out.push_back(space ? ' ' : ch);
  }
  return out;
}

std::string NameOf(PgQuery__Node** names, size_t n, std::string* schema) {
  if (n == 0) return "";
  const char* last = StringOf(names[n - 1]);
  if (n > 1)
    if (const char* s = StringOf(names[n - 2])) *schema = s;
  return last ? last : "";
}

void AppendConstraint(SqlType* t, const std::string& what) {
  t->constraints += (t->constraints.empty() ? "" : "; ") + t->Qualified() + ": " + what;
}

}  // namespace

TypeRef TypeRefOf(const std::string& text) {
  TypeRef r;
  std::string s = text;
  while (s.size() >= 2 && s.compare(s.size() - 2, 2, "[]") == 0) {
    r.array = true;
    s.resize(s.size() - 2);
    while (!s.empty() && s.back() == ' ') s.pop_back();
  }
  ColumnType parsed = ParseColumnType(s);
  if (parsed.known) {
    r.name = parsed.name;
    r.builtin = true;
    return r;
  }
  // A user type's modifiers are not part of its name.
  if (!s.empty() && s.back() == ')' && s.find('"') == std::string::npos)
    s = s.substr(0, s.find('('));
  std::vector<std::string> parts = SplitQualified(s);
  r.name = parts.back();
  if (parts.size() > 1) r.schema = parts[parts.size() - 2];
  if (r.schema == "pg_catalog") r.builtin = true;
  return r;
}

const SqlType* LookupType(const SqlTypeCatalog* file, const SqlTypeCatalog* db, const TypeRef& ref,
                          std::string* source) {
  if (ref.builtin || ref.name.empty()) return nullptr;
  if (file)
    if (const SqlType* t = FindIn(*file, ref, true)) {
      if (source)
        *source = t->kind == 'e' ? "this file's CREATE TYPE" : "this file's CREATE DOMAIN";
      return t;
    }
  if (db)
    if (const SqlType* t = FindIn(*db, ref, false)) {
      if (source) *source = "pg_type";
      return t;
    }
  return nullptr;
}

TypeChangeVerdict ClassifyUserTypeChange(const TypeSide& from, const TypeSide& to,
                                         bool session_utc) {
  if (!from.user && !to.user) return ClassifyTypeChange(from.type, to.type, session_utc);
  if (from.user && to.user && from.user == to.user && from.ref.array == to.ref.array)
    return {TypeChange::kSame, "the type does not change"};
  if (from.ref.array || to.ref.array)
    return {TypeChange::kRewrite, "array elements are converted one by one (ArrayCoerceExpr)"};
  if (to.user && to.user->kind == 'd' && !to.user->constraints.empty())
    return {TypeChange::kRewrite, "domain " + to.user->Qualified() + " has constraints (" +
                                      to.user->constraints +
                                      "): PostgreSQL checks every value by rewriting the table"};
  if ((from.user && from.user->kind == 'e') || (to.user && to.user->kind == 'e'))
    return {TypeChange::kRewrite, "enum values are converted one by one through their text form"};
  // A domain without constraints counts as its base type; a constrained old
  // domain is relabelled to its base type, nothing is checked.
  auto base = [](const TypeSide& s) {
    return s.user && s.user->kind == 'd' ? ParseColumnType(s.user->base) : s.type;
  };
  TypeChangeVerdict v = ClassifyTypeChange(base(from), base(to), session_utc);
  std::string note;
  for (const TypeSide* s : {&from, &to})
    if (s->user && s->user->kind == 'd')
      note +=
          (note.empty() ? "" : ", ") + s->user->Qualified() + " is a domain over " + s->user->base;
  if (!note.empty())
    v.why = note + ": " + (v.kind == TypeChange::kSame ? "the base type does not change" : v.why);
  if (v.kind == TypeChange::kSame) v.kind = TypeChange::kCatalogOnly;
  return v;
}

bool ParseCreateType(const std::string& sql, const SqlTypeCatalog* file, const SqlTypeCatalog* db,
                     SqlType* out) {
  OneStatement one(sql);
  if (const PgQuery__Node* n = one.stmt(PG_QUERY__NODE__NODE_CREATE_ENUM_STMT)) {
    const PgQuery__CreateEnumStmt* e = n->create_enum_stmt;
    SqlType t;
    t.name = NameOf(e->type_name, e->n_type_name, &t.schema);
    t.kind = 'e';
    if (t.name.empty()) return false;
    *out = std::move(t);
    return true;
  }
  const PgQuery__Node* n = one.stmt(PG_QUERY__NODE__NODE_CREATE_DOMAIN_STMT);
  if (!n) return false;
  const PgQuery__CreateDomainStmt* d = n->create_domain_stmt;
  SqlType t;
  t.name = NameOf(d->domainname, d->n_domainname, &t.schema);
  t.kind = 'd';
  if (t.name.empty()) return false;
  TypeRef base = TypeRefOfName(d->type_name);
  // The base with its modifiers and array bounds, built-ins by their
  // internal names ("int4", "varchar(40)"): what ParseColumnType reads.
  t.base = FromTypeName(d->type_name).text;
  if (const SqlType* under = LookupType(file, db, base)) {
    if (under->kind == 'd' && !base.array) {
      t.base = under->base;
      t.constraints = under->constraints;
      t.has_default = under->has_default;
    }
  }
  for (size_t i = 0; i < d->n_constraints; ++i) {
    const PgQuery__Node* c = d->constraints[i];
    if (c->node_case != PG_QUERY__NODE__NODE_CONSTRAINT) continue;
    switch (c->constraint->contype) {
      case PG_QUERY__CONSTR_TYPE__CONSTR_CHECK:
        AppendConstraint(&t, ConstraintText(sql, c->constraint->location));
        break;
      case PG_QUERY__CONSTR_TYPE__CONSTR_NOTNULL:
        AppendConstraint(&t, "NOT NULL");
        break;
      case PG_QUERY__CONSTR_TYPE__CONSTR_DEFAULT:
        t.has_default = true;
        break;
      default:
        break;
    }
  }
  *out = std::move(t);
  return true;
}

bool ParseAlterDomain(const std::string& sql, const SqlTypeCatalog* file, const SqlTypeCatalog* db,
                      SqlType* out) {
  OneStatement one(sql);
  const PgQuery__Node* n = one.stmt(PG_QUERY__NODE__NODE_ALTER_DOMAIN_STMT);
  if (!n || !n->alter_domain_stmt->subtype) return false;
  const PgQuery__AlterDomainStmt* a = n->alter_domain_stmt;
  TypeRef ref;
  ref.name = NameOf(a->type_name, a->n_type_name, &ref.schema);
  const SqlType* known = LookupType(file, db, ref);
  if (!known || known->kind != 'd') return false;
  SqlType t = *known;
  std::string sub = a->subtype;
  if (sub == "O") {
    AppendConstraint(&t, "NOT NULL");
  } else if (sub == "C" && a->def && a->def->node_case == PG_QUERY__NODE__NODE_CONSTRAINT) {
    AppendConstraint(&t, ConstraintText(sql, a->def->constraint->location));
  } else {
    return false;  // a dropped constraint may or may not have been the last
  }
  *out = std::move(t);
  return true;
}

namespace {

void AddTypeChangeSuggestion(const std::string& table, const DdlAction& a, Finding* f) {
  f->suggestion = "ALTER TABLE " + table + " ADD COLUMN " + a.column + "_new " + a.new_type +
                  ";\n-- write both columns from the application (or a trigger), backfill "
                  "in batches, then in a short transaction with lock_timeout set:\n"
                  "ALTER TABLE " +
                  table + " RENAME COLUMN " + a.column + " TO " + a.column + "_old;\nALTER TABLE " +
                  table + " RENAME COLUMN " + a.column + "_new TO " + a.column + ";";
}

// Without the old type (no --db, or a column the snapshot does not know):
// assume a rewrite unless the new type is text or unbounded varchar.
void ChangingColumnTypeBlind(const Call& c, const DdlAction& a, std::vector<Finding>* out) {
  const DdlFacts& d = c.facts.ddl;
  if (!a.rewrites_table) return;
  Finding f =
      c.Make(a.location, "ALTER COLUMN " + a.column + " TYPE " + a.new_type + " rewrites table " +
                             c.Describe(d.object) +
                             " and rebuilds its indexes under ACCESS EXCLUSIVE (unless the old "
                             "type is binary-coercible to the new one)");
  f.Add("lock", "ACCESS EXCLUSIVE").Add("column", a.column).Add("new_type", a.new_type);
  c.AboutTable(d.object, &f);
  AddTypeChangeSuggestion(d.object, a, &f);
  out->push_back(std::move(f));
}

// Decision: a change PostgreSQL makes in the catalog alone (kSame,
// kCatalogOnly, or kIndexesRebuilt on an unindexed column) gets no finding.
// It still takes ACCESS EXCLUSIVE for a moment, but require-lock-timeout
// already reports that lock when no lock_timeout protects it, and an info
// finding on every safe widening would teach people to skip this rule's
// real warnings; the fix this rule proposes is exactly such a change.
void ChangingColumnType(const Call& c, std::vector<Finding>* out) {
  const DdlFacts& d = c.facts.ddl;
  if (c.facts.kind != StatementKind::kAlterTable || c.state.IsNew(d.object)) return;
  const SqlTableInfo* table = c.Table(d.object);
  std::vector<AlterTypeClause> clauses;
  bool parsed = false;
  size_t nth = 0;
  for (const DdlAction& a : d.items) {
    if (a.action != "alter-column-type") continue;
    size_t index = nth++;
    // The old type: what this file set last, else the live catalog.
    std::string old_type;
    std::string bare = d.object.substr(d.object.rfind('.') + 1);
    auto mine = c.state.column_types.find(bare + "." + a.column);
    if (mine != c.state.column_types.end()) {
      old_type = mine->second;
    } else if (table) {
      auto col = table->column_types.find(a.column);
      if (col != table->column_types.end()) old_type = col->second;
    }
    if (old_type.empty()) {
      ChangingColumnTypeBlind(c, a, out);
      continue;
    }
    if (!parsed) {
      clauses = AlterTypeClauses(c.stmt.sql);
      parsed = true;
    }
    const AlterTypeClause* clause =
        index < clauses.size() && clauses[index].column == a.column ? &clauses[index] : nullptr;
    ColumnType from = ParseColumnType(old_type);
    ColumnType to = clause && clause->has_to ? clause->to : ParseColumnType(a.new_type);
    TypeChangeVerdict v;
    std::string type_source;
    if (c.ctx.types) {
      // With --db a domain or enum on either side is resolved through
      // pg_type (or this file's CREATE DOMAIN / CREATE TYPE).
      TypeSide fs{from, TypeRefOf(old_type), nullptr};
      TypeSide ts{to, clause && clause->has_to ? clause->to_ref : TypeRefOf(a.new_type), nullptr};
      std::string from_source, to_source;
      fs.user = LookupType(&c.state.created_types, c.ctx.types, fs.ref, &from_source);
      ts.user = LookupType(&c.state.created_types, c.ctx.types, ts.ref, &to_source);
      v = ClassifyUserTypeChange(fs, ts, c.state.session_utc);
      type_source = ts.user ? to_source : fs.user ? from_source : "";
    } else {
      v = ClassifyTypeChange(from, to, c.state.session_utc);
    }
    if (clause && clause->using_other) {
      v = {TypeChange::kRewrite, "the USING expression is computed for every row"};
    } else if (clause && clause->collate &&
               (v.kind == TypeChange::kSame || v.kind == TypeChange::kCatalogOnly)) {
      v = {TypeChange::kIndexesRebuilt, "a new collation changes how indexes order the column"};
    }
    bool indexed = table && table->indexed_columns.count(a.column) > 0;
    if (v.kind == TypeChange::kSame || v.kind == TypeChange::kCatalogOnly ||
        (v.kind == TypeChange::kIndexesRebuilt && !indexed))
      continue;

    std::string qualified = (table ? table->name : d.object) + "." + a.column;
    std::string change = "ALTER COLUMN " + a.column + " TYPE " + a.new_type + " changes " +
                         qualified + " from " + old_type + " to " + a.new_type + ": ";
    std::string what;
    switch (v.kind) {
      case TypeChange::kIndexesRebuilt:
        what = "no table rewrite (" + v.why + "), but the indexes on " + a.column + " of " +
               c.Describe(d.object) + " are rebuilt under ACCESS EXCLUSIVE";
        break;
      case TypeChange::kRewriteUnlessUtc:
        what = "rewrites table " + c.Describe(d.object) +
               " and rebuilds its indexes under ACCESS EXCLUSIVE (" + v.why +
               "; no rewrite only when the session TimeZone is UTC)";
        break;
      default:
        what = "rewrites table " + c.Describe(d.object) +
               " and rebuilds its indexes under ACCESS EXCLUSIVE (" + v.why + ")";
        break;
    }
    Finding f = c.Make(a.location, change + what);
    f.Add("lock", "ACCESS EXCLUSIVE").Add("column", a.column);
    f.Add("old_type", old_type).Add("new_type", a.new_type);
    f.Add("table_rewrite", v.kind == TypeChange::kIndexesRebuilt ? "no" : "yes");
    if (!type_source.empty()) f.Add("type_source", type_source);
    c.AboutTable(d.object, &f);
    AddTypeChangeSuggestion(d.object, a, &f);
    if (v.kind == TypeChange::kRewriteUnlessUtc) {
      f.suggestion =
          "SET TimeZone = 'UTC';  -- before this statement: PostgreSQL 12+ then changes "
          "only the catalog (indexes on the column are still rebuilt)\nor, where the "
          "session cannot use UTC:\n" +
          f.suggestion;
    } else if (v.kind == TypeChange::kIndexesRebuilt) {
      f.suggestion = "keep the lock short: DROP INDEX CONCURRENTLY each index on " + a.column +
                     " before this statement and CREATE INDEX CONCURRENTLY it again afterwards "
                     "(queries that need it are slower in between), or run it when a rebuild "
                     "under ACCESS EXCLUSIVE is acceptable.";
    }
    out->push_back(std::move(f));
  }
}

}  // namespace

namespace {

// ---- adding-column-with-constrained-domain ---------------------------------
//
// Its own rule, not a case of adding-field-with-volatile-default: the cause
// is the column's type, not its default (no DEFAULT rewrites just the same),
// and that rule's fix — add without a default, SET DEFAULT, backfill — does
// not help here. The fix is to add the base type and enforce the condition
// with a table CHECK added NOT VALID and validated later.
// The type is known from this file's CREATE DOMAIN (also without --db: the
// statement itself says what the domain is) or, with --db, from pg_type.
void AddingColumnWithConstrainedDomain(const Call& c, std::vector<Finding>* out) {
  const DdlFacts& d = c.facts.ddl;
  if (c.facts.kind != StatementKind::kAlterTable || c.state.IsNew(d.object)) return;
  // Nothing knows any domain: no parse needed.
  if (!c.ctx.types && c.state.created_types.by_name.empty()) return;
  bool adds = false;
  for (const DdlAction& a : d.items) adds |= a.action == "add-column";
  if (!adds) return;
  ForEachColumnCmd(
      c.stmt.sql, PG_QUERY__ALTER_TABLE_TYPE__AT_AddColumn,
      [&](const PgQuery__AlterTableCmd&, const PgQuery__ColumnDef& cd) {
        TypeRef ref = TypeRefOfName(cd.type_name);
        std::string source;
        const SqlType* t = LookupType(&c.state.created_types, c.ctx.types, ref, &source);
        // An array of the domain has no constraints of its own: the table is
        // kept (measured on PG 15).
        if (!t || t->kind != 'd' || t->constraints.empty() || ref.array) return;
        std::string column = cd.colname ? cd.colname : "";
        const DdlAction* action = nullptr;
        for (const DdlAction& a : d.items)
          if (a.action == "add-column" && a.column == column) action = &a;
        bool has_default = cd.raw_default != nullptr || t->has_default;
        for (size_t k = 0; k < cd.n_constraints; ++k) {
          const PgQuery__Node* n = cd.constraints[k];
          has_default |= n->node_case == PG_QUERY__NODE__NODE_CONSTRAINT &&
                         n->constraint->contype == PG_QUERY__CONSTR_TYPE__CONSTR_DEFAULT;
        }
        std::string message =
            "ADD COLUMN " + column + " " + ref.Text() + " rewrites table " + c.Describe(d.object) +
            ": domain " + t->Qualified() + " has constraints (" + t->constraints +
            "), so PostgreSQL checks the new value of every existing row by rewriting the table "
            "under ACCESS EXCLUSIVE while all reads and writes wait (even with a constant "
            "DEFAULT or none)";
        if (!has_default && t->constraints.find(": NOT NULL") != std::string::npos)
          message +=
              "; with no DEFAULT that value is NULL, which the domain's NOT NULL rejects: the "
              "statement fails on a table with rows";
        Finding f = c.Make(action ? action->location : cd.location, message);
        f.Add("lock", "ACCESS EXCLUSIVE").Add("column", column).Add("type", ref.Text());
        f.Add("base_type", t->base).Add("domain_constraints", t->constraints);
        f.Add("table_rewrite", "yes").Add("type_source", source);
        c.AboutTable(d.object, &f);
        std::string def;
        if (action && !action->default_expr.empty() && !action->default_volatile)
          def = " DEFAULT " + action->default_expr;
        // The table CHECK that stands for the domain's constraints: NOT NULL
        // is exact; a CHECK's VALUE has to become the column, left to the author.
        bool only_not_null = true;
        for (size_t at = 0; (at = t->constraints.find(": ", at)) != std::string::npos; at += 2)
          only_not_null &= t->constraints.compare(at + 2, 8, "NOT NULL") == 0;
        std::string check = only_not_null
                                ? column + " IS NOT NULL"
                                : "<" + t->constraints + ", with VALUE written as " + column + ">";
        f.suggestion = "ALTER TABLE " + d.object + " ADD COLUMN " + column + " " + t->base + def +
                       ";  -- the base type: no rewrite\nALTER TABLE " + d.object +
                       " ADD CONSTRAINT " + column + "_check CHECK (" + check +
                       ") NOT VALID;  -- no scan\nALTER TABLE " + d.object +
                       " VALIDATE CONSTRAINT " + column +
                       "_check;  -- scans under SHARE UPDATE EXCLUSIVE: reads and writes go on\n"
                       "-- changing the column to the domain later rewrites the table as well";
        out->push_back(std::move(f));
      });
}

void SettingNotNullWithoutCheck(const Call& c, std::vector<Finding>* out) {
  const DdlFacts& d = c.facts.ddl;
  if (c.facts.kind != StatementKind::kAlterTable || c.state.IsNew(d.object)) return;
  for (const DdlAction& a : d.items) {
    if (a.action != "set-not-null") continue;
    // PG 12+: a validated CHECK (col IS NOT NULL) proves the column has no
    // NULLs, and SET NOT NULL skips its full-table scan.
    if (c.state.HasValidatedNotNullCheck(d.object, a.column)) continue;
    Finding f = c.Make(a.location, "SET NOT NULL on " + d.object + "." + a.column +
                                       " scans all of " + c.Describe(d.object) +
                                       " under ACCESS EXCLUSIVE to prove there are no NULLs");
    f.Add("lock", "ACCESS EXCLUSIVE").Add("column", a.column);
    c.AboutTable(d.object, &f);
    std::string con =
        QuoteIdent(d.object.substr(d.object.rfind('.') + 1) + "_" + a.column + "_not_null");
    f.suggestion = "ALTER TABLE " + d.object + " ADD CONSTRAINT " + con + " CHECK (" + a.column +
                   " IS NOT NULL) NOT VALID;\nALTER TABLE " + d.object + " VALIDATE CONSTRAINT " +
                   con + ";  -- SHARE UPDATE EXCLUSIVE: traffic goes on\nALTER TABLE " + d.object +
                   " ALTER COLUMN " + a.column +
                   " SET NOT NULL;  -- no scan: the CHECK proves it\nALTER TABLE " + d.object +
                   " DROP CONSTRAINT " + con + ";";
    out->push_back(std::move(f));
  }
}

void AddingForeignKeyWithoutNotValid(const Call& c, std::vector<Finding>* out) {
  const DdlFacts& d = c.facts.ddl;
  if (c.facts.kind != StatementKind::kAlterTable || c.state.IsNew(d.object)) return;
  for (const DdlAction& a : d.items) {
    bool fk = a.constraint_type == "foreign-key" &&
              (a.action == "add-constraint-foreign-key" || a.action == "add-column");
    if (!fk || a.not_valid) continue;
    Finding f =
        c.Make(a.location, "adding FOREIGN KEY on " + c.Describe(d.object) + " referencing " +
                               c.Describe(a.references) +
                               " validates every existing row while holding SHARE ROW EXCLUSIVE on "
                               "both tables: writes to both wait");
    f.Add("lock", "SHARE ROW EXCLUSIVE").Add("referenced_table", a.references);
    c.AboutTable(d.object, &f);
    std::string name = a.constraint_name.empty() ? "<constraint>" : a.constraint_name;
    if (a.action == "add-constraint-foreign-key") {
      std::string sql = c.stmt.sql;
      f.suggestion =
          "add it NOT VALID (only new rows are checked, brief lock), then validate "
          "without blocking writes:\n" +
          sql + " NOT VALID;\nALTER TABLE " + d.object + " VALIDATE CONSTRAINT " + name +
          ";  -- SHARE UPDATE EXCLUSIVE";
    } else {
      f.suggestion = "add the column first, then ALTER TABLE " + d.object +
                     " ADD CONSTRAINT <name> FOREIGN KEY (" + a.column + ") REFERENCES " +
                     a.references + " NOT VALID; and ALTER TABLE " + d.object +
                     " VALIDATE CONSTRAINT <name>;";
    }
    out->push_back(std::move(f));
  }
}

// `expr` in one pair of parentheses: as is when it already is one group
// ("(a >= 0)"), wrapped otherwise ("(a) AND (b)" is two groups).
std::string Parenthesized(const std::string& expr) {
  int depth = 0;
  for (size_t i = 0; i < expr.size(); ++i) {
    if (expr[i] == '(') ++depth;
    if (expr[i] == ')' && --depth == 0 && i + 1 < expr.size()) return "(" + expr + ")";
  }
  return !expr.empty() && expr.front() == '(' && expr.back() == ')' ? expr : "(" + expr + ")";
}

void AddingCheckWithoutNotValid(const Call& c, std::vector<Finding>* out) {
  const DdlFacts& d = c.facts.ddl;
  if (c.facts.kind != StatementKind::kAlterTable || c.state.IsNew(d.object)) return;
  for (const DdlAction& a : d.items) {
    // ADD COLUMN ... CHECK (...): PostgreSQL 15 reads every row to check the
    // new column (without rewriting it), and a column constraint cannot be
    // NOT VALID: the column and its CHECK have to be added in two steps.
    if (a.action == "add-column" && !a.check_expr.empty()) {
      Finding f = c.Make(a.location,
                         "ADD COLUMN " + a.column + " with a CHECK constraint scans every row of " +
                             c.Describe(d.object) + " under ACCESS EXCLUSIVE to check it");
      f.Add("lock", "ACCESS EXCLUSIVE");
      c.AboutTable(d.object, &f);
      const size_t dot = d.object.rfind('.');
      const std::string name =
          !a.constraint_name.empty()
              ? a.constraint_name
              : (dot == std::string::npos ? d.object : d.object.substr(dot + 1)) + "_" + a.column +
                    "_check";  // PostgreSQL's own name for it
      f.suggestion = "-- add the column without its CHECK, then:\nALTER TABLE " + d.object +
                     " ADD CONSTRAINT " + name + " CHECK " + Parenthesized(a.check_expr) +
                     " NOT VALID;  -- brief lock, new rows checked\nALTER TABLE " + d.object +
                     " VALIDATE CONSTRAINT " + name +
                     ";  -- SHARE UPDATE EXCLUSIVE: reads and writes go on";
      out->push_back(std::move(f));
      continue;
    }
    if (a.action != "add-constraint-check" || a.not_valid) continue;
    Finding f = c.Make(a.location, "adding CHECK constraint on " + c.Describe(d.object) +
                                       " scans every row under ACCESS EXCLUSIVE");
    f.Add("lock", "ACCESS EXCLUSIVE");
    c.AboutTable(d.object, &f);
    std::string name = a.constraint_name.empty() ? "<constraint>" : a.constraint_name;
    f.suggestion = c.stmt.sql + " NOT VALID;  -- brief lock, new rows checked\nALTER TABLE " +
                   d.object + " VALIDATE CONSTRAINT " + name +
                   ";  -- SHARE UPDATE EXCLUSIVE: reads and writes go on";
    out->push_back(std::move(f));
  }
}

void AddingUniqueWithoutIndex(const Call& c, std::vector<Finding>* out) {
  const DdlFacts& d = c.facts.ddl;
  if (c.facts.kind != StatementKind::kAlterTable || c.state.IsNew(d.object)) return;
  for (const DdlAction& a : d.items) {
    // ADD COLUMN ... UNIQUE / PRIMARY KEY builds the same index.
    bool unique = a.action == "add-constraint-unique" || a.action == "add-constraint-primary-key" ||
                  (a.action == "add-column" &&
                   (a.constraint_type == "unique" || a.constraint_type == "primary-key"));
    if (!unique || a.using_index) continue;
    std::string kind = a.constraint_type == "unique" ? "UNIQUE" : "PRIMARY KEY";
    Finding f = c.Make(a.location, "adding " + kind + " constraint on " + c.Describe(d.object) +
                                       " builds its index under ACCESS EXCLUSIVE: all reads and "
                                       "writes wait for the build");
    f.Add("lock", "ACCESS EXCLUSIVE");
    c.AboutTable(d.object, &f);
    std::string cols;
    for (const auto& col : a.columns) cols += (cols.empty() ? "" : ", ") + col;
    if (cols.empty()) cols = a.column;
    std::string name = a.constraint_name.empty() ? d.object.substr(d.object.rfind('.') + 1) +
                                                       (kind == "UNIQUE" ? "_key" : "_pkey")
                                                 : a.constraint_name;
    f.suggestion = "CREATE UNIQUE INDEX CONCURRENTLY " + name + " ON " + d.object + " (" + cols +
                   ");\nALTER TABLE " + d.object + " ADD CONSTRAINT " + name + " " + kind +
                   " USING INDEX " + name + ";  -- brief lock, no build";
    if (a.action == "add-column")
      f.suggestion = "ALTER TABLE " + d.object + " ADD COLUMN " + a.column + " " + a.new_type +
                     ";  -- without the constraint\n" + f.suggestion;
    out->push_back(std::move(f));
  }
}

// ADD COLUMN ... NOT NULL without a DEFAULT: every existing row gets NULL,
// which the constraint refuses, so on a table with rows the statement fails
// ("column ... contains null values") and the deploy stops half-way.
void AddingNotNullColumnWithoutDefault(const Call& c, std::vector<Finding>* out) {
  const DdlFacts& d = c.facts.ddl;
  if (c.facts.kind != StatementKind::kAlterTable || c.state.IsNew(d.object)) return;
  for (const DdlAction& a : d.items) {
    if (a.action != "add-column" || !a.not_null || !a.default_expr.empty()) continue;
    // serial types bring their own DEFAULT nextval(...).
    if (a.new_type == "serial" || a.new_type == "bigserial" || a.new_type == "smallserial" ||
        a.new_type == "serial4" || a.new_type == "serial8" || a.new_type == "serial2")
      continue;
    const SqlTableInfo* t = c.Table(d.object);
    // With --db an empty table is fine; the planner's row count can lag, so
    // only a table the snapshot says is empty (0 rows, no size) is let go.
    if (t && t->rows <= 0 && t->total_bytes <= 8192) continue;
    Finding f =
        c.Make(a.location, "ADD COLUMN " + a.column + " NOT NULL without a DEFAULT fails on " +
                               c.Describe(d.object) + (t ? " (it has rows)" : " if it has rows") +
                               ": every existing row would get NULL, which the constraint refuses");
    if (t) f.severity = Severity::kError;
    f.Add("column", a.column);
    c.AboutTable(d.object, &f);
    f.suggestion = "ALTER TABLE " + d.object + " ADD COLUMN " + a.column + " " +
                   (a.new_type.empty() ? "<type>" : a.new_type) +
                   " NOT NULL DEFAULT <value>;  -- a constant default fills existing rows "
                   "without a rewrite (PostgreSQL 11+)\n"
                   "-- or: add it nullable, backfill in batches, then SET NOT NULL after a "
                   "validated CHECK (col IS NOT NULL) NOT VALID";
    out->push_back(std::move(f));
  }
}

void BanDropColumn(const Call& c, std::vector<Finding>* out) {
  const DdlFacts& d = c.facts.ddl;
  if (c.facts.kind != StatementKind::kAlterTable || c.state.IsNew(d.object)) return;
  for (const DdlAction& a : d.items) {
    if (a.action != "drop-column") continue;
    Finding f = c.Make(a.location, "DROP COLUMN " + a.column + " of " + c.Describe(d.object) +
                                       " (ACCESS EXCLUSIVE): application code still reading or "
                                       "writing it fails as soon as this runs");
    f.Add("lock", "ACCESS EXCLUSIVE").Add("column", a.column);
    c.AboutTable(d.object, &f);
    f.suggestion = "first deploy code that no longer uses " + d.object + "." + a.column +
                   " (and drop its uses in views/functions), then drop it in a later migration "
                   "with lock_timeout set; add `-- pgvise-ignore: ban-drop-column` once done.";
    out->push_back(std::move(f));
  }
}

void BanDropTable(const Call& c, std::vector<Finding>* out) {
  const DdlFacts& d = c.facts.ddl;
  if (c.facts.kind != StatementKind::kDropTable) return;
  for (const std::string& t : d.objects) {
    if (c.state.IsNew(t)) continue;
    Finding f = c.Make(0, "DROP TABLE " + c.Describe(t) +
                              " (ACCESS EXCLUSIVE): code still using it fails, and the data is "
                              "gone without a restore");
    f.Add("lock", "ACCESS EXCLUSIVE");
    c.AboutTable(t, &f);
    f.suggestion = "stop using " + t +
                   " in the application first; to keep a way back, "
                   "ALTER TABLE " +
                   t + " RENAME TO " + t.substr(t.rfind('.') + 1) +
                   "_deprecated; and drop it in a later release.";
    out->push_back(std::move(f));
  }
}

void RenamingColumn(const Call& c, std::vector<Finding>* out) {
  const DdlFacts& d = c.facts.ddl;
  if (c.facts.kind != StatementKind::kRename || d.actions.empty() ||
      d.actions[0] != "rename-column" || c.state.IsNew(d.object))
    return;
  Finding f = c.Make(d.location, "RENAME COLUMN " + d.column + " TO " + d.rename_to + " on " +
                                     c.Describe(d.object) +
                                     " (ACCESS EXCLUSIVE): running code that uses the old name "
                                     "fails immediately");
  f.Add("lock", "ACCESS EXCLUSIVE").Add("column", d.column).Add("new_name", d.rename_to);
  c.AboutTable(d.object, &f);
  f.suggestion = "expand and contract: ALTER TABLE " + d.object + " ADD COLUMN " + d.rename_to +
                 " <type>; write both, backfill, move reads to " + d.rename_to + ", then drop " +
                 d.column + " in a later release.";
  out->push_back(std::move(f));
}

void RenamingTable(const Call& c, std::vector<Finding>* out) {
  const DdlFacts& d = c.facts.ddl;
  if (c.facts.kind != StatementKind::kRename || d.actions.empty() ||
      d.actions[0] != "rename-table" || c.state.IsNew(d.object))
    return;
  Finding f = c.Make(d.location, "RENAME " + c.Describe(d.object) + " TO " + d.rename_to +
                                     " (ACCESS EXCLUSIVE): running code that uses the old name "
                                     "fails immediately");
  f.Add("lock", "ACCESS EXCLUSIVE").Add("new_name", d.rename_to);
  c.AboutTable(d.object, &f);
  f.suggestion = "rename and keep the old name working until the code has moved:\nALTER TABLE " +
                 d.object + " RENAME TO " + d.rename_to + ";\nCREATE VIEW " + d.object +
                 " AS SELECT * FROM " + d.rename_to +
                 ";  -- simple views are updatable; drop it in a later release";
  out->push_back(std::move(f));
}

void BanVacuumFull(const Call& c, std::vector<Finding>* out) {
  const DdlFacts& d = c.facts.ddl;
  if (c.facts.kind != StatementKind::kVacuum || !d.vacuum_full) return;
  std::string what = d.object.empty() ? "every table of the database" : c.Describe(d.object);
  Finding f = c.Make(d.location, "VACUUM FULL rewrites " + what +
                                     " under ACCESS EXCLUSIVE: no reads or writes until it "
                                     "finishes, and it needs room for a full copy");
  f.Add("lock", "ACCESS EXCLUSIVE");
  if (!d.object.empty()) c.AboutTable(d.object, &f);
  f.suggestion =
      "plain VACUUM (SHARE UPDATE EXCLUSIVE) reclaims space for reuse; to shrink "
      "the files online use pg_repack" +
      (d.object.empty() ? std::string() : " --table " + d.object) +
      ", and REINDEX INDEX CONCURRENTLY for bloated indexes.";
  out->push_back(std::move(f));
}

void BanCluster(const Call& c, std::vector<Finding>* out) {
  const DdlFacts& d = c.facts.ddl;
  if (c.facts.kind != StatementKind::kCluster) return;
  std::string what = d.object.empty() ? "every clustered table" : c.Describe(d.object);
  Finding f = c.Make(0, "CLUSTER rewrites " + what +
                            " under ACCESS EXCLUSIVE: no reads or writes until it finishes");
  f.Add("lock", "ACCESS EXCLUSIVE");
  if (!d.object.empty()) c.AboutTable(d.object, &f);
  f.suggestion = "pg_repack" + (d.object.empty() ? std::string() : " --table " + d.object) +
                 " --order-by <columns> reorders the table online.";
  out->push_back(std::move(f));
}

void RequireLockTimeout(const Call& c, std::vector<Finding>* out) {
  const DdlFacts& d = c.facts.ddl;
  if (d.lock != "ACCESS EXCLUSIVE" || c.state.lock_timeout_set) return;
  // On a table this file just created nobody else can be waiting.
  bool all_new = !d.objects.empty();
  for (const auto& t : d.objects) all_new = all_new && c.state.IsNew(t);
  if (all_new || (d.objects.empty() && c.state.IsNew(d.object))) return;
  std::string target = d.object.empty() ? "its target" : c.Describe(d.object);
  Finding f = c.Make(0, "this statement takes ACCESS EXCLUSIVE on " + target +
                            " with no lock_timeout set earlier in the file: while it waits for "
                            "a long-running query, every other query on the table queues "
                            "behind it");
  f.Add("lock", d.lock);
  if (!d.object.empty()) c.AboutTable(d.object, &f);
  f.suggestion =
      "SET lock_timeout = '2s';  -- before this statement; retry the migration "
      "if it times out";
  out->push_back(std::move(f));
}

void ConcurrentlyInTransaction(const Call& c, std::vector<Finding>* out) {
  const DdlFacts& d = c.facts.ddl;
  if (!d.concurrently || !c.facts.in_transaction_block) return;
  int at = FindToken(c.stmt.sql, PG_QUERY__TOKEN__CONCURRENTLY);
  std::string what = d.actions.empty() ? "this statement" : ActionWords(d.actions[0]);
  Finding f = c.Make(at, what +
                             " CONCURRENTLY inside BEGIN ... COMMIT fails: \"cannot run "
                             "inside a transaction block\"");
  f.Add("lock", d.lock);
  if (!d.object.empty()) f.Add("object", d.object);
  f.suggestion =
      "run it outside the transaction block (move it after COMMIT, or to its own "
      "migration with the framework's per-migration transaction disabled).";
  out->push_back(std::move(f));
}

}  // namespace

const std::vector<HandlerEntry>& MigrationHandlers() {
  static const std::vector<HandlerEntry> kHandlers = {
      {"require-concurrent-index-creation", RequireConcurrentIndexCreation},
      {"adding-field-with-volatile-default", AddingFieldWithVolatileDefault},
      {"changing-column-type", ChangingColumnType},
      {"adding-column-with-constrained-domain", AddingColumnWithConstrainedDomain},
      {"setting-not-null-without-check", SettingNotNullWithoutCheck},
      {"adding-foreign-key-without-not-valid", AddingForeignKeyWithoutNotValid},
      {"adding-check-without-not-valid", AddingCheckWithoutNotValid},
      {"adding-unique-without-index", AddingUniqueWithoutIndex},
      {"adding-not-null-column-without-default", AddingNotNullColumnWithoutDefault},
      {"ban-drop-column", BanDropColumn},
      {"ban-drop-table", BanDropTable},
      {"renaming-column", RenamingColumn},
      {"renaming-table", RenamingTable},
      {"ban-vacuum-full", BanVacuumFull},
      {"ban-cluster", BanCluster},
      {"require-lock-timeout", RequireLockTimeout},
      {"concurrently-in-transaction", ConcurrentlyInTransaction},
  };
  return kHandlers;
}

}  // namespace pgvise::sqlrules

namespace pgvise {

std::set<std::string> SqlVolatilityFunctionNames(const SqlFile& file) {
  std::set<std::string> names;
  for (const Statement& stmt : file.statements) {
    if (!stmt.parsed) continue;
    const QueryFacts& facts = FactsOf(stmt);
    if (facts.kind != StatementKind::kAlterTable) continue;
    // Only statements with an ADD COLUMN ... DEFAULT are parsed again.
    bool wanted = false;
    for (const DdlAction& a : facts.ddl.items)
      wanted |= a.action == "add-column" && !a.default_expr.empty();
    if (!wanted) continue;
    for (const sqlrules::AddColumnDefault& d : sqlrules::AddColumnDefaults(stmt.sql))
      for (const sqlrules::FunctionCall& call : d.calls) names.insert(call.name);
  }
  return names;
}

}  // namespace pgvise

namespace pgvise {

std::set<std::string> SqlTypeNames(const SqlFile& file,
                                   const std::map<std::string, SqlTableInfo>* tables) {
  using namespace sqlrules;  // NOLINT
  std::set<std::string> names;
  auto want = [&](const TypeRef& ref) {
    if (!ref.builtin && !ref.name.empty()) names.insert(ref.name);
  };
  for (const Statement& stmt : file.statements) {
    if (!stmt.parsed) continue;
    const QueryFacts& facts = FactsOf(stmt);
    if (facts.kind == StatementKind::kOtherDdl || facts.kind == StatementKind::kOtherUtility) {
      // A CREATE DOMAIN over a domain of the database, an ALTER DOMAIN of one.
      OneStatement one(stmt.sql);
      if (const PgQuery__Node* n = one.stmt(PG_QUERY__NODE__NODE_CREATE_DOMAIN_STMT))
        want(TypeRefOfName(n->create_domain_stmt->type_name));
      if (const PgQuery__Node* n = one.stmt(PG_QUERY__NODE__NODE_ALTER_DOMAIN_STMT)) {
        TypeRef ref;
        ref.name =
            NameOf(n->alter_domain_stmt->type_name, n->alter_domain_stmt->n_type_name, &ref.schema);
        want(ref);
      }
      continue;
    }
    if (facts.kind != StatementKind::kAlterTable) continue;
    // Only statements that add a column or change a type are parsed again.
    bool wanted = false;
    for (const DdlAction& a : facts.ddl.items) {
      if (a.action != "add-column" && a.action != "alter-column-type") continue;
      wanted = true;
      if (a.action != "alter-column-type" || !tables) continue;
      auto t = tables->find(facts.ddl.object);
      if (t == tables->end())
        t = tables->find(facts.ddl.object.substr(facts.ddl.object.rfind('.') + 1));
      if (t == tables->end()) continue;
      auto col = t->second.column_types.find(a.column);
      if (col != t->second.column_types.end()) want(TypeRefOf(col->second));
    }
    if (!wanted) continue;
    for (auto subtype :
         {PG_QUERY__ALTER_TABLE_TYPE__AT_AddColumn, PG_QUERY__ALTER_TABLE_TYPE__AT_AlterColumnType})
      ForEachColumnCmd(stmt.sql, subtype,
                       [&](const PgQuery__AlterTableCmd&, const PgQuery__ColumnDef& cd) {
                         want(TypeRefOfName(cd.type_name));
                       });
  }
  return names;
}

}  // namespace pgvise
