// libFuzzer target for the YAML pgvise reads: the first byte picks what the
// rest is — a rule file (ParseRule, rules/<area>/<id>.yaml) or a user's
// .pgvise.yaml (RuleBook::ApplyConfigText over the shipped rules: what
// RuleBook::ApplyConfig runs on the file's text). Nothing may crash; a bad
// file must come back as a Status (exit 2 in the CLI), never as an exception
// escaping yaml-cpp; and a config changes settings only: it never adds or
// removes a rule, a threshold or an option (the target aborts if it does).
//
// Speed: each config is applied to one working copy of the shipped book,
// which is put back to the shipped settings afterwards (Restore), instead of
// a fresh copy of the whole book per input (ids, prose, examples: hundreds of
// allocations, each an ASan allocation with its stack) written to a temp
// file. Every input still starts from exactly the shipped rules.
//
//   ninja -C build-asan config_fuzz   (configured as in sql_fuzz.cc)
//   build-asan/config_fuzz -max_total_time=60 -timeout=10 /tmp/work fuzz/corpus/config
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
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

// Copies the values of `from` (same keys, in the same order) into `to`;
// false when the keys differ.
template <typename Map>
bool RestoreValues(const Map& from, Map* to) {
  if (from.size() != to->size()) return false;
  auto j = to->begin();
  for (auto i = from.begin(); i != from.end(); ++i, ++j) {
    if (i->first != j->first) return false;
    j->second = i->second;
  }
  return true;
}

// Puts `book` back to `shipped`'s settings (what ApplyConfig writes: enabled,
// severity, threshold and option values); false when the config changed
// anything else: which rules there are, a rule's id, area or path, or which
// thresholds and options a rule has.
bool Restore(const pgvise::RuleBook& shipped, pgvise::RuleBook* book) {
  if (book->all().size() != shipped.all().size()) return false;
  for (const auto& [id, s] : shipped.all()) {
    pgvise::Rule* r = book->Mutable(id);
    if (!r || r->id != s.id || r->area != s.area || r->path != s.path) return false;
    r->enabled = s.enabled;
    r->severity = s.severity;
    if (!RestoreValues(s.thresholds, &r->thresholds) || !RestoreValues(s.options, &r->options))
      return false;
  }
  return true;
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
  static pgvise::RuleBook* book = new pgvise::RuleBook(Shipped());
  (void)book->ApplyConfigText(text, "fuzz.pgvise.yaml");
  if (!Restore(Shipped(), book)) {
    std::fprintf(stderr, "config_fuzz: the config added or removed a rule or a setting\n");
    std::abort();
  }
  return 0;
}
