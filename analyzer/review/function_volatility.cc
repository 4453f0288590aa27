// Function volatility (function_volatility.h): the model of PostgreSQL 15.
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
// calls is looked up in pg_proc (one query per review run, catalog/functions.cc) and
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
#include "analyzer/review/function_volatility.h"

#include <cctype>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "analyzer/review/sql_rule_tree.h"
#include "analyzer/review/sql_rules_internal.h"
#include "analyzer/sql/query_facts.h"
#include "catalog/builtin_functions.h"
#include "core/session.h"

namespace pgvise::sqlrules {

namespace {

const char* VolatilityWord(char v) {
  return v == 'i' ? "IMMUTABLE" : v == 's' ? "STABLE" : "VOLATILE";
}

int VolatilityRank(char v) { return v == 'i' ? 0 : v == 's' ? 1 : 2; }

std::vector<FunctionCall> CallsIn(dom::element expr) {
  std::vector<FunctionCall> out;
  WalkNodes(expr, [&](std::string_view type, dom::object fc) {
    if (type != "FuncCall") return;
    std::string_view name = NameFromEnd(fc, "funcname", 0);
    if (name.empty()) return;
    FunctionCall call;
    call.name = std::string(name);
    // catalog.schema.name: the database part is the current one.
    call.schema = std::string(NameFromEnd(fc, "funcname", 1));
    call.nargs = static_cast<int>(Count(fc, "args"));
    call.location = static_cast<int>(Int(fc, "location", 0));
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
  ForEachColumnCmd(sql, "AT_AddColumn", [&](dom::object, dom::object cd) {
    AddColumnDefault d;
    d.column = std::string(Str(cd, "colname"));
    dom::element expr;
    if (ColumnDefault(cd, &expr) && expr.is_object()) {
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
  dom::object sel;
  if (!one.stmt("SelectStmt", &sel)) return false;
  bool ok = Count(sel, "targetList") == 1;
  for (const char* absent :
       {"fromClause", "whereClause", "groupClause", "havingClause", "sortClause", "limitCount",
        "limitOffset", "distinctClause", "withClause", "valuesLists", "windowClause", "intoClause"})
    ok = ok && !Has(sel, absent);
  ok = ok && Str(sel, "op") == "SETOP_NONE";
  if (!ok) return false;
  dom::array targets;
  Arr(sel, "targetList", &targets);
  dom::element target = *targets.begin();
  WalkNodes(target, [&](std::string_view type, dom::object) {
    if (type == "SubLink") ok = false;
  });
  if (ok) *calls = CallsIn(target);
  return ok;
}

// Whether the list of volatile built-ins (catalog/builtin_functions.h, the
// one the facts and the rewriter use) has this name: the list decides for a
// name pg_proc was not asked about.
bool OnBuiltinVolatileList(const std::string& name) { return IsBuiltinVolatile(name); }

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
  dom::object cf;
  if (!one.stmt("CreateFunctionStmt", &cf) || Bool(cf, "is_procedure")) return false;
  SqlFunction f;
  f.name = std::string(NameFromEnd(cf, "funcname", 0));
  f.schema = std::string(NameFromEnd(cf, "funcname", 1));
  f.path_position = 1;  // created where the file's search_path puts it: assume first
  dom::array params;
  if (Arr(cf, "parameters", &params)) {
    for (dom::element n : params) {
      dom::object p;
      if (!NodeOf(n, "FunctionParameter", &p)) continue;
      std::string_view mode = Str(p, "mode");
      if (mode == "FUNC_PARAM_OUT" || mode == "FUNC_PARAM_TABLE") continue;
      ++f.nargs;
      if (Has(p, "defexpr")) ++f.nargdefaults;
      if (mode == "FUNC_PARAM_VARIADIC") f.variadic = true;
      // The type's last name (and [] for arrays): enough to tell this
      // file's overloads apart for CREATE OR REPLACE.
      std::string type = "?";
      dom::object arg_type;
      if (Obj(p, "argType", &arg_type)) {
        std::string_view t = NameFromEnd(arg_type, "names", 0);
        if (!t.empty()) type = std::string(t) + (Has(arg_type, "arrayBounds") ? "[]" : "");
      }
      f.arg_types += (f.arg_types.empty() ? "" : ",") + type;
      f.identity_args += (f.identity_args.empty() ? "" : ", ") + type;
    }
  }
  dom::object return_type;
  bool sql_language = false,
       inline_blocked = Obj(cf, "returnType", &return_type) && Bool(return_type, "setof");
  dom::array options;
  if (Arr(cf, "options", &options)) {
    for (dom::element n : options) {
      dom::object d;
      if (!NodeOf(n, "DefElem", &d)) continue;
      std::string_view opt = Str(d, "defname");
      dom::element arg;
      const bool has_arg = Field(d, "arg", &arg);
      dom::object boolean, list;
      bool on = has_arg && NodeOf(arg, "Boolean", &boolean) && Bool(boolean, "boolval");
      if (opt == "volatility") {
        std::string_view v = has_arg ? StringOf(arg) : std::string_view();
        if (!v.empty()) f.volatility = v[0] == 'i' ? 'i' : v[0] == 's' ? 's' : 'v';
      } else if (opt == "language") {
        sql_language = has_arg && StringOf(arg) == "sql";
      } else if ((opt == "strict" || opt == "security") && on) {
        inline_blocked = true;
      } else if (opt == "set") {
        inline_blocked = true;
      } else if (opt == "as" && has_arg && NodeOf(arg, "List", &list)) {
        dom::array items;
        if (Arr(list, "items", &items) && items.size() > 0) {
          std::string_view body = StringOf(*items.begin());
          if (!body.empty()) f.body = std::string(body);
        }
      }
    }
  }
  // A SQL-standard body (RETURN expr / BEGIN ATOMIC ... END): its text
  // from the RETURN or BEGIN keyword on, as pg_get_function_sqlbody
  // would print it.
  if (f.body.empty() && Has(cf, "sql_body")) {
    int at = FindKeyword(sql, "return");
    if (at < 0) at = FindKeyword(sql, "begin");
    if (at >= 0) f.body = sql.substr(static_cast<size_t>(at));
  }
  f.inlinable_sql = sql_language && !inline_blocked && !f.body.empty();
  if (!f.inlinable_sql) f.body.clear();
  if (f.name.empty()) return false;
  *out = std::move(f);
  return true;
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
