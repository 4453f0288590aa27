// Benchmark for `pgvise maintain` (figures recorded in bench/maintain.md).
//
//   1. scale: a database with 10,000 tables (each with a primary key and a
//      TOAST table, a few rows, analyzed); `pgvise maintain` run through the
//      real binary, wall time and the number of queries it issued.
//   2. bloat accuracy: table shapes x bloat levels; for each table and its
//      B-tree indexes the error of our statistical estimate and of the widely
//      used statistical queries (ioguix's table and B-tree logic, rewritten
//      here from their published description) against the truth measured
//      with pgstattuple: 1 - table_len(packed copy) / table_len(table), the
//      packed copy being CREATE TABLE AS + the same indexes (what VACUUM FULL
//      and REINDEX would leave).
//
// Usage: maintain_bench [--tables N] [--rows-scale F] [--skip-scale] [--skip-bloat]
//                       [--reuse]  (bloat: keep the tables a previous run loaded)
// It uses PGVISE_TEST_PG_URI / the test cluster like the pg tests, and
// PGVISE_BIN for the binary (default <source>/build/pgvise).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "maintenance/maintain.h"
#include "tests/support/pg_test.h"

using namespace pgvise;

namespace {

void Must(Session& s, const std::string& sql) {
  Status st = s.Exec(sql);
  if (!st.ok()) {
    std::fprintf(stderr, "bench setup failed: %s\n  %s\n", st.message().c_str(),
                 sql.substr(0, 200).c_str());
    std::exit(1);
  }
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "bench failed: %s\n", what.c_str());
  std::exit(1);
}

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string Binary() {
  const char* b = std::getenv("PGVISE_BIN");
  return b ? b : testing::SourceDir() + "/build/pgvise";
}

void Scale(int ntables) {
  std::string uri = testing::FreshDatabase("maintain_bench_scale");
  auto admin = testing::AdminSession(uri);
  double t0 = Now();
  const int batch = 200;  // tables per transaction: keeps the lock table small
  for (int b = 0; b < ntables; b += batch) {
    Must(*admin, "DO $$ BEGIN FOR i IN " + std::to_string(b) + ".." +
                     std::to_string(std::min(ntables, b + batch) - 1) +
                     " LOOP EXECUTE format('CREATE TABLE t%s (id int PRIMARY KEY, v text, at "
                     "timestamptz DEFAULT now())', i); EXECUTE format('INSERT INTO t%s (id, v) "
                     "SELECT g, md5(g::text) FROM generate_series(1, 20) g', i); END LOOP; END $$");
  }
  Must(*admin, "ANALYZE");
  std::printf("scale: created %d tables (+%d indexes, %d TOAST tables) in %.0f s\n", ntables,
              ntables, ntables, Now() - t0);
  std::vector<double> times;
  nlohmann::json last;
  for (int run = 0; run < 3; ++run) {
    std::string out;
    double s0 = Now();
    int rc = testing::RunCommand(Binary() + " maintain --db '" + uri + "' --format json", &out);
    times.push_back(Now() - s0);
    if (rc != 0 && rc != 1) {
      std::fprintf(stderr, "pgvise maintain exited %d\n%s\n", rc, out.c_str());
      std::exit(1);
    }
    last = nlohmann::json::parse(out);
  }
  std::sort(times.begin(), times.end());
  std::printf(
      "scale: pgvise maintain on %d tables: median %.2f s (min %.2f, max %.2f) over 3 runs; "
      "snapshot %s queries (%s in all), snapshot %.0f ms, rules %.0f ms, %zu plan items\n",
      ntables, times[1], times[0], times[2], last["snapshot"]["queries"].dump().c_str(),
      last["snapshot"]["total_queries"].dump().c_str(),
      last["snapshot"]["snapshot_ms"].get<double>(), last["snapshot"]["rules_ms"].get<double>(),
      last["plan"].size());
}

// --- False advice on healthy tables ---------------------------------------
//
// Every object here needs nothing: a table bulk-loaded moments ago (and
// analyzed, as a load script does), a sequence far from its limit, a primary
// key never scanned, a small lookup table, an append-only table with
// autovacuum on and its visibility map set by VACUUM, a table with a few
// updates well under autovacuum's thresholds, an empty table, a foreign key
// with its index, a materialized view just refreshed. Every plan item is
// false advice about these tables; server-wide items (settings, the cluster's
// own configuration) are listed separately, since the throwaway cluster runs
// with fsync off on purpose.
void FalseAdvice() {
  std::string uri = testing::FreshDatabase("maintain_bench_healthy");
  auto admin = testing::AdminSession(uri);
  const char* setup[] = {
      // The test cluster commits asynchronously (scripts/pgcluster.sh); VACUUM
      // marks a page all-visible only once its rows' commit is flushed, so
      // without this the map stays empty after VACUUM and the advice to
      // VACUUM again would be right. A production default, synchronous_commit on.
      "SET synchronous_commit = on",
      "CREATE TABLE loaded (id bigint PRIMARY KEY, customer int, amount numeric, at timestamptz)",
      "INSERT INTO loaded SELECT g, g % 5000, g % 977, now() - g * interval '1 s' FROM "
      "generate_series(1, 300000) g",
      "ANALYZE loaded",
      "CREATE TABLE orders (id bigserial PRIMARY KEY, customer int NOT NULL, note text)",
      "INSERT INTO orders (customer, note) SELECT g % 100, 'n' FROM generate_series(1, 1000) g",
      "CREATE TABLE unscanned (id int PRIMARY KEY, v text)",
      "INSERT INTO unscanned SELECT g, md5(g::text) FROM generate_series(1, 20000) g",
      "CREATE TABLE country (code char(2) PRIMARY KEY, name text NOT NULL)",
      "INSERT INTO country VALUES ('de', 'Germany'), ('fr', 'France'), ('nl', 'Netherlands'), "
      "('it', 'Italy'), ('es', 'Spain')",
      "CREATE TABLE customer (id int PRIMARY KEY, country char(2) REFERENCES country)",
      "CREATE INDEX ON customer (country)",
      "INSERT INTO customer SELECT g, (ARRAY['de','fr','nl','it','es'])[1 + g % 5] FROM "
      "generate_series(1, 5000) g",
      "CREATE TABLE events (id bigserial PRIMARY KEY, at timestamptz DEFAULT now(), payload "
      "text) WITH (autovacuum_enabled = true)",
      "INSERT INTO events (payload) SELECT 'e' || g FROM generate_series(1, 200000) g",
      "CREATE TABLE accounts (id int PRIMARY KEY, balance int)",
      "INSERT INTO accounts SELECT g, 0 FROM generate_series(1, 50000) g",
      "CREATE TABLE empty_now (id int PRIMARY KEY, v text)",
      "CREATE MATERIALIZED VIEW daily AS SELECT customer, count(*) FROM loaded GROUP BY customer",
      "VACUUM ANALYZE",
      // A few updates, far under autovacuum's 20% + 50 rows.
      "UPDATE accounts SET balance = balance + 1 WHERE id <= 500",
      // Reads that use the lookup, the FK index and the loaded table.
      "SELECT count(*) FROM customer c JOIN country k ON k.code = c.country WHERE c.id < 100",
      "SELECT * FROM loaded WHERE id = 42",
  };
  for (const char* sql : setup) {
    Must(*admin, sql);
    Must(*admin, "SELECT pg_stat_force_next_flush()");
  }
  Rows vm;
  if (admin
          ->Query("SELECT relallvisible, relpages FROM pg_class WHERE oid = 'events'::regclass",
                  &vm)
          .ok() &&
      vm.size() == 1)
    std::printf("false-advice: events all-visible %s of %s pages\n",
                vm.Text(0, "relallvisible").c_str(), vm.Text(0, "relpages").c_str());
  std::string cmd = Binary() + " maintain --db '" + uri + "' --format json";
  std::string out;
  int rc = testing::RunCommand(cmd, &out);
  if (rc != 0 && rc != 1) {
    std::fprintf(stderr, "pgvise maintain exited %d\n%s\n", rc, out.c_str());
    std::exit(1);
  }
  nlohmann::json j = nlohmann::json::parse(out);
  int on_tables = 0, server = 0;
  for (const auto& it : j["plan"]) {
    std::string object = it["recommendation"].value("object", "");
    bool ours = object.rfind("public.", 0) == 0;
    (ours ? on_tables : server) += 1;
    std::printf("false-advice: %s %s %s\n", ours ? "TABLE " : "SERVER",
                it.value("rule", "").c_str(), object.c_str());
  }
  std::printf("false-advice: %d plan items on the healthy tables, %d server-wide (exit %d)\n",
              on_tables, server, rc);
}

// --- Bloat accuracy -------------------------------------------------------

struct Shape {
  const char* name;
  const char* columns;
  const char* select;  // row g
  int rows;
  std::vector<const char*> indexes;
  // Issue 13 item 4's shapes. The "updated" levels' SET list (default: the
  // first column to itself); the deletion's WHERE (default: a random 25%);
  // whether the indexes exist before the load (so random keys split pages).
  const char* update_set = nullptr;
  const char* delete_where = nullptr;
  bool index_first = false;
};

// ioguix's table estimate: one header (23 + null bitmap when any column has
// NULLs), the sum of (1 - null_frac) * avg_width over columns, each MAXALIGNed
// once, + 4 for the line pointer; pages = reltuples / ((8192 - 24) * ff /
// 100 / tuple) + TOAST reltuples / 4, against relpages of heap + TOAST.
const char* kIoguixTable = R"SQL(
WITH cols AS (
  SELECT c.oid, c.relname, c.reltuples, c.relpages, c.reltoastrelid,
         coalesce((SELECT option_value::int FROM pg_options_to_table(c.reloptions)
                   WHERE option_name = 'fillfactor'), 100) AS ff,
         23 + CASE WHEN max(coalesce(s.null_frac, 0)) > 0 THEN (7 + count(*)) / 8 ELSE 0 END AS hdr,
         sum((1 - coalesce(s.null_frac, 0)) * coalesce(s.avg_width, 0)) AS data
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = c.relname AND s.attname = a.attname
  WHERE c.relkind = 'r' AND c.relname NOT LIKE 'packed%'
  GROUP BY c.oid, c.relname, c.reltuples, c.relpages, c.reltoastrelid, c.reloptions
), sized AS (
  SELECT cols.relname, ff, cols.relpages + coalesce(t.relpages, 0) AS pages, cols.reltuples,
         coalesce(t.reltuples, 0) AS toast_tuples,
         4 + (ceil(hdr / 8.0) * 8) + (ceil(data / 8.0) * 8) AS tuple
  FROM cols LEFT JOIN pg_class t ON t.oid = cols.reltoastrelid
)
SELECT relname,
       greatest(0, 1 - (ceil(reltuples / ((8192 - 24) * ff / (tuple * 100.0))) + ceil(toast_tuples / 4))
                       / nullif(pages, 0)) AS ratio
FROM sized
)SQL";

// ioguix's B-tree estimate: 8-byte header (+4 bitmap when nullable), the
// summed widths of the key columns, each MAXALIGNed, + 4 line pointer; leaf
// pages = reltuples / ((8192 - 24 - 16) * ff / 100 / tuple) + 1, against
// relpages. No deduplication.
const char* kIoguixBtree = R"SQL(
WITH k AS (
  SELECT ic.relname, ic.reltuples, ic.relpages,
         coalesce((SELECT option_value::int FROM pg_options_to_table(ic.reloptions)
                   WHERE option_name = 'fillfactor'), 90) AS ff,
         CASE WHEN max(coalesce(s.null_frac, 0)) = 0 THEN 8 ELSE 12 END AS hdr,
         sum((1 - coalesce(s.null_frac, 0)) * coalesce(s.avg_width, 1024)) AS data
  FROM pg_index i
  JOIN pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_class tc ON tc.oid = i.indrelid
  JOIN pg_namespace n ON n.oid = tc.relnamespace AND n.nspname = 'public'
  JOIN pg_attribute a ON a.attrelid = tc.oid AND a.attnum = ANY (i.indkey)
  LEFT JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = tc.relname AND s.attname = a.attname
  WHERE ic.relname NOT LIKE 'packed%'
  GROUP BY ic.relname, ic.reltuples, ic.relpages, ic.reloptions
)
SELECT relname,
       greatest(0, 1 - (1 + ceil(reltuples / floor((8192 - 24 - 16) * ff /
                 (100.0 * (4 + ceil(hdr / 8.0) * 8 + ceil(data / 8.0) * 8))))) / nullif(relpages, 0)) AS ratio
FROM k
)SQL";

struct Row {
  std::string shape, level, relation;
  bool index = false;
  double truth = 0, ours = 0, ioguix = 0, exact = -1;
  bool dedup = false;
  // Indexes: the plan's `index-bloat` item for it, against the truth.
  int64_t truth_wasted = 0;   // bytes a rebuild returns (pgstatindex, table vs packed copy)
  bool listed = false;        // the default plan (the rule's YAML thresholds) lists it
  bool concurrently = false;  // ... as REINDEX INDEX CONCURRENTLY, outside a transaction
};

// --first-shape N: load and measure only shapes N.. (1-based), e.g. the new ones.
int g_first_shape = 1;

void Bloat(double scale, bool reuse) {
  const std::vector<Shape> shapes = {
      {"narrow (int, int)", "id int, v int", "g, g % 1000", 1000000, {"id", "v"}},
      {"wide (text 400 B)",
       "id int, name text, body text, at timestamptz",
       "g, 'customer ' || g, repeat(md5(g::text), 12), now()",
       200000,
       {"name"}},
      {"alignment-heavy (bool/int8 interleaved)",
       "a bool, b int8, c bool, d int8, e int2, f timestamptz, g bool, h float8",
       "g % 2 = 0, g, g % 3 = 0, g * 2, (g % 100)::int2, now(), true, g / 3.0",
       1000000,
       {"b", "a, b"}},
      {"nullable mixed (30% NULLs)",
       "id int8, a int4, b text, c int8, d bool",
       "g, CASE WHEN g % 3 = 0 THEN NULL ELSE g END, CASE WHEN g % 3 = 1 THEN NULL ELSE "
       "md5(g::text) END, g, g % 2 = 0",
       500000,
       {"a"}},
      {"TOAST-heavy (3.2 kB docs)",
       "id int, doc text",
       "g, (SELECT string_agg(md5(g::text || x::text), '') FROM generate_series(1, 100) x)",
       20000,
       {"id"}},
      // Independent NULLs (30% in 5 of 10 columns): rows with a NULL carry a
      // 2-byte bitmap, so their header is 32 bytes instead of 24.
      {"nullable 10 columns (independent 30% NULLs)",
       "id int8, a int4, b text, c int8, d int2, e int8, f bool, h int4, k text, m int8",
       "g, CASE WHEN random() < 0.3 THEN NULL ELSE g END, CASE WHEN random() < 0.3 THEN NULL "
       "ELSE left(md5(g::text), 5 + g % 20) END, g, CASE WHEN random() < 0.3 THEN NULL ELSE 7 "
       "END, CASE WHEN random() < 0.3 THEN NULL ELSE g END, true, g, CASE WHEN random() < 0.3 "
       "THEN NULL ELSE 'x' END, g",
       400000,
       {"id", "a"}},
      // An index on an updated timestamp: each update moves the entry to the
      // right end; the old ones stay dead until VACUUM.
      {"updated timestamp (index on at)",
       "at timestamptz, id int, v int",
       "now() - g * interval '1 s', g, g % 1000",
       1000000,
       {"at"},
       "at = at + interval '30 days'"},
      // Random keys inserted into an existing B-tree: 50/50 page splits leave
      // leaves about 70% full even before any delete.
      {"random-key inserts (page splits)",
       "k uuid, v int",
       "md5(g::text || random()::text)::uuid, g",
       1000000,
       {"k"},
       nullptr,
       nullptr,
       true},
      // Deleted ranges: whole runs of keys gone, so VACUUM empties whole leaves.
      {"deleted ranges (25% in runs of 25,000)",
       "id int, v int",
       "g, g % 1000",
       1000000,
       {"id"},
       nullptr,
       "id % 100000 < 25000"},
  };
  struct Level {
    const char* name;
    const char* sql;  // %T = table, %U = the SET list, %W = the deletion's WHERE
  };
  const std::vector<Level> levels = {
      {"fresh", ""},
      {"25% deleted + VACUUM", "DELETE FROM %T WHERE %W; VACUUM %T"},
      {"every row updated", "UPDATE %T SET %U"},
      {"updated 3x + VACUUM", "UPDATE %T SET %U; UPDATE %T SET %U; UPDATE %T SET %U; VACUUM %T"},
  };
  std::string uri = reuse ? testing::DatabaseUri("maintain_bench_bloat")
                          : testing::FreshDatabase("maintain_bench_bloat");
  auto admin = testing::AdminSession(uri);
  if (reuse)  // a previous run's packed copies
    Must(*admin,
         "DO $$ DECLARE r record; BEGIN FOR r IN SELECT relname FROM pg_class WHERE relkind = 'r' "
         "AND relname LIKE 'packed%' LOOP EXECUTE 'DROP TABLE ' || r.relname; END LOOP; END $$");
  std::map<std::string, std::pair<std::string, std::string>> names;       // table -> shape, level
  std::map<std::string, std::pair<std::string, std::string>> index_cols;  // index -> table, cols
  double t0 = Now();
  int si = 0;
  for (const auto& sh : shapes) {
    if (++si < g_first_shape) continue;
    int li = 0;
    for (const auto& lv : levels) {
      std::string t = "s" + std::to_string(si) + "_l" + std::to_string(++li);
      names[t] = {sh.name, lv.name};
      int rows = std::max(1000, static_cast<int>(sh.rows * scale));
      if (reuse) {
        int k = 0;
        for (const char* cols : sh.indexes) index_cols[t + "_i" + std::to_string(k++)] = {t, cols};
        continue;
      }
      Must(*admin, std::string("CREATE TABLE ") + t + " (" + sh.columns +
                       ") WITH (autovacuum_enabled = false)");
      auto load = [&] {
        Must(*admin, "INSERT INTO " + t + " SELECT " + sh.select + " FROM generate_series(1, " +
                         std::to_string(rows) + ") g");
      };
      if (!sh.index_first) load();
      int k = 0;
      for (const char* cols : sh.indexes) {
        std::string iname = t + "_i" + std::to_string(k++);
        Must(*admin, "CREATE INDEX " + iname + " ON " + t + " (" + cols + ")");
        index_cols[iname] = {t, cols};
      }
      if (sh.index_first) load();
      std::string first = std::string(sh.columns).substr(0, std::string(sh.columns).find(' '));
      std::string set = sh.update_set ? sh.update_set : first + " = " + first;
      std::string where = sh.delete_where
                              ? sh.delete_where
                              : "ctid IN (SELECT ctid FROM " + t + " TABLESAMPLE BERNOULLI (25))";
      std::string sql = lv.sql;
      std::string stmt;
      for (size_t p = 0; p < sql.size(); ++p) {
        if (sql[p] == '%' && p + 1 < sql.size() &&
            (sql[p + 1] == 'T' || sql[p + 1] == 'U' || sql[p + 1] == 'W')) {
          stmt += sql[p + 1] == 'T' ? t : sql[p + 1] == 'U' ? set : where;
          ++p;
        } else if (sql[p] == ';') {
          Must(*admin, stmt);
          // Counters must include this statement before a VACUUM resets them.
          Must(*admin, "SELECT pg_stat_force_next_flush()");
          stmt.clear();
        } else {
          stmt += sql[p];
        }
      }
      if (!stmt.empty()) Must(*admin, stmt);
      Must(*admin, "SELECT pg_stat_force_next_flush()");
      Must(*admin, "ANALYZE " + t);
    }
  }
  Must(*admin, "SELECT pg_stat_force_next_flush()");
  Must(*admin, "SELECT 1");
  std::printf("bloat: loaded %zu tables in %.0f s\n", names.size(), Now() - t0);

  // Ours (and --exact), through the library on a READ ONLY session.
  RuleBook book;
  if (!RuleBook::LoadDir(testing::SourceDir() + "/rules", &book).ok()) Die("rules");
  SessionOptions so;
  so.conninfo = uri;
  std::unique_ptr<Session> ro;
  so.statement_timeout_ms = 3600000;
  if (!Session::Connect(so, &ro).ok()) Die("connect");
  MaintainRun run;
  double e0 = Now();
  if (Status st = BuildMaintenancePlan(*ro, book, {}, &run); !st.ok()) Die(st.message());
  double ours_ms = (Now() - e0) * 1000;
  MaintainOptions exact_opts;
  exact_opts.exact = true;
  RuleBook loose = book;  // measure every table/index exactly: ratio 0 flags all
  loose.Mutable("table-bloat")->thresholds["min_ratio"] = 0;
  loose.Mutable("index-bloat")->thresholds["min_ratio"] = 0;
  MaintainRun exact;
  double x0 = Now();
  if (Status st = BuildMaintenancePlan(*ro, loose, exact_opts, &exact); !st.ok()) Die(st.message());
  for (const auto& n : exact.plan.notes) std::printf("exact: %s\n", n.c_str());
  double exact_ms = (Now() - x0) * 1000;

  std::map<std::string, double> io_t, io_i;
  Rows r;
  double i0 = Now();
  if (Status st = admin->Query(kIoguixTable, &r); !st.ok()) Die(st.message());
  for (size_t i = 0; i < r.size(); ++i) io_t[r.Text(i, "relname")] = r.Double(i, "ratio");
  if (Status st = admin->Query(kIoguixBtree, &r); !st.ok()) Die(st.message());
  for (size_t i = 0; i < r.size(); ++i) io_i[r.Text(i, "relname")] = r.Double(i, "ratio");
  double io_ms = (Now() - i0) * 1000;

  std::vector<Row> out;
  double p0 = Now();
  for (size_t i = 0; i < run.snapshot.tables.size(); ++i) {
    const TableHealth& t = run.snapshot.tables[i];
    if (!names.count(t.name)) continue;
    std::string packed = "packed_" + t.name;
    Must(*admin, "CREATE TABLE " + packed + " AS SELECT * FROM " + t.name);
    // Truth for the heap (ours) and for heap + TOAST (what ioguix's query measures).
    if (!admin
             ->Query("SELECT (pgstattuple('" + t.name + "')).table_len AS a, (pgstattuple('" +
                         packed + "')).table_len AS b, pg_table_size('" + t.name +
                         "') - pg_relation_size('" + t.name + "', 'fsm') - pg_relation_size('" +
                         t.name + "', 'vm') AS at, pg_table_size('" + packed +
                         "') - pg_relation_size('" + packed + "', 'fsm') - pg_relation_size('" +
                         packed + "', 'vm') AS bt",
                     &r)
             .ok())
      Die("pgstattuple / pgstatindex");
    Row row;
    row.shape = names[t.name].first;
    row.level = names[t.name].second;
    row.relation = t.name;
    row.truth = std::max(0.0, 1 - r.Double(0, "b") / r.Double(0, "a"));
    double truth_with_toast = std::max(0.0, 1 - r.Double(0, "bt") / r.Double(0, "at"));
    row.ours = run.table_bloat[i].ratio;
    row.exact = exact.table_bloat[i].exact ? exact.table_bloat[i].ratio : -1;
    // ioguix counts TOAST pages in: compare it with the heap + TOAST truth.
    row.ioguix = io_t[t.name] - (truth_with_toast - row.truth);
    out.push_back(row);
    for (size_t j = 0; j < run.snapshot.indexes.size(); ++j) {
      const IndexHealth& x = run.snapshot.indexes[j];
      if (x.table_oid != t.oid || !index_cols.count(x.name)) continue;
      std::string pi = "packed_" + x.name;
      Must(*admin, "CREATE INDEX " + pi + " ON " + packed + " (" + index_cols[x.name].second + ")");
      if (!admin
               ->Query("SELECT (pgstatindex('" + x.name + "')).index_size AS a, (pgstatindex('" +
                           pi + "')).index_size AS b",
                       &r)
               .ok())
        Die("pgstattuple / pgstatindex");
      Row ir;
      ir.shape = row.shape;
      ir.level = row.level;
      ir.relation = x.name + " (" + index_cols[x.name].second + ")";
      ir.index = true;
      ir.truth = std::max(0.0, 1 - r.Double(0, "b") / r.Double(0, "a"));
      ir.ours = run.index_bloat[j].ratio;
      ir.dedup = run.index_bloat[j].deduplicated;
      ir.exact = exact.index_bloat[j].exact ? exact.index_bloat[j].ratio : -1;
      ir.ioguix = io_i[x.name];
      ir.truth_wasted = r.Int(0, "a") - r.Int(0, "b");
      for (const PlanItem& it : run.plan.items)
        if (it.rule == "index-bloat" && it.rec.object == x.Display()) {
          ir.listed = true;
          ir.concurrently =
              it.concurrently && it.rec.sql.rfind("REINDEX INDEX CONCURRENTLY ", 0) == 0;
        }
      out.push_back(ir);
    }
  }
  double truth_ms = (Now() - p0) * 1000;

  std::printf(
      "\n| shape | bloat level | relation | truth (pgstattuple) | pgvise estimate | error | "
      "ioguix-style | error | pgvise --exact | error |\n");
  std::printf("|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
  std::map<std::string, std::pair<double, double>> worst;  // shape(+idx) -> max |err| ours, ioguix
  for (const auto& x : out) {
    double eo = 100 * (x.ours - x.truth), ei = 100 * (x.ioguix - x.truth);
    std::string ex =
        x.exact < 0
            ? "-"
            : std::to_string(static_cast<int>(std::round(1000 * x.exact)) / 10.0).substr(0, 5) +
                  "%";
    char exe[32] = "-";
    if (x.exact >= 0) std::snprintf(exe, sizeof exe, "%+.1f", 100 * (x.exact - x.truth));
    std::printf("| %s | %s | %s%s | %.1f%% | %.1f%% | %+.1f | %.1f%% | %+.1f | %s | %s |\n",
                x.shape.c_str(), x.level.c_str(), x.relation.c_str(), x.dedup ? " dedup" : "",
                100 * x.truth, 100 * x.ours, eo, 100 * x.ioguix, ei, ex.c_str(), exe);
    auto& w = worst[x.shape + (x.index ? " - B-tree indexes" : " - heap")];
    w.first = std::max(w.first, std::fabs(eo));
    w.second = std::max(w.second, std::fabs(ei));
  }
  std::printf(
      "\n| shape | worst error pgvise (points) | worst error ioguix-style (points) "
      "|\n|---|---:|---:|\n");
  for (const auto& [k, v] : worst)
    std::printf("| %s | %.1f | %.1f |\n", k.c_str(), v.first, v.second);
  // What the plan does with the estimate: the `index-bloat` rule must list
  // exactly the indexes whose true bloat is above its YAML thresholds (ratio
  // and wasted bytes), each as REINDEX INDEX CONCURRENTLY, and none below.
  const Rule* ib = book.Find("index-bloat");
  if (!ib) Die("no index-bloat rule");
  const double min_ratio = ib->Threshold("min_ratio");
  const double min_bytes = ib->Threshold("min_wasted_bytes");
  std::printf(
      "\nindex-bloat items (thresholds min_ratio %.2f, min_wasted_bytes %.0f)\n"
      "| shape | bloat level | index | truth | wasted (truth) | above threshold | pgvise estimate "
      "| listed | REINDEX CONCURRENTLY | verdict |\n|---|---|---|---:|---:|---|---:|---|---|---|\n",
      min_ratio, min_bytes);
  int wrong = 0, listed = 0, indexes = 0;
  for (const auto& x : out) {
    if (!x.index) continue;
    ++indexes;
    const bool above = x.truth >= min_ratio && static_cast<double>(x.truth_wasted) >= min_bytes;
    const bool ok = above == x.listed && (!x.listed || x.concurrently);
    wrong += ok ? 0 : 1;
    listed += x.listed ? 1 : 0;
    std::printf("| %s | %s | %s | %.1f%% | %.1f MB | %s | %.1f%% | %s | %s | %s |\n",
                x.shape.c_str(), x.level.c_str(), x.relation.c_str(), 100 * x.truth,
                static_cast<double>(x.truth_wasted) / 1048576.0, above ? "yes" : "no", 100 * x.ours,
                x.listed ? "yes" : "no", x.listed ? (x.concurrently ? "yes" : "NO") : "-",
                ok ? "right" : "WRONG");
  }
  std::printf(
      "index-bloat: %d of %d indexes listed, %d wrong (listed below the thresholds, "
      "missed above them, or not CONCURRENTLY)\n",
      listed, indexes, wrong);
  std::printf(
      "\ntimes: pgvise whole plan (snapshot + estimates + rules) %.0f ms; ioguix-style queries "
      "%.0f ms; "
      "pgvise --exact (pgstattuple_approx + pgstatindex on all %zu tables) %.0f ms; truth "
      "(pgstattuple x2 + copies) %.0f ms\n",
      ours_ms, io_ms, names.size(), exact_ms, truth_ms);
}

}  // namespace

int main(int argc, char** argv) {
  int ntables = 10000;
  double scale = 1.0;
  bool do_scale = true, do_bloat = true, do_false = true, reuse = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--tables") && i + 1 < argc)
      ntables = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--rows-scale") && i + 1 < argc)
      scale = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--skip-scale"))
      do_scale = false;
    else if (!std::strcmp(argv[i], "--first-shape") && i + 1 < argc)
      g_first_shape = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--skip-bloat"))
      do_bloat = false;
    else if (!std::strcmp(argv[i], "--skip-false-advice"))
      do_false = false;
    else if (!std::strcmp(argv[i], "--reuse"))
      reuse = true;
  }
  if (testing::ClusterUri().empty()) {
    std::fprintf(stderr, "no PostgreSQL cluster\n");
    return 1;
  }
  if (do_false) FalseAdvice();
  if (do_scale) Scale(ntables);
  if (do_bloat) Bloat(scale, reuse);
  return 0;
}
