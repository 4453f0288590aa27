#!/usr/bin/env bash
# Builds pgvise and runs every test:
#   1. a warnings-as-errors build, unit tests + integration tests (label `pg`,
#      against one throwaway PostgreSQL 15 cluster that CTest starts and stops);
#   2. the unit tests again under ASan+UBSan (clang);
#   3. a short libFuzzer run of each fuzz target over its seed corpus.
# `scripts/test.sh --quick` runs step 1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
quick=""
[ "${1:-}" = "--quick" ] && quick=1

bash scripts/install-deps.sh
jobs=$(nproc)
summary=()

run_ctest() {  # dir label-args...
  local dir=$1; shift
  local log="$dir/ctest.log"
  set +e
  (cd "$dir" && ctest --output-on-failure -j"$jobs" "$@") 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  set -e
  summary+=("$(grep -E 'tests passed|tests failed' "$log" | tail -1) [$dir]")
  return "$rc"
}

echo "== build (warnings as errors)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPGVISE_WERROR=ON >/dev/null
ninja -C build
echo "== unit and integration tests"
run_ctest build

if [ -z "$quick" ]; then
  echo "== ASan+UBSan build (clang) and unit tests"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DPGVISE_SANITIZE=ON \
    -DPGVISE_FUZZ=ON -DPGVISE_BENCH=OFF -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ >/dev/null
  ninja -C build-asan
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 run_ctest build-asan -L unit
  echo "== fuzz (short run per target)"
  for f in build-asan/*_fuzz; do
    [ -x "$f" ] || continue
    name=$(basename "$f")
    corpus="$root/fuzz/corpus/${name%_fuzz}"
    work=$(mktemp -d)
    "$f" -max_total_time="${PGVISE_FUZZ_SECONDS:-30}" -timeout=10 -rss_limit_mb=2048 "$work" "$corpus" 2>&1 | tail -3
    rm -rf "$work"
    summary+=("fuzz $name: no crash in ${PGVISE_FUZZ_SECONDS:-30}s")
  done
fi

echo "== summary"
printf '%s\n' "${summary[@]}"
# One plain closing line over every CTest run above (a failure exits earlier).
total=0
logs=(build/ctest.log); [ -z "$quick" ] && logs+=(build-asan/ctest.log)
for log in "${logs[@]}"; do
  [ -f "$log" ] || continue
  n=$(grep -Eo 'tests failed out of [0-9]+' "$log" | tail -1 | grep -Eo '[0-9]+$' || echo 0)
  total=$((total + n))
done
echo "$total passed, 0 failed"
