#!/usr/bin/env bash
# Captures the real PostgreSQL 15 plans in this folder (tests and the bench
# read them). Run against a throwaway cluster:
#   scripts/pgcluster.sh start /tmp/pgcap && tests/data/plans/capture.sh "$(cat /tmp/pgcap/uri)"
# It creates database `plan_capture`, loads a small shop and writes one
# <case>.json per plan (EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) unless noted),
# plus psql-aligned.txt (psql's output pasted as-is) and large-union.json
# (a multi-MB VERBOSE plan for bench/plan_bench.cc).
set -euo pipefail
base=${1:?usage: capture.sh POSTGRES_URI}
out=$(cd "$(dirname "$0")" && pwd)
PSQL=${PSQL:-/usr/lib/postgresql/15/bin/psql}
db="${base%/*}/plan_capture"
"$PSQL" -X -q "$base" -c "DROP DATABASE IF EXISTS plan_capture" -c "CREATE DATABASE plan_capture"
q() { "$PSQL" -X -q -At "$db" -v ON_ERROR_STOP=1 "$@"; }

q <<'SQL'
SET client_min_messages = warning;
CREATE TABLE users (id int PRIMARY KEY, country text NOT NULL, city text NOT NULL, tz text NOT NULL, created_at timestamptz NOT NULL);
INSERT INTO users
SELECT g, c.country, c.city, 'tz-' || c.country, now() - g * interval '1 minute'
FROM generate_series(1, 100000) g
CROSS JOIN LATERAL (SELECT (ARRAY['US','FR','DE','JP','BR','IN','GB','CA','IT','ES'])[1 + g % 10] AS country) k
CROSS JOIN LATERAL (SELECT k.country || '-city-' || (g % 7) AS city, k.country) c;
CREATE TABLE orders (id bigint PRIMARY KEY, user_id int NOT NULL, status text NOT NULL,
                     created_at timestamptz NOT NULL, total numeric(12,2) NOT NULL, note text);
INSERT INTO orders
SELECT g, 1 + (g::bigint * 7919) % 100000, CASE WHEN g % 1000 = 0 THEN 'refunded' WHEN g % 10 = 0 THEN 'open' ELSE 'done' END,
       now() - (g % 100000) * interval '1 minute', (g % 9973) / 7.0, repeat('x', 40)
FROM generate_series(1, 1000000) g;
CREATE INDEX orders_user_id ON orders (user_id);
CREATE TABLE events (id bigint NOT NULL, kind int NOT NULL, at date NOT NULL) PARTITION BY RANGE (at);
DO $$ BEGIN FOR m IN 0..23 LOOP
  EXECUTE format('CREATE TABLE events_%s PARTITION OF events FOR VALUES FROM (%L) TO (%L)', m,
                 date '2024-01-01' + make_interval(months => m), date '2024-01-01' + make_interval(months => m + 1));
END LOOP; END $$;
INSERT INTO events SELECT g, g % 50, date '2024-01-01' + (g % 730) FROM generate_series(1, 200000) g;
CREATE TABLE readings (id int, sensor int, val int);
INSERT INTO readings SELECT g, g % 100, g % 1000 FROM generate_series(1, 500000) g;
CREATE INDEX readings_sensor_val ON readings (sensor, val);
CREATE TABLE order_notes (order_id bigint NOT NULL REFERENCES orders, body text);
-- archive: written with CREATE TABLE AS (a ring buffer) and bigger than a
-- quarter of shared_buffers, so scans of it read from outside shared buffers.
CREATE TABLE archive AS SELECT g AS id, md5(g::text) || repeat('z', 200) AS payload FROM generate_series(1, 500000) g;
ANALYZE users; ANALYZE orders; ANALYZE events; ANALYZE archive;
-- readings: updated after its last vacuum, so index-only scans must visit the heap.
VACUUM ANALYZE readings;
UPDATE readings SET val = val WHERE id % 3 = 0;
SQL

explain() {  # name options setup sql
  local name=$1 opts=$2 setup=$3 sql=$4
  q -c "BEGIN" -c "$setup" -c "EXPLAIN ($opts) $sql" -c "ROLLBACK" | grep -Ev '^(SET|BEGIN|ROLLBACK)$' >"$out/$name.json"
  echo "wrote $name.json ($(wc -c <"$out/$name.json") bytes)"
}
AB="ANALYZE, BUFFERS, FORMAT JSON"
explain row-misestimate "$AB" "SET work_mem='64MB'" \
  "SELECT * FROM users WHERE country = 'US' AND tz = 'tz-US' AND city = 'US-city-3'"
explain sort-spill "$AB" "SET work_mem='1MB'" \
  "SELECT id, total FROM orders ORDER BY total DESC, id"
explain hash-join-batches "$AB" "SET work_mem='1MB'" \
  "SELECT o.id, u.city FROM orders o JOIN users u ON u.id = o.user_id WHERE o.status = 'open'"
explain hashagg-spill "$AB" "SET work_mem='1MB'; SET enable_sort = off; SET enable_indexscan = off; SET max_parallel_workers_per_gather = 0" \
  "SELECT user_id, count(*), sum(total) FROM orders GROUP BY user_id"
explain seq-scan-filter "$AB" "SET max_parallel_workers_per_gather = 0" \
  "SELECT id, total FROM orders WHERE status = 'refunded' AND total > 10"
explain nested-loop "$AB" "SET enable_hashjoin = off; SET enable_mergejoin = off" \
  "SELECT count(*) FROM users u JOIN orders o ON o.user_id = u.id WHERE u.country = 'FR'"
explain index-only-heap-fetches "$AB" "SET enable_seqscan = off; SET enable_bitmapscan = off" \
  "SELECT sensor, val FROM readings WHERE sensor = 5"
explain bitmap-lossy "$AB" "SET work_mem = '64kB'; SET enable_seqscan = off; SET enable_indexscan = off" \
  "SELECT count(note) FROM orders WHERE user_id BETWEEN 1000 AND 60000"
explain parallel-not-launched "$AB" "SET max_parallel_workers = 0; SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0" \
  "SELECT count(*) FROM orders WHERE total > 100"
explain subplan-per-row "$AB" "SET work_mem='64MB'" \
  "SELECT u.id, (SELECT count(*) FROM orders o WHERE o.user_id = u.id) FROM users u WHERE u.country = 'JP' AND u.id < 20000"
explain jit "$AB" "SET jit = on; SET jit_above_cost = 0; SET jit_inline_above_cost = 0; SET jit_optimize_above_cost = 0" \
  "SELECT country, count(*) FROM users WHERE id < 100 GROUP BY country"
explain append-no-pruning "$AB" "SET max_parallel_workers_per_gather = 0" \
  "SELECT count(*) FROM events WHERE kind = 7"
explain append-pruned "$AB" "SET max_parallel_workers_per_gather = 0" \
  "SELECT count(*) FROM events WHERE at >= date '2024-03-01' AND at < date '2024-04-01' AND kind = 7"
explain reads-from-disk "$AB" "SET max_parallel_workers_per_gather = 0" \
  "SELECT count(*) FROM archive WHERE payload LIKE 'y%'"
explain planning-dominates "$AB, SETTINGS" "SET from_collapse_limit = 20; SET join_collapse_limit = 20; SET geqo = off" \
  "SELECT 1 FROM users u1 JOIN users u2 ON u2.id = u1.id + 1 JOIN users u3 ON u3.id = u2.id + 1 JOIN users u4 ON u4.id = u3.id + 1 JOIN users u5 ON u5.id = u4.id + 1 JOIN users u6 ON u6.id = u5.id + 1 JOIN users u7 ON u7.id = u6.id + 1 JOIN users u8 ON u8.id = u7.id + 1 JOIN users u9 ON u9.id = u8.id + 1 JOIN users u10 ON u10.id = u9.id + 1 JOIN users u11 ON u11.id = u10.id + 1 JOIN users u12 ON u12.id = u11.id + 1 JOIN users u13 ON u13.id = u12.id + 1 JOIN users u14 ON u14.id = u13.id + 1 JOIN users u15 ON u15.id = u14.id + 1 JOIN users u16 ON u16.id = u15.id + 1 JOIN users u17 ON u17.id = u16.id + 1 JOIN users u18 ON u18.id = u17.id + 1 WHERE u1.id = -1"
explain good-index-scan "$AB" "" "SELECT * FROM users WHERE id = 42"
explain estimate-only "FORMAT JSON" "SET enable_hashjoin = off; SET enable_mergejoin = off" \
  "SELECT u.id, (SELECT max(total) FROM orders o WHERE o.user_id = u.id) FROM users u JOIN orders o2 ON o2.user_id = u.id"
explain verbose-wal-settings "ANALYZE, BUFFERS, VERBOSE, SETTINGS, WAL, FORMAT JSON" "SET work_mem='2MB'" \
  "SELECT u.country, sum(o.total) FROM users u JOIN orders o ON o.user_id = u.id WHERE o.id < 50000 GROUP BY u.country ORDER BY 2 DESC"
explain timing-off "ANALYZE, TIMING OFF, FORMAT JSON" "" "SELECT count(*) FROM users WHERE country = 'DE'"
explain triggers "ANALYZE, BUFFERS, WAL, FORMAT JSON" "" \
  "INSERT INTO order_notes SELECT id, 'checked' FROM orders WHERE id <= 500"

# psql's aligned output, pasted as-is (header, dashes, '+' continuations, footer).
"$PSQL" -X "$db" -c "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT count(*) FROM users u JOIN orders o ON o.user_id = u.id WHERE u.city = 'FR-city-2'" \
  >"$out/psql-aligned.txt"
"$PSQL" -X -x "$db" -c "EXPLAIN (FORMAT JSON) SELECT * FROM users WHERE id < 10" >"$out/psql-expanded.txt"
"$PSQL" -X -A "$db" -c "EXPLAIN (FORMAT JSON) SELECT * FROM users WHERE id < 10" >"$out/psql-unaligned.txt"

# A large real plan for the bench: 400 UNION ALL branches, each a join with
# its own filters, VERBOSE + ANALYZE + BUFFERS.
{
  printf 'SELECT u.id, o.total, u.city FROM users u JOIN orders o ON o.user_id = u.id WHERE u.id = %d AND o.status <> %s\n' 1 "'x'"
  for i in $(seq 2 400); do
    printf 'UNION ALL SELECT u.id, o.total, u.city FROM users u JOIN orders o ON o.user_id = u.id WHERE u.id = %d AND o.status <> %s\n' "$((i * 211))" "'x'"
  done
} >/tmp/plan_capture_union.sql
q -c "EXPLAIN (ANALYZE, BUFFERS, VERBOSE, FORMAT JSON) $(cat /tmp/plan_capture_union.sql)" >"$out/large-union.json"
echo "wrote large-union.json ($(wc -c <"$out/large-union.json") bytes)"
rm -f /tmp/plan_capture_union.sql
