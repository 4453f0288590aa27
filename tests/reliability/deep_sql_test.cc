// Reliability: deeply nested SQL never crashes a command (issue 15).
//
// Every walk of a parse tree recurses (the facts extractor, libpg_query's JSON
// and protobuf printers, protobuf-c, the rewriter), so `SELECT 1+1+...+1` with
// 20,000 terms used to overflow the stack: SIGSEGV in review, explain --sql,
// advise -w and (from 5,000 terms) rewrite. The contract: exit 2 and one
// located line, or a correct result; never a signal. ParseStatementFacts
// measures each statement's depth once, without recursion, and refuses one
// deeper than kMaxNestingDepth (analyzer/sql/statement.h) as unparsed.
//
// Each pathological statement is written to a file as its second line (after
// an ordinary one, so the location is checked to be the statement's own) and
// fed to the real binary: review (text and JSON), explain --sql --db, advise
// -w --db and rewrite. A statement exactly at the limit is analysed normally
// by all of them, one level more is refused.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analyzer/sql/pg_tree.h"
#include "analyzer/sql/statement.h"
#include "tests/review_cli.h"

namespace fs = std::filesystem;

namespace pgvise::testing {
namespace {

using json = nlohmann::json;

std::string Repeat(const std::string& s, int n) {
  std::string out;
  out.reserve(s.size() * n);
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// `SELECT 1+1+...+1`: a left-nested A_Expr chain, 2 levels per term.
std::string Plus(int n) { return "SELECT 1" + Repeat("+1", n - 1); }
// The same chain inside a WHERE over a real table (something advise plans).
std::string PlusWhere(int n) { return "SELECT * FROM t WHERE a = 1" + Repeat("+1", n - 1); }
std::string Concat(int n) { return "SELECT 'a'" + Repeat("||'a'", n - 1); }
std::string UnionAll(int n) {
  return "SELECT a FROM t" + Repeat(" UNION ALL SELECT a FROM t", n - 1);
}
std::string Joins(int n) { return "SELECT 1 FROM t t0" + Repeat(" JOIN t USING (a)", n); }
std::string Subqueries(int n) { return "SELECT " + Repeat("(SELECT ", n) + "1" + Repeat(")", n); }
std::string Parens(int n) { return "SELECT " + Repeat("(", n) + "1" + Repeat(")", n); }
std::string AndChain(int n) { return "SELECT a FROM t WHERE a = 1" + Repeat(" AND a = 1", n - 1); }
std::string OrChain(int n) { return "SELECT a FROM t WHERE a = 1" + Repeat(" OR a = 2", n - 1); }
std::string LongCase(int n) {
  std::string s = "SELECT CASE";
  for (int i = 0; i < n; ++i) s += " WHEN a = " + std::to_string(i) + " THEN " + std::to_string(i);
  return s + " END FROM t";
}

int Depth(const std::string& sql) {
  pgtree::PgTree tree(sql);
  EXPECT_TRUE(tree.ok()) << tree.message();
  return tree.ok() ? tree.MaxDepth() : -1;
}

// The largest n whose statement nests at most `depth` levels.
int TermsForDepth(const std::function<std::string(int)>& gen, int depth) {
  int n = 1;
  while (Depth(gen(n + 1)) <= depth) ++n;
  return n;
}

const char* const kFirst = "SELECT a FROM t WHERE a = 5;\n";

class DeepSql : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    uri_ = new std::string(FreshDatabase("rel_deep_sql"));
    dir_ = new std::string(TempDir("deep"));
    Exec(*uri_, R"sql(
      CREATE TABLE t (a int, b int);
      INSERT INTO t SELECT g % 1000, g FROM generate_series(1, 20000) g;
      ANALYZE t;
    )sql");
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(*dir_, ec);
    delete dir_;
    delete uri_;
  }
  // Writes kFirst and `sql` (line 2) to `name`; returns the name.
  static std::string File(const std::string& name, const std::string& sql) {
    WriteWhole(*dir_ + "/" + name, kFirst + sql + ";\n");
    return name;
  }
  static CmdResult Run(const std::string& args) { return RunPgvise(args, *dir_); }
  static CmdResult Review(const std::string& f, const std::string& extra = "") {
    return Run("review --rules '" + SourceDir() + "/rules' " + extra + " " + f);
  }
  static CmdResult Explain(const std::string& f) {
    return Run("explain --db '" + *uri_ + "' --sql " + f);
  }
  static CmdResult Advise(const std::string& f) {
    return Run("advise --db '" + *uri_ + "' --format json --time-limit 20 -w " + f);
  }
  static CmdResult Rewrite(const std::string& f) { return Run("rewrite " + f); }

  // Never a signal: popen reports one as -1 (or the shell as 128+n).
  static void NoSignal(const CmdResult& r, const std::string& what) {
    EXPECT_TRUE(r.exit == 0 || r.exit == 1 || r.exit == 2)
        << what << ": exit " << r.exit << "\nstdout: " << r.out.substr(0, 500)
        << "\nstderr: " << r.err.substr(0, 500);
  }

  // Every command refuses the statement on line 2 of `f` as too deep: exit 2
  // and one located line (advise: skipped with a note, the rest analysed).
  static void ExpectRefused(const std::string& f) {
    SCOPED_TRACE(f);
    const std::string at = f + ":2:1: ";
    const std::string why = "statement nests ";
    const std::string limit = " levels deep; pgvise analyses statements up to " +
                              std::to_string(kMaxNestingDepth) + " levels";

    CmdResult r = Review(f);
    NoSignal(r, "review");
    EXPECT_EQ(r.exit, 2);
    EXPECT_NE(r.out.find(at + "error: " + why), std::string::npos) << r.out.substr(0, 500);
    EXPECT_NE(r.out.find(limit + " [syntax-error]\n"), std::string::npos);
    EXPECT_EQ(r.err, "");

    r = Review(f, "--format json");
    NoSignal(r, "review --format json");
    EXPECT_EQ(r.exit, 2);
    json j = json::parse(r.out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << r.out.substr(0, 500);
    int deep = 0;
    for (const auto& finding : j["findings"]) {
      if (finding.value("message", "").rfind(why, 0) != 0) continue;
      ++deep;
      EXPECT_EQ(finding["rule"], "syntax-error");
      EXPECT_EQ(finding["severity"], "error");
      EXPECT_EQ(finding["location"]["line"], 2);
      EXPECT_EQ(finding["location"]["column"], 1);
    }
    EXPECT_EQ(deep, 1);

    r = Explain(f);
    NoSignal(r, "explain --sql");
    EXPECT_EQ(r.exit, 2);
    EXPECT_EQ(r.ErrLines(), 1) << r.err;
    EXPECT_EQ(r.err.rfind("pgvise: " + at, 0), 0u) << r.err;
    EXPECT_NE(r.err.find(why), std::string::npos) << r.err;

    r = Rewrite(f);
    NoSignal(r, "rewrite");
    EXPECT_EQ(r.exit, 2);
    EXPECT_EQ(r.ErrLines(), 1) << r.err;
    EXPECT_EQ(r.err.rfind(at + why, 0), 0u) << r.err;
    EXPECT_NE(r.err.find(limit), std::string::npos) << r.err;

    // advise: the deep statement is skipped with a note; the workload's other
    // statement is still analysed.
    r = Advise(f);
    NoSignal(r, "advise -w");
    EXPECT_TRUE(r.exit == 0 || r.exit == 1) << r.exit << " " << r.err;
    j = json::parse(r.out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << r.out.substr(0, 500) << r.err;
    int notes = 0;
    for (const auto& n : j["notes"])
      if (n.get<std::string>().rfind(at + "skipped: " + why, 0) == 0) ++notes;
    EXPECT_EQ(notes, 1) << j["notes"].dump();
  }

  // Every command analyses the statement on line 2 of `f` normally.
  static void ExpectAnalysed(const std::string& f) {
    SCOPED_TRACE(f);
    CmdResult r = Review(f);
    NoSignal(r, "review");
    EXPECT_TRUE(r.exit == 0 || r.exit == 1) << r.out.substr(0, 500);
    EXPECT_EQ(r.out.find("statement nests"), std::string::npos);
    EXPECT_EQ(r.out.find("syntax-error"), std::string::npos);

    // explain --sql EXPLAINs every statement and stops with exit 2 or 3 and
    // a line on stderr at the first it cannot (CountParams walking the
    // statement's parse tree, the server): a clean exit means both were.
    r = Explain(f);
    NoSignal(r, "explain --sql");
    EXPECT_TRUE(r.exit == 0 || r.exit == 1) << r.err;
    EXPECT_EQ(r.ErrLines(), 0) << r.err;
    EXPECT_NE(r.out.find("(1 file checked)"), std::string::npos) << r.out.substr(0, 500);

    r = Rewrite(f);
    NoSignal(r, "rewrite");
    EXPECT_EQ(r.exit, 0) << r.err;
    EXPECT_EQ(r.ErrLines(), 0) << r.err;
    EXPECT_EQ(r.out.rfind("SELECT", 0), 0u) << r.out.substr(0, 200);

    r = Advise(f);
    NoSignal(r, "advise -w");
    EXPECT_TRUE(r.exit == 0 || r.exit == 1) << r.err;
    EXPECT_EQ(r.out.find("statement nests"), std::string::npos);
  }

  static std::string* uri_;
  static std::string* dir_;
};

std::string* DeepSql::uri_ = nullptr;
std::string* DeepSql::dir_ = nullptr;

// The shapes of the issue, each far past the limit: refused, never a crash.
TEST_F(DeepSql, PlusChainOf20000TermsIsRefused) { ExpectRefused(File("plus.sql", Plus(20000))); }

// The rewriter's protobuf path was the first to crash: from ~4,400 terms.
TEST_F(DeepSql, PlusChainOf5000TermsIsRefused) {
  ExpectRefused(File("plus5k.sql", PlusWhere(5000)));
}

TEST_F(DeepSql, UnionAllOf20000BranchesIsRefused) {
  ExpectRefused(File("union.sql", UnionAll(20000)));
}

TEST_F(DeepSql, ConcatChainIsRefused) { ExpectRefused(File("concat.sql", Concat(20000))); }

TEST_F(DeepSql, JoinChainIsRefused) { ExpectRefused(File("joins.sql", Joins(10000))); }

// 2,000 nested subqueries are under the grammar's own limit (below) but
// 14,000 levels deep.
TEST_F(DeepSql, NestedSubqueriesAreRefused) { ExpectRefused(File("subq.sql", Subqueries(2000))); }

// Right-nested input past PostgreSQL's parser stack (10,000 entries) is a
// syntax error from the parser itself, located where it gave up.
TEST_F(DeepSql, HundredThousandParenthesesAreASyntaxError) {
  const std::string f = File("parens.sql", Parens(100000));
  CmdResult r = Review(f);
  NoSignal(r, "review");
  EXPECT_EQ(r.exit, 2);
  EXPECT_NE(r.out.find(f + ":2:10004: error: "), std::string::npos) << r.out.substr(0, 300);
  EXPECT_NE(r.out.find("memory exhausted"), std::string::npos) << r.out.substr(0, 300);
  for (const CmdResult& c : {Explain(f), Rewrite(f)}) {
    NoSignal(c, "explain/rewrite");
    EXPECT_EQ(c.exit, 2);
    EXPECT_EQ(c.ErrLines(), 1) << c.err.substr(0, 300);
    EXPECT_NE(c.err.find(f + ":2:10004: "), std::string::npos) << c.err.substr(0, 300);
  }
  r = Advise(f);
  NoSignal(r, "advise -w");
  EXPECT_TRUE(r.exit == 0 || r.exit == 1) << r.err;
}

// AND/OR chains and CASE branches are lists in the parse tree, not nesting:
// 20,000 of them are analysed, with the right result.
TEST_F(DeepSql, LongAndOrChainsAndCaseAreListsAndAnalysed) {
  EXPECT_LT(Depth(AndChain(20000)), 20);
  EXPECT_LT(Depth(OrChain(20000)), 20);
  EXPECT_LT(Depth(LongCase(20000)), 20);
  for (auto [name, sql] : {std::pair{"and.sql", AndChain(20000)},
                           {"or.sql", OrChain(20000)},
                           {"case.sql", LongCase(20000)}}) {
    const std::string f = File(name, sql);
    SCOPED_TRACE(f);
    CmdResult r = Review(f);
    NoSignal(r, "review");
    EXPECT_TRUE(r.exit == 0 || r.exit == 1);
    EXPECT_EQ(r.out.find("syntax-error"), std::string::npos) << r.out.substr(0, 300);
    r = Rewrite(f);
    NoSignal(r, "rewrite");
    EXPECT_EQ(r.exit, 0) << r.err.substr(0, 300);
    // The statement comes back whole (no pass applies).
    EXPECT_NE(r.out.find(sql.substr(sql.size() - 40)), std::string::npos);
  }
  // explain and advise on the AND chain (a plannable predicate over t).
  const std::string f = "and.sql";
  CmdResult r = Explain(f);
  NoSignal(r, "explain --sql");
  EXPECT_TRUE(r.exit == 0 || r.exit == 1) << r.err.substr(0, 300);
  r = Advise(f);
  NoSignal(r, "advise -w");
  EXPECT_TRUE(r.exit == 0 || r.exit == 1) << r.err.substr(0, 300);
}

// At the limit everything works (CountParams' recursive walk included); one
// level more is refused.
TEST_F(DeepSql, StatementAtTheLimitIsAnalysedOneMoreIsRefused) {
  for (auto [name, gen] : {std::pair<std::string, std::function<std::string(int)>>{"pw", PlusWhere},
                           {"un", UnionAll}}) {
    const int n = TermsForDepth(gen, kMaxNestingDepth);
    // A `+1` adds 2 levels: the chain reaches the limit or one short of it.
    ASSERT_GE(Depth(gen(n)), kMaxNestingDepth - 1) << name;
    ExpectAnalysed(File(name + "_at.sql", gen(n)));
    ASSERT_GT(Depth(gen(n + 1)), kMaxNestingDepth);
    ExpectRefused(File(name + "_over.sql", gen(n + 1)));
  }
}

}  // namespace
}  // namespace pgvise::testing
