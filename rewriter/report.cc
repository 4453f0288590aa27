// A rewrite run as the report model (core/report.h).
//
// The scripts (sql, text) and the JSON contract are built here as documents
// printed as is; the page (markdown, html) is a body of blocks:
//
//   pgvise rewrite: 3 statements, 1 rewritten                      heading
//   statements 3 · rewritten 1 · not proposed 1 · check ...        key/values
//   Statement 1 (app.sql:4:1): rewritten                           heading per statement
//   cost / decision                                                 key/values
//   [form, EXPLAIN cost, SubPlans, ran]                            table, bars on the cost
//   [pass, result, where, why]                                     table: the safety argument
//                                                                  of each applied pass, the
//                                                                  reason of each refusal
//   original / rewritten                                           code, both in full
//
// "Never slower": with --db a rewrite is proposed only when EXPLAIN says it
// is cheaper (rewriter/verify.h, execution off: both forms are planned in a
// read-only transaction that is rolled back, never run); both costs are
// shown either way. Where the estimate is known to mislead — the original
// probes an index once per outer row (a SubPlan, or a LATERAL top-N the
// rewrite drops), and the planner prices every probe as a cold read with no
// caching between loops, overstating the original — the estimate alone
// proposes nothing: the statement stays as written, the check says why with
// both costs and points at --verify, whose measurement decides.
#include "rewriter/report.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/sql_text.h"

namespace pgvise {

namespace {

std::string Fixed(double v, int prec = 1) {
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(prec);
  o << v;
  return o.str();
}

// `sql` ended by ";". An unchanged statement keeps its own text, which may
// end in a `-- comment`; a ";" after it would be commented out and psql
// would run this statement and the next as one, so then ";" goes on a line
// of its own. (A "--" inside a literal on the last line costs a line break.)
std::string Terminated(const std::string& sql) {
  size_t last_line = sql.find_last_of("\r\n");
  last_line = last_line == std::string::npos ? 0 : last_line + 1;
  return sql + (sql.find("--", last_line) == std::string::npos ? ";" : "\n;");
}

std::string Status(const StatementRewrite& r) {
  if (r.proposed)
    return r.check == RewriteCheck::kNone ? "rewritten (unchecked: no --db)" : "rewritten";
  if (!r.result.changed) return "unchanged";
  return r.check == RewriteCheck::kMeasured ? "unchanged (rewrite not proposed, see verify)"
                                            : "unchanged (rewrite not proposed, see cost)";
}

std::string OutcomeWord(const PassOutcome& oc) {
  return oc.applied ? "applied" : oc.pass == "postgresql" ? "left" : "refused";
}

std::string Where(const SqlFile& file, const Statement& st, const PassOutcome& oc) {
  return oc.location >= 0 ? file.Where(st, static_cast<size_t>(oc.location)) : file.Where(st);
}

std::string TextDocument(const SqlFile& file, const std::vector<StatementRewrite>& reps) {
  // Every comment goes through SqlComment: file names, reasons and notes may
  // quote identifiers that hold '\n' or '\r', which would end the comment.
  std::ostringstream o;
  for (const auto& r : reps) {
    const Statement& st = *r.stmt;
    o << SqlComment("statement " + std::to_string(st.index + 1) + " (" + file.Where(st) +
                    "): " + Status(r));
    for (const auto& oc : r.result.outcomes) {
      std::string word = OutcomeWord(oc);
      word.resize(8, ' ');
      o << SqlComment(word + oc.pass + " at " + Where(file, st, oc) + ": " + oc.reason, "--   ");
    }
    if (std::string check = CheckSummary(r); !check.empty()) o << SqlComment(check, "--   ");
    o << Terminated(r.output) << "\n\n";
  }
  return o.str();
}

std::string SqlDocument(const std::vector<StatementRewrite>& reps) {
  std::string out;
  for (const auto& r : reps) out += Terminated(r.output) + "\n\n";
  return out;
}

const char* CheckName(RewriteCheck c) {
  switch (c) {
    case RewriteCheck::kNone:
      return "none";
    case RewriteCheck::kEstimate:
      return "estimate";
    case RewriteCheck::kMeasured:
      return "measured";
  }
  return "none";
}

std::string JsonDocument(const SqlFile& file, const std::vector<StatementRewrite>& reps) {
  nlohmann::json stmts = nlohmann::json::array();
  for (const auto& r : reps) {
    const Statement& st = *r.stmt;
    nlohmann::json j;
    j["index"] = st.index;
    j["location"] = {
        {"file", file.source.path()}, {"line", st.pos.line}, {"column", st.pos.column}};
    j["changed"] = r.proposed;
    j["original"] = st.sql;
    j["sql"] = r.output;
    j["check"] = CheckName(r.check);
    nlohmann::json outs = nlohmann::json::array();
    for (const auto& oc : r.result.outcomes) {
      nlohmann::json x;
      x["pass"] = oc.pass;
      x["applied"] = oc.applied;
      x["reason"] = oc.reason;
      x["subquery"] = oc.subquery;
      if (oc.location >= 0) {
        LineCol lc = file.source.At(st.offset + static_cast<size_t>(oc.location));
        x["location"] = {{"file", file.source.path()}, {"line", lc.line}, {"column", lc.column}};
      }
      outs.push_back(x);
    }
    j["passes"] = outs;
    nlohmann::json timings = nlohmann::json::array();
    for (const auto& t : r.result.timings)
      timings.push_back({{"pass", t.pass}, {"ms", t.ms}, {"verified", t.verified}});
    j["timings"] = timings;
    if (r.check != RewriteCheck::kNone) {
      const auto& v = r.verify;
      j["verify"] = {{"cost_before", v.cost_before},
                     {"cost_after", v.cost_after},
                     {"subplans_before", v.subplans_before},
                     {"subplans_after", v.subplans_after},
                     {"subplan_index_path", v.subplan_index_before},
                     {"lateral_index_probes_before", v.lateral_index_probes_before},
                     {"lateral_index_probes_after", v.lateral_index_probes_after},
                     {"estimate_misleads", MisleadingEstimate(v)},
                     {"executed", v.executed},
                     {"results_equal", v.results_equal},
                     {"ms_before", v.ms_before},
                     {"ms_after", v.ms_after},
                     {"runs_ms_before", v.runs_before},
                     {"runs_ms_after", v.runs_after},
                     {"speed",
                      {{"verdict", SpeedVerdictName(v.speed.verdict)},
                       {"median_ms_before", v.speed.median_before},
                       {"median_ms_after", v.speed.median_after},
                       {"margin_ms", v.speed.margin_ms},
                       {"runs", v.speed.runs}}},
                     {"original_timed_out", v.before_timed_out},
                     {"rewrite_timed_out", v.after_timed_out},
                     {"rows", v.rows_before},
                     {"proposed", v.proposed},
                     {"decided_by", v.decided_by},
                     {"note", v.note}};
    }
    stmts.push_back(j);
  }
  return nlohmann::json{{"statements", stmts}}.dump(2) + "\n";
}

// Planner costs span decades: 12.4, 8,310, 1.16 M.
std::string Cost(double v) {
  char buf[64];
  if (v >= 1e6)
    std::snprintf(buf, sizeof buf, "%.3g M", v / 1e6);
  else if (v >= 1e4)
    std::snprintf(buf, sizeof buf, "%.0f k", v / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string Ms(double ms) {
  return ms >= 1000 ? Fixed(ms / 1000, 2) + " s" : Fixed(ms, ms < 10 ? 2 : 0) + " ms";
}

// " (8.8-18 ms)" over several timed runs, "" for one.
std::string Range(const std::vector<double>& runs) {
  if (runs.size() < 2) return "";
  auto [lo, hi] = std::minmax_element(runs.begin(), runs.end());
  return " (" + Fixed(*lo, 1) + "-" + Fixed(*hi, 1) + " ms)";
}

const PassInfo* PassNamed(const std::string& name) {
  for (const auto& p : Passes())
    if (name == p.name) return &p;
  return nullptr;
}

void StatementBlocks(const SqlFile& file, const StatementRewrite& r, std::vector<ReportBlock>* b) {
  const Statement& st = *r.stmt;
  ReportBlock h = ReportBlock::Heading("Statement " + std::to_string(st.index + 1) + " (" +
                                       file.Where(st) + "): " + Status(r));
  h.tone = r.proposed ? "good" : r.result.changed ? "warn" : "";
  b->push_back(std::move(h));
  std::vector<std::pair<std::string, std::string>> kv;
  if (std::string check = CheckSummary(r); !check.empty()) kv.push_back({"cost", check});
  if (std::string by = DecidedBy(r); !by.empty()) kv.push_back({"decided by", by});
  if (!r.result.timings.empty()) {
    double ms = 0;
    for (const auto& t : r.result.timings) ms += t.ms;
    kv.push_back({"rewriting took", Fixed(ms, 3) + " ms over " +
                                        std::to_string(r.result.timings.size()) + " passes"});
  }
  if (!kv.empty()) b->push_back(ReportBlock::KeyValues(std::move(kv)));

  if (r.check != RewriteCheck::kNone && r.verify.cost_before > 0) {
    const VerifyResult& v = r.verify;
    ReportTable t;
    const bool ran = r.check == RewriteCheck::kMeasured;
    t.header = {"form", "EXPLAIN cost", "SubPlans"};
    if (ran) t.header.insert(t.header.end(), {"ran", "rows"});
    t.numeric = {false, true, true, true, true};
    t.log_scale = true;  // a SubPlan's cost is often thousands of times the join's
    std::vector<ReportCell> before = {{"original", {}},
                                      {Cost(v.cost_before), v.cost_before},
                                      {std::to_string(v.subplans_before), {}}};
    std::vector<ReportCell> after = {{"rewritten", {}},
                                     {Cost(v.cost_after), v.cost_after},
                                     {std::to_string(v.subplans_after), {}}};
    if (ran) {
      before.push_back(
          {v.before_timed_out ? "> statement_timeout" : Ms(v.ms_before) + Range(v.runs_before),
           {}});
      after.push_back(
          {v.after_timed_out ? "> statement_timeout" : Ms(v.ms_after) + Range(v.runs_after), {}});
      before.push_back({v.executed ? std::to_string(v.rows_before) : "", {}});
      after.push_back(
          {v.executed ? std::to_string(v.rows_after) + (v.results_equal ? " (same)" : " (DIFFER)")
                      : "",
           {}});
    }
    t.rows = {std::move(before), std::move(after)};
    b->push_back(ReportBlock::Table(
        std::move(t), ran ? "both forms planned and run, read-only, rolled back; ran: median "
                            "(fastest-slowest) of the timed runs"
                          : "both forms planned (EXPLAIN, read-only, rolled back), not run"));
  }

  if (!r.result.outcomes.empty()) {
    ReportTable t;
    t.header = {"pass", "result", "where", "why"};
    for (const auto& oc : r.result.outcomes) {
      std::string why = oc.reason;
      if (oc.applied)
        if (const PassInfo* p = PassNamed(oc.pass)) why = std::string(p->summary) + ". " + why;
      t.rows.push_back(
          {{oc.pass, {}},
           {OutcomeWord(oc), {}},
           {Where(file, st, oc), {}},
           {why + (oc.subquery.empty() ? "" : " [subquery: " + oc.subquery + "]"), {}}});
    }
    b->push_back(ReportBlock::Table(std::move(t),
                                    "each pass: its safety argument when applied, its reason when "
                                    "it refused or left the shape to PostgreSQL"));
  }
  b->push_back(ReportBlock::Code(st.sql, "original"));
  if (r.result.changed)
    b->push_back(ReportBlock::Code(
        r.result.sql, r.proposed ? "rewritten (proposed)" : "rewritten (not proposed)"));
}

}  // namespace

std::string CheckSummary(const StatementRewrite& r) {
  const VerifyResult& v = r.verify;
  if (r.check == RewriteCheck::kNone)
    return r.result.changed
               ? "unchecked: costs not compared without --db (with --db the rewrite is proposed "
                 "only when cheaper by estimate; --verify also runs both forms)"
               : "";
  // One shape for both gates: what was checked, then "decided by <method>:"
  // and the decision with its numbers (VerifyResult::note).
  std::ostringstream line;
  if (r.check == RewriteCheck::kMeasured) {
    line << "verify: cost " << Fixed(v.cost_before) << " -> " << Fixed(v.cost_after)
         << ", SubPlans " << v.subplans_before << " -> " << v.subplans_after;
    if (v.executed)
      line << ", ran " << Fixed(v.ms_before) << " ms -> " << Fixed(v.ms_after) << " ms"
           << (v.speed.runs > 0 ? " (median of " + std::to_string(v.speed.runs) + ")" : "") << ", "
           << v.rows_before << " rows, results " << (v.results_equal ? "identical" : "DIFFER");
    else if (v.before_timed_out)
      line << ", original > statement_timeout, rewrite " << Fixed(v.ms_after) << " ms";
  } else {
    line << "cost by estimate (EXPLAIN, not run): " << Fixed(v.cost_before) << " -> "
         << Fixed(v.cost_after) << ", SubPlans " << v.subplans_before << " -> " << v.subplans_after;
  }
  if (!v.note.empty())
    line << "; decided by " << (v.decided_by.empty() ? "estimate" : v.decided_by) << ": " << v.note;
  // Not cheaper by an estimate that overstates the original: the rewrite is
  // dearer still. (Cheaper: the note says it is withheld and why.)
  if (r.check == RewriteCheck::kEstimate && v.explained && !(v.cost_after < v.cost_before)) {
    if (v.subplan_index_before)
      line << "; the original's per-row SubPlan over an index is, if anything, faster than its "
              "estimate";
    else if (v.lateral_index_probes_before > v.lateral_index_probes_after)
      line << "; the original's per-row LATERAL probes of an index are, if anything, faster than "
              "their estimate";
  }
  return line.str();
}

// The method that settled one statement, for the page: "estimate (EXPLAIN
// costs, not run)" or "measurement (5 timed runs each, ...)".
std::string DecidedBy(const StatementRewrite& r) {
  const VerifyResult& v = r.verify;
  if (r.check == RewriteCheck::kNone || v.decided_by.empty()) return "";
  if (v.decided_by == "estimate") {
    if (r.check == RewriteCheck::kMeasured)
      return "estimate: not cheaper by EXPLAIN cost (the measurement cannot overrule a "
             "costlier estimate)";
    if (!v.proposed && v.cost_after < v.cost_before && !MisleadingEstimate(v).empty())
      return "estimate, known to mislead for this shape: EXPLAIN costs of both forms, not run; "
             "withheld until measured: run with --verify to measure";
    return "estimate: EXPLAIN costs of both forms, not run (--verify adds the measurement)";
  }
  if (v.decided_by == "measurement") {
    if (v.speed.runs == 0) return "measurement: the original timed out";
    char buf[200];
    std::snprintf(buf, sizeof buf,
                  "measurement: %d timed run%s each after a warm-up, interleaved, medians "
                  "compared with a noise margin of %.1f ms; rewrite %s",
                  v.speed.runs, v.speed.runs == 1 ? "" : "s", v.speed.margin_ms,
                  SpeedVerdictName(v.speed.verdict));
    return buf;
  }
  if (v.decided_by == "results") return "results: both forms run and their rows compared";
  return v.decided_by + ": a form could not be planned";
}

Report RewriteReport(const SqlFile& file, const std::vector<StatementRewrite>& reps,
                     const RewriteReportOptions& o) {
  Report r;
  r.command = "rewrite";
  r.database = o.database;
  r.inputs = {file.source.path()};
  r.formats = {ReportFormat::kSql, ReportFormat::kText, ReportFormat::kJson,
               ReportFormat::kMarkdown, ReportFormat::kHtml};
  r.documents = {{ReportFormat::kSql, SqlDocument(reps)},
                 {ReportFormat::kText, TextDocument(file, reps)},
                 {ReportFormat::kJson, JsonDocument(file, reps)}};
  int rewritten = 0, refused = 0, held = 0;
  RewriteCheck check = RewriteCheck::kNone;
  for (const auto& s : reps) {
    rewritten += s.proposed;
    held += s.result.changed && !s.proposed;
    for (const auto& oc : s.result.outcomes) refused += !oc.applied && oc.pass != "postgresql";
    check = std::max(check, s.check);
  }
  r.title = "pgvise rewrite: " + std::to_string(reps.size()) + " statement" +
            (reps.size() == 1 ? "" : "s") + ", " + std::to_string(rewritten) + " rewritten";
  auto& b = r.body;
  b.push_back(ReportBlock::Heading(r.title, 1));
  b.push_back(ReportBlock::KeyValues(
      {{"statements", std::to_string(reps.size())},
       {"rewritten", std::to_string(rewritten)},
       {"rewrites not proposed",
        std::to_string(held) +
            " (not cheaper, cheaper by an estimate known to mislead, or failed the check)"},
       {"subqueries refused", std::to_string(refused)},
       {"check", o.database.empty() ? "none: no --db, rewrites are proposed unchecked"
                 : check == RewriteCheck::kMeasured
                     ? "estimate and measurement (--verify): both forms planned and run "
                       "read-only, results compared, timed (a warm-up, then interleaved runs); "
                       "proposed only when cheaper by estimate and not measured slower beyond "
                       "the noise margin"
                     : "estimate: EXPLAIN costs of both forms (read-only, not run); proposed "
                       "only when cheaper, and not where the estimate is known to mislead (run "
                       "with --verify to measure those)"}}));
  for (const auto& s : reps) StatementBlocks(file, s, &b);
  if (reps.empty()) b.push_back(ReportBlock::Paragraph("No statement to rewrite."));
  return r;
}

}  // namespace pgvise
