// Differential tests of topn-lateral-window (rewriter/pass_topn.cc) on a real
// server: top-N per group over data with NULL partition keys, NULL and tied
// ORDER BY values, empty groups, duplicate and NULL outer keys and dangling
// inner keys. Every rewrite is made in both directions with the cost gate
// out of the way (a catalog that cannot EXPLAIN: the pass then applies
// unchecked) and must return the original's multiset; the naive wrong
// rewrites are written down and shown to return other rows on this data.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>

#include "rewriter/pg_catalog.h"
#include "rewriter/rewriter.h"
#include "rewriter/verify.h"
#include "tests/support/pg_test.h"

namespace pgvise {
namespace {

constexpr const char* kSchema = R"SQL(
-- Outer rows: ids 1..39 (1..4 and 35..39 have no inner rows), duplicates, NULLs.
CREATE TABLE tn_g (id int, name text);
INSERT INTO tn_g SELECT CASE WHEN g % 10 = 0 THEN NULL ELSE g % 40 END, 'g' || g
  FROM generate_series(1, 60) g;
-- Inner rows: k 5..34 with NULLs and a dangling 99; o1 has 3 values, NULLs, many ties.
CREATE TABLE tn_i (id int PRIMARY KEY, k int, o1 int, o2 int NOT NULL, v text);
INSERT INTO tn_i SELECT g, CASE WHEN g % 17 = 0 THEN NULL WHEN g % 23 = 0 THEN 99 ELSE g % 30 + 5 END,
  CASE WHEN g % 7 = 0 THEN NULL ELSE g % 3 END, g % 5, 'v' || (g % 4) FROM generate_series(1, 500) g;
ANALYZE;
)SQL";

// The server's catalog without EXPLAIN: RewriteSql's cost gate cannot tell,
// so the pass's rewrite stands and its result can be compared.
class NoCostCatalog : public RewriteCatalog {
 public:
  explicit NoCostCatalog(const RewriteCatalog* c) : c_(c) {}
  const Table* FindTable(const std::string& s, const std::string& n) const override {
    return c_->FindTable(s, n);
  }
  Function FindFunction(const std::string& n) const override { return c_->FindFunction(n); }

 private:
  const RewriteCatalog* c_;
};

using Multiset = std::vector<std::vector<std::optional<std::string>>>;

class TopNPgTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    uri_ = new std::string(testing::FreshDatabase("rewriter_topn_pg"));
    testing::Exec(*uri_, kSchema);
  }
  static void TearDownTestSuite() { delete uri_; }
  void SetUp() override {
    SessionOptions so;
    so.conninfo = *uri_;
    so.statement_timeout_ms = 60000;
    ASSERT_TRUE(Session::Connect(so, &session_).ok());
    catalog_ = std::make_unique<SessionCatalog>(session_.get());
    nocost_ = std::make_unique<NoCostCatalog>(catalog_.get());
  }
  Multiset Run(const std::string& sql) {
    Rows rows;
    Status st = session_->Query(sql, &rows);
    EXPECT_TRUE(st.ok()) << st.message() << "\n" << sql;
    Multiset m = rows.rows_;
    std::sort(m.begin(), m.end());
    return m;
  }
  const PassOutcome* Outcome(const RewriteResult& r) {
    for (const auto& oc : r.outcomes)
      if (oc.pass == "topn-lateral-window") return &oc;
    return nullptr;
  }
  static std::string* uri_;
  std::unique_ptr<Session> session_;
  std::unique_ptr<SessionCatalog> catalog_;
  std::unique_ptr<NoCostCatalog> nocost_;
};
std::string* TopNPgTest::uri_ = nullptr;

struct TopNCase {
  const char* name;
  bool applied;
  const char* sql;
  const char* why = "";  // part of the refusal reason
};

const std::vector<TopNCase>& Cases() {
  static const std::vector<TopNCase> k = {
      // LATERAL -> window.
      {"left_lateral_desc_nulls_first", true,
       "SELECT g.id, g.name, t.id AS iid, t.v FROM tn_g g LEFT JOIN LATERAL (SELECT i.id, i.v FROM "
       "tn_i i WHERE i.k = g.id AND i.v <> 'v1' ORDER BY i.o1 DESC, i.id LIMIT 2) t ON true"},
      {"cross_lateral_nulls_first", true,
       "SELECT g.id, t.id FROM tn_g g CROSS JOIN LATERAL (SELECT i.id FROM tn_i i WHERE i.k = g.id "
       "ORDER BY i.o1 NULLS FIRST, i.id DESC LIMIT 3) t"},
      {"comma_lateral", true,
       "SELECT g.id, t.id, t.o1 FROM tn_g g, LATERAL (SELECT i.id, i.o1 FROM tn_i i WHERE g.id = "
       "i.k ORDER BY i.o2, i.o1 DESC NULLS LAST, i.id LIMIT 1) t WHERE g.name <> 'g3'"},
      {"ties_indistinguishable", true,
       "SELECT g.id, t.o1, t.o2 FROM tn_g g LEFT JOIN LATERAL (SELECT i.o1, i.o2 FROM tn_i i "
       "WHERE i.k = g.id ORDER BY i.o1, i.o2 LIMIT 4) t ON true"},
      {"limit_zero", true,
       "SELECT g.id, t.id FROM tn_g g LEFT JOIN LATERAL (SELECT i.id FROM tn_i i WHERE i.k = g.id "
       "ORDER BY i.id LIMIT 0) t ON true"},
      {"lateral_ties", false,
       "SELECT g.id, t.id FROM tn_g g LEFT JOIN LATERAL (SELECT i.id FROM tn_i i WHERE i.k = g.id "
       "ORDER BY i.o1 LIMIT 2) t ON true",
       "ties in ORDER BY"},
      {"lateral_offset", false,
       "SELECT g.id, t.id FROM tn_g g LEFT JOIN LATERAL (SELECT i.id FROM tn_i i WHERE i.k = g.id "
       "ORDER BY i.id LIMIT 2 OFFSET 1) t ON true",
       "OFFSET"},
      {"lateral_two_correlations", false,
       "SELECT g.id, t.id FROM tn_g g LEFT JOIN LATERAL (SELECT i.id FROM tn_i i WHERE i.k = g.id "
       "AND i.o2 = g.id ORDER BY i.id LIMIT 2) t ON true",
       "more than one correlation"},
      {"lateral_non_equality", false,
       "SELECT g.id, t.id FROM tn_g g LEFT JOIN LATERAL (SELECT i.id FROM tn_i i WHERE i.k = g.id "
       "AND i.o2 > g.id ORDER BY i.id LIMIT 2) t ON true",
       "outer reference"},
      {"lateral_star", false,
       "SELECT * FROM tn_g g LEFT JOIN LATERAL (SELECT i.id FROM tn_i i WHERE i.k = g.id ORDER BY "
       "i.id LIMIT 2) t ON true",
       "`*`"},
      // window -> LATERAL.
      {"left_window", true,
       "SELECT g.id, t.id, t.v FROM tn_g g LEFT JOIN (SELECT i.id, i.k, i.v, row_number() OVER "
       "(PARTITION BY i.k ORDER BY i.o1 DESC, i.id) AS rn FROM tn_i i WHERE i.v <> 'v1') t ON "
       "t.k = g.id AND t.rn <= 2"},
      {"inner_window_lt", true,
       "SELECT g.id, t.id FROM tn_g g JOIN (SELECT i.id, i.k, row_number() OVER (PARTITION BY i.k "
       "ORDER BY i.o1 NULLS FIRST, i.id) AS rn FROM tn_i i) t ON g.id = t.k AND 3 > t.rn"},
      {"window_rn_in_where", false,
       "SELECT g.id, t.id FROM tn_g g LEFT JOIN (SELECT i.id, i.k, row_number() OVER (PARTITION BY "
       "i.k ORDER BY i.id) AS rn FROM tn_i i) t ON t.k = g.id WHERE t.rn <= 2",
       "join condition lacks"},
      {"window_rn_selected", false,
       "SELECT g.id, t.id, t.rn FROM tn_g g LEFT JOIN (SELECT i.id, i.k, row_number() OVER "
       "(PARTITION BY i.k ORDER BY i.id) AS rn FROM tn_i i) t ON t.k = g.id AND t.rn <= 2",
       "outside the join condition"},
      {"window_ties", false,
       "SELECT g.id, t.id FROM tn_g g LEFT JOIN (SELECT i.id, i.k, row_number() OVER (PARTITION BY "
       "i.k ORDER BY i.o1) AS rn FROM tn_i i) t ON t.k = g.id AND t.rn <= 2",
       "ties in ORDER BY"},
  };
  return k;
}

TEST_F(TopNPgTest, BothDirectionsKeepTheMultisetAndRefusalsSayWhy) {
  RewriteOptions o;
  o.catalog = nocost_.get();
  int applied = 0;
  for (const auto& c : Cases()) {
    SCOPED_TRACE(c.name);
    RewriteResult r;
    ASSERT_TRUE(RewriteSql(c.sql, o, &r).ok());
    const PassOutcome* oc = Outcome(r);
    ASSERT_NE(oc, nullptr) << r.sql;
    EXPECT_EQ(oc->applied, c.applied) << oc->reason;
    EXPECT_EQ(r.changed, c.applied) << r.sql;
    if (!c.applied) {
      EXPECT_NE(oc->reason.find(c.why), std::string::npos) << oc->reason;
      continue;
    }
    ++applied;
    // The safety argument is in the output.
    EXPECT_NE(oc->reason.find("matches nothing in either form"), std::string::npos);
    const bool to_window = std::string(c.sql).find("LATERAL") != std::string::npos;
    EXPECT_EQ(r.sql.find("LATERAL") == std::string::npos, to_window) << r.sql;
    EXPECT_EQ(r.sql.find("row_number") != std::string::npos, to_window) << r.sql;
    const Multiset before = Run(c.sql);
    EXPECT_TRUE(before == Run(r.sql)) << "results differ for\n" << r.sql;
    // And back again: the reverse direction returns the same rows too.
    RewriteResult back;
    ASSERT_TRUE(RewriteSql(r.sql, o, &back).ok());
    if (back.changed) {
      EXPECT_TRUE(before == Run(back.sql)) << "round trip differs:\n" << back.sql;
    }
  }
  EXPECT_EQ(applied, 7);
}

TEST_F(TopNPgTest, CostGateKeepsOnlyTheCheaperFormAndNamesBothCosts) {
  RewriteOptions o;
  o.catalog = catalog_.get();
  int withheld = 0;  // LATERAL -> window rewrites the statement check holds back
  for (const auto& c : Cases()) {
    if (!c.applied) continue;
    SCOPED_TRACE(c.name);
    RewriteResult r;
    ASSERT_TRUE(RewriteSql(c.sql, o, &r).ok());
    const PassOutcome* oc = Outcome(r);
    ASSERT_NE(oc, nullptr);
    const double before = catalog_->EstimateCost(c.sql);
    const double after = catalog_->EstimateCost(r.sql);
    if (oc->applied) {
      EXPECT_LT(after, before) << r.sql;
      EXPECT_NE(oc->reason.find("cheaper by estimate: cost"), std::string::npos);
      // LATERAL -> window on the estimate: the output says the estimate
      // overstates the LATERAL probes, and the statement's check withholds
      // the rewrite with --db alone exactly where the original probes an
      // index per outer row that the rewrite drops.
      if (std::string(c.sql).find("LATERAL") != std::string::npos) {
        EXPECT_NE(oc->reason.find("may mislead"), std::string::npos) << oc->reason;
        EXPECT_NE(oc->reason.find("where an index serves the probe, --db alone does not "
                                  "propose it (run with --verify to measure)"),
                  std::string::npos)
            << oc->reason;
        VerifyOptions vo;
        vo.execute = false;
        VerifyResult v;
        ASSERT_TRUE(VerifyRewrite(*session_, c.sql, r.sql, vo, &v).ok());
        EXPECT_EQ(v.lateral_index_probes_after, 0) << r.sql;
        EXPECT_EQ(v.proposed, v.lateral_index_probes_before == 0) << v.note;
        withheld += !v.proposed;
        if (!v.proposed) {
          EXPECT_NE(v.note.find("run with --verify to measure"), std::string::npos) << v.note;
        }
      }
      // The output, rewritten again, is not turned back (the reverse is dearer).
      RewriteResult again;
      ASSERT_TRUE(RewriteSql(r.sql, o, &again).ok());
      EXPECT_FALSE(again.changed) << again.sql;
    } else {
      EXPECT_FALSE(r.changed);
      EXPECT_NE(oc->reason.find("not cheaper by estimate (cost"), std::string::npos) << oc->reason;
    }
    EXPECT_TRUE(Run(c.sql) == Run(r.sql));
  }
  // On this data the LATERAL probes walk tn_i's primary key index: at
  // least one LATERAL -> window rewrite is cheaper by estimate and held.
  EXPECT_GT(withheld, 0);
}

TEST_F(TopNPgTest, WithoutTheCatalogItRefusesAndSaysWhy) {
  RewriteOptions o;
  RewriteResult r;
  ASSERT_TRUE(RewriteSql(Cases()[0].sql, o, &r).ok());
  EXPECT_FALSE(r.changed);
  ASSERT_NE(Outcome(r), nullptr);
  EXPECT_NE(Outcome(r)->reason.find("needs --db"), std::string::npos);
}

// The naive rewrites return other rows on this data.
TEST_F(TopNPgTest, NaiveRewritesWouldBeWrongOnThisData) {
  const std::string orig =
      "SELECT g.id, t.id FROM tn_g g LEFT JOIN LATERAL (SELECT i.id FROM tn_i i WHERE i.k = g.id "
      "ORDER BY i.o1 DESC, i.id LIMIT 2) t ON true";
  const std::string window =
      "SELECT g.id, t.id FROM tn_g g LEFT JOIN (SELECT i.id, i.k, row_number() OVER (PARTITION BY "
      "i.k ORDER BY i.o1 DESC, i.id) AS rn FROM tn_i i) t ON t.k = g.id";
  EXPECT_TRUE(Run(orig) == Run(window + " AND t.rn <= 2"));  // the correct form, for contrast
  // The rn condition in WHERE for the LEFT form drops the outer rows
  // without inner rows (NULL ids, ids 1..4 and 35..39).
  EXPECT_LT(Run(window + " WHERE t.rn <= 2").size(), Run(orig).size());
  // Without the tie-break, row_number picks other rows among tied o1.
  EXPECT_NE(Run(orig), Run("SELECT g.id, t.id FROM tn_g g LEFT JOIN (SELECT i.id, i.k, "
                           "row_number() OVER (PARTITION BY i.k ORDER BY i.o1 DESC) AS rn FROM "
                           "tn_i i) t ON t.k = g.id AND t.rn <= 2"));
  // NULLS LAST where DESC puts NULLs first picks other rows.
  EXPECT_NE(Run(orig), Run(window.substr(0, window.find("DESC")) +
                           "DESC NULLS LAST, i.id) AS rn FROM tn_i i) t ON t.k = g.id AND "
                           "t.rn <= 2"));
  // rank() instead of row_number() keeps every tied row.
  EXPECT_GT(Run("SELECT g.id, t.id FROM tn_g g LEFT JOIN (SELECT i.id, i.k, rank() OVER "
                "(PARTITION BY i.k ORDER BY i.o1 DESC) AS rn FROM tn_i i) t ON t.k = g.id AND "
                "t.rn <= 2")
                .size(),
            Run(orig).size());
}

}  // namespace
}  // namespace pgvise
