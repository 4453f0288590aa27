// Server sizing: the PGTune formulas (le0pard/pgtune) for PostgreSQL 15 on
// Linux, from what the operator tells `pgvise maintain` about the machine
// (--memory, --cpus, --storage, --workload). Pure arithmetic, no database:
// the server-settings rule (rules_settings.cc) compares these targets with
// the server's current values and turns the differences into ALTER SYSTEM
// items. Where pgvise deliberately departs from pgtune, server_sizing.cc says
// why (and docs/maintain.md lists it).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pgvise {

struct SizingInput {
  int64_t memory_bytes = 0;
  int cpus = 0;                    // 0: unknown (no parallel settings, like pgtune)
  std::string storage = "ssd";     // ssd | hdd | san | nvme
  std::string workload = "mixed";  // web | oltp | dw (alias olap) | desktop | mixed
  int max_connections = 100;       // the server's; pgtune's defaults in PgtuneDefaultConnections
};

struct SizedSetting {
  std::string name;
  double value = 0;     // kB for memory settings, the number otherwise (0 for text)
  bool memory = false;  // value in kB
  std::string text;     // as ALTER SYSTEM sets it: "4GB", "13797kB", "1.1", "try"
  std::string why;      // the formula, for the reason line
};

// Canonical workload name: "olap" -> "dw"; unknown names -> "mixed".
std::string CanonicalWorkload(const std::string& w);

// pgtune's max_connections when the user gives none: web 200, oltp 300,
// dw 40, desktop 20, mixed 100.
int PgtuneDefaultConnections(const std::string& workload);

// The targets, in pgtune's order. Settings pgtune leaves out for this input
// (parallel settings under 4 CPUs, autovacuum_work_mem under 2 GiB of
// maintenance_work_mem...) are absent.
std::vector<SizedSetting> SizeServerSettings(const SizingInput& in);

// pgtune's value formatting: GB when a whole number of GB, else MB when a
// whole number of MB, else kB.
std::string FormatKb(int64_t kb);

}  // namespace pgvise
