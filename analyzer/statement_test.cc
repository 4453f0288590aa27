#include "analyzer/statement.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace pgvise
