// SQL review rules: every migration/query rule's YAML examples (a bad example
// must fire the rule, a good one must not), YAML <-> handler pairing, ignore
// directives, exact locations and table-size escalation.
#include "analyzer/sql_rules.h"

#include <gtest/gtest.h>

#include "analyzer/sql_rules_internal.h"

#include <algorithm>

#include "tests/support/pg_test.h"

namespace pgvise {
namespace {

class SqlRulesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    book_ = new RuleBook();
    Status st = RuleBook::LoadDir(testing::SourceDir() + "/rules", book_);
    ASSERT_TRUE(st.ok()) << st.message();
  }
  static void TearDownTestSuite() {
    delete book_;
    book_ = nullptr;
  }

  static std::vector<Finding> Review(const std::string& sql, const RuleBook* book = nullptr,
                                     const std::map<std::string, SqlTableInfo>* tables = nullptr) {
    SqlFile f;
    Status st = ParseSqlFile(SourceText("m.sql", sql), &f);
    EXPECT_TRUE(st.ok()) << st.message();
    SqlReviewContext ctx;
    ctx.rules = book ? book : book_;
    ctx.tables = tables;
    return ReviewSqlFile(f, ctx);
  }

  static std::vector<Finding> Of(const std::vector<Finding>& all, const std::string& rule) {
    std::vector<Finding> out;
    for (const auto& f : all)
      if (f.rule == rule) out.push_back(f);
    return out;
  }

  static RuleBook* book_;
};

RuleBook* SqlRulesTest::book_ = nullptr;

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

// ---- changing-column-type with the old type from the catalog (--db) ------
//
// The expected verdicts are what PostgreSQL 15 did when each ALTER ran on a
// real table (pg_class.relfilenode compared before/after, and the index's
// relfilenode for "indexes rebuilt"); tests/review_cli_pg_test.cc re-checks
// them against the server.

TEST(ColumnTypeModel, ParsesFormatTypeAndSqlSpellings) {
  using sqlrules::ParseColumnType;
  sqlrules::ColumnType t = ParseColumnType("character varying(20)");
  EXPECT_EQ(t.name, "varchar");
  EXPECT_EQ(t.mods, std::vector<int>{20});
  EXPECT_TRUE(t.known);
  t = ParseColumnType("numeric(14, 2)");
  EXPECT_EQ(t.name, "numeric");
  EXPECT_EQ(t.mods, (std::vector<int>{14, 2}));
  t = ParseColumnType("timestamp(3) without time zone");
  EXPECT_EQ(t.name, "timestamp");
  EXPECT_EQ(t.mods, std::vector<int>{3});
  EXPECT_EQ(ParseColumnType("timestamp with time zone").name, "timestamptz");
  EXPECT_EQ(ParseColumnType("bit varying(10)").name, "varbit");
  EXPECT_EQ(ParseColumnType("character(5)").name, "bpchar");
  EXPECT_EQ(ParseColumnType("bpchar").name, "bpchar");
  EXPECT_TRUE(ParseColumnType("bpchar").mods.empty());
  EXPECT_EQ(ParseColumnType("integer").name, ParseColumnType("int4").name);
  t = ParseColumnType("character varying(20)[]");
  EXPECT_TRUE(t.array);
  EXPECT_EQ(t.name, "varchar");
  t = ParseColumnType("interval day to second(3)");
  EXPECT_EQ(t.name, "interval");
  EXPECT_EQ(t.fields, "day to second");
  t = ParseColumnType("interval(32767, 3)");  // SQL interval(3) as the grammar gives it
  EXPECT_TRUE(t.fields.empty());
  EXPECT_EQ(t.mods, std::vector<int>{3});
  EXPECT_FALSE(ParseColumnType("shop.money_amount").known);
  EXPECT_FALSE(ParseColumnType("\"char\"").known);
}

TEST(ColumnTypeModel, MatchesWhatPostgres15Does) {
  using sqlrules::TypeChange;
  struct Case {
    const char *from, *to;
    TypeChange want;
  };
  const TypeChange kNone = TypeChange::kCatalogOnly, kIdx = TypeChange::kIndexesRebuilt,
                   kRw = TypeChange::kRewrite;
  const Case cases[] = {
      {"character varying(20)", "varchar(40)", kNone},
      {"character varying(40)", "varchar(20)", kRw},
      {"character varying(20)", "varchar", kNone},
      {"character varying(20)", "text", kNone},
      {"text", "varchar", kNone},
      {"text", "varchar(20)", kRw},
      {"character varying(20)", "char(40)", kRw},
      {"character(20)", "char(40)", kRw},
      {"character(20)", "varchar(40)", kRw},
      {"character(20)", "text", kRw},
      {"character(20)", "bpchar", kNone},
      {"text", "bpchar", kIdx},
      {"numeric(10,2)", "numeric(12, 2)", kNone},
      {"numeric(10,2)", "numeric(8, 2)", kRw},
      {"numeric(10,2)", "numeric(12, 3)", kRw},
      {"numeric(10,2)", "numeric", kNone},
      {"numeric", "numeric(10, 2)", kRw},
      {"integer", "bigint", kRw},
      {"bigint", "int4", kRw},
      {"smallint", "integer", kRw},
      {"integer", "numeric", kRw},
      {"bit varying(5)", "varbit(10)", kNone},
      {"bit varying(10)", "varbit(5)", kRw},
      {"bit(5)", "varbit", kIdx},
      {"bit(5)", "varbit(10)", kRw},
      {"bit(5)", "bit(10)", kRw},
      {"timestamp(3) without time zone", "timestamp(6)", kNone},
      {"timestamp(6) without time zone", "timestamp(3)", kRw},
      {"timestamp without time zone", "timestamp(6)", kNone},
      {"timestamp(3) without time zone", "timestamp", kNone},
      {"time(2) without time zone", "time(4)", kNone},
      {"interval", "interval(32767, 3)", kRw},
      {"interval(3)", "interval", kNone},
      {"interval(3)", "interval(32767, 6)", kNone},
      {"interval", "interval(8)", kRw},  // interval day
      {"cidr", "inet", kNone},
      {"inet", "cidr", kRw},
      {"integer", "oid", kIdx},
      {"real", "float8", kRw},
      {"integer[]", "bigint[]", kRw},
      {"character varying(20)[]", "varchar(40)[]", kRw},
      {"character varying(20)[]", "text[]", kRw},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.from) + " -> " + c.to);
    auto v = sqlrules::ClassifyTypeChange(sqlrules::ParseColumnType(c.from),
                                          sqlrules::ParseColumnType(c.to), false);
    EXPECT_EQ(static_cast<int>(v.kind), static_cast<int>(c.want)) << v.why;
    EXPECT_FALSE(v.why.empty());
  }
  auto same = sqlrules::ClassifyTypeChange(sqlrules::ParseColumnType("character varying(20)"),
                                           sqlrules::ParseColumnType("varchar(20)"), false);
  EXPECT_EQ(same.kind, TypeChange::kSame);
}

TEST(ColumnTypeModel, TimestampToTimestamptzDependsOnTheSessionTimeZone) {
  using sqlrules::TypeChange;
  auto v = [](const char* from, const char* to, bool utc) {
    return sqlrules::ClassifyTypeChange(sqlrules::ParseColumnType(from),
                                        sqlrules::ParseColumnType(to), utc)
        .kind;
  };
  EXPECT_EQ(v("timestamp without time zone", "timestamptz", false), TypeChange::kRewriteUnlessUtc);
  EXPECT_EQ(v("timestamp without time zone", "timestamptz", true), TypeChange::kIndexesRebuilt);
  EXPECT_EQ(v("timestamp with time zone", "timestamp", true), TypeChange::kIndexesRebuilt);
  EXPECT_EQ(v("timestamp(3) without time zone", "timestamptz", true), TypeChange::kIndexesRebuilt);
  // The conversion result has no precision: a limited target calls timestamptz().
  EXPECT_EQ(v("timestamp without time zone", "timestamptz(3)", true), TypeChange::kRewrite);
  EXPECT_EQ(v("timestamp(3) without time zone", "timestamptz(6)", true),
            TypeChange::kIndexesRebuilt);
}

TEST(ColumnTypeModel, UnknownTypesAreAssumedToRewrite) {
  auto v = sqlrules::ClassifyTypeChange(sqlrules::ParseColumnType("shop.email_address"),
                                        sqlrules::ParseColumnType("text"), false);
  EXPECT_EQ(v.kind, sqlrules::TypeChange::kUnknown);
  v = sqlrules::ClassifyTypeChange(sqlrules::ParseColumnType("shop.email_address"),
                                   sqlrules::ParseColumnType("shop.email_address"), false);
  EXPECT_EQ(v.kind, sqlrules::TypeChange::kSame);
}

class ChangingColumnTypeDb : public SqlRulesTest {
 protected:
  static std::map<std::string, SqlTableInfo> Tables() {
    SqlTableInfo t;
    t.name = "shop.users";
    t.total_bytes = int64_t{38} << 30;
    t.rows = 120e6;
    t.column_types = {{"id", "integer"},
                      {"name", "character varying(20)"},
                      {"bio", "text"},
                      {"score", "integer"},
                      {"balance", "numeric(10,2)"},
                      {"seen_at", "timestamp without time zone"},
                      {"born_at", "timestamp without time zone"},
                      {"tags", "character varying(20)[]"},
                      {"code", "character(5)"}};
    t.indexed_columns = {"id", "name", "seen_at"};
    std::map<std::string, SqlTableInfo> m;
    m["shop.users"] = t;
    m["users"] = t;
    return m;
  }
  // Findings of changing-column-type for `sql` (lock_timeout set first so
  // only this rule speaks).
  static std::vector<Finding> Check(const std::string& sql) {
    static const std::map<std::string, SqlTableInfo> tables = Tables();
    return Of(Review("SET lock_timeout = '2s';\n" + sql, nullptr, &tables), "changing-column-type");
  }
};

TEST_F(ChangingColumnTypeDb, WideningVarcharIsCatalogOnlyAndDoesNotFire) {
  EXPECT_TRUE(Check("ALTER TABLE users ALTER COLUMN name TYPE varchar(40);").empty());
  EXPECT_TRUE(Check("ALTER TABLE users ALTER COLUMN name TYPE varchar;").empty());
  EXPECT_TRUE(Check("ALTER TABLE shop.users ALTER COLUMN name TYPE text;").empty());
  EXPECT_TRUE(Check("ALTER TABLE users ALTER COLUMN bio TYPE varchar;").empty());
  EXPECT_TRUE(Check("ALTER TABLE users ALTER COLUMN balance TYPE numeric(14, 2);").empty());
  EXPECT_TRUE(Check("ALTER TABLE users ALTER COLUMN balance TYPE numeric;").empty());
  EXPECT_TRUE(Check("ALTER TABLE users ALTER COLUMN name TYPE varchar(40) USING name;").empty());
  EXPECT_TRUE(Check("ALTER TABLE users ALTER COLUMN name TYPE varchar(40) "
                    "USING name::varchar(40);")
                  .empty());
  EXPECT_TRUE(Check("ALTER TABLE users ALTER COLUMN name TYPE character varying(20);").empty());
}

TEST_F(ChangingColumnTypeDb, RewriteNamesOldAndNewTypeAndTableSize) {
  std::vector<Finding> f = Check("ALTER TABLE users ALTER COLUMN score TYPE bigint;");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0].message.find("changes shop.users.score from integer to bigint"), std::string::npos)
      << f[0].message;
  EXPECT_NE(f[0].message.find("rewrites table users (38 GB, 120M rows)"), std::string::npos)
      << f[0].message;
  EXPECT_NE(f[0].message.find("ACCESS EXCLUSIVE"), std::string::npos);
  EXPECT_EQ(f[0].severity, Severity::kError);  // 38 GB >= large_table_bytes
  std::map<std::string, std::string> ev;
  for (const auto& e : f[0].evidence)
    if (std::holds_alternative<std::string>(e.value)) ev[e.key] = std::get<std::string>(e.value);
  EXPECT_EQ(ev["old_type"], "integer");
  EXPECT_EQ(ev["new_type"], "bigint");
  EXPECT_EQ(ev["table_rewrite"], "yes");
  EXPECT_EQ(f[0].location.line, 2);
  EXPECT_EQ(f[0].location.column, 19);  // the ALTER COLUMN subcommand
}

TEST_F(ChangingColumnTypeDb, NarrowingAndConvertingChangesFire) {
  EXPECT_EQ(Check("ALTER TABLE users ALTER COLUMN name TYPE varchar(10);").size(), 1u);
  EXPECT_EQ(Check("ALTER TABLE users ALTER COLUMN bio TYPE varchar(100);").size(), 1u);
  EXPECT_EQ(Check("ALTER TABLE users ALTER COLUMN balance TYPE numeric(12, 3);").size(), 1u);
  EXPECT_EQ(Check("ALTER TABLE users ALTER COLUMN code TYPE char(10);").size(), 1u);
  EXPECT_EQ(Check("ALTER TABLE users ALTER COLUMN tags TYPE text[];").size(), 1u);
  // Without the catalog, TYPE text is assumed to be varchar -> text; with it
  // integer -> text is known to convert every row.
  std::vector<Finding> f = Check("ALTER TABLE users ALTER COLUMN score TYPE text;");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0].message.find("from integer to text"), std::string::npos) << f[0].message;
}

TEST_F(ChangingColumnTypeDb, UsingExpressionAlwaysRewrites) {
  std::vector<Finding> f =
      Check("ALTER TABLE users ALTER COLUMN name TYPE varchar(40) USING lower(name);");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0].message.find("USING"), std::string::npos) << f[0].message;
  EXPECT_EQ(Check("ALTER TABLE users ALTER COLUMN name TYPE varchar(40) USING name::text;").size(),
            1u);
}

TEST_F(ChangingColumnTypeDb, TimestampToTimestamptzFollowsTheFilesTimeZone) {
  std::vector<Finding> f = Check("ALTER TABLE users ALTER COLUMN born_at TYPE timestamptz;");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0].message.find("TimeZone is UTC"), std::string::npos) << f[0].message;
  EXPECT_NE(f[0].suggestion.find("SET TimeZone = 'UTC'"), std::string::npos);
  // UTC set earlier: no rewrite; born_at has no index, so nothing to report.
  EXPECT_TRUE(
      Check("SET TIME ZONE 'UTC';\nALTER TABLE users ALTER COLUMN born_at TYPE timestamptz;")
          .empty());
  // seen_at is indexed: the index is rebuilt under ACCESS EXCLUSIVE.
  f = Check("SET timezone = 'Etc/UTC';\nALTER TABLE users ALTER COLUMN seen_at TYPE timestamptz;");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0].message.find("no table rewrite"), std::string::npos) << f[0].message;
  EXPECT_NE(f[0].message.find("indexes on seen_at"), std::string::npos) << f[0].message;
  // SET LOCAL ends with the transaction.
  EXPECT_EQ(Check("BEGIN;\nSET LOCAL TIME ZONE 'UTC';\nCOMMIT;\n"
                  "ALTER TABLE users ALTER COLUMN born_at TYPE timestamptz;")
                .size(),
            1u);
  EXPECT_EQ(Check("SET TIME ZONE 'Europe/Paris';\n"
                  "ALTER TABLE users ALTER COLUMN born_at TYPE timestamptz;")
                .size(),
            1u);
}

TEST_F(ChangingColumnTypeDb, EarlierChangesInTheFileAreTheOldType) {
  std::vector<Finding> f = Check(
      "ALTER TABLE users ALTER COLUMN name TYPE varchar(40);\n"
      "ALTER TABLE users ALTER COLUMN name TYPE varchar(30);\n");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].location.line, 3);
  EXPECT_NE(f[0].message.find("from varchar(40) to varchar(30)"), std::string::npos)
      << f[0].message;
}

TEST_F(ChangingColumnTypeDb, ColumnUnknownToTheCatalogKeepsTheBlindRule) {
  std::vector<Finding> f = Check("ALTER TABLE users ALTER COLUMN nickname TYPE varchar(40);");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0].message.find("unless the old type is binary-coercible"), std::string::npos);
  EXPECT_TRUE(Check("ALTER TABLE users ALTER COLUMN nickname TYPE text;").empty());
  // A collation change keeps the data but reorders indexes on the column.
  f = Check("ALTER TABLE users ALTER COLUMN name TYPE varchar(20) COLLATE \"C\";");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0].message.find("indexes on name"), std::string::npos) << f[0].message;
}

// adding-field-with-volatile-default with --db: volatility from a hand-built
// pg_proc (what cmd_review's one query returns), no database needed.
class VolatileDefaultDb : public SqlRulesTest {
 protected:
  static SqlFunction Fn(const std::string& schema, const std::string& name, char volatility,
                        int path_position, const std::string& args = "",
                        const std::string& arg_types = "", int nargs = 0, int nargdefaults = 0,
                        bool variadic = false) {
    SqlFunction f;
    f.schema = schema;
    f.name = name;
    f.volatility = volatility;
    f.path_position = path_position;
    f.identity_args = args;
    f.arg_types = arg_types;
    f.nargs = nargs;
    f.nargdefaults = nargdefaults;
    f.variadic = variadic;
    return f;
  }
  // search_path = pg_catalog (1), public (2), app (3); my_schema is not on it.
  static SqlFunctionCatalog Catalog() {
    SqlFunctionCatalog c;
    for (SqlFunction f : {
             Fn("pg_catalog", "now", 's', 1),
             Fn("pg_catalog", "gen_random_uuid", 'v', 1),
             Fn("pg_catalog", "upper", 'i', 1, "text", "25", 1),
             Fn("my_schema", "make_code", 'v', 0),
             Fn("my_schema", "fixed_code", 'i', 0),
             Fn("my_schema", "stable_code", 's', 0),
             Fn("public", "pick", 'v', 2, "a integer", "23", 1),
             Fn("public", "pick", 'i', 2, "a text", "25", 1),
             // app.code() is hidden by public.code() (same signature, earlier on the path).
             Fn("public", "code", 'i', 2),
             Fn("app", "code", 'v', 3),
             Fn("app", "code", 'v', 3, "n integer", "23", 1),
             Fn("public", "padded", 'i', 2, "n integer, width integer DEFAULT 8", "23 23", 2, 1),
             Fn("public", "any_of", 'v', 2, "VARIADIC xs integer[]", "1007", 1, 0, true),
         })
      c.by_name.emplace(f.name, f);
    // VOLATILE (by omission) LANGUAGE sql functions the planner may inline.
    auto sql_fn = [&](const std::string& name, const std::string& body, bool inlinable = true) {
      SqlFunction f = Fn("my_schema", name, 'v', 0);
      f.inlinable_sql = inlinable;
      f.body = body;
      c.by_name.emplace(name, f);
    };
    sql_fn("constant_code", "SELECT 'p'");
    sql_fn("upper_tag", "SELECT upper('t')");             // upper() is in the catalog: IMMUTABLE
    sql_fn("random_code", "SELECT md5(random()::text)");  // random(): the built-in list
    sql_fn("other_code", "SELECT other_fn()");            // unknown to both
    sql_fn("from_code", "SELECT 'p' FROM pg_class LIMIT 1");  // not one expression
    sql_fn("sub_code", "SELECT (SELECT 'p')");                // a sub-select: not inlined
    sql_fn("strict_code", "SELECT 'p'", false);               // STRICT / SECURITY DEFINER / plpgsql
    // SQL-standard bodies, as pg_get_function_sqlbody prints them.
    sql_fn("std_return", "RETURN 'p'::text");
    sql_fn("std_atomic", "BEGIN ATOMIC\n SELECT 'p'::text;\nEND");
    sql_fn("std_random", "RETURN md5((random())::text)");
    sql_fn("std_two", "BEGIN ATOMIC\n SELECT 'p'::text;\n SELECT 'q'::text;\nEND");
    return c;
  }
  static std::vector<Finding> Check(const std::string& sql, bool with_db = true) {
    static const SqlFunctionCatalog functions = Catalog();
    SqlFile f;
    Status st = ParseSqlFile(SourceText("m.sql", "SET lock_timeout = '2s';\n" + sql), &f);
    EXPECT_TRUE(st.ok()) << st.message();
    SqlReviewContext ctx;
    ctx.rules = book_;
    ctx.functions = with_db ? &functions : nullptr;
    return Of(ReviewSqlFile(f, ctx), "adding-field-with-volatile-default");
  }
  static sqlrules::CallVolatility Resolve(const std::string& schema, const std::string& name,
                                          int nargs) {
    static const SqlFunctionCatalog functions = Catalog();
    sqlrules::FunctionCall call;
    call.schema = schema;
    call.name = name;
    call.nargs = nargs;
    return sqlrules::ResolveVolatility(functions, call);
  }
  static std::string Evidence(const Finding& f, const std::string& key) {
    for (const auto& e : f.evidence)
      if (e.key == key && std::holds_alternative<std::string>(e.value))
        return std::get<std::string>(e.value);
    return "";
  }
};

TEST_F(VolatileDefaultDb, ResolvesLikeTheParser) {
  // Qualified: only that schema, whether or not it is on the search_path.
  sqlrules::CallVolatility v = Resolve("my_schema", "make_code", 0);
  ASSERT_TRUE(v.found);
  EXPECT_EQ(v.volatility, 'v');
  EXPECT_FALSE(v.disagree);
  // Unqualified and not on the search_path: PostgreSQL would not find it either.
  EXPECT_FALSE(Resolve("", "make_code", 0).found);
  EXPECT_FALSE(Resolve("public", "make_code", 0).found);
  // An earlier schema hides the same signature in a later one...
  v = Resolve("", "code", 0);
  ASSERT_TRUE(v.found);
  EXPECT_EQ(v.volatility, 'i');
  ASSERT_EQ(v.candidates.size(), 1u);
  EXPECT_EQ(v.candidates[0].schema, "public");
  // ... but not another signature; the argument count picks it.
  EXPECT_EQ(Resolve("", "code", 1).volatility, 'v');
  EXPECT_EQ(Resolve("app", "code", 0).volatility, 'v');
  // Defaults and VARIADIC widen the argument counts a function accepts.
  EXPECT_TRUE(Resolve("", "padded", 1).found);
  EXPECT_TRUE(Resolve("", "padded", 2).found);
  EXPECT_FALSE(Resolve("", "padded", 3).found);
  EXPECT_FALSE(Resolve("", "padded", 0).found);
  EXPECT_TRUE(Resolve("", "any_of", 0).found);
  EXPECT_TRUE(Resolve("", "any_of", 5).found);
  // Overloads with the same argument count that disagree: the most volatile.
  v = Resolve("", "pick", 1);
  ASSERT_TRUE(v.found);
  EXPECT_TRUE(v.disagree);
  EXPECT_EQ(v.volatility, 'v');
  sqlrules::FunctionCall call;
  call.name = "pick";
  call.nargs = 1;
  const std::string d = v.Describe(call);
  EXPECT_NE(d.find("public.pick(a integer) VOLATILE"), std::string::npos) << d;
  EXPECT_NE(d.find("public.pick(a text) IMMUTABLE"), std::string::npos) << d;
  EXPECT_NE(d.find("assumes VOLATILE"), std::string::npos) << d;
}

// A SET search_path earlier in the file decides which code() a DEFAULT calls:
// the session's path finds the IMMUTABLE public.code() first, the file's
// path the VOLATILE app.code(); SET LOCAL ends at COMMIT.
TEST_F(VolatileDefaultDb, TheFilesSearchPathDecidesWhichFunctionIsCalled) {
  EXPECT_TRUE(Check("ALTER TABLE t ADD COLUMN c text DEFAULT code();").empty());
  std::vector<Finding> f = Check(
      "SET search_path = app, public;\n"
      "ALTER TABLE t ADD COLUMN c text DEFAULT code();");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(Evidence(f[0], "function"), "code()");
  EXPECT_NE(f[0].message.find("app.code"), std::string::npos) << f[0].message;
  EXPECT_TRUE(Check("SET search_path = app, public;\nSET search_path TO DEFAULT;\n"
                    "ALTER TABLE t ADD COLUMN c text DEFAULT code();")
                  .empty());
  EXPECT_TRUE(Check("BEGIN;\nSET LOCAL search_path = app;\nCOMMIT;\n"
                    "ALTER TABLE t ADD COLUMN c text DEFAULT code();")
                  .empty());
  // Off the file's path altogether: public.code() is not visible, app's is.
  EXPECT_EQ(Check("SET search_path = app;\nALTER TABLE t ADD COLUMN c text DEFAULT code();").size(),
            1u);
}

TEST_F(VolatileDefaultDb, UserVolatileFunctionFiresAndSaysPgProc) {
  std::vector<Finding> f = Check("ALTER TABLE t ADD COLUMN c text DEFAULT my_schema.make_code();");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0].message.find("my_schema.make_code() is VOLATILE in pg_proc"), std::string::npos)
      << f[0].message;
  EXPECT_NE(f[0].message.find("every existing row is rewritten with its own value"),
            std::string::npos)
      << f[0].message;
  EXPECT_EQ(Evidence(f[0], "volatility_source"), "pg_proc");
  EXPECT_EQ(Evidence(f[0], "function"), "my_schema.make_code()");
  EXPECT_EQ(f[0].location.line, 2);
  EXPECT_EQ(f[0].location.column, 15);  // ADD COLUMN
  // Nested in another call, and the second ADD COLUMN of a statement.
  EXPECT_EQ(Check("ALTER TABLE t ADD COLUMN a int, "
                  "ADD COLUMN c text DEFAULT upper(my_schema.make_code());")
                .size(),
            1u);
  // Without --db the list does not know it: the old behaviour.
  EXPECT_TRUE(
      Check("ALTER TABLE t ADD COLUMN c text DEFAULT my_schema.make_code();", false).empty());
}

TEST_F(VolatileDefaultDb, ImmutableAndStableDefaultsDoNotRewrite) {
  EXPECT_TRUE(Check("ALTER TABLE t ADD COLUMN c text DEFAULT my_schema.fixed_code();").empty());
  EXPECT_TRUE(Check("ALTER TABLE t ADD COLUMN c text DEFAULT my_schema.stable_code();").empty());
  EXPECT_TRUE(Check("ALTER TABLE t ADD COLUMN c timestamptz DEFAULT now();").empty());
  EXPECT_TRUE(Check("ALTER TABLE t ADD COLUMN c timestamptz DEFAULT CURRENT_TIMESTAMP;").empty());
  EXPECT_TRUE(Check("ALTER TABLE t ADD COLUMN c text DEFAULT upper('x');").empty());
  // public.code() hides the volatile app.code().
  EXPECT_TRUE(Check("ALTER TABLE t ADD COLUMN c text DEFAULT code();").empty());
  EXPECT_EQ(Check("ALTER TABLE t ADD COLUMN c text DEFAULT app.code();").size(), 1u);
}

TEST_F(VolatileDefaultDb, InlinableSqlFunctionsAreJudgedByTheirBody) {
  // Declared VOLATILE, but the planner replaces the call by a constant.
  EXPECT_TRUE(Check("ALTER TABLE t ADD COLUMN c text DEFAULT my_schema.constant_code();").empty());
  EXPECT_TRUE(Check("ALTER TABLE t ADD COLUMN c text DEFAULT my_schema.upper_tag();").empty());
  std::vector<Finding> f =
      Check("ALTER TABLE t ADD COLUMN c text DEFAULT my_schema.random_code();");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0].message.find("inlines, calls random() (VOLATILE)"), std::string::npos)
      << f[0].message;
  f = Check("ALTER TABLE t ADD COLUMN c text DEFAULT my_schema.other_code();");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0].message.find("other_fn(), not looked up in pg_proc: assumed VOLATILE"),
            std::string::npos)
      << f[0].message;
  EXPECT_TRUE(Check("ALTER TABLE t ADD COLUMN c text DEFAULT my_schema.std_return();").empty());
  EXPECT_TRUE(Check("ALTER TABLE t ADD COLUMN c text DEFAULT my_schema.std_atomic();").empty());
  EXPECT_EQ(Check("ALTER TABLE t ADD COLUMN c text DEFAULT my_schema.std_random();").size(), 1u);
  for (const char* fn : {"from_code", "sub_code", "strict_code", "std_two"}) {
    SCOPED_TRACE(fn);
    f = Check(std::string("ALTER TABLE t ADD COLUMN c text DEFAULT my_schema.") + fn + "();");
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].message.find("inlines"), std::string::npos) << f[0].message;
  }
}

TEST_F(VolatileDefaultDb, FunctionsCreatedEarlierInTheFileAreJudgedByTheirDeclaration) {
  const std::string plpgsql =
      "CREATE FUNCTION fresh() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN 'x'; END $$;\n";
  std::vector<Finding> f = Check(plpgsql + "ALTER TABLE t ADD COLUMN c text DEFAULT fresh();");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0].message.find("fresh() is VOLATILE in this file's CREATE FUNCTION (fresh())"),
            std::string::npos)
      << f[0].message;
  EXPECT_EQ(Evidence(f[0], "volatility_source"), "this file's CREATE FUNCTION");
  EXPECT_TRUE(Check("CREATE FUNCTION fresh() RETURNS text LANGUAGE plpgsql IMMUTABLE "
                    "AS $$ BEGIN RETURN 'x'; END $$;\n"
                    "ALTER TABLE t ADD COLUMN c text DEFAULT fresh();")
                  .empty());
  // VOLATILE by omission, but a one-expression SQL body is inlined.
  EXPECT_TRUE(Check("CREATE FUNCTION fresh() RETURNS text LANGUAGE sql AS $$ SELECT 'x' $$;\n"
                    "ALTER TABLE t ADD COLUMN c text DEFAULT fresh();")
                  .empty());
  EXPECT_TRUE(Check("CREATE FUNCTION fresh() RETURNS text LANGUAGE sql RETURN 'x';\n"
                    "ALTER TABLE t ADD COLUMN c text DEFAULT fresh();")
                  .empty());
  EXPECT_TRUE(Check("CREATE FUNCTION fresh() RETURNS text LANGUAGE sql\n"
                    "BEGIN ATOMIC SELECT 'x'; END;\n"
                    "ALTER TABLE t ADD COLUMN c text DEFAULT fresh();")
                  .empty());
  EXPECT_EQ(Check("CREATE FUNCTION fresh() RETURNS text LANGUAGE sql RETURN random()::text;\n"
                  "ALTER TABLE t ADD COLUMN c text DEFAULT fresh();")
                .size(),
            1u);
  // The file's definition replaces pg_proc's IMMUTABLE one, and OR REPLACE the earlier one.
  EXPECT_EQ(Check("CREATE OR REPLACE FUNCTION my_schema.fixed_code() RETURNS text LANGUAGE "
                  "plpgsql AS $$ BEGIN RETURN random()::text; END $$;\n"
                  "ALTER TABLE t ADD COLUMN c text DEFAULT my_schema.fixed_code();")
                .size(),
            1u);
  EXPECT_TRUE(Check(plpgsql +
                    "CREATE OR REPLACE FUNCTION fresh() RETURNS text LANGUAGE plpgsql STABLE "
                    "AS $$ BEGIN RETURN 'x'; END $$;\n"
                    "ALTER TABLE t ADD COLUMN c text DEFAULT fresh();")
                  .empty());
  // Offline the list decides, as before.
  EXPECT_TRUE(Check(plpgsql + "ALTER TABLE t ADD COLUMN c text DEFAULT fresh();", false).empty());
}

TEST(CreateFunctionParse, ReadsVolatilityArgumentsAndInlinability) {
  SqlFunction f;
  ASSERT_TRUE(sqlrules::ParseCreateFunction(
      "CREATE OR REPLACE FUNCTION app.f(a int, b text DEFAULT 'x', VARIADIC c int[], OUT d int) "
      "RETURNS record LANGUAGE sql STABLE AS $$ SELECT 1 $$",
      &f));
  EXPECT_EQ(f.schema, "app");
  EXPECT_EQ(f.name, "f");
  EXPECT_EQ(f.volatility, 's');
  EXPECT_EQ(f.nargs, 3);
  EXPECT_EQ(f.nargdefaults, 1);
  EXPECT_TRUE(f.variadic);
  EXPECT_TRUE(f.inlinable_sql);
  EXPECT_EQ(f.body, " SELECT 1 ");
  ASSERT_TRUE(sqlrules::ParseCreateFunction(
      "CREATE FUNCTION g() RETURNS text LANGUAGE sql STRICT AS 'SELECT 1'", &f));
  EXPECT_EQ(f.volatility, 'v');  // none declared
  EXPECT_FALSE(f.inlinable_sql);
  ASSERT_TRUE(sqlrules::ParseCreateFunction(
      "CREATE FUNCTION g() RETURNS text LANGUAGE sql SECURITY DEFINER AS 'SELECT 1'", &f));
  EXPECT_FALSE(f.inlinable_sql);
  ASSERT_TRUE(sqlrules::ParseCreateFunction(
      "CREATE FUNCTION g() RETURNS SETOF text LANGUAGE sql AS 'SELECT 1'", &f));
  EXPECT_FALSE(f.inlinable_sql);
  EXPECT_FALSE(
      sqlrules::ParseCreateFunction("CREATE PROCEDURE p() LANGUAGE sql AS 'SELECT 1'", &f));
  EXPECT_FALSE(sqlrules::ParseCreateFunction("CREATE TABLE x (a int)", &f));
}

TEST_F(VolatileDefaultDb, DisagreeingOverloadsAreVolatileAndSaySo) {
  std::vector<Finding> f = Check("ALTER TABLE t ADD COLUMN c text DEFAULT pick('x');");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0].message.find("overloads in pg_proc that disagree"), std::string::npos)
      << f[0].message;
  EXPECT_EQ(Evidence(f[0], "volatility_source"), "pg_proc: overloads disagree");
}

TEST_F(VolatileDefaultDb, BuiltinsComeFromPgProcAndUnknownNamesFromTheList) {
  std::vector<Finding> f = Check("ALTER TABLE t ADD COLUMN u uuid DEFAULT gen_random_uuid();");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(Evidence(f[0], "volatility_source"), "pg_proc");
  EXPECT_NE(f[0].message.find("gen_random_uuid() is VOLATILE in pg_proc"), std::string::npos);
  // random() is not in this pg_proc: the list knows it is volatile.
  f = Check("ALTER TABLE t ADD COLUMN r float8 DEFAULT random();");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(Evidence(f[0], "volatility_source"), "built-in list");
  EXPECT_NE(f[0].message.find("random() is not in pg_proc"), std::string::npos) << f[0].message;
  // A function unknown to both stays silent, as without --db.
  EXPECT_TRUE(Check("ALTER TABLE t ADD COLUMN c text DEFAULT nowhere();").empty());
  // serial draws from a sequence for every row, whatever pg_proc says.
  EXPECT_EQ(Check("ALTER TABLE t ADD COLUMN s bigserial;").size(), 1u);
}

TEST_F(VolatileDefaultDb, FunctionNamesAreCollectedFromAddColumnDefaultsOnly) {
  SqlFile f;
  ASSERT_TRUE(ParseSqlFile(SourceText("m.sql",
                                      "ALTER TABLE t ADD COLUMN a text DEFAULT "
                                      "upper(my_schema.make_code()), ADD COLUMN b int;\n"
                                      "ALTER TABLE t ALTER COLUMN c SET DEFAULT other_fn();\n"
                                      "SELECT lower(x) FROM t;\n"
                                      "ALTER TABLE t ADD COLUMN d timestamptz DEFAULT now();\n"),
                           &f)
                  .ok());
  EXPECT_EQ(SqlVolatilityFunctionNames(f), (std::set<std::string>{"make_code", "now", "upper"}));
}

// Domains and enums, from a hand-built pg_type map (no database): what the
// one pg_type query of review --db would have returned. search_path =
// pg_catalog (1), public (2); `other` is not on it.
class DomainTypesDb : public SqlRulesTest {
 protected:
  static SqlType Type(const std::string& schema, const std::string& name, char kind,
                      int path_position, const std::string& base = "",
                      const std::string& constraints = "") {
    SqlType t;
    t.schema = schema;
    t.name = name;
    t.kind = kind;
    t.path_position = path_position;
    t.base = base;
    t.constraints = constraints;
    return t;
  }
  static SqlTypeCatalog Types() {
    SqlTypeCatalog c;
    for (SqlType t : {
             Type("public", "d_check", 'd', 2, "integer", "d_check: CHECK ((VALUE > 0))"),
             Type("public", "d_nn", 'd', 2, "integer", "d_nn: NOT NULL"),
             Type("public", "d_plain", 'd', 2, "integer"),
             Type("public", "d_over_check", 'd', 2, "integer", "d_check: CHECK ((VALUE > 0))"),
             Type("public", "d_text", 'd', 2, "text"),
             Type("public", "d_text_check", 'd', 2, "text",
                  "d_text_check: CHECK ((length(VALUE) < 100))"),
             Type("public", "d_vc40", 'd', 2, "character varying(40)"),
             Type("public", "d_big", 'd', 2, "bigint"),
             Type("public", "mood", 'e', 2),
             // `other.d_plain` is constrained but off the path: public's wins.
             Type("other", "d_plain", 'd', 0, "integer", "other.d_plain: CHECK ((VALUE < 5))"),
             Type("other", "hidden", 'd', 0, "integer", "other.hidden: CHECK ((VALUE < 5))"),
         })
      c.by_name.emplace(t.name, t);
    return c;
  }
  static std::map<std::string, SqlTableInfo> Tables() {
    SqlTableInfo t;
    t.name = "public.t";
    t.total_bytes = 8 << 20;
    t.rows = 1e5;
    t.column_types = {{"t", "text"},        {"v", "character varying(20)"}, {"i", "integer"},
                      {"dt", "d_text"},     {"dc", "d_text_check"},         {"m", "mood"},
                      {"h", "other.hidden"}};
    t.indexed_columns = {"t"};
    return {{"public.t", t}, {"t", t}};
  }
  static std::vector<Finding> Check(const std::string& rule, const std::string& sql,
                                    bool with_db = true) {
    static const std::map<std::string, SqlTableInfo> tables = Tables();
    static const SqlTypeCatalog types = Types();
    SqlFile f;
    Status st = ParseSqlFile(SourceText("m.sql", "SET lock_timeout = '2s';\n" + sql), &f);
    EXPECT_TRUE(st.ok()) << st.message();
    SqlReviewContext ctx;
    ctx.rules = book_;
    if (with_db) {
      ctx.tables = &tables;
      ctx.types = &types;
    }
    return Of(ReviewSqlFile(f, ctx), rule);
  }
  static bool Fires(const std::string& rule, const std::string& sql, bool with_db = true) {
    return !Check(rule, sql, with_db).empty();
  }
};

constexpr char kDomainRule[] = "adding-column-with-constrained-domain";

TEST_F(DomainTypesDb, AddColumnFiresForEveryConstrainedDomainWithOrWithoutDefault) {
  // Each verdict is what PG 15 did to a 200k-row table (relfilenode and
  // seq_tup_read; tests/review_cli_pg_test.cc checks them again).
  struct Case {
    const char* type;
    bool rewrites;
  } cases[] = {
      {"d_check", true},
      {"d_check DEFAULT 1", true},
      {"d_nn DEFAULT 1", true},
      {"d_nn", true},
      {"d_over_check", true},
      {"d_over_check DEFAULT 1", true},
      {"public.d_check", true},
      {"other.hidden", true},
      {"d_plain", false},
      {"d_plain DEFAULT 1", false},
      {"mood DEFAULT 'a'", false},
      {"d_check[]", false},
      {"integer DEFAULT 1", false},
      {"d_text", false},
      {"hidden", false},  // off the path
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.type);
    EXPECT_EQ(Fires(kDomainRule, std::string("ALTER TABLE t ADD COLUMN x ") + c.type + ";"),
              c.rewrites);
  }
}

TEST_F(DomainTypesDb, AddColumnMessageNamesTheConstraintsAndTheFailingNull) {
  std::vector<Finding> f = Check(kDomainRule, "ALTER TABLE t ADD COLUMN x d_over_check;");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0].message.find("domain public.d_over_check has constraints (d_check: CHECK"),
            std::string::npos)
      << f[0].message;
  EXPECT_NE(f[0].message.find("t (8192 kB, 100k rows)"), std::string::npos) << f[0].message;
  EXPECT_EQ(f[0].message.find("fails"), std::string::npos);  // a CHECK lets NULL through
  EXPECT_EQ(f[0].location.line, 2);
  EXPECT_EQ(f[0].location.column, 15);
  EXPECT_NE(f[0].suggestion.find("ADD COLUMN x integer;"), std::string::npos) << f[0].suggestion;

  f = Check(kDomainRule, "ALTER TABLE t ADD COLUMN x d_nn;");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0].message.find("the statement fails on a table with rows"), std::string::npos);
  EXPECT_NE(f[0].suggestion.find("CHECK (x IS NOT NULL) NOT VALID"), std::string::npos)
      << f[0].suggestion;
  f = Check(kDomainRule, "ALTER TABLE t ADD COLUMN x d_nn DEFAULT 1;");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].message.find("fails"), std::string::npos);
  EXPECT_NE(f[0].suggestion.find("ADD COLUMN x integer DEFAULT 1;"), std::string::npos);
}

TEST_F(DomainTypesDb, DomainsOfTheFileCountWithAndWithoutDb) {
  const std::string create =
      "CREATE DOMAIN pos AS integer CHECK (VALUE > 0);\n"
      "CREATE DOMAIN qty AS pos DEFAULT 1;\n"
      "CREATE DOMAIN label AS text;\n";
  for (bool db : {true, false}) {
    SCOPED_TRACE(db ? "with --db" : "offline");
    EXPECT_TRUE(Fires(kDomainRule, create + "ALTER TABLE t ADD COLUMN x pos;", db));
    std::vector<Finding> f = Check(kDomainRule, create + "ALTER TABLE t ADD COLUMN x qty;", db);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_NE(f[0].message.find("pos: CHECK (VALUE > 0)"), std::string::npos) << f[0].message;
    // The base type of qty is pos's: a column of it needs no rewrite.
    EXPECT_NE(f[0].suggestion.find("ADD COLUMN x int4;"), std::string::npos) << f[0].suggestion;
    EXPECT_FALSE(Fires(kDomainRule, create + "ALTER TABLE t ADD COLUMN x label;", db));
    // ALTER DOMAIN ... ADD CONSTRAINT / SET NOT NULL constrains it from then on.
    EXPECT_TRUE(Fires(kDomainRule,
                      create + "ALTER DOMAIN label SET NOT NULL;\n"
                               "ALTER TABLE t ADD COLUMN x label DEFAULT 'a';",
                      db));
    // A table the file creates is empty: nothing to rewrite.
    EXPECT_FALSE(Fires(kDomainRule,
                       create + "CREATE TABLE n (id int);\nALTER TABLE n ADD COLUMN x pos;", db));
  }
  // A domain of the database over which the file builds its own.
  EXPECT_TRUE(
      Fires(kDomainRule, "CREATE DOMAIN mine AS d_check;\nALTER TABLE t ADD COLUMN x mine;"));
  EXPECT_TRUE(Fires(kDomainRule,
                    "ALTER DOMAIN d_plain ADD CONSTRAINT small CHECK (VALUE < 10);\n"
                    "ALTER TABLE t ADD COLUMN x d_plain;"));
  // Without --db a database domain is unknown: silent, as before.
  EXPECT_FALSE(Fires(kDomainRule, "ALTER TABLE t ADD COLUMN x d_check;", false));
}

TEST_F(DomainTypesDb, TypeChangesThroughDomainsFollowTheBaseTypes) {
  struct Case {
    const char* sql;
    bool fires;
    const char* says;
  } cases[] = {
      // Measured on PG 15 (relfilenode): catalog-only.
      {"ALTER COLUMN t TYPE d_text", false, ""},
      {"ALTER COLUMN v TYPE d_text", false, ""},
      {"ALTER COLUMN v TYPE d_vc40", false, ""},
      {"ALTER COLUMN i TYPE d_plain", false, ""},
      {"ALTER COLUMN dt TYPE text", false, ""},
      {"ALTER COLUMN dc TYPE text", false, ""},
      {"ALTER COLUMN dc TYPE d_text", false, ""},
      {"ALTER COLUMN dc TYPE d_text_check", false, ""},
      {"ALTER COLUMN m TYPE mood", false, ""},
      {"ALTER COLUMN dt TYPE varchar", false, ""},
      // ... rewrites.
      {"ALTER COLUMN t TYPE d_text_check", true, "domain public.d_text_check has constraints"},
      {"ALTER COLUMN dt TYPE d_text_check", true, "has constraints"},
      {"ALTER COLUMN i TYPE d_check", true, "d_check: CHECK ((VALUE > 0))"},
      {"ALTER COLUMN i TYPE d_over_check", true, "has constraints"},
      {"ALTER COLUMN t TYPE d_vc40", true, "public.d_vc40 is a domain over character varying(40)"},
      {"ALTER COLUMN i TYPE d_big", true, "public.d_big is a domain over bigint"},
      {"ALTER COLUMN dt TYPE varchar(10)", true, "public.d_text is a domain over text"},
      {"ALTER COLUMN m TYPE text", true, "enum values"},
      {"ALTER COLUMN t TYPE d_text[]", true, "ArrayCoerceExpr"},
      {"ALTER COLUMN h TYPE integer", false, ""},  // other.hidden, qualified by format_type
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.sql);
    std::vector<Finding> f =
        Check("changing-column-type", std::string("ALTER TABLE t ") + c.sql + ";");
    EXPECT_EQ(!f.empty(), c.fires) << (f.empty() ? "" : f[0].message);
    if (!f.empty()) {
      EXPECT_NE(f[0].message.find(c.says), std::string::npos) << f[0].message;
      bool has_source = false;
      for (const auto& e : f[0].evidence) has_source |= e.key == "type_source";
      EXPECT_TRUE(has_source);
    }
  }
  // A domain the file creates is the new type's truth.
  EXPECT_TRUE(Fires("changing-column-type",
                    "CREATE DOMAIN short AS text CHECK (length(VALUE) < 5);\n"
                    "ALTER TABLE t ALTER COLUMN t TYPE short;"));
  EXPECT_FALSE(Fires("changing-column-type",
                     "CREATE DOMAIN free AS text;\nALTER TABLE t ALTER COLUMN t TYPE free;"));
  // Without --db nothing changes: the old type is unknown, a rewrite assumed.
  EXPECT_TRUE(Fires("changing-column-type", "ALTER TABLE t ALTER COLUMN t TYPE d_text;", false));
}

TEST(DomainTypeModel, TypeRefsReadFormatTypeAndSqlSpellings) {
  using sqlrules::TypeRefOf;
  EXPECT_TRUE(TypeRefOf("character varying(20)").builtin);
  EXPECT_TRUE(TypeRefOf("timestamp(3) without time zone").builtin);
  sqlrules::TypeRef r = TypeRefOf("other.\"My Domain\"[]");
  EXPECT_FALSE(r.builtin);
  EXPECT_EQ(r.schema, "other");
  EXPECT_EQ(r.name, "My Domain");
  EXPECT_TRUE(r.array);
  r = TypeRefOf("Public.D_Check");
  EXPECT_EQ(r.schema, "public");
  EXPECT_EQ(r.name, "d_check");
}

TEST_F(DomainTypesDb, TypeNamesAreCollectedOncePerFileAndSkipBuiltins) {
  SqlFile f;
  ASSERT_TRUE(ParseSqlFile(SourceText("m.sql",
                                      "ALTER TABLE t ADD COLUMN a d_check, ADD COLUMN b integer;\n"
                                      "ALTER TABLE t ALTER COLUMN m TYPE text;\n"
                                      "ALTER TABLE t ALTER COLUMN v TYPE other.x[];\n"
                                      "CREATE DOMAIN mine AS base_dom;\n"
                                      "SELECT 1::my_cast_type;\n"),
                           &f)
                  .ok());
  std::map<std::string, SqlTableInfo> tables = Tables();
  EXPECT_EQ(SqlTypeNames(f, &tables), (std::set<std::string>{"base_dom", "d_check", "mood", "x"}));
  EXPECT_EQ(SqlTypeNames(f, nullptr), (std::set<std::string>{"base_dom", "d_check", "x"}));
}

TEST(SqlRulesFormat, PrettySizes) {
  EXPECT_EQ(PrettyBytes(8192), "8192 bytes");
  EXPECT_EQ(PrettyBytes(int64_t{38} << 30), "38 GB");
  EXPECT_EQ(PrettyRows(120e6), "120M rows");
  EXPECT_EQ(PrettyRows(950), "950 rows");
}

}  // namespace
}  // namespace pgvise
