// The closed sets of a Recommendation print as the strings the JSON contract
// (docs/contracts.md) and every report format have always shown.
#include "core/finding.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace pgvise {
namespace {

TEST(RecommendationKindName, PrintsTheContractStrings) {
  EXPECT_STREQ(RecommendationKindName(RecommendationKind::kUnset), "");
  EXPECT_STREQ(RecommendationKindName(RecommendationKind::kIndex), "index");
  EXPECT_STREQ(RecommendationKindName(RecommendationKind::kDropIndex), "drop-index");
  EXPECT_STREQ(RecommendationKindName(RecommendationKind::kVacuum), "vacuum");
  EXPECT_STREQ(RecommendationKindName(RecommendationKind::kAnalyze), "analyze");
  EXPECT_STREQ(RecommendationKindName(RecommendationKind::kAutovacuum), "autovacuum");
  EXPECT_STREQ(RecommendationKindName(RecommendationKind::kRepack), "repack");
  EXPECT_STREQ(RecommendationKindName(RecommendationKind::kReindex), "reindex");
  EXPECT_STREQ(RecommendationKindName(RecommendationKind::kConfig), "config");
  EXPECT_STREQ(RecommendationKindName(RecommendationKind::kSession), "session");
  EXPECT_STREQ(RecommendationKindName(RecommendationKind::kPreparedTransaction),
               "prepared-transaction");
  EXPECT_STREQ(RecommendationKindName(RecommendationKind::kReplicationSlot), "replication-slot");
  EXPECT_STREQ(RecommendationKindName(RecommendationKind::kSequence), "sequence");
  EXPECT_STREQ(RecommendationKindName(RecommendationKind::kRewrite), "rewrite");
}

TEST(ConfidenceName, PrintsTheContractStrings) {
  EXPECT_STREQ(ConfidenceName(Confidence::kUnset), "");
  EXPECT_STREQ(ConfidenceName(Confidence::kHigh), "high");
  EXPECT_STREQ(ConfidenceName(Confidence::kMedium), "medium");
  EXPECT_STREQ(ConfidenceName(Confidence::kLow), "low");
  EXPECT_STREQ(ConfidenceName(Confidence::kUnverified), "unverified");
  EXPECT_STREQ(ConfidenceName(Confidence::kMeasured), "measured");
}

}  // namespace
}  // namespace pgvise
