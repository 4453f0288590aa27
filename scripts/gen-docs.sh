#!/usr/bin/env bash
# Regenerates the documentation that is output of pgvise itself, so it cannot
# go stale (a test compares each file with a fresh run):
#   docs/rules-reference.md   `pgvise rules --format markdown` over rules/ (every
#                             area: migration, query, plan, maintenance, workload)
#   docs/man/*.1              not committed: packaging/make-man.sh builds them
# Usage: scripts/gen-docs.sh [BUILD_DIR=build]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
"$build/pgvise" rules --rules rules --format markdown -o docs/rules-reference.md
echo "wrote docs/rules-reference.md"
