#!/usr/bin/env bash
# Captures the real PostgreSQL 15 plans the explain golden cases read
# (tests/explain_golden_test.cc). Run against a throwaway cluster:
#   scripts/pgcluster.sh start /tmp/pgcap && tests/golden/explain/capture.sh "$(cat /tmp/pgcap/uri)"
# then `scripts/regen-golden.sh` and read every changed expected file.
# It creates database `golden_explain` and writes:
#   analyze-buffers.json  EXPLAIN (ANALYZE, BUFFERS) of a join + sort with tiny work_mem and
#                         correlated filter columns: misestimate, spills, batches, seq scan filter
#   estimates-only.json   plain EXPLAIN (no ANALYZE) of a correlated subquery: only the estimate
#                         checks run (the SubPlan one fires), and a note says so
#   psql-paste.txt        psql's aligned output as pasted (QUERY PLAN header, '+' continuations)
#                         of EXPLAIN (ANALYZE) without BUFFERS: misestimate, seq scan filter
#   clean.json            EXPLAIN (ANALYZE, BUFFERS) of a primary-key lookup: nothing to report
#   malformed.json        clean.json with one comma removed: a JSON syntax error (line:col)
#   wrong-type.json       clean.json with "Plan Rows" as a string: a JSON path error
set -euo pipefail
base=${1:?usage: capture.sh POSTGRES_URI}
out=$(cd "$(dirname "$0")" && pwd)
PSQL=${PSQL:-/usr/lib/postgresql/15/bin/psql}
db="${base%/*}/golden_explain"
"$PSQL" -X -q "$base" -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS golden_explain" -c "CREATE DATABASE golden_explain"
q() { "$PSQL" -X -q -At "$db" -v ON_ERROR_STOP=1 "$@"; }

q <<'SQL'
SET client_min_messages = warning;
CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, country text NOT NULL);
INSERT INTO customers SELECT g, 'customer ' || g, (ARRAY['DE','FR','US','JP'])[1 + g % 4]
FROM generate_series(1, 50000) g;
-- status and channel always agree: the planner multiplies their selectivities.
CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL, status text NOT NULL,
                     channel text NOT NULL, total numeric(12,2) NOT NULL, note text NOT NULL);
INSERT INTO orders
SELECT g, 1 + (g::bigint * 7919) % 50000,
       CASE WHEN g % 25 = 0 THEN 'open' ELSE 'done' END,
       CASE WHEN g % 25 = 0 THEN 'web' ELSE 'shop' END,
       (g % 9973) / 7.0, md5(g::text) || md5((g + 1)::text)
FROM generate_series(1, 300000) g;
CREATE INDEX orders_customer_id ON orders (customer_id);
VACUUM ANALYZE customers, orders;
SQL

# enable_nestloop off: the underestimated orders side becomes the hash table.
q -c "SET work_mem = '64kB'; SET max_parallel_workers_per_gather = 0; SET enable_nestloop = off;
EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)
SELECT o.id, o.total, o.note, c.name FROM orders o JOIN customers c ON c.id = o.customer_id
WHERE o.status = 'open' AND o.channel = 'web' ORDER BY o.note" >"$out/analyze-buffers.json"

q -c "EXPLAIN (FORMAT JSON) SELECT c.id, (SELECT count(*) FROM orders o WHERE o.customer_id = c.id)
FROM customers c WHERE c.country = 'DE'" >"$out/estimates-only.json"

# psql's default aligned output, exactly as a user copies it from a terminal.
"$PSQL" -X -q "$db" -P pager=off -c "EXPLAIN (ANALYZE, FORMAT JSON)
SELECT count(*) FROM orders WHERE status = 'open' AND channel = 'web'" >"$out/psql-paste.txt"

q -c "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT id, name FROM customers WHERE id = 42" \
  >"$out/clean.json"

# Broken copies of clean.json: the first "Node Type" line loses its comma;
# the first "Plan Rows" becomes a string.
awk '!done && /"Node Type"/ { sub(/,$/, ""); done = 1 } { print }' "$out/clean.json" >"$out/malformed.json"
awk '!done && /"Plan Rows"/ { sub(/: [0-9]+/, ": \"one\""); done = 1 } { print }' "$out/clean.json" \
  >"$out/wrong-type.json"
echo "capture: wrote $(ls "$out"/*.json "$out"/*.txt | wc -l) plans to $out"
