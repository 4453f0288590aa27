// Workload pattern handlers without a server: counters as pg_stat_statements
// would hold them, the shipped rules/workload YAML, FindPatterns. The live
// behaviour (real calls, real counters) is in patterns_pg_test.cc.
#include "advisor/patterns.h"

#include <gtest/gtest.h>

#include "advisor/patterns_internal.h"
#include "tests/support/pg_test.h"

namespace pgvise {
namespace {

RuleBook Shipped() {
  RuleBook book;
  Status st = RuleBook::LoadDir(testing::SourceDir() + "/rules", &book);
  EXPECT_TRUE(st.ok()) << st.message();
  return book;
}

StatementCounters Counters(const std::string& sql, double calls, double rows, double mean_ms) {
  StatementCounters c;
  c.query = sql;
  c.calls = calls;
  c.rows = rows;
  c.mean_exec_ms = mean_ms;
  c.total_exec_ms = mean_ms * calls;
  return c;
}

PatternInput Input(const Catalog& cat, const std::vector<StatementCounters>& counters,
                   double window_s) {
  PatternInput in;
  in.catalog = &cat;
  in.statements = PatternStatements(counters, cat);
  in.window.known = true;
  in.window.seconds = window_s;
  in.window_source = "test";
  return in;
}

TEST(Patterns, EveryWorkloadRuleHasAHandlerAndEveryHandlerARule) {
  const RuleBook book = Shipped();
  Status st = book.CheckHandlers({"workload"}, PatternRuleIds());
  EXPECT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(book.InArea("workload").size(), PatternRuleIds().size());
  for (const Rule* r : book.InArea("workload")) {
    EXPECT_FALSE(r->summary.empty()) << r->id;
    EXPECT_FALSE(r->fix.empty()) << r->id;
  }
}

TEST(Patterns, NPlusOneNeedsASiblingItOutnumbers) {
  const RuleBook book = Shipped();
  Catalog cat;
  const std::vector<StatementCounters> loop = {
      Counters("SELECT name FROM customers WHERE id = $1", 50000, 50000, 0.01),
      Counters("SELECT id, name FROM customers ORDER BY id LIMIT $1", 1000, 50000, 0.2),
  };
  std::vector<Finding> out;
  std::vector<std::string> notes;
  FindPatterns(Input(cat, loop, 7200), book, &out, &notes);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].rule, "n-plus-one");
  EXPECT_TRUE(notes.empty());
  // The same lookup with no other statement on its table: not a loop.
  out.clear();
  FindPatterns(Input(cat, {loop[0]}, 7200), book, &out, &notes);
  EXPECT_TRUE(out.empty());
  // Two rows per call are not "about one".
  out.clear();
  auto two = loop;
  two[0].rows = 100000;
  FindPatterns(Input(cat, two, 7200), book, &out, &notes);
  EXPECT_TRUE(out.empty());
}

TEST(Patterns, ShortWindowIsOneNote) {
  const RuleBook book = Shipped();
  Catalog cat;
  const std::vector<StatementCounters> c = {
      Counters("INSERT INTO events (kind) VALUES ($1)", 100000, 100000, 0.02),
      Counters("SELECT name FROM customers WHERE id = $1", 50000, 50000, 0.01),
      Counters("SELECT id, name FROM customers ORDER BY id LIMIT $1", 1000, 50000, 0.2),
  };
  std::vector<Finding> out;
  std::vector<std::string> notes;
  FindPatterns(Input(cat, c, 600), book, &out, &notes);  // 10 minutes
  EXPECT_TRUE(out.empty());
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("cover 10 min"), std::string::npos) << notes[0];
  EXPECT_NE(notes[0].find("single-row-insert"), std::string::npos) << notes[0];
  // Two hours: the same counters are judged.
  notes.clear();
  FindPatterns(Input(cat, c, 7200), book, &out, &notes);
  EXPECT_TRUE(notes.empty());
  ASSERT_EQ(out.size(), 2u);
}

TEST(Patterns, GenericPlanTrapComparesGenericWithCustomCosts) {
  const RuleBook book = Shipped();
  Catalog cat;
  AdviseReport rep;
  StatementOutcome st;
  st.sql = "SELECT id FROM tickets WHERE status = $1";
  st.source = "pg_stat_statements";
  st.calls = 1000;
  st.costed = st.custom_plans = true;
  st.generic_cost_before = 4000;
  auto set = [](const char* label, double weight, double cost) {
    ValueSetOutcome v;
    v.label = label;
    v.weight = weight;
    v.cost_before = v.cost_after = cost;
    return v;
  };
  st.value_sets = {set("status = 'done' (98.0%)", 0.98, 4100),
                   set("status = 'stuck' (2.0%)", 0.02, 40)};
  rep.statements.push_back(st);
  PatternInput in;
  in.catalog = &cat;
  in.advice = &rep;
  in.shapes[0].generic = "Seq Scan on tickets";
  in.shapes[0].custom = {"Seq Scan on tickets", "Index Scan using tickets_status on tickets"};
  std::vector<Finding> out;
  std::vector<std::string> notes;
  FindPatterns(in, book, &out, &notes);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].rule, "generic-plan-trap");
  EXPECT_NE(out[0].message.find("status = 'stuck'"), std::string::npos) << out[0].message;
  EXPECT_NE(out[0].message.find("Index Scan using tickets_status"), std::string::npos);
  // The same plan costed at another selectivity is not another plan.
  in.shapes[0].custom[1] = "Seq Scan on tickets";
  out.clear();
  FindPatterns(in, book, &out, &notes);
  EXPECT_TRUE(out.empty());
  in.shapes[0].custom[1] = "Index Scan using tickets_status on tickets";
  // A generic plan dearer than every custom plan is never kept.
  rep.statements[0].generic_cost_before = 9000;
  out.clear();
  FindPatterns(in, book, &out, &notes);
  EXPECT_TRUE(out.empty());
  // Values whose plans cost about the same: nothing to fall into.
  rep.statements[0].generic_cost_before = 4000;
  rep.statements[0].value_sets[1].cost_before = 3900;
  out.clear();
  FindPatterns(in, book, &out, &notes);
  EXPECT_TRUE(out.empty());
}

TEST(Patterns, GenericPlanTrapJudgesTheCommonValueOnItsForcedCost) {
  // Most calls carry rare customers (Index Scan, cost ~12, the generic plan's
  // shape); customer 0 is half the rows, its own plan a Seq Scan at 7,417.
  const RuleBook book = Shipped();
  Catalog cat;
  AdviseReport rep;
  StatementOutcome st;
  st.sql = "SELECT id, body FROM orders WHERE customer_id = $1";
  st.source = "pg_stat_statements";
  st.calls = 1000;
  st.costed = st.custom_plans = true;
  st.generic_cost_before = 20;
  auto set = [](const char* label, double weight, double cost) {
    ValueSetOutcome v;
    v.label = label;
    v.weight = weight;
    v.cost_before = v.cost_after = cost;
    return v;
  };
  st.value_sets = {set("customer_id = 0 (25.0%)", 0.25, 7417),
                   set("customer_id = 17 (75.0%)", 0.75, 12)};
  rep.statements.push_back(st);
  PatternInput in;
  in.catalog = &cat;
  in.advice = &rep;
  in.shapes[0].generic = "Index Scan using orders_customer on orders";
  in.shapes[0].custom = {"Seq Scan on orders", "Index Scan using orders_customer on orders"};
  in.shapes[0].generic_cost_at = {25925, -1};
  std::vector<Finding> out;
  std::vector<std::string> notes;
  FindPatterns(in, book, &out, &notes);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NE(out[0].message.find("customer_id = 0"), std::string::npos) << out[0].message;
  bool side = false;
  for (const auto& e : out[0].evidence)
    if (const auto* v = std::get_if<std::string>(&e.value))
      side |= e.key == "side" && *v == "common-value";
  EXPECT_TRUE(side);
  // The generic shape costed with customer 0 under min_common_cost_ratio
  // (3) times its own plan: not a trap worth a finding.
  in.shapes[0].generic_cost_at[0] = 2 * 7417;
  out.clear();
  FindPatterns(in, book, &out, &notes);
  EXPECT_TRUE(out.empty());
  // The shape could not be reproduced: nothing is claimed.
  in.shapes[0].generic_cost_at[0] = -1;
  out.clear();
  FindPatterns(in, book, &out, &notes);
  EXPECT_TRUE(out.empty());
  // A generic plan dearer than the calls' mean custom cost is not kept.
  in.shapes[0].generic_cost_at[0] = 25925;
  rep.statements[0].generic_cost_before = 5000;
  EXPECT_TRUE(
      patterns_detail::CommonTrapCandidates(rep.statements[0], *book.Enabled("generic-plan-trap"))
          .empty());
  out.clear();
  FindPatterns(in, book, &out, &notes);
  EXPECT_TRUE(out.empty());
}

TEST(Patterns, SystemCatalogStatementsAreNotTheApplications) {
  Catalog cat;
  const auto s = PatternStatements(
      {Counters("SELECT relname FROM pg_class WHERE oid = $1", 90000, 90000, 0.01)}, cat);
  EXPECT_TRUE(s.empty());
}

}  // namespace
}  // namespace pgvise
