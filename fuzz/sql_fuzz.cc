// libFuzzer target for the SQL review path, end to end minus the CLI:
// bytes -> SourceText::Validate -> ParseSqlFile -> ExtractFileFacts ->
// ReviewSqlFile (every migration and query rule) -> SortFindings ->
// RenderFindings. Nothing may crash, hang or trip ASan/UBSan whatever the
// bytes; input the validator rejects stops early, as it does in
// `pgvise review`.
//
// Speed (bench/fuzz.md): per input, parsing costs in proportion to its size
// (a 20 KB seed: 5-16 ms, uninstrumented) and rendering in proportion to the
// findings (queries.sql: 4 of its 4.2 ms went to the four renderers). So
// each input is rendered in one format, chosen by its size (size % 4:
// deterministic, so a crash reproduces from the file alone, and mutations
// that change the length reach every format), and long runs cap the input
// length with -max_len=4096 (bench/fuzz_campaign.sh); the deep seeds (20k
// terms) run in a pass of their own with a larger -max_len.
//
//   cmake -S . -B build-fuzz -G Ninja -DPGVISE_FUZZ=ON -DPGVISE_SANITIZE=ON
//     -DPGVISE_BENCH=OFF -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++
//   ninja -C build-fuzz sql_fuzz
//   build-fuzz/sql_fuzz -max_total_time=60 -timeout=10 /tmp/work fuzz/corpus/sql
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "analyzer/review/sql_rules.h"
#include "analyzer/sql/query_facts.h"
#include "analyzer/sql/statement.h"
#include "core/render.h"
#include "core/rule.h"
#include "core/source.h"

namespace {

// Rules load once: the YAML is not what this target fuzzes.
const pgvise::RuleBook& Rules() {
  static const pgvise::RuleBook* book = [] {
    auto* b = new pgvise::RuleBook();
    pgvise::Status st = pgvise::RuleBook::LoadDefault("", "", b);
    if (!st.ok()) {
      std::fprintf(stderr, "sql_fuzz: %s\n", st.message().c_str());
      std::abort();
    }
    return b;
  }();
  return *book;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pgvise::SourceText src("fuzz.sql", std::string(reinterpret_cast<const char*>(data), size));
  if (!src.Validate().ok()) return 0;
  pgvise::SqlFile file;
  if (!pgvise::ParseSqlFile(src, &file).ok()) return 0;
  std::vector<pgvise::QueryFacts> facts = pgvise::ExtractFileFacts(file);  // copies FactsOf
  if (facts.size() != file.statements.size()) std::abort();
  pgvise::SqlReviewContext ctx;
  ctx.rules = &Rules();
  std::vector<pgvise::Finding> findings = pgvise::ReviewSqlFile(file, ctx);
  for (const auto& f : findings) {
    // Every finding must point inside the file it came from.
    if (f.location.line < 0 || f.location.column < 0) std::abort();
  }
  pgvise::SortFindings(&findings);
  pgvise::RenderOptions ro;
  ro.rules = &Rules();
  ro.inputs = {"fuzz.sql"};
  static const char* const kFormats[] = {"text", "json", "sarif", "markdown"};
  ro.format = kFormats[size % 4];
  if (pgvise::RenderFindings(findings, ro).empty()) std::abort();
  return 0;
}
