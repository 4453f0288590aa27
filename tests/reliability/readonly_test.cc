// Read-only, proven: every command that is not `--apply` runs as a role that
// cannot write (default_transaction_read_only = on, no CREATE on the database
// or its schemas) and leaves the catalog exactly as it found it.
//
// The fingerprint compared before and after covers what an analysis run could
// change by mistake: relations (name, kind, relfilenode — a rewrite changes
// it —, reloptions), indexes and their validity, extended statistics,
// materialized views, functions, schemas, and the manual VACUUM/ANALYZE
// counters (autovacuum is off on these tables, so only a command could move
// them). A command that tried to write would fail under this role (exit 3) —
// the test asserts success first, then sameness.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "tests/review_cli.h"

namespace fs = std::filesystem;

namespace pgvise::testing {
namespace {

constexpr const char* kRole = "rel_readonly_role";

class ReadOnlyRole : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    admin_uri_ = new std::string(FreshDatabase("rel_readonly"));
    dir_ = new std::string(TempDir("rel-readonly"));
    Exec(*admin_uri_, R"sql(
      CREATE SCHEMA shop;
      CREATE TABLE shop.customers (id int PRIMARY KEY, country text NOT NULL, email text,
                                   credit_limit int) WITH (autovacuum_enabled = off);
      CREATE TABLE shop.orders (id int PRIMARY KEY, customer_id int, status text NOT NULL,
                                amount int, created_at timestamptz NOT NULL)
        WITH (autovacuum_enabled = off);
      INSERT INTO shop.customers SELECT g, CASE WHEN g % 10 = 0 THEN 'DE' ELSE 'FR' END,
        'c' || g || '@example.com', 100 + g % 900 FROM generate_series(1, 20000) g;
      INSERT INTO shop.orders SELECT g, CASE WHEN g % 97 = 0 THEN NULL ELSE 1 + g % 20000 END,
        CASE WHEN g % 200 = 0 THEN 'open' ELSE 'done' END, g % 1000,
        now() - (g % 1000) * interval '1 hour' FROM generate_series(1, 200000) g;
      CREATE INDEX orders_status_idx ON shop.orders (status);
      CREATE INDEX orders_customer_idx ON shop.orders (customer_id);
      DELETE FROM shop.orders WHERE id % 5 = 0;
      ANALYZE shop.customers;
      ANALYZE shop.orders;
      CREATE MATERIALIZED VIEW shop.daily AS
        SELECT date_trunc('day', created_at) d, count(*) n FROM shop.orders GROUP BY 1;
      CREATE STATISTICS shop.orders_st (dependencies) ON customer_id, status FROM shop.orders;
      -- For the schema advisors: a time series trimmed by a retention DELETE
      -- (partitioning), a dashboard aggregate over a never-written fact table
      -- (materialized view), and two correlated columns (statistics).
      CREATE TABLE shop.readings (id bigint PRIMARY KEY, ts timestamptz NOT NULL, device int NOT NULL,
                                  value float8 NOT NULL) WITH (autovacuum_enabled = off);
      INSERT INTO shop.readings SELECT g, now() - interval '60 days' + g * interval '26 seconds',
        g % 40, (g % 1000) / 10.0 FROM generate_series(1, 200000) g;
      CREATE INDEX readings_ts ON shop.readings (ts);
      CREATE TABLE shop.products (id int PRIMARY KEY, category text NOT NULL)
        WITH (autovacuum_enabled = off);
      INSERT INTO shop.products SELECT g, 'cat' || (g % 20) FROM generate_series(1, 200) g;
      CREATE TABLE shop.sales (id bigint PRIMARY KEY, customer_id int NOT NULL,
                               product_id int NOT NULL, amount numeric(12,2), status text NOT NULL)
        WITH (autovacuum_enabled = off);
      INSERT INTO shop.sales SELECT g, 1 + g % 20000, 1 + (g * 7) % 200, (g % 1000) / 10.0,
        CASE WHEN g % 10 = 0 THEN 'refunded' ELSE 'paid' END FROM generate_series(1, 200000) g;
      CREATE TABLE shop.addr (id bigint PRIMARY KEY, city text NOT NULL, zip text NOT NULL)
        WITH (autovacuum_enabled = off);
      INSERT INTO shop.addr SELECT g, 'c' || ((g * 7919 % 1000) % 100), 'z' || (g * 7919 % 1000)
        FROM generate_series(1, 200000) g;
      ANALYZE shop.readings;
      ANALYZE shop.products;
      ANALYZE shop.sales;
      ANALYZE shop.addr;
    )sql");
    // The role pgvise runs as: it can read everything, write nothing.
    Exec(*admin_uri_, std::string("DROP ROLE IF EXISTS ") + kRole);
    Exec(*admin_uri_, std::string("CREATE ROLE ") + kRole + " LOGIN; " + "ALTER ROLE " + kRole +
                          " SET default_transaction_read_only = on; " +
                          "GRANT pg_read_all_stats, pg_read_all_data TO " + kRole + "; " +
                          "REVOKE CREATE, TEMPORARY ON DATABASE rel_readonly FROM PUBLIC; " +
                          "REVOKE CREATE ON SCHEMA public FROM PUBLIC; " +
                          "GRANT USAGE ON SCHEMA shop TO " + kRole);
    // postgresql://postgres@host:port/db -> postgresql://<role>@host:port/db
    std::string u = *admin_uri_;
    size_t at = u.find("postgres@");
    ASSERT_NE(at, std::string::npos) << u;
    role_uri_ = new std::string(u.replace(at, 8, kRole));

    File("workload.sql",
         "-- pgvise: calls=500\n"
         "SELECT id, amount FROM shop.orders WHERE customer_id = 4242 ORDER BY created_at DESC "
         "LIMIT 20;\n"
         "-- pgvise: calls=100\n"
         "SELECT id FROM shop.customers WHERE email = 'c77@example.com';\n"
         "-- pgvise: calls=50\n"
         "SELECT o.id FROM shop.orders o JOIN shop.customers c ON c.id = o.customer_id "
         "WHERE c.country = 'DE' AND o.status = 'open';\n");
    File(
        "schema_workload.sql",
        "-- pgvise: calls=500\n"
        "SELECT avg(value) FROM shop.readings WHERE ts >= now() - interval '1 day';\n"
        "-- pgvise: calls=1\n"
        "DELETE FROM shop.readings WHERE ts < now() - interval '50 days';\n"
        "-- pgvise: calls=300\n"
        "SELECT c.country, p.category, sum(s.amount), count(*) FROM shop.sales s "
        "JOIN shop.customers c ON c.id = s.customer_id JOIN shop.products p ON p.id = s.product_id "
        "WHERE s.status = 'paid' GROUP BY c.country, p.category;\n"
        "-- pgvise: calls=200\n"
        "SELECT id FROM shop.addr WHERE city = 'c7' AND zip = 'z7';\n");
    File("queries.sql",
         "SELECT c.id FROM shop.customers c\n"
         "WHERE (SELECT count(*) FROM shop.orders o WHERE o.customer_id = c.id) > 12;\n"
         "SELECT id FROM shop.orders WHERE status = 'open';\n");
    File("migration.sql",
         "ALTER TABLE shop.orders ADD COLUMN note text DEFAULT 'x';\n"
         "CREATE INDEX orders_amount_idx ON shop.orders (amount);\n");
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(*dir_, ec);
    delete dir_;
    delete admin_uri_;
    delete role_uri_;
  }
  static void File(const std::string& name, const std::string& text) {
    WriteWhole(*dir_ + "/" + name, text);
  }
  // Everything a mistaken analysis run could change, one line per object.
  static std::string Fingerprint() {
    auto s = AdminSession(*admin_uri_);
    Rows r;
    Status st = s->Query(R"sql(
      SELECT string_agg(line, E'\n' ORDER BY line) FROM (
        SELECT 'rel ' || n.nspname || '.' || c.relname || ' ' || c.relkind::text || ' ' ||
               c.relfilenode || ' ' || coalesce(array_to_string(c.reloptions, ','), '')
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
           AND n.nspname NOT LIKE 'pg_temp%' AND n.nspname NOT LIKE 'pg_toast_temp%'
        UNION ALL
        SELECT 'index ' || indexrelid::regclass || ' valid=' || indisvalid || ' ready=' || indisready
          FROM pg_index WHERE indrelid::regclass::text LIKE 'shop.%'
        UNION ALL
        SELECT 'stx ' || stxname || ' ' || stxkind::text FROM pg_statistic_ext
        UNION ALL
        SELECT 'matview ' || matviewname || ' ' || ispopulated FROM pg_matviews
        UNION ALL
        SELECT 'schema ' || nspname FROM pg_namespace
        UNION ALL
        SELECT 'proc ' || p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
        UNION ALL
        SELECT 'counters ' || relname || ' vacuum=' || vacuum_count || ' analyze=' || analyze_count ||
               ' last_vacuum=' || coalesce(last_vacuum::text, '-') ||
               ' last_analyze=' || coalesce(last_analyze::text, '-')
          FROM pg_stat_user_tables
      ) x(line))sql",
                         &r);
    EXPECT_TRUE(st.ok()) << st.message();
    return r.empty() ? "" : r.Text(0, 0);
  }
  // Runs `pgvise <args>` as the read-only role and checks it succeeded
  // (exit 0 or 1: findings are fine, a refused write would be exit 3) and
  // left the catalog unchanged.
  static void RunsReadOnly(const std::string& args) {
    const std::string before = Fingerprint();
    ASSERT_FALSE(before.empty());
    CmdResult r = RunPgvise(args, *dir_);
    EXPECT_TRUE(r.exit == 0 || r.exit == 1) << "pgvise " << args << "\nexit " << r.exit << "\n"
                                            << r.err << r.out.substr(0, 2000);
    EXPECT_EQ(Fingerprint(), before) << "pgvise " << args << " changed the catalog";
  }
  static std::string Db() { return "--db '" + *role_uri_ + "'"; }
  static std::string* admin_uri_;
  static std::string* role_uri_;
  static std::string* dir_;
};
std::string* ReadOnlyRole::admin_uri_ = nullptr;
std::string* ReadOnlyRole::role_uri_ = nullptr;
std::string* ReadOnlyRole::dir_ = nullptr;

// The role really cannot write: the premise of every test below.
TEST_F(ReadOnlyRole, TheRoleCannotWrite) {
  SessionOptions o;
  o.conninfo = *role_uri_;
  o.read_only = false;  // pgvise's own SET is not what stops it here: the role is
  std::unique_ptr<Session> s;
  ASSERT_TRUE(Session::Connect(o, &s).ok());
  EXPECT_FALSE(s->Exec("CREATE TABLE shop.x (a int)").ok());
  EXPECT_FALSE(s->Exec("INSERT INTO shop.customers VALUES (0, 'x', 'y', 1)").ok());
  EXPECT_FALSE(s->Exec("BEGIN READ WRITE; CREATE TEMP TABLE t (a int); COMMIT").ok());
}

TEST_F(ReadOnlyRole, ReviewWithDb) {
  RunsReadOnly("review " + Db() + " migration.sql queries.sql --format json");
}

TEST_F(ReadOnlyRole, ExplainAnalyze) {
  RunsReadOnly("explain " + Db() + " --analyze --sql queries.sql --format json");
}

TEST_F(ReadOnlyRole, AdviseFromSqlFiles) {
  RunsReadOnly("advise " + Db() + " -w workload.sql --budget 50MB --format json");
}

TEST_F(ReadOnlyRole, AdviseFromPgStatStatements) {
  // Give pg_stat_statements something to hand over, as the admin.
  auto s = AdminSession(*admin_uri_);
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(
        s->Exec("SELECT id FROM shop.orders WHERE customer_id = " + std::to_string(i)).ok());
  RunsReadOnly("advise " + Db() + " --budget 50MB --format json");
}

// The schema advisors (partitioning with a small --partition-min-size,
// materialized views, extended statistics) read as much as the index advisor
// and must write as little: each of them proposes something here (so each
// ran its what-ifs and estimates), and pg_class, pg_statistic_ext and
// pg_matviews are as they were.
TEST_F(ReadOnlyRole, AdviseWithTheSchemaAdvisors) {
  const std::string args =
      "advise " + Db() + " -w schema_workload.sql --partition-min-size 1MB --format json";
  RunsReadOnly(args);
  CmdResult r = RunPgvise(args, *dir_);
  ASSERT_EQ(r.exit, 0) << r.err;
  std::set<std::string> kinds;
  const auto doc = nlohmann::json::parse(r.out);
  for (const auto& rec : doc["recommendations"]) kinds.insert(rec["kind"].get<std::string>());
  for (const char* kind : {"partition", "materialized-view", "statistics"})
    EXPECT_TRUE(kinds.count(kind)) << kind << " missing from\n" << r.out.substr(0, 3000) << r.err;
}

TEST_F(ReadOnlyRole, RewriteVerify) {
  RunsReadOnly("rewrite " + Db() + " --verify queries.sql --format json");
}

TEST_F(ReadOnlyRole, MaintainDryRun) {
  RunsReadOnly("maintain " + Db() + " --format json");
  RunsReadOnly("maintain " + Db() + " --format sql");
}

}  // namespace
}  // namespace pgvise::testing
