// Migration rules, theme "constraints": adding or tightening a constraint
// on a table that already has rows. PostgreSQL 15 proves a new constraint
// against every existing row, and does so under a lock that stops writes
// (SHARE ROW EXCLUSIVE for a FOREIGN KEY) or everything (ACCESS EXCLUSIVE for
// CHECK, SET NOT NULL, UNIQUE / PRIMARY KEY's index build), or the statement
// fails outright (ADD COLUMN ... NOT NULL without a DEFAULT on a table with
// rows). Each handler reads DdlFacts and the file state, and suggests the
// two-step form: NOT VALID then VALIDATE CONSTRAINT (SHARE UPDATE EXCLUSIVE:
// reads and writes go on), or CREATE UNIQUE INDEX CONCURRENTLY then ADD
// CONSTRAINT ... USING INDEX. Declared in sql_rule_migration.h,
// registered by sql_rule_migration.cc.
//
// Worked example: `ALTER TABLE orders ALTER COLUMN paid_at SET NOT NULL`
// fires setting-not-null-without-check (a full scan under ACCESS EXCLUSIVE),
// unless the file earlier added CHECK (paid_at IS NOT NULL) and validated
// it: PostgreSQL 12+ then skips the scan, and the file state
// (FileState::HasValidatedNotNullCheck) knows.
#include <string>
#include <utility>
#include <vector>

#include "analyzer/review/sql_rule_migration.h"
#include "analyzer/review/sql_rules_internal.h"
#include "core/session.h"

namespace pgvise::sqlrules {

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
    const std::string t = c.TargetSql(), col = QuoteIdent(a.column);
    f.suggestion = "ALTER TABLE " + t + " ADD CONSTRAINT " + con + " CHECK (" + col +
                   " IS NOT NULL) NOT VALID;\nALTER TABLE " + t + " VALIDATE CONSTRAINT " + con +
                   ";  -- SHARE UPDATE EXCLUSIVE: traffic goes on\nALTER TABLE " + t +
                   " ALTER COLUMN " + col +
                   " SET NOT NULL;  -- no scan: the CHECK proves it\nALTER TABLE " + t +
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
    std::string name = a.constraint_name.empty() ? "<constraint>" : QuoteIdent(a.constraint_name);
    if (a.action == "add-constraint-foreign-key") {
      std::string sql = c.stmt.sql;
      f.suggestion =
          "add it NOT VALID (only new rows are checked, brief lock), then validate "
          "without blocking writes:\n" +
          sql + " NOT VALID;\nALTER TABLE " + c.TargetSql() + " VALIDATE CONSTRAINT " + name +
          ";  -- SHARE UPDATE EXCLUSIVE";
    } else {
      f.suggestion = "add the column first, then ALTER TABLE " + c.TargetSql() +
                     " ADD CONSTRAINT <name> FOREIGN KEY (" + QuoteIdent(a.column) +
                     ") REFERENCES " + a.references + " NOT VALID; and ALTER TABLE " +
                     c.TargetSql() + " VALIDATE CONSTRAINT <name>;";
    }
    out->push_back(std::move(f));
  }
}

namespace {

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

}  // namespace

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
          QuoteIdent(!a.constraint_name.empty()
                         ? a.constraint_name
                         : (dot == std::string::npos ? d.object : d.object.substr(dot + 1)) + "_" +
                               a.column + "_check");  // PostgreSQL's own name for it
      const std::string t = c.TargetSql();
      f.suggestion = "-- add the column without its CHECK, then:\nALTER TABLE " + t +
                     " ADD CONSTRAINT " + name + " CHECK " + Parenthesized(a.check_expr) +
                     " NOT VALID;  -- brief lock, new rows checked\nALTER TABLE " + t +
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
    std::string name = a.constraint_name.empty() ? "<constraint>" : QuoteIdent(a.constraint_name);
    f.suggestion = c.stmt.sql + " NOT VALID;  -- brief lock, new rows checked\nALTER TABLE " +
                   c.TargetSql() + " VALIDATE CONSTRAINT " + name +
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
    for (const auto& col : a.columns) cols += (cols.empty() ? "" : ", ") + QuoteIdent(col);
    if (cols.empty()) cols = QuoteIdent(a.column);
    std::string name =
        QuoteIdent(a.constraint_name.empty() ? d.object.substr(d.object.rfind('.') + 1) +
                                                   (kind == "UNIQUE" ? "_key" : "_pkey")
                                             : a.constraint_name);
    const std::string t = c.TargetSql();
    f.suggestion = "CREATE UNIQUE INDEX CONCURRENTLY " + name + " ON " + t + " (" + cols +
                   ");\nALTER TABLE " + t + " ADD CONSTRAINT " + name + " " + kind +
                   " USING INDEX " + name + ";  -- brief lock, no build";
    if (a.action == "add-column")
      f.suggestion = "ALTER TABLE " + t + " ADD COLUMN " + QuoteIdent(a.column) + " " + a.new_type +
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
    if (t && t->rows <= 0 && t->total_bytes <= t->block_size) continue;
    Finding f =
        c.Make(a.location, "ADD COLUMN " + a.column + " NOT NULL without a DEFAULT fails on " +
                               c.Describe(d.object) + (t ? " (it has rows)" : " if it has rows") +
                               ": every existing row would get NULL, which the constraint refuses");
    if (t) f.severity = Severity::kError;
    f.Add("column", a.column);
    c.AboutTable(d.object, &f);
    f.suggestion = "ALTER TABLE " + c.TargetSql() + " ADD COLUMN " + QuoteIdent(a.column) + " " +
                   (a.new_type.empty() ? "<type>" : a.new_type) +
                   " NOT NULL DEFAULT <value>;  -- a constant default fills existing rows "
                   "without a rewrite (PostgreSQL 11+)\n"
                   "-- or: add it nullable, backfill in batches, then SET NOT NULL after a "
                   "validated CHECK (col IS NOT NULL) NOT VALID";
    out->push_back(std::move(f));
  }
}

}  // namespace pgvise::sqlrules
