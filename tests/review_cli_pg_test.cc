// Command-level tests of `pgvise review --db` against a real PostgreSQL 15:
// connection failures (refused, wrong password: exit 3, one line, password
// never shown), table sizes in messages, plan checks on EXPLAINed statements
// located at the statement, generic plans for $n, failed EXPLAINs as notes,
// that nothing the review reads is ever executed, and the rewrite models of
// changing-column-type and adding-field-with-volatile-default (volatility
// from pg_proc) checked against the server's own pg_class.relfilenode.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/review_cli.h"

namespace fs = std::filesystem;

namespace pgvise::testing {
namespace {

using json = nlohmann::json;

// A correlated subquery: its plan has a SubPlan run once per outer row.
const char* const kSubplanQuery =
    "SELECT u.id FROM users u\n"
    "WHERE (SELECT count(*) FROM orders o WHERE o.user_id = u.id) > $1;\n";

class ReviewDb : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    uri_ = new std::string(FreshDatabase("review_cli"));
    dir_ = new std::string(TempDir("pg"));
    Exec(*uri_, R"sql(
      CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL, country text);
      CREATE TABLE orders (id int PRIMARY KEY, user_id int NOT NULL, status text,
                           total_cents int, created_at timestamptz DEFAULT now());
      CREATE TABLE sessions (id int PRIMARY KEY, user_id int);
      INSERT INTO users SELECT g, 'u' || g || '@example.org', 'DE' FROM generate_series(1, 20000) g;
      INSERT INTO orders SELECT g, 1 + g % 20000, 'open', g % 1000, now()
        FROM generate_series(1, 100000) g;
      INSERT INTO sessions SELECT g, g FROM generate_series(1, 5000) g;
    )sql");
    // Vacuumed, not only analysed: an autovacuum pass between pgvise's
    // snapshot and the test's own size query would add the visibility map
    // fork (8 kB) and the sizes would differ.
    Exec(*uri_, "VACUUM ANALYZE");
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(*dir_, ec);
    delete dir_;
    delete uri_;
  }
  static std::string File(const std::string& name, const std::string& text) {
    WriteWhole(*dir_ + "/" + name, text);
    return name;
  }
  static CmdResult Review(const std::string& args) {
    return RunPgvise("review --rules '" + SourceDir() + "/rules' " + args, *dir_);
  }
  static std::string Scalar(const std::string& sql) {
    auto s = AdminSession(*uri_);
    Rows r;
    Status st = s->Query(sql, &r);
    if (!st.ok() || r.empty()) return "";
    return r.Text(0, 0);
  }
  // The findings of `rule` that `pgvise review --db` gives for the file
  // `sql` (lock_timeout set first, so require-lock-timeout stays quiet).
  static std::vector<json> Findings(const std::string& rule, const std::string& sql) {
    static int n = 0;
    std::string file =
        File("db" + std::to_string(++n) + ".sql", "SET lock_timeout = '1s';\n" + sql);
    CmdResult r = Review("--format json --db '" + *uri_ + "' " + file);
    EXPECT_TRUE(r.exit == 0 || r.exit == 1) << r.err;
    std::vector<json> out;
    json doc = json::parse(r.out);
    for (const auto& f : doc["findings"])
      if (f["rule"] == rule) out.push_back(f);
    return out;
  }
  // What PostgreSQL really does with `ALTER TABLE <copy> <action>` on a fresh
  // copy of `table` (same columns, indexes and rows), after `session_setup`
  // in the same session: a new pg_class.relfilenode is a rewrite, an index's
  // new relfilenode without one is an index rebuild, and seq_tup_read says
  // whether the rows were read.
  struct Storage {
    bool rewritten = false;
    bool index_rebuilt = false;
    long rows_read = 0;
  };
  static Storage AlterOnCopy(const std::string& table, const std::string& action,
                             const std::string& session_setup = "") {
    static int n = 0;
    const std::string t = table + "_copy_" + std::to_string(++n);
    // pg_stat_force_next_flush: this backend's counters are in
    // pg_stat_user_tables before the call returns.
    Exec(*uri_, "CREATE TABLE " + t + " (LIKE " + table + " INCLUDING ALL); INSERT INTO " + t +
                    " SELECT * FROM " + table + "; SELECT pg_stat_force_next_flush();");
    auto state = [&]() {
      return Scalar(
          "SELECT c.relfilenode || ' ' || coalesce(s.seq_tup_read, 0) || ' ' || "
          "coalesce((SELECT string_agg(ic.relfilenode::text, ',' ORDER BY ic.relname) FROM "
          "pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = "
          "c.oid), '-') FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid "
          "WHERE c.oid = '" +
          t + "'::regclass");
    };
    const std::string before = state();
    Exec(*uri_, session_setup + "ALTER TABLE " + t + " " + action +
                    "; SELECT pg_stat_force_next_flush();");
    const std::string after = state();
    Exec(*uri_, "DROP TABLE " + t);
    std::istringstream b(before), a(after);
    std::string file_b, file_a, idx_b, idx_a;
    long read_b = 0, read_a = 0;
    b >> file_b >> read_b >> idx_b;
    a >> file_a >> read_a >> idx_a;
    EXPECT_FALSE(file_b.empty());
    Storage s;
    s.rewritten = file_b != file_a;
    // Index names in the copy derive from the copy's name and stay put.
    s.index_rebuilt = !s.rewritten && idx_b != idx_a;
    s.rows_read = read_a - read_b;
    return s;
  }
  // The suite's database URI with user:password in place of the user.
  static std::string WithPassword(const std::string& password) {
    std::string u = *uri_;
    size_t at = u.find("postgres@");
    return u.substr(0, at) + "pgvise_pw:" + password + "@" + u.substr(at + 9);
  }
  static std::string* uri_;
  static std::string* dir_;
};
std::string* ReviewDb::uri_ = nullptr;
std::string* ReviewDb::dir_ = nullptr;

TEST_F(ReviewDb, RefusedConnectionIsExit3InOneLine) {
  File("q.sql", "SELECT 1;\n");
  // Port 1 is privileged and never a PostgreSQL server here: refused at once.
  CmdResult r = Review("--db postgresql://postgres@127.0.0.1:1/nodb q.sql");
  EXPECT_EQ(r.exit, 3) << r.err;
  EXPECT_EQ(r.ErrLines(), 1) << r.err;
  EXPECT_NE(r.err.find("cannot connect to postgresql://postgres@127.0.0.1:1/nodb"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.out, "");
}

TEST_F(ReviewDb, WrongPasswordIsExit3AndThePasswordIsNeverShown) {
  File("q.sql", "SELECT 1;\n");
  const std::string secret = "wrong-Pa55word-xyz";
  CmdResult r = Review("--db '" + WithPassword(secret) + "' q.sql");
  EXPECT_EQ(r.exit, 3) << r.err;
  EXPECT_EQ(r.ErrLines(), 1) << r.err;
  EXPECT_NE(r.err.find("password authentication failed"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(secret), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find(secret), std::string::npos) << r.out;
  // The key=value form is masked the same way.
  const std::string after_colon = uri_->substr(uri_->rfind(':') + 1);  // "PORT/review_cli"
  std::string kv = "host=127.0.0.1 port=" + after_colon.substr(0, after_colon.find('/')) +
                   " user=pgvise_pw dbname=review_cli password=" + secret;
  r = Review("--db '" + kv + "' q.sql");
  EXPECT_EQ(r.exit, 3) << r.err;
  EXPECT_EQ(r.err.find(secret), std::string::npos) << r.err;
  EXPECT_EQ(r.ErrLines(), 1) << r.err;
}

TEST_F(ReviewDb, RightPasswordConnects) {
  File("q.sql", "SELECT id FROM users WHERE id = 1;\n");
  CmdResult r = Review("--db '" + WithPassword("pgvise-secret") + "' q.sql");
  EXPECT_EQ(r.exit, 0) << r.err << r.out;
  EXPECT_EQ(r.err.find("pgvise-secret"), std::string::npos);
}

TEST_F(ReviewDb, MessagesCarryTableSizeAndRowsFromTheDatabase) {
  File("mig.sql", "CREATE INDEX orders_user_idx ON orders (user_id);\n");
  CmdResult r = Review("--format json --db '" + *uri_ + "' mig.sql");
  ASSERT_NE(r.exit, 3) << r.err;
  json doc = json::parse(r.out);
  ASSERT_FALSE(doc["findings"].empty()) << r.out;
  const std::string msg = doc["findings"][0]["message"];
  // The server's own rendering of the size: the message must agree with it.
  const std::string size = Scalar("SELECT pg_size_pretty(pg_total_relation_size('orders'))");
  ASSERT_FALSE(size.empty());
  EXPECT_NE(msg.find(size), std::string::npos) << msg << " / " << size;
  EXPECT_NE(msg.find("rows"), std::string::npos) << msg;
  // Offline the same finding has no size.
  r = Review("--format json mig.sql");
  EXPECT_EQ(json::parse(r.out)["findings"][0]["message"].get<std::string>().find(size),
            std::string::npos);
}

TEST_F(ReviewDb, PlanFindingsAreLocatedAtTheirStatementWithTheNode) {
  File("plan.sql", std::string("SELECT 1;\n\n") + kSubplanQuery);
  CmdResult r = Review("--format json --fail-on never --db '" + *uri_ + "' plan.sql");
  ASSERT_EQ(r.exit, 0) << r.err;
  json doc = json::parse(r.out);
  const json* plan = nullptr;
  for (const auto& f : doc["findings"])
    if (f["location"].contains("plan_path")) plan = &f;
  ASSERT_NE(plan, nullptr) << "no plan finding: " << r.out;
  EXPECT_EQ((*plan)["location"]["file"], "plan.sql");
  EXPECT_EQ((*plan)["location"]["line"], 3);
  EXPECT_EQ((*plan)["location"]["column"], 1);
  EXPECT_FALSE((*plan)["location"]["node_type"].get<std::string>().empty());
  // The $1 statement got a generic plan: no note says it could not be EXPLAINed.
  for (const auto& n : doc["notes"])
    EXPECT_EQ(n.get<std::string>().find("not EXPLAINed"), std::string::npos) << n;
  // Offline there is no plan, so no plan finding.
  r = Review("--format json --fail-on never plan.sql");
  for (const auto& f : json::parse(r.out)["findings"])
    EXPECT_FALSE(f["location"].contains("plan_path")) << f;
  // And the text format names the node after the position.
  r = Review("--fail-on never --db '" + *uri_ + "' plan.sql");
  EXPECT_NE(
      r.out.find("plan.sql:3:1: warning: " + (*plan)["location"]["plan_path"].get<std::string>()),
      std::string::npos)
      << r.out;
}

TEST_F(ReviewDb, IgnoreCommentSuppressesPlanFindingsToo) {
  File("plan.sql", kSubplanQuery);
  CmdResult r = Review("--format json --fail-on never --db '" + *uri_ + "' plan.sql");
  json doc = json::parse(r.out);
  std::string rule;
  for (const auto& f : doc["findings"])
    if (f["location"].contains("plan_path")) rule = f["rule"];
  ASSERT_FALSE(rule.empty()) << r.out;
  File("plan-ignored.sql", "-- pgvise-ignore: " + rule + "\n" + kSubplanQuery);
  r = Review("--format json --fail-on never --db '" + *uri_ + "' plan-ignored.sql");
  for (const auto& f : json::parse(r.out)["findings"]) EXPECT_NE(f["rule"], rule) << f;
}

TEST_F(ReviewDb, FailedExplainIsANoteNotAnError) {
  File("newtable.sql",
       "CREATE TABLE audit (id int);\n"
       "SELECT id FROM audit WHERE id = 1;\n");
  CmdResult r = Review("--format json --db '" + *uri_ + "' newtable.sql");
  EXPECT_EQ(r.exit, 0) << r.err;
  json doc = json::parse(r.out);
  bool noted = false;
  for (const auto& n : doc["notes"]) {
    const std::string s = n;
    if (s.find("newtable.sql:2:1: not EXPLAINed") == 0 && s.find("audit") != std::string::npos)
      noted = true;
  }
  EXPECT_TRUE(noted) << r.out;
  // The table was not created: review never executes the file.
  EXPECT_EQ(Scalar("SELECT count(*) FROM pg_class WHERE relname = 'audit'"), "0");
}

TEST_F(ReviewDb, ReviewNeverChangesTheDatabase) {
  const std::string before_sessions = Scalar("SELECT count(*) FROM sessions");
  const std::string before_orders = Scalar("SELECT count(*) FROM orders WHERE status = 'open'");
  File("writes.sql",
       "DELETE FROM sessions;\n"
       "UPDATE orders SET status = 'closed';\n"
       "INSERT INTO sessions VALUES (999999, 1);\n"
       "DROP TABLE users;\n");
  CmdResult r = Review("--format json --fail-on never --db '" + *uri_ + "' writes.sql");
  EXPECT_EQ(r.exit, 0) << r.err;
  EXPECT_EQ(Scalar("SELECT count(*) FROM sessions"), before_sessions);
  EXPECT_EQ(Scalar("SELECT count(*) FROM orders WHERE status = 'open'"), before_orders);
  EXPECT_EQ(Scalar("SELECT count(*) FROM pg_class WHERE relname = 'users'"), "1");
}

// Issue 4 with --db: the plan check's SubPlan finding carries the rewrite
// (checked against the catalog), and the proposal returns the same rows.
TEST_F(ReviewDb, SubplanFindingCarriesARewriteWithTheSameResult) {
  const std::string q =
      "SELECT u.id FROM users u WHERE (SELECT count(*) FROM sessions s WHERE s.user_id = u.id) = 0";
  File("rw.sql", q + ";\n");
  CmdResult r = Review("--format json --fail-on never --db '" + *uri_ + "' rw.sql");
  ASSERT_EQ(r.exit, 0) << r.err;
  const json* plan = nullptr;
  json doc = json::parse(r.out);
  for (const auto& f : doc["findings"])
    if (f["rule"] == "subplan-per-outer-row") plan = &f;
  ASSERT_NE(plan, nullptr) << r.out;
  EXPECT_EQ((*plan)["evidence"]["rewrite_passes"], "decorrelate-scalar-where");
  const std::string s = (*plan)["suggestion"];
  const std::string marker = "rewritten by pgvise rewrite (decorrelate-scalar-where): ";
  size_t at = s.find(marker);
  ASSERT_NE(at, std::string::npos) << s;
  std::string sql = s.substr(at + marker.size());
  sql = sql.substr(0, sql.find("  -- "));
  EXPECT_NE(sql.find("GROUP BY"), std::string::npos) << sql;
  EXPECT_NE(sql.find("LEFT JOIN"), std::string::npos) << sql;
  // Same multiset of rows: the 15,000 users without a session, which a naive
  // inner join (the COUNT bug) would lose.
  const std::string digest = "SELECT count(*) || ':' || coalesce(sum(hashint4(id)), 0) FROM (";
  std::string before = Scalar(digest + q + ") t");
  ASSERT_EQ(before.substr(0, before.find(':')), "15000");
  EXPECT_EQ(Scalar(digest + sql + ") t"), before) << sql;
}

// ---- changing-column-type against PostgreSQL itself ----------------------
//
// For every ALTER COLUMN TYPE below, `pgvise review --db` decides from the
// catalog's old type whether the table is rewritten; then the same ALTER runs
// on a fresh copy of the table (same columns, same indexes) and
// pg_class.relfilenode says what PostgreSQL really did: a new relfilenode for
// the table is a rewrite, a new one for the index is a rebuild. The rule
// must report a rewrite exactly when the server rewrote, and stay silent only
// when neither the table nor an index on the column got new storage.
class ReviewDbColumnTypes : public ReviewDb {
 protected:
  static void SetUpTestSuite() {
    uri_ = new std::string(FreshDatabase("review_cli_types"));
    dir_ = new std::string(TempDir("pg"));
    Exec(*uri_, R"sql(
      CREATE SCHEMA shop;
      CREATE TABLE shop.accounts (
        id int PRIMARY KEY, name varchar(20), bio text, score integer,
        balance numeric(10,2), seen_at timestamp, born_at timestamp, code char(5),
        bits bit(5), tags varchar(20)[], addr cidr);
      CREATE INDEX accounts_name_idx ON shop.accounts (name);
      CREATE INDEX accounts_seen_idx ON shop.accounts (seen_at);
      CREATE INDEX accounts_bits_idx ON shop.accounts (bits);
      INSERT INTO shop.accounts
        SELECT g, 'n' || g, 'bio ' || g, g, g / 7.0, now(), now(), 'c' || g % 10, B'10101',
               ARRAY['t' || g], '10.0.0.0/8'
        FROM generate_series(1, 2000) g;
      ANALYZE shop.accounts;
    )sql");
  }

  struct Verdict {
    bool fired = false;
    std::string table_rewrite;  // the finding's evidence: "yes" | "no" | "" (no finding)
    std::string message;
  };
  // What `pgvise review --db` says about `prefix` + ALTER ... TYPE `type`.
  static Verdict Review1(const std::string& prefix, const std::string& column,
                         const std::string& type) {
    Verdict v;
    for (const json& f :
         Findings("changing-column-type", prefix + "ALTER TABLE shop.accounts ALTER COLUMN " +
                                              column + " TYPE " + type + ";\n")) {
      v.fired = true;
      v.message = f["message"];
      v.table_rewrite = f["evidence"].value("table_rewrite", "");
    }
    return v;
  }
  // What PostgreSQL does with the same ALTER on a copy of shop.accounts, in
  // a session whose TimeZone is `timezone`.
  static Storage Server(const std::string& timezone, const std::string& column,
                        const std::string& type) {
    return AlterOnCopy("shop.accounts", "ALTER COLUMN " + column + " TYPE " + type,
                       "SET TimeZone = '" + timezone + "'; ");
  }
};

TEST_F(ReviewDbColumnTypes, RuleAgreesWithTheServersRelfilenode) {
  struct Case {
    const char* column;
    const char* type;
  };
  const Case cases[] = {
      {"name", "varchar(40)"},
      {"name", "varchar(10)"},
      {"name", "text"},
      {"name", "varchar"},
      {"bio", "varchar(100)"},
      {"bio", "varchar"},
      {"bio", "bpchar"},
      {"score", "bigint"},
      {"score", "text"},
      {"score", "integer"},
      {"balance", "numeric(12,2)"},
      {"balance", "numeric(12,3)"},
      {"balance", "numeric"},
      {"balance", "numeric(8,2)"},
      {"code", "char(10)"},
      {"code", "bpchar"},
      {"code", "text"},
      {"bits", "varbit"},
      {"bits", "varbit(10)"},
      {"tags", "text[]"},
      {"tags", "varchar(40)[]"},
      {"addr", "inet"},
      {"seen_at", "timestamp(3)"},
      {"seen_at", "timestamptz"},
      {"born_at", "timestamptz"},
      {"name", "varchar(20) COLLATE \"C\""},
      {"bio", "text COLLATE \"C\""},
      {"id", "oid"},
      {"score", "oid"},
      {"name", "varchar(40) USING lower(name)"},
      {"name", "varchar(40) USING name"},
  };
  int silent = 0, rewrites = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.column) + " TYPE " + c.type);
    // No TimeZone in the file: the rule cannot assume UTC, so the server
    // session uses a zone with an offset.
    Verdict v = Review1("", c.column, c.type);
    Storage s = Server("Europe/Paris", c.column, c.type);
    EXPECT_EQ(v.fired && v.table_rewrite == "yes", s.rewritten) << v.message;
    EXPECT_EQ(v.fired, s.rewritten || s.index_rebuilt) << v.message;
    if (v.fired && v.table_rewrite == "no") {
      EXPECT_TRUE(s.index_rebuilt) << v.message;
    }
    silent += !v.fired;
    rewrites += s.rewritten;
  }
  // Both outcomes occur, so the comparison above tests something.
  EXPECT_GE(silent, 8);
  EXPECT_GE(rewrites, 8);
}

TEST_F(ReviewDbColumnTypes, UtcSessionMakesTimestamptzCatalogOnly) {
  for (const char* column : {"seen_at", "born_at"}) {
    SCOPED_TRACE(column);
    Verdict v = Review1("SET TIME ZONE 'UTC';\n", column, "timestamptz");
    Storage s = Server("UTC", column, "timestamptz");
    EXPECT_FALSE(s.rewritten);
    EXPECT_EQ(v.fired && v.table_rewrite == "yes", s.rewritten) << v.message;
    EXPECT_EQ(v.fired, s.index_rebuilt) << v.message;
  }
}

TEST_F(ReviewDbColumnTypes, VarcharWideningIsSilentAndIntToBigintFires) {
  Verdict widen = Review1("", "name", "varchar(40)");
  EXPECT_FALSE(widen.fired) << widen.message;
  Verdict bigint = Review1("", "score", "bigint");
  ASSERT_TRUE(bigint.fired);
  EXPECT_NE(bigint.message.find("changes shop.accounts.score from integer to bigint"),
            std::string::npos)
      << bigint.message;
  // Offline (no --db) the widening is still reported: the old type is unknown.
  File("offline.sql", "ALTER TABLE shop.accounts ALTER COLUMN name TYPE varchar(40);\n");
  CmdResult r = Review("--format json offline.sql");
  json doc = json::parse(r.out);  // kept alive: the loop walks into it
  bool fired = false;
  for (const auto& f : doc["findings"]) fired |= f["rule"] == "changing-column-type";
  EXPECT_TRUE(fired) << r.out;
}

// adding-field-with-volatile-default with --db: volatility comes from
// pg_proc, not a list. User functions VOLATILE (declared, and by omission),
// STABLE and IMMUTABLE, LANGUAGE sql bodies the planner inlines, PL/pgSQL,
// an overloaded pair that disagrees, and a name the
// database's search_path resolves to a volatile function in a schema before
// public. Every ALTER also runs on a copy of the table: the rule must fire
// exactly when pg_class.relfilenode changes (PostgreSQL 11+ stores a
// non-volatile default once, as attmissingval, without touching the rows).
class ReviewDbVolatility : public ReviewDb {
 protected:
  static void SetUpTestSuite() {
    uri_ = new std::string(FreshDatabase("review_cli_volatility"));
    dir_ = new std::string(TempDir("pg"));
    Exec(*uri_, R"sql(
      CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
      CREATE SCHEMA my_schema;
      CREATE SCHEMA app;
      CREATE FUNCTION my_schema.make_code() RETURNS text LANGUAGE sql VOLATILE
        AS $$ SELECT md5(random()::text) $$;
      -- No volatility given: VOLATILE in pg_proc. The planner inlines a
      -- LANGUAGE sql body that is one expression, so plain_code() becomes the
      -- constant 'p' (no rewrite) and sql_random() becomes md5(random()...).
      CREATE FUNCTION my_schema.plain_code() RETURNS text LANGUAGE sql
        AS $$ SELECT 'p' $$;
      CREATE FUNCTION my_schema.sql_random() RETURNS text LANGUAGE sql
        AS $$ SELECT md5(random()::text) $$;
      -- SQL-standard bodies (PostgreSQL 14+) are inlined the same way.
      CREATE FUNCTION my_schema.std_return() RETURNS text LANGUAGE sql RETURN 'p';
      CREATE FUNCTION my_schema.std_atomic() RETURNS text LANGUAGE sql
        BEGIN ATOMIC SELECT 'p'; END;
      CREATE FUNCTION my_schema.std_random() RETURNS text LANGUAGE sql
        RETURN md5(random()::text);
      -- PL/pgSQL is never inlined: a VOLATILE call, whatever it returns.
      CREATE FUNCTION my_schema.pl_const() RETURNS text LANGUAGE plpgsql
        AS $$ BEGIN RETURN 'p'; END $$;
      CREATE FUNCTION my_schema.stable_code() RETURNS text LANGUAGE sql STABLE
        AS $$ SELECT current_setting('application_name') $$;
      CREATE FUNCTION my_schema.fixed_code() RETURNS text LANGUAGE sql IMMUTABLE
        AS $$ SELECT 'x' $$;
      -- Same argument count, different volatility: pick(1) calls the first.
      CREATE FUNCTION public.pick(a integer) RETURNS text LANGUAGE sql VOLATILE
        AS $$ SELECT (random() * a)::text $$;
      CREATE FUNCTION public.pick(a text) RETURNS text LANGUAGE sql IMMUTABLE
        AS $$ SELECT a $$;
      -- Unqualified code() resolves to app.code(): app comes first on the path.
      CREATE FUNCTION app.code() RETURNS text LANGUAGE sql VOLATILE
        AS $$ SELECT md5(random()::text) $$;
      CREATE FUNCTION public.code() RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'c' $$;
      CREATE FUNCTION public.tag() RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 't' $$;
      CREATE TABLE items (id int PRIMARY KEY, name text);
      CREATE INDEX items_name_idx ON items (name);
      INSERT INTO items SELECT g, 'n' || g FROM generate_series(1, 2000) g;
      ANALYZE items;
    )sql");
    Exec(*uri_, "ALTER DATABASE review_cli_volatility SET search_path = \"$user\", app, public");
  }

  struct Verdict {
    bool fired = false;
    std::string message, source;
  };
  static Verdict Review1(const std::string& column_def, const std::string& before = "") {
    Verdict v;
    for (const json& f : Findings("adding-field-with-volatile-default",
                                  before + "ALTER TABLE items ADD COLUMN " + column_def + ";\n")) {
      v.fired = true;
      v.message = f["message"];
      v.source = f["evidence"].value("volatility_source", "");
    }
    return v;
  }
  // Whether PostgreSQL rewrites a copy of items for the same ADD COLUMN.
  static bool ServerRewrites(const std::string& column_def) {
    return AlterOnCopy("items", "ADD COLUMN " + column_def).rewritten;
  }
};

TEST_F(ReviewDbVolatility, RuleAgreesWithTheServersRelfilenode) {
  const char* const cases[] = {
      "c text DEFAULT my_schema.make_code()",
      "c text DEFAULT my_schema.plain_code()",
      "c text DEFAULT my_schema.sql_random()",
      "c text DEFAULT my_schema.pl_const()",
      "c text DEFAULT my_schema.std_return()",
      "c text DEFAULT my_schema.std_atomic()",
      "c text DEFAULT my_schema.std_random()",
      "c text DEFAULT upper(my_schema.make_code())",
      "c text DEFAULT my_schema.stable_code()",
      "c text DEFAULT my_schema.fixed_code()",
      "c text DEFAULT code()",
      "c text DEFAULT public.code()",
      "c text DEFAULT tag()",
      "c timestamptz DEFAULT now()",
      "c timestamptz DEFAULT CURRENT_TIMESTAMP",
      "c timestamptz DEFAULT clock_timestamp()",
      "c uuid DEFAULT gen_random_uuid()",
      "c text NOT NULL DEFAULT 'x'",
      "c bigserial",
  };
  int fired = 0, silent = 0;
  for (const char* c : cases) {
    SCOPED_TRACE(c);
    Verdict v = Review1(c);
    bool rewrites = ServerRewrites(c);
    EXPECT_EQ(v.fired, rewrites) << v.message;
    if (v.fired && std::string(c).find("serial") == std::string::npos) {
      EXPECT_EQ(v.source, "pg_proc") << v.message;
      EXPECT_NE(v.message.find("is VOLATILE in pg_proc"), std::string::npos) << v.message;
    }
    fired += v.fired;
    silent += !v.fired;
  }
  EXPECT_GE(fired, 5);
  EXPECT_GE(silent, 7);
}

TEST_F(ReviewDbVolatility, UserFunctionsNamedInTheMessage) {
  Verdict v = Review1("c text DEFAULT my_schema.make_code()");
  ASSERT_TRUE(v.fired);
  EXPECT_NE(v.message.find("my_schema.make_code() is VOLATILE in pg_proc (my_schema.make_code())"),
            std::string::npos)
      << v.message;
  EXPECT_NE(v.message.find("every existing row is rewritten with its own value under ACCESS "
                           "EXCLUSIVE"),
            std::string::npos)
      << v.message;
  // The search_path decides which code() an unqualified call means.
  v = Review1("c text DEFAULT code()");
  ASSERT_TRUE(v.fired);
  EXPECT_NE(v.message.find("(app.code())"), std::string::npos) << v.message;
  // Offline the list knows none of them: the rule stays silent (no --db).
  std::string file = File("offline_vol.sql",
                          "ALTER TABLE items ADD COLUMN c text DEFAULT my_schema.make_code();\n");
  CmdResult r = Review("--format json " + file);
  json doc = json::parse(r.out);
  for (const auto& f : doc["findings"]) EXPECT_NE(f["rule"], "adding-field-with-volatile-default");
}

TEST_F(ReviewDbVolatility, DisagreeingOverloadsAreAssumedVolatile) {
  // pick(1) calls the VOLATILE pick(integer) and rewrites; pick('x') calls
  // the IMMUTABLE pick(text) and does not. pgvise does not resolve argument
  // types, so both are reported, and the message says why.
  EXPECT_TRUE(ServerRewrites("c text DEFAULT pick(1)"));
  EXPECT_FALSE(ServerRewrites("c text DEFAULT pick('x')"));
  for (const char* c : {"c text DEFAULT pick(1)", "c text DEFAULT pick('x')"}) {
    SCOPED_TRACE(c);
    Verdict v = Review1(c);
    ASSERT_TRUE(v.fired);
    EXPECT_EQ(v.source, "pg_proc: overloads disagree");
    EXPECT_NE(v.message.find("public.pick(a integer) VOLATILE, public.pick(a text) IMMUTABLE"),
              std::string::npos)
        << v.message;
    EXPECT_NE(v.message.find("assumes VOLATILE"), std::string::npos) << v.message;
  }
}

// A function the same migration creates is not in pg_proc yet (review
// executes nothing): its CREATE FUNCTION decides, VOLATILE when it says nothing.
TEST_F(ReviewDbVolatility, FunctionCreatedByTheMigrationItself) {
  struct Case {
    const char* name;
    const char* create;
  };
  const Case cases[] = {
      {"fresh_pl", "RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN 'x'; END $$"},
      {"fresh_imm", "RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN RETURN 'x'; END $$"},
      {"fresh_sql", "RETURNS text LANGUAGE sql AS $$ SELECT 'x' $$"},
      {"fresh_rand", "RETURNS text LANGUAGE sql AS $$ SELECT random()::text $$"},
      {"fresh_std", "RETURNS text LANGUAGE sql RETURN 'x'"},
  };
  int fired = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string create =
        std::string("CREATE FUNCTION my_schema.") + c.name + "() " + c.create + ";\n";
    const std::string column = std::string("c text DEFAULT my_schema.") + c.name + "()";
    Verdict v = Review1(column, create);
    Exec(*uri_, create);
    bool rewrites = ServerRewrites(column);
    Exec(*uri_, std::string("DROP FUNCTION my_schema.") + c.name + "()");
    EXPECT_EQ(v.fired, rewrites) << v.message;
    if (v.fired) {
      EXPECT_EQ(v.source, "this file's CREATE FUNCTION") << v.message;
    }
    fired += v.fired;
  }
  EXPECT_EQ(fired, 2);
}

TEST_F(ReviewDbVolatility, OnePgProcQueryPerRunWhateverTheFiles) {
  File("many1.sql",
       "SET lock_timeout = '1s';\n"
       "ALTER TABLE items ADD COLUMN a text DEFAULT my_schema.make_code(),\n"
       "  ADD COLUMN b text DEFAULT my_schema.fixed_code();\n"
       "ALTER TABLE items ADD COLUMN d timestamptz DEFAULT now();\n");
  File("many2.sql",
       "SET lock_timeout = '1s';\n"
       "ALTER TABLE items ADD COLUMN e text DEFAULT pick(1);\n"
       "ALTER TABLE items ADD COLUMN f text DEFAULT upper(tag());\n");
  const std::string count_sql =
      "SELECT coalesce(sum(s.calls), 0) FROM pg_stat_statements s JOIN pg_database d "
      "ON d.oid = s.dbid WHERE d.datname = current_database() "
      "AND s.query LIKE '%pg_get_function_identity_arguments%' "
      "AND s.query NOT LIKE '%pg_stat_statements%'";
  long before = std::stol(Scalar(count_sql));
  CmdResult r = Review("--format json --db '" + *uri_ + "' many1.sql many2.sql");
  ASSERT_TRUE(r.exit == 0 || r.exit == 1) << r.err;
  long after = std::stol(Scalar(count_sql));
  EXPECT_EQ(after - before, 1) << "pg_proc queries for two files with six calls";
  json doc = json::parse(r.out);
  int fired = 0;
  for (const auto& f : doc["findings"]) fired += f["rule"] == "adding-field-with-volatile-default";
  EXPECT_EQ(fired, 2) << r.out;  // make_code() and pick(1)
}

// ---- domains and enums against PostgreSQL itself -------------------------
//
// adding-column-with-constrained-domain and changing-column-type with domain
// and enum types, both resolved through ONE pg_type query per run. Each
// ALTER is reviewed by the real `pgvise review --db`, then run on a fresh
// copy of shop.items: a new pg_class.relfilenode is a rewrite, and
// pg_stat_user_tables.seq_tup_read says whether the server read the rows.
// On PG 15 every constrained case was a full rewrite that read all rows,
// and every other case read none: no "scan without rewrite" exists here,
// which the test asserts too (so a server that starts scanning instead of
// rewriting would be noticed).
class ReviewDbDomains : public ReviewDb {
 protected:
  static constexpr int kRows = 3000;
  static void SetUpTestSuite() {
    uri_ = new std::string(FreshDatabase("review_cli_domains"));
    dir_ = new std::string(TempDir("pg"));
    Exec(*uri_, R"sql(
      CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
      CREATE SCHEMA shop;
      CREATE SCHEMA app;
      CREATE SCHEMA other;
      CREATE DOMAIN public.d_check AS int CHECK (VALUE > 0);
      CREATE DOMAIN public.d_nn AS int NOT NULL;
      CREATE DOMAIN public.d_plain AS int;
      CREATE DOMAIN public.d_over_check AS public.d_check;
      CREATE DOMAIN public.d_over_plain AS public.d_plain;
      CREATE DOMAIN public.d_text AS text;
      CREATE DOMAIN public.d_text_check AS text CHECK (length(VALUE) < 100);
      CREATE DOMAIN public.d_text_nn AS text NOT NULL;
      CREATE DOMAIN public.d_vc40 AS varchar(40);
      CREATE DOMAIN public.d_big AS bigint;
      CREATE TYPE public.mood AS ENUM ('a', 'b');
      -- Same name twice: the database's search_path puts app first.
      CREATE DOMAIN app.code AS text CHECK (VALUE <> '');
      CREATE DOMAIN public.code AS text;
      -- Off the path: only a qualified name reaches it.
      CREATE DOMAIN other.hidden AS int CHECK (VALUE < 1000000);
      CREATE DOMAIN public.hidden AS int;
      CREATE TABLE shop.items (id int PRIMARY KEY, t text, v varchar(20), i int,
                               dt d_text, dc d_text_check, m mood);
      CREATE INDEX items_t_idx ON shop.items (t);
      INSERT INTO shop.items
        SELECT g, 't' || g, 'v' || g, g, 'x', 'y', 'a' FROM generate_series(1, 3000) g;
      ANALYZE shop.items;
    )sql");
    Exec(*uri_, "ALTER DATABASE " + Scalar("SELECT current_database()") +
                    " SET search_path = \"$user\", app, public");
  }

  // What PostgreSQL does with `ALTER TABLE <copy> <action>` on a copy of
  // shop.items.
  static Storage Server(const std::string& action) { return AlterOnCopy("shop.items", action); }
};

TEST_F(ReviewDbDomains, AddColumnRuleAgreesWithTheServersRelfilenode) {
  const char* const cases[] = {
      "x d_check",
      "x d_check DEFAULT 1",
      "x d_nn DEFAULT 1",
      "x d_over_check",
      "x d_over_check DEFAULT 1",
      "x public.d_check DEFAULT 2",
      "x d_text_nn DEFAULT ''",
      "x code DEFAULT 'c'",  // app.code, first on the path
      "x other.hidden",
      "x d_plain",
      "x d_plain DEFAULT 1",
      "x d_over_plain DEFAULT 1",
      "x public.code",
      "x hidden",  // public.hidden
      "x mood",
      "x mood DEFAULT 'a'",
      "x d_check[]",
      "x d_check[] DEFAULT '{1}'",
      "x int NOT NULL DEFAULT 1",
      "x d_plain NOT NULL DEFAULT 1",
  };
  int fired = 0, silent = 0;
  for (const char* c : cases) {
    SCOPED_TRACE(c);
    std::vector<json> f = Findings("adding-column-with-constrained-domain",
                                   std::string("ALTER TABLE shop.items ADD COLUMN ") + c + ";\n");
    Storage s = Server(std::string("ADD COLUMN ") + c);
    EXPECT_EQ(!f.empty(), s.rewritten) << (f.empty() ? "" : std::string(f[0]["message"]));
    // A rewrite reads every row (once to rewrite, once more per index it
    // rebuilds); otherwise nothing is read: no case is a scan without a rewrite.
    EXPECT_TRUE(s.rewritten ? s.rows_read >= kRows : s.rows_read == 0) << s.rows_read;
    if (!f.empty()) {
      EXPECT_EQ(f[0]["evidence"]["type_source"], "pg_type");
      EXPECT_EQ(f[0]["evidence"]["table_rewrite"], "yes");
    }
    fired += !f.empty();
    silent += f.empty();
  }
  EXPECT_GE(fired, 8);
  EXPECT_GE(silent, 10);
}

// ADD COLUMN with a CHECK on the new column: PostgreSQL 15 reads every row to
// check it but keeps the table's storage — the one "scan without rewrite" of
// ADD COLUMN. adding-check-without-not-valid must fire exactly then.
TEST_F(ReviewDbDomains, AddColumnWithACheckScansWithoutRewriteAndIsReported) {
  const char* const cases[] = {
      "x int CHECK (x > 0)",
      "x int DEFAULT 1 CHECK (x > 0)",
      "x text CONSTRAINT x_len CHECK (length(x) < 5)",
      "x int DEFAULT 1",
      "x int",
  };
  int fired = 0;
  for (const char* c : cases) {
    SCOPED_TRACE(c);
    std::vector<json> f = Findings("adding-check-without-not-valid",
                                   std::string("ALTER TABLE shop.items ADD COLUMN ") + c + ";\n");
    Storage s = Server(std::string("ADD COLUMN ") + c);
    EXPECT_FALSE(s.rewritten);
    EXPECT_EQ(!f.empty(), s.rows_read >= kRows) << s.rows_read;
    if (!f.empty()) {
      EXPECT_NE(std::string(f[0]["suggestion"]).find("NOT VALID"), std::string::npos);
      ++fired;
    }
  }
  EXPECT_EQ(fired, 3);
}

// ADD COLUMN ... NOT NULL without a DEFAULT: the server refuses it on a table
// with rows and accepts it on an empty one; with --db the rule says exactly
// that (an error on the table with rows, nothing on the empty one).
TEST_F(ReviewDbDomains, NotNullColumnWithoutDefaultFailsExactlyWhenTheTableHasRows) {
  Exec(*uri_, "CREATE TABLE IF NOT EXISTS shop.empty_t (id int); ANALYZE shop.empty_t;");
  for (const char* table : {"shop.items", "shop.empty_t"}) {
    SCOPED_TRACE(table);
    const std::string alter = std::string("ALTER TABLE ") + table + " ADD COLUMN nn_" +
                              (std::string(table) == "shop.items" ? "a" : "b") + " int NOT NULL";
    std::vector<json> f = Findings("adding-not-null-column-without-default", alter + ";\n");
    auto admin = AdminSession(*uri_);
    Status server = admin->Exec("BEGIN; " + alter + "; ROLLBACK;");
    admin->Exec("ROLLBACK");
    EXPECT_EQ(!f.empty(), !server.ok()) << server.message();
    if (!f.empty()) {
      EXPECT_EQ(f[0]["severity"], "error");
      EXPECT_NE(server.message().find("contains null values"), std::string::npos)
          << server.message();
    }
  }
}

TEST_F(ReviewDbDomains, NotNullDomainWithoutDefaultFailsAndTheMessageSaysSo) {
  std::vector<json> f = Findings("adding-column-with-constrained-domain",
                                 "ALTER TABLE shop.items ADD COLUMN x d_nn;\n");
  ASSERT_EQ(f.size(), 1u);
  const std::string m = f[0]["message"];
  EXPECT_NE(m.find("domain public.d_nn has constraints (d_nn: NOT NULL)"), std::string::npos) << m;
  EXPECT_NE(m.find("the statement fails on a table with rows"), std::string::npos) << m;
  EXPECT_NE(m.find("shop.items ("), std::string::npos) << m;  // size and rows from --db
  auto s = AdminSession(*uri_);
  Status st = s->Exec("ALTER TABLE shop.items ADD COLUMN x d_nn");
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("does not allow null values"), std::string::npos) << st.message();
}

TEST_F(ReviewDbDomains, TypeChangeRuleAgreesWithTheServersRelfilenode) {
  const char* const cases[] = {
      "t TYPE d_text",
      "t TYPE d_text_check",
      "t TYPE d_text_nn",
      "v TYPE d_text",
      "v TYPE d_vc40",
      "t TYPE d_vc40",
      "i TYPE d_plain",
      "i TYPE d_check",
      "i TYPE d_over_plain",
      "i TYPE d_over_check",
      "i TYPE d_big",
      "dt TYPE text",
      "dc TYPE text",
      "dt TYPE d_text_check",
      "dc TYPE d_text",
      "dc TYPE d_text_check",
      "dt TYPE varchar(10)",
      "dt TYPE varchar",
      "m TYPE text",
      "m TYPE mood",
      "t TYPE code",
      "t TYPE public.code",
      "t TYPE d_text[] USING ARRAY[t]",
  };
  int fired = 0, silent = 0;
  for (const char* c : cases) {
    SCOPED_TRACE(c);
    std::vector<json> f = Findings("changing-column-type",
                                   std::string("ALTER TABLE shop.items ALTER COLUMN ") + c + ";\n");
    Storage s = Server(std::string("ALTER COLUMN ") + c);
    // Silent only when neither the table nor an index on the column got new
    // storage; "table_rewrite: yes" exactly when the table did.
    EXPECT_EQ(!f.empty(), s.rewritten || s.index_rebuilt)
        << (f.empty() ? "" : std::string(f[0]["message"]));
    if (!f.empty()) {
      EXPECT_EQ(f[0]["evidence"]["table_rewrite"] == "yes", s.rewritten) << f[0]["message"];
    }
    EXPECT_TRUE(s.rewritten ? s.rows_read >= kRows : s.rows_read == 0) << s.rows_read;
    fired += !f.empty();
    silent += f.empty();
  }
  EXPECT_GE(fired, 8);
  EXPECT_GE(silent, 8);
}

TEST_F(ReviewDbDomains, DomainCreatedByTheMigrationItself) {
  // Not in the database yet: the file's CREATE DOMAIN decides, also over a
  // domain of the database.
  std::vector<json> f = Findings("adding-column-with-constrained-domain",
                                 "CREATE DOMAIN shop.qty AS d_plain CHECK (VALUE >= 0);\n"
                                 "CREATE DOMAIN shop.qty2 AS shop.qty;\n"
                                 "ALTER TABLE shop.items ADD COLUMN x shop.qty2 DEFAULT 0;\n");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0]["evidence"]["type_source"], "this file's CREATE DOMAIN");
  EXPECT_EQ(f[0]["evidence"]["base_type"], "integer");
  Exec(*uri_,
       "CREATE DOMAIN shop.qty AS d_plain CHECK (VALUE >= 0); "
       "CREATE DOMAIN shop.qty2 AS shop.qty;");
  EXPECT_TRUE(Server("ADD COLUMN x shop.qty2 DEFAULT 0").rewritten);
  Exec(*uri_, "DROP DOMAIN shop.qty2; DROP DOMAIN shop.qty;");
}

TEST_F(ReviewDbDomains, OnePgTypeQueryPerRunWhateverTheFiles) {
  File("types1.sql",
       "SET lock_timeout = '1s';\n"
       "ALTER TABLE shop.items ADD COLUMN a d_check, ADD COLUMN b mood;\n"
       "ALTER TABLE shop.items ALTER COLUMN dt TYPE text;\n");
  File("types2.sql",
       "SET lock_timeout = '1s';\n"
       "ALTER TABLE shop.items ADD COLUMN c d_over_check DEFAULT 1;\n"
       "ALTER TABLE shop.items ALTER COLUMN t TYPE d_text_check;\n");
  const std::string count_sql =
      "SELECT coalesce(sum(s.calls), 0) FROM pg_stat_statements s JOIN pg_database d "
      "ON d.oid = s.dbid WHERE d.datname = current_database() "
      "AND s.query LIKE '%typbasetype%' AND s.query LIKE '%typname = ANY%' "
      // (the catalog's columns query follows typbasetype too, for the base
      // type of domain columns; it is not a type lookup)
      "AND s.query NOT LIKE '%pg_stat_statements%'";
  long before = std::stol(Scalar(count_sql));
  CmdResult r = Review("--format json --db '" + *uri_ + "' types1.sql types2.sql");
  ASSERT_TRUE(r.exit == 0 || r.exit == 1) << r.err;
  long after = std::stol(Scalar(count_sql));
  EXPECT_EQ(after - before, 1) << "pg_type queries for two files with five types";
  json doc = json::parse(r.out);
  int domain = 0, type = 0;
  for (const auto& f : doc["findings"]) {
    domain += f["rule"] == "adding-column-with-constrained-domain";
    type += f["rule"] == "changing-column-type";
  }
  EXPECT_EQ(domain, 2) << r.out;  // a and c; b (an enum) keeps the table
  EXPECT_EQ(type, 1) << r.out;    // t TYPE d_text_check; dt (a plain domain) -> text does not
  // Without --db nothing is asked and a database domain is unknown.
  CmdResult offline = Review("--format json types1.sql types2.sql");
  json off = json::parse(offline.out);
  for (const auto& f : off["findings"])
    EXPECT_NE(f["rule"], "adding-column-with-constrained-domain") << offline.out;
}

}  // namespace
}  // namespace pgvise::testing
