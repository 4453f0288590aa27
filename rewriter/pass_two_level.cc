// Pass two-level-through-equality: correlation two levels deep, made one
// level deep by substituting an equal column.
//
// What. A subquery nested inside a subquery that names a column of the
// outermost query cannot become a derived table (a derived table sees
// neither enclosing query), so every decorrelation pass refuses it. Often
// the middle query already pins that column to one of its own:
//
//   SELECT u.id FROM users u
//   WHERE (SELECT count(*) FROM orders o
//          WHERE o.user_id = u.id                              -- (E)
//            AND o.total > (SELECT avg(x.total) FROM orders x
//                           WHERE x.user_id = u.id)) = 0       -- two levels
//
// becomes, with `u.id` inside the innermost subquery replaced by `o.user_id`,
//
//            AND o.total > (SELECT avg(x.total) FROM orders x
//                           WHERE x.user_id = o.user_id)) = 0  -- one level
//
// which the scalar passes then unnest level by level (the innermost into a
// grouped derived table joined inside the middle query, the middle one into
// the outer query, COUNT bug handled as usual).
//
// Why it is correct. The replaced reference sits in a conjunct of the middle
// query's WHERE other than (E), and the middle query keeps a row only when
// every conjunct is true, (E) included; wherever (E) is true, o.user_id and
// u.id are both non-NULL and equal. The substitution is exact only when
// "equal under =" means "the same value": both columns have the same type
// (the catalog says so), and that type's equality is identity (integers,
// date, timestamps, uuid, boolean; not numeric, where 1.0 = 1.00 but the two
// print differently, nor text, whose equality depends on the collation). On
// rows where (E) is not true the innermost subquery may now see another
// value, but those rows are discarded whatever it returns. (An error raised
// there — a scalar subquery returning two rows — could appear or vanish;
// PostgreSQL does not promise an order of evaluation of conjuncts either.)
//
// Refused, with the reason: no such equality in the middle query's WHERE
// (an equality under OR or in a JOIN ... ON does not pin every kept row),
// unknown or different types, a type whose equality is not identity, the
// column reached from the middle query's select list / GROUP BY / HAVING /
// FROM rather than its WHERE, an aggregate of the outer column inside the
// subquery (it belongs to the outer query, and would change level), and a
// relation of the subquery with the middle column's qualifier (it would
// capture the new reference).
#include "rewriter/passes.h"

namespace pgvise::rw {

namespace {

constexpr const char* kPass = "two-level-through-equality";

std::string LastField(const PgQuery__ColumnRef* c) {
  return c->n_fields ? StrVal(c->fields[c->n_fields - 1]) : "";
}

std::string Qualified(const Relation& rel, const std::string& col) { return rel.name + "." + col; }

// The first SubLink under `n` (pre-order) that contains column ref `col`.
PgQuery__SubLink* EnclosingSublink(Node** n, const PgQuery__ColumnRef* col) {
  PgQuery__SubLink* found = nullptr;
  VisitSlots(n, [&](Node** slot) {
    if (found) return false;
    if ((*slot)->node_case != PG_QUERY__NODE__NODE_SUB_LINK) return true;
    bool inside = false;
    VisitSlots(slot, [&](Node** s2) {
      if ((*s2)->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && (*s2)->column_ref == col)
        inside = true;
      return !inside;
    });
    if (inside) found = (*slot)->sub_link;
    return false;
  });
  return found;
}

// An aggregate call under `n` whose arguments hold `col`.
bool InsideAggregate(Node** n, const PgQuery__ColumnRef* col, const RewriteCatalog* cat) {
  bool hit = false;
  VisitSlots(n, [&](Node** slot) {
    if (hit) return false;
    if ((*slot)->node_case == PG_QUERY__NODE__NODE_FUNC_CALL &&
        IsAggregateCall((*slot)->func_call, cat)) {
      VisitSlots(slot, [&](Node** s2) {
        if ((*s2)->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && (*s2)->column_ref == col)
          hit = true;
        return !hit;
      });
    }
    return !hit;
  });
  return hit;
}

// Names the FROM items under `sl` expose (table names or aliases of every
// nested level): a reference qualified with one of them would bind there.
std::set<std::string> ExposedInside(PgQuery__SubLink* sl) {
  std::set<std::string> out;
  VisitSlots(&sl->subselect, [&](Node** slot) {
    const Node* n = *slot;
    const PgQuery__Alias* a = nullptr;
    if (n->node_case == PG_QUERY__NODE__NODE_RANGE_VAR) {
      a = n->range_var->alias;
      if (!a && n->range_var->relname) out.insert(n->range_var->relname);
    } else if (n->node_case == PG_QUERY__NODE__NODE_RANGE_SUBSELECT) {
      a = n->range_subselect->alias;
    } else if (n->node_case == PG_QUERY__NODE__NODE_RANGE_FUNCTION) {
      a = n->range_function->alias;
    } else if (n->node_case == PG_QUERY__NODE__NODE_JOIN_EXPR) {
      a = n->join_expr->alias;
    }
    if (a && a->aliasname) out.insert(a->aliasname);
    return true;
  });
  return out;
}

struct Pin {
  int m_rel = -1;
  std::string m_col;
};

// Equalities `m.col = o.col` among the middle query's WHERE conjuncts (other
// than `skip`), keyed by the outer side (relation index, column).
std::map<std::pair<int, std::string>, Pin> Pins(PassContext& ctx, const std::vector<Node*>& conj,
                                                Node* skip, const Stack& mstack) {
  std::map<std::pair<int, std::string>, Pin> out;
  const int M = static_cast<int>(mstack.size()) - 1;
  for (Node* e : conj) {
    if (e == skip || e->node_case != PG_QUERY__NODE__NODE_A_EXPR) continue;
    const auto* a = e->a_expr;
    if (a->kind != PG_QUERY__A__EXPR__KIND__AEXPR_OP || OpName(a) != "=" || !a->lexpr ||
        !a->rexpr || a->lexpr->node_case != PG_QUERY__NODE__NODE_COLUMN_REF ||
        a->rexpr->node_case != PG_QUERY__NODE__NODE_COLUMN_REF)
      continue;
    Resolution l = Resolve(a->lexpr->column_ref, mstack);
    Resolution r = Resolve(a->rexpr->column_ref, mstack);
    const PgQuery__ColumnRef* lc = a->lexpr->column_ref;
    const PgQuery__ColumnRef* rc = a->rexpr->column_ref;
    if (l.level == M - 1 && r.level == M) {
      std::swap(l, r);
      std::swap(lc, rc);
    }
    if (l.level != M || r.level != M - 1 || l.rel < 0 || r.rel < 0 || l.unknown || r.unknown)
      continue;
    out[{r.rel, LastField(rc)}] = Pin{l.rel, LastField(lc)};
  }
  (void)ctx;
  return out;
}

}  // namespace

// Types whose `=` holds only between identical values.
bool EqualityIsIdentity(const std::string& type) {
  static const std::set<std::string> k = {"smallint",
                                          "integer",
                                          "bigint",
                                          "date",
                                          "uuid",
                                          "boolean",
                                          "timestamp without time zone",
                                          "timestamp with time zone"};
  return k.count(type) > 0;
}

void PassTwoLevel(PassContext& ctx, PgQuery__SelectStmt* s, const Stack& stack) {
  if (stack.empty() || !s->where_clause) return;
  const int O = static_cast<int>(stack.size()) - 1;  // the query holding s
  const int M = O + 1;                               // s itself
  Scope ms = BuildScope(s, stack, ctx.cat);
  Stack mstack = stack;
  mstack.push_back(&ms);
  std::vector<Node*> conj = Conjuncts(s->where_clause);
  for (Node* c : conj) {
    if (!HasSublink(c)) continue;
    std::vector<Ref> refs;
    CollectRefs(c, mstack, ctx.cat, &refs);
    for (const Ref& r : refs) {
      if (r.occurs_at <= M || r.res.unknown || r.res.level != O || r.res.rel < 0) continue;
      Node* c_slot = c;
      PgQuery__SubLink* sl = EnclosingSublink(&c_slot, r.col);
      if (!sl || sl->location < 0) continue;
      const Relation& orel = stack[O]->rels[r.res.rel];
      const std::string ocol = LastField(r.col);
      auto refuse = [&](const std::string& why) {
        ctx.Report(kPass, sl, false,
                   "correlation two levels deep (`" + Qualified(orel, ocol) +
                       "` used inside a subquery of the subquery): " + why);
      };
      auto pins = Pins(ctx, conj, c, mstack);
      auto it = pins.find({r.res.rel, ocol});
      if (it == pins.end()) {
        refuse("the middle query's WHERE has no top-level equality `<its column> = " +
               Qualified(orel, ocol) +
               "` to replace it with, so the innermost subquery depends on the outer row");
        continue;
      }
      const Relation& mrel = ms.rels[it->second.m_rel];
      const std::string mcol = it->second.m_col;
      auto ot = orel.types.find(ocol);
      auto mt = mrel.types.find(mcol);
      if (ot == orel.types.end() || mt == mrel.types.end()) {
        refuse("the types of " + Qualified(orel, ocol) + " and " + Qualified(mrel, mcol) +
               " are unknown" + (ctx.cat ? "" : " (pass --db)") +
               ": equal under = is the same value only for some types");
        continue;
      }
      if (ot->second != mt->second || !EqualityIsIdentity(ot->second)) {
        refuse(Qualified(orel, ocol) + " (" + ot->second + ") = " + Qualified(mrel, mcol) + " (" +
               mt->second + ") does not make them the same value (different types, or a type " +
               "whose equality is not identity)");
        continue;
      }
      if (InsideAggregate(&c_slot, r.col, ctx.cat)) {
        refuse("it is inside an aggregate, which then belongs to the outer query");
        continue;
      }
      if (ExposedInside(sl).count(mrel.name)) {
        refuse("the subquery has its own relation named `" + mrel.name +
               "`, which would capture the replacement");
        continue;
      }
      // Replace this reference (the slot holding exactly this ColumnRef).
      bool done = false;
      VisitSlots(&c_slot, [&](Node** slot) {
        if (done) return false;
        if ((*slot)->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && (*slot)->column_ref == r.col) {
          *slot = ctx.tree->ColumnRef({mrel.name, mcol});
          done = true;
        }
        return !done;
      });
      if (!done) continue;
      ctx.Report(kPass, sl, true,
                 "`" + Qualified(orel, ocol) + "` inside the nested subquery replaced by `" +
                     Qualified(mrel, mcol) + "`: the middle query keeps only rows where " +
                     Qualified(mrel, mcol) + " = " + Qualified(orel, ocol) + " (both " +
                     ot->second +
                     ", whose equality is identity), so the value is the same on "
                     "every row that counts; the correlation is now one level deep");
    }
  }
}

}  // namespace pgvise::rw
