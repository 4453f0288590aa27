#include "core/finding.h"

namespace pgvise {

const char* SeverityName(Severity s) {
  switch (s) {
    case Severity::kInfo:
      return "info";
    case Severity::kWarning:
      return "warning";
    case Severity::kError:
      return "error";
  }
  return "warning";
}

std::optional<Severity> ParseSeverity(const std::string& s) {
  if (s == "info") return Severity::kInfo;
  if (s == "warning") return Severity::kWarning;
  if (s == "error") return Severity::kError;
  return std::nullopt;
}

const char* RecommendationKindName(RecommendationKind k) {
  switch (k) {
    case RecommendationKind::kUnset:
      return "";
    case RecommendationKind::kIndex:
      return "index";
    case RecommendationKind::kDropIndex:
      return "drop-index";
    case RecommendationKind::kVacuum:
      return "vacuum";
    case RecommendationKind::kAnalyze:
      return "analyze";
    case RecommendationKind::kAutovacuum:
      return "autovacuum";
    case RecommendationKind::kRepack:
      return "repack";
    case RecommendationKind::kReindex:
      return "reindex";
    case RecommendationKind::kConfig:
      return "config";
    case RecommendationKind::kSession:
      return "session";
    case RecommendationKind::kPreparedTransaction:
      return "prepared-transaction";
    case RecommendationKind::kReplicationSlot:
      return "replication-slot";
    case RecommendationKind::kSequence:
      return "sequence";
    case RecommendationKind::kPartition:
      return "partition";
    case RecommendationKind::kMaterializedView:
      return "materialized-view";
    case RecommendationKind::kStatistics:
      return "statistics";
    case RecommendationKind::kRewrite:
      return "rewrite";
  }
  return "";
}

const char* ConfidenceName(Confidence c) {
  switch (c) {
    case Confidence::kUnset:
      return "";
    case Confidence::kHigh:
      return "high";
    case Confidence::kMedium:
      return "medium";
    case Confidence::kLow:
      return "low";
    case Confidence::kUnverified:
      return "unverified";
    case Confidence::kMeasured:
      return "measured";
  }
  return "";
}

}  // namespace pgvise
