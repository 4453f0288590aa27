// Golden-file tests for `pgvise review`: every tests/golden/review/<case>.sql
// is reviewed in each output format and compared with
// <case>.expected.<format> (and the exit code with <case>.expected.exit).
// Adding a case is adding a .sql file and running scripts/regen-golden.sh;
// a <case>.pgvise.yaml next to it is passed as --config.
//
// On a mismatch the expected and actual output are printed side by side,
// aligned by a line diff (tests/golden_diff.h, shared with the explain
// golden tests, which also test it), with the command that regenerates the files.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "tests/golden_diff.h"
#include "tests/review_cli.h"

namespace fs = std::filesystem;

namespace pgvise::testing {
namespace {

const char* const kFormats[] = {"text", "json", "sarif", "markdown"};

struct GoldenCase {
  std::string name;
  std::string format;
};

std::string GoldenDir() { return SourceDir() + "/tests/golden/review"; }

std::vector<GoldenCase> DiscoverCases() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(GoldenDir(), ec))
    if (e.path().extension() == ".sql") names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  std::vector<GoldenCase> out;
  for (const auto& n : names)
    for (const char* f : kFormats) out.push_back({n, f});
  return out;
}

class ReviewGolden : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(ReviewGolden, MatchesExpectedOutput) {
  const GoldenCase& c = GetParam();
  const std::string dir = GoldenDir();
  // Keep this command line in step with scripts/regen-golden.sh.
  std::string args = "review --rules '" + SourceDir() + "/rules' --format " + c.format;
  if (fs::exists(dir + "/" + c.name + ".pgvise.yaml"))
    args += " --config " + c.name + ".pgvise.yaml";
  args += " " + c.name + ".sql";
  CmdResult r = RunPgvise(args, dir);

  const std::string expected_path = dir + "/" + c.name + ".expected." + c.format;
  ASSERT_TRUE(fs::exists(expected_path))
      << expected_path << " is missing; run scripts/regen-golden.sh and review the diff";
  const std::string expected = ReadWhole(expected_path);
  EXPECT_EQ(expected, r.out) << "golden mismatch for " << c.name << " --format " << c.format
                             << " (regenerate: scripts/regen-golden.sh)\n"
                             << SideBySide(expected, r.out) << "stderr: " << r.err;
  const std::string exit_path = dir + "/" + c.name + ".expected.exit";
  ASSERT_TRUE(fs::exists(exit_path)) << exit_path << " is missing";
  EXPECT_EQ(std::stoi(ReadWhole(exit_path)), r.exit) << "stderr: " << r.err;
}

INSTANTIATE_TEST_SUITE_P(Cases, ReviewGolden, ::testing::ValuesIn(DiscoverCases()),
                         [](const ::testing::TestParamInfo<GoldenCase>& p) {
                           std::string n = p.param.name + "_" + p.param.format;
                           std::replace_if(
                               n.begin(), n.end(), [](char ch) { return !std::isalnum(ch); }, '_');
                           return n;
                         });

}  // namespace
}  // namespace pgvise::testing
