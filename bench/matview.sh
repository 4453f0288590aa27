#!/usr/bin/env bash
# Materialized-view advice on a generated dashboard workload (issue 12):
# estimated vs --verify-measured benefit per view and per statement, side by
# side, and advise's time with and without the view advisor (--no-views).
#
#   bench/matview.sh [ROWS]      (default 2000000 fact rows)
#
# Uses $PGVISE_TEST_PG_URI (a superuser URI, database postgres) when set,
# else starts a throwaway cluster with scripts/pgcluster.sh and stops it at
# the end. The binary is $PGVISE_BIN or build/pgvise. Results: bench/matview.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-2000000}
BIN=${PGVISE_BIN:-$PWD/build/pgvise}
WORK=$(mktemp -d /tmp/pgvise-matview-bench.XXXXXX)
if [ -z "${PGVISE_TEST_PG_URI:-}" ]; then
  scripts/pgcluster.sh start "$WORK/pg" >/dev/null
  BASE=$(cat "$WORK/pg/uri")
  trap 'scripts/pgcluster.sh stop "$WORK/pg" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
else
  BASE=$PGVISE_TEST_PG_URI
  trap 'rm -rf "$WORK"' EXIT
fi
DB=${BASE%/*}/pgvise_matview_bench
psql -q "$BASE" -c "DROP DATABASE IF EXISTS pgvise_matview_bench" -c "CREATE DATABASE pgvise_matview_bench"

echo "loading $ROWS fact rows ..." >&2
t0=$(date +%s)
psql -q -v ON_ERROR_STOP=1 "$DB" <<SQL
CREATE EXTENSION IF NOT EXISTS hypopg;
CREATE TABLE customers (id int PRIMARY KEY, region text NOT NULL, segment text NOT NULL, name text);
INSERT INTO customers SELECT g, (ARRAY['EU','US','APAC','LATAM','MEA'])[1 + g % 5],
       (ARRAY['retail','smb','enterprise'])[1 + (g / 7) % 3], 'customer ' || g
  FROM generate_series(1, 50000) g;
CREATE TABLE products (id int PRIMARY KEY, category text NOT NULL, brand text NOT NULL);
INSERT INTO products SELECT g, 'category ' || (g % 40), 'brand ' || (g % 300) FROM generate_series(1, 5000) g;
CREATE TABLE sales (id bigint PRIMARY KEY, customer_id int NOT NULL REFERENCES customers,
                    product_id int NOT NULL REFERENCES products, amount numeric(12,2) NOT NULL,
                    quantity int NOT NULL, status text NOT NULL, sold_at timestamp NOT NULL);
INSERT INTO sales
SELECT g, 1 + (g::bigint * 7919) % 50000, 1 + (g::bigint * 104729) % 5000, ((g::bigint * 31) % 100000) / 100.0, 1 + g % 5,
       CASE WHEN g % 20 = 0 THEN 'refunded' WHEN g % 50 = 1 THEN 'pending' ELSE 'paid' END,
       '2023-01-01'::timestamp + ((g::bigint * 2654435761) % (730 * 86400)) * interval '1 second'
  FROM generate_series(1, $ROWS) g;
VACUUM ANALYZE;
SQL
echo "loaded in $(( $(date +%s) - t0 )) s" >&2

# The dashboard: two statement families; customers is written 200 times a
# day (so view A is refreshed every hour), sales never.
cat >"$WORK/workload.sql" <<'SQL'
-- pgvise: calls=2000
SELECT c.region, p.category, sum(s.amount) AS revenue, count(*) AS orders
FROM sales s JOIN customers c ON c.id = s.customer_id JOIN products p ON p.id = s.product_id
WHERE s.status = 'paid' GROUP BY c.region, p.category;
-- pgvise: calls=1500
SELECT c.region, avg(s.amount) AS avg_order, sum(s.quantity) AS units
FROM sales s JOIN customers c ON c.id = s.customer_id JOIN products p ON p.id = s.product_id
WHERE s.status = 'paid' GROUP BY c.region ORDER BY c.region;
-- pgvise: calls=800
SELECT p.category, sum(s.amount) AS revenue, max(s.amount) AS largest
FROM sales s JOIN customers c ON c.id = s.customer_id JOIN products p ON p.id = s.product_id
WHERE s.status = 'paid' AND c.region = 'EU' GROUP BY p.category ORDER BY revenue DESC;
-- pgvise: calls=1000
SELECT date_trunc('month', sold_at) AS month, status, sum(amount) AS revenue, count(*) AS orders
FROM sales GROUP BY 1, 2;
-- pgvise: calls=600
SELECT date_trunc('month', sold_at) AS month, sum(amount) AS refunded
FROM sales WHERE status = 'refunded' GROUP BY 1 ORDER BY 1;
-- pgvise: calls=5000
SELECT id, amount FROM sales WHERE id = 12345;
-- pgvise: calls=200
UPDATE customers SET name = name WHERE id = 17;
SQL

run() {  # run <label> <args...>: advise's JSON into $WORK/<label>.json, wall ms printed
  local label=$1; shift
  "$BIN" advise --db "$DB" "$WORK/workload.sql" --format json --quiet "$@" >"$WORK/$label.json"
  python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['summary']['wall_ms'])" "$WORK/$label.json"
}

echo "timing advise with and without views (3 rounds, alternating) ..." >&2
with=(); without=()
for i in 1 2 3; do
  with+=("$(run with)")
  without+=("$(run without --no-views)")
done
echo "verifying ..." >&2
run verify --verify --statement-timeout 600000 >/dev/null

python3 - "$WORK" "$ROWS" "${with[*]}" "${without[*]}" <<'PY'
import json, sys, statistics
work, rows, with_ms, without_ms = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(), sys.argv[4].split()
est = json.load(open(f"{work}/with.json"))
ver = json.load(open(f"{work}/verify.json"))
views = lambda j: [r for r in j["recommendations"] if r["kind"] == "materialized-view"]
out = []
p = out.append
p(f"fact rows: {rows:,}; views proposed: {len(views(est))} (dry run), {len(views(ver))} kept by --verify\n")
p("| view | statements | est. rows / size | measured rows... size | est. refresh cost / refreshes per day | measured refresh | est. net benefit (cost units/day) | measured net benefit (ms/day) |")
p("|---|---|---|---|---|---|---|---|")
for e, v in zip(views(est), views(ver)):
    ee, ve = e["evidence"], v["evidence"]
    p(f"| {e['object']} | {len(e['rewrites'])} ({len(v['rewrites'])} verified) | {ee['rows']:.0f} / {e['cost']['size_bytes']/1024:.0f} kB | "
      f"{ve.get('measured_size_bytes',0)/1024:.0f} kB | {ee['refresh_cost']:,.0f} x {ee['refreshes_per_period']:.0f} | "
      f"{ve.get('measured_refresh_ms',0):,.0f} ms | {ee['net_benefit']:,.0f} | {ve.get('measured_net_benefit_ms',0):,.0f} |")
p("")
p("| statement | calls | est. cost before -> after | est. speedup | measured ms before -> after | measured speedup | rollup |")
p("|---|---|---|---|---|---|---|")
for v in views(ver):
    for x in v["rewrites"]:
        q = " ".join(x["query"].split())[:70]
        es = x["cost_before"] / max(x["cost_after_estimate"], 1e-9)
        mb, ma = x.get("measured_ms_before", 0), x.get("measured_ms_after", 0)
        ms = mb / ma if ma else 0
        p(f"| `{q}...` | {x['calls']:.0f} | {x['cost_before']:,.0f} -> {x['cost_after_estimate']:,.1f} | {es:,.0f}x | "
          f"{mb:,.1f} -> {ma:,.2f} | {ms:,.0f}x | {x['rollup']} |")
p("")
f = lambda xs: ", ".join(f"{float(x)/1000:.2f}" for x in xs)
mw, mo = statistics.median(map(float, with_ms)), statistics.median(map(float, without_ms))
p(f"advise wall time, s: with views {f(with_ms)} (median {mw/1000:.2f}); --no-views {f(without_ms)} (median {mo/1000:.2f}); "
  f"the view advisor adds {(mw-mo)/1000:.2f} s ({(mw/mo-1)*100:.0f}%)")
print("\n".join(out))
PY
