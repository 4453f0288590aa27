// Command-level tests of `pgvise explain` on plan files: the real binary,
// its stdout report, its one-line stderr errors and its exit codes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/review_cli.h"

namespace pgvise::testing {
namespace {

std::string Plans() { return SourceDir() + "/tests/data/plans/"; }

TEST(ExplainCli, TextReportGradedByShareWithNodeNumbersAndFix) {
  CmdResult r = RunPgvise("explain '" + Plans() + "reads-from-disk.json' --fail-on never");
  ASSERT_EQ(r.exit, 0) << r.err;
  // Both findings are on the same node, each with its numbers and a fix
  // line. The disk reads are a warning, not an info: the node they are on is
  // 100% of the query's time (plan findings are graded by their share).
  size_t reads = r.out.find("warning: Plan.Plans[0] (Seq Scan on archive): 14,587 of 16,667");
  size_t scan = r.out.find("warning: Plan.Plans[0] (Seq Scan on archive): sequential scan");
  ASSERT_NE(reads, std::string::npos) << r.out;
  ASSERT_NE(scan, std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(100% of the query's time) [reads-mostly-from-disk]"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("500,000 rows"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("    fix: "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("\033["), std::string::npos);  // no colour into a pipe
}

TEST(ExplainCli, ExitCodesFollowFailOn) {
  const std::string plan = "'" + Plans() + "sort-spill.json'";
  EXPECT_EQ(RunPgvise("explain " + plan + " --fail-on warning").exit, 1);
  EXPECT_EQ(RunPgvise("explain " + plan + " --fail-on error").exit, 0);  // a warning only
  EXPECT_EQ(RunPgvise("explain " + plan + " --fail-on never").exit, 0);
  EXPECT_EQ(RunPgvise("explain '" + Plans() + "good-index-scan.json' --fail-on info").exit, 0);
}

TEST(ExplainCli, JsonFormatAndStdin) {
  CmdResult r =
      RunPgvise("explain - --format json --fail-on never", "", Plans() + "estimate-only.json");
  ASSERT_EQ(r.exit, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["command"], "explain");
  ASSERT_FALSE(j["notes"].empty());
  EXPECT_NE(j["notes"][0].get<std::string>().find("no ANALYZE"), std::string::npos);
  ASSERT_FALSE(j["findings"].empty());
  for (const auto& f : j["findings"]) {
    EXPECT_FALSE(f["location"]["plan_path"].get<std::string>().empty());
    EXPECT_FALSE(f["suggestion"].get<std::string>().empty());
    EXPECT_FALSE(f["evidence"].empty());
  }
}

TEST(ExplainCli, SarifAndMarkdown) {
  CmdResult r =
      RunPgvise("explain '" + Plans() + "hashagg-spill.json' --format sarif --fail-on never");
  ASSERT_EQ(r.exit, 0) << r.err;
  nlohmann::json s = nlohmann::json::parse(r.out);
  EXPECT_EQ(s["version"], "2.1.0");
  ASSERT_EQ(s["runs"][0]["results"].size(), 1u);
  EXPECT_EQ(s["runs"][0]["results"][0]["ruleId"], "hash-aggregate-spills");
  r = RunPgvise("explain '" + Plans() + "hashagg-spill.json' --format markdown --fail-on never");
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_NE(r.out.find("hash-aggregate-spills"), std::string::npos) << r.out;
}

TEST(ExplainCli, PsqlOutputPastedAsIs) {
  CmdResult r = RunPgvise("explain '" + Plans() + "psql-aligned.txt' --fail-on never");
  EXPECT_EQ(r.exit, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST(ExplainCli, BadInputIsOneLineExit2) {
  std::string dir = TempDir("explain");
  WriteWhole(dir + "/empty.json", "");
  WriteWhole(dir + "/binary.json", std::string("\x00\x01\x02\xff\xfe", 5));
  WriteWhole(dir + "/latin1.json", "[{\"Plan\": {\"Node Type\": \"Seq Scan caf\xe9\"}}]");
  std::string full = ReadWhole(Plans() + "nested-loop.json");
  WriteWhole(dir + "/truncated.json", full.substr(0, full.size() / 3));
  WriteWhole(dir + "/notaplan.json", "{\"name\": \"package\", \"version\": \"1.0\"}");
  WriteWhole(dir + "/badnode.json",
             "[{\"Plan\": {\"Node Type\": \"Hash Join\", \"Plans\": [{\"Node Type\": 1}]}}]");
  const std::pair<std::string, std::string> cases[] = {
      {"explain '" + dir + "/missing.json'", "missing.json"},
      {"explain '" + dir + "/empty.json'", "empty"},
      {"explain '" + dir + "/binary.json'", "binary.json"},
      {"explain '" + dir + "/latin1.json'", "UTF-8"},
      {"explain '" + dir + "/truncated.json'", "truncated"},
      {"explain '" + dir + "/notaplan.json'", "no \"Plan\" key"},
      {"explain '" + dir + "/badnode.json'", "[0].Plan.Plans[0].Node Type"},
      {"explain", "give a plan file"},
      {"explain '" + Plans() + "jit.json' --analyze", "--analyze needs --sql"},
      {"explain '" + Plans() + "jit.json' --format yaml", "yaml"},
  };
  for (const auto& [args, needle] : cases) {
    SCOPED_TRACE(args);
    CmdResult r = RunPgvise(args);
    EXPECT_EQ(r.exit, 2) << r.out << r.err;
    EXPECT_EQ(r.ErrLines(), 1) << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("internal error"), std::string::npos) << r.err;
  }
  // A truncated plan says where: file:line:col.
  CmdResult r = RunPgvise("explain '" + dir + "/truncated.json'");
  EXPECT_NE(r.err.find("truncated.json:"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace pgvise::testing
