// Subqueries in UPDATE ... SET / WHERE and DELETE ... WHERE.
//
// What. PostgreSQL runs a correlated subquery in an UPDATE's SET list or in
// an UPDATE's / DELETE's WHERE once per target row, as it does in a SELECT.
// The passes only know SELECTs, so the statement's reading half is written
// as one:
//
//   UPDATE users u SET n_orders = (SELECT count(*) FROM orders o
//                                  WHERE o.user_id = u.id)
//   WHERE u.region_id = 3
//
// reads, for every target row, its primary key and its new value:
//
//   SELECT u.id AS pgv_pk1, (SELECT count(*) ...) AS pgv_c1
//   FROM users u WHERE u.region_id = 3                         -- (R)
//
// Every pass runs over (R) (decorrelate-scalar-select turns the count into a
// LEFT JOIN to a grouped derived table with COALESCE(count, 0)), and the
// result is joined back by primary key:
//
//   UPDATE users u SET n_orders = pgv_u.pgv_c1
//   FROM (<rewritten R>) pgv_u
//   WHERE u.id = pgv_u.pgv_pk1 AND u.region_id = 3
//
// Why it is correct. (R) returns exactly one row per row the original would
// update (it scans the same table under the same WHERE, on the statement's
// snapshot, which the UPDATE's own writes do not change), with the value the
// original's SET expression computes for that row. The passes keep (R)'s
// multiset of rows. The primary key is unique and NOT NULL over every row a
// scan of the table reads (the catalog proves it: no inheritance children),
// so the join pairs each target row with exactly its own (R) row: the same
// rows are updated, each once, to the same values. Rows with no match in the
// subquery are *in* (R) — the LEFT JOIN keeps them with NULL, or COUNT's 0
// — which is what the naive `UPDATE ... FROM (grouped) d WHERE d.k = u.id`
// gets wrong: it skips them and leaves their old value. DELETE is the same
// with `DELETE ... USING (<rewritten R>) pgv_u WHERE <key join>` and (R)
// selecting the key only.
//
// When the passes changed only (R)'s WHERE (correlated IN -> EXISTS, NOT IN
// -> NULL-aware NOT EXISTS, ...) and left its FROM and select list alone,
// the new WHERE is put straight back into the statement: no self-join, and
// no key needed (so no --db needed either).
//
// The outer statement keeps those WHERE conjuncts of the original that hold
// no subquery, for READ COMMITTED re-checks: a row changed concurrently is
// re-tested against them (PostgreSQL's EvalPlanQual), as it would have been.
// Which value a concurrently changed row gets can still differ, as with any
// UPDATE ... FROM: the equivalence is for the statement's snapshot.
//
// Refused, each with its reason (outcome `dml`): UPDATE ... FROM / DELETE ...
// USING as written (their join may already pair one target row with several
// rows), WITH, WHERE CURRENT OF, multi-column SET (a, b) = (SELECT ...),
// volatile functions (the rewrite may evaluate them a different number of
// times), and a rewrite that needs the self-join when the catalog proves no
// primary key for the target (without --db, or a table with inheritance
// children, whose scan reads rows the parent's key does not cover).
#include "rewriter/dml.h"

#include <map>
#include <memory>

#include "analyzer/sql/edit_tree.h"
#include "rewriter/scope.h"

namespace pgvise {

namespace {

using rw::Node;

// Location of every SubLink under `msg`, pre-order: the same subqueries
// appear in the same order in the statement and in (R), which holds
// clones of its expressions in the same clause order.
std::vector<int> SublinkLocations(ProtobufCMessage* msg) {
  std::vector<int> out;
  rw::VisitSlots(msg, [&](Node** slot) {
    if ((*slot)->node_case == PG_QUERY__NODE__NODE_SUB_LINK)
      out.push_back((*slot)->sub_link->location);
    return true;
  });
  return out;
}

// The name the statement's target is referred to by.
std::string ExposedName(const PgQuery__RangeVar* rel) {
  if (rel->alias && rel->alias->aliasname && *rel->alias->aliasname) return rel->alias->aliasname;
  return rel->relname ? rel->relname : "";
}

// The target's primary key when the catalog proves it unique over every row
// a scan reads (RewriteCatalog::Table::unique_keys is empty for a table with
// inheritance children). Empty when unknown.
std::vector<std::string> ProvenKey(const PgQuery__RangeVar* rel, const RewriteCatalog* cat) {
  if (!cat) return {};
  const auto* t = cat->FindTable(rel->schemaname ? rel->schemaname : "", rel->relname);
  if (!t || t->primary_key.empty()) return {};
  for (const auto& k : t->unique_keys)
    if (k == t->primary_key) return t->primary_key;
  return {};
}

struct Dml {
  bool update = false;
  PgQuery__RangeVar* rel = nullptr;
  Node** where = nullptr;
  size_t* n_targets = nullptr;
  Node*** targets = nullptr;
};

// Why the statement's shape is left alone ("" when it is not).
std::string ShapeRefusal(rw::Node* stmt, Dml* d) {
  if (stmt->node_case == PG_QUERY__NODE__NODE_UPDATE_STMT) {
    auto* u = stmt->update_stmt;
    d->update = true;
    d->rel = u->relation;
    d->where = &u->where_clause;
    d->n_targets = &u->n_target_list;
    d->targets = &u->target_list;
    if (u->with_clause) return "UPDATE with a WITH clause: its CTEs are not in the passes' scope";
    if (u->n_from_clause)
      return "UPDATE ... FROM: its join may already pair a target row with several rows, and "
             "which one wins is not defined";
    for (size_t i = 0; i < u->n_target_list; ++i) {
      Node* v = u->target_list[i]->res_target->val;
      if (v && v->node_case == PG_QUERY__NODE__NODE_MULTI_ASSIGN_REF)
        return "multi-column SET (a, b) = (SELECT ...): not rewritten";
    }
  } else {
    auto* del = stmt->delete_stmt;
    d->rel = del->relation;
    d->where = &del->where_clause;
    if (del->with_clause) return "DELETE with a WITH clause: its CTEs are not in the passes' scope";
    if (del->n_using_clause)
      return "DELETE ... USING: the statement already joins; its subqueries are left as written";
  }
  if (*d->where && (*d->where)->node_case == PG_QUERY__NODE__NODE_CURRENT_OF_EXPR)
    return "WHERE CURRENT OF: a cursor position has no read-only form";
  if (!d->rel || !d->rel->relname) return "no target table";
  return "";
}

void Refuse(RewriteResult* out, const std::string& sql, const std::string& why) {
  PassOutcome oc;
  oc.pass = "dml";
  oc.reason = why;
  out->outcomes.push_back(oc);
  out->sql = sql;
  out->changed = false;
}

// A FROM item reading the target as the statement does (ONLY and the alias
// kept).
Node* TargetItem(rw::Tree& t, PgQuery__RangeVar* rel) {
  return t.Clone(t.Wrap(PG_QUERY__NODE__NODE_RANGE_VAR, rel));
}

}  // namespace

Status RewriteDml(const std::string& sql, const RewriteOptions& o, RewriteResult* out,
                  bool* handled) {
  *handled = false;
  std::unique_ptr<rw::Tree> t;
  if (!rw::Tree::Parse(sql, &t).ok() || t->root()->n_stmts != 1) return Status::Ok();
  Node* stmt = t->root()->stmts[0]->stmt;
  if (!stmt || (stmt->node_case != PG_QUERY__NODE__NODE_UPDATE_STMT &&
                stmt->node_case != PG_QUERY__NODE__NODE_DELETE_STMT))
    return Status::Ok();
  if (!rw::HasSublink(stmt)) return Status::Ok();
  *handled = true;
  *out = RewriteResult();
  Dml d;
  if (std::string why = ShapeRefusal(stmt, &d); !why.empty()) {
    Refuse(out, sql, why);
    return Status::Ok();
  }
  if (std::string v = rw::FindVolatile(stmt, o.catalog); !v.empty()) {
    Refuse(out, sql,
           "volatile function " + v + "(): the rewrite may call it a different number of times");
    return Status::Ok();
  }
  const std::string name = ExposedName(d.rel);
  std::vector<std::string> key = ProvenKey(d.rel, o.catalog);
  // Without a proven key (R) carries the ctid as a stand-in: it is only used
  // if the passes change (R)'s WHERE alone, and then the key is dropped.
  const bool key_proven = !key.empty();
  if (!key_proven) key = {"ctid"};

  // (R): the key, the SET expressions that hold a subquery, the WHERE.
  PgQuery__SelectStmt* r = t->EmptySelect();
  for (size_t i = 0; i < key.size(); ++i)
    t->Append(&r->n_target_list, &r->target_list,
              t->ResTarget(t->ColumnRef({name, key[i]}), "pgv_pk" + std::to_string(i + 1)));
  std::vector<size_t> moved;  // SET items whose value (R) computes
  if (d.update)
    for (size_t i = 0; i < *d.n_targets; ++i) {
      Node* v = (*d.targets)[i]->res_target->val;
      if (!rw::HasSublink(v)) continue;
      moved.push_back(i);
      t->Append(&r->n_target_list, &r->target_list,
                t->ResTarget(t->Clone(v), "pgv_c" + std::to_string(i + 1)));
    }
  t->Append(&r->n_from_clause, &r->from_clause, TargetItem(*t, d.rel));
  r->where_clause = t->Clone(*d.where);
  const std::string r_sql = rw::SelectSql(r);

  RewriteResult sub;
  RewriteOptions so = o;
  Status st = RewriteSql(r_sql, so, &sub);
  if (!st.ok()) {
    Refuse(out, sql, "its reading half did not parse as a SELECT (" + st.message() + ")");
    return Status::Ok();
  }
  // Outcomes name subqueries by their place in the statement, not in (R).
  std::unique_ptr<rw::Tree> rt;
  if (!rw::Tree::Parse(r_sql, &rt).ok()) return Status::Internal("(R) does not re-parse");
  std::vector<int> in_r = SublinkLocations(reinterpret_cast<ProtobufCMessage*>(rt->root()));
  std::vector<int> in_stmt;
  {
    // The statement's subqueries in (R)'s order: SET items, then WHERE.
    std::vector<int> all = SublinkLocations(reinterpret_cast<ProtobufCMessage*>(t->root()));
    // (R) holds clones of the SET values and the WHERE, whose SubLinks come
    // first in the statement's pre-order (RETURNING comes after WHERE).
    in_stmt.assign(all.begin(), all.begin() + std::min(all.size(), in_r.size()));
  }
  std::map<int, int> loc;
  if (in_r.size() == in_stmt.size())
    for (size_t i = 0; i < in_r.size(); ++i) loc[in_r[i]] = in_stmt[i];
  out->outcomes = sub.outcomes;
  for (auto& oc : out->outcomes) {
    auto it = loc.find(oc.location);
    oc.location = it == loc.end() ? -1 : it->second;
  }
  out->timings = sub.timings;
  out->alternatives = sub.alternatives;
  out->sql = sql;
  if (!sub.changed) return Status::Ok();

  std::unique_ptr<rw::Tree> nt;
  if (!rw::Tree::Parse(sub.sql, &nt).ok() || nt->root()->n_stmts != 1 ||
      nt->root()->stmts[0]->stmt->node_case != PG_QUERY__NODE__NODE_SELECT_STMT)
    return Status::Internal("the rewritten (R) is not one SELECT");
  Node* r2_node = t->Clone(nt->root()->stmts[0]->stmt);
  PgQuery__SelectStmt* r2 = r2_node->select_stmt;

  // Only (R)'s WHERE changed: put it back, no join.
  bool where_only = r2->n_from_clause == 1 &&
                    rw::NodeEqual(r2->from_clause[0], r->from_clause[0]) &&
                    r2->n_target_list == r->n_target_list && !r2->n_group_clause &&
                    !r2->having_clause && !r2->with_clause && !r2->n_distinct_clause;
  for (size_t i = 0; where_only && i < r->n_target_list; ++i)
    where_only = rw::NodeEqual(r2->target_list[i], r->target_list[i]);
  PassOutcome note;
  note.pass = "dml";
  note.applied = true;
  if (where_only) {
    *d.where = r2->where_clause;
    note.reason = std::string(d.update ? "UPDATE" : "DELETE") +
                  ": the passes changed only the WHERE of its reading half (SELECT <key> FROM "
                  "the target WHERE ...), which returns the same rows; that WHERE is put back, "
                  "so the same rows are " +
                  (d.update ? "updated to the same values" : "deleted");
  } else if (!key_proven) {
    Refuse(out, sql,
           std::string("the rewrite joins its reading half back to the target by primary key, "
                       "and none is proven") +
               (o.catalog ? " (no primary key, or the table has inheritance children)"
                          : ": give --db so the catalog can prove one"));
    for (auto& oc : out->outcomes)
      if (oc.applied && oc.pass != "dml") {
        oc.applied = false;
        oc.reason = "not used: " + oc.reason;
      }
    return Status::Ok();
  } else {
    const std::string alias = [&] {
      std::set<std::string> used = rw::UsedNames(reinterpret_cast<ProtobufCMessage*>(t->root()));
      for (const auto& n : rw::UsedNames(reinterpret_cast<ProtobufCMessage*>(nt->root())))
        used.insert(n);
      std::string a = "pgv_u";
      for (int i = 2; used.count(a); ++i) a = "pgv_u" + std::to_string(i);
      return a;
    }();
    std::vector<Node*> conds;
    for (size_t i = 0; i < key.size(); ++i)
      conds.push_back(t->Op("=", t->ColumnRef({name, key[i]}),
                            t->ColumnRef({alias, "pgv_pk" + std::to_string(i + 1)})));
    // Conjuncts without subqueries stay for READ COMMITTED re-checks (see top).
    for (Node* c : rw::Conjuncts(*d.where))
      if (!rw::HasSublink(c)) conds.push_back(c);
    Node* item = t->RangeSubselect(r2, alias);
    if (d.update) {
      auto* u = stmt->update_stmt;
      t->Append(&u->n_from_clause, &u->from_clause, item);
      for (size_t i : moved)
        u->target_list[i]->res_target->val = t->ColumnRef({alias, "pgv_c" + std::to_string(i + 1)});
    } else {
      auto* del = stmt->delete_stmt;
      t->Append(&del->n_using_clause, &del->using_clause, item);
    }
    *d.where = t->And(conds);
    std::string keys;
    for (const auto& k : key) keys += (keys.empty() ? "" : ", ") + k;
    note.reason = std::string(d.update ? "UPDATE" : "DELETE") +
                  ": its reading half (SELECT <primary key>" +
                  (d.update ? ", <the new values>" : "") +
                  " FROM the target WHERE ...) is rewritten and joined back " +
                  (d.update ? "(FROM) " : "(USING) ") + "on the primary key (" + keys +
                  "), unique and NOT NULL, so each target row meets exactly its own row: " +
                  (d.update ? "rows without a match keep their NULL / 0 (a plain UPDATE ... FROM "
                              "the grouped table would skip them)"
                            : "the same rows are deleted") +
                  "; equivalent on the statement's snapshot";
  }
  std::string text;
  st = t->Deparse(&text);
  if (!st.ok()) return st;
  std::unique_ptr<rw::Tree> check;
  if (!rw::Tree::Parse(text, &check).ok()) {
    Refuse(out, sql, "the rewritten statement did not parse: not proposed");
    return Status::Ok();
  }
  out->outcomes.push_back(note);
  out->changed = true;
  out->sql = o.pretty ? FormatSql(text) : text;
  return Status::Ok();
}

std::string DmlReadOnlyForm(const std::string& sql) {
  std::unique_ptr<rw::Tree> t;
  if (!rw::Tree::Parse(sql, &t).ok() || t->root()->n_stmts != 1) return "";
  Node* stmt = t->root()->stmts[0]->stmt;
  if (!stmt || (stmt->node_case != PG_QUERY__NODE__NODE_UPDATE_STMT &&
                stmt->node_case != PG_QUERY__NODE__NODE_DELETE_STMT))
    return "";
  Dml d;
  // The shapes RewriteDml refuses for its own reasons still have a read-only
  // form, except these three.
  if (stmt->node_case == PG_QUERY__NODE__NODE_UPDATE_STMT) {
    auto* u = stmt->update_stmt;
    d.update = true;
    d.rel = u->relation;
    d.where = &u->where_clause;
    if (u->with_clause) return "";
  } else {
    d.rel = stmt->delete_stmt->relation;
    d.where = &stmt->delete_stmt->where_clause;
    if (stmt->delete_stmt->with_clause) return "";
  }
  if (*d.where && (*d.where)->node_case == PG_QUERY__NODE__NODE_CURRENT_OF_EXPR) return "";
  const std::string name = ExposedName(d.rel);
  PgQuery__SelectStmt* s = t->EmptySelect();
  // tableoid next to ctid: a ctid is unique only within one partition.
  t->Append(&s->n_target_list, &s->target_list, t->ResTarget(t->ColumnRef({name, "tableoid"}), ""));
  t->Append(&s->n_target_list, &s->target_list, t->ResTarget(t->ColumnRef({name, "ctid"}), ""));
  t->Append(&s->n_from_clause, &s->from_clause, TargetItem(*t, d.rel));
  if (d.update) {
    auto* u = stmt->update_stmt;
    for (size_t i = 0; i < u->n_target_list; ++i) {
      Node* v = u->target_list[i]->res_target->val;
      if (v && v->node_case == PG_QUERY__NODE__NODE_MULTI_ASSIGN_REF) return "";
      t->Append(&s->n_target_list, &s->target_list, t->ResTarget(v, ""));
    }
    for (size_t i = 0; i < u->n_from_clause; ++i)
      t->Append(&s->n_from_clause, &s->from_clause, u->from_clause[i]);
  } else {
    auto* del = stmt->delete_stmt;
    for (size_t i = 0; i < del->n_using_clause; ++i)
      t->Append(&s->n_from_clause, &s->from_clause, del->using_clause[i]);
    // A row joined to several USING rows is still deleted once.
    // (DISTINCT is a distinct_clause holding one empty node.)
    PgQuery__Node empty = PG_QUERY__NODE__INIT;
    t->Append(&s->n_distinct_clause, &s->distinct_clause, t->New(empty));
  }
  s->where_clause = *d.where;
  return rw::SelectSql(s);
}

}  // namespace pgvise
