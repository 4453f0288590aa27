#!/usr/bin/env bash
# HTML report bench (issue 16): size and render time of the two largest
# reports pgvise writes, in headless Chromium (Debian package `chromium`):
#   advise    a 2,000-statement workload (distinct shapes, so nothing merges)
#             over a 200k-row table, `--format html`;
#   maintain  10,000 tables (a few hundred of them with dead rows, so the
#             plan has items), `--format html`.
# Render time is measured inside the page: a probe page sets the report as an
# iframe's srcdoc and takes performance.now() from just before that to the
# iframe's load event plus a forced layout (parse, style, layout: what a
# person waits for), median of RUNS browser launches. The browser's own start
# is not in that figure; the whole `chromium --dump-dom` wall time is shown
# beside it.
#
#   bench/html_render.sh [RUNS=3] [PGVISE_BIN=build/pgvise] [ONLY=advise|maintain]
# Prints one table; bench/README.md keeps the latest figures.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
bin=${PGVISE_BIN:-$PWD/build/pgvise}
pgbin=/usr/lib/postgresql/15/bin
chromium=$(command -v chromium || command -v chromium-browser || true)
[ -n "$chromium" ] || { echo "html_render.sh: chromium is not installed (scripts/install-deps.sh)" >&2; exit 2; }
dir=$(mktemp -d /tmp/pgvise-html-XXXXXX)
pgdir=$(mktemp -d /tmp/pgvise-html-pg-XXXXXX)
trap 'bash scripts/pgcluster.sh stop "$pgdir" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
bash scripts/pgcluster.sh start "$pgdir" >/dev/null
port=$(cat "$pgdir/port")
psql_() { "$pgbin/psql" -X -q -At -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1 "$@"; }
psql_ -d postgres -c "CREATE DATABASE html_advise" -c "CREATE DATABASE html_maintain"

only=${ONLY:-}
adv_run=0
mnt_run=0
if [ "$only" != maintain ]; then
# --- advise: 2,000 distinct statement shapes ---------------------------------
psql_ -d html_advise <<'SQL'
CREATE EXTENSION IF NOT EXISTS hypopg;
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int, status text, region text,
  created_at timestamptz, amount numeric, sku int, warehouse int, channel text);
INSERT INTO orders SELECT g, g % 20000, (ARRAY['new','paid','shipped','done'])[1 + g % 4],
  (ARRAY['eu','us','apac'])[1 + g % 3], now() - (g % 5000) * interval '1 hour', g % 997,
  g % 5000, g % 40, (ARRAY['web','app','pos'])[1 + g % 3]
FROM generate_series(1, 200000) g;
ANALYZE orders;
SQL
python3 - "$dir/workload.sql" <<'PY'
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
adv_db="postgresql://postgres@127.0.0.1:$port/html_advise"
t0=$(date +%s.%N)
"$bin" advise --db "$adv_db" -q --no-local-search --time-limit 120 --format html \
  -w "$dir/workload.sql" >"$dir/advise.html"
t1=$(date +%s.%N)
adv_run=$(echo "$t1 - $t0" | bc)
fi

if [ "$only" != advise ]; then
# --- maintain: 10,000 tables --------------------------------------------------
psql_ -d html_maintain <<'SQL'
DO $$
BEGIN
  FOR i IN 1..10000 LOOP
    EXECUTE format('CREATE TABLE t%s (id int PRIMARY KEY, v text)', i);
    EXECUTE format('INSERT INTO t%s SELECT g, repeat(''x'', 40) FROM generate_series(1, 20) g', i);
    IF i % 500 = 0 THEN COMMIT; END IF;  -- one lock per table: stay under max_locks
  END LOOP;
END $$;
SQL
psql_ -d html_maintain <<'SQL'
DO $$
BEGIN
  FOR i IN 1..300 LOOP
    EXECUTE format('INSERT INTO t%s SELECT g, ''y'' FROM generate_series(21, 3000) g', i);
    EXECUTE format('DELETE FROM t%s WHERE id %% 2 = 0', i);
  END LOOP;
END $$;
SQL
mnt_db="postgresql://postgres@127.0.0.1:$port/html_maintain"
t0=$(date +%s.%N)
"$bin" maintain --db "$mnt_db" --format html >"$dir/maintain.html" || [ $? -eq 1 ]
t1=$(date +%s.%N)
mnt_run=$(echo "$t1 - $t0" | bc)
fi

# --- render -------------------------------------------------------------------
render() {  # render FILE -> "in-page-ms wall-s" for one browser launch
  local page="$dir/probe.html"
  {
    printf '<!doctype html><html><head><meta charset="utf-8"></head><body style="margin:0">'
    printf '<iframe id="f" style="width:1280px;height:1400px;border:0"></iframe>'
    printf '<script>const b64="'
    base64 -w0 "$1"
    printf '";\nconst bytes=Uint8Array.from(atob(b64),c=>c.charCodeAt(0));\n'
    printf 'const html=new TextDecoder().decode(bytes);const f=document.getElementById("f");\n'
    printf 'f.addEventListener("load",()=>{const d=f.contentDocument;d.body.offsetHeight;'
    printf 'document.body.setAttribute("data-ms",(performance.now()-t0).toFixed(1));});\n'
    printf 'const t0=performance.now();f.srcdoc=html;\n</script></body></html>\n'
  } >"$page"
  local s e out
  s=$(date +%s.%N)
  out=$("$chromium" --headless=new --no-sandbox --disable-gpu --virtual-time-budget=30000 \
    --window-size=1280,1400 --dump-dom "file://$page" 2>/dev/null)
  e=$(date +%s.%N)
  local ms
  ms=$(printf '%s' "$out" | grep -o 'data-ms="[0-9.]*"' | head -1 | tr -dc '0-9.')
  echo "${ms:-nan} $(echo "$e - $s" | bc)"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

printf '| report | statements / tables | HTML size | pgvise run | render in page (median of %s) | chromium --dump-dom wall (median) |\n' "$runs"
printf '|---|---|---|---|---|---|\n'
for r in advise maintain; do
  f="$dir/$r.html"
  [ -s "$f" ] || continue
  ms=(); walls=()
  for _ in $(seq "$runs"); do
    read -r m w < <(render "$f")
    ms+=("$m"); walls+=("$w")
  done
  what=$([ "$r" = advise ] && echo "2,000 statements" || echo "10,000 tables")
  run=$([ "$r" = advise ] && echo "$adv_run" || echo "$mnt_run")
  printf '| %s | %s | %s KB | %.1f s | %s ms (%s) | %s s |\n' "$r" "$what" "$(( $(stat -c %s "$f") / 1024 ))" \
    "$run" "$(printf '%s\n' "${ms[@]}" | median)" "${ms[*]}" "$(printf '%s\n' "${walls[@]}" | median)"
done
