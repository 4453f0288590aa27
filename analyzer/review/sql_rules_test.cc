// SQL review rules: every migration/query rule's YAML examples (a bad example
// must fire the rule, a good one must not), YAML <-> handler pairing, ignore
// directives, exact locations and table-size escalation.
#include "analyzer/review/sql_rules.h"

#include <gtest/gtest.h>

#include "analyzer/review/sql_rules_internal.h"
#include "analyzer/review/sql_rules_test_fixture.h"

namespace pgvise {
namespace {

// The keyword locator the rules place findings with: a bare word, in any
// case, never inside a comment, a string, a quoted identifier or a number.
TEST(FindKeyword, SeesOnlyBareWords) {
  using sqlrules::FindKeyword;
  EXPECT_EQ(FindKeyword("CREATE INDEX i ON t (a)", "index"), 7);
  EXPECT_EQ(FindKeyword("create unique index i on t (a)", "index"), 14);
  EXPECT_EQ(FindKeyword("CREATE /* INDEX */ -- index\n INDEX i ON t (a)", "index"), 29);
  EXPECT_EQ(
      FindKeyword("SELECT 'index', \"index\", $$ index $$, $q$index$q$, E'\\' index', 1", "index"),
      -1);
  EXPECT_EQ(FindKeyword("SELECT reindex, index_a, a$index FROM t", "index"), -1);
  EXPECT_EQ(FindKeyword("REINDEX INDEX CONCURRENTLY i", "concurrently"), 14);
  EXPECT_EQ(FindKeyword("CREATE FUNCTION f() RETURNS int RETURN 1", "return"), 32);
  EXPECT_EQ(FindKeyword("/* unterminated", "index"), -1);
}

TEST_F(SqlRulesTest, EveryYamlHasAHandlerAndBack) {
  Status st = book_->CheckHandlers({"migration", "query"}, SqlRuleIds());
  EXPECT_TRUE(st.ok()) << st.message();
  EXPECT_GE(SqlRuleIds().size(), 25u);
}

TEST_F(SqlRulesTest, EveryRuleExampleBehaves) {
  int checked = 0;
  for (const std::string area : {"migration", "query"}) {
    for (const Rule* r : book_->InArea(area)) {
      ASSERT_FALSE(r->examples.empty()) << r->id << " has no examples";
      bool has_bad = false, has_good = false;
      // Run with this rule enabled even when it is off by default (select-star).
      RuleBook book = *book_;
      book.Mutable(r->id)->enabled = true;
      for (const RuleExample& ex : r->examples) {
        SCOPED_TRACE(r->id + " " + ex.name + ":\n" + ex.text);
        std::vector<Finding> found = Of(Review(ex.text, &book), r->id);
        if (ex.bad) {
          has_bad = true;
          EXPECT_FALSE(found.empty()) << "bad example did not fire";
          for (const Finding& f : found) {
            EXPECT_FALSE(f.message.empty());
            EXPECT_FALSE(f.suggestion.empty());
            EXPECT_GT(f.location.line, 0);
            EXPECT_GT(f.location.column, 0);
          }
        } else {
          has_good = true;
          EXPECT_TRUE(found.empty()) << "good example fired: " << found[0].message;
        }
        ++checked;
      }
      EXPECT_TRUE(has_bad && has_good) << r->id << " needs a bad and a good example";
    }
  }
  EXPECT_GE(checked, 50);
}

TEST_F(SqlRulesTest, MigrationMessagesNameTheLock) {
  const std::string sql =
      "CREATE INDEX a ON t (x);\n"
      "ALTER TABLE t ADD COLUMN u uuid DEFAULT gen_random_uuid();\n"
      "ALTER TABLE t ALTER COLUMN x TYPE bigint;\n"
      "ALTER TABLE t ALTER COLUMN x SET NOT NULL;\n"
      "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (x) REFERENCES p (id);\n"
      "ALTER TABLE t ADD CONSTRAINT ck CHECK (x > 0);\n"
      "ALTER TABLE t ADD CONSTRAINT uq UNIQUE (x);\n"
      "VACUUM FULL t;\n"
      "CLUSTER t;\n";
  std::vector<Finding> all = Review(sql);
  int with_lock = 0;
  for (const Finding& f : all) {
    if (f.rule == "require-lock-timeout") continue;
    bool names_lock = f.message.find("SHARE") != std::string::npos ||
                      f.message.find("EXCLUSIVE") != std::string::npos;
    EXPECT_TRUE(names_lock) << f.rule << ": " << f.message;
    with_lock += names_lock;
  }
  EXPECT_GE(with_lock, 9);
}

TEST_F(SqlRulesTest, IgnoreDirectiveSuppressesOnlyTheNamedRule) {
  std::vector<Finding> all = Review(
      "-- pgvise-ignore: ban-drop-table\n"
      "DROP TABLE audit_log;\n"
      "DROP TABLE other_log; -- pgvise-ignore: ban-drop-table, require-lock-timeout\n"
      "DROP TABLE third_log;\n");
  std::vector<Finding> drops = Of(all, "ban-drop-table");
  ASSERT_EQ(drops.size(), 1u);
  EXPECT_EQ(drops[0].location.line, 4);
  std::vector<Finding> timeouts = Of(all, "require-lock-timeout");
  ASSERT_EQ(timeouts.size(), 2u);
  EXPECT_EQ(timeouts[0].location.line, 2);
  EXPECT_EQ(timeouts[1].location.line, 4);
}

// The rename the suggestion prints runs as printed: each name quoted as
// needed, read from the parse tree, so a '.' or a '"' inside a name stays
// whole (it printed the raw display name: ALTER TABLE my schema.odd.Name ...).
TEST_F(SqlRulesTest, DropTableSuggestionQuotesTheNamesItPrints) {
  std::vector<Finding> drops =
      Of(Review("DROP TABLE \"my schema\".\"odd.Na\"\"me\", plain_log;\n"), "ban-drop-table");
  ASSERT_EQ(drops.size(), 2u);
  EXPECT_NE(
      drops[0].suggestion.find(
          "ALTER TABLE \"my schema\".\"odd.Na\"\"me\" RENAME TO \"odd.Na\"\"me_deprecated\";"),
      std::string::npos)
      << drops[0].suggestion;
  EXPECT_NE(drops[1].suggestion.find("ALTER TABLE plain_log RENAME TO plain_log_deprecated;"),
            std::string::npos)
      << drops[1].suggestion;
}

TEST_F(SqlRulesTest, FindingsPointAtTheExactToken) {
  const std::string sql =
      "SET lock_timeout = '2s';\n"
      "ALTER TABLE orders\n"
      "  ADD COLUMN token uuid DEFAULT gen_random_uuid(),\n"
      "  ALTER COLUMN total SET NOT NULL;\n"
      "SELECT id FROM users WHERE email LIKE '%x' AND lower(name) = $1;\n"
      "BEGIN;\n"
      "  CREATE INDEX CONCURRENTLY ix ON orders (status);\n"
      "COMMIT;\n"
      "SELECT id FROM products ORDER BY id LIMIT 10 OFFSET 5000;\n";
  std::vector<Finding> all = Review(sql);
  auto at = [&](const std::string& rule) {
    std::vector<Finding> f = Of(all, rule);
    EXPECT_EQ(f.size(), 1u) << rule;
    if (f.empty()) return std::string();
    EXPECT_EQ(f[0].location.file, "m.sql");
    return std::to_string(f[0].location.line) + ":" + std::to_string(f[0].location.column);
  };
  EXPECT_EQ(at("adding-field-with-volatile-default"), "3:3");
  EXPECT_EQ(at("setting-not-null-without-check"), "4:3");
  EXPECT_EQ(at("leading-wildcard-like"), "5:39");
  EXPECT_EQ(at("function-on-indexed-column"), "5:48");
  EXPECT_EQ(at("concurrently-in-transaction"), "7:16");
  EXPECT_EQ(at("large-offset-pagination"), "9:53");
  EXPECT_TRUE(Of(all, "require-lock-timeout").empty()) << "lock_timeout was set on line 1";
}

TEST_F(SqlRulesTest, TableSizesGoIntoMessagesAndRaiseSeverity) {
  std::map<std::string, SqlTableInfo> tables;
  tables["orders"].name = "public.orders";
  tables["orders"].total_bytes = int64_t{38} << 30;
  tables["orders"].rows = 120e6;
  tables["tiny"].name = "public.tiny";
  tables["tiny"].total_bytes = 8192;
  tables["tiny"].rows = 10;
  std::vector<Finding> all = Review(
      "SET lock_timeout = '1s';\n"
      "ALTER TABLE orders ALTER COLUMN total TYPE numeric(14, 2);\n"
      "ALTER TABLE tiny ALTER COLUMN total TYPE numeric(14, 2);\n",
      nullptr, &tables);
  std::vector<Finding> f = Of(all, "changing-column-type");
  ASSERT_EQ(f.size(), 2u);
  EXPECT_NE(f[0].message.find("rewrites table orders (38 GB, 120M rows)"), std::string::npos)
      << f[0].message;
  EXPECT_NE(f[0].message.find("ACCESS EXCLUSIVE"), std::string::npos);
  EXPECT_EQ(f[0].severity, Severity::kError);
  EXPECT_EQ(f[1].severity, Severity::kWarning);
  bool has_bytes = false;
  for (const auto& e : f[0].evidence)
    if (e.key == "table_bytes") has_bytes = std::get<int64_t>(e.value) == (int64_t{38} << 30);
  EXPECT_TRUE(has_bytes);
}

TEST_F(SqlRulesTest, DisabledRulesDoNotRun) {
  EXPECT_TRUE(Of(Review("SELECT * FROM users;"), "select-star").empty());
  RuleBook book = *book_;
  book.Mutable("delete-without-where")->enabled = false;
  EXPECT_TRUE(Of(Review("DELETE FROM t;", &book), "delete-without-where").empty());
  EXPECT_FALSE(Of(Review("DELETE FROM t;"), "delete-without-where").empty());
}

TEST_F(SqlRulesTest, ThresholdComesFromTheRule) {
  RuleBook book = *book_;
  book.Mutable("large-offset-pagination")->thresholds["max_offset"] = 100;
  EXPECT_FALSE(Of(Review("SELECT id FROM t ORDER BY id LIMIT 5 OFFSET 200", &book),
                  "large-offset-pagination")
                   .empty());
  EXPECT_TRUE(
      Of(Review("SELECT id FROM t ORDER BY id LIMIT 5 OFFSET 200"), "large-offset-pagination")
          .empty());
}

TEST_F(SqlRulesTest, UnparsableStatementIsSkippedAndTheRestReviewed) {
  std::vector<Finding> all = Review("ALTER TABL t ADD x int;\nDELETE FROM t;\n");
  ASSERT_EQ(Of(all, "delete-without-where").size(), 1u);
  EXPECT_EQ(Of(all, "delete-without-where")[0].location.line, 2);
}

TEST(SqlRulesFormat, PrettySizes) {
  EXPECT_EQ(PrettyBytes(8192), "8192 bytes");
  EXPECT_EQ(PrettyBytes(int64_t{38} << 30), "38 GB");
  EXPECT_EQ(PrettyRows(120e6), "120M rows");
  EXPECT_EQ(PrettyRows(950), "950 rows");
}

}  // namespace
}  // namespace pgvise
