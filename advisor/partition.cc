#include "advisor/partition.h"

namespace pgvise {

void AdvisePartitions(Session&, const Catalog&, const Workload&, const AdviseOptions&,
                      AdviseReport*) {}

void AddPartitionReport(const AdviseReport&, Report*) {}

Status VerifyPartitions(Session&, const AdviseOptions&, AdviseReport*) { return Status::Ok(); }

}  // namespace pgvise
