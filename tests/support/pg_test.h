// Test support: a real, throwaway PostgreSQL 15 cluster for integration tests.
//
// Under CTest the `pg` fixture (scripts/pgcluster.sh, started once for the
// whole run) publishes its URI in the file named by PGVISE_TEST_PG_URI_FILE
// (or directly in PGVISE_TEST_PG_URI). A test binary run
// by hand without it starts its own cluster on first use and stops it at exit.
// Each suite gets its own database (FreshDatabase) so suites can run in
// parallel against one server.
#pragma once

#include <memory>
#include <string>

#include "core/session.h"

namespace pgvise::testing {

// The server's base URI (database `postgres`), starting a cluster if needed.
// Empty string when no cluster can be started (tests then FAIL, not skip).
const std::string& ClusterUri();
// Drops and creates database `name`; returns its URI.
std::string FreshDatabase(const std::string& name);
// URI for database `name` on the test cluster.
std::string DatabaseUri(const std::string& name);
// A superuser, writable session on `uri` (for test setup).
std::unique_ptr<Session> AdminSession(const std::string& uri);
// Runs SQL (many statements allowed) as admin; throws pgvise::Error on failure.
void Exec(const std::string& uri, const std::string& sql);
// The source tree (for rules/, tests/golden/ ...).
std::string SourceDir();
// Runs a shell command; returns its exit status, stdout in *out (stderr too if merge_stderr).
int RunCommand(const std::string& cmd, std::string* out, bool merge_stderr = false);

}  // namespace pgvise::testing
