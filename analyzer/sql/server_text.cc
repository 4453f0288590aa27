// ServerPlannableText (the why is in server_text.h). One walk over the parse
// tree collects byte-range edits located by the tree; they are applied from
// the last to the first so earlier offsets stay valid. Worked example:
//
//   SELECT sum(d) FROM h WHERE t > now() - interval $2 AND b = $3 % $4
//
// The walk meets TypeCast{arg: ParamRef 2 at 47, typeName at 38}: the type is
// written before the parameter, so bytes 38..49 ("interval $2") become
// "CAST($2 AS interval)". It meets A_Expr "%" with ParamRefs on both sides:
// "$3" and "$4" become "CAST($3 AS bigint)" and "CAST($4 AS bigint)".
#include "analyzer/sql/server_text.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <string_view>

#include "analyzer/sql/pg_tree.h"
#include "analyzer/sql/statement.h"

namespace pgvise {

namespace {

using pgtree::array;
using pgtree::element;
using pgtree::object;
using pgtree::SUCCESS;

struct Edit {
  size_t begin = 0;
  size_t end = 0;
  std::string text;
};

struct Param {
  int64_t number = 0;
  size_t begin = 0;
  size_t end = 0;  // past the `$n` token
};

// `e` is a ParamRef whose `$n` token is where the tree says it is.
bool ParamAt(element e, const std::string& sql, Param* p) {
  std::string_view type;
  object body;
  if (!e.unwrap(&type, &body) || type != "ParamRef") return false;
  int64_t number = 0, location = -1;
  if (body.at_key("number").get(number) != SUCCESS ||
      body.at_key("location").get(location) != SUCCESS || location < 0)
    return false;
  const std::string token = "$" + std::to_string(number);
  const auto at = static_cast<size_t>(location);
  if (sql.compare(at, token.size(), token) != 0) return false;
  const size_t end = at + token.size();
  if (end < sql.size() && std::isdigit(static_cast<unsigned char>(sql[end]))) return false;
  *p = {number, at, end};
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// `interval $2`: a TypeCast whose type is written before its parameter.
void TypedLiteral(object body, const std::string& sql, std::vector<Edit>* out) {
  element arg;
  Param p;
  if (body.at_key("arg").get(arg) != SUCCESS || !ParamAt(arg, sql, &p)) return;
  object type_name;
  int64_t type_at = -1;
  if (body.at_key("typeName").get(type_name) != SUCCESS ||
      type_name.at_key("location").get(type_at) != SUCCESS || type_at < 0 ||
      static_cast<size_t>(type_at) >= p.begin)
    return;  // `$2::interval` or CAST($2 AS interval): the server takes those
  const std::string_view type = Trim(std::string_view(sql).substr(
      static_cast<size_t>(type_at), p.begin - static_cast<size_t>(type_at)));
  // `interval $1 day`: the field words follow the parameter; leave it.
  array typmods;
  if (type_name.at_key("typmods").get(typmods) == SUCCESS && type.find("interval") != type.npos &&
      type.find('(') == type.npos)
    return;
  if (type.empty()) return;
  out->push_back({static_cast<size_t>(type_at), p.end,
                  "CAST($" + std::to_string(p.number) + " AS " + std::string(type) + ")"});
}

bool IsArithmetic(object body) {
  std::string_view kind;
  if (body.at_key("kind").get(kind) != SUCCESS || kind != "AEXPR_OP") return false;
  array name;
  if (body.at_key("name").get(name) != SUCCESS || name.size() != 1) return false;
  for (element n : name) {
    std::string_view type, op;
    object s;
    if (!n.unwrap(&type, &s) || type != "String" || s.at_key("sval").get(op) != SUCCESS)
      return false;
    return op == "+" || op == "-" || op == "*" || op == "/" || op == "%" || op == "^";
  }
  return false;
}

// `$1 % $2` or `- $1`: no operand gives the operator a type.
void UntypedArithmetic(object body, const std::string& sql, std::vector<Edit>* out) {
  if (!IsArithmetic(body)) return;
  element l, r;
  const bool has_l = body.at_key("lexpr").get(l) == SUCCESS;
  const bool has_r = body.at_key("rexpr").get(r) == SUCCESS;
  Param pl, pr;
  const bool param_l = has_l && ParamAt(l, sql, &pl);
  const bool param_r = has_r && ParamAt(r, sql, &pr);
  std::vector<Param> untyped;
  if (param_l && param_r) untyped = {pl, pr};
  if (!has_l && param_r) untyped = {pr};
  for (const Param& p : untyped)
    out->push_back({p.begin, p.end, "CAST($" + std::to_string(p.number) + " AS bigint)"});
}

void Walk(element e, const std::string& sql, std::vector<Edit>* out) {
  array arr;
  if (e.get(arr) == SUCCESS) {
    for (element c : arr) Walk(c, sql, out);
    return;
  }
  std::string_view type;
  object body;
  if (e.unwrap(&type, &body)) {
    if (type == "TypeCast") TypedLiteral(body, sql, out);
    if (type == "A_Expr") UntypedArithmetic(body, sql, out);
    for (element c : body.children()) Walk(c, sql, out);
    return;
  }
  object obj;
  if (e.get(obj) == SUCCESS)
    for (element c : obj.children()) Walk(c, sql, out);
}

}  // namespace

std::string ServerPlannableText(const std::string& sql, std::vector<std::string>* changes) {
  pgtree::PgTree tree(sql);
  if (!tree.ok() || tree.size() != 1) return sql;
  // The walk is recursive: refuse what would overflow it (statement.h).
  if (sql.size() > kShortStatementBytes && tree.MaxDepth() > kMaxNestingDepth) return sql;
  std::vector<Edit> edits;
  Walk(tree.statement(0), sql, &edits);
  if (edits.empty()) return sql;
  std::sort(edits.begin(), edits.end(),
            [](const Edit& a, const Edit& b) { return a.begin < b.begin; });
  // Overlapping edits cannot come from one tree, but never apply two on one byte.
  std::vector<Edit> kept;
  for (Edit& e : edits)
    if (kept.empty() || e.begin >= kept.back().end) kept.push_back(std::move(e));
  std::string out = sql;
  for (auto it = kept.rbegin(); it != kept.rend(); ++it)
    out.replace(it->begin, it->end - it->begin, it->text);
  if (!pgtree::PgTree(out).ok()) return sql;
  if (changes)
    for (const Edit& e : kept)
      changes->push_back(sql.substr(e.begin, e.end - e.begin) + " -> " + e.text);
  return out;
}

}  // namespace pgvise
