// EXPLAIN JSON reading and plan checks, MB/s on a large real plan
// (tests/data/plans/large-union.json: PG 15, EXPLAIN (ANALYZE, BUFFERS,
// VERBOSE) of a 400-branch UNION ALL of joins, 2.4 MB). Side by side in one
// run: the two JSON parsers available (simdjson's DOM, nlohmann::json) on
// the same bytes, then pgvise's ReadPlan (simdjson + typed tree) alone and
// with every plan check. Goal (issue 2): read + checks >= 500 MB/s.
//
//   ninja -C build plan_bench && build/plan_bench --benchmark_min_time=1
//
// Figures and the command: bench/plan.md.
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "analyzer/plan/plan.h"
#include "analyzer/plan/plan_rules.h"
#include "tests/support/pg_test.h"

namespace pgvise {
namespace {

const std::string& LargePlan() {
  static const std::string text = [] {
    std::ifstream f(testing::SourceDir() + "/tests/data/plans/large-union.json", std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }();
  return text;
}

const RuleBook& Rules() {
  static const RuleBook book = [] {
    RuleBook b;
    Status st = RuleBook::LoadDir(testing::SourceDir() + "/rules", &b);
    if (!st.ok()) throw Error(st);
    return b;
  }();
  return book;
}

void BM_SimdjsonDom(benchmark::State& state) {
  const std::string& text = LargePlan();
  simdjson::padded_string padded(text);
  simdjson::dom::parser parser;
  for (auto _ : state) {
    simdjson::dom::element doc;
    if (parser.parse(padded).get(doc) != simdjson::SUCCESS) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(doc);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_SimdjsonDom);

void BM_NlohmannJson(benchmark::State& state) {
  const std::string& text = LargePlan();
  for (auto _ : state) {
    nlohmann::json j = nlohmann::json::parse(text);
    benchmark::DoNotOptimize(j);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_NlohmannJson);

void BM_ReadPlan(benchmark::State& state) {
  SourceText src("large-union.json", LargePlan());
  for (auto _ : state) {
    Plan plan;
    Status st = ReadPlan(src, &plan);
    if (!st.ok()) state.SkipWithError(st.message().c_str());
    benchmark::DoNotOptimize(plan);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(src.text().size()));
}
BENCHMARK(BM_ReadPlan);

void BM_ReadPlanAndCheck(benchmark::State& state) {
  SourceText src("large-union.json", LargePlan());
  PlanCheckContext ctx;
  ctx.rules = &Rules();
  ctx.file = "large-union.json";
  size_t findings = 0;
  for (auto _ : state) {
    Plan plan;
    Status st = ReadPlan(src, &plan);
    if (!st.ok()) state.SkipWithError(st.message().c_str());
    std::vector<Finding> fs = CheckPlan(plan, ctx);
    findings = fs.size();
    benchmark::DoNotOptimize(fs);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(src.text().size()));
  state.counters["findings"] = static_cast<double>(findings);
}
BENCHMARK(BM_ReadPlanAndCheck);

void BM_CheckPlanOnly(benchmark::State& state) {
  SourceText src("large-union.json", LargePlan());
  Plan plan;
  if (!ReadPlan(src, &plan).ok()) state.SkipWithError("read failed");
  PlanCheckContext ctx;
  ctx.rules = &Rules();
  for (auto _ : state) {
    std::vector<Finding> fs = CheckPlan(plan, ctx);
    benchmark::DoNotOptimize(fs);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(src.text().size()));
  state.counters["nodes"] = static_cast<double>(plan.node_count);
}
BENCHMARK(BM_CheckPlanOnly);

// The same plan as psql prints it (header, '+' continuations, footer): the
// unwrapping pass plus the read.
void BM_ReadPlanPsqlAligned(benchmark::State& state) {
  const std::string& json = LargePlan();
  std::string wrapped = " QUERY PLAN\n------------\n";
  std::istringstream in(json);
  std::string line;
  while (std::getline(in, line)) wrapped += " " + line + " +\n";
  wrapped += "(1 row)\n";
  SourceText src("large-union.txt", wrapped);
  for (auto _ : state) {
    Plan plan;
    Status st = ReadPlan(src, &plan);
    if (!st.ok()) state.SkipWithError(st.message().c_str());
    benchmark::DoNotOptimize(plan);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(wrapped.size()));
}
BENCHMARK(BM_ReadPlanPsqlAligned);

}  // namespace
}  // namespace pgvise

BENCHMARK_MAIN();
