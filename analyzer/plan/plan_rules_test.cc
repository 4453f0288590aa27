#include "analyzer/plan/plan_rules.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include "analyzer/plan/plan_checks.h"
#include "analyzer/sql/statement.h"
#include "tests/support/pg_test.h"

namespace pgvise {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class PlanRules : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    book_ = new RuleBook();
    Status st = RuleBook::LoadDir(testing::SourceDir() + "/rules", book_);
    ASSERT_TRUE(st.ok()) << st.message();
  }
  static void TearDownTestSuite() { delete book_; }

  static Plan ReadText(const std::string& text, const std::string& name = "plan.json") {
    Plan p;
    Status st = ReadPlan(SourceText(name, text), &p);
    EXPECT_TRUE(st.ok()) << name << ": " << st.message();
    return p;
  }
  static Plan ReadData(const std::string& name) {
    return ReadText(Slurp(testing::SourceDir() + "/tests/data/plans/" + name), name);
  }
  static std::vector<Finding> Check(const Plan& p, const RuleBook* book = book_) {
    PlanCheckContext ctx;
    ctx.rules = book;
    ctx.file = "plan.json";
    return CheckPlan(p, ctx);
  }
  static const Finding* FindRule(const std::vector<Finding>& fs, const std::string& id) {
    for (const auto& f : fs)
      if (f.rule == id) return &f;
    return nullptr;
  }
  static std::string Rules(const std::vector<Finding>& fs) {
    std::string out;
    for (const auto& f : fs) out += f.rule + ": " + f.message + "\n";
    return out;
  }

  static RuleBook* book_;
};
RuleBook* PlanRules::book_ = nullptr;

TEST_F(PlanRules, EveryYamlHasAHandlerAndBack) {
  Status st = book_->CheckHandlers({"plan"}, PlanRuleIds());
  EXPECT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(book_->InArea("plan").size(), PlanRuleIds().size());
  EXPECT_GE(PlanRuleIds().size(), 14u);
}

// Issue 13 item 6: the same heap-fetching index-only scan is a warning when it
// is most of the query's time and info when it is a fifth of it.
TEST_F(PlanRules, IndexOnlyHeapFetchesIsGradedByItsShareOfTheQuery) {
  auto plan = [](double execution_ms, bool analyzed) {
    std::string node = R"("Node Type": "Index Only Scan", "Relation Name": "readings",
      "Alias": "readings", "Index Name": "readings_sensor_val", "Heap Fetches": 6667,
      "Startup Cost": 0.0, "Total Cost": 100.0, "Plan Rows": 7244, "Plan Width": 8)";
    std::string timing = R"(, "Actual Startup Time": 0.01, "Actual Total Time": 10.0,
      "Actual Rows": 5000, "Actual Loops": 1)";
    std::string inner = "{" + node + (analyzed ? timing : "") + "}";
    std::string top = "[{\"Plan\": " + inner + ", \"Planning Time\": 0.1" +
                      (analyzed ? ", \"Execution Time\": " + std::to_string(execution_ms) : "") +
                      "}]";
    return top;
  };
  const Finding* f = nullptr;
  auto most = Check(ReadText(plan(12.0, true)));
  ASSERT_NE(f = FindRule(most, "index-only-scan-heap-fetches"), nullptr) << Rules(most);
  EXPECT_EQ(f->severity, Severity::kWarning);
  EXPECT_NE(f->message.find("83% of the query's time"), std::string::npos) << f->message;

  auto little = Check(ReadText(plan(50.0, true)));
  ASSERT_NE(f = FindRule(little, "index-only-scan-heap-fetches"), nullptr) << Rules(little);
  EXPECT_EQ(f->severity, Severity::kInfo);
  EXPECT_NE(f->message.find("20% of the query's time"), std::string::npos) << f->message;
}

TEST_F(PlanRules, RuleExamplesBadFiresGoodDoesNot) {
  for (const Rule* r : book_->InArea("plan")) {
    ASSERT_FALSE(r->examples.empty()) << r->id;
    bool has_bad = false, has_good = false;
    for (const auto& ex : r->examples) {
      SCOPED_TRACE(r->id + " " + ex.name);
      Plan p = ReadText(ex.text, r->path);
      std::vector<Finding> fs = Check(p);
      const Finding* f = FindRule(fs, r->id);
      if (ex.bad) {
        has_bad = true;
        ASSERT_NE(f, nullptr) << Rules(fs);
        EXPECT_FALSE(f->message.empty());
        EXPECT_FALSE(f->suggestion.empty());
        EXPECT_FALSE(f->evidence.empty());
        EXPECT_FALSE(f->location.plan_path.empty());
        EXPECT_EQ(f->severity, r->severity);
      } else {
        has_good = true;
        EXPECT_EQ(f, nullptr) << f->message;
      }
    }
    EXPECT_TRUE(has_bad && has_good) << r->id;
  }
}

// Each real PostgreSQL 15 plan captured by tests/data/plans/capture.sh shows
// one problem; its rule must find it there.
TEST_F(PlanRules, CapturedPlansFireTheirRule) {
  const std::pair<const char*, const char*> cases[] = {
      {"row-misestimate.json", "row-misestimate"},
      {"sort-spill.json", "sort-spills-to-disk"},
      {"hash-join-batches.json", "hash-join-multiple-batches"},
      {"hashagg-spill.json", "hash-aggregate-spills"},
      {"seq-scan-filter.json", "seq-scan-filters-most-rows"},
      {"nested-loop.json", "nested-loop-many-inner-loops"},
      {"index-only-heap-fetches.json", "index-only-scan-heap-fetches"},
      {"bitmap-lossy.json", "bitmap-heap-scan-lossy"},
      {"parallel-not-launched.json", "parallel-workers-not-launched"},
      {"subplan-per-row.json", "subplan-per-outer-row"},
      {"jit.json", "jit-dominates-runtime"},
      {"append-no-pruning.json", "partitioned-append-without-pruning"},
      {"reads-from-disk.json", "reads-mostly-from-disk"},
      {"planning-dominates.json", "planning-time-dominates"},
      {"estimate-only.json", "nested-loop-many-inner-loops"},
      {"estimate-only.json", "subplan-per-outer-row"},
  };
  for (const auto& [file, rule] : cases) {
    SCOPED_TRACE(std::string(file) + " " + rule);
    std::vector<Finding> fs = Check(ReadData(file));
    const Finding* f = FindRule(fs, rule);
    ASSERT_NE(f, nullptr) << Rules(fs);
    EXPECT_EQ(f->location.file, "plan.json");
  }
}

TEST_F(PlanRules, HealthyPlansAreQuiet) {
  for (const char* file : {"good-index-scan.json", "append-pruned.json", "timing-off.json"}) {
    std::vector<Finding> fs = Check(ReadData(file));
    EXPECT_TRUE(fs.empty()) << file << "\n" << Rules(fs);
  }
}

TEST_F(PlanRules, FindingsNameTheNodeNumbersAndFix) {
  std::vector<Finding> fs = Check(ReadData("seq-scan-filter.json"));
  const Finding* f = FindRule(fs, "seq-scan-filters-most-rows");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->location.plan_path, "Plan");
  EXPECT_EQ(f->location.node_type, "Seq Scan");
  EXPECT_EQ(f->location.object, "orders");
  // Equality column first, then the range column.
  EXPECT_NE(f->suggestion.find("CREATE INDEX CONCURRENTLY ON orders (status, total)"),
            std::string::npos)
      << f->suggestion;
  EXPECT_NE(f->message.find("status = 'refunded'"), std::string::npos) << f->message;

  fs = Check(ReadData("row-misestimate.json"));
  f = FindRule(fs, "row-misestimate");
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->suggestion.find("CREATE STATISTICS"), std::string::npos) << f->suggestion;
  for (const char* col : {"country", "tz", "city"})
    EXPECT_NE(f->suggestion.find(col), std::string::npos) << f->suggestion;

  fs = Check(ReadData("sort-spill.json"));
  f = FindRule(fs, "sort-spills-to-disk");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->location.plan_path, "Plan.Plans[0]");
  EXPECT_NE(f->suggestion.find("SET LOCAL work_mem = '"), std::string::npos);

  fs = Check(ReadData("subplan-per-row.json"));
  f = FindRule(fs, "subplan-per-outer-row");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->location.plan_path, "Plan.Plans[0]");
  EXPECT_NE(f->suggestion.find("pgvise rewrite"), std::string::npos);

  fs = Check(ReadData("index-only-heap-fetches.json"));
  f = FindRule(fs, "index-only-scan-heap-fetches");
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->suggestion.find("VACUUM"), std::string::npos);
}

std::string MisestimatedJoin() {
  // Two scans wrong by 20x and 500x, and the join above them inheriting the
  // error: only the scans are reported, the worse one first.
  return R"([{"Plan": {"Node Type": "Hash Join", "Plan Rows": 10, "Actual Rows": 50000, "Actual Loops": 1,
      "Actual Total Time": 50, "Plans": [
        {"Node Type": "Seq Scan", "Relation Name": "a", "Alias": "a", "Parent Relationship": "Outer",
         "Plan Rows": 100, "Actual Rows": 2000, "Actual Loops": 1, "Actual Total Time": 5},
        {"Node Type": "Hash", "Parent Relationship": "Inner", "Plan Rows": 10, "Actual Rows": 5000,
         "Actual Loops": 1, "Actual Total Time": 5, "Plans": [
          {"Node Type": "Seq Scan", "Relation Name": "b", "Alias": "b", "Parent Relationship": "Outer",
           "Plan Rows": 10, "Actual Rows": 5000, "Actual Loops": 1, "Actual Total Time": 4}]}]},
    "Planning Time": 0.1, "Execution Time": 51}])";
}

TEST_F(PlanRules, MisestimateReportsWhereTheErrorStartsWorstFirst) {
  std::vector<Finding> fs = Check(ReadText(MisestimatedJoin()));
  std::vector<const Finding*> mis;
  for (const auto& f : fs)
    if (f.rule == "row-misestimate") mis.push_back(&f);
  ASSERT_EQ(mis.size(), 2u) << Rules(fs);
  EXPECT_EQ(mis[0]->location.object, "b");
  EXPECT_EQ(mis[0]->location.plan_path, "Plan.Plans[1].Plans[0]");
  EXPECT_EQ(mis[1]->location.object, "a");
}

TEST_F(PlanRules, ConfigDisablesRulesAndChangesThresholds) {
  RuleBook book = *book_;
  book.Mutable("row-misestimate")->thresholds["factor"] = 100;
  std::vector<Finding> fs = Check(ReadText(MisestimatedJoin()), &book);
  int n = 0;
  for (const auto& f : fs) n += f.rule == "row-misestimate";
  EXPECT_EQ(n, 1) << Rules(fs);  // only the 500x one
  book.Mutable("row-misestimate")->enabled = false;
  fs = Check(ReadText(MisestimatedJoin()), &book);
  EXPECT_EQ(FindRule(fs, "row-misestimate"), nullptr);
  book.Mutable("sort-spills-to-disk")->severity = Severity::kError;
  fs = Check(ReadData("sort-spill.json"), &book);
  ASSERT_NE(FindRule(fs, "sort-spills-to-disk"), nullptr);
  EXPECT_EQ(FindRule(fs, "sort-spills-to-disk")->severity, Severity::kError);
  EXPECT_EQ(fs.front().rule, "sort-spills-to-disk");  // errors first
}

TEST_F(PlanRules, WithoutAnalyzeOnlyEstimateChecksRunAndNotesSaySo) {
  Plan p = ReadData("estimate-only.json");
  PlanCheckContext ctx;
  ctx.rules = book_;
  for (const auto& f : CheckPlan(p, ctx)) {
    EXPECT_TRUE(f.rule == "nested-loop-many-inner-loops" || f.rule == "subplan-per-outer-row" ||
                f.rule == "partitioned-append-without-pruning" || f.rule == "hash-aggregate-spills")
        << f.rule;
    // Estimates are said to be estimates.
    EXPECT_TRUE(f.message.find("planned") != std::string::npos ||
                f.message.find("will run") != std::string::npos)
        << f.message;
  }
  std::vector<std::string> notes = PlanCheckNotes(p, ctx);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("no ANALYZE"), std::string::npos);
  EXPECT_NE(notes[0].find("subplan-per-outer-row"), std::string::npos);

  // ANALYZE without BUFFERS: the buffer check is skipped, and said to be.
  notes = PlanCheckNotes(ReadData("timing-off.json"), ctx);
  std::string all;
  for (const auto& n : notes) all += n + "\n";
  EXPECT_NE(all.find("no BUFFERS data: skipped reads-mostly-from-disk"), std::string::npos) << all;
  EXPECT_NE(all.find("TIMING OFF: skipped jit-dominates-runtime"), std::string::npos) << all;
  EXPECT_TRUE(PlanCheckNotes(ReadData("sort-spill.json"), ctx).empty());
}

// Thresholds live only in the YAML: checking without the rule book is a bug
// in the caller (an internal error), not a run with made-up defaults.
TEST_F(PlanRules, WithoutRuleBookIsAnInternalError) {
  PlanCheckContext ctx;
  EXPECT_THROW(CheckPlan(ReadData("sort-spill.json"), ctx), std::logic_error);
}

TEST_F(PlanRules, NestedLoopWithoutJoinConditionIsACrossJoin) {
  const char* plan = R"json([{"Plan": {"Node Type": "Nested Loop", "Join Type": "Inner",
      "Plan Rows": 1200000, "Plans": [
        {"Node Type": "Seq Scan", "Relation Name": "order_items", "Parent Relationship": "Outer",
         "Plan Rows": 1200000},
        {"Node Type": "Materialize", "Parent Relationship": "Inner", "Plan Rows": 1000, "Plans": [
          {"Node Type": "Seq Scan", "Relation Name": "products", "Parent Relationship": "Outer",
           "Plan Rows": 1000, "Filter": "(category = 'toys'::text)"}]}]}}])json";
  std::vector<Finding> fs = Check(ReadText(plan));
  const Finding* f = FindRule(fs, "nested-loop-many-inner-loops");
  ASSERT_NE(f, nullptr) << Rules(fs);
  EXPECT_NE(f->message.find("cross join"), std::string::npos) << f->message;
  EXPECT_NE(f->suggestion.find("missing join condition between order_items and products"),
            std::string::npos)
      << f->suggestion;
}

TEST(AnalyzeCondition, ClassifiesColumnsByParsing) {
  ConditionColumns c =
      AnalyzeCondition("((total > '10'::numeric) AND (status = 'refunded'::text))");
  ASSERT_TRUE(c.parsed);
  EXPECT_EQ(c.and_terms, 2);
  EXPECT_EQ(c.equality, std::vector<std::string>{"status"});
  EXPECT_EQ(c.range, std::vector<std::string>{"total"});

  c = AnalyzeCondition("((o.user_id = u.id) AND (u.country = ANY ('{US,FR}'::text[])))");
  ASSERT_TRUE(c.parsed);
  EXPECT_EQ(c.equality, (std::vector<std::string>{"user_id", "country"}));

  c = AnalyzeCondition("(note ~~ 'y%'::text)");
  EXPECT_EQ(c.like_prefix, std::vector<std::string>{"note"});
  c = AnalyzeCondition("(note ~~ '%y'::text)");
  EXPECT_EQ(c.unindexable, std::vector<std::string>{"note"});
  EXPECT_TRUE(c.range.empty());

  c = AnalyzeCondition("(deleted_at IS NULL)");
  EXPECT_EQ(c.equality, std::vector<std::string>{"deleted_at"});

  // Plan-only notation does not parse as SQL: no guess is made.
  c = AnalyzeCondition("(hashed SubPlan 1)");
  EXPECT_FALSE(c.parsed);
  EXPECT_TRUE(c.all.empty());
}

// A fix is run as it is printed: every line is SQL that libpg_query parses,
// or an SQL comment (a fix of comments only is advice, and parses too). Checked
// on every plan rule's examples and on every captured plan.
TEST_F(PlanRules, EveryFixIsRunnableSqlOrComments) {
  auto expect_parses = [](const Finding& f, const std::string& where) {
    SCOPED_TRACE(where + " " + f.rule);
    ASSERT_FALSE(f.suggestion.empty());
    std::string json;
    size_t pos = 0;
    Status st = ParseSqlToJson(f.suggestion, &json, &pos);
    EXPECT_TRUE(st.ok()) << st.message() << " at byte " << pos << " of:\n" << f.suggestion;
  };
  std::set<std::string> rules_seen;
  for (const Rule* r : book_->InArea("plan")) {
    for (const auto& ex : r->examples) {
      if (!ex.bad) continue;
      for (const Finding& f : Check(ReadText(ex.text, r->path))) {
        expect_parses(f, r->id + " example " + ex.name);
        rules_seen.insert(f.rule);
      }
    }
  }
  for (const auto& e :
       std::filesystem::directory_iterator(testing::SourceDir() + "/tests/data/plans")) {
    std::string name = e.path().filename().string();
    if (e.path().extension() != ".json" && e.path().extension() != ".txt") continue;
    for (const Finding& f : Check(ReadData(name))) {
      expect_parses(f, name);
      rules_seen.insert(f.rule);
    }
  }
  // Every handler produced at least one fix that was checked.
  EXPECT_EQ(rules_seen, PlanRuleIds());
  // And the check can fail: prose under a runnable line does not parse.
  std::string json;
  size_t pos = 0;
  EXPECT_FALSE(ParseSqlToJson("CREATE INDEX CONCURRENTLY ON orders (status);\nserves equality on "
                              "status",
                              &json, &pos)
                   .ok());
}

// Fixes name tables as SQL: quoted when the name needs it.
TEST_F(PlanRules, FixesQuoteNamesThatNeedIt) {
  std::string plan = R"j([{"Plan": {"Node Type": "Seq Scan", "Relation Name": "Order Items",
      "Alias": "oi", "Filter": "((\"Status\" = 'x'::text) AND (\"user\" = 'y'::text))",
      "Rows Removed by Filter": 99000, "Plan Rows": 1000, "Actual Rows": 10, "Actual Loops": 1},
      "Execution Time": 5}])j";
  std::vector<Finding> fs = Check(ReadText(plan));
  const Finding* f = FindRule(fs, "seq-scan-filters-most-rows");
  ASSERT_NE(f, nullptr) << Rules(fs);
  EXPECT_EQ(f->suggestion.rfind(
                "CREATE INDEX CONCURRENTLY ON \"Order Items\" (\"Status\", \"user\");", 0),
            0u)
      << f->suggestion;
}

// Which relation a node is about (Location.object and "Sort on orders").
std::string SortOverJoin(const std::string& keys) {
  return R"([{"Plan": {"Node Type": "Sort", "Sort Key": )" + keys +
         R"(, "Plan Rows": 10, "Plans": [
        {"Node Type": "Hash Join", "Parent Relationship": "Outer", "Plan Rows": 10, "Plans": [
          {"Node Type": "Seq Scan", "Relation Name": "customers", "Alias": "c",
           "Parent Relationship": "Outer", "Plan Rows": 10},
          {"Node Type": "Hash", "Parent Relationship": "Inner", "Plan Rows": 10, "Plans": [
            {"Node Type": "Seq Scan", "Relation Name": "orders", "Schema": "shop", "Alias": "o",
             "Parent Relationship": "Outer", "Plan Rows": 10}]}]}]}}])";
}

TEST_F(PlanRules, RelationOfANodeIsItsOwnOrHonestlyDerived) {
  using plan_checks::RelationOf;
  // The sort keys name one alias: the sort is about that alias's table, not
  // about the first table scanned below it (customers).
  Plan p = ReadText(SortOverJoin(R"j(["o.note DESC NULLS LAST"])j"));
  EXPECT_EQ(RelationOf(p.root), "shop.orders");
  p = ReadText(SortOverJoin(R"j(["(o.total * '2'::numeric)", "o.id"])j"));
  EXPECT_EQ(RelationOf(p.root), "shop.orders");
  // Keys over two tables, or no keys at all, above a join: no relation.
  p = ReadText(SortOverJoin(R"(["o.note", "c.name"])"));
  EXPECT_EQ(RelationOf(p.root), "");
  p = ReadText(SortOverJoin(R"j(["(random())"])j"));
  EXPECT_EQ(RelationOf(p.root), "");
  const PlanNode& join = p.root.children[0];
  EXPECT_EQ(RelationOf(join), "");
  // A node whose rows all come from one scan is about that scan's table.
  EXPECT_EQ(RelationOf(join.children[1]), "shop.orders");  // the Hash
  EXPECT_EQ(RelationOf(join.children[0]), "customers");
  EXPECT_EQ(plan_checks::RelationsBelow(p.root),
            (std::vector<std::string>{"customers", "shop.orders"}));
  // An alias the keys name but no relation scan has (a sub-query): none.
  p = ReadText(SortOverJoin(R"(["sub.x"])"));
  EXPECT_EQ(RelationOf(p.root), "");
}

// The golden plan: a Sort by o.note above customers JOIN orders.
TEST_F(PlanRules, SortAboveAJoinIsLabelledByItsKeys) {
  std::vector<Finding> fs = Check(ReadText(
      Slurp(testing::SourceDir() + "/tests/golden/explain/analyze-buffers.json"), "plan.json"));
  const Finding* f = FindRule(fs, "sort-spills-to-disk");
  ASSERT_NE(f, nullptr) << Rules(fs);
  EXPECT_EQ(f->location.node_type, "Sort");
  EXPECT_EQ(f->location.object, "orders");
}

// With the plan file's text in the context, each finding points at its
// node's "Node Type" value; without it (a plan fetched for a statement) the
// caller places findings and they carry no line.
TEST_F(PlanRules, FindingsInAPlanFileCarryTheirNodesLine) {
  // The n-th line holding `"Node Type": "<type>"`, and the column of the value.
  auto where = [](const std::string& text, const std::string& type, int nth) {
    const std::string needle = "\"Node Type\": \"" + type + "\"";
    size_t at = std::string::npos;
    for (int i = 0; i < nth; ++i) at = text.find(needle, at == std::string::npos ? 0 : at + 1);
    EXPECT_NE(at, std::string::npos) << type;
    LineCol lc = SourceText("x", text).At(at + needle.size() - type.size() - 2);
    return std::to_string(lc.line) + ":" + std::to_string(lc.column);
  };
  auto check = [&](const std::string& file) {
    std::string text = Slurp(testing::SourceDir() + "/tests/golden/explain/" + file);
    SourceText src(file, text);
    Plan p = ReadText(text, file);
    PlanCheckContext ctx;
    ctx.rules = book_;
    ctx.file = file;
    ctx.source = &src;
    std::vector<Finding> fs = CheckPlan(p, ctx);
    EXPECT_FALSE(fs.empty());
    for (const Finding& f : Check(p)) EXPECT_EQ(f.location.line, 0) << f.rule;
    std::map<std::string, std::string> at;
    for (const Finding& f : fs)
      at[f.rule] = std::to_string(f.location.line) + ":" + std::to_string(f.location.column);
    return std::make_pair(text, at);
  };
  auto [json, at] = check("analyze-buffers.json");
  EXPECT_EQ(at["sort-spills-to-disk"], where(json, "Sort", 1));
  EXPECT_EQ(at["sort-spills-to-disk"], "4:20");
  EXPECT_EQ(at["hash-join-multiple-batches"], where(json, "Hash", 1));
  EXPECT_EQ(at["seq-scan-filters-most-rows"], where(json, "Seq Scan", 2));  // orders, not customers
  EXPECT_EQ(at["row-misestimate"], where(json, "Seq Scan", 2));
  // psql's aligned output: the line of the paste, the column after psql's margin.
  auto [psql, at2] = check("psql-paste.txt");
  EXPECT_EQ(at2["seq-scan-filters-most-rows"], where(psql, "Seq Scan", 1));
  EXPECT_EQ(at2["seq-scan-filters-most-rows"], "56:33");
}

}  // namespace
}  // namespace pgvise
