#!/usr/bin/env bash
# pgvise demo: builds pgvise, starts a throwaway PostgreSQL 15 cluster, loads a
# demo shop (users, products, orders, >= 1M order_items), runs its workload,
# then runs every pgvise job against it. The cluster is stopped and removed on
# exit, whatever happens. Nothing outside the throwaway cluster and
# build/demo-reports/ is touched.
#   scripts/demo.sh            # everything
#   scripts/demo.sh review     # one step: review | explain | advise | rewrite | maintain
# Every step's output is also kept in build/demo-reports/out/<id>.txt (the
# database URI replaced by $DEMO_DB): scripts/gen-docs.sh --demo splices those
# into the docs pages, so the examples there are real output.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
only=${1:-}
t0=$(date +%s)
# A phase line with the seconds since the start, so a slow phase shows which one it is.
phase() { echo "== [$(($(date +%s) - t0)) s] $*"; }

phase "checking the build dependencies"
bash scripts/install-deps.sh
phase "building pgvise (the first build takes a few minutes on 2 cores; progress below)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# One line per compiled file so a cold build never looks stuck.
NINJA_STATUS="   [%f/%t %es] " ninja -C build pgvise | grep --line-buffered -E '^\s+\[' || true
[ -x build/pgvise ] || { echo "demo: build failed" >&2; exit 1; }
pgvise="$root/build/pgvise"
# Relative to the repository root (the working directory from here on), so the
# paths the commands print are the same on every machine.
reports=build/demo-reports
rm -rf "$reports"
mkdir -p "$reports/out" "$reports/inputs"
"$pgvise" --version >"$reports/version.txt"
summary=()

work=$(mktemp -d /tmp/pgvise-demo-XXXXXX)
chmod 711 "$work"  # the cluster below runs as postgres and must reach its directory
cleanup() { scripts/pgcluster.sh stop "$work/pg" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM
phase "starting a throwaway PostgreSQL 15 cluster"
uri=$(scripts/pgcluster.sh start "$work/pg")
db="${uri%/*}/shop"
psql -X -q "$uri" -c "CREATE DATABASE shop" >/dev/null
phase "loading the demo shop (about 2.5M rows in all; a minute or two)"
# schema.sql \echo-es a line per table as it goes (-q keeps everything else quiet).
psql -X -q "$db" -v ON_ERROR_STOP=1 -f scripts/demo/schema.sql
phase "running the demo workload 3 times so pg_stat_statements has something to say"
psql -X -q "$db" -c "SELECT pg_stat_statements_reset()" >/dev/null
# Capped at 5 s a statement: the correlated subquery in it is hours without an index.
for i in 1 2 3; do
  echo "   pass $i of 3"
  PGOPTIONS="-c statement_timeout=5s" psql -X -q "$db" -f scripts/demo/workload.sql >/dev/null 2>&1 || true
done
phase "running every pgvise command"

# What a command prints carries the throwaway cluster's URI (a random port);
# the kept copy says $DEMO_DB instead, as the command lines above each step do.
sanitize() { sed -e "s#$db#\$DEMO_DB#g" -e "s#${uri%/*}#\$DEMO_SERVER#g"; }

# One pgvise run: shown with its command line and exit code, and kept in
# $reports/out/<id>.txt for the docs. Only stdout is kept: stderr stays on the
# terminal, where long runs draw their progress line.
step() {  # name, id, command...
  local name=$1 id=$2; shift 2
  [ -n "$only" ] && [ "$only" != "$name" ] && return 0
  local keep="$reports/out/$id.txt"
  echo
  echo "================================================================"
  echo "\$ pgvise ${*:2}" | sanitize | tee "$keep"
  echo "================================================================"
  set +e
  "$@" | sanitize | tee -a "$keep"
  local rc=${PIPESTATUS[0]}
  set -e
  echo "-- exit code $rc" | tee -a "$keep"
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
phase "1. review: the migrations and queries, offline and then knowing the database"
step review review "$pgvise" review scripts/demo/migrations scripts/demo/queries
step review review-db "$pgvise" review --db "$db" --fail-on warning scripts/demo/migrations scripts/demo/queries

# 2. A real EXPLAIN ANALYZE of a demo query, checked.
phase "2. explain: a real EXPLAIN ANALYZE of the revenue query, and pgvise running one itself"
psql -X -q -A -t "$db" -o "$reports/inputs/plan.json" <<'SQL'
SET work_mem = '1MB';
EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)
SELECT u.country, count(*), sum(oi.quantity * oi.price_cents) AS revenue
FROM shop.order_items oi
JOIN shop.orders o ON o.id = oi.order_id
JOIN shop.users u ON u.id = o.user_id
WHERE o.status = 'open'
GROUP BY u.country ORDER BY revenue DESC;
SQL
step explain explain "$pgvise" explain "$reports/inputs/plan.json"
# ... and pgvise running EXPLAIN ANALYZE itself (read-only session) on a slow shape.
cat >"$reports/inputs/slow.sql" <<'SQL'
SELECT u.id, u.email FROM shop.users u
WHERE u.id <= 200 AND (SELECT count(*) FROM shop.orders o WHERE o.user_id = u.id) > 3;
SQL
step explain explain-analyze "$pgvise" explain --db "$db" --analyze --sql "$reports/inputs/slow.sql"

# 3. Advice for the workload: indexes proven with HypoPG, and the schema advisors —
# partitioning (page_views: read by time, trimmed by a retention DELETE), a
# materialized view (two category-sales dashboards over tables the workload never
# writes) and extended statistics (addresses: a postcode decides its city).
# The demo's tables are megabytes, so --partition-min-size 10MB stands in for
# the default 20GB; nothing else is tuned for the demo.
phase "3. advise: indexes, partitioning, a materialized view, extended statistics"
echo "   (--partition-min-size 10MB: the demo's tables are megabytes; the default is 20GB)"
adv=(--db "$db" --workload scripts/demo/workload.sql --budget 200MB --partition-min-size 10MB)
step advise advise "$pgvise" advise "${adv[@]}"
step advise advise-sql "$pgvise" advise "${adv[@]}" --format sql
# --verify builds the top indexes, a sampled partitioned copy, the view and the
# statistics for real (the demo database is throwaway), measures them, drops them.
step advise advise-verify "$pgvise" advise "${adv[@]}" --verify --verify-top 3 --statement-timeout 5000

# 4. Decorrelating rewrite: with --db each rewrite is proposed only when EXPLAIN says it is
# cheaper (both costs shown); --verify also runs both forms and compares their results.
phase "4. rewrite: the application's correlated subqueries"
step rewrite rewrite "$pgvise" rewrite --db "$db" --format text scripts/demo/queries/app.sql
step rewrite rewrite-verify "$pgvise" rewrite --db "$db" --verify --statement-timeout 10000 --format text scripts/demo/queries/app.sql

# 5. Maintenance plan (dry run), then only its partition rules: audit_log's
# partitions stop at last month, so this month's rows sit in its default partition.
phase "5. maintain: the maintenance plan (dry run), then the partitioned audit_log alone"
step maintain maintain "$pgvise" maintain --db "$db"
step maintain maintain-partitions "$pgvise" maintain --db "$db" --only partitions

# 6. Every report as HTML, in one folder with an index page.
phase "6. writing the HTML reports"
html review review.html "Review: migrations and queries, knowing the database" \
  "$pgvise" review --db "$db" --fail-on never scripts/demo/migrations scripts/demo/queries
html explain explain.html "Explain: the demo's revenue query (EXPLAIN ANALYZE)" \
  "$pgvise" explain --fail-on never "$reports/inputs/plan.json"
html advise advise.html "Advise: indexes, partitioning, a view, statistics (200 MB budget)" \
  "$pgvise" advise "${adv[@]}"
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
echo "pgvise demo: done in $(($(date +%s) - t0)) s"
for s in "${summary[@]}"; do
  IFS='|' read -r title file rc <<<"$s"
  printf '  %-66s %s\n' "$title" "build/demo-reports/$file"
done
echo "Open build/demo-reports/index.html in a browser for all of them."
echo "Each command's text output is in build/demo-reports/out/ (scripts/gen-docs.sh --demo puts it in docs/)."
echo "================================================================"
