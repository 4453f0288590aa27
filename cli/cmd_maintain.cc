// pgvise maintain — plan (and with --apply, carry out) vacuum, analyze,
// reindex, autovacuum settings and server settings for one database.
//
//   read-only session -> BuildMaintenancePlan -> MaintenanceReport (maintenance/report.h)
//   -> WriteReport: text | json | markdown | html | sql
//   --apply: a second, writable session -> ApplyPlan -> outcomes; exit 4 if any failed
#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>
#include <sstream>

#include "cli/command.h"
#include "maintenance/apply.h"
#include "maintenance/maintain.h"
#include "maintenance/report.h"

namespace pgvise {

namespace {

struct MaintainFlags {
  std::vector<std::string> only, exclude, tables;
  bool exact = false;
  bool apply = false;
  int retries = 2;
  int item_lock_timeout_ms = 2000;
  int item_timeout_ms = 3600000;
  int cleanup_lock_timeout_ms = 2000;
  std::string memory, storage = "ssd", workload = "mixed";
  int cpus = 0;
  std::string observe, baseline, save_baseline;  // the rate window (maintenance/window.h)
};

std::set<std::string> Selectors(const std::vector<std::string>& in, const char* flag) {
  std::set<std::string> out;
  std::set<std::string> ids = MaintenanceHandlerIds();
  for (const auto& v : in) {
    std::stringstream ss(v);
    std::string item;
    while (std::getline(ss, item, ',')) {
      if (item.empty()) continue;
      if (!MaintenanceGroups().count(item) && !ids.count(item)) {
        std::string groups;
        for (const auto& g : MaintenanceGroups()) groups += (groups.empty() ? "" : ", ") + g;
        throw Error(ExitCode::kInputError, std::string(flag) + ": unknown area or rule '" + item +
                                               "' (areas: " + groups + ", or a rule id)");
      }
      out.insert(item);
    }
  }
  return out;
}

int Run(const CommonOptions& common, const MaintainFlags& f) {
  if (common.format != "text" && common.format != "json" && common.format != "sql" &&
      common.format != "markdown" && common.format != "html")
    throw Error(ExitCode::kInputError,
                "--format: maintain writes text, json, markdown, html or sql");
  MaintainOptions o;
  o.only = Selectors(f.only, "--only");
  o.exclude = Selectors(f.exclude, "--exclude");
  for (const auto& t : f.tables) {
    std::stringstream ss(t);
    std::string item;
    while (std::getline(ss, item, ','))
      if (!item.empty()) o.tables.push_back(item);
  }
  o.exact = f.exact;
  if (!f.memory.empty()) {
    o.memory_bytes = ParseMemorySize(f.memory);
    if (o.memory_bytes <= 0)
      throw Error(ExitCode::kInputError,
                  "--memory: expected a size such as 16GB, got '" + f.memory + "'");
  }
  if (!f.observe.empty()) {
    o.observe_s = ParseDuration(f.observe);
    if (o.observe_s <= 0)
      throw Error(
          ExitCode::kInputError,
          "--observe: expected a duration such as 90s, 10min or 1h, got '" + f.observe + "'");
  }
  if (!f.observe.empty() && !f.baseline.empty())
    throw Error(ExitCode::kInputError, "--observe and --baseline: give one window, not both");
  o.baseline = f.baseline;
  if (!f.save_baseline.empty()) {
    // Checked before anything runs, like -o: never act, then fail to record.
    std::filesystem::path dir = std::filesystem::path(f.save_baseline).parent_path();
    if (!dir.empty() && !std::filesystem::is_directory(dir))
      throw Error(ExitCode::kInputError,
                  "--save-baseline: " + f.save_baseline + ": no such directory " + dir.string());
  }
  o.cpus = f.cpus;
  o.storage = f.storage;
  o.workload = f.workload;

  RuleBook rules = LoadRules(common);
  Status st = rules.CheckHandlers({"maintenance"}, MaintenanceHandlerIds());
  if (!st.ok()) throw Error(ExitCode::kInputError, st.message());

  // The analysis session is READ ONLY; nothing it runs can write.
  auto session = OpenSession(common, /*read_only=*/true);
  MaintainRun run;
  st = BuildMaintenancePlan(*session, rules, o, &run);
  if (!st.ok() && st.code() == Status::Code::kInvalidInput)
    throw Error(ExitCode::kInputError, st.message());  // --baseline FILE
  if (!st.ok()) throw Error(ExitCode::kDatabaseError, "database error: " + st.message());
  const MaintenancePlan& plan = run.plan;
  // The cumulative counters as of now, for the next run's --baseline.
  if (!f.save_baseline.empty()) {
    st = WriteBaseline(f.save_baseline, run.counters);
    if (!st.ok()) throw Error(ExitCode::kInputError, st.message());
  }
  if (common.verbose) std::cerr << RunCostLine(plan) << "\n";

  if (f.apply && plan.standby)
    // Every write would fail there; say why once instead of once per item.
    throw Error(ExitCode::kDatabaseError,
                "--apply: database \"" + plan.database +
                    "\" is on a hot standby (in recovery) and read-only; run maintain --apply "
                    "on the primary");
  ApplyResult applied;
  bool did_apply = false;
  if (f.apply) {
    // --apply: a separate, writable session; only the plan's items run on it.
    auto writer = OpenSession(common, /*read_only=*/false);
    ApplyOptions ao;
    ao.lock_timeout_ms = f.item_lock_timeout_ms;
    ao.statement_timeout_ms = f.item_timeout_ms;
    ao.retries = f.retries;
    ao.cleanup_lock_timeout_ms = f.cleanup_lock_timeout_ms;
    ao.log = StampedApplyLog([](const std::string& line) { std::cerr << line << "\n"; });
    ao.log(ApplyStartLine(plan, writer->masked_conninfo()));
    applied = ApplyPlan(*writer, plan, ao);
    did_apply = true;
    ao.log(ApplyDoneLine(applied));
  }

  WriteReport(common, &rules,
              MaintainRunReport(run, did_apply ? &applied : nullptr, f.item_lock_timeout_ms,
                                f.item_timeout_ms));

  if (did_apply && !applied.ok()) return static_cast<int>(ExitCode::kApplyFailed);
  return static_cast<int>(ExitFor(PlanItemSeverities(plan), common.fail_on));
}

}  // namespace

RunFn SetupMaintain(CLI::App& app, std::shared_ptr<CommonOptions> common) {
  AddCommonOptions(app, common.get(), true, true);
  auto f = std::make_shared<MaintainFlags>();
  app.add_option("--format", common->format,
                 "text | json | markdown | html | sql (a reviewable script)")
      ->capture_default_str();
  app.add_option(
      "--only", f->only,
      "only these areas (autovacuum,vacuum,bloat,wraparound,statistics,health,settings,partitions) "
      "or rule ids; comma-separated");
  app.add_option("--exclude", f->exclude, "skip these areas or rule ids; comma-separated");
  app.add_option("--tables", f->tables, "only tables matching these globs (schema.table or table)");
  app.add_flag("--exact", f->exact,
               "measure flagged tables/indexes with pgstattuple_approx/pgstatindex");
  app.add_flag("--apply", f->apply, "carry out the plan (default: dry run)");
  app.add_option("--retries", f->retries, "retries of an item that timed out on a lock")
      ->capture_default_str();
  app.add_option("--item-lock-timeout", f->item_lock_timeout_ms,
                 "lock_timeout per applied item, ms")
      ->capture_default_str();
  app.add_option("--item-timeout", f->item_timeout_ms, "statement_timeout per applied item, ms")
      ->capture_default_str();
  app.add_option("--cleanup-lock-timeout", f->cleanup_lock_timeout_ms,
                 "lock_timeout per DROP of the invalid copy a failed REINDEX CONCURRENTLY "
                 "leaves, ms")
      ->capture_default_str();
  app.add_option("--observe", f->observe,
                 "judge write rates over two snapshots this far apart, e.g. 10min, 1h");
  app.add_option("--baseline", f->baseline,
                 "judge write rates since the counters saved in FILE (--save-baseline)");
  app.add_option("--save-baseline", f->save_baseline,
                 "save this run's counters to FILE for the next run's --baseline");
  app.add_option("--memory", f->memory, "server memory for settings advice, e.g. 16GB");
  app.add_option("--cpus", f->cpus, "server CPUs for settings advice");
  app.add_option("--storage", f->storage, "ssd | hdd | san | nvme (pgtune's kinds)")
      ->check(CLI::IsMember({"ssd", "hdd", "san", "nvme"}))
      ->capture_default_str();
  app.add_option("--workload", f->workload,
                 "web | oltp | dw | olap | desktop | mixed (pgtune's kinds; olap = dw)")
      ->check(CLI::IsMember({"web", "oltp", "dw", "olap", "desktop", "mixed"}))
      ->capture_default_str();
  return [common, f]() -> int { return Run(*common, *f); };
}

}  // namespace pgvise
