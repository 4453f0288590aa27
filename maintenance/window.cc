#include "maintenance/window.h"

#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <tuple>

#include "core/source.h"

namespace pgvise {

namespace {

using json = nlohmann::json;

// The counters a window differences, by name: one list for the file format,
// the reader and the subtraction, so a new counter is added in one place.
// TableHealth and TableCounters name them alike, so it serves both.
template <typename T>
auto CounterFields(T& c) {
  return std::array<std::pair<const char*, decltype(&c.n_tup_ins)>, 10>{{
      {"n_tup_ins", &c.n_tup_ins},
      {"n_tup_upd", &c.n_tup_upd},
      {"n_tup_hot_upd", &c.n_tup_hot_upd},
      {"n_tup_del", &c.n_tup_del},
      {"vacuum_count", &c.vacuum_count},
      {"autovacuum_count", &c.autovacuum_count},
      {"analyze_count", &c.analyze_count},
      {"autoanalyze_count", &c.autoanalyze_count},
      {"heap_blks_read", &c.heap_blks_read},
      {"heap_blks_hit", &c.heap_blks_hit},
  }};
}

TableCounters CountersOfTable(const TableHealth& t) {
  TableCounters c;
  c.oid = t.oid;
  c.schema = t.schema;
  c.name = t.name;
  auto from = CounterFields(t);
  auto to = CounterFields(c);
  for (size_t i = 0; i < to.size(); ++i) *to[i].second = *from[i].second;
  return c;
}

// Growth since the baseline; a counter that went down was reset in between
// and counts from zero.
int64_t Growth(int64_t now, int64_t then) { return now >= then ? now - then : now; }

}  // namespace

CounterBaseline CountersOf(const HealthSnapshot& snap, std::time_t taken_at) {
  CounterBaseline b;
  b.database = snap.database;
  b.taken_at = taken_at;
  b.tables.reserve(snap.tables.size());
  for (const auto& t : snap.tables)
    if (t.has_stats) b.tables.push_back(CountersOfTable(t));
  return b;
}

json BaselineToJson(const CounterBaseline& b) {
  json j;
  j["pgvise_baseline"] = 1;
  j["database"] = b.database;
  j["taken_at"] = static_cast<int64_t>(b.taken_at);
  j["tables"] = json::array();
  for (auto c : b.tables) {
    json t;
    t["oid"] = c.oid;
    t["schema"] = c.schema;
    t["name"] = c.name;
    for (auto [key, field] : CounterFields(c)) t[key] = *field;
    j["tables"].push_back(std::move(t));
  }
  return j;
}

Status BaselineFromJson(const json& j, const std::string& where, CounterBaseline* out) {
  auto bad = [&](const std::string& path, const std::string& what) {
    return Status::InvalidInput(where + ": " + path + ": " + what);
  };
  if (!j.is_object() || !j.contains("pgvise_baseline"))
    return Status::InvalidInput(where +
                                ": not a pgvise baseline (write one with maintain "
                                "--save-baseline FILE)");
  if (j["pgvise_baseline"] != 1) return bad("pgvise_baseline", "unknown version");
  CounterBaseline b;
  if (!j.contains("database") || !j["database"].is_string()) return bad("database", "not a string");
  b.database = j["database"].get<std::string>();
  if (!j.contains("taken_at") || !j["taken_at"].is_number_integer())
    return bad("taken_at", "not an integer (seconds since the epoch)");
  b.taken_at = static_cast<std::time_t>(j["taken_at"].get<int64_t>());
  if (!j.contains("tables") || !j["tables"].is_array()) return bad("tables", "not an array");
  for (size_t i = 0; i < j["tables"].size(); ++i) {
    const json& t = j["tables"][i];
    std::string p = "tables[" + std::to_string(i) + "]";
    if (!t.is_object()) return bad(p, "not an object");
    TableCounters c;
    if (!t.contains("oid") || !t["oid"].is_number_unsigned()) return bad(p + ".oid", "not an oid");
    c.oid = t["oid"].get<uint32_t>();
    for (const char* key : {"schema", "name"}) {
      if (!t.contains(key) || !t[key].is_string()) return bad(p + "." + key, "not a string");
    }
    c.schema = t["schema"].get<std::string>();
    c.name = t["name"].get<std::string>();
    for (auto [key, field] : CounterFields(c)) {
      if (!t.contains(key) || !t[key].is_number_integer())
        return bad(p + "." + key, "not an integer");
      *field = t[key].get<int64_t>();
    }
    b.tables.push_back(std::move(c));
  }
  *out = std::move(b);
  return Status::Ok();
}

Status ReadBaseline(const std::string& path, CounterBaseline* out) {
  SourceText src;
  Status st = SourceText::Read(path, &src);
  if (!st.ok()) return st;
  json j = json::parse(src.text(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidInput(path + ": not JSON");
  return BaselineFromJson(j, path, out);
}

Status WriteBaseline(const std::string& path, const CounterBaseline& b) {
  // Written whole to a temporary name, then renamed: a cron job killed
  // mid-write leaves the previous baseline, never half a file.
  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return Status::InvalidInput(path + ": cannot write the baseline");
    f << BaselineToJson(b).dump() << "\n";
    if (!f.flush()) return Status::InvalidInput(path + ": cannot write the baseline");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Status::InvalidInput(path + ": cannot write the baseline");
  }
  return Status::Ok();
}

double ParseDuration(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  if (i == 0) return -1;
  char* end = nullptr;
  std::string number = text.substr(0, i);
  double v = std::strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size() || !(v > 0)) return -1;
  static const std::map<std::string, double> kUnits = {
      {"", 1},     {"s", 1},       {"sec", 1},   {"min", 60},   {"m", 60},
      {"h", 3600}, {"hour", 3600}, {"d", 86400}, {"day", 86400}};
  auto it = kUnits.find(text.substr(i));
  if (it == kUnits.end()) return -1;
  double s = v * it->second;
  return s <= 366 * 86400.0 ? s : -1;  // a year at most: a typo, not a window
}

Status ApplyWindow(const CounterBaseline& before, double elapsed_s, const std::string& source,
                   HealthSnapshot* now) {
  if (before.database != now->database)
    return Status::InvalidInput("the baseline is of database \"" + before.database +
                                "\", this is \"" + now->database + "\"");
  if (elapsed_s <= 0)
    return Status::InvalidInput("the baseline was taken " + std::to_string(-elapsed_s) +
                                " s in the future (clock change?)");
  // By oid and name: an oid reused by a new table after a DROP must not
  // subtract the old table's counters.
  std::map<std::tuple<uint32_t, std::string, std::string>, const TableCounters*> by_key;
  for (const auto& c : before.tables) by_key[{c.oid, c.schema, c.name}] = &c;
  for (auto& t : now->tables) {
    if (!t.has_stats) continue;
    auto it = by_key.find({t.oid, t.schema, t.name});
    if (it == by_key.end()) continue;  // new since the baseline: every write is in the window
    TableCounters then = *it->second;
    auto cur = CounterFields(t);
    auto old = CounterFields(then);
    for (size_t i = 0; i < cur.size(); ++i) *cur[i].second = Growth(*cur[i].second, *old[i].second);
  }
  now->stats_age_s = elapsed_s;
  now->window_source = source;
  now->window_chosen = true;
  return Status::Ok();
}

}  // namespace pgvise
