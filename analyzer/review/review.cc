#include "analyzer/review/review.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <set>

#include "analyzer/plan/explain_runner.h"
#include "analyzer/plan/plan.h"
#include "analyzer/plan/plan_rules.h"
#include "analyzer/review/sql_rules.h"
#include "analyzer/sql/query_facts.h"
#include "catalog/functions.h"
#include "catalog/partitions.h"
#include "core/source.h"
#include "core/status.h"

namespace fs = std::filesystem;

namespace pgvise {

namespace {

// What one review run accumulates across files.
struct ReviewRun {
  ReviewResult* out;

  void Note(const std::string& n) {
    if (std::find(out->notes.begin(), out->notes.end(), n) == out->notes.end())
      out->notes.push_back(n);
  }
};

// The live database, when --db is given: the READ ONLY session the caller
// opened, and what the catalog says about the tables, functions and types the
// inputs use.
struct Database {
  Session* session = nullptr;
  Catalog catalog;
  std::map<std::string, SqlTableInfo> tables;
  SqlFunctionCatalog functions;  // ADD COLUMN DEFAULT calls
  int function_queries = 0;
  SqlTypeCatalog types;  // ADD COLUMN / ALTER COLUMN TYPE types
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
}  // namespace

std::vector<std::string> CollectReviewInputs(const std::vector<std::string>& args) {
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

namespace {

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
    ++run->out->explained;
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
      run->out->findings.push_back(std::move(f));
    }
  }
}

// Reads and splits one input; statements that do not parse become
// syntax-error findings. nullptr: the file could not be split at all (also
// reported as a finding).
std::unique_ptr<SqlFile> LoadFile(const std::string& path, ReviewRun* run) {
  SourceText src;
  Status st = SourceText::Read(path, &src);
  if (!st.ok()) throw Error(st);  // one line, says where; exit 2
  run->out->files.push_back(path);
  auto file = std::make_unique<SqlFile>();
  st = ParseSqlFile(std::move(src), file.get());
  if (!st.ok()) {
    run->out->findings.push_back(UnsplittableFile(file->source, st.message()));
    run->out->input_error = true;
    return nullptr;
  }
  for (const auto& s : file->statements) {
    if (s.parsed) continue;
    run->out->findings.push_back(SyntaxError(file->source, s.error_offset, s.error));
    run->out->input_error = true;
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

// One table snapshot without pg_stats: sizes and row counts are all review
// needs.
void ReadTables(Database* db) {
  CatalogOptions co;
  co.with_stats = false;
  Status st = Catalog::Load(*db->session, co, &db->catalog);
  if (!st.ok())
    throw Error(ExitCode::kDatabaseError,
                "reading the catalog of " + db->session->masked_conninfo() + ": " + st.message());
  db->tables = SqlTablesFromCatalog(db->catalog);
  // Partitioned tables: their partitions, default partition and key (one
  // more query, only when the database has any).
  bool any = false;
  for (const TableInfo& t : db->catalog.tables()) any = any || t.kind == 'p';
  if (!any) return;
  PartitionCatalog parts;
  st = LoadPartitions(*db->session, &parts);
  if (!st.ok())
    throw Error(ExitCode::kDatabaseError, "reading the partitions of " +
                                              db->session->masked_conninfo() + ": " + st.message());
  for (auto& [name, info] : db->tables)
    for (const PartitionedTable& p : parts.tables) {
      if (info.name != p.schema + "." + p.name) continue;
      info.partition_key = p.key_columns;
      for (const PartitionInfo& k : p.partitions) {
        info.partitions.push_back(k.schema + "." + k.name);
        if (k.is_default) info.default_partition = k.schema + "." + k.name;
      }
    }
}

void ReviewFile(const SqlFile& file, const RuleBook& book, Database* db, RewriteProposer* rewrites,
                ReviewRun* run) {
  const size_t first = run->out->findings.size();
  SqlReviewContext ctx;
  ctx.rules = &book;
  ctx.tables = db ? &db->tables : nullptr;
  ctx.functions = db ? &db->functions : nullptr;
  ctx.types = db ? &db->types : nullptr;
  for (Finding& f : ReviewSqlFile(file, ctx)) run->out->findings.push_back(std::move(f));

  if (db) CheckPlans(file, book, *db, run);
  if (rewrites)
    rewrites->Propose(file, db ? &db->catalog : nullptr,
                      run->out->findings.begin() + static_cast<std::ptrdiff_t>(first),
                      run->out->findings.end());
}

// The line of `text` numbered `line` (1-based), without its line break.
std::string LineOf(const std::string& text, int line) {
  size_t start = 0;
  for (int n = 1; n < line; ++n) {
    start = text.find('\n', start);
    if (start == std::string::npos) return "";
    ++start;
  }
  size_t end = text.find('\n', start);
  std::string out = text.substr(start, end == std::string::npos ? end : end - start);
  if (!out.empty() && out.back() == '\r') out.pop_back();
  return out;
}

void AddExcerpts(const std::vector<std::unique_ptr<SqlFile>>& files, ReviewResult* result) {
  std::map<std::string, const SourceText*> by_path;
  for (const auto& f : files)
    if (f) by_path.emplace(f->source.path(), &f->source);
  std::set<std::pair<std::string, int>> seen;
  for (const Finding& f : result->findings) {
    auto it = by_path.find(f.location.file);
    if (it == by_path.end() || f.location.line <= 0) continue;
    if (!seen.insert({f.location.file, f.location.line}).second) continue;
    result->excerpts.push_back(
        {f.location.file, f.location.line, LineOf(it->second->text(), f.location.line)});
  }
}

}  // namespace

void CheckReviewRules(const RuleBook& book) {
  std::set<std::string> ids = SqlRuleIds();
  const std::set<std::string> plan_ids = PlanRuleIds();
  ids.insert(plan_ids.begin(), plan_ids.end());
  std::set<std::string> areas = {"migration", "query", "plan"};
  for (const auto& id : ids)
    if (const Rule* r = book.Find(id)) areas.insert(r->area);
  Status st = book.CheckHandlers(areas, ids);
  if (!st.ok()) throw Error(ExitCode::kInputError, "rules: " + st.message());
}

ReviewResult RunReview(const ReviewOptions& o) {
  StepTimer timer(o.verbose);
  const RuleBook& book = *o.rules;
  const std::vector<std::string>& paths = o.inputs;
  std::unique_ptr<Database> db;
  if (o.session) {
    db = std::make_unique<Database>();
    db->session = o.session;
    ReadTables(db.get());
    timer.Done("catalog (" + std::to_string(db->catalog.tables().size()) + " tables)");
  }

  ReviewResult result;
  ReviewRun run{&result};
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
    if (f) ReviewFile(*f, book, db.get(), o.rewrites, &run);
  AddExcerpts(files, &result);
  timer.Done("review " + std::to_string(paths.size()) + " files" +
             (db ? ", " + std::to_string(result.explained) + " EXPLAINs" : ""));
  return result;
}

}  // namespace pgvise
