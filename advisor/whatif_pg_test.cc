// Index-usage inference (advisor/whatif_infer.cc) on a real PostgreSQL with
// HypoPG: every answer WhatIf infers without an EXPLAIN equals the answer
// an EXPLAIN of that configuration gives, on a connection that never costed
// anything else.
#include <gtest/gtest.h>

#include <algorithm>

#include "advisor/advisor.h"
#include "advisor/whatif.h"
#include "tests/support/pg_test.h"

namespace pgvise {
namespace {

class WhatIfPg : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    uri_ = new std::string(testing::FreshDatabase("whatif_test"));
    testing::Exec(*uri_, R"sql(
      CREATE TABLE w_orders (id bigint PRIMARY KEY, customer int NOT NULL, status int NOT NULL,
        placed date NOT NULL, total int NOT NULL, pad text);
      INSERT INTO w_orders SELECT g, g % 5000, g % 7, DATE '2024-01-01' + (g * 7919 % 700),
        g % 1000, repeat('o', 40) FROM generate_series(1, 100000) g;
      CREATE TABLE w_lines (order_id bigint NOT NULL, item int NOT NULL, qty int NOT NULL,
        shipped date NOT NULL);
      INSERT INTO w_lines SELECT g % 100000 + 1, g % 3000, g % 50, DATE '2024-01-01' + (g % 730)
        FROM generate_series(1, 300000) g;
    )sql");
    auto admin = testing::AdminSession(*uri_);
    ASSERT_TRUE(admin->Exec("VACUUM ANALYZE").ok());
  }
  static void TearDownTestSuite() { delete uri_; }
  static std::unique_ptr<Session> Connect() {
    SessionOptions o;
    o.conninfo = *uri_;
    std::unique_ptr<Session> s;
    Status st = Session::Connect(o, &s);
    EXPECT_TRUE(st.ok()) << st.message();
    return s;
  }
  static std::string* uri_;
};
std::string* WhatIfPg::uri_ = nullptr;

// CostMany (one pipeline per group, chunks over two extra connections)
// gives every statement exactly the cost WhatIf computes asking one
// statement at a time on a connection of its own: the baseline, each
// candidate alone, and pairs of candidates, with a statement that fails to
// plan in the batch.
TEST_F(WhatIfPg, BatchedAnswersEqualOneByOne) {
  const std::string sql =
      "SELECT id, pad FROM w_orders WHERE customer = 42 AND status = 3;\n"
      "SELECT sum(total) FROM w_orders WHERE placed BETWEEN '2024-03-01' AND '2024-03-05';\n"
      "SELECT o.id, l.qty FROM w_orders o JOIN w_lines l ON l.order_id = o.id WHERE o.customer = "
      "7 AND l.item < 20;\n"
      "SELECT item, count(*) FROM w_lines WHERE shipped > '2025-12-01' AND qty = 3 GROUP BY "
      "item;\n"
      "SELECT id FROM w_orders WHERE status = 2 ORDER BY placed DESC LIMIT 10;\n";
  std::string more;  // a group big enough to be cut into chunks (distinct shapes)
  for (const char* list : {"id", "total", "pad", "placed", "id, total", "id, pad", "count(*)"})
    for (const char* where : {"customer = 5", "customer = 5 AND status = 3"})
      more += std::string("SELECT ") + list + " FROM w_orders WHERE " + where + ";\n";
  auto one = Connect(), many = Connect(), w1 = Connect(), w2 = Connect();
  Catalog cat;
  ASSERT_TRUE(Catalog::Load(*one, {}, &cat).ok());
  Workload w;
  ASSERT_TRUE(AddSqlText("w.sql", sql + more, &w).ok());
  for (auto& st : w.statements) ResolveColumns(cat, &st.facts);
  CandidateSet cs1 = GenerateCandidates(w, cat, {}), cs2 = cs1;
  ASSERT_GE(cs1.candidates.size(), 4u);
  WhatIf a(*one, w, &cs1, cat), b(*many, w, &cs2, cat);
  b.AddWorkers({w1.get(), w2.get()});
  ASSERT_TRUE(a.Init().ok());
  ASSERT_TRUE(b.Init().ok());
  std::vector<std::vector<int>> configs = {{}};
  const int n = static_cast<int>(cs1.candidates.size());
  for (int c = 0; c < n; ++c) configs.push_back({c});
  for (int c = 0; c + 1 < n; c += 2) configs.push_back({c, c + 1});
  std::vector<int> all;
  for (int q = 0; q < static_cast<int>(w.statements.size()); ++q) all.push_back(q);
  int compared = 0;
  for (const auto& config : configs) {
    b.CostMany(all, config);
    const int64_t sent = b.stats().whatif_calls;
    for (int q : all) {
      const PlanCost& x = a.Cost(q, config);
      const PlanCost& y = b.Cost(q, config);  // from the cache CostMany filled
      ASSERT_EQ(x.ok, y.ok) << q << ": " << x.error << " / " << y.error;
      EXPECT_DOUBLE_EQ(x.cost, y.cost) << "statement " << q << " config size " << config.size();
      ++compared;
    }
    EXPECT_EQ(b.stats().whatif_calls, sent) << "Cost asked again after CostMany";
  }
  EXPECT_EQ(a.stats().whatif_calls, b.stats().whatif_calls);  // nothing asked twice or skipped
  EXPECT_GT(compared, 20);
  int64_t by_workers = 0;
  for (size_t i = 1; i < b.stats().by_connection.size(); ++i)
    by_workers += b.stats().by_connection[i].whatif_calls;
  EXPECT_GT(by_workers, 0) << "nothing went to the extra connections";
}

// Each statement under all its relevant candidates, then under every
// configuration of two or more that drops only unused ones: inferred, and
// equal to a fresh EXPLAIN of it.
TEST_F(WhatIfPg, InferredAnswersEqualExplainedOnes) {
  const std::string sql =
      "SELECT id, pad FROM w_orders WHERE customer = 42 AND status = 3;\n"
      "SELECT sum(total) FROM w_orders WHERE placed BETWEEN '2024-03-01' AND '2024-03-05' AND "
      "status = 1;\n"
      "SELECT o.id, l.qty FROM w_orders o JOIN w_lines l ON l.order_id = o.id WHERE o.customer = "
      "7 AND l.item < 20;\n"
      "SELECT item, count(*) FROM w_lines WHERE shipped > '2025-12-01' AND qty = 3 GROUP BY "
      "item;\n";
  auto s = Connect(), fresh = Connect();
  Catalog cat;
  ASSERT_TRUE(Catalog::Load(*s, {}, &cat).ok());
  Workload w;
  ASSERT_TRUE(AddSqlText("w.sql", sql, &w).ok());
  for (auto& st : w.statements) ResolveColumns(cat, &st.facts);
  CandidateSet cs = GenerateCandidates(w, cat, {});
  WhatIf wi(*s, w, &cs, cat);
  ASSERT_TRUE(wi.Init().ok());
  int checked = 0;
  for (int q = 0; q < static_cast<int>(w.statements.size()); ++q) {
    std::vector<int> all = wi.Relevant(q, cs.relevant[static_cast<size_t>(q)]);
    if (all.size() < 3) continue;
    const PlanCost full = wi.Cost(q, all);
    ASSERT_TRUE(full.ok) << full.error;
    // Drop each unused candidate, one at a time, then all of them.
    std::vector<std::vector<int>> subsets;
    std::vector<int> used_only;
    for (int c : all) {
      if (full.candidates.count(c)) {
        used_only.push_back(c);
        continue;
      }
      std::vector<int> without;
      for (int x : all)
        if (x != c) without.push_back(x);
      subsets.push_back(without);
    }
    if (used_only.size() >= 2) subsets.push_back(used_only);
    for (const auto& sub : subsets) {
      const int64_t calls = wi.stats().whatif_calls, inferred = wi.stats().inferred;
      const PlanCost got = wi.Cost(q, sub);
      EXPECT_EQ(wi.stats().whatif_calls, calls) << "statement " << q << ": not inferred";
      EXPECT_EQ(wi.stats().inferred, inferred + 1);
      WhatIf check(*fresh, w, &cs, cat);
      ASSERT_TRUE(check.Init().ok());
      const PlanCost want = check.Cost(q, sub);
      ASSERT_TRUE(want.ok) << want.error;
      EXPECT_EQ(check.stats().inferred, 0);
      EXPECT_DOUBLE_EQ(got.cost, want.cost)
          << "statement " << q << " (" << sub.size() << " candidates)";
      EXPECT_EQ(got.candidates, want.candidates) << "statement " << q;
      ++checked;
    }
  }
  EXPECT_GE(checked, 4) << "too few configurations to infer: the check proves nothing";
}

// A configuration that lacks an index the plan used is EXPLAINed, never
// inferred.
TEST_F(WhatIfPg, NoInferenceWithoutAnIndexThePlanUsed) {
  const std::string sql = "SELECT id, pad FROM w_orders WHERE customer = 42 AND status = 3;\n";
  auto s = Connect();
  Catalog cat;
  ASSERT_TRUE(Catalog::Load(*s, {}, &cat).ok());
  Workload w;
  ASSERT_TRUE(AddSqlText("w.sql", sql, &w).ok());
  for (auto& st : w.statements) ResolveColumns(cat, &st.facts);
  CandidateSet cs = GenerateCandidates(w, cat, {});
  WhatIf wi(*s, w, &cs, cat);
  ASSERT_TRUE(wi.Init().ok());
  std::vector<int> all = wi.Relevant(0, cs.relevant[0]);
  ASSERT_GE(all.size(), 3u);
  const PlanCost full = wi.Cost(0, all);
  ASSERT_TRUE(full.ok);
  ASSERT_FALSE(full.candidates.empty());
  const int used = *full.candidates.begin();
  std::vector<int> without;
  for (int x : all)
    if (x != used) without.push_back(x);
  const int64_t calls = wi.stats().whatif_calls;
  wi.Cost(0, without);
  EXPECT_EQ(wi.stats().whatif_calls, calls + 1);
  EXPECT_EQ(wi.stats().inferred, 0);
}

}  // namespace
}  // namespace pgvise
