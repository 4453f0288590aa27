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
//
// The handlers, by theme (each file opens with its own essay):
// - here: locks and transactions (require-concurrent-index-creation,
//   require-lock-timeout, concurrently-in-transaction), changes that break
//   running code (ban-drop-column, ban-drop-table, renaming-column,
//   renaming-table) and whole-table maintenance commands (ban-vacuum-full,
//   ban-cluster);
// - sql_rule_migration_rewrites.cc: column changes that may rewrite the
//   table, each backed by an analyzer model (function_volatility.h,
//   column_type_change.h, user_types.h);
// - sql_rule_migration_constraints.cc: adding or tightening constraints;
// - sql_rule_migration_partitions.cc: partitioned tables (indexing the
//   parent, attaching a partition).
// MigrationHandlers below registers them all, in the order the rules run.

#include <cctype>
#include <string>
#include <utility>
#include <vector>

#include "analyzer/review/sql_rule_migration.h"
#include "analyzer/review/sql_rule_tree.h"
#include "analyzer/review/sql_rules_internal.h"
#include "core/session.h"
#include "core/sql_text.h"

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
  // A partitioned table cannot be indexed CONCURRENTLY at all:
  // create-index-on-partitioned-table gives the per-partition recipe.
  if (KnownPartitioned(c, d.index_table)) return;
  Finding f = c.Make(0, "CREATE INDEX on " + c.Describe(d.index_table) +
                            " without CONCURRENTLY takes a SHARE lock: every INSERT, UPDATE "
                            "and DELETE on the table waits until the index is built");
  f.Add("lock", d.lock);
  c.AboutTable(d.index_table, &f);
  std::string sql = c.stmt.sql;
  int at = FindKeyword(sql, "index");
  if (at >= 0) sql.insert(static_cast<size_t>(at) + 5, " CONCURRENTLY");
  f.suggestion = sql +
                 ";  -- SHARE UPDATE EXCLUSIVE: reads and writes go on. Run it outside a "
                 "transaction block; if it fails, DROP INDEX CONCURRENTLY the INVALID index and "
                 "retry.";
  out->push_back(std::move(f));
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

// The tables of a DROP TABLE as the parse tree holds them, for printed SQL:
// each part quoted as needed (a name holding a '.' or a '"' stays whole),
// and the bare table name. Empty when the tree has no such list.
std::vector<std::pair<std::string, std::string>> DroppedTablesSql(const std::string& sql) {
  std::vector<std::pair<std::string, std::string>> out;
  OneStatement one(sql);
  dom::object drop;
  dom::array objects;
  if (!one.stmt("DropStmt", &drop) || !Arr(drop, "objects", &objects)) return out;
  for (dom::element e : objects) {
    dom::object list;
    dom::array items;
    if (!NodeOf(e, "List", &list) || !Arr(list, "items", &items)) return {};
    std::string name, last;
    for (dom::element item : items) {
      last = std::string(StringOf(item));
      name += (name.empty() ? "" : ".") + QuoteIdent(last);
    }
    out.push_back({name, last});
  }
  return out;
}

void BanDropTable(const Call& c, std::vector<Finding>* out) {
  const DdlFacts& d = c.facts.ddl;
  if (c.facts.kind != StatementKind::kDropTable) return;
  const auto as_sql = DroppedTablesSql(c.stmt.sql);
  for (size_t i = 0; i < d.objects.size(); ++i) {
    const std::string& t = d.objects[i];
    if (c.state.IsNew(t)) continue;
    Finding f = c.Make(0, "DROP TABLE " + c.Describe(t) +
                              " (ACCESS EXCLUSIVE): code still using it fails, and the data is "
                              "gone without a restore");
    f.Add("lock", "ACCESS EXCLUSIVE");
    c.AboutTable(t, &f);
    // The SQL in the suggestion must run as printed, whatever the name.
    const bool tree = as_sql.size() == d.objects.size();
    const std::string bare = tree ? as_sql[i].second : t.substr(t.rfind('.') + 1);
    f.suggestion = "stop using " + t +
                   " in the application first; to keep a way back, "
                   "ALTER TABLE " +
                   (tree ? as_sql[i].first : QuoteIdent(t)) + " RENAME TO " +
                   QuoteIdent(bare + "_deprecated") + "; and drop it in a later release.";
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
  f.suggestion = "expand and contract: ALTER TABLE " + c.TargetSql() + " ADD COLUMN " +
                 QuoteIdent(d.rename_to) + " <type>; write both, backfill, move reads to " +
                 d.rename_to + ", then drop " + d.column + " in a later release.";
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
  // The renamed table stays in its schema: the view reads it there.
  const std::string target = c.TargetSql();
  std::string renamed = QuoteIdent(d.rename_to);
  {
    OneStatement one(c.stmt.sql);
    dom::object body, rv;
    if (one.stmt("RenameStmt", &body) && Obj(body, "relation", &rv) &&
        !Str(rv, "schemaname").empty())
      renamed = QuoteIdent(Str(rv, "schemaname")) + "." + renamed;
  }
  f.suggestion = "rename and keep the old name working until the code has moved:\nALTER TABLE " +
                 target + " RENAME TO " + QuoteIdent(d.rename_to) + ";\nCREATE VIEW " + target +
                 " AS SELECT * FROM " + renamed +
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
      (d.object.empty() ? std::string() : " --table=" + ShellQuote(c.TargetSql())) +
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
  f.suggestion = "pg_repack" +
                 (d.object.empty() ? std::string() : " --table=" + ShellQuote(c.TargetSql())) +
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
  int at = FindKeyword(c.stmt.sql, "concurrently");
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
      {"create-index-on-partitioned-table", CreateIndexOnPartitionedTable},
      {"attach-partition-without-check", AttachPartitionWithoutCheck},
  };
  return kHandlers;
}

}  // namespace pgvise::sqlrules
