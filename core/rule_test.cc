// Rule::Threshold: threshold defaults live only in the rule YAML. A name the
// YAML lacks throws (an internal error), and every name a handler asks for is
// in the shipped rules/ — checked here by reading the handlers' sources, so a
// typo or a forgotten YAML key fails this test rather than a user's run.
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

}  // namespace
}  // namespace pgvise
