// The row-finding SELECT of an UPDATE or DELETE: the statement a role that may
// read a table but not write it can still EXPLAIN.
//
// Where it sits: advise (advisor/advisor.cc, PrepareWorkload) costs a write
// whose target table the connected role lacks the privilege on in this form
// (EXPLAIN of an UPDATE needs UPDATE privilege even though nothing runs). An
// index helps a write by finding its rows; the rows it then changes cost
// every index the same (the write overhead, costed apart). The planner
// chooses the scan of `UPDATE t SET .. FROM f WHERE w` among the same paths
// as for `SELECT .. FROM t, f WHERE w`; only the projections on top differ
// (a few percent: 5,858 vs 5,623 on advisor/write_as_read_pg_test.cc's
// UPDATE), so an index that finds the rows wins alike in both.
//
//   UPDATE t AS a SET n = n + $1 FROM f WHERE a.id = f.id AND f.k = $2
//     -> SELECT a.ctid, n = n + $1 FROM t AS a, f WHERE a.id = f.id AND f.k = $2
//   DELETE FROM t USING u WHERE t.id = u.id RETURNING t.id
//     -> SELECT t.ctid, t.id FROM t, u WHERE t.id = u.id
//
// Every SET value stays in the select list, compared with its column
// (`n = n + $1`), so each `$n` keeps its place and its type: PREPARE can't
// type a parameter that no longer appears. WITH clauses are kept.
#pragma once

#include <string>

#include "core/status.h"

namespace pgvise {

// Unsupported (with why) for anything but one UPDATE or DELETE, a multi-column
// SET, or WHERE CURRENT OF; InvalidInput when `sql` does not parse.
Status RowFindingSelect(const std::string& sql, std::string* select);

}  // namespace pgvise
