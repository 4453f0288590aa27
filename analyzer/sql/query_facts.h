// QueryFacts: what one parsed statement does, in the terms the rest of pgvise
// needs. The advisor builds index candidates from predicates, joins, ORDER BY
// and read columns; the rewriter and the query rules look at subqueries; the
// migration rules look at DdlFacts (the object, the action, the lock).
//
// Facts are extracted from libpg_query's parse tree, read in place through
// analyzer/sql/pg_tree.h (query_facts.cc), while ParseSqlFile holds it. Names are as written,
// lower-cased unless quoted; a column is resolved to its relation through aliases and, when a
// statement has one relation, unqualified columns belong to it. Every fact keeps `location`, a byte
// offset into the statement text, so findings can point at it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "analyzer/sql/statement.h"

namespace pgvise {

enum class StatementKind {
  kSelect,
  kInsert,
  kUpdate,
  kDelete,
  kMerge,
  kCreateTable,
  kCreateTableAs,
  kAlterTable,
  kDropTable,
  kCreateIndex,
  kDropIndex,
  kReindex,
  kCreateView,
  kCreateMatView,
  kRefreshMatView,
  kRename,
  kTruncate,
  kVacuum,
  kAnalyze,
  kCluster,
  kTransaction,
  kSet,
  kCopy,
  kExplain,
  kOtherDdl,
  kOtherUtility,
};
const char* StatementKindName(StatementKind k);

// A relation referenced in FROM / JOIN / UPDATE / DELETE / INSERT target.
struct RelationRef {
  std::string schema;   // empty when not qualified
  std::string name;     // table name as written (unquoted, case preserved if quoted)
  std::string alias;    // alias or, without one, the name
  bool is_cte = false;  // a WITH name, not a table
  int location = -1;
  std::string QualifiedName() const { return schema.empty() ? name : schema + "." + name; }
};

enum class PredicateKind {
  kEquality,    // col = x
  kRange,       // col < x, <=, >, >=, BETWEEN
  kInList,      // col IN (1, 2, 3)
  kAnyArray,    // col = ANY($1) / ANY(ARRAY[...])
  kLikePrefix,  // col LIKE 'abc%'  (an index with text_pattern_ops / C collation can serve)
  kLikeOther,   // col LIKE '%abc' / ILIKE ... (a B-tree can't serve)
  kIsNull,
  kIsNotNull,
  kNotEqual,   // col <> x (rarely indexable; partial-index material)
  kContains,   // jsonb/array @>, <@ (GIN)
  kKeyExists,  // jsonb ?, ?|, ?& (GIN)
  kOverlap,    // array && (GIN)
  kFullText,   // tsvector @@ tsquery (GIN)
  kOther,
};
const char* PredicateKindName(PredicateKind k);

enum class ValueKind { kNone, kConstant, kParameter, kColumn, kExpression, kSubquery };

enum class Clause { kWhere, kJoinOn, kHaving, kOther };

// One comparison an index could serve: `<column or expression> <op> <value>`.
struct Predicate {
  std::string relation;  // alias-resolved: the RelationRef::alias it belongs to
  std::string table;     // the underlying table name (schema-qualified if written so)
  std::string column;    // base column; for an expression, the column inside it
  std::string
      expression;  // non-empty when the column is wrapped: "lower(email)",
                   // "date_trunc('day', created_at)", "(payload ->> 'k')", "created_at::date"
  PredicateKind kind = PredicateKind::kOther;
  std::string op;  // "=", "<", ">=", "LIKE", "@>", "IS NULL", ...
  ValueKind value_kind = ValueKind::kNone;
  std::vector<std::string> constants;  // SQL literals as written ('open', 42, ...)
  int param = 0;                       // $n when value_kind == kParameter
  Clause clause = Clause::kWhere;
  bool under_or = false;    // inside an OR: not usable alone by one index
  bool negated = false;     // under NOT
  int location = -1;        // start of the column side (the column or the wrapping call)
  int value_location = -1;  // start of the value side (extension)
};

// Predicate notes for consumers:
//  - `expression` is deparsed with the relation qualifier stripped, so it can go
//    into `CREATE INDEX ON table ((expression))` as is (wrap it in parentheses
//    unless it is a plain function call).
//  - value_kind kExpression (e.g. `now() - interval '1 day'`): the deparsed
//    value is constants[0]. kColumn: the other side is a column of another
//    relation (inside a subquery: an outer column it is correlated on;
//    constants[0] is "alias.column"). kSubquery: `col IN (SELECT ...)`, kind
//    kInList.
//  - A bare boolean column (`WHERE active`) is kEquality with constant "true".

// An equi-join (or other) condition between two relations.
struct JoinCondition {
  std::string left_relation, left_table, left_column;
  std::string right_relation, right_table, right_column;
  std::string op = "=";
  std::string join_type;  // "inner", "left", "right", "full", "cross", "implicit" (FROM a, b WHERE)
  int location = -1;
};

struct SortKey {
  std::string relation, table, column;  // empty column when it is an expression
  std::string expression;               // "random()", "lower(name)", ...
  bool descending = false;
  enum class Nulls { kDefault, kFirst, kLast } nulls = Nulls::kDefault;
  int location = -1;
};

enum class SubqueryPlacement { kWhere, kSelectList, kHaving, kFrom, kJoinOn, kOther };
enum class SubqueryKind { kExists, kIn, kAny, kAll, kScalar, kArray, kDerivedTable, kCte };

struct SubqueryFacts {
  SubqueryPlacement placement = SubqueryPlacement::kWhere;
  SubqueryKind kind = SubqueryKind::kScalar;
  bool negated = false;  // NOT EXISTS / NOT IN
  bool under_or = false;
  std::string compare_op;  // scalar subquery compared with something, read as "(subquery) <op>
                           // other" (flipped when written on the right); IN: "=", ANY/ALL: their op
  // Outer columns the subquery refers to: "alias.column" of the enclosing query.
  std::vector<std::string> correlated_on;
  bool has_aggregate = false, has_group_by = false, has_having = false, has_limit = false;
  bool has_order_by = false, has_window = false, has_volatile_function = false;
  int depth = 1;                    // nesting depth (1 = directly in the statement)
  std::vector<std::string> tables;  // tables it reads
  int location = -1;
  // The subquery's own FROM relations, predicates and joins (a correlated
  // `inner.col = outer.col` is a Predicate with value_kind kColumn), so the
  // advisor can index what a subquery filters on. Nested subqueries are their
  // own entries in QueryFacts::subqueries (with a larger depth).
  std::vector<RelationRef> relations;
  std::vector<Predicate> predicates;
  std::vector<JoinCondition> joins;
  std::string alias;             // derived table / CTE name
  std::optional<int64_t> limit;  // constant LIMIT inside
};

// One ALTER TABLE subcommand (or the single action of another DDL statement),
// with its own lock and details: an ALTER TABLE can do several things at once.
struct DdlAction {
  std::string action;  // as in DdlFacts::actions
  std::string lock;    // the lock this action alone takes
  std::string column;
  std::string new_type;      // alter-column-type / add-column type as written
  std::string default_expr;  // deparsed DEFAULT
  bool default_volatile = false;
  bool rewrites_table = false;
  std::string constraint_type;  // foreign-key | check | unique | primary-key | exclusion | not-null
  std::string constraint_name;
  bool not_valid = false;
  bool using_index = false;
  std::string references;             // FOREIGN KEY: the referenced table
  std::vector<std::string> columns;   // constraint key columns / FK columns
  std::string check_not_null_column;  // CHECK (col IS NOT NULL): the column
  std::string check_expr;             // ADD COLUMN ... CHECK (expr): expr, deparsed
  bool not_null = false;              // ADD COLUMN ... NOT NULL / PRIMARY KEY
  std::string rename_to;
  int location = -1;  // the token the action is about (statement-relative)
};

// What a DDL / utility statement does to which object, and the lock it takes.
struct DdlFacts {
  std::string object;                // target table/index, schema-qualified when written so
  std::string object_kind;           // "table" | "index" | "view" | ...
  std::vector<std::string> actions;  // ALTER TABLE subcommands: "add-column", "alter-column-type",
                                     // "set-not-null", "add-constraint-foreign-key", ...
  std::string lock;                  // "ACCESS EXCLUSIVE", "SHARE", "SHARE UPDATE EXCLUSIVE", ...
  bool concurrently = false;  // CREATE/DROP INDEX/REINDEX CONCURRENTLY, DETACH ... CONCURRENTLY
  bool if_not_exists = false;
  bool not_valid = false;       // constraint added NOT VALID
  bool rewrites_table = false;  // the action rewrites every row (volatile default, type change...)
  std::string index_table;      // CREATE INDEX: the table indexed
  std::vector<std::string> index_columns;
  std::string column;        // the column an ALTER COLUMN / ADD COLUMN names
  std::string new_type;      // ALTER COLUMN TYPE target
  std::string default_expr;  // ADD COLUMN ... DEFAULT expression (deparsed)
  bool default_volatile = false;
  std::string
      constraint_type;       // "foreign-key" | "check" | "unique" | "primary-key" | "not-null" ...
  bool using_index = false;  // ADD CONSTRAINT ... USING INDEX
  std::string rename_to;
  // Extensions (facts module): per-action details, every object of a
  // multi-object DROP, the target's location, SET name/value.
  std::vector<DdlAction> items;
  std::vector<std::string> objects;  // DROP TABLE a, b: both; otherwise {object}
  std::string referenced_table;      // ADD FOREIGN KEY: the other table it locks
  int location = -1;                 // the target name's token
  std::string setting;               // SET name (lower-case), e.g. "lock_timeout"
  std::string setting_value;         // SET value as written ("2s", "0", "DEFAULT")
  bool local = false;                // SET LOCAL
  bool vacuum_full = false;
  std::vector<std::string> created_tables;  // CREATE TABLE / CREATE TABLE AS target
};

struct QueryFacts {
  StatementKind kind = StatementKind::kOtherUtility;
  std::vector<RelationRef> relations;  // outer query's relations (subqueries' in SubqueryFacts)
  std::vector<Predicate> predicates;   // of the outer query (not of subqueries)
  std::vector<JoinCondition> joins;
  std::vector<SortKey> group_by;
  std::vector<SortKey> order_by;
  std::optional<int64_t> limit;   // constant LIMIT
  bool limit_param = false;       // LIMIT $n
  std::optional<int64_t> offset;  // constant OFFSET
  bool offset_param = false;      // OFFSET $n
  // An OFFSET clause of any form: a constant, a `$n`, or an expression
  // (`OFFSET $2 * $3`, a page number times a page size), which neither
  // field above records.
  bool has_offset = false;
  bool distinct = false;
  bool has_aggregate = false;
  bool has_where = false;
  bool select_star = false;  // SELECT * or t.*
  int select_star_location = -1;
  // Columns read per relation alias (select list, predicates, joins, order, group),
  // for covering indexes. "*" means all columns.
  std::map<std::string, std::set<std::string>> read_columns;
  std::vector<SubqueryFacts> subqueries;
  std::vector<std::string> ctes;
  DdlFacts ddl;                       // for DDL / utility statements
  bool in_transaction_block = false;  // set by file-level analysis (BEGIN seen earlier)
  // Extensions (facts module).
  std::vector<std::string> updated_columns;   // UPDATE SET / ON CONFLICT DO UPDATE SET targets
  std::vector<std::string> insert_columns;    // INSERT (a, b, ...)
  std::vector<std::string> conflict_columns;  // ON CONFLICT (a, b)
  std::string conflict_action;                // "" | "nothing" | "update"
  bool has_window = false;
  bool has_having = false;
  bool has_returning = false;
  bool set_operation = false;  // UNION / INTERSECT / EXCEPT
  bool for_update = false;     // SELECT ... FOR UPDATE/SHARE
  int where_location = -1;     // the WHERE clause's first expression
  int keyword_location = -1;   // UPDATE/DELETE/INSERT target relation token
  int offset_location = -1;    // the OFFSET value's token
  // Top-level FROM items (comma-separated), each with the aliases it brings
  // (a JOIN tree brings several), and the location of each item.
  std::vector<std::vector<std::string>> from_items;
  std::vector<int> from_item_locations;
  std::string lock;  // table lock of a DML statement (ACCESS SHARE...)

  // The relation for an alias (or table name), nullptr if unknown.
  const RelationRef* Relation(const std::string& alias) const {
    for (const auto& r : relations)
      if (r.alias == alias) return &r;
    return nullptr;
  }
};

// True for PostgreSQL's built-in aggregate functions (count, sum, ...), for
// code that has no catalog at hand. Shared by the facts and the rewriter.
bool IsBuiltinAggregate(std::string_view name);

// Extracts facts from a parsed statement (a copy of those ParseSqlFile kept,
// or from a fresh parse of stmt.sql). Returns InvalidInput for a statement
// that did not parse (stmt.parsed == false).
Status ExtractFacts(const Statement& stmt, QueryFacts* out);

// Parses one statement's SQL and extracts its facts from the tree while it
// exists, into a default-constructed *out. On a syntax error returns InvalidInput with the parser's
// message and sets *error_pos to its 0-based byte offset in `sql`. A statement
// nested deeper than kMaxNestingDepth (analyzer/sql/statement.h) is refused before
// anything walks it: Unsupported, TooDeepMessage, *error_pos 0.
Status ParseStatementFacts(const std::string& sql, QueryFacts* out, size_t* error_pos);

// Extracts facts for every statement of a file in order, carrying file-level
// state (BEGIN/COMMIT blocks) into QueryFacts::in_transaction_block. A copy of
// what FactsOf returns, for code that keeps the facts beyond the file.
std::vector<QueryFacts> ExtractFileFacts(const SqlFile& file);

// The facts ParseSqlFile extracted for a statement of its file (with
// in_transaction_block), without copying; empty facts for a statement that
// did not come from ParseSqlFile.
const QueryFacts& FactsOf(const Statement& stmt);

class Catalog;  // catalog/catalog.h

// Gives an owner to the columns written without an alias in a statement (or
// subquery) over several relations, from the catalog: the one relation of the
// level whose table has the column. Resolves nothing at a level with a
// relation the catalog does not know (CTE, derived table, view). Returns the
// number of columns resolved. See analyzer/sql/query_facts_catalog.cc.
int ResolveColumns(const Catalog& catalog, QueryFacts* f);

// Carries the BEGIN ... COMMIT state of a file across its statements in order:
// sets f->in_transaction_block and updates *in_block.
void NoteTransactionBlock(QueryFacts* f, bool* in_block);

}  // namespace pgvise
