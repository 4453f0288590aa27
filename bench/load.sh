#!/usr/bin/env bash
# Load bench (issue 15, item 7): what pgvise costs an application it is
# pointed at. A bounded pgbench run (TPC-B-like, scale 10, 4 clients) on a
# throwaway local cluster, measured side by side in one run:
#   alone        pgbench for DURATION seconds, nothing else;
#   with pgvise  the same, with one `pgvise advise` (workload from
#                pg_stat_statements, HypoPG what-ifs) and one `pgvise
#                maintain` started inside it;
#   alone again  to bracket drift (the box is shared: the "alone" figure is
#                the mean of both).
# pgvise connects as its own role (`pgvise_load`), so pg_stat_statements,
# which keys by user and not by application name, attributes to it exactly
# the server time its own statements used.
#
# With LOAD_WORKLOAD=heavy the warm-up also runs a few reads that no index
# serves (on pgbench_history, which TPC-B fills and nothing indexes), so
# advise has real what-if work to do; by default pgbench's own primary-key
# workload leaves advise next to nothing (the light case).
#
#   [LOAD_WORKLOAD=heavy] bench/load.sh [DURATION=60] [PGVISE_BIN=build/pgvise]
# Prints one table; bench/README.md keeps the latest figures.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-60}
bin=${PGVISE_BIN:-$PWD/build/pgvise}
pgbin=/usr/lib/postgresql/15/bin
dir=$(mktemp -d /tmp/pgvise-load-XXXXXX)
trap 'cp "$dir"/advise.err "$dir"/maintain.err /tmp/ 2>/dev/null; bash scripts/pgcluster.sh stop "$dir" >/dev/null 2>&1 || true' EXIT
uri=$(bash scripts/pgcluster.sh start "$dir")
port=$(cat "$dir/port")
psql_() { "$pgbin/psql" -X -q -At -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1 "$@"; }
psql_ -d postgres -c "CREATE DATABASE load"
db="postgresql://postgres@127.0.0.1:$port/load"
"$pgbin/pgbench" -q -i -s 10 -h 127.0.0.1 -p "$port" -U postgres load >/dev/null 2>&1
psql_ -d load -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements; CREATE EXTENSION IF NOT EXISTS hypopg;
  CREATE ROLE pgvise_load LOGIN; GRANT pg_read_all_stats, pg_read_all_data TO pgvise_load;"
pgvise_uri="postgresql://pgvise_load@127.0.0.1:$port/load"

tps() {  # runs pgbench for $duration s, prints its TPS (excluding connection time)
  "$pgbin/pgbench" -n -c 4 -j 2 -T "$duration" -h 127.0.0.1 -p "$port" -U postgres load 2>/dev/null |
    sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p'
}

# Warm-up: pgbench's own statements land in pg_stat_statements, so advise has
# a real workload to read.
"$pgbin/pgbench" -n -c 4 -j 2 -T 10 -h 127.0.0.1 -p "$port" -U postgres load >/dev/null 2>&1
if [ "${LOAD_WORKLOAD:-light}" = heavy ]; then
  cat >"$dir/extra.sql" <<'SQL'
\set aid random(1, 100000 * :scale)
\set tid random(1, 10 * :scale)
SELECT tid, delta, mtime FROM pgbench_history WHERE aid = :aid;
SELECT sum(delta) FROM pgbench_history WHERE tid = :tid AND mtime > now() - interval '5 minutes';
SELECT aid, abalance FROM pgbench_accounts WHERE bid = :tid % 10 + 1 AND abalance > 4000 ORDER BY abalance DESC LIMIT 10;
SQL
  "$pgbin/pgbench" -n -c 1 -T 10 -f "$dir/extra.sql" -h 127.0.0.1 -p "$port" -U postgres load >/dev/null 2>&1
fi
load_before=$(cut -d' ' -f1 /proc/loadavg)

alone1=$(tps)
psql_ -d load -c "SELECT pg_stat_statements_reset((SELECT oid FROM pg_roles WHERE rolname = 'pgvise_load'))" >/dev/null
(
  sleep $((duration / 6))
  s=$(date +%s.%N)
  "$bin" advise --db "$pgvise_uri" --format json >"$dir/advise.json" 2>"$dir/advise.err" || true
  e=$(date +%s.%N)
  "$bin" maintain --db "$pgvise_uri" --format json >"$dir/maintain.json" 2>"$dir/maintain.err" || true
  f=$(date +%s.%N)
  echo "$s $e $f" >"$dir/pgvise.times"
) &
with=$(tps)
wait
alone2=$(tps)
load_after=$(cut -d' ' -f1 /proc/loadavg)

read -r s e f <"$dir/pgvise.times"
server_ms=$(psql_ -d load -c "SELECT round(coalesce(sum(total_exec_time + total_plan_time), 0)::numeric, 1)
  FROM pg_stat_statements WHERE userid = (SELECT oid FROM pg_roles WHERE rolname = 'pgvise_load')")
calls=$(psql_ -d load -c "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements
  WHERE userid = (SELECT oid FROM pg_roles WHERE rolname = 'pgvise_load')")
recs=$(python3 -c "import json,sys; print(len(json.load(open('$dir/advise.json')).get('recommendations', [])))" 2>/dev/null || echo "?")

python3 - "$alone1" "$with" "$alone2" "$s" "$e" "$f" "$server_ms" "$calls" "$duration" \
  "$load_before" "$load_after" "$recs" "${LOAD_WORKLOAD:-light}" <<'EOF'
import sys
a1, w, a2, s, e, f, server_ms, calls, dur, lb, la, recs, wl = sys.argv[1:]
a1, w, a2 = float(a1), float(w), float(a2)
alone = (a1 + a2) / 2
print(f"| run | TPS |\n|---|---|")
print(f"| pgbench alone (before) | {a1:,.0f} |")
print(f"| pgbench with advise + maintain | {w:,.0f} |")
print(f"| pgbench alone (after) | {a2:,.0f} |")
print(f"\nTPS drop: {100 * (alone - w) / alone:.1f}% (against the mean of both alone runs; "
      f"{dur} s each, scale 10, 4 clients; {wl} warm-up workload)")
print(f"pgvise wall time: advise {float(e) - float(s):.1f} s ({recs} recommendations), "
      f"maintain {float(f) - float(e):.1f} s")
print(f"server time of pgvise's own statements (pg_stat_statements, role pgvise_load): "
      f"{float(server_ms):,.0f} ms over {int(calls):,} calls")
print(f"load average before / after: {lb} / {la}")
EOF
