#include "advisor/patterns.h"

namespace pgvise {

void AdvisePatterns(Session&, const Catalog&, const Workload&, const AdviseOptions&,
                    AdviseReport*) {}

void AddPatternReport(const AdviseReport&, Report*) {}

}  // namespace pgvise
