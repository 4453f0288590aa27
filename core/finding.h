// Finding and Recommendation: the two things pgvise reports. Analysis code
// produces them; renderers (core/render.h and the per-command reports) only
// read them. Their JSON shapes are the contract in docs/contracts.md.
//
// A Finding is "this will hurt": a rule fired on a statement, a plan node or a
// table. A Recommendation is "do this": DDL or SQL with the measured benefit
// and cost behind it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace pgvise {

enum class Severity { kInfo = 0, kWarning = 1, kError = 2 };

const char* SeverityName(Severity s);  // "info" | "warning" | "error"
// Parses "info|warning|error"; nullopt otherwise.
std::optional<Severity> ParseSeverity(const std::string& s);

// Where a finding points: a place in a source file, or a node in a plan tree,
// or a database object. Unset fields are empty / zero.
struct Location {
  std::string file;  // path as given by the user; "-" for stdin
  int line = 0;      // 1-based; 0 = unknown
  int column = 0;    // 1-based, in characters
  int end_line = 0;
  int end_column = 0;
  std::string plan_path;  // e.g. "Plan.Plans[1].Plans[0]"
  std::string node_type;  // e.g. "Seq Scan"
  std::string object;     // schema-qualified table / index the finding is about
};

// One number (or word, or list of names) behind a finding, in the order it
// was added. A list is a JSON array of strings (e.g. a statistics object's
// "columns").
using EvidenceValue = std::variant<int64_t, double, std::string, bool, std::vector<std::string>>;
struct Evidence {
  std::string key;
  EvidenceValue value;
};

struct Finding {
  std::string rule;  // rule id, e.g. "require-concurrent-index-creation"
  Severity severity = Severity::kWarning;
  std::string message;
  Location location;
  std::vector<Evidence> evidence;
  std::string suggestion;

  Finding& Add(std::string key, EvidenceValue v) {
    evidence.push_back({std::move(key), std::move(v)});
    return *this;
  }
};

// The benefit of a recommendation for one workload statement.
struct QueryBenefit {
  std::string fingerprint;
  std::string query;
  double calls = 0;
  double cost_before = 0;
  double cost_after = 0;
};

// What a recommendation does: a closed set, printed by RecommendationKindName
// ("index", "drop-index", ...) in every report format and in JSON.
enum class RecommendationKind {
  kUnset,                // "" (not set)
  kIndex,                // "index": create an index (advise)
  kDropIndex,            // "drop-index"
  kVacuum,               // "vacuum"
  kAnalyze,              // "analyze"
  kAutovacuum,           // "autovacuum": per-table autovacuum settings
  kRepack,               // "repack"
  kReindex,              // "reindex"
  kConfig,               // "config": a server setting
  kSession,              // "session": end or fix a backend
  kPreparedTransaction,  // "prepared-transaction"
  kReplicationSlot,      // "replication-slot"
  kSequence,             // "sequence"
  kPartition,            // "partition": partition a table (advise)
  kMaterializedView,     // "materialized-view" (advise)
  kStatistics,           // "statistics": CREATE STATISTICS (advise)
  kRewrite,              // "rewrite": run the statement in a rewritten form (advise)
};
const char* RecommendationKindName(RecommendationKind k);

// How sure pgvise is, with the evidence saying why; printed by
// ConfidenceName. `unverified` becomes `measured` or `low` once advise
// --verify built the index for real.
enum class Confidence {
  kUnset,       // ""
  kHigh,        // "high"
  kMedium,      // "medium"
  kLow,         // "low"
  kUnverified,  // "unverified": HypoPG's estimate only, not yet built
  kMeasured,    // "measured": built and measured by --verify
};
const char* ConfidenceName(Confidence c);

struct Recommendation {
  RecommendationKind kind = RecommendationKind::kUnset;
  std::string sql;     // ready-to-run DDL / SQL
  std::string revert;  // SQL that undoes it, when there is one
  std::string object;  // table or index it is about
  std::string reason;
  std::vector<QueryBenefit> benefit;
  int64_t size_bytes = 0;     // storage it takes (negative: frees)
  double write_overhead = 0;  // estimated extra cost units per second of writes
  std::string lock;           // lock the SQL takes, e.g. "SHARE UPDATE EXCLUSIVE"
  Confidence confidence = Confidence::kUnset;
  std::vector<Evidence> evidence;
  int priority = 0;  // ordering for plans: higher first

  Recommendation& Add(std::string key, EvidenceValue v) {
    evidence.push_back({std::move(key), std::move(v)});
    return *this;
  }
};

}  // namespace pgvise
