// libFuzzer target for plan reading: arbitrary bytes go through the input
// validation `pgvise explain` does (SourceText), then ReadPlan, then every
// plan check and the notes. None of it may crash, hang or trip ASan/UBSan;
// errors must come back as a Status.
//
//   cmake -S . -B build-fuzz -G Ninja -DPGVISE_FUZZ=ON -DPGVISE_SANITIZE=ON -DPGVISE_BENCH=OFF \
//     -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++
//   ninja -C build-fuzz plan_fuzz
//   build-fuzz/plan_fuzz -max_total_time=60 /tmp/plan-corpus fuzz/corpus/plan
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "analyzer/plan/plan.h"
#include "analyzer/plan/plan_rules.h"
#include "core/rule.h"
#include "core/source.h"

namespace {

const pgvise::RuleBook* Rules() {
  static pgvise::RuleBook* book = [] {
    auto* b = new pgvise::RuleBook();
    if (!pgvise::RuleBook::LoadDir(std::string(PGVISE_SOURCE_DIR) + "/rules", b).ok()) {
      std::abort();  // the plan checks' thresholds live only in the YAML
    }
    return b;
  }();
  return book;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pgvise::SourceText src("fuzz.json", std::string(reinterpret_cast<const char*>(data), size));
  // The CLI stops at a validation error; the reader must be safe either way.
  (void)src.Validate();
  pgvise::Plan plan;
  if (!pgvise::ReadPlan(src, &plan).ok()) return 0;
  pgvise::PlanCheckContext ctx;
  ctx.rules = Rules();
  ctx.file = "fuzz.json";
  ctx.source = &src;  // as `pgvise explain FILE`: findings locate their node in the text
  std::vector<pgvise::Finding> findings = pgvise::CheckPlan(plan, ctx);
  std::vector<std::string> notes = pgvise::PlanCheckNotes(plan, ctx);
  return static_cast<int>(findings.size() + notes.size()) * 0;
}
