// libFuzzer target for the workload file reader (`advise -w FILE`): bytes ->
// AddSqlText -> a Workload (statements, `-- pgvise: calls=N` weights,
// fingerprints, duplicates merged). Nothing may crash or trip ASan/UBSan;
// what the reader cannot use comes back as a Status or a skipped statement.
//
//   ninja -C build-asan workload_fuzz   (configured as in sql_fuzz.cc)
//   build-asan/workload_fuzz -max_total_time=60 -timeout=10 /tmp/work fuzz/corpus/workload
#include <cstddef>
#include <cstdint>
#include <string>

#include "advisor/workload.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pgvise::Workload w;
  (void)pgvise::AddSqlText("fuzz.sql", std::string(reinterpret_cast<const char*>(data), size), &w);
  return 0;
}
