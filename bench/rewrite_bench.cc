// Benchmark of `pgvise rewrite`: each shape's original and the SQL the
// rewriter produces, side by side in one run, under EXPLAIN ANALYZE, with and
// without an index on the correlation column. Data: bench/rewrite_data.sql
// (100k users, 1M orders, TPC-H-like part/supplier/partsupp/lineitem with 1M
// lineitems) on a throwaway cluster (tests/support/pg_test.h).
//
//   build-x/rewrite_bench [--timeout-s 60] [--shape NAME[|NAME...]]
//
// An original that exceeds the timeout is reported as "> N s (timed out)".
// Results of original and rewrite are compared as multisets wherever the
// original finishes. Prints a markdown table (see bench/rewrite.md).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bench/proposed_rewrites.h"
#include "rewriter/dml.h"
#include "rewriter/pg_catalog.h"
#include "rewriter/rewriter.h"
#include "rewriter/verify.h"
#include "tests/support/pg_test.h"

namespace pgvise {
namespace {

struct Shape {
  const char* name;
  const char* sql;
};

const Shape kShapes[] = {
    {"seed: count(*) > 10 in WHERE",
     "SELECT u.id, u.name FROM users u WHERE (SELECT count(*) FROM orders o WHERE o.user_id = "
     "u.id) > 10"},
    {"select-list max()",
     "SELECT u.id, (SELECT max(o.total) FROM orders o WHERE o.user_id = u.id) AS max_total FROM "
     "users u"},
    {"count = 0 (COUNT bug form)",
     "SELECT u.id FROM users u WHERE (SELECT count(*) FROM orders o WHERE o.user_id = u.id) = 0"},
    {"Q17-like: below 20% of per-part avg",
     "SELECT sum(l.l_extendedprice) / 7.0 AS avg_yearly FROM lineitem l, part p WHERE p.p_partkey "
     "= l.l_partkey AND "
     "p.p_brand = 'Brand#23' AND p.p_container = 'MED BOX' AND l.l_quantity < (SELECT 0.2 * "
     "avg(l2.l_quantity) FROM "
     "lineitem l2 WHERE l2.l_partkey = p.p_partkey)"},
    {"Q20-like: nested IN + correlated sum",
     "SELECT s.s_name FROM supplier s WHERE s.s_suppkey IN (SELECT ps.ps_suppkey FROM partsupp ps "
     "WHERE "
     "ps.ps_partkey IN (SELECT p.p_partkey FROM part p WHERE p.p_name LIKE 'forest%') AND "
     "ps.ps_availqty > (SELECT "
     "0.5 * sum(l.l_quantity) FROM lineitem l WHERE l.l_partkey = ps.ps_partkey AND l.l_suppkey = "
     "ps.ps_suppkey AND "
     "l.l_shipdate >= date '1994-01-01' AND l.l_shipdate < date '1995-01-01')) ORDER BY s.s_name"},
    // limit-one-to-lateral: the latest order per user (orders.id unique,
    // so the picked row is decided); LATERAL or DISTINCT ON by the costs.
    {"latest row per key (ORDER BY ... LIMIT 1)",
     "SELECT u.id, (SELECT o.total FROM orders o WHERE o.user_id = u.id ORDER BY o.id DESC LIMIT "
     "1) AS last_total FROM users u"},
    {"latest row, two columns of it",
     "SELECT u.id, (SELECT o.total FROM orders o WHERE o.user_id = u.id ORDER BY o.id DESC LIMIT "
     "1) AS t, (SELECT o.status FROM orders o WHERE o.user_id = u.id ORDER BY o.id DESC LIMIT 1) "
     "AS s FROM users u"},
    // unique-lookup-to-left-join: users.id is the primary key (indexed in
    // both modes; the index toggled is on orders.user_id). orders.user_id
    // has 1% NULLs and keys up to 120000 (dangling past 100000).
    {"unique lookup in select list",
     "SELECT o.id, (SELECT u.name FROM users u WHERE u.id = o.user_id) AS name FROM orders o"},
    // join-aggregate-non-equality: users.id is the primary key to group by.
    {"non-equality: count = 0",
     "SELECT u.id FROM users u WHERE (SELECT count(*) FROM orders o WHERE o.user_id = u.id AND "
     "o.total > u.score * 4) = 0"},
    {"non-equality: sum > x",
     "SELECT u.id, u.name FROM users u WHERE (SELECT sum(o.total) FROM orders o WHERE o.user_id "
     "= u.id AND o.total > u.score * 4) > 1500"},
    {"unique lookup in WHERE",
     "SELECT o.id, o.total FROM orders o WHERE (SELECT u.region_id FROM users u WHERE u.id = "
     "o.user_id) = 7"},
    // UPDATE / DELETE (rewriter/dml.cc) and two-level correlation. A DML
    // statement is never run: its timings and rows are those of the SELECT
    // of what it would change (DmlReadOnlyForm), as --verify compares them.
    {"dml: UPDATE SET count (no order: 0)",
     "UPDATE users u SET score = (SELECT count(*) FROM orders o WHERE o.user_id = u.id)"},
    {"dml: DELETE WHERE count = 0",
     "DELETE FROM users u WHERE (SELECT count(*) FROM orders o WHERE o.user_id = u.id) = 0"},
    // topn-lateral-window: the 3 latest orders per user (orders.id made
    // unique by the bench, so the ORDER BY ends with a proven key), as a
    // LATERAL item and as a row_number() derived table, over every user and
    // over 2% of them (region 7). The index toggled is on (user_id,
    // created_at). The cost gate keeps a rewrite only when cheaper; the
    // bench also times the form the gate withheld (see kForced).
    {"top-N: LATERAL, all users",
     "SELECT u.id, t.id, t.total FROM users u LEFT JOIN LATERAL (SELECT o.id, o.total FROM orders "
     "o WHERE o.user_id = u.id ORDER BY o.created_at DESC, o.id LIMIT 3) t ON true"},
    {"top-N: window, all users",
     "SELECT u.id, t.id, t.total FROM users u LEFT JOIN (SELECT o.id, o.user_id, o.total, "
     "row_number() OVER (PARTITION BY o.user_id ORDER BY o.created_at DESC, o.id) AS rn FROM "
     "orders o) t ON t.user_id = u.id AND t.rn <= 3"},
    {"top-N: LATERAL, 2% of users",
     "SELECT u.id, t.id, t.total FROM users u LEFT JOIN LATERAL (SELECT o.id, o.total FROM orders "
     "o WHERE o.user_id = u.id ORDER BY o.created_at DESC, o.id LIMIT 3) t ON true WHERE "
     "u.region_id = 7"},
    {"top-N: window, 2% of users",
     "SELECT u.id, t.id, t.total FROM users u LEFT JOIN (SELECT o.id, o.user_id, o.total, "
     "row_number() OVER (PARTITION BY o.user_id ORDER BY o.created_at DESC, o.id) AS rn FROM "
     "orders o) t ON t.user_id = u.id AND t.rn <= 3 WHERE u.region_id = 7"},
    {"two levels: no order above own average",
     "SELECT u.id FROM users u WHERE (SELECT count(*) FROM orders o WHERE o.user_id = u.id AND "
     "o.total > (SELECT avg(x.total) FROM orders x WHERE x.user_id = u.id)) = 0"},
};

// --shape A|B: shapes whose name contains A or B.
bool Selected(const std::string& name, const std::string& only) {
  if (only.empty()) return true;
  size_t from = 0;
  for (;;) {
    size_t bar = only.find('|', from);
    if (name.find(only.substr(from, bar - from)) != std::string::npos) return true;
    if (bar == std::string::npos) return false;
    from = bar + 1;
  }
}

// The server's catalog without EXPLAIN: RewriteSql's top-N cost gate cannot
// tell, so the rewrite it would withhold is written and can be timed.
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

bool IsTopN(const std::string& name) { return name.rfind("top-N", 0) == 0; }

struct Run {
  bool timed_out = false;
  bool failed = false;
  double ms = 0;
  std::string error;
};

Run ExplainAnalyze(Session& s, const std::string& sql) {
  Run r;
  Rows rows;
  auto t0 = std::chrono::steady_clock::now();
  Status st = s.Query("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, &rows);
  double wall =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (!st.ok()) {
    r.timed_out = s.last_sqlstate() == "57014";
    r.failed = !r.timed_out;
    r.error = st.message();
    r.ms = wall;
    return r;
  }
  auto j = nlohmann::json::parse(rows.Text(0, 0), nullptr, false);
  r.ms =
      (!j.is_discarded() && j.is_array() && !j.empty()) ? j[0].value("Execution Time", wall) : wall;
  return r;
}

std::string Ms(const Run& r, int timeout_s) {
  char buf[64];
  if (r.timed_out) {
    std::snprintf(buf, sizeof buf, "> %d s (timed out)", timeout_s);
  } else if (r.failed) {
    return "failed: " + r.error;
  } else {
    std::snprintf(buf, sizeof buf, "%.0f ms", r.ms);
  }
  return buf;
}

using bench::Proposed;

int Main(int argc, char** argv) {
  int timeout_s = 60;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--timeout-s") && i + 1 < argc)
      timeout_s = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--shape") && i + 1 < argc)
      only = argv[++i];
  }
  std::string uri = testing::FreshDatabase("rewrite_bench");
  auto t0 = std::chrono::steady_clock::now();
  std::ifstream f(testing::SourceDir() + "/bench/rewrite_data.sql");
  std::stringstream data;
  data << f.rdbuf();
  testing::Exec(uri, data.str());
  std::cerr << "loaded data in "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()
            << " s\n";
  auto admin = testing::AdminSession(uri);
  SessionOptions so;
  so.conninfo = uri;
  so.statement_timeout_ms = timeout_s * 1000;
  std::unique_ptr<Session> session;
  if (!Session::Connect(so, &session).ok()) {
    std::cerr << "cannot connect\n";
    return 3;
  }
  SessionCatalog catalog(session.get());
  NoCostCatalog forced_catalog(&catalog);
  RewriteOptions ro;
  ro.catalog = &catalog;
  ro.pretty = false;
  RewriteOptions forced = ro;
  forced.catalog = &forced_catalog;
  bool topn = false;
  for (const auto& shape : kShapes) topn |= IsTopN(shape.name) && Selected(shape.name, only);
  // The top-N shapes' ORDER BY ends with orders.id, which needs a unique
  // index to prove the order total (rewrite_data.sql has none).
  if (topn)
    testing::Exec(uri, "CREATE UNIQUE INDEX IF NOT EXISTS orders_id ON orders (id); ANALYZE");

  std::cout << "| shape | index on correlation column | original | rewritten | speed-up | est. "
               "cost before -> after "
               "| SubPlans | results | proposed | --db alone |\n"
               "|---|---|---|---|---|---|---|---|---|---|\n";
  Proposed db_alone_gate, verify_gate;
  for (bool indexed : {true, false}) {
    if (indexed) {
      testing::Exec(uri,
                    std::string(topn ? "CREATE INDEX IF NOT EXISTS orders_user_created ON orders "
                                       "(user_id, created_at);"
                                     : "") +
                        "CREATE INDEX IF NOT EXISTS orders_user_id ON orders (user_id);"
                        "CREATE INDEX IF NOT EXISTS lineitem_partkey ON lineitem (l_partkey, "
                        "l_suppkey); ANALYZE");
    } else {
      testing::Exec(
          uri,
          "DROP INDEX IF EXISTS orders_user_id; DROP INDEX IF EXISTS lineitem_partkey; DROP INDEX "
          "IF EXISTS orders_user_created; ANALYZE");
    }
    for (const auto& shape : kShapes) {
      if (!Selected(shape.name, only)) continue;
      RewriteResult rr;
      Status st = RewriteSql(shape.sql, ro, &rr);
      // Top-N: the gate may withhold the rewrite (not cheaper by estimate);
      // time the withheld form anyway, to show what the gate avoided.
      std::string gate;
      if (st.ok() && IsTopN(shape.name)) {
        for (const auto& o : rr.outcomes)
          if (o.pass == "topn-lateral-window") gate = o.reason.substr(0, o.reason.find(';'));
        if (!rr.changed) {
          gate = "withheld by --db: " + gate;
          st = RewriteSql(shape.sql, forced, &rr);
        }
      }
      if (!st.ok() || !rr.changed) {
        std::cout << "| " << shape.name << " | " << (indexed ? "yes" : "no")
                  << " | not rewritten | | | | | | | |\n";
        for (const auto& o : rr.outcomes) std::cerr << "  " << o.pass << ": " << o.reason << "\n";
        continue;
      }
      VerifyResult v;
      VerifyOptions vo;
      vo.execute = false;  // costs and SubPlans only; timing below, results after
      VerifyRewrite(*session, shape.sql, rr.sql, vo, &v);
      // UPDATE / DELETE: EXPLAIN ANALYZE would write; time what they read.
      auto read_only = [](const std::string& sql) {
        std::string ro = DmlReadOnlyForm(sql);
        return ro.empty() ? sql : ro;
      };
      Run before = ExplainAnalyze(*session, read_only(shape.sql));
      Run after = ExplainAnalyze(*session, read_only(rr.sql));
      std::string results = "not compared (a form timed out)";
      // What `rewrite --verify` decides: results compared, then timed runs
      // (warm-up + interleaved, medians, noise margin). An original past
      // the timeout is not run again: decided on the estimate, as --verify
      // does for an original that times out.
      std::string proposed = v.cost_after < v.cost_before ? "yes (estimate; original timed out)"
                                                          : "no (not cheaper by estimate)";
      bool verify_proposes = v.cost_after < v.cost_before;
      bool slower = after.timed_out;
      VerifyResult full;
      if (!before.timed_out && !before.failed && !after.failed && !after.timed_out) {
        VerifyRewrite(*session, shape.sql, rr.sql, VerifyOptions{}, &full);
        verify_proposes = full.proposed;
        slower = full.speed.verdict == SpeedVerdict::kSlower;
        results = full.executed ? (full.results_equal
                                       ? "identical (" + std::to_string(full.rows_before) + " rows)"
                                       : "DIFFER")
                                : "not compared";
        proposed = std::string(full.proposed ? "yes" : "no") + " (" + full.decided_by + ": " +
                   SpeedVerdictName(full.speed.verdict) + ")";
      }
      const bool withheld = gate.rfind("withheld", 0) == 0;
      if (withheld) proposed = "no (" + gate + "); --verify: " + proposed;
      // `--db` alone: the estimate gate (v, EXPLAIN only), which holds back
      // a rewrite where the estimate is known to mislead.
      const std::string db_alone =
          withheld     ? "no (not cheaper by estimate)"
          : v.proposed ? "yes"
                       : "no (" +
                             (MisleadingEstimate(v).empty() ? std::string("not cheaper by estimate")
                                                            : "estimate known to mislead") +
                             ")";
      char speed[64] = "";
      double ratio = 0;
      if (!after.failed && !after.timed_out && after.ms > 0) {
        ratio = before.ms / after.ms;
        std::snprintf(speed, sizeof speed, before.timed_out ? "> %.0fx" : "%.1fx", ratio);
      }
      if (!withheld && v.proposed) db_alone_gate.Add(ratio, slower);
      if (!withheld && verify_proposes) verify_gate.Add(ratio, slower);
      char cost[96];
      std::snprintf(cost, sizeof cost, "%.0f -> %.0f", v.cost_before, v.cost_after);
      std::cout << "| " << shape.name << " | " << (indexed ? "yes" : "no") << " | "
                << Ms(before, timeout_s) << " | " << Ms(after, timeout_s) << " | " << speed << " | "
                << cost << " | " << v.subplans_before << " -> " << v.subplans_after << " | "
                << results << " | " << proposed << " | " << db_alone << " |\n";
      std::cout.flush();
    }
  }
  std::cout << "\n";
  db_alone_gate.Print("--db alone", timeout_s);
  verify_gate.Print("--verify", timeout_s);
  std::cout << "\nRewritten SQL (one line each):\n\n";
  for (const auto& shape : kShapes) {
    RewriteResult rr;
    if (RewriteSql(shape.sql, ro, &rr).ok() && rr.changed)
      std::cout << "- " << shape.name << ": `" << rr.sql << "`\n";
  }
  return 0;
}

}  // namespace
}  // namespace pgvise

int main(int argc, char** argv) { return pgvise::Main(argc, argv); }
