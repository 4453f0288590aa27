// Rewriter: turns slow subquery shapes into equivalent joins, and says why
// each rewrite keeps the query's result.
//
// Where it sits: `pgvise rewrite` (cli/cmd_rewrite.cc) and the review rule for
// correlated subqueries call RewriteSql() on one statement. The statement is
// parsed to libpg_query's protobuf tree (rewriter/tree.h), a fixed list of
// named passes reshapes the tree, the tree is deparsed and formatted. Every
// pass can be disabled by name, is timed, and is verified after it runs (its
// output must re-parse; otherwise the pass is undone and says so). Each pass
// records an outcome for every subquery it looked at: applied, or refused
// with the reason the rewrite would change the result (or would not help).
//
// PostgreSQL runs a correlated scalar or aggregate subquery once per outer row
// (a SubPlan). The passes replace such subqueries with a grouped derived table
// joined on the correlation columns, which the planner can hash or merge.
// Facts the passes cannot see in the SQL text (which table a column belongs
// to, NOT NULL constraints, function volatility) come from an optional
// RewriteCatalog (rewriter/pg_catalog.h reads them from a live database:
// the shared Catalog snapshot plus one batched pg_proc query).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"

namespace pgvise {

// What the rewriter may ask about the database. Every answer may be "unknown"
// (nullptr / known=false); the passes then refuse what they cannot prove.
class RewriteCatalog {
 public:
  struct Table {
    std::map<std::string, bool> not_null;      // column -> attnotnull, every column listed
    std::map<std::string, std::string> types;  // column -> format_type() ("integer", "numeric")
    // Column sets no two rows of a scan of this table share (NULLs aside):
    // each valid, non-partial, non-deferrable unique index over plain columns
    // with default operator classes. Empty for a table with inheritance
    // children (a scan reads them too, and the index covers the parent only).
    std::vector<std::vector<std::string>> unique_keys;
    // The primary key's columns (empty: none). GROUP BY them lets a query
    // select every other column of the table (functional dependency).
    std::vector<std::string> primary_key;
  };
  struct Function {
    bool known = false;
    bool is_volatile = false;   // any overload volatile
    bool returns_set = false;   // any overload is a set-returning function
    bool is_aggregate = false;  // any overload is an aggregate
  };
  virtual ~RewriteCatalog() = default;
  // `schema` empty: resolved through the search_path.
  virtual const Table* FindTable(const std::string& schema, const std::string& name) const = 0;
  virtual Function FindFunction(const std::string& name) const = 0;
  // RewriteSql announces every function name the statement calls before any
  // pass asks, so a database-backed catalog can read them in one query.
  virtual void Prefetch(const std::set<std::string>& /*function_names*/) const {}
  // The planner's total cost of `sql` (EXPLAIN, never run), or < 0 when it
  // cannot tell (no server, or the statement does not plan). Passes with two
  // correct forms keep the cheaper one (see TopOneForm).
  virtual double EstimateCost(const std::string& /*sql*/) const { return -1; }
};

// Which form limit-one-to-lateral writes (rewriter/pass_lateral.cc).
enum class TopOneForm {
  kCheapest,    // the cheaper by the catalog's EstimateCost; LATERAL when it cannot tell
  kLateral,     // LEFT JOIN LATERAL (... ORDER BY ... LIMIT 1): one probe per outer row
  kDistinctOn,  // LEFT JOIN a DISTINCT ON derived table, where it applies: one pass over all
};

struct RewriteOptions {
  std::set<std::string> disabled_passes;  // pass names (see Passes())
  const RewriteCatalog* catalog = nullptr;
  bool pretty = true;  // line breaks at major clauses (meaning checked unchanged)
  TopOneForm top_one_form = TopOneForm::kCheapest;
  // Tests: after each pass that applied nothing, check the tree is unchanged
  // (RewriteOnce keeps one undo snapshot on that promise); Internal if not.
  bool check_passes = false;
};

struct PassOutcome {
  std::string pass;      // pass name; "postgresql" for shapes PostgreSQL already handles
  bool applied = false;  // false: refused or left alone, `reason` says why
  std::string reason;
  int location = -1;     // byte offset of the subquery in the input SQL (-1 unknown)
  std::string subquery;  // the subquery as SQL (shortened), to name it in reports
};

struct PassTiming {
  std::string pass;
  double ms = 0;
  bool verified = true;  // output re-parsed after the pass
};

struct RewriteResult {
  std::string sql;  // rewritten (formatted) SQL; the input as given when nothing changed
  bool changed = false;
  std::vector<PassOutcome> outcomes;
  std::vector<PassTiming> timings;
  // Rewrites that had a second correct form (LATERAL vs DISTINCT ON); with
  // TopOneForm::kCheapest RewriteSql costed both and kept the cheaper.
  int alternatives = 0;
};

struct PassInfo {
  const char* name;
  const char* summary;
};
// The passes in the order they run.
const std::vector<PassInfo>& Passes();

// Rewrites every statement in `sql`. InvalidInput (with the parser's message)
// when `sql` does not parse; *error_pos gets the 0-based byte offset.
Status RewriteSql(const std::string& sql, const RewriteOptions& o, RewriteResult* out,
                  size_t* error_pos = nullptr);

// The (unqualified) names of the functions `sql` calls, to batch catalog
// lookups for many statements. InvalidInput when `sql` does not parse.
Status FunctionNames(const std::string& sql, std::set<std::string>* out);

// Pretty-prints SQL: line breaks and indentation at major clauses only (only
// whitespace between tokens changes). Returns the input unchanged when the
// formatted text would not parse to the same tree.
std::string FormatSql(const std::string& sql);

}  // namespace pgvise
