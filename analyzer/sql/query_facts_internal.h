// Internals of QueryFacts extraction (analyzer/query_facts*.cc), not a public
// interface: small readers over the parse tree (pgtree's view of it, shaped
// like libpg_query's JSON), the expression deparser, and the DDL half.
//
// That view wraps every node in a one-key object naming its type:
//   {"ColumnRef": {"fields": [{"String": {"sval": "email"}}], "location": 87}}
// and omits fields that hold their default (0, false, empty), so `{"ival": {}}`
// is the integer 0. Readers here return a neutral value for a missing field
// instead of failing: a tree we do not fully understand yields fewer facts,
// never an error.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "analyzer/sql/pg_tree.h"
#include "analyzer/sql/query_facts.h"

namespace pgvise::facts {

namespace dom = pgvise::pgtree;  // the parse tree, seen as libpg_query's JSON

// A node: its type name ("SelectStmt") and its body object. `ok` is false for
// anything that is not a one-key wrapper object.
struct Node {
  std::string_view type;
  dom::object body;
  bool ok = false;
};

inline Node Unwrap(dom::element e) {
  Node n;
  n.ok = e.unwrap(&n.type, &n.body);
  return n;
}

// The readers below take the key as written: a string literal reaches
// pgtree's literal overload of at_key (its member found once per node type,
// not by name on every call), a string_view the lookup by name.
template <typename Key>
inline bool Field(dom::object o, const Key& key, dom::element* out) {
  return o.at_key(key).get(*out) == dom::SUCCESS;
}

template <typename Key>
inline std::string_view Str(dom::object o, const Key& key) {
  std::string_view s;
  if (o.at_key(key).get(s) != dom::SUCCESS) return {};
  return s;
}

template <typename Key>
inline int64_t Int(dom::object o, const Key& key, int64_t fallback = 0) {
  int64_t v;
  if (o.at_key(key).get(v) != dom::SUCCESS) return fallback;
  return v;
}

template <typename Key>
inline bool Bool(dom::object o, const Key& key) {
  bool v;
  if (o.at_key(key).get(v) != dom::SUCCESS) return false;
  return v;
}

inline int Loc(dom::object o) { return static_cast<int>(Int(o, "location", -1)); }

template <typename Key>
inline bool Arr(dom::object o, const Key& key, dom::array* out) {
  return o.at_key(key).get(*out) == dom::SUCCESS;
}

template <typename Key>
inline bool Obj(dom::object o, const Key& key, dom::object* out) {
  return o.at_key(key).get(*out) == dom::SUCCESS;
}

// Calls fn(element) for each item of array field `key` (nothing if absent).
template <typename Key, typename Fn>
void Each(dom::object o, const Key& key, Fn&& fn) {
  dom::array a;
  if (!Arr(o, key, &a)) return;
  for (dom::element e : a) fn(e);
}

// The sval of a {"String": {"sval": ...}} node; empty otherwise.
inline std::string_view StringNode(dom::element e) {
  Node n = Unwrap(e);
  if (!n.ok || n.type != "String") return {};
  return Str(n.body, "sval");
}

// The last String of a name list (funcname, typeName.names, ...), lower-cased
// as PostgreSQL already did for unquoted names.
std::string_view LastName(dom::object o, std::string_view key);
// "schema.name" / "name" of a name list, skipping pg_catalog.
std::string QualifiedName(dom::object o, std::string_view key);

// --- expressions (query_facts_expr.cc) ---

// Deparses an expression node to SQL. Column references lose their qualifier
// when `strip_qualifiers` (for index expressions). Returns false for a node the
// deparser does not know (the text is then unusable).
bool Deparse(dom::element e, bool strip_qualifiers, std::string* out);
// A literal / parameter / constant expression as SQL text, e.g. "'open'", "42",
// "$1", "'2020-01-01'::date". Sets *param for a ParamRef.
bool ConstantText(dom::element e, std::string* out, int* param);
// SQL type name of a TypeName body ("bigint", "varchar(20)", "timestamptz").
std::string TypeNameText(dom::object type_name);
// True when the expression calls a volatile function (random(), nextval(),
// clock_timestamp(), gen_random_uuid()...). now()/CURRENT_TIMESTAMP are stable.
bool HasVolatileCall(dom::element e);
// Aggregate function name (count, sum, ...).
bool IsAggregateName(std::string_view name);
// Quotes an identifier when it needs quotes (mixed case, keywords-ish chars).
std::string Ident(std::string_view name);

// --- DDL (query_facts_ddl.cc) ---

// Fills facts for a utility statement; returns false when `type` is not one it
// knows (the caller then classifies it as other utility).
bool ExtractDdl(std::string_view type, dom::object body, QueryFacts* out);

}  // namespace pgvise::facts

namespace pgvise {
// Sets DdlAction::location of each ALTER TABLE subcommand from the scanner.
void FillAlterLocations(const std::string& sql, DdlFacts* d);
}  // namespace pgvise
