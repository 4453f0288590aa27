#include "advisor/ext_statistics.h"

namespace pgvise {

void AdviseStatistics(Session&, const Catalog&, const Workload&, const AdviseOptions&,
                      AdviseReport*) {}

void AddStatisticsReport(const AdviseReport&, Report*) {}

Status VerifyStatistics(Session&, const AdviseOptions&, AdviseReport*) { return Status::Ok(); }

}  // namespace pgvise
