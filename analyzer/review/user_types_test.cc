// The domain and enum model (user_types.h): type names as written and as
// format_type prints them, and the rules adding-column-with-constrained-domain
// and changing-column-type with a hand-built pg_type.
#include "analyzer/review/user_types.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "analyzer/review/sql_rules_test_fixture.h"

namespace pgvise {
namespace {

// Domains and enums, from a hand-built pg_type map (no database): what the
// one pg_type query of review --db would have returned. search_path =
// pg_catalog (1), public (2); `other` is not on it.
class UserTypesDb : public SqlRulesTest {
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

TEST_F(UserTypesDb, AddColumnFiresForEveryConstrainedDomainWithOrWithoutDefault) {
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

TEST_F(UserTypesDb, AddColumnMessageNamesTheConstraintsAndTheFailingNull) {
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

TEST_F(UserTypesDb, DomainsOfTheFileCountWithAndWithoutDb) {
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

TEST_F(UserTypesDb, TypeChangesThroughDomainsFollowTheBaseTypes) {
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

TEST(UserTypes, TypeRefsReadFormatTypeAndSqlSpellings) {
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

TEST_F(UserTypesDb, TypeNamesAreCollectedOncePerFileAndSkipBuiltins) {
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

}  // namespace
}  // namespace pgvise
