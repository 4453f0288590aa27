// LoadPartitions on a real server: strategies, key columns and types,
// bounds parsed by the server into numbers and spans, the default
// partition's key range from its statistics, and that a partition another
// session holds ACCESS EXCLUSIVE on is reported, not waited for.
#include "catalog/partitions.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "tests/support/pg_test.h"

namespace pgvise {
namespace {

std::unique_ptr<Session> Connect(const std::string& uri) {
  SessionOptions o;
  o.conninfo = uri;
  o.lock_timeout_ms = 300;
  std::unique_ptr<Session> s;
  EXPECT_TRUE(Session::Connect(o, &s).ok());
  return s;
}

const PartitionedTable* Find(const PartitionCatalog& c, const std::string& name) {
  for (const auto& t : c.tables)
    if (t.name == name) return &t;
  return nullptr;
}

TEST(LoadPartitions, BoundsKeysDefaultAndLocks) {
  const std::string uri = testing::FreshDatabase("catalog_parts");
  testing::Exec(uri, R"sql(
    SET TimeZone = 'UTC';
    CREATE TABLE ev (id bigint, ts timestamptz NOT NULL) PARTITION BY RANGE (ts);
    CREATE TABLE ev_b PARTITION OF ev FOR VALUES FROM ('2026-12-01 00:00+00') TO ('2027-01-01 00:00+00');
    CREATE TABLE ev_a PARTITION OF ev FOR VALUES FROM ('2026-11-01 00:00+00') TO ('2026-12-01 00:00+00');
    CREATE TABLE ev_d PARTITION OF ev DEFAULT;
    INSERT INTO ev SELECT g, '2027-03-01 00:00+00'::timestamptz + g * interval '1 hour'
      FROM generate_series(0, 99) g;
    ANALYZE ev_d;
    CREATE TABLE ids (id bigint) PARTITION BY RANGE (id);
    CREATE TABLE ids_0 PARTITION OF ids FOR VALUES FROM (MINVALUE) TO (1000);
    CREATE TABLE ids_1 PARTITION OF ids FOR VALUES FROM (1000) TO (3000);
    CREATE TABLE regions (r text, n int) PARTITION BY LIST (r);
    CREATE TABLE regions_eu PARTITION OF regions FOR VALUES IN ('eu', 'uk');
    CREATE TABLE byexpr (a int, b int) PARTITION BY RANGE ((a + b));
  )sql");
  auto s = Connect(uri);
  // The server's TimeZone decides how bounds print; read them in UTC.
  ASSERT_TRUE(s->Exec("SET TimeZone = 'UTC'").ok());
  PartitionCatalog cat;
  int64_t q0 = s->query_count();
  Status st = LoadPartitions(*s, &cat);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(s->query_count() - q0, 1);  // no pg_partman: one query
  EXPECT_FALSE(cat.has_partman);
  EXPECT_GT(cat.now_epoch, 1.7e9);

  const PartitionedTable* ev = Find(cat, "ev");
  ASSERT_NE(ev, nullptr);
  EXPECT_EQ(ev->strategy, 'r');
  EXPECT_EQ(ev->key_columns, std::vector<std::string>{"ts"});
  EXPECT_EQ(ev->key_type, "timestamp with time zone");
  EXPECT_TRUE(ev->TimeKey());
  EXPECT_LT(ev->since_analyze_s, 0);  // never analyzed itself
  ASSERT_EQ(ev->partitions.size(), 3u);
  // In bound order, the default last.
  EXPECT_EQ(ev->partitions[0].name, "ev_a");
  EXPECT_EQ(ev->partitions[1].name, "ev_b");
  EXPECT_EQ(ev->partitions[1].lower, "2026-12-01 00:00:00+00");
  EXPECT_EQ(ev->partitions[1].span, "1 mon");
  EXPECT_DOUBLE_EQ(ev->partitions[1].lower_num, 1796083200);  // 2026-12-01 UTC
  EXPECT_DOUBLE_EQ(ev->partitions[1].upper_num, 1798761600);  // 2027-01-01 UTC
  const PartitionInfo* d = ev->Default();
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->name, "ev_d");
  EXPECT_TRUE(d->has_key_stats);
  EXPECT_EQ(d->stats_min, "2027-03-01 00:00:00+00");
  EXPECT_EQ(d->stats_max, "2027-03-05 03:00:00+00");  // 99 hours later
  EXPECT_DOUBLE_EQ(d->stats_max_num - d->stats_min_num, 99 * 3600);

  const PartitionedTable* ids = Find(cat, "ids");
  ASSERT_NE(ids, nullptr);
  EXPECT_TRUE(ids->IntegerKey());
  ASSERT_EQ(ids->partitions.size(), 2u);
  EXPECT_EQ(ids->partitions[1].name, "ids_1");
  EXPECT_EQ(ids->partitions[1].span, "2000");
  EXPECT_FALSE(ids->partitions[0].has_numbers);  // MINVALUE
  EXPECT_EQ(ids->partitions[0].lower, "MINVALUE");

  const PartitionedTable* regions = Find(cat, "regions");
  ASSERT_NE(regions, nullptr);
  EXPECT_EQ(regions->strategy, 'l');
  EXPECT_EQ(regions->partitions[0].bound, "FOR VALUES IN ('eu', 'uk')");
  const PartitionedTable* byexpr = Find(cat, "byexpr");
  ASSERT_NE(byexpr, nullptr);
  EXPECT_EQ(byexpr->key_columns, std::vector<std::string>{""});  // an expression
  EXPECT_TRUE(byexpr->key_type.empty());

  // A partition held ACCESS EXCLUSIVE by another session: its bound is not
  // read (pg_get_expr would wait past lock_timeout), the rest is.
  auto holder = testing::AdminSession(uri);
  ASSERT_TRUE(holder->Exec("BEGIN").ok());
  ASSERT_TRUE(holder->Exec("LOCK TABLE ev_b IN ACCESS EXCLUSIVE MODE").ok());
  PartitionCatalog locked;
  st = LoadPartitions(*s, &locked);
  ASSERT_TRUE(st.ok()) << st.message();
  ev = Find(locked, "ev");
  ASSERT_NE(ev, nullptr);
  bool saw = false;
  for (const auto& p : ev->partitions)
    if (p.name == "ev_b") {
      saw = true;
      EXPECT_TRUE(p.locked);
      EXPECT_TRUE(p.bound.empty());
      EXPECT_FALSE(p.has_numbers);
    }
  EXPECT_TRUE(saw);
  ASSERT_TRUE(holder->Exec("ROLLBACK").ok());
  holder.reset();
  s.reset();
  testing::Exec(testing::ClusterUri(), "DROP DATABASE catalog_parts WITH (FORCE)");
}

}  // namespace
}  // namespace pgvise
