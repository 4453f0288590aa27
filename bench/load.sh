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
# With LOAD_WORKLOAD=heavy the warm-up also runs reads that no index serves,
# on a 500k-row read-mostly table (load_events) that the TPC-B writes don't
# touch, so advise has real what-if work to do and an index to recommend; by
# default pgbench's own primary-key workload leaves advise next to nothing
# (the light case). (The first heavy warm-up read pgbench_history, which
# takes ~15k inserts per 35 reads: advise rightly recommended nothing there.)
#
# With LOAD_REPLICA=1 a streaming standby is made (pg_basebackup -R) and one
# more "with pgvise" run is measured, advise sending its what-if EXPLAINs to
# the standby (`--replica`); the table then gives, per run, the server time
# pgvise's statements used on the primary and on the standby.
#
#   [LOAD_WORKLOAD=heavy] [LOAD_REPLICA=1] bench/load.sh [DURATION=60] [PGVISE_BIN=build/pgvise]
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
  psql_ -d load -c "CREATE TABLE load_events AS SELECT g AS id, g % 50000 AS account,
      (ARRAY['view','click','buy','refund'])[1 + g % 4] AS kind,
      now() - (g % 100000) * interval '1 minute' AS created_at, md5(g::text) AS payload
    FROM generate_series(1, 500000) g; ALTER TABLE load_events ADD PRIMARY KEY (id); ANALYZE load_events"
  cat >"$dir/extra.sql" <<'SQL'
\set acc random(1, 50000)
SELECT id, kind, created_at FROM load_events WHERE account = :acc;
SELECT count(*) FROM load_events WHERE kind = 'refund' AND created_at > now() - interval '1 hour';
SELECT id FROM load_events WHERE account = :acc ORDER BY created_at DESC LIMIT 5;
SQL
  "$pgbin/pgbench" -n -c 2 -j 2 -T 10 -f "$dir/extra.sql" -h 127.0.0.1 -p "$port" -U postgres load >/dev/null 2>&1
fi
replica_uri=""
if [ "${LOAD_REPLICA:-0}" = 1 ]; then
  # A streaming standby of the whole cluster, as the postgres user, on a free port.
  sdir="$dir/standby"
  echo "host replication all 127.0.0.1/32 trust" >>"$dir/data/pg_hba.conf"
  psql_ -d postgres -c "SELECT pg_reload_conf()" >/dev/null
  runuser -u postgres -- "$pgbin/pg_basebackup" -h 127.0.0.1 -p "$port" -U postgres -D "$sdir" -R -X stream >/dev/null
  sport=$((port + 1))
  while (echo >/dev/tcp/127.0.0.1/$sport) 2>/dev/null; do sport=$((sport + 1)); done
  runuser -u postgres -- "$pgbin/pg_ctl" -D "$sdir" -o "-p $sport -k $dir" -l "$dir/standby.log" -w start >/dev/null
  trap 'runuser -u postgres -- "$pgbin/pg_ctl" -D "$dir/standby" -m immediate stop >/dev/null 2>&1 || true; cp "$dir"/advise.err "$dir"/maintain.err /tmp/ 2>/dev/null; bash scripts/pgcluster.sh stop "$dir" >/dev/null 2>&1 || true' EXIT
  replica_uri="postgresql://pgvise_load@127.0.0.1:$sport/load"
fi
load_before=$(cut -d' ' -f1 /proc/loadavg)

# Server time (ms) and calls of the pgvise_load role's statements on the
# server at port $1 since its last reset; reset_pgvise clears them.
role="(SELECT oid FROM pg_roles WHERE rolname = 'pgvise_load')"
server_time() {
  "$pgbin/psql" -X -q -At -F' ' -h 127.0.0.1 -p "$1" -U postgres -d load -c "SELECT
    round(coalesce(sum(total_exec_time + total_plan_time), 0)::numeric, 1), coalesce(sum(calls), 0)
    FROM pg_stat_statements WHERE userid = $role"
}
reset_pgvise() { "$pgbin/psql" -X -q -At -h 127.0.0.1 -p "$1" -U postgres -d load -c "SELECT pg_stat_statements_reset($role)" >/dev/null; }

# One "with pgvise" run: pgbench for $duration s with one advise (extra
# arguments: "$@") and one maintain started inside it. Prints
# "tps advise_s maintain_s recommendations primary_ms primary_calls standby_ms standby_calls".
with_pgvise() {
  reset_pgvise "$port"
  if [ -n "$replica_uri" ]; then reset_pgvise "$sport"; fi
  (
    sleep $((duration / 6))
    s=$(date +%s.%N)
    "$bin" advise --db "$pgvise_uri" "$@" --format json >"$dir/advise.json" 2>"$dir/advise.err" || true
    e=$(date +%s.%N)
    "$bin" maintain --db "$pgvise_uri" --format json >"$dir/maintain.json" 2>"$dir/maintain.err" || true
    f=$(date +%s.%N)
    echo "$s $e $f" >"$dir/pgvise.times"
  ) &
  local t s e f recs standby="0 0"
  t=$(tps)
  wait
  read -r s e f <"$dir/pgvise.times"
  recs=$(python3 -c "import json; print(len(json.load(open('$dir/advise.json')).get('recommendations', [])))" 2>/dev/null || echo "?")
  if [ -n "$replica_uri" ]; then standby=$(server_time "$sport"); fi
  echo "$t $(python3 -c "print(f'{$e - $s:.1f} {$f - $e:.1f}')") $recs $(server_time "$port") $standby"
}

alone1=$(tps)
with1=$(with_pgvise)
with2=""
if [ -n "$replica_uri" ]; then with2=$(with_pgvise --replica "$replica_uri"); fi
alone2=$(tps)
load_after=$(cut -d' ' -f1 /proc/loadavg)

python3 - "$alone1" "$alone2" "$duration" "$load_before" "$load_after" "${LOAD_WORKLOAD:-light}" \
  "$with1" "$with2" <<'EOF'
import sys
a1, a2, dur, lb, la, wl, w1, w2 = sys.argv[1:]
a1, a2 = float(a1), float(a2)
alone = (a1 + a2) / 2
runs = [("advise + maintain", w1.split())]
if w2:
    runs.append(("advise --replica + maintain", w2.split()))
print("| run | TPS | drop | advise | maintain | recommendations | pgvise server time on the primary | on the standby |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
print(f"| pgbench alone (before) | {a1:,.0f} | | | | | | |")
for name, r in runs:
    t, adv, mnt, recs, pms, pcalls, sms, scalls = r
    t = float(t)
    standby = f"{float(sms):,.0f} ms / {int(scalls):,} calls" if w2 else "-"
    print(f"| pgbench with {name} | {t:,.0f} | {100 * (alone - t) / alone:.1f}% | {adv} s | {mnt} s "
          f"| {recs} | {float(pms):,.0f} ms / {int(pcalls):,} calls | {standby} |")
print(f"| pgbench alone (after) | {a2:,.0f} | | | | | | |")
print(f"\ndrop against the mean of both alone runs; {dur} s each, scale 10, 4 clients; "
      f"{wl} warm-up workload; load average before / after: {lb} / {la}")
EOF
