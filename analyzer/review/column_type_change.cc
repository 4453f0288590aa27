// Column type changes (column_type_change.h): the model of PostgreSQL 15.
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
#include "analyzer/review/column_type_change.h"

#include <cctype>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "analyzer/review/sql_rule_tree.h"

namespace pgvise::sqlrules {

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

ColumnType FromTypeName(const pgtree::object* tn) {
  std::string text;
  if (tn && Count(*tn, "names") > 0) {
    text = std::string(NameFromEnd(*tn, "names", 0));
    dom::array names;
    Arr(*tn, "names", &names);
    if (names.size() > 1) {
      std::string_view schema = StringOf(*names.begin());
      if (!schema.empty() && schema != "pg_catalog") text = std::string(schema) + "." + text;
    }
    std::string mods;
    dom::array typmods;
    if (Arr(*tn, "typmods", &typmods)) {
      for (dom::element m : typmods) {
        dom::object c, ival;
        if (!NodeOf(m, "A_Const", &c) || !Obj(c, "ival", &ival))
          return ParseColumnType(text + "(?)");  // a non-integer modifier: unknown
        mods += (mods.empty() ? "" : ",") + std::to_string(Int(ival, "ival", 0));
      }
    }
    if (!mods.empty()) text += "(" + mods + ")";
    if (Has(*tn, "arrayBounds")) text += "[]";
  }
  return ParseColumnType(text);
}

}  // namespace pgvise::sqlrules
