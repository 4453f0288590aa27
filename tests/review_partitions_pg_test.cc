// `pgvise review --db` on a partitioned table, against a real PostgreSQL 15:
// the catalog says the table is partitioned (create-index-on-partitioned-table
// instead of a CONCURRENTLY suggestion that would fail), names its partitions
// in the recipe, and knows which table to be attached has a validated CHECK
// (attach-partition-without-check quiet for it). Each suggestion is then run
// as written, statement by statement, and the server confirms the outcome:
// the parent index is valid, the partition is attached.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "analyzer/sql/statement.h"
#include "tests/review_cli.h"

namespace fs = std::filesystem;

namespace pgvise::testing {
namespace {

using json = nlohmann::json;

std::string Scalar(const std::string& uri, const std::string& sql) {
  auto s = AdminSession(uri);
  Rows r;
  Status st = s->Query(sql, &r);
  if (!st.ok() || r.empty()) return "";
  return r.Text(0, 0);
}

// Runs a suggestion one statement at a time (CREATE INDEX CONCURRENTLY
// refuses a multi-statement string).
void RunEach(const std::string& uri, const std::string& sql) {
  SqlFile file;
  Status st = ParseSqlFile(SourceText("fix.sql", sql), &file);
  ASSERT_TRUE(st.ok()) << st.message();
  auto admin = AdminSession(uri);
  for (const auto& s : file.statements) {
    st = admin->Exec(s.sql);
    ASSERT_TRUE(st.ok()) << s.sql << ": " << st.message();
  }
}

TEST(ReviewPartitionsDb, CatalogDrivesTheRecipesAndTheyRunAsWritten) {
  const std::string uri = FreshDatabase("review_parts");
  Exec(uri, R"sql(
    CREATE TABLE events (id bigint NOT NULL, ts timestamptz NOT NULL, v int) PARTITION BY RANGE (ts);
    CREATE TABLE events_2026_12 PARTITION OF events FOR VALUES FROM ('2026-12-01') TO ('2027-01-01');
    CREATE TABLE events_2027_01 PARTITION OF events FOR VALUES FROM ('2027-01-01') TO ('2027-02-01');
    CREATE TABLE events_other PARTITION OF events DEFAULT;
    INSERT INTO events SELECT g, '2026-12-01'::timestamptz + g * interval '1 minute', g % 7
      FROM generate_series(1, 20000) g;
    -- to be attached: one with a validated CHECK matching its bound, one without
    CREATE TABLE events_2027_02 (LIKE events INCLUDING ALL);
    INSERT INTO events_2027_02 SELECT g, '2027-02-01'::timestamptz + g * interval '1 minute', 1
      FROM generate_series(1, 1000) g;
    ALTER TABLE events_2027_02 ADD CONSTRAINT b CHECK (ts >= '2027-02-01' AND ts < '2027-03-01');
    CREATE TABLE events_2027_03 (LIKE events INCLUDING ALL);
    INSERT INTO events_2027_03 SELECT g, '2027-03-01'::timestamptz + g * interval '1 minute', 1
      FROM generate_series(1, 1000) g;
    ANALYZE;
  )sql");
  const std::string dir = TempDir("parts");
  WriteWhole(dir + "/m.sql",
             "SET lock_timeout = '1s';\n"
             "CREATE INDEX events_v_idx ON events (v);\n"
             "ALTER TABLE events ATTACH PARTITION events_2027_02 FOR VALUES FROM ('2027-02-01') "
             "TO ('2027-03-01');\n"
             "ALTER TABLE events ATTACH PARTITION events_2027_03 FOR VALUES FROM ('2027-03-01') "
             "TO ('2027-04-01');\n");
  CmdResult r = RunPgvise(
      "review --rules '" + SourceDir() + "/rules' --format json --db '" + uri + "' m.sql", dir);
  ASSERT_TRUE(r.exit == 0 || r.exit == 1) << r.err;
  json doc = json::parse(r.out);
  std::vector<json> index, attach, concurrent;
  for (const auto& f : doc["findings"]) {
    if (f["rule"] == "create-index-on-partitioned-table") index.push_back(f);
    if (f["rule"] == "attach-partition-without-check") attach.push_back(f);
    if (f["rule"] == "require-concurrent-index-creation") concurrent.push_back(f);
  }
  // CONCURRENTLY would fail on the parent: only the partition recipe is given.
  EXPECT_TRUE(concurrent.empty()) << concurrent[0].dump();
  ASSERT_EQ(index.size(), 1u) << r.out;
  const std::string recipe = index[0]["suggestion"];
  for (const char* part : {"public.events_2026_12", "public.events_2027_01", "public.events_other"})
    EXPECT_NE(recipe.find("CONCURRENTLY " + std::string(part).substr(7)), std::string::npos)
        << part << " missing from\n"
        << recipe;
  // The table with a matching validated CHECK is quiet; the other is told
  // to add one, and that the default partition is scanned too.
  ASSERT_EQ(attach.size(), 1u) << r.out;
  EXPECT_EQ(attach[0]["location"]["line"], 4);
  const std::string message = attach[0]["message"];
  EXPECT_NE(message.find("default partition public.events_other"), std::string::npos) << message;

  // The recipes, as written.
  RunEach(uri, recipe);
  EXPECT_EQ(
      Scalar(uri, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'events_v_idx'::regclass"),
      "t");
  EXPECT_EQ(
      Scalar(uri, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'events_v_idx'::regclass"),
      "3");
  const std::string fix = attach[0]["suggestion"];
  std::string statements;  // the suggestion without its commented-out default-partition step
  for (size_t at = 0, nl; at < fix.size(); at = nl + 1) {
    nl = fix.find('\n', at);
    if (nl == std::string::npos) nl = fix.size();
    std::string line = fix.substr(at, nl - at);
    if (line.rfind("--", 0) != 0) statements += line + "\n";
  }
  RunEach(uri, statements);
  EXPECT_EQ(Scalar(uri,
                   "SELECT count(*) FROM pg_inherits WHERE inhrelid = "
                   "'events_2027_03'::regclass AND inhparent = 'events'::regclass"),
            "1");
  EXPECT_EQ(Scalar(uri,
                   "SELECT count(*) FROM pg_constraint WHERE conrelid = "
                   "'events_2027_03'::regclass AND contype = 'c'"),
            "0");
  std::error_code ec;
  fs::remove_all(dir, ec);
  Exec(ClusterUri(), "DROP DATABASE review_parts WITH (FORCE)");
}

}  // namespace
}  // namespace pgvise::testing
