// Wraparound rules: transaction-ID and MultiXact age per table and database.
//
// PostgreSQL must freeze every row before its XID is 2^31 (~2.1B) old; an
// anti-wraparound autovacuum starts at autovacuum_freeze_max_age (200M), the
// vacuum failsafe (no cost delay, no index cleanup) at vacuum_failsafe_age
// (1.6B), and at ~2.1B - 3M the server stops assigning XIDs. Reaching
// freeze_max_age is normal; staying well past it means autovacuum cannot keep
// up or something holds the xmin horizon back (see the health rules). Levels:
//   age >= proactive_factor * freeze_max_age     info, VACUUM (FREEZE) now, on
//      (tables of at least proactive_min_bytes)  large tables only: see below
//   age >= warn_factor * freeze_max_age          warning, VACUUM (FREEZE)
//   age >= error_age or >= the failsafe age      error, most urgent first
// Proactive freezing: a large table at 85% of freeze_max_age will get an
// anti-wraparound autovacuum soon, at a time nobody chose — it scans the
// whole table, does not cancel itself when a DDL statement needs the lock
// (so a migration queues behind it, and the application behind that), and
// on a busy day competes with the workload. The same VACUUM (FREEZE) run at
// the operator's hour resets the age and the autovacuum never comes. Small
// tables are frozen by that autovacuum in seconds: nothing to plan.
// MultiXacts work the same against autovacuum_multixact_freeze_max_age (400M).
// Tables are vacuumed here; other databases get vacuumdb advice (we are not
// connected to them).
#include <algorithm>
#include <cmath>
#include <sstream>

#include "maintenance/rules_internal.h"

namespace pgvise::maint {

namespace {

struct Kind {
  const char* what;           // "XID" / "MultiXact"
  const char* max_age_param;  // autovacuum_freeze_max_age / ..._multixact_...
  const char* failsafe_param;
  int64_t TableHealth::*table_age;
  int64_t DatabaseHealth::*db_age;
};

// The oldest thing holding the xmin horizon, for the reason text.
std::string OldestHolder(const HealthSnapshot& snap) {
  int64_t best = 0;
  std::string who;
  for (const auto& b : snap.backends)
    if (b.xmin_age > best) {
      best = b.xmin_age;
      who = "session pid " + std::to_string(b.pid) + " (" + b.state + ")";
    }
  for (const auto& p : snap.prepared)
    if (p.xid_age > best) {
      best = p.xid_age;
      who = "prepared transaction '" + p.gid + "'";
    }
  for (const auto& s : snap.slots)
    if (std::max(s.xmin_age, s.catalog_xmin_age) > best) {
      best = std::max(s.xmin_age, s.catalog_xmin_age);
      who = "replication slot " + s.name;
    }
  if (best == 0) return "";
  return who + " holds the xmin horizon " + Count(static_cast<double>(best)) + " XIDs back";
}

void Wraparound(const RuleInput& in, const Kind& k, std::vector<PlanItem>* out) {
  const double warn_factor = in.rule.Threshold("warn_factor");
  const double error_age = in.rule.Threshold("error_age");
  const double proactive_factor = in.rule.Threshold("proactive_factor");
  const double proactive_min_bytes = in.rule.Threshold("proactive_min_bytes");
  const double wrap = 2147483648.0;
  double max_age = in.snap.Setting(k.max_age_param);
  double failsafe = in.snap.Setting(k.failsafe_param);
  std::string holder = OldestHolder(in.snap);
  bool current_db_covered = false;
  for (const auto& t : in.snap.tables) {
    if (!in.table_selected(t.schema, t.name)) continue;
    double age = static_cast<double>(t.*k.table_age);
    double table_max = std::string(k.what) == "XID"
                           ? t.Option("autovacuum_freeze_max_age", max_age)
                           : t.Option("autovacuum_multixact_freeze_max_age", max_age);
    double limit = std::min(table_max, max_age);
    double warn = warn_factor * limit;
    double bytes = static_cast<double>(t.heap_bytes + t.toast_bytes);
    bool proactive = age < warn && age >= proactive_factor * limit && bytes >= proactive_min_bytes;
    if (age < warn && !proactive) continue;
    PlanItem it = NewItem(in, RecommendationKind::kVacuum, t.Display());
    bool critical = age >= error_age || age >= failsafe;
    it.severity = critical ? Severity::kError : proactive ? Severity::kInfo : Severity::kWarning;
    it.rec.sql = "VACUUM (FREEZE, VERBOSE) " + t.Qualified() + ";";
    it.rec.lock = "SHARE UPDATE EXCLUSIVE (reads and writes go on); reads the whole table";
    std::ostringstream why;
    why << k.what << " age " << Count(age) << " (" << Num(std::round(age / wrap * 1000) / 10)
        << "% of the 2.1B limit) vs " << k.max_age_param << " " << Count(limit);
    if (proactive)
      why << " (" << Num(std::round(age / limit * 100)) << "%): an anti-wraparound autovacuum of "
          << Bytes(bytes) << " starts within " << Count(std::max(0.0, limit - age))
          << " XIDs, at a time nobody chose, and does not yield to DDL; freezing now, at an "
             "hour you pick, resets the age so it never comes";
    if (age >= failsafe) why << ", past the failsafe age " << Count(failsafe);
    why << "; " << Bytes(static_cast<double>(t.heap_bytes + t.toast_bytes)) << " to scan";
    if (!holder.empty()) why << "; " << holder << " (freezing cannot pass it)";
    it.rec.reason = why.str();
    it.rec.Add("age", t.*k.table_age)
        .Add("freeze_max_age", max_age)
        .Add("failsafe_age", failsafe)
        .Add("fraction_of_limit", std::round(age / wrap * 1000) / 1000)
        .Add("fraction_of_freeze_max_age", std::round(age / limit * 1000) / 1000);
    if (proactive) it.rec.Add("proactive", true);
    it.rec.priority = static_cast<int>(std::min(999.0, age / wrap * 1000));
    out->push_back(std::move(it));
    current_db_covered = true;
  }
  for (const auto& d : in.snap.databases) {
    double age = static_cast<double>(d.*k.db_age);
    if (age < warn_factor * max_age) continue;
    // This database's own tables are vacuumed above.
    if (d.name == in.snap.database && current_db_covered) continue;
    PlanItem it = NewItem(in, RecommendationKind::kVacuum, d.name);
    it.executable = false;
    bool critical = age >= error_age || age >= failsafe;
    it.severity = critical ? Severity::kError : Severity::kWarning;
    it.rec.sql = "vacuumdb --freeze --jobs=2 --dbname=" + QuoteIdent(d.name) +
                 "\n-- or connect to it and run: pgvise maintain --only wraparound --apply";
    it.rec.lock = "SHARE UPDATE EXCLUSIVE per table (reads and writes go on)";
    std::ostringstream why;
    why << "database " << d.name << ": " << k.what << " age " << Count(age) << " ("
        << Num(std::round(age / wrap * 1000) / 10) << "% of the 2.1B limit) vs " << k.max_age_param
        << " " << Count(max_age);
    if (d.name == in.snap.database)
      why << "; its oldest tables are system catalogs or TOAST tables";
    if (!holder.empty()) why << "; " << holder;
    it.rec.reason = why.str();
    it.rec.Add("age", d.*k.db_age).Add("freeze_max_age", max_age);
    it.rec.priority = static_cast<int>(std::min(999.0, age / wrap * 1000));
    out->push_back(std::move(it));
  }
}

}  // namespace

void XidWraparound(const RuleInput& in, std::vector<PlanItem>* out) {
  static const Kind k{"XID", "autovacuum_freeze_max_age", "vacuum_failsafe_age",
                      &TableHealth::xid_age, &DatabaseHealth::xid_age};
  Wraparound(in, k, out);
}

void MultixactWraparound(const RuleInput& in, std::vector<PlanItem>* out) {
  static const Kind k{"MultiXact", "autovacuum_multixact_freeze_max_age",
                      "vacuum_multixact_failsafe_age", &TableHealth::mxid_age,
                      &DatabaseHealth::mxid_age};
  Wraparound(in, k, out);
}

}  // namespace pgvise::maint
