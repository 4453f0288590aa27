// Documentation that is pgvise's own output cannot go stale: each generated
// file in docs/ must equal a fresh run (scripts/gen-docs.sh rewrites them).
#include <gtest/gtest.h>

#include "tests/review_cli.h"

namespace pgvise::testing {
namespace {

TEST(Docs, RulesReferenceIsCurrent) {
  CmdResult r = RunPgvise("rules --rules '" + SourceDir() + "/rules' --format markdown");
  ASSERT_EQ(r.exit, 0) << r.err;
  std::string committed = ReadWhole(SourceDir() + "/docs/rules-reference.md");
  EXPECT_EQ(r.out, committed)
      << "docs/rules-reference.md is out of date: run scripts/gen-docs.sh and commit it";
  // Every rule YAML has its section.
  for (const char* id : {"adding-field-with-volatile-default", "xid-wraparound",
                         "seq-scan-filters-most-rows", "autovacuum-insert-settings"})
    EXPECT_NE(r.out.find(std::string("\n### ") + id + "\n"), std::string::npos) << id;
}

}  // namespace
}  // namespace pgvise::testing
