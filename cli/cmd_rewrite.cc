// pgvise rewrite FILE|- : rewrites slow subquery shapes into equivalent joins.
//
// Steps: read and split the file (analyzer/statement.h) -> open the
// read-only session when --db is given (its catalog resolves columns, NOT
// NULL and function volatility) -> RewriteSql per statement -> with --verify,
// EXPLAIN and run both forms (rewriter/verify.h), keeping a rewrite only when
// its results match and its estimated cost is lower -> render sql | text |
// json. Unparsable statements are reported with file:line:col and make the
// exit code 2; the others are still rewritten.
#include <CLI/CLI.hpp>

#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "analyzer/statement.h"
#include "cli/command.h"
#include "core/sql_text.h"
#include "rewriter/pg_catalog.h"
#include "rewriter/rewriter.h"
#include "rewriter/verify.h"

namespace pgvise {

namespace {

struct RewriteArgs {
  std::string file = "-";
  std::string format = "sql";
  std::vector<std::string> disable;
  bool verify = false;
  bool no_pretty = false;
  bool list_passes = false;
};

struct StatementReport {
  const Statement* stmt = nullptr;
  RewriteResult result;
  bool verified = false;
  VerifyResult verify;
  std::string output;  // SQL proposed for this statement
  bool proposed = false;
};

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == ';')) s.pop_back();
  return s;
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

std::string Fixed(double v, int prec = 1) {
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(prec);
  o << v;
  return o.str();
}

std::string RenderText(const SqlFile& file, const std::vector<StatementReport>& reps) {
  // Every comment goes through SqlComment: file names, reasons and notes may
  // quote identifiers that hold '\n' or '\r', which would end the comment.
  std::ostringstream o;
  for (const auto& r : reps) {
    const Statement& st = *r.stmt;
    o << SqlComment("statement " + std::to_string(st.index + 1) + " (" + file.Where(st) + "): " +
                    (r.proposed ? "rewritten"
                                : (r.result.changed ? "unchanged (rewrite not proposed, see verify)"
                                                    : "unchanged")));
    for (const auto& oc : r.result.outcomes) {
      std::string where =
          oc.location >= 0 ? file.Where(st, static_cast<size_t>(oc.location)) : file.Where(st);
      o << SqlComment(
          std::string(oc.applied ? "applied "
                                 : (oc.pass == "postgresql" ? "left    " : "refused ")) +
              oc.pass + " at " + where + ": " + oc.reason,
          "--   ");
    }
    if (r.verified) {
      const auto& v = r.verify;
      std::ostringstream line;
      line << "verify: cost " << Fixed(v.cost_before) << " -> " << Fixed(v.cost_after)
           << ", SubPlans " << v.subplans_before << " -> " << v.subplans_after;
      if (v.executed)
        line << ", ran " << Fixed(v.ms_before) << " ms -> " << Fixed(v.ms_after) << " ms, "
             << v.rows_before << " rows, results " << (v.results_equal ? "identical" : "DIFFER");
      else if (v.before_timed_out)
        line << ", original > statement_timeout, rewrite " << Fixed(v.ms_after) << " ms";
      if (!v.note.empty()) line << "; " << v.note;
      o << SqlComment(line.str(), "--   ");
    }
    o << Terminated(r.output) << "\n\n";
  }
  return o.str();
}

std::string RenderJson(const SqlFile& file, const std::vector<StatementReport>& reps) {
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
    if (r.verified) {
      const auto& v = r.verify;
      j["verify"] = {{"cost_before", v.cost_before},
                     {"cost_after", v.cost_after},
                     {"subplans_before", v.subplans_before},
                     {"subplans_after", v.subplans_after},
                     {"executed", v.executed},
                     {"results_equal", v.results_equal},
                     {"ms_before", v.ms_before},
                     {"ms_after", v.ms_after},
                     {"original_timed_out", v.before_timed_out},
                     {"rows", v.rows_before},
                     {"proposed", v.proposed},
                     {"note", v.note}};
    }
    stmts.push_back(j);
  }
  return nlohmann::json{{"statements", stmts}}.dump(2) + "\n";
}

int Run(const RewriteArgs& a, const CommonOptions& common) {
  if (a.list_passes) {
    std::ostringstream o;
    for (const auto& p : Passes()) o << p.name << "\t" << p.summary << "\n";
    WriteOutput(common, o.str());
    return 0;
  }
  std::set<std::string> known;
  for (const auto& p : Passes()) known.insert(p.name);
  RewriteOptions ro;
  for (const auto& d : a.disable) {
    if (!known.count(d))
      throw Error(ExitCode::kInputError, "--disable: unknown pass '" + d + "' (see --list-passes)");
    ro.disabled_passes.insert(d);
  }
  ro.pretty = !a.no_pretty;
  if (a.verify && common.db.empty()) throw Error(ExitCode::kInputError, "--verify needs --db");

  SourceText src;
  Status st = SourceText::Read(a.file, &src);
  if (!st.ok()) throw Error(ExitCode::kInputError, st.message());
  SqlFile file;
  st = ParseSqlFile(std::move(src), &file);
  if (!st.ok()) throw Error(ExitCode::kInputError, st.message());

  std::unique_ptr<Session> session;
  std::unique_ptr<SessionCatalog> catalog;
  if (!common.db.empty()) {
    session = OpenSession(common);
    catalog = std::make_unique<SessionCatalog>(session.get());
    ro.catalog = catalog.get();
    // One pg_proc query for every function the file calls, instead of one
    // per statement.
    std::vector<std::string> sqls;
    for (const auto& stmt : file.statements)
      if (stmt.parsed) sqls.push_back(stmt.sql);
    catalog->PrefetchFunctions(sqls);
  }

  bool bad_input = false;
  std::vector<StatementReport> reps;
  for (const auto& stmt : file.statements) {
    if (!stmt.parsed) {
      std::cerr << file.source.Where(stmt.error_offset) << ": " << stmt.error << "\n";
      bad_input = true;
      continue;
    }
    StatementReport r;
    r.stmt = &stmt;
    size_t pos = 0;
    st = RewriteSql(stmt.sql, ro, &r.result, &pos);
    if (!st.ok()) {
      std::cerr << file.Where(stmt, pos) << ": " << st.message() << "\n";
      bad_input = true;
      continue;
    }
    r.proposed = r.result.changed;
    if (r.proposed && a.verify) {
      r.verified = true;
      VerifyOptions vo;
      Status vs = VerifyRewrite(*session, stmt.sql, r.result.sql, vo, &r.verify);
      if (!vs.ok()) throw Error(ExitCode::kDatabaseError, vs.message());
      r.proposed = r.verify.proposed;
    }
    r.output = r.proposed ? Trimmed(r.result.sql) : Trimmed(stmt.sql);
    if (common.verbose) {
      for (const auto& t : r.result.timings)
        std::cerr << "pgvise: " << file.Where(stmt) << ": pass " << t.pass << " " << Fixed(t.ms, 3)
                  << " ms" << (t.verified ? "" : " (undone: output did not parse)") << "\n";
    }
    reps.push_back(std::move(r));
  }
  if (common.verbose && catalog)
    std::cerr << "pgvise: catalog queries: " << catalog->queries() << "\n";

  std::string out;
  if (a.format == "json") {
    out = RenderJson(file, reps);
  } else if (a.format == "text") {
    out = RenderText(file, reps);
  } else {
    for (const auto& r : reps) out += Terminated(r.output) + "\n\n";
  }
  WriteOutput(common, out);
  return static_cast<int>(bad_input ? ExitCode::kInputError : ExitCode::kOk);
}

}  // namespace

RunFn SetupRewrite(CLI::App& app, std::shared_ptr<CommonOptions> common) {
  AddCommonOptions(app, common.get(), true, false);
  auto a = std::make_shared<RewriteArgs>();
  app.add_option("file", a->file, "SQL file to rewrite ('-' = stdin)")->capture_default_str();
  app.add_option("--format", a->format,
                 "sql: the rewritten SQL; text: SQL with the passes' reasons as comments; json")
      ->check(CLI::IsMember({"sql", "text", "json"}))
      ->capture_default_str();
  app.add_option("--disable", a->disable, "disable a pass by name (repeatable)");
  app.add_flag("--verify", a->verify,
               "EXPLAIN and run both forms on --db; propose only faster, identical rewrites");
  app.add_flag("--no-pretty", a->no_pretty, "print the rewrite on one line");
  app.add_flag("--list-passes", a->list_passes, "list the passes in the order they run");
  return [a, common]() -> int { return Run(*a, *common); };
}

}  // namespace pgvise
