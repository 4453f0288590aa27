#include "maintenance/plan.h"

#include <fnmatch.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "maintenance/rules_internal.h"

namespace pgvise {

const std::vector<MaintenanceHandler>& MaintenanceHandlers() {
  using namespace maint;
  static const std::vector<MaintenanceHandler> kHandlers = {
      {"xid-wraparound", "wraparound", XidWraparound},
      {"multixact-wraparound", "wraparound", MultixactWraparound},
      {"long-running-transaction", "health", LongRunningTransaction},
      {"idle-in-transaction", "health", IdleInTransaction},
      {"blocking-lock-chain", "health", BlockingLockChain},
      {"old-prepared-transaction", "health", OldPreparedTransaction},
      {"replication-slot-holding-xmin", "health", ReplicationSlotHoldingXmin},
      {"sequence-exhaustion", "health", SequenceExhaustion},
      {"invalid-index", "health", InvalidIndex},
      {"unused-index", "health", UnusedIndex},
      {"vacuum-overdue", "vacuum", VacuumOverdue},
      {"visibility-map-stale", "vacuum", VisibilityMapStale},
      {"stale-statistics", "statistics", StaleStatistics},
      {"table-bloat", "bloat", TableBloat},
      {"index-bloat", "bloat", IndexBloat},
      {"autovacuum-vacuum-settings", "autovacuum", AutovacuumVacuumSettings},
      {"autovacuum-insert-settings", "autovacuum", AutovacuumInsertSettings},
      {"autovacuum-large-table-cost", "autovacuum", AutovacuumLargeTableCost},
      {"server-settings", "settings", ServerSettings},
      {"cache-hit-ratio", "health", CacheHitRatio},
      {"connection-usage", "health", ConnectionUsage},
      {"slow-query-logging", "settings", SlowQueryLogging},
      {"partition-future-missing", "partitions", PartitionFutureMissing},
      {"partition-default-filling", "partitions", PartitionDefaultFilling},
      {"partitioned-parent-not-analyzed", "partitions", PartitionedParentNotAnalyzed},
      {"partition-retention-due", "partitions", PartitionRetentionDue},
  };
  return kHandlers;
}

std::set<std::string> MaintenanceHandlerIds() {
  std::set<std::string> ids;
  for (const auto& h : MaintenanceHandlers()) ids.insert(h.id);
  return ids;
}

const std::set<std::string>& MaintenanceGroups() {
  static const std::set<std::string> kGroups = {"autovacuum", "vacuum", "bloat",    "wraparound",
                                                "statistics", "health", "settings", "partitions"};
  return kGroups;
}

bool RuleSelected(const MaintainOptions& o, const std::string& id, const std::string& group) {
  if (o.exclude.count(id) || o.exclude.count(group)) return false;
  return o.only.empty() || o.only.count(id) || o.only.count(group);
}

bool TableMatches(const std::vector<std::string>& patterns, const std::string& schema,
                  const std::string& table) {
  if (patterns.empty()) return true;
  std::string full = schema + "." + table;
  for (const auto& p : patterns) {
    const std::string& subject = p.find('.') == std::string::npos ? table : full;
    if (fnmatch(p.c_str(), subject.c_str(), 0) == 0) return true;
  }
  return false;
}

namespace {

std::vector<PlanItem> RunOne(const HealthSnapshot& snap, const MaintenanceHandler& h,
                             const Rule& rule, const MaintainOptions& opts,
                             const std::vector<BloatEstimate>* tb,
                             const std::vector<BloatEstimate>* ib) {
  RuleInput in{snap,
               rule,
               opts,
               [&opts](const std::string& s, const std::string& t) {
                 return TableMatches(opts.tables, s, t);
               },
               tb,
               ib};
  std::vector<PlanItem> items;
  h.fn(in, &items);
  for (auto& it : items) {
    it.rule = h.id;
    it.group = h.group;
  }
  return items;
}

}  // namespace

std::vector<PlanItem> RunRules(const HealthSnapshot& snap, const RuleBook& book,
                               const MaintainOptions& opts,
                               const std::vector<BloatEstimate>* table_bloat,
                               const std::vector<BloatEstimate>* index_bloat) {
  // Estimates are computed once here and shared by both bloat rules.
  std::vector<BloatEstimate> tb, ib;
  int bs = static_cast<int>(snap.Setting("block_size"));
  if (!table_bloat) {
    tb.reserve(snap.tables.size());
    for (const auto& t : snap.tables) tb.push_back(EstimateTableBloat(t, bs));
    table_bloat = &tb;
  }
  if (!index_bloat) {
    ib.reserve(snap.indexes.size());
    for (const auto& x : snap.indexes) {
      const TableHealth* t = snap.Table(x.table_oid);
      ib.push_back(t ? EstimateIndexBloat(x, *t, snap.server_version, bs) : BloatEstimate{});
    }
    index_bloat = &ib;
  }
  std::vector<PlanItem> all;
  for (const auto& h : MaintenanceHandlers()) {
    const Rule* rule = book.Enabled(h.id);
    if (!rule || !RuleSelected(opts, h.id, h.group)) continue;
    auto items = RunOne(snap, h, *rule, opts, table_bloat, index_bloat);
    all.insert(all.end(), std::make_move_iterator(items.begin()),
               std::make_move_iterator(items.end()));
  }
  return all;
}

std::vector<PlanItem> RunRule(const HealthSnapshot& snap, const Rule& rule,
                              const MaintainOptions& opts) {
  int bs = static_cast<int>(snap.Setting("block_size"));
  std::vector<BloatEstimate> tb, ib;
  for (const auto& t : snap.tables) tb.push_back(EstimateTableBloat(t, bs));
  for (const auto& x : snap.indexes) {
    const TableHealth* t = snap.Table(x.table_oid);
    ib.push_back(t ? EstimateIndexBloat(x, *t, snap.server_version, bs) : BloatEstimate{});
  }
  for (const auto& h : MaintenanceHandlers())
    if (rule.id == h.id) return RunOne(snap, h, rule, opts, &tb, &ib);
  return {};
}

namespace {

// Group urgency when severities tie: what can stop the database first.
int GroupRank(const std::string& g) {
  static const std::map<std::string, int> kRank = {
      {"wraparound", 7}, {"health", 6}, {"vacuum", 5},     {"partitions", 5},
      {"statistics", 4}, {"bloat", 3},  {"autovacuum", 2}, {"settings", 1}};
  auto it = kRank.find(g);
  return it == kRank.end() ? 0 : it->second;
}

}  // namespace

void OrderPlan(std::vector<PlanItem>* items) {
  // A VACUUM (ANALYZE) of a table makes its ANALYZE redundant; two VACUUMs of
  // one table (overdue and bloat) are one.
  std::set<std::string> vacuumed;
  for (const auto& it : *items)
    if (it.rec.kind == RecommendationKind::kVacuum && it.executable &&
        it.rec.sql.find("ANALYZE") != std::string::npos)
      vacuumed.insert(it.rec.object);
  // vacuum-overdue's bare re-enable of a table's autovacuum is one with the
  // settings rules' ALTER that re-enables it and sizes its triggers.
  auto reenables = [](const PlanItem& it) {
    for (const auto& e : it.rec.evidence)
      if (e.key == "reenable_autovacuum") return true;
    return false;
  };
  std::set<std::string> tuned;
  for (const auto& it : *items)
    if (it.rec.kind == RecommendationKind::kAutovacuum && !reenables(it) &&
        it.rec.sql.find("autovacuum_enabled = true") != std::string::npos)
      tuned.insert(it.rec.object);
  std::vector<PlanItem> kept;
  std::set<std::string> seen_sql;
  for (auto& it : *items) {
    if (it.rec.kind == RecommendationKind::kAnalyze && vacuumed.count(it.rec.object)) continue;
    if (reenables(it) && tuned.count(it.rec.object)) continue;
    // vacuum-overdue and visibility-map-stale may both turn one table's
    // autovacuum back on: one ALTER is enough.
    if (reenables(it) && !seen_sql.insert("reenable " + it.rec.object).second) continue;
    if (it.executable && it.rec.kind == RecommendationKind::kVacuum &&
        seen_sql.count("vacuum " + it.rec.object))
      continue;
    if (it.rec.kind == RecommendationKind::kVacuum) seen_sql.insert("vacuum " + it.rec.object);
    kept.push_back(std::move(it));
  }
  std::stable_sort(kept.begin(), kept.end(), [](const PlanItem& a, const PlanItem& b) {
    if (a.severity != b.severity) return a.severity > b.severity;
    int ga = GroupRank(a.group), gb = GroupRank(b.group);
    if (ga != gb) return ga > gb;
    return a.rec.priority > b.rec.priority;
  });
  *items = std::move(kept);
}

int64_t ParseMemorySize(const std::string& s) {
  size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  if (i == 0) return 0;
  double v = std::strtod(s.substr(0, i).c_str(), nullptr);
  std::string unit = s.substr(i);
  for (auto& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (!unit.empty() && unit.back() == 'B') unit.pop_back();
  if (!unit.empty() && unit.back() == 'I') unit.pop_back();  // GiB
  double f = 0;
  if (unit == "K")
    f = 1024.0;
  else if (unit == "M")
    f = 1048576.0;
  else if (unit == "G" || unit.empty())
    f = 1073741824.0;
  else if (unit == "T")
    f = 1099511627776.0;
  return f > 0 ? static_cast<int64_t>(v * f) : 0;
}

std::string Bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  double v = std::fabs(b);
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0)
    std::snprintf(buf, sizeof buf, "%s%.0f %s", b < 0 ? "-" : "", v, units[u]);
  else
    std::snprintf(buf, sizeof buf, "%s%.1f %s", b < 0 ? "-" : "", v, units[u]);
  return buf;
}

std::string Count(double n) {
  char buf[32];
  double a = std::fabs(n);
  if (a >= 1e9)
    std::snprintf(buf, sizeof buf, "%.2fB", n / 1e9);
  else if (a >= 1e6)
    std::snprintf(buf, sizeof buf, "%.2fM", n / 1e6);
  else if (a >= 1e4)
    std::snprintf(buf, sizeof buf, "%.1fk", n / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.0f", n);
  return buf;
}

}  // namespace pgvise
