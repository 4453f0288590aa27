// Partition rules: what a partitioned table needs that PostgreSQL does not do
// by itself. Four rules, each reading the snapshot's PartitionCatalog
// (catalog/partitions.h) and, for a partition's size and rows, the same
// partition in snap.tables (partitions are ordinary tables):
//
//   partition-future-missing   RANGE on a date/time or integer key whose
//       newest partition ends at (or near) now / the highest key in use: the
//       next inserts fail ("no partition of relation ... found for row") or
//       land in the default partition. The interval is inferred from the
//       newest partition (the server's own age(upper, lower): "1 mon",
//       "7 days", "01:00:00"; upper - lower for integers), and the plan
//       creates the next partitions with CREATE TABLE ... PARTITION OF.
//   partition-default-filling  rows in the default partition: which key
//       range they cover (from its pg_stats: histogram bounds and most common
//       values, as of its last ANALYZE), the partitions that would take them,
//       and the recipe that never scans under a long lock: the new partition
//       as a standalone table with a CHECK, rows moved with DELETE ...
//       RETURNING, ATTACH (which scans the default partition under ACCESS
//       EXCLUSIVE unless a validated CHECK on it excludes the range).
//   partitioned-parent-not-analyzed  autovacuum analyzes partitions but never
//       a partitioned parent, so the parent's statistics (used for joins,
//       GROUP BY and any estimate over the whole table) are whatever the last
//       manual ANALYZE left: missing, or describing a table of another size.
//   partition-retention-due    pg_partman's part_config says how long to keep
//       partitions; partitions older than that are still attached (its
//       maintenance is not running). Without pg_partman, pgvise cannot know
//       what you keep, and says so once (maintain.cc).
//
// Worked example: events, RANGE (ts), partitions events_2026_11 [Nov 1, Dec
// 1) and events_2026_12 [Dec 1, Jan 1), now() = Dec 5, YAML
// min_future_partitions 2 and create_partitions 4. One partition starts after
// now (none: Dec 1 is past), fewer than 2: the interval is "1 mon", the name
// pattern "events_YYYY_MM" (the newest name ends with its lower bound
// written that way), so the plan creates events_2027_01 .. events_2027_04.
//
// Bounds are computed on the calendar (months clamp to the month's end,
// days and hours on the clock) and written without a UTC offset: a
// timestamptz bound is read in the session's TimeZone, the one pg_get_expr
// printed the existing bounds in.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "core/sql_text.h"
#include "maintenance/rules_internal.h"

namespace pgvise::maint {

namespace {

// One partition's width: calendar months and days plus clock seconds for
// a date/time key, a plain number for an integer key.
struct Step {
  int months = 0, days = 0;
  double seconds = 0;
  double number = 0;
  bool ok() const { return months > 0 || days > 0 || seconds > 0 || number > 0; }
  bool SubDaily() const { return months == 0 && days == 0 && seconds > 0; }
};

// "1 year 2 mons 3 days 04:00:00" (age()'s output) or "1000" (integer).
Step ParseStep(const std::string& span, bool integer_key) {
  Step st;
  if (integer_key) {
    st.number = std::strtod(span.c_str(), nullptr);
    return st;
  }
  std::istringstream in(span);
  std::string tok;
  double pending = 0;
  bool have = false;
  while (in >> tok) {
    if (tok.find(':') != std::string::npos) {
      int h = 0, m = 0;
      double s = 0;
      if (std::sscanf(tok.c_str(), "%d:%d:%lf", &h, &m, &s) >= 2)
        st.seconds += h * 3600 + m * 60 + s;
      continue;
    }
    if (!have) {
      pending = std::strtod(tok.c_str(), nullptr);
      have = true;
      continue;
    }
    have = false;
    if (tok.rfind("year", 0) == 0) st.months += static_cast<int>(pending) * 12;
    if (tok.rfind("mon", 0) == 0) st.months += static_cast<int>(pending);
    if (tok.rfind("day", 0) == 0) st.days += static_cast<int>(pending);
  }
  return st;
}

// A date/time bound as pg_get_expr prints it in ISO DateStyle:
// "2026-11-01", "2026-11-01 00:00:00", "2026-11-01 00:00:00+00".
struct Stamp {
  int y = 0, m = 0, d = 0, hh = 0, mi = 0;
  double ss = 0;
  bool has_time = false;
};

bool ParseStamp(const std::string& s, Stamp* out) {
  Stamp t;
  int n = std::sscanf(s.c_str(), "%d-%d-%d %d:%d:%lf", &t.y, &t.m, &t.d, &t.hh, &t.mi, &t.ss);
  if (n < 3 || t.m < 1 || t.m > 12 || t.d < 1 || t.d > 31) return false;
  t.has_time = n >= 5;
  *out = t;
  return true;
}

// `base` moved by k steps (k may be negative): months first on the calendar
// (Jan 31 + 1 month = Feb 28/29), then days and seconds on the clock.
Stamp Advance(const Stamp& base, const Step& step, int k) {
  using namespace std::chrono;
  int total = base.y * 12 + (base.m - 1) + k * step.months;
  int y = total >= 0 ? total / 12 : (total - 11) / 12;
  int m = total - y * 12 + 1;
  year_month_day_last last{year{y} / month{static_cast<unsigned>(m)} / std::chrono::last};
  int d = std::min(base.d, static_cast<int>(static_cast<unsigned>(last.day())));
  sys_days when =
      sys_days{year{y} / month{static_cast<unsigned>(m)} / day{static_cast<unsigned>(d)}};
  when += days{static_cast<long>(k) * step.days};
  double secs = base.hh * 3600.0 + base.mi * 60.0 + base.ss + k * step.seconds;
  long whole_days = static_cast<long>(std::floor(secs / 86400));
  when += days{whole_days};
  secs -= whole_days * 86400.0;
  year_month_day ymd{when};
  Stamp out;
  out.y = static_cast<int>(ymd.year());
  out.m = static_cast<int>(static_cast<unsigned>(ymd.month()));
  out.d = static_cast<int>(static_cast<unsigned>(ymd.day()));
  out.hh = static_cast<int>(secs / 3600);
  out.mi = static_cast<int>(std::fmod(secs, 3600) / 60);
  out.ss = std::fmod(secs, 60);
  out.has_time = base.has_time;
  return out;
}

// Seconds since 1970 of the stamp read as UTC (differences only).
double NaiveEpoch(const Stamp& s) {
  using namespace std::chrono;
  sys_days when{year{s.y} / month{static_cast<unsigned>(s.m)} / day{static_cast<unsigned>(s.d)}};
  return static_cast<double>(when.time_since_epoch().count()) * 86400 + s.hh * 3600 + s.mi * 60 +
         s.ss;
}

std::string Literal(const Stamp& s, bool date_only) {
  char buf[48];
  if (date_only)
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", s.y, s.m, s.d);
  else
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d", s.y, s.m, s.d, s.hh, s.mi,
                  static_cast<int>(s.ss));
  return buf;
}

// Partition-name suffixes pgvise recognises and continues, longest first.
const char* const kNameFormats[] = {"%Y_%m_%d_%H%M", "%Y%m%d_%H%M", "%Y_%m_%d", "%Y%m%d",
                                    "%Y_%m",         "%Y%m",        "%Y"};

std::string FormatStamp(const char* fmt, const Stamp& s) {
  std::string out;
  char buf[8];
  for (const char* p = fmt; *p; ++p) {
    if (*p != '%' || !p[1]) {
      out += *p;
      continue;
    }
    ++p;
    int v = *p == 'Y' ? s.y : *p == 'm' ? s.m : *p == 'd' ? s.d : *p == 'H' ? s.hh : s.mi;
    std::snprintf(buf, sizeof buf, *p == 'Y' ? "%04d" : "%02d", v);
    out += buf;
  }
  return out;
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string Clip63(std::string name) {
  if (name.size() <= 63) return name;
  // Keep the distinguishing suffix; cut between UTF-8 characters (half a
  // character makes the statement fail: invalid byte sequence for UTF8).
  size_t cut = name.size() - 63;
  while (cut < name.size() && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) ++cut;
  return name.substr(cut);
}

// The name of a new partition starting at `lower`: the newest partition's
// pattern when its name ends with its own lower bound (events_2026_12,
// events_p20261201), else <parent>_p<YYYYMMDD[_HHMI]>.
std::string TimeName(const PartitionedTable& t, const PartitionInfo& newest, const Stamp& lower,
                     const Step& step) {
  Stamp nl;
  if (ParseStamp(newest.lower, &nl))
    for (const char* fmt : kNameFormats) {
      std::string tail = FormatStamp(fmt, nl);
      if (EndsWith(newest.name, tail))
        return Clip63(newest.name.substr(0, newest.name.size() - tail.size()) +
                      FormatStamp(fmt, lower));
    }
  return Clip63(t.name + "_p" + FormatStamp(step.SubDaily() ? "%Y%m%d_%H%M" : "%Y%m%d", lower));
}

std::string IntName(const PartitionedTable& t, const PartitionInfo& newest,
                    const std::string& lower) {
  if (EndsWith(newest.name, newest.lower))
    return Clip63(newest.name.substr(0, newest.name.size() - newest.lower.size()) + lower);
  return Clip63(t.name + "_p" + lower);
}

std::string IntText(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
}

// A range partition pgvise proposes.
struct NewRange {
  std::string name, lower, upper;  // bound literals, unquoted
  double lower_num = 0, upper_num = 0;
};

// The i-th range after (i > 0) or before (i <= 0) the anchor partition:
// i = 1 is the one starting at the newest partition's upper bound.
// `newest` anchors names and the grid; false when its bounds do not parse.
bool RangeAt(const PartitionedTable& t, const PartitionInfo& newest, const Step& step, int i,
             NewRange* out) {
  if (t.IntegerKey()) {
    double lo = newest.upper_num + (i - 1) * step.number;
    out->lower_num = lo;
    out->upper_num = lo + step.number;
    out->lower = IntText(lo);
    out->upper = IntText(lo + step.number);
    out->name = IntName(t, newest, out->lower);
    return true;
  }
  Stamp up;
  if (!ParseStamp(newest.upper, &up)) return false;
  Stamp lo = Advance(up, step, i - 1), hi = Advance(up, step, i);
  // The server's epoch of the newest upper bound fixes the time zone shift.
  double shift = newest.upper_num - NaiveEpoch(up);
  const bool date_only = t.key_type == "date";
  out->lower = Literal(lo, date_only);
  out->upper = Literal(hi, date_only);
  out->lower_num = NaiveEpoch(lo) + shift;
  out->upper_num = NaiveEpoch(hi) + shift;
  out->name = TimeName(t, newest, lo, step);
  return true;
}

std::string Q(const std::string& literal) { return QuoteLiteral(literal); }

std::string InSchema(const PartitionedTable& t, const std::string& name) {
  return QuoteIdent(t.schema) + "." + QuoteIdent(name);
}

// The RANGE partitions with numeric bounds (no MINVALUE/MAXVALUE, no default),
// in bound order; `catch_all` when one of them ends at MAXVALUE.
std::vector<const PartitionInfo*> Ranged(const PartitionedTable& t, bool* catch_all) {
  std::vector<const PartitionInfo*> out;
  *catch_all = false;
  for (const auto& p : t.partitions) {
    if (p.is_default) continue;
    if (p.upper == "MAXVALUE") *catch_all = true;
    if (p.has_numbers) out.push_back(&p);
  }
  return out;
}

bool Supported(const PartitionedTable& t) {
  return t.strategy == 'r' && t.key_columns.size() == 1 && !t.key_columns[0].empty() &&
         (t.TimeKey() || t.IntegerKey());
}

// Rows of a partition now: the table's live count when the snapshot has it.
double PartitionRows(const HealthSnapshot& snap, const PartitionInfo& p) {
  if (const TableHealth* th = snap.Table(p.oid)) return std::max(0.0, th->Rows());
  return std::max(0.0, p.reltuples);
}

int64_t PartitionBytes(const HealthSnapshot& snap, const PartitionInfo& p) {
  if (const TableHealth* th = snap.Table(p.oid)) return th->heap_bytes + th->toast_bytes;
  return static_cast<int64_t>(p.relpages * snap.Setting("block_size"));
}

std::string Describe(const PartitionInfo& p) { return "[" + p.lower + ", " + p.upper + ")"; }

std::string When(const HealthSnapshot& snap, double epoch) {
  double d = epoch - snap.partitions.now_epoch;
  return d >= 0 ? "in " + Span(d) : Span(-d) + " ago";
}

}  // namespace

void PartitionFutureMissing(const RuleInput& in, std::vector<PlanItem>* out) {
  const int min_future = static_cast<int>(in.rule.Threshold("min_future_partitions"));
  const int create = static_cast<int>(in.rule.Threshold("create_partitions"));
  const int max_create = static_cast<int>(in.rule.Threshold("max_partitions"));
  const HealthSnapshot& snap = in.snap;
  for (const auto& t : snap.partitions.tables) {
    if (!Supported(t) || !in.table_selected(t.schema, t.name)) continue;
    bool catch_all = false;
    std::vector<const PartitionInfo*> ranged = Ranged(t, &catch_all);
    // A MAXVALUE partition takes every future row: nothing is missing.
    if (catch_all || ranged.empty()) continue;
    const PartitionInfo& newest = *ranged.back();
    Step step = ParseStep(newest.span, t.IntegerKey());
    if (!step.ok()) continue;
    // Where inserts arrive now: now() for a time key; for an integer key,
    // the highest partition that holds rows (nothing to judge without one).
    double frontier = 0;
    std::string frontier_text;
    if (t.TimeKey()) {
      frontier = snap.partitions.now_epoch;
      frontier_text = "now()";
    } else {
      const PartitionInfo* top = nullptr;
      for (const PartitionInfo* p : ranged)
        if (PartitionRows(snap, *p) > 0) top = p;
      if (!top) continue;
      frontier = top->lower_num;
      frontier_text = "the highest partition holding rows (" + top->Display() + ")";
    }
    int future = 0;
    for (const PartitionInfo* p : ranged) future += p->lower_num > frontier;
    if (future >= min_future) continue;
    // A default partition holding rows of a range blocks creating that
    // range (the CREATE fails); those ranges are partition-default-filling's.
    const PartitionInfo* def = t.Default();
    double default_min = 1e300, default_max = -1e300;
    if (def && def->has_key_stats && def->stats_numbers && PartitionRows(snap, *def) > 0) {
      default_min = def->stats_min_num;
      default_max = def->stats_max_num;
    }
    std::vector<NewRange> ranges;
    int have_future = future;
    // A table far behind starts at the interval holding now(): the past
    // intervals in between hold no rows (or their rows sit in the default),
    // and making them all would be a long list of empty tables.
    int skipped_past = 0, held_by_default = 0;
    for (int i = 1;
         i <= 100000 && static_cast<int>(ranges.size()) < max_create && have_future < create; ++i) {
      NewRange r;
      if (!RangeAt(t, newest, step, i, &r)) break;
      if (r.upper_num > default_min && r.lower_num <= default_max) {
        ++held_by_default;
        continue;
      }
      if (t.TimeKey() && r.upper_num <= frontier) {
        ++skipped_past;
        continue;
      }
      ranges.push_back(r);
      if (r.lower_num > frontier) ++have_future;
    }
    if (ranges.empty()) continue;
    PlanItem it = NewItem(in, RecommendationKind::kPartition, t.Display());
    const bool behind = newest.upper_num <= frontier;
    if (behind) it.severity = Severity::kError;
    std::string sql;
    for (const auto& r : ranges)
      sql += "CREATE TABLE IF NOT EXISTS " + InSchema(t, r.name) + " PARTITION OF " +
             t.Qualified() + "\n  FOR VALUES FROM (" + Q(r.lower) + ") TO (" + Q(r.upper) + ");\n";
    sql.pop_back();
    it.rec.sql = sql;
    std::ostringstream why;
    why << "RANGE (" << t.key_columns[0] << ") by " << newest.span << ": the newest partition "
        << newest.Display() << " ends at " << newest.upper;
    if (t.TimeKey()) why << " (" << When(snap, newest.upper_num) << ")";
    why << ", and " << future << " partition(s) lie ahead of " << frontier_text << " (fewer than "
        << min_future << "); ";
    if (behind)
      why << (def ? "rows past it already land in the default partition " + def->Display() +
                        ", which grows and makes every later partition harder to add"
                  : "inserts past it fail now: no partition of the table is found for the row");
    else
      why << (def ? "once it fills, rows land in the default partition " + def->Display()
                  : "once it fills, inserts fail: no partition of the table is found for the "
                    "row");
    why << ". Creating the next " << ranges.size() << " (" << ranges.front().lower << " to "
        << ranges.back().upper << ")";
    if (held_by_default > 0)
      why << "; " << held_by_default
          << " interval(s) whose rows sit in the default partition are left out (creating them "
             "would fail: see partition-default-filling)";
    if (skipped_past > 0)
      why << "; the " << skipped_past << " interval(s) between " << newest.upper << " and "
          << ranges.front().lower << " are left out (past: inserts for them still fail"
          << (def ? " or go to the default" : "") << ")";
    it.rec.reason = why.str();
    it.rec.lock = "ACCESS EXCLUSIVE on " + t.Display() +
                  " for each CREATE (catalog only: milliseconds, behind lock_timeout)";
    if (def)
      it.rec.lock += "; it also scans the default partition " + def->Display() + " (" +
                     Count(PartitionRows(snap, *def)) +
                     " rows) under ACCESS EXCLUSIVE to prove none of its rows belong to the new "
                     "range, and fails if some do";
    it.rec.revert = "";
    for (const auto& r : ranges)
      it.rec.revert += "DROP TABLE IF EXISTS " + InSchema(t, r.name) + ";\n";
    it.rec.revert.pop_back();
    it.rec.Add("strategy", std::string("range"))
        .Add("key", t.key_columns[0])
        .Add("interval", newest.span)
        .Add("newest_partition", newest.Display())
        .Add("newest_upper_bound", newest.upper)
        .Add("future_partitions", static_cast<int64_t>(future))
        .Add("partitions_created", static_cast<int64_t>(ranges.size()))
        .Add("past_intervals_left_out", static_cast<int64_t>(skipped_past));
    it.rec.confidence = Confidence::kHigh;
    it.rec.priority = behind ? 900 : 600 - future;
    out->push_back(std::move(it));
  }
}

void PartitionDefaultFilling(const RuleInput& in, std::vector<PlanItem>* out) {
  const double min_rows = in.rule.Threshold("min_rows");
  const double min_bytes = in.rule.Threshold("min_bytes");
  const int max_listed = static_cast<int>(in.rule.Threshold("max_partitions"));
  const HealthSnapshot& snap = in.snap;
  for (const auto& t : snap.partitions.tables) {
    if (!in.table_selected(t.schema, t.name)) continue;
    const PartitionInfo* def = t.Default();
    if (!def) continue;
    const double rows = PartitionRows(snap, *def);
    const int64_t bytes = PartitionBytes(snap, *def);
    if (rows < min_rows && static_cast<double>(bytes) < min_bytes) continue;
    if (rows <= 0) continue;  // pages left by deleted rows are vacuum's business
    PlanItem it = NewItem(in, RecommendationKind::kPartition, def->Display());
    it.executable = false;
    std::ostringstream why;
    why << "default partition of " << t.Display() << " holds " << Count(rows) << " rows ("
        << Bytes(static_cast<double>(bytes)) << "): rows no partition takes. Every query that "
        << "cannot rule the default out scans it, and each new partition must first prove none "
           "of these rows belong to it (a scan under ACCESS EXCLUSIVE; it fails if some do)";
    // Which ranges the rows cover, from the default partition's statistics.
    std::vector<NewRange> ranges;
    std::string key = t.key_columns.size() == 1 ? t.key_columns[0] : "";
    bool catch_all = false;
    std::vector<const PartitionInfo*> ranged = Ranged(t, &catch_all);
    if (!def->has_key_stats) {
      why << "; its key values are unknown: ANALYZE " << def->Display() << " to see them";
    } else {
      why << "; key " << key << " from " << def->stats_min << " to " << def->stats_max
          << " (its statistics)";
      if (Supported(t) && def->stats_numbers && !ranged.empty()) {
        const PartitionInfo& newest = *ranged.back();
        const PartitionInfo& oldest = *ranged.front();
        Step step = ParseStep(newest.span, t.IntegerKey());
        if (step.ok()) {
          // Above the newest partition, then below the oldest, on the grid
          // the existing partitions set.
          for (int i = 1; static_cast<int>(ranges.size()) < max_listed && i <= 10000; ++i) {
            NewRange r;
            if (!RangeAt(t, newest, step, i, &r) || r.lower_num > def->stats_max_num) break;
            if (r.upper_num > def->stats_min_num) ranges.push_back(r);
          }
          if (def->stats_min_num < oldest.lower_num) {
            // RangeAt counts from the newest partition's upper bound: the
            // range just below the oldest is i = 1 - (partitions spanned).
            int back = 0;
            for (int i = 0; i > -10000; --i) {
              NewRange r;
              if (!RangeAt(t, newest, step, i, &r)) break;
              if (r.upper_num <= oldest.lower_num) {
                if (r.upper_num <= def->stats_min_num) break;
                if (static_cast<int>(ranges.size()) >= max_listed) break;
                ranges.push_back(r);
                ++back;
              }
            }
            (void)back;
          }
        }
      }
    }
    // The recipe: one standalone table per range, rows moved, ATTACH.
    std::vector<std::string> cols;
    if (const TableHealth* th = snap.Table(def->oid))
      for (const auto& c : th->columns)
        if (!c.dropped) cols.push_back(QuoteIdent(c.name));
    std::string col_list;
    for (size_t i = 0; i < cols.size(); ++i) col_list += (i ? ", " : "") + cols[i];
    std::string sql;
    auto recipe = [&](const std::string& name, const std::string& bound, const std::string& where) {
      std::string part = InSchema(t, name);
      std::string con = QuoteIdent(Clip63(name + "_bound"));
      std::string excl = QuoteIdent(Clip63(def->name + "_not_" + name));
      std::string move = "WITH moved AS (DELETE FROM " + def->Qualified() + " WHERE " + where +
                         " RETURNING *)\nINSERT INTO " + part +
                         (col_list.empty() ? "" : " (" + col_list + ")") + " SELECT " +
                         (col_list.empty() ? "*" : col_list) + " FROM moved;";
      // Comment lines carry names: through SqlComment, so no name can end one.
      sql += SqlComment(part + " " + bound);
      sql += SqlComment("1. the partition as a standalone table (no lock on " + t.Display() +
                        "), with a CHECK so ATTACH need not scan it:");
      sql += "CREATE TABLE " + part + " (LIKE " + t.Qualified() + " INCLUDING ALL);\n";
      sql += "ALTER TABLE " + part + " ADD CONSTRAINT " + con + " CHECK (" + where + ");\n";
      sql += SqlComment(
          "2. move the rows (ROW EXCLUSIVE: reads and writes go on; batch it by key range when "
          "there are many):");
      sql += move + "\n";
      sql += SqlComment("3. ATTACH scans " + def->Display() +
                        " under ACCESS EXCLUSIVE to prove no row of the range is left there,\n"
                        "unless it has a validated CHECK excluding the range. For a large default "
                        "add one first\n(from then on inserts into this range fail until the "
                        "ATTACH, so do it right before):");
      sql += SqlComment("ALTER TABLE " + def->Qualified() + " ADD CONSTRAINT " + excl +
                            " CHECK (NOT (" + where + ")) NOT VALID;\nALTER TABLE " +
                            def->Qualified() + " VALIDATE CONSTRAINT " + excl +
                            ";  -- SHARE UPDATE EXCLUSIVE",
                        "--    ");
      sql += "SET lock_timeout = '2s';\nBEGIN;\n" + move + "\n";
      sql += "ALTER TABLE " + t.Qualified() + " ATTACH PARTITION " + part + " " + bound + ";\n";
      sql += "COMMIT;\n";
      sql += "ALTER TABLE " + part + " DROP CONSTRAINT " + con + ";\n";
      sql += SqlComment(
          "the partition constraint holds it now; the default's CHECK, if added, "
          "can go too:\nALTER TABLE " +
          def->Qualified() + " DROP CONSTRAINT IF EXISTS " + excl + ";");
    };
    if (!ranges.empty()) {
      std::sort(ranges.begin(), ranges.end(),
                [](const NewRange& a, const NewRange& b) { return a.lower_num < b.lower_num; });
      why << "; they belong in " << ranges.size() << " missing partition(s) from "
          << ranges.front().lower << " to " << ranges.back().upper;
      for (const auto& r : ranges) {
        std::string k = QuoteIdent(key);
        recipe(r.name, "FOR VALUES FROM (" + Q(r.lower) + ") TO (" + Q(r.upper) + ")",
               k + " >= " + Q(r.lower) + " AND " + k + " < " + Q(r.upper));
      }
      it.rec.Add("ranges", static_cast<int64_t>(ranges.size()));
    } else if (t.strategy == 'l' && !def->stats_values_sql.empty() && !key.empty()) {
      why << "; most common values " << def->stats_values_sql;
      std::string name = Clip63(t.name + "_more");
      recipe(name, "FOR VALUES IN (" + def->stats_values_sql + ")",
             QuoteIdent(key) + " IN (" + def->stats_values_sql + ")");
    } else {
      std::string k = key.empty() ? "<key>" : QuoteIdent(key);
      recipe(t.name + "_new", "FOR VALUES FROM ('<lower>') TO ('<upper>')",
             k + " >= '<lower>' AND " + k + " < '<upper>'");
    }
    it.rec.sql = SqlComment("advice: run by hand, step by step") + sql;
    while (!it.rec.sql.empty() && it.rec.sql.back() == '\n') it.rec.sql.pop_back();
    it.rec.reason = why.str();
    it.rec.lock =
        "ROW EXCLUSIVE while rows move; ATTACH: SHARE UPDATE EXCLUSIVE on the parent, ACCESS "
        "EXCLUSIVE on the new partition and the default partition (a scan of the default unless "
        "a validated CHECK excludes the range)";
    it.rec.Add("default_partition", def->Display())
        .Add("rows", rows)
        .Add("bytes", bytes)
        .Add("key_min", def->stats_min)
        .Add("key_max", def->stats_max);
    it.rec.size_bytes = bytes;
    it.rec.priority = static_cast<int>(std::min(800.0, 100 + std::log10(1 + rows) * 50));
    out->push_back(std::move(it));
  }
}

void PartitionedParentNotAnalyzed(const RuleInput& in, std::vector<PlanItem>* out) {
  const double min_rows = in.rule.Threshold("min_rows");
  const double changed_ratio = in.rule.Threshold("changed_ratio");
  const HealthSnapshot& snap = in.snap;
  std::map<uint32_t, const PartitionedTable*> by_oid;
  for (const auto& t : snap.partitions.tables) by_oid[t.oid] = &t;
  // Rows under a parent now: leaf partitions' counts, through sub-partitions.
  std::function<double(const PartitionedTable&, int)> rows_under = [&](const PartitionedTable& t,
                                                                       int depth) {
    double n = 0;
    for (const auto& p : t.partitions) {
      auto sub = by_oid.find(p.oid);
      if (p.relkind == 'p' && sub != by_oid.end() && depth < 32)
        n += rows_under(*sub->second, depth + 1);
      else
        n += PartitionRows(snap, p);
    }
    return n;
  };
  for (const auto& t : snap.partitions.tables) {
    if (!in.table_selected(t.schema, t.name)) continue;
    const double now_rows = rows_under(t, 0);
    if (now_rows < min_rows) continue;
    const bool never = t.since_analyze_s < 0 || t.reltuples < 0;
    double change = 0;
    if (!never) {
      change = std::fabs(now_rows - t.reltuples) / std::max(1.0, t.reltuples);
      if (change < changed_ratio) continue;
    }
    PlanItem it = NewItem(in, RecommendationKind::kAnalyze, t.Display());
    it.rec.sql = "ANALYZE " + t.Qualified() + ";";
    std::ostringstream why;
    why << "partitioned table with " << Count(now_rows) << " rows in its partitions, ";
    if (never)
      why << "never analyzed";
    else
      why << "last analyzed " << Span(t.since_analyze_s) << " ago when it had "
          << Count(t.reltuples) << " rows (" << Num(std::round(change * 100)) << "% off)";
    why << ": autovacuum analyzes the partitions but never the partitioned parent, so the "
           "planner's whole-table statistics (joins, GROUP BY and estimates over several "
           "partitions) are "
        << (never ? "missing" : "stale")
        << "; ANALYZE samples every partition (and analyzes them too). Schedule it after bulk "
           "loads or each new partition";
    it.rec.reason = why.str();
    it.rec.lock = "SHARE UPDATE EXCLUSIVE on the table and its partitions (reads and writes go on)";
    it.rec.Add("rows", now_rows)
        .Add("reltuples", t.reltuples)
        .Add("since_analyze_s", t.since_analyze_s)
        .Add("partitions", static_cast<int64_t>(t.partitions.size()));
    it.rec.confidence = Confidence::kHigh;
    it.rec.priority = static_cast<int>(std::min(500.0, std::log10(1 + now_rows) * 40));
    out->push_back(std::move(it));
  }
}

void PartitionRetentionDue(const RuleInput& in, std::vector<PlanItem>* out) {
  const int min_due = static_cast<int>(in.rule.Threshold("min_due_partitions"));
  const HealthSnapshot& snap = in.snap;
  // Without pg_partman there is no retention to read (maintain.cc says so).
  if (!snap.partitions.has_partman) return;
  for (const auto& cfg : snap.partitions.partman) {
    if (cfg.retention.empty() || cfg.retention_num <= 0) continue;
    const PartitionedTable* t = nullptr;
    for (const auto& x : snap.partitions.tables)
      if (x.schema + "." + x.name == cfg.parent_table) t = &x;
    if (!t || !in.table_selected(t->schema, t->name)) continue;
    bool catch_all = false;
    std::vector<const PartitionInfo*> ranged = Ranged(*t, &catch_all);
    if (ranged.empty()) continue;
    double cutoff;
    if (t->TimeKey()) {
      cutoff = snap.partitions.now_epoch - cfg.retention_num;
    } else {
      // pg_partman's id retention: older than the highest id minus retention;
      // the highest id is at least the lower bound of the top partition with rows.
      double top = -1e300;
      for (const PartitionInfo* p : ranged)
        if (PartitionRows(snap, *p) > 0) top = std::max(top, p->lower_num);
      if (top <= -1e300) continue;
      cutoff = top - cfg.retention_num;
    }
    std::vector<const PartitionInfo*> due;
    for (const PartitionInfo* p : ranged)
      if (p->upper_num <= cutoff) due.push_back(p);
    if (static_cast<int>(due.size()) < min_due) continue;
    PlanItem it = NewItem(in, RecommendationKind::kPartition, t->Display());
    it.executable = false;
    const bool has_default = t->Default() != nullptr;
    std::string sql = "CALL " + QuoteIdent(snap.partitions.partman_schema) +
                      ".run_maintenance_proc();  -- pg_partman applies its retention\n"
                      "-- or by hand, per partition:\n";
    int64_t bytes = 0;
    for (const PartitionInfo* p : due) {
      bytes += PartitionBytes(snap, *p);
      sql += "ALTER TABLE " + t->Qualified() + " DETACH PARTITION " + p->Qualified() +
             (has_default ? ";  -- ACCESS EXCLUSIVE (CONCURRENTLY is refused with a default "
                            "partition)\n"
                          : " CONCURRENTLY;\n");
      if (!cfg.retention_keep_table) sql += "DROP TABLE " + p->Qualified() + ";\n";
    }
    sql.pop_back();
    it.rec.sql = SqlComment("advice: dropping data is a person's decision") + sql;
    std::ostringstream why;
    why << "pg_partman keeps " << cfg.retention << " of " << t->Display() << " but " << due.size()
        << " partition(s) end before the cutoff (oldest " << due.front()->Display() << " "
        << Describe(*due.front()) << ", " << Bytes(static_cast<double>(bytes))
        << " in all): its maintenance is not running"
        << (cfg.automatic_maintenance ? " (no pg_partman_bgw or cron job calling run_maintenance)"
                                      : " (automatic_maintenance is off for this table)")
        << (cfg.retention_keep_table ? "; retention_keep_table is on: partitions are detached, "
                                       "not dropped"
                                     : "");
    it.rec.reason = why.str();
    it.rec.lock = has_default ? "DETACH: ACCESS EXCLUSIVE on the parent and the partition"
                              : "DETACH CONCURRENTLY: SHARE UPDATE EXCLUSIVE on the parent";
    it.rec.size_bytes = -bytes;
    it.rec.Add("retention", cfg.retention)
        .Add("due_partitions", static_cast<int64_t>(due.size()))
        .Add("bytes", bytes);
    it.rec.priority = static_cast<int>(std::min(400.0, 50.0 * static_cast<double>(due.size())));
    out->push_back(std::move(it));
  }
}

}  // namespace pgvise::maint
