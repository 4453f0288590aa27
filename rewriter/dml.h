// DML: how the rewriter reaches the subqueries of UPDATE and DELETE, and how
// --verify compares two forms of one without writing anything.
//
// Where it sits: RewriteSql (rewriter/rewriter.cc) hands a single UPDATE or
// DELETE statement holding a subquery to RewriteDml, which turns the
// statement's reading half into a plain SELECT, runs every pass over that
// SELECT (RewriteSql again), and puts the result back into the statement
// (rewriter/dml.cc opens with the argument and a worked example).
// VerifyRewrite (rewriter/verify.cc) asks DmlReadOnlyForm for the SELECT
// that returns what a statement would change.
#pragma once

#include <string>

#include "core/status.h"
#include "rewriter/rewriter.h"

namespace pgvise {

// Rewrites `sql` when it is one UPDATE or DELETE with a subquery
// (*handled = true; out is then complete); otherwise *handled = false and
// nothing is touched.
Status RewriteDml(const std::string& sql, const RewriteOptions& o, RewriteResult* out,
                  bool* handled);

// The read-only SELECT returning what UPDATE / DELETE `sql` would change,
// as a multiset: for UPDATE one row per target row, `(tableoid, ctid, new
// value of each SET item in order)`; for DELETE the distinct `(tableoid,
// ctid)` of the rows it would delete. "" when `sql` is another statement
// or has a shape this cannot express (WITH, WHERE CURRENT OF, multi-column
// SET): such a statement is then never run.
std::string DmlReadOnlyForm(const std::string& sql);

}  // namespace pgvise
