// server-settings: PGTune sizing from what the operator tells us about the
// machine (--memory, --cpus, --storage ssd|hdd|san|nvme, --workload
// web|oltp|dw|desktop|mixed, olap = dw), reported only where the current
// setting differs by more than `min_change` (relative). The targets come
// from SizeServerSettings (server_sizing.cc: pgtune's formulas for PG 15 and
// where pgvise departs from them, with reasons). This file adds pgvise's own
// autovacuum_vacuum_cost_limit (2000 on ssd/san/nvme, 400 on hdd: the
// budget all autovacuum workers share; the default 200 lets one worker
// clean ~4 MB/s of dirty pages) and compares with the server.
// max_connections is compared with a pooler's needs: above
// `max_connections_without_pooler` the advice is a transaction pooler, not a
// number. Each change is one ALTER SYSTEM item; a pg_reload_conf() item
// follows when any change takes effect on reload.
#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "maintenance/rules_internal.h"
#include "maintenance/server_sizing.h"

namespace pgvise::maint {

namespace {

const std::set<std::string>& RestartSettings() {
  static const std::set<std::string> k = {"shared_buffers",         "max_connections",
                                          "max_worker_processes",   "wal_buffers",
                                          "autovacuum_max_workers", "huge_pages"};
  return k;
}

}  // namespace

void ServerSettings(const RuleInput& in, std::vector<PlanItem>* out) {
  const double min_change = in.rule.Threshold("min_change");
  const double pooler_above = in.rule.Threshold("max_connections_without_pooler");
  const MaintainOptions& o = in.opts;
  // Without the machine's memory nothing here can be sized.
  if (o.memory_bytes <= 0) return;
  const double mem = static_cast<double>(o.memory_bytes);
  const bool hdd = o.storage == "hdd";
  const std::string w = CanonicalWorkload(o.workload);
  const int cpus = o.cpus > 0 ? o.cpus : 0;
  const double conns = in.snap.Setting("max_connections");

  SizingInput sizing;
  sizing.memory_bytes = o.memory_bytes;
  sizing.cpus = cpus;
  sizing.storage = o.storage;
  sizing.workload = w;
  sizing.max_connections = conns > 0 ? static_cast<int>(conns) : 100;
  std::vector<SizedSetting> t = SizeServerSettings(sizing);
  double cost_limit = in.snap.Setting("autovacuum_vacuum_cost_limit");
  if (cost_limit <= 0) cost_limit = in.snap.Setting("vacuum_cost_limit");
  t.push_back({"autovacuum_vacuum_cost_limit", hdd ? 400.0 : 2000.0, false, hdd ? "400" : "2000",
               o.storage + ": shared by all autovacuum workers (pgvise, not pgtune)"});

  bool reload_needed = false;
  for (const auto& x : t) {
    double target = x.memory ? x.value * 1024 : x.value;  // snapshot memory is in bytes
    double cur = in.snap.Setting(x.name);
    std::string cur_text;
    if (x.name == "huge_pages") {
      // Only 'off' -> 'try' is worth a restart: 'try' falls back silently,
      // so pgtune's 'off' below 2 GB would change nothing (server_sizing.cc).
      cur_text = in.snap.SettingText(x.name);
      if (x.text != "try" || cur_text != "off") continue;
    } else {
      // wal_buffers = -1 means "shared_buffers / 32, at most 16 MB" already:
      // the same as pgtune's 3% after the new shared_buffers takes effect.
      if (x.name == "wal_buffers" && cur < 0) continue;
      // autovacuum_work_mem = -1 means maintenance_work_mem.
      if (x.name == "autovacuum_work_mem" && cur < 0) cur = in.snap.Setting("maintenance_work_mem");
      if (x.name == "autovacuum_vacuum_cost_limit") cur = cost_limit;
      // Never lower max_worker_processes (pgtune sets it to cpus): the pool
      // also serves logical replication and extensions' background workers,
      // which pgtune does not count; a lower value can stop them at restart.
      if (x.name == "max_worker_processes" && target < cur) continue;
      double diff = cur == 0 ? 1 : std::fabs(target - cur) / std::fabs(cur);
      if (diff <= min_change) continue;
      cur_text = x.memory ? Bytes(cur) : Num(cur);
    }
    PlanItem it = NewItem(in, RecommendationKind::kConfig, x.name);
    it.rec.sql = "ALTER SYSTEM SET " + x.name + " = '" + x.text + "';";
    it.rec.revert = "ALTER SYSTEM RESET " + x.name + ";";
    bool restart = RestartSettings().count(x.name) > 0;
    it.rec.lock =
        restart ? "none; takes effect after a server restart" : "none; takes effect on reload";
    reload_needed |= !restart;
    it.rec.reason = x.name + " " + cur_text + " -> " + (x.memory ? Bytes(target) : x.text) + " (" +
                    x.why + "; " + Bytes(mem) + " memory" +
                    (cpus ? ", " + std::to_string(cpus) + " cpus" : "") + ", " + o.storage + ", " +
                    w + ")";
    if (x.name == "huge_pages")
      it.rec.Add("current", cur_text).Add("recommended", x.text);
    else
      it.rec.Add("current", cur).Add("recommended", target);
    it.rec.Add("restart", restart);
    it.rec.priority = 500;
    out->push_back(std::move(it));
  }
  if (conns > pooler_above) {
    PlanItem it = NewItem(in, RecommendationKind::kConfig, "max_connections");
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
    PlanItem it = NewItem(in, RecommendationKind::kConfig, "pg_reload_conf");
    it.rec.sql = "SELECT pg_reload_conf();";
    it.rec.lock = "none";
    it.rec.reason = "applies the reloadable settings above";
    it.rec.priority = 0;
    out->push_back(std::move(it));
  }
}

}  // namespace pgvise::maint
