// Rule::Threshold: threshold defaults live only in the rule YAML. A name the
// YAML lacks throws (an internal error), and every name a handler asks for is
// in the shipped rules/ — checked here by reading the handlers' sources, so a
// typo or a forgotten YAML key fails this test rather than a user's run.
// RuleBook::ApplyConfig / ApplyConfigText: a .pgvise.yaml changes a rule's
// enabled, severity, thresholds and options; errors name path:line:column.
#include "core/rule.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>

#include "tests/support/pg_test.h"

namespace pgvise {
namespace {

TEST(RuleThreshold, ReadsTheYamlValue) {
  Rule r;
  r.id = "sort-spills-to-disk";
  r.thresholds["min_disk_kb"] = 1024;
  EXPECT_EQ(r.Threshold("min_disk_kb"), 1024);
}

TEST(RuleThreshold, MissingNameThrowsNamingRuleAndKey) {
  Rule r;
  r.id = "sort-spills-to-disk";
  r.path = "rules/plan/sort-spills-to-disk.yaml";
  try {
    r.Threshold("min_disk_kbb");
    FAIL() << "no exception";
  } catch (const std::logic_error& e) {
    EXPECT_STREQ(e.what(),
                 "rule sort-spills-to-disk (rules/plan/sort-spills-to-disk.yaml): no threshold "
                 "'min_disk_kbb' in its YAML");
  }
}

TEST(RuleThreshold, EveryNameHandlersReadIsInTheShippedYaml) {
  const std::string src = testing::SourceDir();
  RuleBook book;
  Status st = RuleBook::LoadDir(src + "/rules", &book);
  ASSERT_TRUE(st.ok()) << st.message();
  std::set<std::string> known;
  for (const auto& [id, rule] : book.all())
    for (const auto& [name, value] : rule.thresholds) known.insert(name);
  // Handlers read thresholds as rule.Threshold("name") or, in plan checks, env.T("name").
  const std::regex call(R"re((?:Threshold|\bT)\("([a-z_0-9]+)"\))re");
  int calls = 0;
  for (const char* dir : {"analyzer", "maintenance", "advisor", "rewriter"}) {
    if (!std::filesystem::exists(src + "/" + dir)) continue;
    for (const auto& e : std::filesystem::recursive_directory_iterator(src + "/" + dir)) {
      const std::string path = e.path().string();
      if (e.path().extension() != ".cc" || path.find("_test.cc") != std::string::npos) continue;
      std::ifstream f(path);
      std::stringstream ss;
      ss << f.rdbuf();
      const std::string text = ss.str();
      for (std::sregex_iterator it(text.begin(), text.end(), call), end; it != end; ++it) {
        ++calls;
        EXPECT_TRUE(known.count((*it)[1].str()))
            << path << " reads threshold '" << (*it)[1] << "', which no rule YAML defines";
      }
    }
  }
  EXPECT_GT(calls, 60);  // the scan found the handlers (about 70 reads today)
}

// A small book for the config tests: one rule with a threshold and an option.
RuleBook ConfigBook() {
  Rule r;
  r.id = "sort-spills-to-disk";
  r.area = "plan";
  r.thresholds["min_disk_kb"] = 1024;
  r.options["unit"] = "kB";
  RuleBook book;
  book.Add(r);
  return book;
}

TEST(RuleBookApplyConfig, TextChangesEnabledSeverityThresholdAndOption) {
  RuleBook book = ConfigBook();
  Status st = book.ApplyConfigText(
      "rules:\n  sort-spills-to-disk:\n    enabled: false\n    severity: error\n"
      "    thresholds:\n      min_disk_kb: 2048\n      unit: MB\n",
      "x.pgvise.yaml");
  ASSERT_TRUE(st.ok()) << st.message();
  const Rule* r = book.Find("sort-spills-to-disk");
  ASSERT_NE(r, nullptr);
  EXPECT_FALSE(r->enabled);
  EXPECT_EQ(r->severity, Severity::kError);
  EXPECT_EQ(r->Threshold("min_disk_kb"), 2048);
  EXPECT_EQ(r->options.at("unit"), "MB");
}

TEST(RuleBookApplyConfig, TextErrorsNameThePathLineAndColumn) {
  RuleBook book = ConfigBook();
  Status st = book.ApplyConfigText("disable:\n  - no-such-rule\n", "x.pgvise.yaml");
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.message(), "x.pgvise.yaml:2:5: unknown rule 'no-such-rule'");
  st = book.ApplyConfigText("rules:\n  sort-spills-to-disk:\n    thresholds:\n      nope: 1\n",
                            "x.pgvise.yaml");
  EXPECT_EQ(st.message(), "x.pgvise.yaml:4:7: rule 'sort-spills-to-disk' has no threshold 'nope'");
  EXPECT_EQ(book.ApplyConfigText("", "empty.yaml").message(),
            "empty.yaml: config must be a YAML mapping");
}

TEST(RuleBookApplyConfig, FileIsReadThenAppliedAsText) {
  const std::string path =
      (std::filesystem::temp_directory_path() / "pgvise-rule-test-config.yaml").string();
  {
    std::ofstream f(path);
    f << "disable:\n  - sort-spills-to-disk\n";
  }
  RuleBook book = ConfigBook();
  Status st = book.ApplyConfig(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(book.Enabled("sort-spills-to-disk"), nullptr);
  st = book.ApplyConfig(path);  // gone now
  EXPECT_EQ(st.message(), path + ": cannot open config file");
  // A directory opens but does not read: a Status, not an exception.
  const std::string dir = std::filesystem::temp_directory_path().string();
  st = book.ApplyConfig(dir);
  EXPECT_EQ(st.message(), dir + ": cannot read config file");
}

}  // namespace
}  // namespace pgvise
