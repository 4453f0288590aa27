#include "catalog/catalog.h"

#include <string>

#include "catalog/functions.h"
#include "catalog/storage.h"

#include <gtest/gtest.h>

#include "tests/support/pg_test.h"

namespace pgvise {
namespace {

class CatalogTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    uri_ = new std::string(testing::FreshDatabase("catalog_test"));
    testing::Exec(*uri_, R"sql(
      CREATE SCHEMA app;
      CREATE TABLE app.users (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, status text,
                              "Mixed Case" int, payload jsonb, tags text[]);
      INSERT INTO app.users SELECT g, 'u' || g || '@x', CASE WHEN g % 100 = 0 THEN 'banned' ELSE 'ok' END,
                                   g % 7, jsonb_build_object('k', g % 3), ARRAY['a']
                            FROM generate_series(1, 5000) g;
      CREATE INDEX users_status_lower ON app.users (status DESC NULLS LAST, lower(email)) INCLUDE ("Mixed Case")
        WHERE status <> 'ok';
      CREATE TABLE public.orders (id serial PRIMARY KEY, user_id bigint REFERENCES app.users(id), total numeric);
      INSERT INTO public.orders (user_id, total) SELECT 1 + g % 5000, g FROM generate_series(1, 20000) g;
      CREATE TABLE public.events (id int);
      CREATE TABLE public.events_y (id int);
      ANALYZE;
    )sql");
  }
  static void TearDownTestSuite() { delete uri_; }
  static std::string* uri_;
};
std::string* CatalogTest::uri_ = nullptr;

Catalog LoadCatalog(const std::string& uri) {
  SessionOptions o;
  o.conninfo = uri;
  std::unique_ptr<Session> s;
  EXPECT_TRUE(Session::Connect(o, &s).ok());
  Catalog c;
  int64_t before = s->query_count();
  Status st = Catalog::Load(*s, {}, &c);
  EXPECT_TRUE(st.ok()) << st.message();
  EXPECT_LE(s->query_count() - before, 5);  // a fixed number of round trips
  return c;
}

// The page size is the server's (SHOW block_size), not a constant; and the
// function and type look-ups each take one query for any number of names.
TEST_F(CatalogTest, BlockSizeFunctionsAndTypesFromTheServer) {
  Catalog c = LoadCatalog(*uri_);
  auto s = testing::AdminSession(*uri_);
  Rows r;
  ASSERT_TRUE(s->Query("SHOW block_size", &r).ok());
  EXPECT_EQ(c.block_size(), std::stoi(r.Text(0, 0)));
  EXPECT_GT(c.block_size(), 0);

  testing::Exec(*uri_, R"sql(
    CREATE OR REPLACE FUNCTION app.make_code() RETURNS text LANGUAGE sql VOLATILE
      AS 'SELECT md5(random()::text)';
    DO $$ BEGIN CREATE DOMAIN app.pos AS int CHECK (VALUE > 0) NOT NULL;
      EXCEPTION WHEN duplicate_object THEN NULL; END $$;
  )sql");
  FunctionCatalog fns;
  int queries = 0;
  ASSERT_TRUE(LoadFunctions(*s, {"make_code", "now", "generate_series"}, &fns, &queries).ok());
  EXPECT_EQ(queries, 1);
  auto mc = fns.by_name.find("make_code");
  ASSERT_NE(mc, fns.by_name.end());
  EXPECT_EQ(mc->second.schema, "app");
  EXPECT_EQ(mc->second.volatility, 'v');
  EXPECT_TRUE(mc->second.inlinable_sql);
  EXPECT_NE(mc->second.body.find("md5"), std::string::npos);
  EXPECT_EQ(fns.by_name.find("now")->second.volatility, 's');
  EXPECT_TRUE(fns.by_name.find("generate_series")->second.returns_set);

  TypeCatalog types;
  queries = 0;
  ASSERT_TRUE(LoadTypes(*s, {"pos"}, &types, &queries).ok());
  EXPECT_EQ(queries, 1);
  auto pos = types.by_name.find("pos");
  ASSERT_NE(pos, types.by_name.end());
  EXPECT_EQ(pos->second.kind, 'd');
  EXPECT_EQ(pos->second.base, "integer");
  EXPECT_NE(pos->second.constraints.find("NOT NULL"), std::string::npos);
  EXPECT_NE(pos->second.constraints.find("VALUE > 0"), std::string::npos);
  queries = 0;
  ASSERT_TRUE(LoadTypes(*s, {}, &types, &queries).ok());
  EXPECT_EQ(queries, 0);  // nothing asked, nothing sent
}

TEST_F(CatalogTest, TablesColumnsAndStatistics) {
  Catalog c = LoadCatalog(*uri_);
  EXPECT_EQ(c.FindTable("users"), nullptr);  // app is not on the search_path
  const TableInfo* users = c.FindTable("app.users");
  ASSERT_NE(users, nullptr);
  EXPECT_NEAR(users->Rows(), 5000, 1);
  EXPECT_GT(users->heap_bytes, 0);
  EXPECT_GE(users->total_bytes, users->heap_bytes + users->index_bytes);
  EXPECT_GE(users->n_tup_ins, 5000);
  const ColumnInfo* email = users->Column("email");
  ASSERT_NE(email, nullptr);
  EXPECT_TRUE(email->not_null);
  EXPECT_TRUE(email->has_stats);
  EXPECT_EQ(email->n_distinct, -1);  // unique
  EXPECT_NEAR(email->DistinctValues(5000), 5000, 1);
  const ColumnInfo* status = users->Column("status");
  ASSERT_NE(status, nullptr);
  EXPECT_FALSE(status->not_null);
  ASSERT_TRUE(status->ValueFrequency("banned").has_value());
  EXPECT_NEAR(*status->ValueFrequency("banned"), 0.01, 0.005);
  EXPECT_NEAR(*status->ValueFrequency("ok"), 0.99, 0.005);
  EXPECT_NE(users->Column("Mixed Case"), nullptr);
  EXPECT_TRUE(users->Column("payload")->IsJsonb());
  EXPECT_TRUE(users->Column("tags")->IsArray());
  const ColumnInfo* id = c.FindTable("orders")->Column("id");
  ASSERT_TRUE(id->correlation.has_value());
  EXPECT_GT(*id->correlation, 0.99);
  // A unique column has no MCVs: its histogram carries the representative
  // values, ascending, first and last at the data's ends.
  ASSERT_GE(id->histogram_bounds.size(), 2u);
  EXPECT_EQ(id->histogram_bounds.front(), "1");
  EXPECT_EQ(id->histogram_bounds.back(), "20000");
  EXPECT_TRUE(status->histogram_bounds.empty());  // every value is an MCV
  EXPECT_EQ(c.FindTable("public", "orders"), c.FindTable("orders"));
  EXPECT_NE(c.FindTable("events_y"), nullptr);
}

TEST_F(CatalogTest, IndexesAndConstraints) {
  Catalog c = LoadCatalog(*uri_);
  const TableInfo* users = c.FindTable("app.users");
  ASSERT_NE(users, nullptr);
  const IndexInfo* pk = users->Index("users_pkey");
  ASSERT_NE(pk, nullptr);
  EXPECT_TRUE(pk->primary);
  EXPECT_TRUE(pk->BacksConstraint());
  EXPECT_EQ(pk->constraint_type, 'p');
  ASSERT_EQ(pk->keys.size(), 1u);
  EXPECT_EQ(pk->keys[0].column, "id");
  const IndexInfo* uq = users->Index("users_email_key");
  ASSERT_NE(uq, nullptr);
  EXPECT_EQ(uq->constraint_type, 'u');

  const IndexInfo* x = users->Index("users_status_lower");
  ASSERT_NE(x, nullptr);
  EXPECT_FALSE(x->BacksConstraint());
  EXPECT_EQ(x->method, "btree");
  ASSERT_EQ(x->keys.size(), 2u);
  EXPECT_EQ(x->keys[0].column, "status");
  EXPECT_TRUE(x->keys[0].descending);
  EXPECT_FALSE(x->keys[0].nulls_first);
  EXPECT_TRUE(x->keys[1].column.empty());
  EXPECT_EQ(x->keys[1].expression, "lower(email)");
  EXPECT_TRUE(x->HasExpression());
  ASSERT_EQ(x->include.size(), 1u);
  EXPECT_EQ(x->include[0].column, "Mixed Case");
  EXPECT_EQ(x->predicate, "status <> 'ok'::text");
  EXPECT_NE(x->definition.find("CREATE INDEX users_status_lower ON app.users"), std::string::npos);
  EXPECT_GT(x->size_bytes, 0);
  EXPECT_EQ(c.FindIndex("app.users_status_lower"), x);

  const TableInfo* orders = c.FindTable("orders");
  ASSERT_NE(orders, nullptr);
  const ConstraintInfo* fk = nullptr;
  for (const auto& con : orders->constraints)
    if (con.type == 'f') fk = &con;
  ASSERT_NE(fk, nullptr);
  EXPECT_EQ(fk->columns, std::vector<std::string>{"user_id"});
  EXPECT_EQ(fk->referenced_table, "app.users");
  EXPECT_EQ(fk->referenced_columns, std::vector<std::string>{"id"});
}

// Catalog::Load (the planner's view: statistics, index keys, constraints)
// and LoadStorage (maintenance's view: physical layout, dropped columns,
// index attributes) are two readers of the same catalogs, each tuned for its
// command (see catalog/storage.h). Where their facts overlap they must say
// the same thing, or advise and maintain would disagree about one database:
// the same tables and oids, the same sizes (LoadStorage's relpages shortcut
// for a table unmodified since ANALYZE included), counters, columns and
// indexes. Read in one REPEATABLE READ transaction after a VACUUM ANALYZE, so
// autovacuum has nothing to change between the two reads.
TEST_F(CatalogTest, CatalogAndStorageAgreeOnTheFactsTheyShare) {
  testing::Exec(*uri_, "VACUUM ANALYZE");
  SessionOptions o;
  o.conninfo = *uri_;
  std::unique_ptr<Session> s;
  ASSERT_TRUE(Session::Connect(o, &s).ok());
  ASSERT_TRUE(s->Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").ok());
  Catalog c;
  Status st = Catalog::Load(*s, {}, &c);
  ASSERT_TRUE(st.ok()) << st.message();
  std::vector<TableHealth> tables;
  std::vector<IndexHealth> indexes;
  st = LoadStorage(*s, {}, &tables, &indexes);
  ASSERT_TRUE(st.ok()) << st.message();
  ASSERT_TRUE(s->Exec("COMMIT").ok());

  // The same plain tables on both sides (Catalog also lists partitioned
  // parents, which have no storage of their own).
  size_t plain = 0;
  for (const auto& t : c.tables())
    if (t.kind == 'r' || t.kind == 'm') ++plain;
  ASSERT_EQ(tables.size(), plain);
  ASSERT_GE(tables.size(), 4u);
  for (const TableHealth& h : tables) {
    SCOPED_TRACE(h.Display());
    const TableInfo* t = c.FindTable(h.schema, h.name);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->oid, h.oid);
    EXPECT_EQ(t->kind, h.relkind);
    EXPECT_EQ(t->relpages, h.relpages);
    EXPECT_DOUBLE_EQ(t->reltuples, h.reltuples);
    EXPECT_EQ(t->heap_bytes, h.heap_bytes);
    if (h.n_live_tup > 0) {  // the empty events tables have no pages
      EXPECT_GT(t->heap_bytes, 0);
    }
    EXPECT_EQ(t->xid_age, h.xid_age);
    EXPECT_EQ(t->n_tup_ins, h.n_tup_ins);
    EXPECT_EQ(t->n_tup_upd, h.n_tup_upd);
    EXPECT_EQ(t->n_tup_del, h.n_tup_del);
    EXPECT_EQ(t->n_live_tup, h.n_live_tup);
    EXPECT_EQ(t->n_dead_tup, h.n_dead_tup);
    EXPECT_EQ(t->n_mod_since_analyze, h.n_mod_since_analyze);
    EXPECT_EQ(t->vacuum_count, h.vacuum_count);
    EXPECT_EQ(t->analyze_count, h.analyze_count);

    // Columns: LoadStorage keeps dropped ones (they still take room in the
    // rows); the live ones are Catalog's, in the same order, with the same
    // statistics.
    std::vector<const ColumnHealth*> live;
    for (const auto& col : h.columns)
      if (!col.dropped) live.push_back(&col);
    ASSERT_EQ(t->columns.size(), live.size());
    for (size_t i = 0; i < live.size(); ++i) {
      const ColumnInfo& a = t->columns[i];
      const ColumnHealth& b = *live[i];
      EXPECT_EQ(a.name, b.name);
      EXPECT_EQ(a.attnum, b.attnum);
      EXPECT_EQ(a.not_null, b.notnull) << a.name;
      EXPECT_EQ(a.has_stats, b.has_stats) << a.name;
      EXPECT_DOUBLE_EQ(a.avg_width, b.avg_width) << a.name;
      EXPECT_DOUBLE_EQ(a.null_frac, b.null_frac) << a.name;
      EXPECT_DOUBLE_EQ(a.n_distinct, b.n_distinct) << a.name;
    }

    // Indexes: the same ones, with the same flags, sizes and usage.
    size_t n = 0;
    for (const IndexHealth& x : indexes) {
      if (x.table_oid != h.oid) continue;
      ++n;
      const IndexInfo* i = t->Index(x.name);
      ASSERT_NE(i, nullptr) << x.name;
      EXPECT_EQ(i->oid, x.oid);
      EXPECT_EQ(i->method, x.am);
      EXPECT_EQ(i->unique, x.unique);
      EXPECT_EQ(i->primary, x.primary);
      EXPECT_EQ(i->valid, x.valid);
      EXPECT_EQ(!i->constraint.empty(), x.backs_constraint) << x.name;
      EXPECT_EQ(!i->predicate.empty(), x.partial) << x.name;
      EXPECT_EQ(i->size_bytes, x.bytes) << x.name;
      EXPECT_EQ(i->idx_scan, x.idx_scan) << x.name;
      EXPECT_EQ(static_cast<int>(i->keys.size() + i->include.size()), x.natts) << x.name;
    }
    EXPECT_EQ(t->indexes.size(), n);
  }
}

TEST(SplitQualifiedName, QuotesAndCase) {
  std::string s, n;
  SplitQualifiedName("App.\"My \"\"T\".x", &s, &n);
  EXPECT_EQ(s, "My \"T");
  EXPECT_EQ(n, "x");
  SplitQualifiedName("Orders", &s, &n);
  EXPECT_EQ(s, "");
  EXPECT_EQ(n, "orders");
}

}  // namespace
}  // namespace pgvise
