// libFuzzer target for the rewriter: bytes -> SourceText::Validate ->
// ParseSqlFile -> RewriteSql (every pass, no catalog) for each statement.
// Nothing may crash or trip ASan/UBSan, and a rewrite the passes produce must
// parse again (parse -> rewrite -> deparse -> re-parse): a rewrite that
// does not is a bug, so the target aborts on it.
//
//   ninja -C build-asan rewrite_fuzz   (configured as in sql_fuzz.cc)
//   build-asan/rewrite_fuzz -max_total_time=60 -timeout=10 /tmp/work fuzz/corpus/rewrite
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "analyzer/sql/statement.h"
#include "core/source.h"
#include "rewriter/rewriter.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pgvise::SourceText src("fuzz.sql", std::string(reinterpret_cast<const char*>(data), size));
  if (!src.Validate().ok()) return 0;
  pgvise::SqlFile file;
  if (!pgvise::ParseSqlFile(std::move(src), &file).ok()) return 0;
  pgvise::RewriteOptions o;
  for (const auto& st : file.statements) {
    if (!st.parsed) continue;
    pgvise::RewriteResult r;
    if (!pgvise::RewriteSql(st.sql, o, &r).ok() || !r.changed) continue;
    pgvise::SqlFile again;
    if (!pgvise::ParseSqlFile(pgvise::SourceText("rewritten.sql", r.sql), &again).ok() ||
        again.statements.empty() || !again.statements[0].parsed) {
      std::fprintf(stderr, "rewrite does not re-parse:\n%s\n--- from ---\n%s\n", r.sql.c_str(),
                   st.sql.c_str());
      std::abort();
    }
  }
  return 0;
}
