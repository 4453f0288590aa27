// Migration rules, theme "column changes that may rewrite the table": ADD
// COLUMN with a volatile DEFAULT (adding-field-with-volatile-default), ALTER
// COLUMN TYPE (changing-column-type) and ADD COLUMN of a constrained domain
// (adding-column-with-constrained-domain). Each is where an analyzer model
// meets the statement: function_volatility.h, column_type_change.h and
// user_types.h say whether PostgreSQL 15 rewrites the table under ACCESS
// EXCLUSIVE; the handler reads the statement (DdlFacts, plus the parse tree
// for what the facts do not carry), asks the model, and on a rewrite reports
// the lock, the table with its size and the sequence of statements that
// avoids the rewrite. Declared in sql_rule_migration.h,
// registered by sql_rule_migration.cc.
//
// Worked example: shop.users.score is integer in the catalog (review --db);
// `ALTER TABLE users ALTER COLUMN score TYPE bigint` fires changing-column-type
// at "ALTER COLUMN": "changes shop.users.score from integer to bigint:
// rewrites table users (38 GB, 120M rows) and rebuilds its indexes under
// ACCESS EXCLUSIVE (every value is converted by a cast function)"; the
// suggestion adds a bigint column, backfills it and swaps the names.

#include <string>
#include <utility>
#include <vector>

#include "analyzer/review/column_type_change.h"
#include "analyzer/review/function_volatility.h"
#include "analyzer/review/sql_rule_migration.h"
#include "analyzer/review/sql_rule_tree.h"
#include "analyzer/review/sql_rules_internal.h"
#include "analyzer/review/user_types.h"
#include "core/session.h"

namespace pgvise::sqlrules {

namespace {

// ---- adding-field-with-volatile-default -----------------------------------

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

}  // namespace

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
    const std::string t = c.TargetSql(), col = QuoteIdent(a.column);
    f.suggestion = "ALTER TABLE " + t + " ADD COLUMN " + col + " " + type + ";\nALTER TABLE " + t +
                   " ALTER COLUMN " + col + " SET DEFAULT " + def_sql +
                   ";  -- new rows only, no rewrite\n-- then backfill existing rows in "
                   "batches: UPDATE " +
                   t + " SET " + col + " = " + def_sql + " WHERE <key range> AND " + col +
                   " IS NULL;";
    out->push_back(std::move(f));
  }
}

// ---- changing-column-type -------------------------------------------------

namespace {

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

// USING col, or USING col::<the new type>, is what PostgreSQL does anyway.
bool UsingIsTheColumn(const dom::element* using_expr, const std::string& column,
                      const ColumnType& to) {
  if (!using_expr) return true;
  dom::element e = *using_expr;
  dom::object cast;
  if (NodeOf(e, "TypeCast", &cast)) {
    dom::object type_name;
    ColumnType to_cast = FromTypeName(Obj(cast, "typeName", &type_name) ? &type_name : nullptr);
    if (to_cast.name != to.name || to_cast.mods != to.mods || to_cast.array != to.array)
      return false;
    if (!Field(cast, "arg", &e)) return false;
  }
  dom::object ref;
  if (!NodeOf(e, "ColumnRef", &ref)) return false;
  std::string_view last = NameFromEnd(ref, "fields", 0);
  return !last.empty() && column == last;
}

std::vector<AlterTypeClause> AlterTypeClauses(const std::string& sql) {
  std::vector<AlterTypeClause> out;
  ForEachColumnCmd(sql, "AT_AlterColumnType", [&](dom::object cmd, dom::object cd) {
    AlterTypeClause c;
    c.column = std::string(Str(cmd, "name"));
    dom::object type_name;
    const dom::object* tn = Obj(cd, "typeName", &type_name) ? &type_name : nullptr;
    c.has_to = tn != nullptr;
    c.to = FromTypeName(tn);
    c.to_ref = TypeRefOfName(tn);
    dom::element using_expr;
    c.using_other = !UsingIsTheColumn(Field(cd, "raw_default", &using_expr) ? &using_expr : nullptr,
                                      c.column, c.to);
    c.collate = Has(cd, "collClause");
    out.push_back(std::move(c));
  });
  return out;
}

void AddTypeChangeSuggestion(const Call& c, const DdlAction& a, Finding* f) {
  const std::string table = c.TargetSql(), col = QuoteIdent(a.column),
                    col_new = QuoteIdent(a.column + "_new");
  f->suggestion = "ALTER TABLE " + table + " ADD COLUMN " + col_new + " " + a.new_type +
                  ";\n-- write both columns from the application (or a trigger), backfill "
                  "in batches, then in a short transaction with lock_timeout set:\n"
                  "ALTER TABLE " +
                  table + " RENAME COLUMN " + col + " TO " + QuoteIdent(a.column + "_old") +
                  ";\nALTER TABLE " + table + " RENAME COLUMN " + col_new + " TO " + col + ";";
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
  AddTypeChangeSuggestion(c, a, &f);
  out->push_back(std::move(f));
}

}  // namespace

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
    AddTypeChangeSuggestion(c, a, &f);
    if (v.kind == TypeChange::kRewriteUnlessUtc) {
      f.suggestion =
          "SET TimeZone = 'UTC';  -- before this statement: PostgreSQL 12+ then changes "
          "only the catalog (indexes on the column are still rebuilt)\n-- or, where the "
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
  ForEachColumnCmd(c.stmt.sql, "AT_AddColumn", [&](dom::object, dom::object cd) {
    dom::object type_name;
    TypeRef ref = TypeRefOfName(Obj(cd, "typeName", &type_name) ? &type_name : nullptr);
    std::string source;
    const SqlType* t = LookupType(&c.state.created_types, c.ctx.types, ref, &source);
    // An array of the domain has no constraints of its own: the table is
    // kept (measured on PG 15).
    if (!t || t->kind != 'd' || t->constraints.empty() || ref.array) return;
    std::string column(Str(cd, "colname"));
    const DdlAction* action = nullptr;
    for (const DdlAction& a : d.items)
      if (a.action == "add-column" && a.column == column) action = &a;
    dom::element default_expr;
    bool has_default = ColumnDefault(cd, &default_expr) || t->has_default;
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
    Finding f =
        c.Make(action ? action->location : static_cast<int>(Int(cd, "location", 0)), message);
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
    const std::string table = c.TargetSql(), col = QuoteIdent(column),
                      con = QuoteIdent(column + "_check");
    std::string check = only_not_null
                            ? col + " IS NOT NULL"
                            : "<" + t->constraints + ", with VALUE written as " + col + ">";
    f.suggestion = "ALTER TABLE " + table + " ADD COLUMN " + col + " " + t->base + def +
                   ";  -- the base type: no rewrite\nALTER TABLE " + table + " ADD CONSTRAINT " +
                   con + " CHECK (" + check + ") NOT VALID;  -- no scan\nALTER TABLE " + table +
                   " VALIDATE CONSTRAINT " + con +
                   ";  -- scans under SHARE UPDATE EXCLUSIVE: reads and writes go on\n"
                   "-- changing the column to the domain later rewrites the table as well";
    out->push_back(std::move(f));
  });
}

}  // namespace pgvise::sqlrules
