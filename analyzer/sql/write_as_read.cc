// RowFindingSelect (the why and two examples are in write_as_read.h): the
// write's tree is reshaped into a SelectStmt over the same relations with the
// same WHERE and WITH, and deparsed.
#include "analyzer/sql/write_as_read.h"

#include <algorithm>
#include <memory>

#include "analyzer/sql/edit_tree.h"

namespace pgvise {

Status RowFindingSelect(const std::string& sql, std::string* select) {
  std::unique_ptr<rw::Tree> tree;
  Status st = rw::Tree::Parse(sql, &tree);
  if (!st.ok()) return st;
  rw::Tree& t = *tree;
  if (t.root()->n_stmts != 1) return Status::Unsupported("not one statement");
  rw::Node* stmt = t.root()->stmts[0]->stmt;
  PgQuery__SelectStmt* sel = t.EmptySelect();
  PgQuery__RangeVar* rel = nullptr;
  rw::Node* where = nullptr;
  size_t n_from = 0, n_returning = 0;
  rw::Node** from = nullptr;
  rw::Node** returning = nullptr;
  if (stmt->node_case == PG_QUERY__NODE__NODE_UPDATE_STMT) {
    auto* u = stmt->update_stmt;
    rel = u->relation;
    where = u->where_clause;
    n_from = u->n_from_clause;
    from = u->from_clause;
    n_returning = u->n_returning_list;
    returning = u->returning_list;
    sel->with_clause = u->with_clause;
    for (size_t i = 0; i < u->n_target_list; ++i) {
      PgQuery__ResTarget* set = u->target_list[i]->res_target;
      if (!set->val || set->val->node_case == PG_QUERY__NODE__NODE_MULTI_ASSIGN_REF)
        return Status::Unsupported("multi-column SET (a, b) = (...)");
      if (set->val->node_case == PG_QUERY__NODE__NODE_SET_TO_DEFAULT) continue;  // no $n in it
      if (set->n_indirection > 0) {  // SET a[1] = .., SET c.f = ..: keep the value alone
        t.Append(&sel->n_target_list, &sel->target_list, t.ResTarget(set->val, ""));
        continue;
      }
      // `n = <value>`: the comparison types each `$n` in the value as the column.
      rw::Node* column = t.ColumnRef({set->name});
      t.Append(&sel->n_target_list, &sel->target_list,
               t.ResTarget(t.Op("=", column, set->val), ""));
    }
  } else if (stmt->node_case == PG_QUERY__NODE__NODE_DELETE_STMT) {
    auto* d = stmt->delete_stmt;
    rel = d->relation;
    where = d->where_clause;
    n_from = d->n_using_clause;
    from = d->using_clause;
    n_returning = d->n_returning_list;
    returning = d->returning_list;
    sel->with_clause = d->with_clause;
  } else {
    return Status::Unsupported("not an UPDATE or DELETE");
  }
  if (!rel) return Status::Unsupported("no target table");
  // First the target's ctid, as the write fetches it: a row the write changes
  // is always visited in the heap, so an index-only scan must not make a
  // covering index look better for the SELECT than it is for the write.
  const char* ref = rel->alias && rel->alias->aliasname ? rel->alias->aliasname : rel->relname;
  rw::Node* ctid = t.ResTarget(t.ColumnRef({ref, "ctid"}), "");
  t.Append(&sel->n_target_list, &sel->target_list, ctid);
  std::rotate(sel->target_list, sel->target_list + sel->n_target_list - 1,
              sel->target_list + sel->n_target_list);
  if (where && where->node_case == PG_QUERY__NODE__NODE_CURRENT_OF_EXPR)
    return Status::Unsupported("WHERE CURRENT OF: a cursor position has no SELECT form");
  for (size_t i = 0; i < n_returning; ++i)
    t.Append(&sel->n_target_list, &sel->target_list,
             t.ResTarget(returning[i]->res_target->val, ""));
  t.Append(&sel->n_from_clause, &sel->from_clause, t.Wrap(PG_QUERY__NODE__NODE_RANGE_VAR, rel));
  for (size_t i = 0; i < n_from; ++i) t.Append(&sel->n_from_clause, &sel->from_clause, from[i]);
  sel->where_clause = where;
  *select = rw::SelectSql(sel);
  return Status::Ok();
}

}  // namespace pgvise
