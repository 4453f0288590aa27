// The range grid of a partitioned table, as the partition rules
// (rules_partitions.cc) extend it: a partition's width parsed from the
// server's age(upper, lower), the i-th range after the newest partition, its
// bound literals and its name.
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
#include "maintenance/rules_partitions_grid.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/sql_text.h"

namespace pgvise::maint::partition_grid {

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

std::string Clip63(std::string name) {
  if (name.size() <= 63) return name;
  // Keep the distinguishing suffix; cut between UTF-8 characters (half a
  // character makes the statement fail: invalid byte sequence for UTF8).
  size_t cut = name.size() - 63;
  while (cut < name.size() && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) ++cut;
  return name.substr(cut);
}

namespace {

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

}  // namespace

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

}  // namespace pgvise::maint::partition_grid
