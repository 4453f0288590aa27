// Faults before any work: the server down, a wrong password given in the
// URI, in PGPASSWORD or in a service file. Every command exits 3 with one
// clear line, prints no report, and never prints the password.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/review_cli.h"

namespace fs = std::filesystem;

namespace pgvise::testing {
namespace {

constexpr const char* kSecret = "not-the-Secret-42";

// host:port of the test cluster, from its URI (postgresql://postgres@host:port/db).
std::string HostPort() {
  const std::string& u = ClusterUri();
  size_t at = u.find('@'), slash = u.find('/', at);
  return u.substr(at + 1, slash - at - 1);
}

void ExpectCleanFailure(const CmdResult& r, const std::string& what) {
  EXPECT_EQ(r.exit, 3) << what << "\n" << r.err << r.out;
  EXPECT_EQ(r.ErrLines(), 1) << what << "\n" << r.err;
  EXPECT_TRUE(r.out.empty()) << what << ": a report was printed:\n" << r.out;
  EXPECT_EQ(r.err.find(kSecret), std::string::npos) << what << " printed the password: " << r.err;
  EXPECT_EQ(r.out.find(kSecret), std::string::npos) << what;
}

class Connect : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(TempDir("rel-connect"));
    WriteWhole(*dir_ + "/q.sql", "SELECT 1;\n");
    WriteWhole(*dir_ + "/pg_service.conf",
               "[wrongpw]\nhost=" + HostPort().substr(0, HostPort().find(':')) +
                   "\nport=" + HostPort().substr(HostPort().find(':') + 1) +
                   "\nuser=pgvise_pw\ndbname=postgres\npassword=" + kSecret + "\n");
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(*dir_, ec);
    delete dir_;
  }
  // Every command that connects, with `db` (and an environment prefix).
  static void EveryCommand(const std::string& env, const std::string& db, const std::string& what) {
    for (const std::string& cmd :
         {std::string("review --db ") + db + " q.sql", "explain --db " + db + " --sql q.sql",
          "advise --db " + db + " -w q.sql", "rewrite --db " + db + " --verify q.sql",
          "maintain --db " + db}) {
      // The environment must reach pgvise itself: run through env(1).
      CmdResult e;
      char tmpl[] = "/tmp/pgvise-connect-err-XXXXXX";
      int fd = mkstemp(tmpl);
      if (fd >= 0) close(fd);
      e.exit = RunCommand("cd '" + *dir_ + "' && env " + env + " '" + PgviseBin() + "' " + cmd +
                              " 2>" + tmpl + " </dev/null",
                          &e.out);
      e.err = ReadWhole(tmpl);
      std::remove(tmpl);
      ExpectCleanFailure(e, what + ": " + cmd);
    }
  }
  static std::string* dir_;
};
std::string* Connect::dir_ = nullptr;

TEST_F(Connect, ServerDown) {
  // Port 1 on loopback: nothing listens there.
  EveryCommand("", "'postgresql://postgres@127.0.0.1:1/postgres'", "server down");
}

TEST_F(Connect, WrongPasswordInTheUri) {
  EveryCommand("",
               std::string("'postgresql://pgvise_pw:") + kSecret + "@" + HostPort() + "/postgres'",
               "password in the URI");
}

TEST_F(Connect, WrongPasswordInPgpassword) {
  EveryCommand(std::string("PGPASSWORD=") + kSecret,
               "'postgresql://pgvise_pw@" + HostPort() + "/postgres'", "PGPASSWORD");
}

TEST_F(Connect, WrongPasswordInAServiceFile) {
  EveryCommand("PGSERVICEFILE='" + *dir_ + "/pg_service.conf'", "'service=wrongpw'",
               "service file");
}

}  // namespace
}  // namespace pgvise::testing
