// `pgvise advise` reports workload patterns (issue 12) through the real
// binary: an N+1 loop sent from the client is in the JSON's "patterns" with
// its rule id and in the text report's section; the rule book the command
// loads is the one its .pgvise.yaml changed (the minimum window lowered here,
// since this database's counters cover seconds); --no-patterns turns the step
// off; with the shipped minimum window, the report carries a note instead.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/review_cli.h"

namespace pgvise::testing {
namespace {

class PatternsCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    uri_ = new std::string(FreshDatabase("patterns_cli"));
    dir_ = new std::string(TempDir("patterns-cli"));
    Exec(*uri_, R"sql(
      CREATE TABLE authors (id int PRIMARY KEY, name text NOT NULL);
      CREATE TABLE books (id int PRIMARY KEY, author_id int NOT NULL REFERENCES authors, title text);
      INSERT INTO authors SELECT g, 'author ' || g FROM generate_series(1, 3000) g;
      INSERT INTO books SELECT g, 1 + g % 3000, 'book ' || g FROM generate_series(1, 30000) g;
      ANALYZE authors;
      ANALYZE books;
    )sql");
    // A page of books, then one author lookup per book: 60 pages of 50.
    auto s = AdminSession(*uri_);
    for (int page = 0; page < 60; ++page) {
      Rows books;
      ASSERT_TRUE(
          s->Query("SELECT id, author_id, title FROM books WHERE id > $1 ORDER BY id LIMIT 50",
                   {std::to_string(page * 50)}, &books)
              .ok());
      for (size_t i = 0; i < books.size(); ++i) {
        Rows author;
        ASSERT_TRUE(s->Query("SELECT name FROM authors WHERE id = $1", {books.Text(i, "author_id")},
                             &author)
                        .ok());
      }
    }
    WriteWhole(*dir_ + "/short.yaml",
               "rules:\n  n-plus-one:\n    thresholds:\n      min_window_minutes: 0\n");
  }
  static std::string* uri_;
  static std::string* dir_;
};
std::string* PatternsCli::uri_ = nullptr;
std::string* PatternsCli::dir_ = nullptr;

TEST_F(PatternsCli, NPlusOneIsAFindingWithItsRuleId) {
  CmdResult r =
      RunPgvise("advise -q --format json --config short.yaml --db '" + *uri_ + "'", *dir_);
  ASSERT_EQ(r.exit, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j["patterns"].is_array()) << r.out;
  const nlohmann::json* found = nullptr;
  for (const auto& p : j["patterns"])
    if (p["rule"] == "n-plus-one") found = &p;
  ASSERT_NE(found, nullptr) << r.out;
  EXPECT_EQ((*found)["location"]["object"], "public.authors");
  EXPECT_EQ((*found)["evidence"]["key_column"], "public.authors.id");
  EXPECT_EQ((*found)["evidence"]["calls"], 3000.0);
  EXPECT_EQ((*found)["evidence"]["sibling_calls"], 60.0);  // the page query, through the FK
  EXPECT_EQ((*found)["evidence"]["calls_saved_estimate"], 2940.0);
  EXPECT_TRUE((*found)["evidence"].contains("window_s"));

  CmdResult t = RunPgvise("advise -q --config short.yaml --db '" + *uri_ + "'", *dir_);
  ASSERT_EQ(t.exit, 0) << t.err;
  EXPECT_NE(t.out.find("Workload patterns"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("n-plus-one: `SELECT name FROM authors WHERE id = $1`"), std::string::npos)
      << t.out;
}

// A workload file of INSERTs only is a workload (every index would slow it),
// not "no plannable statements": exit 0, nothing recommended. It used to be
// an input error (exit 2) before the advisor saw the writes.
TEST_F(PatternsCli, InsertOnlyWorkloadFileIsAdvisedNotRefused) {
  WriteWhole(*dir_ + "/inserts.sql",
             "INSERT INTO books (id, author_id, title) VALUES ($1, $2, $3);\n");
  CmdResult r =
      RunPgvise("advise -q --format json --no-patterns --db '" + *uri_ + "' inserts.sql", *dir_);
  ASSERT_EQ(r.exit, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["recommendations"].empty()) << r.out;
  EXPECT_TRUE(j["drops"].empty()) << r.out;
}

TEST_F(PatternsCli, NoPatternsTurnsTheStepOff) {
  CmdResult r = RunPgvise(
      "advise -q --format json --no-patterns --config short.yaml --db '" + *uri_ + "'", *dir_);
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_TRUE(nlohmann::json::parse(r.out)["patterns"].empty()) << r.out;
}

TEST_F(PatternsCli, ShippedMinimumWindowGivesANote) {
  // No config: pg_stat_statements' counters cover well under an hour here
  // unless the cluster has run that long without a reset; either way the
  // report must say which it was.
  CmdResult r = RunPgvise("advise -q --format json --db '" + *uri_ + "'", *dir_);
  ASSERT_EQ(r.exit, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  bool note = false;
  for (const auto& n : j["notes"])
    note |= n.get<std::string>().find("were not judged") != std::string::npos;
  bool finding = false;
  for (const auto& p : j["patterns"]) finding |= p["rule"] == "n-plus-one";
  EXPECT_NE(note, finding) << r.out;  // one or the other, never neither
}

}  // namespace
}  // namespace pgvise::testing
