// server-settings: PGTune-class sizing from what the operator tells us about
// the machine (--memory, --cpus, --storage ssd|hdd, --workload
// oltp|olap|mixed), reported only where the current setting differs by more
// than `min_change` (relative). The formulas are the widely used ones:
//   shared_buffers        memory / 4
//   effective_cache_size  memory * 3/4
//   maintenance_work_mem  memory / 16 (olap / 8), at most 2 GiB
//   work_mem              (memory - shared_buffers) / (max_connections * 3)
//                         / parallel workers per gather (mixed, olap: / 2)
//   random_page_cost      1.1 ssd, 4 hdd;  effective_io_concurrency 200 ssd, 2 hdd
//   wal sizes             oltp 2/8 GiB, olap 4/16 GiB, mixed 1/4 GiB
//   parallel workers      cpus; per gather ceil(cpus/2), at most 4 (olap: no cap)
//   autovacuum            workers max(3, min(8, cpus/2)); cost limit 2000 ssd / 400 hdd
//   default_statistics_target 500 for olap
// max_connections is compared with a pooler's needs: above
// `max_connections_without_pooler` the advice is a transaction pooler, not a
// number. Each change is one ALTER SYSTEM item; a pg_reload_conf() item
// follows when any change takes effect on reload.
#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "maintenance/rules_internal.h"

namespace pgvise::maint {

namespace {

std::string PgMemory(double bytes) {
  const double kb = 1024, mb = kb * 1024, gb = mb * 1024;
  if (bytes >= gb && std::fmod(bytes, gb) == 0) return Num(bytes / gb) + "GB";
  if (bytes >= mb) return Num(std::floor(bytes / mb)) + "MB";
  return Num(std::max(64.0, std::floor(bytes / kb))) + "kB";
}

struct Target {
  std::string name;
  double value;  // bytes for memory, plain otherwise
  bool memory;
  std::string why;
};

const std::set<std::string>& RestartSettings() {
  static const std::set<std::string> k = {"shared_buffers",         "max_connections",
                                          "max_worker_processes",   "wal_buffers",
                                          "autovacuum_max_workers", "huge_pages"};
  return k;
}

}  // namespace

void ServerSettings(const RuleInput& in, std::vector<PlanItem>* out) {
  const double min_change = in.rule.Threshold("min_change", 0.2);
  const double pooler_above = in.rule.Threshold("max_connections_without_pooler", 200);
  const MaintainOptions& o = in.opts;
  // Without the machine's memory nothing here can be sized.
  if (o.memory_bytes <= 0) return;
  const double mem = static_cast<double>(o.memory_bytes);
  const double gb = 1073741824.0;
  const bool ssd = o.storage != "hdd";
  const std::string& w = o.workload;
  const int cpus = o.cpus > 0 ? o.cpus : 0;

  std::vector<Target> t;
  double sb = std::floor(mem / 4 / 8192) * 8192;
  t.push_back({"shared_buffers", sb, true, "memory / 4"});
  t.push_back(
      {"effective_cache_size", std::floor(mem * 3 / 4 / 8192) * 8192, true, "memory * 3/4"});
  double mwm = std::min(2 * gb, mem / (w == "olap" ? 8 : 16));
  t.push_back({"maintenance_work_mem", std::floor(mwm / 1048576) * 1048576, true,
               w == "olap" ? "memory / 8, at most 2 GiB" : "memory / 16, at most 2 GiB"});
  double conns = in.snap.Setting("max_connections");
  double per_gather =
      cpus > 0 ? std::ceil(cpus / 2.0) : in.snap.Setting("max_parallel_workers_per_gather");
  if (w != "olap") per_gather = std::min(per_gather, 4.0);
  per_gather = std::max(1.0, per_gather);
  double wm = (mem - sb) / (conns * 3) / per_gather;
  if (w != "oltp") wm /= 2;
  wm = std::max(4.0 * 1048576, std::floor(wm / 1024) * 1024);
  t.push_back({"work_mem", wm, true,
               "(memory - shared_buffers) / (" + Num(conns) + " connections * 3) / " +
                   Num(per_gather) + " workers per gather" + (w != "oltp" ? " / 2" : "")});
  t.push_back({"random_page_cost", ssd ? 1.1 : 4.0, false, ssd ? "ssd" : "hdd"});
  t.push_back({"effective_io_concurrency", ssd ? 200.0 : 2.0, false, ssd ? "ssd" : "hdd"});
  double minw = w == "oltp" ? 2 * gb : w == "olap" ? 4 * gb : 1 * gb;
  t.push_back({"min_wal_size", minw, true, w + " workload"});
  t.push_back({"max_wal_size", minw * 4, true, w + " workload"});
  t.push_back({"wal_buffers",
               std::clamp(std::floor(sb * 0.03 / 8192) * 8192, 32768.0, 16.0 * 1048576), true,
               "3% of shared_buffers, at most 16 MiB"});
  if (w == "olap") t.push_back({"default_statistics_target", 500, false, "olap: finer histograms"});
  if (cpus > 0) {
    t.push_back({"max_worker_processes", static_cast<double>(std::max(8, cpus)), false, "cpus"});
    t.push_back({"max_parallel_workers", static_cast<double>(cpus), false, "cpus"});
    t.push_back({"max_parallel_workers_per_gather", per_gather, false, "ceil(cpus / 2)"});
    t.push_back({"max_parallel_maintenance_workers", std::min(4.0, std::ceil(cpus / 2.0)), false,
                 "ceil(cpus / 2), at most 4"});
    t.push_back({"autovacuum_max_workers", std::max(3.0, std::min(8.0, std::floor(cpus / 2.0))),
                 false, "max(3, min(8, cpus / 2))"});
  }
  double cost_limit = in.snap.Setting("autovacuum_vacuum_cost_limit");
  if (cost_limit <= 0) cost_limit = in.snap.Setting("vacuum_cost_limit");
  double want_cost = ssd ? 2000 : 400;
  if (std::fabs(cost_limit - want_cost) / want_cost > min_change)
    t.push_back({"autovacuum_vacuum_cost_limit", want_cost, false,
                 std::string(ssd ? "ssd" : "hdd") + ": shared by all autovacuum workers"});

  bool reload_needed = false;
  for (const auto& x : t) {
    double cur = in.snap.Setting(x.name);
    // wal_buffers = -1 means "3% of shared_buffers" already.
    if (x.name == "wal_buffers" && cur < 0) continue;
    if (x.name == "autovacuum_vacuum_cost_limit") cur = cost_limit;
    double diff = cur == 0 ? 1 : std::fabs(x.value - cur) / std::fabs(cur);
    if (diff <= min_change) continue;
    PlanItem it = NewItem(in, "config", x.name);
    std::string val = x.memory ? PgMemory(x.value) : Num(x.value);
    it.rec.sql = "ALTER SYSTEM SET " + x.name + " = '" + val + "';";
    it.rec.revert = "ALTER SYSTEM RESET " + x.name + ";";
    bool restart = RestartSettings().count(x.name) > 0;
    it.rec.lock =
        restart ? "none; takes effect after a server restart" : "none; takes effect on reload";
    reload_needed |= !restart;
    std::string cur_text = x.memory ? Bytes(cur) : Num(cur);
    it.rec.reason = x.name + " " + cur_text + " -> " + (x.memory ? Bytes(x.value) : val) + " (" +
                    x.why + "; " + Bytes(mem) + " memory" +
                    (cpus ? ", " + std::to_string(cpus) + " cpus" : "") + ", " + o.storage + ", " +
                    w + ")";
    it.rec.Add("current", cur).Add("recommended", x.value).Add("restart", restart);
    it.rec.priority = 500;
    out->push_back(std::move(it));
  }
  if (conns > pooler_above) {
    PlanItem it = NewItem(in, "config", "max_connections");
    it.executable = false;
    double active = 0;
    for (const auto& b : in.snap.backends)
      if (b.backend_type.empty() || b.backend_type == "client backend") ++active;
    double want = std::max(100.0, (cpus > 0 ? cpus : 4) * 4.0);
    it.rec.sql =
        "-- put a transaction pooler (pgbouncer) in front, then:\n-- ALTER SYSTEM SET "
        "max_connections = '" +
        Num(want) + "';  -- restart";
    it.rec.reason = "max_connections " + Num(conns) + " with " + Num(active) +
                    " client sessions now: each connection costs memory (work_mem is sized per "
                    "connection) and snapshot work; a pooler serves them with ~" +
                    Num(want) + " server connections";
    it.rec.Add("max_connections", conns).Add("client_sessions", active);
    it.rec.priority = 400;
    out->push_back(std::move(it));
  }
  if (reload_needed) {
    PlanItem it = NewItem(in, "config", "pg_reload_conf");
    it.rec.sql = "SELECT pg_reload_conf();";
    it.rec.lock = "none";
    it.rec.reason = "applies the reloadable settings above";
    it.rec.priority = 0;
    out->push_back(std::move(it));
  }
}

}  // namespace pgvise::maint
