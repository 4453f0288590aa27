// JSON shapes of the report model (the contract in docs/contracts.md).
// Every command's `--format json` builds its document from these, so a
// Finding or a Recommendation looks the same wherever it appears.
#pragma once

#include <nlohmann/json.hpp>

#include "core/finding.h"

namespace pgvise {

nlohmann::ordered_json ToJson(const Location& l);
nlohmann::ordered_json ToJson(const std::vector<Evidence>& e);
nlohmann::ordered_json ToJson(const Finding& f);
nlohmann::ordered_json ToJson(const QueryBenefit& b);
nlohmann::ordered_json ToJson(const Recommendation& r);

}  // namespace pgvise
