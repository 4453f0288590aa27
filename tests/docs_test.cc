// Documentation that is pgvise's own output cannot go stale: each generated
// file in docs/ must equal a fresh run (scripts/gen-docs.sh rewrites them).
//
// The per-command examples are the demo's real output (scripts/demo.sh keeps
// it, `scripts/gen-docs.sh --demo` splices it between `<!-- demo-output -->`
// markers). Re-running the demo here would take minutes (it loads 2.5M rows)
// and its costs and timings differ from run to run, so the test splits them:
// - an example that needs no database (review offline, explain of the kept
//   plan file) is re-run and must equal the docs byte for byte;
// - one that needs the demo database must be well formed and still true of
//   this build: a command line whose every option `--help` still lists, an
//   exit code, the report section it claims, and rule ids that exist.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <vector>

#include "tests/review_cli.h"

namespace pgvise::testing {
namespace {

TEST(Docs, RulesReferenceIsCurrent) {
  CmdResult r = RunPgvise("rules --rules '" + SourceDir() + "/rules' --format markdown");
  ASSERT_EQ(r.exit, 0) << r.err;
  std::string committed = ReadWhole(SourceDir() + "/docs/rules-reference.md");
  EXPECT_EQ(r.out, committed)
      << "docs/rules-reference.md is out of date: run scripts/gen-docs.sh and commit it";
  // Every rule YAML has its section.
  for (const char* id : {"adding-field-with-volatile-default", "xid-wraparound",
                         "seq-scan-filters-most-rows", "autovacuum-insert-settings"})
    EXPECT_NE(r.out.find(std::string("\n### ") + id + "\n"), std::string::npos) << id;
}

// One spliced example: `<!-- demo-output: ID[#Section] -->` ... `<!-- /demo-output -->`.
struct DemoBlock {
  std::string page;                // docs/<page>
  std::string id;                  // the demo's output id (build/demo-reports/out/<id>.txt)
  std::string section;             // empty: the whole output
  std::vector<std::string> lines;  // inside the ```text fence
};

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

std::vector<DemoBlock> DemoBlocks() {
  std::vector<DemoBlock> blocks;
  // Scanned by hand: std::regex recurses once per character of a lazy
  // `[\s\S]*?`, and the advise page's block overflowed the stack under ASan.
  static const std::string kOpen = "<!-- demo-output: ", kEnd = "<!-- /demo-output -->";
  for (const auto& e : std::filesystem::directory_iterator(SourceDir() + "/docs")) {
    if (e.path().extension() != ".md") continue;
    const std::string text = ReadWhole(e.path().string());
    for (size_t at = text.find(kOpen); at != std::string::npos; at = text.find(kOpen, at + 1)) {
      const size_t marker_end = text.find(" -->\n", at);
      const size_t end = marker_end == std::string::npos ? marker_end : text.find(kEnd, marker_end);
      if (end == std::string::npos) break;
      std::string id = text.substr(at + kOpen.size(), marker_end - at - kOpen.size()), anchor;
      if (const size_t hash = id.find('#'); hash != std::string::npos) {
        anchor = id.substr(hash + 1);
        id.resize(hash);
      }
      DemoBlock b{e.path().filename().string(), id, anchor, {}};
      const std::string body = text.substr(marker_end + 5, end - marker_end - 5);
      const size_t open = body.find("```text\n");
      const size_t close = body.rfind("\n```\n");
      if (open != std::string::npos && close != std::string::npos && close > open)
        b.lines = Lines(body.substr(open + 8, close - open - 8 + 1));
      blocks.push_back(std::move(b));
    }
  }
  return blocks;
}

// The command and its arguments from the block's `$ pgvise ...` line.
std::string CommandLine(const DemoBlock& b) { return b.lines.front().substr(9); }
std::string Command(const DemoBlock& b) {
  const std::string args = CommandLine(b);
  return args.substr(0, args.find(' '));
}
bool NeedsDatabase(const DemoBlock& b) { return CommandLine(b).find("--db") != std::string::npos; }

std::set<std::string> RuleIds() {
  std::set<std::string> ids;
  for (const auto& e : std::filesystem::recursive_directory_iterator(SourceDir() + "/rules"))
    if (e.path().extension() == ".yaml") ids.insert(e.path().stem().string());
  return ids;
}

// The pages that must show the demo, and what each must show at least.
TEST(Docs, EachCommandPageShowsTheDemo) {
  // docs/advise.md is the lead's page; it shows the full advise output once
  // its markers are added (then it belongs in this list too).
  const std::map<std::string, std::set<std::string>> wanted = {
      {"advise.md", {"advise"}},
      {"review.md", {"review", "review-db"}},
      {"explain.md", {"explain", "explain-analyze"}},
      {"rewrite.md", {"rewrite-verify"}},
      {"maintain.md", {"maintain"}},
      {"maintain-partitions.md", {"maintain-partitions"}},
      {"advise-partitions.md", {"advise-verify"}},
      {"advise-views.md", {"advise-verify"}},
      {"advise-statistics.md", {"advise-verify"}},
  };
  std::map<std::string, std::set<std::string>> found;
  for (const auto& b : DemoBlocks()) found[b.page].insert(b.id);
  for (const auto& [page, ids] : wanted)
    for (const auto& id : ids)
      EXPECT_TRUE(found[page].count(id)) << "docs/" << page << " lacks the demo's " << id;
}

TEST(Docs, DemoExamplesAreWellFormed) {
  const auto blocks = DemoBlocks();
  ASSERT_GE(blocks.size(), 10u);
  const std::set<std::string> rules = RuleIds();
  std::map<std::string, std::string> help;  // command -> its --help
  static const std::regex option(R"((?:^| )(--[a-z][a-z-]*))");
  static const std::regex review_rule(R"(\[([a-z0-9]+(?:-[a-z0-9]+)+)\]$)");
  static const std::regex plan_item(R"(^\d+\. \[(?:error|warning|info)\] ([a-z0-9-]+) )");
  for (const auto& b : blocks) {
    SCOPED_TRACE("docs/" + b.page + ": demo-output " + b.id);
    ASSERT_GE(b.lines.size(), 3u) << "no ```text block with a command, output and exit code";
    ASSERT_EQ(b.lines.front().rfind("$ pgvise ", 0), 0u) << b.lines.front();
    ASSERT_TRUE(std::regex_match(b.lines.back(), std::regex(R"(-- exit code \d+)")))
        << b.lines.back();
    const std::string cmd = Command(b);
    ASSERT_TRUE(
        std::set<std::string>({"review", "explain", "advise", "rewrite", "maintain"}).count(cmd))
        << cmd;
    // Every option shown is one this build still has.
    if (!help.count(cmd)) {
      CmdResult r = RunPgvise(cmd + " --help");
      ASSERT_EQ(r.exit, 0) << r.err;
      help[cmd] = r.out;
    }
    const std::string args = CommandLine(b);
    for (std::sregex_iterator it(args.begin(), args.end(), option), end; it != end; ++it)
      EXPECT_TRUE(std::regex_search(help[cmd], std::regex((*it)[1].str() + "([^a-z-]|$)")))
          << "pgvise " << cmd << " has no option " << (*it)[1] << " any more";
    // A section example holds that section, its title underlined.
    if (!b.section.empty()) {
      ASSERT_GE(b.lines.size(), 6u);
      EXPECT_EQ(b.lines[1], "[...]");
      EXPECT_EQ(b.lines[2], b.section);
      EXPECT_EQ(b.lines[3], std::string(b.section.size(), '-'));
      EXPECT_EQ(b.lines[b.lines.size() - 2], "[...]");
    }
    // Rule ids it names still exist (a renamed rule leaves the docs stale).
    for (const auto& line : b.lines) {
      std::smatch m;
      const bool named =
          ((cmd == "review" || cmd == "explain") && std::regex_search(line, m, review_rule)) ||
          (cmd == "maintain" && std::regex_search(line, m, plan_item));
      if (named) {
        EXPECT_TRUE(rules.count(m[1])) << "unknown rule " << m[1] << " in: " << line;
      }
    }
  }
}

// What needs no database is re-run from the docs as they stand: the output
// and exit code must be the ones shown.
TEST(Docs, DemoExamplesWithoutADatabaseAreCurrent) {
  int rerun = 0;
  for (const auto& b : DemoBlocks()) {
    if (b.lines.size() < 2 || NeedsDatabase(b) || !b.section.empty()) continue;
    SCOPED_TRACE("docs/" + b.page + ": demo-output " + b.id);
    CmdResult r = RunPgvise(CommandLine(b), SourceDir());
    std::string shown;
    for (size_t i = 1; i + 1 < b.lines.size(); ++i) shown += b.lines[i] + "\n";
    EXPECT_EQ(r.out, shown) << "out of date: run scripts/demo.sh, then scripts/gen-docs.sh --demo";
    EXPECT_EQ("-- exit code " + std::to_string(r.exit), b.lines.back()) << r.err;
    ++rerun;
  }
  // review (offline) and explain (of docs/examples/demo-plan.json).
  EXPECT_GE(rerun, 2);
}

}  // namespace
}  // namespace pgvise::testing
