// advise_bench: index selection quality and advisor speed on generated data.
//
//   build-*/advise_bench                 # starts a throwaway cluster, loads ~3M rows once per
//   cluster PGVISE_TEST_PG_URI=postgresql://... build-*/advise_bench   # an existing test cluster
//
// Part 1 (quality, one run, one what-if cache): a 30+ statement workload over
// two tables of >= 1M rows. At three storage budgets it prints the relative
// workload cost (with recommendations / without) of
//   Extend (pgvise), (a) one single-column index per predicate column,
//   (b) the best single index per query (dexter-style), (c) the exhaustive
//   optimum over a pool of the candidates any method chose plus the best
//   individual ones,
// and the what-if calls, cache hits and time it took.
// Part 2 (speed): the whole `pgvise advise` pipeline (RunAdvisor) on a
// 200-statement workload, timed, as Google Benchmark `Advise200`.
// Results go in bench/advise.md.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <set>
#include <string>

#include "advisor/advisor.h"
#include "advisor/parameters.h"
#include "advisor/selection.h"
#include "analyzer/sql/write_as_read.h"
#include "tests/support/advise_judge.h"
#include "tests/support/pg_test.h"

namespace pgvise {
namespace {

const char* kDb = "advise_bench";

// bench_orders 2M rows, bench_events 1M rows, bench_customers 200k rows.
const char* kSchema = R"sql(
  CREATE TABLE bench_customers (id bigint PRIMARY KEY, email text NOT NULL, region text NOT NULL,
    tier int NOT NULL, created_at timestamptz NOT NULL, deleted_at timestamptz);
  INSERT INTO bench_customers SELECT g, 'c' || g || '@example.com', (ARRAY['eu','us','apac','latam'])[1 + g % 4],
    g % 5, '2020-01-01'::timestamptz + g * interval '7 minutes', CASE WHEN g % 25 = 0 THEN now() END
    FROM generate_series(1, 200000) g;
  CREATE TABLE bench_orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL, product_id int NOT NULL,
    status text NOT NULL, region text NOT NULL, amount numeric(10,2) NOT NULL, created_at timestamptz NOT NULL,
    shipped_at timestamptz, note text);
  INSERT INTO bench_orders SELECT g, 1 + (g * 7919) % 200000, 1 + (g * 104729) % 50000,
    CASE WHEN g % 200 = 0 THEN 'open' WHEN g % 50 = 0 THEN 'cancelled' WHEN g % 3 = 0 THEN 'shipped' ELSE 'delivered' END,
    (ARRAY['eu','us','apac','latam'])[1 + g % 4], (g % 10000) / 7.0,
    '2021-01-01'::timestamptz + g * interval '1 minute', CASE WHEN g % 200 <> 0 THEN now() END, 'n' || (g % 1000)
    FROM generate_series(1::bigint, 2000000) g;
  CREATE TABLE bench_events (id bigint PRIMARY KEY, customer_id bigint NOT NULL, kind int NOT NULL,
    ts timestamptz NOT NULL, value int NOT NULL, source text NOT NULL);
  INSERT INTO bench_events SELECT g, 1 + (g * 31) % 200000, g % 40, '2023-01-01'::timestamptz + ((g * 7907) % 1000000) * interval '30 seconds',
    (g * 13) % 1000, (ARRAY['web','ios','android','api','batch'])[1 + g % 5]
    FROM generate_series(1::bigint, 1000000) g;
)sql";

std::string EnsureData() {
  std::string base = testing::ClusterUri();
  if (base.empty()) {
    std::fprintf(stderr, "advise_bench: no PostgreSQL cluster\n");
    std::exit(1);
  }
  auto admin = testing::AdminSession(base);
  Rows r;
  admin->Query("SELECT 1 FROM pg_database WHERE datname = $1", {std::string(kDb)}, &r);
  std::string uri = testing::DatabaseUri(kDb);
  bool fresh = r.empty();
  if (!fresh) {
    auto s = testing::AdminSession(uri);
    Rows t;
    fresh = !s->Query("SELECT count(*) FROM bench_events", &t).ok();
  }
  if (fresh) {
    std::fprintf(stderr, "advise_bench: loading 3.2M rows into %s (once per cluster)...\n", kDb);
    testing::FreshDatabase(kDb);
    testing::Exec(uri, kSchema);
    auto s = testing::AdminSession(uri);
    for (int i = 0; i < 20; ++i) {  // see advisor_pg_test: autoanalyze snapshots
      s->Exec("VACUUM ANALYZE");
      Rows t;
      s->Query(
          "SELECT count(*) FROM pg_class WHERE relname LIKE 'bench\\_%' AND relkind = 'r' AND "
          "relallvisible < relpages",
          &t);
      if (t.Int(0, 0) == 0) break;
      s->Exec("SELECT pg_sleep(1)");
    }
  }
  return uri;
}

// A deterministic workload of `n` statements with distinct fingerprints
// (statements differing only in constants would be merged into one): random
// projections, one to three predicates, sometimes ORDER BY ... LIMIT, a few
// joins and updates; call counts skewed (a quarter of the statements are
// 50x hotter).
struct TableSpec {
  const char* name;
  std::vector<std::string> columns;                        // projection material
  std::vector<std::pair<std::string, std::string>> eq;     // column, constant generator kind
  std::vector<std::pair<std::string, std::string>> range;  // column, literal
  std::vector<std::string> order;
};

std::string Constant(const std::string& kind, std::mt19937& rng) {
  auto pick = [&](int k) { return static_cast<int>(rng() % static_cast<unsigned>(k)); };
  static const char* regions[] = {"eu", "us", "apac", "latam"};
  static const char* statuses[] = {"open", "cancelled", "shipped", "delivered"};
  static const char* sources[] = {"web", "ios", "android", "api", "batch"};
  if (kind == "customer") return std::to_string(1 + pick(200000));
  if (kind == "product") return std::to_string(1 + pick(50000));
  if (kind == "status") return std::string("'") + statuses[pick(2)] + "'";  // the rare ones
  if (kind == "region") return std::string("'") + regions[pick(4)] + "'";
  if (kind == "source") return std::string("'") + sources[pick(5)] + "'";
  if (kind == "kind") return std::to_string(pick(40));
  if (kind == "tier") return std::to_string(pick(5));
  if (kind == "email") return "'c" + std::to_string(1 + pick(200000)) + "@example.com'";
  return "0";
}

std::string GenerateWorkload(int n, unsigned seed) {
  std::mt19937 rng(seed);
  auto pick = [&](int k) { return static_cast<int>(rng() % static_cast<unsigned>(k)); };
  std::vector<TableSpec> specs = {
      {"bench_orders",
       {"id", "customer_id", "product_id", "status", "region", "amount", "created_at", "shipped_at",
        "note"},
       {{"customer_id", "customer"},
        {"product_id", "product"},
        {"status", "status"},
        {"region", "region"}},
       {{"created_at", "'2022-03-01'"}, {"amount", "1400"}},
       {"created_at", "amount", "id"}},
      {"bench_events",
       {"id", "customer_id", "kind", "ts", "value", "source"},
       {{"customer_id", "customer"}, {"kind", "kind"}, {"source", "source"}},
       {{"ts", "'2023-06-01'"}, {"value", "990"}},
       {"ts", "value"}},
      {"bench_customers",
       {"id", "email", "region", "tier", "created_at"},
       {{"region", "region"}, {"tier", "tier"}, {"email", "email"}, {"lower(email)", "email"}},
       {{"created_at", "'2022-06-01'"}},
       {"created_at"}},
  };
  std::set<std::string> seen;
  std::string sql;
  int made = 0;
  while (made < n) {
    std::string q;
    int shape = pick(20);
    if (shape == 0) {
      q = "SELECT o.id, o.amount FROM bench_orders o JOIN bench_customers c ON c.id = "
          "o.customer_id WHERE c.email = " +
          Constant("email", rng) + (pick(2) ? " AND o.status = " + Constant("status", rng) : "");
    } else if (shape == 1) {
      q = "SELECT c.id, count(*) FROM bench_customers c JOIN bench_events e ON e.customer_id = "
          "c.id WHERE c.tier = " +
          Constant("tier", rng) + " AND c.region = " + Constant("region", rng) +
          " AND e.kind = " + Constant("kind", rng) + " GROUP BY c.id";
    } else if (shape == 2) {
      q = "UPDATE bench_orders SET shipped_at = now() WHERE id = " +
          std::to_string(1 + pick(2000000)) + (pick(2) ? " AND status = 'open'" : "");
    } else {
      const TableSpec& t = specs[static_cast<size_t>(pick(static_cast<int>(specs.size())))];
      std::vector<std::string> cols = t.columns;
      std::shuffle(cols.begin(), cols.end(), rng);
      int ncols = 1 + pick(3);
      std::string proj;
      if (pick(6) == 0) {
        proj = "count(*)";
      } else {
        for (int i = 0; i < ncols; ++i) proj += (i ? ", " : "") + cols[static_cast<size_t>(i)];
      }
      std::vector<std::pair<std::string, std::string>> eq = t.eq;
      std::shuffle(eq.begin(), eq.end(), rng);
      int neq = 1 + pick(std::min<int>(2, static_cast<int>(eq.size())));
      std::string where;
      for (int i = 0; i < neq; ++i)
        where += (i ? " AND " : "") + eq[static_cast<size_t>(i)].first + " = " +
                 Constant(eq[static_cast<size_t>(i)].second, rng);
      if (pick(3) == 0) {
        const auto& r = t.range[static_cast<size_t>(pick(static_cast<int>(t.range.size())))];
        where += " AND " + r.first + (pick(2) ? " >= " : " < ") + r.second;
      }
      if (std::string(t.name) == "bench_customers" && pick(3) == 0)
        where += " AND deleted_at IS NULL";
      q = "SELECT " + proj + " FROM " + t.name + " WHERE " + where;
      if (proj != "count(*)" && pick(3) == 0) {
        q += " ORDER BY " + t.order[static_cast<size_t>(pick(static_cast<int>(t.order.size())))] +
             (pick(2) ? " DESC" : "") + " LIMIT " + std::to_string(10 * (1 + pick(5)));
      }
    }
    std::string fp = Fingerprint(q);
    if (fp.empty() || !seen.insert(fp).second) continue;
    int calls = 10 * (1 + pick(10)) * (pick(4) == 0 ? 50 : 1);
    sql += "-- pgvise: calls=" + std::to_string(calls) + "\n" + q + ";\n";
    ++made;
  }
  return sql;
}

std::unique_ptr<Session> ReadOnly(const std::string& uri) {
  SessionOptions o;
  o.conninfo = uri;
  o.statement_timeout_ms = 600000;
  std::unique_ptr<Session> s;
  Status st = Session::Connect(o, &s);
  if (!st.ok()) {
    std::fprintf(stderr, "advise_bench: %s\n", st.message().c_str());
    std::exit(1);
  }
  return s;
}

void CompareSelection(const std::string& uri) {
  auto s = ReadOnly(uri);
  Catalog cat;
  Catalog::Load(*s, {}, &cat);
  Workload w;
  AddSqlText("workload30.sql", GenerateWorkload(36, 7), &w);
  auto t0 = std::chrono::steady_clock::now();
  CandidateSet cs = GenerateCandidates(w, cat, {});
  WhatIf wi(*s, w, &cs, cat);
  Status st = wi.Init();
  if (!st.ok()) {
    std::fprintf(stderr, "advise_bench: %s\n", st.message().c_str());
    std::exit(1);
  }
  AdviseOptions ao;
  WhatIfOracle oracle(wi, ao);
  int base_candidates = oracle.num_candidates();
  int64_t data = cat.TotalTableBytes();
  std::printf("workload: %zu statements (%d skipped), %d candidates, table data %.0f MB\n",
              w.statements.size(), w.skipped_other + w.skipped_utility, base_candidates,
              static_cast<double>(data) / 1048576.0);
  const double budgets_mb[] = {40, 120, 400};
  struct Row {
    double budget;
    SelectionResult greedy, ext, a, b, c;
    size_t pool = 0;
  };
  std::vector<Row> rows;
  for (double mb : budgets_mb) {
    SelectionOptions so;
    so.budget_bytes = static_cast<int64_t>(mb * 1048576.0);
    so.max_indexes = 20;
    so.min_gain = 0.001;
    so.local_search = true;
    SelectionOptions greedy_only = so;
    greedy_only.local_search = false;
    rows.push_back({mb,
                    SelectExtend(oracle, greedy_only),
                    SelectExtend(oracle, so),
                    SelectSingleColumn(oracle, so),
                    SelectBestPerQuery(oracle, so),
                    {}});
  }
  WhatIfStats extend_stats = wi.stats();
  double extend_secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // (c): the exhaustive optimum over a pool per budget: what Extend, (a) and
  // (b) chose, topped up with the best remaining candidates by individual
  // gain per byte (branch and bound over the subsets within the budget).
  std::vector<std::pair<double, int>> individual;
  for (int c = 0; c < oracle.num_candidates(); ++c) {
    double gain = 0;
    for (int st2 : oracle.StatementsFor(c))
      gain += oracle.Calls(st2) * (oracle.Cost(st2, {}) - oracle.Cost(st2, {c}));
    individual.push_back({gain / static_cast<double>(oracle.Size(c)), c});
  }
  std::sort(individual.rbegin(), individual.rend());
  for (auto& r : rows) {
    // What the methods chose (theirs first, 30 at most: the search is
    // exact, not a fallback), then the best remaining candidates up to 18.
    std::set<int> pool;
    for (const auto* x : {&r.ext, &r.greedy, &r.b, &r.a})
      for (int c : x->chosen)
        if (pool.size() < 30) pool.insert(c);
    for (const auto& [ratio, c] : individual) {
      if (pool.size() >= 18) break;
      if (ratio > 0) pool.insert(c);
    }
    std::vector<int> pool_v(pool.begin(), pool.end());
    r.pool = pool_v.size();
    SelectionOptions so;
    so.budget_bytes = static_cast<int64_t>(r.budget * 1048576.0);
    so.max_indexes = 20;
    r.c = SelectExhaustive(oracle, so, pool_v, 20);
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (std::getenv("ADVISE_BENCH_VERBOSE")) {
    for (const auto& r : rows) {
      std::fprintf(stderr, "budget %.0f\n ext:", r.budget);
      for (int c : r.ext.chosen) std::fprintf(stderr, " %d(%lld)", c, (long long)oracle.Size(c));
      std::fprintf(stderr, "\n c:");
      for (int c : r.c.chosen) std::fprintf(stderr, " %d(%lld)", c, (long long)oracle.Size(c));
      std::fprintf(stderr, "\n");
      for (const auto& l : r.ext.log) std::fprintf(stderr, "  %s\n", l.c_str());
    }
  }
  std::printf(
      "\n| budget | pgvise (Extend + local search) | Extend greedy only | (a) single-column per "
      "predicate | (b) best index per query | (c) exhaustive optimum over a pool | pgvise vs (c) "
      "| greedy only vs (c) |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const auto& r : rows) {
    auto rel = [](const SelectionResult& x) { return 100.0 * x.final_cost / x.base_cost; };
    // Relative to (c)'s own remaining cost: the issue's "within 2% of (c)".
    auto vs_c = [&](const SelectionResult& x) {
      return 100.0 * (x.final_cost - r.c.final_cost) / r.c.final_cost;
    };
    std::printf(
        "| %.0f MB | %.2f%% (%zu idx, %.0f MB, %d swaps) | %.2f%% (%zu idx) | %.2f%% (%zu idx) | "
        "%.2f%% (%zu idx) | %.2f%% (%zu idx, pool %zu) | %+.2f%% (%+.2f pts) | %+.2f%% (%+.2f "
        "pts) |\n",
        r.budget, rel(r.ext), r.ext.chosen.size(), static_cast<double>(r.ext.bytes) / 1048576.0,
        r.ext.local_moves, rel(r.greedy), r.greedy.chosen.size(), rel(r.a), r.a.chosen.size(),
        rel(r.b), r.b.chosen.size(), rel(r.c), r.c.chosen.size(), r.pool, vs_c(r.ext),
        rel(r.ext) - rel(r.c), vs_c(r.greedy), rel(r.greedy) - rel(r.c));
  }
  {
    const WhatIfStats& ws = extend_stats;
    double hit = 100.0 * static_cast<double>(ws.cache_hits) /
                 static_cast<double>(ws.cache_hits + ws.whatif_calls);
    std::printf(
        "\nExtend (greedy only and with local search) + (a) + (b) at the three budgets: %lld "
        "what-if EXPLAINs, %lld cache hits (%.1f%% "
        "hit rate), "
        "%.1f s wall (EXPLAIN %.1f s)\n",
        static_cast<long long>(ws.whatif_calls), static_cast<long long>(ws.cache_hits), hit,
        extend_secs, ws.explain_ms / 1000.0);
  }
  const WhatIfStats& ws = wi.stats();
  double hit = 100.0 * static_cast<double>(ws.cache_hits) /
               static_cast<double>(ws.cache_hits + ws.whatif_calls);
  std::printf(
      "everything, with (c): %lld what-if EXPLAINs, %lld cache hits (%.1f%% hit rate), %lld "
      "hypothetical indexes, "
      "%.1f s wall (EXPLAIN %.1f s)\n\n",
      static_cast<long long>(ws.whatif_calls), static_cast<long long>(ws.cache_hits), hit,
      static_cast<long long>(ws.hypo_creates), secs, ws.explain_ms / 1000.0);
  std::fflush(stdout);
}

// --- Part 3: a `$n` workload judged on real values -------------------------
//
// A multi-tenant job queue and billing schema (bp_jobs 1M rows, bp_invoices
// 300k, bp_tenants 10k; tenant 1 owns 8% of the jobs, tenants 2-4 2% each,
// ~10,000 tiny tenants the rest; rare states; time in insertion order) and
// 28 statements written with `$n` exactly as pg_stat_statements hands them
// over, with call weights, writes included. The judge (tests/support/
// advise_judge.h) prices each chosen set with custom plans over fixed real
// parameter values drawn here with a seed the advisor never sees (rare
// states are what the application asks for; tenants drawn like the rows;
// times "the last day / few days"). Compared at three budgets: pgvise
// (custom plans over representative values), pgvise --generic-plans (the
// previous behaviour) and (a) one single-column index per predicate column.

const char* kParamDb = "advise_bench_params";

const char* kParamSchema = R"sql(
  CREATE TABLE bp_tenants (id int PRIMARY KEY, name text NOT NULL, plan text NOT NULL,
    region text NOT NULL, created_at timestamptz NOT NULL);
  INSERT INTO bp_tenants SELECT g, 'tenant ' || g,
    CASE WHEN g % 100 = 0 THEN 'enterprise' WHEN g % 10 = 0 THEN 'pro' ELSE 'free' END,
    (ARRAY['eu','us','apac','latam'])[1 + g % 4], '2020-01-01'::timestamptz + g * interval '3 hours'
    FROM generate_series(1, 10000) g;
  CREATE TABLE bp_jobs (id bigint PRIMARY KEY, tenant_id int NOT NULL, state text NOT NULL,
    priority int NOT NULL, kind int NOT NULL, enqueued_at timestamptz NOT NULL,
    finished_at timestamptz, payload text);
  INSERT INTO bp_jobs SELECT g,
    CASE WHEN g % 100 < 8 THEN 1 WHEN g % 100 < 14 THEN 2 + g % 3 ELSE 5 + (g * 7919) % 9996 END,
    CASE WHEN g % 100 = 14 THEN 'queued' WHEN g % 100 = 15 THEN 'running'
         WHEN g % 100 BETWEEN 16 AND 21 THEN 'failed' ELSE 'done' END,
    (g * 31) % 10, (g * 17) % 50, '2025-01-01'::timestamptz + g * interval '31.5 seconds',
    CASE WHEN g % 100 NOT IN (14, 15) THEN '2025-01-01'::timestamptz + g * interval '31.5 seconds' + interval '5 minutes' END,
    repeat('j', 60)
    FROM generate_series(1::bigint, 1000000) g;
  CREATE TABLE bp_invoices (id bigint PRIMARY KEY, tenant_id int NOT NULL, status text NOT NULL,
    amount numeric(10,2) NOT NULL, issued_at timestamptz NOT NULL, due_at timestamptz NOT NULL, memo text);
  INSERT INTO bp_invoices SELECT g,
    CASE WHEN g % 100 < 8 THEN 1 WHEN g % 100 < 14 THEN 2 + g % 3 ELSE 5 + (g * 104729) % 9996 END,
    CASE WHEN g % 100 = 50 THEN 'overdue' WHEN g % 25 = 3 THEN 'open' ELSE 'paid' END,
    (g % 5000) / 3.0, '2024-01-01'::timestamptz + g * interval '210 seconds',
    '2024-01-31'::timestamptz + g * interval '210 seconds', repeat('m', 40)
    FROM generate_series(1::bigint, 300000) g;
)sql";

std::string EnsureParamData(double* load_s) {
  *load_s = 0;
  std::string base = testing::ClusterUri();
  auto admin = testing::AdminSession(base);
  Rows r;
  admin->Query("SELECT 1 FROM pg_database WHERE datname = $1", {std::string(kParamDb)}, &r);
  std::string uri = testing::DatabaseUri(kParamDb);
  bool fresh = r.empty();
  if (!fresh) {
    auto s = testing::AdminSession(uri);
    Rows t;
    fresh = !s->Query("SELECT count(*) FROM bp_invoices", &t).ok();
  }
  if (fresh) {
    auto t0 = std::chrono::steady_clock::now();
    std::fprintf(stderr, "advise_bench: loading 1.31M rows into %s (once per cluster)...\n",
                 kParamDb);
    testing::FreshDatabase(kParamDb);
    testing::Exec(uri, kParamSchema);
    auto s = testing::AdminSession(uri);
    s->Exec("CREATE EXTENSION IF NOT EXISTS hypopg");
    s->Exec("VACUUM ANALYZE");
    *load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  return uri;
}

struct ParamStatement {
  int calls;
  std::string sql;                 // with $n
  std::vector<std::string> kinds;  // the value kind of $1, $2, ...
};

// 28 statements, as pg_stat_statements would show them.
std::vector<ParamStatement> ParamWorkload() {
  return {
      {2000,
       "SELECT id, state, priority FROM bp_jobs WHERE tenant_id = $1 AND state = $2 ORDER BY "
       "priority DESC, enqueued_at LIMIT $3",
       {"tenant", "jstate", "limit"}},
      {1000,
       "SELECT count(*) FROM bp_jobs WHERE tenant_id = $1 AND enqueued_at >= $2",
       {"tenant", "recent"}},
      {500,
       "SELECT id, kind, enqueued_at FROM bp_jobs WHERE enqueued_at >= $1 AND state = $2",
       {"recent", "jstate"}},
      {5000, "SELECT * FROM bp_jobs WHERE id = $1", {"job"}},
      {3000, "UPDATE bp_jobs SET state = $1, finished_at = now() WHERE id = $2", {"jstate", "job"}},
      {300,
       "SELECT kind, count(*) FROM bp_jobs WHERE tenant_id = $1 AND enqueued_at >= $2 AND "
       "enqueued_at < $3 GROUP BY kind",
       {"tenant", "recent", "end"}},
      {200, "SELECT id FROM bp_jobs WHERE state = $1 AND enqueued_at < $2", {"jstate", "recent"}},
      {10, "DELETE FROM bp_jobs WHERE enqueued_at < $1 AND state = $2", {"old", "done"}},
      {800,
       "SELECT id, payload FROM bp_jobs WHERE tenant_id = $1 AND kind = $2 ORDER BY enqueued_at "
       "DESC LIMIT $3",
       {"tenant", "kind", "limit"}},
      {400,
       "SELECT count(*) FROM bp_jobs WHERE kind = $1 AND enqueued_at >= $2",
       {"kind", "recent"}},
      {100,
       "SELECT tenant_id, count(*) FROM bp_jobs WHERE state = $1 GROUP BY tenant_id",
       {"jstate"}},
      {200,
       "SELECT j.id, t.plan FROM bp_jobs j JOIN bp_tenants t ON t.id = j.tenant_id WHERE t.plan "
       "= $1 AND j.enqueued_at >= $2",
       {"plan", "recent"}},
      {300, "SELECT id, name FROM bp_tenants WHERE region = $1 AND plan = $2", {"region", "plan"}},
      {4000, "SELECT * FROM bp_tenants WHERE id = $1", {"tenant"}},
      {1500,
       "SELECT id, amount FROM bp_invoices WHERE tenant_id = $1 AND status = $2 ORDER BY "
       "issued_at DESC LIMIT $3",
       {"tenant", "istatus", "limit"}},
      {700,
       "SELECT sum(amount) FROM bp_invoices WHERE tenant_id = $1 AND issued_at >= $2",
       {"tenant", "irecent"}},
      {300,
       "SELECT id, tenant_id FROM bp_invoices WHERE status = $1 AND due_at < $2",
       {"istatus", "idue"}},
      {1000, "UPDATE bp_invoices SET status = $1 WHERE id = $2", {"istatus", "invoice"}},
      {200,
       "SELECT count(*) FROM bp_invoices WHERE issued_at >= $1 AND issued_at < $2",
       {"irecent", "end"}},
      {150,
       "SELECT i.id, i.amount FROM bp_invoices i JOIN bp_tenants t ON t.id = i.tenant_id WHERE "
       "t.region = $1 AND i.status = $2",
       {"region", "istatus"}},
      {2000, "SELECT * FROM bp_invoices WHERE id = $1", {"invoice"}},
      {1200,
       "SELECT count(*) FROM bp_jobs WHERE tenant_id = $1 AND state = $2",
       {"tenant", "jstate"}},
      {400,
       "SELECT id FROM bp_jobs WHERE tenant_id = $1 AND priority >= $2 AND state = $3",
       {"tenant", "priority", "jstate"}},
      {300,
       "SELECT max(enqueued_at) FROM bp_jobs WHERE tenant_id = $1 AND kind = $2",
       {"tenant", "kind"}},
      {250,
       "SELECT id, amount FROM bp_invoices WHERE tenant_id = $1 AND due_at >= $2 AND status = $3",
       {"tenant", "idue", "istatus"}},
      {50,
       "SELECT count(*) FROM (SELECT tenant_id FROM bp_jobs WHERE enqueued_at >= $1 GROUP BY "
       "tenant_id HAVING count(*) > $2) AS busy",
       {"recent", "ten"}},
      {100,
       "UPDATE bp_jobs SET priority = $1 WHERE tenant_id = $2 AND state = $3",
       {"priority", "tenant", "jstate"}},
      {300,
       "SELECT t.id, t.plan, count(j.id) FROM bp_tenants t JOIN bp_jobs j ON j.tenant_id = t.id "
       "WHERE t.id = $1 AND j.enqueued_at >= $2 GROUP BY t.id, t.plan",
       {"tenant", "recent"}},
  };
}

// (d) The expert set: what a careful DBA who knows this workload would build
// by hand, one index per access path, written before pgvise's new candidate
// shapes ran on this workload and committed unchanged (its size, as pgvise
// estimates it, is the middle budget). The DBA's reasoning, per index:
//   jobs (tenant_id, state, priority DESC, enqueued_at): the hot queue poll
//     (2000 calls) walks the tenant's rows of one state in order and stops at
//     50; the same index serves the per-tenant state counts, the
//     `priority >= $2` lookup and the priority UPDATE;
//   jobs (tenant_id, enqueued_at): "this tenant's jobs since ..." (count,
//     per-kind window, the join from one tenant);
//   jobs (tenant_id, kind, enqueued_at): latest jobs of a kind for a tenant
//     (ORDER BY enqueued_at DESC LIMIT, and max(enqueued_at));
//   jobs (state, enqueued_at): the rare states in a time window, the state
//     GROUP BY tenant and the cleanup DELETE;
//   jobs (kind, enqueued_at): per-kind recent counts;
//   invoices (tenant_id, status, issued_at): the tenant's open invoices,
//     newest first (1500 calls), and the due-date filter by tenant/status;
//   invoices (tenant_id, issued_at): the tenant's revenue since a date;
//   invoices (status, due_at): overdue/open by due date, the status filter of
//     the join with tenants;
//   invoices (issued_at): invoices of a period;
//   tenants (plan, region): the plan/region lookups and the plan filter of
//     the join with jobs.
struct ExpertIndex {
  const char* table;
  const char* keys;  // "a, b DESC, c"
};
std::vector<ExpertIndex> ExpertSet() {
  return {
      {"bp_jobs", "tenant_id, state, priority DESC, enqueued_at"},
      {"bp_jobs", "tenant_id, enqueued_at"},
      {"bp_jobs", "tenant_id, kind, enqueued_at"},
      {"bp_jobs", "state, enqueued_at"},
      {"bp_jobs", "kind, enqueued_at"},
      {"bp_invoices", "tenant_id, status, issued_at"},
      {"bp_invoices", "tenant_id, issued_at"},
      {"bp_invoices", "status, due_at"},
      {"bp_invoices", "issued_at"},
      {"bp_tenants", "plan, region"},
  };
}

// A real value of `kind`, as the application sends it (the judge's values).
std::string RealValue(const std::string& kind, std::mt19937& rng) {
  auto pick = [&](int k) { return static_cast<int>(rng() % static_cast<unsigned>(k)); };
  auto day = [](const char* base, int days_back) {
    return std::string("'") + base + "'::timestamptz - interval '" + std::to_string(days_back) +
           " days'";
  };
  if (kind == "tenant") {
    int x = pick(100);
    return std::to_string(x < 8 ? 1 : x < 14 ? 2 + pick(3) : 5 + pick(9996));
  }
  if (kind == "jstate") {
    static const char* v[] = {"queued", "running", "failed", "queued", "failed", "done"};
    return std::string("'") + v[pick(6)] + "'";
  }
  if (kind == "istatus") return pick(3) ? "'open'" : "'overdue'";
  if (kind == "recent") return day("2025-12-31 20:00", 1 + pick(7));
  if (kind == "irecent") return day("2026-01-01", 1 + pick(14));
  if (kind == "idue") return day("2026-01-31", 20 + pick(10));
  if (kind == "end") return "'2026-01-02'";
  if (kind == "old") return "'2025-01-03'";
  if (kind == "done") return "'done'";
  if (kind == "limit") return "50";
  if (kind == "job") return std::to_string(1 + pick(1000000));
  if (kind == "invoice") return std::to_string(1 + pick(300000));
  if (kind == "kind") return std::to_string(pick(50));
  if (kind == "priority") return std::to_string(7 + pick(3));
  if (kind == "plan") return pick(2) ? "'enterprise'" : "'pro'";
  if (kind == "region") return std::string("'") + (pick(2) ? "eu" : "apac") + "'";
  if (kind == "ten") return "10";
  return "0";
}

// $n -> value, highest number first so $1 never eats the start of $10.
std::string Substitute(std::string sql, const std::vector<std::string>& values) {
  for (size_t i = values.size(); i-- > 0;) {
    const std::string token = "$" + std::to_string(i + 1);
    for (size_t at = sql.find(token); at != std::string::npos; at = sql.find(token, at))
      sql.replace(at, token.size(), values[i]);
  }
  return sql;
}

// What pg_stat_statements would record as `rows / calls` had the workload
// run the judge's instances: the mean of their actual rows, returned, or
// for an UPDATE/DELETE the rows it would change, counted by its row-finding
// SELECT (analyzer/sql/write_as_read.h) so that nothing is written: rolled-
// back writes leave dead rows, autovacuum analyzes the table, and pg_stats
// would change under the advisors between one column and the next. A
// per-statement mean, as the server keeps it; the values stay the judge's.
double RecordedRows(Session& s, const std::vector<std::string>& instances) {
  double sum = 0;
  for (const auto& sql : instances) {
    std::string select = sql;
    if (sql.rfind("UPDATE", 0) == 0 || sql.rfind("DELETE", 0) == 0) {
      const Status st = RowFindingSelect(sql, &select);
      if (!st.ok()) {
        std::fprintf(stderr, "advise_bench: %s: %s\n", sql.c_str(), st.message().c_str());
        std::exit(1);
      }
    }
    Rows r;
    const Status st = s.Query("SELECT count(*) FROM (" + select + ") AS q", &r);
    if (!st.ok() || r.empty()) {
      std::fprintf(stderr, "advise_bench: %s: %s\n", select.c_str(), st.message().c_str());
      std::exit(1);
    }
    sum += r.Double(0, 0);
  }
  return instances.empty() ? 0 : sum / static_cast<double>(instances.size());
}

void CompareParameterized() {
  double load_s = 0;
  const std::string uri = EnsureParamData(&load_s);
  auto s = ReadOnly(uri);
  Catalog cat;
  Catalog::Load(*s, {}, &cat);
  const std::vector<ParamStatement> stmts = ParamWorkload();
  std::string text, text_rows;
  std::vector<testing::JudgedStatement> judge;
  std::mt19937 rng(20261205);  // the judge's seed: nothing in pgvise sees these values
  for (const auto& st : stmts) {
    text += "-- pgvise: calls=" + std::to_string(st.calls) + "\n" + st.sql + ";\n";
    testing::JudgedStatement j;
    j.calls = st.calls;
    for (int i = 0; i < 6; ++i) {
      std::vector<std::string> values;
      for (const auto& k : st.kinds) values.push_back(RealValue(k, rng));
      j.instances.push_back(Substitute(st.sql, values));
    }
    char rows[64];
    std::snprintf(rows, sizeof rows, " rows=%.1f", RecordedRows(*s, j.instances));
    text_rows += "-- pgvise: calls=" + std::to_string(st.calls) + rows + "\n" + st.sql + ";\n";
    judge.push_back(std::move(j));
  }
  // `w` as SQL files give it (calls only); `w_rows` as pg_stat_statements
  // gives it, with each statement's rows per call: what pgvise reads from a
  // server (parameters.cc fits the value sets' weights to it).
  Workload w, w_rows;
  AddSqlText("params.sql", text, &w);
  AddSqlText("params.sql", text_rows, &w_rows);
  if (std::getenv("ADVISE_BENCH_VERBOSE")) std::fprintf(stderr, "%s", text_rows.c_str());
  const double none = testing::JudgeCost(*s, {}, judge);
  std::printf(
      "\nPart 3: %zu `$n` statements over %.0f MB of tables%s; judged workload cost without "
      "new indexes %.0f\n",
      w.statements.size(), static_cast<double>(cat.TotalTableBytes()) / 1048576.0,
      load_s > 0 ? (", loaded in " + std::to_string(static_cast<int>(load_s)) + " s").c_str() : "",
      none);
  // (d) the expert set, sized the way pgvise sizes its own candidates
  // (HypoPG, corrected for B-tree deduplication): its size is the middle
  // budget, the others 0.4x and 2.5x of it.
  CandidateSet expert_cs;
  for (const auto& e : ExpertSet()) {
    IndexCandidate c;
    c.schema = "public";
    c.table = e.table;
    std::string keys = e.keys;
    for (size_t at = 0; at < keys.size();) {
      size_t comma = keys.find(',', at);
      std::string k = keys.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
      while (!k.empty() && k.front() == ' ') k.erase(0, 1);
      CandidateKey key;
      if (k.size() > 5 && k.substr(k.size() - 5) == " DESC") {
        key.descending = true;
        key.nulls_first = true;  // DESC's default
        k.resize(k.size() - 5);
      }
      key.column = k;
      c.keys.push_back(key);
      at = comma == std::string::npos ? keys.size() : comma + 1;
    }
    c.origin = "expert";
    expert_cs.Add(c);
  }
  expert_cs.relevant.assign(w.statements.size(), {});
  std::vector<std::string> expert_ddl;
  int64_t expert_bytes = 0;
  {
    WhatIf ewi(*s, w, &expert_cs, cat);
    ewi.Init();
    for (int c = 0; c < static_cast<int>(expert_cs.candidates.size()); ++c) {
      expert_bytes += ewi.Size(c);
      expert_ddl.push_back(expert_cs.candidates[static_cast<size_t>(c)].Ddl("", false, false));
    }
    ewi.Reset();
  }
  const double expert_mb = static_cast<double>(expert_bytes) / 1048576.0;
  const double jd = testing::JudgeCost(*s, expert_ddl, judge);
  std::printf(
      "(d) expert set: %zu indexes, %.1f MB as pgvise estimates them (the middle budget); judged "
      "%.3f\n",
      expert_ddl.size(), expert_mb, jd / none);
  std::printf(
      "\n| budget | pgvise (custom plans, rows per call) | pgvise, no rows per call | (c) pgvise "
      "--generic-plans | (a) single-column | (b) best index per query | (d) expert | pgvise below "
      "(a), (b), (c)%s |\n"
      "|---:|---:|---:|---:|---:|---:|---:|---:|\n",
      " / at or below (d)");
  struct Totals {
    int64_t calls = 0;
    double secs = 0;
  } tc, tn, tg;
  // (a) and (b) are picked on the same custom-plan costs pgvise uses, with
  // one candidate set and what-if cache for the three budgets.
  AdviseOptions base_opts;
  CandidateSet cs = GenerateCandidates(w, cat, base_opts.candidates);
  WhatIf wi(*s, w, &cs, cat);
  wi.Init();
  {
    std::vector<StatementParams> params;
    for (const auto& ws : w.statements)
      params.push_back(DeriveParameters(ws, cat, {}, ParameterOptions{}));
    wi.SetParameters(std::move(params));
  }
  WhatIfOracle oracle(wi, base_opts);
  int met = 0, rows_total = 0;
  for (double factor : {0.4, 1.0, 2.5}) {
    const double mb = expert_mb * factor;
    AdviseOptions custom;
    custom.selection.budget_bytes = static_cast<int64_t>(mb * 1048576.0);
    AdviseOptions generic = custom;
    generic.generic_plans = true;
    auto run = [&](const Workload& wl, const AdviseOptions& o, Totals* t, AdviseReport* rep,
                   std::vector<double>* each) {
      auto t0 = std::chrono::steady_clock::now();
      Status st = RunAdvisor(*s, cat, wl, o, rep);
      if (!st.ok()) {
        std::fprintf(stderr, "advise_bench: %s\n", st.message().c_str());
        std::exit(1);
      }
      t->secs += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      t->calls += rep->whatif.whatif_calls;
      std::vector<std::string> ddl;
      for (const auto& x : rep->indexes) ddl.push_back(x.sql);
      if (std::getenv("ADVISE_BENCH_VERBOSE"))
        for (const auto& x : rep->indexes)
          std::fprintf(stderr, "  %.0f MB %s: %s  [%s]\n", mb,
                       o.generic_plans ? "generic"
                       : &wl == &w     ? "custom, no rows"
                                       : "custom",
                       x.sql.c_str(), x.reason.c_str());
      return testing::JudgeCost(*s, ddl, judge, each);
    };
    AdviseReport rc, rn, rg;
    std::vector<double> ec, en, eg;  // each statement's judged part
    const double jc = run(w_rows, custom, &tc, &rc, &ec);
    const double jn = run(w, custom, &tn, &rn, &en);
    const double jg = run(w, generic, &tg, &rg, &eg);
    if (std::getenv("ADVISE_BENCH_VERBOSE")) {
      std::fprintf(stderr, "  -- %.0f MB\n", mb);
      // Where the two choices part: each statement judged under both, beside
      // what the advisor (custom plans) expected it to cost.
      for (size_t i = 0; i < ec.size() && i < eg.size(); ++i) {
        const auto* st = i < rc.statements.size() ? &rc.statements[i] : nullptr;
        std::fprintf(
            stderr,
            "  stmt %2zu judged custom-set %12.0f no-rows-set %12.0f generic-set %12.0f  advisor "
            "%12.0f  %.70s\n",
            i + 1, ec[i], i < en.size() ? en[i] : -1.0, eg[i],
            st ? st->calls * st->cost_after : -1.0, st ? st->sql.c_str() : "");
        if (st) std::fprintf(stderr, "      %s\n", st->costing.c_str());
        if (st)
          for (const auto& v : st->value_sets)
            std::fprintf(stderr, "      %.3f  %.0f -> %.0f  %s\n", v.weight, v.cost_before,
                         v.cost_after, v.label.c_str());
      }
    }
    auto chosen = [&](const SelectionResult& r, const char* what, int64_t* bytes) {
      std::vector<std::string> ddl;
      *bytes = 0;
      for (int c : r.chosen) {
        ddl.push_back(cs.candidates[static_cast<size_t>(c)].Ddl("", false, false));
        *bytes += oracle.Size(c);
        if (std::getenv("ADVISE_BENCH_VERBOSE"))
          std::fprintf(stderr, "  %.0f MB %s: %s\n", mb, what, ddl.back().c_str());
      }
      return ddl;
    };
    SelectionResult a = SelectSingleColumn(oracle, custom.selection);
    SelectionResult b = SelectBestPerQuery(oracle, custom.selection);
    int64_t a_bytes = 0, b_bytes = 0;
    std::vector<std::string> a_ddl = chosen(a, "single", &a_bytes);
    std::vector<std::string> b_ddl = chosen(b, "best-per-query", &b_bytes);
    wi.Reset();
    const double ja = testing::JudgeCost(*s, a_ddl, judge);
    const double jb = testing::JudgeCost(*s, b_ddl, judge);
    const bool below = jc < ja && jc < jb && jc < jg;
    const bool vs_expert = factor != 1.0 || jc <= jd;
    char expert_cell[64];
    std::snprintf(expert_cell, sizeof expert_cell, "%.3f (%zu idx)", jd / none, expert_ddl.size());
    ++rows_total;
    met += below && vs_expert;
    std::printf(
        "| %.0f MB%s | %.4f (%zu idx, %.0f MB) | %.4f (%zu idx, %.0f MB) | %.4f (%zu idx, %.0f "
        "MB) | %.3f (%zu idx, %.0f "
        "MB) | %.3f (%zu idx, %.0f MB) | %s | %s%s |\n",
        mb, factor == 1.0 ? " (= d)" : "", jc / none, rc.indexes.size(),
        static_cast<double>(rc.bytes_added) / 1048576.0, jn / none, rn.indexes.size(),
        static_cast<double>(rn.bytes_added) / 1048576.0, jg / none, rg.indexes.size(),
        static_cast<double>(rg.bytes_added) / 1048576.0, ja / none, a.chosen.size(),
        static_cast<double>(a_bytes) / 1048576.0, jb / none, b.chosen.size(),
        static_cast<double>(b_bytes) / 1048576.0, factor == 1.0 ? expert_cell : "",
        below ? "yes" : "**no**", factor == 1.0 ? (jc <= jd ? " / yes" : " / **no**") : "");
    if (factor == 0.4 && std::getenv("ADVISE_BENCH_VERBOSE")) {
      std::fprintf(stderr, "  costing: %d custom, %d generic of %zu\n", rc.statements_custom,
                   rc.statements_generic, rc.statements.size());
      for (const auto& st : rc.statements)
        if (!st.custom_plans)
          std::fprintf(stderr, "    %s: %s\n", st.sql.c_str(), st.costing.c_str());
    }
  }
  std::printf(
      "\nrelative judged cost (with / without new indexes), lower is better; goal met at %d of %d "
      "budgets. Advise time over the three budgets: custom plans %.1f s, %lld what-if EXPLAINs "
      "(no rows per call: %.1f s, %lld); generic plans %.1f s, %lld what-if EXPLAINs\n\n",
      met, rows_total, tc.secs, static_cast<long long>(tc.calls), tn.secs,
      static_cast<long long>(tn.calls), tg.secs, static_cast<long long>(tg.calls));
  std::fflush(stdout);
}

std::string* g_uri = nullptr;

// Arg: --jobs, the what-if connections (advisor/whatif.h); the same
// recommendations are expected at every value (counter `same_as_jobs1`).
std::vector<std::string>* g_jobs1_choice = nullptr;

void Advise200(benchmark::State& state) {
  auto s = ReadOnly(*g_uri);
  std::vector<std::unique_ptr<Session>> more;
  const int jobs = static_cast<int>(state.range(0));
  for (int i = 0; i < jobs && jobs > 1; ++i) more.push_back(ReadOnly(*g_uri));
  Workload w;
  AddSqlText("workload200.sql", GenerateWorkload(200, 11), &w);
  for (auto _ : state) {
    auto t0 = std::chrono::steady_clock::now();
    Catalog cat;
    Catalog::Load(*s, {}, &cat);
    AdviseOptions ao;
    ao.selection.max_indexes = 15;
    for (auto& m : more) ao.whatif_sessions.push_back(m.get());
    AdviseReport rep;
    Status st = RunAdvisor(*s, cat, w, ao, &rep);
    if (!st.ok()) state.SkipWithError(st.message().c_str());
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    state.counters["statements"] = static_cast<double>(rep.statements.size());
    state.counters["candidates"] = rep.candidates;
    state.counters["whatif_calls"] = static_cast<double>(rep.whatif.whatif_calls);
    state.counters["cache_hit_pct"] =
        100.0 * static_cast<double>(rep.whatif.cache_hits) /
        static_cast<double>(std::max<int64_t>(rep.whatif.cache_hits + rep.whatif.whatif_calls, 1));
    state.counters["indexes"] = static_cast<double>(rep.indexes.size());
    state.counters["relative_cost_pct"] =
        100.0 * rep.workload_cost_after / std::max(rep.workload_cost_before, 1.0);
    state.counters["wall_s"] = secs;
    std::vector<std::string> choice;
    for (const auto& r : rep.indexes) choice.push_back(r.sql);
    if (jobs == 1) {
      delete g_jobs1_choice;
      g_jobs1_choice = new std::vector<std::string>(choice);
    }
    if (g_jobs1_choice) state.counters["same_as_jobs1"] = choice == *g_jobs1_choice ? 1 : 0;
  }
}
BENCHMARK(Advise200)
    ->Arg(1)
    ->Arg(2)
    ->Arg(4)
    ->Iterations(1)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();

}  // namespace
}  // namespace pgvise

int main(int argc, char** argv) {
  // ADVISE_BENCH_ONLY=params: part 3 alone (with --benchmark_filter=none);
  // ADVISE_BENCH_ONLY=selection: parts 1 and 2 without part 3, which takes
  // minutes (bench/restructure.md's before/after needed only 1 and 2).
  const char* only = std::getenv("ADVISE_BENCH_ONLY");
  const bool params_only = only && std::string(only) == "params";
  const bool selection_only = only && std::string(only) == "selection";
  std::string uri;
  if (!params_only) {
    uri = pgvise::EnsureData();
    pgvise::CompareSelection(uri);
  }
  pgvise::g_uri = &uri;
  if (!selection_only) pgvise::CompareParameterized();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
