// Golden-file tests for `pgvise explain`: every plan in tests/golden/explain
// (<case>.json, or <case>.txt for psql's pasted output) is checked in each
// output format and compared byte for byte with <case>.expected.<format>;
// stderr with <case>.expected.stderr and the exit code with
// <case>.expected.exit. The plans are real PostgreSQL 15 output
// (tests/golden/explain/capture.sh made them); the malformed ones are edited
// copies that must fail with exit 2 and a located one-line error.
//
// The command runs inside the golden folder with the plan's bare file name,
// so paths in the output do not depend on where the tree is checked out.
// Adding a case: put the plan there, run scripts/regen-golden.sh, READ the
// new expected files (a golden file is a claim that the output is right).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "tests/golden_diff.h"
#include "tests/review_cli.h"

namespace fs = std::filesystem;

namespace pgvise::testing {
namespace {

const char* const kFormats[] = {"text", "json", "sarif", "markdown"};

struct ExplainCase {
  std::string input;  // "clean.json"
  std::string name;   // "clean"
  std::string format;
};

std::string GoldenDir() { return SourceDir() + "/tests/golden/explain"; }

std::vector<ExplainCase> DiscoverCases() {
  std::vector<std::string> inputs;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(GoldenDir(), ec)) {
    const std::string file = e.path().filename().string();
    const std::string ext = e.path().extension().string();
    if ((ext == ".json" || ext == ".txt") && file.find(".expected.") == std::string::npos)
      inputs.push_back(file);
  }
  std::sort(inputs.begin(), inputs.end());
  std::vector<ExplainCase> out;
  for (const auto& in : inputs)
    for (const char* f : kFormats) out.push_back({in, fs::path(in).stem().string(), f});
  return out;
}

class ExplainGolden : public ::testing::TestWithParam<ExplainCase> {};

TEST_P(ExplainGolden, MatchesExpectedOutput) {
  const ExplainCase& c = GetParam();
  const std::string dir = GoldenDir();
  // Keep this command line in step with scripts/regen-golden.sh.
  CmdResult r = RunPgvise(
      "explain --rules '" + SourceDir() + "/rules' --format " + c.format + " " + c.input, dir);
  const std::string prefix = dir + "/" + c.name + ".expected.";
  for (const std::string& kind : {c.format, std::string("stderr"), std::string("exit")})
    ASSERT_TRUE(fs::exists(prefix + kind))
        << prefix + kind << " is missing; run scripts/regen-golden.sh and read the new files";
  const std::string expected = ReadWhole(prefix + c.format);
  EXPECT_EQ(expected, r.out) << "golden mismatch for explain " << c.input << " --format "
                             << c.format << " (regenerate: scripts/regen-golden.sh)\n"
                             << SideBySide(expected, r.out) << "stderr: " << r.err;
  EXPECT_EQ(ReadWhole(prefix + "stderr"), r.err) << "stderr of explain " << c.input;
  EXPECT_EQ(std::stoi(ReadWhole(prefix + "exit")), r.exit) << "stderr: " << r.err;
}

INSTANTIATE_TEST_SUITE_P(Cases, ExplainGolden, ::testing::ValuesIn(DiscoverCases()),
                         [](const ::testing::TestParamInfo<ExplainCase>& p) {
                           std::string n = p.param.name + "_" + p.param.format;
                           std::replace_if(
                               n.begin(), n.end(), [](char ch) { return !std::isalnum(ch); }, '_');
                           return n;
                         });

// The folder must hold the cases the golden suite promises, so deleting a
// plan cannot silently shrink it.
TEST(ExplainGoldenCases, CoverAnalyzeEstimatesPasteCleanAndBadInput) {
  std::vector<std::string> names;
  for (const auto& c : DiscoverCases()) names.push_back(c.name);
  for (const char* want :
       {"analyze-buffers", "estimates-only", "psql-paste", "clean", "malformed", "wrong-type"})
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
}

TEST(ExplainGoldenDiff, MarksChangedMissingAndExtraLines) {
  std::string s = SideBySide("a\nb\nc\n", "a\nB\nc\nd\n");
  EXPECT_NE(s.find(" | B"), std::string::npos) << s;
  EXPECT_NE(s.find(" > d"), std::string::npos) << s;
  s = SideBySide("a\nb\n", "a\n");
  EXPECT_NE(s.find(" <"), std::string::npos) << s;
}

}  // namespace
}  // namespace pgvise::testing
