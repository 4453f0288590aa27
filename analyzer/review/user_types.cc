// User types — domains and enums (user_types.h): the model of PostgreSQL 15.
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
#include "analyzer/review/user_types.h"

#include <cctype>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "analyzer/review/sql_rule_tree.h"
#include "analyzer/sql/query_facts.h"

namespace pgvise::sqlrules {

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

// A qualified name (a list of String nodes, member `key` of `o`): its last
// part, and the one before it in *schema.
std::string NameOf(dom::object o, std::string_view key, std::string* schema) {
  if (Count(o, key) == 0) return "";
  std::string_view s = NameFromEnd(o, key, 1);
  if (!s.empty()) *schema = std::string(s);
  return std::string(NameFromEnd(o, key, 0));
}

void AppendConstraint(SqlType* t, const std::string& what) {
  t->constraints += (t->constraints.empty() ? "" : "; ") + t->Qualified() + ": " + what;
}

}  // namespace

TypeRef TypeRefOfName(const pgtree::object* tn) {
  TypeRef r;
  if (!tn || Count(*tn, "names") == 0) return r;
  r.name = std::string(NameFromEnd(*tn, "names", 0));
  r.schema = std::string(NameFromEnd(*tn, "names", 1));
  r.array = Has(*tn, "arrayBounds");
  if (r.schema.empty() || r.schema == "pg_catalog") {
    r.builtin = ParseColumnType(r.name).known || r.name == "serial" || r.name == "bigserial" ||
                r.name == "smallserial";
    if (r.schema == "pg_catalog") r.builtin = true;
  }
  return r;
}

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
  dom::object e, d;
  if (one.stmt("CreateEnumStmt", &e)) {
    SqlType t;
    t.name = NameOf(e, "typeName", &t.schema);
    t.kind = 'e';
    if (t.name.empty()) return false;
    *out = std::move(t);
    return true;
  }
  if (!one.stmt("CreateDomainStmt", &d)) return false;
  SqlType t;
  t.name = NameOf(d, "domainname", &t.schema);
  t.kind = 'd';
  if (t.name.empty()) return false;
  dom::object type_name;
  const dom::object* tn = Obj(d, "typeName", &type_name) ? &type_name : nullptr;
  TypeRef base = TypeRefOfName(tn);
  // The base with its modifiers and array bounds, built-ins by their
  // internal names ("int4", "varchar(40)"): what ParseColumnType reads.
  t.base = FromTypeName(tn).text;
  if (const SqlType* under = LookupType(file, db, base)) {
    if (under->kind == 'd' && !base.array) {
      t.base = under->base;
      t.constraints = under->constraints;
      t.has_default = under->has_default;
    }
  }
  dom::array cons;
  if (Arr(d, "constraints", &cons)) {
    for (dom::element c : cons) {
      dom::object con;
      if (!NodeOf(c, "Constraint", &con)) continue;
      std::string_view type = Str(con, "contype");
      if (type == "CONSTR_CHECK")
        AppendConstraint(&t, ConstraintText(sql, static_cast<int>(Int(con, "location", 0))));
      else if (type == "CONSTR_NOTNULL")
        AppendConstraint(&t, "NOT NULL");
      else if (type == "CONSTR_DEFAULT")
        t.has_default = true;
    }
  }
  *out = std::move(t);
  return true;
}

bool ParseAlterDomain(const std::string& sql, const SqlTypeCatalog* file, const SqlTypeCatalog* db,
                      SqlType* out) {
  OneStatement one(sql);
  dom::object a;
  if (!one.stmt("AlterDomainStmt", &a) || Str(a, "subtype").empty()) return false;
  TypeRef ref;
  ref.name = NameOf(a, "typeName", &ref.schema);
  const SqlType* known = LookupType(file, db, ref);
  if (!known || known->kind != 'd') return false;
  SqlType t = *known;
  std::string_view sub = Str(a, "subtype");
  dom::element def;
  dom::object con;
  if (sub == "O") {
    AppendConstraint(&t, "NOT NULL");
  } else if (sub == "C" && Field(a, "def", &def) && NodeOf(def, "Constraint", &con)) {
    AppendConstraint(&t, ConstraintText(sql, static_cast<int>(Int(con, "location", 0))));
  } else {
    return false;  // a dropped constraint may or may not have been the last
  }
  *out = std::move(t);
  return true;
}

}  // namespace pgvise::sqlrules

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
      dom::object n, type_name;
      if (one.stmt("CreateDomainStmt", &n))
        want(TypeRefOfName(Obj(n, "typeName", &type_name) ? &type_name : nullptr));
      if (one.stmt("AlterDomainStmt", &n)) {
        TypeRef ref;
        ref.name = NameOf(n, "typeName", &ref.schema);
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
    for (std::string_view subtype : {"AT_AddColumn", "AT_AlterColumnType"})
      ForEachColumnCmd(stmt.sql, subtype, [&](dom::object, dom::object cd) {
        dom::object type_name;
        want(TypeRefOfName(Obj(cd, "typeName", &type_name) ? &type_name : nullptr));
      });
  }
  return names;
}

}  // namespace pgvise
