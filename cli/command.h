// The pgvise command line: one table of subcommands (like ninja's kTools[]),
// each a name, a one-line summary and a setup function that adds its options
// to a CLI11 subcommand and returns the function that runs it.
//
// cli/ wires modules together and decides exit codes; it holds no analysis.
// Options every command shares (--db, --format, --fail-on, --config, --rules,
// -v) live in CommonOptions so each command reads them the same way.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/exit_code.h"
#include "core/finding.h"
#include "core/report.h"
#include "core/rule.h"
#include "core/session.h"

namespace CLI {
class App;
}

namespace pgvise {

struct CommonOptions {
  std::string db;                 // --db URI (libpq URI or key=value); empty = none
  std::string format = "text";    // --format
  std::string fail_on = "error";  // --fail-on error|warning|info|never
  std::string config;             // --config .pgvise.yaml (default: ./.pgvise.yaml if present)
  std::string rules_dir;          // --rules DIR
  std::string output;             // -o FILE (default stdout)
  int statement_timeout_ms = 30000;
  int lock_timeout_ms = 1000;
  bool verbose = false;
  std::string argv0;
};

using RunFn = std::function<int()>;

struct Subcommand {
  const char* name;
  const char* summary;
  // Adds the subcommand's options to `app`; returns the function that runs it.
  RunFn (*setup)(CLI::App& app, std::shared_ptr<CommonOptions> common);
};

const std::vector<Subcommand>& Subcommands();

// Adds --db/--format/--fail-on/--config/--rules/-o/-v to `app`.
void AddCommonOptions(CLI::App& app, CommonOptions* o, bool with_db, bool with_fail_on);
// Loads the rule book (rules dir discovery + config file).
RuleBook LoadRules(const CommonOptions& o);
// Opens a read-only analysis session on --db (throws Error exit 3).
std::unique_ptr<Session> OpenSession(const CommonOptions& o, bool read_only = true);
// The exit code for findings under --fail-on.
ExitCode ExitFor(const std::vector<Finding>& findings, const std::string& fail_on);
// Checks, before a command connects or changes anything, that -o FILE can be
// written: an existing file is opened for writing without truncating it; a
// new one needs an existing, writable directory. Throws Error (exit 2) naming
// the path. Main() runs it for every command.
void CheckOutput(const CommonOptions& o);
// Writes `text` to -o FILE or stdout (throws Error, exit 2, if FILE cannot be
// written after all).
void WriteOutput(const CommonOptions& o, const std::string& text);
// Renders findings in --format (colour only for text on a TTY without
// NO_COLOR) and writes them like WriteOutput.
void WriteFindings(const CommonOptions& o, const RuleBook& book, const std::string& command,
                   const std::vector<Finding>& findings, const std::vector<std::string>& notes,
                   const std::vector<std::string>& inputs);

// Renders a command's report (core/report.h) in --format — colour only for
// text on a TTY without NO_COLOR — and writes it like WriteOutput.
void WriteReport(const CommonOptions& o, const RuleBook* rules, const Report& report);
bool UseColor(const CommonOptions& o);

// Flags whose text is a quantity: a size (500MB, 2GB, 123456 bytes) or a
// duration (90s, 10min, 6h, 1d), read into the option's own unit. A bad value
// is a usage error naming the flag, like every other parse error.
void AddSizeOption(CLI::App& app, const std::string& name, int64_t* bytes, const std::string& help);
void AddDurationOption(CLI::App& app, const std::string& name, double* seconds,
                       const std::string& help);
// A flag that sets *target to false (--no-views and the like).
void AddOffFlag(CLI::App& app, const std::string& name, bool* target, const std::string& help);

// Subcommand setup functions, one per cli/cmd_<name>.cc.
RunFn SetupReview(CLI::App& app, std::shared_ptr<CommonOptions> common);
RunFn SetupExplain(CLI::App& app, std::shared_ptr<CommonOptions> common);
RunFn SetupAdvise(CLI::App& app, std::shared_ptr<CommonOptions> common);
RunFn SetupRewrite(CLI::App& app, std::shared_ptr<CommonOptions> common);
RunFn SetupMaintain(CLI::App& app, std::shared_ptr<CommonOptions> common);
RunFn SetupRules(CLI::App& app, std::shared_ptr<CommonOptions> common);

// Runs the pgvise command line; returns the process exit code.
int Main(int argc, char** argv);
// Main over a given command table (tests drive it with commands that fail on
// purpose). A usage error or pgvise::Error ends with its own code; any other
// exception is a bug: "pgvise: internal error: ..." and exit 5.
int RunCommandLine(const std::vector<Subcommand>& commands, int argc, char** argv);

}  // namespace pgvise
