// Hostile object names end to end: the scripts pgvise writes (maintain
// --format sql, rewrite --format text, advise --format sql) are fed whole to
// psql, as an operator would, over schemas, tables, columns, indexes and
// sequences whose names hold a newline or a '\r' followed by SQL, double
// quotes, spaces, mixed case, reserved words and non-ASCII letters, and
// columns whose types (a domain, an enum) are named that way too.
//
// The promise: nothing in a name runs (the canary tables survive), and the
// statements the script says it runs do run (VACUUM/ANALYZE leave
// last_vacuum/last_analyze, REINDEX makes the invalid index valid, the
// advised index appears on the right table).
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <string>

#include "core/session.h"
#include "tests/review_cli.h"
#include "tests/support/pg_test.h"

namespace pgvise {
namespace {

using testing::CmdResult;
using testing::RunPgvise;

// A newline or '\r' ends a `--` comment for psql and the server: what
// follows would run if a name reached a comment unescaped.
const std::string kNl = "nl\nDROP TABLE canary; --";
const std::string kCr = "cr\rDROP TABLE canary; --";
const std::string kSemi = "x; DROP TABLE t; --";
const std::string kQuoted = "my \"quoted\" Table";
const std::string kMixed = "MiXed Tàblé ünï";
const std::string kReserved = "select";
const std::string kSeq = "seq\r\nDROP TABLE canary; --";
const std::string kIdx = "idx\nDROP TABLE t; --";
// Types named to inject, for columns of the tables above: a domain over
// integer and an enum. And a sequence feeding a column of that domain, in a
// table whose name needs quoting (but holds no line break, so the commented
// advice for it can be uncommented and run).
const std::string kDomInt = "measure\nDROP TABLE canary; --";
const std::string kEnum = "Kind \"k\"; DROP TABLE canary; --";
const std::string kSeqDom = "seq dom \"q\" ünï";
const std::string kDomTable = "Dom Tàblé \"q\"";

std::string Q(const std::string& s) { return QuoteIdent(s); }

std::string Psql() {
  return std::filesystem::exists("/usr/lib/postgresql/15/bin/psql")
             ? "/usr/lib/postgresql/15/bin/psql"
             : "psql";
}

// Runs `script` through psql in autocommit with ON_ERROR_STOP=1; returns
// psql's exit status, its output in *out.
int RunPsql(const std::string& uri, const std::string& script, std::string* out) {
  std::string dir = testing::TempDir("hostile-psql");
  std::string file = dir + "/script.sql";
  testing::WriteWhole(file, script);
  int rc = testing::RunCommand(
      "'" + Psql() + "' -X -v ON_ERROR_STOP=1 -d '" + uri + "' -f '" + file + "'", out, true);
  std::filesystem::remove_all(dir);
  return rc;
}

class HostileNames : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    uri_ = new std::string(testing::FreshDatabase("rel_hostile_names"));
    auto admin = testing::AdminSession(*uri_);
    auto run = [&](const std::string& sql) {
      Status st = admin->Exec(sql);
      if (!st.ok()) throw Error(ExitCode::kDatabaseError, sql + ": " + st.message());
      (void)admin->Exec("SELECT pg_stat_force_next_flush()");
    };
    // Canaries: what the names try to drop.
    run("CREATE TABLE canary (id int)");
    run("CREATE TABLE t (id int)");
    // A schema and a table in it with line breaks in their names; columns
    // named with a reserved word and mixed case.
    run("CREATE SCHEMA " + Q(kNl));
    run("CREATE TABLE " + Q(kNl) + "." + Q(kCr) + " (id int PRIMARY KEY, " + Q(kReserved) +
        " int, " + Q("Mixed Col") + " text) WITH (autovacuum_enabled = false)");
    run("INSERT INTO " + Q(kNl) + "." + Q(kCr) +
        " SELECT g, 0, 'x' FROM generate_series(1, 3000) g");
    run("ANALYZE " + Q(kNl) + "." + Q(kCr));
    run("UPDATE " + Q(kNl) + "." + Q(kCr) + " SET " + Q(kReserved) + " = 1");
    const std::string dom = Q(kNl) + "." + Q(kDomInt), enm = Q(kNl) + "." + Q(kEnum);
    run("CREATE DOMAIN " + dom + " AS integer CHECK (VALUE > 0)");
    run("CREATE TYPE " + enm + " AS ENUM ('a', 'b\"; --')");
    // Churned tables: dead tuples for vacuum-overdue.
    for (const auto& name : {kSemi, kMixed}) {
      run("CREATE TABLE " + Q(name) + " (id int PRIMARY KEY, " + Q("from") + " int, pad text, " +
          Q("mëasure") + " " + dom + ", " + Q("kïnd") + " " + enm +
          ") WITH (autovacuum_enabled = false)");
      run("INSERT INTO " + Q(name) +
          " SELECT g, g % 500, repeat('p', 40), 1 + g % 500, 'a' FROM generate_series(1, 20000) "
          "g");
      run("ANALYZE " + Q(name));
      run("UPDATE " + Q(name) + " SET pad = repeat('q', 40) WHERE id <= 3000");
    }
    // Never analyzed: stale-statistics.
    run("CREATE TABLE " + Q(kQuoted) + " (id int) WITH (autovacuum_enabled = false)");
    run("INSERT INTO " + Q(kQuoted) + " SELECT g FROM generate_series(1, 2000) g");
    // An invalid index with a hostile name, on a table named with a reserved
    // word: a failed unique build, then the duplicates go so the REINDEX the
    // plan proposes succeeds.
    run("CREATE TABLE " + Q(kReserved) + " (" + Q("Order") + " int)");
    run("INSERT INTO " + Q(kReserved) + " SELECT g % 100 FROM generate_series(1, 200) g");
    (void)admin->Exec("CREATE UNIQUE INDEX CONCURRENTLY " + Q(kIdx) + " ON " + Q(kReserved) + " (" +
                      Q("Order") + ")");
    run("DELETE FROM " + Q(kReserved) + " WHERE ctid NOT IN (SELECT min(ctid) FROM " +
        Q(kReserved) + " GROUP BY " + Q("Order") + ")");
    // An int4 sequence near its limit feeding an int4 column: advice with the
    // column's table in a commented ALTER TABLE.
    run("CREATE SEQUENCE " + Q(kNl) + "." + Q(kSeq) + " AS integer");
    run("CREATE TABLE " + Q(kNl) + "." + Q(kIdx) + " (id int DEFAULT nextval(" +
        QuoteLiteral(Q(kNl) + "." + Q(kSeq)) + "))");
    run("ALTER SEQUENCE " + Q(kNl) + "." + Q(kSeq) + " OWNED BY " + Q(kNl) + "." + Q(kIdx) + ".id");
    run("SELECT setval(" + QuoteLiteral(Q(kNl) + "." + Q(kSeq)) + ", 2000000000)");
    // The same near its limit, feeding a column of the domain over integer:
    // the column, not the sequence, is the limit (the base type decides).
    run("CREATE SEQUENCE public." + Q(kSeqDom) + " AS integer");
    run("CREATE TABLE public." + Q(kDomTable) + " (id " + dom + " DEFAULT nextval(" +
        QuoteLiteral("public." + Q(kSeqDom)) + "))");
    run("ALTER SEQUENCE public." + Q(kSeqDom) + " OWNED BY public." + Q(kDomTable) + ".id");
    run("SELECT setval(" + QuoteLiteral("public." + Q(kSeqDom)) + ", 2000000000)");
    // Small thresholds so small tables qualify.
    dir_ = new std::string(testing::TempDir("hostile-names"));
    testing::WriteWhole(*dir_ + "/.pgvise.yaml", R"(rules:
  vacuum-overdue:
    thresholds:
      min_dead_tuples: 100
      min_dead_ratio: 0.01
  stale-statistics:
    thresholds:
      min_modifications: 100
)");
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
    delete uri_;
  }

  static void ExpectCanariesAlive() {
    Rows r;
    auto s = testing::AdminSession(*uri_);
    ASSERT_TRUE(s->Query("SELECT count(*) FROM pg_class WHERE oid IN "
                         "(to_regclass('public.canary'), to_regclass('public.t'))",
                         &r)
                    .ok());
    EXPECT_EQ(r.Int(0, 0), 2) << "a name ran as SQL: a canary table is gone";
  }

  static std::string* uri_;
  static std::string* dir_;
};
std::string* HostileNames::uri_ = nullptr;
std::string* HostileNames::dir_ = nullptr;

TEST_F(HostileNames, MaintainSqlScriptRunsOnlyItsStatements) {
  CmdResult m = RunPgvise("maintain --db '" + *uri_ + "' --format sql --fail-on never", *dir_);
  ASSERT_EQ(m.exit, 0) << m.err;
  // The plan covers the hostile objects (so the test is not vacuous).
  EXPECT_NE(m.out.find("VACUUM (ANALYZE) " + Q(kNl) + "." + Q(kCr) + ";"), std::string::npos)
      << m.out;
  EXPECT_NE(m.out.find("VACUUM (ANALYZE) public." + Q(kSemi) + ";"), std::string::npos) << m.out;
  EXPECT_NE(m.out.find("VACUUM (ANALYZE) public." + Q(kMixed) + ";"), std::string::npos) << m.out;
  EXPECT_NE(m.out.find("ANALYZE public." + Q(kQuoted) + ";"), std::string::npos) << m.out;
  EXPECT_NE(m.out.find("REINDEX INDEX CONCURRENTLY public." + Q(kIdx) + ";"), std::string::npos)
      << m.out;
  EXPECT_NE(m.out.find("sequence-exhaustion"), std::string::npos) << m.out;

  std::string psql_out;
  int rc = RunPsql(*uri_, m.out, &psql_out);
  EXPECT_EQ(rc, 0) << psql_out << "\n---- script:\n" << m.out;
  EXPECT_EQ(psql_out.find("ERROR"), std::string::npos) << psql_out;
  ExpectCanariesAlive();

  // The statements did what the script says.
  auto s = testing::AdminSession(*uri_);
  Rows r;
  ASSERT_TRUE(s->Query("SELECT relname, schemaname, last_vacuum IS NOT NULL AS vacuumed, "
                       "last_analyze IS NOT NULL AS analyzed FROM pg_stat_user_tables",
                       &r)
                  .ok());
  int checked = 0;
  for (size_t i = 0; i < r.size(); ++i) {
    const std::string& rel = r.Text(i, "relname");
    if (rel == kCr || rel == kSemi || rel == kMixed) {
      EXPECT_TRUE(r.Bool(i, "vacuumed")) << rel;
      ++checked;
    }
    if (rel == kQuoted) {
      EXPECT_TRUE(r.Bool(i, "analyzed")) << rel;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 4);
  ASSERT_TRUE(s->Query("SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = "
                       "i.indexrelid WHERE c.relname = $1",
                       {kIdx}, &r)
                  .ok());
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r.Bool(0, 0)) << "the REINDEX did not run";

  // The sequence feeding a column of a domain over integer: widening only
  // the sequence would not help (the domain holds integers), so the advice is
  // to widen the column, commented out; uncommented, it runs as printed.
  const std::string seq = "public." + Q(kSeqDom), table = "public." + Q(kDomTable);
  EXPECT_EQ(m.out.find("\nALTER SEQUENCE " + seq + " AS bigint;"), std::string::npos)
      << "the domain over integer was taken for bigint\n"
      << m.out;
  std::string widen;
  {
    std::istringstream in(m.out);
    std::string line;
    while (std::getline(in, line)) {
      // Advice is commented out once per level ("-- -- ALTER ..."): uncomment.
      while (line.rfind("-- ", 0) == 0) line = line.substr(3);
      if (line == "ALTER TABLE " + table + " ALTER COLUMN id TYPE bigint;" ||
          line == "ALTER SEQUENCE " + seq + " AS bigint;")
        widen += line + "\n";
    }
  }
  ASSERT_NE(widen.find("ALTER TABLE"), std::string::npos) << m.out;
  ASSERT_NE(widen.find("ALTER SEQUENCE"), std::string::npos) << m.out;
  EXPECT_EQ(RunPsql(*uri_, widen, &psql_out), 0) << psql_out << "\n---- uncommented:\n" << widen;
  ExpectCanariesAlive();
  ASSERT_TRUE(s->Query("SELECT format_type(atttypid, NULL) FROM pg_attribute WHERE attrelid = "
                       "$1::regclass AND attname = 'id'",
                       {table}, &r)
                  .ok());
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r.Text(0, 0), "bigint");
}

TEST_F(HostileNames, RewriteTextRunsInPsql) {
  // A correlated aggregate over the hostile tables; even the file name holds
  // a line break followed by SQL (it is echoed in the comments). Correlated on
  // an unindexed column: a SubPlan through an index waits for --verify (the
  // estimate misleads there), and this test is about the printed rewrite.
  std::string dir = testing::TempDir("hostile-rewrite");
  std::string file = dir + "/w\nDROP TABLE canary; --.sql";
  testing::WriteWhole(
      file, "SELECT o.id FROM " + Q(kNl) + "." + Q(kCr) + " o WHERE o." + Q(kReserved) +
                " < (SELECT count(*) FROM public." + Q(kSemi) + " i WHERE i." + Q("from") +
                " = o.id);\n"
                // Unchanged, ending in a comment: its ";" must not be commented out.
                "SELECT count(*) FROM t -- trailing comment\n;\n"
                "SELECT 1;\n");
  CmdResult w = RunPgvise("rewrite --db '" + *uri_ + "' --format text '" + file + "'");
  std::filesystem::remove_all(dir);
  ASSERT_EQ(w.exit, 0) << w.err;
  EXPECT_NE(w.out.find("rewritten"), std::string::npos) << w.out;
  std::string psql_out;
  EXPECT_EQ(RunPsql(*uri_, w.out, &psql_out), 0) << psql_out << "\n---- script:\n" << w.out;
  EXPECT_EQ(psql_out.find("ERROR"), std::string::npos) << psql_out;
  ExpectCanariesAlive();
}

TEST_F(HostileNames, AdviseSqlCreatesTheIndexOnTheHostileTable) {
  // The table's name holds a '\r' (the advice's reason names it) inside a
  // schema whose name holds a '\n'; the column is a reserved word.
  std::string dir = testing::TempDir("hostile-advise");
  std::string file = dir + "/workload.sql";
  testing::WriteWhole(file, "-- pgvise: calls=1000\nSELECT id FROM " + Q(kNl) + "." + Q(kCr) +
                                " WHERE " + Q(kReserved) + " = 42;\n");
  CmdResult a = RunPgvise("advise --db '" + *uri_ + "' --format sql '" + file + "'");
  std::filesystem::remove_all(dir);
  ASSERT_EQ(a.exit, 0) << a.err << a.out;
  ASSERT_NE(a.out.find("CREATE INDEX"), std::string::npos) << a.out;
  std::string psql_out;
  EXPECT_EQ(RunPsql(*uri_, a.out, &psql_out), 0) << psql_out << "\n---- script:\n" << a.out;
  ExpectCanariesAlive();
  auto s = testing::AdminSession(*uri_);
  Rows r;
  ASSERT_TRUE(s->Query("SELECT count(*) FROM pg_index i JOIN pg_attribute a ON a.attrelid = "
                       "i.indrelid AND a.attnum = i.indkey[0] WHERE i.indrelid = $1::regclass "
                       "AND a.attname = $2 AND i.indisvalid",
                       {Q(kNl) + "." + Q(kCr), kReserved}, &r)
                  .ok());
  EXPECT_EQ(r.Int(0, 0), 1) << "the advised index is not on the hostile table\n" << a.out;
}

}  // namespace
}  // namespace pgvise
