#!/usr/bin/env bash
# Regenerates the documentation that is output of pgvise itself, so it cannot
# go stale (tests/docs_test.cc compares or checks each):
#   docs/rules-reference.md   `pgvise rules --format markdown` over rules/ (every
#                             area: migration, query, plan, maintenance, workload)
#   docs/*.md examples        with --demo: the demo's real output, spliced between
#                             `<!-- demo-output: ID -->` markers (scripts/demo_docs.py),
#                             and the files it read copied to docs/examples/
#   docs/man/*.1              not committed: packaging/make-man.sh builds them
# Usage: scripts/gen-docs.sh [BUILD_DIR=build]
#        scripts/gen-docs.sh --demo [DEMO_DIR=build/demo-reports]   (after scripts/demo.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--demo" ]; then
  python3 scripts/demo_docs.py "${2:-build/demo-reports}" docs
  exit 0
fi
build=${1:-build}
"$build/pgvise" rules --rules rules --format markdown -o docs/rules-reference.md
echo "wrote docs/rules-reference.md"
