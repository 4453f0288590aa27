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

TEST(Fingerprint, IgnoresConstants) {
  EXPECT_EQ(Fingerprint("SELECT * FROM t WHERE a = 1"), Fingerprint("SELECT * FROM t WHERE a = 2"));
  EXPECT_NE(Fingerprint("SELECT * FROM t WHERE a = 1"), Fingerprint("SELECT * FROM t WHERE b = 1"));
  EXPECT_EQ(Normalize("SELECT * FROM t WHERE a = 1"), "SELECT * FROM t WHERE a = $1");
}

}  // namespace
}  // namespace pgvise
