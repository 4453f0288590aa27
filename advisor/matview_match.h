// advisor/matview_match: which workload statements one materialized view can
// serve, the view's definition, and each statement rewritten to read it. The
// pure half of the view advisor (no database): advisor/matview.cc costs the
// plans made here and reports them.
//
// A statement is read into a Shape: its tables (each once), the equivalence
// classes of its column = column join predicates, its other conjuncts, its
// grouping keys and its aggregates, with every column written as tK.col
// (tK: the table's rank by qualified name), so that two statements that
// spell the same join with different aliases compare equal as text.
// PlanViews groups Shapes that share tables and join classes into ViewPlans;
// Rewrite turns one statement into a read of the view. See matview_match.cc
// for the matching conditions and what is refused.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "core/status.h"

namespace pgvise::mv {

struct ViewTable {
  std::string schema, name, alias;  // alias: t1, t2, ... in qualified-name order
};

// One column of the view: a grouping key or an aggregate.
struct ViewColumn {
  std::string name;  // column name in the view
  std::string expr;  // canonical SQL over t1..tn: "t2.region", "sum(t1.amount)"
  bool key = false;
  std::string func,
      arg;  // aggregates: "sum" | "count" | "min" | "max"; canonical argument ("" for count(*))
  std::string type;  // pg_typeof of the column, once the database said (matview.cc)
};

// The one column of a grand-total view's unique index (a view with no
// grouping key holds one row: `SELECT 1 AS pgvise_total, sum(...) FROM ...`).
inline constexpr const char* kGrandTotalKey = "pgvise_total";

// The view: its tables are the union of what its statements read (a
// statement may read fewer, when each extra table is joined through a key:
// matview_extra.cc).
struct ViewDefinition {
  std::vector<ViewTable> tables;
  std::vector<std::string> joins;    // "t1.customer_id = t2.id"
  std::vector<std::string> filters;  // conjuncts every served statement has
  std::vector<ViewColumn> keys, aggs;
  // SELECT <keys>, <aggs> FROM <tables> WHERE <joins, filters> GROUP BY <keys>;
  // with no keys: SELECT 1 AS pgvise_total, <aggs> FROM ... (one row).
  std::string Sql() const;
  // The view's columns that the unique index covers (every key, or
  // kGrandTotalKey).
  std::vector<std::string> KeyNames() const;
  // Base tables as schema.table.
  std::vector<std::string> QualifiedTables() const;
};

// A statement the matcher was given.
struct Candidate {
  int index = 0;  // caller's numbering (AdviseReport::statements)
  std::string sql;
  double weight = 0;  // calls x cost: heavier statements seed views
};

struct ViewPlan {
  ViewDefinition def;
  std::vector<int> served;  // Candidate::index values, heaviest first
};

struct MatchResult {
  std::vector<ViewPlan> plans;
  // Why a candidate got no view: "statement 3: a subquery (not matched)".
  std::vector<std::string> refused;
};

// Groups the candidates into views. A candidate that can't be read, or that
// can't be rewritten onto the view its group needs, is refused with a reason.
MatchResult PlanViews(const Catalog& catalog, const std::vector<Candidate>& candidates);

// Rewrites `sql` (one of plan's served statements) to read `view`
// (schema-qualified, quoted as needed). Needs the view columns' types for
// the casts a rollup makes (def.aggs[i].type; "" is refused for sums).
// The result is deparsed from the edited tree and re-parsed; `rollup` says
// whether it re-aggregates (its grouping is coarser than the view's).
Status Rewrite(const Catalog& catalog, const std::string& sql, const ViewDefinition& def,
               const std::string& view, std::string* out, bool* rollup = nullptr);

// Number of conjuncts the rewrite applies to the view (for its cost estimate)
// and how many output aggregates it re-aggregates.
struct RewriteShape {
  int residual_quals = 0;
  int rollup_keys = 0;
  int aggregates = 0;
  bool rollup = false;
};
Status DescribeRewrite(const Catalog& catalog, const std::string& sql, const ViewDefinition& def,
                       RewriteShape* out);

}  // namespace pgvise::mv
