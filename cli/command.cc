#include "cli/command.h"

#include "core/render.h"

#include "advisor/advisor.h"
#include "maintenance/window.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace pgvise {

const std::vector<Subcommand>& Subcommands() {
  static const std::vector<Subcommand> kCommands = {
      {"review", "lint SQL files and migrations before they deploy", SetupReview},
      {"explain", "check an EXPLAIN (FORMAT JSON) plan for what will hurt", SetupExplain},
      {"advise", "recommend indexes for a workload, proven with HypoPG", SetupAdvise},
      {"rewrite", "rewrite slow subquery shapes into equivalent joins", SetupRewrite},
      {"maintain", "plan (and --apply) vacuum, analyze, reindex and autovacuum settings",
       SetupMaintain},
      {"rules", "list the rules and their settings", SetupRules},
  };
  return kCommands;
}

void AddCommonOptions(CLI::App& app, CommonOptions* o, bool with_db, bool with_fail_on) {
  if (with_db) {
    app.add_option("--db", o->db, "database URI or key=value string (default: PG* env vars)");
    app.add_option("--statement-timeout", o->statement_timeout_ms, "statement_timeout in ms")
        ->capture_default_str();
    app.add_option("--lock-timeout", o->lock_timeout_ms, "lock_timeout in ms")
        ->capture_default_str();
  }
  if (with_fail_on)
    app.add_option("--fail-on", o->fail_on, "exit 1 when a finding is at or above this severity")
        ->check(CLI::IsMember({"error", "warning", "info", "never"}))
        ->capture_default_str();
  app.add_option("--config", o->config, "config file (default: ./.pgvise.yaml when present)");
  app.add_option("--rules", o->rules_dir, "rules directory");
  app.add_option("-o,--output", o->output, "write the report to FILE");
  app.add_flag("-v,--verbose", o->verbose, "explain what is being done, with timings");
}

RuleBook LoadRules(const CommonOptions& o) {
  RuleBook book;
  Status st = RuleBook::LoadDefault(o.rules_dir, o.argv0, &book);
  if (!st.ok()) throw Error(ExitCode::kInputError, st.message());
  std::string config = o.config;
  if (config.empty() && std::filesystem::exists(".pgvise.yaml")) config = ".pgvise.yaml";
  if (!config.empty()) {
    st = book.ApplyConfig(config);
    if (!st.ok()) throw Error(ExitCode::kInputError, st.message());
  }
  return book;
}

std::unique_ptr<Session> OpenSession(const CommonOptions& o, bool read_only) {
  SessionOptions so;
  so.conninfo = o.db;
  so.read_only = read_only;
  so.statement_timeout_ms = o.statement_timeout_ms;
  so.lock_timeout_ms = o.lock_timeout_ms;
  std::unique_ptr<Session> s;
  Status st = Session::Connect(so, &s);
  if (!st.ok()) throw Error(ExitCode::kDatabaseError, st.message());
  return s;
}

ExitCode ExitFor(const std::vector<Finding>& findings, const std::string& fail_on) {
  if (fail_on == "never") return ExitCode::kOk;
  Severity floor = ParseSeverity(fail_on).value_or(Severity::kError);
  for (const auto& f : findings)
    if (f.severity >= floor) return ExitCode::kFindings;
  return ExitCode::kOk;
}

void CheckOutput(const CommonOptions& o) {
  if (o.output.empty() || o.output == "-") return;
  auto fail = [&](const std::string& why) {
    throw Error(ExitCode::kInputError, "-o " + o.output + ": cannot write the report: " + why);
  };
  struct stat st;
  if (stat(o.output.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) fail("is a directory");
    // Opening without O_TRUNC proves we may write and leaves the contents
    // alone until the command has its report. (Non-blocking: a FIFO with no
    // reader must not hang the check.)
    int fd = open(o.output.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 && errno != ENXIO) fail(std::strerror(errno));
    if (fd >= 0) close(fd);
    return;
  }
  if (errno != ENOENT) fail(std::strerror(errno));
  // A new file: its directory must exist and take new files. Nothing is
  // created now, so a command that fails leaves no empty report behind.
  std::filesystem::path dir = std::filesystem::path(o.output).parent_path();
  if (dir.empty()) dir = ".";
  if (stat(dir.c_str(), &st) != 0) fail("directory " + dir.string() + ": " + std::strerror(errno));
  if (!S_ISDIR(st.st_mode)) fail(dir.string() + " is not a directory");
  if (access(dir.c_str(), W_OK | X_OK) != 0)
    fail("directory " + dir.string() + ": " + std::strerror(errno));
}

void WriteOutput(const CommonOptions& o, const std::string& text) {
  if (o.output.empty() || o.output == "-") {
    std::cout << text;
    std::cout.flush();
    return;
  }
  std::ofstream f(o.output, std::ios::binary);
  if (!f) throw Error(ExitCode::kInputError, "-o " + o.output + ": cannot write the report");
  f << text;
  f.close();
  if (!f) throw Error(ExitCode::kInputError, "-o " + o.output + ": writing the report failed");
}

bool UseColor(const CommonOptions& c) {
  if (c.format != "text") return false;
  if (!c.output.empty() && c.output != "-") return false;
  const char* no_color = std::getenv("NO_COLOR");  // https://no-color.org: any non-empty value
  if (no_color && *no_color) return false;
  return isatty(STDOUT_FILENO) == 1;
}

void WriteFindings(const CommonOptions& o, const RuleBook& book, const std::string& command,
                   const std::vector<Finding>& findings, const std::vector<std::string>& notes,
                   const std::vector<std::string>& inputs) {
  RenderOptions ro;
  ro.format = o.format;
  ro.command = command;
  ro.rules = &book;
  ro.color = UseColor(o);
  ro.notes = notes;
  ro.inputs = inputs;
  WriteOutput(o, RenderFindings(findings, ro));
}

int Main(int argc, char** argv) { return RunCommandLine(Subcommands(), argc, argv); }

void AddSizeOption(CLI::App& app, const std::string& name, int64_t* bytes,
                   const std::string& help) {
  app.add_option_function<std::string>(
      name,
      [name, bytes](const std::string& v) {
        double percent = -1;
        if (!ParseBudget(v, bytes, &percent).ok() || percent >= 0)
          throw CLI::ValidationError(name + " " + v,
                                     "expected a size such as 50GB, 500MB or 123456");
      },
      help);
}

void AddDurationOption(CLI::App& app, const std::string& name, double* seconds,
                       const std::string& help) {
  app.add_option_function<std::string>(
      name,
      [name, seconds](const std::string& v) {
        double s = ParseDuration(v);
        if (s <= 0)
          throw CLI::ValidationError(name + " " + v,
                                     "expected a duration such as 90s, 30m, 6h or 1d");
        *seconds = s;
      },
      help);
}

void AddOffFlag(CLI::App& app, const std::string& name, bool* target, const std::string& help) {
  app.add_flag_callback(
      name, [target] { *target = false; }, help);
}

int RunCommandLine(const std::vector<Subcommand>& commands, int argc, char** argv) {
  CLI::App app{"pgvise: PostgreSQL review, index advice, rewrites and maintenance"};
  app.require_subcommand(1);
  app.set_version_flag("--version",
                       std::string("pgvise ") + PGVISE_VERSION + " (" + PGVISE_REVISION + ")");
  RunFn run;
  for (const auto& cmd : commands) {
    CLI::App* sub = app.add_subcommand(cmd.name, cmd.summary);
    auto common = std::make_shared<CommonOptions>();
    common->argv0 = argc > 0 ? argv[0] : "pgvise";
    RunFn fn = cmd.setup(*sub, common);
    // -o is checked before the command connects or changes anything, so a
    // bad path cannot fail a run (e.g. maintain --apply) after the fact.
    sub->callback([&run, fn, common] {
      run = [fn, common] {
        CheckOutput(*common);
        return fn();
      };
    });
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help/--version are successes and CLI11 prints them.
    if (e.get_exit_code() == 0) return app.exit(e);
    // Every other parse error is a usage error, said in one line like all errors.
    std::cerr << "pgvise: " << e.what() << " (see --help)\n";
    return static_cast<int>(ExitCode::kInputError);
  }
  try {
    return run ? run() : static_cast<int>(ExitCode::kInputError);
  } catch (const Error& e) {
    std::cerr << "pgvise: " << e.what() << "\n";
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    // Not an Error: nothing the user did ends here, so it must not look like
    // a usage or input error (2) to a script; 5 says "report this bug".
    std::cerr << "pgvise: internal error: " << e.what() << "\n";
    return static_cast<int>(ExitCode::kInternalError);
  }
}

}  // namespace pgvise
