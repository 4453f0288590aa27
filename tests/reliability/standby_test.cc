// `pgvise maintain` on a hot standby: its cumulative statistics are its own
// (mostly empty), so "Nothing to do" would be a false all-clear. It must say
// it is a standby, and --apply must refuse (exit 3, one line).
//
// The suite builds its own primary (scripts/pgcluster.sh, with a
// replication line added to pg_hba.conf) and a streaming standby of it with
// `pg_basebackup -R`, both as the postgres user, on free ports; the shared
// test cluster is left alone.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/review_cli.h"
#include "tests/support/pg_test.h"

namespace pgvise {
namespace {

using testing::CmdResult;
using testing::RunPgvise;

const char* kPgBin = "/usr/lib/postgresql/15/bin";

std::string AsPostgres(const std::string& cmd) {
  return getuid() == 0 ? "runuser -u postgres -- " + cmd : cmd;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

class Standby : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(testing::TempDir("standby"));
    if (getuid() == 0) RunCommand("chown postgres '" + *dir_ + "'");
    std::string out;
    // The primary.
    ASSERT_EQ(
        RunCommand(testing::SourceDir() + "/scripts/pgcluster.sh start '" + *dir_ + "/primary'",
                   &out),
        0)
        << out;
    primary_uri_ = new std::string(Trim(out));
    std::string port = Trim(testing::ReadWhole(*dir_ + "/primary/port"));
    {
      std::ofstream hba(*dir_ + "/primary/data/pg_hba.conf", std::ios::app);
      hba << "local replication all trust\nhost replication all 127.0.0.1/32 trust\n";
    }
    testing::Exec(*primary_uri_, "SELECT pg_reload_conf()");
    // Something a primary would plan for: dead tuples with autovacuum off.
    testing::Exec(*primary_uri_,
                  "CREATE TABLE churn (id int PRIMARY KEY, v int) WITH (autovacuum_enabled = "
                  "false); INSERT INTO churn SELECT g, 0 FROM generate_series(1, 30000) g; "
                  "UPDATE churn SET v = 1; "
                  "CREATE TABLE items (id int PRIMARY KEY, cat int NOT NULL, price int); "
                  "INSERT INTO items SELECT g, g % 500, g % 97 FROM generate_series(1, 50000) g; "
                  "ANALYZE items; CHECKPOINT;");
    // The standby: a base backup that writes standby.signal and primary_conninfo.
    std::string sdir = *dir_ + "/standby";
    ASSERT_EQ(RunCommand(AsPostgres(std::string(kPgBin) + "/pg_basebackup -h 127.0.0.1 -p " + port +
                                    " -U postgres -D '" + sdir + "' -R -X stream"),
                         &out, true),
              0)
        << out;
    bool started = false;
    for (int attempt = 1; attempt <= 20 && !started; ++attempt) {
      int p = 20000 + (getpid() * 7 + attempt * 977) % 40000;
      if (RunCommand("(echo >/dev/tcp/127.0.0.1/" + std::to_string(p) + ") 2>/dev/null", nullptr) ==
          0)
        continue;  // in use
      started = RunCommand(AsPostgres(std::string(kPgBin) + "/pg_ctl -D '" + sdir + "' -o '-p " +
                                      std::to_string(p) + "' -l '" + sdir + ".log' -w -t 60 start"),
                           &out, true) == 0;
      if (started)
        standby_uri_ =
            new std::string("postgresql://postgres@127.0.0.1:" + std::to_string(p) + "/postgres");
    }
    ASSERT_TRUE(started) << out << testing::ReadWhole(sdir + ".log");
  }

  static void TearDownTestSuite() {
    RunCommand(
        AsPostgres(std::string(kPgBin) + "/pg_ctl -D '" + *dir_ + "/standby' -m immediate -w stop"),
        nullptr, true);
    RunCommand(testing::SourceDir() + "/scripts/pgcluster.sh stop '" + *dir_ + "/primary'", nullptr,
               true);
    std::filesystem::remove_all(*dir_);
    delete dir_;
    delete primary_uri_;
    delete standby_uri_;
  }

  static int RunCommand(const std::string& cmd, std::string* out = nullptr, bool merge = false) {
    return testing::RunCommand(cmd, out, merge);
  }

  static std::string* dir_;
  static std::string* primary_uri_;
  static std::string* standby_uri_;
};
std::string* Standby::dir_ = nullptr;
std::string* Standby::primary_uri_ = nullptr;
std::string* Standby::standby_uri_ = nullptr;

TEST_F(Standby, MaintainSaysItIsAStandbyInsteadOfAnAllClear) {
  ASSERT_NE(standby_uri_, nullptr);
  // It really is one.
  auto s = testing::AdminSession(*standby_uri_);
  Rows r;
  ASSERT_TRUE(s->Query("SELECT pg_is_in_recovery()", &r).ok());
  ASSERT_TRUE(r.Bool(0, 0));

  CmdResult m = RunPgvise("maintain --db '" + *standby_uri_ + "' --fail-on never");
  EXPECT_EQ(m.exit, 0) << m.err;
  EXPECT_NE(m.out.find("note: this server is a hot standby"), std::string::npos) << m.out;
  EXPECT_NE(m.out.find("--apply cannot run here"), std::string::npos) << m.out;
  EXPECT_EQ(m.out.find("Nothing to do: every rule passed"), std::string::npos) << m.out;

  CmdResult j = RunPgvise("maintain --db '" + *standby_uri_ + "' --format json --fail-on never");
  ASSERT_EQ(j.exit, 0) << j.err;
  auto doc = nlohmann::json::parse(j.out);
  EXPECT_EQ(doc["standby"], true);

  // The primary says nothing of the kind, and does see the churn.
  CmdResult p = RunPgvise("maintain --db '" + *primary_uri_ + "' --fail-on never");
  EXPECT_EQ(p.exit, 0) << p.err;
  EXPECT_EQ(p.out.find("standby"), std::string::npos) << p.out;
  EXPECT_NE(p.out.find("public.churn"), std::string::npos) << p.out;
}

// Analysis runs on a standby as it does on the primary: HypoPG's
// hypothetical indexes live in the backend's memory, EXPLAIN (ANALYZE) of a
// read is allowed, and every session pgvise opens is read-only anyway.
TEST_F(Standby, AnalysisCommandsWorkOnAStandby) {
  ASSERT_NE(standby_uri_, nullptr);
  const std::string db = "--db '" + *standby_uri_ + "'";
  testing::WriteWhole(*dir_ + "/w.sql",
                      "-- pgvise: calls=1000\nSELECT id, price FROM items WHERE cat = 7;\n");
  testing::WriteWhole(*dir_ + "/m.sql", "ALTER TABLE items ADD COLUMN note text DEFAULT now();\n");
  testing::WriteWhole(*dir_ + "/q.sql",
                      "SELECT i.id FROM items i WHERE (SELECT count(*) FROM items j WHERE j.cat = "
                      "i.cat AND j.id < 10) > 1 AND i.id < 200;\n");
  CmdResult a = RunPgvise("advise " + db + " -w w.sql --format json", *dir_);
  ASSERT_EQ(a.exit, 0) << a.err;
  auto doc = nlohmann::json::parse(a.out);
  ASSERT_FALSE(doc["recommendations"].empty()) << a.out;
  EXPECT_NE(doc["recommendations"][0]["sql"].get<std::string>().find("(cat"), std::string::npos);
  CmdResult r = RunPgvise("review " + db + " m.sql q.sql --format json --fail-on never", *dir_);
  EXPECT_EQ(r.exit, 0) << r.err;
  CmdResult e = RunPgvise("explain " + db + " --analyze --sql q.sql --fail-on never", *dir_);
  EXPECT_EQ(e.exit, 0) << e.err;
  // explain without --analyze: plans only, on the standby's catalog.
  CmdResult p = RunPgvise("explain " + db + " --sql q.sql --format json --fail-on never", *dir_);
  EXPECT_EQ(p.exit, 0) << p.err;
  EXPECT_FALSE(p.out.empty()) << p.err;
  CmdResult w = RunPgvise("rewrite " + db + " --verify q.sql --format json", *dir_);
  EXPECT_EQ(w.exit, 0) << w.err;
}

TEST_F(Standby, ApplyIsRefusedWithExit3AndOneLine) {
  ASSERT_NE(standby_uri_, nullptr);
  CmdResult a = RunPgvise("maintain --db '" + *standby_uri_ + "' --apply");
  EXPECT_EQ(a.exit, 3) << a.err;
  EXPECT_EQ(a.ErrLines(), 1) << a.err;
  EXPECT_NE(a.err.find("standby"), std::string::npos) << a.err;
  EXPECT_EQ(a.err.find("pgvise apply"), std::string::npos) << a.err;
  EXPECT_TRUE(a.out.empty()) << a.out;
}

// advise --verify builds real indexes, views and partitioned copies: a
// standby cannot, so it is refused before anything runs, in one line that
// says why, with exit 3 and no report; the dry run above is what works here.
TEST_F(Standby, AdviseVerifyIsRefusedWithExit3AndOneLine) {
  ASSERT_NE(standby_uri_, nullptr);
  testing::WriteWhole(*dir_ + "/wv.sql",
                      "-- pgvise: calls=1000\nSELECT id, price FROM items WHERE cat = 7;\n");
  CmdResult a =
      RunPgvise("advise --db '" + *standby_uri_ + "' -w wv.sql --verify --format json", *dir_);
  EXPECT_EQ(a.exit, 3) << a.out << a.err;
  EXPECT_EQ(a.ErrLines(), 1) << a.err;
  EXPECT_NE(a.err.find("standby"), std::string::npos) << a.err;
  EXPECT_TRUE(a.out.empty()) << a.out;
}

// `advise --replica`: the workload (pg_stat_statements) and catalog come
// from the primary, every HypoPG what-if runs on the standby — the
// standby's pg_stat_statements records the hypothetical indexes and the
// primary's does not — and the advice is the one the primary alone gives
// (the planner statistics a standby plans with are the primary's,
// replicated). --jobs 2 puts both connections on the standby.
TEST_F(Standby, AdviseReplicaCostsOnTheStandbyAndReadsTheWorkloadFromThePrimary) {
  ASSERT_NE(standby_uri_, nullptr);
  auto primary = testing::AdminSession(*primary_uri_);
  auto standby = testing::AdminSession(*standby_uri_);
  Rows r;
  ASSERT_TRUE(primary->Query("SELECT pg_stat_statements_reset()", &r).ok());
  for (int i = 0; i < 60; ++i)
    ASSERT_TRUE(primary
                    ->Query("SELECT id, price FROM items WHERE cat = $1 AND price < $2",
                            {std::to_string(i % 500), "40"}, &r)
                    .ok());
  // The standby has replayed everything the primary did (ANALYZE included).
  ASSERT_TRUE(primary->Query("SELECT pg_current_wal_lsn()::text", &r).ok());
  const std::string lsn = r.Text(0, 0);
  bool caught_up = false;
  for (int i = 0; i < 100 && !caught_up; ++i) {
    ASSERT_TRUE(standby->Query("SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn", {lsn}, &r).ok());
    caught_up = r.Bool(0, 0);
    if (!caught_up) standby->Exec("SELECT pg_sleep(0.1)");
  }
  ASSERT_TRUE(caught_up);
  ASSERT_TRUE(standby->Query("SELECT pg_stat_statements_reset()", &r).ok());

  const std::string common =
      "advise -q --format json --from pg_stat_statements --min-calls 10 --no-patterns "
      "--no-partitions --no-views --no-statistics --no-drops --write-source none --db '" +
      *primary_uri_ + "'";
  CmdResult a = RunPgvise(common + " --replica '" + *standby_uri_ + "' --jobs 2", *dir_);
  ASSERT_EQ(a.exit, 0) << a.err;
  auto doc = nlohmann::json::parse(a.out);
  ASSERT_FALSE(doc["recommendations"].empty()) << a.out;
  EXPECT_NE(doc["recommendations"][0]["sql"].get<std::string>().find("(cat"), std::string::npos)
      << a.out;

  const char* kHypo =
      "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query LIKE "
      "'%hypopg_create_index%' AND query NOT LIKE '%pg_stat_statements%'";
  ASSERT_TRUE(standby->Query(kHypo, &r).ok());
  EXPECT_GT(r.Int(0, 0), 0) << "no what-if ran on the standby";
  ASSERT_TRUE(primary->Query(kHypo, &r).ok());
  EXPECT_EQ(r.Int(0, 0), 0) << "a what-if ran on the primary";

  // The same advice as the primary's own what-ifs (write overhead is off:
  // its rate is over pg_stat_statements' window, which grows between runs).
  CmdResult p = RunPgvise(common, *dir_);
  ASSERT_EQ(p.exit, 0) << p.err;
  auto on_primary = nlohmann::json::parse(p.out);
  EXPECT_EQ(doc["recommendations"], on_primary["recommendations"]);
  EXPECT_EQ(doc["summary"]["workload_cost_before"], on_primary["summary"]["workload_cost_before"]);

  // A replica that is not there is a database error (exit 3), not silence.
  CmdResult bad =
      RunPgvise(common + " --replica 'postgresql://postgres@127.0.0.1:1/postgres'", *dir_);
  EXPECT_EQ(bad.exit, 3) << bad.err;
}

}  // namespace
}  // namespace pgvise
