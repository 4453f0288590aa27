#!/usr/bin/env bash
# pgvise demo: builds pgvise, starts a throwaway PostgreSQL 15 cluster, loads a
# demo shop (users, products, orders, >= 1M order_items), runs its workload,
# then runs every pgvise job against it. The cluster is stopped and removed on
# exit, whatever happens. Nothing outside the throwaway cluster is touched.
#   scripts/demo.sh            # everything
#   scripts/demo.sh review     # one step: review | explain | advise | rewrite | maintain
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
only=${1:-}

bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build pgvise >/dev/null
pgvise="$root/build/pgvise"

work=$(mktemp -d /tmp/pgvise-demo-XXXXXX)
chmod 711 "$work"  # the cluster below runs as postgres and must reach its directory
cleanup() { scripts/pgcluster.sh stop "$work/pg" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM
echo "== starting a throwaway PostgreSQL 15 cluster"
uri=$(scripts/pgcluster.sh start "$work/pg")
db="${uri%/*}/shop"
psql -X -q "$uri" -c "CREATE DATABASE shop" >/dev/null
echo "== loading the demo shop (1.2M order_items; takes a little while)"
psql -X -q "$db" -v ON_ERROR_STOP=1 -f scripts/demo/schema.sql >/dev/null
echo "== running the demo workload so pg_stat_statements has something to say"
psql -X -q "$db" -c "SELECT pg_stat_statements_reset()" >/dev/null
# Capped at 5 s a statement: the correlated subquery in it is hours without an index.
for i in 1 2 3; do PGOPTIONS="-c statement_timeout=5s" psql -X -q "$db" -f scripts/demo/workload.sql >/dev/null 2>&1 || true; done

step() {  # name, command...
  local name=$1; shift
  [ -n "$only" ] && [ "$only" != "$name" ] && return 0
  echo
  echo "================================================================"
  echo "\$ pgvise ${*:2}" | sed "s#$db#\$DEMO_DB#g"
  echo "================================================================"
  set +e
  "$@"
  local rc=$?
  set -e
  echo "-- exit code $rc"
}

# 1. Pre-deploy review: migrations and queries, first offline, then knowing the database.
step review "$pgvise" review scripts/demo/migrations scripts/demo/queries
step review "$pgvise" review --db "$db" --fail-on warning scripts/demo/migrations scripts/demo/queries

# 2. A real EXPLAIN ANALYZE of a demo query, checked.
psql -X -q -A -t "$db" -o "$work/plan.json" <<'SQL'
SET work_mem = '1MB';
EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)
SELECT u.country, count(*), sum(oi.quantity * oi.price_cents) AS revenue
FROM shop.order_items oi
JOIN shop.orders o ON o.id = oi.order_id
JOIN shop.users u ON u.id = o.user_id
WHERE o.status = 'open'
GROUP BY u.country ORDER BY revenue DESC;
SQL
step explain "$pgvise" explain "$work/plan.json"
# ... and pgvise running EXPLAIN ANALYZE itself (read-only session) on a slow shape.
cat >"$work/slow.sql" <<'SQL'
SELECT u.id, u.email FROM shop.users u
WHERE u.id <= 200 AND (SELECT count(*) FROM shop.orders o WHERE o.user_id = u.id) > 3;
SQL
step explain "$pgvise" explain --db "$db" --analyze --sql "$work/slow.sql"

# 3. Index advice for the workload, proven with HypoPG.
step advise "$pgvise" advise --db "$db" --workload scripts/demo/workload.sql --budget 200MB
step advise "$pgvise" advise --db "$db" --workload scripts/demo/workload.sql --budget 200MB --format sql
step advise "$pgvise" advise --db "$db" --workload scripts/demo/workload.sql --budget 200MB --format html -o "$root/build/advice.html"
[ -z "$only" ] || [ "$only" = advise ] && echo "(the HTML report is at build/advice.html)"
# --verify builds the top indexes for real (the demo database is throwaway), measures, drops them.
step advise "$pgvise" advise --db "$db" --workload scripts/demo/workload.sql --budget 200MB --verify --verify-top 3 --statement-timeout 5000

# 4. Decorrelating rewrite, verified on the database.
step rewrite "$pgvise" rewrite --db "$db" --verify --statement-timeout 10000 --format text scripts/demo/queries/app.sql

# 5. Maintenance plan (dry run).
step maintain "$pgvise" maintain --db "$db"
