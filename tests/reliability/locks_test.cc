// Reliability: another session holds a table ACCESS EXCLUSIVE (a migration's
// ALTER TABLE, VACUUM FULL, LOCK TABLE) while pgvise reads the catalog
// (issue 15). advise used to fail with exit 3 whatever the workload: the
// catalog snapshot's size functions and pg_get_indexdef/pg_get_expr/
// pg_get_constraintdef waited on the lock until lock_timeout. Now a locked
// table is read from pg_class and noted; only statements that read it are
// affected, and they are reported as not costed.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "tests/review_cli.h"

namespace fs = std::filesystem;

namespace pgvise::testing {
namespace {

using json = nlohmann::json;

class Locks : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    uri_ = new std::string(FreshDatabase("rel_locks"));
    dir_ = new std::string(TempDir("rel-locks"));
    Exec(*uri_, R"sql(
      CREATE EXTENSION IF NOT EXISTS hypopg;
      -- The locked table has everything the snapshot deparses: a partial
      -- index, an expression index, a CHECK constraint, a TOAST table.
      CREATE TABLE held (id bigint PRIMARY KEY, a int NOT NULL CHECK (a >= 0), b int, doc text);
      INSERT INTO held SELECT g, g % 1000, g % 37, repeat('h', 40) FROM generate_series(1, 30000) g;
      CREATE INDEX held_partial ON held (b) WHERE b > 30;
      CREATE INDEX held_expr ON held ((a + b));
      CREATE TABLE free (id bigint PRIMARY KEY, a int NOT NULL, b int NOT NULL, pad text);
      INSERT INTO free SELECT g, g % 1000, g % 37, repeat('f', 40) FROM generate_series(1, 30000) g;
    )sql");
    // relpages: the sizes a locked table gets come from the last VACUUM/ANALYZE.
    Exec(*uri_, "VACUUM ANALYZE held");
    Exec(*uri_, "VACUUM ANALYZE free");
    WriteWhole(*dir_ + "/free.sql", "SELECT * FROM free WHERE a = 5 AND b = 7;\n");
    WriteWhole(*dir_ + "/held.sql",
               "SELECT * FROM free WHERE a = 5 AND b = 7;\nSELECT * FROM held WHERE a = 5;\n");
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(*dir_, ec);
    delete dir_;
    delete uri_;
  }
  void SetUp() override {
    // The lock holder: an open transaction that took ACCESS EXCLUSIVE.
    holder_ = AdminSession(*uri_);
    ASSERT_TRUE(holder_->Exec("BEGIN").ok());
    ASSERT_TRUE(holder_->Exec("LOCK TABLE held IN ACCESS EXCLUSIVE MODE").ok());
  }
  void TearDown() override {
    if (holder_) holder_->Exec("ROLLBACK");
  }
  static json Advise(const std::string& file, CmdResult* r) {
    *r = RunPgvise("advise --db '" + *uri_ + "' --format json -q " + file, *dir_);
    return json::parse(r->out, nullptr, false);
  }
  static bool Noted(const json& j, const std::string& what) {
    for (const auto& n : j["notes"])
      if (n.get<std::string>().find(what) != std::string::npos) return true;
    return false;
  }
  std::unique_ptr<Session> holder_;
  static std::string* uri_;
  static std::string* dir_;
};
std::string* Locks::uri_ = nullptr;
std::string* Locks::dir_ = nullptr;

// A workload on another table: the lock elsewhere does not matter — exit 0,
// the recommendation, and a note that the locked table was read from pg_class.
TEST_F(Locks, AdviseOnAnotherTableSucceedsAndNotesTheLock) {
  CmdResult r;
  json j = Advise("free.sql", &r);
  ASSERT_EQ(r.exit, 0) << r.out << r.err;
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["summary"]["statements_failed"].get<int>(), 0);
  ASSERT_FALSE(j["recommendations"].empty()) << r.out;
  EXPECT_EQ(j["recommendations"][0]["object"].get<std::string>(), "public.free");
  EXPECT_TRUE(Noted(j,
                    "public.held is locked ACCESS EXCLUSIVE by another session: sizes from "
                    "pg_class"))
      << j["notes"].dump();
  // No drop advice for the locked table's indexes (their definitions, the
  // revert script, were not read).
  for (const auto& d : j["drops"])
    EXPECT_EQ(d["object"].get<std::string>().find("public.held"), std::string::npos) << d.dump();
}

// A workload that reads the locked table: pgvise does not wait past
// lock_timeout; that statement is not costed and the note says it waited for
// a lock; the rest of the workload gets its advice.
TEST_F(Locks, AdviseOnTheLockedTableSaysWhatHappened) {
  CmdResult r;
  json j = Advise("held.sql", &r);
  ASSERT_EQ(r.exit, 0) << r.out << r.err;
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["summary"]["statements_costed"].get<int>(), 1) << j["summary"].dump();
  EXPECT_EQ(j["summary"]["statements_failed"].get<int>(), 1) << j["summary"].dump();
  for (const auto& s : j["statements"]) {
    if (s["query"].get<std::string>().find("held") == std::string::npos) continue;
    EXPECT_FALSE(s["costed"].get<bool>()) << s.dump();
    EXPECT_NE(s["error"].get<std::string>().find("lock timeout"), std::string::npos) << s.dump();
  }
  EXPECT_TRUE(Noted(j, "lock_timeout")) << j["notes"].dump();
  EXPECT_TRUE(Noted(j, "public.held is locked")) << j["notes"].dump();
  ASSERT_FALSE(j["recommendations"].empty()) << r.out;
  EXPECT_EQ(j["recommendations"][0]["object"].get<std::string>(), "public.free");
}

// The catalog snapshot itself: no wait, the locked table flagged with sizes
// from pg_class, nothing deparsed; the free table read as usual.
TEST_F(Locks, CatalogReadsLockedTableFromPgClass) {
  SessionOptions so;
  so.conninfo = *uri_;
  std::unique_ptr<Session> s;
  ASSERT_TRUE(Session::Connect(so, &s).ok());
  Catalog cat;
  Status st = Catalog::Load(*s, {}, &cat);
  ASSERT_TRUE(st.ok()) << st.message();
  const TableInfo* held = cat.FindTable("public", "held");
  const TableInfo* free = cat.FindTable("public", "free");
  ASSERT_TRUE(held && free);
  EXPECT_TRUE(held->locked);
  EXPECT_FALSE(free->locked);
  EXPECT_EQ(held->heap_bytes, held->relpages * 8192);
  EXPECT_GT(held->heap_bytes, 0);
  EXPECT_GT(held->index_bytes, 0);
  EXPECT_GE(held->total_bytes, held->heap_bytes + held->index_bytes);
  ASSERT_EQ(held->indexes.size(), 3u);
  for (const auto& ix : held->indexes) {
    EXPECT_TRUE(ix.definition.empty()) << ix.name;
    EXPECT_GT(ix.size_bytes, 0) << ix.name;
    if (ix.name == "held_partial") {
      EXPECT_EQ(ix.predicate, kUnreadPredicate);
      ASSERT_EQ(ix.keys.size(), 1u);
      EXPECT_EQ(ix.keys[0].expression, "b");  // a plain column is still known
    }
    if (ix.name == "held_expr") {
      EXPECT_TRUE(ix.HasExpression());
    }
  }
  for (const auto& c : held->constraints) EXPECT_TRUE(c.definition.empty()) << c.name;
  // The free table is read in full.
  ASSERT_FALSE(free->indexes.empty());
  EXPECT_FALSE(free->indexes[0].definition.empty());
  ASSERT_EQ(cat.notes().size(), 1u);
  EXPECT_NE(cat.notes()[0].find("public.held is locked ACCESS EXCLUSIVE"), std::string::npos);
}

}  // namespace
}  // namespace pgvise::testing
