#include "advisor/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/json.h"
#include "core/sql_text.h"

namespace pgvise {

using json = nlohmann::ordered_json;

std::string HumanBytes(int64_t bytes) {
  double b = std::fabs(static_cast<double>(bytes));
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  int u = 0;
  while (b >= 1024 && u < 4) b /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%s%.0f %s" : "%s%.1f %s", bytes < 0 ? "-" : "", b,
                units[u]);
  return buf;
}

namespace {

std::string Num(double v, int prec = 2) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", prec, v);
  return buf;
}

std::string OneLine(const std::string& sql, size_t max = 100) {
  std::string out;
  bool space = false;
  for (char c : sql) {
    if (c == '\n' || c == '\t' || c == '\r' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  if (out.size() > max) out = out.substr(0, max - 3) + "...";
  return out;
}

const EvidenceValue* Find(const Recommendation& r, const std::string& key) {
  for (const auto& e : r.evidence)
    if (e.key == key) return &e.value;
  return nullptr;
}

double EvidenceDouble(const Recommendation& r, const std::string& key, double fallback = 0) {
  const EvidenceValue* v = Find(r, key);
  if (!v) return fallback;
  if (auto d = std::get_if<double>(v)) return *d;
  if (auto i = std::get_if<int64_t>(v)) return static_cast<double>(*i);
  return fallback;
}

// "at least " when a query hit the timeout before the index existed.
std::string LowerBound(const Recommendation& r) {
  const EvidenceValue* v = Find(r, "speedup_is_lower_bound");
  const bool* b = v ? std::get_if<bool>(v) : nullptr;
  return b && *b ? "at least " : "";
}

std::string HtmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

double Reduction(const AdviseReport& r) {
  return r.workload_cost_before > 0 ? 1.0 - r.workload_cost_after / r.workload_cost_before : 0;
}

std::string Summary(const AdviseReport& r) {
  std::ostringstream s;
  s << r.statements.size() << " statements (" << r.statements_costed << " costed";
  if (r.statements_failed) s << ", " << r.statements_failed << " not plannable";
  s << "; skipped " << r.skipped_utility << " utility/DDL, " << r.skipped_unparsable
    << " unparsable, " << r.skipped_other << " other; " << r.merged_duplicates
    << " duplicates merged), " << r.candidates << " candidates (" << r.candidates_skipped_existing
    << " already provided by existing indexes)";
  return s.str();
}

std::string Stats(const AdviseReport& r) {
  std::ostringstream s;
  double hit = r.whatif.whatif_calls + r.whatif.cache_hits > 0
                   ? 100.0 * static_cast<double>(r.whatif.cache_hits) /
                         static_cast<double>(r.whatif.whatif_calls + r.whatif.cache_hits)
                   : 0;
  s << r.selection_steps << " greedy steps + " << r.local_moves << " local-search moves, "
    << r.whatif.whatif_calls << " what-if EXPLAINs, " << r.whatif.cache_hits << " cache hits ("
    << Num(hit, 1) << "%), " << r.whatif.hypo_creates << " hypothetical indexes created, "
    << Num(r.wall_ms / 1000.0, 2) << " s (EXPLAIN " << Num(r.whatif.explain_ms / 1000.0, 2)
    << " s); HypoPG " << r.hypopg_version;
  return s.str();
}

std::string RenderText(const AdviseReport& r, const AdviceRenderOptions& o) {
  std::ostringstream s;
  s << "pgvise advise";
  if (!o.database.empty()) s << " — " << o.database;
  s << "\n" << Summary(r) << "\n";
  s << "workload cost " << Num(r.workload_cost_before, 0) << " -> " << Num(r.workload_cost_after, 0)
    << " (" << Num(100 * Reduction(r), 1) << "% lower)";
  if (r.budget_bytes >= 0) s << ", budget " << HumanBytes(r.budget_bytes);
  s << ", +" << HumanBytes(r.bytes_added) << " of indexes, " << HumanBytes(r.bytes_freed)
    << " freed\n\n";
  if (r.indexes.empty() && r.unverified.empty())
    s << "No new index would lower the workload's cost enough.\n";
  int n = 0;
  for (const auto& rec : r.indexes) {
    s << ++n << ". " << rec.sql << ";\n";
    s << "   " << HumanBytes(rec.size_bytes) << ", write overhead " << Num(rec.write_overhead, 0)
      << ", confidence " << rec.confidence << " — " << rec.reason << "\n";
    if (auto v = Find(rec, "measured_speedup"))
      if (auto d = std::get_if<double>(v))
        s << "   --verify: measured " << LowerBound(rec) << Num(*d, 1) << "x faster\n";
    for (const auto& b : rec.benefit)
      s << "   - " << Num(b.cost_before, 1) << " -> " << Num(b.cost_after, 1) << " x "
        << Num(b.calls, 0) << " calls: " << OneLine(b.query, 90) << "\n";
  }
  for (const auto& rec : r.unverified) {
    s << ++n << ". [unverified] " << rec.sql << ";\n   " << rec.reason << "\n";
    if (auto v = Find(rec, "measured_speedup"))
      if (auto d = std::get_if<double>(v))
        s << "   --verify: measured " << LowerBound(rec) << Num(*d, 1) << "x faster\n";
    for (const auto& b : rec.benefit)
      s << "   - " << Num(b.calls, 0) << " calls: " << OneLine(b.query, 90) << "\n";
  }
  if (!r.drops.empty()) s << "\nDrops:\n";
  for (const auto& rec : r.drops)
    s << "- " << rec.sql << ";\n  frees " << HumanBytes(-rec.size_bytes) << " — " << rec.reason
      << "\n";
  for (const auto& note : r.notes) s << "note: " << note << "\n";
  s << "\n" << Stats(r) << "\n";
  return s.str();
}

std::string RenderSql(const AdviseReport& r, const AdviceRenderOptions& o) {
  std::ostringstream s;
  // Names and reasons go through SqlComment: a '\n' or '\r' in them would
  // end the comment and run the rest of the line as SQL.
  s << SqlComment("pgvise advise: index changes for the workload" +
                  (o.database.empty() ? std::string() : " on " + o.database));
  s << "-- workload cost " << Num(r.workload_cost_before, 0) << " -> "
    << Num(r.workload_cost_after, 0) << " (" << Num(100 * Reduction(r), 1)
    << "% lower, HypoPG what-if estimates)\n";
  s << "-- Run with psql outside a transaction block: CONCURRENTLY can't run inside one.\n";
  s << "-- If a statement times out waiting for a lock, run it again later; IF [NOT] EXISTS makes "
       "re-runs safe.\n";
  s << "-- A failed CREATE INDEX CONCURRENTLY leaves an INVALID index: drop it and re-run.\n\n";
  s << "SET lock_timeout = '" << o.lock_timeout_ms << "ms';\nSET statement_timeout = 0;\n\n";
  for (const auto& rec : r.indexes) {
    s << SqlComment(rec.reason + "\nsize ~" + HumanBytes(rec.size_bytes) + ", confidence " +
                    rec.confidence);
    s << rec.sql << ";\n\n";
  }
  for (const auto& rec : r.unverified) {
    s << SqlComment(rec.reason);
    s << rec.sql << ";\n\n";
  }
  for (const auto& rec : r.drops) {
    s << SqlComment(rec.reason + "\nfrees " + HumanBytes(-rec.size_bytes) +
                    "; to undo: " + rec.revert);
    s << rec.sql << ";\n\n";
  }
  if (r.indexes.empty() && r.unverified.empty() && r.drops.empty()) s << "-- nothing to change\n";
  if (o.include_revert) {
    s << "-- ---------------------------------------------------------------\n-- Revert script\n";
    s << SqlComment(RenderRevertSql(r, o));
  }
  return s.str();
}

json StatementJson(const StatementOutcome& st) {
  json j;
  j["index"] = st.index + 1;
  j["source"] = st.source;
  j["fingerprint"] = st.fingerprint;
  j["query"] = st.sql;
  j["calls"] = st.calls;
  j["costed"] = st.costed;
  if (st.costed) {
    j["cost_before"] = st.cost_before;
    j["cost_after"] = st.cost_after;
  } else {
    j["error"] = st.error;
  }
  j["indexes_after"] = st.indexes_after;
  return j;
}

// Inline SVG: horizontal bars for workload cost before and after.
std::string Chart(const AdviseReport& r) {
  double max = std::max({r.workload_cost_before, r.workload_cost_after, 1.0});
  auto bar = [&](int y, const char* label, double v, const char* color) {
    double w = 460.0 * v / max;
    std::ostringstream s;
    s << "<text x=\"0\" y=\"" << y + 17 << "\" font-size=\"13\">" << label << "</text>"
      << "<rect x=\"70\" y=\"" << y << "\" width=\"" << Num(std::max(w, 1.0), 1)
      << "\" height=\"24\" fill=\"" << color << "\"/><text x=\"" << Num(78 + w, 1) << "\" y=\""
      << y + 17 << "\" font-size=\"13\">" << Num(v, 0) << "</text>";
    return s.str();
  };
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"70\" role=\"img\" "
         "aria-label=\"workload cost before and after\">" +
         bar(4, "before", r.workload_cost_before, "#c0504d") +
         bar(38, "after", r.workload_cost_after, "#4f81bd") + "</svg>";
}

std::string RenderMarkdown(const AdviseReport& r, const AdviceRenderOptions& o) {
  std::ostringstream s;
  s << "# pgvise index advice\n\n";
  if (!o.database.empty()) s << "Database: `" << o.database << "`\n\n";
  s << "Workload cost **" << Num(r.workload_cost_before, 0) << " → "
    << Num(r.workload_cost_after, 0) << "** (" << Num(100 * Reduction(r), 1) << "% lower) with "
    << r.indexes.size() << " new index(es) (" << HumanBytes(r.bytes_added) << ") and "
    << r.drops.size() << " drop(s) (" << HumanBytes(r.bytes_freed) << " freed).";
  if (r.budget_bytes >= 0) s << " Budget: " << HumanBytes(r.budget_bytes) << ".";
  s << "\n\n" << Summary(r) << ".\n\n";
  s << "## Recommended indexes\n\n";
  if (r.indexes.empty()) s << "None: no new index lowers the workload's cost enough.\n\n";
  int n = 0;
  for (const auto& rec : r.indexes) {
    s << "### " << ++n << ". `" << rec.object << "`\n\n```sql\n" << rec.sql << ";\n```\n\n";
    s << "- size ~" << HumanBytes(rec.size_bytes) << ", write overhead "
      << Num(rec.write_overhead, 0) << " units, confidence " << rec.confidence << "\n- "
      << rec.reason << "\n";
    s << "- share of workload helped: " << Num(100 * EvidenceDouble(rec, "share_of_workload"), 1)
      << "%\n";
    if (auto v = Find(rec, "measured_speedup"))
      if (auto d = std::get_if<double>(v))
        s << "- `--verify`: measured " << LowerBound(rec) << Num(*d, 1) << "× faster\n";
    s << "\n| query | calls | cost before | cost after |\n|---|---:|---:|---:|\n";
    for (const auto& b : rec.benefit)
      s << "| `" << OneLine(b.query, 80) << "` | " << Num(b.calls, 0) << " | "
        << Num(b.cost_before, 1) << " | " << Num(b.cost_after, 1) << " |\n";
    s << "\n";
  }
  if (!r.unverified.empty()) {
    s << "## Not verifiable by what-if (GIN)\n\n";
    for (const auto& rec : r.unverified)
      s << "```sql\n" << rec.sql << ";\n```\n" << rec.reason << "\n\n";
  }
  s << "## Indexes to drop\n\n";
  if (r.drops.empty()) s << "None.\n\n";
  for (const auto& rec : r.drops)
    s << "```sql\n"
      << rec.sql << ";\n```\nFrees " << HumanBytes(-rec.size_bytes) << ". " << rec.reason << "\n\n";
  if (!r.notes.empty()) {
    s << "## Notes\n\n";
    for (const auto& note : r.notes) s << "- " << note << "\n";
    s << "\n";
  }
  s << "---\n" << Stats(r) << "\n";
  return s.str();
}

std::string RenderHtml(const AdviseReport& r, const AdviceRenderOptions& o) {
  std::ostringstream s;
  s << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>pgvise index "
       "advice</title>\n"
       "<style>body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 "
       "1em;color:#222}"
       "pre{background:#f4f4f4;padding:.6em;overflow-x:auto}table{border-collapse:collapse;width:"
       "100%}"
       "td,th{border:1px solid #ddd;padding:.3em .5em;font-size:13px}td.n{text-align:right}"
       "code{font-size:12px}.muted{color:#666;font-size:13px}</style></head><body>\n";
  s << "<h1>pgvise index advice</h1>\n";
  if (!o.database.empty())
    s << "<p class=\"muted\">Database: " << HtmlEscape(o.database) << "</p>\n";
  s << "<p>Workload cost <b>" << Num(r.workload_cost_before, 0) << " &rarr; "
    << Num(r.workload_cost_after, 0) << "</b> (" << Num(100 * Reduction(r), 1) << "% lower) with "
    << r.indexes.size() << " new index(es) (" << HumanBytes(r.bytes_added) << ") and "
    << r.drops.size() << " drop(s) (" << HumanBytes(r.bytes_freed) << " freed).</p>\n";
  s << Chart(r) << "\n<p class=\"muted\">" << HtmlEscape(Summary(r))
    << "</p>\n<h2>Recommended indexes</h2>\n";
  if (r.indexes.empty()) s << "<p>None: no new index lowers the workload's cost enough.</p>\n";
  int n = 0;
  for (const auto& rec : r.indexes) {
    s << "<h3>" << ++n << ". " << HtmlEscape(rec.object) << "</h3>\n<pre>" << HtmlEscape(rec.sql)
      << ";</pre>\n";
    s << "<p>size ~" << HumanBytes(rec.size_bytes) << ", write overhead "
      << Num(rec.write_overhead, 0) << " units, confidence " << rec.confidence
      << ", share of workload helped " << Num(100 * EvidenceDouble(rec, "share_of_workload"), 1)
      << "%<br>" << HtmlEscape(rec.reason) << "</p>\n";
    s << "<table><tr><th>query</th><th>calls</th><th>cost before</th><th>cost after</th></tr>\n";
    for (const auto& b : rec.benefit)
      s << "<tr><td><code>" << HtmlEscape(OneLine(b.query, 120)) << "</code></td><td class=\"n\">"
        << Num(b.calls, 0) << "</td><td class=\"n\">" << Num(b.cost_before, 1)
        << "</td><td class=\"n\">" << Num(b.cost_after, 1) << "</td></tr>\n";
    s << "</table>\n";
  }
  if (!r.unverified.empty()) {
    s << "<h2>Not verifiable by what-if (GIN)</h2>\n";
    for (const auto& rec : r.unverified)
      s << "<pre>" << HtmlEscape(rec.sql) << ";</pre><p>" << HtmlEscape(rec.reason) << "</p>\n";
  }
  s << "<h2>Indexes to drop</h2>\n";
  if (r.drops.empty()) s << "<p>None.</p>\n";
  for (const auto& rec : r.drops)
    s << "<pre>" << HtmlEscape(rec.sql) << ";</pre><p>Frees " << HumanBytes(-rec.size_bytes) << ". "
      << HtmlEscape(rec.reason) << "</p>\n";
  if (!r.notes.empty()) {
    s << "<h2>Notes</h2><ul>\n";
    for (const auto& note : r.notes) s << "<li>" << HtmlEscape(note) << "</li>\n";
    s << "</ul>\n";
  }
  s << "<p class=\"muted\">" << HtmlEscape(Stats(r)) << "</p>\n</body></html>\n";
  return s.str();
}

}  // namespace

json AdviceToJson(const AdviseReport& r) {
  json j;
  j["command"] = "advise";
  json sum;
  sum["statements"] = r.statements.size();
  sum["statements_costed"] = r.statements_costed;
  sum["statements_failed"] = r.statements_failed;
  sum["skipped_utility"] = r.skipped_utility;
  sum["skipped_unparsable"] = r.skipped_unparsable;
  sum["skipped_other"] = r.skipped_other;
  sum["merged_duplicates"] = r.merged_duplicates;
  sum["candidates"] = r.candidates;
  sum["candidates_skipped_existing"] = r.candidates_skipped_existing;
  sum["workload_cost_before"] = r.workload_cost_before;
  sum["workload_cost_after"] = r.workload_cost_after;
  sum["relative_cost"] =
      r.workload_cost_before > 0 ? r.workload_cost_after / r.workload_cost_before : 1.0;
  sum["bytes_added"] = r.bytes_added;
  sum["bytes_freed"] = r.bytes_freed;
  sum["budget_bytes"] = r.budget_bytes;
  sum["write_overhead_added"] = r.write_overhead_added;
  sum["write_overhead_saved"] = r.write_overhead_saved;
  sum["whatif_calls"] = r.whatif.whatif_calls;
  sum["cache_hits"] = r.whatif.cache_hits;
  sum["hypothetical_indexes_created"] = r.whatif.hypo_creates;
  sum["explain_ms"] = r.whatif.explain_ms;
  sum["wall_ms"] = r.wall_ms;
  sum["selection_steps"] = r.selection_steps;
  sum["local_moves"] = r.local_moves;
  sum["timed_out"] = r.timed_out;
  sum["hypopg_version"] = r.hypopg_version;
  j["summary"] = sum;
  json recs = json::array();
  for (const auto& x : r.indexes) recs.push_back(ToJson(x));
  j["recommendations"] = recs;
  json unv = json::array();
  for (const auto& x : r.unverified) unv.push_back(ToJson(x));
  j["unverified"] = unv;
  json drops = json::array();
  for (const auto& x : r.drops) drops.push_back(ToJson(x));
  j["drops"] = drops;
  json sts = json::array();
  for (const auto& x : r.statements) sts.push_back(StatementJson(x));
  j["statements"] = sts;
  j["notes"] = r.notes;
  return j;
}

std::string RenderRevertSql(const AdviseReport& r, const AdviceRenderOptions& o) {
  std::ostringstream s;
  s << "-- pgvise advise: revert script (undoes the index changes, newest first)\n";
  s << "SET lock_timeout = '" << o.lock_timeout_ms << "ms';\nSET statement_timeout = 0;\n\n";
  for (auto it = r.drops.rbegin(); it != r.drops.rend(); ++it)
    s << SqlComment("re-create " + it->object) << it->revert << ";\n\n";
  for (auto it = r.unverified.rbegin(); it != r.unverified.rend(); ++it) s << it->revert << ";\n";
  for (auto it = r.indexes.rbegin(); it != r.indexes.rend(); ++it) s << it->revert << ";\n";
  return s.str();
}

std::string RenderAdvice(const AdviseReport& r, const AdviceRenderOptions& o) {
  if (o.format == "json") return AdviceToJson(r).dump(2) + "\n";
  if (o.format == "sql") return RenderSql(r, o);
  if (o.format == "markdown") return RenderMarkdown(r, o);
  if (o.format == "html") return RenderHtml(r, o);
  return RenderText(r, o);
}

}  // namespace pgvise
