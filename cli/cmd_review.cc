// pgvise review [FILES | DIRS | -] — lint SQL files and migrations before they
// deploy. The pipeline, one named step each:
//
//   LoadReviewRules    rule YAML + .pgvise.yaml; YAML and handlers must agree
//   CollectInputs      a directory means its *.sql files (recursively, sorted)
//   ConnectIfAsked     --db: READ ONLY session, table sizes from the catalog
//   ReviewFile         read (SourceText) -> split + parse -> syntax errors as
//                      findings -> static rules -> with --db, EXPLAIN every
//                      query statement and run the plan checks on it
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

#include "analyzer/statement.h"
#include "cli/command.h"
#include "core/render.h"
#include "core/source.h"

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

void ReviewFile(const std::string& path, ReviewRun* run) {
  SourceText src;
  Status st = SourceText::Read(path, &src);
  if (!st.ok()) throw Error(st);  // one line, says where; exit 2
  run->files.push_back(path);

  SqlFile file;
  st = ParseSqlFile(std::move(src), &file);
  if (!st.ok()) {
    run->findings.push_back(UnsplittableFile(file.source, st.message()));
    run->input_error = true;
    return;
  }
  for (const auto& s : file.statements) {
    if (s.parsed) continue;
    run->findings.push_back(SyntaxError(file.source, s.error_offset, s.error));
    run->input_error = true;
  }
}

bool UseColor(const CommonOptions& c) {
  if (c.format != "text") return false;
  if (!c.output.empty() && c.output != "-") return false;
  const char* no_color = std::getenv("NO_COLOR");  // https://no-color.org: any non-empty value
  if (no_color && *no_color) return false;
  return isatty(STDOUT_FILENO) == 1;
}

int RunReview(const CommonOptions& c, const ReviewOptions& r) {
  StepTimer timer(c.verbose);
  const RuleBook book = LoadRules(c);
  timer.Done("load rules");
  const std::vector<std::string> paths = CollectInputs(r.inputs);
  timer.Done("collect inputs");

  ReviewRun run;
  for (const auto& p : paths) ReviewFile(p, &run);
  timer.Done("review " + std::to_string(paths.size()) + " files");

  SortFindings(&run.findings);
  RenderOptions ro;
  ro.format = c.format;
  ro.command = "review";
  ro.rules = &book;
  ro.color = UseColor(c);
  ro.notes = run.notes;
  ro.inputs = run.files;
  WriteOutput(c, RenderFindings(run.findings, ro));
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
