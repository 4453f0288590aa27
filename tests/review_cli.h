// Helpers for command-level tests of `pgvise review` / `pgvise rules`: run the
// real binary ($PGVISE_BIN) through the shell and capture stdout, stderr and
// the exit code separately, since the contract puts reports on stdout and
// one-line errors on stderr.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/support/pg_test.h"

namespace pgvise::testing {

struct CmdResult {
  int exit = -1;
  std::string out;
  std::string err;
  // Number of non-empty lines on stderr (errors must be one line).
  int ErrLines() const {
    int n = 0;
    std::istringstream s(err);
    std::string line;
    while (std::getline(s, line))
      if (!line.empty()) ++n;
    return n;
  }
};

inline std::string PgviseBin() {
  const char* b = std::getenv("PGVISE_BIN");
  return b ? b : "pgvise";
}

inline std::string ReadWhole(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline void WriteWhole(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
}

// Runs `pgvise <args>` in `cwd` (the shell does the quoting: pass args ready
// for sh). NO_COLOR is unset so that colour decisions are the binary's own;
// stdout is a pipe, so there is no colour anyway.
inline CmdResult RunPgvise(const std::string& args, const std::string& cwd = "",
                           const std::string& stdin_file = "") {
  char tmpl[] = "/tmp/pgvise-review-err-XXXXXX";
  int fd = mkstemp(tmpl);
  if (fd >= 0) close(fd);
  std::string cmd = (cwd.empty() ? "" : "cd '" + cwd + "' && ") + "'" + PgviseBin() + "' " + args +
                    " 2>" + tmpl + (stdin_file.empty() ? " </dev/null" : " <" + stdin_file);
  CmdResult r;
  r.exit = RunCommand(cmd, &r.out);
  r.err = ReadWhole(tmpl);
  std::remove(tmpl);
  return r;
}

// A fresh temporary directory (removed by the caller when it matters).
inline std::string TempDir(const std::string& tag) {
  std::string t = "/tmp/pgvise-review-" + tag + "-XXXXXX";
  char* p = mkdtemp(t.data());
  return p ? std::string(p) : "/tmp";
}

}  // namespace pgvise::testing
