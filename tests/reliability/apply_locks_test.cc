// `maintain --apply` beside sessions that hold locks on its tables.
//
// REINDEX INDEX CONCURRENTLY that times out after it has created its copy
// leaves an INVALID `<index>_ccnew` behind. The promises checked here, on a
// real server, through the real binary:
//   - a blocked item times out (lock_timeout), the rest of the plan runs,
//     and the exit code is 4;
//   - retries happen as configured when a retry cannot pile up copies;
//   - no invalid copy survives when the clean-up can run, and when it cannot
//     (the blocker stops the DROP too) the item is not retried and exactly
//     one copy exists, reported by name with the SQL that drops it.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "core/session.h"
#include "tests/review_cli.h"
#include "tests/support/pg_test.h"

namespace pgvise {
namespace {

using testing::CmdResult;
using testing::RunPgvise;

// lk.lk_a: an invalid index (a failed unique build) whose rebuild would now
// succeed; free: a churned table, so the plan has a VACUUM that nothing blocks.
std::string LockedDb(const std::string& db) {
  std::string uri = testing::FreshDatabase(db);
  auto admin = testing::AdminSession(uri);
  auto run = [&](const std::string& sql) {
    Status st = admin->Exec(sql);
    if (!st.ok()) throw Error(ExitCode::kDatabaseError, sql + ": " + st.message());
    (void)admin->Exec("SELECT pg_stat_force_next_flush()");
  };
  // Autovacuum off on lk too: the DELETE below leaves 1,900 dead rows, so
  // autovacuum picks lk up within a naptime, and its SHARE UPDATE EXCLUSIVE
  // (held up to 5 s while VACUUM tries to truncate behind the writer test's
  // open transaction) blocks REINDEX CONCURRENTLY. The 300 ms lock timeout
  // is shorter than deadlock_timeout, so the autovacuum is never cancelled
  // for us: the item became "lock-timeout" with no copy, an intermittent
  // failure. Only the test's own blockers may hold lk.
  run("CREATE TABLE lk (id int, a int, v int) WITH (autovacuum_enabled = false)");
  run("INSERT INTO lk SELECT g, g % 100, 0 FROM generate_series(1, 2000) g");
  EXPECT_FALSE(admin->Exec("CREATE UNIQUE INDEX CONCURRENTLY lk_a ON lk (a)").ok());
  run("DELETE FROM lk WHERE id > 100");
  run("CREATE TABLE other (id int)");
  run("CREATE TABLE free (id int PRIMARY KEY, v int) WITH (autovacuum_enabled = false)");
  run("INSERT INTO free SELECT g, 0 FROM generate_series(1, 30000) g");
  run("UPDATE free SET v = 1");
  return uri;
}

CmdResult Apply(const std::string& uri) {
  return RunPgvise("maintain --db '" + uri +
                   "' --only invalid-index,vacuum-overdue --apply --retries 2 "
                   "--item-lock-timeout 300 --cleanup-lock-timeout 300 --format json");
}

const nlohmann::json* Outcome(const nlohmann::json& j, const std::string& object) {
  for (const auto& o : j["apply"]["outcomes"])
    if (o["object"] == object) return &o;
  return nullptr;
}

// Names of the invalid *_ccnew copies of lk's indexes.
std::vector<std::string> InvalidCopies(const std::string& uri) {
  auto s = testing::AdminSession(uri);
  Rows r;
  Status st = s->Query(
      "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_index i "
      "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE i.indrelid = 'lk'::regclass AND NOT i.indisvalid AND c.relname LIKE '%ccnew%' "
      "ORDER BY 1",
      &r);
  EXPECT_TRUE(st.ok()) << st.message();
  std::vector<std::string> out;
  for (size_t i = 0; i < r.size(); ++i) out.push_back(r.Text(i, 0));
  return out;
}

int64_t VacuumCount(const std::string& uri, const std::string& table) {
  auto s = testing::AdminSession(uri);
  Rows r;
  EXPECT_TRUE(
      s->Query("SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = $1", {table}, &r)
          .ok());
  return r.empty() ? -1 : r.Int(0, 0);
}

// ACCESS EXCLUSIVE on the table: the REINDEX cannot even start, so it
// leaves nothing behind and is retried as configured.
TEST(ApplyLocks, AccessExclusiveBlockerTimesOutRetriesAndLeavesNoCopy) {
  std::string uri = LockedDb("rel_apply_locks_ae");
  auto blocker = testing::AdminSession(uri);
  ASSERT_TRUE(blocker->Exec("BEGIN").ok());
  ASSERT_TRUE(blocker->Exec("LOCK TABLE lk IN ACCESS EXCLUSIVE MODE").ok());
  CmdResult r = Apply(uri);
  ASSERT_TRUE(blocker->Exec("ROLLBACK").ok());
  EXPECT_EQ(r.exit, 4) << r.err;
  auto j = nlohmann::json::parse(r.out);
  const nlohmann::json* re = Outcome(j, "public.lk_a");
  ASSERT_NE(re, nullptr) << r.out;
  EXPECT_EQ((*re)["status"], "lock-timeout") << r.out;
  EXPECT_EQ((*re)["sqlstate"], "55P03");
  EXPECT_EQ((*re)["attempts"], 3) << "first try + --retries 2";
  EXPECT_FALSE(re->contains("leftover")) << r.out;
  const nlohmann::json* vac = Outcome(j, "public.free");
  ASSERT_NE(vac, nullptr) << r.out;
  EXPECT_EQ((*vac)["status"], "applied");
  EXPECT_EQ(VacuumCount(uri, "free"), 1);
  EXPECT_TRUE(InvalidCopies(uri).empty());
}

// An old snapshot elsewhere in the database: the REINDEX builds its copy and
// then times out waiting for that snapshot; the DROP of the copy does not
// wait for it, so each attempt cleans up after itself and retries go on.
TEST(ApplyLocks, OldSnapshotBlockerCopiesAreDroppedAndRetriesGoOn) {
  std::string uri = LockedDb("rel_apply_locks_snap");
  auto blocker = testing::AdminSession(uri);
  ASSERT_TRUE(blocker->Exec("BEGIN ISOLATION LEVEL REPEATABLE READ").ok());
  ASSERT_TRUE(blocker->Exec("SELECT count(*) FROM other").ok());
  CmdResult r = Apply(uri);
  ASSERT_TRUE(blocker->Exec("ROLLBACK").ok());
  EXPECT_EQ(r.exit, 4) << r.err;
  auto j = nlohmann::json::parse(r.out);
  const nlohmann::json* re = Outcome(j, "public.lk_a");
  ASSERT_NE(re, nullptr) << r.out;
  EXPECT_EQ((*re)["status"], "lock-timeout") << r.out;
  EXPECT_EQ((*re)["attempts"], 3) << r.out;
  ASSERT_TRUE(re->contains("cleanup")) << r.out;
  EXPECT_NE((*re)["cleanup"].get<std::string>().find("lk_a_ccnew"), std::string::npos) << r.out;
  EXPECT_FALSE(re->contains("leftover")) << r.out;
  EXPECT_EQ((*Outcome(j, "public.free"))["status"], "applied");
  EXPECT_TRUE(InvalidCopies(uri).empty()) << r.err;
}

// An open transaction that wrote to the table: it blocks the REINDEX after
// the copy exists AND the DROP of the copy. The item must not be retried
// (each retry would add another copy): one copy, reported by name.
TEST(ApplyLocks, WriterBlockerLeavesExactlyOneReportedCopyAndNoRetry) {
  std::string uri = LockedDb("rel_apply_locks_writer");
  auto blocker = testing::AdminSession(uri);
  ASSERT_TRUE(blocker->Exec("BEGIN").ok());
  ASSERT_TRUE(blocker->Exec("UPDATE lk SET v = 1 WHERE id = 1").ok());
  CmdResult r = Apply(uri);
  // While the blocker holds on, exactly one copy exists.
  std::vector<std::string> copies = InvalidCopies(uri);
  ASSERT_TRUE(blocker->Exec("ROLLBACK").ok());
  EXPECT_EQ(r.exit, 4) << r.err;
  auto j = nlohmann::json::parse(r.out);
  const nlohmann::json* re = Outcome(j, "public.lk_a");
  ASSERT_NE(re, nullptr) << r.out;
  EXPECT_EQ((*re)["status"], "failed") << r.out;
  EXPECT_EQ((*re)["sqlstate"], "55P03");
  EXPECT_EQ((*re)["attempts"], 1) << "a retry would pile up another copy";
  ASSERT_EQ(copies.size(), 1u) << r.out;
  ASSERT_TRUE(re->contains("leftover")) << r.out;
  EXPECT_EQ((*re)["leftover"], copies[0]);
  EXPECT_EQ((*re)["leftover_sql"], "DROP INDEX CONCURRENTLY IF EXISTS " + copies[0] + ";");
  EXPECT_NE((*re)["message"].get<std::string>().find(copies[0]), std::string::npos);
  EXPECT_NE(r.err.find("drop it with: DROP INDEX CONCURRENTLY IF EXISTS " + copies[0]),
            std::string::npos)
      << r.err;
  EXPECT_EQ((*Outcome(j, "public.free"))["status"], "applied");
  EXPECT_EQ(InvalidCopies(uri).size(), 1u) << "still there after the run";
  // The reported SQL drops it once the blocker is gone.
  auto admin = testing::AdminSession(uri);
  ASSERT_TRUE(admin->Exec((*re)["leftover_sql"].get<std::string>()).ok());
  EXPECT_TRUE(InvalidCopies(uri).empty());
}

// -o is checked before anything connects or runs: a report that cannot be
// written must not be discovered after the plan was applied.
TEST(ApplyOutput, UnwritableReportPathFailsBeforeApplying) {
  std::string uri = LockedDb("rel_apply_output");
  CmdResult r = RunPgvise("maintain --db '" + uri +
                          "' --only vacuum-overdue --apply -o /no/such/dir/out.json --format json");
  EXPECT_EQ(r.exit, 2) << r.err;
  EXPECT_EQ(r.ErrLines(), 1) << r.err;
  EXPECT_NE(r.err.find("/no/such/dir/out.json"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("pgvise apply"), std::string::npos) << "apply started: " << r.err;
  EXPECT_EQ(VacuumCount(uri, "free"), 0) << "the plan ran although its report could not be written";
  // A directory is no file either.
  r = RunPgvise("maintain --db '" + uri + "' --only vacuum-overdue --apply -o /tmp");
  EXPECT_EQ(r.exit, 2) << r.err;
  EXPECT_EQ(VacuumCount(uri, "free"), 0);
}

TEST(ApplyOutput, ExistingReportIsNotTruncatedWhenTheCommandFails) {
  std::string dir = testing::TempDir("apply-output");
  std::string file = dir + "/report.json";
  testing::WriteWhole(file, "previous report\n");
  // Exit 3 (no such database): the old report stays as it was.
  CmdResult r = RunPgvise("maintain --db 'postgresql://postgres@127.0.0.1:1/nodb' -o '" + file +
                          "' --format json");
  EXPECT_EQ(r.exit, 3) << r.err;
  EXPECT_EQ(testing::ReadWhole(file), "previous report\n");
  // A new file in a writable directory is fine; nothing is left behind on failure.
  std::string fresh = dir + "/new.json";
  r = RunPgvise("maintain --db 'postgresql://postgres@127.0.0.1:1/nodb' -o '" + fresh + "'");
  EXPECT_EQ(r.exit, 3) << r.err;
  EXPECT_FALSE(std::filesystem::exists(fresh));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace pgvise
