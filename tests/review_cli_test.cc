// Command-level tests of `pgvise review` and `pgvise rules` without a
// database: bad input of every kind (each a one-line error with its location
// and exit code 2, nothing on stdout), exit codes under --fail-on, inputs
// (directories, stdin, -o), and the rule book consistency check at start-up.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/review_cli.h"

namespace fs = std::filesystem;

namespace pgvise::testing {
namespace {

using json = nlohmann::json;

class ReviewCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { dir_ = new std::string(TempDir("cli")); }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(*dir_, ec);
    delete dir_;
  }
  static std::string Path(const std::string& name) { return *dir_ + "/" + name; }
  static std::string File(const std::string& name, const std::string& text) {
    WriteWhole(Path(name), text);
    return Path(name);
  }
  static std::string Rules() { return " --rules '" + SourceDir() + "/rules' "; }
  // Runs review in the temp dir, so messages carry short relative paths.
  static CmdResult Review(const std::string& args, const std::string& stdin_file = "") {
    return RunPgvise("review" + Rules() + args, *dir_, stdin_file);
  }
  // An input error: exit 2, exactly one line on stderr naming `where`, no report.
  static void ExpectInputError(const CmdResult& r, const std::string& where) {
    EXPECT_EQ(r.exit, 2) << r.err;
    EXPECT_EQ(r.ErrLines(), 1) << r.err;
    EXPECT_NE(r.err.find(where), std::string::npos) << r.err;
    EXPECT_EQ(r.err.rfind("pgvise: ", 0), 0u) << r.err;
    EXPECT_EQ(r.out, "") << "an input error must not print a partial report";
  }
  static std::string* dir_;
};
std::string* ReviewCli::dir_ = nullptr;

TEST_F(ReviewCli, UnparsableStatementIsAFindingWithLocationAndExit2) {
  File("bad.sql", "SELECT 1;\n\nCREATE TABL users (id int);\nSELECT 2;\n");
  CmdResult r = Review("--format json bad.sql");
  EXPECT_EQ(r.exit, 2) << r.err;
  json doc = json::parse(r.out);
  ASSERT_EQ(doc["findings"].size(), 1u) << r.out;
  const json& f = doc["findings"][0];
  EXPECT_EQ(f["rule"], "syntax-error");
  EXPECT_EQ(f["severity"], "error");
  EXPECT_EQ(f["location"]["file"], "bad.sql");
  EXPECT_EQ(f["location"]["line"], 3);
  EXPECT_EQ(f["location"]["column"], 8);  // at "TABL"
  EXPECT_NE(f["message"].get<std::string>().find("TABL"), std::string::npos);
  r = Review("bad.sql");
  EXPECT_NE(r.out.find("bad.sql:3:8: error: syntax error at or near \"TABL\" [syntax-error]"),
            std::string::npos)
      << r.out;
}

TEST_F(ReviewCli, RestOfTheFileIsStillAnalysedAfterASyntaxError) {
  File("after.sql", "CREATE TABL t (a int);\nDELETE FROM sessions;\n");
  CmdResult r = Review("--format json after.sql");
  EXPECT_EQ(r.exit, 2);
  json doc = json::parse(r.out);
  ASSERT_EQ(doc["findings"].size(), 2u) << r.out;
  EXPECT_EQ(doc["findings"][0]["rule"], "syntax-error");
  EXPECT_EQ(doc["findings"][1]["rule"], "delete-without-where");
  EXPECT_EQ(doc["findings"][1]["location"]["line"], 2);
}

// libpg_query's scanner split drops a statement with no keyword and all text
// after an unbalanced parenthesis; review must not pass such a file.
TEST_F(ReviewCli, TextTheSplitterDropsIsStillASyntaxError) {
  File("nokeyword.sql", "SELECT 1;\nSELEC 3;\nfoo bar;\n");
  CmdResult r = Review("nokeyword.sql");
  EXPECT_EQ(r.exit, 2) << r.out;
  EXPECT_NE(r.out.find("nokeyword.sql:2:1: error: syntax error at or near \"SELEC\""),
            std::string::npos)
      << r.out;
  File("parens.sql", "SELECT 1;\nSELECT (1;\nDELETE FROM t;\n");
  r = Review("parens.sql");
  EXPECT_EQ(r.exit, 2) << r.out;
  EXPECT_NE(r.out.find("parens.sql:2:10: error: syntax error"), std::string::npos) << r.out;
  File("comments.sql", "-- only\n/* comments /* nested */ */ ;;\n SELECT 1; ;\n");
  r = Review("comments.sql");
  EXPECT_EQ(r.exit, 0) << r.out;
}

TEST_F(ReviewCli, UnterminatedStringPointsAtItsStart) {
  File("unterminated.sql", "SELECT 1;\nSELECT 'abc;\n");
  CmdResult r = Review("unterminated.sql");
  EXPECT_EQ(r.exit, 2);
  EXPECT_NE(r.out.find("unterminated.sql:2:8: error: unterminated quoted string"),
            std::string::npos)
      << r.out;
}

TEST_F(ReviewCli, EmptyFile) {
  File("empty.sql", "  \n\n");
  ExpectInputError(Review("empty.sql"), "empty.sql: empty input");
}

TEST_F(ReviewCli, BinaryGarbageNamesTheByte) {
  std::string garbage =
      "SELECT 1;\n\x7f"
      "ELF";
  garbage.push_back('\0');
  garbage += "\x01\x02\xff\xfe";
  File("garbage.sql", garbage);
  ExpectInputError(Review("garbage.sql"), "garbage.sql:2:5: binary data");
}

TEST_F(ReviewCli, NonUtf8FileNamesLineAndColumn) {
  File("latin1.sql", "SELECT 1;\nSELECT 'caf\xe9';\n");  // é in Latin-1
  ExpectInputError(Review("latin1.sql"), "latin1.sql:2:12: invalid UTF-8");
}

TEST_F(ReviewCli, MissingFile) {
  ExpectInputError(Review("no-such-file.sql"), "no-such-file.sql: cannot open");
}

TEST_F(ReviewCli, DirectoryWithoutSqlFiles) {
  fs::create_directories(Path("nosql"));
  File("nosql/readme.txt", "hello");
  ExpectInputError(Review("nosql"), "nosql: is a directory with no .sql files");
}

TEST_F(ReviewCli, DirectoryMeansItsSqlFilesSorted) {
  fs::create_directories(Path("migs/sub"));
  File("migs/002.sql", "SELECT 2;\n");
  File("migs/001.sql", "SELECT 1;\n");
  File("migs/sub/003.sql", "SELEC 3;\n");
  File("migs/notes.txt", "not sql");
  CmdResult r = Review("--format json migs");
  EXPECT_EQ(r.exit, 2) << r.err;  // the syntax error in sub/003.sql
  json doc = json::parse(r.out);
  EXPECT_EQ(doc["inputs"], json({"migs/001.sql", "migs/002.sql", "migs/sub/003.sql"}));
  ASSERT_EQ(doc["findings"].size(), 1u);
  EXPECT_EQ(doc["findings"][0]["location"]["file"], "migs/sub/003.sql");
}

TEST_F(ReviewCli, HundredMegabyteFileFailsWithTheSizeLimit) {
  const std::string big = Path("big.sql");
  {
    std::ofstream f(big, std::ios::binary);
    std::string chunk;
    for (int i = 0; i < 1000; ++i) chunk += "SELECT * FROM orders WHERE id = 12345678;\n";  // 43 kB
    while (f.tellp() < 100ll * 1000 * 1000) f << chunk;
  }
  ExpectInputError(Review("big.sql"), "big.sql: ");
  CmdResult r = Review("big.sql");
  EXPECT_NE(r.err.find("input limit"), std::string::npos) << r.err;
  // The same through a pipe: stdin is read only up to the limit.
  r = Review("-", big);
  ExpectInputError(r, "-: input exceeds");
  fs::remove(big);
}

TEST_F(ReviewCli, UnknownFlagAndBadFormatAreOneLineUsageErrors) {
  File("ok.sql", "SELECT 1;\n");
  CmdResult r = Review("--no-such-flag ok.sql");
  EXPECT_EQ(r.exit, 2);
  EXPECT_EQ(r.ErrLines(), 1) << r.err;
  EXPECT_NE(r.err.find("--no-such-flag"), std::string::npos) << r.err;
  r = Review("--format xml ok.sql");
  EXPECT_EQ(r.exit, 2);
  EXPECT_EQ(r.ErrLines(), 1) << r.err;
  EXPECT_NE(r.err.find("xml"), std::string::npos) << r.err;
  r = Review("--fail-on sometimes ok.sql");
  EXPECT_EQ(r.exit, 2);
  EXPECT_EQ(r.ErrLines(), 1) << r.err;
}

TEST_F(ReviewCli, NoInputIsAUsageError) {
  CmdResult r = Review("");
  EXPECT_EQ(r.exit, 2);
  EXPECT_NE(r.err.find("no input"), std::string::npos) << r.err;
}

TEST_F(ReviewCli, StdinIsDashAndReportGoesToOutputFile) {
  File("stdin.sql", "SELECT 1;\nSELEC 2;\n");
  CmdResult r = Review("--format json -o report.json -", Path("stdin.sql"));
  EXPECT_EQ(r.exit, 2) << r.err;
  EXPECT_EQ(r.out, "");
  json doc = json::parse(ReadWhole(Path("report.json")));
  ASSERT_EQ(doc["findings"].size(), 1u);
  EXPECT_EQ(doc["findings"][0]["location"]["file"], "-");
  EXPECT_EQ(doc["findings"][0]["location"]["line"], 2);
}

TEST_F(ReviewCli, CleanFileExitsZeroAndSaysSo) {
  File("clean.sql", "SELECT 1;\n");
  CmdResult r = Review("clean.sql");
  EXPECT_EQ(r.exit, 0) << r.err;
  EXPECT_EQ(r.out, "no findings (1 file checked)\n");
}

TEST_F(ReviewCli, BadConfigFileNamesItsLine) {
  File("q.sql", "SELECT 1;\n");
  File("bad.pgvise.yaml", "disable:\n  - no-such-rule-anywhere\n");
  ExpectInputError(Review("--config bad.pgvise.yaml q.sql"), "bad.pgvise.yaml:2:");
  ExpectInputError(Review("--config missing.yaml q.sql"), "missing.yaml: cannot open");
}

TEST_F(ReviewCli, RulesDirectoryWithoutHandlerFailsStartUp) {
  // A rule YAML in a reviewed area that no C++ handler implements.
  const std::string rules = Path("rules-extra");
  fs::create_directories(rules);
  fs::copy(SourceDir() + "/rules", rules, fs::copy_options::recursive);
  fs::create_directories(rules + "/query");
  WriteWhole(rules + "/query/no-handler-for-this.yaml",
             "id: no-handler-for-this\narea: query\nseverity: warning\nsummary: x\n");
  File("q.sql", "SELECT 1;\n");
  CmdResult r = RunPgvise("review --rules rules-extra q.sql", *dir_);
  EXPECT_EQ(r.exit, 2) << r.out;
  EXPECT_EQ(r.ErrLines(), 1) << r.err;
  EXPECT_NE(r.err.find("no-handler-for-this"), std::string::npos) << r.err;
}

TEST_F(ReviewCli, RulesCommandListsEveryRuleAndShowsOne) {
  CmdResult r = RunPgvise("rules" + Rules() + "--format json");
  ASSERT_EQ(r.exit, 0) << r.err;
  json list = json::parse(r.out);
  size_t yaml_files = 0;
  for (const auto& e : fs::recursive_directory_iterator(SourceDir() + "/rules"))
    if (e.path().extension() == ".yaml") ++yaml_files;
  EXPECT_EQ(list.size(), yaml_files);
  ASSERT_FALSE(list.empty());
  for (const auto& rule : list) {
    EXPECT_TRUE(rule.contains("area"));
    EXPECT_TRUE(rule.contains("severity"));
    EXPECT_TRUE(rule.contains("enabled"));
    EXPECT_FALSE(rule["summary"].get<std::string>().empty()) << rule["id"];
  }
  const std::string id = list[0]["id"];
  r = RunPgvise("rules" + Rules() + id);
  EXPECT_EQ(r.exit, 0);
  EXPECT_EQ(r.out.rfind(id + "\n", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("rationale:"), std::string::npos) << r.out;
  r = RunPgvise("rules" + Rules() + "no-such-rule");
  EXPECT_EQ(r.exit, 2);
  EXPECT_EQ(r.ErrLines(), 1);
  EXPECT_NE(r.err.find("unknown rule 'no-such-rule'"), std::string::npos);
}

TEST_F(ReviewCli, RulesCommandShowsConfigEffect) {
  CmdResult r = RunPgvise("rules" + Rules() + "--format json");
  ASSERT_EQ(r.exit, 0);
  json list = json::parse(r.out);
  ASSERT_FALSE(list.empty());
  const std::string id = list[0]["id"];
  File("disable.yaml", "disable:\n  - " + id + "\n");
  r = RunPgvise("rules" + Rules() + "--config disable.yaml --format json " + id, *dir_);
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["enabled"], false);
}

// Issue 4: a correlated-subquery finding carries `pgvise rewrite`'s proposal —
// the COUNT-bug-safe LEFT JOIN over a grouped derived table for a count that
// may be 0 — or, for a LIMIT 1 lookup, the pass that refused and why.
TEST_F(ReviewCli, CorrelatedSubqueryFindingCarriesTheRewriteOrTheRefusal) {
  File(
      "rw.sql",
      "SELECT u.id FROM users u WHERE (SELECT count(*) FROM orders o WHERE o.user_id = u.id) < 3;\n"
      "SELECT u.id, (SELECT o.total FROM orders o WHERE o.user_id = u.id\n"
      "              ORDER BY o.id DESC LIMIT 1) AS last FROM users u;\n");
  CmdResult r = Review("--format json --fail-on never rw.sql");
  ASSERT_EQ(r.exit, 0) << r.err;
  json doc = json::parse(r.out);
  const json *count = nullptr, *lookup = nullptr;
  for (const auto& f : doc["findings"]) {
    if (f["rule"] != "correlated-subquery") continue;
    (f["location"]["line"] == 1 ? count : lookup) = &f;
  }
  ASSERT_NE(count, nullptr) << r.out;
  ASSERT_NE(lookup, nullptr) << r.out;

  const std::string s = (*count)["suggestion"];
  const std::string marker = "rewritten by pgvise rewrite (decorrelate-scalar-where): ";
  size_t at = s.find(marker);
  ASSERT_NE(at, std::string::npos) << s;
  std::string sql = s.substr(at + marker.size());
  sql = sql.substr(0, sql.find("  -- "));
  EXPECT_NE(sql.find("LEFT JOIN (SELECT"), std::string::npos) << sql;
  EXPECT_NE(sql.find("GROUP BY o.user_id"), std::string::npos) << sql;
  EXPECT_NE(sql.find("COALESCE("), std::string::npos) << sql;  // users with 0 orders kept
  EXPECT_EQ(sql.find("(SELECT count(*) FROM orders o WHERE"), std::string::npos) << sql;
  EXPECT_EQ((*count)["evidence"]["rewrite_passes"], "decorrelate-scalar-where");
  // The proposal is runnable SQL the rewriter itself leaves alone (a fixpoint).
  File("proposal.sql", sql + ";\n");
  CmdResult again = RunPgvise("rewrite --format json proposal.sql", *dir_);
  ASSERT_EQ(again.exit, 0) << again.err;
  EXPECT_EQ(json::parse(again.out)["statements"][0]["changed"], false) << again.out;

  const std::string l = (*lookup)["suggestion"];
  // An ORDER BY ... LIMIT 1 lookup picks one row per outer row: no grouped
  // join expresses it, a LATERAL join does (limit-one-to-lateral).
  EXPECT_NE(l.find("rewritten by pgvise rewrite (limit-one-to-lateral)"), std::string::npos) << l;
  EXPECT_NE(l.find("LEFT JOIN LATERAL"), std::string::npos) << l;
  EXPECT_NE(l.find("LIMIT 1"), std::string::npos) << l;
  EXPECT_EQ((*lookup)["evidence"]["rewrite_passes"], "limit-one-to-lateral");
}

}  // namespace
}  // namespace pgvise::testing
