// Bad input at every entry point: random bytes, UTF-16, empty, oversized,
// pathologically nested, not-a-plan JSON, a directory, a named pipe with no
// writer, an unreadable file, bad flag values and a broken .pgvise.yaml,
// through review, explain (plan file and --sql), advise -w and rewrite. The
// promise: exit 2 and one located line (or a correct result) — never a
// crash, never a hang. Every run goes through `timeout`, so a hang fails the
// test instead of stalling the suite.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/review_cli.h"

namespace fs = std::filesystem;

namespace pgvise::testing {
namespace {

class BadInput : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    uri_ = new std::string(FreshDatabase("rel_bad_input"));
    dir_ = new std::string(TempDir("rel-bad-input"));
    Exec(*uri_,
         "CREATE TABLE t (a int, b text); INSERT INTO t SELECT g, g::text FROM "
         "generate_series(1, 1000) g; ANALYZE t;");
    const std::string d = *dir_ + "/";
    std::string rnd;
    uint32_t x = 12345;
    for (int i = 0; i < 4096; ++i) {
      x = x * 1103515245u + 12345u;
      rnd.push_back(static_cast<char>(x >> 16));
    }
    WriteWhole(d + "random.sql", rnd);
    WriteWhole(d + "utf16.sql", std::string("\xff\xfeS\0E\0L\0E\0C\0T\0 \0\x31\0", 18));
    WriteWhole(d + "empty.sql", "");
    WriteWhole(d + "parens.sql",
               "SELECT " + std::string(100000, '(') + "1" + std::string(100000, ')') + ";\n");
    WriteWhole(d + "deep.json", std::string(100000, '[') + std::string(100000, ']'));
    WriteWhole(d + "notplan.json", "{\"a\": [1, 2, {\"b\": null}]}\n");
    WriteWhole(d + "ok.sql", "SELECT a FROM t WHERE a = 1;\n");
    WriteWhole(d + "bad.yaml", "rules:\n  - [broken\n");
    WriteWhole(d + "wrongtype.yaml", "rules: 42\n");
    fs::create_directories(d + "adir");
    mkfifo((d + "fifo").c_str(), 0600);
    // 101 MiB, sparse: over the input limit without writing 101 MiB.
    { std::ofstream(d + "big.sql").close(); }
    fs::resize_file(d + "big.sql", 101u << 20);
    WriteWhole(d + "secret.sql", "SELECT 1;\n");
    chmod((d + "secret.sql").c_str(), 0600);
    chmod(dir_->c_str(), 0755);
    // Every run below goes through `timeout`: a hang fails, it never stalls.
    real_bin_ = new std::string(PgviseBin());
    WriteWhole(d + "pgvise-timeout", "#!/bin/sh\nexec timeout 120 '" + *real_bin_ + "' \"$@\"\n");
    chmod((d + "pgvise-timeout").c_str(), 0755);
    setenv("PGVISE_BIN", (d + "pgvise-timeout").c_str(), 1);
  }
  static void TearDownTestSuite() {
    setenv("PGVISE_BIN", real_bin_->c_str(), 1);
    delete real_bin_;
    std::error_code ec;
    fs::remove_all(*dir_, ec);
    delete dir_;
    delete uri_;
  }
  static CmdResult Run(const std::string& args) {
    CmdResult r = RunPgvise(args, *dir_);
    return r;
  }
  // `pgvise <args>` must refuse with exit 2 and one stderr line naming `where`.
  static void Refused(const std::string& args, const std::string& where) {
    CmdResult r = RunPgvise(args, *dir_);
    EXPECT_EQ(r.exit, 2) << "pgvise " << args << "\n" << r.err << r.out.substr(0, 500);
    EXPECT_EQ(r.ErrLines(), 1) << "pgvise " << args << "\n" << r.err;
    EXPECT_NE(r.err.find(where), std::string::npos) << "pgvise " << args << "\n" << r.err;
  }
  static std::string Db() { return "--db '" + *uri_ + "'"; }
  static std::string* uri_;
  static std::string* dir_;
  static std::string* real_bin_;
};
std::string* BadInput::real_bin_ = nullptr;
std::string* BadInput::uri_ = nullptr;
std::string* BadInput::dir_ = nullptr;

// The same bad files through every command that reads SQL.
TEST_F(BadInput, SqlFilesAtEveryEntryPoint) {
  const std::vector<std::pair<std::string, std::string>> files = {
      {"random.sql", "random.sql:"}, {"utf16.sql", "utf16.sql:1:"}, {"empty.sql", "empty.sql"},
      {"big.sql", "big.sql"},        {"adir/x.sql", "adir/x.sql"},  {"fifo", "fifo"},
      {"nosuch.sql", "nosuch.sql"},
  };
  for (const auto& [f, where] : files) {
    Refused("review " + f, where);
    Refused("rewrite " + f, where);
    Refused("explain " + Db() + " --sql " + f, where);
    Refused("advise " + Db() + " -w " + f, where);
  }
}

// 100k nested parentheses: PostgreSQL's parser gives up ("memory
// exhausted"); every command says so at the place, none crashes.
TEST_F(BadInput, HundredThousandNestedParentheses) {
  CmdResult review = Run("review parens.sql");
  EXPECT_EQ(review.exit, 2) << review.err;
  EXPECT_NE(review.out.find("parens.sql:1:"), std::string::npos) << review.out;
  Refused("rewrite parens.sql", "parens.sql:1:");
  Refused("explain " + Db() + " --sql parens.sql", "parens.sql:1:");
  CmdResult advise = Run("advise " + Db() + " -w parens.sql");
  EXPECT_TRUE(advise.exit == 0 || advise.exit == 2) << advise.exit << advise.err;
  EXPECT_LE(advise.ErrLines(), 1) << advise.err;
}

TEST_F(BadInput, PlanFiles) {
  Refused("explain deep.json", "deep.json:1:");
  Refused("explain notplan.json", "notplan.json:1:1");
  Refused("explain random.sql", "random.sql:");
  Refused("explain utf16.sql", "utf16.sql:1:");
  Refused("explain empty.sql", "empty.sql");
  Refused("explain adir", "adir");
  Refused("explain fifo", "fifo");
  Refused("explain big.sql", "big.sql");
}

TEST_F(BadInput, FlagValues) {
  Refused("advise " + Db() + " -w ok.sql --budget -5GB", "--budget");
  Refused("advise " + Db() + " -w ok.sql --budget abc", "--budget");
  Refused("advise " + Db() + " -w ok.sql --budget 1e30GB", "--budget");
  Refused("advise " + Db() + " -w ok.sql --time-limit soon", "--time-limit");
  Refused("advise " + Db() + " -w ok.sql --time-limit -5", "--time-limit");
  Refused("advise " + Db() + " -w ok.sql --time-limit inf", "--time-limit");
  Refused("review --format bogus ok.sql", "--format");
  Refused("review --fail-on sometimes ok.sql", "--fail-on");
  Refused("maintain " + Db() + " --memory lots", "--memory");
  Refused("review --no-such-flag ok.sql", "--no-such-flag");
}

TEST_F(BadInput, BrokenConfigFile) {
  Refused("review --config bad.yaml ok.sql", "bad.yaml:");
  Refused("review --config wrongtype.yaml ok.sql", "wrongtype.yaml:1:");
  WriteWhole(*dir_ + "/typo.yaml", "disabled:\n  - select-star\n");
  Refused("review --config typo.yaml ok.sql", "typo.yaml:1:1: unknown key 'disabled'");
  Refused("review --config nosuch.yaml ok.sql", "nosuch.yaml");
  Refused("maintain " + Db() + " --config bad.yaml", "bad.yaml:");
}

// Root reads everything: run the binary as the unprivileged postgres user.
TEST_F(BadInput, UnreadableFile) {
  std::string out;
  int rc = RunCommand(
      "cd '" + *dir_ + "' && runuser -u postgres -- '" + PgviseBin() + "' review secret.sql 2>&1",
      &out);
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("secret.sql: cannot open: Permission denied"), std::string::npos) << out;
}

// A name holding a newline, a quote and an HTML tag, in every format a
// finding about it can be printed: each stays well-formed.
TEST_F(BadInput, HostileNamesInEveryFormat) {
  WriteWhole(*dir_ + "/hostile.sql",
             "CREATE INDEX \"i\nDROP TABLE x; --\" ON \"t</pre><b>\"\"\" (a);\n");
  for (const char* f : {"text", "json", "sarif", "markdown", "html"}) {
    CmdResult r = Run(std::string("review --format ") + f + " hostile.sql");
    EXPECT_EQ(r.exit, 0) << f << r.err;
    const std::string fmt = f;
    if (fmt == "json" || fmt == "sarif") {
      EXPECT_FALSE(nlohmann::json::parse(r.out, nullptr, false).is_discarded()) << f << r.out;
    } else if (fmt == "html") {
      // A newline is harmless in HTML; markup in the name must stay text.
      EXPECT_EQ(r.out.find("</pre><b>"), std::string::npos) << r.out;
      EXPECT_NE(r.out.find("t&lt;/pre&gt;&lt;b&gt;"), std::string::npos) << r.out;
    } else {
      EXPECT_EQ(r.out.find("\nDROP TABLE x"), std::string::npos) << f << r.out;
    }
  }
  // rewrite echoes the statement in every format; maintain reads a database
  // whose names are ordinary here (tests/reliability/hostile_names_test.cc
  // has the hostile ones): both must still write well-formed documents.
  for (const char* f : {"sql", "text", "json", "markdown", "html"}) {
    CmdResult r = Run(std::string("rewrite --format ") + f + " hostile.sql");
    EXPECT_EQ(r.exit, 0) << f << r.err;
    const std::string fmt = f;
    if (fmt == "json") {
      EXPECT_FALSE(nlohmann::json::parse(r.out, nullptr, false).is_discarded()) << r.out;
    } else if (fmt == "html") {
      EXPECT_EQ(r.out.find("</pre><b>"), std::string::npos) << "name not escaped:\n" << r.out;
      EXPECT_NE(r.out.find("&lt;/pre&gt;&lt;b&gt;"), std::string::npos) << r.out;
    }
  }
  for (const char* f : {"text", "json", "markdown", "html", "sql"}) {
    CmdResult r = Run("maintain " + Db() + " --fail-on never --format " + f);
    EXPECT_EQ(r.exit, 0) << f << r.err;
    if (std::string(f) == "html") {
      EXPECT_NE(r.out.find("Table health"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace pgvise::testing
