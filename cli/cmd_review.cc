// pgvise review [FILES | DIRS | -] — lint SQL files and migrations before they
// deploy. The pipeline, one named step each:
//
//   LoadReviewRules    rule YAML + .pgvise.yaml; YAML and handlers must agree
//   CollectInputs      a directory means its *.sql files (recursively, sorted)
//   ConnectIfAsked     --db: READ ONLY session, table sizes from the catalog
//   LoadFile           read (SourceText) -> split + parse -> syntax errors as
//                      findings, for every input before any rule runs
//   LoadFunctions      --db: one pg_proc query for every function called in
//                      an ADD COLUMN DEFAULT of any file (volatility decides
//                      whether the table is rewritten)
//   LoadTypes          --db: one pg_type query for every type an ADD COLUMN
//                      or ALTER COLUMN TYPE of any file names or changes
//                      (a domain's base type and constraints decide)
//   ReviewFile         static rules -> with --db, EXPLAIN every
//                      query statement and run the plan checks on it ->
//                      ProposeRewrites: a correlated-subquery or
//                      subplan-per-outer-row finding gets `pgvise rewrite`'s
//                      rewrite of its statement (or why it was refused)
//   Report             sort, render in --format, exit code from --fail-on
//
// Input that cannot be read at all (missing file, binary, over the size limit)
// ends the command with a one-line error and exit 2 before anything is
// printed. A statement that does not parse is expected in a file of many: it
// is reported as a `syntax-error` finding at its file:line:col, the rest of the
// file is still analysed, and the command exits 2 after printing everything.
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <set>

#include "catalog/catalog.h"
#include "analyzer/explain_runner.h"
#include "analyzer/plan.h"
#include "analyzer/plan_rules.h"
#include "analyzer/query_facts.h"
#include "analyzer/sql_rules.h"
#include "analyzer/statement.h"
#include "cli/command.h"
#include "core/render.h"
#include "core/source.h"
#include "rewriter/pg_catalog.h"
#include "rewriter/rewriter.h"

namespace fs = std::filesystem;

namespace pgvise {

namespace {

struct ReviewOptions {
  std::vector<std::string> inputs;
};

// What one review run accumulates across files.
struct ReviewRun {
  std::vector<Finding> findings;
  std::vector<std::string> files;  // every file analysed, in order
  std::vector<std::string> notes;
  bool input_error = false;  // a statement or file did not parse: exit 2
  int explained = 0;         // statements EXPLAINed (--db)

  void Note(const std::string& n) {
    if (std::find(notes.begin(), notes.end(), n) == notes.end()) notes.push_back(n);
  }
};

// The live database, when --db is given: a READ ONLY session with
// statement_timeout and lock_timeout (OpenSession), and table sizes and row
// counts from one catalog snapshot for the rules' messages.
struct Database {
  std::unique_ptr<Session> session;
  Catalog catalog;
  std::map<std::string, SqlTableInfo> tables;
  std::unique_ptr<SessionCatalog> rewrite_catalog;  // over `catalog`, + batched pg_proc
  SqlFunctionCatalog functions;                     // LoadFunctions: ADD COLUMN DEFAULT calls
  int function_queries = 0;
  SqlTypeCatalog types;  // LoadTypes: ADD COLUMN / ALTER COLUMN TYPE types
  int type_queries = 0;
};

// -v: each step's time on stderr, so the report on stdout stays clean.
class StepTimer {
 public:
  explicit StepTimer(bool on) : on_(on), start_(std::chrono::steady_clock::now()) {}
  void Done(const std::string& step) {
    if (!on_) return;
    auto now = std::chrono::steady_clock::now();
    double ms = std::chrono::duration<double, std::milli>(now - start_).count();
    std::fprintf(stderr, "pgvise review: %-28s %9.1f ms\n", step.c_str(), ms);
    start_ = now;
  }

 private:
  bool on_;
  std::chrono::steady_clock::time_point start_;
};

// A directory stands for the .sql files under it, sorted so output and exit
// codes do not depend on the file system's order. An explicit file is taken
// whatever its extension; stdin is `-`.
std::vector<std::string> CollectInputs(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  bool stdin_seen = false;
  for (const auto& a : args) {
    if (a == "-") {
      if (stdin_seen) throw Error(ExitCode::kInputError, "-: stdin can be read only once");
      stdin_seen = true;
      out.push_back(a);
      continue;
    }
    std::error_code ec;
    if (!fs::is_directory(a, ec)) {
      out.push_back(a);  // SourceText::Read reports a missing or unreadable file
      continue;
    }
    std::vector<std::string> found;
    for (auto it =
             fs::recursive_directory_iterator(a, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file(ec) && it->path().extension() == ".sql")
        found.push_back(it->path().string());
    }
    if (ec) throw Error(ExitCode::kInputError, a + ": cannot list directory: " + ec.message());
    if (found.empty())
      throw Error(ExitCode::kInputError, a + ": is a directory with no .sql files");
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
  }
  if (out.empty())
    throw Error(ExitCode::kInputError, "no input: give SQL files, directories, or - for stdin");
  return out;
}

Finding SyntaxError(const SourceText& src, size_t offset, const std::string& message) {
  Finding f;
  f.rule = "syntax-error";
  f.severity = Severity::kError;
  f.message = message;
  LineCol lc = src.At(offset);
  f.location.file = src.path();
  f.location.line = lc.line;
  f.location.column = lc.column;
  return f;
}

// ParseSqlFile fails only when the file cannot be split into statements (an
// unterminated string or comment); its message starts with "path:line:col: ".
Finding UnsplittableFile(const SourceText& src, const std::string& message) {
  Finding f;
  f.rule = "syntax-error";
  f.severity = Severity::kError;
  f.location.file = src.path();
  f.location.line = 1;
  f.location.column = 1;
  f.message = message;
  const std::string prefix = src.path() + ":";
  if (message.rfind(prefix, 0) == 0) {
    int line = 0, col = 0, used = 0;
    if (std::sscanf(message.c_str() + prefix.size(), "%d:%d: %n", &line, &col, &used) == 2 &&
        used > 0) {
      f.location.line = line;
      f.location.column = col;
      f.message = message.substr(prefix.size() + static_cast<size_t>(used));
    }
  }
  f.suggestion = "the file cannot be split into statements, so nothing in it was checked";
  return f;
}

// Plan checks need a plan, and only statements that run a query have one.
bool HasPlan(StatementKind k) {
  return k == StatementKind::kSelect || k == StatementKind::kInsert ||
         k == StatementKind::kUpdate || k == StatementKind::kDelete;
}

// A failed EXPLAIN is expected for a query on a table the same change creates,
// or one that relies on a `SET search_path` earlier in the file (nothing in the
// file is executed): it becomes a note. A lost connection ends the command.
void ExplainFailed(const SqlFile& file, const Statement& stmt, const Status& st, Session& session,
                   ReviewRun* run) {
  const std::string& state = session.last_sqlstate();
  if (st.code() == Status::Code::kDatabase && (state.empty() || state.rfind("08", 0) == 0))
    throw Error(ExitCode::kDatabaseError,
                "database error during EXPLAIN of " + file.Where(stmt) + ": " + st.message());
  run->Note(file.Where(stmt) + ": not EXPLAINed, plan checks skipped: " + st.message());
}

// EXPLAINs every query statement (a generic plan when it has $n parameters;
// never executed) and runs the plan checks; each plan finding is placed at
// its statement's file:line:col and keeps the plan node it is about.
void CheckPlans(const SqlFile& file, const RuleBook& book, Database& db, ReviewRun* run) {
  PlanCheckContext pctx;
  pctx.rules = &book;
  pctx.file = file.source.path();
  for (size_t i = 0; i < file.statements.size(); ++i) {
    const Statement& stmt = file.statements[i];
    if (!stmt.parsed || !HasPlan(FactsOf(stmt).kind)) continue;
    std::string plan_json;
    Status st = ExplainStatement(*db.session, stmt.sql, ExplainOptions{}, &plan_json);
    if (!st.ok()) {
      ExplainFailed(file, stmt, st, *db.session, run);
      continue;
    }
    ++run->explained;
    Plan plan;
    st = ReadPlan(SourceText(file.Where(stmt) + " (EXPLAIN)", plan_json), &plan);
    if (!st.ok()) {
      run->Note(file.Where(stmt) + ": plan not readable, plan checks skipped: " + st.message());
      continue;
    }
    for (const auto& n : PlanCheckNotes(plan, pctx)) run->Note("plans from --db: " + n);
    for (Finding f : CheckPlan(plan, pctx)) {
      if (stmt.Ignores(f.rule)) continue;
      f.location.file = file.source.path();
      f.location.line = stmt.pos.line;
      f.location.column = stmt.pos.column;
      f.location.end_line = 0;
      f.location.end_column = 0;
      run->findings.push_back(std::move(f));
    }
  }
}

// ------------------------------------------------------------ ProposeRewrites
// A correlated subquery (static rule) or a SubPlan run per outer row (plan
// check) is exactly what `pgvise rewrite` decorrelates, so the finding carries
// the rewritten statement, or the pass that refused and its reason — the
// author sees the fix, or why there is no safe mechanical one, in the review.
// Example: `SELECT u.id FROM users u WHERE (SELECT count(*) FROM orders o
// WHERE o.user_id = u.id) > 10` gets the suggestion "... rewritten by pgvise
// rewrite (decorrelate-scalar-where): SELECT u.id FROM users u JOIN (SELECT
// ... GROUP BY o.user_id) ..." and the evidence rewrite_passes =
// "decorrelate-scalar-where". The rewrite is proposed, never applied; with
// --db the catalog proves NOT NULL, key types and function volatility.

bool WantsRewrite(const Finding& f) {
  return f.rule == "correlated-subquery" || f.rule == "subplan-per-outer-row";
}

bool Before(const LineCol& a, int line, int column) {
  return a.line < line || (a.line == line && a.column <= column);
}

// The statement a finding points into: static findings point at the subquery,
// plan findings at the statement's first token.
const Statement* StatementOf(const SqlFile& file, const Finding& f) {
  const Statement* best = nullptr;
  for (const auto& s : file.statements)
    if (Before(s.pos, f.location.line, f.location.column)) best = &s;
  return best;
}

void AttachRewrite(const SqlFile& file, const Statement& stmt, const RewriteResult& r, Finding* f) {
  std::string text;
  if (r.changed) {
    std::string passes;
    for (const auto& o : r.outcomes)
      if (o.applied && passes.find(o.pass) == std::string::npos)
        passes += (passes.empty() ? "" : ", ") + o.pass;
    f->Add("rewrite_passes", passes);
    text = "rewritten by pgvise rewrite (" + passes + "): " + r.sql +
           "  -- compare results and speed with `pgvise rewrite --db URI --verify`";
  } else {
    // The outcome about the subquery the finding points at, when it can be
    // told apart; otherwise every reason (a plan finding names no subquery).
    std::vector<const PassOutcome*> about;
    for (const auto& o : r.outcomes) {
      if (o.applied || o.location < 0) continue;
      LineCol lc = file.source.At(stmt.offset + static_cast<size_t>(o.location));
      if (lc.line == f->location.line && lc.column == f->location.column) about.push_back(&o);
    }
    if (about.empty())
      for (const auto& o : r.outcomes)
        if (!o.applied) about.push_back(&o);
    if (about.empty()) {
      text = "pgvise rewrite has no pass for this statement's shape";
    } else {
      std::string passes;
      for (const PassOutcome* o : about) {
        text += std::string(text.empty() ? "" : "; ") + "pgvise rewrite refused (" + o->pass +
                "): " + o->reason;
        if (passes.find(o->pass) == std::string::npos)
          passes += (passes.empty() ? "" : ", ") + o->pass;
      }
      f->Add("rewrite_refused_by", passes);
    }
  }
  f->suggestion += (f->suggestion.empty() ? "" : "\n") + text;
}

void ProposeRewrites(const SqlFile& file, Database* db, std::vector<Finding>::iterator begin,
                     std::vector<Finding>::iterator end) {
  std::map<const Statement*, std::vector<Finding*>> wanted;
  for (auto it = begin; it != end; ++it) {
    if (!WantsRewrite(*it)) continue;
    const Statement* s = StatementOf(file, *it);
    if (s && s->parsed) wanted[s].push_back(&*it);
  }
  if (wanted.empty()) return;
  RewriteOptions ro;
  ro.pretty = false;  // one line: it sits in a message, a table cell, a SARIF property
  if (db) {
    ro.catalog = db->rewrite_catalog.get();
    std::vector<std::string> sqls;
    for (const auto& [s, fs] : wanted) sqls.push_back(s->sql);
    db->rewrite_catalog->PrefetchFunctions(sqls);  // one pg_proc query for the file
  }
  for (const auto& [s, fs] : wanted) {
    RewriteResult r;
    // The statement parsed already; a failure here is the rewriter's parser
    // disagreeing, which leaves the finding as the rule wrote it.
    if (!RewriteSql(s->sql, ro, &r).ok()) continue;
    for (Finding* f : fs) AttachRewrite(file, *s, r, f);
  }
}

// Reads and splits one input; statements that do not parse become
// syntax-error findings. nullptr: the file could not be split at all (also
// reported as a finding).
std::unique_ptr<SqlFile> LoadFile(const std::string& path, ReviewRun* run) {
  SourceText src;
  Status st = SourceText::Read(path, &src);
  if (!st.ok()) throw Error(st);  // one line, says where; exit 2
  run->files.push_back(path);
  auto file = std::make_unique<SqlFile>();
  st = ParseSqlFile(std::move(src), file.get());
  if (!st.ok()) {
    run->findings.push_back(UnsplittableFile(file->source, st.message()));
    run->input_error = true;
    return nullptr;
  }
  for (const auto& s : file->statements) {
    if (s.parsed) continue;
    run->findings.push_back(SyntaxError(file->source, s.error_offset, s.error));
    run->input_error = true;
  }
  return file;
}

// Every overload, in every schema, of every function an ADD COLUMN DEFAULT
// of any input calls: ONE query whatever the number of files and functions
// (none when no DEFAULT calls a function).
void LoadFunctionsOfFiles(const std::vector<std::unique_ptr<SqlFile>>& files, Database* db) {
  std::set<std::string> names;
  for (const auto& f : files) {
    if (!f) continue;
    std::set<std::string> one = SqlVolatilityFunctionNames(*f);
    names.insert(one.begin(), one.end());
  }
  Status st = LoadFunctions(*db->session, names, &db->functions, &db->function_queries);
  if (!st.ok())
    throw Error(ExitCode::kDatabaseError, "reading function volatility from pg_proc of " +
                                              db->session->masked_conninfo() + ": " + st.message());
}

// Every type, in every schema, named by an ADD COLUMN or ALTER COLUMN TYPE of
// any input (and the current type of each altered column): ONE query
// whatever the number of files (none when every type is a built-in).
void LoadTypesOfFiles(const std::vector<std::unique_ptr<SqlFile>>& files, Database* db) {
  std::set<std::string> names;
  for (const auto& f : files) {
    if (!f) continue;
    std::set<std::string> one = SqlTypeNames(*f, &db->tables);
    names.insert(one.begin(), one.end());
  }
  Status st = LoadTypes(*db->session, names, &db->types, &db->type_queries);
  if (!st.ok())
    throw Error(ExitCode::kDatabaseError, "reading domain and enum types from pg_type of " +
                                              db->session->masked_conninfo() + ": " + st.message());
}

void ReviewFile(const SqlFile& file, const RuleBook& book, Database* db, ReviewRun* run) {
  const size_t first = run->findings.size();
  SqlReviewContext ctx;
  ctx.rules = &book;
  ctx.tables = db ? &db->tables : nullptr;
  ctx.functions = db ? &db->functions : nullptr;
  ctx.types = db ? &db->types : nullptr;
  for (Finding& f : ReviewSqlFile(file, ctx)) run->findings.push_back(std::move(f));

  if (db) CheckPlans(file, book, *db, run);
  ProposeRewrites(file, db, run->findings.begin() + static_cast<std::ptrdiff_t>(first),
                  run->findings.end());
}

// The rule book, and the guarantee that every migration, query and plan rule
// has both its YAML and its handler: start-up fails when they disagree.
RuleBook LoadReviewRules(const CommonOptions& c) {
  RuleBook book = LoadRules(c);
  std::set<std::string> ids = SqlRuleIds();
  const std::set<std::string> plan_ids = PlanRuleIds();
  ids.insert(plan_ids.begin(), plan_ids.end());
  std::set<std::string> areas = {"migration", "query", "plan"};
  for (const auto& id : ids)
    if (const Rule* r = book.Find(id)) areas.insert(r->area);
  Status st = book.CheckHandlers(areas, ids);
  if (!st.ok()) throw Error(ExitCode::kInputError, "rules: " + st.message());
  return book;
}

std::unique_ptr<Database> ConnectIfAsked(const CommonOptions& c) {
  if (c.db.empty()) return nullptr;
  auto db = std::make_unique<Database>();
  db->session = OpenSession(c);  // READ ONLY, timeouts set; throws exit 3
  CatalogOptions co;
  co.with_stats = false;  // sizes and row counts are all review needs
  Status st = Catalog::Load(*db->session, co, &db->catalog);
  if (!st.ok())
    throw Error(ExitCode::kDatabaseError,
                "reading the catalog of " + db->session->masked_conninfo() + ": " + st.message());
  db->tables = SqlTablesFromCatalog(db->catalog);
  db->rewrite_catalog = std::make_unique<SessionCatalog>(db->session.get(), &db->catalog);
  return db;
}

int RunReview(const CommonOptions& c, const ReviewOptions& r) {
  StepTimer timer(c.verbose);
  const RuleBook book = LoadReviewRules(c);
  timer.Done("load rules");
  const std::vector<std::string> paths = CollectInputs(r.inputs);
  timer.Done("collect inputs");
  std::unique_ptr<Database> db = ConnectIfAsked(c);
  if (db)
    timer.Done("connect + catalog (" + std::to_string(db->catalog.tables().size()) + " tables)");

  ReviewRun run;
  std::vector<std::unique_ptr<SqlFile>> files;
  for (const auto& p : paths) files.push_back(LoadFile(p, &run));
  timer.Done("read + parse " + std::to_string(paths.size()) + " files");
  if (db) {
    LoadFunctionsOfFiles(files, db.get());
    timer.Done("pg_proc (" + std::to_string(db->functions.by_name.size()) + " overloads, " +
               std::to_string(db->function_queries) + " query)");
    LoadTypesOfFiles(files, db.get());
    timer.Done("pg_type (" + std::to_string(db->types.by_name.size()) + " types, " +
               std::to_string(db->type_queries) + " query)");
  }
  for (const auto& f : files)
    if (f) ReviewFile(*f, book, db.get(), &run);
  timer.Done("review " + std::to_string(paths.size()) + " files" +
             (db ? ", " + std::to_string(run.explained) + " EXPLAINs" : ""));

  SortFindings(&run.findings);
  WriteFindings(c, book, "review", run.findings, run.notes, run.files);
  timer.Done("render");
  if (run.input_error) return static_cast<int>(ExitCode::kInputError);
  return static_cast<int>(ExitFor(run.findings, c.fail_on));
}

}  // namespace

RunFn SetupReview(CLI::App& app, std::shared_ptr<CommonOptions> common) {
  auto opts = std::make_shared<ReviewOptions>();
  AddCommonOptions(app, common.get(), true, true);
  app.add_option("--format", common->format, "text | json | sarif | markdown")
      ->check(CLI::IsMember({"text", "json", "sarif", "markdown"}))
      ->capture_default_str();
  app.add_option("inputs", opts->inputs, "SQL files, directories of *.sql files, or - for stdin");
  return [common, opts]() -> int { return RunReview(*common, *opts); };
}

}  // namespace pgvise
