#!/usr/bin/env bash
# bench/ext_statistics.sh URI: the statistics advisor on a 2M-row table with a
# correlated pair (zip -> city) and an independent pair; q-error before and
# after (--verify) per statistics object, and advise time with and without
# the statistics advisor (--no-statistics). Usage: bench/ext_statistics.sh postgresql://...
set -euo pipefail
uri=$1; bin=${PGVISE_BIN:-$(dirname "$0")/../build/pgvise}
psql -q "$uri" <<'SQL'
DROP TABLE IF EXISTS bench_addr;
CREATE TABLE bench_addr (id bigint PRIMARY KEY, city text NOT NULL, zip text NOT NULL, a int NOT NULL, b int NOT NULL);
SELECT setseed(0.1);
INSERT INTO bench_addr SELECT g, 'c' || ((g::bigint * 7919 % 5000) % 200), 'z' || (g::bigint * 7919 % 5000),
  floor(random() * 50)::int, floor(random() * 100)::int FROM generate_series(1, 2000000) g;
ANALYZE bench_addr;
SQL
w=$(mktemp --suffix=.sql)
cat > "$w" <<'SQL'
-- pgvise: calls=1000
SELECT id FROM bench_addr WHERE city = $1 AND zip = $2;
-- pgvise: calls=10
SELECT city, zip, count(*) FROM bench_addr GROUP BY city, zip;
-- pgvise: calls=500
SELECT id FROM bench_addr WHERE a = 7 AND b = 3;
SQL
for flag in "" "--no-statistics"; do
  s=$(date +%s.%N); "$bin" advise --db "$uri" "$w" --format json -q $flag > /tmp/es_bench.json; e=$(date +%s.%N)
  echo "advise ${flag:-(with statistics)}: $(echo "$e - $s" | bc) s"
done
"$bin" advise --db "$uri" "$w" --format json -q --verify 2>/dev/null | python3 -c '
import json,sys
j=json.load(sys.stdin)
for r in j["recommendations"]:
  if r["kind"]=="statistics":
    e=r["evidence"]; print(r["sql"].splitlines()[0]); print("  q_error_before", e["q_error_before"], "q_error_after", e.get("q_error_after"), "plans_changed", e.get("plans_changed"), "of", e.get("plans_checked"))'
rm -f "$w"
