#!/bin/bash
# Parse + facts against the bare parser, two builds side by side: runs
# review_bench from BEFORE and AFTER alternately, ROUNDS times each, and prints
# for every run the load average, the CPU medians of BM_RawParse and
# BM_ParseAndFacts and their ratio (the goal's measure: <= 1.30x). The ratio
# within one run is what counts on a shared machine; absolute times move with
# the load.
#
#   bench/review_ab.sh /tmp/main/build/review_bench build/review_bench [rounds]
set -euo pipefail
before=$1
after=$2
rounds=${3:-3}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for ((round = 1; round <= rounds; ++round)); do
  for b in "$before" "$after"; do
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    "$b" --benchmark_filter='BM_RawParse|BM_ParseAndFacts' --benchmark_repetitions=10 \
      --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true \
      --benchmark_format=json 2>/dev/null >"$out"
    python3 - "$out" "$b" "$round" "$load" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
m = {x["run_name"]: x["cpu_time"] for x in d["benchmarks"] if x.get("aggregate_name") == "median"}
raw, facts = m["BM_RawParse"], m["BM_ParseAndFacts"]
print(f"round {sys.argv[3]} load {sys.argv[4]} {sys.argv[2]}: raw {raw:.2f} ms, "
      f"parse+facts {facts:.2f} ms, ratio {facts / raw:.3f}")
PY
  done
done
