// The tool installs like one: shell completion knows every option each
// command's --help lists (so a new option can't be forgotten there), and
// --version names the build's revision.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <regex>
#include <set>

#include "tests/review_cli.h"

namespace pgvise::testing {
namespace {

std::set<std::string> HelpOptions(const std::string& cmd) {
  CmdResult r = RunPgvise(cmd + " --help");
  EXPECT_EQ(r.exit, 0) << r.err;
  std::set<std::string> opts;
  static const std::regex opt(R"((?:^|[ ,])(--?[a-z][a-z-]*))");
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) {
    // Option lines start with two spaces then a dash.
    if (line.rfind("  -", 0) != 0) continue;
    std::string head = line.substr(0, line.find("  ", 2));
    for (std::sregex_iterator it(head.begin(), head.end(), opt), end; it != end; ++it)
      opts.insert((*it)[1]);
  }
  return opts;
}

TEST(Packaging, BashCompletionKnowsEveryOption) {
  const std::string bash = ReadWhole(SourceDir() + "/packaging/completions/pgvise.bash");
  ASSERT_FALSE(bash.empty());
  for (const char* cmd : {"review", "explain", "advise", "rewrite", "maintain", "rules"}) {
    std::set<std::string> opts = HelpOptions(cmd);
    EXPECT_GE(opts.size(), 5u) << cmd;
    EXPECT_TRUE(std::regex_search(bash, std::regex(std::string("[\" ]") + cmd + "[\" ]"))) << cmd;
    for (const auto& o : opts)
      EXPECT_TRUE(std::regex_search(bash, std::regex("[\" ]" + o + "[\" ]")))
          << "bash completion lacks " << cmd << " " << o;
  }
}

// What bash completes after `pgvise CMD --format ` (the script sourced in a
// real bash, as a shell would run it).
std::set<std::string> CompletedFormats(const std::string& cmd) {
  const std::string file = ::testing::TempDir() + "pgvise_complete_" + cmd + ".sh";
  {
    std::ofstream f(file);
    f << "source '" << SourceDir() << "/packaging/completions/pgvise.bash'\n"
      << "COMP_WORDS=(pgvise " << cmd << " --format '')\nCOMP_CWORD=3\n_pgvise\n"
      << "printf '%s\\n' \"${COMPREPLY[@]}\"\n";
  }
  std::set<std::string> out;
  FILE* p = popen(("bash '" + file + "'").c_str(), "r");
  if (p == nullptr) return out;
  char buf[256];
  while (std::fgets(buf, sizeof buf, p) != nullptr) {
    std::string w(buf);
    while (!w.empty() && (w.back() == '\n' || w.back() == '\r')) w.pop_back();
    if (!w.empty()) out.insert(w);
  }
  pclose(p);
  return out;
}

// Each command's completion offers exactly the formats the command accepts:
// a format the command refuses names --format in its error; one it accepts
// fails later, for another reason (no input, no database).
TEST(Packaging, BashCompletionOffersEachCommandsFormats) {
  for (const char* cmd : {"review", "explain", "advise", "rewrite", "maintain", "rules"}) {
    std::set<std::string> accepted;
    for (const char* f : {"text", "json", "sarif", "gitlab", "markdown", "html", "sql"}) {
      CmdResult r = RunPgvise(std::string(cmd) + " --format " + f + " --db 'host=/nonexistent'");
      if (r.err.find("--format") == std::string::npos) accepted.insert(f);
    }
    EXPECT_GE(accepted.size(), 3u) << cmd;
    EXPECT_EQ(CompletedFormats(cmd), accepted) << cmd;
  }
}

TEST(Packaging, VersionNamesTheRevision) {
  CmdResult r = RunPgvise("--version");
  ASSERT_EQ(r.exit, 0);
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(^pgvise \d+\.\d+\.\d+ \(\S+\))"))) << r.out;
}

}  // namespace
}  // namespace pgvise::testing
