// Targeted catalog look-ups: small questions one command asks at one step,
// answered by one query each, rather than parts of the table snapshot
// (catalog/catalog.h).
//
//   LoadQualConstants   advise: the constants pg_qualstats saw in
//                       `column op constant` predicates (partial indexes)
//   InvalidIndexCopies  maintain --apply: the invalid copies a failed
//                       REINDEX CONCURRENTLY left beside an index
//   ExistingRelationNames  advise: which index names it may print are taken
//   HistogramSpanSeconds   advise (views): a time column's span in pg_stats
//   RelationRowEstimate    advise --verify (partitions): pg_class.reltuples
//   ValidIndexDefinitions  advise --verify (partitions): a table's indexes
//                          as CREATE INDEX statements
//   InRecovery          advise --verify: is the server a hot standby
//   LackingTablePrivileges  advise: the writes the role may not EXPLAIN as
//                       written (costed through their row-finding SELECT)
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/session.h"
#include "core/status.h"

namespace pgvise {

// A predicate constant seen by pg_qualstats: table.column op constant, with
// how often it was evaluated and the fraction of rows it kept.
struct QualConstant {
  std::string schema, table, column, op;
  std::string value;  // constant as text
  double occurrences = 0;
  double selectivity = -1;  // 0..1; -1 unknown
};

// The 500 most frequent constants of simple quals in the current database,
// most frequent first (pg_qualstats must be installed; the caller checks).
Status LoadQualConstants(Session& session, std::vector<QualConstant>* out);

// The invalid indexes on the table of `index` (a regclass text, quoted as
// needed) named <index>_ccnew[N], as REINDEX CONCURRENTLY leaves them when it
// fails: oid -> quoted schema.name. `index` itself is never one.
Status InvalidIndexCopies(Session& session, const std::string& index,
                          std::map<std::string, std::string>* out);

// A statement that lists every invalid index, for a user to run when the
// look-up above failed.
inline constexpr const char* kListInvalidIndexesSql =
    "SELECT indexrelid::regclass FROM pg_index WHERE NOT indisvalid;";

// Which of `qualified` ("schema.name", unquoted parts) already name a
// relation — tables, views, sequences, indexes share one namespace per
// schema — in one query. The advisor checks the names it is about to print,
// so `CREATE INDEX ... IF NOT EXISTS` never silently skips a build because a
// table or view holds the name.
Status ExistingRelationNames(Session& s, const std::set<std::string>& qualified,
                             std::set<std::string>* existing);

// The seconds between the lowest and the highest histogram bound ANALYZE
// recorded for a date/time column (pg_stats.histogram_bounds read as
// timestamps): the view advisor bounds how many date_trunc units a key can
// take with it. *seconds is -1 when there is no histogram.
Status HistogramSpanSeconds(Session& s, const std::string& schema, const std::string& table,
                            const std::string& column, double* seconds);

// pg_class.reltuples of `relation` (a regclass text, quoted as needed), at
// least 1: the size partition --verify samples a fixed number of rows from.
Status RelationRowEstimate(Session& s, const std::string& relation, double* rows);

// pg_get_indexdef of every valid index on `relation` (a regclass text),
// which partition --verify builds again on its sampled copies. Run on the
// caller's session, inside its transaction and lock_timeout.
Status ValidIndexDefinitions(Session& s, const std::string& relation,
                             std::vector<std::string>* defs);

// pg_is_in_recovery(): true on a hot standby, where nothing can be built.
// (maintain reads the same fact as part of its snapshot.)
Status InRecovery(Session& s, bool* in_recovery);

// Which of `wanted` the connected role lacks, in one query. Each item is
// "PRIVILEGE:relation" (UPDATE, DELETE, ...; the relation as a regclass text,
// quoted as needed, resolved by the session's search_path as the statement
// that names it would be). A relation that does not resolve is left out:
// planning the statement reports that better.
Status LackingTablePrivileges(Session& s, const std::set<std::string>& wanted,
                              std::set<std::string>* lacking);

}  // namespace pgvise
