#!/usr/bin/env bash
# `pgvise advise --jobs N` (issue 10): wall time, what-if EXPLAINs and whether
# the recommendations are identical at N = 1, 2, 4, with no time limit
# (`--time-limit 0`), on
#   200   the first 200 statements of bench/html_render.sh's 2,000-statement
#         generator (distinct shapes over a 200k-row `orders`),
#   2000  all 2,000 of them.
# Runs alternate N (1,2,4,1,2,4,...) so drifts in the machine's load hit every
# N alike; `uptime` is recorded before and after each run.
#
#   bench/jobs.sh [SIZES="200 2000"] [ROUNDS=2] [JOBS="1 2 4"] [EXTRA="--no-local-search"]
#                 [TIME_LIMIT=0]   (auto: advise's default --time-limit)
#   PGVISE_BIN=build/pgvise   JOBS_URI=postgresql://postgres@127.0.0.1:PORT/postgres (reuse a cluster)
#
# One line per run: size, N, wall s, whatif_calls, cache_hits, indexes,
# relative_cost, timed_out, a hash of the sorted recommendation SQL, load before/after.
# `pgvise` does not report how many what-ifs ran on each connection (only the
# sum), so that share is not in the table.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${SIZES-"200 2000"}  # SIZES= (empty): only create the database
rounds=${ROUNDS:-2}
jobs_list=${JOBS:-"1 2 4"}
extra=${EXTRA:-}
time_limit=${TIME_LIMIT:-0}
bin=${PGVISE_BIN:-$PWD/build/pgvise}
pgbin=/usr/lib/postgresql/15/bin
dir=$(mktemp -d /tmp/pgvise-jobs-XXXXXX)
if [ -n "${JOBS_URI:-}" ]; then
  uri=$JOBS_URI
  trap 'rm -rf "$dir"' EXIT
else
  pgdir=$(mktemp -d /tmp/pgvise-jobs-pg-XXXXXX)
  trap 'bash scripts/pgcluster.sh stop "$pgdir" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
  bash scripts/pgcluster.sh start "$pgdir" >/dev/null
  uri=$(cat "$pgdir/uri")
fi
db_uri=${uri%/*}/jobs_bench
psql_() { "$pgbin/psql" -X -q -At -v ON_ERROR_STOP=1 "$@"; }
if [ "$(psql_ "$uri" -c "SELECT count(*) FROM pg_database WHERE datname = 'jobs_bench'")" = 0 ]; then
  psql_ "$uri" -c "CREATE DATABASE jobs_bench"
  # Same table as bench/html_render.sh's advise part.
  psql_ "$db_uri" <<'SQL'
CREATE EXTENSION IF NOT EXISTS hypopg;
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int, status text, region text,
  created_at timestamptz, amount numeric, sku int, warehouse int, channel text)
  WITH (autovacuum_enabled = off);
INSERT INTO orders SELECT g, g % 20000, (ARRAY['new','paid','shipped','done'])[1 + g % 4],
  (ARRAY['eu','us','apac'])[1 + g % 3], now() - (g % 5000) * interval '1 hour', g % 997,
  g % 5000, g % 40, (ARRAY['web','app','pos'])[1 + g % 3]
FROM generate_series(1, 200000) g;
VACUUM ANALYZE orders;
SQL
  # Autovacuum off on the table and a second ANALYZE in a later session: the
  # load's counters reach the statistics after the first ANALYZE, and an
  # autoanalyze a minute into the runs re-sampled the table under them
  # (2026-12-07: the first two runs chose 8 indexes, the rest 20).
  psql_ "$db_uri" -c "VACUUM ANALYZE orders"
fi
# The generator of bench/html_render.sh, unchanged; the 200-statement file is
# its first 200 lines.
python3 - "$dir/w2000.sql" <<'PY'
import itertools, sys
preds = ["customer_id = 42", "status = 'paid'", "region = 'eu'",
         "created_at > now() - interval '1 day'", "amount > 900", "sku = 17",
         "warehouse = 3", "channel = 'pos'"]
selects = ["*", "id", "id, amount", "count(*)", "sum(amount)"]
orders = ["", " ORDER BY created_at DESC LIMIT 20", " ORDER BY id LIMIT 50",
          " ORDER BY amount DESC LIMIT 10", " ORDER BY sku, id LIMIT 5"]
out = []
for k in (1, 2, 3, 4):
    for combo in itertools.combinations(preds, k):
        for s in selects:
            for o in orders:
                if s.startswith(("count", "sum")) and o:
                    continue
                out.append(f"SELECT {s} FROM orders WHERE {' AND '.join(combo)}{o};")
with open(sys.argv[1], "w") as f:
    f.write("\n".join(out[:2000]) + "\n")
assert len(out) >= 2000, len(out)
PY
head -n 200 "$dir/w2000.sql" >"$dir/w200.sql"

load() { uptime | sed 's/.*load average: //'; }
printf 'size\tjobs\twall_s\twhatif_calls\tcache_hits\tindexes\trelative_cost\ttimed_out\trecs\tload_before\tload_after\n'
for size in $sizes; do
  for ((r = 1; r <= rounds; r++)); do
    for n in $jobs_list; do
      lb=$(load)
      t0=$(date +%s.%N)
      # shellcheck disable=SC2086
      "$bin" advise --db "$db_uri" -q --time-limit "$time_limit" --jobs "$n" $extra --format json \
        -w "$dir/w$size.sql" >"$dir/out.json" || true
      t1=$(date +%s.%N)
      la=$(load)
      python3 - "$dir/out.json" "$size" "$n" "$(echo "$t1 - $t0" | bc)" "$lb" "$la" <<'PY'
import hashlib, json, sys
path, size, n, wall, lb, la = sys.argv[1:]
j = json.load(open(path))
s = j["summary"]
recs = sorted(r.get("sql", "") for r in j["recommendations"])
h = hashlib.sha1("\n".join(recs).encode()).hexdigest()[:10]
print(f"{size}\t{n}\t{float(wall):.1f}\t{s['whatif_calls']}\t{s['cache_hits']}\t{s['indexes']}\t"
      f"{s['relative_cost']:.4f}\t{s['timed_out']}\t{h}\t{lb}\t{la}", flush=True)
PY
      cp "$dir/out.json" "${JOBS_KEEP:-/tmp}/jobs-$size-$n-$r.json" 2>/dev/null || true
    done
  done
done
