// The column type change model (column_type_change.h): format_type and SQL
// spellings, every verdict against what PostgreSQL 15 did, and the rule
// changing-column-type with the old type from a hand-built catalog.
#include "analyzer/review/column_type_change.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <variant>
#include <vector>

#include "analyzer/review/sql_rules_test_fixture.h"

namespace pgvise {
namespace {

// ---- changing-column-type with the old type from the catalog (--db) ------
//
// The expected verdicts are what PostgreSQL 15 did when each ALTER ran on a
// real table (pg_class.relfilenode compared before/after, and the index's
// relfilenode for "indexes rebuilt"); tests/review_cli_pg_test.cc re-checks
// them against the server.

TEST(ColumnTypeChange, ParsesFormatTypeAndSqlSpellings) {
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

TEST(ColumnTypeChange, MatchesWhatPostgres15Does) {
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

TEST(ColumnTypeChange, TimestampToTimestamptzDependsOnTheSessionTimeZone) {
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

TEST(ColumnTypeChange, UnknownTypesAreAssumedToRewrite) {
  auto v = sqlrules::ClassifyTypeChange(sqlrules::ParseColumnType("shop.email_address"),
                                        sqlrules::ParseColumnType("text"), false);
  EXPECT_EQ(v.kind, sqlrules::TypeChange::kUnknown);
  v = sqlrules::ClassifyTypeChange(sqlrules::ParseColumnType("shop.email_address"),
                                   sqlrules::ParseColumnType("shop.email_address"), false);
  EXPECT_EQ(v.kind, sqlrules::TypeChange::kSame);
}

class ColumnTypeChangeDb : public SqlRulesTest {
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

TEST_F(ColumnTypeChangeDb, WideningVarcharIsCatalogOnlyAndDoesNotFire) {
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

TEST_F(ColumnTypeChangeDb, RewriteNamesOldAndNewTypeAndTableSize) {
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

TEST_F(ColumnTypeChangeDb, NarrowingAndConvertingChangesFire) {
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

TEST_F(ColumnTypeChangeDb, UsingExpressionAlwaysRewrites) {
  std::vector<Finding> f =
      Check("ALTER TABLE users ALTER COLUMN name TYPE varchar(40) USING lower(name);");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0].message.find("USING"), std::string::npos) << f[0].message;
  EXPECT_EQ(Check("ALTER TABLE users ALTER COLUMN name TYPE varchar(40) USING name::text;").size(),
            1u);
}

TEST_F(ColumnTypeChangeDb, TimestampToTimestamptzFollowsTheFilesTimeZone) {
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

TEST_F(ColumnTypeChangeDb, EarlierChangesInTheFileAreTheOldType) {
  std::vector<Finding> f = Check(
      "ALTER TABLE users ALTER COLUMN name TYPE varchar(40);\n"
      "ALTER TABLE users ALTER COLUMN name TYPE varchar(30);\n");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].location.line, 3);
  EXPECT_NE(f[0].message.find("from varchar(40) to varchar(30)"), std::string::npos)
      << f[0].message;
}

TEST_F(ColumnTypeChangeDb, ColumnUnknownToTheCatalogKeepsTheBlindRule) {
  std::vector<Finding> f = Check("ALTER TABLE users ALTER COLUMN nickname TYPE varchar(40);");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0].message.find("unless the old type is binary-coercible"), std::string::npos);
  EXPECT_TRUE(Check("ALTER TABLE users ALTER COLUMN nickname TYPE text;").empty());
  // A collation change keeps the data but reorders indexes on the column.
  f = Check("ALTER TABLE users ALTER COLUMN name TYPE varchar(20) COLLATE \"C\";");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0].message.find("indexes on name"), std::string::npos) << f[0].message;
}

}  // namespace
}  // namespace pgvise
