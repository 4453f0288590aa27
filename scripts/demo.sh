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
echo "== building pgvise (the first build takes a few minutes on 2 cores; progress below)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# One line per compiled file so a cold build never looks stuck.
NINJA_STATUS="   [%f/%t %es] " ninja -C build pgvise | grep --line-buffered -E '^\s+\[' || true
[ -x build/pgvise ] || { echo "demo: build failed" >&2; exit 1; }
pgvise="$root/build/pgvise"
reports="$root/build/demo-reports"
rm -rf "$reports"
mkdir -p "$reports"
summary=()

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

# An HTML report of a step into the reports folder (listed on the index page).
html() {  # name, file, title, command...
  local name=$1 file=$2 title=$3; shift 3
  [ -n "$only" ] && [ "$only" != "$name" ] && return 0
  set +e
  "$@" --format html -o "$reports/$file" >/dev/null 2>"$work/html.err"
  local rc=$?
  set -e
  if [ -s "$reports/$file" ]; then
    summary+=("$title|$file|exit $rc")
  else
    echo "-- ($name: no HTML report: $(head -1 "$work/html.err"))"
  fi
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
# --verify builds the top indexes for real (the demo database is throwaway), measures, drops them.
step advise "$pgvise" advise --db "$db" --workload scripts/demo/workload.sql --budget 200MB --verify --verify-top 3 --statement-timeout 5000

# 4. Decorrelating rewrite: with --db each rewrite is proposed only when EXPLAIN says it is
# cheaper (both costs shown); --verify also runs both forms and compares their results.
step rewrite "$pgvise" rewrite --db "$db" --format text scripts/demo/queries/app.sql
step rewrite "$pgvise" rewrite --db "$db" --verify --statement-timeout 10000 --format text scripts/demo/queries/app.sql

# 5. Maintenance plan (dry run).
step maintain "$pgvise" maintain --db "$db"

# 6. Every report as HTML, in one folder with an index page.
echo
echo "== writing the HTML reports"
html review review.html "Review: migrations and queries, knowing the database" \
  "$pgvise" review --db "$db" --fail-on never scripts/demo/migrations scripts/demo/queries
html explain explain.html "Explain: the demo's revenue query (EXPLAIN ANALYZE)" \
  "$pgvise" explain --fail-on never "$work/plan.json"
html advise advise.html "Advise: indexes for the workload (200 MB budget)" \
  "$pgvise" advise --db "$db" --workload scripts/demo/workload.sql --budget 200MB
# rewrite.html: original vs rewritten SQL, each pass's argument or refusal, costs and timings;
# maintain.html: the ordered plan and table health with bars.
html rewrite rewrite.html "Rewrite: the application's slow subqueries, verified" \
  "$pgvise" rewrite --db "$db" --verify --statement-timeout 10000 scripts/demo/queries/app.sql
html maintain maintain.html "Maintain: the maintenance plan (dry run)" \
  "$pgvise" maintain --db "$db"
{
  echo '<!doctype html><html lang="en"><head><meta charset="utf-8">'
  echo '<meta name="viewport" content="width=device-width,initial-scale=1"><title>pgvise demo reports</title>'
  echo '<style>body{font:16px/1.5 system-ui,sans-serif;max-width:760px;margin:0 auto;padding:16px}'
  echo 'li{margin:.5em 0}.muted{color:#59636e}</style></head><body><h1>pgvise demo reports</h1>'
  echo "<p class=\"muted\">$(date -u '+%Y-%m-%d %H:%M UTC'), a throwaway PostgreSQL 15 with the demo shop.</p><ul>"
  for s in "${summary[@]}"; do
    IFS='|' read -r title file rc <<<"$s"
    echo "<li><a href=\"$file\">$title</a> <span class=\"muted\">($rc)</span></li>"
  done
  echo '</ul></body></html>'
} >"$reports/index.html"

echo
echo "================================================================"
echo "pgvise demo: done"
for s in "${summary[@]}"; do
  IFS='|' read -r title file rc <<<"$s"
  printf '  %-62s %s\n' "$title" "build/demo-reports/$file"
done
echo "Open build/demo-reports/index.html in a browser for all of them."
echo "================================================================"
