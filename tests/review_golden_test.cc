// Golden-file tests for `pgvise review`: every tests/golden/review/<case>.sql
// is reviewed in each output format and compared with
// <case>.expected.<format> (and the exit code with <case>.expected.exit).
// Adding a case is adding a .sql file and running scripts/regen-golden.sh;
// a <case>.pgvise.yaml next to it is passed as --config.
//
// On a mismatch the expected and actual output are printed side by side,
// aligned by a line diff, with the command that regenerates the files.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

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

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> v;
  std::istringstream in(s);
  std::string line;
  while (std::getline(in, line)) v.push_back(line);
  return v;
}

std::string Clip(const std::string& s, size_t w) {
  if (s.size() <= w) return s + std::string(w - s.size(), ' ');
  return s.substr(0, w - 1) + "~";
}

// Expected | actual, aligned by a longest-common-subsequence line diff:
// "|" marks a changed line, "<" a line only expected, ">" only actual.
std::string SideBySide(const std::string& expected, const std::string& actual) {
  const auto a = Lines(expected), b = Lines(actual);
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<int>> lcs(n + 1, std::vector<int>(m + 1, 0));
  for (size_t i = n; i-- > 0;)
    for (size_t j = m; j-- > 0;)
      lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
  constexpr size_t kW = 70;
  std::ostringstream out;
  out << Clip("EXPECTED", kW) << "   ACTUAL\n";
  size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] == b[j]) {
      out << Clip(a[i++], kW) << "   " << b[j++] << "\n";
    } else if (i < n && j < m && lcs[i + 1][j + 1] == lcs[i][j]) {
      out << Clip(a[i++], kW) << " | " << b[j++] << "\n";
    } else if (j >= m || (i < n && lcs[i + 1][j] >= lcs[i][j + 1])) {
      out << Clip(a[i++], kW) << " <\n";
    } else {
      out << Clip("", kW) << " > " << b[j++] << "\n";
    }
  }
  return out.str();
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

TEST(GoldenSideBySide, MarksChangedMissingAndExtraLines) {
  std::string s = SideBySide("a\nb\nc\n", "a\nB\nc\nd\n");
  EXPECT_NE(s.find(" | B"), std::string::npos) << s;
  EXPECT_NE(s.find(" > d"), std::string::npos) << s;
  s = SideBySide("a\nb\n", "a\n");
  EXPECT_NE(s.find("b"), std::string::npos);
  EXPECT_NE(s.find(" <"), std::string::npos) << s;
}

}  // namespace
}  // namespace pgvise::testing
