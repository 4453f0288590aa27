// The rewrite passes. Each runs over every SELECT of a statement, innermost
// first, and reports one PassOutcome per subquery shape it owns. Each pass's
// source file opens with its correctness argument, a worked example and the
// cases it refuses.
#pragma once

#include "rewriter/decorrelate.h"

namespace pgvise::rw {

using PassFn = void (*)(PassContext& ctx, PgQuery__SelectStmt* s, const Stack& stack);

// pass_two_level.cc
void PassTwoLevel(PassContext& ctx, PgQuery__SelectStmt* s, const Stack& stack);
// pass_in.cc
void PassInAggregateToScalar(PassContext& ctx, PgQuery__SelectStmt* s, const Stack& stack);
// pass_scalar.cc
void PassScalarWhere(PassContext& ctx, PgQuery__SelectStmt* s, const Stack& stack);
void PassScalarSelect(PassContext& ctx, PgQuery__SelectStmt* s, const Stack& stack);
// pass_lookup.cc
void PassUniqueLookup(PassContext& ctx, PgQuery__SelectStmt* s, const Stack& stack);
// pass_topn.cc
void PassTopN(PassContext& ctx, PgQuery__SelectStmt* s, const Stack& stack);
// pass_lateral.cc
void PassLimitOneToLateral(PassContext& ctx, PgQuery__SelectStmt* s, const Stack& stack);
// pass_nonequi.cc
void PassJoinAggregateNonEquality(PassContext& ctx, PgQuery__SelectStmt* s, const Stack& stack);
// pass_exists.cc
void PassExistsGrouped(PassContext& ctx, PgQuery__SelectStmt* s, const Stack& stack);
// pass_in.cc
void PassInToExists(PassContext& ctx, PgQuery__SelectStmt* s, const Stack& stack);
// pass_not_in.cc
void PassNotInToNotExists(PassContext& ctx, PgQuery__SelectStmt* s, const Stack& stack);
// pass_all.cc
void PassAllToAggregate(PassContext& ctx, PgQuery__SelectStmt* s, const Stack& stack);

// Whether subquery `sub` names a column of an enclosing query (or one that
// cannot be placed, which may): a check built from it would then run per
// outer row instead of once (pass_not_in.cc).
bool NamesOuterQuery(PassContext& ctx, PgQuery__SelectStmt* sub, const Stack& outer);

// Why a list-of-values subquery (`x op ALL/ANY (SELECT y ...)`) cannot be
// copied into the checks the NOT IN and ALL passes build from it: a set
// operation, not one column, LIMIT/OFFSET, WITH, FOR UPDATE, no FROM, a
// set-returning or volatile function. "" when it can (pass_not_in.cc).
std::string ValueListRefusal(PassContext& ctx, const PgQuery__SubLink& sl);

// A copy of the SubLink's subquery selecting `value` instead, with `extra`
// (may be null) added to its WHERE and no ORDER BY / DISTINCT: the probes
// and aggregates those passes place beside the original (pass_not_in.cc).
PgQuery__SelectStmt* SubqueryVariant(Tree& t, const PgQuery__SubLink& sl, Node* value, Node* extra);

// Shared by the EXISTS / IN passes: a SubLink that is a top-level WHERE
// conjunct, possibly under one NOT; *negated tells which.
bool TopLevelWhere(const Site& site, bool* negated);

// Copies outer expression `x` so it can be evaluated inside `sub` (see
// pass_in.cc); nullptr with *why when a name could be captured.
Node* MoveIntoSubquery(PassContext& ctx, Node* x, const Stack& outer, PgQuery__SelectStmt* sub,
                       std::string* why);

// Types whose `=` holds only between identical values (integers, date,
// timestamps, uuid, boolean; not numeric, text): pass_two_level.cc.
bool EqualityIsIdentity(const std::string& type);

}  // namespace pgvise::rw
