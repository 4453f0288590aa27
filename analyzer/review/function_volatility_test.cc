// The function volatility model (function_volatility.h): resolution like
// the parser's, inlining of LANGUAGE sql bodies, CREATE FUNCTION of the file,
// and the rule adding-field-with-volatile-default with a hand-built pg_proc.
#include "analyzer/review/function_volatility.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <variant>
#include <vector>

#include "analyzer/review/sql_rules_test_fixture.h"

namespace pgvise {
namespace {

// adding-field-with-volatile-default with --db: volatility from a hand-built
// pg_proc (what cmd_review's one query returns), no database needed.
class FunctionVolatilityDb : public SqlRulesTest {
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

TEST_F(FunctionVolatilityDb, ResolvesLikeTheParser) {
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
TEST_F(FunctionVolatilityDb, TheFilesSearchPathDecidesWhichFunctionIsCalled) {
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

TEST_F(FunctionVolatilityDb, UserVolatileFunctionFiresAndSaysPgProc) {
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

TEST_F(FunctionVolatilityDb, ImmutableAndStableDefaultsDoNotRewrite) {
  EXPECT_TRUE(Check("ALTER TABLE t ADD COLUMN c text DEFAULT my_schema.fixed_code();").empty());
  EXPECT_TRUE(Check("ALTER TABLE t ADD COLUMN c text DEFAULT my_schema.stable_code();").empty());
  EXPECT_TRUE(Check("ALTER TABLE t ADD COLUMN c timestamptz DEFAULT now();").empty());
  EXPECT_TRUE(Check("ALTER TABLE t ADD COLUMN c timestamptz DEFAULT CURRENT_TIMESTAMP;").empty());
  EXPECT_TRUE(Check("ALTER TABLE t ADD COLUMN c text DEFAULT upper('x');").empty());
  // public.code() hides the volatile app.code().
  EXPECT_TRUE(Check("ALTER TABLE t ADD COLUMN c text DEFAULT code();").empty());
  EXPECT_EQ(Check("ALTER TABLE t ADD COLUMN c text DEFAULT app.code();").size(), 1u);
}

TEST_F(FunctionVolatilityDb, InlinableSqlFunctionsAreJudgedByTheirBody) {
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

TEST_F(FunctionVolatilityDb, FunctionsCreatedEarlierInTheFileAreJudgedByTheirDeclaration) {
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

TEST(FunctionVolatility, ReadsVolatilityArgumentsAndInlinability) {
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

TEST_F(FunctionVolatilityDb, DisagreeingOverloadsAreVolatileAndSaySo) {
  std::vector<Finding> f = Check("ALTER TABLE t ADD COLUMN c text DEFAULT pick('x');");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0].message.find("overloads in pg_proc that disagree"), std::string::npos)
      << f[0].message;
  EXPECT_EQ(Evidence(f[0], "volatility_source"), "pg_proc: overloads disagree");
}

TEST_F(FunctionVolatilityDb, BuiltinsComeFromPgProcAndUnknownNamesFromTheList) {
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

TEST_F(FunctionVolatilityDb, FunctionNamesAreCollectedFromAddColumnDefaultsOnly) {
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

}  // namespace
}  // namespace pgvise
