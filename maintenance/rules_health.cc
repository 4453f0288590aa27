// Health rules: what keeps vacuum from working or will stop the application
// — sessions and prepared transactions holding the xmin horizon back (no
// dead tuple younger than the horizon can be removed, anywhere in the
// cluster), blocking lock chains, replication slots pinning xmin or WAL,
// invalid and unused indexes, sequences about to run out.
//
// Most of these are advice: ending a session, rolling back a prepared
// transaction, dropping a slot or an index needs a person's judgement, so
// --apply never runs them. The exceptions are mechanical and safe: dropping
// an invalid index a failed REINDEX CONCURRENTLY left behind (`*_ccnew`,
// `*_ccold`), rebuilding another invalid index, and widening a sequence
// whose column is already bigint.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "core/sql_text.h"
#include "maintenance/rules_internal.h"

namespace pgvise::maint {

namespace {

bool ClientBackend(const BackendHealth& b) {
  return b.backend_type.empty() || b.backend_type == "client backend";
}

std::string Duration(double s) {
  if (s < 120) return Num(std::round(s)) + " s";
  if (s < 7200) return Num(std::round(s / 60)) + " min";
  if (s < 172800) return Num(std::round(s / 360) / 10) + " h";
  return Num(std::round(s / 8640) / 10) + " days";
}

std::string Who(const BackendHealth& b) {
  std::string s = "pid " + std::to_string(b.pid);
  if (!b.user.empty()) s += " (" + b.user;
  if (!b.application.empty()) s += (b.user.empty() ? " (" : ", ") + b.application;
  if (!b.user.empty() || !b.application.empty()) s += ")";
  return s;
}

std::string Snippet(const std::string& q) {
  std::string s = q.substr(0, 80);
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s + (q.size() > 80 ? "..." : "");
}

}  // namespace

namespace {

// What a session's open transaction holds back, beyond its duration: the
// xmin horizon (its snapshot or its own XID; no dead row younger than that
// can be removed anywhere in the cluster), the tables a VACUUM has visited
// since the transaction began and still left dead rows in (the horizon is why:
// PostgreSQL 15 counts the rows VACUUM found dead but not yet removable as
// n_dead_tup), and the tables it locks at a mode VACUUM must wait behind.
struct HeldBack {
  int64_t horizon_age = 0;
  double blocked_dead = 0;                  // dead rows in the tables below
  std::vector<std::string> blocked_tables;  // most dead rows first
  std::vector<std::string> vacuum_locked;   // SHARE UPDATE EXCLUSIVE or stronger
};

HeldBack WhatItHolds(const HealthSnapshot& snap, const BackendHealth& b, double min_dead) {
  HeldBack h;
  h.horizon_age = b.HorizonAge();
  h.vacuum_locked = b.vacuum_blocked_on;
  if (h.horizon_age <= 0 || b.xact_age_s < 0) return h;
  std::vector<std::pair<double, std::string>> blocked;
  for (const auto& t : snap.tables) {
    // Vacuumed after the transaction began, and still holding dead rows.
    if (t.since_vacuum_s < 0 || t.since_vacuum_s > b.xact_age_s) continue;
    const double dead = static_cast<double>(t.n_dead_tup);
    if (dead < min_dead) continue;
    blocked.emplace_back(dead, t.Display());
    h.blocked_dead += dead;
  }
  std::sort(blocked.rbegin(), blocked.rend());
  for (const auto& [dead, name] : blocked)
    h.blocked_tables.push_back(name + " (" + Count(dead) + " dead)");
  return h;
}

// The common evidence and the held-back part of the reason.
void DescribeHeld(const BackendHealth& b, const HeldBack& h, std::ostringstream& why,
                  PlanItem* it) {
  if (h.horizon_age > 0)
    why << ", holding the xmin horizon " << Count(static_cast<double>(h.horizon_age))
        << " XIDs back (vacuum cannot remove rows that died since, in any table)";
  if (!h.blocked_tables.empty()) {
    why << "; VACUUM ran since it began and left " << Count(h.blocked_dead) << " dead rows in ";
    for (size_t i = 0; i < h.blocked_tables.size() && i < 3; ++i)
      why << (i ? ", " : "") << h.blocked_tables[i];
    if (h.blocked_tables.size() > 3) why << " and " << h.blocked_tables.size() - 3 << " more";
  }
  if (b.locks_held > 0) {
    why << "; holds " << b.locks_held << " lock" << (b.locks_held == 1 ? "" : "s");
    if (!b.strongest_lock.empty()) why << " (strongest " << b.strongest_lock << ")";
  }
  if (!h.vacuum_locked.empty()) {
    why << "; VACUUM of ";
    for (size_t i = 0; i < h.vacuum_locked.size() && i < 3; ++i)
      why << (i ? ", " : "") << h.vacuum_locked[i];
    why << " waits behind its locks";
  }
  it->rec.Add("xmin_age", b.xmin_age)
      .Add("xid_age", b.xid_age)
      .Add("blocked_dead_tuples", std::round(h.blocked_dead))
      .Add("blocked_tables", h.blocked_tables)
      .Add("locks_held", static_cast<int64_t>(b.locks_held))
      .Add("strongest_lock", b.strongest_lock)
      .Add("vacuum_blocked_on", h.vacuum_locked);
}

// Priority follows what it holds back first, its age second.
int HeldPriority(const HeldBack& h, double age_s) {
  double p = age_s / 60 + h.blocked_dead / 1e4 + static_cast<double>(h.horizon_age) / 1e6 +
             50.0 * static_cast<double>(h.vacuum_locked.size());
  return static_cast<int>(std::min(999.0, p));
}

}  // namespace

void LongRunningTransaction(const RuleInput& in, std::vector<PlanItem>* out) {
  const double max_s = in.rule.Threshold("max_transaction_seconds");
  const double max_xmin = in.rule.Threshold("max_xmin_age");
  const double error_xmin = in.rule.Threshold("error_xmin_age");
  const double min_dead = in.rule.Threshold("min_blocked_dead_tuples");
  const double error_dead = in.rule.Threshold("error_blocked_dead_tuples");
  for (const auto& b : in.snap.backends) {
    if (!ClientBackend(b)) continue;
    // Idle-in-transaction sessions have their own rule.
    if (b.state.rfind("idle in transaction", 0) == 0) continue;
    if (b.xact_age_s < 0 && b.HorizonAge() == 0) continue;
    const HeldBack h = WhatItHolds(in.snap, b, min_dead);
    // Judged by what it holds back as well as by how long it has run.
    if (b.xact_age_s < max_s && static_cast<double>(h.horizon_age) < max_xmin &&
        h.blocked_dead < error_dead)
      continue;
    PlanItem it = NewItem(in, RecommendationKind::kSession, Who(b));
    it.executable = false;
    if (static_cast<double>(h.horizon_age) >= error_xmin || h.blocked_dead >= error_dead)
      it.severity = Severity::kError;
    it.rec.sql = "SELECT pg_cancel_backend(" + std::to_string(b.pid) +
                 ");  -- stops the query\n-- SELECT pg_terminate_backend(" + std::to_string(b.pid) +
                 ");  -- ends the session";
    std::ostringstream why;
    why << "transaction open " << Duration(std::max(0.0, b.xact_age_s)) << " (" << b.state << ")";
    DescribeHeld(b, h, why, &it);
    if (!b.query.empty()) why << "; query: " << Snippet(b.query);
    it.rec.reason = why.str();
    it.rec.Add("pid", static_cast<int64_t>(b.pid))
        .Add("xact_age_s", std::round(b.xact_age_s))
        .Add("state", b.state);
    it.rec.priority = HeldPriority(h, b.xact_age_s);
    out->push_back(std::move(it));
  }
}

void IdleInTransaction(const RuleInput& in, std::vector<PlanItem>* out) {
  const double max_idle = in.rule.Threshold("max_idle_seconds");
  const double min_idle = in.rule.Threshold("min_idle_seconds");
  const double max_xmin = in.rule.Threshold("max_xmin_age");
  const double error_xmin = in.rule.Threshold("error_xmin_age");
  const double min_dead = in.rule.Threshold("min_blocked_dead_tuples");
  const double error_dead = in.rule.Threshold("error_blocked_dead_tuples");
  for (const auto& b : in.snap.backends) {
    if (!ClientBackend(b) || b.state.rfind("idle in transaction", 0) != 0) continue;
    if (b.state_age_s < std::min(min_idle, max_idle)) continue;
    const HeldBack h = WhatItHolds(in.snap, b, min_dead);
    // Past max_idle_seconds it is reported whatever it holds; sooner only
    // when it already holds something back that matters.
    const bool holds_much = static_cast<double>(h.horizon_age) >= max_xmin ||
                            !h.blocked_tables.empty() || !h.vacuum_locked.empty();
    if (b.state_age_s < max_idle && !holds_much) continue;
    PlanItem it = NewItem(in, RecommendationKind::kSession, Who(b));
    it.executable = false;
    if (static_cast<double>(h.horizon_age) >= error_xmin || h.blocked_dead >= error_dead)
      it.severity = Severity::kError;
    else if (h.horizon_age == 0 && b.strongest_lock.empty())
      it.severity = Severity::kInfo;  // no snapshot, no XID, no table lock: a held connection
    it.rec.sql = "SELECT pg_terminate_backend(" + std::to_string(b.pid) + ");";
    if (!b.user.empty()) {
      // A role name may hold line breaks: the comment goes through SqlComment.
      it.rec.sql += "\n" + SqlComment("and stop it recurring:\nALTER ROLE " + QuoteIdent(b.user) +
                                      " SET idle_in_transaction_session_timeout = '5min';");
      it.rec.sql.pop_back();
    }
    std::ostringstream why;
    why << b.state << " for " << Duration(b.state_age_s) << " (transaction open "
        << Duration(std::max(b.xact_age_s, b.state_age_s)) << ")";
    DescribeHeld(b, h, why, &it);
    if (b.locks_held > 0) why << "; its locks stay held until it ends";
    if (!b.query.empty()) why << "; last query: " << Snippet(b.query);
    it.rec.reason = why.str();
    it.rec.Add("pid", static_cast<int64_t>(b.pid)).Add("idle_s", std::round(b.state_age_s));
    it.rec.priority = HeldPriority(h, b.state_age_s);
    out->push_back(std::move(it));
  }
}

void BlockingLockChain(const RuleInput& in, std::vector<PlanItem>* out) {
  const double min_wait = in.rule.Threshold("min_wait_seconds");
  const double error_waiters = in.rule.Threshold("error_waiters");
  std::map<int, const BackendHealth*> by_pid;
  for (const auto& b : in.snap.backends) by_pid[b.pid] = &b;
  // Root blocker of each waiter: follow blocked_by until a pid that waits on nobody.
  struct Chain {
    std::set<int> waiters;
    double longest = 0;
    std::set<std::string> relations;
    int depth = 0;
  };
  std::map<int, Chain> roots;
  for (const auto& b : in.snap.backends) {
    if (b.blocked_by.empty() || b.query_age_s < min_wait) continue;
    int cur = b.blocked_by.front();
    int depth = 1;
    std::set<int> seen{b.pid};
    while (true) {
      auto it = by_pid.find(cur);
      if (it == by_pid.end() || it->second->blocked_by.empty() || seen.count(cur)) break;
      seen.insert(cur);
      cur = it->second->blocked_by.front();
      ++depth;
    }
    Chain& c = roots[cur];
    c.waiters.insert(b.pid);
    c.longest = std::max(c.longest, b.query_age_s);
    if (!b.waiting_for.empty()) c.relations.insert(b.waiting_for);
    c.depth = std::max(c.depth, depth);
  }
  for (const auto& [root, c] : roots) {
    auto it_b = by_pid.find(root);
    BackendHealth unknown;
    unknown.pid = root;
    const BackendHealth& b = it_b == by_pid.end() ? unknown : *it_b->second;
    PlanItem it = NewItem(in, RecommendationKind::kSession, Who(b));
    it.executable = false;
    if (static_cast<double>(c.waiters.size()) >= error_waiters) it.severity = Severity::kError;
    it.rec.sql = "SELECT pg_terminate_backend(" + std::to_string(root) +
                 ");  -- after checking what it is doing";
    std::ostringstream why;
    why << "blocks " << c.waiters.size() << " session" << (c.waiters.size() == 1 ? "" : "s")
        << " (chain depth " << c.depth << ", longest wait " << Duration(c.longest) << ")";
    if (!c.relations.empty()) {
      why << " on ";
      bool first = true;
      for (const auto& r : c.relations) {
        why << (first ? "" : ", ") << r;
        first = false;
      }
    }
    if (!b.state.empty())
      why << "; the blocker is " << b.state << ", transaction open "
          << Duration(std::max(0.0, b.xact_age_s));
    if (!b.query.empty()) why << "; its query: " << Snippet(b.query);
    it.rec.reason = why.str();
    it.rec.Add("pid", static_cast<int64_t>(root))
        .Add("waiters", static_cast<int64_t>(c.waiters.size()))
        .Add("longest_wait_s", std::round(c.longest));
    it.rec.priority = static_cast<int>(std::min<size_t>(999, c.waiters.size() * 10));
    out->push_back(std::move(it));
  }
}

void OldPreparedTransaction(const RuleInput& in, std::vector<PlanItem>* out) {
  const double max_age = in.rule.Threshold("max_age_seconds");
  const double error_xid = in.rule.Threshold("error_xid_age");
  for (const auto& p : in.snap.prepared) {
    if (p.age_s < max_age) continue;
    PlanItem it = NewItem(in, RecommendationKind::kPreparedTransaction, p.gid);
    it.executable = false;
    if (static_cast<double>(p.xid_age) >= error_xid) it.severity = Severity::kError;
    it.rec.sql = "ROLLBACK PREPARED " + QuoteLiteral(p.gid) +
                 ";  -- or COMMIT PREPARED, once its transaction manager is known gone";
    std::ostringstream why;
    why << "prepared " << Duration(p.age_s) << " ago in database " << p.database << " by "
        << p.owner << "; it holds its locks and the xmin horizon ("
        << Count(static_cast<double>(p.xid_age)) << " XIDs) until resolved, and survives restarts";
    it.rec.reason = why.str();
    it.rec.Add("age_s", std::round(p.age_s)).Add("xid_age", p.xid_age);
    it.rec.priority = static_cast<int>(std::min(999.0, p.age_s / 60));
    out->push_back(std::move(it));
  }
}

void ReplicationSlotHoldingXmin(const RuleInput& in, std::vector<PlanItem>* out) {
  const double max_xmin = in.rule.Threshold("max_xmin_age");
  const double max_wal = in.rule.Threshold("max_retained_wal_bytes");
  for (const auto& s : in.snap.slots) {
    double age = static_cast<double>(std::max(s.xmin_age, s.catalog_xmin_age));
    bool holds_xmin = age >= max_xmin;
    bool holds_wal = !s.active && static_cast<double>(s.retained_wal_bytes) >= max_wal;
    if (!holds_xmin && !holds_wal) continue;
    PlanItem it = NewItem(in, RecommendationKind::kReplicationSlot, s.name);
    it.executable = false;
    // The slot's name may hold line breaks (inside the literal): comment
    // lines that carry it go through SqlComment.
    it.rec.sql = s.active ? SqlComment(
                                "the slot is active: find out why its consumer lags\n"
                                "SELECT pg_drop_replication_slot(" +
                                QuoteLiteral(s.name) + ");")
                          : "SELECT pg_drop_replication_slot(" + QuoteLiteral(s.name) +
                                ");  -- if its consumer is gone for good";
    if (it.rec.sql.back() == '\n') it.rec.sql.pop_back();
    std::ostringstream why;
    why << (s.active ? "active " : "inactive ") << s.type << " slot";
    if (holds_xmin)
      why << " holds " << (s.catalog_xmin_age > s.xmin_age ? "catalog_xmin" : "xmin") << " "
          << Count(age) << " XIDs back: vacuum cannot remove newer dead rows";
    if (s.retained_wal_bytes > 0)
      why << (holds_xmin ? "; it" : " ") << " retains "
          << Bytes(static_cast<double>(s.retained_wal_bytes)) << " of WAL";
    it.rec.reason = why.str();
    it.rec.Add("xmin_age", s.xmin_age)
        .Add("catalog_xmin_age", s.catalog_xmin_age)
        .Add("retained_wal_bytes", s.retained_wal_bytes)
        .Add("active", s.active);
    it.rec.priority = static_cast<int>(std::min(999.0, age / 1e6));
    out->push_back(std::move(it));
  }
}

void InvalidIndex(const RuleInput& in, std::vector<PlanItem>* out) {
  for (const auto& x : in.snap.indexes) {
    if (x.valid || !in.table_selected(x.schema, x.table)) continue;
    // A build still running concurrently is invalid too; it is not ours to touch.
    if (x.building) continue;
    bool leftover =
        x.name.find("_ccnew") != std::string::npos || x.name.find("_ccold") != std::string::npos;
    PlanItem it = NewItem(
        in, leftover ? RecommendationKind::kDropIndex : RecommendationKind::kReindex, x.Display());
    it.concurrently = true;
    std::ostringstream why;
    why << "invalid index (" << Bytes(static_cast<double>(x.bytes))
        << "): never used by queries, yet every write to " << x.table << " still updates it";
    if (leftover) {
      it.rec.sql = "DROP INDEX CONCURRENTLY " + x.Qualified() + ";";
      it.rec.lock = "SHARE UPDATE EXCLUSIVE (reads and writes go on)";
      why << "; the name says a failed REINDEX CONCURRENTLY left it: the original index exists";
    } else {
      it.rec.sql = "REINDEX INDEX CONCURRENTLY " + x.Qualified() + ";";
      it.rec.lock = "SHARE UPDATE EXCLUSIVE (reads and writes go on)";
      it.rec.revert =
          SqlComment("if the rebuild fails again (e.g. duplicate keys): DROP INDEX CONCURRENTLY " +
                     x.Qualified() + ";");
      it.rec.revert.pop_back();
      why << "; usually a failed CREATE INDEX CONCURRENTLY: rebuild it (or drop it if unwanted)";
    }
    it.rec.reason = why.str();
    it.rec.Add("bytes", x.bytes).Add("definition", x.definition);
    it.rec.priority = static_cast<int>(std::min(999.0, static_cast<double>(x.bytes) / (1 << 20)));
    out->push_back(std::move(it));
  }
}

void UnusedIndex(const RuleInput& in, std::vector<PlanItem>* out) {
  const double min_bytes = in.rule.Threshold("min_bytes");
  const double min_hours = in.rule.Threshold("min_stats_hours");
  // Too short a window of statistics proves nothing about weekly jobs.
  if (in.snap.stats_age_s < min_hours * 3600) return;
  for (const auto& x : in.snap.indexes) {
    if (!in.table_selected(x.schema, x.table)) continue;
    // Constraint indexes enforce something even when never scanned.
    if (!x.valid || x.unique || x.primary || x.exclusion || x.backs_constraint) continue;
    if (x.idx_scan > 0 || static_cast<double>(x.bytes) < min_bytes) continue;
    PlanItem it = NewItem(in, RecommendationKind::kDropIndex, x.Display());
    it.executable = false;
    it.concurrently = true;
    it.rec.sql = "DROP INDEX CONCURRENTLY " + x.Qualified() + ";";
    it.rec.revert = x.definition.empty() ? "" : x.definition + ";";
    it.rec.lock = "SHARE UPDATE EXCLUSIVE (reads and writes go on)";
    it.rec.size_bytes = -x.bytes;
    it.rec.confidence = Confidence::kMedium;
    std::ostringstream why;
    why << "0 scans in " << Num(std::round(in.snap.stats_age_s / 86400)) << " days of statistics; "
        << Bytes(static_cast<double>(x.bytes))
        << " written on every insert and non-HOT update; check standbys (their scans are not "
           "counted here) before dropping";
    it.rec.reason = why.str();
    it.rec.Add("bytes", x.bytes).Add("idx_scan", x.idx_scan);
    it.rec.priority = static_cast<int>(std::min(999.0, static_cast<double>(x.bytes) / (1 << 20)));
    out->push_back(std::move(it));
  }
}

void SequenceExhaustion(const RuleInput& in, std::vector<PlanItem>* out) {
  const double warn = in.rule.Threshold("warn_ratio");
  const double error = in.rule.Threshold("error_ratio");
  for (const auto& q : in.snap.sequences) {
    // Cycling sequences wrap by design; unread ones we cannot judge.
    if (q.cycle || !q.readable || !q.called) continue;
    if (!q.column_table.empty()) {
      size_t dot = q.column_table.find('.');
      std::string schema = dot == std::string::npos ? "public" : q.column_table.substr(0, dot);
      std::string table =
          dot == std::string::npos ? q.column_table : q.column_table.substr(dot + 1);
      if (!in.table_selected(schema, table)) continue;
    }
    double limit = static_cast<double>(q.Limit());
    double used, span;
    if (q.increment >= 0) {
      used = static_cast<double>(q.last_value) - static_cast<double>(q.min_value);
      span = limit - static_cast<double>(q.min_value);
    } else {
      used = static_cast<double>(q.max_value) - static_cast<double>(q.last_value);
      span = static_cast<double>(q.max_value) + limit;
    }
    if (span <= 0) continue;
    double ratio = used / span;
    if (ratio < warn) continue;
    PlanItem it = NewItem(in, RecommendationKind::kSequence, q.schema + "." + q.name);
    it.severity = ratio >= error ? Severity::kError : Severity::kWarning;
    bool narrow_column = q.column_type == "integer" || q.column_type == "smallint";
    bool narrow_seq = q.data_type == "integer" || q.data_type == "smallint";
    std::ostringstream why;
    why << Num(std::round(ratio * 1000) / 10) << "% used: last value "
        << Count(static_cast<double>(q.last_value)) << " of " << Count(limit);
    if (!q.column_table.empty())
      why << " (" << q.column_table << "." << q.column_name << " is " << q.column_type << ")";
    double left = span - used;
    why << "; " << Count(left / std::max<double>(1, std::abs(static_cast<double>(q.increment))))
        << " values left, then inserts fail";
    if (narrow_column) {
      it.executable = false;
      it.rec.sql = SqlComment(
          "widen the column (rewrites the table under ACCESS EXCLUSIVE; plan an online\n"
          "migration: new bigint column, backfill in batches, swap):\n"
          "ALTER TABLE " +
          (q.column_table_sql.empty() ? q.column_table : q.column_table_sql) + " ALTER COLUMN " +
          QuoteIdent(q.column_name) +
          " TYPE bigint;\n"
          "ALTER SEQUENCE " +
          q.Qualified() + " AS bigint;");
      it.rec.sql.pop_back();
      it.rec.lock = "ALTER COLUMN TYPE: ACCESS EXCLUSIVE for the whole rewrite";
      why << "; the column type is the limit";
    } else if (narrow_seq && q.column_type.empty()) {
      // No column found that takes its values (used by application code):
      // widening it is only safe once whatever stores them holds bigint.
      it.executable = false;
      it.rec.sql =
          SqlComment("once every column that stores its values is bigint:\nALTER SEQUENCE " +
                     q.Qualified() + " AS bigint;");
      it.rec.sql.pop_back();
      it.rec.lock = "ROW EXCLUSIVE on the sequence (instant)";
      why << "; no column is tied to it (no OWNED BY / identity / DEFAULT nextval): check what "
             "stores its values before widening it";
    } else if (narrow_seq) {
      it.rec.kind = RecommendationKind::kSequence;
      it.rec.sql = "ALTER SEQUENCE " + q.Qualified() + " AS bigint;";
      it.rec.lock = "ROW EXCLUSIVE on the sequence (instant)";
      why << "; the column takes bigint already: widening the sequence is instant";
    } else {
      it.executable = false;
      it.rec.sql = SqlComment("bigint sequence near its maximum: check increment and MAXVALUE of " +
                              q.Qualified());
      it.rec.sql.pop_back();
      why << "; the sequence's MAXVALUE is the limit";
    }
    it.rec.reason = why.str();
    it.rec.Add("last_value", q.last_value)
        .Add("limit", q.Limit())
        .Add("used_ratio", std::round(ratio * 1000) / 1000)
        .Add("column_type", q.column_type);
    it.rec.priority = static_cast<int>(std::min(999.0, ratio * 1000));
    out->push_back(std::move(it));
  }
}

}  // namespace pgvise::maint
