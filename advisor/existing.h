// Review of the indexes a database already has: which to drop, and the
// proof that dropping them does not make the workload slower. A step of
// `pgvise advise` after selection (so "does any plan use it" is asked with
// the recommended indexes in place).
//
// An index is a drop candidate when it is
//   - invalid: a failed CREATE INDEX CONCURRENTLY; the planner never uses
//     it, yet (when ready) every write still maintains it;
//   - a duplicate: same method, keys, INCLUDE and predicate as another;
//   - redundant: its keys are a leading prefix of another B-tree's keys
//     (same predicate, directions equal or all reversed), and it is not
//     unique — a unique index enforces something its extension does not;
//   - unused: no scan since the statistics were reset, counters older than
//     a week (configurable).
// An index backing a PRIMARY KEY / UNIQUE / EXCLUDE constraint is never
// dropped: it is the constraint.
//
// The proof: with HypoPG 1.4+ the index is hidden (hypopg_hide_index) and
// every workload statement on its table re-planned; the drop stands when the
// workload cost rises by less than the write cost it saves. With older HypoPG
// (Debian 12 ships 1.3.1) the fallback is weaker but sound for the workload:
// no workload statement's plan — before or after the recommendations — uses
// the index. A drop that can't be shown safe is not recommended; a note says
// which statement's plan uses it.
#pragma once

#include <vector>

#include "advisor/advisor.h"

namespace pgvise {

void ReviewExistingIndexes(WhatIf& wi, WhatIfOracle& oracle, const std::vector<int>& final_config,
                           const AdviseOptions& opts, AdviseReport* rep);

}  // namespace pgvise
