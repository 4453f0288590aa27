#include "tests/support/pg_test.h"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace pgvise::testing {

std::string SourceDir() {
  const char* env = std::getenv("PGVISE_SOURCE_DIR");
  return env ? env : PGVISE_SOURCE_DIR;
}

int RunCommand(const std::string& cmd, std::string* out, bool merge_stderr) {
  std::string full = cmd + (merge_stderr ? " 2>&1" : "");
  FILE* p = popen(full.c_str(), "r");
  if (!p) return -1;
  std::array<char, 4096> buf;
  size_t n;
  if (out) out->clear();
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0)
    if (out) out->append(buf.data(), n);
  int rc = pclose(p);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

namespace {

struct OwnCluster {
  std::string dir;
  ~OwnCluster() {
    if (!dir.empty()) RunCommand(SourceDir() + "/scripts/pgcluster.sh stop " + dir, nullptr, true);
  }
};

std::string StartOwn(OwnCluster* c) {
  char tmpl[] = "/tmp/pgvise-test-XXXXXX";
  if (!mkdtemp(tmpl)) return "";
  c->dir = tmpl;
  std::string out;
  if (RunCommand(SourceDir() + "/scripts/pgcluster.sh start " + c->dir, &out) != 0) return "";
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

}  // namespace

const std::string& ClusterUri() {
  static OwnCluster own;  // destroyed at exit: stops a cluster this binary started
  static std::string uri;
  static std::once_flag once;
  std::call_once(once, [] {
    if (const char* env = std::getenv("PGVISE_TEST_PG_URI"); env && *env) {
      uri = env;
    } else if (const char* file = std::getenv("PGVISE_TEST_PG_URI_FILE"); file && *file) {
      std::string out;
      RunCommand(std::string("cat ") + file, &out);
      while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
      uri = out;
    }
    if (uri.empty()) uri = StartOwn(&own);
  });
  return uri;
}

std::string DatabaseUri(const std::string& name) {
  std::string base = ClusterUri();
  size_t slash = base.rfind('/');
  return base.substr(0, slash + 1) + name;
}

std::unique_ptr<Session> AdminSession(const std::string& uri) {
  SessionOptions o;
  o.conninfo = uri;
  o.read_only = false;
  o.statement_timeout_ms = 600000;
  o.lock_timeout_ms = 60000;
  o.application_name = "pgvise-test";
  std::unique_ptr<Session> s;
  Status st = Session::Connect(o, &s);
  if (!st.ok()) throw Error(st);
  return s;
}

void Exec(const std::string& uri, const std::string& sql) {
  auto s = AdminSession(uri);
  Status st = s->Exec(sql);
  if (!st.ok()) throw Error(ExitCode::kDatabaseError, "test setup failed: " + st.message());
}

std::string FreshDatabase(const std::string& name) {
  auto s = AdminSession(ClusterUri());
  Status st = s->Exec("DROP DATABASE IF EXISTS " + QuoteIdent(name) + " WITH (FORCE)");
  if (st.ok()) st = s->Exec("CREATE DATABASE " + QuoteIdent(name));
  if (!st.ok()) throw Error(ExitCode::kDatabaseError, "test setup failed: " + st.message());
  return DatabaseUri(name);
}

}  // namespace pgvise::testing
