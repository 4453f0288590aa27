#!/usr/bin/env bash
# Regenerates the golden files of the command tests from the current binary:
#   tests/golden/review/<case>.expected.{text,json,sarif,markdown,exit}
# for every tests/golden/review/<case>.sql (a <case>.pgvise.yaml beside it is
# passed as --config), and
#   tests/golden/explain/<case>.expected.{text,json,sarif,markdown,stderr,exit}
# for every plan tests/golden/explain/<case>.json or <case>.txt (psql paste).
# Review the resulting `git diff` before committing: a golden file is a claim
# that the output is right, not a snapshot.
#
#   scripts/regen-golden.sh              # uses $PGVISE_BIN or build/pgvise
#   PGVISE_BIN=build-x/pgvise scripts/regen-golden.sh
#
# The command lines are the ones tests/review_golden_test.cc and
# tests/explain_golden_test.cc run; keep them in step.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${PGVISE_BIN:-$root/build/pgvise}
[ -x "$bin" ] || { echo "regen-golden: no pgvise binary at $bin (build it, or set PGVISE_BIN)" >&2; exit 2; }
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
unset PGVISE_RULES NO_COLOR
cd "$root/tests/golden/review"
n=0
for sql in *.sql; do
  case=${sql%.sql}
  config=()
  [ -f "$case.pgvise.yaml" ] && config=(--config "$case.pgvise.yaml")
  for fmt in text json sarif markdown; do
    set +e
    "$bin" review --rules "$root/rules" --format "$fmt" "${config[@]}" "$sql" >"$case.expected.$fmt" 2>/dev/null
    rc=$?
    set -e
    echo "$rc" >"$case.expected.exit"
  done
  n=$((n + 1))
done
echo "regen-golden: $n cases regenerated in tests/golden/review"

cd "$root/tests/golden/explain"
n=0
for plan in *.json *.txt; do
  case $plan in *.expected.*) continue ;; esac
  [ -f "$plan" ] || continue
  case=${plan%.*}
  for fmt in text json sarif markdown; do
    set +e
    "$bin" explain --rules "$root/rules" --format "$fmt" "$plan" >"$case.expected.$fmt" 2>"$case.expected.stderr"
    rc=$?
    set -e
    echo "$rc" >"$case.expected.exit"
  done
  n=$((n + 1))
done
echo "regen-golden: $n cases regenerated in tests/golden/explain; review 'git diff tests/golden' before committing"
