// advisor/matview_match_internal: what the view matcher's files share (not an API).
//
// The matcher is four files, one concept each:
//   matview_expr.cc     what an expression may contain (types, functions,
//                       aggregates) and the small naming helpers;
//   matview_shape.cc    a statement read into a Shape: tables, join classes,
//                       conjuncts, grouping keys, aggregates, each column
//                       written tK.col;
//   matview_rewrite.cc  the matching conditions checked for one statement and
//                       one view, and the statement edited to read the view;
//   matview_match.cc    statements grouped into views (PlanViews).
// The conditions and what is refused: the essay at the top of matview_match.cc.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "advisor/matview_match.h"
#include "analyzer/sql/edit_tree.h"

namespace pgvise::mv::detail {

using rw::Node;

// Grouping-key types whose equality is identity (so a view row stands for
// exactly the base rows with that key).
bool GroupableType(const std::string& t);
bool IsTimestampTz(const std::string& t);
bool IsTimestampNoTz(const std::string& t);

// sum count min max avg: the aggregates a view keeps and rolls up.
const std::set<std::string>& HandledAggregates();

// What an expression may contain and where it may go.
struct ExprInfo {
  bool ok = true;
  std::string why;
  bool stable = false;  // reads the session or the clock, or a `$n`
  bool has_agg = false;
  std::vector<Node*> columns;  // ColumnRef nodes outside aggregates
};
// Checks `n` against the matcher's lists; aggregates only when allow_agg.
void Inspect(Node* n, bool allow_agg, ExprInfo* info);

// The canonical text of an expression whose columns are already tK.col.
inline std::string Sql(const Node* n) { return rw::ExprSql(n); }

// The name PostgreSQL gives an output column written without AS.
std::string FigureColname(const Node* n);
// The conjuncts of an AND tree, in order.
void FlattenAnd(Node* n, std::vector<Node*>* out);

struct AggUse {
  std::string func;        // sum count min max avg
  std::string arg;         // canonical argument, "" for count(*)
  std::string arg_column;  // the argument's column name when it is one (for naming)
};

// A statement read for matching, its columns rewritten to tK.col.
struct Shape {
  std::unique_ptr<rw::Tree> tree;
  PgQuery__SelectStmt* sel = nullptr;
  std::vector<ViewTable> tables;
  std::vector<const TableInfo*> infos;
  std::vector<std::vector<std::string>> classes;
  std::vector<Node*> preds;
  std::vector<std::string> pred_sql;
  std::vector<bool> core_ok;   // may sit in the view (no `$n`, no session dependence)
  std::vector<bool> pushable;  // reads only columns that may be grouping keys
  std::vector<std::vector<Node*>> pred_cols;
  std::vector<Node*> keys;
  std::vector<std::string> key_sql;
  std::vector<AggUse> aggs;
  std::set<std::string> output_names;
  std::string signature;  // tables and join classes

  const ColumnInfo* Column(const Node* colref) const {
    const auto* c = colref->column_ref;
    if (c->n_fields != 2) return nullptr;
    const std::string alias = rw::StrVal(c->fields[0]);
    for (size_t i = 0; i < tables.size(); ++i)
      if (tables[i].alias == alias) return infos[i]->Column(rw::StrVal(c->fields[1]));
    return nullptr;
  }
};

// Reads `sql` into *out; false with *why when it can't be matched. With
// `align`, each table gets the alias the view's table list gives it (a
// statement over fewer tables than a view, matched through extra tables),
// and a table the view lacks is refused.
bool Analyze(const Catalog& catalog, const std::string& sql, Shape* out, std::string* why,
             const std::vector<ViewTable>* align = nullptr);

// Goldstein & Larson's extra-table condition: `sh` (read aligned to
// `view_tables`) reads a subset of the view's tables, and every extra table
// is joined by the view through a key: its primary or unique key equated to
// a validated foreign key of one table the statement reads, whose columns
// are NOT NULL, and to nothing else. Each row of the statement's join then
// meets exactly one row of each extra table: the view's join neither loses
// nor duplicates rows. Also checks that the view's join classes, less the
// extra tables' columns, are the statement's. False with *why otherwise.
bool ExtraTablesKeepRows(const Catalog& catalog, const Shape& sh,
                         const std::vector<ViewTable>& view_tables,
                         const std::vector<std::string>& view_joins, std::string* why);
// The join classes that "a = b" equalities form, each sorted, in order.
std::vector<std::vector<std::string>> JoinClasses(const std::vector<std::string>& joins);
// True when `sub`'s tables are a proper subset of `super`'s (by qualified name).
bool ProperSubset(const std::vector<ViewTable>& sub, const std::vector<ViewTable>& super);

// A view column name from `base`, made an identifier and not in *taken.
std::string ViewColumnName(const std::string& base, std::set<std::string>* taken);
const ViewColumn* FindAgg(const ViewDefinition& def, const std::string& func,
                          const std::string& arg);
const ViewColumn* FindKey(const ViewDefinition& def, const std::string& expr);
// Parses one expression into tree `t`'s arena; nullptr when it does not parse.
Node* ParseExpr(rw::Tree& t, const std::string& sql);

}  // namespace pgvise::mv::detail
