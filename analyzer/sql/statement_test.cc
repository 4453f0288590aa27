#include "analyzer/sql/statement.h"
#include "analyzer/review/sql_rule_tree.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "analyzer/plan/explain_runner.h"
#include "analyzer/plan/plan_rules.h"
#include "analyzer/sql/pg_tree.h"
#include "analyzer/sql/query_facts.h"

namespace pgvise {
namespace {

TEST(ParseSqlFile, SplitsWithPositionsAndKeepsGoingPastErrors) {
  SqlFile f;
  ASSERT_TRUE(ParseSqlFile(SourceText("m.sql",
                                      "-- header\n"
                                      "CREATE TABLE a (id int);\n"
                                      "\n"
                                      "  CREATE TABL b (id int);\n"
                                      "SELECT * FROM a; -- pgvise-ignore: select-star\n"
                                      "-- pgvise: calls=500\n"
                                      "SELECT 1"),
                           &f)
                  .ok());
  ASSERT_EQ(f.statements.size(), 4u);
  EXPECT_EQ(f.statements[0].pos.line, 2);
  EXPECT_EQ(f.statements[0].pos.column, 1);
  EXPECT_TRUE(f.statements[0].parsed);
  EXPECT_EQ(f.statements[0].sql, "CREATE TABLE a (id int)");
  EXPECT_FALSE(f.statements[1].parsed);
  EXPECT_EQ(f.statements[1].pos.line, 4);
  EXPECT_EQ(f.statements[1].pos.column, 3);
  EXPECT_EQ(f.source.Where(f.statements[1].error_offset), "m.sql:4:10");
  EXPECT_NE(f.statements[1].error.find("syntax error at or near \"TABL\""), std::string::npos);
  EXPECT_TRUE(f.statements[2].Ignores("select-star"));
  EXPECT_FALSE(f.statements[3].Ignores("select-star"));
  EXPECT_EQ(f.statements[3].annotations.at("calls"), "500");
  EXPECT_TRUE(f.statements[3].parsed);
}

TEST(ParseSqlFile, UnterminatedStringIsOneErrorWithLocation) {
  SqlFile f;
  Status st = ParseSqlFile(SourceText("q.sql", "SELECT 1;\nSELECT 'abc"), &f);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("q.sql:2:"), std::string::npos) << st.message();
}

TEST(ParseSqlFile, TextTheScannerDropsBecomesAnUnparsedStatement) {
  SqlFile f;
  ASSERT_TRUE(ParseSqlFile(SourceText("d.sql", "SELECT 1;\nSELEC 3;\nDELETE FROM t;\n"), &f).ok());
  ASSERT_EQ(f.statements.size(), 3u);
  EXPECT_TRUE(f.statements[0].parsed);
  EXPECT_FALSE(f.statements[1].parsed);
  EXPECT_EQ(f.statements[1].sql, "SELEC 3");
  EXPECT_EQ(f.source.Where(f.statements[1].offset), "d.sql:2:1");
  EXPECT_TRUE(f.statements[2].parsed);
  EXPECT_EQ(f.statements[2].sql, "DELETE FROM t");

  // An unbalanced parenthesis swallows the rest: still one located error.
  ASSERT_TRUE(ParseSqlFile(SourceText("p.sql", "SELECT (1; DELETE FROM t;"), &f).ok());
  ASSERT_EQ(f.statements.size(), 1u);
  EXPECT_FALSE(f.statements[0].parsed);
  EXPECT_EQ(f.source.Where(f.statements[0].offset), "p.sql:1:1");
}

// Every way PostgreSQL lets a ';' sit inside a statement without ending it.
TEST(ParseSqlFile, SemicolonsInsideQuotesCommentsParensAndAtomicBodiesDoNotSplit) {
  const std::string text =
      "SELECT E'it\\'s; here' AS a, 'x''y;' AS b, $$ ; $$ AS c, $tag$ $$ ; $tag$ AS d;\n"
      "SELECT \"we;ird\"\"name\" FROM t /* a ; /* nested ; */ still ; */ WHERE x = $1;\n"
      "CREATE FUNCTION f(a int) RETURNS int LANGUAGE plpgsql AS $fn$ BEGIN RETURN a; END; $fn$;\n"
      "SELECT foo$bar$ FROM t;\n"
      "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO u VALUES (1); INSERT INTO u VALUES "
      "(2));\n"
      "CREATE OR REPLACE FUNCTION g(a int) RETURNS int LANGUAGE sql\n"
      "BEGIN ATOMIC SELECT a + 1; SELECT CASE WHEN a > 0 THEN 1 ELSE 2 END; END;\n"
      "BEGIN;\n"
      "SELECT 1;\n"
      "END;\n";
  SqlFile f;
  ASSERT_TRUE(ParseSqlFile(SourceText("q.sql", text), &f).ok());
  ASSERT_EQ(f.statements.size(), 9u);
  for (const Statement& s : f.statements) EXPECT_TRUE(s.parsed) << s.sql << ": " << s.error;
  EXPECT_EQ(f.statements[3].sql, "SELECT foo$bar$ FROM t");
  EXPECT_EQ(f.source.Where(f.statements[5].offset), "q.sql:6:1");
  EXPECT_EQ(f.statements[5].sql.substr(f.statements[5].sql.size() - 4), " END");
  EXPECT_EQ(f.statements[6].sql, "BEGIN");
  EXPECT_EQ(f.statements[8].sql, "END");
}

TEST(ParseSqlFile, UnterminatedQuotesAndCommentsSayWhereTheyStartOnOneLine) {
  struct Case {
    const char* text;
    const char* where;
    const char* what;
  } cases[] = {
      {"SELECT 1;\nSELECT $$abc;\nSELECT 2;", "u.sql:2:8", "unterminated dollar-quoted string"},
      {"SELECT 1 /* a /* b */;\n", "u.sql:1:10", "unterminated /* comment"},
      {"SELECT \"abc;\n\n", "u.sql:1:8", "unterminated quoted identifier"},
      {"SELECT E'\\';\n", "u.sql:1:9", "unterminated quoted string"},
  };
  for (const Case& c : cases) {
    SqlFile f;
    Status st = ParseSqlFile(SourceText("u.sql", c.text), &f);
    ASSERT_FALSE(st.ok()) << c.text;
    EXPECT_EQ(st.message().rfind(std::string(c.where) + ": " + c.what, 0), 0u) << st.message();
    EXPECT_EQ(st.message().find('\n'), std::string::npos) << st.message();
  }
}

TEST(Fingerprint, IgnoresConstants) {
  EXPECT_EQ(Fingerprint("SELECT * FROM t WHERE a = 1"), Fingerprint("SELECT * FROM t WHERE a = 2"));
  EXPECT_NE(Fingerprint("SELECT * FROM t WHERE a = 1"), Fingerprint("SELECT * FROM t WHERE b = 1"));
  EXPECT_EQ(Normalize("SELECT * FROM t WHERE a = 1"), "SELECT * FROM t WHERE a = $1");
}

// --- nesting depth (issue 15: deep statements overflowed the stack) ---

std::string Repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// The nesting of libpg_query's JSON text: open brackets outside strings.
int JsonDepth(const std::string& json) {
  int depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return deepest;
}

// NestingDepth counts what the JSON shows: libpg_query's document adds 3
// levels ({"stmts": [{"stmt": ...}]}) above the statement, so libpg_query's
// JSON of any statement admitted stays within simdjson's 1,024 levels.
TEST(NestingDepth, IsTheJsonNestingOfTheStatement) {
  for (const std::string sql :
       {"SELECT 1", "SELECT 1+1+1", "SELECT a FROM t WHERE a = 1 AND b IN (1, 2)",
        "SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3",
        "SELECT (SELECT max(x) FROM u WHERE u.a = t.a) FROM t JOIN v USING (a)",
        "INSERT INTO t VALUES (1, 'a'), (2, NULL) ON CONFLICT (a) DO UPDATE SET b = 1",
        "CREATE TABLE t (a int PRIMARY KEY, b text DEFAULT 'x' CHECK (b <> ''))",
        "SELECT CASE WHEN a THEN ARRAY[[1,2],[3,4]] END, f(VARIADIC ARRAY[1]) FROM t",
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION SELECT n + 1 FROM r) SELECT * FROM r"}) {
    SCOPED_TRACE(sql);
    std::string json;
    size_t pos = 0;
    ASSERT_TRUE(ParseSqlToJson(sql, &json, &pos).ok());
    pgtree::PgTree tree(sql);
    ASSERT_TRUE(tree.ok());
    EXPECT_EQ(tree.MaxDepth() + 3, JsonDepth(json)) << json;
  }
  // 2 levels per term of a left-nested chain, 1 per UNION ALL branch.
  EXPECT_EQ(pgtree::PgTree("SELECT 1" + Repeat("+1", 99)).MaxDepth(),
            pgtree::PgTree("SELECT 1").MaxDepth() + 2 * 99);
  EXPECT_EQ(pgtree::PgTree("SELECT 1" + Repeat(" UNION ALL SELECT 1", 99)).MaxDepth(),
            pgtree::PgTree("SELECT 1 UNION ALL SELECT 1").MaxDepth() + 98);
}

// kShortStatementBytes skips the depth walk on the assumption that no
// statement nests more than 4 levels per byte (plus 16). The densest shapes
// found stay under 2.
TEST(NestingDepth, DensestShapesStayUnderTwoLevelsPerByte) {
  for (int n : {1, 10, 300}) {
    const std::string shapes[] = {
        "SELECT 1" + Repeat("+1", n),
        "SELECT a[" + Repeat("a[", n) + "1" + Repeat("]", n) + "]",
        "SELECT ARRAY" + Repeat("[", n) + "1" + Repeat("]", n),
        "SELECT " + Repeat("f(", n) + "1" + Repeat(")", n),
        "SELECT " + Repeat("t(", n) + "1" + Repeat(")", n),
        "SELECT " + Repeat("-(", n) + "a" + Repeat(")", n),
        "SELECT " + Repeat("(SELECT ", n) + "1" + Repeat(")", n),
        "SELECT " + Repeat("a IN(", n) + "1" + Repeat(")", n),
        "SELECT " + Repeat("(1,", n) + "1" + Repeat(")", n),
        "SELECT 1" + Repeat("::t", n),
        "SELECT a" + Repeat("->a", n),
        "SELECT " + Repeat("NOT ", n) + "a",
        "SELECT 1 FROM t" + Repeat(" JOIN t ON a", n),
        "SELECT 1" + Repeat(" UNION SELECT 1", n),
        "TABLE t",
        "SELECT *",
    };
    for (const std::string& sql : shapes) {
      pgtree::PgTree tree(sql);
      ASSERT_TRUE(tree.ok()) << sql;
      EXPECT_LE(tree.MaxDepth(), 2 * static_cast<int>(sql.size())) << sql;
      if (sql.size() <= kShortStatementBytes) {
        EXPECT_LT(tree.MaxDepth(), kMaxNestingDepth);
      }
    }
  }
}

TEST(ParseSqlFile, RefusesAStatementNestedPastTheLimitAtItsStart) {
  // 20,000 terms overflowed the facts walker's stack (SIGSEGV).
  SqlFile f;
  const std::string text = "SELECT 1;\n\n  SELECT 1" + Repeat("+1", 19999) + ";\nSELECT 2";
  ASSERT_TRUE(ParseSqlFile(SourceText("q.sql", text), &f).ok());
  ASSERT_EQ(f.statements.size(), 3u);
  EXPECT_TRUE(f.statements[0].parsed);
  const Statement& deep = f.statements[1];
  EXPECT_FALSE(deep.parsed);
  EXPECT_TRUE(deep.too_deep);
  EXPECT_EQ(f.source.Where(deep.error_offset), "q.sql:3:3");
  EXPECT_EQ(deep.error,
            "statement nests 40006 levels deep; pgvise analyses statements up to 1000 levels");
  ASSERT_TRUE(deep.facts);
  EXPECT_EQ(deep.facts->kind, QueryFacts().kind);  // nothing extracted
  EXPECT_TRUE(f.statements[2].parsed);
  EXPECT_FALSE(f.statements[2].too_deep);
  // A syntax error is not "too deep".
  ASSERT_TRUE(ParseSqlFile(SourceText("e.sql", "SELEC 1"), &f).ok());
  EXPECT_FALSE(f.statements[0].parsed);
  EXPECT_FALSE(f.statements[0].too_deep);
}

TEST(CheckNestingDepth, AdmitsTheLimitAndRefusesOneLevelMore) {
  // A UNION ALL branch is one level: find the statement exactly at the limit.
  std::string sql = "SELECT 1";
  while (pgtree::PgTree(sql).MaxDepth() < kMaxNestingDepth) sql += " UNION ALL SELECT 1";
  ASSERT_EQ(pgtree::PgTree(sql).MaxDepth(), kMaxNestingDepth);
  QueryFacts facts;
  size_t pos = 7;
  EXPECT_TRUE(CheckNestingDepth(sql, &pos).ok());
  EXPECT_TRUE(ParseStatementFacts(sql, &facts, &pos).ok());
  EXPECT_EQ(facts.kind, StatementKind::kSelect);
  sql += " UNION ALL SELECT 1";
  Status st = CheckNestingDepth(sql, &pos);
  EXPECT_EQ(st.code(), Status::Code::kUnsupported);
  EXPECT_EQ(pos, 0u);
  EXPECT_EQ(st.message(), TooDeepMessage(kMaxNestingDepth + 1));
  pos = 7;
  st = ParseStatementFacts(sql, &facts, &pos);
  EXPECT_EQ(st.code(), Status::Code::kUnsupported);
  EXPECT_EQ(pos, 0u);
  // A syntax error keeps its own message and position.
  st = CheckNestingDepth("SELECT * FORM t", &pos);
  EXPECT_EQ(st.code(), Status::Code::kInvalidInput);
  EXPECT_EQ(pos, 9u);
}

// The review rules' second look at a statement (a function body from pg_proc
// never passed the file-level guard) refuses what the guard refuses, instead
// of letting the rules' recursive walks overflow the stack.
TEST(CheckNestingDepth, TheRulesSecondLookRefusesTooDeepStatements) {
  std::string sql = "SELECT 1";
  for (int i = 0; i < 20000; ++i) sql += "+1";
  sqlrules::OneStatement deep(sql);
  pgtree::object body;
  EXPECT_FALSE(deep.stmt("SelectStmt", &body));
  sqlrules::OneStatement fine("SELECT 1+1");
  EXPECT_TRUE(fine.stmt("SelectStmt", &body));
}

// The other recursive PgTree walks check the depth first too: CountParams
// refuses (Unsupported) and AnalyzeCondition does not read the condition.
TEST(CheckNestingDepth, CountParamsAndAnalyzeConditionRefuseTooDeepStatements) {
  std::string terms;
  for (int i = 0; i < 20000; ++i) terms += "+$1";
  int n = -1;
  Status st = CountParams("SELECT 1" + terms, &n);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("levels deep"), std::string::npos) << st.message();
  ASSERT_TRUE(CountParams("SELECT 1+$1+$2", &n).ok());
  EXPECT_EQ(n, 2);
  EXPECT_FALSE(AnalyzeCondition("(a = 1" + terms + ")").parsed);
  EXPECT_TRUE(AnalyzeCondition("(a = 1+$1)").parsed);
}

}  // namespace
}  // namespace pgvise
