#!/usr/bin/env bash
# Partition bench (issue 11): on a 5M-row time-series table, per statement
# side by side —
#   estimate   `pgvise advise` dry run: cost before -> after (pruning estimate)
#   verify     `pgvise advise --verify`: flat vs partitioned on a TABLESAMPLE
#              copy (execution ms, median of 3 after a warm-up)
#   real       EXPLAIN ANALYZE on a full copy of the database: before the
#              migration, right after it (the old table is one partition
#              holding every existing row), and in the steady state (every
#              row in the partition of its interval: the table rebuilt
#              partitioned, as it is once the history partition has aged out)
# and the migration itself: the script's wall time and, per step, how long
# each statement taking ACCESS EXCLUSIVE held it (psql \timing per statement).
#
#   bench/partition.sh [ROWS=5000000] [PGVISE_BIN=build/pgvise] [MIN_SIZE=100MB]
# Prints tables; bench/README.md keeps the latest figures.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-5000000}
bin=${PGVISE_BIN:-$PWD/build/pgvise}
pgbin=/usr/lib/postgresql/15/bin
dir=$(mktemp -d /tmp/pgvise-partbench-XXXXXX)
trap 'bash scripts/pgcluster.sh stop "$dir" >/dev/null 2>&1 || true' EXIT
bash scripts/pgcluster.sh start "$dir" >/dev/null
port=$(cat "$dir/port")
base="postgresql://postgres@127.0.0.1:$port"
psql_() { "$pgbin/psql" -X -q -At -v ON_ERROR_STOP=1 "$@"; }
psql_ "$base/postgres" -c "CREATE DATABASE pbench"
db="$base/pbench"
t0=$(date +%s.%N)
psql_ "$db" <<SQL
CREATE EXTENSION IF NOT EXISTS hypopg;
-- 120 days of readings from 200 devices, ending now.
CREATE TABLE readings (id bigserial PRIMARY KEY, ts timestamptz NOT NULL, device int NOT NULL,
                       value float8 NOT NULL, note text);
INSERT INTO readings (ts, device, value, note)
  SELECT now() - interval '120 days' + g * (interval '120 days' / $rows), g % 200,
         (g % 10000) / 100.0, 'n' || (g % 97)
  FROM generate_series(1, $rows) g;
CREATE INDEX readings_ts ON readings (ts);
CREATE INDEX readings_device_ts ON readings (device, ts);
SQL
psql_ "$db" -c "VACUUM ANALYZE readings"
load_s=$(echo "$(date +%s.%N) - $t0" | bc)
size=$(psql_ "$db" -c "SELECT pg_size_pretty(pg_total_relation_size('readings'))")

# The workload: constants only, so every statement can be EXPLAIN ANALYZEd.
day30=$(psql_ "$db" -c "SELECT date_trunc('day', now() - interval '30 days')::date")
cat >"$dir/workload.sql" <<SQL
-- pgvise: calls=500
SELECT avg(value) FROM readings WHERE ts >= now() - interval '1 day';
-- pgvise: calls=300
SELECT ts, value FROM readings WHERE device = 17 AND ts >= now() - interval '6 hours' ORDER BY ts;
-- pgvise: calls=50
SELECT date_trunc('hour', ts) AS h, count(*), avg(value) FROM readings WHERE ts >= '$day30' AND ts < '$day30'::date + 1 GROUP BY 1 ORDER BY 1;
-- pgvise: calls=20
SELECT device, max(value) FROM readings WHERE ts >= now() - interval '7 days' GROUP BY device;
-- pgvise: calls=1
DELETE FROM readings WHERE ts < now() - interval '90 days';
SQL
mapfile -t stmts < <(grep -v '^--' "$dir/workload.sql")
common=(--db "$db" -w "$dir/workload.sql" --partition-min-size "${MIN_SIZE:-100MB}" --no-views --no-statistics
        --no-patterns --no-drops --budget 0)

# Copies for the real measurements, taken before anything else touches pbench.
psql_ "$base/postgres" -c "CREATE DATABASE pbench_real TEMPLATE pbench"
psql_ "$base/postgres" -c "CREATE DATABASE pbench_steady TEMPLATE pbench"

t1=$(date +%s.%N)
"$bin" advise "${common[@]}" --format json >"$dir/dry.json" 2>"$dir/dry.err"
dry_s=$(echo "$(date +%s.%N) - $t1" | bc)
"$bin" advise "${common[@]}" --format sql >"$dir/migrate.sql" 2>/dev/null
t1=$(date +%s.%N)
"$bin" advise "${common[@]}" --format json --verify >"$dir/verify.json" 2>"$dir/verify.err"
verify_s=$(echo "$(date +%s.%N) - $t1" | bc)

# Median of three EXPLAIN ANALYZE execution times after a warm-up, rolled back.
measure() {  # db sql -> ms
  local out
  out=$(for i in 1 2 3 4; do
    psql_ "$1" -c "BEGIN" -c "EXPLAIN (ANALYZE, FORMAT JSON) $2" -c "ROLLBACK" |
      python3 -c 'import json,sys; t=sys.stdin.read(); print(json.loads(t[t.index("["):t.rindex("]")+1])[0]["Execution Time"])'
  done | tail -3 | sort -g | sed -n 2p)
  echo "$out"
}
declare -a before after steady
for i in "${!stmts[@]}"; do before[$i]=$(measure "$base/pbench_real" "${stmts[$i]}"); done

# The migration on the copy, statement by statement with \timing.
t1=$(date +%s.%N)
psql_ "$base/pbench_real" -e -c '\timing on' -f "$dir/migrate.sql" >"$dir/migrate.log" 2>&1
mig_s=$(echo "$(date +%s.%N) - $t1" | bc)
for i in "${!stmts[@]}"; do after[$i]=$(measure "$base/pbench_real" "${stmts[$i]}"); done

# Steady state: every row in the partition of its interval (the advised
# interval and bounds), same indexes.
interval=$(python3 -c 'import json;d=json.load(open("'"$dir"'/dry.json"));print([r for r in d["recommendations"] if r["kind"]=="partition"][0]["evidence"]["interval"])')
first=$(python3 -c 'import json;d=json.load(open("'"$dir"'/dry.json"));print([r for r in d["recommendations"] if r["kind"]=="partition"][0]["evidence"]["first_bound"])')
psql_ "$base/pbench_steady" <<SQL
ALTER TABLE readings RENAME TO readings_flat;
CREATE TABLE readings (LIKE readings_flat INCLUDING DEFAULTS) PARTITION BY RANGE (ts);
CREATE TABLE readings_pmin PARTITION OF readings FOR VALUES FROM (MINVALUE) TO ('$first');
DO \$\$ DECLARE b timestamptz; n int := 0; BEGIN
  FOR b IN SELECT g FROM generate_series('$first'::timestamptz, now() + interval '$interval' * 4, interval '$interval') g LOOP
    n := n + 1;
    EXECUTE format('CREATE TABLE readings_p%s PARTITION OF readings FOR VALUES FROM (%L) TO (%L)', n, b, b + interval '$interval');
  END LOOP; END \$\$;
INSERT INTO readings SELECT * FROM readings_flat;
ALTER SEQUENCE readings_id_seq OWNED BY readings.id;
DROP TABLE readings_flat;
ALTER TABLE readings ADD PRIMARY KEY (id, ts);
CREATE INDEX ON readings (ts);
CREATE INDEX ON readings (device, ts);
SQL
psql_ "$base/pbench_steady" -c "VACUUM ANALYZE readings"
for i in "${!stmts[@]}"; do steady[$i]=$(measure "$base/pbench_steady" "${stmts[$i]}"); done
# Retention in the steady state: DETACH + DROP of every partition the DELETE
# would empty, timed around those statements, rolled back.
detach=$(psql_ "$base/pbench_steady" -c "BEGIN" -c "DO \$\$ DECLARE p regclass; old boolean; n bigint;
  total bigint := 0; ms float8 := 0; t0 timestamptz; BEGIN
  FOR p IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'readings'::regclass LOOP
    EXECUTE format('SELECT count(*), count(*) > 0 AND bool_and(ts < now() - interval ''90 days'') FROM %s', p) INTO n, old;
    IF old THEN t0 := clock_timestamp();
      EXECUTE format('ALTER TABLE readings DETACH PARTITION %s', p); EXECUTE format('DROP TABLE %s', p);
      ms := ms + 1000 * extract(epoch FROM clock_timestamp() - t0); total := total + n; END IF;
  END LOOP; PERFORM set_config('pgvise.ms', round(ms::numeric, 1)::text || ' ms for ' || total || ' rows', true); END \$\$" \
  -c "SELECT current_setting('pgvise.ms')" -c "ROLLBACK")

echo "rows $rows, $size, loaded in ${load_s}s; advise ${dry_s}s, advise --verify ${verify_s}s"
python3 - "$dir" "${before[@]}" -- "${after[@]}" -- "${steady[@]}" <<'PY'
import json, re, sys
d = sys.argv[1]
rest = sys.argv[2:]
parts, cur = [], []
for x in rest:
    if x == '--':
        parts.append(cur); cur = []
    else:
        cur.append(float(x))
parts.append(cur)
before, after, steady = parts
dry = [r for r in json.load(open(d + '/dry.json'))['recommendations'] if r['kind'] == 'partition'][0]
ver = [r for r in json.load(open(d + '/verify.json'))['recommendations'] if r['kind'] == 'partition'][0]
ev = dry['evidence']
print(f"advice: {ev['strategy']} ({', '.join(ev['key'])}) every {ev['interval']}, {ev['partitions']} partitions "
      f"({ev['partitions_over_data']} over the data), sample {ver['evidence'].get('verify_sample_percent', 0):.0f}%")
vlines = ver['evidence'].get('verify_statements', '').split('\n')
scanned = ev['partitions_scanned'].split(',')
print("| statement | partitions (est.) | estimate after/before | verify flat -> part ms (ratio) | real before ms | real right after migration ms | real steady state ms (ratio) |")
print("|---|---|---|---|---|---|---|")
for i, b in enumerate(dry['benefit']):
    est = b['cost_after'] / b['cost_before'] if b['cost_before'] else 0
    v = vlines[i] if i < len(vlines) else ''
    m = re.search(r'execution ([0-9.]+) -> ([0-9.]+) ms', v)
    vtxt = f"{m.group(1)} -> {m.group(2)} ({float(m.group(2))/float(m.group(1)):.2f})" if m else 'n/a'
    if 'DETACH + DROP' in v:
        vtxt += ' (DETACH+DROP)'
    q = b['query'][:70].replace('|', '/')
    print(f"| {q} | {scanned[i]} of {ev['partitions']} | {est:.2f} | {vtxt} | {before[i]:.1f} | {after[i]:.1f} | {steady[i]:.1f} ({steady[i]/before[i]:.2f}) |")
print()
PY
echo "retention in the steady state instead of the DELETE: DETACH + DROP of the partitions it empties: $detach"
echo "(the real DELETE columns are the DELETE itself on each copy)"
echo
echo "migration: ${mig_s}s wall; statements taking ACCESS EXCLUSIVE on readings, each held for:"
python3 - "$dir/migrate.log" <<'PY'
import re, sys
log = open(sys.argv[1]).read().split('\n')
stmt, out, swap, in_swap = None, [], 0.0, False
for line in log:
    m = re.match(r'Time: ([0-9.]+) ms', line)
    if m and stmt:
        ms = float(m.group(1))
        s = stmt.strip()
        if s.startswith('BEGIN'):
            in_swap, swap = True, 0.0
        if in_swap:
            swap += ms
        if s.startswith('COMMIT') and in_swap:
            out.append(('swap transaction (BEGIN .. COMMIT)', swap)); in_swap = False
        elif not in_swap and re.match(r'ALTER TABLE public\.readings (ADD CONSTRAINT|ALTER COLUMN)', s):
            out.append((s[:90], ms))
        elif re.match(r'ALTER TABLE public\.readings VALIDATE', s):
            out.append(('VALIDATE (SHARE UPDATE EXCLUSIVE: reads and writes go on) ' , ms))
        elif s.startswith('CREATE UNIQUE INDEX CONCURRENTLY'):
            out.append(('CREATE UNIQUE INDEX CONCURRENTLY (SHARE UPDATE EXCLUSIVE)', ms))
        stmt = None
    elif line and not line.startswith('Time:') and not line.startswith('psql') and re.match(r'^[A-Z]', line):
        stmt = line
for s, ms in out:
    print(f"  {ms:10.1f} ms  {s}")
PY
