#!/usr/bin/env bash
# Generates one man page per pgvise command from its --help (Debian's
# help2man), so the pages can never disagree with the binary:
#   packaging/make-man.sh BUILD/pgvise OUTDIR
# writes OUTDIR/pgvise.1 and OUTDIR/pgvise-<command>.1.
set -euo pipefail
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
out=$2
mkdir -p "$out"
command -v help2man >/dev/null || { echo "make-man: help2man is not installed" >&2; exit 1; }
version=$("$bin" --version | head -1)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

help2man --no-info --no-discard-stderr --version-string="$version" \
  --name="PostgreSQL review, index advice, rewrites and maintenance" \
  --section=1 --output="$out/pgvise.1" "$bin"

# Each subcommand as a program of its own for help2man: a wrapper that
# forwards to `pgvise <command>` and answers --version.
declare -A names=(
  [review]="lint SQL files and migrations before they deploy"
  [explain]="check an EXPLAIN plan for what will hurt"
  [advise]="recommend indexes for a workload, proven with HypoPG"
  [rewrite]="rewrite slow subquery shapes into equivalent joins"
  [maintain]="plan and apply vacuum, analyze, reindex and autovacuum settings"
  [rules]="list the rules and their settings"
)
for cmd in "${!names[@]}"; do
  w="$tmp/pgvise-$cmd"
  cat >"$w" <<WRAP
#!/bin/sh
[ "\$1" = "--version" ] && { echo "$version"; exit 0; }
exec "$bin" $cmd "\$@"
WRAP
  chmod +x "$w"
  help2man --no-info --no-discard-stderr --version-string="$version" \
    --name="${names[$cmd]}" --section=1 --output="$out/pgvise-$cmd.1" "$w"
  # help2man names the page after the usage line ("pgvise review"): the page
  # is pgvise-<command>, as `man pgvise-review` asks for it.
  sed -i -e "s|$tmp/||g" -e "s|^\.TH PGVISE |.TH PGVISE-${cmd^^} |" \
    -e "s|^pgvise \\\\- |pgvise-$cmd \\\\- |" "$out/pgvise-$cmd.1"
done
