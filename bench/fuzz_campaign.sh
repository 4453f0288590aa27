#!/usr/bin/env bash
# A fuzzing campaign over every libFuzzer target (issue 15, item 8), one
# target at a time, over persistent corpora that grow from run to run.
#
#   bench/fuzz_campaign.sh [-t SECONDS | -n EXECUTIONS] [-d DIR] [-B BUILD]
#                          [--no-build] [--merge] [TARGET...]
#
#   -t SECONDS     per target (default 900); -n EXECUTIONS instead (-runs=N)
#   -d DIR         corpora and artifacts: DIR/<target>/{corpus,art,log}
#                  (default /work/fuzz-campaign)
#   -B BUILD       the instrumented build tree (default build-fuzz)
#   --no-build     do not configure/build first
#   --merge        afterwards, minimize each grown corpus (-merge=1) into
#                  DIR/<target>/min, the set to commit into
#                  fuzz/corpus-grown/<target> (not fuzz/corpus/<target>: the
#                  parser and rewriter unit tests read fuzz/corpus/sql as SQL)
#   TARGET         sql plan config rewrite workload (default: all)
#
# Each corpus is seeded from fuzz/corpus/<target> the first time (and the
# seeds are passed again every run, so new seeds are picked up). Runs under
# nice 19, one process in the foreground (no -jobs: with it libFuzzer forks a
# worker that logs to ./fuzz-0.log and the figures below were never read),
# from DIR/<target>, so nothing lands in the caller's directory. The box is
# shared. One line per target:
#
#   target  executions  exec/s  cov  ft  corpus_units  crashes  seconds
#
# figures from libFuzzer's -print_final_stats=1 and its last "cov: ft:"
# line; crashes counts the crash-/leak-/timeout-/oom- files in art/ (a run
# stops at its first crash; the file reproduces it: build-fuzz/<t>_fuzz FILE).
#
# sql: the main run caps inputs at 4 KB (-max_len=4096): parsing costs in
# proportion to the input, and mutated 20 KB inputs took most of the time
# at 40 exec/s. The deep seeds (over 4 KB: 20k-term chains, deep UNION and
# subquery nesting) then get a pass of their own, `sql-deep`, with
# -max_len=65536 over a corpus seeded from them alone, for a tenth of the time.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
seconds=900
runs=""
dir=/work/fuzz-campaign
build="build-fuzz"
do_build=1
merge=0
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    -t) seconds=$2; shift 2 ;;
    -n) runs=$2; shift 2 ;;
    -d) dir=$2; shift 2 ;;
    -B) build=$2; shift 2 ;;
    --no-build) do_build=0; shift ;;
    --merge) merge=1; shift ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    -*) echo "fuzz_campaign.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(sql plan config rewrite workload)
case "$build" in /*) ;; *) build="$root/$build" ;; esac
asan=${ASAN_OPTIONS:-}  # the caller's, passed on (config adds one: see below)

if [ "$do_build" = 1 ]; then
  # bench/README.md "Fuzzing": clang, ASan+UBSan, every library compiled
  # with coverage counters (-fsanitize=fuzzer-no-link).
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only" \
    "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only" \
    -DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link -DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link \
    -DPGVISE_SANITIZE=ON -DPGVISE_FUZZ=ON -DPGVISE_BENCH=OFF \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ >/dev/null
  bins=()
  for t in "${targets[@]}"; do bins+=("${t}_fuzz"); done
  nice ninja -C "$build" "${bins[@]}" >/dev/null
fi

# run NAME BINARY CORPUS_DIR SEED_DIR EXTRA_FLAGS... : one libFuzzer run, one line.
run() {
  local name=$1 bin=$2 corpus=$3 seeds=$4
  shift 4
  local w="$dir/$name"
  mkdir -p "$w/art" "$corpus"
  if [ -z "$(ls -A "$corpus")" ]; then cp "$seeds"/* "$corpus"/; fi
  local limit=(-max_total_time="$seconds")
  [ -n "$runs" ] && limit=(-runs="$runs")
  local t0=$SECONDS
  # The exit code is not the verdict (a crash exits 1, a timeout 70): the
  # line below counts the artifacts.
  (cd "$w" && PGVISE_SOURCE_DIR="$root" ASAN_OPTIONS="$asan" nice -n 19 "$bin" "${limit[@]}" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$w/art/" "$@" \
    "$corpus" "$seeds" ${grown:+"$grown"} >"$w/log" 2>&1) || true
  local secs=$((SECONDS - t0))
  local execs eps cov ft units crashes
  execs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$w/log" | grep -Eo '[0-9]+$' || echo '?')
  eps=$(grep -Eo 'stat::average_exec_per_sec: *[0-9]+' "$w/log" | grep -Eo '[0-9]+$' || echo '?')
  cov=$(grep -Eo 'cov: [0-9]+' "$w/log" | tail -1 | grep -Eo '[0-9]+' || echo '?')
  ft=$(grep -Eo 'ft: [0-9]+' "$w/log" | tail -1 | grep -Eo '[0-9]+' || echo '?')
  units=$(find "$corpus" -type f | wc -l)
  crashes=$(find "$w/art" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
    -o -name 'oom-*' \) | wc -l)
  printf '%-10s %12s %8s %7s %8s %8s %8s %7s\n' "$name" "$execs" "$eps" "$cov" "$ft" "$units" \
    "$crashes" "$secs"
}

printf '%-10s %12s %8s %7s %8s %8s %8s %7s\n' target executions exec/s cov ft corpus crashes seconds
for t in "${targets[@]}"; do
  bin="$build/${t}_fuzz"
  [ -x "$bin" ] || { echo "fuzz_campaign.sh: no $bin (build it, or drop --no-build)" >&2; exit 2; }
  seeds="$root/fuzz/corpus/$t"
  # The minimised corpus of earlier campaigns, committed (see --merge): a
  # campaign resumes from the coverage they reached.
  grown="$root/fuzz/corpus-grown/$t"
  [ -d "$grown" ] || grown=""
  if [ "$t" = sql ]; then
    run sql "$bin" "$dir/sql/corpus" "$seeds" -max_len=4096
    # The deep seeds alone, long inputs allowed, a tenth of the time.
    deep="$dir/sql-deep/seeds"
    mkdir -p "$deep"
    find "$seeds" -type f -size +4k -exec cp {} "$deep"/ \;
    saved=$seconds
    seconds=$((seconds / 10 > 0 ? seconds / 10 : 1))
    grown=""
    run sql-deep "$bin" "$dir/sql-deep/corpus" "$deep" -max_len=65536
    seconds=$saved
  else
    # config: ASan's stack depot (every allocation stack it records, never
    # freed) grew by ~1 MB per 1,000 executions, 1,036 MB after 574k
    # (2026-12-07), so a 10M run would stop at -rss_limit_mb=2048 with an
    # oom- artifact; with malloc_context_size=0 RSS stayed at 448 MB. (Likely
    # cause, not verified: yaml-cpp is a system library without frame
    # pointers, and the fast unwinder records garbage, ever-new stacks in it.)
    # With it ASan still detects every error; its report lacks the
    # "allocated by" / "freed by" stacks, which running the artifact alone
    # without the option prints.
    saved_asan=$asan
    [ "$t" = config ] && asan="malloc_context_size=0${asan:+:$asan}"
    run "$t" "$bin" "$dir/$t/corpus" "$seeds"
    asan=$saved_asan
  fi
done

if [ "$merge" = 1 ]; then
  # Minimize: keep the smallest set of units that reaches the same coverage.
  for t in "${targets[@]}"; do
    bin="$build/${t}_fuzz"
    min="$dir/$t/min"
    rm -rf "$min"
    mkdir -p "$min"
    extra=()
    [ "$t" = sql ] && extra=(-max_len=4096)
    PGVISE_SOURCE_DIR="$root" nice -n 19 "$bin" -merge=1 "${extra[@]}" -timeout=10 \
      -rss_limit_mb=2048 "$min" "$root/fuzz/corpus/$t" "$dir/$t/corpus" \
      $([ -d "$root/fuzz/corpus-grown/$t" ] && echo "$root/fuzz/corpus-grown/$t") \
      >"$dir/$t/merge.log" 2>&1 || true
    echo "merged $t: $(find "$min" -type f | wc -l) units, $(du -sh "$min" | cut -f1) in $min"
  done
fi
