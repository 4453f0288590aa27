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
#include <pg_query/pg_query.pb-c.h>

#include <cctype>

#include "analyzer/sql_rules_internal.h"
#include "core/session.h"

namespace pgvise::sqlrules {

namespace {

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

void AddingFieldWithVolatileDefault(const Call& c, std::vector<Finding>* out) {
  const DdlFacts& d = c.facts.ddl;
  if (c.facts.kind != StatementKind::kAlterTable || c.state.IsNew(d.object)) return;
  for (const DdlAction& a : d.items) {
    if (a.action != "add-column" || !a.default_volatile) continue;
    Finding f = c.Make(a.location, "ADD COLUMN " + a.column + " with volatile default " +
                                       a.default_expr + " rewrites table " + c.Describe(d.object) +
                                       " under ACCESS EXCLUSIVE: the default is computed for "
                                       "every existing row while all reads and writes wait");
    f.Add("lock", "ACCESS EXCLUSIVE").Add("column", a.column).Add("default", a.default_expr);
    c.AboutTable(d.object, &f);
    std::string type = a.new_type.empty() ? "<type>" : a.new_type;
    std::string def = a.default_expr == "nextval(...)" ? "nextval('<sequence>')" : a.default_expr;
    f.suggestion = "ALTER TABLE " + d.object + " ADD COLUMN " + a.column + " " + type +
                   ";\nALTER TABLE " + d.object + " ALTER COLUMN " + a.column + " SET DEFAULT " +
                   def +
                   ";  -- new rows only, no rewrite\n-- then backfill existing rows in "
                   "batches: UPDATE " +
                   d.object + " SET " + a.column + " = " + def + " WHERE <key range> AND " +
                   a.column + " IS NULL;";
    out->push_back(std::move(f));
  }
}

void ChangingColumnType(const Call& c, std::vector<Finding>* out) {
  const DdlFacts& d = c.facts.ddl;
  if (c.facts.kind != StatementKind::kAlterTable || c.state.IsNew(d.object)) return;
  for (const DdlAction& a : d.items) {
    if (a.action != "alter-column-type" || !a.rewrites_table) continue;
    Finding f =
        c.Make(a.location, "ALTER COLUMN " + a.column + " TYPE " + a.new_type + " rewrites table " +
                               c.Describe(d.object) +
                               " and rebuilds its indexes under ACCESS EXCLUSIVE (unless the old "
                               "type is binary-coercible to the new one)");
    f.Add("lock", "ACCESS EXCLUSIVE").Add("column", a.column).Add("new_type", a.new_type);
    c.AboutTable(d.object, &f);
    f.suggestion = "ALTER TABLE " + d.object + " ADD COLUMN " + a.column + "_new " + a.new_type +
                   ";\n-- write both columns from the application (or a trigger), backfill "
                   "in batches, then in a short transaction with lock_timeout set:\n"
                   "ALTER TABLE " +
                   d.object + " RENAME COLUMN " + a.column + " TO " + a.column +
                   "_old;\nALTER TABLE " + d.object + " RENAME COLUMN " + a.column + "_new TO " +
                   a.column + ";";
    out->push_back(std::move(f));
  }
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

void AddingCheckWithoutNotValid(const Call& c, std::vector<Finding>* out) {
  const DdlFacts& d = c.facts.ddl;
  if (c.facts.kind != StatementKind::kAlterTable || c.state.IsNew(d.object)) return;
  for (const DdlAction& a : d.items) {
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
      {"setting-not-null-without-check", SettingNotNullWithoutCheck},
      {"adding-foreign-key-without-not-valid", AddingForeignKeyWithoutNotValid},
      {"adding-check-without-not-valid", AddingCheckWithoutNotValid},
      {"adding-unique-without-index", AddingUniqueWithoutIndex},
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
