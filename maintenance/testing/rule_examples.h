// Test support (built into maintenance_tests and maintenance_pg_tests only,
// never into pgvise_maintenance): running a maintenance rule's YAML examples. Every example in
// rules/maintenance/*.yaml is a test: a bad one must make its rule emit an
// item, a good one must not. An example is either
//   - a snapshot fixture: `text` is JSON in HealthSnapshot's shape
//     (SnapshotFromJson), for situations a test cluster cannot produce
//     (XID age 1.7B, a 50 GiB table, a week-old prepared transaction); or
//   - live: `context.setup` is SQL that creates the situation on a real
//     database; the test (maintenance/rule_examples_pg_test.cc) runs it,
//     takes a snapshot and calls JudgeExample on it. `context.observe` is SQL
//     run between two snapshots: the window rate rules judge (--observe).
// `context.object` narrows "fired" to items about that table/index/sequence;
// `context.options` passes command options ("memory=16GB cpus=8 ...").
#pragma once

#include <string>

#include "core/rule.h"
#include "maintenance/plan.h"

namespace pgvise {

bool IsLiveExample(const RuleExample& ex);
// "memory=16GB cpus=8 storage=ssd workload=oltp" -> options.
MaintainOptions ExampleOptions(const RuleExample& ex);
// Runs `rule` over `snap`; true when it emitted an item (about context.object
// if set). `detail` lists what it emitted, for failure messages.
bool JudgeExample(const HealthSnapshot& snap, const Rule& rule, const RuleExample& ex,
                  std::string* detail);
// Fixture examples end to end: parse the JSON, judge. Status errors are
// malformed fixtures.
Status RunFixtureExample(const Rule& rule, const RuleExample& ex, bool* fired, std::string* detail);

}  // namespace pgvise
