// libFuzzer target for the YAML pgvise reads: the first byte picks what the
// rest is — a rule file (ParseRule, rules/<area>/<id>.yaml) or a user's
// .pgvise.yaml (RuleBook::ApplyConfig over the shipped rules). Nothing may
// crash; a bad file must come back as a Status (exit 2 in the CLI), never as
// an exception escaping yaml-cpp.
//
//   ninja -C build-asan config_fuzz   (configured as in sql_fuzz.cc)
//   build-asan/config_fuzz -max_total_time=60 -timeout=10 /tmp/work fuzz/corpus/config
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "core/rule.h"

namespace {

const pgvise::RuleBook& Shipped() {
  static const pgvise::RuleBook* book = [] {
    auto* b = new pgvise::RuleBook();
    pgvise::Status st = pgvise::RuleBook::LoadDefault("", "", b);
    if (!st.ok()) {
      std::fprintf(stderr, "config_fuzz: %s\n", st.message().c_str());
      std::abort();
    }
    return b;
  }();
  return *book;
}

const std::string& ConfigPath() {
  static const std::string path = "/tmp/pgvise-config-fuzz-" + std::to_string(getpid()) + ".yaml";
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    pgvise::Rule rule;
    (void)pgvise::ParseRule(text, "rules/query/fuzz.yaml", &rule);
    return 0;
  }
  {
    std::ofstream f(ConfigPath(), std::ios::binary | std::ios::trunc);
    f << text;
  }
  pgvise::RuleBook book = Shipped();
  (void)book.ApplyConfig(ConfigPath());
  return 0;
}
