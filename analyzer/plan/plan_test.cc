#include "analyzer/plan/plan.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/support/pg_test.h"

namespace pgvise {
namespace {

namespace fs = std::filesystem;

std::string DataDir() { return testing::SourceDir() + "/tests/data/plans"; }

std::string Slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

Status Read(const std::string& text, Plan* out, const std::string& path = "plan.json") {
  SourceText src(path, text);
  return ReadPlan(src, out);
}

double NumOr(const nlohmann::json& j, const char* key, double fallback) {
  return j.contains(key) ? j[key].get<double>() : fallback;
}
std::string StrOr(const nlohmann::json& j, const char* key) {
  return j.contains(key) ? j[key].get<std::string>() : "";
}

// Compares our tree with an independent parse (nlohmann) of the same JSON,
// node by node, on the fields the checks depend on.
void ExpectSameTree(const PlanNode& n, const nlohmann::json& j, const std::string& path) {
  SCOPED_TRACE(path);
  EXPECT_EQ(n.path, path);
  EXPECT_EQ(n.node_type, j.at("Node Type").get<std::string>());
  EXPECT_EQ(n.relation, StrOr(j, "Relation Name"));
  EXPECT_EQ(n.alias, StrOr(j, "Alias"));
  EXPECT_EQ(n.filter, StrOr(j, "Filter"));
  EXPECT_EQ(n.parent_relationship, StrOr(j, "Parent Relationship"));
  EXPECT_DOUBLE_EQ(n.plan_rows, j.at("Plan Rows").get<double>());
  EXPECT_DOUBLE_EQ(n.total_cost, j.at("Total Cost").get<double>());
  EXPECT_DOUBLE_EQ(n.actual_rows, NumOr(j, "Actual Rows", 0));
  EXPECT_DOUBLE_EQ(n.actual_loops, NumOr(j, "Actual Loops", 0));
  EXPECT_DOUBLE_EQ(n.actual_total_ms, NumOr(j, "Actual Total Time", 0));
  EXPECT_DOUBLE_EQ(n.rows_removed_by_filter, NumOr(j, "Rows Removed by Filter", 0));
  EXPECT_EQ(n.sort_space_kb, static_cast<int64_t>(NumOr(j, "Sort Space Used", -1)));
  EXPECT_EQ(n.hash_batches, static_cast<int64_t>(NumOr(j, "Hash Batches", -1)));
  EXPECT_EQ(n.heap_fetches, static_cast<int64_t>(NumOr(j, "Heap Fetches", -1)));
  EXPECT_EQ(n.lossy_heap_blocks, static_cast<int64_t>(NumOr(j, "Lossy Heap Blocks", -1)));
  EXPECT_EQ(n.workers_launched, static_cast<int64_t>(NumOr(j, "Workers Launched", -1)));
  EXPECT_EQ(n.buffers.shared_read, static_cast<int64_t>(NumOr(j, "Shared Read Blocks", 0)));
  EXPECT_EQ(n.buffers.shared_hit, static_cast<int64_t>(NumOr(j, "Shared Hit Blocks", 0)));
  size_t kids = j.contains("Plans") ? j["Plans"].size() : 0;
  ASSERT_EQ(n.children.size(), kids);
  for (size_t i = 0; i < kids; ++i)
    ExpectSameTree(n.children[i], j["Plans"][i], path + ".Plans[" + std::to_string(i) + "]");
}

TEST(ReadPlan, EveryCapturedPlanMatchesAnIndependentParse) {
  int files = 0;
  for (const auto& e : fs::directory_iterator(DataDir())) {
    if (e.path().extension() != ".json") continue;
    SCOPED_TRACE(e.path().string());
    std::string text = Slurp(e.path());
    Plan plan;
    Status st = Read(text, &plan, e.path().string());
    ASSERT_TRUE(st.ok()) << st.message();
    nlohmann::json j = nlohmann::json::parse(text).at(0);
    ExpectSameTree(plan.root, j.at("Plan"), "Plan");
    EXPECT_EQ(plan.analyzed, j.contains("Execution Time"));
    EXPECT_DOUBLE_EQ(plan.planning_ms, NumOr(j, "Planning Time", -1));
    EXPECT_DOUBLE_EQ(plan.execution_ms, NumOr(j, "Execution Time", -1));
    EXPECT_EQ(plan.root_path_prefix, "[0].");
    ++files;
  }
  EXPECT_GE(files, 15);
}

TEST(ReadPlan, TopLevelSections) {
  Plan p;
  ASSERT_TRUE(Read(Slurp(DataDir() + "/verbose-wal-settings.json"), &p).ok());
  EXPECT_EQ(p.settings.at("work_mem"), "2MB");
  EXPECT_TRUE(p.has_buffers);
  EXPECT_TRUE(p.planning_buffers.present);
  EXPECT_FALSE(p.root.output.empty());  // VERBOSE
  // "Query Identifier" is not modelled: kept raw.
  bool qid = false;
  for (const auto& [k, v] : p.extra) qid = qid || k == "Query Identifier";
  EXPECT_TRUE(qid);

  ASSERT_TRUE(Read(Slurp(DataDir() + "/triggers.json"), &p).ok());
  ASSERT_EQ(p.triggers.size(), 1u);
  EXPECT_EQ(p.triggers[0].relation, "order_notes");
  EXPECT_EQ(p.triggers[0].calls, 500);
  EXPECT_TRUE(p.has_wal);
  EXPECT_TRUE(p.root.wal.present);
  EXPECT_GT(p.root.wal.records, 0);

  ASSERT_TRUE(Read(Slurp(DataDir() + "/jit.json"), &p).ok());
  EXPECT_TRUE(p.jit.present);
  EXPECT_GT(p.jit.total_ms, 0);
  EXPECT_GT(p.jit.functions, 0);
  EXPECT_TRUE(p.jit.options.at("Inlining"));

  ASSERT_TRUE(Read(Slurp(DataDir() + "/timing-off.json"), &p).ok());
  EXPECT_TRUE(p.analyzed);
  EXPECT_FALSE(p.has_timing);

  ASSERT_TRUE(Read(Slurp(DataDir() + "/estimate-only.json"), &p).ok());
  EXPECT_FALSE(p.analyzed);
  EXPECT_TRUE(p.jit.present);
  EXPECT_LT(p.jit.total_ms, 0);  // no timing without ANALYZE
}

// Wraps JSON the way psql's aligned format prints a one-column result.
std::string AsPsqlAligned(const std::string& json) {
  std::vector<std::string> lines;
  std::istringstream in(json);
  std::string l;
  size_t width = 10;
  while (std::getline(in, l)) {
    lines.push_back(l);
    width = std::max(width, l.size());
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  std::string out =
      std::string((width - 10) / 2 + 1, ' ') + "QUERY PLAN\n" + std::string(width + 2, '-') + "\n";
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string pad(width - lines[i].size(), ' ');
    out += " " + lines[i] + pad + (i + 1 < lines.size() ? "+" : "") + "\n";
  }
  return out + "(1 row)\n\n";
}

TEST(ReadPlan, PsqlOutputPastedAsIs) {
  // Real psql output (aligned, expanded, unaligned) captured by capture.sh.
  for (const char* f : {"psql-aligned.txt", "psql-expanded.txt", "psql-unaligned.txt"}) {
    SCOPED_TRACE(f);
    Plan p;
    Status st = Read(Slurp(DataDir() + "/" + f), &p, f);
    ASSERT_TRUE(st.ok()) << st.message();
    EXPECT_FALSE(p.root.node_type.empty());
    EXPECT_GT(p.node_count, 0u);
  }
  // The aligned form of a captured plan reads to the same tree as the JSON.
  std::string json = Slurp(DataDir() + "/nested-loop.json");
  Plan direct, wrapped;
  ASSERT_TRUE(Read(json, &direct).ok());
  Status st = Read(AsPsqlAligned(json), &wrapped);
  ASSERT_TRUE(st.ok()) << st.message();
  ExpectSameTree(wrapped.root, nlohmann::json::parse(json).at(0).at("Plan"), "Plan");
  EXPECT_EQ(wrapped.node_count, direct.node_count);
}

TEST(ReadPlan, BareObjectAndUnknownKeys) {
  Plan p;
  Status st = Read(R"({"Plan": {"Node Type": "Seq Scan", "Relation Name": "t", "Plan Rows": 5,
      "Future Key": {"a": [1, 2]}, "Another New Key": false}, "Brand New Section": 1})",
                   &p);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(p.root_path_prefix, "");
  EXPECT_EQ(p.root.relation, "t");
  ASSERT_EQ(p.root.extra.size(), 2u);
  EXPECT_EQ(p.root.extra[0].first, "Future Key");
  EXPECT_EQ(p.root.extra[0].second, R"({"a":[1,2]})");
  ASSERT_EQ(p.extra.size(), 1u);
  EXPECT_EQ(p.extra[0].first, "Brand New Section");
}

TEST(ReadPlan, VersionDifferences) {
  // PG17: JIT Generation as an object, per-kind I/O timing, Serialization,
  // planning memory. PG18: Disabled, fractional Actual Rows, Index Searches.
  Plan p;
  Status st =
      Read(R"([{"Plan": {"Node Type": "Index Scan", "Relation Name": "t", "Index Name": "t_pkey",
      "Disabled": true, "Plan Rows": 1, "Total Cost": 8.3, "Actual Rows": 0.50, "Actual Loops": 2,
      "Index Searches": 2, "Shared Hit Blocks": 4, "Shared Read Blocks": 1, "Shared I/O Read Time": 0.25},
      "Planning": {"Shared Hit Blocks": 3, "Memory Used": 20, "Memory Allocated": 32},
      "Planning Time": 0.1, "Serialization": {"Time": 0.01, "Output Volume": 1, "Format": "text"},
      "JIT": {"Functions": 3, "Options": {"Inlining": false},
              "Timing": {"Generation": {"Deform": 0.1, "Total": 0.4}, "Inlining": 0.0,
                         "Optimization": 1.0, "Emission": 2.0, "Total": 3.4}},
      "Execution Time": 4.0}])",
           &p);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_TRUE(p.root.disabled);
  EXPECT_DOUBLE_EQ(p.root.actual_rows, 0.5);
  EXPECT_DOUBLE_EQ(p.root.TotalActualRows(), 1.0);
  EXPECT_EQ(p.root.index_searches, 2);
  EXPECT_DOUBLE_EQ(p.root.buffers.io_read_ms, 0.25);
  EXPECT_DOUBLE_EQ(p.jit.generation_ms, 0.4);
  EXPECT_DOUBLE_EQ(p.jit.total_ms, 3.4);
  EXPECT_EQ(p.planning_buffers.shared_hit, 3);
  bool memory = false, serialization = false;
  for (const auto& [k, v] : p.extra) {
    memory = memory || k == "Planning.Memory Used";
    serialization = serialization || k == "Serialization";
  }
  EXPECT_TRUE(memory);
  EXPECT_TRUE(serialization);
}

Status ReadError(const std::string& text) {
  Plan p;
  return Read(text, &p);
}

TEST(ReadPlan, SyntaxErrorsSayLineAndColumn) {
  Status st =
      ReadError("[\n {\"Plan\": {\n  \"Node Type\": \"Seq Scan\",\n  \"Plan Rows\": 12x\n }}\n]\n");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Status::Code::kInvalidInput);
  EXPECT_EQ(st.message().rfind("plan.json:4:", 0), 0u) << st.message();
  EXPECT_EQ(st.message().find('\n'), std::string::npos);

  // A truncated capture: cut a real plan in the middle. The error is just
  // after the last complete token, the end of what the file holds.
  std::string json = Slurp(DataDir() + "/sort-spill.json");
  std::string cut = json.substr(0, json.size() / 2);
  st = ReadError(cut);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("truncated"), std::string::npos) << st.message();
  size_t end = cut.find_last_not_of(" \t\r\n") + 1;
  // A cut inside a string or a literal is reported where that token starts.
  if (cut.substr(end - 1, 1) != "," && cut.substr(end - 1, 1) != ":") end = std::string::npos;
  if (end != std::string::npos) {
    LineCol lc = SourceText("plan.json", cut).At(end);
    EXPECT_EQ(
        st.message().rfind(
            "plan.json:" + std::to_string(lc.line) + ":" + std::to_string(lc.column) + ": ", 0),
        0u)
        << st.message();
  }

  // Errors inside psql output point at the original line, not the unwrapped one.
  std::string psql =
      AsPsqlAligned("[\n {\"Plan\": {\n  \"Node Type\": \"Seq Scan\",,\n  \"Plan Rows\": 1}}\n]");
  st = ReadError(psql);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message().rfind("plan.json:5:", 0), 0u) << st.message();  // header + dashes + 3
}

// Where each kind of malformed JSON is reported: a missing token just after
// the last complete value (where it belongs), a wrong token where it starts.
TEST(ReadPlan, MalformedJsonPointsAtTheMistake) {
  struct Case {
    const char* name;
    const char* text;
    const char* where;  // "line:col"
    const char* says;
  } cases[] = {
      // The comma after "Seq Scan" is missing: right after its closing quote,
      // not at the next key (5:22 is where a reading parser gives up).
      {"missing comma",
       "[\n {\n  \"Plan\": {\n   \"Node Type\": \"Seq Scan\"\n   \"Plan Rows\": 1\n  }\n }\n]\n",
       "4:27", "expected ',' or '}' after the value of \"Node Type\", found string \"Plan Rows\""},
      {"missing comma in an array",
       "[\n {\"Plan\": {\"Node Type\": \"Append\", \"Plans\": [{}\n {}]}}\n]", "2:47",
       "expected ',' or ']' after array element [0]"},
      {"missing colon", "{\"Plan\": {\"Node Type\" \"Seq Scan\"}}", "1:22",
       "expected ':' after \"Node Type\", found string \"Seq Scan\""},
      {"unclosed object", "[\n {\"Plan\": {\"Node Type\": \"Seq Scan\",\n  \"Plan Rows\": 5\n]",
       "3:17", "expected ',' or '}' after the value of \"Plan Rows\", found ']'"},
      {"truncated", "[\n {\"Plan\": {\"Node Type\": \"Seq Scan\",\n  \"Plan Rows\": 5", "3:17",
       "truncated JSON: unexpected end of input, expected ',' or '}' after the value of \"Plan "
       "Rows\"; 3 objects or arrays still open"},
      {"truncated inside a string", "[{\"Plan\": {\"Node Type\": \"Seq Sc", "1:25",
       "truncated JSON: unterminated string"},
      {"trailing garbage", "[{\"Plan\": {\"Node Type\": \"Result\"}}]\n(1 row)\n", "2:1",
       "unexpected '(' after the end of the JSON document"},
      {"trailing comma", "{\"Plan\": {\"Node Type\": \"Result\",}}", "1:32",
       "trailing ',' before '}'"},
      {"bad literal", "{\"Plan\": {\"Node Type\": \"Result\", \"Parallel Aware\": False}}", "1:52",
       "invalid literal 'False'"},
      {"bad number", "{\"Plan\": {\"Node Type\": \"Result\",\n \"Plan Rows\": 12x}}", "2:15",
       "invalid number '12x'"},
      {"single quotes", "{\"Plan\": {\"Node Type\": 'Result'}}", "1:24",
       "strings must be in double quotes"},
      {"line break in a string", "{\"Plan\": {\"Node Type\": \"Seq\nScan\"}}", "1:28",
       "line break inside a string"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Status st = ReadError(c.text);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.exit_code(), ExitCode::kInputError);
    EXPECT_EQ(
        st.message().rfind(std::string("plan.json:") + c.where + ": invalid EXPLAIN JSON: ", 0), 0u)
        << st.message();
    EXPECT_NE(st.message().find(c.says), std::string::npos) << st.message();
    EXPECT_EQ(st.message().find('\n'), std::string::npos) << st.message();
  }
}

// The golden file's case: clean.json minus the comma at the end of line 4.
TEST(ReadPlan, MalformedGoldenFileSaysLine4Column32) {
  std::string text = Slurp(testing::SourceDir() + "/tests/golden/explain/malformed.json");
  Status st = ReadError(text);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message().rfind("plan.json:4:32: ", 0), 0u) << st.message();
}

// A value of the wrong type: its JSON path and where it is in the file.
TEST(ReadPlan, StructuralErrorsSayLineAndColumnToo) {
  struct Case {
    const char* text;
    const char* starts;
  } cases[] = {
      {"[\n {\n  \"Plan\": {\n   \"Node Type\": \"Seq Scan\",\n   \"Plan Rows\": \"one\"\n  }\n "
       "}\n]",
       "plan.json:5:17: [0].Plan.Plan Rows: unexpected string for \"Plan Rows\""},
      {"{\"Plan\": {\"Node Type\": \"Hash Join\",\n \"Plans\": [{\"Node Type\": \"Seq Scan\"},\n "
       " {\"Plan Rows\": 1}]}}",
       "plan.json:3:3: Plan.Plans[1]: plan node has no \"Node Type\""},
      {"[{\"Plan\": {\"Node Type\": \"Result\"},\n  \"Execution Time\": \"fast\"}]",
       "plan.json:2:21: [0].Execution Time: must be a number"},
      {"[{\"Plan\": {\"Node Type\": \"Result\"}, \"JIT\": {\"Timing\": 3}}]",
       "plan.json:1:54: [0].JIT.Timing: must be an object"},
      {"[]", "plan.json:1:1: []: empty array"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    Status st = ReadError(c.text);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.message().rfind(c.starts, 0), 0u) << st.message();
  }
  // Through psql's decoration: the line and column of the original paste.
  std::string psql =
      AsPsqlAligned("[\n {\"Plan\": {\n  \"Node Type\": \"Seq Scan\",\n  \"Plan Rows\": true}}\n]");
  Status st = ReadError(psql);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message().rfind("plan.json:6:17: [0].Plan.Plan Rows: ", 0), 0u) << st.message();
}

TEST(ReadPlan, StructuralErrorsSayTheJsonPath) {
  struct Case {
    const char* text;
    const char* path;
  } cases[] = {
      {"", "empty"},
      {"  \n\t ", "empty"},
      {"[]", "[]: empty array"},
      {"[1]", "[0]: expected an object"},
      {"\"text\"", "expected '[' or '{'"},
      {"42", "expected '[' or '{'"},
      {R"({"name": "pgvise", "version": 1})", "no \"Plan\" key"},
      {R"([{"Plan": {"Node Type": "Hash Join", "Plans": {"Node Type": "Hash"}}}])",
       "[0].Plan.Plans: must be an array"},
      {R"([{"Plan": {"Node Type": "Hash Join", "Plans": [{"Node Type": "Seq Scan"}, {"Plan Rows": 1}]}}])",
       "[0].Plan.Plans[1]: plan node has no \"Node Type\""},
      {R"([{"Plan": {"Node Type": "Seq Scan", "Plan Rows": "many"}}])",
       "[0].Plan.Plan Rows: unexpected string"},
      {R"([{"Plan": {"Node Type": "Seq Scan"}, "Execution Time": "fast"}])",
       "[0].Execution Time: must be a number"},
      {"SELECT 1;", "expected '[' or '{'"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    Status st = ReadError(c.text);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.exit_code(), ExitCode::kInputError);
    EXPECT_NE(st.message().find(c.path), std::string::npos) << st.message();
    EXPECT_EQ(st.message().rfind("plan.json", 0), 0u) << st.message();
  }
}

TEST(ReadPlan, LargePlan) {
  Plan p;
  Status st = Read(Slurp(DataDir() + "/large-union.json"), &p);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_GT(p.node_count, 1000u);
  size_t widest = 0;
  ForEachNode(p.root, [&](const PlanNode& n) {
    if (n.node_type.find("Append") != std::string::npos)
      widest = std::max(widest, n.children.size());
  });
  EXPECT_EQ(widest, 400u);  // one branch per UNION ALL arm
}

}  // namespace
}  // namespace pgvise
