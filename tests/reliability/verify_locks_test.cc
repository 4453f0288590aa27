// `advise --verify` beside a session that holds a lock on a recommended
// index's table (issue 15, item 5: "advise --verify never waits past its
// timeouts").
//
// --verify builds each recommended index for real (plain CREATE INDEX, which
// takes SHARE). An open write transaction on the table holds ROW EXCLUSIVE,
// which conflicts: the build waits lock_timeout, fails with 55P03, and that
// used to end the whole run with exit 3 and no report. The promises checked
// here, through the real binary on a real server:
//   - the run finishes within its timeouts and exits 0 with the full report;
//   - the blocked recommendation is reported, marked as not measured, with a
//     note that names the lock wait;
//   - a recommendation on a table nobody holds is still measured;
//   - no index is left behind on either table.
// VerifyLocksCli (below) checks the partition migration's and the
// materialized view's --verify the same way through the CLI, with ACCESS
// EXCLUSIVE taken between the dry run and --verify.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "core/session.h"
#include "tests/review_cli.h"
#include "tests/support/pg_test.h"

namespace pgvise {
namespace {

using json = nlohmann::json;
using testing::RunPgvise;

TEST(VerifyLocks, AHeldTableIsNotedAndTheRestIsMeasured) {
  std::string uri = testing::FreshDatabase("rel_verify_locks");
  auto admin = testing::AdminSession(uri);
  for (const char* sql : {
           "CREATE EXTENSION IF NOT EXISTS hypopg",
           "CREATE TABLE busy (id bigint, a int, pad text)",
           "INSERT INTO busy SELECT g, g % 5000, repeat('b', 60) FROM generate_series(1, 60000) g",
           "CREATE TABLE calm (id bigint, a int, pad text)",
           "INSERT INTO calm SELECT g, g % 5000, repeat('c', 60) FROM generate_series(1, 60000) g",
           "VACUUM ANALYZE busy",
           "VACUUM ANALYZE calm",
       }) {
    ASSERT_TRUE(admin->Exec(sql).ok()) << sql;
  }
  std::string dir = testing::TempDir("verify-locks");
  testing::WriteWhole(dir + "/w.sql",
                      "-- pgvise: calls=1000\nSELECT * FROM busy WHERE a = 17;\n"
                      "-- pgvise: calls=1000\nSELECT * FROM calm WHERE a = 17;\n");

  // The application: an INSERT whose transaction stays open (ROW EXCLUSIVE).
  auto holder = testing::AdminSession(uri);
  ASSERT_TRUE(holder->Exec("BEGIN").ok());
  ASSERT_TRUE(holder->Exec("INSERT INTO busy VALUES (0, 0, 'x')").ok());

  auto r = RunPgvise("advise --db '" + uri + "' -w '" + dir +
                     "/w.sql' --verify --lock-timeout 300 --format json");
  ASSERT_TRUE(holder->Exec("ROLLBACK").ok());

  ASSERT_EQ(r.exit, 0) << r.err << r.out;
  json j = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.out;

  bool busy_seen = false, calm_measured = false;
  for (const auto& rec : j["recommendations"]) {
    std::string object = rec.value("object", "");
    std::string ev = rec["evidence"].dump();
    if (object.find("busy") != std::string::npos) {
      busy_seen = true;
      EXPECT_NE(ev.find("verify_skipped"), std::string::npos) << ev;
      EXPECT_EQ(ev.find("measured_ms_after"), std::string::npos) << ev;
    }
    if (object.find("calm") != std::string::npos)
      calm_measured = ev.find("measured_ms_after") != std::string::npos;
  }
  EXPECT_TRUE(busy_seen) << r.out;
  EXPECT_TRUE(calm_measured) << r.out;
  EXPECT_NE(r.out.find("waited longer than lock_timeout"), std::string::npos) << r.out;

  // Nothing left behind: the only indexes are none at all (neither table had one).
  Rows rows;
  ASSERT_TRUE(
      admin->Query("SELECT count(*) FROM pg_indexes WHERE tablename IN ('busy','calm')", &rows)
          .ok());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows.Int(0, 0, -1), 0);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

// Statistics and materialized views beside a session that holds SHARE
// UPDATE EXCLUSIVE on their table (a VACUUM, ANALYZE or DDL in progress):
// --verify's ANALYZE and CREATE STATISTICS wait lock_timeout and give up.
// The statistics recommendation must say "not verified: lock timeout" in its
// evidence (not only a raw error in the notes), the run exits 0, and nothing
// is left: no statistics object, no materialized view, no scratch schema.
// (The view itself reads under ACCESS SHARE, which that lock does not block,
// so it is still measured; a lock that blocks it blocks planning too.)
TEST(VerifyLocks, StatisticsUnderAHeldLockSaysNotVerifiedAndLeavesNothing) {
  std::string uri = testing::FreshDatabase("rel_verify_locks_stats");
  testing::Exec(uri,
                "CREATE EXTENSION IF NOT EXISTS hypopg; CREATE TABLE fact (id bigint PRIMARY KEY, "
                "city text NOT NULL, zip text NOT NULL, amount int NOT NULL); INSERT INTO fact "
                "SELECT g, 'c' || ((g * 7919 % 1000) % 100), 'z' || (g * 7919 % 1000), g % 1000 "
                "FROM generate_series(1, 200000) g; ANALYZE fact;");
  std::string dir = testing::TempDir("verify-locks-stats");
  testing::WriteWhole(dir + "/w.sql",
                      "-- pgvise: calls=300\nSELECT city, sum(amount), count(*) FROM fact GROUP "
                      "BY city;\n-- pgvise: calls=200\nSELECT id FROM fact WHERE city = 'c7' AND "
                      "zip = 'z7';\n");
  auto holder = testing::AdminSession(uri);
  ASSERT_TRUE(holder->Exec("BEGIN").ok());
  ASSERT_TRUE(holder->Exec("LOCK TABLE fact IN SHARE UPDATE EXCLUSIVE MODE").ok());
  auto r = RunPgvise("advise --db '" + uri + "' -w '" + dir +
                     "/w.sql' --verify --lock-timeout 300 --format json");
  ASSERT_TRUE(holder->Exec("ROLLBACK").ok());
  ASSERT_EQ(r.exit, 0) << r.err << r.out;
  json j = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.out;
  bool stats_seen = false;
  for (const auto& rec : j["recommendations"]) {
    if (rec.value("kind", "") != "statistics") continue;
    stats_seen = true;
    std::string ev = rec["evidence"].dump();
    EXPECT_NE(ev.find("\"verify_skipped\":\"lock_timeout\""), std::string::npos) << ev;
    EXPECT_NE(ev.find("not verified: lock timeout"), std::string::npos) << ev;
    EXPECT_NE(ev.find("300 ms"), std::string::npos) << ev;
  }
  EXPECT_TRUE(stats_seen) << r.out;
  auto admin = testing::AdminSession(uri);
  Rows rows;
  ASSERT_TRUE(admin
                  ->Query("SELECT (SELECT count(*) FROM pg_statistic_ext) + (SELECT count(*) FROM "
                          "pg_matviews) + (SELECT count(*) FROM pg_namespace WHERE nspname LIKE "
                          "'pgvise%') + (SELECT count(*) FROM pg_class WHERE relname LIKE "
                          "'pgvise%')",
                          &rows)
                  .ok());
  EXPECT_EQ(rows.Int(0, 0, -1), 0) << "left behind";
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

// ---- Through the CLI: the lock taken between the dry run and --verify ----
//
// The dry run plans every statement on the advised tables (ACCESS SHARE), so
// an ACCESS EXCLUSIVE held from the start leaves nothing to verify; the lock
// has to arrive after the dry run and before --verify. `pgvise advise`
// prints its --verify notice on stderr exactly there (cli/cmd_advise.cc:
// after RunAdvisor, before the writable session opens), and prints nothing
// on stderr before it. So stderr is a pipe filled to the brim before the
// program starts: that write blocks, the test sees it blocked
// (/proc/<pid>/wchan is the kernel's pipe write), takes the lock, and only
// then drains the pipe. No sleep decides anything; the program waits at a
// known point until the lock is held.
struct HeldRun {
  bool paused = false;    // stopped at a stderr write before the lock was taken
  bool returned = false;  // exited before the guard (a hang is killed)
  int exit = -1;
  std::string out, err;  // err: what pgvise wrote to stderr
};

bool BlockedOnPipeWrite(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/wchan");
  std::string w;
  std::getline(f, w);
  return w.find("pipe_write") != std::string::npos;
}

HeldRun RunAdviseLockingBeforeVerify(const std::string& args, const std::function<void()>& lock) {
  HeldRun run;
  int p[2];
  if (pipe(p) != 0) return run;
  const int fl = fcntl(p[1], F_GETFL);
  fcntl(p[1], F_SETFL, fl | O_NONBLOCK);
  size_t filler = 0;
  while (write(p[1], "x", 1) == 1) ++filler;
  fcntl(p[1], F_SETFL, fl);
  const std::string dir = testing::TempDir("verify-cli");
  const std::string out_file = dir + "/stdout";
  const std::string cmd =
      "exec '" + testing::PgviseBin() + "' " + args + " >'" + out_file + "' </dev/null";
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(p[1], 2);
    close(p[0]);
    close(p[1]);
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(p[1]);
  // A guard against a hang, not a measurement: ten minutes for a run whose
  // lock_timeout is 300 ms.
  const auto guard = std::chrono::steady_clock::now() + std::chrono::minutes(10);
  int status = 0;
  bool exited = false;
  while (std::chrono::steady_clock::now() < guard) {
    if (waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      break;
    }
    if (BlockedOnPipeWrite(pid)) {
      run.paused = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (run.paused) lock();
  // Drain stderr until EOF (every write end closed: the program exited).
  std::string err;
  char buf[65536];
  bool eof = false;
  for (;;) {
    pollfd pf{p[0], POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        guard - std::chrono::steady_clock::now());
    if (left.count() <= 0 || poll(&pf, 1, static_cast<int>(left.count())) <= 0) break;
    const ssize_t n = read(p[0], buf, sizeof buf);
    if (n <= 0) {
      eof = true;
      break;
    }
    err.append(buf, static_cast<size_t>(n));
  }
  if (!exited) {
    if (!eof) kill(pid, SIGKILL);  // the guard fired: a hang
    exited = eof;
    waitpid(pid, &status, 0);
  }
  close(p[0]);
  run.returned = exited;
  run.exit = exited && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.err = err.size() >= filler ? err.substr(filler) : err;
  run.out = testing::ReadWhole(out_file);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return run;
}

// Schemas, tables and views --verify might have left: none.
int64_t ScratchLeft(const std::string& uri) {
  Rows rows;
  auto s = testing::AdminSession(uri);
  if (!s->Query("SELECT (SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'pgvise%') + "
                "(SELECT count(*) FROM pg_class WHERE relname LIKE 'pgvise%') + "
                "(SELECT count(*) FROM pg_matviews) + (SELECT count(*) FROM pg_statistic_ext)",
                &rows)
           .ok())
    return -1;
  return rows.Int(0, 0, -1);
}

std::string Notes(const json& j) {
  std::string all;
  for (const auto& n : j["notes"]) all += n.get<std::string>() + "\n";
  return all;
}

// What both CLI cases assert of the run and of each recommendation of
// `kind`: it paused at the --verify notice, returned, exited 0, and every such
// item says verify_skipped = lock_timeout without `measured_key`. Returns the
// report (null on a failed assertion) and the number of such items.
json ExpectSkippedForLock(const HeldRun& r, const std::string& kind,
                          const std::string& measured_key, int* items) {
  *items = 0;
  EXPECT_TRUE(r.paused) << "pgvise never wrote to stderr before --verify\n" << r.err << r.out;
  EXPECT_EQ(r.err.rfind("pgvise advise --verify:", 0), 0u) << "paused elsewhere: " << r.err;
  EXPECT_TRUE(r.returned) << "advise --verify did not return under the held lock";
  EXPECT_EQ(r.exit, 0) << r.err << r.out;
  json j = json::parse(r.out, nullptr, false);
  EXPECT_TRUE(j.is_object()) << r.out;
  if (!r.paused || !r.returned || r.exit != 0 || !j.is_object()) return json();
  for (const auto& rec : j["recommendations"]) {
    if (rec.value("kind", "") != kind) continue;
    ++*items;
    const json& ev = rec["evidence"];
    EXPECT_EQ(ev.value("verify_skipped", ""), "lock_timeout") << ev.dump();
    EXPECT_EQ(ev.value("verify_summary", "").rfind("not verified: lock timeout", 0), 0u)
        << ev.dump();
    EXPECT_FALSE(ev.contains(measured_key)) << ev.dump();
  }
  return j;
}

// The partition migration's --verify: the advised table is held ACCESS
// EXCLUSIVE by another session once the dry run is done. The run returns
// (the guard never fires), exits 0 (docs/contracts.md: a verification
// skipped for a lock is a fact of the report, not a failure of the run), the
// recommendation is kept with verify_skipped = lock_timeout and no
// measurement, one one-line note says so, and no scratch schema is left.
TEST(VerifyLocksCli, PartitionVerifyUnderAccessExclusiveReturnsAndSaysNotVerified) {
  const std::string uri = testing::FreshDatabase("rel_verify_cli_partition");
  testing::Exec(uri, R"sql(
    CREATE TABLE readings (id bigint PRIMARY KEY, ts timestamptz NOT NULL, value float8 NOT NULL);
    INSERT INTO readings SELECT g, now() - interval '60 days' + g * interval '26 seconds',
                                (g % 1000) / 10.0 FROM generate_series(1, 200000) g;
    CREATE INDEX readings_ts ON readings (ts);
  )sql");
  testing::Exec(uri, "VACUUM ANALYZE readings");
  const std::string dir = testing::TempDir("verify-cli-partition");
  testing::WriteWhole(dir + "/w.sql",
                      "-- pgvise: calls=500\nSELECT avg(value) FROM readings WHERE ts >= now() - "
                      "interval '1 day';\n-- pgvise: calls=1\nDELETE FROM readings WHERE ts < "
                      "now() - interval '50 days';\n");
  auto holder = testing::AdminSession(uri);
  HeldRun r = RunAdviseLockingBeforeVerify(
      "advise --db '" + uri + "' -w '" + dir +
          "/w.sql' --partition-min-size 1MB --no-views --no-statistics --no-patterns --verify "
          "--lock-timeout 300 --format json",
      [&] {
        ASSERT_TRUE(holder->Exec("BEGIN").ok());
        ASSERT_TRUE(holder->Exec("LOCK TABLE readings IN ACCESS EXCLUSIVE MODE").ok());
      });
  ASSERT_TRUE(holder->Exec("ROLLBACK").ok());
  int partitions = 0;
  json j = ExpectSkippedForLock(r, "partition", "measured_ratio", &partitions);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(partitions, 1) << r.out;
  int lock_notes = 0;
  for (const auto& n : j["notes"]) {
    const std::string note = n.get<std::string>();
    if (note.find("--verify did not measure the partitioning of public.readings") == 0) {
      ++lock_notes;
      EXPECT_NE(note.find("waited longer than lock_timeout (300 ms)"), std::string::npos) << note;
      EXPECT_EQ(note.find('\n'), std::string::npos) << note;
    }
  }
  EXPECT_EQ(lock_notes, 1) << Notes(j);
  EXPECT_EQ(ScratchLeft(uri), 0) << "left behind";
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

// The materialized view's --verify, the same way: the view's base table is
// held ACCESS EXCLUSIVE once the dry run is done (CREATE MATERIALIZED VIEW
// reads it under ACCESS SHARE, which only that lock blocks).
TEST(VerifyLocksCli, ViewVerifyUnderAccessExclusiveReturnsAndSaysNotVerified) {
  const std::string uri = testing::FreshDatabase("rel_verify_cli_view");
  testing::Exec(uri, R"sql(
    CREATE EXTENSION IF NOT EXISTS hypopg;
    CREATE TABLE customers (id int PRIMARY KEY, region text NOT NULL);
    INSERT INTO customers SELECT g, (ARRAY['EU','US','APAC','LATAM'])[1 + g % 4]
      FROM generate_series(1, 2000) g;
    CREATE TABLE sales (id bigint PRIMARY KEY, customer_id int NOT NULL REFERENCES customers,
                        amount numeric(12,2), status text NOT NULL);
    INSERT INTO sales SELECT g, 1 + g % 2000, (g % 1000) / 10.0,
                             CASE WHEN g % 10 = 0 THEN 'refunded' ELSE 'paid' END
      FROM generate_series(1, 200000) g;
  )sql");
  testing::Exec(uri, "VACUUM ANALYZE customers");
  testing::Exec(uri, "VACUUM ANALYZE sales");
  const std::string dir = testing::TempDir("verify-cli-view");
  testing::WriteWhole(dir + "/w.sql",
                      "-- pgvise: calls=5\nSELECT c.region, sum(s.amount), count(*) FROM sales s "
                      "JOIN customers c ON c.id = s.customer_id WHERE s.status = 'paid' GROUP BY "
                      "c.region;\n");
  auto holder = testing::AdminSession(uri);
  HeldRun r = RunAdviseLockingBeforeVerify(
      "advise --db '" + uri + "' -w '" + dir +
          "/w.sql' --no-partitions --no-statistics --no-patterns --verify --lock-timeout 300 "
          "--format json",
      [&] {
        ASSERT_TRUE(holder->Exec("BEGIN").ok());
        ASSERT_TRUE(holder->Exec("LOCK TABLE sales IN ACCESS EXCLUSIVE MODE").ok());
      });
  ASSERT_TRUE(holder->Exec("ROLLBACK").ok());
  int views = 0;
  json j = ExpectSkippedForLock(r, "materialized-view", "measured_ms_after", &views);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(views, 1) << r.out;
  int lock_notes = 0;
  for (const auto& n : j["notes"]) {
    const std::string note = n.get<std::string>();
    if (note.find("waited longer than lock_timeout (300 ms)") != std::string::npos) {
      ++lock_notes;
      EXPECT_EQ(note.find('\n'), std::string::npos) << note;
    }
  }
  EXPECT_GE(lock_notes, 1) << Notes(j);
  EXPECT_EQ(ScratchLeft(uri), 0) << "left behind";
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace pgvise
