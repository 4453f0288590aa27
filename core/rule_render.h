// Renders the rule book — what `pgvise rules` prints, after --rules and the
// config file are applied: a table of every rule (area, severity, enabled,
// summary) in text or JSON, one rule in full (rationale, fix, thresholds,
// examples), or the rules reference in Markdown (docs/rules-reference.md is
// this output, checked by a test so it cannot go stale). It shows the
// effective settings, so it is also how a user checks their .pgvise.yaml.
// The command (cli/cmd_rules.cc) only finds the rule and writes the text.
#pragma once

#include <string>

#include "core/rule.h"

namespace pgvise {

// `format` is text | json | markdown (the caller validates it). With `one`,
// text and JSON show that rule in full; Markdown is always the whole
// reference, every rule grouped by area.
std::string RenderRuleBook(const RuleBook& book, const Rule* one, const std::string& format);

}  // namespace pgvise
