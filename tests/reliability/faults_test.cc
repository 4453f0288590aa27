// Reliability: faults during a run (issue 15). A connection killed mid-run
// (pg_terminate_backend of the backend named application_name = 'pgvise')
// must end `advise` and `rewrite --verify` with exit 3 and one line, never
// with a report that looks complete; a what-if that hits statement_timeout is
// one statement not costed, said so, and the run goes on; a --budget that is
// not a budget is a usage error (exit 2, one line).
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/review_cli.h"

namespace fs = std::filesystem;

namespace pgvise::testing {
namespace {

using json = nlohmann::json;

// `pgvise <args>` started in the background (so the test can act on its
// session while it runs), stdout and stderr to files.
class Background {
 public:
  Background(const std::string& args, const std::string& dir) {
    out_ = dir + "/bg.out";
    err_ = dir + "/bg.err";
    std::string cmd = "cd '" + dir + "' && exec '" + PgviseBin() + "' " + args + " >'" + out_ +
                      "' 2>'" + err_ + "' </dev/null";
    pid_ = fork();
    if (pid_ == 0) {
      execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~Background() {
    if (pid_ > 0 && !done_) {  // only the process this test started
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  // Sends `sig` to the pgvise process this test started (the shell exec'd it).
  void Signal(int sig) {
    if (pid_ > 0 && !done_) kill(pid_, sig);
  }
  bool running() {
    if (done_ || pid_ <= 0) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) Finish(status);
    return !done_;
  }
  // Waits for the exit (at most `limit_s`, far above any expected run: the
  // bound only keeps a broken build from hanging the suite). -1: killed.
  CmdResult Wait(int limit_s = 120) {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(limit_s);
    while (running() && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (!done_ && pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      done_ = true;
      exit_ = -1;
    }
    CmdResult r;
    r.exit = exit_;
    r.out = ReadWhole(out_);
    r.err = ReadWhole(err_);
    return r;
  }

 private:
  void Finish(int status) {
    done_ = true;
    exit_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  pid_t pid_ = -1;
  bool done_ = false;
  int exit_ = -1;
  std::string out_, err_;
};

class Faults : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    uri_ = new std::string(FreshDatabase("rel_faults"));
    dir_ = new std::string(TempDir("rel-faults"));
    Exec(*uri_, R"sql(
      CREATE EXTENSION IF NOT EXISTS hypopg;
      CREATE TABLE f_items (id bigint PRIMARY KEY, a int NOT NULL, b int NOT NULL, pad text);
      INSERT INTO f_items SELECT g, g % 1000, g % 37, repeat('p', 40) FROM generate_series(1, 50000) g;
      -- The planner folds an IMMUTABLE function of constants while planning:
      -- EXPLAIN of a statement that calls this one takes 2 s, whatever the
      -- machine — a what-if that is slow to plan, with no data to load.
      CREATE FUNCTION slow_plan(int) RETURNS int IMMUTABLE LANGUAGE plpgsql
        AS $$ BEGIN PERFORM pg_sleep(2); RETURN $1; END $$;
      -- rewrite --verify runs the original form: a correlated COUNT per
      -- user over an unindexed table runs for many seconds.
      CREATE TABLE f_users (id int PRIMARY KEY, name text);
      INSERT INTO f_users SELECT g, 'u' || g FROM generate_series(1, 3000) g;
      CREATE TABLE f_orders (id int PRIMARY KEY, user_id int, total int);
      INSERT INTO f_orders SELECT g, g % 3000, g % 50 FROM generate_series(1, 200000) g;
      -- explain --analyze: a read that sleeps, then writes. Only the
      -- statement's own READ ONLY transaction (rolled back) keeps the write
      -- out once the first statement of the file has turned the session's
      -- read-only default off.
      CREATE TABLE f_log (x int);
      CREATE FUNCTION slow_then_write() RETURNS int LANGUAGE plpgsql
        AS $$ BEGIN PERFORM pg_sleep(2); INSERT INTO f_log VALUES (1); RETURN 1; END $$;
      -- maintain --apply: dead tuples with autovacuum off, so the plan has
      -- a VACUUM to run, long enough to be killed in.
      CREATE TABLE f_churn (id int PRIMARY KEY, v int, pad text) WITH (autovacuum_enabled = false);
      INSERT INTO f_churn SELECT g, 0, repeat('c', 200) FROM generate_series(1, 300000) g;
      UPDATE f_churn SET v = 1;
      ANALYZE;
    )sql");
    WriteWhole(*dir_ + "/explain.sql",
               "SELECT set_config('default_transaction_read_only', 'off', false);\n"
               "SELECT slow_then_write();\n");
    WriteWhole(*dir_ + "/review.sql", "SELECT * FROM f_items WHERE b = slow_plan(3);\n");
    WriteWhole(*dir_ + "/workload.sql",
               "SELECT * FROM f_items WHERE a = 5;\n"
               "SELECT id FROM f_items WHERE b = 7 AND a = 9;\n"
               "SELECT * FROM f_items WHERE b = slow_plan(3);\n");
    WriteWhole(*dir_ + "/rewrite.sql",
               "SELECT u.id FROM f_users u WHERE (SELECT count(*) FROM f_orders o WHERE "
               "o.user_id = u.id) > 16;\n");
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(*dir_, ec);
    delete dir_;
    delete uri_;
  }

  // Waits until pgvise's backend runs a query matching `like`, then
  // terminates it. False when none showed up while `bg` ran.
  static bool TerminateWhenActive(Background* bg, const std::string& like) {
    auto admin = AdminSession(*uri_);
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (bg->running() && std::chrono::steady_clock::now() < until) {
      Rows r;
      Status st = admin->Query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = "
          "'pgvise' AND datname = current_database() AND state = 'active' AND query LIKE $1 AND "
          "pid <> pg_backend_pid()",
          {like}, &r);
      if (st.ok() && !r.empty() && r.Bool(0, 0)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  // Waits (bounded) until `like` runs in a pgvise backend. False if not.
  static bool WaitActive(Background* bg, const std::string& like) {
    auto admin = AdminSession(*uri_);
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (bg->running() && std::chrono::steady_clock::now() < until) {
      Rows r;
      Status st = admin->Query(
          "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgvise' AND datname = "
          "current_database() AND state = 'active' AND query LIKE $1",
          {like}, &r);
      if (st.ok() && r.Int(0, 0, 0) > 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  // What a run leaves on the server once its backends are gone: pgvise
  // backends still there after `limit_s` (an open transaction would hold
  // locks), and a count from `sql`.
  static int PgviseBackendsAfter(int limit_s) {
    auto admin = AdminSession(*uri_);
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(limit_s);
    for (;;) {
      Rows r;
      Status st = admin->Query(
          "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgvise' AND datname = "
          "current_database()",
          &r);
      int n = st.ok() ? static_cast<int>(r.Int(0, 0, -1)) : -1;
      if (n == 0 || std::chrono::steady_clock::now() >= until) return n;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  static long Count(const std::string& sql) {
    auto admin = AdminSession(*uri_);
    Rows r;
    if (!admin->Query(sql, &r).ok() || r.empty()) return -1;
    return r.Int(0, 0, -1);
  }

  // Dead tuples in f_churn, so the plan has a VACUUM to run: each test that
  // kills a VACUUM makes its own (the server may have finished the last one
  // after its client went), whatever order the tests run in.
  static void DirtyChurn() {
    auto admin = AdminSession(*uri_);
    EXPECT_TRUE(admin->Exec("UPDATE f_churn SET v = v + 1").ok());
  }

  // maintain --apply whose connection is terminated while it VACUUMs.
  static CmdResult MaintainApplyKilledMidRun() {
    DirtyChurn();
    Background bg("maintain --db '" + *uri_ + "' --apply --only vacuum --format json", *dir_);
    if (!TerminateWhenActive(&bg, "VACUUM%f_churn%"))
      ADD_FAILURE() << "no VACUUM of f_churn to terminate: " << bg.Wait().err;
    return bg.Wait();
  }

  // pgvise `args` started, `like` seen running in its backend, then `sig`
  // sent to pgvise itself. The killed run must exit non-zero with nothing on
  // stdout, and its backend must be gone within `limit_s` (no transaction
  // left open); the caller checks what is particular to the command.
  static void ExpectKilledCleanly(const std::string& args, const std::string& like, int sig,
                                  int limit_s) {
    Background bg(args, *dir_);
    ASSERT_TRUE(WaitActive(&bg, like)) << sig << bg.Wait().err;
    bg.Signal(sig);
    CmdResult r = bg.Wait();
    EXPECT_NE(r.exit, 0) << sig;
    EXPECT_TRUE(r.out.empty()) << sig << " a report from a killed run:\n" << r.out;
    EXPECT_EQ(PgviseBackendsAfter(limit_s), 0) << sig;
  }

  static std::string* uri_;
  static std::string* dir_;
};
std::string* Faults::uri_ = nullptr;
std::string* Faults::dir_ = nullptr;

// The hostile tester saw exit 0 and a complete-looking report (few what-ifs,
// statements_failed 0, no note). Now: exit 3, one line on stderr that says
// the connection was lost, nothing on stdout.
TEST_F(Faults, AdviseKilledMidRunExits3WithoutReport) {
  Background bg("advise --db '" + *uri_ + "' --format json -q workload.sql", *dir_);
  // Killed while it plans the slow statement: in the middle of the what-ifs.
  ASSERT_TRUE(TerminateWhenActive(&bg, "%slow_plan%")) << bg.Wait().err;
  CmdResult r = bg.Wait();
  EXPECT_EQ(r.exit, 3) << r.out << r.err;
  EXPECT_EQ(r.ErrLines(), 1) << r.err;
  EXPECT_NE(r.err.find("lost the connection"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("pgvise_pw"), std::string::npos);  // masked conninfo only
  EXPECT_TRUE(r.out.empty()) << "a report after a lost connection:\n" << r.out;
}

TEST_F(Faults, RewriteVerifyKilledMidRunExits3WithoutReport) {
  Background bg("rewrite --db '" + *uri_ + "' --verify --format json rewrite.sql", *dir_);
  ASSERT_TRUE(TerminateWhenActive(&bg, "%f_orders%")) << bg.Wait().err;
  CmdResult r = bg.Wait();
  EXPECT_EQ(r.exit, 3) << r.out << r.err;
  EXPECT_EQ(r.ErrLines(), 1) << r.err;
  EXPECT_NE(r.err.find("lost the connection"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << "a report after a lost connection:\n" << r.out;
}

// explain --analyze whose connection is terminated while the statement
// runs: exit 3, one line, no report, and the write the statement would have
// made after its sleep is not there.
TEST_F(Faults, ExplainAnalyzeKilledMidRunExits3WithoutReport) {
  Background bg("explain --db '" + *uri_ + "' --analyze --sql explain.sql --fail-on never", *dir_);
  ASSERT_TRUE(TerminateWhenActive(&bg, "%slow_then_write%")) << bg.Wait().err;
  CmdResult r = bg.Wait();
  EXPECT_EQ(r.exit, 3) << r.out << r.err;
  EXPECT_EQ(r.ErrLines(), 1) << r.err;
  EXPECT_NE(r.err.find("lost the connection"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << "a report after a lost connection:\n" << r.out;
  EXPECT_EQ(PgviseBackendsAfter(30), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM f_log"), 0);
}

// pgvise itself killed (SIGTERM, then SIGKILL) while EXPLAIN ANALYZE runs a
// statement that writes after a sleep, in a session whose read-only default
// the file's first statement turned off. The server finishes the statement
// after the client is gone; the write must still not be committed (the
// statement's READ ONLY transaction and its ROLLBACK went in the same round
// trip), no pgvise backend may stay (no open transaction), and nothing may
// be on stdout.
TEST_F(Faults, PgviseKilledDuringExplainAnalyzeLeavesNoWriteAndNoTransaction) {
  for (int sig : {SIGTERM, SIGKILL}) {
    // The backend ends once the 2 s sleep is over and it reads the EOF.
    ExpectKilledCleanly("explain --db '" + *uri_ + "' --analyze --sql explain.sql --fail-on never",
                        "%slow_then_write%", sig, 30);
    EXPECT_EQ(Count("SELECT count(*) FROM f_log"), 0) << sig << ": the write was committed";
    EXPECT_EQ(Count("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                    "WHERE c.relname = 'f_log'"),
              0)
        << sig;
  }
}

// pgvise itself killed (SIGTERM, then SIGKILL) while `maintain --apply`
// VACUUMs: the server finishes or abandons the VACUUM on its own (VACUUM is
// safe to stop anywhere), no pgvise backend stays once it has, nothing
// half-built (no INVALID index) is left, and stdout holds no report.
TEST_F(Faults, PgviseKilledDuringMaintainApplyLeavesNothingOpen) {
  for (int sig : {SIGTERM, SIGKILL}) {
    DirtyChurn();
    ExpectKilledCleanly("maintain --db '" + *uri_ + "' --apply --only vacuum --format json",
                        "VACUUM%f_churn%", sig, 60);
    EXPECT_EQ(Count("SELECT count(*) FROM pg_index WHERE NOT indisvalid"), 0) << sig;
  }
}

// pgvise itself killed while review --db EXPLAINs a statement that is slow
// to plan: no report, and its backend goes once the planning is over.
TEST_F(Faults, PgviseKilledDuringReviewLeavesNoBackendAndNoReport) {
  for (int sig : {SIGTERM, SIGKILL}) {
    ExpectKilledCleanly("review --db '" + *uri_ + "' --format json --fail-on never review.sql",
                        "%slow_plan%", sig, 30);
  }
}

// review --db whose connection is terminated while it EXPLAINs a statement
// (slow to plan): exit 3, one line, no findings report presented as complete.
TEST_F(Faults, ReviewDbKilledMidRunExits3WithoutReport) {
  Background bg("review --db '" + *uri_ + "' --format json --fail-on never review.sql", *dir_);
  ASSERT_TRUE(TerminateWhenActive(&bg, "%slow_plan%")) << bg.Wait().err;
  CmdResult r = bg.Wait();
  EXPECT_EQ(r.exit, 3) << r.out << r.err;
  EXPECT_EQ(r.ErrLines(), 1) << r.err;
  EXPECT_NE(r.err.find("lost the connection"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << "a report after a lost connection:\n" << r.out;
  EXPECT_EQ(PgviseBackendsAfter(30), 0);
}

// Exit 3, the last stderr line says the connection was lost and the command
// stopped there, no report on stdout, no pgvise backend stays, and nothing
// half-built (no INVALID index) is left.
TEST_F(Faults, MaintainApplyKilledMidRunExits3AndLeavesNothing) {
  CmdResult r = MaintainApplyKilledMidRun();
  EXPECT_EQ(r.exit, 3) << r.out << r.err;
  std::string last = r.err;
  while (!last.empty() && last.back() == '\n') last.pop_back();
  last = last.substr(last.rfind('\n') == std::string::npos ? 0 : last.rfind('\n') + 1);
  EXPECT_NE(last.find("lost the connection"), std::string::npos) << r.err;
  EXPECT_NE(last.find("stopped here"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << "a report after a lost connection:\n" << r.out;
  EXPECT_EQ(PgviseBackendsAfter(30), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM pg_index WHERE NOT indisvalid"), 0);
}

// The log must also say which item was running when the connection went
// (maintenance/apply.cc logs each item as it starts), not only "2 plan
// items" and then the lost connection.
TEST_F(Faults, MaintainApplyKilledMidRunNamesTheItemItWasOn) {
  CmdResult r = MaintainApplyKilledMidRun();
  EXPECT_EQ(r.exit, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("f_churn"), std::string::npos) << "which item it was on:\n" << r.err;
}

// statement_timeout is not a lost connection: the slow-to-plan statement is
// reported as not costed (statements_failed, its error, a note that names
// the timeout), the others are costed, and the run ends normally.
TEST_F(Faults, WhatIfStatementTimeoutIsOneStatementNotCosted) {
  CmdResult r = RunPgvise(
      "advise --db '" + *uri_ + "' --format json -q --statement-timeout 1000 workload.sql", *dir_);
  ASSERT_EQ(r.exit, 0) << r.out << r.err;
  json j = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["summary"]["statements_failed"].get<int>(), 1) << j["summary"].dump();
  EXPECT_EQ(j["summary"]["statements_costed"].get<int>(), 2) << j["summary"].dump();
  int not_costed = 0;
  for (const auto& s : j["statements"]) {
    if (s["costed"].get<bool>()) continue;
    ++not_costed;
    EXPECT_NE(s["query"].get<std::string>().find("slow_plan"), std::string::npos) << s.dump();
    EXPECT_NE(s["error"].get<std::string>().find("statement timeout"), std::string::npos)
        << s.dump();
  }
  EXPECT_EQ(not_costed, 1);
  bool noted = false;
  for (const auto& n : j["notes"])
    noted |= n.get<std::string>().find("statement_timeout") != std::string::npos;
  EXPECT_TRUE(noted) << j["notes"].dump();
  // The costed statements still get their recommendation.
  EXPECT_FALSE(j["recommendations"].empty()) << r.out;
}

// --budget: overflow, negative and non-numbers are usage errors (exit 2, one
// line naming the option), not a negative (= unlimited) budget.
TEST_F(Faults, BadBudgetIsUsageError) {
  for (const char* b : {"1e30GB", "-5GB", "abc", "nan", "inf%"}) {
    CmdResult r = RunPgvise(
        std::string("advise --db '") + *uri_ + "' --budget=" + b + " workload.sql", *dir_);
    EXPECT_EQ(r.exit, 2) << b << "\n" << r.out << r.err;
    EXPECT_EQ(r.ErrLines(), 1) << b << "\n" << r.err;
    EXPECT_NE(r.err.find(std::string("--budget ") + b), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
}

}  // namespace
}  // namespace pgvise::testing
